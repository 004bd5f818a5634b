/* zstd_test: p2c2r__zstd_compress/decompress round trips, and every way a hostile payload
 * is refused before memory is committed: a declared size over the limit, a frame with no
 * declared size (what a streaming compressor writes), truncation, trailing bytes and
 * garbage.
 */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "common/zstd.h"
#include "testutil.h"

/* Pixel-like input: smooth ramps plus noise, so it compresses but not to nothing. */
static uint8_t *make_input(size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    uint64_t seed = 42;
    for (size_t i = 0; buf && i < size; i++)
        buf[i] = (uint8_t)(i / 64 + (testutil_rand(&seed) & 7));
    return buf;
}

static void test_round_trip(void)
{
    static const size_t sizes[] = {0, 1, 100, 65536, 3 * 1000 * 1000 + 7};
    static const int levels[] = {0, 1, 3, 19};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint8_t *in = make_input(sizes[s]);
        CHECK(in);
        for (size_t l = 0; in && l < sizeof levels / sizeof levels[0]; l++) {
            if (levels[l] == 19 && sizes[s] > 65536)
                continue; /* slow and proves nothing new */
            uint8_t *z = NULL, *out = NULL;
            size_t zn = 0, n = 0;
            CHECK_RC(p2c2r__zstd_compress(in, sizes[s], levels[l], &z, &zn), P2C2R_OK);
            CHECK_RC(p2c2r__zstd_decompress(z, zn, sizes[s], &out, &n), P2C2R_OK);
            CHECK(n == sizes[s]);
            CHECK(out && memcmp(in, out, n) == 0);
            if (sizes[s] > 1) {
                /* The limit is inclusive: one byte less must refuse. */
                uint8_t *o2 = NULL;
                size_t n2 = 1;
                CHECK_RC(p2c2r__zstd_decompress(z, zn, sizes[s] - 1, &o2, &n2), P2C2R_E_TOOBIG);
                CHECK(o2 == NULL && n2 == 0);
            }
            p2c2r__zstd_free_buffer(z, NULL);
            p2c2r__zstd_free_buffer(out, NULL);
        }
        free(in);
    }
}

static void test_bad_level(void)
{
    uint8_t in[4] = {1, 2, 3, 4};
    uint8_t *z = NULL;
    size_t zn = 0;
    CHECK_RC(p2c2r__zstd_compress(in, sizeof in, -1, &z, &zn), P2C2R_E_INVAL);
    CHECK_RC(p2c2r__zstd_compress(in, sizeof in, 20, &z, &zn), P2C2R_E_INVAL);
    CHECK(z == NULL);
}

/* A decompression bomb: 64 MiB of zeros compress to a few KiB that declare 64 MiB. With a
 * 16 MiB limit it must be refused from the header alone. */
static void test_bomb(void)
{
    size_t n = (size_t)64 << 20;
    uint8_t *zeros = calloc(n, 1);
    CHECK(zeros);
    if (!zeros)
        return;
    uint8_t *z = NULL, *out = NULL;
    size_t zn = 0, on = 7;
    CHECK_RC(p2c2r__zstd_compress(zeros, n, 1, &z, &zn), P2C2R_OK);
    free(zeros);
    CHECK(zn < 64 * 1024);
    CHECK(ZSTD_getFrameContentSize(z, zn) == n);
    CHECK_RC(p2c2r__zstd_decompress(z, zn, 16 << 20, &out, &on), P2C2R_E_TOOBIG);
    CHECK(out == NULL && on == 0);
    p2c2r__zstd_free_buffer(z, NULL);
}

/* A frame written by the streaming API without a pledged size has no content size field. */
static void test_no_declared_size(void)
{
    uint8_t in[1000];
    memset(in, 'x', sizeof in);
    uint8_t frame[2048];
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    CHECK(cctx);
    if (!cctx)
        return;
    ZSTD_outBuffer out = {frame, sizeof frame, 0};
    ZSTD_inBuffer inb = {in, sizeof in, 0};
    size_t left = ZSTD_compressStream2(cctx, &out, &inb, ZSTD_e_continue);
    CHECK(!ZSTD_isError(left));
    do {
        left = ZSTD_compressStream2(cctx, &out, &inb, ZSTD_e_end);
    } while (!ZSTD_isError(left) && left != 0);
    CHECK(left == 0);
    ZSTD_freeCCtx(cctx);
    CHECK(ZSTD_getFrameContentSize(frame, out.pos) == ZSTD_CONTENTSIZE_UNKNOWN);

    uint8_t *o = NULL;
    size_t on = 0;
    CHECK_RC(p2c2r__zstd_decompress(frame, out.pos, 1 << 20, &o, &on), P2C2R_E_BADINPUT);
    CHECK(o == NULL);
}

