/* cuda_jpeg_test: the device JPEG encoder (peer/cuda/jpeg_encode.h) on a device.
 *
 * Without arguments (suite gpu): every subsampling at 1x1, 7x3, 17x9, 67x45, 333x101 and
 * 1920x1080, q50/q85/q95, planes copied to the device with odd pitches, encoded there
 * and fetched: the bytes must equal the host emulation's for the same planes, and
 * TurboJPEG must decode them without a warning.
 *
 * With "bench" (suite bench): a 3840x2160 4:2:0 q85 frame (the middle 1920x1080 of a
 * wallpaper, upscaled 2x)
 * encoded from device memory into a host buffer, median of 200 after 20 of warm-up: the
 * device time (cudaEvents around the kernels) and the host time of encode + fetch (the
 * bitstream's copy included); against TurboJPEG's fast DCT on one core and in bands on
 * every core (common/jpegband.h, as the CPU executor encodes), in the same run.
 *
 * Both exit 77 without a device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/jpegband.h"
#include "common/upscale/upscale.h"
#include "jpeg_ref.h"
#include "testutil.h"
#include "twin.h"

/* Device copies of an image's planes, pitch padded to an odd number of bytes. */
static int upload(const p2c2r_image *img, peer_cuda_planes *d, void **mem)
{
    size_t at = 0, pitch[3];
    memset(d, 0, sizeof *d);
    d->nplanes = img->nplanes;
    for (uint32_t i = 0; i < img->nplanes; i++) {
        pitch[i] = img->plane[i].width | 1;
        at += pitch[i] * img->plane[i].height;
    }
    if (cudaMalloc(mem, at) != cudaSuccess)
        return -1;
    at = 0;
    for (uint32_t i = 0; i < img->nplanes; i++) {
        d->data[i] = (uint8_t *)*mem + at;
        d->pitch[i] = pitch[i];
        d->width[i] = img->plane[i].width;
        d->height[i] = img->plane[i].height;
        cudaMemcpy2D(d->data[i], pitch[i], img->plane[i].data, img->plane[i].stride,
                     img->plane[i].width, img->plane[i].height, cudaMemcpyHostToDevice);
        at += pitch[i] * img->plane[i].height;
    }
    return 0;
}

static peer_cuda_planes host_planes(const p2c2r_image *img)
{
    peer_cuda_planes p = {.nplanes = img->nplanes};
    for (uint32_t i = 0; i < img->nplanes; i++) {
        p.data[i] = img->plane[i].data;
        p.pitch[i] = img->plane[i].stride;
        p.width[i] = img->plane[i].width;
        p.height[i] = img->plane[i].height;
    }
    return p;
}

static void fill(p2c2r_image *img, uint64_t seed)
{
    for (uint32_t i = 0; i < img->nplanes; i++)
        for (uint32_t y = 0; y < img->plane[i].height; y++)
            for (uint32_t x = 0; x < img->plane[i].width; x++)
                img->plane[i].data[(size_t)y * img->plane[i].stride + x] =
                    (uint8_t)((x * 3 + y * 5) / 4 + testutil_rand(&seed) % 48);
}

