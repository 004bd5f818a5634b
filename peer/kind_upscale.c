/* kind_upscale: decode a frame, upscale it by an integer factor, encode the result.
 *
 * The whole path stays in the input's own planar layout: a 4:2:0 JPEG is decoded to Y, Cb
 * and Cr planes, each plane is resampled on its own, and the planes are encoded straight
 * back to JPEG, so the pixels never pass through RGB. Limits are checked before any large
 * allocation: the declared size, the JPEG header's size, and the output size.
 *
 * This kind only reads and checks the task; the executor of its slot (executor.h: the
 * CPU's thread pool or a GPU) makes the frame, and the kind never knows which.
 */
#include <stdlib.h>
#include <string.h>

#include "common/image.h"
#include "common/task.h"
#include "common/upscale/frame.h"
#include "peer/executor.h"
#include "peer/kind.h"

/* JPEG bands per thread. Several even out bands of unequal cost and let the helpers start
 * on the top of a frame early while it is still being decoded; each band costs a
 * compressor set-up, so not too many (on 2 cores, 4 per thread measured best of 1, 2, 4
 * and 8 at 540p -> 1080p and 1080p -> 4K). */
#define BANDS_PER_THREAD 4

/* A worker's state. */
typedef struct upscale_state {
    p2c2r_jpeg *jpeg;          /* reads JPEG headers */
    const peer_resources *res; /* the peer's pool */
    peer_executor *ex;         /* where this slot's frames run */
    void *slot;                /* ex's state for this slot */
} upscale_state;

static void upscale_fini(void **state)
{
    upscale_state *st = *state;
    if (st) {
        p2c2r__jpeg_destroy(&st->jpeg);
        if (st->slot)
            st->ex->ops->slot_destroy(&st->slot);
    }
    free(st);
    *state = NULL;
}

static int upscale_init(void **state, const peer_resources *res, uint32_t slot)
{
    upscale_state *st = calloc(1, sizeof *st);
    if (!st)
        return P2C2R_E_NOMEM;
    st->res = res;
    st->ex = peer_resources_executor(res, slot);
    st->jpeg = p2c2r__jpeg_new();
    int rc = st->jpeg ? st->ex->ops->slot_new(st->ex, res, &st->slot) : P2C2R_E_NOMEM;
    if (rc != P2C2R_OK) {
        upscale_fini((void **)&st);
        return rc;
    }
    *state = st;
    return P2C2R_OK;
}

/* Read and check a JPEG input's header: in limits and as declared. */
static int check_header(p2c2r_jpeg *jpeg, const peer_task_in *in, uint32_t *w, uint32_t *h,
                        p2c2r_pixel_format *fmt, const char **detail)
{
    const P2c2r__Wire__Frame *f = in->env->frame;
    int rc = p2c2r__jpeg_header(jpeg, in->payload, in->payload_size, w, h, fmt);
    if (rc != P2C2R_OK) {
        *detail = rc == P2C2R_E_TOOBIG ? "JPEG header declares a size beyond the limits"
                                       : "payload is not a readable JPEG";
        return rc == P2C2R_E_TOOBIG ? P2C2R_E_BADINPUT : rc;
    }
    if ((f->width && f->width != *w) || (f->height && f->height != *h)) {
        *detail = "JPEG size differs from the declared size";
        return P2C2R_E_BADINPUT;
    }
    return P2C2R_OK;
}

static int upscale_run(void *state, const peer_task_in *in, peer_task_out *out)
{
    upscale_state *st = state;
    const P2c2r__Wire__UpscaleParams *up = in->env->upscale;
    const P2c2r__Wire__Frame *f = in->env->frame;
    p2c2r_mode mode = up->mode ? (p2c2r_mode)up->mode : P2C2R_MODE_FAST;
    if (mode < P2C2R_MODE_FAST || mode > P2C2R_MODE_QUALITY) {
        out->detail = "unknown upscale mode";
        return P2C2R_E_UNSUPPORTED;
    }
    p2c2r_frame_request req = {
        .codec = (p2c2r_codec)f->codec,
        .format = (p2c2r_pixel_format)f->pixel_format,
        .width = f->width,
        .height = f->height,
        .data = in->payload,
        .size = in->payload_size,
        .scale = up->scale,
        .mode = mode,
        .output_codec = up->output_codec ? (p2c2r_codec)up->output_codec : P2C2R_CODEC_JPEG,
        .jpeg_quality = up->jpeg_quality ? (int)up->jpeg_quality : (int)P2C2R_JPEG_QUALITY_DEF,
        .pool = st->res->pool,
        .bands = st->res->threads * BANDS_PER_THREAD,
    };
    if (req.codec == P2C2R_CODEC_JPEG) {
        int rc = check_header(st->jpeg, in, &req.width, &req.height, &req.format, &out->detail);
        if (rc != P2C2R_OK)
            return rc;
    }
    /* Output in the input's layout only: JPEG's as its header says, raw's as declared. */
    if (up->output_format && (int)up->output_format != (int)req.format) {
        out->detail = "converting to another pixel format is not supported";
        return P2C2R_E_UNSUPPORTED;
    }
    peer_exec_out o;
    int rc = st->ex->ops->upscale(st->slot, &req, &o);
    out->detail = o.frame.detail;
    if (rc != P2C2R_OK)
        return rc;
    out->data = o.frame.data;
    out->size = o.frame.size;
    out->free_fn = o.frame.free_fn;
    out->frame.codec = (P2c2r__Wire__Codec)req.output_codec;
    out->frame.pixel_format = (P2c2r__Wire__PixelFormat)o.frame.format;
    out->frame.width = o.frame.width;
    out->frame.height = o.frame.height;
    out->decode_us = o.frame.decode_us;
    out->compute_us = o.frame.compute_us;
    out->encode_us = o.frame.encode_us;
    out->copy_in_us = o.copy_in_us;
    out->copy_out_us = o.copy_out_us;
    out->tables_us = o.tables_us;
    out->runtime = o.runtime;
    return P2C2R_OK;
}

const peer_kind_ops peer_kind_upscale = {
    .name = "upscale",
    .init = upscale_init,
    .run = upscale_run,
    .fini = upscale_fini,
};
