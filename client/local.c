/* local: see local.h.
 *
 * The queue is a list kept in deadline order under one mutex; threads wait on a condition
 * variable. Queues are a few frames deep, so an ordered insert is cheaper than a heap.
 */
#include "client/local.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client/results.h"
#include "common/clock.h"
#include "common/image.h"
#include "common/task.h"
#include "common/upscale/frame.h"

#define MAX_THREADS       64u
/* Filter tables kept: a few frame sizes in every mode. */
#define TABLE_CACHE_BYTES (64u << 20)

struct sdk_local {
    pthread_mutex_t lock;           /* guards queue, backlog, stop */
    pthread_cond_t wake;            /* signalled when a job is queued or stop is set */
    sdk_job *queue;                 /* waiting jobs, earliest deadline first */
    uint32_t backlog;               /* jobs queued or running */
    bool stop;                      /* the threads must exit */
    sdk_local_done_fn *done;        /* where jobs go back */
    void *done_arg;                 /* for done */
    p2c2r_upscale_cache *cache;     /* filter tables, shared by the threads */
    p2c2r_simd simd;                /* kernels */
    pthread_t threads[MAX_THREADS]; /* the threads */
    uint32_t nthreads;              /* started */
};

/* Run one job into a result (NULL when out of memory). */
static p2c2r_result *run(sdk_local *l, p2c2r_jpeg *jpeg, sdk_job *job)
{
    const p2c2r_upscale_desc *d = &job->desc;
    p2c2r_frame_request req = {
        .codec = d->codec,
        .format = d->pixel_format,
        .width = d->width,
        .height = d->height,
        .data = sdk_buf_data(job->buf),
        .size = sdk_buf_size(job->buf),
        .scale = d->scale,
        .mode = d->mode,
        .output_codec = d->output_codec,
        .jpeg_quality = (int)d->jpeg_quality,
    };
    p2c2r_frame_output out;
    int rc = p2c2r__frame_upscale(jpeg, l->cache, l->simd, &req, &out);
    p2c2r_result *r = sdk_result_new(job->id, rc, rc == P2C2R_OK ? "" : out.detail);
    if (!r) {
        if (out.data)
            out.free_fn(out.data, NULL);
        return NULL;
    }
    r->source = rc == P2C2R_OK ? P2C2R_SOURCE_LOCAL : P2C2R_SOURCE_NONE;
    r->mode = d->mode;
    if (rc == P2C2R_OK) {
        if (zmq_msg_init_data(&r->payload, out.data, out.size, out.free_fn, NULL) != 0) {
            out.free_fn(out.data, NULL);
            zmq_msg_init(&r->payload);
            p2c2r_result_free(&r);
            return NULL;
        }
        r->codec = d->output_codec;
        r->format = out.format;
        r->width = out.width;
        r->height = out.height;
    }
    r->timings.decode_us = out.decode_us;
    r->timings.compute_us = out.compute_us;
    r->timings.encode_us = out.encode_us;
    return r;
}

static void *thread_main(void *arg)
{
    sdk_local *l = arg;
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new(); /* NULL: every job fails with NOMEM, none is lost */
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (!l->queue && !l->stop)
            pthread_cond_wait(&l->wake, &l->lock);
        sdk_job *job = l->queue;
        if (!job)
            break; /* stop, and nothing left to hand back */
        l->queue = job->next;
        job->next = NULL;
        bool stopping = l->stop;
        pthread_mutex_unlock(&l->lock);

        job->local_start_us = p2c2r__now_us();
        if (!stopping && !atomic_load(&job->ended)) {
            job->local_result =
                jpeg ? run(l, jpeg, job) : sdk_result_new(job->id, P2C2R_E_NOMEM, "no codec");
            job->local_run_us = p2c2r__now_us() - job->local_start_us;
        }
        pthread_mutex_lock(&l->lock);
        l->backlog--;
        pthread_mutex_unlock(&l->lock);
        l->done(l->done_arg, job);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    p2c2r__jpeg_destroy(&jpeg);
    return NULL;
}

sdk_local *sdk_local_new(uint32_t threads, sdk_local_done_fn *done, void *arg, int *err)
{
    *err = P2C2R_E_INVAL;
    if (threads < 1 || threads > MAX_THREADS)
        return NULL;
    *err = P2C2R_E_NOMEM;
    sdk_local *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    l->done = done;
    l->done_arg = arg;
    l->simd = p2c2r__upscale_simd();
    l->cache = p2c2r__upscale_cache_new(TABLE_CACHE_BYTES);
    if (!l->cache)
        goto fail;
    for (; l->nthreads < threads; l->nthreads++)
        if (pthread_create(&l->threads[l->nthreads], NULL, thread_main, l) != 0) {
            *err = P2C2R_E_INTERNAL;
            goto fail;
        }
    *err = P2C2R_OK;
    return l;
fail:
    sdk_local_destroy(&l);
    return NULL;
}

void sdk_local_destroy(sdk_local **local)
{
    if (!local || !*local)
        return;
    sdk_local *l = *local;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_cond_broadcast(&l->wake);
    pthread_mutex_unlock(&l->lock);
    for (uint32_t i = 0; i < l->nthreads; i++)
        pthread_join(l->threads[i], NULL);
    /* Threads hand back what is queued as they stop; with none started, do it here. */
    while (l->queue) {
        sdk_job *job = l->queue;
        l->queue = job->next;
        l->done(l->done_arg, job);
    }
    p2c2r__upscale_cache_destroy(&l->cache);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
    *local = NULL;
}

void sdk_local_push(sdk_local *l, sdk_job *job)
{
    pthread_mutex_lock(&l->lock);
    sdk_job **at = &l->queue;
    while (*at && (*at)->deadline_us <= job->deadline_us)
        at = &(*at)->next;
    job->next = *at;
    *at = job;
    l->backlog++;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
}

uint32_t sdk_local_backlog(sdk_local *l)
{
    pthread_mutex_lock(&l->lock);
    uint32_t n = l->backlog;
    pthread_mutex_unlock(&l->lock);
    return n;
}

uint32_t sdk_local_threads(const sdk_local *l)
{
    return l->nthreads;
}