/* Add delta to the Frame_Content_Size field of a frame header (RFC 8878, 3.1.1.1):
 * magic (4 bytes), descriptor (1), window descriptor (1, absent in single-segment frames),
 * dictionary id (0-4), then the size in 1, 2, 4 or 8 little-endian bytes. */
static int patch_declared_size(uint8_t *frame, size_t size, int delta)
{
    if (size < 6)
        return -1;
    uint8_t fhd = frame[4];
    int single = (fhd >> 5) & 1;
    static const size_t dict_bytes[4] = {0, 1, 2, 4};
    size_t fcs_bytes = (size_t[4]){single ? 1u : 0u, 2, 4, 8}[fhd >> 6];
    size_t at = 5 + (single ? 0 : 1) + dict_bytes[fhd & 3];
    if (fcs_bytes == 0 || at + fcs_bytes > size)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < fcs_bytes; i++)
        v |= (uint64_t)frame[at + i] << (8 * i);
    v += (uint64_t)(int64_t)delta;
    for (size_t i = 0; i < fcs_bytes; i++)
        frame[at + i] = (uint8_t)(v >> (8 * i));
    return 0;
}

static void test_garbage(void)
{
    uint8_t *in = make_input(50000);
    uint8_t *z = NULL, *o = NULL;
    size_t zn = 0, on = 0;
    CHECK(in);
    if (!in)
        return;
    CHECK_RC(p2c2r__zstd_compress(in, 50000, 3, &z, &zn), P2C2R_OK);
    if (!z)
        goto done;

    /* Truncated anywhere: header only, mid-block, last byte missing. */
    static const size_t cut[] = {1, 4, 6, 20};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++)
        CHECK_RC(p2c2r__zstd_decompress(z, cut[i], 1 << 20, &o, &on), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__zstd_decompress(z, zn / 2, 1 << 20, &o, &on), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__zstd_decompress(z, zn - 1, 1 << 20, &o, &on), P2C2R_E_BADINPUT);
    CHECK_RC(p2c2r__zstd_decompress(z, 0, 1 << 20, &o, &on), P2C2R_E_BADINPUT);

    /* Trailing bytes after the frame: not "one frame". */
    uint8_t *longer = malloc(zn + 3);
    CHECK(longer);
    if (longer) {
        memcpy(longer, z, zn);
        memset(longer + zn, 0, 3);
        CHECK_RC(p2c2r__zstd_decompress(longer, zn + 3, 1 << 20, &o, &on), P2C2R_E_BADINPUT);
        free(longer);
    }

    /* The declared size off by one either way: the body then holds more (or less) than the
     * header promised. A flipped byte inside a block, by contrast, may well decode to other
     * valid bytes, as frames carry no checksum; the size check is what must hold. */
    for (int delta = -1; delta <= 1; delta += 2) {
        CHECK(patch_declared_size(z, zn, delta) == 0);
        CHECK_RC(p2c2r__zstd_decompress(z, zn, 1 << 20, &o, &on), P2C2R_E_BADINPUT);
        CHECK(patch_declared_size(z, zn, -delta) == 0);
    }
    CHECK_RC(p2c2r__zstd_decompress(z, zn, 1 << 20, &o, &on), P2C2R_OK);
    p2c2r__zstd_free_buffer(o, NULL);
    o = NULL;

    /* Random bytes, with and without zstd's magic number in front. */
    uint64_t seed = 7;
    uint8_t junk[4096];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)testutil_rand(&seed);
        if (round & 1) {
            static const uint8_t magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
            memcpy(junk, magic, sizeof magic);
        }
        size_t len = 1 + testutil_rand(&seed) % sizeof junk;
        int rc = p2c2r__zstd_decompress(junk, len, 1 << 20, &o, &on);
        /* Random bytes behind the magic can form a valid header declaring a huge size. */
        CHECK(rc == P2C2R_E_BADINPUT || rc == P2C2R_E_TOOBIG);
        CHECK(o == NULL && on == 0);
    }
done:
    CHECK(o == NULL);
    p2c2r__zstd_free_buffer(z, NULL);
    free(in);
}

int main(void)
{
    test_round_trip();
    test_bad_level();
    test_bomb();
    test_no_declared_size();
    test_garbage();
    return testutil_finish("zstd_test");
}
