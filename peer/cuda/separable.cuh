/* separable.cuh: the kernel of the separable modes (fast, bicubic, lanczos), a template on
 * the tap count and the channels, instantiated by fast.cu, bicubic.cu and lanczos.cu.
 *
 * One block makes one output tile of one plane: CUK_TH rows of CUK_SEP_TW(c) pixels. The
 * planes of an image are one launch: block b is tile b + (tiles of the planes before), so
 * the small chroma planes take no idle blocks. Three phases, separated by __syncthreads():
 *   load   the source pixels under the tile plus the filter's reach (taps / 2 each side),
 *          edges clamped, into shared memory as int16 (value << 7), each warp reading
 *          whole rows, consecutive lanes consecutive bytes;
 *   hpass  every source row of the tile filtered across once per output column, into a
 *          shared int16 tile: h = sum_u mulhrs(src << 7, w[p][u]), exactly separable.c's
 *          hpass (the CPU keeps its rows phase-major; the value of each is the same);
 *   vpass  each thread 16 consecutive output samples of a row: v = sum_t mulhrs(h, w[q][t]),
 *          out = clamp(mulhrs(v, 1 << 10), 0, 255), separable.c's vpass, stored as one
 *          16-byte store when the planes are aligned and the 16 are inside the row.
 * So the output equals the CPU's byte for byte.
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
#define CUK_UNROLL _Pragma("unroll")
#else
#define CUK_UNROLL
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
    int32_t s = (int32_t)plan->scale;
    t.z = z;
    t.x0 = (int32_t)tx * tw;
    t.y0 = (int32_t)ty * th;
    t.x1 = t.x0 + tw < (int32_t)pl->dw ? t.x0 + tw : (int32_t)pl->dw;
    t.y1 = t.y0 + th < (int32_t)pl->dh ? t.y0 + th : (int32_t)pl->dh;
    t.i0 = t.x0 / s - reach;
    t.j0 = t.y0 / s - reach;
    t.ncols = (t.x1 - 1) / s + reach - t.i0 + 1;
    t.nrows = (t.y1 - 1) / s + reach - t.j0 + 1;
    return t;
}

/* 16 int16 from 32-byte-aligned shared memory, and 16 bytes to 16-byte-aligned global
 * memory: one or two vector accesses on the device; memcpy on the host, where a cast would
 * break C++'s aliasing rules. The only place the two builds differ. */
CUK_HD void cuk_ld16(const int16_t *p, int16_t v[16])
{
#ifdef __CUDA_ARCH__
    const uint4 a = ((const uint4 *)p)[0], b = ((const uint4 *)p)[1];
    memcpy(v, &a, 16);
    memcpy(v + 8, &b, 16);
#else
    memcpy(v, p, 32);
#endif
}

CUK_HD void cuk_st16(uint8_t *p, const uint32_t w[4])
{
#ifdef __CUDA_ARCH__
    *(uint4 *)p = make_uint4(w[0], w[1], w[2], w[3]);
#else
    memcpy(p, w, 16);
#endif
}

