/* jpeg_stages: the per-thread work of each stage of the device JPEG encoder (see
 * jpeg_encode.h), __host__ __device__ so that the kernels and the host emulation run the
 * very same code. A stage's thread is one block (dct, bits, pack) or one restart interval
 * (interval, clear, stuffsize, write); the prefix sums are one thread block of GJ_SCAN
 * threads in three phases (own chunk's sum, a Hillis-Steele scan over the sums in shared
 * memory, the chunk's exclusive offsets), the scan's steps separated by __syncthreads().
 *
 * Bit order: an interval's bits are packed MSB first into 32-bit words, word w holding
 * stream bytes 4w..4w+3 from its high byte down; blocks of one interval share words, so
 * pack ORs into them (atomicOr on the device) after clear has zeroed them.
 *
 * The only code that differs between the two builds: atomicOr vs |=, and __clz vs
 * __builtin_clz. Everything is integer arithmetic, so the two give the same bytes.
 */
#ifndef P2C2R_PEER_CUDA_JPEG_STAGES_CUH
#define P2C2R_PEER_CUDA_JPEG_STAGES_CUH

#include <stdint.h>

#include "jpeg_encode.h"

#ifdef __CUDACC__
#define GJ_HD __host__ __device__ __forceinline__
#else
#define GJ_HD inline
#endif

/* Threads of the prefix sum's single block, and its steps (log2). */
#define GJ_SCAN      1024
#define GJ_SCAN_LOG2 10

/* Where a frame's arrays live: device memory, or host memory for the emulation. */
struct gj_dev {
    const uint8_t *plane[3]; /* the source planes */
    size_t pitch[3];         /* their row pitches */
    const gj_huff *huff;     /* code tables */
    int16_t *coef;           /* blocks * 64: quantised, zigzag */
    uint32_t *bits;          /* blocks: bits of each block's codes */
    uint32_t *boff;          /* blocks: bit offset in its interval */
    uint32_t *ibits;         /* intervals: bits */
    uint32_t *iwords;        /* intervals: 32-bit words packed */
    uint32_t *wofs;          /* intervals: first word (prefix sum of iwords) */
    uint32_t *ssize;         /* intervals: bytes stuffed, with the marker */
    uint32_t *sofs;          /* intervals: first byte after the headers (prefix of ssize) */
    uint32_t *total;         /* [0] words, [1] stuffed bytes, [2] the JPEG's bytes */
    uint32_t *words;         /* the packed intervals */
    uint8_t *out;            /* the JPEG: headers (copied in), scan, EOI */
};

/* Shared memory of a prefix sum. */
struct gj_scan_smem {
    uint32_t own[GJ_SCAN];  /* each thread's chunk sum */
    uint32_t s[2][GJ_SCAN]; /* the scan, ping-pong */
};

GJ_HD void gj_or(uint32_t *p, uint32_t v)
{
#ifdef __CUDA_ARCH__
    atomicOr(p, v);
#else
    *p |= v;
#endif
}

/* Bits of |v| (JPEG's size category). */
GJ_HD uint32_t gj_nbits(int32_t v)
{
    uint32_t a = (uint32_t)(v < 0 ? -v : v);
#ifdef __CUDA_ARCH__
    return a ? 32u - (uint32_t)__clz(a) : 0u;
#else
    return a ? 32u - (uint32_t)__builtin_clz(a) : 0u;
#endif
}

/* Counts bits. */
struct gj_count {
    uint32_t n;
    GJ_HD void put(uint32_t, uint32_t len)
    {
        n += len;
    }
};

/* ORs bits into an interval's words at a bit position. */
struct gj_pack {
    uint32_t *words;
    uint32_t pos;
    GJ_HD void put(uint32_t v, uint32_t len)
    {
        if (!len)
            return;
        uint32_t w = pos >> 5, off = pos & 31, end = off + len;
        if (end <= 32) {
            gj_or(&words[w], v << (32 - end));
        } else {
            gj_or(&words[w], v >> (end - 32));
            gj_or(&words[w + 1], v << (64 - end));
        }
        pos += len;
    }
};

