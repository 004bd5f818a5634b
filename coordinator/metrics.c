/* metrics: see metrics.h. */
#include "coordinator/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/httpd.h"
#include "common/promtext.h"
#include "common/task.h"
#include "coordinator/tasks.h"
#include "p2c2r_formats.h"

#define MODES    5  /* 0 (not upscale) and the four upscale modes */
#define RUNTIMES 3  /* p2c2r_runtime: any (unknown), cpu, cuda */
#define STATUSES 20 /* 0 (ok) and -1..-18, the last for any other code */

static const char *const mode_names[MODES] = {"", "fast", "bicubic", "lanczos", "quality"};
static const char *const runtime_names[RUNTIMES] = {"unknown", "cpu", "cuda"};

/* Figures of one (kind, mode). */
typedef struct by_kind {
    p2c2r_hist queue;                     /* queue wait */
    p2c2r_hist e2e;                       /* admission to answer */
    uint64_t ended[STATUSES];             /* tasks ended, per status */
    uint64_t cache_hits;                  /* of those, answered from the cache */
    p2c2r_hist peer[RUNTIMES];            /* peer time of answered attempts, per runtime */
    uint64_t answers[RUNTIMES][STATUSES]; /* attempts answered, per runtime and status */
} by_kind;

/* One peer's or client's series. */
typedef struct series {
    char name[72];       /* label value ("" when the place is free) */
    uint64_t key;        /* serial of the peer or client last counted here (a fast match) */
    uint64_t last_us;    /* last seen */
    p2c2r_hist hist;     /* peer: peer time; client: end to end */
    uint64_t ok, errors; /* answers or tasks ended, by outcome */
    /* peers, from the registry at render time (several peers of one name add up) */
    uint32_t slots, busy, peers;
    int breaker; /* the worst state among them */
    double rtt_s;
} series;

typedef struct series_table {
    series s[COORD_METRICS_MAX_SERIES + 1]; /* the last is "other" */
    uint64_t dropped;                       /* series dropped after their TTL */
} series_table;

struct coord_metrics {
    by_kind kinds[P2C2R_KIND_COUNT][MODES]; /* per kind and mode */
    series_table peers;                     /* per peer name */
    series_table clients;                   /* per client */
    uint64_t instance;                      /* the coordinator's incarnation */
    uint64_t started_us;                    /* when it started */
    uint64_t next_us;                       /* next render */
    p2c2r_text build[2];                    /* pages being rendered (metrics, status) */
    pthread_mutex_t lock;                   /* guards shown */
    p2c2r_text shown[2];                    /* pages served */
    p2c2r_httpd *httpd;                     /* the server */
};

static int status_index(int status)
{
    return status <= 0 && status > -(STATUSES - 1) ? -status : STATUSES - 1;
}

static int status_of_index(int i)
{
    return i == STATUSES - 1 ? -1000 : -i;
}

static by_kind *kind_of(coord_metrics *m, int kind, int mode)
{
    if (kind < 0 || kind >= P2C2R_KIND_COUNT)
        kind = 0;
    if (mode < 0 || mode >= MODES)
        mode = 0;
    return &m->kinds[kind][mode];
}

/* The series named name, taking a free place for it, or "other". key: the serial of the
 * peer or client, matched first so that a task's end costs integer compares, not string
 * ones. */
static series *series_by_key(series_table *t, uint64_t key, uint64_t now)
{
    for (int i = 0; i < COORD_METRICS_MAX_SERIES; i++)
        if (t->s[i].key == key && t->s[i].name[0]) {
            t->s[i].last_us = now;
            return &t->s[i];
        }
    return NULL;
}

