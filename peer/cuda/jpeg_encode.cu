/* jpeg_encode: the device JPEG encoder's kernels, launcher and host emulation (see
 * jpeg_encode.h; the stages themselves are jpeg_stages.cuh).
 *
 * A frame's arrays are one scratch allocation laid out by gj_layout(), grown when a
 * bigger frame comes (after waiting for the stream, since the old one may be in use) and
 * never shrunk; the code tables are a second, small one uploaded once. The geometry and
 * the arrays' pointers go to every kernel by value.
 */
#include <stdlib.h>
#include <string.h>

#include "jpeg_stages.cuh"
#include "kernels.h"

/* Threads per thread block of the per-block and per-interval stages. */
#define GJ_BLOCK_THREADS    128
#define GJ_INTERVAL_THREADS 64

struct peer_cuda_jpeg {
    uint8_t *scratch;           /* device: the frame's arrays (gj_layout()) */
    size_t capacity;            /* bytes at scratch */
    gj_huff *huff;              /* device: code tables, uploaded at the first frame */
    uint32_t *host_total;       /* pinned: the JPEG's size, read back */
    gj_dev d;                   /* the last frame's arrays */
    uint8_t hdr[GJ_HEADER_MAX]; /* the last frame's headers */
};

static size_t align256(size_t n)
{
    return (n + 255) / 256 * 256;
}

/* Lay g's arrays out from base (NULL: only measure); returns the bytes. */
static size_t gj_layout(const gj_geometry &g, uint8_t *base, gj_dev *d)
{
    size_t at = 0, nb = g.blocks, ni = g.intervals;
    uint8_t *p[11];
    const size_t bytes[11] = {nb * 64 * sizeof(int16_t),
                              nb * 4,
                              nb * 4,
                              ni * 4,
                              ni * 4,
                              ni * 4,
                              ni * 4,
                              ni * 4,
                              16,
                              ((size_t)g.blocks * 54 + ni) * 4,
                              gj_max_bytes(&g)};
    for (int i = 0; i < 11; i++) {
        p[i] = base ? base + at : NULL;
        at += align256(bytes[i]);
    }
    d->coef = (int16_t *)p[0];
    d->bits = (uint32_t *)p[1];
    d->boff = (uint32_t *)p[2];
    d->ibits = (uint32_t *)p[3];
    d->iwords = (uint32_t *)p[4];
    d->wofs = (uint32_t *)p[5];
    d->ssize = (uint32_t *)p[6];
    d->sofs = (uint32_t *)p[7];
    d->total = (uint32_t *)p[8];
    d->words = (uint32_t *)p[9];
    d->out = p[10];
    return at;
}

/* Check the planes against g and point d at them. */
static int gj_planes(const gj_geometry &g, const peer_cuda_planes *pl, gj_dev *d)
{
    if (!pl || pl->nplanes != g.ncomp)
        return P2C2R_E_INVAL;
    for (uint32_t c = 0; c < g.ncomp; c++) {
        if (!pl->data[c] || pl->width[c] != g.pw[c] || pl->height[c] != g.ph[c] ||
            pl->pitch[c] < g.pw[c])
            return P2C2R_E_INVAL;
        d->plane[c] = pl->data[c];
        d->pitch[c] = pl->pitch[c];
    }
    return P2C2R_OK;
}

/* The emulation: every thread of each stage in turn, the scans phase by phase. */
static void gj_scan_host(const uint32_t *in, uint32_t n, uint32_t *out, uint32_t *total,
                         gj_scan_smem *sm)
{
    for (uint32_t t = 0; t < GJ_SCAN; t++)
        gj_scan_own(in, n, t, sm);
    for (uint32_t step = 0; step < GJ_SCAN_LOG2; step++)
        for (uint32_t t = 0; t < GJ_SCAN; t++)
            gj_scan_step(step, t, sm);
    for (uint32_t t = 0; t < GJ_SCAN; t++)
        gj_scan_out(in, n, out, total, t, sm);
}

