/* peerfarm: a thousand peers in one thread, for the scale bench.
 *
 * Starting a thousand p2c2r-peer processes would measure the machine's scheduler, not the
 * coordinator: each peer runs worker threads, and two cores cannot host thousands of
 * them. What the coordinator sees of a peer is one connection and the messages on it, so
 * one thread here holds one DEALER socket per peer and serves them all with a single
 * zmq_poll. Each plays a peer as written from proto/p2c2r.proto alone: PEER_HELLO with a
 * random sender id and a PeerInfo running only `noop`, a HEARTBEAT with a load report every
 * 250 ms (staggered over the peers so they do not all fire at once), a RESULT echoing
 * each ASSIGN's payload at once, and a new hello, at most once a second, when the
 * coordinator says it does not know the peer (after a restart, say).
 *
 * The thread owns every peer socket and every counter. The caller talks to it over an
 * inproc pair (grow, stats, stop), so nothing is shared and nothing is locked. The farm's
 * ZeroMQ context is its own, with room for all its sockets (ZMQ_MAX_SOCKETS), so the
 * SDK's context and its default limit of 1,024 sockets are left alone. The caller makes
 * sure the process may open two descriptors per peer (a mailbox and a TCP connection).
 */
#ifndef P2C2R_BENCH_PEERFARM_H
#define P2C2R_BENCH_PEERFARM_H

#include <stdint.h>

/* What each peer says it can do: four slots of noop, so that a thousand peers offer more
 * room than any window the bench keeps in flight, and nothing else, so that tasks of
 * other kinds wait in the coordinator's queue. */
#define PEERFARM_SLOTS   4
#define PEERFARM_KIND    "noop"
/* Each peer's heartbeat period, as a real peer's default. */
#define PEERFARM_BEAT_MS 250

typedef struct peerfarm peerfarm;

/* What the farm has seen so far. Counters only grow; the spread and the longest pass are
 * counted from the last stats call that asked for a reset (or from the start). */
typedef struct peerfarm_stats {
    int peers;                /* peers connected */
    int registered;           /* of them, answered by the coordinator's HEARTBEAT */
    uint64_t registrations;   /* times a peer went from unknown to registered */
    uint64_t hellos;          /* PEER_HELLOs sent (first ones and again) */
    uint64_t heartbeats;      /* HEARTBEATs sent */
    uint64_t beats_back;      /* HEARTBEATs received from the coordinator */
    uint64_t assigns;         /* ASSIGNs received */
    uint64_t results;         /* RESULTs sent back */
    uint64_t unknown_peer;    /* ERROR P2C2R_E_UNKNOWNPEER received */
    uint64_t errors;          /* other ERRORs received, or messages that did not decode */
    uint64_t wrong;           /* ASSIGNs that were not noop, or could not be answered */
    uint64_t dropped;         /* sends refused because the socket's queue was full */
    uint64_t spread_min;      /* fewest tasks one peer ran since the reset */
    uint64_t spread_max;      /* most tasks one peer ran since the reset */
    int spread_idle;          /* peers that ran none since the reset */
    int traffic_left;         /* rounds of peerfarm_traffic() still to send */
    uint64_t longest_pass_us; /* longest the thread took between two polls: while it works
                                 through the sockets, no peer answers */
} peerfarm_stats;

/* Start the thread; peers will connect to endpoint (the coordinator's peer endpoint) as
 * peerfarm_grow() asks, up to max_peers. NULL (after printing why) on failure. */
peerfarm *peerfarm_new(const char *endpoint, int max_peers);
/* Connect more peers, so that npeers are connected in all; each says hello at once.
 * Returns 0, or -1 when npeers exceeds max_peers or a socket cannot be made. */
int peerfarm_grow(peerfarm *farm, int npeers);
/* Make every registered peer send `rounds` extra heartbeats, as fast as the coordinator
 * answers them (a round goes out once the last one is answered, so nothing piles up in
 * the queues). It brings each connection to the memory it keeps in the long run: libzmq
 * grows a connection's message queues in chunks of 256 messages and keeps a spare, so a
 * fresh connection holds far less than one that has carried a few hundred messages, as
 * each peer's connection has after a couple of minutes of heartbeats. Returns at once;
 * stats say when it is done. 0 or -1. */
int peerfarm_traffic(peerfarm *farm, int rounds);
/* Fill *stats; with reset, start counting the spread and the longest pass again
 * afterwards. 0 or -1. */
int peerfarm_stats_get(peerfarm *farm, int reset, peerfarm_stats *stats);
/* Stop the thread and close every peer socket. Accepts NULL; sets *farm to NULL. */
void peerfarm_destroy(peerfarm **farm);

#endif /* P2C2R_BENCH_PEERFARM_H */
