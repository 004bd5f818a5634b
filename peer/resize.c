/* resize: fixed-point separable bilinear resampling, the CPU path of the `fast` mode.
 *
 * Each output sample mixes at most two source columns and two source rows, so all the
 * geometry is worked out once per call: a tap table per axis holds, for every output
 * column (row), the first of its two neighbouring source pixels and both weights, computed
 * in exact integer arithmetic and clamped to the image, so that the second neighbour is
 * always one pixel further and always inside. The inner loops then do only loads,
 * multiplies and adds, with no bounds tests:
 *
 *   horizontal pass: a source row becomes an output-width row of 16-bit samples with
 *                    RESIZE_HBITS fraction bits, cached so that each source row is
 *                    filtered once while consecutive output rows share it (the common
 *                    upscale case);
 *   vertical pass:   two cached rows are blended with the row weight and rounded once.
 *                    16-bit inputs matter here: x86-64's baseline SSE2 widens 16x16-bit
 *                    products cheaply but has no 32-bit vector multiply, so this loop
 *                    vectorises well only on 16-bit data.
 *
 * Error budget against the exact value: each pass's weight rounding costs at most
 * 255 * 2^-12, the 7-bit intermediate 2^-8 and the final rounding 1/2, so every sample is
 * within 0.63 of the exact bilinear value (resize.h promises 1). The largest vertical sum,
 * (255 << 7) * 2^11 + 2^17, fits easily in 32 bits.
 */
#include "peer/resize.h"

#include <assert.h>
#include <stdlib.h>

#define RESIZE_BITS   11
#define RESIZE_ONE    (1u << RESIZE_BITS)
/* Fraction bits kept between the passes: 255 << 7 still fits 16 bits. */
#define RESIZE_HBITS  7
#define RESIZE_HSHIFT (RESIZE_BITS - RESIZE_HBITS)
#define RESIZE_VSHIFT (RESIZE_BITS + RESIZE_HBITS)
#define RESIZE_VROUND (1u << (RESIZE_VSHIFT - 1))
/* Tag of a cache slot that holds no row yet. */
#define RESIZE_NO_ROW UINT32_MAX

/* One output position: the first of its two source positions (an element offset along a
 * row for columns, a row index for rows; the second is one pixel further) and both
 * weights, out of RESIZE_ONE. */
typedef struct resize_tap {
    uint32_t i0; /* first source position; i0 + one pixel is always inside the image */
    uint16_t w0; /* weight of i0 */
    uint16_t w1; /* weight of the next position */
} resize_tap;

/* Two horizontally filtered source rows. */
typedef struct resize_cache {
    uint16_t *buf[2]; /* dst width * channels samples each, RESIZE_HBITS fraction bits */
    uint32_t tag[2];  /* source row held, or RESIZE_NO_ROW */
} resize_cache;

/* Fill taps for dst output positions sampling src source positions; mul turns an index
 * into an element offset (the channel count for columns, 1 for rows).
 * Output x samples source position (x + 0.5) * src / dst - 0.5 = num / den with
 * num = (2x + 1) * src - dst and den = 2 * dst, clamped to [0, src - 1]. A position
 * clamped to the last pixel becomes "all weight on the second of (src - 2, src - 1)", so
 * the kernels always read i0 and i0 + one pixel without a bounds test; a one-pixel axis
 * (src == 1) is the only case where that second read must not happen, and the caller
 * makes its step 0. */
static void resize_taps(resize_tap *taps, uint32_t src, uint32_t dst, uint32_t mul)
{
    int64_t den = 2 * (int64_t)dst;
    for (uint32_t x = 0; x < dst; x++) {
        int64_t num = (2 * (int64_t)x + 1) * src - dst;
        int64_t q = 0, r = 0;
        if (num > 0) {
            q = num / den;
            r = num % den;
        }
        /* r < den, so w1 <= RESIZE_ONE. */
        uint32_t w1 = (uint32_t)((r * RESIZE_ONE + den / 2) / den);
        if (q >= (int64_t)src - 1) {
            q = src > 1 ? (int64_t)src - 2 : 0;
            w1 = src > 1 ? RESIZE_ONE : 0;
        }
        taps[x] = (resize_tap){(uint32_t)q * mul, (uint16_t)(RESIZE_ONE - w1), (uint16_t)w1};
    }
}

static inline uint16_t resize_h(uint8_t a, uint8_t b, uint32_t w0, uint32_t w1)
{
    return (uint16_t)((a * w0 + b * w1 + (1u << (RESIZE_HSHIFT - 1))) >> RESIZE_HSHIFT);
}

/* A source row filtered across; step is one pixel in elements, or 0 for a one-pixel-wide
 * source. The 1- and 3-channel loops are spelled out because GCC does not unroll the
 * channel loop by itself at -O2. */
