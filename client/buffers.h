/* buffers: the memory a submitted frame lives in, reused from frame to frame.
 *
 * A game submits frames of the same few sizes sixty times a second. Allocating a fresh
 * buffer of megabytes for each would make glibc map and unmap it every time (page faults
 * on the game thread's copy), so a frame's copy goes into a buffer kept from an earlier
 * frame: the free buffer with the smallest capacity that fits, or a new one. A lent buffer
 * (p2c2r_submit_upscale_lent()) is the caller's own memory, wrapped so that the same code
 * reads it and the caller's release function runs when the last reader lets go.
 *
 * Buffers are reference-counted because their readers finish in any order on different
 * threads: the I/O thread's task, the ZeroMQ messages still queued for sending (ZeroMQ
 * calls back from its own thread once written), the local fallback. Free buffers are kept
 * while they fit in the pool's byte bound; the pool itself lives until its last buffer
 * comes back, so a late release from ZeroMQ never touches freed memory, and
 * sdk_bufpool_destroy() waits for that.
 */
#ifndef P2C2R_CLIENT_BUFFERS_H
#define P2C2R_CLIENT_BUFFERS_H

#include <stddef.h>
#include <stdint.h>

#include "p2c2r.h"

typedef struct sdk_bufpool sdk_bufpool;
typedef struct sdk_buf sdk_buf;

/* A pool keeping at most keep_bytes of free buffers. NULL when out of memory. */
sdk_bufpool *sdk_bufpool_new(size_t keep_bytes);
/* Drop the pool: free what it keeps and wait until every buffer handed out has come back
 * (their last references are dropped by other threads). Accepts NULL; sets *pool to NULL. */
void sdk_bufpool_destroy(sdk_bufpool **pool);

/* A buffer of at least size bytes (size 0 allowed) holding one reference, reused when one
 * fits. NULL when out of memory. */
sdk_buf *sdk_buf_get(sdk_bufpool *pool, size_t size);
/* Wrap the caller's memory; release(arg, data) runs once the last reference is dropped.
 * Counted by the pool like its own, so destroy waits for it too. NULL when out of memory
 * (release not called). */
sdk_buf *sdk_buf_lend(sdk_bufpool *pool, const void *data, size_t size, p2c2r_release_fn *release,
                      void *arg);

/* Forget a lent buffer's release function: the submit it was lent for failed, and the
 * caller keeps its memory without a call. */
void sdk_buf_lend_cancel(sdk_buf *buf);

/* The bytes and their count. A pooled buffer's bytes may be written by the holder of the
 * only reference. */
uint8_t *sdk_buf_data(sdk_buf *buf);
size_t sdk_buf_size(const sdk_buf *buf);

/* Take one more reference. Thread-safe. */
sdk_buf *sdk_buf_ref(sdk_buf *buf);
/* Drop one reference; the last returns a pooled buffer to its pool (or frees it) and
 * releases a lent one. Thread-safe. Accepts NULL; sets *buf to NULL. */
void sdk_buf_unref(sdk_buf **buf);
/* The same with ZeroMQ's free-function signature (data is ignored, hint is the buffer),
 * for messages that send a buffer without copying it. */
void sdk_buf_zmq_free(void *data, void *hint);

/* Buffers allocated so far, and bytes held now (in use or kept). */
void sdk_bufpool_counts(sdk_bufpool *pool, uint64_t *allocs, uint64_t *bytes);

#endif /* P2C2R_CLIENT_BUFFERS_H */
