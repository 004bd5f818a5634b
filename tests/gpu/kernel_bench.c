/* kernel_bench: how long each mode's kernels take on a device for one 1920x1080 -> 3840x2160
 * yuv420p frame, next to two references taken in the same run:
 *   the HBM bound: bytes read plus bytes written over the memory bandwidth that the
 *     device's attributes give (2 x memory clock x bus width);
 *   a device-to-device cudaMemcpy moving as many bytes (reads plus writes) as the kernel.
 * Kernel time is the median of 200 launches after 20 of warm-up, each between two
 * cudaEvents on one stream. The first use of each plan (its upload by the resident
 * tables) is reported apart. Exits 77 (skip) without a device.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tables.h"
#include "twin.h"

enum { WARMUP = 20, RUNS = 200 };

#define TRY(call)                                                                                  \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                          \
                    cudaGetErrorString(err_));                                                     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Median of RUNS timings of fn(arg) on stream, in microseconds. */
static float median_us(cudaStream_t stream, void (*fn)(void *, cudaStream_t), void *arg)
{
    static float ms[RUNS];
    cudaEvent_t a, b;
    TRY(cudaEventCreate(&a));
    TRY(cudaEventCreate(&b));
    for (int i = 0; i < WARMUP; i++)
        fn(arg, stream);
    for (int i = 0; i < RUNS; i++) {
        TRY(cudaEventRecord(a, stream));
        fn(arg, stream);
        TRY(cudaEventRecord(b, stream));
        TRY(cudaEventSynchronize(b));
        TRY(cudaEventElapsedTime(&ms[i], a, b));
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    qsort(ms, RUNS, sizeof ms[0], cmp_float);
    return ms[RUNS / 2] * 1000.0f;
}

typedef struct copy_arg {
    void *dst, *src; /* device buffers */
    size_t bytes;    /* copied */
} copy_arg;

static void run_copy(void *arg, cudaStream_t stream)
{
    copy_arg *c = arg;
    TRY(cudaMemcpyAsync(c->dst, c->src, c->bytes, cudaMemcpyDeviceToDevice, stream));
}

typedef struct upscale_arg {
    const peer_cuda_plan *plan; /* device plan */
    peer_cuda_planes src, dst;  /* device planes */
} upscale_arg;

static void run_upscale(void *arg, cudaStream_t stream)
{
    upscale_arg *u = arg;
    if (peer_cuda_upscale(u->plan, &u->src, &u->dst, stream) != P2C2R_OK)
        exit(1);
}

/* Device planes of geometry g, rows pitched by cudaMallocPitch. */
static size_t planes_alloc(peer_cuda_planes *g)
{
    size_t bytes = 0;
    for (uint32_t i = 0; i < g->nplanes; i++) {
        TRY(cudaMallocPitch((void **)&g->data[i], &g->pitch[i], g->width[i], g->height[i]));
        TRY(cudaMemset2D(g->data[i], g->pitch[i], 16 + 60 * i, g->width[i], g->height[i]));
        bytes += (size_t)g->width[i] * g->height[i];
    }
    return bytes;
}

int main(void)
{
    if (twin_need_device("kernel_bench"))
        return 77;
    struct cudaDeviceProp prop;
    int clock_khz = 0, bus_bits = 0;
    TRY(cudaGetDeviceProperties(&prop, 0));
    TRY(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0));
    TRY(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0));
    double bw = 2.0 * clock_khz * 1e3 * bus_bits / 8; /* bytes per second, DDR */
    printf("device: %s (sm_%d%d), memory %.0f GB/s from its attributes\n", prop.name, prop.major,
           prop.minor, bw / 1e9);

    cudaStream_t stream;
    TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    peer_cuda_tables *tables = peer_cuda_tables_new(0, (size_t)64 << 20);
    static const p2c2r_mode modes[] = {P2C2R_MODE_FAST, P2C2R_MODE_BICUBIC, P2C2R_MODE_LANCZOS,
                                       P2C2R_MODE_QUALITY};
    static const char *const names[] = {"fast", "bicubic", "lanczos", "quality"};
    printf("1920x1080 -> 3840x2160 yuv420p, median of %d after %d warm-up launches\n", RUNS,
           WARMUP);
    printf("%-8s %10s %10s %10s %10s %9s %9s\n", "mode", "upload us", "kernel us", "HBM us",
           "memcpy us", "x HBM", "x memcpy");
    for (int m = 0; m < 4; m++) {
        const p2c2r_upscale_plan *plan = NULL;
        if (p2c2r__upscale_plan_new(P2C2R_PIX_YUV420P, 1920, 1080, 2, modes[m], &plan) != P2C2R_OK)
            return 1;
        peer_cuda_entry *e = NULL;
        peer_cuda_get_info info;
        if (peer_cuda_tables_get(tables, plan, stream, &e, &info) != P2C2R_OK)
            return 1;
        upscale_arg u = {.plan = peer_cuda_entry_plan(e)};
        peer_cuda_plan_geometry(u.plan, &u.src, &u.dst);
        size_t in = planes_alloc(&u.src), out = planes_alloc(&u.dst);
        float kernel = median_us(stream, run_upscale, &u);

        copy_arg c = {NULL, NULL, (in + out) / 2};
        TRY(cudaMalloc(&c.dst, c.bytes));
        TRY(cudaMalloc(&c.src, c.bytes));
        float copy = median_us(stream, run_copy, &c);
        double hbm = (double)(in + out) / bw * 1e6;
        printf("%-8s %10.1f %10.2f %10.2f %10.2f %9.2f %9.2f\n", names[m],
               (double)info.upload_ns / 1e3, kernel, hbm, copy, kernel / hbm, kernel / copy);
        cudaFree(c.dst);
        cudaFree(c.src);
        for (uint32_t i = 0; i < 3; i++) {
            cudaFree(u.src.data[i]);
            cudaFree(u.dst.data[i]);
        }
        peer_cuda_tables_put(tables, &e);
        p2c2r__upscale_plan_destroy(&plan);
    }
    peer_cuda_tables_destroy(&tables);
    cudaStreamDestroy(stream);
    return 0;
}
