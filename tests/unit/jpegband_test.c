/* jpegband_test: the band encoder (jpegband) and the row decoder (jpegrows).
 *
 * A JPEG encoded in bands is the same file whatever the number of bands and
 * threads, decodes with TurboJPEG to the same size and format, and is as close to the
 * source as TurboJPEG's own single-pass encode at the same quality (within 0.1 dB: the
 * DC predictor resets at the restart markers cost nothing in quality). Odd sizes, every
 * format it takes, and a fill callback that produces the rows just in time. */
#include <stdlib.h>
#include <string.h>

#include "common/jpegband.h"
#include "common/jpegrows.h"
#include "testutil.h"

static void fill_image(p2c2r_image *img)
{
    uint64_t seed = img->width * 31u + img->height;
    for (uint32_t i = 0; i < img->nplanes; i++) {
        p2c2r_plane *p = &img->plane[i];
        for (uint32_t y = 0; y < p->height; y++)
            for (uint32_t x = 0; x < p->width * p->channels; x++)
                p->data[(size_t)y * p->stride + x] =
                    (uint8_t)((x * 3 + y * 5 + i * 40) ^ (testutil_rand(&seed) & 15));
    }
}

/* The fill callback: copy rows [y0, y1) from a complete source image. */
typedef struct copy_arg {
    const p2c2r_image *from; /* complete image */
    p2c2r_image *to;         /* being encoded */
    uint32_t rows_seen;      /* rows filled in all (atomic) */
} copy_arg;

static int copy_rows(void *arg, uint32_t y0, uint32_t y1)
{
    copy_arg *c = arg;
    for (uint32_t i = 0; i < c->to->nplanes; i++) {
        p2c2r_plane *d = &c->to->plane[i];
        const p2c2r_plane *s = &c->from->plane[i];
        uint32_t sy = d->height < c->to->height ? 1 : 0;
        uint32_t r1 = (y1 + sy) >> sy;
        for (uint32_t r = y0 >> sy; r < r1 && r < d->height; r++)
            memcpy(d->data + (size_t)r * d->stride, s->data + (size_t)r * s->stride,
                   (size_t)d->width * d->channels);
    }
    __atomic_add_fetch(&c->rows_seen, y1 - y0, __ATOMIC_RELAXED);
    return P2C2R_OK;
}

static void encode_case(p2c2r_pixel_format fmt, uint32_t w, uint32_t h, p2c2r_pool *pool,
                        p2c2r_jpeg *tj)
{
    p2c2r_image img = {0}, lazy = {0}, back = {0}, tjback = {0};
    uint8_t *one = NULL, *many = NULL, *filled = NULL, *tjout = NULL;
    size_t one_size = 0, many_size = 0, filled_size = 0, tj_size = 0;
    CHECK_RC(p2c2r__image_alloc(&img, fmt, w, h), P2C2R_OK);
    CHECK_RC(p2c2r__image_alloc(&lazy, fmt, w, h), P2C2R_OK);
    fill_image(&img);
    CHECK_RC(p2c2r__jpegband_encode(&img, 85, NULL, 1, NULL, &one, &one_size), P2C2R_OK);
    CHECK_RC(p2c2r__jpegband_encode(&img, 85, pool, 7, NULL, &many, &many_size), P2C2R_OK);
    copy_arg c = {&img, &lazy, 0};
    p2c2r_jpegband_hooks hooks = {.fill = copy_rows, .arg = &c};
    CHECK_RC(p2c2r__jpegband_encode(&lazy, 85, pool, 5, &hooks, &filled, &filled_size), P2C2R_OK);
    CHECK(c.rows_seen == h);
    CHECK(one_size == many_size && one && many && memcmp(one, many, one_size) == 0);
    CHECK(one_size == filled_size && filled && memcmp(one, filled, one_size) == 0);

    CHECK_RC(p2c2r__jpeg_decode(tj, one, one_size, &back), P2C2R_OK);
    CHECK(back.width == w && back.height == h && back.format == fmt);
    CHECK_RC(p2c2r__jpeg_encode(tj, &img, 85, &tjout, &tj_size), P2C2R_OK);
    CHECK_RC(p2c2r__jpeg_decode(tj, tjout, tj_size, &tjback), P2C2R_OK);
    for (uint32_t i = 0; i < back.nplanes && back.format == fmt && tjback.buffer; i++) {
        double ours = testutil_psnr_plane(&back.plane[i], &img.plane[i]);
        double theirs = testutil_psnr_plane(&tjback.plane[i], &img.plane[i]);
        if (ours < theirs - 0.1)
            fprintf(stderr, "%ux%u fmt %d plane %u: %.2f dB vs TurboJPEG %.2f dB\n", w, h, fmt, i,
                    ours, theirs);
        CHECK(ours >= theirs - 0.1);
    }
    free(one);
    free(many);
    free(filled);
    p2c2r__jpeg_free_buffer(tjout, NULL);
    p2c2r__image_free(&img);
    p2c2r__image_free(&lazy);
    p2c2r__image_free(&back);
    p2c2r__image_free(&tjback);
}

