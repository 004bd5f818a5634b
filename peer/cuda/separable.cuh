/* separable.cuh: the kernel of the separable modes (fast, bicubic, lanczos), a template on
 * the tap count and the channels, instantiated by fast.cu, bicubic.cu and lanczos.cu.
 *
 * One block makes one output tile of one plane: CUK_SEP_TH(c) rows of CUK_SEP_TW(c) pixels.
 * The planes of an image are one launch: block b is tile b + (tiles of the planes before),
 * so the small chroma planes take no idle blocks. The plan's header and the images are
 * kernel parameters. Three phases, separated by __syncthreads():
 *   load   the source bytes under the tile plus the filter's reach (taps / 2 each side)
 *          into shared memory, from a 16-byte boundary, 16 bytes per thread and row: one
 *          vector load inside the plane, clamped bytes at its edges;
 *   hpass  every source row of the tile filtered across once per output column, into a
 *          shared int32 tile: h = sum_u mulhrs(src << 7, w[p][u]), exactly separable.c's
 *          hpass (the CPU keeps its rows phase-major; the value of each is the same);
 *   vpass  each thread 16 output samples of a row, 4 words of 4 consecutive ones:
 *          v = sum_t mulhrs(h, w[q][t]), out = clamp(mulhrs(v, 1 << 10), 0, 255),
 *          separable.c's vpass, stored a word at a time when the planes are aligned.
 * So the output equals the CPU's byte for byte. x / scale is a multiply-high by the plan's
 * rdiv; the shared memory is sized by the scale (dynamic shared memory).
 */
#ifndef P2C2R_PEER_CUDA_SEPARABLE_CUH
#define P2C2R_PEER_CUDA_SEPARABLE_CUH

#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#ifdef __CUDACC__
#define CUK_HD __host__ __device__ __forceinline__
#else
#define CUK_HD inline
#endif
/* Loops over a compile-time count, unrolled on the device (the host compiler would warn
 * about the pragma). */
#ifdef __CUDA_ARCH__
#define CUK_UNROLL  _Pragma("unroll")
#define CUK_UNROLL1 _Pragma("unroll 1")
#define CUK_UNROLL4 _Pragma("unroll 4")
#else
#define CUK_UNROLL
#define CUK_UNROLL1
#define CUK_UNROLL4
#endif

/* PMULHRSW on one lane, as plan.h's upscale_mulhrs(). */
CUK_HD int32_t cuk_mulhrs(int32_t a, int32_t b)
{
    return (a * b + (1 << 14)) >> 15;
}

