/* seeds: writes the generated seed corpora of the fuzz targets, made by the project's own
 * encoders so that they follow the wire format as it changes:
 *
 *   fuzz_seeds OUTDIR STAMP
 *
 * OUTDIR/envelope/  one packed Envelope of each message type (and a batch in columns) as
 *                   the SDK, the coordinator and peers send them (also the seeds of
 *                   task_fuzz);
 * OUTDIR/jpeg/      small JPEGs of every layout the decoders handle, and one they refuse
 *                   (CMYK); the test photographs of tests/data are seeds beside them;
 * OUTDIR/zstd/      frames as a client sends them, and frames the bounded decompress must
 *                   refuse (no declared size, two frames, a skippable frame);
 * OUTDIR/work/NAME/ empty, for libFuzzer to keep what it finds during a run (it writes to
 *                   the first corpus folder it is given);
 * STAMP             written last, for the build to know it is done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <zstd.h>

#include "common/envelope.h"
#include "common/image.h"
#include "common/jpegband.h"
#include "common/zstd.h"

static const char *outdir;

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void write_seed(const char *dir, const char *name, const void *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", outdir, dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void write_envelope(const char *name, const p2c2r_envelope *env)
{
    zmq_msg_t msg;
    if (p2c2r__envelope_encode(env, &msg) != P2C2R_OK) {
        fprintf(stderr, "seeds: cannot encode %s\n", name);
        exit(1);
    }
    write_seed("envelope", name, zmq_msg_data(&msg), zmq_msg_size(&msg));
    zmq_msg_close(&msg);
}

static void envelopes(void)
{
    P2c2r__Wire__Frame jpeg_in = P2C2R__WIRE__FRAME__INIT;
    jpeg_in.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    jpeg_in.width = 960;
    jpeg_in.height = 540;
    P2c2r__Wire__Frame raw_in = P2C2R__WIRE__FRAME__INIT;
    raw_in.codec = P2C2R__WIRE__CODEC__CODEC_RAW;
    raw_in.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__YUV420P;
    raw_in.width = 317;
    raw_in.height = 199;
    P2c2r__Wire__Frame zstd_in = raw_in;
    zstd_in.codec = P2C2R__WIRE__CODEC__CODEC_ZSTD;
    zstd_in.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__GRAY8;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    up.scale = 2;
    up.mode = P2C2R__WIRE__UPSCALE_MODE__LANCZOS;
    up.jpeg_quality = 85;
    P2c2r__Wire__UpscaleParams up_raw = up;
    up_raw.scale = 3;
    up_raw.mode = P2C2R__WIRE__UPSCALE_MODE__QUALITY;
    up_raw.output_codec = P2C2R__WIRE__CODEC__CODEC_ZSTD;
    up_raw.output_format = P2C2R__WIRE__PIXEL_FORMAT__YUV444P;
    P2c2r__Wire__TaskNeeds needs = P2C2R__WIRE__TASK_NEEDS__INIT;
    needs.runtime = P2C2R__WIRE__RUNTIME__RUNTIME_CUDA;
    needs.memory_bytes = 64u << 20;
    P2c2r__Wire__SleepParams sleep = P2C2R__WIRE__SLEEP_PARAMS__INIT;
    sleep.ms = 400;
    P2c2r__Wire__Timing timing = P2C2R__WIRE__TIMING__INIT;
    timing.queue_us = 120;
    timing.peer_us = 4100;
    timing.decode_us = 1000;
    timing.compute_us = 600;
    timing.encode_us = 2400;

    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.task_id = 7;
    env.kind = "upscale";
    env.priority = 1;
    env.deadline_us = 33000;
    env.sender = 0x1234567890abcdefull;
    env.frame = &jpeg_in;
    env.upscale = &up;
    write_envelope("submit_upscale_jpeg", &env);
    env.frame = &raw_in;
    env.upscale = &up_raw;
    env.needs = &needs;
    write_envelope("submit_upscale_raw", &env);
    env.frame = &zstd_in;
    env.needs = NULL;
    write_envelope("submit_upscale_zstd", &env);
    env.frame = NULL;
    env.upscale = NULL;
    env.kind = "noop";
    write_envelope("submit_noop", &env);
    env.kind = "sleep";
    env.sleep = &sleep;
    write_envelope("submit_sleep", &env);

    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ASSIGN);
    env.task_id = 1001;
    env.instance = 0xfeedfacecafebeefull;
    env.kind = "upscale";
    env.deadline_us = 30000;
    env.frame = &jpeg_in;
    env.upscale = &up;
    env.needs = &needs;
    write_envelope("assign_upscale", &env);

    P2c2r__Wire__Frame jpeg_out = jpeg_in;
    jpeg_out.width = 1920;
    jpeg_out.height = 1080;
    jpeg_out.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__YUV420P;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
    env.task_id = 1001;
    env.instance = 0xfeedfacecafebeefull;
    env.frame = &jpeg_out;
    env.timing = &timing;
    write_envelope("result", &env);

    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.task_id = 7;
    env.status = P2C2R_E_BADINPUT;
    env.detail = "raw input needs a supported pixel format and a size within limits";
    env.timing = &timing;
    write_envelope("error", &env);

    /* A RESULT batch of three in columns: a result with timing and a frame, an error, a
     * result with an empty payload. */
    uint64_t ids[] = {11, 12, 13}, peer_us[] = {900, 0, 40};
    int32_t statuses[] = {0, P2C2R_E_DEADLINE, 0};
    uint32_t sizes[] = {5, 0, 0}, widths[] = {64, 0, 0}, heights[] = {48, 0, 0};
    protobuf_c_boolean timed[] = {1, 0, 1}, framed[] = {1, 0, 0};
    P2c2r__Wire__Runtime runtimes[] = {P2C2R__WIRE__RUNTIME__RUNTIME_CUDA, 0,
                                       P2C2R__WIRE__RUNTIME__RUNTIME_CPU};
    P2c2r__Wire__BatchColumns columns = P2C2R__WIRE__BATCH_COLUMNS__INIT;
    columns.n_task_id = columns.n_status = columns.n_payload_size = columns.n_peer_us = 3;
    columns.n_runtime = columns.n_timed = columns.n_framed = 3;
    columns.n_frame_width = columns.n_frame_height = 3;
    columns.task_id = ids;
    columns.status = statuses;
    columns.payload_size = sizes;
    columns.payloads = (ProtobufCBinaryData){5, (uint8_t *)"12345"};
    columns.peer_us = peer_us;
    columns.runtime = runtimes;
    columns.timed = timed;
    columns.framed = framed;
    columns.frame_width = widths;
    columns.frame_height = heights;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
    env.instance = 0xfeedfacecafebeefull;
    env.columns = &columns;
    write_envelope("result_columns", &env);

    char *kinds[] = {"upscale", "noop", "sleep"};
    char *resident[] = {"lanczos yuv420p 960x540 x2", "quality gray8 317x199 x3"};
    P2c2r__Wire__UpscaleMode modes[] = {
        P2C2R__WIRE__UPSCALE_MODE__FAST, P2C2R__WIRE__UPSCALE_MODE__BICUBIC,
        P2C2R__WIRE__UPSCALE_MODE__LANCZOS, P2C2R__WIRE__UPSCALE_MODE__QUALITY};
    P2c2r__Wire__Device gpu = P2C2R__WIRE__DEVICE__INIT;
    gpu.name = "NVIDIA H100 80GB HBM3";
    gpu.memory_total = 80ull << 30;
    gpu.memory_free = 79ull << 30;
    gpu.compute_major = 9;
    gpu.multiprocessors = 132;
    P2c2r__Wire__Device *devices[] = {&gpu};
    P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
    info.name = "gpu-host-0";
    info.kinds = kinds;
    info.n_kinds = 3;
    info.slots = 4;
    info.cpu_cores = 16;
    info.runtime = "cuda";
    info.simd = "avx2";
    info.resident = resident;
    info.n_resident = 2;
    info.devices = devices;
    info.n_devices = 1;
    info.modes = modes;
    info.n_modes = 4;
    info.memory_total = 128ull << 30;
    info.memory_free = 100ull << 30;
    uint64_t running[] = {1001, 1002, 1005};
    P2c2r__Wire__PeerLoad load = P2C2R__WIRE__PEER_LOAD__INIT;
    load.running = running;
    load.n_running = 3;
    load.last_assigned = 1005;
    load.foreign_busy = 1;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__PEER_HELLO);
    env.sender = 0x0badc0ffee0ddf00ull;
    env.instance = 0xfeedfacecafebeefull;
    env.peer = &info;
    env.load = &load;
    write_envelope("peer_hello", &env);

    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    env.sender = 0x0badc0ffee0ddf00ull;
    env.instance = 0xfeedfacecafebeefull;
    env.load = &load;
    env.echo_us = 123456789;
    env.held_us = 42;
    write_envelope("heartbeat", &env);

    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__PEER_BYE);
    env.sender = 0x0badc0ffee0ddf00ull;
    write_envelope("peer_bye", &env);
}

