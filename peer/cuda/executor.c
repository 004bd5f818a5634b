/* executor (CUDA): see executor.h. */
#include "peer/cuda/executor.h"

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/image.h"
#include "common/jpegband.h"
#include "common/jpegrows.h"
#include "common/log.h"
#include "common/upscale/plan_cache.h"
#include "common/zstd.h"
#include "peer/cuda/cuda_upscale.h"
#include "peer/cuda/jpeg_encode.h"
#include "peer/cuda/tables.h"
#include "peer/resources.h"

/* Device buffers' row pitch: whole 256-byte segments, so every row starts aligned. */
#define PITCH_ALIGN 256u

/* A device's state, shared by its slots. */
typedef struct cuda_device {
    int ordinal;              /* CUDA device number */
    peer_cuda_tables *tables; /* its resident tables */
    int jpeg_on_device;       /* JPEG output encoded on the device (P2C2R_CUDA_JPEG != off) */
} cuda_device;

/* Memory that grows and never shrinks. */
typedef struct growing {
    uint8_t *p;      /* pinned host or device memory */
    size_t capacity; /* bytes at p */
} growing;

/* A slot of a device. */
typedef struct cuda_slot {
    cuda_device *dev;           /* its device */
    const peer_resources *res;  /* the peer's pool and host plan cache */
    void *cpu;                  /* the CPU executor's slot, for frames the device cannot take */
    p2c2r_jpeg *jpeg;           /* single-thread JPEG encoder (RGB24 output) */
    cudaStream_t stream;        /* where its copies and kernels queue */
    cudaEvent_t ev[4];          /* before copy in, after it, after the kernels, after copy out
                                 * (or after the device's JPEG encode) */
    peer_cuda_jpeg *gj;         /* the device JPEG encoder and its scratch */
    growing host_src, host_dst; /* pinned: decoded source, output read back */
    growing dev_src, dev_dst;   /* device: the same planes */
} cuda_slot;

static int cuda_error(cudaError_t err, const char *what, const char **detail)
{
    log_limited(P2C2R_LOG_WARN, "CUDA: %s: %s", what, cudaGetErrorString(err));
    (void)cudaGetLastError();
    *detail = "CUDA error on the peer's device";
    return P2C2R_E_INTERNAL;
}

/* Make room for size bytes (pinned host memory when host, else device memory). The
 * slot's stream is idle whenever this runs (each frame waits for it), so old memory can
 * go. */
static cudaError_t grow(growing *g, size_t size, int host)
{
    if (size <= g->capacity)
        return cudaSuccess;
    if (g->p)
        host ? cudaFreeHost(g->p) : cudaFree(g->p);
    g->p = NULL;
    g->capacity = 0;
    /* A quarter more than asked, so a stream of slowly growing sizes reallocates rarely. */
    size_t want = size + size / 4;
    cudaError_t err = host ? cudaHostAlloc((void **)&g->p, want, cudaHostAllocDefault)
                           : cudaMalloc((void **)&g->p, want);
    if (err == cudaSuccess)
        g->capacity = want;
    else
        g->p = NULL;
    return err;
}

static void release(growing *g, int host)
{
    if (g->p)
        host ? cudaFreeHost(g->p) : cudaFree(g->p);
    g->p = NULL;
    g->capacity = 0;
}

static void cuda_slot_destroy(void **slot)
{
    cuda_slot *s = *slot;
    if (s) {
        cudaSetDevice(s->dev->ordinal);
        if (s->stream)
            cudaStreamSynchronize(s->stream);
        for (int i = 0; i < 4; i++)
            if (s->ev[i])
                cudaEventDestroy(s->ev[i]);
        if (s->stream)
            cudaStreamDestroy(s->stream);
        release(&s->host_src, 1);
        release(&s->host_dst, 1);
        release(&s->dev_src, 0);
        release(&s->dev_dst, 0);
        peer_cuda_jpeg_destroy(&s->gj);
        if (s->cpu)
            peer_executor_cpu.slot_destroy(&s->cpu);
        p2c2r__jpeg_destroy(&s->jpeg);
        (void)cudaGetLastError();
    }
    free(s);
    *slot = NULL;
}

