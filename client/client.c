/* client: libp2c2r's public API (p2c2r.h) over the SDK's modules.
 *
 * The game's threads only ever do short, bounded work here: check a request, claim a
 * window slot, copy the frame into a reused buffer (buffers.h) and push the job to the I/O
 * thread (inbox.h); take a result from the poll list (results.h). No call holds a lock
 * while it waits, so no game thread waits behind another. The I/O thread (io.h) does the
 * rest: sending, learning deadlines (learn.h), adaptive quality (adapt.h), the local
 * fallback (local.h), and ending every task exactly once.
 */
#include <czmq.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client/adapt.h"
#include "client/buffers.h"
#include "client/client_internal.h"
#include "client/io.h"
#include "client/job.h"
#include "client/learn.h"
#include "client/results.h"
#include "common/clock.h"
#include "common/curve.h"
#include "common/envelope.h"
#include "common/random.h"
#include "common/task.h"
#include "p2c2r.h"

#define DEFAULT_MAX_IN_FLIGHT   64u
#define DEFAULT_GRACE_MS        250u
#define DEFAULT_LOCAL_THREADS   1u
#define DEFAULT_BUFFER_CACHE_MB 256u
#define MAX_IN_FLIGHT           65536u
#define MAX_LOCAL_THREADS       64u

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

struct p2c2r_client {
    p2c2r_client_config config;   /* settings with defaults filled in */
    sdk_bufpool *buffers;         /* frame copies, reused */
    sdk_results *results;         /* the window and the way out */
    sdk_learn *learn;             /* learnt latencies */
    sdk_adapt *adapt;             /* adaptive quality, or NULL */
    sdk_io *io;                   /* the I/O thread and the fallback */
    atomic_uint_fast64_t next_id; /* last task id handed out */
};

uint32_t p2c2r_version(void)
{
    return P2C2R_VERSION;
}

const char *p2c2r_version_string(void)
{
    return STRINGIFY(P2C2R_VERSION_MAJOR) "." STRINGIFY(P2C2R_VERSION_MINOR) "." STRINGIFY(
        P2C2R_VERSION_PATCH);
}

/* The CurveZMQ keys: all three or none, each a Z85 key, and a libzmq that has CURVE. */
static int check_curve(const p2c2r_client_config *config)
{
    const char *keys[3] = {config->curve_public_key, config->curve_secret_key,
                           config->coordinator_public_key};
    int given = 0;
    for (int i = 0; i < 3; i++)
        if (keys[i]) {
            given++;
            if (!p2c2r__curve_key_valid(keys[i]))
                return P2C2R_E_INVAL;
        }
    if (given == 0)
        return P2C2R_OK;
    if (given != 3)
        return P2C2R_E_INVAL;
    return p2c2r__curve_available() ? P2C2R_OK : P2C2R_E_UNSUPPORTED;
}

p2c2r_client *p2c2r_client_new(const p2c2r_client_config *config, int *err)
{
    int rc = P2C2R_E_INVAL;
    p2c2r_client *c = NULL;
    if (!config || !config->coordinator || !config->coordinator[0] ||
        config->max_in_flight > MAX_IN_FLIGHT || config->local_threads > MAX_LOCAL_THREADS ||
        (config->fallback != P2C2R_FALLBACK_NONE && config->fallback != P2C2R_FALLBACK_LOCAL) ||
        config->frame_budget_ms > P2C2R_DEADLINE_MAX_US / 1000u)
        goto fail;
    rc = check_curve(config);
    if (rc != P2C2R_OK)
        goto fail;
    /* A library must not take the game's SIGINT/SIGTERM: CZMQ installs its own handlers
     * on first use unless told not to. */
    zsys_handler_set(NULL);
    rc = P2C2R_E_NOMEM;
    c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    c->config = *config;
    if (!c->config.max_in_flight)
        c->config.max_in_flight = DEFAULT_MAX_IN_FLIGHT;
    if (!c->config.grace_ms)
        c->config.grace_ms = DEFAULT_GRACE_MS;
    if (!c->config.local_threads)
        c->config.local_threads = DEFAULT_LOCAL_THREADS;
    if (!c->config.buffer_cache_mb)
        c->config.buffer_cache_mb = DEFAULT_BUFFER_CACHE_MB;
    c->buffers = sdk_bufpool_new((size_t)c->config.buffer_cache_mb << 20);
    c->results =
        sdk_results_new(c->config.max_in_flight, c->config.on_result, c->config.on_result_arg);
    c->learn = sdk_learn_new();
    if (!c->buffers || !c->results || !c->learn)
        goto fail;
    if (c->config.frame_budget_ms && !(c->adapt = sdk_adapt_new(c->config.frame_budget_ms)))
        goto fail;
    sdk_io_config io = {
        .endpoint = config->coordinator,
        .grace_ms = c->config.grace_ms,
        .local_threads = c->config.fallback == P2C2R_FALLBACK_LOCAL ? c->config.local_threads : 0,
        .session = p2c2r__random_id(),
        .results = c->results,
        .learn = c->learn,
        .adapt = c->adapt,
    };
    if (config->curve_public_key) { /* checked above */
        snprintf(io.curve_public, sizeof io.curve_public, "%s", config->curve_public_key);
        snprintf(io.curve_secret, sizeof io.curve_secret, "%s", config->curve_secret_key);
        snprintf(io.coordinator_key, sizeof io.coordinator_key, "%s",
                 config->coordinator_public_key);
    }
    c->io = sdk_io_new(&io, &rc);
    if (!c->io)
        goto fail;
    c->config.coordinator = NULL; /* the caller's string is not kept */
    return c;
fail:
    p2c2r_client_destroy(&c);
    if (err)
        *err = rc;
    return NULL;
}

