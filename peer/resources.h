/* resources: what one peer process shares between its workers (slots): the thread pool a
 * single frame's work is cut into bands on, the cache of upscale filter tables (the CPU's
 * resident "models"), the SIMD level its kernels run with, and the executors (executor.h)
 * its frames run on: the CPU's, or one per GPU, the slots spread across them.
 *
 * Slots (frames in flight) and threads per frame are separate settings: each slot's
 * worker thread runs its frame's serial parts (decode) itself and shares the parallel
 * parts (resampling, encoding) with the pool, whose threads - 1 helpers serve every slot,
 * so the peer never runs more than slots + threads - 1 busy threads.
 */
#ifndef P2C2R_PEER_RESOURCES_H
#define P2C2R_PEER_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "common/pool.h"
#include "common/upscale/plan_cache.h"
#include "common/upscale/upscale.h"
#include "peer/executor.h"

/* Bytes of filter tables a peer keeps resident. A 1080p -> 4K Lanczos plan is ~80 KB, so
 * this holds every size a peer is likely to see. */
#define PEER_TABLE_CACHE_BYTES (16u * 1024 * 1024)

/* Most devices (executors) one peer drives. */
#define PEER_MAX_EXECUTORS 16

typedef struct peer_resources {
    p2c2r_pool *pool;             /* threads one frame's work is shared between */
    p2c2r_upscale_cache *tables;  /* filter tables resident on this peer */
    p2c2r_simd simd;              /* instruction set the kernels run with */
    uint32_t threads;             /* threads per frame, the calling worker included */
    struct peer_metrics *metrics; /* where tasks are counted (NULL: not served) */
    peer_executor executors[PEER_MAX_EXECUTORS]; /* one per device; slot s runs on
                                                    executors[s % nexecutors] */
    uint32_t nexecutors;                         /* at least 1 */
} peer_resources;

/* Start the pool (threads per frame, 1..256), make an empty table cache, and run on the
 * CPU executor (peer/runtime.h may replace it). P2C2R_E_NOMEM (or P2C2R_E_INVAL for a bad
 * thread count); on failure nothing is held. */
int peer_resources_init(peer_resources *r, uint32_t threads);
/* Stop the pool, drop the tables, finish the executors. No slot may be left. Safe on a
 * zeroed struct. */
void peer_resources_fini(peer_resources *r);

/* The executor slot s runs on. */
peer_executor *peer_resources_executor(const peer_resources *r, uint32_t s);

/* Names of the filter tables held now where frames run (the devices' when the executors
 * keep their own, else the plan cache's), copied into names[0..max); returns how many are
 * held (may exceed max). Thread-safe. */
size_t peer_resources_resident(const peer_resources *r, char (*names)[P2C2R_UPSCALE_NAME_MAX],
                               size_t max);

#endif /* P2C2R_PEER_RESOURCES_H */
