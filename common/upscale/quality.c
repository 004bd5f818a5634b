/* quality: see quality.h. The per-column and per-row tables (clamped source indices of the
 * 4x4 neighbourhood and the fractional position) come precomputed with the plan. */
#include "common/upscale/quality.h"

#include <stdlib.h>

#include "common/upscale/plan.h"
#include "common/upscale/quality_pixel.h"

int upscale_quality_rows(const upscale_plane_plan *pp, uint32_t scale, const p2c2r_plane *src,
                         p2c2r_plane *dst, uint32_t y0, uint32_t y1)
{
    (void)scale;
    uint32_t dw = pp->dw, dh = pp->dh;
    /* RCAS needs one upsampled row above and below the band. */
    uint32_t e0 = y0 > 0 ? y0 - 1 : 0, e1 = y1 < dh ? y1 + 1 : dh;
    float *up = malloc((size_t)(e1 - e0) * dw * sizeof *up);
    if (!up)
        return P2C2R_E_NOMEM;
    for (uint32_t y = e0; y < e1; y++) {
        const uint8_t *r[4];
        for (int k = 0; k < 4; k++)
            r[k] = src->data + (size_t)pp->qrows[(size_t)y * 4 + k] * src->stride;
        float fy = pp->qfy[y];
        float *o = up + (size_t)(y - e0) * dw;
        for (uint32_t x = 0; x < dw; x++) {
            const int32_t *cx = pp->qcols + (size_t)x * 4;
            float v[4][4];
            for (int k = 0; k < 4; k++)
                for (int c = 0; c < 4; c++)
                    v[k][c] = r[k][cx[c]];
            o[x] = upscale_easu_pixel(v, pp->qfx[x], fy);
        }
    }
    for (uint32_t y = y0; y < y1; y++) {
        const float *c = up + (size_t)(y - e0) * dw;
        const float *n = y > 0 ? c - dw : c;
        const float *s = y + 1 < dh ? c + dw : c;
        uint8_t *d = dst->data + (size_t)y * dst->stride;
        for (uint32_t x = 0; x < dw; x++) {
            uint32_t l = x > 0 ? x - 1 : x, rr = x + 1 < dw ? x + 1 : x;
            d[x] = upscale_rcas_pixel(n[x], c[l], c[x], c[rr], s[x]);
        }
    }
    free(up);
    return P2C2R_OK;
}
