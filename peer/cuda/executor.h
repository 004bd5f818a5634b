/* executor (CUDA): the executor (peer/executor.h) of one CUDA device.
 *
 * Per slot (worker thread): one stream, four events to time its copies and kernels,
 * pinned host buffers for the decoded source and the output, and device buffers for both,
 * allocated at the first frame and grown only when a bigger one comes (never one
 * cudaMalloc per frame). Per frame, on the slot's thread:
 *   decode (JPEG rows, raw or zstd) straight into pinned memory
 *   -> copy in -> peer_cuda_upscale() -> copy out, queued on the slot's stream
 *   -> wait for the stream (blocking, not spinning: the cores are the JPEG codec's)
 *   -> encode on the peer's pool (JPEG cut into bands, common/jpegband.h), raw or zstd.
 * JPEG output of the YUV and grey formats is instead encoded on the device
 * (jpeg_encode.h) right after the kernels, and only the bitstream is copied back; on any
 * error of that encoder the planes are copied back and encoded on the CPU as above.
 * P2C2R_CUDA_JPEG=off in the peer's environment keeps every encode on the CPU.
 * While one slot waits on its stream, the other slots decode and encode on the CPU, so
 * the copies and kernels of one frame overlap the codec work of the others.
 *
 * Tables come from the device's resident cache (tables.h), shared by the slots; a plan's
 * first use is timed apart (Timing.tables_us). A frame the device cannot take (a JPEG
 * layout the row decoder does not give, a plan the kernels refuse, device memory
 * exhausted) runs on the CPU executor's slot that each CUDA slot keeps beside its own.
 */
#ifndef P2C2R_PEER_CUDA_EXECUTOR_H
#define P2C2R_PEER_CUDA_EXECUTOR_H

#include <stddef.h>

#include "peer/device.h"
#include "peer/executor.h"

struct peer_resources;

/* Bytes of filter tables one device keeps resident. */
#define PEER_CUDA_TABLE_BYTES (64u * 1024 * 1024)

extern const peer_executor_ops peer_executor_cuda;

/* Make ex the executor of device d for the slots of res: its resident tables. On error
 * why says what failed (P2C2R_E_NOMEM, P2C2R_E_INTERNAL for a CUDA error). */
int peer_cuda_executor_open(peer_executor *ex, const peer_device *d,
                            const struct peer_resources *res, char *why, size_t why_size);

#endif /* P2C2R_PEER_CUDA_EXECUTOR_H */
