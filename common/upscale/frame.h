/* frame: one whole upscale on the CPU, from input bytes to output bytes: decode (JPEG, raw
 * or zstd pixels), resample every plane (upscale.h), encode (JPEG, raw or zstd), all in the
 * input's own planar layout.
 *
 * A CPU peer runs it (on its pool) for every frame it does not pipeline, and the SDK's local
 * fallback runs it (on one thread) so that a frame computed locally is the frame the
 * cluster would have sent: the same kernels, JPEG output through the band encoder for the
 * YUV formats and GRAY8 (jpegband.h: its bytes do not depend on the number of bands or
 * threads) and through TurboJPEG for RGB24, zstd level 1.
 */
#ifndef P2C2R_UPSCALE_FRAME_H
#define P2C2R_UPSCALE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"
#include "common/pool.h"
#include "common/upscale/plan_cache.h"
#include "common/upscale/upscale.h"
#include "p2c2r_formats.h"

/* zstd level of ZSTD output, as the peer's. */
#define P2C2R_FRAME_ZSTD_LEVEL 1

/* The input and what to make of it. */
typedef struct p2c2r_frame_request {
    p2c2r_codec codec;         /* input encoding */
    p2c2r_pixel_format format; /* raw/zstd input layout (JPEG: read from the header) */
    uint32_t width, height;    /* raw/zstd input size; JPEG: 0, or checked against it */
    const uint8_t *data;       /* input bytes */
    size_t size;               /* their count */
    uint32_t scale;            /* 1..8 */
    p2c2r_mode mode;           /* filter */
    p2c2r_codec output_codec;  /* output encoding */
    int jpeg_quality;          /* 1..100 for JPEG output */
    p2c2r_pool *pool;          /* threads to resample and encode on (NULL: this one) */
    uint32_t bands;            /* JPEG bands to cut the encoding into (0: one) */
} p2c2r_frame_request;

/* The output. */
typedef struct p2c2r_frame_output {
    uint8_t *data;                           /* output bytes, freed with free_fn(data, NULL) */
    size_t size;                             /* their count */
    void (*free_fn)(void *data, void *hint); /* how to free data (zmq_free_fn's shape) */
    p2c2r_pixel_format format;               /* output layout (as the input's) */
    uint32_t width, height;                  /* output size */
    uint64_t decode_us;                      /* time decoding */
    uint64_t compute_us;                     /* time resampling */
    uint64_t encode_us;                      /* time encoding */
    const char *detail;                      /* on error: a static explanation */
} p2c2r_frame_output;

/* Run one request on this thread with the caller's codec handle (one per thread) and plan
 * cache (shared). Errors as a peer gives them: P2C2R_E_BADINPUT for input that does not
 * decode or does not match its declared size, P2C2R_E_UNSUPPORTED for an unknown codec or
 * mode, P2C2R_E_TOOBIG past the image limits, P2C2R_E_NOMEM, P2C2R_E_CODEC; out->detail
 * says which. On error out->data is NULL. */
int p2c2r__frame_upscale(p2c2r_jpeg *jpeg, p2c2r_upscale_cache *cache, p2c2r_simd simd,
                         const p2c2r_frame_request *req, p2c2r_frame_output *out);

/* Encode an output image as req asks (output_codec, jpeg_quality, pool, bands), into
 * out->data, size and free_fn; img from p2c2r__image_alloc() or p2c2r__image_place(). The
 * last step of p2c2r__frame_upscale(), for a caller that resampled elsewhere (a GPU).
 * P2C2R_E_UNSUPPORTED for an unknown codec, the encoders' errors; out->detail says which. */
int p2c2r__frame_encode(p2c2r_jpeg *jpeg, const p2c2r_frame_request *req, const p2c2r_image *img,
                        p2c2r_frame_output *out);

#endif /* P2C2R_UPSCALE_FRAME_H */
