/* verify_test: the coordinator's checks of a task's input and of a peer's result.
 * A well-formed result of every output codec passes; each way of being wrong is caught:
 * wrong codec, size, pixel format, byte count, garbage where a JPEG should be, a JPEG
 * whose header contradicts the frame, a zstd frame declaring the wrong size, a missing
 * payload, a non-zero status on a RESULT, and a noop that does not echo its input. */
#include "coordinator/verify.h"

#include <stdlib.h>
#include <string.h>

#include "common/image.h"
#include "common/zstd.h"
#include "testutil.h"

static coord_verify *v;
static P2c2r__Wire__Frame in_frame = P2C2R__WIRE__FRAME__INIT;
static P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
static p2c2r_envelope task;
static coord_input in;

static int check(P2c2r__Wire__Codec codec, P2c2r__Wire__PixelFormat fmt, uint32_t w, uint32_t h,
                 const void *data, size_t size, int status)
{
    P2c2r__Wire__Frame out = P2C2R__WIRE__FRAME__INIT;
    out.codec = codec;
    out.pixel_format = fmt;
    out.width = w;
    out.height = h;
    p2c2r_envelope result;
    p2c2r__envelope_init(&result, P2C2R__WIRE__MSG_TYPE__RESULT);
    result.frame = &out;
    result.status = status;
    const char *detail;
    return coord_verify_result(v, &task, &in, NULL, 0, &result, data, size, data != NULL, &detail);
}

