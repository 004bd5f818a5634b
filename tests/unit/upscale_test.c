/* upscale_test: the CPU upscale kernels (common/upscale) against double-precision
 * references, at every scale 1..8, on odd sizes and degenerate ones (1x1, 1xN, Nx1).
 *
 * Tolerances, stated once:
 *   FAST, BICUBIC, LANCZOS: every output sample within 1 of the exact filter (the
 *     real-valued kernel, normalised per phase, edges clamped), rounded to nearest;
 *   QUALITY (luma): within 1 of the same algorithm computed in double precision;
 *   scalar and AVX2: identical bytes; one band or many, one thread or several: identical.
 * Reads outside the source fault: each source plane sits flush against a PROT_NONE page,
 * once ending at one and once starting right after one, and the bytes around it hold
 * different fillers in the two runs, so a leak into the output shows as a difference.
 * The sanitized build runs all of this under ASan and UBSan.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/pool.h"
#include "common/upscale/plan_cache.h"
#include "common/upscale/upscale.h"
#include "testutil.h"

static const p2c2r_mode all_modes[] = {P2C2R_MODE_FAST, P2C2R_MODE_BICUBIC, P2C2R_MODE_LANCZOS,
                                       P2C2R_MODE_QUALITY};
static int have_avx2;

/* ---- guarded planes ------------------------------------------------------------------- */

typedef struct test_plane {
    p2c2r_plane p; /* the view passed to the kernel */
    uint8_t *map;  /* the mapping, guard pages included; NULL when none */
    size_t size;   /* bytes in map */
} test_plane;

static int test_plane_new(test_plane *t, uint32_t w, uint32_t h, uint32_t c, uint32_t pad,
                          int at_end, uint8_t fill)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    t->p = (p2c2r_plane){.width = w, .height = h, .channels = c, .stride = w * c + pad};
    size_t bytes = (size_t)(h - 1) * t->p.stride + (size_t)w * c;
    size_t inner = (bytes + page - 1) / page * page;
    t->size = inner + 2 * page;
    void *m = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        t->map = NULL;
        return -1;
    }
    t->map = m;
    if (mprotect(t->map, page, PROT_NONE) != 0 ||
        mprotect(t->map + page + inner, page, PROT_NONE) != 0)
        return -1;
    memset(t->map + page, fill, inner);
    t->p.data = t->map + page + (at_end ? inner - bytes : 0);
    return 0;
}

static void test_plane_free(test_plane *t)
{
    if (t->map)
        munmap(t->map, t->size);
    t->map = NULL;
}

static uint8_t at(const p2c2r_plane *p, int64_t x, int64_t y, uint32_t k)
{
    x = x < 0 ? 0 : x >= p->width ? p->width - 1 : x;
    y = y < 0 ? 0 : y >= p->height ? p->height - 1 : y;
    return p->data[(size_t)y * p->stride + (size_t)x * p->channels + k];
}

/* A picture with edges, gradients and noise, so that every mode has work to do. */
static void fill_picture(p2c2r_plane *p, uint64_t seed)
{
    for (uint32_t y = 0; y < p->height; y++)
        for (uint32_t x = 0; x < p->width; x++)
            for (uint32_t k = 0; k < p->channels; k++) {
                uint32_t v = (x * 7 + y * 3 + k * 50) & 255;
                if (((x / 5) + (y / 3)) & 1)
                    v = 255 - v / 2;
                if (testutil_rand(&seed) % 7 == 0)
                    v = (uint32_t)testutil_rand(&seed) & 255;
                p->data[(size_t)y * p->stride + (size_t)x * p->channels + k] = (uint8_t)v;
            }
}

/* ---- double-precision references ----------------------------------------------------- */

static double ref_sinc(double x)
{
    return x == 0 ? 1 : sin(M_PI * x) / (M_PI * x);
}

