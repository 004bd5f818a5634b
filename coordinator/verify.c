/* verify: see verify.h. */
#include "coordinator/verify.h"

#include <stdlib.h>
#include <string.h>

#include "common/image.h"
#include "common/random.h"
#include "common/task.h"
#include "common/zstd.h"

/* noop echoes up to this size are compared whole. */
#define NOOP_FULL_COMPARE (64u * 1024u)
/* Beyond it, windows of this size are compared: the first, the last, and NOOP_SAMPLES at
 * offsets the peer cannot predict. noop measures the cluster; a full comparison of each
 * 64 MiB echo would measure the coordinator's memcmp instead. A peer that garbles a
 * fraction f of the windows escapes with probability (1 - f)^NOOP_SAMPLES. */
#define NOOP_WINDOW       64u
#define NOOP_SAMPLES      32u

struct coord_verify {
    p2c2r_jpeg *jpeg; /* TurboJPEG handles, for headers only */
    uint64_t rng;     /* xorshift state for the noop sample offsets */
};

coord_verify *coord_verify_new(void)
{
    coord_verify *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->rng = p2c2r__random_id();
    v->jpeg = p2c2r__jpeg_new();
    if (!v->jpeg) {
        free(v);
        return NULL;
    }
    return v;
}

void coord_verify_destroy(coord_verify **verify)
{
    if (!verify || !*verify)
        return;
    p2c2r__jpeg_destroy(&(*verify)->jpeg);
    free(*verify);
    *verify = NULL;
}

int coord_verify_input(coord_verify *v, const p2c2r_envelope *env, const void *payload, size_t size,
                       coord_input *in, const char **detail)
{
    *in = (coord_input){.kind = p2c2r__task_kind_lookup(env->kind), .size = size};
    *detail = "";
    if (in->kind != P2C2R_KIND_UPSCALE)
        return P2C2R_OK;
    const P2c2r__Wire__Frame *f = env->frame;
    if (f->codec != P2C2R__WIRE__CODEC__CODEC_JPEG) {
        /* Raw and zstd inputs declare their layout; p2c2r__task_validate() checked it. */
        in->width = f->width;
        in->height = f->height;
        in->format = (p2c2r_pixel_format)f->pixel_format;
    } else {
        int rc = p2c2r__jpeg_header(v->jpeg, payload, size, &in->width, &in->height, &in->format);
        if (rc != P2C2R_OK) {
            *detail = rc == P2C2R_E_TOOBIG        ? "JPEG header declares a size beyond the limits"
                      : rc == P2C2R_E_UNSUPPORTED ? "CMYK/YCCK JPEGs are not supported"
                                                  : "payload is not a readable JPEG";
            return rc == P2C2R_E_UNSUPPORTED ? rc : P2C2R_E_BADINPUT;
        }
        if ((f->width && f->width != in->width) || (f->height && f->height != in->height)) {
            *detail = "JPEG size differs from the declared size";
            return P2C2R_E_BADINPUT;
        }
    }
    uint64_t ow = (uint64_t)in->width * env->upscale->scale;
    uint64_t oh = (uint64_t)in->height * env->upscale->scale;
    if (ow > P2C2R_IMAGE_MAX_SIDE || oh > P2C2R_IMAGE_MAX_SIDE ||
        ow * oh > P2C2R_IMAGE_MAX_PIXELS) {
        *detail = "output would exceed the image size limits";
        return P2C2R_E_TOOBIG;
    }
    in->size = (uint64_t)in->width * in->height;
    return P2C2R_OK;
}

static uint64_t next_random(coord_verify *v)
{
    v->rng ^= v->rng << 13;
    v->rng ^= v->rng >> 7;
    v->rng ^= v->rng << 17;
    return v->rng;
}

