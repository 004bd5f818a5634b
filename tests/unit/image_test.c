/* image_test: the image container and the JPEG codec on real photo crops (tests/data).
 *
 * Quality is pinned as PSNR of decode(encode(x)) against x at quality 95, where x is a
 * decoded crop, so the test measures only this module's encode/decode and its DCT choices,
 * not the original camera JPEG. The thresholds sit about 3 dB under the values
 * measured when the test was written (printed on every run), which catches a wrong plane,
 * a stride mix-up or a subsampling mismatch (those cost 10+ dB) without flaking on a
 * libjpeg-turbo upgrade.
 *
 * Hostile input: truncated files, garbage, and a header patched to claim a huge image must
 * all fail cleanly, the last one before any pixel memory is allocated.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "common/image.h"
#include "testutil.h"

/* Y (or grey) plane PSNR floor at quality 95 for the YUV and GRAY8 round trips; measured
 * 51.1-53.0 dB with libjpeg-turbo 2.1.5. */
#define MIN_PSNR_LUMA_Q95   48.0
/* Chroma plane PSNR floor at quality 95; measured 54.0-62.3 dB. */
#define MIN_PSNR_CHROMA_Q95 51.0
/* RGB24 -> JPEG -> RGB at quality 95 over all three channels, through TurboJPEG's colour
 * conversion and chroma subsampling (4:2:0 measured 44.2 dB, 4:4:0 46.7 dB). */
#define MIN_PSNR_RGB_Q95    41.0

typedef struct sample {
    const char *file;          /* under tests/data */
    uint32_t width, height;    /* as cropped */
    p2c2r_pixel_format format; /* what decode must produce */
} sample;

static const sample samples[] = {
    {"bythewater_420.jpg", 317, 199, P2C2R_PIX_YUV420P},
    {"cups_422_progressive.jpg", 384, 240, P2C2R_PIX_YUV422P},
    {"path_444.jpg", 320, 200, P2C2R_PIX_YUV444P},
    {"fallenleaf_gray.jpg", 256, 160, P2C2R_PIX_GRAY8},
};

static uint8_t *load(const char *name, size_t *size)
{
    uint8_t *buf = testutil_read_file(testutil_data_path(name), size);
    CHECK(buf != NULL);
    return buf;
}

static void test_header_and_round_trip(p2c2r_jpeg *jpeg, const sample *s)
{
    size_t size = 0;
    uint8_t *data = load(s->file, &size);
    p2c2r_image img = {0}, again = {0};
    uint8_t *enc = NULL;
    size_t enc_size = 0;
    if (!data)
        goto done;

    uint32_t w = 0, h = 0;
    p2c2r_pixel_format f = P2C2R_PIX_UNSPECIFIED;
    CHECK_RC(p2c2r__jpeg_header(jpeg, data, size, &w, &h, &f), P2C2R_OK);
    CHECK(w == s->width && h == s->height && f == s->format);

    CHECK_RC(p2c2r__jpeg_decode(jpeg, data, size, &img), P2C2R_OK);
    if (!img.buffer)
        goto done;
    CHECK(img.format == s->format && img.width == s->width && img.height == s->height);
    CHECK(img.nplanes == (s->format == P2C2R_PIX_GRAY8 ? 1u : 3u));
    CHECK(img.plane[0].width == w && img.plane[0].height == h);
    for (uint32_t i = 1; i < img.nplanes; i++) {
        int samp = s->format == P2C2R_PIX_YUV420P   ? TJSAMP_420
                   : s->format == P2C2R_PIX_YUV422P ? TJSAMP_422
                                                    : TJSAMP_444;
        CHECK(img.plane[i].width == (uint32_t)tjPlaneWidth((int)i, (int)w, samp));
        CHECK(img.plane[i].height == (uint32_t)tjPlaneHeight((int)i, (int)h, samp));
    }
    for (uint32_t i = 0; i < img.nplanes; i++)
        CHECK(img.plane[i].stride >= img.plane[i].width);

    CHECK_RC(p2c2r__jpeg_encode(jpeg, &img, 95, &enc, &enc_size), P2C2R_OK);
    CHECK_RC(p2c2r__jpeg_decode(jpeg, enc, enc_size, &again), P2C2R_OK);
    if (!again.buffer)
        goto done;
    CHECK(again.format == img.format && again.width == img.width);
    for (uint32_t i = 0; i < img.nplanes; i++) {
        double psnr = testutil_psnr_plane(&img.plane[i], &again.plane[i]);
        double floor = i == 0 ? MIN_PSNR_LUMA_Q95 : MIN_PSNR_CHROMA_Q95;
        printf("  %-26s plane %u: %.1f dB (floor %.1f), %zu -> %zu bytes\n", s->file, i, psnr,
               floor, size, enc_size);
        CHECK(psnr >= floor);
    }
done:
    p2c2r__jpeg_free_buffer(enc, NULL);
    p2c2r__image_free(&img);
    p2c2r__image_free(&again);
    free(data);
}

