/* separable: the separable modes (FAST, BICUBIC, LANCZOS) on one plane, band by band, and
 * their portable scalar kernels.
 *
 * A band of output rows is made from source rows filtered across once each (hpass) and
 * kept in a small ring, since consecutive output rows share most of their source rows;
 * each output row is then one weighted sum of `taps` ring rows (vpass). The ring has
 * taps + 2 slots indexed by source row modulo its size: the rows of one output row are a
 * run of at most taps consecutive rows and successive output rows move that run forward
 * by at most one, so a row is never evicted while it is needed.
 *
 * The arithmetic is the one the AVX2 kernels (separable_avx2.c) do, lane by lane:
 *   across: h = sum_t mulhrs(src << 7, w_t)       h ~ value * 64, in int16
 *   down:   v = sum_t mulhrs(h_t, w_t)             v ~ value * 32, in int16
 *           out = clamp((v + 16) >> 5, 0, 255)
 * with Q14 weights. No sum can overflow 16 bits: the largest |sum of weights| of any phase,
 * Lanczos-3's, is below 1.3, so |h| < 21300 and |v| < 13900. Each rounding costs at most
 * half a unit of 1/64 (across) or 1/32 (down) per tap, the Q14 weights a little more, and
 * the final rounding 1/2: upscale_test.c checks every output against the exact filter
 * (within 1; the largest error it measures is about 0.6).
 */
#include <stdlib.h>
#include <string.h>

#include "common/upscale/plan.h"

static void scalar_hpass(const upscale_plane_plan *pp, const upscale_filter *f, const uint8_t *src,
                         int16_t *pad, int16_t *out)
{
    uint32_t c = pp->channels, sw = pp->sw, n = upscale_row_elems(pp);
    int32_t end = (int32_t)((n + c - 1) / c + UPSCALE_PAD_RIGHT);
    int16_t *row = pad + UPSCALE_PAD_LEFT * c;
    for (int32_t x = -UPSCALE_PAD_LEFT; x < end; x++) {
        uint32_t sx = x < 0 ? 0 : x >= (int32_t)sw ? sw - 1 : (uint32_t)x;
        for (uint32_t k = 0; k < c; k++)
            row[x * (int32_t)c + (int32_t)k] = (int16_t)(src[sx * c + k] << UPSCALE_INSHIFT);
    }
    for (uint32_t p = 0; p < f->scale; p++) {
        const int16_t *w = f->weight[p];
        const int16_t *base = row + f->offset[p] * (int32_t)c;
        int16_t *o = out + (size_t)p * n;
        for (uint32_t e = 0; e < sw * c; e++) {
            int32_t acc = 0;
            for (uint32_t t = 0; t < f->taps; t++)
                acc += upscale_mulhrs(base[e + t * c], w[t]);
            o[e] = (int16_t)acc;
        }
    }
}

static void scalar_vpass(const upscale_plane_plan *pp, const upscale_filter *f,
                         const int16_t *const *rows, const int16_t *weight, uint8_t *dst)
{
    uint32_t c = pp->channels, s = f->scale, n = upscale_row_elems(pp);
    for (uint32_t x = 0; x < pp->dw; x++) {
        uint32_t i = x / s, p = x % s;
        for (uint32_t k = 0; k < c; k++) {
            size_t e = (size_t)p * n + (size_t)i * c + k;
            int32_t acc = 0;
            for (uint32_t t = 0; t < f->taps; t++)
                acc += upscale_mulhrs(rows[t][e], weight[t]);
            int32_t v = upscale_mulhrs(acc, 1 << 10); /* (acc + 16) >> 5 */
            dst[(size_t)x * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

const upscale_sep_ops upscale_sep_scalar = {
    .name = "scalar",
    .hpass = scalar_hpass,
    .vpass = scalar_vpass,
};

int upscale_separable_rows(const upscale_plane_plan *pp, const upscale_filter *f,
                           const upscale_sep_ops *ops, const p2c2r_plane *src, p2c2r_plane *dst,
                           uint32_t y0, uint32_t y1)
{
    enum { SLOTS = UPSCALE_MAX_TAPS + 2 };
    uint32_t taps = f->taps, nslots = taps + 2;
    size_t phase_row = (size_t)f->scale * upscale_row_elems(pp);
    size_t pad = upscale_pad_elems(pp);
    /* Ring rows first: their size is a multiple of 16 samples, so each stays 32-byte
     * aligned for the vector kernels' aligned loads. */
    int16_t *ring =
        aligned_alloc(64, ((nslots * phase_row + pad) * sizeof(int16_t) + 63) / 64 * 64);
    if (!ring)
        return P2C2R_E_NOMEM;
    int16_t *padrow = ring + nslots * phase_row;
    int32_t tag[SLOTS];
    for (uint32_t i = 0; i < SLOTS; i++)
        tag[i] = -1;

    for (uint32_t y = y0; y < y1; y++) {
        const int32_t *vr = pp->vrows + (size_t)y * taps;
        const int16_t *rows[UPSCALE_MAX_TAPS];
        for (uint32_t t = 0; t < taps; t++) {
            uint32_t slot = (uint32_t)vr[t] % nslots;
            int16_t *r = ring + slot * phase_row;
            if (tag[slot] != vr[t]) {
                ops->hpass(pp, f, src->data + (size_t)vr[t] * src->stride, padrow, r);
                tag[slot] = vr[t];
            }
            rows[t] = r;
        }
        ops->vpass(pp, f, rows, f->weight[y % f->scale], dst->data + (size_t)y * dst->stride);
    }
    free(ring);
    return P2C2R_OK;
}