/* One block's codes (DC difference from pred, then the AC run lengths) into sink. */
template <class S>
GJ_HD void gj_code_block(const gj_huff *h, uint32_t t, const int16_t *blk, int32_t pred, S &sink)
{
    int32_t diff = blk[0] - pred;
    uint32_t nb = gj_nbits(diff), code = h->dc[t][nb];
    sink.put(code >> 8, code & 0xff);
    sink.put((uint32_t)(diff < 0 ? diff - 1 : diff) & ((1u << nb) - 1), nb);
    uint32_t run = 0;
    for (int z = 1; z < 64; z++) {
        int32_t v = blk[z];
        if (!v) {
            run++;
            continue;
        }
        for (; run > 15; run -= 16)
            sink.put(h->ac[t][0xf0] >> 8, h->ac[t][0xf0] & 0xff);
        nb = gj_nbits(v);
        code = h->ac[t][run << 4 | nb];
        sink.put(code >> 8, code & 0xff);
        sink.put((uint32_t)(v < 0 ? v - 1 : v) & ((1u << nb) - 1), nb);
        run = 0;
    }
    if (run)
        sink.put(h->ac[t][0] >> 8, h->ac[t][0] & 0xff);
}

/* islow's fixed-point constants (CONST_BITS 13) and its pass-1 scaling (PASS1_BITS 2). */
#define GJ_CB            13
#define GJ_P1            2
#define GJ_DESCALE(x, n) (((x) + (1 << ((n)-1))) >> (n))

/* One 1-D pass of libjpeg's islow forward DCT (jfdctint.c) over d[0], d[s], .. d[7s]:
 * the even part exactly, the odd part by its 12 constants; row passes keep PASS1_BITS
 * more bits, column passes drop them. */
GJ_HD void gj_fdct_1d(int32_t *d, int s, int col)
{
    const int sh = col ? GJ_CB + GJ_P1 : GJ_CB - GJ_P1;
    int32_t t0 = d[0] + d[7 * s], t7 = d[0] - d[7 * s], t1 = d[s] + d[6 * s], t6 = d[s] - d[6 * s],
            t2 = d[2 * s] + d[5 * s], t5 = d[2 * s] - d[5 * s], t3 = d[3 * s] + d[4 * s],
            t4 = d[3 * s] - d[4 * s];
    int32_t t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    d[0] = col ? GJ_DESCALE(t10 + t11, GJ_P1) : (t10 + t11) * (1 << GJ_P1);
    d[4 * s] = col ? GJ_DESCALE(t10 - t11, GJ_P1) : (t10 - t11) * (1 << GJ_P1);
    int32_t z1 = (t12 + t13) * 4433;
    d[2 * s] = GJ_DESCALE(z1 + t13 * 6270, sh);
    d[6 * s] = GJ_DESCALE(z1 - t12 * 15137, sh);
    z1 = t4 + t7;
    int32_t z2 = t5 + t6, z3 = t4 + t6, z4 = t5 + t7, z5 = (z3 + z4) * 9633;
    t4 *= 2446;
    t5 *= 16819;
    t6 *= 25172;
    t7 *= 12299;
    z1 *= -7373;
    z2 *= -20995;
    z3 = z3 * -16069 + z5;
    z4 = z4 * -3196 + z5;
    d[7 * s] = GJ_DESCALE(t4 + z1 + z3, sh);
    d[5 * s] = GJ_DESCALE(t5 + z2 + z4, sh);
    d[3 * s] = GJ_DESCALE(t6 + z2 + z3, sh);
    d[s] = GJ_DESCALE(t7 + z1 + z4, sh);
}

/* libjpeg's quantiser: the DCT's output is 8x the true one; round half away from zero. */
GJ_HD int16_t gj_quant(int32_t v, uint32_t q)
{
    int32_t q8 = (int32_t)q * 8;
    return (int16_t)(v < 0 ? -((-v + q8 / 2) / q8) : (v + q8 / 2) / q8);
}

/* Block (bx, by) of component c, level-shifted, its samples past the plane's edge
 * replicated from the last column and row. */
