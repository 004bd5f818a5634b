/* decode_fuzz: every decoder that sees bytes from the network, fed mutated inputs.
 *
 * The JPEG decoders are TurboJPEG's (p2c2r__jpeg_decode) and the peer's row decoder
 * (p2c2r__jpegrows_decode). Seeds are real messages (an encoded Envelope, the test JPEGs, a zstd
 * frame); each iteration flips, inserts, deletes or overwrites a few bytes, or truncates, and the
 * decoder must return either success with a consistent result or one of its documented
 * errors. Crashes, hangs and out-of-bounds accesses are the failures this finds; run
 * under the sanitizer build they are caught at the faulting access. Iterations are fixed
 * and the PRNG seeded, so a failure reproduces; P2C2R_FUZZ_ITERS scales the run. */
#include <stdlib.h>
#include <string.h>

#include "common/envelope.h"
#include "common/task.h"
#include "common/image.h"
#include "common/jpegrows.h"
#include "common/zstd.h"
#include "testutil.h"

static uint64_t seed = 0x5eed;

/* Mutate src into dst (capacity cap); returns the new size. */
static size_t mutate(const uint8_t *src, size_t size, uint8_t *dst, size_t cap)
{
    size_t n = size < cap ? size : cap;
    memcpy(dst, src, n);
    int edits = 1 + (int)(testutil_rand(&seed) % 4);
    for (int e = 0; e < edits && n > 0; e++) {
        size_t at = testutil_rand(&seed) % n;
        switch (testutil_rand(&seed) % 5) {
        case 0: /* flip a bit */
            dst[at] ^= (uint8_t)(1u << (testutil_rand(&seed) % 8));
            break;
        case 1: /* overwrite with a boundary value */
            dst[at] = (uint8_t[]){0x00, 0x7f, 0x80, 0xff}[testutil_rand(&seed) % 4];
            break;
        case 2: /* truncate */
            n = at;
            break;
        case 3: /* delete a byte */
            memmove(dst + at, dst + at + 1, n - at - 1);
            n--;
            break;
        case 4: /* insert a random byte */
            if (n < cap) {
                memmove(dst + at + 1, dst + at, n - at);
                dst[at] = (uint8_t)testutil_rand(&seed);
                n++;
            }
            break;
        }
    }
    return n;
}

static void fuzz_envelope(int iters)
{
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    frame.width = 640;
    frame.height = 360;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    up.scale = 2;
    char *kinds[] = {"upscale", "noop"};
    P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
    info.name = "peer";
    info.kinds = kinds;
    info.n_kinds = 2;
    info.slots = 4;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.task_id = 12345;
    env.kind = "upscale";
    env.deadline_us = 16000;
    env.frame = &frame;
    env.upscale = &up;
    env.peer = &info;
    env.detail = "seed";
    zmq_msg_t msg;
    CHECK_RC(p2c2r__envelope_encode(&env, &msg), P2C2R_OK);
    uint8_t buf[1024];
    int ok = 0;
    for (int i = 0; i < iters; i++) {
        size_t n = mutate(zmq_msg_data(&msg), zmq_msg_size(&msg), buf, sizeof buf);
        p2c2r_envelope *out = NULL;
        int rc = p2c2r__envelope_decode(buf, n, &out);
        CHECK(rc == P2C2R_OK || rc == P2C2R_E_PROTOCOL || rc == P2C2R_E_VERSION);
        CHECK((rc == P2C2R_OK) == (out != NULL));
        if (out) {
            ok++;
            /* What decodes must be safe to read and to validate. */
            const char *detail;
            (void)p2c2r__task_validate(out, 0, &detail);
            CHECK(detail != NULL);
        }
        p2c2r__envelope_free(&out);
    }
    zmq_msg_close(&msg);
    printf("envelope: %d iterations, %d decoded\n", iters, ok);
}

static void fuzz_jpeg(int iters)
{
    static const char *const seeds[] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                        "fallenleaf_gray.jpg", "path_444.jpg"};
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    int ok = 0;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        size_t size;
        uint8_t *src = testutil_read_file(testutil_data_path(seeds[s]), &size);
        CHECK(src != NULL);
        if (!src)
            continue;
        uint8_t *buf = malloc(size + 64);
        for (int i = 0; i < iters / 4; i++) {
            size_t n = mutate(src, size, buf, size + 64);
            uint32_t w, h;
            p2c2r_pixel_format fmt;
            int hrc = p2c2r__jpeg_header(jpeg, buf, n, &w, &h, &fmt);
            p2c2r_image img = {0};
            int rc = p2c2r__jpeg_decode(jpeg, buf, n, &img);
            CHECK(rc == P2C2R_OK || rc == P2C2R_E_BADINPUT || rc == P2C2R_E_TOOBIG ||
                  rc == P2C2R_E_UNSUPPORTED || rc == P2C2R_E_CODEC);
            CHECK((rc == P2C2R_OK) == (img.buffer != NULL));
            if (rc == P2C2R_OK) {
                ok++;
                CHECK(hrc == P2C2R_OK && img.width == w && img.height == h);
            }
            p2c2r__image_free(&img);
            /* The peer's row decoder takes any stream whose header passed, as the peer
             * does: it must fail cleanly and always end its waiters' wait. */
            if (hrc == P2C2R_OK && p2c2r__jpegrows_supports(fmt) &&
                p2c2r__image_alloc(&img, fmt, w, h) == P2C2R_OK) {
                p2c2r_rows rows;
                p2c2r__rows_init(&rows);
                int rrc = p2c2r__jpegrows_decode(buf, n, &img, &rows);
                CHECK(rrc == P2C2R_OK || rrc == P2C2R_E_BADINPUT || rrc == P2C2R_E_NOMEM);
                CHECK(p2c2r__rows_wait(&rows, h) == rrc);
                p2c2r__rows_fini(&rows);
                p2c2r__image_free(&img);
            }
        }
        free(buf);
        free(src);
    }
    p2c2r__jpeg_destroy(&jpeg);
    printf("jpeg: %d iterations, %d decoded\n", iters, ok);
}

static void fuzz_zstd(int iters)
{
    uint8_t plain[4096];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 7 / 13);
    uint8_t *packed = NULL;
    size_t packed_size = 0;
    CHECK_RC(p2c2r__zstd_compress(plain, sizeof plain, 3, &packed, &packed_size), P2C2R_OK);
    if (!packed)
        return;
    uint8_t buf[8192];
    int ok = 0;
    for (int i = 0; i < iters; i++) {
        size_t n = mutate(packed, packed_size, buf, sizeof buf);
        uint8_t *out = NULL;
        size_t out_size = 0;
        int rc = p2c2r__zstd_decompress(buf, n, sizeof plain, &out, &out_size);
        CHECK(rc == P2C2R_OK || rc == P2C2R_E_BADINPUT || rc == P2C2R_E_TOOBIG);
        CHECK((rc == P2C2R_OK) == (out != NULL));
        CHECK(rc != P2C2R_OK || out_size <= sizeof plain);
        ok += rc == P2C2R_OK;
        free(out);
    }
    free(packed);
    printf("zstd: %d iterations, %d decoded\n", iters, ok);
}

int main(void)
{
    const char *scale_env = getenv("P2C2R_FUZZ_ITERS");
    int iters = scale_env ? atoi(scale_env) : 20000;
    if (iters <= 0)
        iters = 20000;
    fuzz_envelope(iters);
    fuzz_jpeg(iters / 10);
    fuzz_zstd(iters);
    return testutil_finish("decode_fuzz");
}
