/* cache_bench: what a result cache hit costs the coordinator, and what its memory costs.
 *
 * A client written from the proto (a raw DEALER, tests/integration/testwire.h) keeps
 * WINDOW upscale tasks in flight against the real coordinator with one real peer. Every
 * task is a 512x512 GRAY8 raw frame (256 KiB) upscaled at scale 1 to a raw frame of the
 * same size, so that each answer carries as many bytes as it came with:
 * - hits: the same frame again and again (once run, then every answer from the cache);
 * - misses: a different frame each time, each run by the peer and then stored;
 * - the reference, from the same run: zmq_limit (../shared/bench/zmq_limit.c), a bare
 *   libzmq broker forwarding the same 256 KiB to an echoing worker with the same window.
 * For each: the coordinator's (broker's) CPU time per task, utime + stime from /proc, and
 * the client's round trip, send to answer, p50 and p99.
 *
 * Memory, each beside the RSS of the same coordinator before it held anything:
 * - 100,000 queued 4 KiB upscale tasks (no peer connected, limits raised so that none is
 *   refused, due in an hour);
 * - the cache full at --cache-mb 64 with distinct 256 KiB results.
 *
 * Figures are printed, never asserted: the machine is noisy. The bench fails only when a
 * task fails or comes back wrong (a hit that is not one, other bytes) or something cannot
 * start; the zmq_limit reference is left out (with a line saying so) when it was not
 * built. Run it with MALLOC_PERTURB_=0 (meson does): glibc's perturbation would write every
 * payload once more.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/clock.h"
#include "coordinator/cache.h"
#include "common/envelope.h"
#include "common/random.h"
#include "p2c2r_error.h"
#include "testutil.h"
#include "testwire.h"

#define WINDOW       16      /* tasks in flight, both sides */
#define SIDE         512     /* frame side: 512 x 512 GRAY8 = 256 KiB */
#define HITS         4000    /* hits measured */
#define MISSES       400     /* misses measured */
#define QUEUED       100000  /* 4 KiB tasks queued for the memory figure */
#define QUEUED_SIDE  64      /* their frame: 64 x 64 GRAY8 = 4 KiB */
#define CACHE_MB     "64"    /* the cache filled for the memory figure */
#define CACHE_FILL   160     /* distinct 256 KiB results sent to fill it (127 fit) */
#define RECV_MS      30000   /* no answer for this long fails the run */
#define SETTLE_US    1000000 /* before reading a fresh process's RSS */
#define GOAL_HIT_US  50.0    /* the goal for a hit's coordinator time */
#define FRAME_BYTES  ((size_t)SIDE * SIDE)
#define QUEUED_BYTES ((size_t)QUEUED_SIDE * QUEUED_SIDE)

/* Limits raised so that nothing in the bench is refused for size or count. */
#define ROOMY                                                                                      \
    "--max-queue", "200000", "--max-queued-mb", "4096", "--max-client-mb", "4096",                 \
        "--max-client-tasks", "200000"

typedef struct figures {
    double cpu_us;     /* coordinator (broker) CPU per task */
    double per_s;      /* tasks per second */
    unsigned long p50; /* round trip, us */
    unsigned long p99;
} figures;

