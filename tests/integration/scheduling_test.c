/* scheduling_test: tasks go to peers that can run them, none waits behind a task it does
 * not compete with, and one client cannot starve another.
 * 1. No head-of-line blocking: one peer runs only `sleep`, another only `noop`. Sleeps of
 *    400 ms are queued first, then noops: the noops all come back while the first sleep
 *    is still running, not after the queued sleeps.
 * 2. Capabilities: on CPU peers, a task that needs CUDA or more memory than any peer has
 *    is never assigned (it ends at its deadline); the same task without the need runs.
 * 3. Fairness: one peer, two slots, 20 ms sleeps (capacity 100 tasks/s). Client A submits
 *    ten times that; client B a steady 20 tasks/s with 300 ms deadlines. Every one of B's
 *    tasks comes back in time: within a priority clients take turns, so A's backlog
 *    counts against B for one turn, not all of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "testutil.h"

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

static void no_head_of_line(void)
{
    printf("1. sleeps queued ahead of noops, on peers that run one kind each\n");
    cluster cl = {0};
    const char *const sleeper[] = {"--kinds", "sleep", "--slots", "1", NULL};
    const char *const echoer[] = {"--kinds", "noop", "--slots", "1", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, sleeper) < 0 ||
        cluster_add_peer(&cl, echoer) < 0) {
        CHECK(!"cluster did not start");
        cluster_stop(&cl);
        return;
    }
    usleep(300000); /* both registered */
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = 64};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    uint64_t id, start = p2c2r__now_us();
    for (int i = 0; client && i < 4; i++)
        CHECK_RC(p2c2r_submit_sleep(client, 400, "s", 1, 10000, &id), P2C2R_OK);
    usleep(50000); /* the sleeps are queued first */
    for (int i = 0; client && i < 20; i++)
        CHECK_RC(p2c2r_submit_noop(client, "n", 1, 10000, &id), P2C2R_OK);
    int noops = 0, sleeps = 0;
    uint64_t last_noop_us = 0;
    for (int n = 0; client && n < 24; n++) {
        p2c2r_result *r;
        if (p2c2r_poll(client, 10000, &r) != P2C2R_OK) {
            CHECK(!"a task never ended");
            break;
        }
        CHECK_RC(p2c2r_result_status(r), P2C2R_OK);
        size_t size;
        const char *data = p2c2r_result_data(r, &size);
        if (size == 1 && data[0] == 'n') {
            noops++;
            last_noop_us = p2c2r__now_us() - start;
        } else {
            sleeps++;
        }
        p2c2r_result_free(&r);
    }
    printf("   all %d noops back %.0f ms after the first sleep started (a sleep takes 400 "
           "ms); %d sleeps\n",
           noops, last_noop_us / 1000.0, sleeps);
    CHECK(noops == 20 && sleeps == 4);
    CHECK(last_noop_us < 400000);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
}

/* Submit one upscale with the given needs; returns its status. */
static int run_with_needs(p2c2r_client *client, const uint8_t *jpeg, size_t size,
                          p2c2r_runtime runtime, uint64_t memory)
{
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG,
                               .scale = 2,
                               .deadline_ms = 300,
                               .runtime = runtime,
                               .memory_bytes = memory};
    uint64_t id;
    int rc = p2c2r_submit_upscale(client, &desc, jpeg, size, &id);
    if (rc != P2C2R_OK)
        return rc;
    p2c2r_result *r;
    if (p2c2r_poll(client, 5000, &r) != P2C2R_OK)
        return P2C2R_E_TIMEOUT;
    rc = p2c2r_result_status(r);
    p2c2r_result_free(&r);
    return rc;
}

static void capabilities(void)
{
    printf("2. needs matched against what CPU peers said they have\n");
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("bythewater_420.jpg"), &size);
    cluster cl = {0};
    if (!jpeg || cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, NULL) < 0) {
        CHECK(!"cluster did not start");
        cluster_stop(&cl);
        free(jpeg);
        return;
    }
    usleep(300000);
    p2c2r_client_config config = {.coordinator = cl.client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (client) {
        int any = run_with_needs(client, jpeg, size, P2C2R_RUNTIME_ANY, 0);
        int cpu = run_with_needs(client, jpeg, size, P2C2R_RUNTIME_CPU, 1u << 20);
        int gpu = run_with_needs(client, jpeg, size, P2C2R_RUNTIME_CUDA, 0);
        int huge = run_with_needs(client, jpeg, size, P2C2R_RUNTIME_ANY, 1ull << 50);
        printf("   any runtime: %s; CPU with 1 MiB: %s; CUDA: %s; 1 PiB: %s\n", p2c2r_errname(any),
               p2c2r_errname(cpu), p2c2r_errname(gpu), p2c2r_errname(huge));
        CHECK_RC(any, P2C2R_OK);
        CHECK_RC(cpu, P2C2R_OK);
        CHECK_RC(gpu, P2C2R_E_DEADLINE);
        CHECK_RC(huge, P2C2R_E_DEADLINE);
    }
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    free(jpeg);
}

