/* quality: the QUALITY mode's luma plane on a CUDA device (edge-adaptive upsampling, then
 * contrast-adaptive sharpening: see common/upscale/quality.h). Its chroma and RGB planes
 * are Lanczos-3, run by lanczos.cu's kernel.
 *
 * One block makes a CUK_Q_TH x CUK_Q_TW output tile in two phases: the upsampled values
 * of the tile and a one-pixel ring around it (positions outside the plane clamped to its
 * edge, as quality.c takes its neighbours) into shared memory, then the sharpening of
 * each tile pixel from there.
 *
 * Tolerance: none. The per-pixel functions are quality.c's own source
 * (common/upscale/quality_pixel.h, compiled here as __host__ __device__), in float, and
 * this file is compiled with -fmad=false (no fused multiply-add, which baseline x86-64 C
 * code never uses either), IEEE division and square root, so the device computes every
 * intermediate value exactly as the CPU does; the tests compare byte for byte.
 */
#include <math.h>

#include "separable.cuh"

#include "common/upscale/quality_pixel.h"

struct cuk_quality {
    static constexpr int TW = CUK_Q_TW, TH = CUK_Q_TH, THREADS = CUK_Q_THREADS;
    static constexpr int EW = TW + 2; /* shared row: the tile and one pixel each side */

    struct smem {
        float e[TH + 2][EW]; /* upsampled, before sharpening */
    };

    static CUK_HD cuk_tile tile(const cuk_plan *plan, uint32_t block)
    {
        return cuk_tile_of(plan, 0, 0, block, TW, TH, 0);
    }

    /* Upsampled value of every pixel of the tile and its ring. */
    static CUK_HD void easu(const cuk_plan *plan, const cuk_io *io, const cuk_tile &t, uint32_t tid,
                            smem *sm)
    {
        const cuk_plane *pl = &plan->plane[0];
        const uint8_t *src = io->src[0];
        size_t pitch = io->spitch[0];
        int32_t w = t.x1 - t.x0 + 2, n = w * (t.y1 - t.y0 + 2);
        for (int32_t idx = (int32_t)tid; idx < n; idx += THREADS) {
            int32_t ty = idx / w, tx = idx - ty * w;
            int32_t y = cuk_clampi(t.y0 - 1 + ty, 0, (int32_t)pl->dh - 1);
            int32_t x = cuk_clampi(t.x0 - 1 + tx, 0, (int32_t)pl->dw - 1);
            const int32_t *cx = pl->qcols + (size_t)x * 4, *ry = pl->qrows + (size_t)y * 4;
            float v[4][4];
            for (int k = 0; k < 4; k++) {
                const uint8_t *r = src + (size_t)ry[k] * pitch;
                for (int c = 0; c < 4; c++)
                    v[k][c] = r[cx[c]];
            }
            sm->e[ty][tx] = upscale_easu_pixel(v, pl->qfx[x], pl->qfy[y]);
        }
    }

    /* Sharpen the tile's pixels. */
    static CUK_HD void rcas(const cuk_io *io, const cuk_tile &t, uint32_t tid, const smem *sm)
    {
        uint8_t *dst = io->dst[0];
        size_t pitch = io->dpitch[0];
        int32_t w = t.x1 - t.x0, n = w * (t.y1 - t.y0);
        for (int32_t idx = (int32_t)tid; idx < n; idx += THREADS) {
            int32_t yo = idx / w, xo = idx - yo * w;
            const float *c = sm->e[yo + 1];
            dst[(size_t)(t.y0 + yo) * pitch + t.x0 + xo] = upscale_rcas_pixel(
                sm->e[yo][xo + 1], c[xo], c[xo + 1], c[xo + 2], sm->e[yo + 2][xo + 1]);
        }
    }

    static int emulate(const cuk_plan *plan, const cuk_io *io, uint32_t first)
    {
        (void)first;
        smem *sm = (smem *)calloc(1, sizeof(smem));
        if (!sm)
            return P2C2R_E_NOMEM;
        for (uint32_t b = 0; b < plan->plane[0].tiles; b++) {
            cuk_tile t = tile(plan, b);
            for (uint32_t tid = 0; tid < THREADS; tid++)
                easu(plan, io, t, tid, sm);
            for (uint32_t tid = 0; tid < THREADS; tid++)
                rcas(io, t, tid, sm);
        }
        free(sm);
        return P2C2R_OK;
    }
};

__global__ void __launch_bounds__(CUK_Q_THREADS)
    cuk_quality_kernel(const cuk_plan *__restrict__ plan, cuk_io io)
{
    __shared__ cuk_quality::smem sm;
    cuk_tile t = cuk_quality::tile(plan, blockIdx.x);
    cuk_quality::easu(plan, &io, t, threadIdx.x, &sm);
    __syncthreads();
    cuk_quality::rcas(&io, t, threadIdx.x, &sm);
}

static int cuk_quality_launch(const cuk_plan *host, const cuk_plan *dev, const cuk_io *io,
                              uint32_t first, cudaStream_t stream)
{
    (void)first;
    cuk_quality_kernel<<<host->plane[0].tiles, cuk_quality::THREADS, 0, stream>>>(dev, *io);
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? P2C2R_OK : cuk_fail("quality kernel launch", err);
}

const cuk_mode_ops cuk_quality_ops = {
    .launch = cuk_quality_launch,
    .emulate = cuk_quality::emulate,
};
