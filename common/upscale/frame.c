/* frame: see frame.h. */
#include "common/upscale/frame.h"

#include <stdlib.h>

#include "common/clock.h"
#include "common/jpegband.h"
#include "common/zstd.h"

static void free_buffer(void *data, void *hint)
{
    (void)hint;
    free(data);
}

static int decode_jpeg(p2c2r_jpeg *jpeg, const p2c2r_frame_request *req, p2c2r_image *img,
                       const char **detail)
{
    uint32_t w, h;
    p2c2r_pixel_format fmt;
    int rc = p2c2r__jpeg_header(jpeg, req->data, req->size, &w, &h, &fmt);
    if (rc != P2C2R_OK) {
        *detail = rc == P2C2R_E_TOOBIG ? "JPEG header declares a size beyond the limits"
                                       : "payload is not a readable JPEG";
        return rc == P2C2R_E_TOOBIG ? P2C2R_E_BADINPUT : rc;
    }
    if ((req->width && req->width != w) || (req->height && req->height != h)) {
        *detail = "JPEG size differs from the declared size";
        return P2C2R_E_BADINPUT;
    }
    rc = p2c2r__jpeg_decode(jpeg, req->data, req->size, img);
    if (rc != P2C2R_OK)
        *detail = "JPEG is truncated or corrupt";
    return rc;
}

static int decode_zstd(const p2c2r_frame_request *req, p2c2r_image *img, const char **detail)
{
    size_t want = p2c2r__image_raw_size(req->format, req->width, req->height);
    uint8_t *raw = NULL;
    size_t raw_size = 0;
    int rc = p2c2r__zstd_decompress(req->data, req->size, want, &raw, &raw_size);
    if (rc != P2C2R_OK) {
        *detail = rc == P2C2R_E_TOOBIG ? "zstd frame declares more than the image size"
                                       : "payload is not a valid zstd frame";
        return rc == P2C2R_E_TOOBIG ? P2C2R_E_BADINPUT : rc;
    }
    rc = p2c2r__image_from_raw(img, req->format, req->width, req->height, raw, raw_size);
    free(raw);
    if (rc != P2C2R_OK)
        *detail = "decompressed size does not match the image size";
    return rc;
}

static int decode(p2c2r_jpeg *jpeg, const p2c2r_frame_request *req, p2c2r_image *img,
                  const char **detail)
{
    switch (req->codec) {
    case P2C2R_CODEC_JPEG:
        return decode_jpeg(jpeg, req, img, detail);
    case P2C2R_CODEC_RAW: {
        int rc =
            p2c2r__image_from_raw(img, req->format, req->width, req->height, req->data, req->size);
        if (rc != P2C2R_OK)
            *detail = "raw payload size does not match its format and size";
        return rc;
    }
    case P2C2R_CODEC_ZSTD:
        return decode_zstd(req, img, detail);
    }
    *detail = "unknown input codec";
    return P2C2R_E_UNSUPPORTED;
}

int p2c2r__frame_encode(p2c2r_jpeg *jpeg, const p2c2r_frame_request *req, const p2c2r_image *img,
                        p2c2r_frame_output *out)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;
    if (req->output_codec == P2C2R_CODEC_JPEG && p2c2r__jpegband_supports(img->format)) {
        rc = p2c2r__jpegband_encode(img, req->jpeg_quality, req->pool, req->bands ? req->bands : 1,
                                    NULL, &data, &size);
        out->free_fn = free_buffer;
    } else if (req->output_codec == P2C2R_CODEC_JPEG) {
        rc = p2c2r__jpeg_encode(jpeg, img, req->jpeg_quality, &data, &size);
        out->free_fn = p2c2r__jpeg_free_buffer;
    } else if (req->output_codec == P2C2R_CODEC_RAW || req->output_codec == P2C2R_CODEC_ZSTD) {
        rc = p2c2r__image_to_raw(img, &data, &size);
        out->free_fn = free_buffer;
        if (rc == P2C2R_OK && req->output_codec == P2C2R_CODEC_ZSTD) {
            uint8_t *packed = NULL;
            size_t packed_size = 0;
            rc = p2c2r__zstd_compress(data, size, P2C2R_FRAME_ZSTD_LEVEL, &packed, &packed_size);
            free(data);
            data = packed;
            size = packed_size;
        }
    } else {
        out->detail = "unknown output codec";
        return P2C2R_E_UNSUPPORTED;
    }
    if (rc != P2C2R_OK) {
        out->detail = "encoding the output failed";
        return rc;
    }
    out->data = data;
    out->size = size;
    return P2C2R_OK;
}

int p2c2r__frame_upscale(p2c2r_jpeg *jpeg, p2c2r_upscale_cache *cache, p2c2r_simd simd,
                         const p2c2r_frame_request *req, p2c2r_frame_output *out)
{
    p2c2r_image src = {0}, dst = {0};
    const p2c2r_upscale_plan *plan = NULL;
    *out = (p2c2r_frame_output){.detail = ""};
    if (req->mode < P2C2R_MODE_FAST || req->mode > P2C2R_MODE_QUALITY) {
        out->detail = "unknown upscale mode";
        return P2C2R_E_UNSUPPORTED;
    }
    uint64_t t0 = p2c2r__now_us();
    int rc = decode(jpeg, req, &src, &out->detail);
    if (rc != P2C2R_OK)
        goto fail;
    uint64_t t1 = p2c2r__now_us();
    rc = p2c2r__upscale_cache_get(cache, src.format, src.width, src.height, req->scale, req->mode,
                                  &plan);
    if (rc != P2C2R_OK) {
        out->detail = rc == P2C2R_E_TOOBIG ? "output would exceed the image size limits"
                                           : "cannot build the filter tables";
        goto fail;
    }
    uint32_t ow, oh;
    p2c2r__upscale_plan_output(plan, &ow, &oh);
    rc = p2c2r__image_alloc(&dst, src.format, ow, oh);
    if (rc != P2C2R_OK) {
        out->detail = "output would exceed the image size limits or memory";
        goto fail;
    }
    rc = p2c2r__upscale_image(plan, &src, &dst, req->pool, simd);
    if (rc != P2C2R_OK) {
        out->detail = "resampling failed";
        goto fail;
    }
    uint64_t t2 = p2c2r__now_us();
    rc = p2c2r__frame_encode(jpeg, req, &dst, out);
    if (rc != P2C2R_OK)
        goto fail;
    out->format = dst.format;
    out->width = ow;
    out->height = oh;
    out->decode_us = t1 - t0;
    out->compute_us = t2 - t1;
    out->encode_us = p2c2r__now_us() - t2;
fail:
    p2c2r__upscale_plan_destroy(&plan);
    p2c2r__image_free(&src);
    p2c2r__image_free(&dst);
    return rc;
}
