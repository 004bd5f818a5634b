/* admission: see admission.h. */
#include "coordinator/admission.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct coord_admission {
    uint64_t running_us[COORD_QUEUE_CLASSES]; /* estimated work running, per class */
};

coord_admission *coord_admission_new(void)
{
    return calloc(1, sizeof(coord_admission));
}

void coord_admission_destroy(coord_admission **adm)
{
    if (!adm || !*adm)
        return;
    free(*adm);
    *adm = NULL;
}

void coord_admission_running(coord_admission *adm, uint32_t cls, int64_t work_us)
{
    adm->running_us[cls] += (uint64_t)work_us;
}

bool coord_admission_check(const coord_admission *adm, uint32_t cls, uint64_t need_us,
                           uint64_t queued_ahead_us, uint64_t capacity, uint64_t now_us,
                           uint64_t deadline_us, char *why, size_t why_size)
{
    if (!need_us || !capacity)
        return true; /* nothing known yet, or a peer may still come: no refusal on a guess */
    /* Half the running work is left on average; the queued work ahead runs first. */
    uint64_t ahead = queued_ahead_us + adm->running_us[cls] / 2;
    uint64_t start = now_us + ahead / capacity;
    if (start + need_us <= deadline_us)
        return true;
    snprintf(why, why_size,
             "not admitted: it would finish after its deadline (about %" PRIu64
             " ms of work ahead on %" PRIu64 " slot(s), %" PRIu64 " ms to run, %" PRIu64
             " ms left)",
             ahead / 1000u, capacity, need_us / 1000u,
             deadline_us > now_us ? (deadline_us - now_us) / 1000u : 0);
    return false;
}
