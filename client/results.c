/* results: see results.h; and the public accessors of p2c2r_result. */
#include "client/results.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sdk_results {
    pthread_mutex_t lock;   /* guards head and tail */
    pthread_cond_t ready;   /* signalled when a result is queued */
    p2c2r_result *head;     /* oldest queued result */
    p2c2r_result *tail;     /* newest */
    p2c2r_result_fn *fn;    /* callback, or NULL for poll() */
    void *arg;              /* for fn */
    uint32_t max_in_flight; /* the window */
    atomic_uint pending;    /* submitted and not yet taken */
    atomic_uint_fast64_t submitted, cluster, local, errors, late, dropped, cancelled,
        cache_hits; /* counts */
};

/* The detail of every result without one: most results, which need no copy of "". */
static char no_detail[] = "";

p2c2r_result *sdk_result_new(uint64_t task_id, int status, const char *detail)
{
    p2c2r_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->detail = no_detail;
    if (sdk_result_set_detail(r, detail) != P2C2R_OK) {
        free(r);
        return NULL;
    }
    r->task_id = task_id;
    r->status = status;
    zmq_msg_init(&r->payload);
    return r;
}

int sdk_result_set_detail(p2c2r_result *r, const char *detail)
{
    char *copy = no_detail;
    if (detail && detail[0] && !(copy = strdup(detail)))
        return P2C2R_E_NOMEM;
    if (r->detail != no_detail)
        free(r->detail);
    r->detail = copy;
    return P2C2R_OK;
}

sdk_results *sdk_results_new(uint32_t max_in_flight, p2c2r_result_fn *fn, void *arg)
{
    sdk_results *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->ready, &attr);
    pthread_condattr_destroy(&attr);
    q->fn = fn;
    q->arg = arg;
    q->max_in_flight = max_in_flight;
    return q;
}

void sdk_results_destroy(sdk_results **results)
{
    if (!results || !*results)
        return;
    sdk_results *q = *results;
    while (q->head) {
        p2c2r_result *r = q->head;
        q->head = r->next;
        p2c2r_result_free(&r);
    }
    pthread_cond_destroy(&q->ready);
    pthread_mutex_destroy(&q->lock);
    free(q);
    *results = NULL;
}

bool sdk_results_reserve(sdk_results *q)
{
    if (atomic_fetch_add(&q->pending, 1) >= q->max_in_flight) {
        atomic_fetch_sub(&q->pending, 1);
        return false;
    }
    atomic_fetch_add(&q->submitted, 1);
    return true;
}

void sdk_results_unreserve(sdk_results *q)
{
    atomic_fetch_sub(&q->pending, 1);
    atomic_fetch_sub(&q->submitted, 1);
}

uint32_t sdk_results_pending(const sdk_results *q)
{
    return atomic_load(&((sdk_results *)q)->pending);
}

void sdk_results_deliver(sdk_results *q, p2c2r_result **result)
{
    p2c2r_result *r = *result;
    *result = NULL;
    atomic_fetch_add(r->status != P2C2R_OK             ? &q->errors
                     : r->source == P2C2R_SOURCE_LOCAL ? &q->local
                                                       : &q->cluster,
                     1);
    if (r->timings.total_us > (uint64_t)r->deadline_ms * 1000u)
        atomic_fetch_add(&q->late, 1);
    if (r->status == P2C2R_E_CANCELLED)
        atomic_fetch_add(&q->cancelled, 1);
    if (r->timings.cache_hit)
        atomic_fetch_add(&q->cache_hits, 1);
    if (q->fn) {
        atomic_fetch_sub(&q->pending, 1);
        q->fn(q->arg, r);
        return;
    }
    r->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

int sdk_results_take(sdk_results *q, int timeout_ms, p2c2r_result **result)
{
    if (q->fn)
        return P2C2R_E_INVAL;
    struct timespec until;
    if (timeout_ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    int rc = 0;
    while (!q->head && timeout_ms != 0 && rc != ETIMEDOUT)
        rc = timeout_ms < 0 ? pthread_cond_wait(&q->ready, &q->lock)
                            : pthread_cond_timedwait(&q->ready, &q->lock, &until);
    p2c2r_result *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    if (!r)
        return P2C2R_E_TIMEOUT;
    atomic_fetch_sub(&q->pending, 1);
    *result = r;
    return P2C2R_OK;
}

void sdk_results_dropped(sdk_results *q)
{
    atomic_fetch_add(&q->dropped, 1);
}

void sdk_results_counts(const sdk_results *cq, p2c2r_client_stats *s)
{
    sdk_results *q = (sdk_results *)cq;
    s->submitted = atomic_load(&q->submitted);
    s->cluster = atomic_load(&q->cluster);
    s->local = atomic_load(&q->local);
    s->errors = atomic_load(&q->errors);
    s->late = atomic_load(&q->late);
    s->dropped_answers = atomic_load(&q->dropped);
    s->cancelled = atomic_load(&q->cancelled);
    s->cache_hits = atomic_load(&q->cache_hits);
}

/* ---- the public accessors ---------------------------------------------------------- */

void p2c2r_result_free(p2c2r_result **result)
{
    if (!result || !*result)
        return;
    zmq_msg_close(&(*result)->payload);
    if ((*result)->detail != no_detail)
        free((*result)->detail);
    free(*result);
    *result = NULL;
}

uint64_t p2c2r_result_task_id(const p2c2r_result *r)
{
    return r->task_id;
}

int p2c2r_result_status(const p2c2r_result *r)
{
    return r->status;
}

const char *p2c2r_result_detail(const p2c2r_result *r)
{
    return r->detail;
}

p2c2r_source p2c2r_result_source(const p2c2r_result *r)
{
    return r->source;
}

p2c2r_mode p2c2r_result_mode(const p2c2r_result *r)
{
    return r->mode;
}

uint32_t p2c2r_result_deadline_ms(const p2c2r_result *r)
{
    return r->deadline_ms;
}

p2c2r_codec p2c2r_result_codec(const p2c2r_result *r)
{
    return r->codec;
}

p2c2r_pixel_format p2c2r_result_pixel_format(const p2c2r_result *r)
{
    return r->format;
}

uint32_t p2c2r_result_width(const p2c2r_result *r)
{
    return r->width;
}

uint32_t p2c2r_result_height(const p2c2r_result *r)
{
    return r->height;
}

const void *p2c2r_result_data(const p2c2r_result *r, size_t *size)
{
    if (size)
        *size = zmq_msg_size((zmq_msg_t *)&r->payload);
    return zmq_msg_data((zmq_msg_t *)&r->payload);
}

void p2c2r_result_timings(const p2c2r_result *r, p2c2r_timings *timings)
{
    *timings = r->timings;
}
