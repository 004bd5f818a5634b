/* peers: the coordinator's registry of connected peers and the choice of a peer per task.
 *
 * Peers are keyed by their ZeroMQ routing id. A peer advertises the task kinds it runs
 * (kept as a bitmask of common/task.h kind indexes) and a number of slots; the coordinator
 * never has more tasks in flight on a peer than its slots (credit-based flow control).
 *
 * Selection today: among capable peers with a free slot, the least loaded
 * (inflight / slots), ties to the one assigned least recently, which spreads a burst over
 * all peers. It scans the registry: fine for tens of peers, to be replaced by per-kind
 * ordered sets before thousands.
 */
#ifndef P2C2R_COORD_PEERS_H
#define P2C2R_COORD_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"

struct coord_task; /* the coordinator's task; peers only link them */

typedef struct coord_peer {
    uint8_t route[P2C2R_ROUTE_MAX_BYTES]; /* ZeroMQ routing id on the peers socket */
    size_t route_len;                     /* bytes in route */
    char name[64];                        /* what the peer calls itself, for logs */
    uint32_t kinds;                       /* bitmask of (1 << kind index) it runs */
    uint32_t slots;                       /* most tasks it runs at once */
    uint32_t inflight;                    /* tasks assigned and not yet answered */
    uint64_t last_seen_us;                /* last message from it, coordinator clock */
    uint64_t last_assign;                 /* registry-wide assignment counter at its last task */
    uint64_t done;                        /* tasks it answered with a result */
    uint64_t failed;                      /* tasks it answered with an error */
    struct coord_task *tasks;             /* its in-flight tasks (list owned by coordinator) */
} coord_peer;

typedef struct coord_peers coord_peers;

coord_peers *coord_peers_new(void);
/* Frees every peer record (not their tasks). Accepts NULL; sets *peers to NULL. */
void coord_peers_destroy(coord_peers **peers);

coord_peer *coord_peers_find(coord_peers *peers, const void *route, size_t route_len);
/* Add a zeroed peer record for route; NULL when out of memory. The route must be new. */
coord_peer *coord_peers_add(coord_peers *peers, const void *route, size_t route_len);
/* Remove and free a peer record; the caller has dealt with its tasks. Sets *peer NULL. */
void coord_peers_remove(coord_peers *peers, coord_peer **peer);

/* The peer to run a task of this kind now, or NULL if no capable peer has a free slot. */
coord_peer *coord_peers_pick(coord_peers *peers, int kind);
/* Record that a task was assigned to peer (counts toward its slots and the tie-break). */
void coord_peers_assigned(coord_peers *peers, coord_peer *peer);

/* A peer not heard from since before cutoff_us, or NULL. */
coord_peer *coord_peers_silent(coord_peers *peers, uint64_t cutoff_us);
size_t coord_peers_size(const coord_peers *peers);
/* Whether any registered peer runs this kind (busy or not). */
int coord_peers_any_capable(coord_peers *peers, int kind);

#endif /* P2C2R_COORD_PEERS_H */