static series *series_of(series_table *t, uint64_t key, const char *name, uint64_t now)
{
    series *found = series_by_key(t, key, now);
    if (found)
        return found;
    series *free_place = NULL;
    for (int i = 0; i < COORD_METRICS_MAX_SERIES; i++) {
        if (!t->s[i].name[0]) {
            if (!free_place)
                free_place = &t->s[i];
        } else if (strcmp(t->s[i].name, name) == 0) {
            t->s[i].last_us = now;
            t->s[i].key = key;
            return &t->s[i];
        }
    }
    series *s = free_place ? free_place : &t->s[COORD_METRICS_MAX_SERIES];
    if (free_place) {
        snprintf(s->name, sizeof s->name, "%s", name);
        s->key = key;
    }
    s->last_us = now;
    return s;
}

static void client_name(const coord_client *c, char name[72])
{
    if (!c)
        snprintf(name, 72, "unknown");
    else if (c->session)
        snprintf(name, 72, "%016" PRIx64, c->session);
    else
        snprintf(name, 72, "connection-%" PRIu64, c->serial);
}

void coord_metrics_task_end(coord_metrics *m, int kind, int mode, const coord_client *client,
                            int status, uint64_t queue_us, uint64_t e2e_us, bool cache_hit)
{
    if (!m)
        return;
    by_kind *k = kind_of(m, kind, mode);
    k->ended[status_index(status)]++;
    k->cache_hits += cache_hit;
    p2c2r__hist_observe(&k->queue, queue_us);
    p2c2r__hist_observe(&k->e2e, e2e_us);
    uint64_t now = p2c2r__now_us(), key = client ? client->serial : 0;
    series *s = series_by_key(&m->clients, key, now);
    if (!s) { /* the name is written only for a client not seen lately */
        char name[72];
        client_name(client, name);
        s = series_of(&m->clients, key, name, now);
    }
    p2c2r__hist_observe(&s->hist, e2e_us);
    if (status == P2C2R_OK)
        s->ok++;
    else
        s->errors++;
}

void coord_metrics_answer(coord_metrics *m, const coord_peer *peer, int kind, int mode, int status,
                          uint64_t peer_us)
{
    if (!m)
        return;
    by_kind *k = kind_of(m, kind, mode);
    int rt = peer->runtime > 0 && peer->runtime < RUNTIMES ? peer->runtime : 0;
    p2c2r__hist_observe(&k->peer[rt], peer_us);
    k->answers[rt][status_index(status)]++;
    series *s = series_of(&m->peers, peer->serial, peer->name, p2c2r__now_us());
    p2c2r__hist_observe(&s->hist, peer_us);
    if (status == P2C2R_OK)
        s->ok++;
    else
        s->errors++;
}

/* ---- pages -------------------------------------------------------------------------- */

static void expire_series(series_table *t, uint64_t now)
{
    for (int i = 0; i < COORD_METRICS_MAX_SERIES; i++)
        if (t->s[i].name[0] && now - t->s[i].last_us > COORD_METRICS_SERIES_TTL_US) {
            t->s[i] = (series){0};
            t->dropped++;
        }
}

/* The registry's view of the peers into their series (gauges). */
static void gather_peers(coord_metrics *m, coord_peers *peers, uint64_t now)
{
    for (int i = 0; i <= COORD_METRICS_MAX_SERIES; i++) {
        series *s = &m->peers.s[i];
        s->slots = s->busy = s->peers = 0;
        s->breaker = 0;
        s->rtt_s = 0;
    }
    for (coord_peer *p = coord_peers_first(peers); p; p = coord_peers_next(peers)) {
        series *s = series_of(&m->peers, p->serial, p->name, now);
        s->slots += p->slots;
        s->busy += p->inflight + p->nzombies + p->foreign;
        s->peers++;
        if ((int)p->health.breaker > s->breaker)
            s->breaker = (int)p->health.breaker;
        s->rtt_s = (double)p->rtt_us / 1e6;
    }
}

