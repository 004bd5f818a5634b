/* scale_bench: the real coordinator with a thousand peers connected, and a hundred
 * thousand tasks waiting in its queue.
 *
 * The peers are played by this process (peerfarm.c: one DEALER each, one thread polling
 * them all), so the coordinator holds a thousand real connections and a thousand registry
 * records, each peer heartbeating every 250 ms, while the machine's two cores go to the
 * coordinator rather than to a thousand peer processes. The bench, in order:
 *
 *   0. the reference: a bare libzmq ROUTER (connmem_server.c) with as many DEALERs
 *      connected, each sending one message and then 600 more, each answered before the
 *      next, its RSS read as the coordinator's is below. What it costs per connection is
 *      libzmq's; what the coordinator costs beyond it is its own;
 *   1. memory per peer: the coordinator's RSS with 0, 1/4, 1/2 and all the peers connected
 *      and registered, after a second of heartbeats each time; a least-squares line gives
 *      bytes per fresh connection;
 *   2. idle: its CPU while only the heartbeats flow (what the streaming figures pay anyway);
 *   3. memory per peer in the long run: every peer sends 600 more heartbeats, paced by
 *      the answers, and RSS is read again. libzmq grows a connection's queues in chunks
 *      of 256 messages and keeps a spare, so a connection that has carried a few hundred
 *      messages (a couple of minutes of heartbeats) holds far more than a fresh one;
 *   4. throughput: noop tasks of 64 B and 4 KiB streamed through the SDK, a window of 256
 *      in flight per client, from 1 and from 4 client threads, each task ending exactly
 *      once with its own bytes echoed. It reports tasks/s, the coordinator's CPU per task
 *      (utime + stime from /proc before and after), its RSS under load, and how evenly
 *      the tasks spread over the peers;
 *   5. memory per queued task: a fresh coordinator on the same endpoints (the peers find
 *      it, are told they are unknown and say hello again), then upscale tasks, a kind no
 *      peer runs, submitted by raw DEALER clients until 1/2 and all of the queued count are
 *      admitted; RSS at 0, 1/2 and all gives bytes per queued task. A client HEARTBEAT
 *      after each batch is the barrier: the coordinator answers it after every SUBMIT sent
 *      before it on that connection, so its answer means all were admitted, and any
 *      refusal (ERROR) would have arrived first.
 *   It then extrapolates to 10,000 peers and 100,000 queued tasks, with fresh connections
 *   and with connections as they are after a while.
 *
 * Figures are printed, never asserted. The bench fails (exit 1) only when something
 * breaks: a task that does not end exactly once with the right bytes, a refused SUBMIT, a
 * wrong message to a peer, a coordinator that cannot start or does not exit cleanly. It
 * skips (exit 77) where the process may not open enough descriptors. Sizes can be reduced
 * for a quick or instrumented run: P2C2R_SCALE_PEERS (1000), P2C2R_SCALE_TASKS (100000 per
 * case), P2C2R_SCALE_QUEUED (100000), P2C2R_SCALE_CASE_S (20: no task is submitted after
 * this many seconds of a case, which keeps the whole bench to a few minutes on 2 cores).
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster.h"
#include "common/clock.h"
#include "common/envelope.h"
#include "common/random.h"
#include "common/task.h"
#include "p2c2r.h"
#include "peerfarm.h"
#include "testutil.h"
#include "testwire.h"

#define WINDOW           256               /* tasks in flight per client */
#define MAX_CLIENTS      4                 /* client threads in the widest case */
#define TASK_DEADLINE_MS 30000             /* so that no task is cut short by the cluster */
#define POLL_TIMEOUT_MS  30000             /* no result for this long fails the run */
#define REGISTER_MS      30000             /* for every peer to be registered */
#define SETTLE_US        (1000ull * 1000u) /* heartbeats between growing and reading RSS */
#define IDLE_US          (2000ull * 1000u) /* idle CPU is measured over this */
#define SAMPLE_US        (100ull * 1000u)  /* RSS sampling period under load */
#define BARRIER_MS       60000             /* for the queued tasks' barrier heartbeat */
#define QUEUE_CLIENTS    4                 /* raw DEALER clients filling the queue */
#define EXTRA_FDS        256               /* descriptors besides two per peer */
#define TRAFFIC_ROUNDS   600   /* heartbeats per peer to bring connections to their long-run size */
#define TRAFFIC_MS       60000 /* for them to be answered */
#define GOAL_PEERS       10000 /* what the memory figures are extrapolated to */
#define GOAL_TASKS       100000
#define GOAL_MB          100

/* The coordinator's limits raised so that nothing in the bench is refused for size, and
 * a peer timeout long enough that a busy moment on two cores does not drop peers. */
