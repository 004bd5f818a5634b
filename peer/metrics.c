/* metrics: see metrics.h. */
#include "peer/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"
#include "common/promtext.h"
#include "common/task.h"
#include "peer/kind.h"

#define MODES    5  /* 0 (not upscale) and the four upscale modes */
#define STATUSES 20 /* 0 (ok) and -1..-18, the last for any other code */
#define STAGES   4

static const char *const mode_names[MODES] = {"", "fast", "bicubic", "lanczos", "quality"};
static const char *const stage_names[STAGES] = {"decode", "compute", "encode", "total"};

typedef struct figures {
    uint64_t tasks[P2C2R_KIND_COUNT][MODES][STATUSES]; /* tasks answered, per status */
    p2c2r_hist stage[P2C2R_KIND_COUNT][MODES][STAGES]; /* time per stage, results only */
} figures;

struct peer_metrics {
    pthread_mutex_t lock;  /* guards fig */
    figures fig;           /* what the workers recorded */
    _Atomic uint32_t busy; /* slots busy now */
    uint32_t slots;        /* slots it has */
    char name[64];         /* the peer's name */
    p2c2r_httpd *httpd;    /* the server */
};

static int status_index(int status)
{
    return status <= 0 && status > -(STATUSES - 1) ? -status : STATUSES - 1;
}

void peer_metrics_task(peer_metrics *m, const peer_job *job, const peer_answer *a)
{
    if (!m)
        return;
    int kind = p2c2r__task_kind_lookup(peer_kinds[job->kind]->name);
    if (kind < 0 || kind >= P2C2R_KIND_COUNT)
        return;
    uint32_t mode = job->env->upscale ? job->env->upscale->mode : 0;
    if (kind == P2C2R_KIND_UPSCALE && !mode)
        mode = 1;
    if (mode >= MODES)
        mode = 0;
    const P2c2r__Wire__Timing *t = &a->timing;
    uint64_t us[STAGES] = {t->decode_us, t->compute_us, t->encode_us, t->peer_us};
    pthread_mutex_lock(&m->lock);
    m->fig.tasks[kind][mode][status_index(a->env.status)]++;
    if (a->env.status == 0)
        for (int s = 0; s < STAGES; s++)
            p2c2r__hist_observe(&m->fig.stage[kind][mode][s], us[s]);
    pthread_mutex_unlock(&m->lock);
}

void peer_metrics_busy(peer_metrics *m, uint32_t busy)
{
    if (m)
        atomic_store(&m->busy, busy);
}

/* On libmicrohttpd's thread. */
static int page(void *arg, const char *path, p2c2r_text *t, const char **content_type)
{
    peer_metrics *m = arg;
    if (strcmp(path, "/metrics") != 0) {
        p2c2r__text_printf(t, "not found: try /metrics\n");
        return 404;
    }
    *content_type = "text/plain; version=0.0.4; charset=utf-8";
    figures *f = malloc(sizeof *f);
    if (!f) {
        t->failed = true;
        return 200;
    }
    pthread_mutex_lock(&m->lock);
    *f = m->fig;
    pthread_mutex_unlock(&m->lock);
    p2c2r__prom_family(t, "p2c2r_peer_tasks_total", "counter",
                       "Tasks this peer answered, by kind, mode and status (ok or the error)");
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++)
            for (int st = 0; st < STATUSES; st++) {
                if (!f->tasks[k][md][st])
                    continue;
                char status[32];
                p2c2r__prom_status(st == STATUSES - 1 ? -1000 : -st, status);
                p2c2r_labels l = {{"kind", "mode", "status"},
                                  {p2c2r__task_kind_name(k), mode_names[md], status},
                                  3};
                p2c2r__prom_sample(t, "p2c2r_peer_tasks_total", &l, (double)f->tasks[k][md][st]);
            }
    p2c2r__prom_family(t, "p2c2r_peer_stage_seconds", "histogram",
                       "Time of each stage of the tasks that gave a result (total: assign "
                       "received to result sent)");
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++)
            for (int s = 0; s < STAGES; s++) {
                if (!f->stage[k][md][s].count)
                    continue;
                p2c2r_labels l = {{"kind", "mode", "stage"},
                                  {p2c2r__task_kind_name(k), mode_names[md], stage_names[s]},
                                  3};
                p2c2r__prom_hist(t, "p2c2r_peer_stage_seconds", &l, &f->stage[k][md][s]);
            }
    free(f);
    p2c2r_labels peer = {{"peer"}, {m->name}, 1};
    p2c2r__prom_family(t, "p2c2r_peer_slots", "gauge", "Tasks this peer runs at once");
    p2c2r__prom_sample(t, "p2c2r_peer_slots", &peer, m->slots);
    p2c2r__prom_family(t, "p2c2r_peer_busy_slots", "gauge", "Slots running a task now");
    p2c2r__prom_sample(t, "p2c2r_peer_busy_slots", &peer, atomic_load(&m->busy));
    return 200;
}

peer_metrics *peer_metrics_new(const char *address, const char *name, uint32_t slots, int *err)
{
    peer_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        *err = P2C2R_E_NOMEM;
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->slots = slots;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->httpd = p2c2r__httpd_start(address, page, m, err);
    if (!m->httpd) {
        peer_metrics_destroy(&m);
        return NULL;
    }
    return m;
}

void peer_metrics_destroy(peer_metrics **mp)
{
    if (!mp || !*mp)
        return;
    p2c2r__httpd_stop(&(*mp)->httpd);
    pthread_mutex_destroy(&(*mp)->lock);
    free(*mp);
    *mp = NULL;
}

const char *peer_metrics_address(const peer_metrics *m)
{
    return p2c2r__httpd_address(m->httpd);
}