static double ref_kernel(p2c2r_mode mode, double x, int *taps)
{
    double a = fabs(x);
    switch (mode) {
    case P2C2R_MODE_FAST:
        *taps = 2;
        return a < 1 ? 1 - a : 0;
    case P2C2R_MODE_BICUBIC:
        *taps = 4;
        return a < 1   ? 1.5 * a * a * a - 2.5 * a * a + 1
               : a < 2 ? -0.5 * a * a * a + 2.5 * a * a - 4 * a + 2
                       : 0;
    default:
        *taps = 6;
        return a < 3 ? ref_sinc(x) * ref_sinc(x / 3) : 0;
    }
}

/* Taps and normalised weights of a separable mode at source position pos. */
static int ref_weights(p2c2r_mode mode, double pos, int64_t *first, double *w)
{
    int taps;
    ref_kernel(mode, 0, &taps);
    *first = (int64_t)floor(pos) - taps / 2 + 1;
    double sum = 0;
    for (int t = 0; t < taps; t++)
        sum += w[t] = ref_kernel(mode, (double)(*first + t) - pos, &taps);
    for (int t = 0; t < taps; t++)
        w[t] /= sum;
    return taps;
}

/* Exact separable value of output (x, y, k) at source positions (px, py). */
static double ref_separable(const p2c2r_plane *s, p2c2r_mode mode, double px, double py, uint32_t k)
{
    int64_t fx, fy;
    double wx[6], wy[6];
    int tx = ref_weights(mode, px, &fx, wx), ty = ref_weights(mode, py, &fy, wy);
    double v = 0;
    for (int j = 0; j < ty; j++)
        for (int i = 0; i < tx; i++)
            v += wy[j] * wx[i] * at(s, fx + i, fy + j, k);
    return v;
}

/* The quality mode (quality.h) in double precision, before RCAS. */
static double ref_easu(const p2c2r_plane *s, double px, double py)
{
    int64_t x0 = (int64_t)floor(px), y0 = (int64_t)floor(py);
    double fx = px - x0, fy = py - y0, v[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            v[r][c] = at(s, x0 - 1 + c, y0 - 1 + r, 0);
    double jxx = 0, jxy = 0, jyy = 0;
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
            double gx = (v[1 + r][2 + c] - v[1 + r][c]) / 2,
                   gy = (v[2 + r][1 + c] - v[r][1 + c]) / 2;
            double w = (c ? fx : 1 - fx) * (r ? fy : 1 - fy);
            jxx += w * gx * gx;
            jxy += w * gx * gy;
            jyy += w * gy * gy;
        }
    double hd = (jxx - jyy) / 2, disc = sqrt(hd * hd + jxy * jxy);
    double nx = hd >= 0 ? hd + disc : jxy, ny = hd >= 0 ? jxy : disc - hd;
    double len = sqrt(nx * nx + ny * ny), coh = 0;
    if (len > 1e-6) {
        nx /= len;
        ny /= len;
        coh = pow(2 * disc / (jxx + jyy + 32), 2);
    } else {
        nx = 1;
        ny = 0;
    }
    double stretch = 1 / fmax(fabs(nx), fabs(ny));
    double across = 1 + (stretch - 1) * coh, along = 1 - 0.5 * coh, lobe = 0.5 - 0.29 * coh;
    double sum = 0, wsum = 0;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            if ((r == 0 || r == 3) && (c == 0 || c == 3))
                continue;
            double dx = c - 1 - fx, dy = r - 1 - fy;
            double a = (dx * nx + dy * ny) * across, b = (dy * nx - dx * ny) * along;
            double d2 = fmin(a * a + b * b, 1 / lobe);
            double w = (25.0 / 16 * pow(0.4 * d2 - 1, 2) - 9.0 / 16) * pow(lobe * d2 - 1, 2);
            sum += w * v[r][c];
            wsum += w;
        }
    double lo = fmin(fmin(v[1][1], v[1][2]), fmin(v[2][1], v[2][2]));
    double hi = fmax(fmax(v[1][1], v[1][2]), fmax(v[2][1], v[2][2]));
    return fmin(fmax(sum / wsum, lo), hi);
}