GJ_HD void gj_load(const gj_geometry &g, const gj_dev &d, uint32_t c, uint32_t bx, uint32_t by,
                   int32_t f[64])
{
    const uint8_t *plane = c == 0 ? d.plane[0] : c == 1 ? d.plane[1] : d.plane[2];
    size_t pitch = c == 0 ? d.pitch[0] : c == 1 ? d.pitch[1] : d.pitch[2];
    for (uint32_t y = 0; y < 8; y++) {
        uint32_t sy = by * 8 + y < g.ph[c] ? by * 8 + y : g.ph[c] - 1;
        const uint8_t *row = plane + (size_t)sy * pitch;
        for (uint32_t x = 0; x < 8; x++) {
            uint32_t sx = bx * 8 + x < g.pw[c] ? bx * 8 + x : g.pw[c] - 1;
            f[y * 8 + x] = (int32_t)row[sx] - 128;
        }
    }
}

/* dct: block k's coefficients, zigzag order: libjpeg's islow DCT and quantiser, so they
 * equal libjpeg's (and TurboJPEG's) for the same planes. A block of an MCU wholly past
 * the component's edge is one of libjpeg's dummy blocks (jccoefct.c): AC zero, the DC of
 * the block to its left, or for a row of them at the bottom, of the MCU's last block in
 * the row above (whose DC is the sum of its samples: islow's DC is exact). */
GJ_HD void gj_dct(const gj_geometry &g, const gj_dev &d, uint32_t k)
{
    uint32_t mcu = k / g.bpm, p = k - mcu * g.bpm, c = g.comp[p];
    uint32_t mx = mcu % g.mcus_x, my = mcu / g.mcus_x;
    uint32_t bx = mx * g.hs[c] + g.dx[p], by = my * g.vs[c] + g.dy[p];
    uint32_t wib = (g.pw[c] + 7) / 8, hib = (g.ph[c] + 7) / 8;
    const uint16_t *quant = g.quant[c ? 1 : 0];
    int16_t *out = d.coef + (size_t)k * 64;
    int32_t f[64];
    if (bx >= wib || by >= hib) {
        if (by >= hib) {
            by = by - 1;
            bx = mx * g.hs[c] + g.hs[c] - 1;
        }
        gj_load(g, d, c, bx < wib ? bx : wib - 1, by, f);
        int32_t sum = 0;
        for (int i = 0; i < 64; i++)
            sum += f[i];
        out[0] = gj_quant(sum, quant[0]);
        for (int z = 1; z < 64; z++)
            out[z] = 0;
        return;
    }
    gj_load(g, d, c, bx, by, f);
    for (int r = 0; r < 8; r++)
        gj_fdct_1d(f + 8 * r, 1, 0);
    for (int col = 0; col < 8; col++)
        gj_fdct_1d(f + col, 8, 1);
    for (int z = 0; z < 64; z++) {
        uint32_t n = g.natural[z];
        out[z] = gj_quant(f[n], quant[n]);
    }
}

/* The DC predictor of block k: its component's previous block, 0 at an interval's start. */
GJ_HD int32_t gj_pred(const gj_geometry &g, const gj_dev &d, uint32_t k)
{
    uint32_t mcu = k / g.bpm, p = k - mcu * g.bpm, q = g.prev[p];
    if (q < g.bpm)
        return d.coef[(size_t)(k - p + q) * 64];
    if (mcu % g.restart_mcus == 0)
        return 0;
    return d.coef[(size_t)(k - p + q - 2 * g.bpm) * 64];
}

/* bits: how many bits block k codes to. */
GJ_HD void gj_bits(const gj_geometry &g, const gj_dev &d, uint32_t k)
{
    uint32_t p = k % g.bpm;
    gj_count n = {0};
    gj_code_block(d.huff, g.comp[p] ? 1 : 0, d.coef + (size_t)k * 64, gj_pred(g, d, k), n);
    d.bits[k] = n.n;
}

/* interval: its blocks' bit offsets, its bits and words. */
GJ_HD void gj_interval(const gj_geometry &g, const gj_dev &d, uint32_t i)
{
    uint32_t per = g.restart_mcus * g.bpm, b0 = i * per;
    uint32_t b1 = b0 + per < g.blocks ? b0 + per : g.blocks, acc = 0;
    for (uint32_t b = b0; b < b1; b++) {
        d.boff[b] = acc;
        acc += d.bits[b];
    }
    d.ibits[i] = acc;
    d.iwords[i] = (acc + 31) / 32;
}

