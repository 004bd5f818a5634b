/* queue: the coordinator's task queue.
 *
 * A binary heap ordered by priority (larger first), then deadline (earlier first), then
 * arrival sequence (earlier first), so dispatch order is total and deterministic. A second
 * heap orders the same items by deadline alone, so that tasks that expire while waiting
 * are found in O(log n) without scanning, and answered at their deadline rather than
 * whenever they would have reached the head.
 *
 * Items are intrusive: the task embeds a coord_qitem (zero-initialised before its first
 * push), and the queue records each item's position in both heaps so any item can be
 * removed in O(log n); a removed item's positions are SIZE_MAX. The queue never owns or
 * frees items. Not thread-safe: it belongs to the coordinator's loop.
 */
#ifndef P2C2R_COORD_QUEUE_H
#define P2C2R_COORD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct coord_qitem {
    uint32_t priority;    /* larger runs first */
    uint64_t deadline_us; /* absolute, on the coordinator's monotonic clock */
    uint64_t seq;         /* arrival order, unique per queue user */
    size_t pos_order;     /* index in the dispatch-order heap; maintained by the queue */
    size_t pos_deadline;  /* index in the deadline heap; maintained by the queue */
} coord_qitem;

typedef struct coord_queue coord_queue;

/* NULL when out of memory. */
coord_queue *coord_queue_new(void);
/* Frees the queue, not the items. Accepts NULL; sets *queue to NULL. */
void coord_queue_destroy(coord_queue **queue);

/* Insert an item (not already queued). P2C2R_E_NOMEM if the heaps cannot grow; the queue
 * is unchanged then. */
int coord_queue_push(coord_queue *queue, coord_qitem *item);
/* The item that dispatches next, or NULL when empty. */
coord_qitem *coord_queue_peek(const coord_queue *queue);
/* Remove and return the item that dispatches next, or NULL when empty. */
coord_qitem *coord_queue_pop(coord_queue *queue);
/* Remove and return an item whose deadline_us <= now_us (the earliest), or NULL. */
coord_qitem *coord_queue_pop_expired(coord_queue *queue, uint64_t now_us);
/* Remove a queued item. */
void coord_queue_remove(coord_queue *queue, coord_qitem *item);
size_t coord_queue_size(const coord_queue *queue);
/* Earliest deadline in the queue, or UINT64_MAX when empty. */
uint64_t coord_queue_next_deadline(const coord_queue *queue);

#endif /* P2C2R_COORD_QUEUE_H */
