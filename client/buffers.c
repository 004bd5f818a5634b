/* buffers: see buffers.h.
 *
 * One mutex guards the free list and the counts: it is taken for a list operation, never
 * while copying, allocating or waiting (the destroy wait is on a condition variable).
 */
#include "client/buffers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct sdk_buf {
    uint8_t *data;             /* the bytes (the caller's when lent) */
    size_t size;               /* bytes in use */
    size_t capacity;           /* bytes allocated (0 when lent) */
    atomic_uint refs;          /* references held */
    sdk_bufpool *pool;         /* the pool it comes from and returns to */
    bool lent;                 /* the bytes are the caller's */
    p2c2r_release_fn *release; /* lent: the caller's release (NULL once cancelled) */
    void *release_arg;         /* for release */
    sdk_buf *next;             /* free list link */
};

struct sdk_bufpool {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t idle;  /* signalled when out reaches 0 */
    sdk_buf *free_list;   /* kept buffers, unordered */
    size_t keep_bytes;    /* bound on the capacity of kept buffers */
    size_t kept_bytes;    /* capacity of the kept buffers */
    size_t held_bytes;    /* capacity of all allocated buffers, out or kept */
    uint64_t allocs;      /* buffers allocated so far */
    size_t out;           /* buffers handed out and not yet back */
    bool closing;         /* destroy has begun: keep nothing more */
};

sdk_bufpool *sdk_bufpool_new(size_t keep_bytes)
{
    sdk_bufpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->keep_bytes = keep_bytes;
    return p;
}

static void buf_free(sdk_buf *b)
{
    free(b->data);
    free(b);
}

void sdk_bufpool_destroy(sdk_bufpool **pool)
{
    if (!pool || !*pool)
        return;
    sdk_bufpool *p = *pool;
    pthread_mutex_lock(&p->lock);
    p->closing = true;
    sdk_buf *kept = p->free_list;
    p->free_list = NULL;
    while (p->out)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
    while (kept) {
        sdk_buf *next = kept->next;
        buf_free(kept);
        kept = next;
    }
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->lock);
    free(p);
    *pool = NULL;
}

sdk_buf *sdk_buf_get(sdk_bufpool *p, size_t size)
{
    sdk_buf *b = NULL;
    pthread_mutex_lock(&p->lock);
    /* The smallest kept buffer that fits, so a small frame does not take a large buffer
     * that the next large frame needs; one of exactly the size ends the search (a game's
     * frames mostly have one size). */
    sdk_buf **best = NULL;
    for (sdk_buf **at = &p->free_list; *at; at = &(*at)->next) {
        if ((*at)->capacity >= size && (!best || (*at)->capacity < (*best)->capacity))
            best = at;
        if ((*at)->capacity == (size ? size : 1))
            break;
    }
    if (best) {
        b = *best;
        *best = b->next;
        p->kept_bytes -= b->capacity;
        p->out++;
    }
    pthread_mutex_unlock(&p->lock);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return NULL;
        b->capacity = size ? size : 1;
        b->data = malloc(b->capacity);
        if (!b->data) {
            free(b);
            return NULL;
        }
        b->pool = p;
        pthread_mutex_lock(&p->lock);
        p->allocs++;
        p->held_bytes += b->capacity;
        p->out++;
        pthread_mutex_unlock(&p->lock);
    }
    b->size = size;
    b->next = NULL;
    atomic_init(&b->refs, 1);
    return b;
}

sdk_buf *sdk_buf_lend(sdk_bufpool *p, const void *data, size_t size, p2c2r_release_fn *release,
                      void *arg)
{
    sdk_buf *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->data = (uint8_t *)data;
    b->size = size;
    b->pool = p;
    b->lent = true;
    b->release = release;
    b->release_arg = arg;
    atomic_init(&b->refs, 1);
    pthread_mutex_lock(&p->lock);
    p->out++;
    pthread_mutex_unlock(&p->lock);
    return b;
}

void sdk_buf_lend_cancel(sdk_buf *b)
{
    b->release = NULL;
}

uint8_t *sdk_buf_data(sdk_buf *b)
{
    return b->data;
}

size_t sdk_buf_size(const sdk_buf *b)
{
    return b->size;
}

sdk_buf *sdk_buf_ref(sdk_buf *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void sdk_buf_unref(sdk_buf **buf)
{
    if (!buf || !*buf)
        return;
    sdk_buf *b = *buf;
    *buf = NULL;
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    sdk_bufpool *p = b->pool;
    if (b->lent) {
        if (b->release)
            b->release(b->release_arg, b->data);
        free(b);
        b = NULL;
    }
    pthread_mutex_lock(&p->lock);
    if (b && !p->closing && p->kept_bytes + b->capacity <= p->keep_bytes) {
        b->next = p->free_list;
        p->free_list = b;
        p->kept_bytes += b->capacity;
        b = NULL;
    } else if (b) {
        p->held_bytes -= b->capacity;
    }
    /* The last access to the pool: destroy may free it as soon as out reaches 0. */
    if (--p->out == 0)
        pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->lock);
    if (b)
        buf_free(b);
}

void sdk_buf_zmq_free(void *data, void *hint)
{
    (void)data;
    sdk_buf *b = hint;
    sdk_buf_unref(&b);
}

void sdk_bufpool_counts(sdk_bufpool *p, uint64_t *allocs, uint64_t *bytes)
{
    pthread_mutex_lock(&p->lock);
    *allocs = p->allocs;
    *bytes = p->held_bytes;
    pthread_mutex_unlock(&p->lock);
}
