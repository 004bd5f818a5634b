/* cluster: start a real coordinator and peers on loopback for integration tests and tear
 * them down whatever happens.
 *
 * The coordinator binds "tcp://HOST:*" and reports the ports it got on its ready line, so
 * tests never race for free ports. HOST is a loopback address of this test process's own
 * (cluster_host(): 127.x.y.z from its pid; all of 127/8 is loopback): tests run side by
 * side, and a peer of one test that keeps reconnecting to a coordinator it lost must never
 * find another test's coordinator that got the same port. Children are killed by the kernel if the
 * test process dies (PR_SET_PDEATHSIG), and by an atexit/signal handler on any exit, so a failing
 * or crashing test leaves nothing running. Binaries come from the environment
 * (P2C2R_COORDINATOR_BIN, P2C2R_PEER_BIN), which meson sets.
 */
#ifndef P2C2R_TEST_CLUSTER_H
#define P2C2R_TEST_CLUSTER_H

#include <stdint.h>
#include <sys/types.h>

#define CLUSTER_MAX_PEERS 16

typedef struct cluster {
    pid_t coordinator;              /* 0 when not running */
    pid_t peers[CLUSTER_MAX_PEERS]; /* 0 when not running */
    int npeers;                     /* peers started so far */
    char client_endpoint[256];      /* where clients connect */
    char peer_endpoint[256];        /* where peers connect */
    char metrics_address[64];       /* the coordinator's --metrics HOST:PORT ("" if none) */
    char peer_metrics[CLUSTER_MAX_PEERS][64]; /* each peer's --metrics HOST:PORT ("" if none) */
    const char *coordinator_log; /* when set before starting it: the coordinator's stderr
                                    is appended to this file, at log level info */
    const char *peer_log;        /* the same for peers started while it is set */
    const char *log_level;       /* level of those logs: "debug" to see each task (NULL:
                                    info) */
} cluster;

/* This process's loopback address, "127.x.y.z", and the same in host byte order. */
const char *cluster_host(void);
uint32_t cluster_host_addr(void);

/* Start the coordinator with extra flags (NULL-terminated list, may be NULL) and wait for
 * its ready line. Returns 0, or -1 after printing why. Clears *c first, except the log
 * paths and level. */
int cluster_start_coordinator(cluster *c, const char *const *extra_args);
/* Stop the coordinator with sig (SIGKILL for a crash) and start a new one on the same
 * endpoints with extra flags, waiting for its ready line. Returns 0 or -1. */
int cluster_restart_coordinator(cluster *c, int sig, const char *const *extra_args);
/* Start one peer with extra flags and wait for its ready line. Returns its index or -1.
 * The peer connects to peer_endpoint unless extra flags name another --coordinator. */
int cluster_add_peer(cluster *c, const char *const *extra_args);
/* The same with the test's misbehaving peer, p2c2r-fakepeer (P2C2R_FAKEPEER_BIN). */
int cluster_add_fake_peer(cluster *c, const char *const *extra_args);
/* Start peer i again (after cluster_kill_peer()) with extra flags. Returns 0 or -1. */
int cluster_restart_peer(cluster *c, int i, const char *const *extra_args);
/* Send a signal to peer i (SIGKILL to simulate a crash); the peer counts as gone. */
void cluster_kill_peer(cluster *c, int i, int sig);
/* Stop everything: SIGTERM, up to 5 s to exit, then SIGKILL. Safe to call twice.
 * Returns how many processes did not exit cleanly with status 0 (a crash, a sanitizer
 * report, a leak, or a hang), not counting peers taken down with cluster_kill_peer(). */
int cluster_stop(cluster *c);

#endif /* P2C2R_TEST_CLUSTER_H */
