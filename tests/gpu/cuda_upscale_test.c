/* cuda_upscale_test: the CUDA kernels on a device against the CPU kernels, on every case
 * of twin.h (byte for byte, every mode), and the resident tables (peer/cuda/tables.h):
 * the bound in bytes, least recently used out first, the first-use flag, an entry held
 * across its eviction, and several threads with a stream each. Without a device or
 * driver it says why and exits 77 (skip).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tables.h"
#include "testutil.h"
#include "twin.h"

#define CUDA_OK(call)                                                                              \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                          \
                    cudaGetErrorString(err_));                                                     \
            testutil_failures++;                                                                   \
        }                                                                                          \
    } while (0)

/* Device planes laid out as host planes t (same pitches and offsets). */
typedef struct dev_planes {
    peer_cuda_planes p; /* device view */
    uint8_t *buf;       /* device allocation */
    size_t size;        /* bytes */
} dev_planes;

static size_t planes_size(const twin_planes *t)
{
    uint32_t last = t->p.nplanes - 1;
    return (size_t)(t->p.data[last] - t->buf) + t->p.pitch[last] * t->p.height[last];
}

static int dev_planes_new(dev_planes *d, const twin_planes *t)
{
    memset(d, 0, sizeof *d);
    d->size = planes_size(t);
    if (cudaMalloc((void **)&d->buf, d->size) != cudaSuccess)
        return -1;
    d->p = t->p;
    for (uint32_t i = 0; i < t->p.nplanes; i++)
        d->p.data[i] = d->buf + (t->p.data[i] - t->buf);
    /* From pageable memory cudaMemcpy may return before its DMA has landed, and the kernel
     * runs on a non-blocking stream, which does not wait for the legacy stream's copy:
     * without the synchronisation the poison of the output could land after the kernel. */
    if (cudaMemcpy(d->buf, t->buf, d->size, cudaMemcpyHostToDevice) != cudaSuccess)
        return -1;
    return cudaDeviceSynchronize() == cudaSuccess ? 0 : -1;
}

/* Run one case through peer_cuda_upscale(), plan from the tables; 0 when it matched. */
static int run_case(const twin_case *c, peer_cuda_tables *tables, cudaStream_t stream)
{
    twin_run r;
    peer_cuda_entry *entry = NULL;
    dev_planes dsrc = {0}, ddst = {0};
    int failed = 1;
    if (twin_run_begin(&r, c) != P2C2R_OK)
        goto done;
    CHECK_RC(peer_cuda_tables_get(tables, r.plan, stream, &entry, NULL), P2C2R_OK);
    if (!entry || twin_run_images(&r, c, peer_cuda_entry_plan(entry)) != P2C2R_OK)
        goto done;
    if (dev_planes_new(&dsrc, &r.src) != 0 || dev_planes_new(&ddst, &r.dst) != 0) {
        CHECK(!"device planes");
        goto done;
    }
    CHECK_RC(peer_cuda_upscale(peer_cuda_entry_plan(entry), &dsrc.p, &ddst.p, stream), P2C2R_OK);
    CUDA_OK(cudaMemcpyAsync(r.dst.buf, ddst.buf, ddst.size, cudaMemcpyDeviceToHost, stream));
    CUDA_OK(cudaStreamSynchronize(stream));
    failed = twin_run_check(&r, c);
done:
    peer_cuda_tables_put(tables, &entry);
    cudaFree(dsrc.buf);
    cudaFree(ddst.buf);
    twin_run_end(&r);
    return failed;
}

static void test_cases(void)
{
    size_t n = twin_cases(NULL, 0), failed = 0;
    twin_case *cases = calloc(n, sizeof *cases);
    peer_cuda_tables *tables = peer_cuda_tables_new(0, 1u << 20);
    cudaStream_t stream;
    CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CHECK(cases && tables);
    if (!cases || !tables)
        return;
    twin_cases(cases, n);
    for (size_t i = 0; i < n; i++)
        failed += (size_t)run_case(&cases[i], tables, stream);
    printf("%zu cases on the device, %zu differ from the CPU\n", n, failed);
    peer_cuda_tables_destroy(&tables);
    cudaStreamDestroy(stream);
    free(cases);
}