static void render_kinds(coord_metrics *m, p2c2r_text *t)
{
    static const struct {
        const char *name, *help;
        size_t offset;
    } hists[] = {
        {"p2c2r_task_queue_seconds", "Time tasks waited in the queue, submit to assign",
         offsetof(by_kind, queue)},
        {"p2c2r_task_duration_seconds", "Time from a task's admission to its answer",
         offsetof(by_kind, e2e)},
    };
    for (size_t h = 0; h < sizeof hists / sizeof hists[0]; h++) {
        p2c2r__prom_family(t, hists[h].name, "histogram", hists[h].help);
        for (int k = 0; k < P2C2R_KIND_COUNT; k++)
            for (int md = 0; md < MODES; md++) {
                const p2c2r_hist *hist =
                    (const p2c2r_hist *)((const char *)&m->kinds[k][md] + hists[h].offset);
                if (!hist->count)
                    continue;
                p2c2r_labels l = {{"kind", "mode"}, {p2c2r__task_kind_name(k), mode_names[md]}, 2};
                p2c2r__prom_hist(t, hists[h].name, &l, hist);
            }
    }
    p2c2r__prom_family(t, "p2c2r_peer_time_seconds", "histogram",
                       "Time peers took on attempts they answered, assign to answer");
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++)
            for (int rt = 0; rt < RUNTIMES; rt++) {
                if (!m->kinds[k][md].peer[rt].count)
                    continue;
                p2c2r_labels l = {{"kind", "mode", "runtime"},
                                  {p2c2r__task_kind_name(k), mode_names[md], runtime_names[rt]},
                                  3};
                p2c2r__prom_hist(t, "p2c2r_peer_time_seconds", &l, &m->kinds[k][md].peer[rt]);
            }
    p2c2r__prom_family(t, "p2c2r_tasks_ended_total", "counter",
                       "Tasks ended, by kind, mode and status (ok or the error)");
    p2c2r__prom_family(t, "p2c2r_attempts_answered_total", "counter",
                       "Attempts peers answered, by kind, mode, runtime and status");
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++)
            for (int st = 0; st < STATUSES; st++) {
                char status[32];
                p2c2r__prom_status(status_of_index(st), status);
                uint64_t n = m->kinds[k][md].ended[st];
                p2c2r_labels l = {{"kind", "mode", "status", "runtime"},
                                  {p2c2r__task_kind_name(k), mode_names[md], status},
                                  3};
                if (n)
                    p2c2r__prom_sample(t, "p2c2r_tasks_ended_total", &l, (double)n);
                for (int rt = 0; rt < RUNTIMES; rt++) {
                    if (!m->kinds[k][md].answers[rt][st])
                        continue;
                    l.value[3] = runtime_names[rt];
                    l.n = 4;
                    p2c2r__prom_sample(t, "p2c2r_attempts_answered_total", &l,
                                       (double)m->kinds[k][md].answers[rt][st]);
                }
            }
    p2c2r__prom_family(t, "p2c2r_task_cache_hits_total", "counter",
                       "Tasks answered from the result cache, by kind and mode");
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++)
            if (m->kinds[k][md].cache_hits) {
                p2c2r_labels l = {{"kind", "mode"}, {p2c2r__task_kind_name(k), mode_names[md]}, 2};
                p2c2r__prom_sample(t, "p2c2r_task_cache_hits_total", &l,
                                   (double)m->kinds[k][md].cache_hits);
            }
}

