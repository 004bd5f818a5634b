/* local_test: a frame the local fallback computes is, byte for byte, the frame a CPU peer of
 * the cluster sends for the same request, in all four modes.
 *
 * One client talks to a real cluster (one peer), another to a coordinator that is not there
 * with the fallback on, so that everything it does is local. Both upscale the same inputs:
 * JPEGs in 4:2:0 (odd size), 4:2:2 (progressive), 4:4:4 and greyscale to JPEG, and raw
 * yuv420p of an odd size to raw and to zstd, at 2x and 3x, in fast, bicubic, lanczos and
 * quality. Results must be identical. Bad input fails locally as it fails on a peer.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "testutil.h"

static const p2c2r_mode modes[] = {P2C2R_MODE_FAST, P2C2R_MODE_BICUBIC, P2C2R_MODE_LANCZOS,
                                   P2C2R_MODE_QUALITY};
static const char *const mode_names[] = {"?", "fast", "bicubic", "lanczos", "quality"};

/* One result kept for comparing. */
typedef struct kept {
    int status;          /* how it ended */
    p2c2r_source source; /* where it was made */
    uint8_t *data;       /* output bytes (malloc'd) */
    size_t size;         /* their count */
    char detail[96];     /* why (local) or what failed */
} kept;

static kept run_one(p2c2r_client *client, const p2c2r_upscale_desc *desc, const void *data,
                    size_t size)
{
    kept k = {.status = P2C2R_E_TIMEOUT};
    uint64_t id;
    int rc = p2c2r_submit_upscale(client, desc, data, size, &id);
    if (rc != P2C2R_OK) {
        k.status = rc;
        return k;
    }
    p2c2r_result *r;
    if (p2c2r_poll(client, 120000, &r) != P2C2R_OK)
        return k;
    CHECK(p2c2r_result_task_id(r) == id);
    k.status = p2c2r_result_status(r);
    k.source = p2c2r_result_source(r);
    snprintf(k.detail, sizeof k.detail, "%s", p2c2r_result_detail(r));
    const void *out = p2c2r_result_data(r, &k.size);
    k.data = malloc(k.size ? k.size : 1);
    if (k.data && k.size)
        memcpy(k.data, out, k.size);
    CHECK(p2c2r_result_mode(r) == (desc->mode ? desc->mode : P2C2R_MODE_FAST));
    p2c2r_result_free(&r);
    return k;
}

static int cases, identical;

static void compare(p2c2r_client *cluster_client, p2c2r_client *local_client, const char *name,
                    const p2c2r_upscale_desc *desc, const void *data, size_t size)
{
    kept a = run_one(cluster_client, desc, data, size);
    kept b = run_one(local_client, desc, data, size);
    bool same = a.status == P2C2R_OK && b.status == P2C2R_OK && a.size == b.size &&
                memcmp(a.data, b.data, a.size) == 0;
    cases++;
    identical += same;
    printf("   %-28s %-8s x%u: cluster %s %zu B, local %s %zu B%s\n", name, mode_names[desc->mode],
           desc->scale, p2c2r_errname(a.status), a.size, p2c2r_errname(b.status), b.size,
           same ? ", identical" : "");
    CHECK(same);
    CHECK(a.source == P2C2R_SOURCE_CLUSTER);
    CHECK(b.source == P2C2R_SOURCE_LOCAL && strstr(b.detail, "unreachable"));
    free(a.data);
    free(b.data);
}

int main(void)
{
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, NULL) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config to_cluster = {.coordinator = cl.client_endpoint};
    /* Nothing listens there: after a second without a connection it is unreachable. */
    p2c2r_client_config alone = {.coordinator = "tcp://127.0.0.1:1",
                                 .fallback = P2C2R_FALLBACK_LOCAL};
    p2c2r_client *a = p2c2r_client_new(&to_cluster, NULL);
    p2c2r_client *b = p2c2r_client_new(&alone, NULL);
    CHECK(a && b);
    if (!a || !b)
        goto done;

    printf("JPEG to JPEG (quality 85)\n");
    static const char *const jpegs[] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                        "path_444.jpg", "fallenleaf_gray.jpg"};
    for (size_t f = 0; f < 4; f++) {
        size_t size;
        uint8_t *jpeg = testutil_read_file(testutil_data_path(jpegs[f]), &size);
        CHECK(jpeg != NULL);
        for (size_t m = 0; jpeg && m < 4; m++) {
            p2c2r_upscale_desc d = {.codec = P2C2R_CODEC_JPEG,
                                    .scale = f == 0 ? 3 : 2,
                                    .mode = modes[m],
                                    .jpeg_quality = 85,
                                    .deadline_ms = 60000};
            compare(a, b, jpegs[f], &d, jpeg, size);
        }
        free(jpeg);
    }

    printf("raw yuv420p 161x91 to raw and zstd\n");
    uint32_t w = 161, h = 91;
    size_t raw_size = (size_t)w * h + 2 * (size_t)((w + 1) / 2) * ((h + 1) / 2);
    uint8_t *raw = malloc(raw_size);
    uint64_t seed = 11;
    for (size_t i = 0; raw && i < raw_size; i++)
        raw[i] = (uint8_t)(i % 251 < 128 ? i % 251 : testutil_rand(&seed));
    for (size_t m = 0; raw && m < 4; m++)
        for (int z = 0; z < 2; z++) {
            p2c2r_upscale_desc d = {.codec = P2C2R_CODEC_RAW,
                                    .pixel_format = P2C2R_PIX_YUV420P,
                                    .width = w,
                                    .height = h,
                                    .scale = 2,
                                    .mode = modes[m],
                                    .output_codec = z ? P2C2R_CODEC_ZSTD : P2C2R_CODEC_RAW,
                                    .deadline_ms = 60000};
            compare(a, b, z ? "yuv420p 161x91 -> zstd" : "yuv420p 161x91 -> raw", &d, raw,
                    raw_size);
        }

    printf("bad input, locally\n");
    p2c2r_upscale_desc bad = {
        .codec = P2C2R_CODEC_JPEG, .scale = 2, .mode = P2C2R_MODE_FAST, .deadline_ms = 5000};
    static const uint8_t not_jpeg[64] = {0xff, 0xd8, 0xff, 0xe0, 1, 2, 3};
    kept k = run_one(b, &bad, not_jpeg, sizeof not_jpeg);
    printf("   not a JPEG: %s: %s\n", p2c2r_errname(k.status), k.detail);
    CHECK_RC(k.status, P2C2R_E_BADINPUT);
    CHECK(k.source == P2C2R_SOURCE_NONE);
    free(k.data);
    if (raw) {
        p2c2r_upscale_desc short_raw = {.codec = P2C2R_CODEC_RAW,
                                        .pixel_format = P2C2R_PIX_YUV420P,
                                        .width = w,
                                        .height = h,
                                        .scale = 2,
                                        .deadline_ms = 5000};
        k = run_one(b, &short_raw, raw, raw_size - 1);
        printf("   raw one byte short: %s: %s\n", p2c2r_errname(k.status), k.detail);
        CHECK_RC(k.status, P2C2R_E_BADINPUT);
        free(k.data);
    }
    free(raw);
    printf("%d/%d identical\n", identical, cases);
    CHECK(cases == 24 && identical == cases);
done:
    p2c2r_client_destroy(&a);
    p2c2r_client_destroy(&b);
    CHECK(cluster_stop(&cl) == 0);
    return testutil_finish("local_test");
}