void p2c2r_client_destroy(p2c2r_client **client)
{
    if (!client || !*client)
        return;
    p2c2r_client *c = *client;
    sdk_io_destroy(&c->io);
    sdk_results_destroy(&c->results);
    sdk_bufpool_destroy(&c->buffers); /* waits for ZeroMQ to let go of the last frames */
    sdk_learn_destroy(&c->learn);
    sdk_adapt_destroy(&c->adapt);
    free(c);
    *client = NULL;
}

/* Check a job's request as every hop will (with a placeholder deadline when it is to be
 * learnt): a bad call fails here, at once. */
static int validate(const sdk_job *j, size_t size, uint32_t deadline_ms)
{
    if (deadline_ms > P2C2R_DEADLINE_MAX_US / 1000u)
        return P2C2R_E_INVAL;
    sdk_job_wire w;
    sdk_job_wire_fill(j, deadline_ms ? deadline_ms * 1000ull : 1, 0, &w);
    const char *detail;
    return p2c2r__task_validate(&w.env, size, &detail);
}

/* Put a checked job's payload in a buffer (copied, or lent). */
static int take_payload(p2c2r_client *c, sdk_job *j, const void *data, size_t size,
                        p2c2r_release_fn *release, void *release_arg)
{
    j->buf = release ? sdk_buf_lend(c->buffers, data, size, release, release_arg)
                     : sdk_buf_get(c->buffers, size);
    if (!j->buf)
        return P2C2R_E_NOMEM;
    if (!release && size)
        memcpy(sdk_buf_data(j->buf), data, size);
    return P2C2R_OK;
}

/* Hand n checked jobs with their payloads, window slots claimed, to the I/O thread: ids
 * and the submit time are given here. On failure the jobs are freed, lent buffers are the
 * caller's again (no release) and the slots are given back. */
static int hand_over(p2c2r_client *c, sdk_job **jobs, size_t n, bool lent, uint64_t *task_ids)
{
    uint64_t now = p2c2r__now_us();
    uint64_t first = atomic_fetch_add(&c->next_id, n) + 1;
    for (size_t i = 0; i < n; i++) {
        jobs[i]->submitted_us = now;
        jobs[i]->id = first + i;
    }
    int rc = sdk_io_submit(c->io, jobs, n);
    for (size_t i = 0; i < n; i++) {
        if (rc == P2C2R_OK) {
            task_ids[i] = first + i;
            continue;
        }
        if (lent)
            sdk_buf_lend_cancel(jobs[i]->buf);
        sdk_results_unreserve(c->results);
        sdk_job_free(&jobs[i]);
    }
    return rc;
}

/* Check, claim a window slot, put the payload in a buffer (copied, or lent) and hand the
 * job to the I/O thread. On failure nothing is kept and release never runs. */
