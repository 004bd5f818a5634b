/* task: see task.h. */
#include "common/task.h"

#include <string.h>

#include "common/image.h"

static const char *const kind_names[P2C2R_KIND_COUNT] = {
    [P2C2R_KIND_UPSCALE] = "upscale",
    [P2C2R_KIND_NOOP] = "noop",
    [P2C2R_KIND_SLEEP] = "sleep",
};

int p2c2r__task_kind_lookup(const char *name)
{
    /* Every task is looked up several times on its way: one comparison, not one per kind
     * (the names differ in their first letter). */
    for (int i = 0; i < P2C2R_KIND_COUNT; i++)
        if (name[0] == kind_names[i][0])
            return strcmp(name, kind_names[i]) == 0 ? i : -1;
    return -1;
}

const char *p2c2r__task_kind_name(int kind)
{
    return kind >= 0 && kind < P2C2R_KIND_COUNT ? kind_names[kind] : "?";
}

static int valid_codec(int codec)
{
    return codec == P2C2R_CODEC_RAW || codec == P2C2R_CODEC_JPEG || codec == P2C2R_CODEC_ZSTD;
}

static int validate_upscale(const p2c2r_envelope *env, const char **detail)
{
    const P2c2r__Wire__Frame *in = env->frame;
    const P2c2r__Wire__UpscaleParams *up = env->upscale;
    if (!in || !up) {
        *detail = "upscale needs frame and upscale parameters";
        return P2C2R_E_INVAL;
    }
    if (!valid_codec((int)in->codec)) {
        *detail = "unknown input codec";
        return P2C2R_E_UNSUPPORTED;
    }
    if (up->scale < 1 || up->scale > P2C2R_SCALE_MAX) {
        *detail = "scale must be 1..8";
        return P2C2R_E_INVAL;
    }
    if ((int)up->mode < 0 || up->mode > P2C2R__WIRE__UPSCALE_MODE__QUALITY) {
        *detail = "unknown upscale mode";
        return P2C2R_E_UNSUPPORTED;
    }
    if (up->output_codec != P2C2R__WIRE__CODEC__CODEC_UNSPECIFIED &&
        !valid_codec((int)up->output_codec)) {
        *detail = "unknown output codec";
        return P2C2R_E_UNSUPPORTED;
    }
    if (up->jpeg_quality > 100) {
        *detail = "jpeg_quality must be 1..100";
        return P2C2R_E_INVAL;
    }
    if (in->codec != P2C2R__WIRE__CODEC__CODEC_JPEG) {
        /* Raw pixels say what they are; JPEG carries it in its header. */
        int rc = p2c2r__image_check((p2c2r_pixel_format)in->pixel_format, in->width, in->height);
        if (rc != P2C2R_OK) {
            *detail = "raw input needs a supported pixel format and a size within limits";
            return rc;
        }
    }
    if (in->width || in->height) {
        uint64_t ow = (uint64_t)in->width * up->scale, oh = (uint64_t)in->height * up->scale;
        if (ow > P2C2R_IMAGE_MAX_SIDE || oh > P2C2R_IMAGE_MAX_SIDE ||
            ow * oh > P2C2R_IMAGE_MAX_PIXELS) {
            *detail = "output would exceed the image size limits";
            return P2C2R_E_TOOBIG;
        }
    }
    return P2C2R_OK;
}

int p2c2r__task_validate(const p2c2r_envelope *env, size_t payload_size, const char **detail)
{
    *detail = "";
    int kind = p2c2r__task_kind_lookup(env->kind);
    if (kind < 0) {
        *detail = "unknown task kind";
        return P2C2R_E_UNSUPPORTED;
    }
    if (env->deadline_us == 0 || env->deadline_us > P2C2R_DEADLINE_MAX_US) {
        *detail = "deadline_us must be 1..3600000000 (at most one hour)";
        return P2C2R_E_INVAL;
    }
    if (payload_size > P2C2R_PAYLOAD_MAX_BYTES) {
        *detail = "payload exceeds 64 MiB";
        return P2C2R_E_TOOBIG;
    }
    if (env->needs && (int)env->needs->runtime != P2C2R__WIRE__RUNTIME__RUNTIME_ANY &&
        env->needs->runtime != P2C2R__WIRE__RUNTIME__RUNTIME_CPU &&
        env->needs->runtime != P2C2R__WIRE__RUNTIME__RUNTIME_CUDA) {
        *detail = "unknown runtime";
        return P2C2R_E_UNSUPPORTED;
    }
    if (kind == P2C2R_KIND_SLEEP && (!env->sleep || env->sleep->ms > P2C2R_SLEEP_MAX_MS)) {
        *detail = "sleep needs sleep parameters with ms 0..60000";
        return P2C2R_E_INVAL;
    }
    if (kind == P2C2R_KIND_UPSCALE) {
        if (payload_size == 0) {
            *detail = "upscale needs a payload";
            return P2C2R_E_BADINPUT;
        }
        return validate_upscale(env, detail);
    }
    return P2C2R_OK;
}
