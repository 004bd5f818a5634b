/* peerlink: the coordinator's side of the link to its peers.
 *
 * Owns the conversation on the peers ROUTER socket that is about peers rather than tasks:
 * registration (PEER_HELLO), heartbeats (echoed), refusing unknown or malformed senders,
 * and noticing peers that went silent. What concerns tasks (RESULT, ERROR, PEER_BYE) is
 * handed back to the caller, which routes it to the task lifecycle (tasks.h); ASSIGNs go
 * out through coord_link_assign().
 */
#ifndef P2C2R_COORD_PEERLINK_H
#define P2C2R_COORD_PEERLINK_H

#include <stdint.h>

#include "common/envelope.h"
#include "coordinator/peers.h"

typedef struct coord_link coord_link;

/* sock: the raw libzmq peers ROUTER, owned by the caller; peers: the registry, owned by the
 * caller. NULL when out of memory. */
coord_link *coord_link_new(void *sock, coord_peers *peers, uint32_t peer_timeout_ms);
/* Accepts NULL; sets *link to NULL. */
void coord_link_destroy(coord_link **link);

/* Receive one message from a peer without waiting and deal with what is the link's own.
 * P2C2R_OK: *msg is a RESULT, ERROR or PEER_BYE from the registered peer *peer, for the
 * caller to route. Otherwise nothing is left to do (P2C2R_E_TIMEOUT: none was waiting).
 * Always close msg with p2c2r__envelope_msg_close(). */
int coord_link_recv(coord_link *link, p2c2r_envelope_msg *msg, coord_peer **peer);

/* Send an ASSIGN envelope and a reference to payload (NULL for none; the caller keeps its
 * own reference) to peer. P2C2R_E_UNKNOWNPEER when the peer is unroutable (gone). */
int coord_link_assign(coord_link *link, coord_peer *peer, const p2c2r_envelope *env,
                      const zmq_msg_t *payload);

/* A registered peer not heard from for the peer timeout, or NULL. */
coord_peer *coord_link_silent(coord_link *link, uint64_t now_us);

/* How often coord_link_silent() is worth calling, in microseconds. */
uint64_t coord_link_sweep_interval_us(const coord_link *link);

#endif /* P2C2R_COORD_PEERLINK_H */
