/* coordinator: the P2C2R coordinator service.
 *
 * One thread owns all state and runs one poll loop over two ROUTER sockets, one for clients
 * and one for peers, so nothing here needs a lock. A SUBMIT is validated, queued in
 * (priority, deadline, arrival) order and assigned to a capable peer with a free slot; the
 * peer's RESULT or ERROR goes back to the client that submitted. Every admitted task ends
 * exactly once towards its client: a result, its peer's error, or an error from here
 * (P2C2R_E_DEADLINE when it expires before dispatch, P2C2R_E_PEERLOST when its peer vanished
 * too late to retry, P2C2R_E_IO when the coordinator shuts down).
 */
#ifndef P2C2R_COORDINATOR_H
#define P2C2R_COORDINATOR_H

#include <stdint.h>

typedef struct coordinator_config {
    const char *client_endpoint; /* bind address for clients ("tcp://127.0.0.1:*" picks a port) */
    const char *peer_endpoint;   /* bind address for peers */
    uint32_t max_queue;          /* queued tasks beyond which SUBMIT gets P2C2R_E_BUSY */
    uint32_t peer_timeout_ms;    /* a peer silent this long is dropped, its tasks requeued */
} coordinator_config;

typedef struct coordinator coordinator;

/* Create the coordinator and bind both sockets. NULL with *err set on failure. */
coordinator *coordinator_new(const coordinator_config *config, int *err);
/* Accepts NULL; sets *coord to NULL. */
void coordinator_destroy(coordinator **coord);

/* The endpoints actually bound (a "*" port resolved). */
const char *coordinator_client_endpoint(const coordinator *coord);
const char *coordinator_peer_endpoint(const coordinator *coord);

/* Serve until SIGINT/SIGTERM, then end every unfinished task with an error to its client.
 * Returns P2C2R_OK, or P2C2R_E_IO if the sockets failed. */
int coordinator_run(coordinator *coord);

#endif /* P2C2R_COORDINATOR_H */