static double ref_quality(const p2c2r_plane *s, uint32_t scale, uint32_t dw, uint32_t dh,
                          uint32_t x, uint32_t y)
{
    double e[5];
    const int dx[5] = {0, -1, 0, 1, 0}, dy[5] = {-1, 0, 0, 0, 1};
    for (int i = 0; i < 5; i++) {
        int64_t xx = (int64_t)x + dx[i], yy = (int64_t)y + dy[i];
        xx = xx < 0 ? 0 : xx >= dw ? dw - 1 : xx;
        yy = yy < 0 ? 0 : yy >= dh ? dh - 1 : yy;
        e[i] = ref_easu(s, (xx + 0.5) / scale - 0.5, (yy + 0.5) / scale - 0.5);
    }
    double mn = fmin(fmin(e[0], e[1]), fmin(e[3], e[4])),
           mx = fmax(fmax(e[0], e[1]), fmax(e[3], e[4]));
    double lo = fmin(mn, e[2]), hi = fmax(mx, e[2]);
    double hit_min = hi > 0 ? lo / (4 * hi) : 0;
    double hit_max = lo < 255 ? (255 - hi) / (4 * lo - 1020) : 0;
    double lobe = fmax(-0.1875, fmin(fmax(-hit_min, hit_max), 0)) * 0.8;
    double out = (lobe * (e[0] + e[1] + e[3] + e[4]) + e[2]) / (4 * lobe + 1);
    return fmin(fmax(out, 0), 255);
}

/* Largest |output - reference| over the plane. chroma: the plane is the chroma of a 4:2:0
 * image whose luma is `scale` times bigger, and its positions are derived from the luma
 * grid: output chroma j covers output luma 2j and 2j + 1 (centre 2j + 0.5), which samples
 * source luma (2j + 1) / scale - 0.5, which is source chroma (that - 0.5) / 2. */
static double max_error(const p2c2r_plane *s, const p2c2r_plane *d, uint32_t scale, p2c2r_mode mode,
                        int chroma)
{
    double worst = 0;
    for (uint32_t y = 0; y < d->height; y++)
        for (uint32_t x = 0; x < d->width; x++)
            for (uint32_t k = 0; k < d->channels; k++) {
                double px = (x + 0.5) / scale - 0.5, py = (y + 0.5) / scale - 0.5;
                if (chroma) {
                    px = ((2.0 * x + 1) / scale - 0.5 - 0.5) / 2;
                    py = ((2.0 * y + 1) / scale - 0.5 - 0.5) / 2;
                }
                double want =
                    mode == P2C2R_MODE_QUALITY && s->channels == 1
                        ? ref_quality(s, scale, d->width, d->height, x, y)
                        : ref_separable(s, mode == P2C2R_MODE_QUALITY ? P2C2R_MODE_LANCZOS : mode,
                                        px, py, k);
                want = want < 0 ? 0 : want > 255 ? 255 : want;
                double e =
                    fabs(d->data[(size_t)y * d->stride + (size_t)x * d->channels + k] - want);
                if (e > worst)
                    worst = e;
            }
    return worst;
}

/* ---- plane tests ------------------------------------------------------------------------ */

/* Upscale a sw x sh plane (c channels) to dw x dh with every path: guarded source at both
 * ends with different fillers, scalar and AVX2. All outputs must be identical, within 1 of
 * the reference, and leave the destination's row padding alone. */
