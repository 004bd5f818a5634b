/* frames_test: the whole frame path with the real components. A coordinator and two peer
 * processes on loopback; 50 real JPEG frames (crops of photographs, in 4:2:0, 4:2:2
 * progressive, 4:4:4 and greyscale) go through the SDK with more frames in flight than
 * the peers have slots. Every frame must come back exactly once, exactly 2x in each
 * dimension, and each plane within PSNR_MIN_DB of an independent double-precision
 * bilinear upscale of the decoded input (the gap is the output JPEG's quantisation at
 * quality 95). No frame may be refused as BUSY: that would mean the coordinator assigned
 * beyond a peer's slots. */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "common/image.h"
#include "p2c2r.h"
#include "testutil.h"

#define FRAMES      50
#define WINDOW      12
#define PSNR_MIN_DB 38.0

static const char *const inputs[] = {
    "bythewater_420.jpg",
    "cups_422_progressive.jpg",
    "fallenleaf_gray.jpg",
    "path_444.jpg",
};
#define NINPUTS (sizeof inputs / sizeof inputs[0])

typedef struct input {
    uint8_t *jpeg;     /* file bytes */
    size_t size;       /* bytes */
    p2c2r_image image; /* decoded, for the reference */
} input;

static double worst_psnr = 1e9;

static void check_output(const input *in, const p2c2r_result *r, p2c2r_jpeg *jpeg)
{
    CHECK(p2c2r_result_width(r) == 2 * in->image.width);
    CHECK(p2c2r_result_height(r) == 2 * in->image.height);
    CHECK(p2c2r_result_codec(r) == P2C2R_CODEC_JPEG);
    size_t size;
    const void *data = p2c2r_result_data(r, &size);
    p2c2r_image out = {0};
    CHECK_RC(p2c2r__jpeg_decode(jpeg, data, size, &out), P2C2R_OK);
    CHECK(out.width == 2 * in->image.width && out.height == 2 * in->image.height);
    CHECK(out.format == in->image.format && out.nplanes == in->image.nplanes);
    for (uint32_t i = 0; i < out.nplanes && out.format == in->image.format; i++) {
        p2c2r_plane ref = out.plane[i];
        ref.data = malloc((size_t)ref.stride * ref.height);
        testutil_bilinear_reference(&in->image.plane[i], &ref);
        double psnr = testutil_psnr_plane(&out.plane[i], &ref);
        if (psnr < worst_psnr)
            worst_psnr = psnr;
        if (psnr < PSNR_MIN_DB)
            fprintf(stderr, "plane %u: PSNR %.2f dB < %.1f\n", i, psnr, PSNR_MIN_DB);
        CHECK(psnr >= PSNR_MIN_DB);
        free(ref.data);
    }
    p2c2r__image_free(&out);
}

int main(void)
{
    input in[NINPUTS] = {0};
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    for (size_t i = 0; i < NINPUTS; i++) {
        in[i].jpeg = testutil_read_file(testutil_data_path(inputs[i]), &in[i].size);
        if (!in[i].jpeg)
            return 1;
        CHECK_RC(p2c2r__jpeg_decode(jpeg, in[i].jpeg, in[i].size, &in[i].image), P2C2R_OK);
    }

    cluster cl = {0};
    const char *const peer_args[] = {"--slots", "2", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0 ||
        cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = WINDOW};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);

    uint64_t ids[FRAMES];
    int seen[FRAMES] = {0};
    int submitted = 0, finished = 0, ok = 0;
    p2c2r_upscale_desc desc = {
        .codec = P2C2R_CODEC_JPEG,
        .scale = 2,
        .mode = P2C2R_MODE_FAST,
        .output_codec = P2C2R_CODEC_JPEG,
        .jpeg_quality = 95,
        .deadline_ms = 60000,
    };
    while (client && finished < FRAMES) {
        while (submitted < FRAMES && p2c2r_client_pending(client) < WINDOW) {
            const input *src = &in[submitted % NINPUTS];
            CHECK_RC(p2c2r_submit_upscale(client, &desc, src->jpeg, src->size, &ids[submitted]),
                     P2C2R_OK);
            submitted++;
        }
        p2c2r_result *r;
        if (p2c2r_poll(client, 30000, &r) != P2C2R_OK) {
            fprintf(stderr, "no result within 30 s\n");
            CHECK(0);
            break;
        }
        int k = testutil_task_ended(ids, seen, submitted, p2c2r_result_task_id(r));
        if (k >= 0) {
            if (p2c2r_result_status(r) != P2C2R_OK)
                fprintf(stderr, "frame %d: %s: %s\n", k, p2c2r_errname(p2c2r_result_status(r)),
                        p2c2r_result_detail(r));
            CHECK_RC(p2c2r_result_status(r), P2C2R_OK);
            if (p2c2r_result_status(r) == P2C2R_OK) {
                check_output(&in[k % NINPUTS], r, jpeg);
                ok++;
            }
        }
        finished++;
        p2c2r_result_free(&r);
    }
    CHECK(ok == FRAMES);
    CHECK(client && p2c2r_client_pending(client) == 0);
    printf("frames ok: %d/%d, worst plane PSNR vs reference: %.2f dB (min %.1f)\n", ok, FRAMES,
           worst_psnr, PSNR_MIN_DB);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    for (size_t i = 0; i < NINPUTS; i++) {
        free(in[i].jpeg);
        p2c2r__image_free(&in[i].image);
    }
    p2c2r__jpeg_destroy(&jpeg);
    return testutil_finish("frames_test");
}