static int cuda_slot_new(peer_executor *ex, const peer_resources *res, void **slot)
{
    cuda_slot *s = calloc(1, sizeof *s);
    if (!s)
        return P2C2R_E_NOMEM;
    s->dev = ex->device;
    s->res = res;
    *slot = s;
    int rc = peer_executor_cpu.slot_new(ex, res, &s->cpu);
    s->jpeg = p2c2r__jpeg_new();
    if (rc != P2C2R_OK || !s->jpeg || peer_cuda_jpeg_new(&s->gj) != P2C2R_OK)
        goto fail;
    rc = P2C2R_E_INTERNAL;
    if (cudaSetDevice(s->dev->ordinal) != cudaSuccess ||
        cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking) != cudaSuccess)
        goto fail;
    for (int i = 0; i < 4; i++)
        if (cudaEventCreate(&s->ev[i]) != cudaSuccess)
            goto fail;
    return P2C2R_OK;
fail:
    log_error("CUDA device %d: cannot set up a slot: %s", s->dev->ordinal,
              cudaGetErrorString(cudaGetLastError()));
    cuda_slot_destroy(slot);
    return rc == P2C2R_OK ? P2C2R_E_NOMEM : rc;
}

/* Device planes of geometry g laid out in buf with aligned pitches; their bytes. */
static size_t lay_planes(peer_cuda_planes *g, uint8_t *buf)
{
    size_t total = 0;
    for (uint32_t i = 0; i < g->nplanes; i++) {
        size_t row = g->pitch[i]; /* the geometry's pitch: the packed row */
        g->pitch[i] = (row + PITCH_ALIGN - 1) / PITCH_ALIGN * PITCH_ALIGN;
        g->data[i] = buf ? buf + total : NULL;
        total += g->pitch[i] * g->height[i];
    }
    return total;
}

/* Decode the request's input into the slot's pinned source image. */
static int decode(cuda_slot *s, const p2c2r_frame_request *req, p2c2r_image *img,
                  const char **detail)
{
    size_t bytes = p2c2r__image_bytes(req->format, req->width, req->height);
    if (!bytes) {
        *detail = "image size or format out of limits";
        return P2C2R_E_BADINPUT;
    }
    cudaError_t err = grow(&s->host_src, bytes, 1);
    if (err != cudaSuccess)
        return cuda_error(err, "pinned source buffer", detail);
    p2c2r__image_place(img, req->format, req->width, req->height, s->host_src.p, bytes);
    int rc;
    if (req->codec == P2C2R_CODEC_JPEG) {
        p2c2r_rows rows;
        p2c2r__rows_init(&rows);
        rc = p2c2r__jpegrows_decode(req->data, req->size, img, &rows);
        p2c2r__rows_fini(&rows);
        if (rc != P2C2R_OK)
            *detail = "JPEG is truncated or corrupt";
        return rc;
    }
    /* Raw and zstd hold the planes packed, one after the other: unpack into the image's
     * rows (zstd through a packed staging copy in the output's pinned buffer, free now). */
    size_t raw = p2c2r__image_raw_size(req->format, req->width, req->height);
    const uint8_t *packed = req->data;
    if (req->codec == P2C2R_CODEC_ZSTD) {
        err = grow(&s->host_dst, raw, 1);
        if (err != cudaSuccess)
            return cuda_error(err, "pinned staging buffer", detail);
        rc = p2c2r__zstd_decompress_into(req->data, req->size, s->host_dst.p, raw);
        if (rc != P2C2R_OK) {
            *detail = rc == P2C2R_E_TOOBIG ? "zstd frame declares more than the image size"
                                           : "payload is not a valid zstd frame of the image";
            return P2C2R_E_BADINPUT;
        }
        packed = s->host_dst.p;
    } else if (req->codec != P2C2R_CODEC_RAW) {
        *detail = "unknown input codec";
        return P2C2R_E_UNSUPPORTED;
    } else if (req->size != raw) {
        *detail = "raw payload size does not match its format and size";
        return P2C2R_E_BADINPUT;
    }
    p2c2r__image_unpack(img, packed);
    return P2C2R_OK;
}