/* RGB24 both ways: encode from packed RGB (as 4:2:0), and decode a 4:4:0 JPEG, which has
 * no planar format here and so must come back as RGB24. */
static void test_rgb(p2c2r_jpeg *jpeg)
{
    size_t size = 0;
    uint8_t *data = load("path_444.jpg", &size);
    tjhandle tj = tjInitDecompress();
    tjhandle tc = tjInitCompress();
    uint8_t *rgb = NULL, *back = NULL, *enc = NULL, *jpeg440 = NULL;
    unsigned long len440 = 0;
    size_t enc_size = 0;
    p2c2r_image img = {0}, dec = {0};
    if (!data || !tj || !tc)
        goto done;
    const int w = 320, h = 200;
    rgb = malloc((size_t)w * h * 3);
    back = malloc((size_t)w * h * 3);
    if (!rgb || !back)
        goto done;
    CHECK(tjDecompress2(tj, data, size, rgb, w, 0, h, TJPF_RGB, 0) == 0);

    CHECK_RC(p2c2r__image_from_raw(&img, P2C2R_PIX_RGB24, w, h, rgb, (size_t)w * h * 3), P2C2R_OK);
    CHECK(img.nplanes == 1 && img.plane[0].channels == 3);
    CHECK_RC(p2c2r__jpeg_encode(jpeg, &img, 95, &enc, &enc_size), P2C2R_OK);
    uint32_t ew = 0, eh = 0;
    p2c2r_pixel_format ef = P2C2R_PIX_UNSPECIFIED;
    CHECK_RC(p2c2r__jpeg_header(jpeg, enc, enc_size, &ew, &eh, &ef), P2C2R_OK);
    CHECK(ew == (uint32_t)w && eh == (uint32_t)h && ef == P2C2R_PIX_YUV420P);
    CHECK(tjDecompress2(tj, enc, enc_size, back, w, 0, h, TJPF_RGB, 0) == 0);
    p2c2r_plane a = {rgb, w, h, w * 3, 3}, b = {back, w, h, w * 3, 3};
    double psnr = testutil_psnr_plane(&a, &b);
    printf("  RGB24 -> 4:2:0 q95 -> RGB: %.1f dB (floor %.1f)\n", psnr, MIN_PSNR_RGB_Q95);
    CHECK(psnr >= MIN_PSNR_RGB_Q95);

    /* 4:4:0 decodes through TurboJPEG's colour conversion into RGB24. */
    CHECK(tjCompress2(tc, rgb, w, 0, h, TJPF_RGB, &jpeg440, &len440, TJSAMP_440, 95, 0) == 0);
    CHECK_RC(p2c2r__jpeg_decode(jpeg, jpeg440, len440, &dec), P2C2R_OK);
    CHECK(dec.format == P2C2R_PIX_RGB24 && dec.nplanes == 1 && dec.plane[0].channels == 3);
    if (dec.buffer) {
        psnr = testutil_psnr_plane(&a, &dec.plane[0]);
        printf("  RGB24 -> 4:4:0 q95 -> RGB24 decode: %.1f dB (floor %.1f)\n", psnr,
               MIN_PSNR_RGB_Q95);
        CHECK(psnr >= MIN_PSNR_RGB_Q95);
    }
done:
    CHECK(rgb && back && tj && tc);
    p2c2r__image_free(&img);
    p2c2r__image_free(&dec);
    p2c2r__jpeg_free_buffer(enc, NULL);
    tjFree(jpeg440);
    if (tj)
        tjDestroy(tj);
    if (tc)
        tjDestroy(tc);
    free(rgb);
    free(back);
    free(data);
}

