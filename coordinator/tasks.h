/* tasks: the task lifecycle, from an admitted SUBMIT to its one answer.
 *
 * A task is admitted (its input inspected, its bytes within bounds, its deadline
 * reachable), waits in the queue (queue.h), runs on a peer chosen by the registry
 * (peers.h), and ends exactly once. Every ending, whatever its cause — a checked result,
 * an error, a deadline, retries used up, shutdown — goes through one function in tasks.c,
 * coord_task_end(), and every answer is handed to the client side from there: no task can
 * end twice or be forgotten. attempts.c runs tasks on peers; task.h holds the record both
 * share.
 *
 * Between admission and its end a task may run several times: each run on a peer (an
 * attempt) has its own wire id, never reused, and a timer. A peer-side failure (an error
 * that is the peer's, a result that fails verify.h, no answer in time, the peer lost) sends
 * the task back to the queue, avoiding the peers that failed it, while its deadline allows
 * and attempts remain. An input error is believed once a second peer agrees (or no other
 * peer could run it). Peers are charged for their failures (health.h).
 *
 * Overload: a task whose service time (estimate.h) cannot fit before its deadline is
 * answered at once — at admission when the work queued ahead of it already says so, else
 * when it reaches the head of the queue — and never started late.
 *
 * Payload frames are never copied: a SUBMIT's payload stays in the task and each ASSIGN
 * sends a reference to it; a RESULT's payload is handed on by reference too.
 */
#ifndef P2C2R_COORD_TASKS_H
#define P2C2R_COORD_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/envelope.h"
#include "coordinator/cache.h"
#include "coordinator/clients.h"
#include "coordinator/peerlink.h"
#include "coordinator/peers.h"

typedef struct coord_tasks_config {
    uint64_t instance;             /* the coordinator's incarnation */
    uint32_t max_queue;            /* queued tasks beyond which SUBMIT gets P2C2R_E_BUSY */
    uint32_t max_client_tasks;     /* one client's unfinished tasks beyond which it gets BUSY */
    uint32_t max_attempts;         /* runs of one task on peers, at most */
    uint64_t attempt_timeout_us;   /* an attempt unanswered this long is a peer failure; learnt
                                      service times shorten it for tasks known to be quick */
    uint64_t cache_bytes;          /* bound of the result cache (0: no cache) */
    bool cache_shared;             /* one cache for all clients, not one per client */
    struct coord_metrics *metrics; /* where tasks' ends and answers are counted (NULL: not) */
    double recheck_rate;           /* share of results checked on a second peer (recheck.h) */
} coord_tasks_config;

typedef struct coord_tasks coord_tasks;

/* Counters since the start, for the shutdown line and tests. */
typedef struct coord_tasks_stats {
    uint64_t admitted;     /* SUBMITs that became tasks */
    uint64_t duplicates;   /* SUBMITs of a task already held (resent after a reconnect) */
    uint64_t ended_ok;     /* tasks ended with a result */
    uint64_t ended_err;    /* tasks ended with an error */
    uint64_t retries;      /* attempts after the first */
    uint64_t shed;         /* tasks answered at once because they could not finish in time */
    uint64_t rejected;     /* results that failed verification */
    uint64_t undelivered;  /* answers that never reached their client */
    uint64_t cancelled;    /* tasks ended by their client's CANCEL */
    uint64_t cache_hits;   /* tasks answered from the result cache */
    uint64_t cache_hit_us; /* the loop's time on those hits: admission to answer queued */
} coord_tasks_stats;

/* clients, link and peers are used, not owned, and must outlive the table. NULL when out
 * of memory. */
coord_tasks *coord_tasks_new(const coord_tasks_config *config, coord_clients *clients,
                             coord_link *link, coord_peers *peers);
/* Ends every unfinished task with P2C2R_E_IO first. Accepts NULL; sets *tasks to NULL. */
void coord_tasks_destroy(coord_tasks **tasks);

/* Admit one task from client (coord_clients_recv()): a SUBMIT sent alone, or one item of
 * a batch seen as one (p2c2r__envelope_item_view()). Checks it (p2c2r__task_validate()
 * and the coordinator's bounds); refusals are answered to the client here. Takes the
 * payload (may be NULL) when the task is admitted, as it is: the caller makes it own its
 * bytes (p2c2r__payload_own()) where it may be a slice of a receive buffer. A task whose result is
 * in the cache is answered from there at once. together: COORD_LINK_ANY, or a group from
 * coord_tasks_group() that the tasks of one SUBMIT batch share: they go to a peer as one
 * ASSIGN where they go to the same one, whatever their bytes. */
void coord_tasks_admit(coord_tasks *tasks, coord_client *client, const p2c2r_envelope *env,
                       zmq_msg_t *payload, uint64_t together);
/* A new group for the tasks of one SUBMIT batch. */
uint64_t coord_tasks_group(coord_tasks *tasks);

/* client's CANCEL of its task task_id: a queued task leaves the queue, a running one is
 * given up (its peer is told, and its answer will be dropped); either ends with
 * P2C2R_E_CANCELLED. A task already answered, or unknown, is left alone. */
void coord_tasks_cancel(coord_tasks *tasks, coord_client *client, uint64_t task_id);

/* A client that was away is back: deliver the answers that waited for it. */
void coord_tasks_client_back(coord_tasks *tasks, coord_client *client);

/* A RESULT or ERROR from peer: a message alone, or one item of a batch seen as one
 * (p2c2r__envelope_item_view()). A RESULT's payload (NULL when none came) is handed on by
 * reference. */
void coord_tasks_on_answer(coord_tasks *tasks, coord_peer *peer, const p2c2r_envelope *in,
                           zmq_msg_t *payload);

/* A PEER_HELLO or HEARTBEAT from peer: reconcile what it says it runs with what the
 * coordinator thinks it runs. reconnected: it came back on a new connection. */
void coord_tasks_on_load(coord_tasks *tasks, coord_peer *peer, const p2c2r_envelope *env,
                         bool reconnected);

/* The peer is gone: each of its tasks is retried elsewhere if its deadline allows,
 * otherwise ends with P2C2R_E_PEERLOST. Leaves the peer with no tasks. */
void coord_tasks_peer_lost(coord_tasks *tasks, coord_peer *peer, const char *why);

/* Hand queued tasks to peers with room. */
void coord_tasks_dispatch(coord_tasks *tasks);

/* Deal with everything due by now_us: queued tasks past their deadline, attempts past
 * their timeout, answers that waited too long for their client. */
void coord_tasks_expire(coord_tasks *tasks, uint64_t now_us);

/* The next time coord_tasks_expire() has work, or UINT64_MAX. */
uint64_t coord_tasks_next_wakeup(const coord_tasks *tasks);

/* End every unfinished task with status (the coordinator is going away). */
void coord_tasks_drain(coord_tasks *tasks, int status, const char *detail);

void coord_tasks_stats_get(const coord_tasks *tasks, coord_tasks_stats *stats);
/* Tasks queued and running now, and the result cache's counters. */
void coord_tasks_gauges(const coord_tasks *tasks, uint64_t *queued, uint64_t *running,
                        coord_cache_stats *cache);

#endif /* P2C2R_COORD_TASKS_H */