/* Whether this request can run on the device at all (else: the CPU executor). */
static int device_takes(const p2c2r_frame_request *req)
{
    if (req->codec == P2C2R_CODEC_JPEG)
        return p2c2r__jpegrows_supports(req->format);
    return req->codec == P2C2R_CODEC_RAW || req->codec == P2C2R_CODEC_ZSTD;
}

/* Queue copy in and kernels on the slot's stream; *dd: the output planes on the device. */
static int run_device(cuda_slot *s, const peer_cuda_plan *plan, const p2c2r_image *src,
                      peer_cuda_planes *dd_out, const char **detail)
{
    peer_cuda_planes ds, dd;
    peer_cuda_plan_geometry(plan, &ds, &dd);
    cudaError_t err = grow(&s->dev_src, lay_planes(&ds, NULL), 0);
    if (err == cudaSuccess)
        err = grow(&s->dev_dst, lay_planes(&dd, NULL), 0);
    if (err != cudaSuccess)
        return cuda_error(err, "device buffers", detail);
    lay_planes(&ds, s->dev_src.p);
    lay_planes(&dd, s->dev_dst.p);
    cudaStream_t st = s->stream;
    err = cudaEventRecord(s->ev[0], st);
    for (uint32_t i = 0; err == cudaSuccess && i < ds.nplanes; i++) {
        const p2c2r_plane *p = &src->plane[i];
        err = cudaMemcpy2DAsync(ds.data[i], ds.pitch[i], p->data, p->stride,
                                (size_t)p->width * p->channels, p->height, cudaMemcpyHostToDevice,
                                st);
    }
    if (err == cudaSuccess)
        err = cudaEventRecord(s->ev[1], st);
    if (err != cudaSuccess)
        return cuda_error(err, "copy in", detail);
    int rc = peer_cuda_upscale(plan, &ds, &dd, st);
    if (rc != P2C2R_OK) {
        cudaStreamSynchronize(st);
        *detail = "the CUDA kernels refused the frame";
        return rc;
    }
    err = cudaEventRecord(s->ev[2], st);
    if (err != cudaSuccess)
        return cuda_error(err, "upscale on the device", detail);
    *dd_out = dd;
    return P2C2R_OK;
}

/* Queue the copy of the output planes back and wait for the stream. */
static int copy_out(cuda_slot *s, const peer_cuda_planes *dd, p2c2r_image *dst, const char **detail)
{
    cudaStream_t st = s->stream;
    cudaError_t err = cudaSuccess;
    for (uint32_t i = 0; err == cudaSuccess && i < dd->nplanes; i++) {
        p2c2r_plane *p = &dst->plane[i];
        err = cudaMemcpy2DAsync(p->data, p->stride, dd->data[i], dd->pitch[i],
                                (size_t)p->width * p->channels, p->height, cudaMemcpyDeviceToHost,
                                st);
    }
    if (err == cudaSuccess)
        err = cudaEventRecord(s->ev[3], st);
    if (err == cudaSuccess)
        err = cudaStreamSynchronize(st);
    if (err != cudaSuccess) {
        cudaStreamSynchronize(st);
        return cuda_error(err, "upscale on the device", detail);
    }
    return P2C2R_OK;
}

static uint64_t elapsed_us(cudaEvent_t a, cudaEvent_t b)
{
    float ms = 0;
    return cudaEventElapsedTime(&ms, a, b) == cudaSuccess && ms > 0 ? (uint64_t)(ms * 1000.0f) : 0;
}

