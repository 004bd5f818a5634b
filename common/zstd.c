/* zstd: one-shot zstd compression of raw frames, and a decompress that trusts nothing.
 *
 * Payloads arrive from the network, so decompression reads the frame header first and
 * refuses before allocating: no declared content size (streamed frames), a declared size
 * above the caller's limit, or anything but exactly one frame. Decoding then goes straight
 * into a buffer of the declared size with the one-shot API, which never grows a buffer or
 * allocates a window, so the declared size is the whole memory cost.
 */
#include "common/zstd.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include <zstd.h>

#include "p2c2r_error.h"

/* Levels above 19 ("ultra") need hundreds of megabytes per call; no frame is worth that. */
#define ZSTD_LEVEL_MAX 19

int p2c2r__zstd_compress(const void *data, size_t size, int level, uint8_t **out, size_t *out_size)
{
    assert(data || size == 0);
    assert(out && out_size);
    *out = NULL;
    *out_size = 0;
    if (level < 0 || level > ZSTD_LEVEL_MAX)
        return P2C2R_E_INVAL;
    size_t bound = ZSTD_compressBound(size);
    if (ZSTD_isError(bound))
        return P2C2R_E_TOOBIG;
    uint8_t *buf = malloc(bound);
    if (!buf)
        return P2C2R_E_NOMEM;
    /* Level 0 is zstd's own "default level". The one-shot call writes the content size
     * into the frame header, which p2c2r__zstd_decompress() insists on. */
    size_t n = ZSTD_compress(buf, bound, data, size, level);
    if (ZSTD_isError(n))
        goto fail;
    /* The bound can be far larger than the result; give the slack back before the buffer
     * sits in a send queue. */
    uint8_t *shrunk = realloc(buf, n);
    if (shrunk)
        buf = shrunk;
    *out = buf;
    *out_size = n;
    return P2C2R_OK;
fail:
    free(buf);
    return P2C2R_E_INTERNAL;
}

int p2c2r__zstd_content_size(const void *data, size_t size, uint64_t *content_size)
{
    assert(data || size == 0);
    if (size == 0)
        return P2C2R_E_BADINPUT;
    /* Exactly one frame, whole: this also rejects a truncated frame and trailing bytes. */
    size_t frame = ZSTD_findFrameCompressedSize(data, size);
    if (ZSTD_isError(frame) || frame != size)
        return P2C2R_E_BADINPUT;
    unsigned long long declared = ZSTD_getFrameContentSize(data, size);
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR)
        return P2C2R_E_BADINPUT;
    *content_size = declared;
    return P2C2R_OK;
}

int p2c2r__zstd_decompress_into(const void *data, size_t size, void *dst, size_t dst_size)
{
    uint64_t declared;
    int rc = p2c2r__zstd_content_size(data, size, &declared);
    if (rc != P2C2R_OK)
        return rc;
    if (declared != dst_size)
        return declared > dst_size ? P2C2R_E_TOOBIG : P2C2R_E_BADINPUT;
    /* A frame whose blocks hold more than it declared fails with dstSize_tooSmall, one
     * that holds less returns a short count: both are lies about the size. */
    size_t n = ZSTD_decompress(dst, dst_size, data, size);
    return ZSTD_isError(n) || n != dst_size ? P2C2R_E_BADINPUT : P2C2R_OK;
}

int p2c2r__zstd_decompress(const void *data, size_t size, size_t max_size, uint8_t **out,
                           size_t *out_size)
{
    assert(out && out_size);
    *out = NULL;
    *out_size = 0;
    uint64_t declared;
    int rc = p2c2r__zstd_content_size(data, size, &declared);
    if (rc != P2C2R_OK)
        return rc;
    /* max_size is a size_t, so this also keeps the cast below lossless on 32-bit hosts. */
    if (declared > max_size)
        return P2C2R_E_TOOBIG;
    uint8_t *buf = malloc(declared ? (size_t)declared : 1);
    if (!buf)
        return P2C2R_E_NOMEM;
    rc = p2c2r__zstd_decompress_into(data, size, buf, (size_t)declared);
    if (rc != P2C2R_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_size = (size_t)declared;
    return P2C2R_OK;
}

void p2c2r__zstd_free_buffer(void *data, void *hint)
{
    (void)hint;
    free(data);
}
