/* executor_cpu: the CPU executor (executor.h), the peer's thread pool running the kernels
 * of common/upscale.
 *
 * One frame uses all the peer's threads: decoding is serial (a JPEG without restart
 * markers is one entropy-coded stream), then the resampling and the JPEG encoding are each
 * cut into bands of rows run on the peer's pool (common/jpegband.h: restart markers make
 * the bands' bytes join into the same file whatever the number of threads). A JPEG ->
 * JPEG frame in a layout the row decoder and the band encoder both take runs as a
 * pipeline: the slot's thread decodes while the pool's helpers resample and encode the
 * bands whose source rows are already decoded. Every other frame runs through
 * p2c2r__frame_upscale() on the pool, the path the SDK's local fallback shares. The filter
 * tables come from the peer's cache, built once per (format, size, scale, mode).
 */
#include <stdlib.h>

#include "common/clock.h"
#include "common/image.h"
#include "common/jpegband.h"
#include "common/jpegrows.h"
#include "common/upscale/frame.h"
#include "common/upscale/plan_cache.h"
#include "peer/executor.h"
#include "peer/resources.h"

static void free_buffer(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* A slot of the CPU executor. */
typedef struct cpu_slot {
    p2c2r_jpeg *jpeg;          /* decoder and single-thread encoder */
    const peer_resources *res; /* the peer's pool and table cache */
} cpu_slot;

static int cpu_slot_new(peer_executor *ex, const peer_resources *res, void **slot)
{
    (void)ex;
    cpu_slot *s = calloc(1, sizeof *s);
    if (!s)
        return P2C2R_E_NOMEM;
    s->res = res;
    s->jpeg = p2c2r__jpeg_new();
    if (!s->jpeg) {
        free(s);
        return P2C2R_E_NOMEM;
    }
    *slot = s;
    return P2C2R_OK;
}

static void cpu_slot_destroy(void **slot)
{
    cpu_slot *s = *slot;
    if (s)
        p2c2r__jpeg_destroy(&s->jpeg);
    free(s);
    *slot = NULL;
}

/* Source rows an output band [.., y1) may read beyond y1 / scale: the filter's reach
 * (3 rows for Lanczos-3, 2 for the quality mode plus its sharpening row) and, for 4:2:0
 * chroma, twice that in luma rows plus rounding. */
#define PIPE_MARGIN_ROWS 10

/* One JPEG -> JPEG frame run as a pipeline. */
typedef struct pipe_job {
    const p2c2r_frame_request *req; /* the frame */
    const p2c2r_upscale_plan *plan; /* filter tables */
    p2c2r_simd simd;                /* kernels */
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
    job->decode_rc = p2c2r__jpegrows_decode(job->req->data, job->req->size, job->src, &job->rows);
    job->decode_us = p2c2r__now_us() - t0;
}

static int pipe_fill(void *arg, uint32_t y0, uint32_t y1)
{
    pipe_job *job = arg;
    uint32_t need = y1 / job->req->scale + PIPE_MARGIN_ROWS;
    int rc = p2c2r__rows_wait(&job->rows, need < job->src->height ? need : job->src->height);
    if (rc != P2C2R_OK)
        return rc;
    uint64_t t0 = p2c2r__now_us();
    rc = p2c2r__upscale_rows(job->plan, job->src, job->dst, y0, y1, job->simd);
    __atomic_add_fetch(&job->compute_us, p2c2r__now_us() - t0, __ATOMIC_RELAXED);
    return rc;
}

/* Whether a request runs as a pipeline: JPEG in and out, in a layout both the row decoder
 * and the band encoder take. */
static int pipelined(const p2c2r_frame_request *req)
{
    return req->codec == P2C2R_CODEC_JPEG && req->output_codec == P2C2R_CODEC_JPEG &&
           p2c2r__jpegrows_supports(req->format) && p2c2r__jpegband_supports(req->format);
}

/* With one thread the decode simply runs first. compute_us and encode_us are summed over
 * the threads, so with several threads they may add up to more than the frame's wall
 * time. */
static int run_pipelined(cpu_slot *s, const p2c2r_frame_request *req, p2c2r_frame_output *out)
{
    pipe_job job = {.req = req, .simd = s->res->simd};
    p2c2r_image src = {0}, dst = {0};
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = p2c2r__upscale_cache_get(s->res->tables, req->format, req->width, req->height,
                                      req->scale, req->mode, &job.plan);
    if (rc != P2C2R_OK) {
        out->detail = rc == P2C2R_E_TOOBIG ? "output would exceed the image size limits"
                                           : "cannot build the filter tables";
        return rc;
    }
    uint32_t ow, oh;
    p2c2r__upscale_plan_output(job.plan, &ow, &oh);
    rc = p2c2r__image_alloc(&src, req->format, req->width, req->height);
    if (rc == P2C2R_OK)
        rc = p2c2r__image_alloc(&dst, req->format, ow, oh);
    if (rc != P2C2R_OK) {
        out->detail = "output would exceed the image size limits or memory";
        goto fail;
    }
    job.src = &src;
    job.dst = &dst;
    p2c2r__rows_init(&job.rows);
    p2c2r_jpegband_hooks hooks = {
        .fill = pipe_fill, .arg = &job, .first = pipe_decode, .first_arg = &job};
    rc = p2c2r__jpegband_encode(&dst, req->jpeg_quality, req->pool, req->bands, &hooks, &data,
                                &size);
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
    out->format = req->format;
    out->width = ow;
    out->height = oh;
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

static int cpu_upscale(void *slot, const p2c2r_frame_request *req, peer_exec_out *out)
{
    cpu_slot *s = slot;
    *out = (peer_exec_out){.frame = {.detail = ""}, .runtime = "cpu"};
    if (pipelined(req))
        return run_pipelined(s, req, &out->frame);
    return p2c2r__frame_upscale(s->jpeg, s->res->tables, s->res->simd, req, &out->frame);
}

const peer_executor_ops peer_executor_cpu = {
    .runtime = "cpu",
    .slot_new = cpu_slot_new,
    .upscale = cpu_upscale,
    .slot_destroy = cpu_slot_destroy,
    .resident = NULL, /* its tables are the peer's plan cache */
};