/* Whether b (size bytes) echoes a: whole when small, else by windows (see the top). */
static bool echoes(coord_verify *v, const uint8_t *a, const uint8_t *b, size_t size)
{
    if (size <= NOOP_FULL_COMPARE)
        return size == 0 || memcmp(a, b, size) == 0;
    size_t last = size - NOOP_WINDOW;
    if (memcmp(a, b, NOOP_WINDOW) || memcmp(a + last, b + last, NOOP_WINDOW))
        return false;
    for (unsigned i = 0; i < NOOP_SAMPLES; i++) {
        size_t at = (size_t)(next_random(v) % (last + 1));
        if (memcmp(a + at, b + at, NOOP_WINDOW))
            return false;
    }
    return true;
}

static int wrong(const char **detail, const char *why)
{
    *detail = why;
    return P2C2R_E_PROTOCOL;
}

static int verify_upscale(coord_verify *v, const p2c2r_envelope *task, const coord_input *in,
                          const P2c2r__Wire__Frame *out, const void *data, size_t size,
                          const char **detail)
{
    const P2c2r__Wire__UpscaleParams *up = task->upscale;
    int codec = up->output_codec ? (int)up->output_codec : P2C2R_CODEC_JPEG;
    p2c2r_pixel_format format =
        up->output_format ? (p2c2r_pixel_format)up->output_format : in->format;
    uint32_t w = in->width * up->scale, h = in->height * up->scale;
    if ((int)out->codec != codec)
        return wrong(detail, "result codec is not the one asked for");
    if (out->width != w || out->height != h)
        return wrong(detail, "result size is not the input size times the scale");
    if ((p2c2r_pixel_format)out->pixel_format != format)
        return wrong(detail, "result pixel format is not the input's");
    if (codec == P2C2R_CODEC_RAW) {
        if (size != p2c2r__image_raw_size(format, w, h))
            return wrong(detail, "raw result has the wrong byte count");
    } else if (codec == P2C2R_CODEC_ZSTD) {
        uint64_t content;
        if (p2c2r__zstd_content_size(data, size, &content) != P2C2R_OK)
            return wrong(detail, "zstd result is not one frame with a declared size");
        if (content != p2c2r__image_raw_size(format, w, h))
            return wrong(detail, "zstd result declares the wrong size");
    } else {
        uint32_t jw, jh;
        p2c2r_pixel_format jf;
        if (p2c2r__jpeg_header(v->jpeg, data, size, &jw, &jh, &jf) != P2C2R_OK)
            return wrong(detail, "JPEG result does not parse");
        if (jw != w || jh != h)
            return wrong(detail, "JPEG result's header has the wrong size");
        /* The encoder may pick the chroma layout of a colour output; grey stays grey. */
        if ((jf == P2C2R_PIX_GRAY8) != (format == P2C2R_PIX_GRAY8))
            return wrong(detail, "JPEG result is grey for a colour input or the reverse");
    }
    return P2C2R_OK;
}

int coord_verify_result(coord_verify *v, const p2c2r_envelope *task, const coord_input *in,
                        const void *input, size_t input_size, const p2c2r_envelope *result,
                        const void *result_payload, size_t result_size, bool has_payload,
                        const char **detail)
{
    *detail = "";
    if (result->status != P2C2R_OK)
        return wrong(detail, "RESULT carries a non-zero status");
    if (in->kind == P2C2R_KIND_NOOP || in->kind == P2C2R_KIND_SLEEP) {
        /* noop and sleep echo their input: anything else is not their answer. */
        if (result_size != input_size || !echoes(v, input, result_payload, input_size))
            return wrong(detail, "noop result differs from its input");
        return P2C2R_OK;
    }
    if (!has_payload || result_size == 0)
        return wrong(detail, "result has no payload");
    if (result_size > P2C2R_PAYLOAD_MAX_BYTES)
        return wrong(detail, "result payload exceeds the size limit");
    if (!result->frame)
        return wrong(detail, "result does not describe its payload");
    return verify_upscale(v, task, in, result->frame, result_payload, result_size, detail);
}
