/* tables: the upscale plans resident on one CUDA device, bounded in device bytes, least
 * recently used out first. The GPU side of "models resident" (the CPU side is
 * common/upscale/plan_cache.h): a peer keeps one per device for all its worker threads,
 * so a stream of frames of one size uploads its tables once.
 *
 * Thread-safe; each worker thread brings its own stream. A get hands out an entry holding
 * a reference; the entry's device copy is never freed while referenced, even if the cache
 * evicts it meanwhile (it is then freed with its last reference). Since kernels run after
 * the call that queued them returns, a reference is dropped either when the caller knows
 * its stream is done with it (peer_cuda_tables_put()) or at the point its stream reaches
 * (peer_cuda_tables_put_after()).
 *
 * A new plan is uploaded outside the cache's lock on the stream of the thread that asked
 * first; another thread asking for it meanwhile waits for that upload to be queued, then
 * orders its own stream after the copy (an event), and is not charged with the upload.
 * Every get says whether it uploaded and how long that took, so the first use of a plan
 * is measured apart from the steady state.
 */
#ifndef P2C2R_PEER_CUDA_TABLES_H
#define P2C2R_PEER_CUDA_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_upscale.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct peer_cuda_tables peer_cuda_tables;
/* One reference to a resident plan. */
typedef struct peer_cuda_entry peer_cuda_entry;

/* What one get did. */
typedef struct peer_cuda_get_info {
    int uploaded;       /* 1: the plan was not resident and this call uploaded it */
    uint64_t upload_ns; /* host time of that upload: building the tables, cudaMalloc, and
                           queueing the copy (staged from pageable memory before the call
                           returns); 0 when resident */
} peer_cuda_get_info;

/* A cache for `device` holding at most max_bytes of plans (as peer_cuda_plan_bytes()
 * counts them); NULL when out of memory. */
peer_cuda_tables *peer_cuda_tables_new(int device, size_t max_bytes);
/* Free every plan. Every entry must have been put, and the streams that put entries with
 * peer_cuda_tables_put_after() synchronised. Accepts NULL; sets *tables to NULL. */
void peer_cuda_tables_destroy(peer_cuda_tables **tables);

/* The device copy of plan, resident or uploaded now on stream (the cache's device is made
 * current on the calling thread); work the caller queues on stream afterwards sees it.
 * Evicts the least recently used plans past the bound; a plan bigger than the whole bound
 * is handed out but not kept. info may be NULL. Errors as peer_cuda_plan_upload(). */
int peer_cuda_tables_get(peer_cuda_tables *tables, const p2c2r_upscale_plan *plan,
                         cudaStream_t stream, peer_cuda_entry **entry, peer_cuda_get_info *info);
/* The plan of an entry. */
const peer_cuda_plan *peer_cuda_entry_plan(const peer_cuda_entry *entry);

/* Drop the reference now: nothing queued may still read the plan. Sets *entry to NULL. */
void peer_cuda_tables_put(peer_cuda_tables *tables, peer_cuda_entry **entry);
/* Drop the reference once the work queued on stream so far has finished (a host function
 * queued on stream; if that cannot be queued, this synchronises stream and drops it).
 * Sets *entry to NULL. */
void peer_cuda_tables_put_after(peer_cuda_tables *tables, peer_cuda_entry **entry,
                                cudaStream_t stream);

/* Copy the names of the plans resident, most recently used first, into names[0..max);
 * returns how many are resident (which may be more than max). */
size_t peer_cuda_tables_list(peer_cuda_tables *tables, char (*names)[P2C2R_UPSCALE_NAME_MAX],
                             size_t max);
/* Device bytes of the plans resident. */
size_t peer_cuda_tables_bytes(peer_cuda_tables *tables);

#ifdef __cplusplus
}
#endif

#endif /* P2C2R_PEER_CUDA_TABLES_H */
