/* peers: the coordinator's registry of connected peers: who they are, what they can do,
 * what they hold, and how they have done.
 *
 * Peers are keyed by their ZeroMQ routing id, and also by the random id their process
 * sends (Envelope.sender), so a peer that reconnects — a new TCP connection, hence a new
 * routing id — is recognised and keeps its record, its tasks and its history. Each record
 * also has a serial number, unique for the coordinator's life, that tasks may remember
 * after the record is gone.
 *
 * Capabilities come from the peer's PeerInfo (detected by the peer, not configured): its
 * kinds and upscale modes, runtime, devices and memory, cores and SIMD level, and the
 * filter tables it holds resident. The registry measures the rest: the round trip from
 * heartbeat echoes, and the peer's own service time per task class.
 *
 * Slots (credit-based flow control): a peer advertises slots, but what it may hold is what
 * its health allows (health.h: earned slots, circuit breaker), minus the tasks it runs for
 * this coordinator, minus "zombies" (tasks given up on — timed out, past their deadline —
 * that the peer may still be running, until it answers them or reports them gone), minus
 * the slots it reports busy with another coordinator instance's work. Nothing assigned
 * beyond that can meet a full peer.
 *
 * Every change to any of that goes through a function here, which keeps the selection
 * index (select.h) current: choosing a peer never scans the registry.
 */
#ifndef P2C2R_COORD_PEERS_H
#define P2C2R_COORD_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"
#include "common/task.h"
#include "coordinator/health.h"
#include "coordinator/reputation.h"
#include "coordinator/select.h"
#include "coordinator/timers.h"

#define COORD_PEER_MAX_SLOTS P2C2R_PEER_MAX_SLOTS /* common/task.h */
/* Task classes whose service time a peer record keeps (the most recent ones). */
#define COORD_PEER_HIST      4
/* Resident filter tables a peer record keeps (hashes of their names). */
#define COORD_PEER_RESIDENT  16

struct coord_task; /* the coordinator's task; peers only link them */

/* The peer's own smoothed service time for one task class. */
typedef struct coord_peer_hist {
    uint64_t cls;     /* estimate class (estimate.h) */
    uint64_t mean_us; /* smoothed service time (gain 1/8) */
    uint64_t uses;    /* when it was last updated (registry-wide counter); 0: empty */
} coord_peer_hist;

typedef struct coord_peer {
    /* What a score reads first, together, so that a draw touches few cache lines
     * (select.c prefetches them). */
    uint64_t serial;                        /* unique for the coordinator's life, never reused */
    uint64_t memory_free;                   /* free memory of its largest GPU, or of its host */
    uint32_t inflight;                      /* tasks running on it, waiting for its answer */
    uint32_t foreign;                       /* slots it reports busy for another instance */
    uint32_t nzombies;                      /* entries in zombies */
    uint32_t nresident;                     /* entries in resident */
    uint64_t rtt_us;                        /* smoothed round trip (0: not measured yet) */
    coord_sel_place place;                  /* where it stands in the selection index */
    coord_health health;                    /* earned slots and circuit breaker */
    coord_peer_hist hist[COORD_PEER_HIST];  /* its service time per recent task class */
    uint64_t resident[COORD_PEER_RESIDENT]; /* hashes of the tables it holds */
    /* The rest. */
    uint8_t route[P2C2R_ROUTE_MAX_BYTES];   /* ZeroMQ routing id on the peers socket */
    size_t route_len;                       /* bytes in route */
    uint64_t sender;                        /* the peer process's own id; 0 when it sent none */
    char name[64];                          /* what the peer calls itself, for logs */
    char identity[REPUTATION_IDENTITY_MAX]; /* "key:" its ZAP User-Id, else "name:" its name */
    p2c2r_curve_key key;                    /* its CURVE public key (ZAP User-Id); "" without */
    bool quarantined;                       /* outvoted by rechecks too often: never used */
    uint32_t kinds;                         /* bitmask of (1 << kind index) it runs */
    uint32_t modes;                         /* bitmask of (1 << upscale mode) it runs */
    int runtime;                            /* P2C2R_RUNTIME_CPU or P2C2R_RUNTIME_CUDA */
    uint32_t slots;                         /* tasks it says it runs at once */
    bool batches;                           /* it takes ASSIGN batches and CANCEL */
    bool inline_payloads;                   /* it reads them with inline payloads */
    bool reads_columns;                     /* and in columns (its hello's Envelope said) */
    uint32_t cpu_cores;                     /* its CPU cores */
    char simd[16];                          /* its CPU kernels' instruction set */
    uint32_t ndevices;                      /* its GPUs */
    char device[64];                        /* the first one's name ("" for none) */
    uint64_t *zombies;                      /* ids of tasks given up on that it may still run */
    coord_timer breaker_timer;              /* when its open breaker's cooldown ends */
    uint64_t last_seen_us;                  /* last message from it, coordinator clock */
    struct coord_task *tasks;               /* its running tasks (list owned by tasks.c) */
} coord_peer;

typedef struct coord_peers coord_peers;

/* weights: for the score (NULL: the default); seed: for the draws (0: any). */
coord_peers *coord_peers_new(const coord_select_weights *weights, uint64_t seed);
/* Frees every peer record (not their tasks). Accepts NULL; sets *peers to NULL. */
void coord_peers_destroy(coord_peers **peers);