/* Whether name is among the resident plans, and where (-1: not). */
static int resident_at(peer_cuda_tables *t, const p2c2r_upscale_plan *plan)
{
    char names[16][P2C2R_UPSCALE_NAME_MAX];
    size_t n = peer_cuda_tables_list(t, names, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        if (strcmp(names[i], p2c2r__upscale_plan_name(plan)) == 0)
            return (int)i;
    return -1;
}

static void test_tables(void)
{
    /* Quality plans: their tables grow with the output size, so the sizes differ. */
    const p2c2r_upscale_plan *p[4] = {NULL};
    for (int i = 0; i < 4; i++)
        CHECK_RC(p2c2r__upscale_plan_new(P2C2R_PIX_GRAY8, 200 + 10 * (uint32_t)i, 100, 4,
                                         P2C2R_MODE_QUALITY, &p[i]),
                 P2C2R_OK);
    cudaStream_t stream;
    CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    /* Measure each plan's device bytes with a cache that keeps everything. */
    peer_cuda_tables *t = peer_cuda_tables_new(0, (size_t)1 << 30);
    size_t bytes[4];
    peer_cuda_get_info info;
    for (int i = 0; i < 4; i++) {
        peer_cuda_entry *e = NULL;
        CHECK_RC(peer_cuda_tables_get(t, p[i], stream, &e, &info), P2C2R_OK);
        CHECK(info.uploaded == 1 && info.upload_ns > 0);
        bytes[i] = e ? peer_cuda_plan_bytes(peer_cuda_entry_plan(e)) : 0;
        peer_cuda_tables_put(t, &e);
        CHECK_RC(peer_cuda_tables_get(t, p[i], stream, &e, &info), P2C2R_OK);
        CHECK(info.uploaded == 0 && info.upload_ns == 0);
        peer_cuda_tables_put(t, &e);
    }
    CHECK(peer_cuda_tables_bytes(t) == bytes[0] + bytes[1] + bytes[2] + bytes[3]);
    CHECK(resident_at(t, p[3]) == 0 && resident_at(t, p[0]) == 3);
    peer_cuda_tables_destroy(&t);

    /* Room for plans 0 and 1 but not 2 as well: 2 evicts the least recently used. */
    t = peer_cuda_tables_new(0, bytes[0] + bytes[1] + bytes[2] - 1);
    peer_cuda_entry *e0 = NULL, *e = NULL;
    CHECK_RC(peer_cuda_tables_get(t, p[0], stream, &e0, &info), P2C2R_OK); /* held on */
    CHECK_RC(peer_cuda_tables_get(t, p[1], stream, &e, &info), P2C2R_OK);
    peer_cuda_tables_put(t, &e);
    CHECK_RC(peer_cuda_tables_get(t, p[2], stream, &e, &info), P2C2R_OK);
    peer_cuda_tables_put(t, &e);
    CHECK(resident_at(t, p[0]) == -1 && resident_at(t, p[2]) == 0 && resident_at(t, p[1]) == 1);
    CHECK(peer_cuda_tables_bytes(t) == bytes[1] + bytes[2]);
    /* The evicted plan still works while held: run it, then let it go after the stream. */
    if (e0) {
        peer_cuda_planes gs, gd;
        peer_cuda_plan_geometry(peer_cuda_entry_plan(e0), &gs, &gd);
        uint8_t *ds = NULL, *dd = NULL;
        CUDA_OK(cudaMalloc((void **)&ds, gs.pitch[0] * gs.height[0]));
        CUDA_OK(cudaMalloc((void **)&dd, gd.pitch[0] * gd.height[0]));
        CUDA_OK(cudaMemsetAsync(ds, 77, gs.pitch[0] * gs.height[0], stream));
        gs.data[0] = ds;
        gd.data[0] = dd;
        CHECK_RC(peer_cuda_upscale(peer_cuda_entry_plan(e0), &gs, &gd, stream), P2C2R_OK);
        peer_cuda_tables_put_after(t, &e0, stream);
        CHECK(e0 == NULL);
        uint8_t corner[4];
        CUDA_OK(cudaMemcpyAsync(corner, dd, 4, cudaMemcpyDeviceToHost, stream));
        CUDA_OK(cudaStreamSynchronize(stream));
        CHECK(corner[0] == 77 && corner[3] == 77); /* flat in, flat out */
        cudaFree(ds);
        cudaFree(dd);
    }
    /* Asked again, plan 0 is uploaded again. */
    CHECK_RC(peer_cuda_tables_get(t, p[0], stream, &e, &info), P2C2R_OK);
    CHECK(info.uploaded == 1 && resident_at(t, p[0]) == 0);
    peer_cuda_tables_put(t, &e);
    peer_cuda_tables_destroy(&t);

    /* A plan bigger than the whole bound is handed out but not kept. */
    t = peer_cuda_tables_new(0, bytes[0] - 1);
    CHECK_RC(peer_cuda_tables_get(t, p[0], stream, &e, &info), P2C2R_OK);
    CHECK(e != NULL && info.uploaded == 1 && resident_at(t, p[0]) == -1);
    CHECK(peer_cuda_tables_bytes(t) == 0);
    peer_cuda_tables_put(t, &e);
    peer_cuda_tables_destroy(&t);
    cudaStreamDestroy(stream);
    for (int i = 0; i < 4; i++)
        p2c2r__upscale_plan_destroy(&p[i]);
}

/* Several threads, a stream each, on the same few plans of one cache. */
typedef struct worker_arg {
    peer_cuda_tables *tables; /* shared */
    int index;                /* which thread */
    int failed;               /* cases that differed */
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *w = arg;
    cudaStream_t stream;
    if (cudaSetDevice(0) != cudaSuccess ||
        cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
        w->failed = 1;
        return NULL;
    }
    static const p2c2r_mode modes[] = {P2C2R_MODE_FAST, P2C2R_MODE_BICUBIC, P2C2R_MODE_LANCZOS,
                                       P2C2R_MODE_QUALITY};
    for (int i = 0; i < 24; i++) {
        twin_case c = {P2C2R_PIX_YUV420P,         67,   45, 1 + (uint32_t)(i + w->index) % 3,
                       modes[(i + w->index) % 4], i % 2};
        w->failed += run_case(&c, w->tables, stream);
    }
    cudaStreamDestroy(stream);
    return NULL;
}

static void test_threads(void)
{
    /* Room for a few plans only, so that they are evicted while other threads hold them. */
    peer_cuda_tables *t = peer_cuda_tables_new(0, 8192);
    enum { N = 4 };
    pthread_t th[N];
    worker_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (worker_arg){t, i, 0};
        CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].failed == 0);
    }
    CHECK(peer_cuda_tables_bytes(t) <= 8192);
    peer_cuda_tables_destroy(&t);
}

int main(void)
{
    if (twin_need_device("cuda_upscale_test"))
        return 77;
    struct cudaDeviceProp prop;
    CUDA_OK(cudaGetDeviceProperties(&prop, 0));
    printf("device 0: %s, compute capability %d.%d\n", prop.name, prop.major, prop.minor);
    test_cases();
    test_tables();
    test_threads();
    return testutil_finish("cuda_upscale_test");
}
