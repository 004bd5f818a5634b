/* cluster: see cluster.h. */
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  5000

/* Every child this process started, for the exit and signal handlers. */
static pid_t all_children[256];
static int nchildren;
static int handlers_installed;

static void kill_all(void)
{
    for (int i = 0; i < nchildren; i++)
        if (all_children[i] > 0)
            kill(all_children[i], SIGKILL);
}

static void on_fatal_signal(int sig)
{
    kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    if (handlers_installed)
        return;
    handlers_installed = 1;
    atexit(kill_all);
    int sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_fatal_signal);
    signal(SIGPIPE, SIG_IGN);
}

static void forget_child(pid_t pid)
{
    for (int i = 0; i < nchildren; i++)
        if (all_children[i] == pid)
            all_children[i] = 0;
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Start bin with args, read its stdout until a line starting with `ready` arrives (copied
 * into line). stderr goes to log (appended, at log level `level`, info when NULL) when log
 * is not NULL. Returns the pid, or -1. */
static pid_t spawn(const char *bin, const char *const *args, const char *ready, const char *log,
                   const char *level, char *line, size_t line_size)
{
    install_handlers();
    if (!bin) {
        fprintf(stderr, "cluster: binary path not set in the environment\n");
        return -1;
    }
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* the parent died before prctl took effect */
            _exit(127);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
            setenv("P2C2R_LOG", level ? level : "info", 1);
        }
        /* Nothing else of the test's may live on in the child: an inherited socket would
         * keep a connection open after the test closed or reset it. */
        closefrom(STDERR_FILENO + 1);
        const char *argv[32];
        int n = 0;
        argv[n++] = bin;
        for (int i = 0; args && args[i] && n < 31; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        fprintf(stderr, "cluster: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    int slot = 0;
    while (slot < nchildren && all_children[slot] > 0)
        slot++; /* reuse the places of children already reaped */
    if (slot < (int)(sizeof all_children / sizeof all_children[0])) {
        all_children[slot] = pid;
        if (slot == nchildren)
            nchildren++;
    }

    size_t used = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        long left = READY_TIMEOUT_MS - elapsed_ms(&start);
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t got = read(fds[0], line + used, line_size - 1 - used);
        if (got <= 0)
            break;
        used += (size_t)got;
        line[used] = '\0';
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            /* The pipe stays open (unread) so later writes do not raise SIGPIPE. */
            if (strstr(line, ready))
                return pid;
            break;
        }
        if (used == line_size - 1)
            break;
    }
    fprintf(stderr, "cluster: %s did not report '%s'\n", bin, ready);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    forget_child(pid);
    close(fds[0]);
    return -1;
}

static int stop_one(pid_t *pid, int sig);

/* The metrics=HOST:PORT of a ready line, or "". */
static void metrics_of(const char *line, char address[64])
{
    const char *m = strstr(line, " metrics=");
    address[0] = '\0';
    if (m)
        sscanf(m, " metrics=%63s", address);
}

/* Start the coordinator binding clients and peers with extra flags. */
static int start_coordinator(cluster *c, const char *clients, const char *peers,
                             const char *const *extra_args)
{
    const char *args[24] = {"--clients", clients, "--peers", peers};
    int n = 4;
    bool cache_set = false;
    for (int i = 0; extra_args && extra_args[i] && n < 21; i++) {
        cache_set |= strcmp(extra_args[i], "--cache-mb") == 0;
        args[n++] = extra_args[i];
    }
    /* Tests send the same frames again and again to see what peers do with them: answered
     * from the result cache, most would never reach a peer. The cache's own tests turn it
     * on with --cache-mb. */
    if (!cache_set) {
        args[n++] = "--cache-mb";
        args[n++] = "0";
    }
    args[n] = NULL;
    char line[1024];
    c->coordinator = spawn(getenv("P2C2R_COORDINATOR_BIN"), args, "p2c2r-coordinator ready",
                           c->coordinator_log, c->log_level, line, sizeof line);
    if (c->coordinator < 0) {
        c->coordinator = 0;
        return -1;
    }
    if (sscanf(line, "p2c2r-coordinator ready clients=%255s peers=%255s", c->client_endpoint,
               c->peer_endpoint) != 2) {
        fprintf(stderr, "cluster: cannot parse '%s'\n", line);
        cluster_stop(c);
        return -1;
    }
    metrics_of(line, c->metrics_address);
    return 0;
}

uint32_t cluster_host_addr(void)
{
    /* 127.x.y.z with z in 1..254: from the pid, distinct for the tests running at once. */
    uint32_t pid = (uint32_t)getpid();
    return (127u << 24) | ((pid / 254u) & 0xffffu) << 8 | (1u + pid % 254u);
}

