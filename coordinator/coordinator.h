/* coordinator: the P2C2R coordinator service.
 *
 * One thread owns all state and runs one poll loop over two ROUTER sockets, one for clients
 * and one for peers, so nothing here needs a lock. A SUBMIT is validated, admitted within
 * the memory bounds if it can finish by its deadline, queued in (priority, deadline,
 * arrival) order and assigned to a capable peer with room; the peer's answer is checked
 * and goes back to the client that submitted, or the task is retried elsewhere. Every
 * admitted task ends exactly once towards its client: its checked result, or an error
 * (P2C2R_E_DEADLINE when it cannot or did not finish in time, P2C2R_E_BUSY past a bound,
 * a peer's error once retries are used up, P2C2R_E_IO when the coordinator shuts down).
 *
 * Each process draws a random instance number at start and stamps it on everything it
 * sends, so nothing meant for an earlier coordinator is taken for something of its own.
 */
#ifndef P2C2R_COORDINATOR_H
#define P2C2R_COORDINATOR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct coordinator_config {
    const char *client_endpoint; /* bind address for clients ("tcp://127.0.0.1:*" picks a port) */
    const char *peer_endpoint;   /* bind address for peers */
    uint32_t max_queue;          /* queued tasks beyond which SUBMIT gets P2C2R_E_BUSY */
    uint32_t peer_timeout_ms;    /* a peer silent this long is dropped, its tasks retried */
    uint32_t max_attempts;       /* runs of one task on peers, at most */
    uint32_t attempt_timeout_ms; /* longest a peer may take to answer one attempt */
    uint32_t max_queued_mb;      /* bytes held for all clients: inputs, unsent results */
    uint32_t max_client_mb;      /* the same for one client */
    uint32_t max_client_tasks;   /* one client's unfinished tasks before it gets BUSY */
    double score_weights[4];     /* history, load, rtt, affinity (select.h) */
    uint32_t cache_mb;           /* bound of the result cache (0: none) */
    bool cache_shared;           /* one result cache for all clients (cache.h) */
    const char *curve_secret;    /* key file: both sockets are CURVE servers (auth.h); NULL:
                                    plain TCP, and the two below are unused */
    const char *allow_peers;     /* allowlist of peer keys (allowlist.h) */
    const char *allow_clients;   /* allowlist of client keys and their limits */
    const char *metrics_address; /* HOST:PORT for /metrics and /status (NULL: none) */
    double recheck_rate;         /* share of results checked on a second peer (recheck.h) */
} coordinator_config;

typedef struct coordinator coordinator;

/* Create the coordinator and bind both sockets. NULL with *err set on failure. */
coordinator *coordinator_new(const coordinator_config *config, int *err);
/* Accepts NULL; sets *coord to NULL. */
void coordinator_destroy(coordinator **coord);

/* The endpoints actually bound (a "*" port resolved). */
const char *coordinator_client_endpoint(const coordinator *coord);
const char *coordinator_peer_endpoint(const coordinator *coord);
/* Where /metrics and /status are served ("HOST:PORT"), or NULL. */
const char *coordinator_metrics_address(const coordinator *coord);
/* This process's instance number. */
uint64_t coordinator_instance(const coordinator *coord);

/* Serve until SIGINT/SIGTERM, then end every unfinished task with an error to its client.
 * Returns P2C2R_OK, or P2C2R_E_IO if the sockets failed. */
int coordinator_run(coordinator *coord);

#endif /* P2C2R_COORDINATOR_H */