coord_peer *coord_peers_find(coord_peers *peers, const void *route, size_t route_len);
/* The peer whose process sent this id (non-zero), or NULL. */
coord_peer *coord_peers_find_sender(coord_peers *peers, uint64_t sender);
/* The peer with this serial, or NULL when it is gone. */
coord_peer *coord_peers_find_serial(coord_peers *peers, uint64_t serial);
/* Add a record for a new route, with fresh health and no capabilities yet; NULL when out
 * of memory. The route must not be registered. */
coord_peer *coord_peers_add(coord_peers *peers, const void *route, size_t route_len,
                            uint64_t sender);
/* Move a record to a new route (the peer reconnected). P2C2R_E_NOMEM leaves it as it was. */
int coord_peers_rekey(coord_peers *peers, coord_peer *peer, const void *route, size_t route_len);
/* Remove and free a peer record; the caller has dealt with its tasks. Sets *peer NULL. */
void coord_peers_remove(coord_peers *peers, coord_peer **peer);

/* Take what a PeerInfo says (hello, or a heartbeat's report of resident tables): the
 * capabilities, devices, memory and resident tables. Returns how many kinds it names that
 * the cluster does not know (they are ignored). */
int coord_peers_set_info(coord_peers *peers, coord_peer *peer, const P2c2r__Wire__PeerInfo *info,
                         uint64_t now_us);

/* Set the identity its reputation is kept under (reputation.h): "key:" and the ZAP
 * User-Id of its connection when user_id is not empty, else "name:" and its name (set by
 * coord_peers_set_info() first). A quarantined identity leaves the peer registered but
 * unused. Returns whether it is quarantined. */
bool coord_peers_set_identity(coord_peers *peers, coord_peer *peer, const char *user_id);
/* Quarantine every record of identity (already quarantined in the reputation table):
 * they stay registered but get no task. Fills out[0..max) with them and returns how many
 * there are. */
size_t coord_peers_quarantine(coord_peers *peers, const char *identity, coord_peer **out,
                              size_t max);
/* The reputation table, owned by the registry: it outlives every peer record. */
coord_reputation *coord_peers_reputation(coord_peers *peers);

/* The hash by which a peer's resident table and a task's needed table are compared. */
uint64_t coord_peers_table_hash(const char *name);

/* How many more tasks peer may take now (see the top of this file). */
uint32_t coord_peers_room(coord_peer *peer, uint64_t now_us);

/* The peer to run the task now, or NULL (see select.h; the avoided counts are filled in
 * here). */
coord_peer *coord_peers_pick(coord_peers *peers, coord_select_task *task);
/* Whether a usable peer other than those in avoid can run such a task. */
bool coord_peers_other_capable(coord_peers *peers, int kind, int mode, int runtime,
                               const uint64_t *avoid, size_t navoid);
/* Tasks of this kind, mode and runtime the usable peers may hold at once, all together. */
uint64_t coord_peers_capacity(coord_peers *peers, int kind, int mode, int runtime);
/* Peers with room now for such a task. */
uint32_t coord_peers_available(coord_peers *peers, int kind, int mode, int runtime);

/* A task was assigned to peer / left it (answered, given up on, lost). */
void coord_peers_assigned(coord_peers *peers, coord_peer *peer);
void coord_peers_released(coord_peers *peers, coord_peer *peer);

/* Its answers, for its health (health.h) and, on success, its service time for cls. */
void coord_peers_success(coord_peers *peers, coord_peer *peer, uint64_t cls, uint64_t service_us,
                         uint64_t now_us);
void coord_peers_failure(coord_peers *peers, coord_peer *peer, uint64_t now_us, const char *why);
void coord_peers_no_verdict(coord_peers *peers, coord_peer *peer, uint64_t now_us);

/* The slots it says are busy with another coordinator instance's work. */
void coord_peers_set_foreign(coord_peers *peers, coord_peer *peer, uint64_t foreign,
                             uint64_t now_us);
/* A round trip measured from a heartbeat echo. */
void coord_peers_rtt_sample(coord_peer *peer, uint64_t rtt_us);

/* Remember a task id the peer may still be running after the coordinator gave up on it:
 * it keeps a slot until the peer answers it or reports it gone. Out of memory forgets it
 * (the slot is then freed early: a BUSY answer at worst). */
void coord_peers_zombie_add(coord_peers *peers, coord_peer *peer, uint64_t task_id);
/* Forget one zombie; true when task_id was one. */
bool coord_peers_zombie_remove(coord_peers *peers, coord_peer *peer, uint64_t task_id);
/* Forget the zombies the peer's load report shows are no longer running: those not in
 * running (sorted ascending) whose id is at most last_assigned, or all not running when
 * every ASSIGN sent before now is accounted for (reconnected: the old connection is dead). */
void coord_peers_zombies_reconcile(coord_peers *peers, coord_peer *peer, const uint64_t *running,
                                   size_t nrunning, uint64_t last_assigned, bool all_accounted);

/* Let breakers whose cooldown ended take a probe task; returns the next time there is
 * something to do (UINT64_MAX: nothing). */
uint64_t coord_peers_expire(coord_peers *peers, uint64_t now_us);
/* The next time coord_peers_expire() has work, or UINT64_MAX. */
uint64_t coord_peers_next_wakeup(const coord_peers *peers);

/* A peer not heard from since before cutoff_us, or NULL. */
coord_peer *coord_peers_silent(coord_peers *peers, uint64_t cutoff_us);
size_t coord_peers_size(const coord_peers *peers);
/* Every peer, in no set order: the first, then the next until NULL. The registry must not
 * change in between. */
coord_peer *coord_peers_first(coord_peers *peers);
coord_peer *coord_peers_next(coord_peers *peers);

#endif /* P2C2R_COORD_PEERS_H */
