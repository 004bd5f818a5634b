/* resize_test: p2c2r__resize_bilinear against hand-worked values and a double-precision
 * reference.
 *
 * The reference below is the textbook formula written for clarity, not speed; the
 * fixed-point kernel must stay within 1 of it (resize.h's promise) on sizes that are not
 * multiples of anything, with padded strides. Reads outside the source are caught two ways:
 * the plane sits flush against an inaccessible guard page, once ending at one and once
 * starting after one, so an overrun at either end faults even without sanitizers; and
 * everything around it, row padding included, holds a sentinel that differs between runs,
 * so a read that leaks into the output shows up as a difference.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "peer/resize.h"
#include "testutil.h"

/* A plane in its own mapping, between two PROT_NONE pages. */
typedef struct test_plane {
    p2c2r_plane p; /* the view passed to the kernel */
    uint8_t *map;  /* the mapping, guard pages included; NULL when none */
    size_t size;   /* bytes in map */
} test_plane;

/* A w x h plane of c channels with `pad` bytes of row padding, either ending at the trailing
 * guard page (at_end) or starting right after the leading one; every accessible byte
 * outside the image is set to `fill`. */
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

static uint8_t *px(const p2c2r_plane *p, uint32_t x, uint32_t y, uint32_t k)
{
    return p->data + (size_t)y * p->stride + (size_t)x * p->channels + k;
}

/* Source position sampled by output position x (see resize.h), clamped to the image. */
static double ref_pos(uint32_t x, uint32_t src, uint32_t dst)
{
    double p = ((double)x + 0.5) * (double)src / (double)dst - 0.5;
    if (p < 0.0)
        p = 0.0;
    if (p > (double)(src - 1))
        p = (double)(src - 1);
    return p;
}

/* Exact bilinear value of output sample (x, y, k), not rounded. */
static double ref_sample(const p2c2r_plane *s, uint32_t dw, uint32_t dh, uint32_t x, uint32_t y,
                         uint32_t k)
{
    double fx = ref_pos(x, s->width, dw), fy = ref_pos(y, s->height, dh);
    uint32_t x0 = (uint32_t)floor(fx), y0 = (uint32_t)floor(fy);
    uint32_t x1 = x0 + 1 < s->width ? x0 + 1 : x0;
    uint32_t y1 = y0 + 1 < s->height ? y0 + 1 : y0;
    double ax = fx - x0, ay = fy - y0;
    double top = (1 - ax) * *px(s, x0, y0, k) + ax * *px(s, x1, y0, k);
    double bot = (1 - ax) * *px(s, x0, y1, k) + ax * *px(s, x1, y1, k);
    return (1 - ay) * top + ay * bot;
}

/* Largest |kernel - exact| over the output. */
static double max_error(const p2c2r_plane *s, const p2c2r_plane *d)
{
    double worst = 0.0;
    for (uint32_t y = 0; y < d->height; y++)
        for (uint32_t x = 0; x < d->width; x++)
            for (uint32_t k = 0; k < d->channels; k++) {
                double e = fabs(*px(d, x, y, k) - ref_sample(s, d->width, d->height, x, y, k));
                if (e > worst)
                    worst = e;
            }
    return worst;
}

static void fill_random(p2c2r_plane *p, uint64_t *seed)
{
    for (uint32_t y = 0; y < p->height; y++)
        for (size_t i = 0; i < (size_t)p->width * p->channels; i++)
            p->data[(size_t)y * p->stride + i] = (uint8_t)testutil_rand(seed);
}

/* 2x2 -> 4x4. Output x samples x / 2 - 0.25: -0.25 (clamped to 0), 0.25, 0.75, 1.25
 * (clamped to 1), so columns and rows mix as 1:0, 3/4:1/4, 1/4:3/4, 0:1.
 * Source 0 100 / 200 40:
 *   row 0 across: 0, 25, 75, 100           row 1 across: 200, 160, 80, 40
 *   out row 1 = 3/4 row0 + 1/4 row1 = 50, 58.75, 76.25, 85    -> 50, 59, 76, 85
 *   out row 2 = 1/4 row0 + 3/4 row1 = 150, 126.25, 78.75, 55  -> 150, 126, 79, 55 */
static void test_hand_2x2(void)
{
    uint8_t s[4] = {0, 100, 200, 40};
    uint8_t d[16];
    static const uint8_t want[16] = {0,   25,  75, 100, 50,  59,  76, 85,
                                     150, 126, 79, 55,  200, 160, 80, 40};
    p2c2r_plane src = {s, 2, 2, 2, 1};
    p2c2r_plane dst = {d, 4, 4, 4, 1};
    CHECK_RC(p2c2r__resize_bilinear(&src, &dst), P2C2R_OK);
    CHECK(memcmp(d, want, sizeof want) == 0);
}

/* 4x4 -> 2x2 samples source positions 0.5 and 2.5: each output is the mean of a 2x2
 * block. (0+10+40+50)/4 = 25, (20+30+60+70)/4 = 45, (80+90+120+130)/4 = 105,
 * (100+110+140+150)/4 = 125. */