static void plane_case(uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh, uint32_t c,
                       uint32_t scale, p2c2r_mode mode, int chroma, double *worst)
{
    enum { RUNS = 3, SPAD = 13, DPAD = 7, CANARY = 0xA5 };
    test_plane src[RUNS], dst[RUNS];
    memset(src, 0, sizeof src);
    memset(dst, 0, sizeof dst);
    for (int i = 0; i < RUNS; i++) {
        if (test_plane_new(&src[i], sw, sh, c, SPAD, i & 1, i ? 255 : 0) != 0 ||
            test_plane_new(&dst[i], dw, dh, c, DPAD, i & 1, CANARY) != 0) {
            CHECK(!"cannot map test planes");
            goto done;
        }
        fill_picture(&src[i].p, sw * 131u + sh * 7u + c);
        p2c2r_simd simd = i == 2 && have_avx2 ? P2C2R_SIMD_AVX2 : P2C2R_SIMD_SCALAR;
        if (i == 1 && have_avx2)
            simd = P2C2R_SIMD_AVX2;
        CHECK_RC(p2c2r__upscale_plane(&src[i].p, &dst[i].p, scale, mode, simd), P2C2R_OK);
    }
    const p2c2r_plane *d = &dst[0].p;
    for (int i = 1; i < RUNS; i++)
        for (uint32_t y = 0; y < dh; y++)
            if (memcmp(d->data + (size_t)y * d->stride, dst[i].p.data + (size_t)y * d->stride,
                       (size_t)dw * c) != 0) {
                fprintf(stderr, "%ux%u c%u x%u mode %d run %d: row %u differs\n", sw, sh, c, scale,
                        mode, i, y);
                CHECK(0);
                break;
            }
    double err = max_error(&src[0].p, d, scale, mode, chroma);
    if (err > worst[mode])
        worst[mode] = err;
    if (err > 1.0)
        fprintf(stderr, "%ux%u -> %ux%u c%u x%u mode %d: max error %.3f\n", sw, sh, dw, dh, c,
                scale, mode, err);
    CHECK(err <= 1.0);
    for (uint32_t y = 0; y + 1 < dh; y++)
        for (uint32_t i = dw * c; i < d->stride; i++)
            CHECK(d->data[(size_t)y * d->stride + i] == CANARY);
done:
    for (int i = 0; i < RUNS; i++) {
        test_plane_free(&src[i]);
        test_plane_free(&dst[i]);
    }
}

static void test_planes(void)
{
    static const uint32_t sizes[][2] = {
        {1, 1}, {1, 9}, {9, 1}, {2, 2}, {37, 23}, {33, 17}, {16, 5}, {80, 3},
    };
    double worst[5] = {0};
    for (size_t m = 0; m < 4; m++)
        for (uint32_t s = 1; s <= P2C2R_UPSCALE_MAX_SCALE; s++)
            for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                uint32_t w = sizes[i][0], h = sizes[i][1];
                if (all_modes[m] == P2C2R_MODE_QUALITY && w * h * s * s > 20000)
                    continue; /* the double reference of this mode is slow */
                plane_case(w, h, w * s, h * s, 1, s, all_modes[m], 0, worst);
                if (s <= 3 && all_modes[m] != P2C2R_MODE_QUALITY)
                    plane_case(w, h, w * s, h * s, 3, s, all_modes[m], 0, worst);
            }
    /* Chroma of odd-sized 4:2:0 images: a 159 x 77 image has 80 x 39 chroma; at scale s
     * the output chroma is ceil(159 s / 2) x ceil(77 s / 2). */
    for (size_t m = 0; m < 3; m++)
        for (uint32_t s = 1; s <= P2C2R_UPSCALE_MAX_SCALE; s++)
            plane_case(80, 39, (159 * s + 1) / 2, (77 * s + 1) / 2, 1, s, all_modes[m], 1, worst);
    printf("max error vs double reference: fast %.3f, bicubic %.3f, lanczos %.3f, quality %.3f\n",
           worst[P2C2R_MODE_FAST], worst[P2C2R_MODE_BICUBIC], worst[P2C2R_MODE_LANCZOS],
           worst[P2C2R_MODE_QUALITY]);
}

