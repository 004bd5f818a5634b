/* chaos_test: every task ends exactly once, with the right answer, while everything that
 * can go wrong does.
 *
 * First a healthy cluster (a coordinator and one peer) upscales each test frame once: its
 * outputs are the reference. Then a second cluster runs for CHAOS_S seconds under a steady
 * stream of frames from one client, with:
 *   - three real peers, one of them killed with SIGKILL and started again every second;
 *   - a peer that never answers, one that fails every task, one that returns wrong results;
 *   - the coordinator killed with SIGKILL and restarted on the same ports at COORD_AT_S;
 *   - every peer connection reset (peers reach the coordinator through a TCP relay) at
 *     RESET_AT_S.
 * It checks that every submitted task ended exactly once (no task lost, none answered
 * twice, no answer for a task never submitted) and that every OK output is byte for byte
 * the reference output of its frame, and prints the counts. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "tcpproxy.h"
#include "testutil.h"

#define NFRAMES     4
#define CHAOS_S     12
#define COORD_AT_S  4
#define RESET_AT_S  7
#define WINDOW      24
#define DEADLINE_MS 8000
#define MAX_TASKS   20000
#define REAL_PEERS  3

static const char *const frame_names[NFRAMES] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                                 "path_444.jpg", "fallenleaf_gray.jpg"};

typedef struct frame {
    uint8_t *jpeg;   /* input */
    size_t size;     /* its bytes */
    void *ref;       /* the healthy cluster's output */
    size_t ref_size; /* its bytes */
} frame;

typedef struct task {
    uint64_t id; /* SDK task id */
    int frame;   /* which input */
    int answers; /* results seen for it */
} task;

static frame frames[NFRAMES];
static task tasks[MAX_TASKS];
static int ntasks;

static p2c2r_upscale_desc desc = {
    .codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = DEADLINE_MS};

static int reference_outputs(void)
{
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, NULL) < 0) {
        cluster_stop(&cl);
        return -1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    int rc = client ? 0 : -1;
    for (int i = 0; rc == 0 && i < NFRAMES; i++) {
        uint64_t id;
        p2c2r_result *r = NULL;
        if (p2c2r_submit_upscale(client, &desc, frames[i].jpeg, frames[i].size, &id) != P2C2R_OK ||
            p2c2r_poll(client, 20000, &r) != P2C2R_OK || p2c2r_result_status(r) != P2C2R_OK) {
            rc = -1;
        } else {
            const void *data = p2c2r_result_data(r, &frames[i].ref_size);
            frames[i].ref = malloc(frames[i].ref_size);
            memcpy(frames[i].ref, data, frames[i].ref_size);
        }
        p2c2r_result_free(&r);
    }
    p2c2r_client_destroy(&client);
    cluster_stop(&cl);
    return rc;
}

static task *find(uint64_t id)
{
    for (int i = ntasks - 1; i >= 0; i--)
        if (tasks[i].id == id)
            return &tasks[i];
    return NULL;
}

