/* peers: the coordinator's registry of connected peers and the choice of a peer per task.
 *
 * Peers are keyed by their ZeroMQ routing id, and also by the random id their process
 * sends (Envelope.sender), so a peer that reconnects — a new TCP connection, hence a new
 * routing id — is recognised and keeps its record, its tasks and its history. Each record
 * also has a serial number, unique for the coordinator's life, that tasks may remember
 * after the record is gone.
 *
 * Slots (credit-based flow control): a peer advertises slots, but what it may hold is what
 * its health allows (health.h: earned slots, circuit breaker), minus the tasks it runs for
 * this coordinator, minus "zombies" (tasks given up on — timed out, past their deadline —
 * that the peer may still be running, until it answers them or reports them gone), minus
 * the slots it reports busy with another coordinator instance's work. Nothing assigned
 * beyond that can meet a full peer.
 *
 * Selection today: among capable peers with room, the least loaded (busy / allowance),
 * ties to the one assigned least recently, which spreads a burst over all peers. It scans
 * the registry: fine for tens of peers, to be replaced by per-kind ordered sets before
 * thousands.
 */
#ifndef P2C2R_COORD_PEERS_H
#define P2C2R_COORD_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"
#include "common/task.h"
#include "coordinator/health.h"

#define COORD_PEER_MAX_SLOTS P2C2R_PEER_MAX_SLOTS /* common/task.h */

struct coord_task; /* the coordinator's task; peers only link them */

typedef struct coord_peer {
    uint8_t route[P2C2R_ROUTE_MAX_BYTES]; /* ZeroMQ routing id on the peers socket */
    size_t route_len;                     /* bytes in route */
    uint64_t serial;                      /* unique for the coordinator's life, never reused */
    uint64_t sender;                      /* the peer process's own id; 0 when it sent none */
    char name[64];                        /* what the peer calls itself, for logs */
    uint32_t kinds;                       /* bitmask of (1 << kind index) it runs */
    uint32_t slots;                       /* tasks it says it runs at once */
    uint32_t inflight;                    /* tasks running on it, waiting for its answer */
    uint32_t foreign;                     /* slots it reports busy for another instance */
    uint64_t *zombies;                    /* ids of tasks given up on that it may still run */
    uint32_t nzombies;                    /* entries in zombies */
    coord_health health;                  /* earned slots and circuit breaker */
    uint64_t last_seen_us;                /* last message from it, coordinator clock */
    uint64_t last_assign;                 /* registry-wide assignment counter at its last task */
    struct coord_task *tasks;             /* its running tasks (list owned by tasks.c) */
} coord_peer;

typedef struct coord_peers coord_peers;

coord_peers *coord_peers_new(void);
/* Frees every peer record (not their tasks). Accepts NULL; sets *peers to NULL. */
void coord_peers_destroy(coord_peers **peers);

coord_peer *coord_peers_find(coord_peers *peers, const void *route, size_t route_len);
/* The peer whose process sent this id (non-zero), or NULL. */
coord_peer *coord_peers_find_sender(coord_peers *peers, uint64_t sender);
/* The peer with this serial, or NULL when it is gone. */
coord_peer *coord_peers_find_serial(coord_peers *peers, uint64_t serial);
/* Add a record for a new route, with fresh health; NULL when out of memory. The route
 * must not be registered. */
coord_peer *coord_peers_add(coord_peers *peers, const void *route, size_t route_len,
                            uint64_t sender);
/* Move a record to a new route (the peer reconnected). P2C2R_E_NOMEM leaves it as it was. */
int coord_peers_rekey(coord_peers *peers, coord_peer *peer, const void *route, size_t route_len);
/* Remove and free a peer record; the caller has dealt with its tasks. Sets *peer NULL. */
void coord_peers_remove(coord_peers *peers, coord_peer **peer);

/* How many more tasks peer may take now (see the top of this file). */
uint32_t coord_peers_room(coord_peer *peer, uint64_t now_us);

/* The peer to run a task of this kind now, or NULL. Peers whose serial is in avoid (the
 * ones that already failed the task) are taken only when no other usable peer runs the
 * kind at all; while one does, the task waits for it. A task that failed before also
 * waits for a proven peer (good answers, no failure since) when one runs the kind. */
coord_peer *coord_peers_pick(coord_peers *peers, int kind, const uint64_t *avoid, size_t navoid,
                             uint64_t now_us);
/* Whether a usable peer (breaker not open) runs this kind, other than those in avoid. */
bool coord_peers_other_capable(coord_peers *peers, int kind, const uint64_t *avoid, size_t navoid,
                               uint64_t now_us);
/* Tasks of this kind the usable peers may hold at once, all together. */
uint32_t coord_peers_capacity(coord_peers *peers, int kind, uint64_t now_us);
/* Record that a task was assigned to peer (counts toward its slots and the tie-break). */
void coord_peers_assigned(coord_peers *peers, coord_peer *peer);

/* Remember a task id the peer may still be running after the coordinator gave up on it:
 * it keeps a slot until the peer answers it or reports it gone. Out of memory forgets it
 * (the slot is then freed early: a BUSY answer at worst). */
void coord_peers_zombie_add(coord_peer *peer, uint64_t task_id);
/* Forget one zombie; true when task_id was one. */
bool coord_peers_zombie_remove(coord_peer *peer, uint64_t task_id);
/* Forget the zombies the peer's load report shows are no longer running: those not in
 * running (sorted ascending) whose id is at most last_assigned, or all not running when
 * every ASSIGN sent before now is accounted for (reconnected: the old connection is dead). */
void coord_peers_zombies_reconcile(coord_peer *peer, const uint64_t *running, size_t nrunning,
                                   uint64_t last_assigned, bool all_accounted);

/* A peer not heard from since before cutoff_us, or NULL. */
coord_peer *coord_peers_silent(coord_peers *peers, uint64_t cutoff_us);
size_t coord_peers_size(const coord_peers *peers);

#endif /* P2C2R_COORD_PEERS_H */