static void test_hand_down(void)
{
    uint8_t s[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
    uint8_t d[4];
    static const uint8_t want[4] = {25, 45, 105, 125};
    p2c2r_plane src = {s, 4, 4, 4, 1};
    p2c2r_plane dst = {d, 2, 2, 2, 1};
    CHECK_RC(p2c2r__resize_bilinear(&src, &dst), P2C2R_OK);
    CHECK(memcmp(d, want, sizeof want) == 0);
}

/* Resize a random sw x sh plane to dw x dh four times: source ending at a guard page or
 * starting after one, surrounded by 0 or by 255. Require the same output every time, within
 * 1 of the reference, and the destination's row padding untouched. */
static void test_case(uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh, uint32_t c)
{
    enum { RUNS = 4, SPAD = 13, DPAD = 7, CANARY = 0xA5 };
    test_plane src[RUNS], dst[RUNS];
    memset(src, 0, sizeof src);
    memset(dst, 0, sizeof dst);
    for (int i = 0; i < RUNS; i++) {
        uint64_t seed = 0x1234u + sw * 31u + sh * 7u + c;
        if (test_plane_new(&src[i], sw, sh, c, SPAD, i & 1, i & 2 ? 255 : 0) != 0 ||
            test_plane_new(&dst[i], dw, dh, c, DPAD, i & 1, CANARY) != 0) {
            CHECK(!"cannot map test planes");
            goto done;
        }
        fill_random(&src[i].p, &seed);
        CHECK_RC(p2c2r__resize_bilinear(&src[i].p, &dst[i].p), P2C2R_OK);
    }
    const p2c2r_plane *d = &dst[0].p;
    for (int i = 1; i < RUNS; i++)
        for (uint32_t y = 0; y < dh; y++)
            CHECK(memcmp(px(d, 0, y, 0), px(&dst[i].p, 0, y, 0), (size_t)dw * c) == 0);
    double err = max_error(&src[0].p, d);
    if (err > 1.0)
        fprintf(stderr, "%ux%u -> %ux%u c%u: max error %.3f\n", sw, sh, dw, dh, c, err);
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

static void test_sizes(void)
{
    static const uint32_t cases[][4] = {
        {37, 23, 74, 46},  /* integer 2x, odd sizes */
        {37, 23, 111, 69}, /* integer 3x */
        {37, 23, 50, 61},  /* non-integer, different per axis */
        {37, 23, 13, 9},   /* downscale */
        {64, 48, 17, 5},   /* strong downscale */
        {1, 17, 3, 40},    /* one column */
        {17, 1, 40, 3},    /* one row */
        {1, 1, 4, 4},      /* one pixel */
        {5, 5, 1, 1},      /* down to one pixel */
        {23, 37, 23, 37},  /* identity */
        {301, 7, 600, 15}, /* long rows */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_case(cases[i][0], cases[i][1], cases[i][2], cases[i][3], 1);
        test_case(cases[i][0], cases[i][1], cases[i][2], cases[i][3], 3);
    }
}

/* The identity resize and an exact 2x of a constant plane must be exact, not just close. */
static void test_exact(void)
{
    uint8_t s[5 * 3], d[10 * 6];
    memset(s, 77, sizeof s);
    p2c2r_plane src = {s, 5, 3, 5, 1};
    p2c2r_plane dst = {d, 10, 6, 10, 1};
    CHECK_RC(p2c2r__resize_bilinear(&src, &dst), P2C2R_OK);
    for (size_t i = 0; i < sizeof d; i++)
        CHECK(d[i] == 77);
    for (size_t i = 0; i < sizeof s; i++)
        s[i] = (uint8_t)(i * 17);
    uint8_t same[5 * 3];
    p2c2r_plane id = {same, 5, 3, 5, 1};
    CHECK_RC(p2c2r__resize_bilinear(&src, &id), P2C2R_OK);
    CHECK(memcmp(s, same, sizeof s) == 0);
}

static void test_invalid(void)
{
    uint8_t s[64], d[64];
    p2c2r_plane src = {s, 4, 4, 4, 1};
    p2c2r_plane dst = {d, 4, 4, 4, 1};
    p2c2r_plane bad = dst;
    bad.channels = 3;
    bad.stride = 12;
    CHECK_RC(p2c2r__resize_bilinear(&src, &bad), P2C2R_E_INVAL);
    bad = dst;
    bad.width = 0;
    CHECK_RC(p2c2r__resize_bilinear(&src, &bad), P2C2R_E_INVAL);
    bad = dst;
    bad.height = 0;
    CHECK_RC(p2c2r__resize_bilinear(&bad, &dst), P2C2R_E_INVAL);
    bad = dst;
    bad.stride = 3;
    CHECK_RC(p2c2r__resize_bilinear(&src, &bad), P2C2R_E_INVAL);
    bad = dst;
    bad.data = NULL;
    CHECK_RC(p2c2r__resize_bilinear(&bad, &dst), P2C2R_E_INVAL);
    bad = dst;
    bad.width = P2C2R_IMAGE_MAX_SIDE + 1;
    bad.stride = bad.width;
    CHECK_RC(p2c2r__resize_bilinear(&bad, &dst), P2C2R_E_INVAL);
}

int main(void)
{
    test_hand_2x2();
    test_hand_down();
    test_exact();
    test_sizes();
    test_invalid();
    return testutil_finish("resize_test");
}
