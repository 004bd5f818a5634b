/* recheck_bench: what rechecks cost in throughput (recheck.h).
 *
 * A coordinator with three CPU peers (one slot each) and no result cache upscales the same
 * JPEG (tests/data/path_444.jpg, 320x200 -> 640x400, JPEG out) FRAMES times, WINDOW
 * frames in flight, with --recheck-rate 0, the default (RECHECK_DEFAULT_RATE) and 1.
 * Each setting runs ROUNDS times, the settings taking turns so that all see the same
 * machine; the median frames per second of each is printed with its ratio to rate 0, the
 * median CPU time the peers spent per client frame (from /proc: steadier than a rate on a
 * shared machine) with its ratio, and
 * the coordinator's own counts of rechecks in the last round (opened, agreed, abandoned
 * for want of an idle peer within RECHECK_DEADLINE_US, skipped with RECHECK_MAX_PENDING
 * open). Every frame must end OK.
 *
 * Figures are printed, never asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "common/clock.h"
#include "coordinator/recheck.h"
#include "p2c2r.h"
#include "stream.h"
#include "testutil.h"

#define FRAMES 3000
#define WINDOW 6
#define ROUNDS 5
#define PEERS  3

static const char *const rates[] = {"0", NULL, "1"};
#define NRATES 3

/* Frames per second through a fresh cluster at one recheck rate; 0 on failure. */
/* The coordinator's recheck counts of a run. */
typedef struct counts {
    long sampled, skipped, agreed, abandoned;
    double peer_cpu_ms; /* the peers' CPU time per client frame */
} counts;

static double run(const char *rate, const uint8_t *jpeg, size_t size, counts *n)
{
    char log[] = "/tmp/p2c2r-recheck-bench-XXXXXX";
    testutil_temp_file(log);
    cluster cl = {.coordinator_log = log};
    const char *const args[] = {"--recheck-rate", rate, "--cache-mb", "0", NULL};
    const char *const peer_args[] = {"--slots", "1", NULL};
    double fps = 0;
    if (cluster_start_coordinator(&cl, args) != 0)
        goto done;
    for (int i = 0; i < PEERS; i++)
        if (cluster_add_peer(&cl, peer_args) < 0)
            goto done;
    usleep(200000); /* all registered */
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = WINDOW};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    if (!client)
        goto done;
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 10000};
    stream_frames(client, &desc, jpeg, size, 20, WINDOW, 30000, NULL, NULL); /* warm-up */
    uint64_t t0 = p2c2r__now_us();
    stream_stats st = stream_frames(client, &desc, jpeg, size, FRAMES, WINDOW, 30000, NULL, NULL);
    uint64_t t1 = p2c2r__now_us();
    p2c2r_client_destroy(&client);
    usleep(300000); /* rechecks still queued may run */
    uint64_t ticks = 0;
    for (int i = 0; i < PEERS; i++)
        ticks += testutil_cpu_ticks(cl.peers[i]);
    n->peer_cpu_ms = (double)ticks * 1000.0 / (double)sysconf(_SC_CLK_TCK) / (FRAMES + 20);
    if (st.ok == FRAMES)
        fps = FRAMES / ((double)(t1 - t0) / 1e6);
    else
        fprintf(stderr, "recheck_bench: %d of %d frames ok at rate %s\n", st.ok, FRAMES, rate);
done:
    cluster_stop(&cl);
    n->sampled = testutil_number_before(log, " sampled, ");
    n->skipped = testutil_number_before(log, " skipped, ");
    n->agreed = testutil_number_before(log, " agreed, ");
    n->abandoned = testutil_number_before(log, " abandoned; ");
    unlink(log);
    return fps;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("path_444.jpg"), &size);
    if (!jpeg)
        return 1;
    char def[16];
    snprintf(def, sizeof def, "%g", RECHECK_DEFAULT_RATE);
    const char *rate[NRATES] = {rates[0], def, rates[2]};
    double fps[NRATES][ROUNDS], cpu[NRATES][ROUNDS];
    counts n[NRATES];
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < NRATES; k++) {
            fps[k][r] = run(rate[k], jpeg, size, &n[k]);
            cpu[k][r] = n[k].peer_cpu_ms;
            if (fps[k][r] == 0) {
                free(jpeg);
                return 1;
            }
        }
    printf("upscale 320x200 -> 640x400 JPEG, %d CPU peers x 1 slot, %d in flight, %d frames, "
           "median of %d rounds:\n",
           PEERS, WINDOW, FRAMES, ROUNDS);
    double base = 0, cpu_base = 0;
    for (int k = 0; k < NRATES; k++) {
        qsort(fps[k], ROUNDS, sizeof fps[k][0], compare_double);
        qsort(cpu[k], ROUNDS, sizeof cpu[k][0], compare_double);
        double median = fps[k][ROUNDS / 2], cpu_median = cpu[k][ROUNDS / 2];
        if (k == 0) {
            base = median;
            cpu_base = cpu_median;
        }
        printf("  --recheck-rate %-5s %7.1f frames/s (range %.1f-%.1f), ratio to rate 0: %.3f; "
               "last round: %ld checks opened, %ld agreed, %ld abandoned, %ld skipped\n",
               rate[k], median, fps[k][0], fps[k][ROUNDS - 1], median / base, n[k].sampled,
               n[k].agreed, n[k].abandoned, n[k].skipped);
        printf("  %22s peer CPU %.3f ms per client frame, ratio to rate 0: %.3f\n", "", cpu_median,
               cpu_median / cpu_base);
    }
    free(jpeg);
    return 0;
}