static const char *const coordinator_flags[] = {
    "--max-queue",
    "200000",
    "--max-queued-mb",
    "4096",
    "--max-client-mb",
    "4096",
    "--max-client-tasks",
    "200000",
    "--peer-timeout-ms",
    "5000",
    "--log-level",
    "warn",
    NULL,
};

typedef struct settings {
    int peers;     /* peers connected */
    long tasks;    /* noop tasks per streaming case */
    long queued;   /* tasks left waiting in the queue */
    double case_s; /* submitting stops after this long in a case */
} settings;

static long env_long(const char *name, long def, long min)
{
    const char *v = getenv(name);
    long n = v && *v ? strtol(v, NULL, 10) : def;
    return n < min ? min : n;
}

/* ---- the coordinator seen from /proc ------------------------------------------------ */

static long rss_kb(pid_t pid)
{
    return testutil_proc_kb(pid, "VmRSS:");
}

static double ticks_us(uint64_t ticks)
{
    return (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static double mb(long kb)
{
    return (double)kb / 1024.0;
}

/* Least-squares line through n points: returns the slope, *intercept its value at 0. */
static double fit_line(const double *x, const double *y, int n, double *intercept)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    double d = n * sxx - sx * sx;
    double slope = d != 0 ? (n * sxy - sx * sy) / d : 0;
    *intercept = (sy - slope * sx) / n;
    return slope;
}

/* ---- setup -------------------------------------------------------------------------- */

/* Each played peer costs this process two descriptors (its socket's mailbox and its TCP
 * connection) and the coordinator one, and the coordinator inherits our limits when the
 * cluster forks it. The usual soft limit of 1,024 is too few for a thousand peers, while
 * the hard limit, which an unprivileged process may raise its soft limit to, is usually
 * far higher. Returns 0, or -1 when even the hard limit is too low. */
static int raise_nofile(long need)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return -1;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
            return -1;
    }
    printf("open files: limit %llu, need about %ld\n", (unsigned long long)lim.rlim_cur, need);
    return lim.rlim_cur == RLIM_INFINITY || (long long)lim.rlim_cur >= need ? 0 : -1;
}

/* Wait until `want` peers are registered and at least `registrations` registrations have
 * been seen in all. 0, or -1 (after printing where it stopped). */
static int wait_registered(peerfarm *farm, int want, uint64_t registrations, peerfarm_stats *st)
{
    uint64_t give_up = p2c2r__now_us() + REGISTER_MS * 1000ull;
    for (;;) {
        if (peerfarm_stats_get(farm, 0, st) != 0)
            return -1;
        if (st->registered == want && st->registrations >= registrations)
            return 0;
        if (p2c2r__now_us() > give_up) {
            fprintf(stderr,
                    "scale_bench: %d of %d peers registered after %d s (%llu hellos, %llu "
                    "unknown-peer errors)\n",
                    st->registered, want, REGISTER_MS / 1000, (unsigned long long)st->hellos,
                    (unsigned long long)st->unknown_peer);
            return -1;
        }
        usleep(50000);
    }
}

/* The coordinator's CPU over IDLE_US with nothing but heartbeats: returns ticks per
 * second, and prints it with what one heartbeat costs. */
static double measure_idle(pid_t pid, peerfarm *farm, const char *what)
{
    peerfarm_stats a, b;
    peerfarm_stats_get(farm, 0, &a);
    uint64_t t0 = p2c2r__now_us(), c0 = testutil_cpu_ticks(pid);
    usleep(IDLE_US);
    uint64_t c1 = testutil_cpu_ticks(pid), t1 = p2c2r__now_us();
    peerfarm_stats_get(farm, 0, &b);
    double secs = (double)(t1 - t0) / 1e6;
    uint64_t beats = b.heartbeats - a.heartbeats;
    printf("idle, %s: coordinator CPU %.1f%% of a core, %.0f heartbeats/s answered, %.1f us "
           "each; RSS %.1f MB\n",
           what, 100.0 * ticks_us(c1 - c0) / 1e6 / secs, (double)beats / secs,
           beats ? ticks_us(c1 - c0) / (double)beats : 0.0, mb(rss_kb(pid)));
    return (double)(c1 - c0) / secs;
}

/* ---- 0. the reference: libzmq's own cost per connection ----------------------------- */

typedef struct zmq_fit {
    double fresh_bytes;  /* per connection after one message each way */
    double steady_bytes; /* per connection after TRAFFIC_ROUNDS more */
} zmq_fit;

#define REF_MSG_BYTES 64 /* about a heartbeat and its answer */

/* One message on every socket, then every answer. 0, or -1 when one does not come. */
static int ref_round(void **socks, int n)
{
    char msg[REF_MSG_BYTES] = {0};
    for (int i = 0; i < n; i++)
        if (zmq_send(socks[i], msg, sizeof msg, 0) != (int)sizeof msg)
            return -1;
    for (int i = 0; i < n; i++)
        if (zmq_recv(socks[i], msg, sizeof msg, 0) != (int)sizeof msg)
            return -1;
    return 0;
}