/* scan, phase 1: thread tid's chunk of in[0..n) summed. */
GJ_HD void gj_scan_own(const uint32_t *in, uint32_t n, uint32_t tid, gj_scan_smem *sm)
{
    uint32_t chunk = (n + GJ_SCAN - 1) / GJ_SCAN, s = 0;
    for (uint32_t j = tid * chunk; j < n && j < (tid + 1) * chunk; j++)
        s += in[j];
    sm->own[tid] = s;
    sm->s[0][tid] = s;
}

/* scan, phase 2 (GJ_SCAN_LOG2 steps): inclusive sums of the chunks, from s[step & 1]
 * into the other. */
GJ_HD void gj_scan_step(uint32_t step, uint32_t tid, gj_scan_smem *sm)
{
    uint32_t dist = 1u << step;
    const uint32_t *a = sm->s[step & 1];
    sm->s[(step + 1) & 1][tid] = a[tid] + (tid >= dist ? a[tid - dist] : 0);
}

/* scan, phase 3: out[j] = sum of in[0..j); the last thread stores the total. */
GJ_HD void gj_scan_out(const uint32_t *in, uint32_t n, uint32_t *out, uint32_t *total, uint32_t tid,
                       const gj_scan_smem *sm)
{
    uint32_t chunk = (n + GJ_SCAN - 1) / GJ_SCAN;
    uint32_t acc = sm->s[GJ_SCAN_LOG2 & 1][tid] - sm->own[tid];
    for (uint32_t j = tid * chunk; j < n && j < (tid + 1) * chunk; j++) {
        out[j] = acc;
        acc += in[j];
    }
    if (tid == GJ_SCAN - 1)
        *total = sm->s[GJ_SCAN_LOG2 & 1][tid];
}

/* clear: zero interval i's words. */
GJ_HD void gj_clear(const gj_geometry &, const gj_dev &d, uint32_t i)
{
    for (uint32_t w = 0; w < d.iwords[i]; w++)
        d.words[d.wofs[i] + w] = 0;
}

/* pack: block k's codes into its interval's words. */
GJ_HD void gj_pack_block(const gj_geometry &g, const gj_dev &d, uint32_t k)
{
    uint32_t p = k % g.bpm, i = k / g.bpm / g.restart_mcus;
    gj_pack w = {d.words + d.wofs[i], d.boff[k]};
    gj_code_block(d.huff, g.comp[p] ? 1 : 0, d.coef + (size_t)k * 64, gj_pred(g, d, k), w);
}

/* Byte j of interval i, the last one padded with 1-bits. */
GJ_HD uint32_t gj_byte(const gj_dev &d, uint32_t i, uint32_t j, uint32_t nbytes)
{
    uint32_t b = (d.words[d.wofs[i] + (j >> 2)] >> (24 - 8 * (j & 3))) & 0xff;
    uint32_t used = d.ibits[i] & 7;
    if (j == nbytes - 1 && used)
        b |= 0xffu >> used;
    return b;
}

/* stuffsize: interval i's bytes padded, with a 0 after each 0xFF, and its RSTn marker. */
GJ_HD void gj_stuffsize(const gj_geometry &g, const gj_dev &d, uint32_t i)
{
    uint32_t nbytes = (d.ibits[i] + 7) / 8, n = nbytes;
    for (uint32_t j = 0; j < nbytes; j++)
        n += gj_byte(d, i, j, nbytes) == 0xff;
    d.ssize[i] = n + (i + 1 < g.intervals ? 2 : 0);
}

/* write: interval i's stuffed bytes and marker at its place; the last writes EOI and the
 * JPEG's size. */
GJ_HD void gj_write(const gj_geometry &g, const gj_dev &d, uint32_t i)
{
    uint32_t nbytes = (d.ibits[i] + 7) / 8;
    uint8_t *o = d.out + g.header_bytes + d.sofs[i];
    for (uint32_t j = 0; j < nbytes; j++) {
        uint32_t b = gj_byte(d, i, j, nbytes);
        *o++ = (uint8_t)b;
        if (b == 0xff)
            *o++ = 0;
    }
    *o++ = 0xff;
    if (i + 1 < g.intervals) {
        *o++ = (uint8_t)(0xd0 + (i & 7));
    } else {
        *o++ = 0xd9;
        d.total[2] = (uint32_t)(o - d.out);
    }
}

#endif /* P2C2R_PEER_CUDA_JPEG_STAGES_CUH */
