/* modes_test: every upscale mode through the real cluster. A coordinator and one peer
 * (one slot, two threads per frame, so bands really run on two threads) on loopback; each
 * test picture (odd-sized 4:2:0, progressive 4:2:2, 4:4:4, greyscale) goes through the
 * SDK in every mode at scales 2 and 3. Each result must be exactly scale times the input
 * in each dimension, in the input's format, and each plane within PSNR_MIN_DB of the same
 * kernel run in this process on the decoded input (the gap is the output JPEG's
 * quantisation at quality 95). */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "common/image.h"
#include "common/upscale/upscale.h"
#include "p2c2r.h"
#include "testutil.h"

#define PSNR_MIN_DB 38.0

static const char *const inputs[] = {
    "bythewater_420.jpg",
    "cups_422_progressive.jpg",
    "path_444.jpg",
    "fallenleaf_gray.jpg",
};
#define NINPUTS (sizeof inputs / sizeof inputs[0])

static const struct {
    p2c2r_mode mode;
    const char *name;
} modes[] = {
    {P2C2R_MODE_FAST, "fast"},
    {P2C2R_MODE_BICUBIC, "bicubic"},
    {P2C2R_MODE_LANCZOS, "lanczos"},
    {P2C2R_MODE_QUALITY, "quality"},
};

/* Compare a result with the in-process kernel; returns the worst plane PSNR. */
static double check_result(const p2c2r_image *in, uint32_t scale, p2c2r_mode mode,
                           const p2c2r_result *r, p2c2r_jpeg *jpeg)
{
    double worst = 1e9;
    CHECK(p2c2r_result_width(r) == scale * in->width);
    CHECK(p2c2r_result_height(r) == scale * in->height);
    size_t size;
    const void *data = p2c2r_result_data(r, &size);
    p2c2r_image out = {0}, ref = {0};
    const p2c2r_upscale_plan *plan = NULL;
    CHECK_RC(p2c2r__jpeg_decode(jpeg, data, size, &out), P2C2R_OK);
    CHECK_RC(p2c2r__upscale_plan_new(in->format, in->width, in->height, scale, mode, &plan),
             P2C2R_OK);
    CHECK_RC(p2c2r__image_alloc(&ref, in->format, scale * in->width, scale * in->height), P2C2R_OK);
    if (plan && ref.buffer && out.buffer && out.format == in->format && out.width == ref.width &&
        out.height == ref.height) {
        CHECK_RC(p2c2r__upscale_image(plan, in, &ref, NULL, p2c2r__upscale_simd()), P2C2R_OK);
        for (uint32_t i = 0; i < out.nplanes; i++) {
            double psnr = testutil_psnr_plane(&out.plane[i], &ref.plane[i]);
            if (psnr < worst)
                worst = psnr;
        }
    } else {
        CHECK(!"output does not match the input's format and size");
        worst = 0;
    }
    p2c2r__upscale_plan_destroy(&plan);
    p2c2r__image_free(&out);
    p2c2r__image_free(&ref);
    return worst;
}

int main(void)
{
    uint8_t *file[NINPUTS] = {0};
    size_t size[NINPUTS];
    p2c2r_image image[NINPUTS];
    memset(image, 0, sizeof image);
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    for (size_t i = 0; i < NINPUTS; i++) {
        file[i] = testutil_read_file(testutil_data_path(inputs[i]), &size[i]);
        if (!file[i])
            return 1;
        CHECK_RC(p2c2r__jpeg_decode(jpeg, file[i], size[i], &image[i]), P2C2R_OK);
    }
    cluster cl = {0};
    const char *const peer_args[] = {"--slots", "1", "--threads", "2", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = 4};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    for (size_t m = 0; client && m < sizeof modes / sizeof modes[0]; m++) {
        double worst = 1e9;
        for (uint32_t scale = 2; scale <= 3; scale++)
            for (size_t i = 0; i < NINPUTS; i++) {
                p2c2r_upscale_desc desc = {
                    .codec = P2C2R_CODEC_JPEG,
                    .scale = scale,
                    .mode = modes[m].mode,
                    .output_codec = P2C2R_CODEC_JPEG,
                    .jpeg_quality = 95,
                    .deadline_ms = 60000,
                };
                uint64_t id;
                p2c2r_result *r = NULL;
                CHECK_RC(p2c2r_submit_upscale(client, &desc, file[i], size[i], &id), P2C2R_OK);
                if (p2c2r_poll(client, 60000, &r) != P2C2R_OK) {
                    fprintf(stderr, "%s: no result within 60 s\n", modes[m].name);
                    CHECK(0);
                    continue;
                }
                CHECK(p2c2r_result_task_id(r) == id);
                if (p2c2r_result_status(r) != P2C2R_OK)
                    fprintf(stderr, "%s x%u %s: %s: %s\n", modes[m].name, scale, inputs[i],
                            p2c2r_errname(p2c2r_result_status(r)), p2c2r_result_detail(r));
                CHECK_RC(p2c2r_result_status(r), P2C2R_OK);
                if (p2c2r_result_status(r) == P2C2R_OK) {
                    double psnr = check_result(&image[i], scale, modes[m].mode, r, jpeg);
                    if (psnr < PSNR_MIN_DB)
                        fprintf(stderr, "%s x%u %s: PSNR %.2f dB < %.1f\n", modes[m].name, scale,
                                inputs[i], psnr, PSNR_MIN_DB);
                    CHECK(psnr >= PSNR_MIN_DB);
                    if (psnr < worst)
                        worst = psnr;
                }
                p2c2r_result_free(&r);
            }
        printf("mode %-8s worst plane PSNR vs in-process kernel: %.2f dB (min %.1f)\n",
               modes[m].name, worst, PSNR_MIN_DB);
    }
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    for (size_t i = 0; i < NINPUTS; i++) {
        free(file[i]);
        p2c2r__image_free(&image[i]);
    }
    p2c2r__jpeg_destroy(&jpeg);
    return testutil_finish("modes_test");
}