static long settled_rss(pid_t pid)
{
    usleep(SETTLE_US);
    return rss_kb(pid);
}

static int phase_reference(int npeers, zmq_fit *fit)
{
    const char *bin = getenv("P2C2R_CONNMEM_BIN");
    extern char **environ;
    int out[2];
    pid_t pid = -1;
    if (!bin || pipe(out) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char *argv[] = {(char *)bin, NULL};
    int spawned = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    char endpoint[256] = "";
    FILE *f = spawned == 0 ? fdopen(out[0], "r") : NULL;
    if (!f || !fgets(endpoint, sizeof endpoint, f)) {
        if (f)
            fclose(f);
        else
            close(out[0]);
        if (spawned == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return -1;
    }
    fclose(f);
    endpoint[strcspn(endpoint, "\n")] = '\0';

    int rc = -1, timeout_ms = POLL_TIMEOUT_MS;
    void *ctx = zmq_ctx_new();
    void **socks = calloc((size_t)npeers, sizeof *socks);
    long kb0 = settled_rss(pid), kb1 = -1, kb2 = -1;
    for (int i = 0; socks && i < npeers; i++) {
        socks[i] = zmq_socket(ctx, ZMQ_DEALER);
        if (!socks[i] || zmq_setsockopt(socks[i], ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) ||
            zmq_connect(socks[i], endpoint) != 0)
            goto done;
    }
    if (!socks || ref_round(socks, npeers) != 0)
        goto done;
    kb1 = settled_rss(pid);
    for (int r = 0; r < TRAFFIC_ROUNDS; r++)
        if (ref_round(socks, npeers) != 0)
            goto done;
    kb2 = settled_rss(pid);
    if (kb0 < 0 || kb1 < 0 || kb2 < 0)
        goto done;
    fit->fresh_bytes = (double)(kb1 - kb0) * 1024.0 / npeers;
    fit->steady_bytes = (double)(kb2 - kb0) * 1024.0 / npeers;
    printf("\n== the reference: a bare libzmq ROUTER (connmem_server) with %d DEALERs, %d B "
           "messages\n",
           npeers, REF_MSG_BYTES);
    printf("RSS %.1f MB with none, %.1f MB after one message each, %.1f MB after %d more: "
           "%.1f KiB per connection fresh, %.1f KiB after a while\n",
           mb(kb0), mb(kb1), mb(kb2), TRAFFIC_ROUNDS, fit->fresh_bytes / 1024.0,
           fit->steady_bytes / 1024.0);
    rc = 0;
done:
    for (int i = 0; socks && i < npeers; i++)
        if (socks[i]) {
            int zero = 0;
            zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero);
            zmq_close(socks[i]);
        }
    free(socks);
    zmq_ctx_term(ctx);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return rc;
}

/* ---- 1. memory per peer ------------------------------------------------------------- */

typedef struct peer_fit {
    double per_peer_bytes; /* slope, fresh connections */
    double base_kb;        /* intercept: the coordinator with no peer */
    double steady_bytes;   /* per peer once the connections carried TRAFFIC_ROUNDS messages */
} peer_fit;

static int phase_peers(const cluster *cl, peerfarm *farm, int npeers, peer_fit *fit)
{
    int steps[4] = {0, npeers / 4, npeers / 2, npeers};
    double x[4], y[4];
    usleep(300000); /* let the coordinator finish starting */
    printf("\n== coordinator RSS by connected peers (each registered, then %llu ms of "
           "heartbeats)\n",
           SETTLE_US / 1000);
    for (int i = 0; i < 4; i++) {
        peerfarm_stats st;
        uint64_t t0 = p2c2r__now_us();
        if (steps[i] > 0 &&
            (peerfarm_grow(farm, steps[i]) != 0 || wait_registered(farm, steps[i], 0, &st) != 0))
            return -1;
        double reg_s = (double)(p2c2r__now_us() - t0) / 1e6;
        usleep(SETTLE_US);
        long kb = rss_kb(cl->coordinator);
        if (kb < 0)
            return -1;
        x[i] = steps[i];
        y[i] = (double)kb * 1024.0;
        printf("peers %5d: RSS %7.1f MB (registered in %.2f s)\n", steps[i], mb(kb), reg_s);
    }
    double base;
    fit->per_peer_bytes = fit_line(x, y, 4, &base);
    fit->base_kb = base / 1024.0;
    printf("fit: %.1f KiB per connected peer, %.1f MB with none\n", fit->per_peer_bytes / 1024.0,
           fit->base_kb / 1024.0);
    return 0;
}

/* ---- 3. memory per peer in the long run --------------------------------------------- */

/* Connections as they are after a few minutes: every peer sends TRAFFIC_ROUNDS more
 * heartbeats, paced by the answers (see peerfarm_traffic()). Also a message rate: each is
 * a heartbeat in and one out through the coordinator's loop. */
static int phase_steady(const cluster *cl, peerfarm *farm, int npeers, peer_fit *fit)
{
    peerfarm_stats a, b;
    if (peerfarm_stats_get(farm, 0, &a) != 0 || peerfarm_traffic(farm, TRAFFIC_ROUNDS) != 0)
        return -1;
    uint64_t t0 = p2c2r__now_us(), c0 = testutil_cpu_ticks(cl->coordinator);
    uint64_t give_up = t0 + TRAFFIC_MS * 1000ull;
    do {
        usleep(50000);
        if (peerfarm_stats_get(farm, 0, &b) != 0 || p2c2r__now_us() > give_up) {
            fprintf(stderr, "scale_bench: extra heartbeats not sent within %d s\n",
                    TRAFFIC_MS / 1000);
            return -1;
        }
    } while (b.traffic_left > 0);
    uint64_t c1 = testutil_cpu_ticks(cl->coordinator), t1 = p2c2r__now_us();
    usleep(SETTLE_US);
    long kb = rss_kb(cl->coordinator);
    double secs = (double)(t1 - t0) / 1e6;
    uint64_t beats = b.beats_back - a.beats_back;
    fit->steady_bytes = ((double)kb - fit->base_kb) * 1024.0 / npeers;
    printf("\n== %d more heartbeats per peer, paced by the answers\n", TRAFFIC_ROUNDS);
    printf("%llu heartbeats answered in %.2f s: %.0f/s, coordinator CPU %.1f us each\n",
           (unsigned long long)beats, secs, (double)beats / secs,
           beats ? ticks_us(c1 - c0) / (double)beats : 0.0);
    printf("RSS %.1f MB: %.1f KiB per peer once its connection has carried them (%.1f KiB "
           "fresh)\n",
           mb(kb), fit->steady_bytes / 1024.0, fit->per_peer_bytes / 1024.0);
    return 0;
}

/* ---- 4. throughput ------------------------------------------------------------------ */

/* One client thread's run: inputs set by the caller, outputs read after the join. */
typedef struct stream_job {
    const char *endpoint;  /* in: the coordinator's client endpoint */
    size_t size;           /* in: payload bytes (at least 8) */
    long tasks;            /* in: tasks to submit */
    uint64_t submit_until; /* in: no task is submitted after this */
    long sent;             /* out: tasks submitted */
    long ok;               /* out: ended once, with status OK and their own bytes */
    long failed;           /* out: ended badly, twice, not at all, or with other bytes */
    uint64_t start_us;     /* out: first submit */
    uint64_t end_us;       /* out: last result */
    pthread_t thread;      /* runs stream_thread */
    atomic_bool finished;  /* set when the outputs are final */
} stream_job;

/* The payload of task `index`: its index, then bytes that differ from task to task, so
 * that an answer meant for another task cannot pass for this one's. */
static void fill_payload(uint8_t *buf, size_t size, uint64_t index)
{
    memcpy(buf, &index, sizeof index);
    for (size_t i = sizeof index; i < size; i++)
        buf[i] = (uint8_t)(index * 131u + i * 7u);
}

/* Check one result against what was sent; counts it as ok or failed. */
static void check_result(stream_job *j, p2c2r_result *r, uint64_t first_id, uint8_t *seen,
                         uint8_t *want)
{
    uint64_t k = p2c2r_result_task_id(r) - first_id;
    size_t size;
    const uint8_t *data = p2c2r_result_data(r, &size);
    if (k >= (uint64_t)j->sent || seen[k]) {
        fprintf(stderr, "scale_bench: unexpected or repeated result for task %llu\n",
                (unsigned long long)p2c2r_result_task_id(r));
        j->failed++;
        return;
    }
    seen[k] = 1;
    if (p2c2r_result_status(r) != P2C2R_OK) {
        if (j->failed < 5)
            fprintf(stderr, "scale_bench: task %llu: %s: %s\n", (unsigned long long)k,
                    p2c2r_errname(p2c2r_result_status(r)), p2c2r_result_detail(r));
        j->failed++;
        return;
    }
    fill_payload(want, j->size, k);
    if (size != j->size || memcmp(data, want, size) != 0) {
        fprintf(stderr, "scale_bench: task %llu came back with other bytes\n",
                (unsigned long long)k);
        j->failed++;
        return;
    }
    j->ok++;
}

/* Stream tasks with WINDOW in flight until all are back and no more may be submitted;
 * then wait a moment more, so that a task answered twice shows up. */
static void stream_run(stream_job *j, p2c2r_client *client, uint8_t *buf, uint8_t *want,
                       uint8_t *seen)
{
    uint64_t first_id = 0;
    long got = 0;
    j->start_us = p2c2r__now_us();
    for (;;) {
        while (j->sent < j->tasks && j->sent - got < WINDOW && p2c2r__now_us() < j->submit_until) {
            uint64_t id;
            fill_payload(buf, j->size, (uint64_t)j->sent);
            int err = p2c2r_submit_noop(client, buf, j->size, TASK_DEADLINE_MS, &id);
            if (err != P2C2R_OK) {
                fprintf(stderr, "scale_bench: submit %ld: %s\n", j->sent, p2c2r_errname(err));
                j->failed++;
                return;
            }
            if (j->sent == 0)
                first_id = id;
            if (id != first_id + (uint64_t)j->sent) {
                fprintf(stderr, "scale_bench: task ids are not consecutive\n");
                j->failed++;
                return;
            }
            j->sent++;
        }
        if (got == j->sent)
            break;
        p2c2r_result *r;
        if (p2c2r_poll(client, POLL_TIMEOUT_MS, &r) != P2C2R_OK) {
            fprintf(stderr, "scale_bench: no result within %d s (%ld of %ld back)\n",
                    POLL_TIMEOUT_MS / 1000, got, j->sent);
            j->failed += j->sent - got;
            return;
        }
        check_result(j, r, first_id, seen, want);
        p2c2r_result_free(&r);
        got++;
    }
    j->end_us = p2c2r__now_us();
    p2c2r_result *r;
    while (p2c2r_poll(client, 100, &r) == P2C2R_OK) {
        check_result(j, r, first_id, seen, want);
        p2c2r_result_free(&r);
    }
}

static void *stream_thread(void *arg)
{
    stream_job *j = arg;
    p2c2r_client_config config = {.coordinator = j->endpoint, .max_in_flight = WINDOW};
    int err = 0;
    p2c2r_client *client = p2c2r_client_new(&config, &err);
    uint8_t *buf = malloc(j->size), *want = malloc(j->size);
    uint8_t *seen = calloc((size_t)j->tasks, 1);
    if (!client || !buf || !want || !seen) {
        fprintf(stderr, "scale_bench: cannot create a client: %s\n", p2c2r_errname(err));
        j->failed++;
    } else {
        stream_run(j, client, buf, want, seen);
    }
    if (!j->end_us)
        j->end_us = p2c2r__now_us();
    p2c2r_client_destroy(&client);
    free(buf);
    free(want);
    free(seen);
    atomic_store(&j->finished, true);
    return NULL;
}

typedef struct stream_case {
    int clients; /* client threads, one SDK client each */
    size_t size; /* payload bytes */
} stream_case;

static const stream_case cases[] = {{1, 64}, {1, 4096}, {4, 64}, {4, 4096}};
#define NCASES (sizeof cases / sizeof cases[0])

/* One case; returns the tasks that failed, or -1 when it could not run. */
static long run_case(const cluster *cl, peerfarm *farm, const settings *s, const stream_case *c,
                     double idle_ticks_per_s)
{
    stream_job jobs[MAX_CLIENTS];
    peerfarm_stats before, after;
    if (peerfarm_stats_get(farm, 1, &before) != 0)
        return -1;
    pid_t pid = cl->coordinator;
    uint64_t t0 = p2c2r__now_us(), c0 = testutil_cpu_ticks(pid);
    int started = 0;
    for (int i = 0; i < c->clients; i++) {
        jobs[i] = (stream_job){
            .endpoint = cl->client_endpoint,
            .size = c->size,
            .tasks = s->tasks / c->clients,
            .submit_until = t0 + (uint64_t)(s->case_s * 1e6),
        };
        atomic_init(&jobs[i].finished, false);
        if (pthread_create(&jobs[i].thread, NULL, stream_thread, &jobs[i]) != 0)
            break;
        started++;
    }
    long peak_kb = 0, samples = 0;
    double sum_kb = 0;
    for (bool all = false; !all;) {
        usleep(SAMPLE_US);
        long kb = rss_kb(pid);
        peak_kb = kb > peak_kb ? kb : peak_kb;
        sum_kb += (double)kb;
        samples++;
        all = true;
        for (int i = 0; i < started; i++)
            all &= atomic_load(&jobs[i].finished);
    }
    long ok = 0, failed = 0, sent = 0;
    uint64_t first = UINT64_MAX, last = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(jobs[i].thread, NULL);
        ok += jobs[i].ok;
        failed += jobs[i].failed;
        sent += jobs[i].sent;
        first = jobs[i].start_us < first ? jobs[i].start_us : first;
        last = jobs[i].end_us > last ? jobs[i].end_us : last;
    }
    uint64_t c1 = testutil_cpu_ticks(pid), t1 = p2c2r__now_us();
    if (started < c->clients) {
        fprintf(stderr, "scale_bench: could not start %d client threads\n", c->clients);
        return -1;
    }
    if (peerfarm_stats_get(farm, 1, &after) != 0)
        return -1;
    double secs = last > first ? (double)(last - first) / 1e6 : 0;
    double cpu_us = ticks_us(c1 - c0);
    double beats_us = ticks_us((uint64_t)(idle_ticks_per_s * (double)(t1 - t0) / 1e6));
    printf("\n%d client%s x window %d, %zu B: %ld of %ld tasks ended once with their own bytes "
           "(%ld failed) in %.2f s\n",
           c->clients, c->clients > 1 ? "s" : "", WINDOW, c->size, ok, sent, failed, secs);
    printf("  dispatch rate: %.0f tasks/s\n", secs > 0 ? (double)ok / secs : 0.0);
    printf("  coordinator CPU: %.1f us/task (%.1f us/task less the idle heartbeat load), "
           "%.0f%% of a core\n",
           ok ? cpu_us / (double)ok : 0.0, ok ? (cpu_us - beats_us) / (double)ok : 0.0,
           100.0 * cpu_us / ((double)(t1 - t0)));
    printf("  coordinator RSS under load: mean %.1f MB, peak %.1f MB (%ld samples)\n",
           samples ? mb((long)(sum_kb / (double)samples)) : 0.0, mb(peak_kb), samples);
    printf("  tasks per peer: min %llu, max %llu, %d of %d peers ran none\n",
           (unsigned long long)after.spread_min, (unsigned long long)after.spread_max,
           after.spread_idle, after.peers);
    uint64_t assigns = after.assigns - before.assigns;
    long ended = ok + failed;
    printf("  %llu ASSIGNs for %ld tasks (%llu retried); the peers' thread took at most %.1f ms "
           "between two polls\n",
           (unsigned long long)assigns, ended,
           (unsigned long long)(assigns > (uint64_t)ended ? assigns - (uint64_t)ended : 0),
           (double)after.longest_pass_us / 1000.0);
    return failed;
}

