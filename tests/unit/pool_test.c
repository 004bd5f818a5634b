/* pool_test: every piece of a batch runs exactly once, batches from several threads at
 * once do not mix, and a pool of one thread or none runs pieces in order. */
#include <pthread.h>
#include <string.h>

#include "common/pool.h"
#include "testutil.h"

#define PIECES 1000

typedef struct batch {
    int runs[PIECES]; /* times each piece ran (atomic) */
    int order_ok;     /* pieces ran in order (for a serial pool) */
    int last;         /* last piece run (serial pool) */
} batch;

static void piece(void *arg, uint32_t i)
{
    batch *b = arg;
    __atomic_add_fetch(&b->runs[i], 1, __ATOMIC_RELAXED);
    if ((int)i != b->last + 1)
        b->order_ok = 0;
    b->last = (int)i;
}

static void check_batch(const batch *b)
{
    for (int i = 0; i < PIECES; i++)
        CHECK(b->runs[i] == 1);
}

typedef struct caller {
    p2c2r_pool *pool; /* shared */
    batch b;          /* this caller's */
} caller;

static void *run_caller(void *arg)
{
    caller *c = arg;
    for (int k = 0; k < 20; k++) {
        memset(&c->b, 0, sizeof c->b);
        c->b.last = -1;
        p2c2r__pool_run(c->pool, piece, &c->b, PIECES);
        check_batch(&c->b);
    }
    return NULL;
}

int main(void)
{
    batch b = {.order_ok = 1, .last = -1};
    p2c2r__pool_run(NULL, piece, &b, PIECES);
    check_batch(&b);
    CHECK(b.order_ok);
    CHECK(p2c2r__pool_threads(NULL) == 1);
    CHECK(p2c2r__pool_new(0) == NULL);

    p2c2r_pool *pool = p2c2r__pool_new(4);
    CHECK(pool && p2c2r__pool_threads(pool) == 4);
    caller callers[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        callers[i].pool = pool;
        CHECK(pthread_create(&t[i], NULL, run_caller, &callers[i]) == 0);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    p2c2r__pool_run(pool, piece, &b, 0);
    p2c2r__pool_destroy(&pool);
    p2c2r__pool_destroy(&pool);
    return testutil_finish("pool_test");
}