int main(void)
{
    v = coord_verify_new();
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("bythewater_420.jpg"), &size);
    CHECK(v && jpeg);
    if (!v || !jpeg)
        return testutil_finish("verify_test");

    p2c2r__envelope_init(&task, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    task.kind = "upscale";
    task.frame = &in_frame;
    task.upscale = &up;
    in_frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    up.scale = 2;
    const char *detail;
    CHECK_RC(coord_verify_input(v, &task, jpeg, size, &in, &detail), P2C2R_OK);
    CHECK(in.width == 317 && in.height == 199 && in.format == P2C2R_PIX_YUV420P);
    CHECK_RC(coord_verify_input(v, &task, "garbage", 7, &in, &detail), P2C2R_E_BADINPUT);
    in_frame.width = 300; /* declared, and not what the header says */
    CHECK_RC(coord_verify_input(v, &task, jpeg, size, &in, &detail), P2C2R_E_BADINPUT);
    in_frame.width = 0;
    up.scale = 8;
    in_frame.codec = P2C2R__WIRE__CODEC__CODEC_RAW;
    in_frame.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__GRAY8;
    in_frame.width = 4000;
    in_frame.height = 10;
    CHECK_RC(coord_verify_input(v, &task, NULL, 0, &in, &detail), P2C2R_E_TOOBIG);
    in_frame.width = in_frame.height = 0;
    in_frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    up.scale = 2;
    CHECK_RC(coord_verify_input(v, &task, jpeg, size, &in, &detail), P2C2R_OK);

    /* A real 2x JPEG of the right layout passes; the same bytes fail every wrong claim. */
    p2c2r_jpeg *codec = p2c2r__jpeg_new();
    p2c2r_image img = {0};
    uint8_t *out = NULL;
    size_t out_size = 0;
    CHECK_RC(p2c2r__image_alloc(&img, P2C2R_PIX_YUV420P, 634, 398), P2C2R_OK);
    for (uint32_t p = 0; p < img.nplanes; p++)
        memset(img.plane[p].data, 128, (size_t)img.plane[p].stride * img.plane[p].height);
    CHECK_RC(p2c2r__jpeg_encode(codec, &img, 90, &out, &out_size), P2C2R_OK);
    const P2c2r__Wire__Codec J = P2C2R__WIRE__CODEC__CODEC_JPEG;
    const P2c2r__Wire__PixelFormat F = P2C2R__WIRE__PIXEL_FORMAT__YUV420P;
    CHECK_RC(check(J, F, 634, 398, out, out_size, 0), P2C2R_OK);
    CHECK_RC(check(J, F, 634, 398, out, out_size, P2C2R_E_BADINPUT), P2C2R_E_PROTOCOL);
    CHECK_RC(check(J, F, 317, 199, out, out_size, 0), P2C2R_E_PROTOCOL);
    CHECK_RC(check(J, P2C2R__WIRE__PIXEL_FORMAT__YUV444P, 634, 398, out, out_size, 0),
             P2C2R_E_PROTOCOL);
    CHECK_RC(check((P2c2r__Wire__Codec)99, F, 634, 398, out, out_size, 0), P2C2R_E_PROTOCOL);
    CHECK_RC(check(J, F, 634, 398, "\xff\xd8 garbage", 10, 0), P2C2R_E_PROTOCOL);
    CHECK_RC(check(J, F, 634, 398, NULL, 0, 0), P2C2R_E_PROTOCOL);
    CHECK_RC(check(J, F, 634, 398, jpeg, size, 0), P2C2R_E_PROTOCOL); /* header: 317x199 */

    /* Raw output: the exact byte count; zstd: one frame declaring it. */
    up.output_codec = P2C2R__WIRE__CODEC__CODEC_RAW;
    size_t raw_size = p2c2r__image_raw_size(P2C2R_PIX_YUV420P, 634, 398);
    uint8_t *raw = calloc(1, raw_size + 1);
    const P2c2r__Wire__Codec R = P2C2R__WIRE__CODEC__CODEC_RAW;
    CHECK_RC(check(R, F, 634, 398, raw, raw_size, 0), P2C2R_OK);
    CHECK_RC(check(R, F, 634, 398, raw, raw_size + 1, 0), P2C2R_E_PROTOCOL);
    up.output_codec = P2C2R__WIRE__CODEC__CODEC_ZSTD;
    uint8_t *z = NULL, *z_short = NULL;
    size_t z_size = 0, z_short_size = 0;
    CHECK_RC(p2c2r__zstd_compress(raw, raw_size, 1, &z, &z_size), P2C2R_OK);
    CHECK_RC(p2c2r__zstd_compress(raw, raw_size - 1, 1, &z_short, &z_short_size), P2C2R_OK);
    const P2c2r__Wire__Codec Z = P2C2R__WIRE__CODEC__CODEC_ZSTD;
    CHECK_RC(check(Z, F, 634, 398, z, z_size, 0), P2C2R_OK);
    CHECK_RC(check(Z, F, 634, 398, z_short, z_short_size, 0), P2C2R_E_PROTOCOL);
    CHECK_RC(check(Z, F, 634, 398, raw, raw_size, 0), P2C2R_E_PROTOCOL);

    /* noop: the input echoed, byte for byte. */
    task.kind = "noop";
    coord_input noop;
    CHECK_RC(coord_verify_input(v, &task, "abc", 3, &noop, &detail), P2C2R_OK);
    p2c2r_envelope echo;
    p2c2r__envelope_init(&echo, P2C2R__WIRE__MSG_TYPE__RESULT);
    CHECK_RC(coord_verify_result(v, &task, &noop, "abc", 3, &echo, "abc", 3, true, &detail),
             P2C2R_OK);
    CHECK_RC(coord_verify_result(v, &task, &noop, "abc", 3, &echo, "abd", 3, true, &detail),
             P2C2R_E_PROTOCOL);
    CHECK_RC(coord_verify_result(v, &task, &noop, "abc", 3, &echo, "ab", 2, true, &detail),
             P2C2R_E_PROTOCOL);
    /* A large echo is sampled: a copy passes, one garbled beyond a few bytes does not. */
    size_t big = 1u << 20;
    uint8_t *a = malloc(big), *b = malloc(big);
    for (size_t i = 0; i < big; i++)
        a[i] = (uint8_t)(i * 2654435761u >> 11);
    memcpy(b, a, big);
    CHECK_RC(coord_verify_input(v, &task, a, big, &noop, &detail), P2C2R_OK);
    CHECK_RC(coord_verify_result(v, &task, &noop, a, big, &echo, b, big, true, &detail), P2C2R_OK);
    memset(b + big / 4, 0, big / 2); /* half of it zeroed */
    CHECK_RC(coord_verify_result(v, &task, &noop, a, big, &echo, b, big, true, &detail),
             P2C2R_E_PROTOCOL);
    memcpy(b, a, big);
    b[big - 1] ^= 1; /* the last byte is always compared */
    CHECK_RC(coord_verify_result(v, &task, &noop, a, big, &echo, b, big, true, &detail),
             P2C2R_E_PROTOCOL);
    free(a);
    free(b);

    free(z);
    free(z_short);
    free(raw);
    p2c2r__jpeg_free_buffer(out, NULL);
    p2c2r__image_free(&img);
    p2c2r__jpeg_destroy(&codec);
    coord_verify_destroy(&v);
    free(jpeg);
    return testutil_finish("verify_test");
}
