/* pool: see pool.h.
 *
 * Batches live on their callers' stacks and are linked into the pool's list for as long as
 * they run. A piece is claimed under the mutex (next++) and run outside it; the thread that
 * finishes the last piece of a batch wakes the callers. Callers wait on their own batch's
 * `finished` count, so a batch is unlinked only by its caller and only after every piece
 * has returned: no helper can touch a batch that is gone.
 */
#include "common/pool.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define POOL_MAX_THREADS 256

typedef struct pool_batch {
    p2c2r_pool_fn *fn;       /* the work */
    void *arg;               /* its argument */
    uint32_t count;          /* pieces in all */
    uint32_t next;           /* next piece to claim */
    uint32_t finished;       /* pieces that have returned */
    struct pool_batch *link; /* next batch in the pool's list */
} pool_batch;

struct p2c2r_pool {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t work;  /* a batch was added, or stop */
    pthread_cond_t done;  /* some batch finished its last piece */
    pool_batch *batches;  /* running batches, oldest first */
    bool stop;            /* helpers exit when set */
    uint32_t threads;     /* caller + helpers */
    uint32_t started;     /* helpers running */
    pthread_t *helpers;   /* threads - 1 of them */
};

/* The oldest batch with a piece left to claim, or NULL. Lock held. */
static pool_batch *pool_claimable(p2c2r_pool *pool)
{
    for (pool_batch *b = pool->batches; b; b = b->link)
        if (b->next < b->count)
            return b;
    return NULL;
}

/* Run piece `index` of b, then count it as finished. Called with the lock held; runs the
 * piece without it. */
static void pool_run_piece(p2c2r_pool *pool, pool_batch *b, uint32_t index)
{
    pthread_mutex_unlock(&pool->lock);
    b->fn(b->arg, index);
    pthread_mutex_lock(&pool->lock);
    if (++b->finished == b->count)
        pthread_cond_broadcast(&pool->done);
}

static void *pool_helper(void *arg)
{
    p2c2r_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        pool_batch *b = pool_claimable(pool);
        if (b) {
            pool_run_piece(pool, b, b->next++);
            continue;
        }
        if (pool->stop)
            break;
        pthread_cond_wait(&pool->work, &pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

p2c2r_pool *p2c2r__pool_new(uint32_t threads)
{
    if (threads < 1 || threads > POOL_MAX_THREADS)
        return NULL;
    p2c2r_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->threads = threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->done, NULL);
    if (threads > 1) {
        pool->helpers = calloc(threads - 1, sizeof *pool->helpers);
        if (!pool->helpers)
            goto fail;
    }
    for (uint32_t i = 0; i + 1 < threads; i++) {
        if (pthread_create(&pool->helpers[i], NULL, pool_helper, pool) != 0)
            goto fail;
        pool->started++;
    }
    return pool;
fail:
    p2c2r__pool_destroy(&pool);
    return NULL;
}

void p2c2r__pool_destroy(p2c2r_pool **pp)
{
    if (!pp || !*pp)
        return;
    p2c2r_pool *pool = *pp;
    pthread_mutex_lock(&pool->lock);
    assert(!pool->batches);
    pool->stop = true;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    for (uint32_t i = 0; i < pool->started; i++)
        pthread_join(pool->helpers[i], NULL);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->lock);
    free(pool->helpers);
    free(pool);
    *pp = NULL;
}

uint32_t p2c2r__pool_threads(const p2c2r_pool *pool)
{
    return pool ? pool->threads : 1;
}

void p2c2r__pool_run_after(p2c2r_pool *pool, void (*first)(void *first_arg), void *first_arg,
                           p2c2r_pool_fn *fn, void *arg, uint32_t count)
{
    if (!pool || pool->threads == 1 || count == 0) {
        if (first)
            first(first_arg);
        for (uint32_t i = 0; i < count; i++)
            fn(arg, i);
        return;
    }
    pool_batch b = {.fn = fn, .arg = arg, .count = count};
    pthread_mutex_lock(&pool->lock);
    pool_batch **tail = &pool->batches;
    while (*tail)
        tail = &(*tail)->link;
    *tail = &b;
    pthread_cond_broadcast(&pool->work);
    if (first) {
        pthread_mutex_unlock(&pool->lock);
        first(first_arg);
        pthread_mutex_lock(&pool->lock);
    }
    while (b.next < b.count)
        pool_run_piece(pool, &b, b.next++);
    while (b.finished < b.count)
        pthread_cond_wait(&pool->done, &pool->lock);
    for (tail = &pool->batches; *tail != &b; tail = &(*tail)->link)
        ;
    *tail = b.link;
    pthread_mutex_unlock(&pool->lock);
}

void p2c2r__pool_run(p2c2r_pool *pool, p2c2r_pool_fn *fn, void *arg, uint32_t count)
{
    if (!pool || pool->threads == 1 || count <= 1) {
        for (uint32_t i = 0; i < count; i++)
            fn(arg, i);
        return;
    }
    p2c2r__pool_run_after(pool, NULL, NULL, fn, arg, count);
}
