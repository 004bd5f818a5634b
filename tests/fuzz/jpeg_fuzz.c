/* jpeg_fuzz: the JPEG path of a peer on any bytes: p2c2r__jpeg_header(), which every JPEG
 * input passes before anything is allocated for it, then both decoders, TurboJPEG's
 * (p2c2r__jpeg_decode) and the peer's row decoder (p2c2r__jpegrows_decode).
 *
 * The header must be refused with a documented code or name a supported layout within
 * the image limits. The decoders run only on pictures of at most DECODE_MAX_PIXELS, which
 * keeps each input to microseconds (libFuzzer shrinks the seeds' dimensions itself); what
 * they decode must match the header, the row decoder must always end its waiters' wait
 * with its own result, and when both decode, their planes must be the same. */
#include <string.h>

#include "common/image.h"
#include "common/jpegrows.h"
#include "fuzz.h"

#define DECODE_MAX_PIXELS (128u * 128u)

/* Whether two decodes of one picture hold the same visible samples. */
static int same_pixels(const p2c2r_image *a, const p2c2r_image *b)
{
    for (uint32_t i = 0; i < a->nplanes; i++) {
        const p2c2r_plane *pa = &a->plane[i], *pb = &b->plane[i];
        for (uint32_t y = 0; y < pa->height; y++)
            if (memcmp(pa->data + (size_t)y * pa->stride, pb->data + (size_t)y * pb->stride,
                       (size_t)pa->width * pa->channels) != 0)
                return 0;
    }
    return 1;
}

static void decode_both(p2c2r_jpeg *jpeg, const uint8_t *data, size_t size, uint32_t w, uint32_t h,
                        p2c2r_pixel_format format)
{
    p2c2r_image img = {0}, rows_img = {0};
    int rc = p2c2r__jpeg_decode(jpeg, data, size, &img);
    FUZZ_CHECK(rc == P2C2R_OK || rc == P2C2R_E_BADINPUT || rc == P2C2R_E_NOMEM);
    FUZZ_CHECK((rc == P2C2R_OK) == (img.buffer != NULL));
    if (rc == P2C2R_OK)
        FUZZ_CHECK(img.format == format && img.width == w && img.height == h);

    if (p2c2r__jpegrows_supports(format) &&
        p2c2r__image_alloc(&rows_img, format, w, h) == P2C2R_OK) {
        p2c2r_rows rows;
        p2c2r__rows_init(&rows);
        int rrc = p2c2r__jpegrows_decode(data, size, &rows_img, &rows);
        FUZZ_CHECK(rrc == P2C2R_OK || rrc == P2C2R_E_BADINPUT || rrc == P2C2R_E_NOMEM);
        FUZZ_CHECK(p2c2r__rows_wait(&rows, h) == rrc);
        /* jpegrows.h: the same planes as TurboJPEG's, whenever both decode. */
        if (rc == P2C2R_OK && rrc == P2C2R_OK)
            FUZZ_CHECK(same_pixels(&img, &rows_img));
        p2c2r__rows_fini(&rows);
        p2c2r__image_free(&rows_img);
    }
    p2c2r__image_free(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One handle for the whole run, as a peer's worker keeps one. */
    static p2c2r_jpeg *jpeg;
    if (!jpeg)
        jpeg = p2c2r__jpeg_new();
    FUZZ_CHECK(jpeg != NULL);

    uint32_t w = 0, h = 0;
    p2c2r_pixel_format format = P2C2R_PIX_UNSPECIFIED;
    int rc = p2c2r__jpeg_header(jpeg, data, size, &w, &h, &format);
    FUZZ_CHECK(rc == P2C2R_OK || rc == P2C2R_E_BADINPUT || rc == P2C2R_E_TOOBIG ||
               rc == P2C2R_E_UNSUPPORTED || rc == P2C2R_E_NOMEM);
    if (rc != P2C2R_OK)
        return 0;
    FUZZ_CHECK(p2c2r__image_check(format, w, h) == P2C2R_OK);
    FUZZ_CHECK(format == P2C2R_PIX_GRAY8 || format == P2C2R_PIX_RGB24 ||
               format == P2C2R_PIX_YUV420P || format == P2C2R_PIX_YUV422P ||
               format == P2C2R_PIX_YUV444P);
    if ((uint64_t)w * h <= DECODE_MAX_PIXELS)
        decode_both(jpeg, data, size, w, h, format);
    return 0;
}