static void test_check(void)
{
    const uint32_t side = P2C2R_IMAGE_MAX_SIDE;
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_YUV420P, 1, 1), P2C2R_OK);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_RGB24, side, P2C2R_IMAGE_MAX_PIXELS / side), P2C2R_OK);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_GRAY8, side, P2C2R_IMAGE_MAX_PIXELS / side + 1),
             P2C2R_E_TOOBIG);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_GRAY8, side + 1, 1), P2C2R_E_TOOBIG);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_GRAY8, 1, side + 1), P2C2R_E_TOOBIG);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_GRAY8, UINT32_MAX, UINT32_MAX), P2C2R_E_TOOBIG);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_YUV444P, 0, 10), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_YUV444P, 10, 0), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__image_check(P2C2R_PIX_UNSPECIFIED, 10, 10), P2C2R_E_UNSUPPORTED);
    CHECK_RC(p2c2r__image_check((p2c2r_pixel_format)99, 10, 10), P2C2R_E_UNSUPPORTED);

    /* 33 x 17: odd both ways, so 4:2:0 chroma rounds up to 17 x 9. */
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_GRAY8, 33, 17) == 561);
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_RGB24, 33, 17) == 3 * 561);
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_YUV444P, 33, 17) == 3 * 561);
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_YUV422P, 33, 17) == 561 + 2 * 17 * 17);
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_YUV420P, 33, 17) == 561 + 2 * 17 * 9);
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_YUV420P, 0, 17) == 0);
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_UNSPECIFIED, 33, 17) == 0);
    CHECK(p2c2r__image_raw_size(P2C2R_PIX_GRAY8, side + 1, 1) == 0);

    p2c2r_image img;
    CHECK_RC(p2c2r__image_alloc(&img, P2C2R_PIX_GRAY8, side + 1, 1), P2C2R_E_TOOBIG);
    CHECK(img.buffer == NULL);
    CHECK_RC(p2c2r__image_alloc(&img, P2C2R_PIX_UNSPECIFIED, 1, 1), P2C2R_E_UNSUPPORTED);
    CHECK(img.buffer == NULL);
    p2c2r__image_free(&img);
    p2c2r__image_free(NULL);
}

static void test_raw_round_trip(void)
{
    static const p2c2r_pixel_format formats[] = {
        P2C2R_PIX_GRAY8, P2C2R_PIX_RGB24, P2C2R_PIX_YUV420P, P2C2R_PIX_YUV422P, P2C2R_PIX_YUV444P};
    static const uint32_t dims[][2] = {{33, 17}, {1, 1}, {2, 3}, {640, 1}};
    uint64_t seed = 99;
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
            uint32_t w = dims[d][0], h = dims[d][1];
            size_t n = p2c2r__image_raw_size(formats[f], w, h);
            CHECK(n > 0);
            uint8_t *raw = malloc(n + 1), *out = NULL;
            size_t out_size = 0;
            p2c2r_image img;
            CHECK(raw);
            if (!raw)
                continue;
            for (size_t i = 0; i < n + 1; i++)
                raw[i] = (uint8_t)testutil_rand(&seed);
            CHECK_RC(p2c2r__image_from_raw(&img, formats[f], w, h, raw, n + 1), P2C2R_E_BADINPUT);
            CHECK(img.buffer == NULL);
            CHECK_RC(p2c2r__image_from_raw(&img, formats[f], w, h, raw, n - 1), P2C2R_E_BADINPUT);
            CHECK_RC(p2c2r__image_from_raw(&img, formats[f], w, h, raw, n), P2C2R_OK);
            CHECK(img.format == formats[f] && img.width == w && img.height == h);
            /* The first sample of every plane is where the packed layout puts it. */
            size_t at = 0;
            for (uint32_t i = 0; i < img.nplanes; i++) {
                const p2c2r_plane *p = &img.plane[i];
                CHECK(p->stride >= p->width * p->channels);
                CHECK(p->data[0] == raw[at]);
                at += (size_t)p->width * p->channels * p->height;
            }
            CHECK(at == n);
            CHECK_RC(p2c2r__image_to_raw(&img, &out, &out_size), P2C2R_OK);
            CHECK(out_size == n && out && memcmp(out, raw, n) == 0);
            free(out);
            p2c2r__image_free(&img);
            CHECK(img.buffer == NULL && img.width == 0);
            free(raw);
        }
    }
    p2c2r_image img;
    uint8_t byte = 0;
    CHECK_RC(p2c2r__image_from_raw(&img, P2C2R_PIX_GRAY8, 0, 1, &byte, 0), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__image_from_raw(&img, P2C2R_PIX_UNSPECIFIED, 1, 1, &byte, 1),
             P2C2R_E_UNSUPPORTED);
}