static int submit(p2c2r_client *c, sdk_job *j, const void *data, size_t size, uint32_t deadline_ms,
                  p2c2r_release_fn *release, void *release_arg, uint64_t *task_id)
{
    j->deadline_ms = deadline_ms;
    int rc = validate(j, size, deadline_ms);
    if (rc != P2C2R_OK)
        goto fail;
    rc = P2C2R_E_BUSY;
    if (!sdk_results_reserve(c->results))
        goto fail;
    rc = take_payload(c, j, data, size, release, release_arg);
    if (rc != P2C2R_OK) {
        sdk_results_unreserve(c->results);
        goto fail;
    }
    return hand_over(c, &j, 1, release != NULL, task_id);
fail:
    sdk_job_free(&j);
    return rc;
}

/* The desc with the SDK's defaults filled in and the mode adaptive quality picks. */
static void resolve_desc(const p2c2r_client *c, const p2c2r_upscale_desc *in, p2c2r_upscale_desc *d)
{
    *d = *in;
    if (!d->mode)
        d->mode = P2C2R_MODE_FAST;
    if (!d->output_codec)
        d->output_codec = P2C2R_CODEC_JPEG;
    if (!d->jpeg_quality)
        d->jpeg_quality = P2C2R_JPEG_QUALITY_DEF;
    if (c->adapt && d->mode >= P2C2R_MODE_FAST && d->mode <= P2C2R_MODE_QUALITY)
        d->mode = sdk_adapt_mode(c->adapt, d->mode);
}

/* A new upscale job for desc, not yet checked; NULL when out of memory. */
static sdk_job *upscale_job(const p2c2r_client *c, const p2c2r_upscale_desc *desc)
{
    sdk_job *j = sdk_job_new(0, P2C2R_KIND_UPSCALE);
    if (!j)
        return NULL;
    resolve_desc(c, desc, &j->desc);
    j->flags = desc->flags;
    j->may_run_local =
        c->config.fallback == P2C2R_FALLBACK_LOCAL && desc->runtime != P2C2R_RUNTIME_CUDA;
    return j;
}

static int submit_upscale(p2c2r_client *c, const p2c2r_upscale_desc *desc, const void *data,
                          size_t size, p2c2r_release_fn *release, void *release_arg,
                          uint64_t *task_id)
{
    if (!c || !desc || !task_id || (size && !data))
        return P2C2R_E_INVAL;
    sdk_job *j = upscale_job(c, desc);
    if (!j)
        return P2C2R_E_NOMEM;
    return submit(c, j, data, size, desc->deadline_ms, release, release_arg, task_id);
}

int p2c2r_submit_upscale(p2c2r_client *c, const p2c2r_upscale_desc *desc, const void *data,
                         size_t size, uint64_t *task_id)
{
    return submit_upscale(c, desc, data, size, NULL, NULL, task_id);
}

int p2c2r_submit_upscale_lent(p2c2r_client *c, const p2c2r_upscale_desc *desc, const void *data,
                              size_t size, p2c2r_release_fn *release, void *release_arg,
                              uint64_t *task_id)
{
    if (!release)
        return P2C2R_E_INVAL;
    return submit_upscale(c, desc, data, size, release, release_arg, task_id);
}

static int submit_other(p2c2r_client *c, int kind, uint32_t sleep_ms, const void *data, size_t size,
                        uint32_t deadline_ms, uint64_t *task_id)
{
    if (!c || !task_id || (size && !data))
        return P2C2R_E_INVAL;
    sdk_job *j = sdk_job_new(0, kind);
    if (!j)
        return P2C2R_E_NOMEM;
    j->sleep_ms = sleep_ms;
    return submit(c, j, data, size, deadline_ms, NULL, NULL, task_id);
}

int p2c2r_submit_noop(p2c2r_client *c, const void *data, size_t size, uint32_t deadline_ms,
                      uint64_t *task_id)
{
    return submit_other(c, P2C2R_KIND_NOOP, 0, data, size, deadline_ms, task_id);
}

int p2c2r_submit_sleep(p2c2r_client *c, uint32_t sleep_ms, const void *data, size_t size,
                       uint32_t deadline_ms, uint64_t *task_id)
{
    return submit_other(c, P2C2R_KIND_SLEEP, sleep_ms, data, size, deadline_ms, task_id);
}

