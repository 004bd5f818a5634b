/* peerlink: the coordinator's side of the link to its peers.
 *
 * Owns the conversation on the peers ROUTER socket that is about peers rather than tasks:
 * registration (PEER_HELLO, answered with a HEARTBEAT carrying the coordinator's instance),
 * heartbeats (echoed the same way), refusing unknown or malformed senders, and noticing
 * peers that went silent. A peer that reconnects sends PEER_HELLO from a new routing id
 * with the same sender id: its record moves to the new route instead of a second record
 * being made, so its running tasks and history survive the reconnect.
 *
 * What concerns tasks is handed back to the caller as an event, for the task lifecycle
 * (tasks.h): answers, goodbyes, and every load report (what the peer says it runs), which
 * is how busy slots stay true. Everything the link sends carries the instance.
 */
#ifndef P2C2R_COORD_PEERLINK_H
#define P2C2R_COORD_PEERLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/envelope.h"
#include "coordinator/peers.h"

typedef struct coord_link coord_link;

typedef enum coord_link_event {
    COORD_LINK_EMPTY = 0, /* no message was waiting */
    COORD_LINK_NONE,      /* a message, dealt with here: nothing for the caller */
    COORD_LINK_ANSWER,    /* a RESULT or ERROR from a registered peer */
    COORD_LINK_LOAD,      /* a PEER_HELLO or HEARTBEAT: Envelope.load to reconcile */
    COORD_LINK_BYE,       /* the peer is leaving */
} coord_link_event;

/* sock: the raw libzmq peers ROUTER, owned by the caller; peers: the registry, owned by the
 * caller. NULL when out of memory. */
coord_link *coord_link_new(void *sock, coord_peers *peers, uint64_t instance,
                           uint32_t peer_timeout_ms);
/* Accepts NULL; sets *link to NULL. */
void coord_link_destroy(coord_link **link);

/* Receive one message from a peer without waiting and deal with what is the link's own.
 * Returns the event for the caller, with *peer the registered sender and *reconnected
 * true when a PEER_HELLO moved a known peer to a new connection (everything sent on the
 * old one is lost or answered). COORD_LINK_NONE when nothing is left to do,
 * COORD_LINK_EMPTY when no message was waiting.
 * Always close msg with p2c2r__envelope_msg_close(). */
coord_link_event coord_link_recv(coord_link *link, p2c2r_envelope_msg *msg, coord_peer **peer,
                                 bool *reconnected);

/* Which ASSIGNs share a message (coord_link_assign()'s together): any, up to
 * P2C2R_MERGE_MAX_BYTES of payload; and those of one SUBMIT batch (a group of their own,
 * from 1 on: the client sent them as one message), whatever their bytes. COORD_LINK_ANY:
 * a task in no group. */
#define COORD_LINK_ANY 0u

/* Send an ASSIGN envelope (its instance is set here) and a reference to payload (NULL for
 * none; the caller keeps its own reference) to peer. P2C2R_E_UNKNOWNPEER when the peer is
 * unroutable (gone). To a peer that takes batches the ASSIGN goes to that peer's outbox
 * instead (there are outboxes for 16 peers at once), to leave with the others for that
 * peer at coord_link_flush(); COORD_LINK_FLUSH_FIRST when the peer's outbox holds a batch
 * this ASSIGN may not join (other parameters', a full one, or one it would take past the
 * bound outside its group) or every outbox is taken: nothing was done, flush them all and
 * assign again. */
#define COORD_LINK_FLUSH_FIRST 1
int coord_link_assign(coord_link *link, coord_peer *peer, p2c2r_envelope *env,
                      const zmq_msg_t *payload, uint64_t together);

/* Send one outbox's batch, in the order the outboxes were opened; *peer is the peer it was
 * for, NULL when every outbox was empty. P2C2R_OK, or the error, with ids[0..*n) the
 * attempt ids the batch held, none of which reached the peer. Call until *peer is NULL to
 * send them all. */
int coord_link_flush(coord_link *link, coord_peer **peer, uint64_t ids[P2C2R_BATCH_MAX], size_t *n);

/* Tell a peer that takes CANCEL to stop attempt_id (nothing for one that does not: its
 * answer will be dropped). The outboxes must be empty. */
void coord_link_cancel(coord_link *link, coord_peer *peer, uint64_t attempt_id);

/* A registered peer not heard from for the peer timeout, or NULL. */
coord_peer *coord_link_silent(coord_link *link, uint64_t now_us);

/* How often coord_link_silent() is worth calling, in microseconds. */
uint64_t coord_link_sweep_interval_us(const coord_link *link);

#endif /* P2C2R_COORD_PEERLINK_H */
