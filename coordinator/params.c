/* params: see params.h. */
#include "coordinator/params.h"

#include <string.h>

#include "common/task.h"

void coord_params_keep(coord_params *p, int kind, const p2c2r_envelope *in)
{
    *p = (coord_params){.kind = kind, .priority = in->priority};
    if (in->frame) {
        p->has_frame = true;
        p->codec = (uint32_t)in->frame->codec;
        p->pixel_format = (uint32_t)in->frame->pixel_format;
        p->width = in->frame->width;
        p->height = in->frame->height;
    }
    if (in->upscale) {
        p->has_upscale = true;
        p->scale = in->upscale->scale;
        p->mode = (uint32_t)in->upscale->mode;
        p->output_codec = (uint32_t)in->upscale->output_codec;
        p->jpeg_quality = in->upscale->jpeg_quality;
        p->output_format = (uint32_t)in->upscale->output_format;
    }
    if (in->sleep) {
        p->has_sleep = true;
        p->sleep_ms = in->sleep->ms;
    }
    if (in->needs) {
        p->has_needs = true;
        p->runtime = (uint32_t)in->needs->runtime;
        p->memory_bytes = in->needs->memory_bytes;
    }
}

p2c2r_envelope *coord_params_view_of(const coord_params *p, P2c2r__Wire__MsgType type,
                                     coord_params_view *v)
{
    p2c2r__envelope_init(&v->env, type);
    /* The kind table's own string: the view never points into freed memory. */
    v->env.kind = (char *)p2c2r__task_kind_name(p->kind);
    v->env.priority = p->priority;
    if (p->has_frame) {
        v->frame = (P2c2r__Wire__Frame)P2C2R__WIRE__FRAME__INIT;
        v->frame.codec = (P2c2r__Wire__Codec)p->codec;
        v->frame.pixel_format = (P2c2r__Wire__PixelFormat)p->pixel_format;
        v->frame.width = p->width;
        v->frame.height = p->height;
        v->env.frame = &v->frame;
    }
    if (p->has_upscale) {
        v->upscale = (P2c2r__Wire__UpscaleParams)P2C2R__WIRE__UPSCALE_PARAMS__INIT;
        v->upscale.scale = p->scale;
        v->upscale.mode = (P2c2r__Wire__UpscaleMode)p->mode;
        v->upscale.output_codec = (P2c2r__Wire__Codec)p->output_codec;
        v->upscale.jpeg_quality = p->jpeg_quality;
        v->upscale.output_format = (P2c2r__Wire__PixelFormat)p->output_format;
        v->env.upscale = &v->upscale;
    }
    if (p->has_sleep) {
        v->sleep = (P2c2r__Wire__SleepParams)P2C2R__WIRE__SLEEP_PARAMS__INIT;
        v->sleep.ms = p->sleep_ms;
        v->env.sleep = &v->sleep;
    }
    if (p->has_needs) {
        v->needs = (P2c2r__Wire__TaskNeeds)P2C2R__WIRE__TASK_NEEDS__INIT;
        v->needs.runtime = (P2c2r__Wire__Runtime)p->runtime;
        v->needs.memory_bytes = p->memory_bytes;
        v->env.needs = &v->needs;
    }
    return &v->env;
}

size_t coord_params_key(const coord_params *p, uint8_t out[COORD_PARAMS_KEY_MAX])
{
    /* Every field that can change an output, as fixed-width numbers in a fixed order;
     * priority and deadline cannot, and the frame's size for JPEG input comes from the
     * input bytes, which the cache compares anyway. */
    const uint32_t fields[] = {
        (uint32_t)p->kind, p->has_frame,     p->codec,     p->pixel_format, p->width,
        p->height,         p->has_upscale,   p->scale,     p->mode,         p->output_codec,
        p->jpeg_quality,   p->output_format, p->has_sleep, p->sleep_ms,     p->runtime,
    };
    _Static_assert(sizeof fields <= COORD_PARAMS_KEY_MAX, "key bytes");
    memcpy(out, fields, sizeof fields);
    return sizeof fields;
}