template <int TAPS, int C> struct cuk_sep {
    static constexpr int H = TAPS / 2;       /* filter reach, source pixels */
    static constexpr int TW = CUK_SEP_TW(C); /* output tile, pixels */
    static constexpr int TWS = TW * C;       /* output tile, samples */
    static constexpr int TH = CUK_TH;        /* output tile, rows */
    static constexpr int THREADS = CUK_SEP_THREADS(C);
    static constexpr int RG = THREADS / TWS;    /* hpass: row groups */
    static constexpr int SPR = TWS / 16;        /* vpass: 16-sample segments per row */
    static constexpr int RSTEP = THREADS / SPR; /* vpass: rows done at once */
    static constexpr int SR = TH + 2 * H;       /* source rows, at most (scale 1) */
    static constexpr int SC = (TW + 2 * H) * C; /* source samples per row, at most */
    static_assert(THREADS % TWS == 0 && THREADS % SPR == 0 && TWS % 16 == 0, "tile shape");

    struct __align__(16) smem
    {
        int16_t h[SR][TWS];  /* rows filtered across, per output sample */
        int16_t src[SR][SC]; /* source samples << 7 */
    };

    static CUK_HD cuk_tile tile(const cuk_plan *plan, uint32_t first, uint32_t tile0,
                                uint32_t block)
    {
        return cuk_tile_of(plan, first, tile0, block, TW, TH, H);
    }

    static CUK_HD void load(const cuk_plan *plan, const cuk_io *io, const cuk_tile &t, uint32_t tid,
                            smem *sm)
    {
        const cuk_plane *pl = &plan->plane[t.z];
        const uint8_t *src = cuk_pick(io->src, t.z);
        size_t pitch = cuk_pick(io->spitch, t.z);
        int32_t n = t.ncols * C, warp = (int32_t)tid / 32, lane = (int32_t)tid % 32;
        for (int32_t r = warp; r < t.nrows; r += THREADS / 32) {
            const uint8_t *row = src + (size_t)cuk_clampi(t.j0 + r, 0, (int32_t)pl->sh - 1) * pitch;
            for (int32_t e = lane; e < n; e += 32) {
                int32_t col = e / C, k = e - col * C;
                int32_t si = cuk_clampi(t.i0 + col, 0, (int32_t)pl->sw - 1);
                sm->src[r][e] = (int16_t)(row[si * C + k] << 7);
            }
        }
    }

    static CUK_HD void hpass(const cuk_plan *plan, const cuk_tile &t, uint32_t tid, smem *sm)
    {
        int32_t xo = (int32_t)tid % TWS, rg = (int32_t)tid / TWS;
        if (xo >= (t.x1 - t.x0) * C)
            return;
        int32_t s = (int32_t)plan->scale;
        int32_t x = t.x0 + xo / C, k = xo % C, i = x / s, p = x - i * s;
        int32_t base = (i - t.i0 + plan->offset[p]) * C + k;
        int32_t w[TAPS];
        CUK_UNROLL
        for (int u = 0; u < TAPS; u++)
            w[u] = plan->weight[p][u];
        for (int32_t r = rg; r < t.nrows; r += RG) {
            const int16_t *in = &sm->src[r][base];
            int32_t acc = 0;
            CUK_UNROLL
            for (int u = 0; u < TAPS; u++)
                acc += cuk_mulhrs(in[u * C], w[u]);
            sm->h[r][xo] = (int16_t)acc;
        }
    }

    static CUK_HD void vpass(const cuk_plan *plan, const cuk_io *io, const cuk_tile &t,
                             uint32_t tid, const smem *sm)
    {
        int32_t seg = (int32_t)tid % SPR, ro = (int32_t)tid / SPR;
        int32_t ns = (t.x1 - t.x0) * C, xo0 = seg * 16;
        if (xo0 >= ns)
            return;
        int32_t s = (int32_t)plan->scale;
        uint8_t *dst = cuk_pick(io->dst, t.z);
        size_t pitch = cuk_pick(io->dpitch, t.z);
        for (int32_t yo = ro; yo < t.y1 - t.y0; yo += RSTEP) {
            int32_t y = t.y0 + yo, j = y / s, q = y - j * s;
            int32_t rb = j - t.j0 + plan->offset[q];
            int32_t acc[16] = {0};
            CUK_UNROLL
            for (int u = 0; u < TAPS; u++) {
                int16_t h[16];
                cuk_ld16(&sm->h[rb + u][xo0], h);
                int32_t w = plan->weight[q][u];
                CUK_UNROLL
                for (int n = 0; n < 16; n++)
                    acc[n] += cuk_mulhrs(h[n], w);
            }
            uint32_t word[4] = {0, 0, 0, 0};
            CUK_UNROLL
            for (int n = 0; n < 16; n++) {
                uint32_t b = (uint32_t)cuk_clampi(cuk_mulhrs(acc[n], 1 << 10), 0, 255);
                word[n / 4] |= b << (8 * (n % 4));
            }
            uint8_t *out = dst + (size_t)y * pitch + (size_t)t.x0 * C + xo0;
            if (io->vec_ok && xo0 + 16 <= ns) {
                cuk_st16(out, word);
            } else {
                for (int32_t n = 0; n < 16 && xo0 + n < ns; n++)
                    out[n] = (uint8_t)(word[n / 4] >> (8 * (n % 4)));
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
        smem *sm = (smem *)calloc(1, sizeof(smem));
        if (!sm)
            return P2C2R_E_NOMEM;
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
        free(sm);
        return P2C2R_OK;
    }
};

#ifdef __CUDACC__
template <int TAPS, int C>
__global__ void __launch_bounds__(CUK_SEP_THREADS(C))
    cuk_sep_kernel(const cuk_plan *__restrict__ plan, cuk_io io, uint32_t first, uint32_t tile0)
{
    typedef cuk_sep<TAPS, C> K;
    __shared__ typename K::smem sm;
    cuk_tile t = K::tile(plan, first, tile0, blockIdx.x);
    K::load(plan, &io, t, threadIdx.x, &sm);
    __syncthreads();
    K::hpass(plan, t, threadIdx.x, &sm);
    __syncthreads();
    K::vpass(plan, &io, t, threadIdx.x, &sm);
}

template <int TAPS, int C>
static int cuk_sep_launch_c(const cuk_plan *host, const cuk_plan *dev, const cuk_io *io,
                            uint32_t first, cudaStream_t stream)
{
    typedef cuk_sep<TAPS, C> K;
    uint32_t n = K::blocks(host, first);
    cuk_sep_kernel<TAPS, C>
        <<<n, K::THREADS, 0, stream>>>(dev, *io, first, host->plane[first].first);
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? P2C2R_OK : cuk_fail("separable kernel launch", err);
}

/* The launcher and the emulation of one tap count, for either channel count. */
template <int TAPS>
static int cuk_sep_launch(const cuk_plan *host, const cuk_plan *dev, const cuk_io *io,
                          uint32_t first, cudaStream_t stream)
{
    if (host->plane[first].channels == 3)
        return cuk_sep_launch_c<TAPS, 3>(host, dev, io, first, stream);
    return cuk_sep_launch_c<TAPS, 1>(host, dev, io, first, stream);
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