static double ticks_us(uint64_t ticks)
{
    return (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- the coordinator, through a raw DEALER ------------------------------------------ */

typedef struct wire_client {
    void *sock;      /* DEALER to the clients endpoint */
    uint64_t sender; /* Envelope.sender */
    uint64_t next;   /* last task id sent */
} wire_client;

static int submit(wire_client *c, const uint8_t *pixels, uint32_t side)
{
    return testwire_submit_gray(c->sock, c->sender, ++c->next, pixels, side);
}

/* What came back for one task. */
typedef struct answer {
    uint64_t task_id; /* whose */
    int hit;          /* 1: from the cache */
    const void *data; /* its payload, valid until the next call */
    size_t size;
} answer;

/* Receive one RESULT. Returns 0, or -1 after saying why (an ERROR, silence). */
static int receive(wire_client *c, p2c2r_envelope_msg *msg, answer *a)
{
    int rc = testwire_recv(c->sock, RECV_MS, msg);
    if (rc != P2C2R_OK || msg->env->type != P2C2R__WIRE__MSG_TYPE__RESULT) {
        fprintf(stderr, "cache_bench: %s %s\n", rc ? p2c2r_errname(rc) : "unexpected answer",
                rc == P2C2R_OK && msg->env->detail ? msg->env->detail : "");
        return -1;
    }
    a->task_id = msg->env->task_id;
    a->hit = msg->env->timing && msg->env->timing->cache_hit;
    a->data = zmq_msg_data(&msg->payload);
    a->size = zmq_msg_size(&msg->payload);
    return 0;
}

/* Run n tasks, WINDOW in flight, each the frame `pixels`. With expect (the frame's result),
 * every answer must be a hit with those bytes; without, a miss: each frame is made
 * distinct by its task id written into its first bytes. */
static int stream(wire_client *c, pid_t coordinator, long n, const uint8_t *expect, uint8_t *pixels,
                  figures *f)
{
    bool hits = expect != NULL;
    uint64_t *sent_us = calloc((size_t)n, sizeof *sent_us), *lat = calloc((size_t)n, sizeof *lat);
    uint64_t first = c->next + 1, ticks0 = testutil_cpu_ticks(coordinator), t0 = p2c2r__now_us();
    long sent = 0, got = 0;
    int rc = 0;
    while (rc == 0 && got < n) {
        for (; sent < n && sent - got < WINDOW; sent++) {
            if (!hits)
                memcpy(pixels, &(uint64_t){c->next + 1}, sizeof(uint64_t));
            sent_us[sent] = p2c2r__now_us();
            rc |= submit(c, pixels, SIDE);
        }
        p2c2r_envelope_msg msg;
        answer a;
        rc |= receive(c, &msg, &a);
        uint64_t k = a.task_id - first;
        if (rc == 0 && (k >= (uint64_t)n || a.hit != hits || a.size != FRAME_BYTES ||
                        (hits && memcmp(a.data, expect, FRAME_BYTES) != 0))) {
            fprintf(stderr, "cache_bench: task %llu: hit %d, %zu bytes: not what was asked\n",
                    (unsigned long long)a.task_id, a.hit, a.size);
            rc = -1;
        }
        if (rc == 0)
            lat[got++] = p2c2r__now_us() - sent_us[k];
        p2c2r__envelope_msg_close(&msg);
    }
    double secs = (double)(p2c2r__now_us() - t0) / 1e6;
    f->cpu_us = ticks_us(testutil_cpu_ticks(coordinator) - ticks0) / (double)n;
    f->per_s = (double)n / secs;
    qsort(lat, (size_t)got, sizeof *lat, cmp_u64);
    f->p50 = got ? (unsigned long)lat[got / 2] : 0;
    f->p99 = got ? (unsigned long)lat[got * 99 / 100] : 0;
    free(sent_us);
    free(lat);
    return rc;
}

static int wire_connect(void *ctx, const cluster *cl, wire_client *c)
{
    c->sock = testwire_dealer(ctx, cl->client_endpoint);
    c->sender = p2c2r__random_id();
    return c->sock ? 0 : -1;
}

/* Hits and misses with one real peer. */
static int run_cluster(figures *hit, figures *miss)
{
    cluster cl = {0};
    const char *const args[] = {ROOMY, "--cache-mb", "256", NULL};
    if (cluster_start_coordinator(&cl, args) || cluster_add_peer(&cl, NULL) < 0) {
        cluster_stop(&cl);
        return -1;
    }
    void *ctx = zmq_ctx_new();
    wire_client c = {0};
    uint8_t *pixels = malloc(FRAME_BYTES), *expect = malloc(FRAME_BYTES);
    for (size_t i = 0; i < FRAME_BYTES; i++)
        pixels[i] = (uint8_t)(i * 31 + i / SIDE);
    int rc = wire_connect(ctx, &cl, &c);
    /* Warm up on misses (connections, the peer's plan), then measure them. */
    figures warm;
    if (rc == 0)
        rc = stream(&c, cl.coordinator, 2 * WINDOW, NULL, pixels, &warm);
    if (rc == 0)
        rc = stream(&c, cl.coordinator, MISSES, NULL, pixels, miss);
    /* The frame run once more and stored; from then on every answer is a hit. */
    p2c2r_envelope_msg msg;
    answer a;
    memset(pixels, 0x5a, sizeof(uint64_t));
    if (rc == 0 && (submit(&c, pixels, SIDE) || receive(&c, &msg, &a)))
        rc = -1;
    if (rc == 0 && (a.hit || a.size != FRAME_BYTES))
        rc = -1;
    if (rc == 0)
        memcpy(expect, a.data, FRAME_BYTES);
    if (rc == 0)
        p2c2r__envelope_msg_close(&msg);
    if (rc == 0)
        rc = stream(&c, cl.coordinator, WINDOW, expect, pixels, &warm);
    if (rc == 0)
        rc = stream(&c, cl.coordinator, HITS, expect, pixels, hit);
    zmq_close(c.sock);
    zmq_ctx_term(ctx);
    free(pixels);
    free(expect);
    return cluster_stop(&cl) == 0 ? rc : -1;
}

/* The cache's own part of a hit, in this process: the key's hash over parameters and
 * payload, the lookup, the full compare of the stored key and the reference to the output;
 * median of single hits, us. */
static double hit_path_us(void)
{
    coord_cache *cache = coord_cache_new(256u << 20, NULL);
    zmq_msg_t in, out, got;
    zmq_msg_init_size(&in, FRAME_BYTES);
    zmq_msg_init_size(&out, FRAME_BYTES);
    memset(zmq_msg_data(&in), 3, FRAME_BYTES);
    memset(zmq_msg_data(&out), 4, FRAME_BYTES);
    uint8_t params[61] = {1};
    coord_cache_key key = {
        .scope = 9, .params = params, .params_size = sizeof params, .input = &in};
    coord_cache_hash(cache, &key);
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    coord_cache_put(cache, &key, &frame, &out);
    uint64_t lat[HITS];
    int hits = 0;
    for (int i = 0; i < HITS; i++) {
        uint64_t t = now_ns();
        coord_cache_hash(cache, &key);
        bool hit = coord_cache_get(cache, &key, &frame, &got);
        lat[i] = now_ns() - t;
        if (hit) {
            hits++;
            zmq_msg_close(&got);
        }
    }
    qsort(lat, HITS, sizeof lat[0], cmp_u64);
    coord_cache_destroy(&cache);
    zmq_msg_close(&in);
    zmq_msg_close(&out);
    return hits == HITS ? (double)lat[HITS / 2] / 1000.0 : -1;
}

/* ---- memory ------------------------------------------------------------------------- */

/* Send a HEARTBEAT and read until its answer: every SUBMIT sent before it has been taken
 * in. Returns the tasks refused meanwhile (ERRORs), or -1 when no answer came. */
static long drain_until_heartbeat(wire_client *c)
{
    p2c2r_envelope hb;
    p2c2r__envelope_init(&hb, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    hb.sender = c->sender;
    if (testwire_send(c->sock, &hb, NULL, 0) != P2C2R_OK)
        return -1;
    long refused = 0;
    for (int type = -1; type != P2C2R__WIRE__MSG_TYPE__HEARTBEAT;) {
        p2c2r_envelope_msg msg;
        int rc = testwire_recv(c->sock, 120000, &msg);
        type = rc == P2C2R_OK ? (int)msg.env->type : -1;
        refused += type == P2C2R__WIRE__MSG_TYPE__ERROR;
        p2c2r__envelope_msg_close(&msg);
        if (rc != P2C2R_OK)
            return -1;
    }
    return refused;
}

static double mib(long kb)
{
    return (double)kb / 1024.0;
}

/* RSS with QUEUED 4 KiB tasks queued and nobody to run them. */
static int memory_queued(void)
{
    cluster cl = {0};
    const char *const args[] = {ROOMY, NULL}; /* the cache at its default */
    if (cluster_start_coordinator(&cl, args))
        return -1;
    void *ctx = zmq_ctx_new();
    wire_client c = {0};
    uint8_t pixels[QUEUED_BYTES];
    memset(pixels, 7, sizeof pixels);
    int rc = wire_connect(ctx, &cl, &c);
    long refused = rc == 0 ? drain_until_heartbeat(&c) : -1;
    usleep(SETTLE_US);
    long empty = testutil_proc_kb(cl.coordinator, "VmRSS:");
    for (long i = 0; rc == 0 && i < QUEUED; i++) {
        /* Distinct frames, as a game's would be. */
        memcpy(pixels, &i, sizeof i);
        rc = submit(&c, pixels, QUEUED_SIDE);
    }
    refused = rc == 0 && refused == 0 ? drain_until_heartbeat(&c) : -1;
    long full = testutil_proc_kb(cl.coordinator, "VmRSS:");
    zmq_close(c.sock);
    zmq_ctx_term(ctx);
    cluster_stop(&cl);
    if (refused != 0) {
        fprintf(stderr, "cache_bench: %ld of the queued tasks refused\n", refused);
        return -1;
    }
    printf("coordinator RSS, %d queued 4 KiB tasks: %.1f MiB (empty: %.1f MiB; %.0f B per "
           "task, %zu B of it payload)\n",
           QUEUED, mib(full), mib(empty), (double)(full - empty) * 1024.0 / QUEUED, QUEUED_BYTES);
    return 0;
}

/* RSS with the cache full of distinct 256 KiB results. */
static int memory_cache(void)
{
    char log[] = "/tmp/p2c2r-cache-bench-XXXXXX";
    if (testutil_temp_file(log))
        return -1;
    cluster cl = {0};
    cl.coordinator_log = log;
    cl.peer_log = NULL;
    const char *const args[] = {ROOMY, "--cache-mb", CACHE_MB, NULL};
    if (cluster_start_coordinator(&cl, args) || cluster_add_peer(&cl, NULL) < 0) {
        cluster_stop(&cl);
        unlink(log);
        return -1;
    }
    void *ctx = zmq_ctx_new();
    wire_client c = {0};
    uint8_t *pixels = calloc(1, FRAME_BYTES);
    int rc = wire_connect(ctx, &cl, &c);
    usleep(SETTLE_US);
    long empty = testutil_proc_kb(cl.coordinator, "VmRSS:");
    figures f;
    if (rc == 0)
        rc = stream(&c, cl.coordinator, CACHE_FILL, NULL, pixels, &f);
    usleep(SETTLE_US);
    long full = testutil_proc_kb(cl.coordinator, "VmRSS:");
    zmq_close(c.sock);
    zmq_ctx_term(ctx);
    free(pixels);
    if (cluster_stop(&cl) != 0)
        rc = -1;
    long entries = testutil_number_before(log, " entries of ");
    long bytes = testutil_number_before(log, " bytes kept");
    long evicted = testutil_number_before(log, " evicted");
    unlink(log);
    if (rc == 0)
        printf("coordinator RSS, cache full at --cache-mb %s: %.1f MiB (empty: %.1f MiB; the "
               "cache holds %ld results, %.1f MiB counted, %ld evicted)\n",
               CACHE_MB, mib(full), mib(empty), entries, (double)bytes / 1048576.0, evicted);
    return rc;
}

/* ---- the reference: zmq_limit ------------------------------------------------------- */

static pid_t zl_pids[3]; /* broker, worker, client */

static void zl_kill(void)
{
    for (int i = 0; i < 3; i++)
        if (zl_pids[i] > 0) {
            kill(zl_pids[i], SIGKILL);
            waitpid(zl_pids[i], NULL, 0);
            zl_pids[i] = 0;
        }
}

/* zmq_limit with arguments a..d into slot i; its stdout to *out when out is not NULL. */
static int zl_run(int i, const char *a, const char *b, const char *c, const char *d, const char *e,
                  FILE **out)
{
    int fds[2];
    if (out && pipe(fds) != 0)
        return -1;
    const char *bin = getenv("P2C2R_ZMQ_LIMIT_BIN");
    zl_pids[i] = fork();
    if (zl_pids[i] == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (out)
            dup2(fds[1], STDOUT_FILENO);
        execl(bin, bin, a, b, c, d, e, (char *)NULL);
        _exit(127);
    }
    if (out) {
        close(fds[1]);
        *out = fdopen(fds[0], "r");
    }
    return zl_pids[i] > 0 ? 0 : -1;
}

/* The bare-libzmq figures for 256 KiB messages, or -1 when zmq_limit is not there. */
static int run_zmq_limit(figures *f)
{
    const char *bin = getenv("P2C2R_ZMQ_LIMIT_BIN");
    if (!bin || access(bin, X_OK) != 0)
        return -1;
    atexit(zl_kill);
    char front[64], back[64], n[16], w[16], size[16];
    /* Ports from this process's loopback address; a broker that cannot bind exits, and
     * another pair is tried. */
    for (int attempt = 0; attempt < 5 && !zl_pids[0]; attempt++) {
        unsigned port = 20000 + (unsigned)(p2c2r__random_id() % 40000);
        snprintf(front, sizeof front, "tcp://%s:%u", cluster_host(), port);
        snprintf(back, sizeof back, "tcp://%s:%u", cluster_host(), port + 1);
        if (zl_run(0, "broker", front, back, NULL, NULL, NULL) != 0)
            return -1;
        usleep(200000);
        if (waitpid(zl_pids[0], NULL, WNOHANG) != 0)
            zl_pids[0] = 0;
    }
    if (!zl_pids[0] || zl_run(1, "worker", back, NULL, NULL, NULL, NULL) != 0)
        return -1;
    snprintf(w, sizeof w, "%d", WINDOW);
    snprintf(size, sizeof size, "%zu", FRAME_BYTES);
    int rc = -1;
    for (int pass = 0; pass < 2; pass++) { /* a warm-up, then the measured run */
        long tasks = pass ? HITS : 2 * WINDOW, done = 0;
        snprintf(n, sizeof n, "%ld", tasks);
        uint64_t ticks0 = testutil_cpu_ticks(zl_pids[0]);
        FILE *out;
        if (zl_run(2, "client", front, n, w, size, &out) != 0 || !out)
            break;
        double secs;
        rc = fscanf(out, "tasks=%ld seconds=%lf tasks_per_s=%lf p50_us=%lu p99_us=%lu", &done,
                    &secs, &f->per_s, &f->p50, &f->p99) == 5 &&
                     done == tasks
                 ? 0
                 : -1;
        fclose(out);
        waitpid(zl_pids[2], NULL, 0);
        zl_pids[2] = 0;
        f->cpu_us = ticks_us(testutil_cpu_ticks(zl_pids[0]) - ticks0) / (double)tasks;
        if (rc != 0)
            break;
    }
    zl_kill();
    return rc;
}

/* ---- report ------------------------------------------------------------------------- */

static void print_figures(const char *what, const figures *f)
{
    printf("%-44s %7.1f us CPU/task  %7.0f tasks/s  p50 %6lu us  p99 %6lu us\n", what, f->cpu_us,
           f->per_s, f->p50, f->p99);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    printf("cache_bench: %d x %d GRAY8 frames (%zu KiB) upscaled at scale 1, %d in flight, "
           "%d hits, %d misses\n",
           SIDE, SIDE, FRAME_BYTES / 1024, WINDOW, HITS, MISSES);
    figures ref, hit, miss;
    bool have_ref = run_zmq_limit(&ref) == 0;
    if (run_cluster(&hit, &miss) != 0) {
        printf("cache_bench: FAILED\n");
        return 1;
    }
    print_figures("coordinator, cache hit (no peer)", &hit);
    print_figures("coordinator, cache miss (the peer runs it)", &miss);
    if (have_ref)
        print_figures("zmq_limit broker, same bytes (reference)", &ref);
    else
        printf("zmq_limit reference: not built (../shared/bench/zmq_limit.c absent)\n");
    printf("goal: coordinator time of a 256 KiB hit <= %.0f us: %.1f us CPU per hit (%s)",
           GOAL_HIT_US, hit.cpu_us, hit.cpu_us <= GOAL_HIT_US ? "met" : "missed");
    if (have_ref)
        printf(", %.1f us for zmq_limit's broker to forward the same bytes", ref.cpu_us);
    printf("\n");
    double path = hit_path_us();
    if (path < 0) {
        printf("cache_bench: FAILED: the in-process cache missed\n");
        return 1;
    }
    printf("goal: the cache's part of that hit (hash, lookup, full key compare), in process: "
           "%.1f us p50 (%s)\n",
           path, path <= GOAL_HIT_US ? "met" : "missed");
    if (memory_queued() != 0 || memory_cache() != 0) {
        printf("cache_bench: FAILED\n");
        return 1;
    }
    printf("cache_bench: ok\n");
    return 0;
}