/* The job for one task of a batch, checked; NULL with *rc set when it cannot be. */
static sdk_job *batch_job(const p2c2r_client *c, const p2c2r_task *t, int *rc)
{
    *rc = P2C2R_E_INVAL;
    if (t->size && !t->data)
        return NULL;
    sdk_job *j = NULL;
    if (t->kind == P2C2R_TASK_UPSCALE && t->upscale) {
        j = upscale_job(c, t->upscale);
    } else if (t->kind == P2C2R_TASK_NOOP || t->kind == P2C2R_TASK_SLEEP) {
        j = sdk_job_new(0, t->kind == P2C2R_TASK_NOOP ? P2C2R_KIND_NOOP : P2C2R_KIND_SLEEP);
        if (j) {
            j->sleep_ms = t->kind == P2C2R_TASK_SLEEP ? t->sleep_ms : 0;
            j->flags = t->flags;
            j->deadline_ms = t->deadline_ms;
        }
    } else {
        return NULL;
    }
    if (!j) {
        *rc = P2C2R_E_NOMEM;
        return NULL;
    }
    if (j->kind == P2C2R_KIND_UPSCALE)
        j->deadline_ms = t->upscale->deadline_ms;
    *rc = validate(j, t->size, j->deadline_ms);
    if (*rc != P2C2R_OK)
        sdk_job_free(&j);
    return j;
}

int p2c2r_submit_batch(p2c2r_client *c, const p2c2r_task *tasks, size_t n, uint64_t *task_ids)
{
    if (!c || !tasks || !task_ids || n == 0 || n > P2C2R_BATCH_MAX)
        return P2C2R_E_INVAL;
    sdk_job *jobs[P2C2R_BATCH_MAX] = {0};
    size_t made = 0, reserved = 0;
    int rc = P2C2R_OK;
    while (made < n && (jobs[made] = batch_job(c, &tasks[made], &rc)))
        made++;
    while (rc == P2C2R_OK && reserved < n && sdk_results_reserve(c->results))
        reserved++;
    if (rc == P2C2R_OK && reserved < n)
        rc = P2C2R_E_BUSY;
    for (size_t i = 0; rc == P2C2R_OK && i < n; i++)
        rc = take_payload(c, jobs[i], tasks[i].data, tasks[i].size, NULL, NULL);
    if (rc == P2C2R_OK)
        return hand_over(c, jobs, n, false, task_ids);
    while (reserved--)
        sdk_results_unreserve(c->results);
    for (size_t i = 0; i < made; i++)
        sdk_job_free(&jobs[i]);
    return rc;
}

int p2c2r_cancel(p2c2r_client *c, uint64_t task_id)
{
    if (!c || task_id == 0 || task_id > atomic_load(&c->next_id))
        return P2C2R_E_INVAL;
    sdk_io_cancel(c->io, task_id);
    return P2C2R_OK;
}

int p2c2r_poll(p2c2r_client *c, int timeout_ms, p2c2r_result **result)
{
    if (!c || !result)
        return P2C2R_E_INVAL;
    *result = NULL;
    return sdk_results_take(c->results, timeout_ms, result);
}

uint32_t p2c2r_client_pending(const p2c2r_client *c)
{
    return sdk_results_pending(c->results);
}

void p2c2r_client_get_stats(const p2c2r_client *c, p2c2r_client_stats *s)
{
    memset(s, 0, sizeof *s);
    sdk_results_counts(c->results, s);
    sdk_bufpool_counts(c->buffers, &s->buffer_allocs, &s->buffer_bytes);
    if (c->adapt)
        sdk_adapt_counts(c->adapt, &s->quality_mode, &s->quality_down, &s->quality_up);
}

size_t p2c2r_client_latencies(const p2c2r_client *c, p2c2r_latency *out, size_t max)
{
    return sdk_learn_list(c->learn, out, max);
}

int p2c2r_client_upscale_latency(const p2c2r_client *c, const p2c2r_upscale_desc *desc,
                                 p2c2r_latency *out)
{
    if (!c || !desc || !out || !desc->width || !desc->height)
        return P2C2R_E_INVAL;
    p2c2r_upscale_desc d = *desc;
    if (!d.mode)
        d.mode = P2C2R_MODE_FAST;
    if (!d.output_codec)
        d.output_codec = P2C2R_CODEC_JPEG;
    sdk_class_key key;
    sdk_class_upscale(&d, &key);
    sdk_learn_get(c->learn, &key, out);
    return P2C2R_OK;
}

void p2c2r__client_inject_io_failure(p2c2r_client *c)
{
    sdk_io_inject_failure(c->io);
}
