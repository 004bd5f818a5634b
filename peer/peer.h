/* peer: the P2C2R peer agent.
 *
 * Connects a DEALER to the coordinator's peers endpoint, registers (PEER_HELLO) with the
 * kinds it runs and one slot per worker thread, and heartbeats. Its main loop owns the
 * socket and the list of idle workers: an ASSIGN goes to an idle worker, a worker's answer
 * is relayed to the coordinator as it is. An ASSIGN beyond its slots, or one already past
 * its deadline, is answered with an error at once, so the coordinator's view of free slots
 * can never drift from the truth.
 */
#ifndef P2C2R_PEER_H
#define P2C2R_PEER_H

#include <stdint.h>

typedef struct peer_config {
    const char *coordinator;     /* coordinator's peers endpoint */
    const char *name;            /* name shown in the coordinator's logs */
    uint32_t slots;              /* worker threads = tasks at once */
    uint32_t threads;            /* threads one task's work is shared between (1..256) */
    uint32_t heartbeat_ms;       /* heartbeat period */
    const char *kinds;           /* task kinds to run, comma-separated (NULL: all it has) */
    const char *curve_public;    /* CurveZMQ: this peer's public key (Z85); NULL: plain TCP */
    const char *curve_secret;    /* its secret key (Z85) */
    const char *coordinator_key; /* the coordinator's public key (Z85) */
    const char *metrics_address; /* HOST:PORT for /metrics (NULL: none) */
    const char *runtime;         /* "auto" (NULL), "cpu" or "cuda" (runtime.h) */
    int device;                  /* the one CUDA device to use, -1: all */
} peer_config;

typedef struct peer peer;

/* Start the workers and connect. NULL with *err set on failure (P2C2R_E_INVAL for a kind
 * in config->kinds the peer does not have or a bad runtime or device, P2C2R_E_UNSUPPORTED
 * for runtime "cuda" on a host without a CUDA device; the log says why). */
peer *peer_new(const peer_config *config, int *err);
/* Says goodbye to the coordinator if connected, stops the workers. Accepts NULL. */
void peer_destroy(peer **p);
/* What its frames run on: "cpu" or "cuda". */
const char *peer_runtime_name(const peer *p);
/* Where /metrics is served ("HOST:PORT"), or NULL. */
const char *peer_metrics_served(const peer *p);
/* Serve until SIGINT/SIGTERM. Returns P2C2R_OK or P2C2R_E_IO. */
int peer_run(peer *p);

#endif /* P2C2R_PEER_H */
