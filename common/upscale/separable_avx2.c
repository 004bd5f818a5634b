/* separable_avx2: the separable kernels of separable.c for one-channel planes, 16 outputs
 * of one phase per step with AVX2.
 *
 * Compiled with the rest of the library for the baseline x86-64 target: only these
 * functions carry __attribute__((target("avx2"))), and upscale.c calls them only after
 * __builtin_cpu_supports("avx2"), so the shipped binaries run on any x86-64 CPU.
 *
 * Each lane computes exactly the formula of the scalar kernels (PMULHRSW is the scalar
 * upscale_mulhrs()), so both paths give identical bytes. The vertical pass interleaves the
 * phases as it stores: for scale 2, PACKUSWB(UNPCKLWD(p0, p1), UNPCKHWD(p0, p1)) is already
 * in output order, because the unpacks and the pack work within the same 128-bit lanes;
 * scale 4 needs one more unpack level and a lane permute; other scales go through a small
 * buffer.
 */
#include "common/upscale/plan.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

/* Phase rows of one source row: taps is a literal at each call site below, so the tap
 * loop unrolls. */
static inline AVX2 __attribute__((always_inline)) void
avx2_hphase(const int16_t *base, const int16_t *w, uint32_t taps, uint32_t n, int16_t *o)
{
    __m256i wv[UPSCALE_MAX_TAPS];
    for (uint32_t t = 0; t < taps; t++)
        wv[t] = _mm256_set1_epi16(w[t]);
    for (uint32_t i = 0; i < n; i += UPSCALE_VEC) {
        __m256i acc = _mm256_mulhrs_epi16(_mm256_loadu_si256((const __m256i *)(base + i)), wv[0]);
        for (uint32_t t = 1; t < taps; t++)
            acc = _mm256_add_epi16(
                acc,
                _mm256_mulhrs_epi16(_mm256_loadu_si256((const __m256i *)(base + i + t)), wv[t]));
        _mm256_store_si256((__m256i *)(o + i), acc);
    }
}

static AVX2 void avx2_hpass(const upscale_plane_plan *pp, const upscale_filter *f,
                            const uint8_t *src, int16_t *pad, int16_t *out)
{
    uint32_t sw = pp->sw, n = upscale_row_elems(pp);
    int16_t *row = pad + UPSCALE_PAD_LEFT;
    __m256i first = _mm256_set1_epi16((int16_t)(src[0] << UPSCALE_INSHIFT));
    __m256i last = _mm256_set1_epi16((int16_t)(src[sw - 1] << UPSCALE_INSHIFT));
    /* UPSCALE_PAD_LEFT is 8: half a vector. */
    _mm_storeu_si128((__m128i *)pad, _mm256_castsi256_si128(first));
    uint32_t x = 0;
    for (; x + UPSCALE_VEC <= sw; x += UPSCALE_VEC) {
        __m128i b = _mm_loadu_si128((const __m128i *)(src + x));
        _mm256_storeu_si256((__m256i *)(row + x),
                            _mm256_slli_epi16(_mm256_cvtepu8_epi16(b), UPSCALE_INSHIFT));
    }
    for (; x < sw; x++)
        row[x] = (int16_t)(src[x] << UPSCALE_INSHIFT);
    /* The right padding: up to n + UPSCALE_PAD_RIGHT, which is whole vectors past sw. */
    for (; x < n + UPSCALE_PAD_RIGHT; x += UPSCALE_VEC)
        _mm256_storeu_si256((__m256i *)(row + x), last);

    for (uint32_t p = 0; p < f->scale; p++) {
        const int16_t *base = row + f->offset[p];
        int16_t *o = out + (size_t)p * n;
        switch (f->taps) {
        case 2:
            avx2_hphase(base, f->weight[p], 2, n, o);
            break;
        case 4:
            avx2_hphase(base, f->weight[p], 4, n, o);
            break;
        default:
            avx2_hphase(base, f->weight[p], 6, n, o);
            break;
        }
    }
}

/* 16 output samples of one phase, as int16 in 0..255 before saturation. */
static inline AVX2 __attribute__((always_inline)) __m256i
avx2_vphase(const int16_t *const *rows, size_t e, const __m256i *wv, uint32_t taps)
{
    __m256i acc = _mm256_mulhrs_epi16(_mm256_load_si256((const __m256i *)(rows[0] + e)), wv[0]);
    for (uint32_t t = 1; t < taps; t++)
        acc = _mm256_add_epi16(
            acc, _mm256_mulhrs_epi16(_mm256_load_si256((const __m256i *)(rows[t] + e)), wv[t]));
    return _mm256_mulhrs_epi16(acc, _mm256_set1_epi16(1 << 10)); /* (acc + 16) >> 5 */
}

