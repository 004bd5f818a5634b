/* memory_test: the coordinator's memory is bounded in bytes, and given back.
 *
 * Clients written from the proto (raw DEALER sockets) push large noop payloads:
 * 1. With no peer to run them, 16 tasks of 16 MiB against --max-queued-mb 96: six are
 *    admitted, the rest get P2C2R_E_BUSY at once, and the coordinator stays near 96 MB.
 * 2. One client over --max-client-mb gets BUSY; another client is still served.
 * 3. A client that submits 4 MiB tasks and never reads its results, against a peer that
 *    echoes them: what waits to be written to it is bounded, so the coordinator stays
 *    near the client's budget; once the client disconnects the memory goes back.
 * 4. Deadlines from the wire are bounded: 2^64-1 and 2^63 microseconds are refused
 *    (P2C2R_E_INVAL) instead of wrapping to "expired" or never expiring.
 * The sizes come from /proc/PID/status (VmRSS). Under AddressSanitizer, whose allocator
 * and shadow memory change what RSS means, the figures are printed but not checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED 0
#else
#define RSS_CHECKED 1
#endif

#define MIB (1024u * 1024u)

static long rss_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

static void submit_noop(void *sock, uint64_t task_id, const void *payload, size_t size,
                        uint64_t deadline_us)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.kind = "noop";
    env.task_id = task_id;
    env.deadline_us = deadline_us;
    testwire_send(sock, &env, payload, size);
}

/* Collect answers for up to ms; counts each status. Returns the number of answers. */
static int collect(void *sock, int ms, int *busy, int *inval, int *ok)
{
    int n = 0;
    uint64_t until = p2c2r__now_us() + (uint64_t)ms * 1000u;
    while (p2c2r__now_us() < until) {
        p2c2r_envelope_msg msg;
        int rc = testwire_recv(sock, 50, &msg);
        if (rc == P2C2R_OK) {
            n++;
            int st = msg.env->type == P2C2R__WIRE__MSG_TYPE__RESULT ? P2C2R_OK : msg.env->status;
            *busy += st == P2C2R_E_BUSY;
            *inval += st == P2C2R_E_INVAL;
            *ok += st == P2C2R_OK;
        }
        p2c2r__envelope_msg_close(&msg);
    }
    return n;
}

static void bounded_queue(void *ctx, uint8_t *big)
{
    printf("1. 16 queued tasks of 16 MiB, --max-queued-mb 96, no peer\n");
    cluster cl = {0};
    const char *const args[] = {"--max-queued-mb", "96", "--max-client-mb", "1024", NULL};
    if (cluster_start_coordinator(&cl, args)) {
        CHECK(!"coordinator did not start");
        return;
    }
    long before = rss_mb(cl.coordinator);
    void *client = testwire_dealer(ctx, cl.client_endpoint);
    for (uint64_t i = 1; i <= 16; i++)
        submit_noop(client, i, big, 16 * MIB, 60000000u);
    int busy = 0, inval = 0, ok = 0;
    collect(client, 1500, &busy, &inval, &ok);
    long during = rss_mb(cl.coordinator);
    printf("   BUSY answers: %d (10 expected); coordinator RSS %ld MB before, %ld MB holding\n",
           busy, before, during);
    CHECK(busy == 10);
    if (RSS_CHECKED)
        CHECK(during < before + 96 + 48);

    printf("2. --max-client-mb: one client over its budget, another still served\n");
    zmq_close(client);
    cluster_stop(&cl);
    const char *const per_client[] = {"--max-client-mb", "32", NULL};
    if (cluster_start_coordinator(&cl, per_client)) {
        CHECK(!"coordinator did not start");
        return;
    }
    void *greedy = testwire_dealer(ctx, cl.client_endpoint);
    void *other = testwire_dealer(ctx, cl.client_endpoint);
    for (uint64_t i = 1; i <= 4; i++)
        submit_noop(greedy, i, big, 16 * MIB, 60000000u);
    busy = inval = ok = 0;
    collect(greedy, 800, &busy, &inval, &ok);
    printf("   greedy client: %d of 4 refused with BUSY (2 expected)\n", busy);
    CHECK(busy == 2);
    submit_noop(other, 1, big, 16 * MIB, 60000000u);
    busy = inval = ok = 0;
    collect(other, 500, &busy, &inval, &ok);
    printf("   other client: %d refused (0 expected)\n", busy);
    CHECK(busy == 0);

    printf("4. deadlines of 2^64-1 and 2^63 us, then one hour\n");
    submit_noop(other, 2, "x", 1, UINT64_MAX);
    submit_noop(other, 3, "x", 1, 1ull << 63);
    submit_noop(other, 4, "x", 1, 3600ull * 1000000u);
    busy = inval = ok = 0;
    collect(other, 500, &busy, &inval, &ok);
    printf("   INVAL answers: %d (2 expected)\n", inval);
    CHECK(inval == 2);
    zmq_close(greedy);
    zmq_close(other);
    CHECK(cluster_stop(&cl) == 0);
}

static void reader_that_never_reads(void *ctx, uint8_t *big)
{
    printf("3. a client that never reads its 4 MiB results, --max-client-mb 64\n");
    cluster cl = {0};
    const char *const args[] = {"--max-client-mb", "64", NULL};
    const char *const peer_args[] = {"--slots", "2", NULL};
    if (cluster_start_coordinator(&cl, args) || cluster_add_peer(&cl, peer_args) < 0) {
        CHECK(!"cluster did not start");
        cluster_stop(&cl);
        return;
    }
    long before = rss_mb(cl.coordinator);
    /* A socket that takes in one message at most and a small kernel buffer: results back
     * up into the coordinator, as they do behind a client that stopped reading. */
    void *client = zmq_socket(ctx, ZMQ_DEALER);
    int one = 1, small = 64 * 1024, linger = 0;
    zmq_setsockopt(client, ZMQ_RCVHWM, &one, sizeof one);
    zmq_setsockopt(client, ZMQ_RCVBUF, &small, sizeof small);
    zmq_setsockopt(client, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(client, cl.client_endpoint);
    long peak = 0;
    for (uint64_t i = 1; i <= 120; i++) {
        submit_noop(client, i, big, 4 * MIB, 30000000u);
        if (i % 10 == 0) {
            usleep(100000);
            long now = rss_mb(cl.coordinator);
            peak = now > peak ? now : peak;
        }
    }
    for (int i = 0; i < 10; i++) {
        usleep(100000);
        long now = rss_mb(cl.coordinator);
        peak = now > peak ? now : peak;
    }
    zmq_close(client);
    long after = 0;
    for (int i = 0; i < 30; i++) {
        usleep(100000);
        after = rss_mb(cl.coordinator);
        if (after < before + 32)
            break;
    }
    printf("   coordinator RSS %ld MB before, %ld MB at most while 480 MB of results were "
           "unread, %ld MB after the client left\n",
           before, peak, after);
    if (RSS_CHECKED) {
        CHECK(peak < before + 64 + 96);
        CHECK(after < before + 32);
    }
    CHECK(cluster_stop(&cl) == 0);
}

int main(void)
{
    uint8_t *big = malloc(16 * MIB);
    if (!big)
        return 1;
    for (size_t i = 0; i < 16 * MIB; i++)
        big[i] = (uint8_t)(i * 2654435761u >> 13);
    void *ctx = zmq_ctx_new();
    bounded_queue(ctx, big);
    reader_that_never_reads(ctx, big);
    zmq_ctx_term(ctx);
    free(big);
    return testutil_finish("memory_test");
}