static void resize_row_h(const uint8_t *restrict s, uint16_t *restrict d,
                         const resize_tap *restrict taps, uint32_t width, uint32_t c, uint32_t step)
{
    if (c == 1) {
        for (uint32_t x = 0; x < width; x++) {
            const uint8_t *a = s + taps[x].i0;
            d[x] = resize_h(a[0], a[step], taps[x].w0, taps[x].w1);
        }
    } else if (c == 3) {
        for (uint32_t x = 0; x < width; x++, d += 3) {
            const uint8_t *a = s + taps[x].i0;
            uint32_t w0 = taps[x].w0, w1 = taps[x].w1;
            d[0] = resize_h(a[0], a[step], w0, w1);
            d[1] = resize_h(a[1], a[step + 1], w0, w1);
            d[2] = resize_h(a[2], a[step + 2], w0, w1);
        }
    } else {
        for (uint32_t x = 0; x < width; x++, d += c) {
            const uint8_t *a = s + taps[x].i0;
            uint32_t w0 = taps[x].w0, w1 = taps[x].w1;
            for (uint32_t k = 0; k < c; k++)
                d[k] = resize_h(a[k], a[k + step], w0, w1);
        }
    }
}

static inline uint8_t resize_v(uint16_t a, uint16_t b, uint32_t w0, uint32_t w1)
{
    return (uint8_t)(((uint32_t)a * w0 + (uint32_t)b * w1 + RESIZE_VROUND) >> RESIZE_VSHIFT);
}

/* r0 and r1 may be the same row. The fixed-length inner loop is what lets GCC vectorise
 * this at -O2, whose cost model refuses loops that need a scalar remainder. */
static void resize_row_v(const uint16_t *restrict r0, const uint16_t *restrict r1, uint16_t w0,
                         uint16_t w1, uint8_t *restrict d, size_t n)
{
    enum { CHUNK = 16 };
    size_t i = 0;
    for (; i + CHUNK <= n; i += CHUNK)
        for (size_t k = 0; k < CHUNK; k++)
            d[i + k] = resize_v(r0[i + k], r1[i + k], w0, w1);
    for (; i < n; i++)
        d[i] = resize_v(r0[i], r1[i], w0, w1);
}

/* The filtered source row `row`, computed into the slot that does not hold `keep`. */
static const uint16_t *resize_cache_get(resize_cache *cache, const p2c2r_plane *src,
                                        const resize_tap *xtaps, uint32_t dst_width, uint32_t row,
                                        uint32_t keep)
{
    for (int i = 0; i < 2; i++)
        if (cache->tag[i] == row)
            return cache->buf[i];
    int i = cache->tag[0] == keep ? 1 : 0;
    resize_row_h(src->data + (size_t)row * src->stride, cache->buf[i], xtaps, dst_width,
                 src->channels, src->width > 1 ? src->channels : 0);
    cache->tag[i] = row;
    return cache->buf[i];
}

static int resize_plane_ok(const p2c2r_plane *p)
{
    return p->data && p->width > 0 && p->height > 0 && p->width <= P2C2R_IMAGE_MAX_SIDE &&
           p->height <= P2C2R_IMAGE_MAX_SIDE && p->channels >= 1 && p->channels <= 4 &&
           p->stride >= p->width * p->channels;
}

int p2c2r__resize_bilinear(const p2c2r_plane *src, p2c2r_plane *dst)
{
    assert(src && dst);
    if (!resize_plane_ok(src) || !resize_plane_ok(dst) || src->channels != dst->channels)
        return P2C2R_E_INVAL;
    assert(src->data != dst->data);

    uint32_t c = src->channels;
    size_t row = (size_t)dst->width * c;
    /* One block: both tap tables, then the two cache rows (whose alignment the 8-byte taps
     * preserve). */
    size_t bytes =
        ((size_t)dst->width + dst->height) * sizeof(resize_tap) + 2 * row * sizeof(uint16_t);
    resize_tap *xtaps = malloc(bytes);
    if (!xtaps)
        return P2C2R_E_NOMEM;
    resize_tap *ytaps = xtaps + dst->width;
    resize_cache cache = {
        .buf = {(uint16_t *)(ytaps + dst->height), (uint16_t *)(ytaps + dst->height) + row},
        .tag = {RESIZE_NO_ROW, RESIZE_NO_ROW},
    };
    resize_taps(xtaps, src->width, dst->width, c);
    resize_taps(ytaps, src->height, dst->height, 1);

    for (uint32_t y = 0; y < dst->height; y++) {
        const resize_tap *t = &ytaps[y];
        uint32_t y1 = src->height > 1 ? t->i0 + 1 : t->i0;
        const uint16_t *r0 = resize_cache_get(&cache, src, xtaps, dst->width, t->i0, y1);
        const uint16_t *r1 = resize_cache_get(&cache, src, xtaps, dst->width, y1, t->i0);
        resize_row_v(r0, r1, t->w0, t->w1, dst->data + (size_t)y * dst->stride, row);
    }
    free(xtaps);
    return P2C2R_OK;
}