/* Per-peer and per-client series of one table. */
static void render_series(p2c2r_text *t, const series_table *st, const char *label, bool peers)
{
    const char *hist = peers ? "p2c2r_peer_answer_seconds" : "p2c2r_client_task_seconds";
    const char *count = peers ? "p2c2r_peer_answers_total" : "p2c2r_client_tasks_total";
    p2c2r__prom_family(t, hist, "histogram",
                       peers ? "Time each peer took on the attempts it answered"
                             : "Admission to answer of each client's tasks");
    for (int i = 0; i <= COORD_METRICS_MAX_SERIES; i++) {
        const series *s = &st->s[i];
        p2c2r_labels l = {{label}, {i == COORD_METRICS_MAX_SERIES ? "other" : s->name}, 1};
        if ((s->name[0] || i == COORD_METRICS_MAX_SERIES) && s->hist.count)
            p2c2r__prom_hist(t, hist, &l, &s->hist);
    }
    p2c2r__prom_family(t, count, "counter",
                       peers ? "Attempts each peer answered, by outcome (ok: a result)"
                             : "Tasks of each client ended, by outcome");
    for (int i = 0; i <= COORD_METRICS_MAX_SERIES; i++) {
        const series *s = &st->s[i];
        if (!s->ok && !s->errors)
            continue;
        p2c2r_labels l = {
            {label, "outcome"}, {i == COORD_METRICS_MAX_SERIES ? "other" : s->name, "ok"}, 2};
        p2c2r__prom_sample(t, count, &l, (double)s->ok);
        l.value[1] = "error";
        p2c2r__prom_sample(t, count, &l, (double)s->errors);
    }
    p2c2r__prom_family(
        t, peers ? "p2c2r_peer_series_dropped_total" : "p2c2r_client_series_dropped_total",
        "counter", "Series dropped after their owner was gone a while");
    p2c2r__prom_sample(
        t, peers ? "p2c2r_peer_series_dropped_total" : "p2c2r_client_series_dropped_total", NULL,
        (double)st->dropped);
}

static void render_peer_gauges(coord_metrics *m, p2c2r_text *t)
{
    static const struct {
        const char *name, *help;
    } g[] = {
        {"p2c2r_peer_slots", "Slots the peers of this name advertise"},
        {"p2c2r_peer_busy_slots", "Slots busy: running, given up on but maybe still running, "
                                  "or busy for another coordinator"},
        {"p2c2r_peer_utilisation", "Busy slots over slots"},
        {"p2c2r_peer_breaker_state", "Circuit breaker: 0 closed, 1 open, 2 half-open (the "
                                     "worst of the peers of this name)"},
        {"p2c2r_peer_rtt_seconds", "Smoothed round trip to the peer"},
        {"p2c2r_peer_connected", "Peers of this name connected"},
    };
    for (size_t f = 0; f < sizeof g / sizeof g[0]; f++) {
        p2c2r__prom_family(t, g[f].name, "gauge", g[f].help);
        for (int i = 0; i <= COORD_METRICS_MAX_SERIES; i++) {
            const series *s = &m->peers.s[i];
            if (!s->peers)
                continue;
            p2c2r_labels l = {{"peer"}, {i == COORD_METRICS_MAX_SERIES ? "other" : s->name}, 1};
            double v[] = {s->slots,   s->busy,  s->slots ? (double)s->busy / s->slots : 0,
                          s->breaker, s->rtt_s, s->peers};
            p2c2r__prom_sample(t, g[f].name, &l, v[f]);
        }
    }
}

static void render_totals(p2c2r_text *t, const struct coord_tasks *tasks)
{
    coord_tasks_stats st;
    coord_tasks_stats_get(tasks, &st);
    uint64_t queued, running;
    coord_cache_stats cache;
    coord_tasks_gauges(tasks, &queued, &running, &cache);
    static const char *const names[][2] = {
        {"p2c2r_tasks_admitted_total", "SUBMITs that became tasks"},
        {"p2c2r_task_retries_total", "Attempts after a task's first (requeued after a failure)"},
        {"p2c2r_tasks_shed_total", "Tasks answered at once because they could not finish in time"},
        {"p2c2r_results_rejected_total", "Peer results that failed the coordinator's checks"},
        {"p2c2r_answers_undelivered_total", "Answers that never reached their client"},
        {"p2c2r_cache_hits_total", "Result cache lookups that hit"},
        {"p2c2r_cache_misses_total", "Result cache lookups that missed"},
        {"p2c2r_cache_evictions_total", "Result cache entries dropped for room"},
    };
    double values[] = {st.admitted,    st.retries, st.shed,      st.rejected,
                       st.undelivered, cache.hits, cache.misses, cache.evictions};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        p2c2r__prom_family(t, names[i][0], "counter", names[i][1]);
        p2c2r__prom_sample(t, names[i][0], NULL, values[i]);
    }
    p2c2r__prom_family(t, "p2c2r_tasks_queued", "gauge", "Tasks waiting for a peer");
    p2c2r__prom_sample(t, "p2c2r_tasks_queued", NULL, (double)queued);
    p2c2r__prom_family(t, "p2c2r_tasks_running", "gauge", "Tasks running on peers");
    p2c2r__prom_sample(t, "p2c2r_tasks_running", NULL, (double)running);
    p2c2r__prom_family(t, "p2c2r_cache_bytes", "gauge", "Bytes held by the result cache");
    p2c2r__prom_sample(t, "p2c2r_cache_bytes", NULL, (double)cache.bytes);
}

