/* noop_bench: what the cluster costs per task, measured against the bare-ZeroMQ ceiling.
 *
 * The ceiling is zmq_limit (built next to this bench): a broker, one echoing worker and a
 * client, one process each, doing nothing but forwarding frames. The same load then goes
 * through a real coordinator and one peer running `noop` tasks, submitted through the SDK:
 * the same number of tasks, the same window in flight, the same payload size. Both sides
 * time each task from just before it is sent to just after its answer is in hand, so the
 * ratio is what scheduling, envelopes, the SDK's pipes and the peer's worker threads add.
 * On two cores throughput follows CPU time, so the bench also prints each role's CPU per
 * task (client, broker or coordinator, worker or peer: utime + stime, kernel included).
 *
 * The reference and the cluster take turns, ROUNDS times (P2C2R_BENCH_ROUNDS), so that a
 * burst of other work on the machine hits both alike; each case prints the round whose
 * throughput ratio is the median, and the spread of both ratios over the rounds.
 *
 * The cluster runs twice, without and then with --metrics on the coordinator and the peer
 * (pages rendered every 100 ms, nothing scraping them), and the ratio of the two is the
 * cost of the metrics. A third run has CurveZMQ on every connection: its ratio to the
 * first is the cost of encryption.
 *
 * Then batching: noop tasks submitted 32 to a call with p2c2r_submit_batch(), which the
 * SDK sends as one SUBMIT message, the coordinator hands to peers as ASSIGN batches and
 * peers answer as RESULT batches; with 1, 4 and 16 peers and 1 and 4 clients (each a
 * thread with a client of its own), each keeping BATCH_WINDOW tasks in flight. The
 * reference is the unbatched zmq_limit figure for 64 B from the same run.
 *
 * Figures are printed, never asserted: machines are noisy. The bench fails only when a
 * task fails, comes back twice or with the wrong bytes, or something cannot start. It
 * exits 77 (skip) when zmq_limit was not built. Every process it starts dies with it:
 * children get PR_SET_PDEATHSIG, and exit and signal handlers kill them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "clusterkeys.h"
#include "common/curve.h"
#include "p2c2r.h"
#include "testutil.h"

#define WINDOW           16           /* tasks in flight, on both sides */
#define WARMUP_TASKS     (4 * WINDOW) /* run first, not measured: connections, registration */
#define TASK_DEADLINE_MS 30000        /* so that no task is cut short by the cluster */
#define POLL_TIMEOUT_MS  30000        /* no result for this long fails the run */
#define CHILD_TIMEOUT_MS 60000        /* one zmq_limit client run at most */
#define READY_TIMEOUT_MS 5000         /* for the broker to bind */
#define BIND_ATTEMPTS    3            /* fresh ports after a lost race for them */
#define ROUNDS           5            /* turns of reference and cluster (P2C2R_BENCH_ROUNDS) */
#define MAX_ROUNDS       15

typedef struct bench_case {
    size_t size; /* payload bytes */
    long tasks;  /* tasks measured */
} bench_case;

/* Counts chosen so that the whole run stays well under a minute on two cores. */
static const bench_case cases[] = {
    {64, 50000},
    {4096, 30000},
    {256 * 1024, 5000},
};
#define NCASES (sizeof cases / sizeof cases[0])

typedef struct figures {
    double tasks_per_s; /* tasks answered / seconds from first send to last answer */
    unsigned long p50;  /* median latency, us */
    unsigned long p99;  /* 99th percentile latency, us */
    int ok;             /* whether the run completed */
    double cpu_us[3];   /* CPU per task: client, broker (coordinator), worker (peer) */
} figures;

enum { ROLE_CLIENT, ROLE_BROKER, ROLE_WORKER, NROLES };

/* The SDK's own account of where the time went, p50 of each part (us). */
typedef struct parts {
    unsigned long total; /* I/O thread: task forwarded to answer received */
    unsigned long queue; /* waiting in the coordinator's queue */
    unsigned long peer;  /* on the peer, assignment to answer */
} parts;

/* ---- zmq_limit processes ---------------------------------------------------------- */

static pid_t zl_children[3]; /* broker, worker, client; 0 when not running */

static void zl_kill_all(void)
{
    for (size_t i = 0; i < sizeof zl_children / sizeof zl_children[0]; i++)
        if (zl_children[i] > 0)
            kill(zl_children[i], SIGKILL);
}