/* Scale 1 is the identity in the separable modes; a flat plane stays flat in every mode. */
static void test_exact(void)
{
    uint8_t s[7 * 5], d[7 * 5 * 64];
    for (size_t i = 0; i < sizeof s; i++)
        s[i] = (uint8_t)(i * 37);
    p2c2r_plane src = {s, 7, 5, 7, 1};
    for (size_t m = 0; m < 3; m++) {
        p2c2r_plane dst = {d, 7, 5, 7, 1};
        CHECK_RC(p2c2r__upscale_plane(&src, &dst, 1, all_modes[m], P2C2R_SIMD_SCALAR), P2C2R_OK);
        CHECK(memcmp(s, d, sizeof s) == 0);
    }
    memset(s, 201, sizeof s);
    for (size_t m = 0; m < 4; m++) {
        p2c2r_plane dst = {d, 56, 40, 56, 1};
        CHECK_RC(p2c2r__upscale_plane(&src, &dst, 8, all_modes[m], p2c2r__upscale_simd()),
                 P2C2R_OK);
        for (size_t i = 0; i < 56 * 40; i++)
            CHECK(d[i] == 201);
    }
}

static void test_invalid(void)
{
    uint8_t s[64], d[1024];
    p2c2r_plane src = {s, 4, 4, 4, 1};
    p2c2r_plane dst = {d, 8, 8, 8, 1};
    CHECK_RC(p2c2r__upscale_plane(&src, &dst, 0, P2C2R_MODE_FAST, 0), P2C2R_E_INVAL);
    CHECK_RC(p2c2r__upscale_plane(&src, &dst, 9, P2C2R_MODE_FAST, 0), P2C2R_E_INVAL);
    CHECK_RC(p2c2r__upscale_plane(&src, &dst, 2, (p2c2r_mode)9, 0), P2C2R_E_UNSUPPORTED);
    CHECK_RC(p2c2r__upscale_plane(&src, &dst, 3, P2C2R_MODE_FAST, 0), P2C2R_E_INVAL);
    p2c2r_plane bad = dst;
    bad.width = 9;
    CHECK_RC(p2c2r__upscale_plane(&src, &bad, 2, P2C2R_MODE_FAST, 0), P2C2R_E_INVAL);
    bad = dst;
    bad.channels = 3;
    CHECK_RC(p2c2r__upscale_plane(&src, &bad, 2, P2C2R_MODE_FAST, 0), P2C2R_E_INVAL);
    bad = src;
    bad.width = 0;
    CHECK_RC(p2c2r__upscale_plane(&bad, &dst, 2, P2C2R_MODE_FAST, 0), P2C2R_E_INVAL);
    const p2c2r_upscale_plan *plan = NULL;
    CHECK_RC(p2c2r__upscale_plan_new(P2C2R_PIX_YUV420P, 5000, 5000, 4, P2C2R_MODE_FAST, &plan),
             P2C2R_E_TOOBIG);
    CHECK_RC(p2c2r__upscale_plan_new(P2C2R_PIX_YUV420P, 50, 50, 2, (p2c2r_mode)0, &plan),
             P2C2R_E_UNSUPPORTED);
    CHECK(plan == NULL);
}

/* ---- images, bands, threads ------------------------------------------------------------- */

/* A whole image: one band on one thread, many bands on a pool of 3, odd cuts by hand, and
 * the scalar path must all give the same bytes; the planes must match the plane API. */