/* Results of one client, polled without waiting. */
typedef struct tally {
    int ok, late, failed, busy; /* by outcome */
    uint64_t worst_us;          /* slowest OK */
} tally;

static void collect(p2c2r_client *client, uint32_t deadline_ms, tally *t)
{
    p2c2r_result *r;
    while (p2c2r_poll(client, 0, &r) == P2C2R_OK) {
        p2c2r_timings tm;
        p2c2r_result_timings(r, &tm);
        if (p2c2r_result_status(r) != P2C2R_OK) {
            t->failed++;
        } else if (tm.total_us > deadline_ms * 1000ull) {
            t->late++;
        } else {
            t->ok++;
            if (tm.total_us > t->worst_us)
                t->worst_us = tm.total_us;
        }
        p2c2r_result_free(&r);
    }
}

static void fairness(void)
{
    printf("3. client A floods at 10x capacity, client B sends a steady 20 tasks/s\n");
    cluster cl = {0};
    const char *const peer_args[] = {"--kinds", "sleep", "--slots", "2", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0) {
        CHECK(!"cluster did not start");
        cluster_stop(&cl);
        return;
    }
    usleep(300000);
    p2c2r_client_config ca = {.coordinator = cl.client_endpoint, .max_in_flight = 5000};
    p2c2r_client_config cb = {.coordinator = cl.client_endpoint, .max_in_flight = 100};
    p2c2r_client *a = p2c2r_client_new(&ca, NULL), *b = p2c2r_client_new(&cb, NULL);
    CHECK(a && b);
    enum { SECONDS = 3, A_RATE = 1000, B_RATE = 20, A_DEADLINE = 1000, B_DEADLINE = 300 };
    tally ta = {0}, tb = {0};
    int a_sent = 0, b_sent = 0;
    uint64_t id, start = p2c2r__now_us();
    while (a && b) {
        uint64_t now = p2c2r__now_us() - start;
        if (now >= SECONDS * 1000000ull)
            break;
        while (a_sent < (int)(now * A_RATE / 1000000u)) {
            if (p2c2r_submit_sleep(a, 20, "a", 1, A_DEADLINE, &id) != P2C2R_OK)
                ta.busy++;
            a_sent++;
        }
        while (b_sent < (int)(now * B_RATE / 1000000u)) {
            CHECK_RC(p2c2r_submit_sleep(b, 20, "b", 1, B_DEADLINE, &id), P2C2R_OK);
            b_sent++;
        }
        collect(a, A_DEADLINE, &ta);
        collect(b, B_DEADLINE, &tb);
        sleep_us(500);
    }
    /* Let everything end. */
    for (int i = 0; a && b && i < 300 && (tb.ok + tb.late + tb.failed < b_sent); i++) {
        sleep_us(10000);
        collect(a, A_DEADLINE, &ta);
        collect(b, B_DEADLINE, &tb);
    }
    printf("   A: %d submitted, %d in time, %d refused at once by the SDK or coordinator or "
           "shed, %d late\n",
           a_sent, ta.ok, ta.failed + ta.busy, ta.late);
    printf("   B: %d submitted at %d/s, %d in time (slowest %.1f ms of %d), %d failed, %d late\n",
           b_sent, B_RATE, tb.ok, tb.worst_us / 1000.0, B_DEADLINE, tb.failed, tb.late);
    CHECK(b_sent >= SECONDS * B_RATE - 2);
    CHECK(tb.ok == b_sent);
    CHECK(ta.ok > 0);
    p2c2r_client_destroy(&a);
    p2c2r_client_destroy(&b);
    CHECK(cluster_stop(&cl) == 0);
}

int main(void)
{
    no_head_of_line();
    capabilities();
    fairness();
    return testutil_finish("scheduling_test");
}