static void gj_run_host(const gj_geometry &g, const gj_dev &d, gj_scan_smem *sm)
{
    for (uint32_t k = 0; k < g.blocks; k++)
        gj_dct(g, d, k);
    for (uint32_t k = 0; k < g.blocks; k++)
        gj_bits(g, d, k);
    for (uint32_t i = 0; i < g.intervals; i++)
        gj_interval(g, d, i);
    gj_scan_host(d.iwords, g.intervals, d.wofs, &d.total[0], sm);
    for (uint32_t i = 0; i < g.intervals; i++)
        gj_clear(g, d, i);
    for (uint32_t k = 0; k < g.blocks; k++)
        gj_pack_block(g, d, k);
    for (uint32_t i = 0; i < g.intervals; i++)
        gj_stuffsize(g, d, i);
    gj_scan_host(d.ssize, g.intervals, d.sofs, &d.total[1], sm);
    for (uint32_t i = 0; i < g.intervals; i++)
        gj_write(g, d, i);
}

/* Copy n items of a host array into a new malloc'd one for a trace. */
template <typename T> static T *gj_keep(const T *src, size_t n)
{
    T *p = (T *)malloc(n * sizeof(T) + 1);
    if (p)
        memcpy(p, src, n * sizeof(T));
    return p;
}

extern "C" void gj_trace_free(gj_trace *t)
{
    if (!t)
        return;
    free(t->coef);
    free(t->bits);
    free(t->ibits);
    free(t->ssize);
    memset(t, 0, sizeof *t);
}

extern "C" int peer_cuda_jpeg_emulate(const peer_cuda_planes *planes, p2c2r_pixel_format format,
                                      uint32_t width, uint32_t height, int quality,
                                      uint32_t restart_mcus, gj_trace *trace, uint8_t **out,
                                      size_t *size)
{
    *out = NULL;
    *size = 0;
    gj_geometry g;
    uint8_t hdr[GJ_HEADER_MAX];
    gj_dev d;
    int rc = gj_geometry_init(&g, format, width, height, quality, restart_mcus, hdr);
    if (rc != P2C2R_OK)
        return rc;
    size_t bytes = gj_layout(g, NULL, &d);
    rc = gj_planes(g, planes, &d);
    if (rc != P2C2R_OK)
        return rc;
    uint8_t *scratch = (uint8_t *)malloc(bytes);
    gj_huff *huff = (gj_huff *)malloc(sizeof *huff);
    gj_scan_smem *sm = (gj_scan_smem *)malloc(sizeof *sm);
    rc = P2C2R_E_NOMEM;
    if (!scratch || !huff || !sm)
        goto done;
    gj_layout(g, scratch, &d);
    gj_planes(g, planes, &d);
    gj_huff_tables(huff);
    d.huff = huff;
    memcpy(d.out, hdr, g.header_bytes);
    gj_run_host(g, d, sm);
    *out = gj_keep(d.out, d.total[2]);
    if (!*out)
        goto done;
    *size = d.total[2];
    if (trace) {
        memset(trace, 0, sizeof *trace);
        trace->g = g;
        trace->coef = gj_keep(d.coef, (size_t)g.blocks * 64);
        trace->bits = gj_keep(d.bits, g.blocks);
        trace->ibits = gj_keep(d.ibits, g.intervals);
        trace->ssize = gj_keep(d.ssize, g.intervals);
        if (!trace->coef || !trace->bits || !trace->ibits || !trace->ssize) {
            gj_trace_free(trace);
            free(*out);
            *out = NULL;
            *size = 0;
            goto done;
        }
    }
    rc = P2C2R_OK;
done:
    free(scratch);
    free(huff);
    free(sm);
    return rc;
}