static void free_bitstream(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* Encode the output planes on the device and copy back only the JPEG; on any error the
 * caller copies the planes back and encodes on the CPU. Sets encode_us (device time,
 * events) and copy_out_us (the bitstream's copy). */
static int encode_on_device(cuda_slot *s, const p2c2r_frame_request *req,
                            const peer_cuda_planes *dd, uint32_t ow, uint32_t oh,
                            peer_exec_out *out)
{
    if (!s->dev->jpeg_on_device || req->output_codec != P2C2R_CODEC_JPEG ||
        !p2c2r__jpegband_supports(req->format))
        return P2C2R_E_UNSUPPORTED;
    int rc = peer_cuda_jpeg_encode(s->gj, dd, req->format, ow, oh, req->jpeg_quality, 0, s->stream);
    if (rc == P2C2R_OK && (cudaEventRecord(s->ev[3], s->stream) != cudaSuccess ||
                           cudaEventSynchronize(s->ev[3]) != cudaSuccess))
        rc = P2C2R_E_INTERNAL;
    uint64_t t = p2c2r__now_us();
    uint8_t *data = NULL;
    size_t size = 0;
    if (rc == P2C2R_OK)
        rc = peer_cuda_jpeg_fetch(s->gj, s->stream, &data, &size);
    if (rc != P2C2R_OK) {
        (void)cudaGetLastError();
        log_limited(P2C2R_LOG_WARN, "CUDA device %d: JPEG encode failed (%s): encoding on the CPU",
                    s->dev->ordinal, p2c2r_errname(rc));
        return rc;
    }
    out->copy_out_us = p2c2r__now_us() - t;
    out->frame.encode_us = elapsed_us(s->ev[2], s->ev[3]);
    out->frame.data = data;
    out->frame.size = size;
    out->frame.free_fn = free_bitstream;
    return P2C2R_OK;
}

static int cuda_upscale(void *slot, const p2c2r_frame_request *req, peer_exec_out *out)
{
    cuda_slot *s = slot;
    if (!device_takes(req))
        return peer_executor_cpu.upscale(s->cpu, req, out);
    *out = (peer_exec_out){.frame = {.detail = ""}, .runtime = "cuda"};
    p2c2r_frame_output *o = &out->frame;
    if (req->mode < P2C2R_MODE_FAST || req->mode > P2C2R_MODE_QUALITY) {
        o->detail = "unknown upscale mode";
        return P2C2R_E_UNSUPPORTED;
    }
    const p2c2r_upscale_plan *plan = NULL;
    peer_cuda_entry *entry = NULL;
    p2c2r_image src = {0}, dst = {0};
    uint64_t t0 = p2c2r__now_us();
    int rc = p2c2r__upscale_cache_get(s->res->tables, req->format, req->width, req->height,
                                      req->scale, req->mode, &plan);
    if (rc != P2C2R_OK) {
        o->detail = rc == P2C2R_E_TOOBIG ? "output would exceed the image size limits"
                                         : "cannot build the filter tables";
        return rc;
    }
    uint64_t t1 = p2c2r__now_us();
    peer_cuda_get_info info = {0};
    rc = peer_cuda_tables_get(s->dev->tables, plan, s->stream, &entry, &info);
    if (rc != P2C2R_OK) {
        /* A plan the device cannot hold or the kernels refuse: the CPU makes the frame. */
        log_limited(P2C2R_LOG_WARN, "CUDA device %d cannot take %s (%s): running it on the CPU",
                    s->dev->ordinal, p2c2r__upscale_plan_name(plan), p2c2r_errname(rc));
        p2c2r__upscale_plan_destroy(&plan);
        return peer_executor_cpu.upscale(s->cpu, req, out);
    }
    if (info.uploaded)
        out->tables_us = (t1 - t0) + info.upload_ns / 1000u;
    uint64_t t2 = p2c2r__now_us();
    rc = decode(s, req, &src, &o->detail);
    if (rc != P2C2R_OK)
        goto done;
    uint64_t t3 = p2c2r__now_us();
    uint32_t ow, oh;
    p2c2r__upscale_plan_output(plan, &ow, &oh);
    size_t bytes = p2c2r__image_bytes(req->format, ow, oh);
    cudaError_t err = grow(&s->host_dst, bytes, 1);
    if (err != cudaSuccess) {
        rc = cuda_error(err, "pinned output buffer", &o->detail);
        goto done;
    }
    p2c2r__image_place(&dst, req->format, ow, oh, s->host_dst.p, bytes);
    peer_cuda_planes dd;
    rc = run_device(s, peer_cuda_entry_plan(entry), &src, &dd, &o->detail);
    if (rc != P2C2R_OK)
        goto done;
    if (encode_on_device(s, req, &dd, ow, oh, out) == P2C2R_OK) {
        /* Device time: copy in, kernels, encode (events); the bitstream's copy (host). */
        peer_cuda_tables_put(s->dev->tables, &entry);
        out->copy_in_us = elapsed_us(s->ev[0], s->ev[1]);
        o->compute_us = elapsed_us(s->ev[1], s->ev[2]);
    } else {
        rc = copy_out(s, &dd, &dst, &o->detail);
        if (rc != P2C2R_OK)
            goto done;
        uint64_t t4 = p2c2r__now_us();
        peer_cuda_tables_put(s->dev->tables, &entry);
        rc = p2c2r__frame_encode(s->jpeg, req, &dst, o);
        if (rc != P2C2R_OK)
            goto done;
        out->copy_in_us = elapsed_us(s->ev[0], s->ev[1]);
        o->compute_us = elapsed_us(s->ev[1], s->ev[2]);
        out->copy_out_us = elapsed_us(s->ev[2], s->ev[3]);
        /* What the device's timeline does not show (queueing, the wait's wake-up) counts
         * as compute, so the stages still add up to the frame. */
        uint64_t device_us = out->copy_in_us + o->compute_us + out->copy_out_us;
        if (t4 - t3 > device_us)
            o->compute_us += (t4 - t3) - device_us;
        o->encode_us = p2c2r__now_us() - t4;
    }
    o->format = req->format;
    o->width = ow;
    o->height = oh;
    o->decode_us = t3 - t2;
done:
    if (entry)
        peer_cuda_tables_put_after(s->dev->tables, &entry, s->stream);
    p2c2r__upscale_plan_destroy(&plan);
    return rc;
}

static size_t cuda_resident(peer_executor *ex, char (*names)[P2C2R_UPSCALE_NAME_MAX], size_t max,
                            size_t *bytes)
{
    cuda_device *d = ex->device;
    *bytes = peer_cuda_tables_bytes(d->tables);
    return max ? peer_cuda_tables_list(d->tables, names, max) : 0;
}

static void cuda_fini(peer_executor *ex)
{
    cuda_device *d = ex->device;
    if (d)
        peer_cuda_tables_destroy(&d->tables);
    free(d);
    ex->device = NULL;
}

const peer_executor_ops peer_executor_cuda = {
    .runtime = "cuda",
    .slot_new = cuda_slot_new,
    .upscale = cuda_upscale,
    .slot_destroy = cuda_slot_destroy,
    .resident = cuda_resident,
    .fini = cuda_fini,
};

int peer_cuda_executor_open(peer_executor *ex, const peer_device *d,
                            const struct peer_resources *res, char *why, size_t why_size)
{
    (void)res;
    cuda_device *dev = calloc(1, sizeof *dev);
    if (!dev) {
        snprintf(why, why_size, "out of memory");
        return P2C2R_E_NOMEM;
    }
    dev->ordinal = d->ordinal;
    /* P2C2R_CUDA_JPEG=off keeps JPEG encoding on the CPU (gpu_bench compares the two). */
    const char *gj = getenv("P2C2R_CUDA_JPEG");
    dev->jpeg_on_device = !(gj && strcmp(gj, "off") == 0);
    dev->tables = peer_cuda_tables_new(d->ordinal, PEER_CUDA_TABLE_BYTES);
    if (!dev->tables) {
        free(dev);
        snprintf(why, why_size, "cannot make its table cache");
        return P2C2R_E_NOMEM;
    }
    *ex = (peer_executor){.ops = &peer_executor_cuda, .device = dev, .ordinal = d->ordinal};
    return P2C2R_OK;
}
