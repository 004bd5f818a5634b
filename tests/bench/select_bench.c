/* select_bench: how fast the coordinator chooses a peer, with 100, 1,000 and 10,000 peers.
 *
 * The registry (coordinator/peers.c) with its selection index (coordinator/select.c) is
 * driven directly, on one thread, as the coordinator's loop drives it: each decision picks
 * a peer for an upscale task in one of four modes (drawn at random), marks the task
 * assigned, and releases a task from a peer so that the peers keep room (two updates of the
 * index per decision, as a task that starts and one that ends make). Peers advertise 8
 * slots, have earned them, and start half busy; a tenth of them run on CUDA, which a
 * task with runtime "any" may use.
 *
 * Printed: decisions per second and nanoseconds per decision (the median of 5 runs of
 * DECISIONS each), then the goal's figures: decisions/s at 10,000 peers (goal at least
 * 1,000,000) and ns/decision at 10,000 over that at 100 (goal at most 2). Figures are
 * printed, never asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/task.h"
#include "coordinator/peers.h"
#include "p2c2r_formats.h"

#define DECISIONS 2000000
#define RUNS      5

static const int sizes[] = {100, 1000, 10000};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ns per decision with npeers peers: the median of RUNS runs. */
static double measure(int npeers)
{
    coord_peers *peers = coord_peers_new(NULL, 7);
    coord_peer **all = calloc((size_t)npeers, sizeof *all);
    if (!peers || !all)
        return -1;
    uint64_t now = p2c2r__now_us();
    char *kinds[] = {"upscale", "noop"};
    P2c2r__Wire__UpscaleMode modes[] = {
        P2C2R__WIRE__UPSCALE_MODE__FAST, P2C2R__WIRE__UPSCALE_MODE__BICUBIC,
        P2C2R__WIRE__UPSCALE_MODE__LANCZOS, P2C2R__WIRE__UPSCALE_MODE__QUALITY};
    for (int i = 0; i < npeers; i++) {
        char route[32];
        int len = snprintf(route, sizeof route, "peer-%d", i);
        coord_peer *p = coord_peers_add(peers, route, (size_t)len, (uint64_t)i + 1);
        if (!p)
            return -1;
        P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
        info.name = route;
        info.kinds = kinds;
        info.n_kinds = 2;
        info.modes = modes;
        info.n_modes = 4;
        info.slots = 8;
        info.runtime = i % 10 == 0 ? "cuda" : "cpu";
        coord_peers_set_info(peers, p, &info, now);
        /* It has earned its slots, has a round trip and a history, and is half busy. */
        for (int k = 0; k < 8; k++)
            coord_peers_success(peers, p, (uint64_t)(k % 4), 5000 + (uint64_t)(i % 7) * 1000, now);
        coord_peers_rtt_sample(p, 100 + (uint64_t)(i % 13) * 50);
        for (int k = 0; k < 4; k++)
            coord_peers_assigned(peers, p);
        all[i] = p;
    }
    double ns[RUNS];
    uint64_t rng = 12345, picked = 0;
    for (int run = 0; run < RUNS; run++) {
        uint64_t t0 = p2c2r__now_us();
        for (int d = 0; d < DECISIONS; d++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            coord_select_task t = {
                .kind = P2C2R_KIND_UPSCALE,
                .mode = 1 + (int)(rng % 4),
                .runtime = P2C2R_RUNTIME_ANY,
                .now_us = now,
                .deadline_us = now + 100000,
                .cls = rng % 4,
                .cluster_mean_us = 8000,
            };
            coord_peer *p = coord_peers_pick(peers, &t);
            if (!p)
                continue;
            picked++;
            coord_peers_assigned(peers, p);
            /* A task ends somewhere: keep the cluster half busy. */
            coord_peer *q = all[(rng >> 20) % (uint64_t)npeers];
            if (q->inflight)
                coord_peers_released(peers, q);
            else
                coord_peers_released(peers, p);
        }
        ns[run] = (double)(p2c2r__now_us() - t0) * 1000.0 / DECISIONS;
    }
    if (picked < (uint64_t)DECISIONS * RUNS * 99 / 100)
        fprintf(stderr, "only %llu of the decisions found a peer\n", (unsigned long long)picked);
    qsort(ns, RUNS, sizeof *ns, cmp_double);
    coord_peers_destroy(&peers);
    free(all);
    return ns[RUNS / 2];
}

int main(void)
{
    double ns[3];
    printf("peer selection, one thread: pick + assign + release per decision, median of %d "
           "runs of %d\n",
           RUNS, DECISIONS);
    printf("%8s %16s %14s\n", "peers", "decisions_per_s", "ns_per_decision");
    for (int i = 0; i < 3; i++) {
        ns[i] = measure(sizes[i]);
        if (ns[i] < 0)
            return 1;
        printf("%8d %16.0f %14.1f\n", sizes[i], 1e9 / ns[i], ns[i]);
    }
    printf("goal: decisions/s at 10000 peers >= 1000000: %.0f\n", 1e9 / ns[2]);
    printf("goal: ns/decision at 10000 / at 100 <= 2: %.2f\n", ns[2] / ns[0]);
    return 0;
}