/* ---- 5. memory per queued task ------------------------------------------------------ */

/* A raw client written from the proto: a DEALER and its own sender id. */
typedef struct raw_client {
    void *sock;      /* DEALER to the client endpoint */
    uint64_t sender; /* Envelope.sender, as the SDK would send */
    uint64_t next;   /* last task id used */
} raw_client;

/* An upscale of a 4x4 grey picture at scale 1, due in an hour: valid, admitted, and never
 * run, since no peer advertises upscale. */
static int submit_upscale(raw_client *rc)
{
    static const uint8_t pixels[16] = {0};
    return testwire_submit_gray(rc->sock, rc->sender, ++rc->next, pixels, 4);
}

/* The barrier: a HEARTBEAT, answered after every SUBMIT sent before it. Returns the
 * ERRORs (refusals) received before the answer, or -1 when none came. */
static long barrier(raw_client *rc)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    env.sender = rc->sender;
    if (testwire_send(rc->sock, &env, NULL, 0) != P2C2R_OK)
        return -1;
    long errors = 0;
    for (;;) {
        p2c2r_envelope_msg msg;
        int err = testwire_recv(rc->sock, BARRIER_MS, &msg);
        int type = err == P2C2R_OK ? (int)msg.env->type : -1;
        if (type == P2C2R__WIRE__MSG_TYPE__ERROR && errors++ < 5)
            fprintf(stderr, "scale_bench: SUBMIT %llu refused: %s: %s\n",
                    (unsigned long long)msg.env->task_id, p2c2r_errname(msg.env->status),
                    msg.env->detail);
        p2c2r__envelope_msg_close(&msg);
        if (err != P2C2R_OK) {
            fprintf(stderr, "scale_bench: no answer to the barrier heartbeat: %s\n",
                    p2c2r_errname(err));
            return -1;
        }
        if (type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT)
            break;
    }
    /* Nothing else may follow: a refusal would have come before the answer. */
    p2c2r_envelope_msg msg;
    if (p2c2r__envelope_recv(rc->sock, false, ZMQ_DONTWAIT, &msg) != P2C2R_E_TIMEOUT)
        errors++;
    p2c2r__envelope_msg_close(&msg);
    return errors;
}