static void image_case(p2c2r_pixel_format fmt, uint32_t w, uint32_t h, uint32_t s, p2c2r_mode mode,
                       p2c2r_pool *pool)
{
    p2c2r_image src = {0}, a = {0}, b = {0}, c = {0}, e = {0};
    const p2c2r_upscale_plan *plan = NULL;
    CHECK_RC(p2c2r__image_alloc(&src, fmt, w, h), P2C2R_OK);
    CHECK_RC(p2c2r__image_alloc(&a, fmt, w * s, h * s), P2C2R_OK);
    CHECK_RC(p2c2r__image_alloc(&b, fmt, w * s, h * s), P2C2R_OK);
    CHECK_RC(p2c2r__image_alloc(&c, fmt, w * s, h * s), P2C2R_OK);
    CHECK_RC(p2c2r__image_alloc(&e, fmt, w * s, h * s), P2C2R_OK);
    CHECK_RC(p2c2r__upscale_plan_new(fmt, w, h, s, mode, &plan), P2C2R_OK);
    if (!plan || !src.buffer || !a.buffer || !b.buffer || !c.buffer || !e.buffer)
        goto done;
    for (uint32_t i = 0; i < src.nplanes; i++)
        fill_picture(&src.plane[i], i + w);
    p2c2r_simd simd = p2c2r__upscale_simd();
    CHECK_RC(p2c2r__upscale_image(plan, &src, &a, NULL, simd), P2C2R_OK);
    CHECK_RC(p2c2r__upscale_image(plan, &src, &b, pool, simd), P2C2R_OK);
    CHECK_RC(p2c2r__upscale_image(plan, &src, &e, pool, P2C2R_SIMD_SCALAR), P2C2R_OK);
    uint32_t align = p2c2r__upscale_plan_row_align(plan), y = 0;
    uint64_t seed = w;
    while (y < h * s) {
        uint32_t n = (uint32_t)(testutil_rand(&seed) % 9 + 1) * align;
        uint32_t y1 = y + n < h * s ? y + n : h * s;
        CHECK_RC(p2c2r__upscale_rows(plan, &src, &c, y, y1, simd), P2C2R_OK);
        y = y1;
    }
    for (uint32_t i = 0; i < a.nplanes; i++) {
        const p2c2r_plane *pa = &a.plane[i];
        size_t row = (size_t)pa->width * pa->channels;
        for (uint32_t r = 0; r < pa->height; r++) {
            size_t off = (size_t)r * pa->stride;
            CHECK(memcmp(pa->data + off, b.plane[i].data + off, row) == 0);
            CHECK(memcmp(pa->data + off, c.plane[i].data + off, row) == 0);
            CHECK(memcmp(pa->data + off, e.plane[i].data + off, row) == 0);
        }
        /* The plane API, which the plane tests check against the references (in QUALITY
         * mode chroma planes get Lanczos-3). */
        p2c2r_plane one = e.plane[i];
        p2c2r_mode pm = mode == P2C2R_MODE_QUALITY && i > 0 ? P2C2R_MODE_LANCZOS : mode;
        CHECK_RC(p2c2r__upscale_plane(&src.plane[i], &one, s, pm, simd), P2C2R_OK);
        int same = 1;
        for (uint32_t r = 0; r < pa->height; r++)
            same &= memcmp(pa->data + (size_t)r * pa->stride, one.data + (size_t)r * one.stride,
                           row) == 0;
        if (!same)
            fprintf(stderr, "format %d %ux%u x%u mode %d plane %u: differs from the plane API\n",
                    fmt, w, h, s, mode, i);
        CHECK(same);
    }
    CHECK_RC(p2c2r__upscale_rows(plan, &src, &c, 1, 2, simd), align > 1 ? P2C2R_E_INVAL : P2C2R_OK);
    CHECK_RC(p2c2r__upscale_rows(plan, &src, &src, 0, 2, simd), P2C2R_E_INVAL);
done:
    p2c2r__upscale_plan_destroy(&plan);
    p2c2r__image_free(&src);
    p2c2r__image_free(&a);
    p2c2r__image_free(&b);
    p2c2r__image_free(&c);
    p2c2r__image_free(&e);
}

static void test_images(void)
{
    p2c2r_pool *pool = p2c2r__pool_new(3);
    CHECK(pool != NULL);
    for (size_t m = 0; m < 4; m++) {
        image_case(P2C2R_PIX_YUV420P, 159, 77, 2, all_modes[m], pool);
        image_case(P2C2R_PIX_YUV420P, 64, 48, 3, all_modes[m], pool);
        image_case(P2C2R_PIX_YUV422P, 33, 20, 4, all_modes[m], pool);
        image_case(P2C2R_PIX_YUV444P, 20, 33, 2, all_modes[m], pool);
        image_case(P2C2R_PIX_GRAY8, 101, 67, 2, all_modes[m], pool);
        image_case(P2C2R_PIX_RGB24, 31, 29, 2, all_modes[m], pool);
        image_case(P2C2R_PIX_YUV420P, 1, 1, 8, all_modes[m], pool);
    }
    p2c2r__pool_destroy(&pool);
}

