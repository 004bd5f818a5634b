/* kind_upscale: decode a frame, upscale it by an integer factor, encode the result.
 *
 * The whole path stays in the input's own planar layout: a 4:2:0 JPEG is decoded to Y, Cb
 * and Cr planes, each plane is resampled on its own (common/upscale), and the planes are
 * encoded straight back to JPEG, so the pixels never pass through RGB. Limits are checked
 * before any large allocation: the declared size, the JPEG header's size, and the output
 * size.
 *
 * One frame uses all the peer's threads per frame: decoding is serial (a JPEG without
 * restart markers is one entropy-coded stream), then the resampling and the JPEG encoding
 * are each cut into bands of rows run on the peer's pool (common/jpegband.h: restart
 * markers make the bands' bytes join into the same file whatever the number of threads).
 * The filter tables come from the peer's cache, built once per (format, size, scale,
 * mode).
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/image.h"
#include "common/jpegband.h"
#include "common/jpegrows.h"
#include "common/task.h"
#include "common/upscale/frame.h"
#include "common/upscale/plan_cache.h"
#include "common/upscale/upscale.h"
#include "peer/kind.h"

static void free_buffer(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* JPEG bands per thread. Several even out bands of unequal cost and let the helpers start
 * on the top of a frame early while it is still being decoded; each band costs a
 * compressor set-up, so not too many (on 2 cores, 4 per thread measured best of 1, 2, 4
 * and 8 at 540p -> 1080p and 1080p -> 4K). */
#define BANDS_PER_THREAD 4

/* A worker's state. */
typedef struct upscale_state {
    p2c2r_jpeg *jpeg;          /* decoder and single-thread encoder */
    const peer_resources *res; /* the peer's pool and table cache */
} upscale_state;

static int upscale_init(void **state, const peer_resources *res)
{
    upscale_state *st = calloc(1, sizeof *st);
    if (!st)
        return P2C2R_E_NOMEM;
    st->res = res;
    st->jpeg = p2c2r__jpeg_new();
    if (!st->jpeg) {
        free(st);
        return P2C2R_E_NOMEM;
    }
    *state = st;
    return P2C2R_OK;
}

