/* gpu_bench: a GPU peer end to end, as a game would use it. A coordinator and one peer
 * with --runtime cuda on loopback; one client sends 1920x1080 4:2:0 JPEG q90 frames (the
 * middle of four photographs; q85 out, lanczos, 2x: 3840x2160 out, every task marked
 * NO_CACHE so the peer runs each):
 *   1. paced at 60 frames/s for P2C2R_GPU_BENCH_SECONDS (default 30) with a 100 ms
 *      deadline: how many came back, p50/p99 of submit to result;
 *   2. the peak: the same frames as fast as a window of 64 lets them go, frames/s with the
 *      host's cores on JPEG decoding and encoding;
 *   3. paced again, now that the peak has used every slot of the peer: 1. shows what a
 *      game meets from a peer that has just started, 3. from one that has run a while;
 * then where a frame's time went on the peer: decode, copy in, kernel, copy out, encode
 * (means from the peer's /metrics, whose stages are Timing's) and the tables' first use.
 * Without a CUDA device it says why and exits 77. Suite bench.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "peer/cuda/devices.h"
#include "testutil.h"

#define FPS    60
#define INPUTS 4
#define FIRST  16 /* the first frames, whose latency is printed: a peer's warm-up */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Mean seconds of one stage of the peer's upscales, from its /metrics (-1: none). */
static double stage_mean(const char *metrics, const char *stage)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "curl -s http://%s/metrics | awk -v s='stage=\"%s\"' "
             "'index($0, \"p2c2r_peer_stage_seconds_sum\") == 1 && index($0, s) {sum += $2} "
             "index($0, \"p2c2r_peer_stage_seconds_count\") == 1 && index($0, s) {n += $2} "
             "END {if (n) printf \"%%.6f\", sum / n; else print -1}'",
             metrics, stage);
    FILE *f = popen(cmd, "r");
    double v = -1;
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        pclose(f);
    }
    return v;
}

/* One client at FPS frames/s for seconds, each frame's deadline 100 ms: how many came back
 * in time, p50/p99, when the late ones were sent, the first frames' latency. Returns
 * whether every frame ended. */
static bool paced(p2c2r_client *c, p2c2r_upscale_desc *d, uint8_t *const *jpeg, const size_t *size,
                  int seconds, const char *label)
{
    int frames = FPS * seconds, ok = 0, ended = 0, submitted = 0;
    d->deadline_ms = 100;
    uint64_t *lat = calloc((size_t)frames, sizeof *lat);
    uint64_t *ids = calloc((size_t)frames, sizeof *ids);
    int late_by_second[64] = {0}; /* frames not back in time, by the second they were sent */
    int late_status = P2C2R_OK;
    double first_ms[FIRST] = {0}; /* the first frames' latency (-1: not in time) */
    uint64_t t0 = p2c2r__now_us();
    while (ended < frames && lat && ids) {
        uint64_t now = p2c2r__now_us();
        uint64_t due = t0 + (uint64_t)submitted * 1000000u / FPS;
        if (submitted < frames && now >= due) {
            uint64_t id;
            int i = submitted % INPUTS;
            if (p2c2r_submit_upscale(c, d, jpeg[i], size[i], &id) == P2C2R_OK)
                ids[submitted++] = id;
            else
                frames--; /* refused at once (window full): counted as lost below */
            continue;
        }
        int wait = submitted < frames ? (int)((due > now ? due - now : 0) / 1000) : 1000;
        p2c2r_result *r;
        if (p2c2r_poll(c, wait, &r) == P2C2R_OK) {
            p2c2r_timings t;
            p2c2r_result_timings(r, &t);
            int status = p2c2r_result_status(r), j = 0;
            while (j < submitted && ids[j] != p2c2r_result_task_id(r))
                j++;
            if (j < FIRST)
                first_ms[j] = status == P2C2R_OK ? t.total_us / 1000.0 : -1;
            if (status == P2C2R_OK) {
                lat[ok++] = t.total_us;
            } else {
                late_by_second[j / FPS < 63 ? j / FPS : 63]++;
                late_status = status;
            }
            ended++;
            p2c2r_result_free(&r);
        }
    }
    qsort(lat, (size_t)ok, sizeof *lat, cmp_u64);
    printf("paced %d fps for %d s (%s): %d of %d frames back in time, p50 %.1f ms, p99 %.1f ms\n",
           FPS, seconds, label, ok, FPS * seconds, ok ? lat[ok / 2] / 1000.0 : 0,
           ok ? lat[(size_t)ok * 99 / 100] / 1000.0 : 0);
    if (ok < frames) {
        printf("  not back in time (last error %s), by the second they were sent in:",
               p2c2r_strerror(late_status));
        for (int i = 0; i < 64; i++)
            if (late_by_second[i])
                printf(" %ds:%d", i, late_by_second[i]);
        printf("\n");
    }
    printf("  the first %d frames, ms:", FIRST);
    for (int i = 0; i < FIRST; i++)
        printf(" %.1f", first_ms[i]);
    printf("\n");
    free(lat);
    free(ids);
    return ended == frames;
}