/* Bring the queue to `total` tasks, spread over the clients. Returns refusals or -1. */
static long fill_queue(raw_client *rcs, long queued_now, long total)
{
    for (long i = queued_now; i < total; i++)
        if (submit_upscale(&rcs[i % QUEUE_CLIENTS]) != P2C2R_OK)
            return -1;
    long errors = 0;
    for (int i = 0; i < QUEUE_CLIENTS; i++) {
        long e = barrier(&rcs[i]);
        if (e < 0)
            return -1;
        errors += e;
    }
    return errors;
}

/* Start a fresh coordinator where the last one was, so the farm's peers find it. */
static int restart_coordinator(cluster *cl)
{
    char clients[256], peers[256];
    snprintf(clients, sizeof clients, "%s", cl->client_endpoint);
    snprintf(peers, sizeof peers, "%s", cl->peer_endpoint);
    const char *args[24];
    int n = 0;
    for (; coordinator_flags[n]; n++)
        args[n] = coordinator_flags[n];
    /* Given after the cluster's own random-port endpoints, these win. */
    args[n++] = "--clients";
    args[n++] = clients;
    args[n++] = "--peers";
    args[n++] = peers;
    args[n] = NULL;
    /* The old process's ports may take a moment to be free to bind again. */
    for (int attempt = 0; attempt < 20; attempt++) {
        if (cluster_start_coordinator(cl, args) == 0)
            return 0;
        usleep(100000);
    }
    return -1;
}