CUK_HD int32_t cuk_clampi(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Plane z of an image: a select rather than an index, so that the kernel parameter is
 * never copied to local memory. */
template <typename T> CUK_HD T cuk_pick(const T *a, uint32_t z)
{
    return z == 0 ? a[0] : z == 1 ? a[1] : a[2];
}

/* x / s for 0 <= x < 2^28 and s = 1..8, by the plan's rdiv = ceil(2^31 / s): one multiply-high
 * instead of a division. m * s = 2^31 + e with e < s, so x * m / 2^31 exceeds x / s by less
 * than x * e / 2^31 / s < 1 / s, which never reaches the next integer. */
CUK_HD int32_t cuk_div(int32_t x, uint32_t m)
{
#ifdef __CUDA_ARCH__
    return (int32_t)__umulhi((uint32_t)x << 1, m);
#else
    return (int32_t)(((uint64_t)((uint32_t)x << 1) * m) >> 32);
#endif
}

/* One block's tile: the plane, the output rectangle and the source rectangle under it. */
struct cuk_tile {
    uint32_t z;             /* plane */
    int32_t x0, y0, x1, y1; /* output pixels [x0, x1) x [y0, y1) */
    int32_t i0, j0;         /* source pixel of the shared tile's first column and row */
    int32_t ncols, nrows;   /* source pixels across and rows of the shared tile */
};

/* Which tile block `block` makes: tile0 is the first tile of the launch's first plane. */
CUK_HD cuk_tile cuk_tile_of(const cuk_plan *plan, uint32_t first, uint32_t tile0, uint32_t block,
                            int32_t tw, int32_t th, int32_t reach)
{
    cuk_tile t;
    uint32_t g = block + tile0, z = first;
    while (z + 1 < plan->nplanes && g >= plan->plane[z + 1].first)
        z++;
    const cuk_plane *pl = &plan->plane[z];
    uint32_t local = g - pl->first, ty = local / pl->tiles_x, tx = local - ty * pl->tiles_x;
    t.z = z;
    t.x0 = (int32_t)tx * tw;
    t.y0 = (int32_t)ty * th;
    t.x1 = t.x0 + tw < (int32_t)pl->dw ? t.x0 + tw : (int32_t)pl->dw;
    t.y1 = t.y0 + th < (int32_t)pl->dh ? t.y0 + th : (int32_t)pl->dh;
    t.i0 = cuk_div(t.x0, plan->rdiv) - reach;
    t.j0 = cuk_div(t.y0, plan->rdiv) - reach;
    t.ncols = cuk_div(t.x1 - 1, plan->rdiv) + reach - t.i0 + 1;
    t.nrows = cuk_div(t.y1 - 1, plan->rdiv) + reach - t.j0 + 1;
    return t;
}

/* 4 bytes to (global or shared) memory at a 4-byte-aligned address. */
CUK_HD void cuk_st4(uint8_t *p, uint32_t v)
{
#ifdef __CUDA_ARCH__
    *(uint32_t *)p = v;
#else
    memcpy(p, &v, 4);
#endif
}

/* Four values clamped to 0..255 into one little-endian word, v[0] lowest: two saturating
 * packs on the device. */
CUK_HD uint32_t cuk_pack4(const int32_t v[4])
{
#ifdef __CUDA_ARCH__
    uint32_t hi, w;
    asm("cvt.pack.sat.u8.s32.b32 %0, %1, %2, 0;" : "=r"(hi) : "r"(v[3]), "r"(v[2]));
    asm("cvt.pack.sat.u8.s32.b32 %0, %1, %2, %3;" : "=r"(w) : "r"(v[1]), "r"(v[0]), "r"(hi));
    return w;
#else
    uint32_t w = 0;
    for (int n = 0; n < 4; n++)
        w |= (uint32_t)cuk_clampi(v[n], 0, 255) << (8 * n);
    return w;
#endif
}

/* 4 words from 16-byte-aligned global or shared memory: one vector load on the device;
 * memcpy on the host, where a cast would break C++'s aliasing rules. */
template <typename T> CUK_HD void cuk_ld16(const T *p, T v[4])
{
    static_assert(sizeof(T) == 4, "words");
#ifdef __CUDA_ARCH__
    const uint4 a = *(const uint4 *)p;
    memcpy(v, &a, 16);
#else
    memcpy(v, p, 16);
#endif
}

/* 16 bytes to 16-byte-aligned shared memory. */
CUK_HD void cuk_st16(uint8_t *p, const uint32_t v[4])
{
#ifdef __CUDA_ARCH__
    *(uint4 *)p = make_uint4(v[0], v[1], v[2], v[3]);
#else
    memcpy(p, v, 16);
#endif
}

template <int TAPS, int C> struct cuk_sep {
    static constexpr int H = TAPS / 2;       /* filter reach, source pixels */
    static constexpr int TW = CUK_SEP_TW(C); /* output tile, pixels */
    static constexpr int TWS = TW * C;       /* output tile, samples */
    static constexpr int TH = CUK_SEP_TH(C); /* output tile, rows */
    static constexpr int THREADS = CUK_SEP_THREADS(C);
    static constexpr int RG = THREADS / TWS;    /* hpass: row groups */
    static constexpr int SPR = TWS / 16;        /* vpass: threads per row, 16 samples each */
    static constexpr int RSTEP = THREADS / SPR; /* vpass: rows done at once */
    /* Source bytes per shared row: the samples under the tile at scale 1 from a 16-byte
     * boundary on, in whole 16-byte pieces (at most 16 of them). */
    static constexpr int SC = ((TW + 2 * H) * C + 15 + 15) / 16 * 16;
    static_assert(THREADS % TWS == 0 && THREADS % SPR == 0 && TWS % 16 == 0, "tile shape");
    static_assert(SC <= 16 * 16 && THREADS % 16 == 0, "source row pieces");
    static_assert((TH + 1 + 2 * H) * (TWS * 4 + SC) <= 48 * 1024,
                  "shared memory at scale 1 within the default dynamic limit");

    /* The shared memory of a block, sized by the scale (the launch's dynamic shared
     * memory): rows source rows, each filtered across (h) and as loaded (src). */
    struct smem {
        int32_t *h;   /* [rows][TWS]: rows filtered across, per output sample */
        uint8_t *src; /* [rows][SC]: source samples from sample a0() of the tile's row */
    };

    /* Source rows under a tile of TH output rows at the plan's scale, at most. */
    static CUK_HD int32_t rows(const cuk_plan *plan)
    {
        return cuk_div(TH - 1, plan->rdiv) + 2 + 2 * H;
    }

    static CUK_HD size_t smem_bytes(const cuk_plan *plan)
    {
        return (size_t)rows(plan) * (TWS * sizeof(int32_t) + SC);
    }

    static CUK_HD smem smem_at(const cuk_plan *plan, void *mem)
    {
        smem sm;
        sm.h = (int32_t *)mem;
        sm.src = (uint8_t *)mem + (size_t)rows(plan) * TWS * sizeof(int32_t);
        return sm;
    }

    static CUK_HD cuk_tile tile(const cuk_plan *plan, uint32_t first, uint32_t tile0,
                                uint32_t block)
    {
        return cuk_tile_of(plan, first, tile0, block, TW, TH, H);
    }

    /* The source sample of the shared rows' first byte: the tile's first, rounded down to
     * a multiple of 16 (a floor, for the negative ones of the left edge). */
    static CUK_HD int32_t a0(const cuk_tile &t)
    {
        return (t.i0 * C) & ~15;
    }

    /* Each source row by 8 or 16 threads (as many as it has 16-byte pieces, rounded up to
     * one of those), each one piece: one 16-byte load where the piece lies inside the row
     * and the plane allows it, else 16 bytes each with its column clamped to the plane. */
    static CUK_HD void load(const cuk_plan *plan, const cuk_io *io, const cuk_tile &t, uint32_t tid,
                            const smem &sm)
    {
        const cuk_plane *pl = &plan->plane[t.z];
        const uint8_t *src = cuk_pick(io->src, t.z);
        size_t pitch = cuk_pick(io->spitch, t.z);
        int32_t b0 = a0(t), np = (t.i0 * C + t.ncols * C - b0 + 15) / 16;
        int32_t lg = np <= 8 ? 3 : 4, piece = (int32_t)tid & ((1 << lg) - 1);
        int32_t rowlen = (int32_t)pl->sw * C, b = b0 + 16 * piece;
        if (piece >= np)
            return;
        int vec = ((uintptr_t)src | (uintptr_t)pitch) % 16 == 0 && b >= 0 && b + 16 <= rowlen;
        for (int32_t r = (int32_t)tid >> lg; r < t.nrows; r += THREADS >> lg) {
            const uint8_t *row = src + (size_t)cuk_clampi(t.j0 + r, 0, (int32_t)pl->sh - 1) * pitch;
            uint8_t *to = sm.src + (size_t)r * SC + 16 * piece;
            if (vec) {
                uint32_t v[4];
                cuk_ld16((const uint32_t *)(row + b), v);
                cuk_st16(to, v);
                continue;
            }
            /* An edge piece: a word at a time (not unrolled further: the clamped
             * positions would stay in registers for every row). */
            CUK_UNROLL1
            for (int32_t q = 0; q < 4; q++) {
                uint32_t v = 0;
                CUK_UNROLL
                for (int32_t n = 0; n < 4; n++) {
                    /* col: a floor, e >= -16 * C */
                    int32_t e = b + 4 * q + n, col = (e + 16 * C) / C - 16, k = e - col * C;
                    v |= (uint32_t)row[cuk_clampi(col, 0, (int32_t)pl->sw - 1) * C + k] << (8 * n);
                }
                cuk_st4(to + 4 * q, v);
            }
        }
    }

    /* Each thread one output sample's column down the source rows of its row group:
     * h = sum_u mulhrs(src << 7, w[p][u]), where mulhrs(src << 7, w) = (src * w + 128) >> 8
     * (both shifts floor; 128 divides the numerator). Kept in int32: no sum leaves int16
     * (separable.c), so the CPU's int16 holds the same value. */
    static CUK_HD void hpass(const cuk_plan *plan, const cuk_tile &t, uint32_t tid, const smem &sm)
    {
        int32_t xo = (int32_t)tid % TWS, rg = (int32_t)tid / TWS;
        if (xo >= (t.x1 - t.x0) * C)
            return;
        int32_t s = (int32_t)plan->scale;
        int32_t x = t.x0 + xo / C, k = xo % C, i = cuk_div(x, plan->rdiv), p = x - i * s;
        const uint8_t *in = sm.src + (i + plan->offset[p]) * C + k - a0(t);
        int32_t *out = sm.h + xo;
        int32_t w[TAPS];
        CUK_UNROLL
        for (int u = 0; u < TAPS; u++)
            w[u] = plan->weight[p][u];
        int32_t n = (t.nrows - rg + RG - 1) / RG;
        in += rg * SC;
        out += rg * TWS;
        CUK_UNROLL4
        for (int32_t r = 0; r < n; r++) {
            int32_t acc = 0;
            CUK_UNROLL
            for (int u = 0; u < TAPS; u++)
                acc += ((int32_t)in[r * RG * SC + u * C] * w[u] + 128) >> 8;
            out[r * RG * TWS] = acc;
        }
    }

    /* Each thread 16 samples of a row, as 4 words SPR words apart (so that the threads of a
     * row read consecutive 16-byte pieces of it): v = sum_t mulhrs(h, w[q][t]),
     * out = clamp(mulhrs(v, 1 << 10), 0, 255) = clamp((v + 16) >> 5, 0, 255), stored a
     * word at a time where the planes are aligned and the word is inside the row. */
    static CUK_HD void vpass(const cuk_plan *plan, const cuk_io *io, const cuk_tile &t,
                             uint32_t tid, const smem &sm)
    {
        int32_t seg = (int32_t)tid % SPR, ro = (int32_t)tid / SPR;
        int32_t ns = (t.x1 - t.x0) * C;
        if (4 * seg >= ns)
            return;
        int32_t s = (int32_t)plan->scale;
        uint8_t *dst = cuk_pick(io->dst, t.z) + (size_t)t.x0 * C;
        size_t pitch = cuk_pick(io->dpitch, t.z);
        for (int32_t yo = ro; yo < t.y1 - t.y0; yo += RSTEP) {
            int32_t y = t.y0 + yo, j = cuk_div(y, plan->rdiv), q = y - j * s;
            const int32_t *hr = sm.h + (j - t.j0 + plan->offset[q]) * TWS + 4 * seg;
            uint8_t *out = dst + (size_t)y * pitch;
            int32_t w[TAPS];
            CUK_UNROLL
            for (int u = 0; u < TAPS; u++)
                w[u] = plan->weight[q][u];
            CUK_UNROLL
            for (int m = 0; m < 4; m++) {
                int32_t xo = 4 * (seg + SPR * m);
                if (xo >= ns)
                    break;
                /* The + 16 of the final rounding rides on the first tap: 16 << 15 added
                 * before its shift is 16 after it (|h * w| < 2^30, no overflow). */
                int32_t acc[4];
                CUK_UNROLL
                for (int u = 0; u < TAPS; u++) {
                    int32_t h[4];
                    cuk_ld16(hr + u * TWS + 4 * SPR * m, h);
                    CUK_UNROLL
                    for (int n = 0; n < 4; n++)
                        acc[n] = u == 0 ? (h[n] * w[0] + (1 << 14) + (16 << 15)) >> 15
                                        : acc[n] + cuk_mulhrs(h[n], w[u]);
                }
                int32_t v[4];
                CUK_UNROLL
                for (int n = 0; n < 4; n++)
                    v[n] = acc[n] >> 5;
                uint32_t word = cuk_pack4(v);
                if (io->vec_ok && xo + 4 <= ns) {
                    cuk_st4(out + xo, word);
                } else {
                    for (int32_t n = 0; n < 4 && xo + n < ns; n++)
                        out[xo + n] = (uint8_t)(word >> (8 * n));
                }
            }
        }
    }

    /* Tiles of planes [first, nplanes). */
    static uint32_t blocks(const cuk_plan *plan, uint32_t first)
    {
        const cuk_plane *last = &plan->plane[plan->nplanes - 1];
        return last->first + last->tiles - plan->plane[first].first;
    }

    /* The kernel on the host: each phase for every thread of a block before the next. */
    static int emulate(const cuk_plan *plan, const cuk_io *io, uint32_t first)
    {
        void *mem = calloc(1, smem_bytes(plan));
        if (!mem)
            return P2C2R_E_NOMEM;
        smem sm = smem_at(plan, mem);
        uint32_t tile0 = plan->plane[first].first, n = blocks(plan, first);
        for (uint32_t b = 0; b < n; b++) {
            cuk_tile t = tile(plan, first, tile0, b);
            for (uint32_t tid = 0; tid < THREADS; tid++)
                load(plan, io, t, tid, sm);
            for (uint32_t tid = 0; tid < THREADS; tid++)
                hpass(plan, t, tid, sm);
            for (uint32_t tid = 0; tid < THREADS; tid++)
                vpass(plan, io, t, tid, sm);
        }
        free(mem);
        return P2C2R_OK;
    }
};

#ifdef __CUDACC__
/* The plan's header and the images are kernel parameters (__grid_constant__: read in
 * place, through the constant cache), not the plan's device copy: no block waits on a
 * global load to learn its tile. */
template <int TAPS, int C>
__global__ void __launch_bounds__(CUK_SEP_THREADS(C))
    cuk_sep_kernel(const __grid_constant__ cuk_plan plan, const __grid_constant__ cuk_io io,
                   uint32_t first, uint32_t tile0)
{
    typedef cuk_sep<TAPS, C> K;
    extern __shared__ __align__(16) uint8_t cuk_sep_mem[];
    const typename K::smem sm = K::smem_at(&plan, cuk_sep_mem);
    cuk_tile t = K::tile(&plan, first, tile0, blockIdx.x);
    K::load(&plan, &io, t, threadIdx.x, sm);
    __syncthreads();
    K::hpass(&plan, t, threadIdx.x, sm);
    __syncthreads();
    K::vpass(&plan, &io, t, threadIdx.x, sm);
}

template <int TAPS, int C>
static int cuk_sep_launch_c(const cuk_plan *host, const cuk_io *io, uint32_t first,
                            cudaStream_t stream)
{
    typedef cuk_sep<TAPS, C> K;
    uint32_t n = K::blocks(host, first);
    cuk_sep_kernel<TAPS, C><<<n, K::THREADS, K::smem_bytes(host), stream>>>(
        *host, *io, first, host->plane[first].first);
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? P2C2R_OK : cuk_fail("separable kernel launch", err);
}

/* The launcher and the emulation of one tap count, for either channel count. */
template <int TAPS>
static int cuk_sep_launch(const cuk_plan *host, const cuk_plan *dev, const cuk_io *io,
                          uint32_t first, cudaStream_t stream)
{
    (void)dev;
    if (host->plane[first].channels == 3)
        return cuk_sep_launch_c<TAPS, 3>(host, io, first, stream);
    return cuk_sep_launch_c<TAPS, 1>(host, io, first, stream);
}

template <int TAPS>
static int cuk_sep_emulate(const cuk_plan *plan, const cuk_io *io, uint32_t first)
{
    if (plan->plane[first].channels == 3)
        return cuk_sep<TAPS, 3>::emulate(plan, io, first);
    return cuk_sep<TAPS, 1>::emulate(plan, io, first);
}
#endif

#endif /* P2C2R_PEER_CUDA_SEPARABLE_CUH */
