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
#define STAGES   7
#define RUNTIMES 3 /* Timing.runtime: none (an error before any executor ran), cpu, cuda */

static const char *const mode_names[MODES] = {"", "fast", "bicubic", "lanczos", "quality"};
static const char *const stage_names[STAGES] = {"decode", "copy_in", "compute", "copy_out",
                                                "encode", "tables",  "total"};
static const char *const runtime_names[RUNTIMES] = {"none", "cpu", "cuda"};

typedef struct figures {
    uint64_t tasks[P2C2R_KIND_COUNT][MODES][RUNTIMES][STATUSES]; /* tasks answered */
    p2c2r_hist stage[P2C2R_KIND_COUNT][MODES][RUNTIMES][STAGES]; /* time per stage, results */
} figures;

struct peer_metrics {
    pthread_mutex_t lock;                    /* guards fig */
    figures fig;                             /* what the workers recorded */
    _Atomic uint32_t busy;                   /* slots busy now */
    uint32_t slots;                          /* slots it has */
    char name[64];                           /* the peer's name */
    char runtime[16];                        /* what its frames run on: "cpu" or "cuda" */
    peer_device devices[PEER_MAX_EXECUTORS]; /* its GPUs, as detected at start */
    uint32_t ndevices;                       /* entries in devices */
    p2c2r_httpd *httpd;                      /* the server */
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
    int rt = t->runtime >= 0 && t->runtime < RUNTIMES ? (int)t->runtime : 0;
    uint64_t us[STAGES] = {t->decode_us, t->copy_in_us, t->compute_us, t->copy_out_us,
                           t->encode_us, t->tables_us,  t->peer_us};
    pthread_mutex_lock(&m->lock);
    m->fig.tasks[kind][mode][rt][status_index(a->env.status)]++;
    for (int s = 0; a->env.status == 0 && s < STAGES; s++)
        /* Copies happen on a GPU only; tables are built only on a frame's first use. */
        if ((rt == 2 || (s != 1 && s != 3)) && (s != 5 || us[s]))
            p2c2r__hist_observe(&m->fig.stage[kind][mode][rt][s], us[s]);
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
                       "Tasks this peer answered, by kind, mode, the executor that ran them "
                       "(runtime) and status (ok or the error)");
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++)
            for (int rt = 0; rt < RUNTIMES; rt++)
                for (int st = 0; st < STATUSES; st++) {
                    if (!f->tasks[k][md][rt][st])
                        continue;
                    char status[32];
                    p2c2r__prom_status(st == STATUSES - 1 ? -1000 : -st, status);
                    p2c2r_labels l = {
                        {"kind", "mode", "runtime", "status"},
                        {p2c2r__task_kind_name(k), mode_names[md], runtime_names[rt], status},
                        4};
                    p2c2r__prom_sample(t, "p2c2r_peer_tasks_total", &l,
                                       (double)f->tasks[k][md][rt][st]);
                }
    p2c2r__prom_family(t, "p2c2r_peer_stage_seconds", "histogram",
                       "Time of each stage of the tasks that gave a result (copy_in, copy_out: "
                       "host to GPU and back; tables: building tables on first use; total: "
                       "assign received to result sent)");
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++)
            for (int rt = 0; rt < RUNTIMES; rt++)
                for (int s = 0; s < STAGES; s++) {
                    if (!f->stage[k][md][rt][s].count)
                        continue;
                    p2c2r_labels l = {{"kind", "mode", "runtime", "stage"},
                                      {p2c2r__task_kind_name(k), mode_names[md], runtime_names[rt],
                                       stage_names[s]},
                                      4};
                    p2c2r__prom_hist(t, "p2c2r_peer_stage_seconds", &l, &f->stage[k][md][rt][s]);
                }
    free(f);
    p2c2r_labels info = {{"peer", "runtime"}, {m->name, m->runtime}, 2};
    p2c2r__prom_family(t, "p2c2r_peer_runtime_info", "gauge",
                       "1, labelled with what this peer's frames run on (cpu or cuda)");
    p2c2r__prom_sample(t, "p2c2r_peer_runtime_info", &info, 1);
    if (m->ndevices) {
        p2c2r__prom_family(t, "p2c2r_peer_gpu_memory_bytes", "gauge",
                           "Memory of each GPU this peer runs on, as detected at start");
        p2c2r__prom_family(t, "p2c2r_peer_gpu_multiprocessors", "gauge",
                           "Streaming multiprocessors of each GPU this peer runs on");
    }
    for (uint32_t i = 0; i < m->ndevices; i++) {
        char ordinal[16];
        snprintf(ordinal, sizeof ordinal, "%d", m->devices[i].ordinal);
        p2c2r_labels d = {{"peer", "device", "name"}, {m->name, ordinal, m->devices[i].name}, 3};
        p2c2r__prom_sample(t, "p2c2r_peer_gpu_memory_bytes", &d,
                           (double)m->devices[i].memory_total);
        p2c2r__prom_sample(t, "p2c2r_peer_gpu_multiprocessors", &d, m->devices[i].multiprocessors);
    }
    p2c2r_labels peer = {{"peer"}, {m->name}, 1};
    p2c2r__prom_family(t, "p2c2r_peer_slots", "gauge", "Tasks this peer runs at once");
    p2c2r__prom_sample(t, "p2c2r_peer_slots", &peer, m->slots);
    p2c2r__prom_family(t, "p2c2r_peer_busy_slots", "gauge", "Slots running a task now");
    p2c2r__prom_sample(t, "p2c2r_peer_busy_slots", &peer, atomic_load(&m->busy));
    return 200;
}

peer_metrics *peer_metrics_new(const char *address, const char *name, uint32_t slots,
                               const peer_runtime *rt, int *err)
{
    peer_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        *err = P2C2R_E_NOMEM;
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->slots = slots;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->runtime, sizeof m->runtime, "%s", rt ? rt->name : "cpu");
    for (uint32_t i = 0; rt && i < rt->ndevices && i < PEER_MAX_EXECUTORS; i++)
        m->devices[m->ndevices++] = rt->devices[i];
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