static int phase_queue(cluster *cl, peerfarm *farm, const settings *s, const peer_fit *fit,
                       const zmq_fit *zfit, long *refused)
{
    printf("\n== a fresh coordinator with %d peers, then %ld queued upscale tasks (no peer "
           "runs upscale)\n",
           s->peers, s->queued);
    peerfarm_stats st;
    if (peerfarm_stats_get(farm, 0, &st) != 0)
        return -1;
    uint64_t t0 = p2c2r__now_us();
    if (restart_coordinator(cl) != 0 ||
        wait_registered(farm, s->peers, st.registrations + (uint64_t)s->peers, &st) != 0)
        return -1;
    printf("all %d peers registered again in %.2f s (%llu unknown-peer errors answered with "
           "hello)\n",
           s->peers, (double)(p2c2r__now_us() - t0) / 1e6, (unsigned long long)st.unknown_peer);
    usleep(SETTLE_US);
    void *ctx = zmq_ctx_new();
    raw_client rcs[QUEUE_CLIENTS] = {0};
    int rc = -1;
    for (int i = 0; i < QUEUE_CLIENTS; i++) {
        rcs[i].sender = p2c2r__random_id();
        rcs[i].sock = testwire_dealer(ctx, cl->client_endpoint);
        if (!rcs[i].sock)
            goto done;
    }
    long steps[3] = {0, s->queued / 2, s->queued};
    double x[3], y[3];
    *refused = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t t = p2c2r__now_us();
        long e = i ? fill_queue(rcs, steps[i - 1], steps[i]) : 0;
        if (e < 0)
            goto done;
        *refused += e;
        long kb = rss_kb(cl->coordinator);
        x[i] = (double)steps[i];
        y[i] = (double)kb * 1024.0;
        printf("queued %6ld: RSS %7.1f MB", steps[i], mb(kb));
        if (i)
            printf(" (%ld admitted in %.2f s, %ld refused)", steps[i] - steps[i - 1],
                   (double)(p2c2r__now_us() - t) / 1e6, e);
        printf("\n");
    }
    measure_idle(cl->coordinator, farm, "peers connected and the queue full");
    double base;
    double per_task = fit_line(x, y, 3, &base);
    double base_mb = fit->base_kb / 1024.0, tasks_mb = per_task * GOAL_TASKS / 1048576.0;
    printf("\n== memory\n");
    printf("per connected peer: %.1f KiB fresh (slope over 0, 1/4, 1/2 and all of %d peers), "
           "%.1f KiB after %d heartbeats each\n",
           fit->per_peer_bytes / 1024.0, s->peers, fit->steady_bytes / 1024.0, TRAFFIC_ROUNDS);
    printf("per queued task:    %.0f B (slope over 0, %ld and %ld queued, 16 B payloads)\n",
           per_task, steps[1], steps[2]);
    printf("of each peer's, libzmq's connection (the reference) is %.1f KiB fresh and %.1f "
           "KiB after a while; the coordinator's own records are the rest: %.1f and %.1f KiB\n",
           zfit->fresh_bytes / 1024.0, zfit->steady_bytes / 1024.0,
           (fit->per_peer_bytes - zfit->fresh_bytes) / 1024.0,
           (fit->steady_bytes - zfit->steady_bytes) / 1024.0);
    const double per_peer[2] = {fit->per_peer_bytes, fit->steady_bytes};
    const double per_conn[2] = {zfit->fresh_bytes, zfit->steady_bytes};
    const char *const when[2] = {"fresh connections", "connections after a while"};
    for (int i = 0; i < 2; i++) {
        double peers_mb = per_peer[i] * GOAL_PEERS / 1048576.0;
        double zmq_mb = per_conn[i] * GOAL_PEERS / 1048576.0;
        printf("extrapolated to %d peers and %d queued tasks, %s: %.1f MB with no peer + %.1f "
               "MB for peers + %.1f MB for tasks = %.1f MB (goal < %d MB); less libzmq's "
               "connections (%.1f MB), %.1f MB\n",
               GOAL_PEERS, GOAL_TASKS, when[i], base_mb, peers_mb, tasks_mb,
               base_mb + peers_mb + tasks_mb, GOAL_MB, zmq_mb,
               base_mb + peers_mb + tasks_mb - zmq_mb);
    }
    rc = 0;
