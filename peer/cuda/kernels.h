/* kernels: what the files of peer/cuda share: the plan as the kernels read it, the tile
 * geometry, the per-mode launchers, and the host emulation of the kernels.
 *
 * A cuk_plan is one block of memory (the header below, then the quality mode's position
 * tables) built once on the host by cuk_plan_build() and either copied to the device (a
 * peer_cuda_plan's resident copy) or kept on the host for the emulation. Its table
 * pointers are rebased to wherever the block lives, so the kernels read the same layout in
 * both places.
 *
 * Each kernel is written as phases of per-thread work, __host__ __device__ functions of
 * (block index, thread index, plan, images, shared tile) separated where the kernel calls
 * __syncthreads(). The __global__ kernel calls them in order; the emulation
 * (peer_cuda_emulate()) calls the very same functions on host memory for every block,
 * phase by phase, for every thread of the block in turn. That is what the unit test
 * upscale_emulate_test checks against the CPU kernels, on any machine: the indexing, the
 * tiles, the bounds guards and the arithmetic. Only the launch itself needs a device.
 *
 * C-compatible: the unit test that drives the emulation is C.
 */
#ifndef P2C2R_PEER_CUDA_KERNELS_H
#define P2C2R_PEER_CUDA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_upscale.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output tile of one block of the separable kernels: CUK_SEP_TH(c) rows of CUK_SEP_TW(c)
 * pixels (64 rows of 128 one-channel pixels, or 32 of 64 RGB pixels: 192 samples). */
#define CUK_SEP_TH(c)      ((c) == 1 ? 64 : 32)
#define CUK_SEP_TW(c)      ((c) == 1 ? 128 : 64)
/* Output tile of the quality kernel (luma only). */
#define CUK_Q_TW           64
#define CUK_Q_TH           32
/* Threads of a block: separable kernels by channels, and the quality kernel. */
#define CUK_SEP_THREADS(c) ((c) == 1 ? 256 : 192)
#define CUK_Q_THREADS      256

/* One plane as the kernels see it. */
typedef struct cuk_plane {
    uint32_t sw, sh;      /* source plane size */
    uint32_t dw, dh;      /* output plane size */
    uint32_t channels;    /* 1, or 3 for RGB24 */
    uint32_t quality;     /* run by the quality kernel (luma of the QUALITY mode) */
    uint32_t tiles_x;     /* output tiles across */
    uint32_t tiles;       /* output tiles in all */
    uint32_t first;       /* tiles of the planes before this one */
    uint32_t pad_;        /* keeps the pointers 8-byte aligned */
    const int32_t *qcols; /* quality: dw * 4 clamped source columns, else NULL */
    const int32_t *qrows; /* quality: dh * 4 clamped source rows, else NULL */
    const float *qfx;     /* quality: dw fractions across, else NULL */
    const float *qfy;     /* quality: dh fractions down, else NULL */
} cuk_plane;

/* The header of a plan. */
typedef struct cuk_plan {
    uint32_t mode;        /* p2c2r_mode */
    uint32_t scale;       /* 1..8 */
    uint32_t taps;        /* of the separable filter: 2, 4 or 6 */
    uint32_t nplanes;     /* 1 or 3 */
    uint32_t rdiv;        /* ceil(2^31 / scale): x / scale by a multiply (separable.cuh) */
    int32_t offset[8];    /* first tap of each phase (plan.h's upscale_filter) */
    int16_t weight[8][6]; /* Q14 weights of each phase */
    cuk_plane plane[3];   /* per plane */
} cuk_plan;

/* The images of one launch: plane pointers (device, or host for the emulation). */
typedef struct cuk_io {
    const uint8_t *src[3]; /* source planes */
    uint8_t *dst[3];       /* output planes */
    size_t spitch[3];      /* source row pitch */
    size_t dpitch[3];      /* output row pitch */
    uint32_t vec_ok;       /* every output plane and pitch 16-byte aligned: vector stores */
} cuk_io;

/* Build the plan block for `plan` into mem (NULL: only measure), with its table pointers
 * as if the block lived at `base`. Returns the block's bytes. */
size_t cuk_plan_build(const p2c2r_upscale_plan *plan, void *mem, uintptr_t base);

/* How one mode runs planes [first, nplanes) of an image. */
typedef struct cuk_mode_ops {
    /* Queue the kernel on stream. dev is the device copy of host. P2C2R_E_INTERNAL when
     * the launch fails (logged). */
    int (*launch)(const cuk_plan *host, const cuk_plan *dev, const cuk_io *io, uint32_t first,
                  cudaStream_t stream);
    /* The same kernel on the host, block by block. P2C2R_E_NOMEM for the shared tile. */
    int (*emulate)(const cuk_plan *plan, const cuk_io *io, uint32_t first);
} cuk_mode_ops;

/* Separable modes, any plane; quality: only a plane with quality set. C++ linkage would do
 * for these, but they stay C like the rest of the header. */
extern const cuk_mode_ops cuk_fast_ops;
extern const cuk_mode_ops cuk_bicubic_ops;
extern const cuk_mode_ops cuk_lanczos_ops;
extern const cuk_mode_ops cuk_quality_ops;

/* Log a failed CUDA call (what, and the CUDA error's name) and return P2C2R_E_INTERNAL
 * (P2C2R_E_NOMEM for cudaErrorMemoryAllocation). */
int cuk_fail(const char *what, cudaError_t err);

/* A plan kept in host memory, for the emulation: same struct, same checks. */
int peer_cuda_plan_host(const p2c2r_upscale_plan *plan, peer_cuda_plan **out);
/* Run peer_cuda_upscale()'s kernels on the host: plan from peer_cuda_plan_host(), planes
 * in host memory. Same argument checks and errors as peer_cuda_upscale(). */
int peer_cuda_emulate(const peer_cuda_plan *plan, const peer_cuda_planes *src,
                      const peer_cuda_planes *dst);

#ifdef __cplusplus
}
#endif

#endif /* P2C2R_PEER_CUDA_KERNELS_H */