static void json_quantiles(p2c2r_text *t, const char *name, const p2c2r_hist *h)
{
    p2c2r__text_printf(t, "\"%s\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f}", name,
                       p2c2r__hist_quantile(h, 0.50) * 1e3, p2c2r__hist_quantile(h, 0.95) * 1e3,
                       p2c2r__hist_quantile(h, 0.99) * 1e3);
}

static void json_string(p2c2r_text *t, const char *key, const char *value)
{
    p2c2r__text_printf(t, "\"%s\":\"", key);
    p2c2r__text_quoted(t, value, true);
    p2c2r__text_printf(t, "\"");
}

static void render_status(coord_metrics *m, p2c2r_text *t, coord_peers *peers,
                          const struct coord_tasks *tasks, uint64_t now)
{
    coord_tasks_stats st;
    coord_tasks_stats_get(tasks, &st);
    uint64_t queued, running;
    coord_cache_stats cache;
    coord_tasks_gauges(tasks, &queued, &running, &cache);
    p2c2r__text_printf(
        t,
        "{\"instance\":\"%016" PRIx64 "\",\"uptime_s\":%.1f,\"tasks\":{\"admitted\":%" PRIu64
        ",\"ok\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"queued\":%" PRIu64 ",\"running\":%" PRIu64
        ",\"retries\":%" PRIu64 ",\"cache_hits\":%" PRIu64 "},\"peers_total\":%zu,\"peers\":[",
        m->instance, (double)(now - m->started_us) / 1e6, st.admitted, st.ended_ok, st.ended_err,
        queued, running, st.retries, st.cache_hits, coord_peers_size(peers));
    int listed = 0;
    for (coord_peer *p = coord_peers_first(peers); p && listed < COORD_METRICS_STATUS_PEERS;
         p = coord_peers_next(peers), listed++) {
        double success, load, rtt;
        coord_select_terms(p, &success, &load, &rtt);
        p2c2r__text_printf(t, "%s{", listed ? "," : "");
        json_string(t, "name", p->name);
        p2c2r__text_printf(t, ",");
        json_string(t, "runtime", p->runtime == P2C2R_RUNTIME_CUDA ? "cuda" : "cpu");
        p2c2r__text_printf(t, ",");
        char cpu[64];
        snprintf(cpu, sizeof cpu, "%u cores, %s", p->cpu_cores, p->simd);
        json_string(t, "device", p->device[0] ? p->device : cpu);
        p2c2r__text_printf(
            t,
            ",\"slots\":%u,\"allowed\":%u,\"in_flight\":%u,\"zombies\":%u,"
            "\"foreign\":%u,\"score\":{\"success\":%.3f,\"load\":%.3f,\"rtt\":%.3f},"
            "\"rtt_ms\":%.3f,\"breaker\":\"%s\",\"good\":%" PRIu64 ",\"bad\":%" PRIu64 "}",
            p->slots, p->place.allowance, p->inflight, p->nzombies, p->foreign, success, load, rtt,
            (double)p->rtt_us / 1e3, coord_health_breaker_name(p->health.breaker), p->health.good,
            p->health.bad);
    }
    p2c2r__text_printf(t, "],\"kinds\":[");
    int n = 0;
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        for (int md = 0; md < MODES; md++) {
            const by_kind *b = &m->kinds[k][md];
            if (!b->e2e.count)
                continue;
            p2c2r_hist peer_time = {0};
            for (int rt = 0; rt < RUNTIMES; rt++)
                p2c2r__hist_add(&peer_time, &b->peer[rt]);
            p2c2r__text_printf(
                t, "%s{\"kind\":\"%s\",\"mode\":\"%s\",\"ok\":%" PRIu64 ",\"errors\":%" PRIu64 ",",
                n++ ? "," : "", p2c2r__task_kind_name(k), mode_names[md], b->ended[0],
                b->e2e.count - b->ended[0]);
            json_quantiles(t, "e2e_ms", &b->e2e);
            p2c2r__text_printf(t, ",");
            json_quantiles(t, "queue_ms", &b->queue);
            p2c2r__text_printf(t, ",");
            json_quantiles(t, "peer_ms", &peer_time);
            p2c2r__text_printf(t, "}");
        }
    p2c2r__text_printf(t, "]}\n");
}