static void expect_bad(p2c2r_jpeg *jpeg, const uint8_t *data, size_t size, const char *what)
{
    p2c2r_image img = {0};
    int rc = p2c2r__jpeg_decode(jpeg, data, size, &img);
    if (rc != P2C2R_E_BADINPUT)
        fprintf(stderr, "  %s (%zu bytes): %s\n", what, size, p2c2r_errname(rc));
    CHECK(rc == P2C2R_E_BADINPUT);
    CHECK(img.buffer == NULL && img.nplanes == 0);
    p2c2r__image_free(&img);
}

static void test_truncated_and_garbage(p2c2r_jpeg *jpeg)
{
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        size_t size = 0;
        uint8_t *data = load(samples[s].file, &size);
        if (!data)
            continue;
        /* Missing EOI only, mid-scan at several points, inside the headers. */
        expect_bad(jpeg, data, size - 2, "no EOI");
        expect_bad(jpeg, data, size - 100, "last 100 bytes cut");
        expect_bad(jpeg, data, size / 2, "half");
        expect_bad(jpeg, data, size / 5, "a fifth");
        expect_bad(jpeg, data, 300, "headers only");
        expect_bad(jpeg, data, 2, "SOI only");
        free(data);
    }
    uint8_t junk[8192];
    uint64_t seed = 1234;
    for (int round = 0; round < 100; round++) {
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)testutil_rand(&seed);
        if (round & 1) {
            junk[0] = 0xFF; /* SOI, so the parser goes further */
            junk[1] = 0xD8;
        }
        expect_bad(jpeg, junk, 1 + testutil_rand(&seed) % sizeof junk, "garbage");
    }
    size_t size = 0;
    uint8_t *good = load(samples[0].file, &size);
    if (good) {
        p2c2r_image img = {0};
        CHECK_RC(p2c2r__jpeg_decode(jpeg, good, size, &img), P2C2R_OK);
        p2c2r__image_free(&img);
        free(good);
    }
    expect_bad(jpeg, junk, 0, "empty");
    uint32_t w, h;
    p2c2r_pixel_format f;
    CHECK_RC(p2c2r__jpeg_header(jpeg, junk, sizeof junk, &w, &h, &f), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__jpeg_header(jpeg, junk, 0, &w, &h, &f), P2C2R_E_BADINPUT);
}

/* Offset of the SOF0/1/2 segment's height field, or 0. */
static size_t find_sof_dims(const uint8_t *d, size_t size)
{
    size_t i = 2;
    while (i + 9 < size && d[i] == 0xFF) {
        uint8_t m = d[i + 1];
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3];
        if (m >= 0xC0 && m <= 0xC2)
            return i + 5;
        i += 2 + len;
    }
    return 0;
}

/* Claims of a huge image. JPEG stores each side in 16 bits, so 100000 x 100000 cannot be
 * written; 65535 x 65535 is the largest claim possible (libjpeg itself stops at 65500 and
 * reports it as an error), 20000 x 20000 passes libjpeg and must be stopped by our side
 * limit, 16000 x 16000 by our pixel limit. Decoding must fail before allocating: TOOBIG
 * can only come from the header check, and the 65535 case would need 12 GiB otherwise. */
