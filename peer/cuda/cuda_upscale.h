/* cuda_upscale: the upscale kernels on a CUDA device, the GPU twins of common/upscale.
 *
 * A plan (common/upscale/upscale.h) describes one (format, size, scale, mode); its device
 * copy, a peer_cuda_plan, holds what the kernels read (the polyphase filter and the
 * per-plane geometry; the quality mode's position tables) in device memory, uploaded once
 * and kept resident by peer/cuda/tables.h. The kernels compute the very same integer
 * formula as the CPU's separable kernels (separable.c), so fast, bicubic and lanczos
 * outputs are identical byte for byte to the CPU's; the quality mode is float code and
 * its tolerance against quality.c is stated in quality.cu and checked by the gpu suite.
 *
 * Images live in device memory as planes, one pitch each. Launchers do the grid maths,
 * check their arguments and return errors (P2C2R_E_INVAL, P2C2R_E_CUDA-like failures as
 * P2C2R_E_INTERNAL with the CUDA error logged); they never exit and never synchronise:
 * work is queued on the caller's stream. Kernels guard their bounds, so no size needs to
 * be a multiple of a block.
 *
 * This header compiles as C: the executor that calls it is C code.
 */
#ifndef P2C2R_PEER_CUDA_UPSCALE_H
#define P2C2R_PEER_CUDA_UPSCALE_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* the common/ headers are C and say nothing of C++ themselves */
#endif

#include "common/upscale/upscale.h"

/* A plan's tables in device memory. Immutable once uploaded; any stream may use it. */
typedef struct peer_cuda_plan peer_cuda_plan;

/* Up to three planes in device memory (Y, Cb, Cr, or the single plane). */
typedef struct peer_cuda_planes {
    uint8_t *data[3];   /* first sample of each plane, device pointers */
    size_t pitch[3];    /* bytes from one row to the next */
    uint32_t width[3];  /* pixels per row of each plane */
    uint32_t height[3]; /* rows of each plane */
    uint32_t nplanes;   /* 1 or 3 */
} peer_cuda_planes;

/* Copy plan's tables to the current device, on stream (the copy may still be running when
 * this returns; work queued on the same stream after it sees the tables). *out owns the
 * device memory. P2C2R_E_NOMEM (host or device), P2C2R_E_INTERNAL for another CUDA error. */
int peer_cuda_plan_upload(const p2c2r_upscale_plan *plan, cudaStream_t stream,
                          peer_cuda_plan **out);
/* Free the device copy. The caller makes sure no queued kernel still reads it. Accepts
 * NULL; sets *plan to NULL. */
void peer_cuda_plan_destroy(peer_cuda_plan **plan);
/* Device bytes the copy holds (what the resident cache counts). */
size_t peer_cuda_plan_bytes(const peer_cuda_plan *plan);

/* The plane sizes of the plan's source and output images, as p2c2r__image_alloc() makes
 * them (chroma of an odd side rounded up). */
void peer_cuda_plan_geometry(const peer_cuda_plan *plan, peer_cuda_planes *src,
                             peer_cuda_planes *dst);

/* Queue the upscale of src into dst on stream: every plane, whole image. src and dst must
 * have the plan's geometry. P2C2R_E_INVAL on a mismatch, P2C2R_E_INTERNAL when a launch
 * fails. */
int peer_cuda_upscale(const peer_cuda_plan *plan, const peer_cuda_planes *src,
                      const peer_cuda_planes *dst, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* P2C2R_PEER_CUDA_UPSCALE_H */