static void upscale_fini(void **state)
{
    upscale_state *st = *state;
    if (st)
        p2c2r__jpeg_destroy(&st->jpeg);
    free(st);
    *state = NULL;
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

/* Source rows an output band [.., y1) may read beyond y1 / scale: the filter's reach
 * (3 rows for Lanczos-3, 2 for the quality mode plus its sharpening row) and, for 4:2:0
 * chroma, twice that in luma rows plus rounding. */
#define PIPE_MARGIN_ROWS 10

/* One JPEG -> JPEG frame run as a pipeline: the worker's thread decodes while the pool's
 * helpers resample and encode the bands whose source rows are already decoded. */
typedef struct pipe_job {
    const peer_task_in *in;         /* the task */
    const p2c2r_upscale_plan *plan; /* filter tables */
    p2c2r_simd simd;                /* kernels */
    uint32_t scale;                 /* factor */
    p2c2r_image *src;               /* being decoded */
    p2c2r_image *dst;               /* being filled band by band */
    p2c2r_rows rows;                /* decode progress */
    int decode_rc;                  /* the decode's result */
    uint64_t decode_us;             /* its time */
    uint64_t compute_us;            /* resampling time summed over bands (atomic) */
} pipe_job;

static void pipe_decode(void *arg)
{
    pipe_job *job = arg;
    uint64_t t0 = p2c2r__now_us();
    job->decode_rc =
        p2c2r__jpegrows_decode(job->in->payload, job->in->payload_size, job->src, &job->rows);
    job->decode_us = p2c2r__now_us() - t0;
}

static int pipe_fill(void *arg, uint32_t y0, uint32_t y1)
{
    pipe_job *job = arg;
    uint32_t need = y1 / job->scale + PIPE_MARGIN_ROWS;
    int rc = p2c2r__rows_wait(&job->rows, need < job->src->height ? need : job->src->height);
    if (rc != P2C2R_OK)
        return rc;
    uint64_t t0 = p2c2r__now_us();
    rc = p2c2r__upscale_rows(job->plan, job->src, job->dst, y0, y1, job->simd);
    __atomic_add_fetch(&job->compute_us, p2c2r__now_us() - t0, __ATOMIC_RELAXED);
    return rc;
}

/* JPEG in and out, in a layout both the row decoder and the band encoder take. With one
 * thread the decode simply runs first. compute_us and encode_us are summed over the
 * threads, so with several threads they may add up to more than the frame's wall time. */
static int run_pipelined(upscale_state *st, const peer_task_in *in, p2c2r_mode mode,
                         p2c2r_pixel_format fmt, uint32_t w, uint32_t h, peer_task_out *out)
{
    const P2c2r__Wire__UpscaleParams *up = in->env->upscale;
    pipe_job job = {.in = in, .simd = st->res->simd, .scale = up->scale};
    p2c2r_image src = {0}, dst = {0};
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = p2c2r__upscale_cache_get(st->res->tables, fmt, w, h, up->scale, mode, &job.plan);
    if (rc != P2C2R_OK) {
        out->detail = rc == P2C2R_E_TOOBIG ? "output would exceed the image size limits"
                                           : "cannot build the filter tables";
        return rc;
    }
    uint32_t ow, oh;
    p2c2r__upscale_plan_output(job.plan, &ow, &oh);
    rc = p2c2r__image_alloc(&src, fmt, w, h);
    if (rc == P2C2R_OK)
        rc = p2c2r__image_alloc(&dst, fmt, ow, oh);
    if (rc != P2C2R_OK) {
        out->detail = "output would exceed the image size limits or memory";
        goto fail;
    }
    job.src = &src;
    job.dst = &dst;
    p2c2r__rows_init(&job.rows);
    p2c2r_jpegband_hooks hooks = {
        .fill = pipe_fill, .arg = &job, .first = pipe_decode, .first_arg = &job};
    int quality = up->jpeg_quality ? (int)up->jpeg_quality : (int)P2C2R_JPEG_QUALITY_DEF;
    rc = p2c2r__jpegband_encode(&dst, quality, st->res->pool, st->res->threads * BANDS_PER_THREAD,
                                &hooks, &data, &size);
    p2c2r__rows_fini(&job.rows);
    if (job.decode_rc != P2C2R_OK) {
        rc = job.decode_rc;
        out->detail = "JPEG is truncated or corrupt";
        goto fail;
    }
    if (rc != P2C2R_OK) {
        out->detail = "resampling or encoding failed";
        goto fail;
    }
    out->data = data;
    out->size = size;
    out->free_fn = free_buffer;
    out->frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    out->frame.pixel_format = (P2c2r__Wire__PixelFormat)fmt;
    out->frame.width = ow;
    out->frame.height = oh;
    out->decode_us = job.decode_us;
    out->compute_us = job.compute_us;
    out->encode_us = hooks.encode_us;
    data = NULL;
fail:
    free(data);
    p2c2r__upscale_plan_destroy(&job.plan);
    p2c2r__image_free(&src);
    p2c2r__image_free(&dst);
    return rc;
}

static int upscale_run_cpu(void *state, const peer_task_in *in, peer_task_out *out)
{
    upscale_state *st = state;
    const P2c2r__Wire__UpscaleParams *up = in->env->upscale;
    const P2c2r__Wire__Frame *f = in->env->frame;
    p2c2r_mode mode = up->mode ? (p2c2r_mode)up->mode : P2C2R_MODE_FAST;
    if (mode < P2C2R_MODE_FAST || mode > P2C2R_MODE_QUALITY) {
        out->detail = "unknown upscale mode";
        return P2C2R_E_UNSUPPORTED;
    }
    int out_codec = up->output_codec ? (int)up->output_codec : P2C2R_CODEC_JPEG;
    p2c2r_pixel_format jpeg_fmt = P2C2R_PIX_UNSPECIFIED;
    if ((int)f->codec == P2C2R_CODEC_JPEG) {
        uint32_t w, h;
        int rc = check_header(st->jpeg, in, &w, &h, &jpeg_fmt, &out->detail);
        if (rc != P2C2R_OK)
            return rc;
        if (out_codec == P2C2R_CODEC_JPEG && p2c2r__jpegrows_supports(jpeg_fmt) &&
            p2c2r__jpegband_supports(jpeg_fmt) &&
            (!up->output_format || (int)up->output_format == (int)jpeg_fmt))
            return run_pipelined(st, in, mode, jpeg_fmt, w, h, out);
    }
    /* Output in the input's layout only: JPEG's as its header says, raw's as declared. */
    p2c2r_pixel_format in_fmt =
        f->codec == (int)P2C2R_CODEC_JPEG ? jpeg_fmt : (p2c2r_pixel_format)f->pixel_format;
    if (up->output_format && (int)up->output_format != (int)in_fmt) {
        out->detail = "converting to another pixel format is not supported";
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
        .output_codec = (p2c2r_codec)out_codec,
        .jpeg_quality = up->jpeg_quality ? (int)up->jpeg_quality : (int)P2C2R_JPEG_QUALITY_DEF,
        .pool = st->res->pool,
        .bands = st->res->threads * BANDS_PER_THREAD,
    };
    p2c2r_frame_output o;
    int rc = p2c2r__frame_upscale(st->jpeg, st->res->tables, st->res->simd, &req, &o);
    out->detail = o.detail;
    if (rc != P2C2R_OK)
        return rc;
    out->data = o.data;
    out->size = o.size;
    out->free_fn = o.free_fn;
    out->frame.codec = (P2c2r__Wire__Codec)out_codec;
    out->frame.pixel_format = (P2c2r__Wire__PixelFormat)o.format;
    out->frame.width = o.width;
    out->frame.height = o.height;
    out->decode_us = o.decode_us;
    out->compute_us = o.compute_us;
    out->encode_us = o.encode_us;
    return P2C2R_OK;
}

const peer_kind_ops peer_kind_upscale = {
    .name = "upscale",
    .init = upscale_init,
    .run_cpu = upscale_run_cpu,
    .fini = upscale_fini,
};