int main(void)
{
    for (int i = 0; i < NFRAMES; i++) {
        frames[i].jpeg = testutil_read_file(testutil_data_path(frame_names[i]), &frames[i].size);
        if (!frames[i].jpeg)
            return 1;
    }
    if (reference_outputs()) {
        fprintf(stderr, "the healthy cluster could not make the reference outputs\n");
        return 1;
    }

    cluster cl = {0};
    const char *const coord_args[] = {"--peer-timeout-ms", "1000", NULL};
    if (cluster_start_coordinator(&cl, coord_args)) {
        cluster_stop(&cl);
        return 1;
    }
    tcpproxy *proxy = tcpproxy_start(atoi(strrchr(cl.peer_endpoint, ':') + 1));
    char via[64];
    snprintf(via, sizeof via, "tcp://%s:%d", cluster_host(), proxy ? tcpproxy_port(proxy) : 1);
    const char *const real[] = {"--coordinator",  via,   "--slots", "2",
                                "--heartbeat-ms", "100", NULL};
    const char *const silent[] = {"--coordinator", via, "--mode", "silent", NULL};
    const char *const fail[] = {"--coordinator", via, "--mode", "fail", NULL};
    const char *const wrong[] = {"--coordinator", via, "--mode", "wrong", NULL};
    int ok_start = proxy != NULL;
    for (int i = 0; ok_start && i < REAL_PEERS; i++)
        ok_start = cluster_add_peer(&cl, real) == i;
    ok_start = ok_start && cluster_add_fake_peer(&cl, silent) >= 0 &&
               cluster_add_fake_peer(&cl, fail) >= 0 && cluster_add_fake_peer(&cl, wrong) >= 0;
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = WINDOW};
    p2c2r_client *client = ok_start ? p2c2r_client_new(&config, NULL) : NULL;
    if (!client) {
        CHECK(!"the chaos cluster did not start");
        goto done;
    }

    int counts[32] = {0}; /* by -status: counts[0] is OK */
    int ended = 0, identical = 0, duplicates = 0, strangers = 0;
    int peer_restarts = 0, resets = 0, coord_restarts = 0;
    uint64_t start = p2c2r__now_us(), next_kill = start + 1000000u;
    bool coord_done = false, reset_done = false;
    for (;;) {
        uint64_t now = p2c2r__now_us();
        bool submitting = now < start + CHAOS_S * 1000000ull;
        if (!submitting && ended == ntasks)
            break;
        if (now > start + (CHAOS_S + 3ull * DEADLINE_MS / 1000u) * 1000000u) {
            CHECK(!"tasks still unanswered long after their deadline");
            break;
        }
        if (submitting && now >= next_kill) {
            int victim = peer_restarts % REAL_PEERS;
            cluster_kill_peer(&cl, victim, SIGKILL);
            CHECK(cluster_restart_peer(&cl, victim, real) == 0);
            peer_restarts++;
            next_kill += 1000000u;
        }
        if (!coord_done && now >= start + COORD_AT_S * 1000000ull) {
            CHECK(cluster_restart_coordinator(&cl, SIGKILL, coord_args) == 0);
            coord_done = true;
            coord_restarts++;
        }
        if (!reset_done && now >= start + RESET_AT_S * 1000000ull) {
            resets = tcpproxy_reset_all(proxy);
            reset_done = true;
        }
        while (submitting && ntasks - ended < WINDOW && ntasks < MAX_TASKS) {
            int f = ntasks % NFRAMES;
            uint64_t id;
            if (p2c2r_submit_upscale(client, &desc, frames[f].jpeg, frames[f].size, &id) !=
                P2C2R_OK)
                break;
            tasks[ntasks++] = (task){id, f, 0};
        }
        p2c2r_result *r;
        if (p2c2r_poll(client, 20, &r) != P2C2R_OK)
            continue;
        task *t = find(p2c2r_result_task_id(r));
        if (!t) {
            strangers++;
        } else if (t->answers++) {
            duplicates++;
        } else {
            ended++;
            int status = p2c2r_result_status(r);
            counts[-status < 32 ? -status : 31]++;
            if (status != P2C2R_OK && ended - identical <= 5)
                printf("  task %llu: %s: %s\n", (unsigned long long)t->id, p2c2r_errname(status),
                       p2c2r_result_detail(r));
            if (status == P2C2R_OK) {
                size_t n;
                const void *data = p2c2r_result_data(r, &n);
                identical +=
                    n == frames[t->frame].ref_size && memcmp(data, frames[t->frame].ref, n) == 0;
            }
        }
        p2c2r_result_free(&r);
    }
    printf("chaos for %d s: %d peer kill+restart(s), %d coordinator kill+restart(s), %d "
           "connection(s) reset, a silent, a failing and a wrong peer throughout\n",
           CHAOS_S, peer_restarts, coord_restarts, resets);
    printf("tasks: submitted=%d ended=%d ok=%d identical=%d duplicates=%d unknown=%d\n", ntasks,
           ended, counts[0], identical, duplicates, strangers);
    for (int s = 1; s < 32; s++)
        if (counts[s])
            printf("  ended with %s: %d\n", p2c2r_errname(-s), counts[s]);
    CHECK(ended == ntasks);
    CHECK(duplicates == 0 && strangers == 0);
    CHECK(identical == counts[0]);
    CHECK(counts[0] > 0);
    CHECK(resets > 0);
done:
    p2c2r_client_destroy(&client);
    tcpproxy_stop(&proxy);
    /* Killed peers and the killed coordinator are not counted; the rest must exit cleanly. */
    CHECK(cluster_stop(&cl) == 0);
    for (int i = 0; i < NFRAMES; i++) {
        free(frames[i].jpeg);
        free(frames[i].ref);
    }
    return testutil_finish("chaos_test");
}