done:
    for (int i = 0; i < QUEUE_CLIENTS; i++)
        if (rcs[i].sock)
            zmq_close(rcs[i].sock);
    zmq_ctx_term(ctx);
    return rc;
}

/* ---- main --------------------------------------------------------------------------- */

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    settings s = {
        .peers = (int)env_long("P2C2R_SCALE_PEERS", 1000, 4),
        .tasks = env_long("P2C2R_SCALE_TASKS", 100000, MAX_CLIENTS),
        .queued = env_long("P2C2R_SCALE_QUEUED", 100000, 2),
        .case_s = (double)env_long("P2C2R_SCALE_CASE_S", 20, 1),
    };
    if (raise_nofile(2L * s.peers + EXTRA_FDS) != 0) {
        printf("scale_bench: this process may not open enough files for %d peers: skipping\n",
               s.peers);
        return 77;
    }
    printf("scale: %d peers (%d slots each, %s only, a heartbeat every %d ms), %ld tasks per "
           "case, %ld queued\n",
           s.peers, PEERFARM_SLOTS, PEERFARM_KIND, PEERFARM_BEAT_MS, s.tasks, s.queued);
    cluster cl = {0};
    peerfarm *farm = NULL;
    const char *broke = NULL;
    long failed = 0, refused = 0;
    zmq_fit zfit = {0};
    if (phase_reference(s.peers, &zfit) != 0) {
        broke = "the libzmq reference did not run";
        goto done;
    }
    if (cluster_start_coordinator(&cl, coordinator_flags) != 0) {
        broke = "the coordinator did not start";
        goto done;
    }
    farm = peerfarm_new(cl.peer_endpoint, s.peers);
    peer_fit fit;
    if (!farm || phase_peers(&cl, farm, s.peers, &fit) != 0) {
        broke = "the peers could not all register";
        goto done;
    }
    printf("\n== %d peers connected\n", s.peers);
    double idle_ticks_per_s = measure_idle(cl.coordinator, farm, "peers connected");
    if (phase_steady(&cl, farm, s.peers, &fit) != 0) {
        broke = "the peers' extra heartbeats were not answered";
        goto done;
    }
    for (size_t i = 0; i < NCASES; i++) {
        long f = run_case(&cl, farm, &s, &cases[i], idle_ticks_per_s);
        if (f < 0) {
            broke = "a streaming case could not run";
            goto done;
        }
        failed += f;
    }
    long vm_hwm = testutil_proc_kb(cl.coordinator, "VmHWM:");
    printf("\ncoordinator peak RSS so far (VmHWM): %.1f MB\n", mb(vm_hwm));
    if (cluster_stop(&cl) != 0) {
        broke = "the coordinator did not exit cleanly";
        goto done;
    }
    if (phase_queue(&cl, farm, &s, &fit, &zfit, &refused) != 0)
        broke = "the queue could not be filled";
done:;
    peerfarm_stats st = {0};
    if (farm && peerfarm_stats_get(farm, 0, &st) == 0)
        printf("\npeers: %llu hellos, %llu heartbeats, %llu answered; %llu ASSIGNs, %llu "
               "RESULTs; %llu unknown-peer errors, %llu other errors, %llu wrong ASSIGNs, "
               "%llu sends dropped\n",
               (unsigned long long)st.hellos, (unsigned long long)st.heartbeats,
               (unsigned long long)st.beats_back, (unsigned long long)st.assigns,
               (unsigned long long)st.results, (unsigned long long)st.unknown_peer,
               (unsigned long long)st.errors, (unsigned long long)st.wrong,
               (unsigned long long)st.dropped);
    peerfarm_destroy(&farm);
    if (cluster_stop(&cl) != 0 && !broke)
        broke = "the coordinator did not exit cleanly";
    if (!broke && (failed || refused))
        broke = failed ? "tasks did not end exactly once with their own bytes"
                       : "queued tasks were refused";
    if (!broke && (st.wrong || st.errors))
        broke = "peers were sent something wrong";
    if (broke) {
        printf("scale_bench: FAILED: %s\n", broke);
        return 1;
    }
    printf("scale_bench: ok\n");
    return 0;
}