/* The row decoder gives TurboJPEG's planes exactly, announces every row, and fails a
 * truncated stream without leaving a waiter hanging. */
static void decode_case(const uint8_t *jpg, size_t size, p2c2r_jpeg *tj)
{
    p2c2r_image want = {0}, got = {0};
    uint32_t w, h;
    p2c2r_pixel_format fmt;
    CHECK_RC(p2c2r__jpeg_header(tj, jpg, size, &w, &h, &fmt), P2C2R_OK);
    CHECK_RC(p2c2r__jpeg_decode(tj, jpg, size, &want), P2C2R_OK);
    CHECK(p2c2r__jpegrows_supports(fmt));
    CHECK_RC(p2c2r__image_alloc(&got, fmt, w, h), P2C2R_OK);
    p2c2r_rows rows;
    p2c2r__rows_init(&rows);
    CHECK_RC(p2c2r__jpegrows_decode(jpg, size, &got, &rows), P2C2R_OK);
    CHECK_RC(p2c2r__rows_wait(&rows, h), P2C2R_OK);
    for (uint32_t i = 0; i < got.nplanes && want.buffer; i++) {
        const p2c2r_plane *a = &got.plane[i], *b = &want.plane[i];
        for (uint32_t y = 0; y < a->height; y++)
            CHECK(memcmp(a->data + (size_t)y * a->stride, b->data + (size_t)y * b->stride,
                         a->width) == 0);
    }
    p2c2r__rows_fini(&rows);
    p2c2r__rows_init(&rows);
    CHECK_RC(p2c2r__jpegrows_decode(jpg, size * 2 / 3, &got, &rows), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__rows_wait(&rows, h), P2C2R_E_BADINPUT);
    p2c2r__rows_fini(&rows);
    p2c2r__image_free(&want);
    p2c2r__image_free(&got);
}

static void test_decode(p2c2r_pool *pool, p2c2r_jpeg *tj)
{
    static const char *const files[] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                        "path_444.jpg", "fallenleaf_gray.jpg"};
    for (size_t i = 0; i < 4; i++) {
        size_t size;
        uint8_t *jpg = testutil_read_file(testutil_data_path(files[i]), &size);
        CHECK(jpg != NULL);
        if (jpg)
            decode_case(jpg, size, tj);
        free(jpg);
    }
    /* Our own output, with its restart markers, decodes too. */
    p2c2r_image img = {0};
    uint8_t *out = NULL;
    size_t size = 0;
    CHECK_RC(p2c2r__image_alloc(&img, P2C2R_PIX_YUV420P, 333, 250), P2C2R_OK);
    fill_image(&img);
    CHECK_RC(p2c2r__jpegband_encode(&img, 90, pool, 4, NULL, &out, &size), P2C2R_OK);
    if (out)
        decode_case(out, size, tj);
    free(out);
    p2c2r__image_free(&img);
}

int main(void)
{
    p2c2r_pool *pool = p2c2r__pool_new(3);
    p2c2r_jpeg *tj = p2c2r__jpeg_new();
    static const uint32_t sizes[][2] = {{1, 1}, {17, 9}, {159, 77}, {320, 240}, {333, 250}};
    static const p2c2r_pixel_format fmts[] = {P2C2R_PIX_YUV420P, P2C2R_PIX_YUV422P,
                                              P2C2R_PIX_YUV444P, P2C2R_PIX_GRAY8};
    for (size_t f = 0; f < 4; f++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            encode_case(fmts[f], sizes[i][0], sizes[i][1], pool, tj);
    test_decode(pool, tj);
    p2c2r_image rgb = {0};
    uint8_t *out = NULL;
    size_t size = 0;
    CHECK_RC(p2c2r__image_alloc(&rgb, P2C2R_PIX_RGB24, 8, 8), P2C2R_OK);
    CHECK_RC(p2c2r__jpegband_encode(&rgb, 85, pool, 2, NULL, &out, &size), P2C2R_E_UNSUPPORTED);
    CHECK_RC(p2c2r__jpegband_encode(&rgb, 0, pool, 2, NULL, &out, &size), P2C2R_E_UNSUPPORTED);
    p2c2r__image_free(&rgb);
    p2c2r__jpeg_destroy(&tj);
    p2c2r__pool_destroy(&pool);
    return testutil_finish("jpegband_test");
}