static void on_fatal_signal(int sig)
{
    zl_kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    atexit(zl_kill_all);
    int sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_fatal_signal);
    signal(SIGPIPE, SIG_IGN);
}

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Start bin with args in slot `slot`; its stdout goes to *out_fd when out_fd is not NULL.
 * Returns the pid or -1. */
static pid_t zl_spawn(int slot, const char *bin, const char *const *args, int *out_fd)
{
    int fds[2] = {-1, -1};
    if (out_fd && pipe(fds) != 0)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        if (out_fd) {
            close(fds[0]);
            close(fds[1]);
        }
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* the parent died before prctl took effect */
            _exit(127);
        if (out_fd) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
        }
        const char *argv[16];
        int n = 0;
        argv[n++] = bin;
        for (int i = 0; args[i] && n < 15; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        fprintf(stderr, "noop_bench: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    zl_children[slot] = pid;
    if (out_fd) {
        close(fds[1]);
        *out_fd = fds[0];
    }
    return pid;
}

/* Kill the child in slot and reap it; its CPU time (utime + stime, us) goes to *cpu_us
 * when not NULL. */
static void zl_stop(int slot, double *cpu_us)
{
    if (zl_children[slot] <= 0)
        return;
    kill(zl_children[slot], SIGKILL);
    struct rusage ru;
    if (wait4(zl_children[slot], NULL, 0, &ru) > 0 && cpu_us)
        *cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    zl_children[slot] = 0;
}

static double ticks_us(uint64_t ticks)
{
    return (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* This process's CPU time so far, us. */
static double self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* Two distinct free loopback ports (both held while the second is picked). */
static int free_ports(int *a, int *b)
{
    int s[2] = {-1, -1}, rc = -1;
    int *out[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in addr = {.sin_family = AF_INET};
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        s[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (s[i] < 0 || bind(s[i], (struct sockaddr *)&addr, sizeof addr) != 0 ||
            getsockname(s[i], (struct sockaddr *)&addr, &len) != 0)
            goto done;
        *out[i] = ntohs(addr.sin_port);
    }
    rc = 0;
done:
    for (int i = 0; i < 2; i++)
        if (s[i] >= 0)
            close(s[i]);
    return rc;
}

static int port_open(int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 0;
    int ok = connect(s, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(s);
    return ok;
}

/* Start the broker on fresh ports and wait until both are bound; then the worker.
 * front/back receive the endpoints. Returns 0 or -1. */
static int zl_start(const char *bin, char *front, char *back, size_t size)
{
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
        int fp, bp;
        if (free_ports(&fp, &bp) != 0)
            return -1;
        snprintf(front, size, "tcp://127.0.0.1:%d", fp);
        snprintf(back, size, "tcp://127.0.0.1:%d", bp);
        const char *const args[] = {"broker", front, back, NULL};
        if (zl_spawn(0, bin, args, NULL) < 0)
            return -1;
        uint64_t give_up = now_us() + READY_TIMEOUT_MS * 1000ull;
        int alive = 1, bound = 0;
        while (alive && !bound && now_us() < give_up) {
            bound = port_open(fp) && port_open(bp);
            alive = waitpid(zl_children[0], NULL, WNOHANG) == 0;
            if (!bound && alive)
                usleep(2000);
        }
        if (!alive) {
            zl_children[0] = 0; /* lost the race for a port: try others */
            continue;
        }
        if (!bound) {
            fprintf(stderr, "noop_bench: zmq_limit broker did not bind %s and %s\n", front, back);
            zl_stop(0, NULL);
            return -1;
        }
        const char *const wargs[] = {"worker", back, NULL};
        if (zl_spawn(1, bin, wargs, NULL) < 0) {
            zl_stop(0, NULL);
            return -1;
        }
        return 0;
    }
    fprintf(stderr, "noop_bench: zmq_limit broker could not bind after %d attempts\n",
            BIND_ATTEMPTS);
    return -1;
}

/* One zmq_limit client run; parses its figures into *f. Returns 0 or -1. */
static int zl_client(const char *bin, const char *front, long tasks, size_t size, figures *f)
{
    char n[32], w[32], s[32];
    snprintf(n, sizeof n, "%ld", tasks);
    snprintf(w, sizeof w, "%d", WINDOW);
    snprintf(s, sizeof s, "%zu", size);
    const char *const args[] = {"client", front, n, w, s, NULL};
    int fd;
    uint64_t broker0 = testutil_cpu_ticks(zl_children[0]);
    uint64_t worker0 = testutil_cpu_ticks(zl_children[1]);
    if (zl_spawn(2, bin, args, &fd) < 0)
        return -1;
    char out[1024];
    size_t used = 0;
    uint64_t give_up = now_us() + CHILD_TIMEOUT_MS * 1000ull;
    for (;;) {
        uint64_t now = now_us();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (now >= give_up || poll(&pfd, 1, (int)((give_up - now) / 1000) + 1) <= 0) {
            fprintf(stderr, "noop_bench: zmq_limit client gave no figures within %d s\n",
                    CHILD_TIMEOUT_MS / 1000);
            break;
        }
        ssize_t got = read(fd, out + used, sizeof out - 1 - used);
        if (got <= 0)
            break; /* end of output: the client has finished */
        used += (size_t)got;
        if (used == sizeof out - 1)
            break;
    }
    out[used] = '\0';
    close(fd);
    double client_us = 0;
    zl_stop(2, &client_us);
    f->cpu_us[ROLE_CLIENT] = client_us / (double)tasks;
    f->cpu_us[ROLE_BROKER] = ticks_us(testutil_cpu_ticks(zl_children[0]) - broker0) / (double)tasks;
    f->cpu_us[ROLE_WORKER] = ticks_us(testutil_cpu_ticks(zl_children[1]) - worker0) / (double)tasks;
    long done = 0;
    const char *line = strstr(out, "tasks=");
    if (!line || sscanf(line, "tasks=%ld seconds=%*f tasks_per_s=%lf p50_us=%lu p99_us=%lu", &done,
                        &f->tasks_per_s, &f->p50, &f->p99) != 4) {
        fprintf(stderr, "noop_bench: cannot read zmq_limit client output '%s'\n", out);
        return -1;
    }
    if (done != tasks) {
        fprintf(stderr, "noop_bench: zmq_limit client finished %ld of %ld tasks\n", done, tasks);
        return -1;
    }
    f->ok = 1;
    return 0;
}

/* The ceiling for every case, with one broker and worker for all of them. */
static int run_zmq_limit(const char *bin, figures *out)
{
    char front[64], back[64];
    if (zl_start(bin, front, back, sizeof front) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < NCASES && rc == 0; i++) {
        figures warm;
        rc = zl_client(bin, front, WARMUP_TASKS, cases[i].size, &warm);
        if (rc == 0)
            rc = zl_client(bin, front, cases[i].tasks, cases[i].size, &out[i]);
    }
    zl_stop(1, NULL);
    zl_stop(0, NULL);
    return rc;
}

/* ---- P2C2R ------------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Same percentile convention as zmq_limit. Sorts v. */
static unsigned long percentile(uint64_t *v, long n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return (unsigned long)v[(long)(n * q)];
}

/* Run `tasks` noop tasks of `size` bytes with WINDOW in flight through the coordinator and
 * peer of cl. Each payload carries its index, which must come back. Fills *f (and *p when
 * not NULL). Returns 0 or -1. */
static int run_p2c2r_tasks(const cluster *cl, p2c2r_client *client, long tasks, size_t size,
                           figures *f, parts *p)
{
    uint8_t *buf = calloc(1, size);
    uint64_t *sent_at = calloc((size_t)tasks, sizeof *sent_at);
    uint64_t *lat = calloc((size_t)tasks, sizeof *lat);
    uint64_t *part[3] = {calloc((size_t)tasks, sizeof(uint64_t)),
                         calloc((size_t)tasks, sizeof(uint64_t)),
                         calloc((size_t)tasks, sizeof(uint64_t))};
    int rc = -1;
    if (!buf || !sent_at || !lat || !part[0] || !part[1] || !part[2]) {
        fprintf(stderr, "noop_bench: out of memory\n");
        goto done;
    }
    long sent = 0, got = 0, failed = 0;
    uint64_t first_id = 0;
    double self0 = self_cpu_us();
    uint64_t coordinator0 = testutil_cpu_ticks(cl->coordinator);
    uint64_t peer0 = testutil_cpu_ticks(cl->peers[0]);
    uint64_t t0 = now_us();
    while (got < tasks) {
        while (sent < tasks && sent - got < WINDOW) {
            uint64_t index = (uint64_t)sent, id;
            memcpy(buf, &index, sizeof index);
            sent_at[sent] = now_us();
            int err = p2c2r_submit_noop(client, buf, size, TASK_DEADLINE_MS, &id);
            if (err != P2C2R_OK) {
                fprintf(stderr, "noop_bench: submit %ld: %s\n", sent, p2c2r_errname(err));
                goto done;
            }
            if (sent == 0)
                first_id = id;
            if (id != first_id + index) {
                fprintf(stderr, "noop_bench: task ids are not consecutive\n");
                goto done;
            }
            sent++;
        }
        p2c2r_result *r;
        if (p2c2r_poll(client, POLL_TIMEOUT_MS, &r) != P2C2R_OK) {
            fprintf(stderr, "noop_bench: no result within %d s (%ld of %ld back)\n",
                    POLL_TIMEOUT_MS / 1000, got, tasks);
            goto done;
        }
        uint64_t arrived = now_us();
        uint64_t k = p2c2r_result_task_id(r) - first_id;
        size_t echoed_size;
        const uint8_t *echoed = p2c2r_result_data(r, &echoed_size);
        uint64_t echoed_index = UINT64_MAX;
        if (echoed_size >= sizeof echoed_index)
            memcpy(&echoed_index, echoed, sizeof echoed_index);
        if (k >= (uint64_t)sent || sent_at[k] == 0) {
            fprintf(stderr, "noop_bench: unexpected or repeated result for task %llu\n",
                    (unsigned long long)p2c2r_result_task_id(r));
            failed++;
        } else if (p2c2r_result_status(r) != P2C2R_OK) {
            if (failed < 5)
                fprintf(stderr, "noop_bench: task %llu: %s: %s\n", (unsigned long long)k,
                        p2c2r_errname(p2c2r_result_status(r)), p2c2r_result_detail(r));
            failed++;
        } else if (echoed_size != size || echoed_index != k) {
            fprintf(stderr, "noop_bench: task %llu echoed %zu bytes, not its own %zu\n",
                    (unsigned long long)k, echoed_size, size);
            failed++;
        } else {
            p2c2r_timings t;
            p2c2r_result_timings(r, &t);
            lat[got] = arrived - sent_at[k];
            part[0][got] = t.total_us;
            part[1][got] = t.queue_us;
            part[2][got] = t.peer_us;
        }
        if (k < (uint64_t)sent)
            sent_at[k] = 0; /* answered: a second answer is caught above */
        got++;
        p2c2r_result_free(&r);
    }
    double secs = (double)(now_us() - t0) / 1e6;
    f->cpu_us[ROLE_CLIENT] = (self_cpu_us() - self0) / (double)tasks;
    f->cpu_us[ROLE_BROKER] =
        ticks_us(testutil_cpu_ticks(cl->coordinator) - coordinator0) / (double)tasks;
    f->cpu_us[ROLE_WORKER] = ticks_us(testutil_cpu_ticks(cl->peers[0]) - peer0) / (double)tasks;
    if (failed) {
        fprintf(stderr, "noop_bench: %ld of %ld tasks failed\n", failed, tasks);
        goto done;
    }
    f->tasks_per_s = (double)got / secs;
    f->p50 = percentile(lat, got, 0.5);
    f->p99 = percentile(lat, got, 0.99);
    f->ok = 1;
    if (p) {
        p->total = percentile(part[0], got, 0.5);
        p->queue = percentile(part[1], got, 0.5);
        p->peer = percentile(part[2], got, 0.5);
    }
    rc = 0;
done:
    free(buf);
    free(sent_at);
    free(lat);
    for (int i = 0; i < 3; i++)
        free(part[i]);
    return rc;
}

/* Every case through a coordinator and one peer with a slot per task in flight, both
 * serving metrics when metrics is set; with curve, every connection is CurveZMQ
 * (encrypted, keys checked by the coordinator, coordinator/auth.h). */
static int run_p2c2r(figures *out, parts *out_parts, bool metrics, bool curve)
{
    cluster cl = {0};
    char slots[16], address[64];
    snprintf(slots, sizeof slots, "%d", WINDOW);
    snprintf(address, sizeof address, "%s:0", cluster_host());
    cluster_keys k = {0};
    if (curve && cluster_keys_make(&k, slots))
        return -1;
    const char *const peer_args[] = {"--slots", slots, metrics ? "--metrics" : NULL, address, NULL};
    const char *const coord_args[] = {"--metrics", address, NULL};
    if (cluster_start_coordinator(&cl, metrics ? coord_args
                                       : curve ? k.coord_args
                                               : NULL) != 0 ||
        cluster_add_peer(&cl, curve ? k.peer_args : peer_args) < 0) {
        cluster_stop(&cl);
        cluster_keys_remove(&k);
        return -1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = WINDOW};
    if (curve) {
        config.curve_public_key = k.client_public;
        config.curve_secret_key = k.client_secret;
        config.coordinator_public_key = k.coord;
    }
    int err = 0;
    p2c2r_client *client = p2c2r_client_new(&config, &err);
    int rc = -1;
    if (!client) {
        fprintf(stderr, "noop_bench: cannot create a client: %s\n", p2c2r_errname(err));
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < NCASES && rc == 0; i++) {
        figures warm;
        rc = run_p2c2r_tasks(&cl, client, WARMUP_TASKS, cases[i].size, &warm, NULL);
        if (rc == 0)
            rc =
                run_p2c2r_tasks(&cl, client, cases[i].tasks, cases[i].size, &out[i], &out_parts[i]);
    }
done:
    p2c2r_client_destroy(&client);
    cluster_stop(&cl);
    cluster_keys_remove(&k);
    return rc;
}

/* ---- batched ---------------------------------------------------------------------- */

#define BATCH         32     /* tasks per p2c2r_submit_batch() */
#define BATCH_WINDOW  256    /* tasks in flight per client */
#define BATCH_SIZE    64     /* payload bytes */
#define BATCH_TASKS   120000 /* tasks measured per configuration, over all clients */
#define BATCH_WARMUP  (4 * BATCH)
#define BATCH_MAX_CLI 4

typedef struct batch_config {
    int peers;   /* peers, each with BATCH_WINDOW slots */
    int clients; /* client threads */
} batch_config;

static const batch_config batch_configs[] = {{1, 1}, {4, 1}, {16, 1}, {1, 4}, {4, 4}, {16, 4}};
#define NBATCH (sizeof batch_configs / sizeof batch_configs[0])

typedef struct batch_figures {
    double tasks_per_s;    /* all clients together */
    double coordinator_us; /* coordinator CPU per task */
    double client_us;      /* the clients' process (SDK and bench threads) CPU per task */
    double peers_us;       /* all peers' CPU per task */
    int ok;
} batch_figures;

typedef struct batch_client {
    const char *endpoint;       /* the coordinator's clients endpoint */
    long tasks;                 /* measured tasks of this client */
    pthread_barrier_t *barrier; /* all warm, then all start */
    int rc;                     /* 0: every task came back once, right */
} batch_client;

/* Run n tasks in batches of BATCH, BATCH_WINDOW in flight; each payload carries its task's
 * index, which must come back once. Returns 0 or -1. */
static int batch_run(p2c2r_client *client, long n)
{
    uint8_t payloads[BATCH][BATCH_SIZE] = {{0}};
    p2c2r_task tasks[BATCH];
    uint64_t ids[BATCH], first_id = 0;
    uint8_t *seen = calloc((size_t)n, 1);
    if (!seen)
        return -1;
    long sent = 0, got = 0, bad = 0;
    while (got < n && bad == 0) {
        while (sent < n && sent - got + BATCH <= BATCH_WINDOW) {
            size_t k = (size_t)(n - sent < BATCH ? n - sent : BATCH);
            for (size_t i = 0; i < k; i++) {
                uint64_t index = (uint64_t)sent + i;
                memcpy(payloads[i], &index, sizeof index);
                tasks[i] = (p2c2r_task){.kind = P2C2R_TASK_NOOP,
                                        .deadline_ms = TASK_DEADLINE_MS,
                                        .data = payloads[i],
                                        .size = BATCH_SIZE};
            }
            int err = p2c2r_submit_batch(client, tasks, k, ids);
            if (err != P2C2R_OK) {
                fprintf(stderr, "noop_bench: submit_batch: %s\n", p2c2r_errname(err));
                bad++;
                break;
            }
            if (sent == 0)
                first_id = ids[0];
            if (ids[0] != first_id + (uint64_t)sent || ids[k - 1] != ids[0] + k - 1) {
                fprintf(stderr, "noop_bench: batch task ids are not consecutive\n");
                bad++;
                break;
            }
            sent += (long)k;
        }
        p2c2r_result *r;
        if (bad || p2c2r_poll(client, POLL_TIMEOUT_MS, &r) != P2C2R_OK) {
            if (!bad)
                fprintf(stderr, "noop_bench: no batched result within %d s\n",
                        POLL_TIMEOUT_MS / 1000);
            bad++;
            break;
        }
        uint64_t k = p2c2r_result_task_id(r) - first_id, echoed = UINT64_MAX;
        size_t size;
        const void *data = p2c2r_result_data(r, &size);
        if (size == BATCH_SIZE)
            memcpy(&echoed, data, sizeof echoed);
        if (k >= (uint64_t)sent || seen[k] || p2c2r_result_status(r) != P2C2R_OK || echoed != k) {
            fprintf(stderr, "noop_bench: batched task %llu: %s, echoed %llu\n",
                    (unsigned long long)k, p2c2r_errname(p2c2r_result_status(r)),
                    (unsigned long long)echoed);
            bad++;
        } else {
            seen[k] = 1;
        }
        got++;
        p2c2r_result_free(&r);
    }
    free(seen);
    return bad ? -1 : 0;
}

static void *batch_client_main(void *arg)
{
    batch_client *bc = arg;
    p2c2r_client_config config = {.coordinator = bc->endpoint, .max_in_flight = BATCH_WINDOW};
    int err = 0;
    p2c2r_client *client = p2c2r_client_new(&config, &err);
    bc->rc = client ? batch_run(client, BATCH_WARMUP) : -1;
    if (!client)
        fprintf(stderr, "noop_bench: cannot create a client: %s\n", p2c2r_errname(err));
    pthread_barrier_wait(bc->barrier); /* everyone warm */
    if (bc->rc == 0)
        bc->rc = batch_run(client, bc->tasks);
    p2c2r_client_destroy(&client);
    return NULL;
}

/* One configuration: a coordinator, c->peers peers, c->clients client threads. */
static int run_batched(const batch_config *c, batch_figures *f)
{
    cluster cl = {0};
    char slots[16];
    snprintf(slots, sizeof slots, "%d", BATCH_WINDOW);
    const char *const peer_args[] = {"--slots", slots, NULL};
    int rc = cluster_start_coordinator(&cl, NULL);
    for (int i = 0; rc == 0 && i < c->peers; i++)
        rc = cluster_add_peer(&cl, peer_args) < 0 ? -1 : 0;
    if (rc != 0) {
        cluster_stop(&cl);
        return -1;
    }
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)c->clients + 1);
    batch_client bc[BATCH_MAX_CLI];
    pthread_t threads[BATCH_MAX_CLI];
    for (int i = 0; i < c->clients; i++) {
        bc[i] = (batch_client){
            .endpoint = cl.client_endpoint, .tasks = BATCH_TASKS / c->clients, .barrier = &barrier};
        pthread_create(&threads[i], NULL, batch_client_main, &bc[i]);
    }
    pthread_barrier_wait(&barrier);
    uint64_t coordinator0 = testutil_cpu_ticks(cl.coordinator), peers0 = 0;
    for (int i = 0; i < c->peers; i++)
        peers0 += testutil_cpu_ticks(cl.peers[i]);
    double self0 = self_cpu_us();
    uint64_t t0 = now_us();
    for (int i = 0; i < c->clients; i++) {
        pthread_join(threads[i], NULL);
        rc |= bc[i].rc;
    }
    double secs = (double)(now_us() - t0) / 1e6;
    long total = (long)c->clients * (BATCH_TASKS / c->clients);
    uint64_t peers1 = 0;
    for (int i = 0; i < c->peers; i++)
        peers1 += testutil_cpu_ticks(cl.peers[i]);
    f->client_us = (self_cpu_us() - self0) / (double)total;
    f->peers_us = ticks_us(peers1 - peers0) / (double)total;
    f->coordinator_us = ticks_us(testutil_cpu_ticks(cl.coordinator) - coordinator0) / (double)total;
    f->tasks_per_s = (double)total / secs;
    f->ok = rc == 0;
    pthread_barrier_destroy(&barrier);
    if (cluster_stop(&cl) != 0)
        rc = -1;
    return rc;
}

/* ---- report ----------------------------------------------------------------------- */

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* How one case's ratios spread over the rounds: min, median, max of each, and the round
 * whose throughput ratio is the median. */
typedef struct round_spread {
    size_t rounds;  /* rounds in which both sides completed */
    double tput[3]; /* throughput ratio p2c2r/zmq_limit: min, median, max */
    double p50[3];  /* p50 ratio: min, median, max */
    size_t median;  /* the round of the median throughput ratio */
} round_spread;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void min_median_max(double *v, size_t n, double out[3])
{
    qsort(v, n, sizeof *v, cmp_double);
    out[0] = v[0];
    out[1] = v[n / 2];
    out[2] = v[n - 1];
}

static void spread_of(figures (*zl)[NCASES], figures (*p2)[NCASES], size_t rounds, size_t c,
                      round_spread *s)
{
    double tput[MAX_ROUNDS], p50[MAX_ROUNDS];
    size_t n = 0;
    *s = (round_spread){0};
    for (size_t r = 0; r < rounds; r++) {
        if (!zl[r][c].ok || !p2[r][c].ok)
            continue;
        tput[n] = ratio(p2[r][c].tasks_per_s, zl[r][c].tasks_per_s);
        p50[n++] = ratio((double)p2[r][c].p50, (double)zl[r][c].p50);
    }
    s->rounds = n;
    if (!n)
        return;
    double sorted[MAX_ROUNDS];
    memcpy(sorted, tput, n * sizeof *tput);
    min_median_max(sorted, n, s->tput);
    min_median_max(p50, n, s->p50);
    for (size_t r = 0, k = 0; r < rounds; r++) {
        if (!zl[r][c].ok || !p2[r][c].ok)
            continue;
        if (tput[k++] == s->tput[1]) {
            s->median = r;
            break;
        }
    }
}

static double cpu_total(const figures *f)
{
    return f->cpu_us[0] + f->cpu_us[1] + f->cpu_us[2];
}

static void print_case(const bench_case *c, const figures *zl, const figures *p2, const parts *pp,
                       const figures *cz, const round_spread *spread)
{
    printf("\nnoop: %ld tasks of %zu B, window %d, 1 worker (zmq_limit) / 1 peer with %d slots "
           "(p2c2r)\n",
           c->tasks, c->size, WINDOW, WINDOW);
    if (zl->ok)
        printf("zmq_limit: tasks_per_s=%.0f p50_us=%lu p99_us=%lu\n", zl->tasks_per_s, zl->p50,
               zl->p99);
    if (zl->ok)
        printf("zmq_limit CPU per task: client %.1f + broker %.1f + worker %.1f = %.1f us\n",
               zl->cpu_us[0], zl->cpu_us[1], zl->cpu_us[2],
               zl->cpu_us[0] + zl->cpu_us[1] + zl->cpu_us[2]);
    if (p2->ok) {
        printf("p2c2r:     tasks_per_s=%.0f p50_us=%lu p99_us=%lu\n", p2->tasks_per_s, p2->p50,
               p2->p99);
        printf("p2c2r p50 parts (SDK timings): sdk_total_us=%lu coordinator_queue_us=%lu "
               "peer_us=%lu\n",
               pp->total, pp->queue, pp->peer);
        printf("p2c2r CPU per task: SDK %.1f + coordinator %.1f + peer %.1f = %.1f us\n",
               p2->cpu_us[0], p2->cpu_us[1], p2->cpu_us[2],
               p2->cpu_us[0] + p2->cpu_us[1] + p2->cpu_us[2]);
    }
    if (zl->ok && p2->ok)
        printf("ratio p2c2r/zmq_limit: throughput=%.2f p50=%.1f p99=%.1f\n",
               ratio(p2->tasks_per_s, zl->tasks_per_s), ratio((double)p2->p50, (double)zl->p50),
               ratio((double)p2->p99, (double)zl->p99));
    if (spread->rounds > 1)
        printf("over %zu rounds: throughput ratio median %.2f (%.2f-%.2f), p50 ratio median %.2f "
               "(%.2f-%.2f)\n",
               spread->rounds, spread->tput[1], spread->tput[0], spread->tput[2], spread->p50[1],
               spread->p50[0], spread->p50[2]);
    if (cz->ok && p2->ok)
        printf("p2c2r+CURVE: tasks_per_s=%.0f p50_us=%lu p99_us=%lu cpu_us=%.1f; ratio CURVE/plain "
               "(cost of encryption): throughput=%.2f p50=%.2f p99=%.2f cpu=%.2f\n",
               cz->tasks_per_s, cz->p50, cz->p99, cpu_total(cz),
               ratio(cz->tasks_per_s, p2->tasks_per_s), ratio((double)cz->p50, (double)p2->p50),
               ratio((double)cz->p99, (double)p2->p99), ratio(cpu_total(cz), cpu_total(p2)));
}

/* Batched figures beside the unbatched zmq_limit figure for 64 B (cases[0]). */
static void print_batched(const figures *zl64, const batch_figures *bf)
{
    printf("\nbatched noop: %d B, %d tasks per submit_batch(), %d in flight per client, "
           "%d tasks per configuration\n",
           BATCH_SIZE, BATCH, BATCH_WINDOW, BATCH_TASKS);
    if (zl64->ok)
        printf("reference zmq_limit unbatched %zu B: tasks_per_s=%.0f\n", cases[0].size,
               zl64->tasks_per_s);
    for (size_t i = 0; i < NBATCH; i++) {
        if (!bf[i].ok)
            continue;
        printf("batched peers=%d clients=%d: tasks_per_s=%.0f cpu_us_per_task: clients %.2f + "
               "coordinator %.2f + peers %.2f",
               batch_configs[i].peers, batch_configs[i].clients, bf[i].tasks_per_s, bf[i].client_us,
               bf[i].coordinator_us, bf[i].peers_us);
        if (zl64->ok)
            printf(" ratio_to_zmq_limit_unbatched=%.2f",
                   ratio(bf[i].tasks_per_s, zl64->tasks_per_s));
        printf("\n");
    }
}

int main(void)
{
    const char *zl_bin = getenv("P2C2R_ZMQ_LIMIT_BIN");
    if (!zl_bin || !zl_bin[0] || access(zl_bin, X_OK) != 0) {
        const char *src = getenv("P2C2R_ZMQ_LIMIT_SRC");
        printf("noop_bench: zmq_limit is not available (source %s not found at configure "
               "time): skipping\n",
               src ? src : "unknown");
        return 77;
    }
    install_handlers();
    setvbuf(stdout, NULL, _IOLBF, 0);

    static figures zl[MAX_ROUNDS][NCASES], p2[MAX_ROUNDS][NCASES];
    static parts pp[MAX_ROUNDS][NCASES];
    figures p2m[NCASES] = {0}, cz[NCASES] = {0};
    parts ppm[NCASES] = {0}, cp[NCASES] = {0};
    batch_figures bf[NBATCH] = {0};
    const char *nrounds = getenv("P2C2R_BENCH_ROUNDS");
    size_t rounds = nrounds && atoi(nrounds) > 0 ? (size_t)atoi(nrounds) : ROUNDS;
    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;
    /* P2C2R_BENCH_BATCHED_ONLY=1: the batched part alone, for working on it (no reference). */
    bool batched_only = getenv("P2C2R_BENCH_BATCHED_ONLY") != NULL;
    int zl_rc = 0, p2_rc = 0;
    for (size_t r = 0; r < rounds && !batched_only && zl_rc == 0 && p2_rc == 0; r++) {
        zl_rc = run_zmq_limit(zl_bin, zl[r]);
        if (zl_rc == 0)
            p2_rc = run_p2c2r(p2[r], pp[r], false, false);
    }
    if (p2_rc == 0 && !batched_only)
        p2_rc = run_p2c2r(p2m, ppm, true, false);
    if (p2_rc == 0 && !batched_only && p2c2r__curve_available())
        p2_rc = run_p2c2r(cz, cp, false, true);
    else if (!p2c2r__curve_available())
        printf("noop_bench: no CURVE figures: %s\n", p2c2r__curve_missing());
    /* P2C2R_BENCH_BATCH_CONFIGS=N: the first N batched configurations only (0: none). */
    const char *nconf = getenv("P2C2R_BENCH_BATCH_CONFIGS");
    size_t nbatch =
        nconf && atoi(nconf) >= 0 && (size_t)atoi(nconf) < NBATCH ? (size_t)atoi(nconf) : NBATCH;
    for (size_t i = 0; i < nbatch && p2_rc == 0; i++)
        p2_rc = run_batched(&batch_configs[i], &bf[i]);
    size_t ref64 = 0; /* the round whose 64 B zmq_limit figure the batched part compares with */
    for (size_t i = 0; i < NCASES && !batched_only; i++) {
        round_spread spread;
        spread_of(zl, p2, rounds, i, &spread);
        size_t m = spread.median;
        if (i == 0)
            ref64 = m;
        print_case(&cases[i], &zl[m][i], &p2[m][i], &pp[m][i], &cz[i], &spread);
        if (p2m[i].ok)
            printf("p2c2r --metrics: tasks_per_s=%.0f p50_us=%lu p99_us=%lu; ratio with/without "
                   "metrics: throughput=%.3f p50=%.3f p99=%.3f\n",
                   p2m[i].tasks_per_s, p2m[i].p50, p2m[i].p99,
                   ratio(p2m[i].tasks_per_s, p2[m][i].tasks_per_s),
                   ratio((double)p2m[i].p50, (double)p2[m][i].p50),
                   ratio((double)p2m[i].p99, (double)p2[m][i].p99));
    }
    print_batched(&zl[ref64][0], bf);
    if (zl_rc != 0 || p2_rc != 0) {
        printf("noop_bench: FAILED (%s)\n", zl_rc != 0 && p2_rc != 0 ? "zmq_limit and p2c2r"
                                            : zl_rc != 0             ? "zmq_limit"
                                                                     : "p2c2r");
        return 1;
    }
    return 0;
}