/* A w x h picture with some structure, as packed pixels of TurboJPEG format pf. */
static uint8_t *picture(int w, int h, int pf)
{
    int ps = tjPixelSize[pf];
    uint8_t *px = malloc((size_t)w * h * ps);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ps; c++)
                px[((size_t)y * w + x) * ps + c] = (uint8_t)(x * 37 + y * 11 + c * 70 + x * y);
    return px;
}

static void write_tj(const char *name, int w, int h, int pf, int subsamp, int flags)
{
    tjhandle tj = tjInitCompress();
    uint8_t *px = picture(w, h, pf), *jpeg = NULL;
    unsigned long size = 0;
    if (!tj || tjCompress2(tj, px, w, 0, h, pf, &jpeg, &size, subsamp, 80, flags) != 0) {
        fprintf(stderr, "seeds: cannot encode %s: %s\n", name, tjGetErrorStr2(tj));
        exit(1);
    }
    write_seed("jpeg", name, jpeg, size);
    tjFree(jpeg);
    free(px);
    tjDestroy(tj);
}

static void jpegs(void)
{
    write_tj("gray_13x7.jpg", 13, 7, TJPF_GRAY, TJSAMP_GRAY, 0);
    write_tj("yuv420_17x9.jpg", 17, 9, TJPF_RGB, TJSAMP_420, 0);
    write_tj("yuv422_16x16.jpg", 16, 16, TJPF_RGB, TJSAMP_422, 0);
    write_tj("yuv444_9x15.jpg", 9, 15, TJPF_RGB, TJSAMP_444, 0);
    write_tj("yuv440_11x11_rgb.jpg", 11, 11, TJPF_RGB, TJSAMP_440, 0);
    write_tj("yuv411_33x8_rgb.jpg", 33, 8, TJPF_RGB, TJSAMP_411, 0);
    write_tj("yuv420_24x16_progressive.jpg", 24, 16, TJPF_RGB, TJSAMP_420, TJFLAG_PROGRESSIVE);
    write_tj("cmyk_8x8.jpg", 8, 8, TJPF_CMYK, TJSAMP_444, 0);

    /* The peer's own encoder: restart markers after every MCU row. */
    p2c2r_image img = {0};
    uint8_t *out = NULL;
    size_t size = 0;
    if (p2c2r__image_alloc(&img, P2C2R_PIX_YUV420P, 35, 33) != P2C2R_OK)
        exit(1);
    for (uint32_t p = 0; p < img.nplanes; p++)
        for (uint32_t y = 0; y < img.plane[p].height; y++)
            for (uint32_t x = 0; x < img.plane[p].width; x++)
                img.plane[p].data[y * img.plane[p].stride + x] = (uint8_t)(x * 9 + y * 5 + p);
    if (p2c2r__jpegband_encode(&img, 85, NULL, 3, NULL, &out, &size) != P2C2R_OK)
        exit(1);
    write_seed("jpeg", "yuv420_35x33_bands.jpg", out, size);
    free(out);
    p2c2r__image_free(&img);
}

