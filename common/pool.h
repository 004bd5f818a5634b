/* pool: a small fork-join thread pool that shares one frame's work between cores.
 *
 * A caller hands the pool `count` independent pieces of work (bands of rows) and waits for
 * all of them; the calling thread takes pieces too, so a pool of N threads starts N - 1
 * helpers and a frame uses up to N cores. Several callers may run batches at once (a peer
 * has several slots, one frame each): helpers take pieces from the oldest batch first, and
 * a caller only ever runs pieces of its own batch, so a frame never waits behind another
 * frame's work it did not ask for. Pieces are claimed in index order, which keeps
 * neighbouring bands on neighbouring cores in time.
 *
 * Hand-offs go through one mutex and two condition variables rather than inproc sockets:
 * a piece is a band of a frame (tens of microseconds to milliseconds), and a batch must
 * start on all cores within microseconds, which a mutex/condvar pair does with no copies.
 * The pool's threads own nothing of the work: each piece brings its arguments, and any
 * scratch memory a piece needs is its own.
 */
#ifndef P2C2R_POOL_H
#define P2C2R_POOL_H

#include <stdint.h>

typedef struct p2c2r_pool p2c2r_pool;

/* One piece of work: fn(arg, index) for index in [0, count). */
typedef void p2c2r_pool_fn(void *arg, uint32_t index);

/* A pool that runs a batch on up to `threads` threads (the caller and threads - 1 helpers
 * started here), 1..256. NULL when out of memory or when a thread cannot start. */
p2c2r_pool *p2c2r__pool_new(uint32_t threads);

/* Stop the helpers (after the pieces already claimed) and free the pool. No batch may be
 * running. Accepts NULL; sets *pool to NULL. */
void p2c2r__pool_destroy(p2c2r_pool **pool);

/* Threads a batch can use, the caller included; 1 for a NULL pool. */
uint32_t p2c2r__pool_threads(const p2c2r_pool *pool);

/* Run fn(arg, i) for every i in [0, count), on this thread and the pool's helpers, and
 * return once all have returned. A NULL pool runs them here, in order. Thread-safe: any
 * number of threads may run batches on one pool at once. fn must not run a batch itself. */
void p2c2r__pool_run(p2c2r_pool *pool, p2c2r_pool_fn *fn, void *arg, uint32_t count);

/* As p2c2r__pool_run(), but the calling thread first runs first(first_arg) while the
 * helpers already start on the pieces, and takes pieces once it returns. For work whose
 * pieces wait on what `first` produces (rows of a frame being decoded): the helpers
 * overlap with it, and with no helpers `first` simply runs before the pieces, so a piece
 * that waits for it never waits forever. */
void p2c2r__pool_run_after(p2c2r_pool *pool, void (*first)(void *first_arg), void *first_arg,
                           p2c2r_pool_fn *fn, void *arg, uint32_t count);

#endif /* P2C2R_POOL_H */