static inline AVX2 __attribute__((always_inline)) void
avx2_vrow(const upscale_plane_plan *pp, uint32_t s, const int16_t *const *rows,
          const int16_t *weight, uint32_t taps, uint8_t *dst)
{
    uint32_t n = upscale_row_elems(pp), dw = pp->dw;
    uint32_t m = (dw + s - 1) / s; /* source positions that reach the output */
    __m256i wv[UPSCALE_MAX_TAPS];
    for (uint32_t t = 0; t < taps; t++)
        wv[t] = _mm256_set1_epi16(weight[t]);
    uint8_t tmp[UPSCALE_VEC * P2C2R_UPSCALE_MAX_SCALE] __attribute__((aligned(32)));
    for (uint32_t i = 0; i < m; i += UPSCALE_VEC) {
        size_t out = (size_t)s * i;
        int whole = out + (size_t)s * UPSCALE_VEC <= dw;
        uint8_t *d = whole ? dst + out : tmp;
        if (s == 1) {
            __m256i v = avx2_vphase(rows, i, wv, taps);
            __m256i b = _mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0x08);
            _mm_storeu_si128((__m128i *)d, _mm256_castsi256_si128(b));
        } else if (s == 2) {
            __m256i v0 = avx2_vphase(rows, i, wv, taps);
            __m256i v1 = avx2_vphase(rows, n + i, wv, taps);
            __m256i b =
                _mm256_packus_epi16(_mm256_unpacklo_epi16(v0, v1), _mm256_unpackhi_epi16(v0, v1));
            _mm256_storeu_si256((__m256i *)d, b);
        } else if (s == 4) {
            __m256i v0 = avx2_vphase(rows, i, wv, taps);
            __m256i v1 = avx2_vphase(rows, n + i, wv, taps);
            __m256i v2 = avx2_vphase(rows, 2 * (size_t)n + i, wv, taps);
            __m256i v3 = avx2_vphase(rows, 3 * (size_t)n + i, wv, taps);
            __m256i lo01 = _mm256_unpacklo_epi16(v0, v1), hi01 = _mm256_unpackhi_epi16(v0, v1);
            __m256i lo23 = _mm256_unpacklo_epi16(v2, v3), hi23 = _mm256_unpackhi_epi16(v2, v3);
            /* Lane halves: a = i 0-1 | 8-9, b = 2-3 | 10-11, c = 4-5 | 12-13, d = 6-7 | 14-15 */
            __m256i a = _mm256_unpacklo_epi32(lo01, lo23), b = _mm256_unpackhi_epi32(lo01, lo23);
            __m256i c = _mm256_unpacklo_epi32(hi01, hi23), e = _mm256_unpackhi_epi32(hi01, hi23);
            __m256i ab = _mm256_packus_epi16(a, b); /* i 0-3 | 8-11 */
            __m256i ce = _mm256_packus_epi16(c, e); /* i 4-7 | 12-15 */
            _mm256_storeu_si256((__m256i *)d, _mm256_permute2x128_si256(ab, ce, 0x20));
            _mm256_storeu_si256((__m256i *)(d + 32), _mm256_permute2x128_si256(ab, ce, 0x31));
        } else {
            uint8_t ph[P2C2R_UPSCALE_MAX_SCALE][UPSCALE_VEC];
            for (uint32_t p = 0; p < s; p++) {
                __m256i v = avx2_vphase(rows, (size_t)p * n + i, wv, taps);
                __m256i b = _mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0x08);
                _mm_storeu_si128((__m128i *)ph[p], _mm256_castsi256_si128(b));
            }
            for (uint32_t k = 0; k < UPSCALE_VEC; k++)
                for (uint32_t p = 0; p < s; p++)
                    d[k * s + p] = ph[p][k];
        }
        if (!whole)
            memcpy(dst + out, tmp, dw - out);
    }
}

static AVX2 void avx2_vpass(const upscale_plane_plan *pp, const upscale_filter *f,
                            const int16_t *const *rows, const int16_t *weight, uint8_t *dst)
{
    /* The common cases get their own copy with constant scale and taps. */
    uint32_t s = f->scale, taps = f->taps;
    if (s == 2 && taps == 2)
        avx2_vrow(pp, 2, rows, weight, 2, dst);
    else if (s == 2 && taps == 4)
        avx2_vrow(pp, 2, rows, weight, 4, dst);
    else if (s == 2 && taps == 6)
        avx2_vrow(pp, 2, rows, weight, 6, dst);
    else
        avx2_vrow(pp, s, rows, weight, taps, dst);
}

const upscale_sep_ops upscale_sep_avx2 = {
    .name = "avx2",
    .hpass = avx2_hpass,
    .vpass = avx2_vpass,
};

#endif