static void write_zstd_frame(const char *name, const void *data, size_t size, int level)
{
    uint8_t *packed = NULL;
    size_t packed_size = 0;
    if (p2c2r__zstd_compress(data, size, level, &packed, &packed_size) != P2C2R_OK)
        exit(1);
    write_seed("zstd", name, packed, packed_size);
    free(packed);
}

static void zstd_frames(void)
{
    static uint8_t plain[4096], noise[1000];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 7 / 13);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (uint8_t)x;
    }
    write_zstd_frame("empty.zst", plain, 0, 3);
    write_zstd_frame("gradient_4096.zst", plain, sizeof plain, 3);
    write_zstd_frame("gradient_4096_level19.zst", plain, sizeof plain, 19);
    write_zstd_frame("noise_1000.zst", noise, sizeof noise, 1); /* stored as a raw block */

    /* A streamed frame, which declares no content size: always refused. */
    uint8_t buf[8192];
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    size_t n = ZSTD_compress2(cctx, buf, sizeof buf, plain, sizeof plain);
    if (ZSTD_isError(n))
        exit(1);
    write_seed("zstd", "no_content_size.zst", buf, n);
    ZSTD_freeCCtx(cctx);

    /* Two frames back to back: the payload must be exactly one. */
    size_t a = ZSTD_compress(buf, sizeof buf, plain, 100, 3);
    size_t b = ZSTD_compress(buf + a, sizeof buf - a, plain + 100, 100, 3);
    if (ZSTD_isError(a) || ZSTD_isError(b))
        exit(1);
    write_seed("zstd", "two_frames.zst", buf, a + b);

    /* A skippable frame (magic 0x184D2A50, 4 bytes of length, then that many bytes). */
    static const uint8_t skippable[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
    write_seed("zstd", "skippable.zst", skippable, sizeof skippable);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_seeds OUTDIR STAMP\n");
        return 2;
    }
    outdir = argv[1];
    static const char *const dirs[] = {"",           "/envelope",  "/jpeg",
                                       "/zstd",      "/work",      "/work/envelope",
                                       "/work/task", "/work/jpeg", "/work/zstd"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", outdir, dirs[i]);
        make_dir(path);
    }
    envelopes();
    jpegs();
    zstd_frames();
    FILE *stamp = fopen(argv[2], "w");
    if (!stamp || fclose(stamp) != 0) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
