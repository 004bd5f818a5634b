/* admission: see admission.h. The queued work is a short array sorted by priority,
 * highest first: there are few distinct priorities in practice, and the sum of those at
 * or above a priority is a walk from the front. */
#include "coordinator/admission.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Estimated work queued at one priority. */
typedef struct prio_work {
    uint32_t priority; /* a priority with queued tasks that have an estimate */
    uint64_t work_us;  /* sum of their estimated service times */
} prio_work;

struct coord_admission {
    prio_work *work;          /* queued work per priority, highest first */
    size_t nwork;             /* entries in work */
    uint64_t running_work_us; /* estimated service time of the running tasks */
};

coord_admission *coord_admission_new(void)
{
    return calloc(1, sizeof(coord_admission));
}

void coord_admission_destroy(coord_admission **adm)
{
    if (!adm || !*adm)
        return;
    free((*adm)->work);
    free(*adm);
    *adm = NULL;
}

void coord_admission_queued(coord_admission *adm, uint32_t priority, int64_t work_us)
{
    size_t i = 0;
    while (i < adm->nwork && adm->work[i].priority > priority)
        i++;
    if (i < adm->nwork && adm->work[i].priority == priority) {
        adm->work[i].work_us += (uint64_t)work_us;
        if (adm->work[i].work_us == 0) {
            memmove(&adm->work[i], &adm->work[i + 1], (adm->nwork - i - 1) * sizeof *adm->work);
            adm->nwork--;
        }
        return;
    }
    if (work_us <= 0)
        return;
    prio_work *grown = realloc(adm->work, (adm->nwork + 1) * sizeof *grown);
    if (!grown)
        return; /* a guide only: losing one entry makes it optimistic, nothing worse */
    adm->work = grown;
    memmove(&adm->work[i + 1], &adm->work[i], (adm->nwork - i) * sizeof *adm->work);
    adm->work[i] = (prio_work){priority, (uint64_t)work_us};
    adm->nwork++;
}

void coord_admission_running(coord_admission *adm, int64_t work_us)
{
    adm->running_work_us += (uint64_t)work_us;
}

bool coord_admission_check(const coord_admission *adm, uint32_t priority, uint64_t need_us,
                           uint32_t capacity, uint64_t now_us, uint64_t deadline_us, char *why,
                           size_t why_size)
{
    if (!need_us || !capacity)
        return true; /* nothing known yet, or a peer may still come: no refusal on a guess */
    uint64_t ahead = adm->running_work_us / 2;
    for (size_t i = 0; i < adm->nwork && adm->work[i].priority >= priority; i++)
        ahead += adm->work[i].work_us;
    uint64_t start = now_us + ahead / capacity;
    if (start + need_us <= deadline_us)
        return true;
    snprintf(why, why_size,
             "not admitted: it would finish after its deadline (about %" PRIu64
             " ms of work ahead on %u slot(s), %" PRIu64 " ms to run, %" PRIu64 " ms left)",
             ahead / 1000u, capacity, need_us / 1000u,
             deadline_us > now_us ? (deadline_us - now_us) / 1000u : 0);
    return false;
}
