/* quality_pixel: the per-pixel functions of the QUALITY mode (quality.h), in a header so
 * that the CPU kernel (quality.c) and its CUDA twin (peer/cuda/quality.cu) compile the same
 * source: with the same float operations in the same order (and no fused multiply-add:
 * baseline x86-64 has none, and the CUDA file is built with -fmad=false), both give the
 * same bytes.
 *
 * Plain C that also compiles as CUDA C++; under nvcc the functions are __host__ __device__.
 * Not for use outside the upscale kernels.
 */
#ifndef P2C2R_UPSCALE_QUALITY_PIXEL_H
#define P2C2R_UPSCALE_QUALITY_PIXEL_H

#include <math.h>
#include <stdint.h>

#include "common/upscale/quality.h"

#ifdef __CUDACC__
#define UPSCALE_QP static __host__ __device__ __forceinline__
#else
#define UPSCALE_QP static inline
#endif

/* Below this gradient energy (in squared 8-bit levels) an area counts as flat: noise of
 * a level or two must not steer the kernel. */
#define EASU_FLAT  32.0f
/* RCAS never uses a lobe stronger than this (FSR's limit of 1/4 - 1/16). */
#define RCAS_LIMIT 0.1875f

/* One output pixel from v[row][col], the 4x4 source block around it (rows and columns
 * -1..2 of the nearest source pixel up-left), at fractional position (fx, fy) in [0, 1). */
UPSCALE_QP float upscale_easu_pixel(const float v[4][4], float fx, float fy)
{
    /* Structure tensor: central-difference gradients at the 4 inner pixels, blended with
     * the bilinear weights of the output position. */
    float jxx = 0, jxy = 0, jyy = 0;
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
            float gx = (v[1 + r][2 + c] - v[1 + r][c]) * 0.5f;
            float gy = (v[2 + r][1 + c] - v[r][1 + c]) * 0.5f;
            float w = (c ? fx : 1 - fx) * (r ? fy : 1 - fy);
            jxx += w * gx * gx;
            jxy += w * gx * gy;
            jyy += w * gy * gy;
        }
    float half_diff = 0.5f * (jxx - jyy);
    float disc = sqrtf(half_diff * half_diff + jxy * jxy);
    /* Unit vector along the strongest gradient (across the edge): the eigenvector of the
     * largest eigenvalue, from whichever row of the matrix is better conditioned. */
    float nx, ny;
    if (half_diff >= 0) {
        nx = half_diff + disc;
        ny = jxy;
    } else {
        nx = jxy;
        ny = disc - half_diff;
    }
    float len = sqrtf(nx * nx + ny * ny);
    float coh = 0;
    if (len > 1e-6f) {
        nx /= len;
        ny /= len;
        /* (l1 - l2) / (l1 + l2), damped in flat areas, squared: 0 isotropic, 1 a clean
         * edge. */
        float a = 2 * disc / (jxx + jyy + EASU_FLAT);
        coh = a * a;
    } else {
        nx = 1;
        ny = 0;
    }
    /* Across the edge the kernel narrows by up to the factor that maps its square support
     * onto the rotated grid; along the edge it widens by up to 2. */
    float stretch = 1 / fmaxf(fabsf(nx), fabsf(ny));
    float across = 1 + (stretch - 1) * coh;
    float along = 1 - 0.5f * coh;
    float lobe = 0.5f - 0.29f * coh; /* window 1/lobe: sqrt 2 (sharp) to 2.1 (soft) */
    float clip = 1 / lobe;

    float sum = 0, wsum = 0;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            if ((r == 0 || r == 3) && (c == 0 || c == 3))
                continue;
            float dx = (float)(c - 1) - fx, dy = (float)(r - 1) - fy;
            float a = (dx * nx + dy * ny) * across;
            float b = (dy * nx - dx * ny) * along;
            float d2 = fminf(a * a + b * b, clip);
            /* 25/16 (2/5 d2 - 1)^2 - 9/16: 1 at 0, 0 at d2 = 1, a negative lobe beyond;
             * times the window (lobe d2 - 1)^2, 0 at the clip. */
            float base = 0.4f * d2 - 1;
            float win = lobe * d2 - 1;
            float w = (1.5625f * base * base - 0.5625f) * (win * win);
            sum += w * v[r][c];
            wsum += w;
        }
    float out = sum / wsum;
    float lo = fminf(fminf(v[1][1], v[1][2]), fminf(v[2][1], v[2][2]));
    float hi = fmaxf(fmaxf(v[1][1], v[1][2]), fmaxf(v[2][1], v[2][2]));
    return fminf(fmaxf(out, lo), hi);
}

/* RCAS on pixel e with neighbours n, w, ea, s, all in 0..255. */
UPSCALE_QP uint8_t upscale_rcas_pixel(float n, float w, float e, float ea, float s)
{
    float mn = fminf(fminf(n, w), fminf(ea, s));
    float mx = fmaxf(fmaxf(n, w), fmaxf(ea, s));
    float lo = fminf(mn, e), hi = fmaxf(mx, e);
    /* The largest negative lobe that keeps the output >= 0 for the darkest ring value and
     * <= 255 for the brightest: out = (lobe * ring + e) / (4 lobe + 1). */
    float hit_min = hi > 0 ? lo / (4 * hi) : 0;
    float hit_max = lo < 255 ? (255 - hi) / (4 * lo - 1020) : 0;
    float lobe = fmaxf(-hit_min, hit_max);
    lobe = fmaxf(-RCAS_LIMIT, fminf(lobe, 0)) * UPSCALE_RCAS_STRENGTH;
    float out = (lobe * (n + w + ea + s) + e) / (4 * lobe + 1);
    out = fminf(fmaxf(out, 0), 255);
    return (uint8_t)(out + 0.5f);
}

#endif /* P2C2R_UPSCALE_QUALITY_PIXEL_H */