const char *cluster_host(void)
{
    static char host[INET_ADDRSTRLEN];
    uint32_t a = cluster_host_addr();
    snprintf(host, sizeof host, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255u, (a >> 8) & 255u,
             a & 255u);
    return host;
}

int cluster_start_coordinator(cluster *c, const char *const *extra_args)
{
    const char *coordinator_log = c->coordinator_log, *peer_log = c->peer_log;
    const char *log_level = c->log_level;
    memset(c, 0, sizeof *c);
    c->coordinator_log = coordinator_log;
    c->peer_log = peer_log;
    c->log_level = log_level;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://%s:*", cluster_host());
    return start_coordinator(c, endpoint, endpoint, extra_args);
}

int cluster_restart_coordinator(cluster *c, int sig, const char *const *extra_args)
{
    (void)stop_one(&c->coordinator, sig); /* a crash ends badly by design */
    char clients[256], peers[256];
    snprintf(clients, sizeof clients, "%s", c->client_endpoint);
    snprintf(peers, sizeof peers, "%s", c->peer_endpoint);
    /* The old process's port may take a moment to be free to bind again. */
    for (int attempt = 0; attempt < 20; attempt++) {
        if (start_coordinator(c, clients, peers, extra_args) == 0)
            return 0;
        usleep(100000);
    }
    return -1;
}

/* Start bin as peer i, named after its index, with extra flags. */
static int start_peer(cluster *c, int i, const char *bin, const char *ready,
                      const char *const *extra_args)
{
    char name[32];
    snprintf(name, sizeof name, "test-peer-%d", i);
    const char *args[24] = {"--coordinator", c->peer_endpoint, "--name", name};
    int n = 4;
    for (int k = 0; extra_args && extra_args[k] && n < 23; k++) {
        /* A --coordinator among the extra flags replaces the default one. */
        if (strcmp(extra_args[k], "--coordinator") == 0 && extra_args[k + 1]) {
            args[1] = extra_args[++k];
            continue;
        }
        args[n++] = extra_args[k];
    }
    args[n] = NULL;
    char line[1024];
    pid_t pid = spawn(bin, args, ready, c->peer_log, c->log_level, line, sizeof line);
    if (pid < 0)
        return -1;
    c->peers[i] = pid;
    metrics_of(line, c->peer_metrics[i]);
    return 0;
}

int cluster_add_peer(cluster *c, const char *const *extra_args)
{
    if (c->npeers == CLUSTER_MAX_PEERS ||
        start_peer(c, c->npeers, getenv("P2C2R_PEER_BIN"), "p2c2r-peer ready", extra_args))
        return -1;
    return c->npeers++;
}

int cluster_add_fake_peer(cluster *c, const char *const *extra_args)
{
    if (c->npeers == CLUSTER_MAX_PEERS ||
        start_peer(c, c->npeers, getenv("P2C2R_FAKEPEER_BIN"), "p2c2r-fakepeer ready", extra_args))
        return -1;
    return c->npeers++;
}

int cluster_restart_peer(cluster *c, int i, const char *const *extra_args)
{
    if (i < 0 || i >= c->npeers || c->peers[i] > 0)
        return -1;
    return start_peer(c, i, getenv("P2C2R_PEER_BIN"), "p2c2r-peer ready", extra_args);
}

/* Signal a child and reap it; returns 0 when it exited with status 0. */
static int stop_one(pid_t *pid, int sig)
{
    if (*pid <= 0)
        return 0;
    kill(*pid, sig);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0, bad = 0;
    while (waitpid(*pid, &status, WNOHANG) == 0) {
        if (elapsed_ms(&start) > STOP_TIMEOUT_MS) {
            fprintf(stderr, "cluster: pid %d ignored signal %d, killing\n", (int)*pid, sig);
            kill(*pid, SIGKILL);
            waitpid(*pid, &status, 0);
            bad = 1;
            break;
        }
        usleep(10000);
    }
    if (!bad && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "cluster: pid %d ended badly (status 0x%x)\n", (int)*pid, status);
        bad = 1;
    }
    forget_child(*pid);
    *pid = 0;
    return bad;
}

void cluster_kill_peer(cluster *c, int i, int sig)
{
    (void)stop_one(&c->peers[i], sig); /* a killed peer ends badly by design */
}

int cluster_stop(cluster *c)
{
    int bad = 0;
    for (int i = 0; i < c->npeers; i++)
        bad += stop_one(&c->peers[i], SIGTERM);
    bad += stop_one(&c->coordinator, SIGTERM);
    return bad;
}