static void test_huge_header(p2c2r_jpeg *jpeg)
{
    static const struct {
        uint16_t w, h;
        int want;
    } claims[] = {
        {65535, 65535, P2C2R_E_BADINPUT},
        {20000, 20000, P2C2R_E_TOOBIG},
        {16000, 16000, P2C2R_E_TOOBIG},
        {16384, 1, P2C2R_OK}, /* in limits: header fine, decode then fails on the data */
    };
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        size_t size = 0;
        uint8_t *data = load(samples[s].file, &size);
        if (!data)
            continue;
        size_t at = find_sof_dims(data, size);
        CHECK(at != 0);
        for (size_t c = 0; at && c < sizeof claims / sizeof claims[0]; c++) {
            data[at] = (uint8_t)(claims[c].h >> 8);
            data[at + 1] = (uint8_t)claims[c].h;
            data[at + 2] = (uint8_t)(claims[c].w >> 8);
            data[at + 3] = (uint8_t)claims[c].w;
            uint32_t w = 0, h = 0;
            p2c2r_pixel_format f;
            int rc = p2c2r__jpeg_header(jpeg, data, size, &w, &h, &f);
            if (rc != claims[c].want)
                fprintf(stderr, "  %s claiming %ux%u: %s\n", samples[s].file, claims[c].w,
                        claims[c].h, p2c2r_errname(rc));
            CHECK(rc == claims[c].want);
            p2c2r_image img = {0};
            rc = p2c2r__jpeg_decode(jpeg, data, size, &img);
            if (claims[c].want != P2C2R_OK) {
                CHECK(rc == claims[c].want);
            } else {
                CHECK(w == claims[c].w && h == claims[c].h);
                CHECK(rc == P2C2R_E_BADINPUT);
            }
            CHECK(img.buffer == NULL);
        }
        /* A failed header must not poison the codec for the next, good, frame. */
        if (at) {
            data[at] = (uint8_t)(samples[s].height >> 8);
            data[at + 1] = (uint8_t)samples[s].height;
            data[at + 2] = (uint8_t)(samples[s].width >> 8);
            data[at + 3] = (uint8_t)samples[s].width;
            p2c2r_image img = {0};
            CHECK_RC(p2c2r__jpeg_decode(jpeg, data, size, &img), P2C2R_OK);
            p2c2r__image_free(&img);
        }
        free(data);
    }
}

/* An odd-sized 4:2:0 image made from raw bytes: the spare luma column and row TurboJPEG
 * reads were never written, so encode must fill them (valgrind would flag the read, and
 * garbage there would show as ringing in the last visible column and row). */
static void test_odd_encode(p2c2r_jpeg *jpeg)
{
    const uint32_t w = 33, h = 17;
    size_t n = p2c2r__image_raw_size(P2C2R_PIX_YUV420P, w, h);
    uint8_t *raw = calloc(n, 1), *enc = NULL;
    size_t enc_size = 0;
    p2c2r_image img = {0}, back = {0};
    CHECK(raw);
    if (!raw)
        return;
    CHECK_RC(p2c2r__image_from_raw(&img, P2C2R_PIX_YUV420P, w, h, raw, n), P2C2R_OK);
    if (!img.buffer)
        goto done;
    /* A smooth ramp in every plane. */
    for (uint32_t i = 0; i < 3; i++)
        for (uint32_t y = 0; y < img.plane[i].height; y++)
            for (uint32_t x = 0; x < img.plane[i].width; x++)
                img.plane[i].data[(size_t)y * img.plane[i].stride + x] = (uint8_t)(60 + 3 * x + y);
    /* What a resampler might leave in the padding. */
    for (uint32_t y = 0; y < h; y++)
        img.plane[0].data[(size_t)y * img.plane[0].stride + w] = (uint8_t)(y & 1 ? 255 : 0);
    CHECK_RC(p2c2r__jpeg_encode(jpeg, &img, 95, &enc, &enc_size), P2C2R_OK);
    CHECK_RC(p2c2r__jpeg_decode(jpeg, enc, enc_size, &back), P2C2R_OK);
    if (!back.buffer)
        goto done;
    int worst = 0;
    for (uint32_t i = 0; i < 3; i++) {
        const p2c2r_plane *a = &img.plane[i], *b = &back.plane[i];
        CHECK(a->width == b->width && a->height == b->height);
        for (uint32_t y = 0; y < a->height; y++)
            for (uint32_t x = 0; x < a->width; x++) {
                int d =
                    abs(a->data[(size_t)y * a->stride + x] - b->data[(size_t)y * b->stride + x]);
                worst = d > worst ? d : worst;
            }
    }
    /* A smooth ramp at quality 95 comes back within a few levels everywhere, edges too. */
    printf("  odd 33x17 4:2:0 ramp at q95: max abs error %d (limit 4)\n", worst);
    CHECK(worst <= 4);
done:
    p2c2r__jpeg_free_buffer(enc, NULL);
    p2c2r__image_free(&img);
    p2c2r__image_free(&back);
    free(raw);
}

