/* tasks: the task lifecycle, from an admitted SUBMIT to its one answer.
 *
 * A task is admitted, waits in the queue (queue.h), is assigned to a peer chosen by the
 * registry (peers.h), and ends exactly once. Every ending, whatever its cause (a result,
 * a peer's error, a deadline, a lost peer, shutdown), goes through one function in
 * tasks.c, task_end(), which answers the client and frees the task: there is no other
 * place where a task can end, so none can end twice or be forgotten.
 *
 * Payload frames are never copied: a SUBMIT's payload stays in the task as a zmq_msg_t and
 * each ASSIGN sends a reference to it. The task keeps its own reference so it can be
 * requeued if its peer is lost.
 */
#ifndef P2C2R_COORD_TASKS_H
#define P2C2R_COORD_TASKS_H

#include <stdint.h>

#include "common/envelope.h"
#include "coordinator/clients.h"
#include "coordinator/peerlink.h"
#include "coordinator/peers.h"

typedef struct coord_tasks_config {
    uint32_t max_queue; /* queued tasks beyond which SUBMIT gets P2C2R_E_BUSY */
} coord_tasks_config;

typedef struct coord_tasks coord_tasks;

/* clients, link and peers are used, not owned, and must outlive the table. NULL when out
 * of memory. */
coord_tasks *coord_tasks_new(const coord_tasks_config *config, coord_clients *clients,
                             coord_link *link, coord_peers *peers);
/* Ends every unfinished task with P2C2R_E_IO first. Accepts NULL; sets *tasks to NULL. */
void coord_tasks_destroy(coord_tasks **tasks);

/* Admit a validated SUBMIT (from coord_clients_recv()): takes its envelope and payload out
 * of msg. Refusals (queue full, no memory) are answered to the client here. */
void coord_tasks_admit(coord_tasks *tasks, p2c2r_envelope_msg *msg);

/* A RESULT or ERROR from peer for one of the tasks it holds. A RESULT's payload is moved
 * out of msg towards the client. */
void coord_tasks_on_answer(coord_tasks *tasks, coord_peer *peer, p2c2r_envelope_msg *msg);

/* The peer is gone: each of its tasks goes back to the queue if its deadline still allows,
 * otherwise ends with P2C2R_E_PEERLOST. Leaves the peer with no tasks. */
void coord_tasks_peer_lost(coord_tasks *tasks, coord_peer *peer, const char *why);

/* Hand queued tasks to peers with free slots. */
void coord_tasks_dispatch(coord_tasks *tasks);

/* End queued tasks whose deadline passed by now_us. */
void coord_tasks_expire(coord_tasks *tasks, uint64_t now_us);

/* The next time coord_tasks_expire() has work, or UINT64_MAX. */
uint64_t coord_tasks_next_wakeup(const coord_tasks *tasks);

/* End every unfinished task with status (the coordinator is going away). */
void coord_tasks_drain(coord_tasks *tasks, int status, const char *detail);

#endif /* P2C2R_COORD_TASKS_H */