int main(void)
{
    peer_device dev[4];
    char why[320] = "";
    if (peer_cuda_devices(dev, 4, why, sizeof why) == 0) {
        printf("skipped: %s\n", why);
        return 77;
    }
    const char *env = getenv("P2C2R_GPU_BENCH_SECONDS");
    int seconds = env ? atoi(env) : 30;
    if (seconds < 1)
        seconds = 1;
    uint8_t *jpeg[INPUTS];
    size_t size[INPUTS];
    /* The middle 1920x1080 of four photographs, as 4:2:0 JPEG q90: what a game sends. */
    p2c2r_jpeg *codec = p2c2r__jpeg_new();
    for (int i = 0; i < INPUTS; i++) {
        const char *path = testutil_wallpaper("1920x1080", i);
        p2c2r_image frame = {0};
        jpeg[i] = NULL;
        if (!codec || !path || testutil_middle_420(path, 1920, 1080, codec, &frame) != 0 ||
            p2c2r__jpeg_encode(codec, &frame, 90, &jpeg[i], &size[i]) != P2C2R_OK) {
            fprintf(stderr, "gpu_bench: no 1920x1080 frame from wallpaper %d\n", i);
            return 1;
        }
        p2c2r__image_free(&frame);
    }
    p2c2r__jpeg_destroy(&codec);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("device %d: %s (%u.%u, %u SMs), host %ld cores\n", dev[0].ordinal, dev[0].name,
           dev[0].compute_major, dev[0].compute_minor, dev[0].multiprocessors, cores);

    cluster cl = {0};
    char metrics_arg[64];
    snprintf(metrics_arg, sizeof metrics_arg, "%s:0", cluster_host());
    const char *const coord_args[] = {"--recheck-rate", "0", NULL};
    const char *const peer_args[] = {"--runtime", "cuda", "--metrics", metrics_arg, NULL};
    if (cluster_start_coordinator(&cl, coord_args) != 0 || cluster_add_peer(&cl, peer_args) != 0)
        return 1;
    sleep(1); /* registered */
    p2c2r_client_config cfg = {
        .coordinator = cl.client_endpoint, .max_in_flight = 64, .fallback = P2C2R_FALLBACK_NONE};
    int err;
    p2c2r_client *c = p2c2r_client_new(&cfg, &err);
    if (!c)
        return 1;
    p2c2r_upscale_desc d = {.codec = P2C2R_CODEC_JPEG,
                            .scale = 2,
                            .mode = P2C2R_MODE_LANCZOS,
                            .output_codec = P2C2R_CODEC_JPEG,
                            .jpeg_quality = 85,
                            .deadline_ms = 100,
                            .runtime = P2C2R_RUNTIME_CUDA,
                            .flags = P2C2R_TASK_NO_CACHE};

    /* 1. paced, from a peer that has not run a frame yet */
    bool all_ended = paced(c, &d, jpeg, size, seconds, "cold");

    /* 2. peak */
    d.deadline_ms = 10000;
    int peak_frames = FPS * seconds, done = 0, peak_ok = 0, submitted = 0;
    uint64_t t0 = p2c2r__now_us();
    while (done < peak_frames) {
        uint64_t id;
        int i = submitted % INPUTS;
        if (submitted < peak_frames &&
            p2c2r_submit_upscale(c, &d, jpeg[i], size[i], &id) == P2C2R_OK) {
            submitted++;
            continue;
        }
        p2c2r_result *r;
        if (p2c2r_poll(c, 1000, &r) == P2C2R_OK) {
            peak_ok += p2c2r_result_status(r) == P2C2R_OK;
            done++;
            p2c2r_result_free(&r);
        }
    }
    double s = (p2c2r__now_us() - t0) / 1e6;
    printf("peak: %d frames (%d ok) in %.2f s: %.1f frames/s\n", peak_frames, peak_ok, s,
           peak_frames / s);

    /* 3. paced again, every slot of the peer warm from the peak */
    all_ended &= paced(c, &d, jpeg, size, seconds, "warm");

    const char *m = cl.peer_metrics[0];
    printf("where a frame's time goes on the peer (means, ms): decode %.2f, copy in %.2f, "
           "kernel %.2f, copy out %.2f, encode %.2f (summed over the pool's threads), "
           "tables' first use %.2f\n",
           stage_mean(m, "decode") * 1e3, stage_mean(m, "copy_in") * 1e3,
           stage_mean(m, "compute") * 1e3, stage_mean(m, "copy_out") * 1e3,
           stage_mean(m, "encode") * 1e3, stage_mean(m, "tables") * 1e3);
    p2c2r_client_destroy(&c);
    CHECK(cluster_stop(&cl) == 0);
    CHECK(all_ended && done == peak_frames); /* every task ended exactly once */
    for (int i = 0; i < INPUTS; i++)
        p2c2r__jpeg_free_buffer(jpeg[i], NULL);
    return testutil_finish("gpu_bench");
}