static void test_encode_args(p2c2r_jpeg *jpeg)
{
    p2c2r_image img;
    uint8_t *out = (uint8_t *)&img;
    size_t size = 1;
    CHECK_RC(p2c2r__image_alloc(&img, P2C2R_PIX_YUV420P, 17, 9), P2C2R_OK);
    if (!img.buffer)
        return;
    for (uint32_t i = 0; i < img.nplanes; i++)
        memset(img.plane[i].data, 128, (size_t)img.plane[i].stride * img.plane[i].height);
    CHECK_RC(p2c2r__jpeg_encode(jpeg, &img, 0, &out, &size), P2C2R_E_INVAL);
    CHECK(out == NULL && size == 0);
    CHECK_RC(p2c2r__jpeg_encode(jpeg, &img, 101, &out, &size), P2C2R_E_INVAL);
    CHECK_RC(p2c2r__jpeg_encode(jpeg, &img, 1, &out, &size), P2C2R_OK);
    p2c2r__jpeg_free_buffer(out, NULL);
    p2c2r__jpeg_free_buffer(NULL, NULL);
    p2c2r__image_free(&img);
}

/* A stream that leaves out a table decodes the same whatever the handle decoded before.
 * libjpeg keeps earlier streams' tables in a decompressor and uses them for a stream that
 * does not define its own; a peer's handle must not lend one task's tables to the next.
 * bythewater_420.jpg has libjpeg's standard tables, so without its chroma Huffman tables
 * (those numbered 1) a fresh decoder, which takes the standard ones, gives its pixels. */
static void test_no_tables_from_before(p2c2r_jpeg *jpeg)
{
    size_t size, other_size, n = 2;
    uint8_t *full = load("bythewater_420.jpg", &size);
    uint8_t *other = load("cups_422_progressive.jpg", &other_size);
    uint8_t *part = malloc(size);
    if (!full || !other || !part)
        goto done;
    memcpy(part, full, 2);
    for (size_t at = 2, len; at + 4 <= size; at += len) {
        len = full[at + 1] == 0xda ? size - at : 2 + (size_t)(full[at + 2] << 8 | full[at + 3]);
        if (full[at + 1] != 0xc4 || (full[at + 4] & 0x0f) != 1) {
            memcpy(part + n, full + at, len);
            n += len;
        }
    }
    CHECK(n < size);
    p2c2r_image want = {0}, before = {0}, got = {0};
    CHECK_RC(p2c2r__jpeg_decode(jpeg, full, size, &want), P2C2R_OK);
    CHECK_RC(p2c2r__jpeg_decode(jpeg, other, other_size, &before), P2C2R_OK);
    CHECK_RC(p2c2r__jpeg_decode(jpeg, part, n, &got), P2C2R_OK);
    for (uint32_t p = 0; got.buffer && p < want.nplanes; p++)
        CHECK(testutil_psnr_plane(&want.plane[p], &got.plane[p]) == INFINITY);
    p2c2r__image_free(&want);
    p2c2r__image_free(&before);
    p2c2r__image_free(&got);
done:
    free(part);
    free(other);
    free(full);
}

int main(void)
{
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    CHECK(jpeg != NULL);
    if (!jpeg)
        return testutil_finish("image_test");
    test_check();
    test_raw_round_trip();
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++)
        test_header_and_round_trip(jpeg, &samples[s]);
    test_rgb(jpeg);
    test_truncated_and_garbage(jpeg);
    test_huge_header(jpeg);
    test_odd_encode(jpeg);
    test_encode_args(jpeg);
    test_no_tables_from_before(jpeg);
    p2c2r__jpeg_destroy(&jpeg);
    CHECK(jpeg == NULL);
    p2c2r__jpeg_destroy(&jpeg);
    p2c2r__jpeg_destroy(NULL);
    return testutil_finish("image_test");
}
