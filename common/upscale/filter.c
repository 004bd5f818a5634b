/* filter: the polyphase weights of the separable modes (see plan.h).
 *
 * For scale s, phase p of an axis samples source position i + c_p with
 * c_p = (p + 0.5) / s - 0.5, which lies in (-0.5, 0.5): the taps start at
 * floor(c_p) - taps / 2 + 1, so the kernel's support is centred on the sample. Upscaling
 * never widens a kernel (that is only needed to low-pass when shrinking).
 *
 * Weights are rounded to Q14 one by one and the rounding residue is added to the largest,
 * so every phase sums to exactly 1 << 14: a flat area stays exactly flat, and at scale 1
 * every mode is the identity (its one non-zero weight is exactly 1).
 */
#include <math.h>

#include "common/upscale/plan.h"

static double filter_sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    double px = M_PI * x;
    return sin(px) / px;
}

/* The mode's continuous kernel at distance x, and its tap count. */
static double filter_kernel(p2c2r_mode mode, double x)
{
    double a = fabs(x);
    switch (mode) {
    case P2C2R_MODE_FAST:
        return a < 1.0 ? 1.0 - a : 0.0;
    case P2C2R_MODE_BICUBIC: /* Catmull-Rom: Keys' cubic with a = -0.5 */
        if (a < 1.0)
            return (1.5 * a - 2.5) * a * a + 1.0;
        if (a < 2.0)
            return ((-0.5 * a + 2.5) * a - 4.0) * a + 2.0;
        return 0.0;
    case P2C2R_MODE_LANCZOS:
        return a < 3.0 ? filter_sinc(x) * filter_sinc(x / 3.0) : 0.0;
    default:
        return 0.0;
    }
}

int upscale_filter_init(upscale_filter *f, p2c2r_mode mode, uint32_t scale)
{
    uint32_t taps;
    switch (mode) {
    case P2C2R_MODE_FAST:
        taps = 2;
        break;
    case P2C2R_MODE_BICUBIC:
        taps = 4;
        break;
    case P2C2R_MODE_LANCZOS:
        taps = 6;
        break;
    default:
        return P2C2R_E_UNSUPPORTED;
    }
    if (scale < 1 || scale > P2C2R_UPSCALE_MAX_SCALE)
        return P2C2R_E_INVAL;
    *f = (upscale_filter){.scale = scale, .taps = taps};
    for (uint32_t p = 0; p < scale; p++) {
        double c = (p + 0.5) / scale - 0.5;
        int32_t first = (int32_t)floor(c) - (int32_t)taps / 2 + 1;
        double w[UPSCALE_MAX_TAPS], sum = 0.0;
        for (uint32_t t = 0; t < taps; t++) {
            w[t] = filter_kernel(mode, first + (double)t - c);
            sum += w[t];
        }
        int32_t total = 0;
        uint32_t largest = 0;
        for (uint32_t t = 0; t < taps; t++) {
            f->weight[p][t] = (int16_t)lrint(w[t] / sum * (1 << UPSCALE_WBITS));
            total += f->weight[p][t];
            if (f->weight[p][t] > f->weight[p][largest])
                largest = t;
        }
        f->weight[p][largest] = (int16_t)(f->weight[p][largest] + (1 << UPSCALE_WBITS) - total);
        f->offset[p] = first;
    }
    return P2C2R_OK;
}
