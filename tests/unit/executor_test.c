/* executor_test: the upscale kind through the executor table (peer/executor.h) on the CPU
 * executor gives, byte for byte, what p2c2r__frame_upscale() gives on one thread (the path
 * of the SDK's local fallback, and the peer's before the table): JPEG inputs of every
 * layout the test data has (4:2:0, progressive 4:2:2, 4:4:4, greyscale), which the CPU
 * executor pipelines, raw and zstd inputs of an odd size, which it does not, every mode
 * and every output codec, with two threads per frame. Slots spread across the executors
 * of a peer's resources, and bad input gets its error and detail. */
#include <stdlib.h>
#include <string.h>

#include "common/image.h"
#include "common/task.h"
#include "common/upscale/frame.h"
#include "common/upscale/plan_cache.h"
#include "common/zstd.h"
#include "peer/executor.h"
#include "peer/kind.h"
#include "peer/resources.h"
#include "testutil.h"

static const char *const jpegs[] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                    "path_444.jpg", "fallenleaf_gray.jpg"};
static const p2c2r_codec out_codecs[] = {P2C2R_CODEC_JPEG, P2C2R_CODEC_RAW, P2C2R_CODEC_ZSTD};

/* Run one input through the kind (state on res) and through the reference; compare. */
static void compare(void *state, p2c2r_jpeg *jpeg, p2c2r_upscale_cache *cache, p2c2r_codec codec,
                    p2c2r_pixel_format fmt, uint32_t w, uint32_t h, const uint8_t *data,
                    size_t size, p2c2r_mode mode, p2c2r_codec out_codec, const char *what)
{
    P2c2r__Wire__Envelope env = P2C2R__WIRE__ENVELOPE__INIT;
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    frame.codec = (P2c2r__Wire__Codec)codec;
    frame.pixel_format = (P2c2r__Wire__PixelFormat)fmt;
    frame.width = w;
    frame.height = h;
    up.scale = 2;
    up.mode = (P2c2r__Wire__UpscaleMode)mode;
    up.output_codec = (P2c2r__Wire__Codec)out_codec;
    up.jpeg_quality = 85;
    env.kind = "upscale";
    env.frame = &frame;
    env.upscale = &up;
    peer_task_in in = {.env = &env, .payload = data, .payload_size = size};
    peer_task_out out = {.frame = P2C2R__WIRE__FRAME__INIT};
    CHECK_RC(peer_kind_upscale.run(state, &in, &out), P2C2R_OK);

    p2c2r_frame_request req = {.codec = codec,
                               .format = fmt,
                               .width = w,
                               .height = h,
                               .data = data,
                               .size = size,
                               .scale = 2,
                               .mode = mode,
                               .output_codec = out_codec,
                               .jpeg_quality = 85};
    p2c2r_frame_output ref;
    CHECK_RC(p2c2r__frame_upscale(jpeg, cache, p2c2r__upscale_simd(), &req, &ref), P2C2R_OK);
    int same =
        out.data && ref.data && out.size == ref.size && !memcmp(out.data, ref.data, ref.size);
    if (!same)
        fprintf(stderr, "%s mode %d codec %d: %zu bytes, reference %zu, differ\n", what, (int)mode,
                (int)out_codec, out.size, ref.size);
    CHECK(same);
    CHECK(out.frame.width == ref.width && out.frame.height == ref.height);
    CHECK((int)out.frame.pixel_format == (int)ref.format);
    CHECK((int)out.frame.codec == (int)out_codec);
    CHECK(out.runtime && strcmp(out.runtime, "cpu") == 0);
    CHECK(out.copy_in_us == 0 && out.copy_out_us == 0);
    if (out.data)
        out.free_fn(out.data, NULL);
    if (ref.data)
        ref.free_fn(ref.data, NULL);
}

/* A truncated JPEG: BADINPUT with its detail, through the kind and its executor. */
static void bad_input(void *state, const uint8_t *data, size_t size)
{
    P2c2r__Wire__Envelope env = P2C2R__WIRE__ENVELOPE__INIT;
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    up.scale = 2;
    env.frame = &frame;
    env.upscale = &up;
    peer_task_in in = {.env = &env, .payload = data, .payload_size = size / 2};
    peer_task_out out = {.frame = P2C2R__WIRE__FRAME__INIT};
    CHECK_RC(peer_kind_upscale.run(state, &in, &out), P2C2R_E_BADINPUT);
    CHECK(out.data == NULL);
    CHECK(out.detail && strstr(out.detail, "JPEG"));
}

int main(void)
{
    peer_resources res;
    void *state = NULL;
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    p2c2r_upscale_cache *cache = p2c2r__upscale_cache_new(PEER_TABLE_CACHE_BYTES);
    CHECK_RC(peer_resources_init(&res, 2), P2C2R_OK);
    CHECK(res.nexecutors == 1 && strcmp(res.executors[0].ops->runtime, "cpu") == 0);
    CHECK(peer_resources_executor(&res, 0) == peer_resources_executor(&res, 5));
    CHECK_RC(peer_kind_upscale.init(&state, &res, 3), P2C2R_OK);
    if (!state || !jpeg || !cache)
        return testutil_finish("executor");

    for (size_t i = 0; i < sizeof jpegs / sizeof jpegs[0]; i++) {
        size_t size;
        uint8_t *data = testutil_read_file(testutil_data_path(jpegs[i]), &size);
        CHECK(data != NULL);
        if (!data)
            continue;
        for (p2c2r_mode m = P2C2R_MODE_FAST; m <= P2C2R_MODE_QUALITY; m++)
            for (size_t c = 0; c < sizeof out_codecs / sizeof out_codecs[0]; c++)
                compare(state, jpeg, cache, P2C2R_CODEC_JPEG, P2C2R_PIX_UNSPECIFIED, 0, 0, data,
                        size, m, out_codecs[c], jpegs[i]);
        if (i == 0)
            bad_input(state, data, size);
        free(data);
    }

    /* Raw and zstd: an odd-sized 4:2:0 image of noise-and-gradient pixels. */
    uint32_t w = 157, h = 93;
    size_t raw_size = p2c2r__image_raw_size(P2C2R_PIX_YUV420P, w, h);
    uint8_t *raw = malloc(raw_size), *packed = NULL;
    size_t packed_size = 0;
    uint64_t seed = 7;
    for (size_t i = 0; raw && i < raw_size; i++)
        raw[i] = (uint8_t)(i * 7 + (testutil_rand(&seed) & 31));
    CHECK_RC(p2c2r__zstd_compress(raw, raw_size, 1, &packed, &packed_size), P2C2R_OK);
    for (p2c2r_mode m = P2C2R_MODE_FAST; raw && packed && m <= P2C2R_MODE_QUALITY; m++)
        for (size_t c = 0; c < sizeof out_codecs / sizeof out_codecs[0]; c++) {
            compare(state, jpeg, cache, P2C2R_CODEC_RAW, P2C2R_PIX_YUV420P, w, h, raw, raw_size, m,
                    out_codecs[c], "raw 157x93");
            compare(state, jpeg, cache, P2C2R_CODEC_ZSTD, P2C2R_PIX_YUV420P, w, h, packed,
                    packed_size, m, out_codecs[c], "zstd 157x93");
        }
    free(raw);
    free(packed);

    peer_kind_upscale.fini(&state);
    CHECK(state == NULL);
    peer_resources_fini(&res);
    p2c2r__upscale_cache_destroy(&cache);
    p2c2r__jpeg_destroy(&jpeg);
    return testutil_finish("executor");
}