uint64_t coord_metrics_next_render(const coord_metrics *m)
{
    return m ? m->next_us : UINT64_MAX;
}

void coord_metrics_render(coord_metrics *m, coord_peers *peers, const struct coord_tasks *tasks,
                          uint64_t now)
{
    expire_series(&m->peers, now);
    expire_series(&m->clients, now);
    gather_peers(m, peers, now);
    p2c2r_text *t = &m->build[0];
    p2c2r__text_reset(t);
    render_totals(t, tasks);
    render_kinds(m, t);
    render_series(t, &m->peers, "peer", true);
    render_peer_gauges(m, t);
    render_series(t, &m->clients, "client", false);
    p2c2r__text_reset(&m->build[1]);
    render_status(m, &m->build[1], peers, tasks, now);
    /* A page that ran out of memory is not shown: the last complete one stays. */
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < 2; i++)
        if (!m->build[i].failed) {
            p2c2r_text swap = m->shown[i];
            m->shown[i] = m->build[i];
            m->build[i] = swap;
        }
    pthread_mutex_unlock(&m->lock);
    m->next_us = now + COORD_METRICS_RENDER_US;
}

/* On libmicrohttpd's thread: a copy of the page last rendered. */
static int page(void *arg, const char *path, p2c2r_text *out, const char **content_type)
{
    coord_metrics *m = arg;
    int i;
    if (strcmp(path, "/metrics") == 0) {
        i = 0;
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(path, "/status") == 0) {
        i = 1;
        *content_type = "application/json";
    } else {
        p2c2r__text_printf(out, "not found: try /metrics or /status\n");
        return 404;
    }
    pthread_mutex_lock(&m->lock);
    p2c2r__text_append(out, m->shown[i].data ? m->shown[i].data : "", m->shown[i].len);
    pthread_mutex_unlock(&m->lock);
    return 200;
}

coord_metrics *coord_metrics_new(const char *address, uint64_t instance, int *err)
{
    coord_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        *err = P2C2R_E_NOMEM;
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->instance = instance;
    m->started_us = p2c2r__now_us();
    m->httpd = p2c2r__httpd_start(address, page, m, err);
    if (!m->httpd) {
        coord_metrics_destroy(&m);
        return NULL;
    }
    return m;
}

void coord_metrics_destroy(coord_metrics **mp)
{
    if (!mp || !*mp)
        return;
    coord_metrics *m = *mp;
    p2c2r__httpd_stop(&m->httpd); /* first: no request may run any more */
    for (int i = 0; i < 2; i++) {
        p2c2r__text_fini(&m->build[i]);
        p2c2r__text_fini(&m->shown[i]);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
    *mp = NULL;
}

const char *coord_metrics_address(const coord_metrics *m)
{
    return p2c2r__httpd_address(m->httpd);
}