/* The kernels: one thread per block or per interval, guarded by the count. */
#define GJ_KERNEL(name, fn, count)                                                                 \
    __global__ void name(gj_geometry g, gj_dev d)                                                  \
    {                                                                                              \
        uint32_t n = blockIdx.x * blockDim.x + threadIdx.x;                                        \
        if (n < g.count)                                                                           \
            fn(g, d, n);                                                                           \
    }
GJ_KERNEL(gj_k_dct, gj_dct, blocks)
GJ_KERNEL(gj_k_bits, gj_bits, blocks)
GJ_KERNEL(gj_k_interval, gj_interval, intervals)
GJ_KERNEL(gj_k_clear, gj_clear, intervals)
GJ_KERNEL(gj_k_pack, gj_pack_block, blocks)
GJ_KERNEL(gj_k_stuffsize, gj_stuffsize, intervals)
GJ_KERNEL(gj_k_write, gj_write, intervals)

__global__ void __launch_bounds__(GJ_SCAN)
    gj_k_scan(const uint32_t *in, uint32_t n, uint32_t *out, uint32_t *total)
{
    __shared__ gj_scan_smem sm;
    gj_scan_own(in, n, threadIdx.x, &sm);
    for (uint32_t step = 0; step < GJ_SCAN_LOG2; step++) {
        __syncthreads();
        gj_scan_step(step, threadIdx.x, &sm);
    }
    __syncthreads();
    gj_scan_out(in, n, out, total, threadIdx.x, &sm);
}

extern "C" int peer_cuda_jpeg_new(peer_cuda_jpeg **out)
{
    *out = (peer_cuda_jpeg *)calloc(1, sizeof **out);
    return *out ? P2C2R_OK : P2C2R_E_NOMEM;
}

extern "C" void peer_cuda_jpeg_destroy(peer_cuda_jpeg **j)
{
    if (!j || !*j)
        return;
    peer_cuda_jpeg *p = *j;
    *j = NULL;
    if (p->scratch)
        cudaFree(p->scratch);
    if (p->huff)
        cudaFree(p->huff);
    if (p->host_total)
        cudaFreeHost(p->host_total);
    free(p);
}

/* The first frame's one-off allocations: the code tables and the pinned size. */
static int gj_first(peer_cuda_jpeg *j, cudaStream_t stream)
{
    if (j->huff)
        return P2C2R_OK;
    cudaError_t err =
        cudaHostAlloc((void **)&j->host_total, sizeof(uint32_t), cudaHostAllocDefault);
    if (err != cudaSuccess) {
        j->host_total = NULL;
        return cuk_fail("jpeg: cudaHostAlloc", err);
    }
    gj_huff h;
    gj_huff_tables(&h);
    err = cudaMalloc((void **)&j->huff, sizeof h);
    if (err != cudaSuccess) {
        j->huff = NULL;
        return cuk_fail("jpeg: cudaMalloc tables", err);
    }
    /* From pageable memory: staged before the call returns, so h may go. */
    err = cudaMemcpyAsync(j->huff, &h, sizeof h, cudaMemcpyHostToDevice, stream);
    if (err != cudaSuccess) {
        cudaFree(j->huff);
        j->huff = NULL;
        return cuk_fail("jpeg: upload tables", err);
    }
    return P2C2R_OK;
}

static int gj_grow(peer_cuda_jpeg *j, size_t bytes, cudaStream_t stream)
{
    if (bytes <= j->capacity)
        return P2C2R_OK;
    cudaError_t err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess)
        return cuk_fail("jpeg: waiting to grow scratch", err);
    if (j->scratch)
        cudaFree(j->scratch);
    j->scratch = NULL;
    j->capacity = 0;
    size_t want = bytes + bytes / 4;
    err = cudaMalloc((void **)&j->scratch, want);
    if (err != cudaSuccess) {
        j->scratch = NULL;
        return cuk_fail("jpeg: cudaMalloc scratch", err);
    }
    j->capacity = want;
    return P2C2R_OK;
}