static int equality(void)
{
    static const uint32_t sizes[][2] = {{1, 1},   {7, 3},     {17, 9},
                                        {67, 45}, {333, 101}, {1920, 1080}};
    static const p2c2r_pixel_format fmts[] = {P2C2R_PIX_YUV420P, P2C2R_PIX_YUV422P,
                                              P2C2R_PIX_YUV444P, P2C2R_PIX_GRAY8};
    static const int qs[] = {50, 85, 95};
    peer_cuda_jpeg *gj = NULL;
    cudaStream_t st;
    CHECK(cudaStreamCreate(&st) == cudaSuccess);
    CHECK_RC(peer_cuda_jpeg_new(&gj), P2C2R_OK);
    int cases = 0, differ = 0;
    for (size_t s = 0; s < 6; s++)
        for (size_t f = 0; f < 4; f++)
            for (size_t q = 0; q < 3; q++) {
                p2c2r_image img, dec;
                CHECK_RC(p2c2r__image_alloc(&img, fmts[f], sizes[s][0], sizes[s][1]), P2C2R_OK);
                fill(&img, s * 16 + f * 4 + q + 1);
                peer_cuda_planes hp = host_planes(&img), dp;
                void *mem = NULL;
                uint8_t *want = NULL, *got = NULL;
                size_t wn = 0, gn = 0;
                CHECK(upload(&img, &dp, &mem) == 0);
                CHECK_RC(peer_cuda_jpeg_emulate(&hp, img.format, img.width, img.height, qs[q], 0,
                                                NULL, &want, &wn),
                         P2C2R_OK);
                CHECK_RC(
                    peer_cuda_jpeg_encode(gj, &dp, img.format, img.width, img.height, qs[q], 0, st),
                    P2C2R_OK);
                CHECK_RC(peer_cuda_jpeg_fetch(gj, st, &got, &gn), P2C2R_OK);
                cases++;
                if (!got || gn != wn || memcmp(got, want, wn) != 0) {
                    differ++;
                    fprintf(stderr, "%ux%u format %d q%d: %zu bytes, the emulation %zu\n",
                            img.width, img.height, (int)img.format, qs[q], gn, wn);
                }
                CHECK(got && jref_decode(got, gn, &dec) == 0);
                p2c2r__image_free(&dec);
                free(want);
                free(got);
                cudaFree(mem);
                p2c2r__image_free(&img);
            }
    CHECK(differ == 0);
    printf("%d cases, %d differ from the host emulation\n", cases, differ);
    peer_cuda_jpeg_destroy(&gj);
    cudaStreamDestroy(st);
    return testutil_finish("cuda_jpeg_test");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { WARMUP = 20, RUNS = 200, CPU_RUNS = 20 };

static int bench(void)
{
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    size_t size = 0;
    p2c2r_image src = {0}, img = {0};
    const p2c2r_upscale_plan *plan = NULL;
    /* A 1920x1080 4:2:0 frame from the middle of a photograph, upscaled 2x on the CPU. */
    const char *path = testutil_wallpaper("1920x1080", 1);
    if (!path || testutil_middle_420(path, 1920, 1080, jpeg, &src) != 0) {
        fprintf(stderr, "cuda_jpeg_bench: no 1920x1080 frame from %s\n", path ? path : "-");
        return 1;
    }
    CHECK_RC(
        p2c2r__upscale_plan_new(src.format, src.width, src.height, 2, P2C2R_MODE_LANCZOS, &plan),
        P2C2R_OK);
    CHECK_RC(p2c2r__image_alloc(&img, src.format, 3840, 2160), P2C2R_OK);
    CHECK_RC(p2c2r__upscale_image(plan, &src, &img, NULL, P2C2R_SIMD_SCALAR), P2C2R_OK);
    peer_cuda_planes dp;
    void *mem = NULL;
    cudaStream_t st;
    cudaEvent_t a, b;
    peer_cuda_jpeg *gj = NULL;
    CHECK(upload(&img, &dp, &mem) == 0 && cudaStreamCreate(&st) == cudaSuccess);
    CHECK(cudaEventCreate(&a) == cudaSuccess && cudaEventCreate(&b) == cudaSuccess);
    CHECK_RC(peer_cuda_jpeg_new(&gj), P2C2R_OK);
    static double dev_us[RUNS], host_us[RUNS], one_us[CPU_RUNS], all_us[CPU_RUNS];
    size_t out_size = 0;
    for (int i = 0; i < WARMUP + RUNS; i++) {
        uint8_t *out = NULL;
        uint64_t t0 = p2c2r__now_us();
        cudaEventRecord(a, st);
        CHECK_RC(peer_cuda_jpeg_encode(gj, &dp, img.format, 3840, 2160, 85, 0, st), P2C2R_OK);
        cudaEventRecord(b, st);
        CHECK_RC(peer_cuda_jpeg_fetch(gj, st, &out, &out_size), P2C2R_OK);
        uint64_t t1 = p2c2r__now_us();
        float ms = 0;
        cudaEventElapsedTime(&ms, a, b);
        if (i >= WARMUP) {
            dev_us[i - WARMUP] = ms * 1000.0;
            host_us[i - WARMUP] = (double)(t1 - t0);
        }
        free(out);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p2c2r_pool *pool = p2c2r__pool_new((uint32_t)cores);
    size_t one_size = 0;
    for (int i = 0; i < CPU_RUNS; i++) {
        uint8_t *out = NULL;
        uint64_t t0 = p2c2r__now_us();
        CHECK_RC(p2c2r__jpegband_encode(&img, 85, NULL, 1, NULL, &out, &one_size), P2C2R_OK);
        uint64_t t1 = p2c2r__now_us();
        free(out);
        CHECK_RC(p2c2r__jpegband_encode(&img, 85, pool, (uint32_t)cores * 2, NULL, &out, &size),
                 P2C2R_OK);
        one_us[i] = (double)(t1 - t0);
        all_us[i] = (double)(p2c2r__now_us() - t1);
        free(out);
    }
    qsort(dev_us, RUNS, sizeof dev_us[0], cmp_double);
    qsort(host_us, RUNS, sizeof host_us[0], cmp_double);
    qsort(one_us, CPU_RUNS, sizeof one_us[0], cmp_double);
    qsort(all_us, CPU_RUNS, sizeof all_us[0], cmp_double);
    printf("3840x2160 4:2:0 q85, medians:\n"
           "  device encoder: %.0f us on the device (events), %.0f us host time with the "
           "bitstream's copy, %zu bytes\n"
           "  TurboJPEG fast DCT, one core: %.0f us, %zu bytes\n"
           "  TurboJPEG fast DCT in bands, %ld cores: %.0f us\n",
           dev_us[RUNS / 2], host_us[RUNS / 2], out_size, one_us[CPU_RUNS / 2], one_size, cores,
           all_us[CPU_RUNS / 2]);
    p2c2r__pool_destroy(&pool);
    peer_cuda_jpeg_destroy(&gj);
    cudaFree(mem);
    p2c2r__upscale_plan_destroy(&plan);
    p2c2r__image_free(&img);
    p2c2r__image_free(&src);
    p2c2r__jpeg_destroy(&jpeg);
    return testutil_finish("cuda_jpeg_bench");
}

int main(int argc, char **argv)
{
    int skip = twin_need_device(argc > 1 ? "cuda_jpeg_bench" : "cuda_jpeg_test");
    if (skip)
        return skip;
    return argc > 1 && strcmp(argv[1], "bench") == 0 ? bench() : equality();
}
