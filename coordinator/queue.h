/* queue: the coordinator's task queues: one per class of task, fair between clients.
 *
 * A class is a set of tasks the same peers can run (kind, mode, runtime need): the caller
 * numbers them. Each class is served on its own, so a task that no free peer can run
 * never holds up a task of another class that a peer could run now (no head-of-line
 * blocking); the caller compares the classes' next tasks (coord_queue_next()).
 *
 * Within a class, a higher priority always goes first. Within a priority, the clients
 * (owners) whose tasks wait take turns, round robin by work: each turn an owner sends
 * tasks until it has sent COORD_QUEUE_QUANTUM_US of estimated work (a task's cost), at
 * least one. A client flooding the coordinator gets its turns and no more, and one with
 * small tasks gets about as much time as one with big ones (each at least a task a turn).
 * Each owner's own tasks go earliest deadline first, then in arrival order.
 *
 * A second heap orders every task by deadline alone, so that tasks that expire while
 * waiting are found in O(log n) and answered at their deadline.
 *
 * Items are intrusive: the task embeds a coord_qitem (zero-initialised before its first
 * push), and the queue records each item's places so any item is removed in O(log n). The
 * queue never owns or frees items. Not thread-safe: it belongs to the coordinator's loop.
 */
#ifndef P2C2R_COORD_QUEUE_H
#define P2C2R_COORD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Classes a queue serves, numbered 0..COORD_QUEUE_CLASSES-1 by the caller. */
#define COORD_QUEUE_CLASSES         64
/* Estimated work an owner may send per turn, and the cost of a task with no estimate: a
 * whole turn, so that before anything is known owners alternate task by task. */
#define COORD_QUEUE_QUANTUM_US      10000u
#define COORD_QUEUE_DEFAULT_COST_US COORD_QUEUE_QUANTUM_US

struct queue_owner;

typedef struct coord_qitem {
    uint32_t priority;      /* larger runs first */
    uint64_t deadline_us;   /* absolute, on the coordinator's monotonic clock */
    uint64_t seq;           /* arrival order, unique per queue user */
    uint32_t cls;           /* class: which peers can run it */
    const void *owner;      /* whose task (fairness), compared by address */
    uint64_t cost_us;       /* estimated service time (0: unknown) */
    size_t pos_deadline;    /* index in the deadline heap; maintained by the queue */
    size_t pos_owner;       /* index in its owner's heap; maintained by the queue */
    struct queue_owner *qo; /* its owner's queue; maintained by the queue */
} coord_qitem;

typedef struct coord_queue coord_queue;

/* NULL when out of memory. */
coord_queue *coord_queue_new(void);
/* Frees the queue, not the items. Accepts NULL; sets *queue to NULL. */
void coord_queue_destroy(coord_queue **queue);

/* Insert an item (not already queued; cls < COORD_QUEUE_CLASSES). P2C2R_E_NOMEM leaves
 * the queue unchanged. */
int coord_queue_push(coord_queue *queue, coord_qitem *item);
/* Remove a queued item. */
void coord_queue_remove(coord_queue *queue, coord_qitem *item);

/* The classes that have queued items, as a bitmask (1 << cls). */
uint64_t coord_queue_classes(const coord_queue *queue);
/* The item class cls serves next (its highest priority's owner whose turn it is, that
 * owner's earliest deadline), or NULL when the class is empty. */
coord_qitem *coord_queue_next(coord_queue *queue, uint32_t cls);
/* Remove an item coord_queue_next() returned because it is being served: its owner is
 * charged cost_us (what the task is expected to take now, which may have been learnt
 * since it was queued; 0: unknown), and the turn passes when the owner's quantum is
 * spent. */
void coord_queue_take(coord_queue *queue, coord_qitem *item, uint64_t cost_us);

/* Remove and return an item whose deadline_us <= now_us (the earliest), or NULL. */
coord_qitem *coord_queue_pop_expired(coord_queue *queue, uint64_t now_us);
/* Earliest deadline in the queue, or UINT64_MAX when empty. */
uint64_t coord_queue_next_deadline(const coord_queue *queue);
size_t coord_queue_size(const coord_queue *queue);

/* Estimated work (us) served before a new task of this owner, priority and class: all of
 * the class's higher priorities, and at its own priority the owner's queued work and what
 * the other owners may send in the turns that takes (a quantum each per turn, at most all
 * they have). */
uint64_t coord_queue_work_ahead(const coord_queue *queue, uint32_t cls, uint32_t priority,
                                const void *owner);

#endif /* P2C2R_COORD_QUEUE_H */