extern "C" int peer_cuda_jpeg_encode(peer_cuda_jpeg *j, const peer_cuda_planes *planes,
                                     p2c2r_pixel_format format, uint32_t width, uint32_t height,
                                     int quality, uint32_t restart_mcus, cudaStream_t stream)
{
    gj_geometry g;
    gj_dev d;
    int rc = gj_geometry_init(&g, format, width, height, quality, restart_mcus, j->hdr);
    if (rc != P2C2R_OK)
        return rc;
    size_t bytes = gj_layout(g, NULL, &d);
    if ((rc = gj_planes(g, planes, &d)) != P2C2R_OK || (rc = gj_first(j, stream)) != P2C2R_OK ||
        (rc = gj_grow(j, bytes, stream)) != P2C2R_OK)
        return rc;
    gj_layout(g, j->scratch, &d);
    gj_planes(g, planes, &d);
    d.huff = j->huff;
    j->d = d;
    cudaError_t err =
        cudaMemcpyAsync(d.out, j->hdr, g.header_bytes, cudaMemcpyHostToDevice, stream);
    if (err != cudaSuccess)
        return cuk_fail("jpeg: copy headers", err);
    uint32_t nb = (g.blocks + GJ_BLOCK_THREADS - 1) / GJ_BLOCK_THREADS;
    uint32_t ni = (g.intervals + GJ_INTERVAL_THREADS - 1) / GJ_INTERVAL_THREADS;
    gj_k_dct<<<nb, GJ_BLOCK_THREADS, 0, stream>>>(g, d);
    gj_k_bits<<<nb, GJ_BLOCK_THREADS, 0, stream>>>(g, d);
    gj_k_interval<<<ni, GJ_INTERVAL_THREADS, 0, stream>>>(g, d);
    gj_k_scan<<<1, GJ_SCAN, 0, stream>>>(d.iwords, g.intervals, d.wofs, &d.total[0]);
    gj_k_clear<<<ni, GJ_INTERVAL_THREADS, 0, stream>>>(g, d);
    gj_k_pack<<<nb, GJ_BLOCK_THREADS, 0, stream>>>(g, d);
    gj_k_stuffsize<<<ni, GJ_INTERVAL_THREADS, 0, stream>>>(g, d);
    gj_k_scan<<<1, GJ_SCAN, 0, stream>>>(d.ssize, g.intervals, d.sofs, &d.total[1]);
    gj_k_write<<<ni, GJ_INTERVAL_THREADS, 0, stream>>>(g, d);
    err = cudaGetLastError();
    return err == cudaSuccess ? P2C2R_OK : cuk_fail("jpeg: kernel launch", err);
}

extern "C" int peer_cuda_jpeg_fetch(peer_cuda_jpeg *j, cudaStream_t stream, uint8_t **out,
                                    size_t *size)
{
    *out = NULL;
    *size = 0;
    if (!j->host_total || !j->d.total)
        return P2C2R_E_INVAL;
    cudaError_t err = cudaMemcpyAsync(j->host_total, &j->d.total[2], sizeof(uint32_t),
                                      cudaMemcpyDeviceToHost, stream);
    if (err == cudaSuccess)
        err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess)
        return cuk_fail("jpeg: read the size", err);
    size_t n = *j->host_total;
    if (n < 4 || n > j->capacity)
        return cuk_fail("jpeg: impossible size", cudaErrorUnknown);
    uint8_t *buf = (uint8_t *)malloc(n);
    if (!buf)
        return P2C2R_E_NOMEM;
    err = cudaMemcpyAsync(buf, j->d.out, n, cudaMemcpyDeviceToHost, stream);
    if (err == cudaSuccess)
        err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess) {
        free(buf);
        return cuk_fail("jpeg: copy the bitstream", err);
    }
    *out = buf;
    *size = n;
    return P2C2R_OK;
}