/* ---- the plan cache ----------------------------------------------------------------------- */

static void test_cache(void)
{
    const p2c2r_upscale_plan *a = NULL, *b = NULL, *d = NULL, *again = NULL;
    CHECK_RC(p2c2r__upscale_plan_new(P2C2R_PIX_YUV420P, 96, 64, 2, P2C2R_MODE_LANCZOS, &a),
             P2C2R_OK);
    size_t one = p2c2r__upscale_plan_bytes(a);
    p2c2r__upscale_plan_destroy(&a);
    /* Room for two plans of about this size (the later ones are a little bigger), not
     * three. */
    p2c2r_upscale_cache *c = p2c2r__upscale_cache_new(2 * one + one / 2);
    CHECK_RC(p2c2r__upscale_cache_get(c, P2C2R_PIX_YUV420P, 96, 64, 2, P2C2R_MODE_LANCZOS, &a),
             P2C2R_OK);
    CHECK_RC(p2c2r__upscale_cache_get(c, P2C2R_PIX_YUV420P, 96, 66, 2, P2C2R_MODE_LANCZOS, &b),
             P2C2R_OK);
    CHECK_RC(p2c2r__upscale_cache_get(c, P2C2R_PIX_YUV420P, 96, 64, 2, P2C2R_MODE_LANCZOS, &again),
             P2C2R_OK);
    CHECK(again == a); /* a hit, and now the most recently used */
    p2c2r__upscale_plan_destroy(&again);
    char names[4][P2C2R_UPSCALE_NAME_MAX];
    CHECK(p2c2r__upscale_cache_list(c, names, 4) == 2);
    CHECK(strcmp(names[0], "lanczos yuv420p 96x64 x2") == 0);
    CHECK(strcmp(names[1], "lanczos yuv420p 96x66 x2") == 0);
    /* A third plan evicts the least recently used (96x66), which b still holds. */
    CHECK_RC(p2c2r__upscale_cache_get(c, P2C2R_PIX_YUV420P, 96, 68, 2, P2C2R_MODE_LANCZOS, &d),
             P2C2R_OK);
    CHECK(p2c2r__upscale_cache_list(c, names, 4) == 2);
    CHECK(strcmp(names[0], "lanczos yuv420p 96x68 x2") == 0);
    CHECK(strcmp(names[1], "lanczos yuv420p 96x64 x2") == 0);
    CHECK(p2c2r__upscale_cache_bytes(c) <= 2 * one + one / 2);
    CHECK(strcmp(p2c2r__upscale_plan_name(b), "lanczos yuv420p 96x66 x2") == 0);
    /* A plan bigger than the whole bound is handed out but not kept. */
    const p2c2r_upscale_plan *big = NULL;
    CHECK_RC(p2c2r__upscale_cache_get(c, P2C2R_PIX_YUV420P, 960, 640, 2, P2C2R_MODE_LANCZOS, &big),
             P2C2R_OK);
    CHECK(big != NULL && p2c2r__upscale_cache_list(c, names, 4) == 2);
    p2c2r__upscale_plan_destroy(&big);
    p2c2r__upscale_cache_destroy(&c);
    CHECK(strcmp(p2c2r__upscale_plan_name(a), "lanczos yuv420p 96x64 x2") == 0);
    p2c2r__upscale_plan_destroy(&a);
    p2c2r__upscale_plan_destroy(&b);
    p2c2r__upscale_plan_destroy(&d);
    p2c2r__upscale_cache_destroy(&c);
}

int main(void)
{
    have_avx2 = p2c2r__upscale_simd() == P2C2R_SIMD_AVX2;
    printf("simd: %s\n", p2c2r__upscale_simd_name(p2c2r__upscale_simd()));
    test_exact();
    test_invalid();
    test_planes();
    test_images();
    test_cache();
    return testutil_finish("upscale_test");
}
