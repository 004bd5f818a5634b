/* auth: who may connect to the coordinator, with CurveZMQ.
 *
 * With a secret key, both ROUTER sockets are CURVE servers: every connection is encrypted
 * and the key it presents is checked by this module's ZAP handler (ZeroMQ's
 * authentication protocol, RFC 27), a REP socket on inproc://zeromq.zap.01 that the
 * coordinator's loop serves like its other sockets. CZMQ's zauth is not used: it knows
 * one list of keys, and the coordinator needs two roles. Each socket names its role in
 * its ZAP domain ("peers" or "clients"); a key is let in only by the socket of its own
 * list (allowlist.h), so a client's key cannot register as a peer, nor a peer's submit,
 * and an unknown key gets nothing: the handshake fails before any message is read.
 * A key let in is returned as the ZAP User-Id, which ZeroMQ then attaches to every
 * message of that connection (p2c2r_envelope_msg.user_id).
 *
 * Connections that fail earlier, in the CURVE handshake itself (a plaintext client, one
 * that has the wrong coordinator key), never reach the ZAP handler; a socket monitor on
 * each ROUTER counts them. Every refusal is logged (at most one line a second per kind,
 * with the count of those not shown) and counted; the counts are in the line logged at
 * shutdown.
 */
#ifndef P2C2R_COORD_AUTH_H
#define P2C2R_COORD_AUTH_H

#include <czmq.h>
#include <stdint.h>

#include "coordinator/allowlist.h"

typedef struct coord_auth coord_auth;

/* What was let in and what was refused. */
typedef struct coord_auth_stats {
    uint64_t accepted;     /* connections whose key is on their socket's list */
    uint64_t unknown_key;  /* refused: the key is on neither list */
    uint64_t wrong_role;   /* refused: a client key on the peers socket, or the reverse */
    uint64_t failed_curve; /* refused in the handshake: no CURVE, wrong coordinator key */
} coord_auth_stats;

/* Read the coordinator's secret key file and both allowlists, and start the ZAP handler.
 * NULL with a sentence in why on failure (also when libzmq has no CURVE). */
coord_auth *coord_auth_new(const char *secret_file, const char *peers_file,
                           const char *clients_file, char *why, size_t why_size);
/* Logs the counts. Accepts NULL; sets *auth to NULL. */
void coord_auth_destroy(coord_auth **auth);

/* Make sock a CURVE server for the peers (or the clients) and watch its handshakes.
 * Before it binds. P2C2R_OK or an error. */
int coord_auth_secure(coord_auth *auth, zsock_t *sock, bool peers);

/* The sockets to poll: fills up to 3 items, returns how many. */
int coord_auth_poll_items(coord_auth *auth, zmq_pollitem_t *items);
/* Answer the ZAP requests and read the monitor events that are waiting, without blocking. */
void coord_auth_handle(coord_auth *auth);

/* The clients allowlist (limits of a client's key). */
const coord_allowlist *coord_auth_clients(const coord_auth *auth);
void coord_auth_stats_get(const coord_auth *auth, coord_auth_stats *stats);

#endif /* P2C2R_COORD_AUTH_H */
