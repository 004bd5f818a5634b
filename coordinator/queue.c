/* queue: the coordinator's task queue (see queue.h for the orderings).
 *
 * Two binary heaps of pointers to the same intrusive items: one in dispatch order, one in
 * deadline order. Both heaps always hold the same set, so they share one length. Each item
 * stores its index in both heaps, which makes removing any item O(log n): the queue finds it
 * without a search and repairs the hole in each heap.
 *
 * The heaps differ only in their ordering and in which position field they maintain, so a
 * heap is described by data (a "before" function and the offset of its position field) and
 * there is one sift_up/sift_down, not one copy per heap.
 *
 * The arrays grow by doubling and never shrink: the coordinator's queue length is bounded by
 * its admission limit, and keeping the memory avoids realloc churn around that bound.
 */
#include "coordinator/queue.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "p2c2r_error.h"

/* First allocation, in slots. Enough for a lightly loaded coordinator to never regrow. */
#define QUEUE_INITIAL_CAP 64

/* Strict ordering of a heap: true when a must be nearer the top than b. */
typedef bool (*heap_before_fn)(const coord_qitem *a, const coord_qitem *b);

struct heap {
    coord_qitem **items;   /* items[0] is the top; items[i]'s children are 2i+1 and 2i+2 */
    size_t cap;            /* slots allocated in items */
    heap_before_fn before; /* the ordering this heap keeps */
    size_t pos_off;        /* offsetof the coord_qitem field holding the index in this heap */
};

struct coord_queue {
    struct heap order;    /* dispatch order: priority, then deadline, then seq */
    struct heap deadline; /* deadline order: deadline, then seq */
    size_t len;           /* items queued, the same in both heaps */
};

static bool order_before(const coord_qitem *a, const coord_qitem *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    if (a->deadline_us != b->deadline_us)
        return a->deadline_us < b->deadline_us;
    return a->seq < b->seq;
}

static bool deadline_before(const coord_qitem *a, const coord_qitem *b)
{
    if (a->deadline_us != b->deadline_us)
        return a->deadline_us < b->deadline_us;
    return a->seq < b->seq;
}

static size_t *heap_pos(const struct heap *h, coord_qitem *item)
{
    return (size_t *)((char *)item + h->pos_off);
}

static void heap_set(struct heap *h, size_t i, coord_qitem *item)
{
    h->items[i] = item;
    *heap_pos(h, item) = i;
}

#ifndef NDEBUG
/* True when item sits in this heap of len items. Exact whatever the position field holds,
 * as long as it holds some value: only a queued item can be found at its own index. Only
 * asserts use it, hence the NDEBUG guard (an unused static function is an error). */
static bool heap_holds(const struct heap *h, size_t len, coord_qitem *item)
{
    size_t i = *heap_pos(h, item);
    return i < len && h->items[i] == item;
}
#endif

/* Move the item at i towards the top until its parent comes before it. The item is held
 * aside and written once at its final slot, rather than swapped at every level. */
static void sift_up(struct heap *h, size_t i)
{
    coord_qitem *item = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!h->before(item, h->items[parent]))
            break;
        heap_set(h, i, h->items[parent]);
        i = parent;
    }
    heap_set(h, i, item);
}

/* Move the item at i away from the top until no child comes before it. */
static void sift_down(struct heap *h, size_t len, size_t i)
{
    coord_qitem *item = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= len)
            break;
        if (child + 1 < len && h->before(h->items[child + 1], h->items[child]))
            child++;
        if (!h->before(h->items[child], item))
            break;
        heap_set(h, i, h->items[child]);
        i = child;
    }
    heap_set(h, i, item);
}

/* Take out the item at i from a heap of len items (len counts it). The last item fills the
 * hole; it may belong above or below that slot, since the hole need not be on its path. */
static void heap_delete(struct heap *h, size_t len, size_t i)
{
    coord_qitem *removed = h->items[i];
    size_t last = len - 1;
    if (i != last) {
        heap_set(h, i, h->items[last]);
        if (i > 0 && h->before(h->items[i], h->items[(i - 1) / 2]))
            sift_up(h, i);
        else
            sift_down(h, last, i);
    }
    /* Not a valid index, so a stale item cannot look queued to heap_holds(). */
    *heap_pos(h, removed) = SIZE_MAX;
}

/* Grow one heap's array to cap slots. On failure the heap is untouched. */
static int heap_reserve(struct heap *h, size_t cap)
{
    if (cap <= h->cap)
        return P2C2R_OK;
    coord_qitem **items = realloc(h->items, cap * sizeof *items);
    if (!items)
        return P2C2R_E_NOMEM;
    h->items = items;
    h->cap = cap;
    return P2C2R_OK;
}

coord_queue *coord_queue_new(void)
{
    coord_queue *queue = calloc(1, sizeof *queue);
    if (!queue)
        return NULL;
    /* Arrays are allocated by the first push, so creating a queue fails only here. */
    queue->order.before = order_before;
    queue->order.pos_off = offsetof(coord_qitem, pos_order);
    queue->deadline.before = deadline_before;
    queue->deadline.pos_off = offsetof(coord_qitem, pos_deadline);
    return queue;
}

void coord_queue_destroy(coord_queue **queue)
{
    if (!queue || !*queue)
        return;
    free((*queue)->order.items);
    free((*queue)->deadline.items);
    free(*queue);
    *queue = NULL;
}

int coord_queue_push(coord_queue *queue, coord_qitem *item)
{
    assert(queue && item);
    assert(!heap_holds(&queue->order, queue->len, item));
    if (queue->len == queue->order.cap || queue->len == queue->deadline.cap) {
        if (queue->len > SIZE_MAX / 2 / sizeof(coord_qitem *))
            return P2C2R_E_NOMEM;
        size_t cap = queue->len ? queue->len * 2 : QUEUE_INITIAL_CAP;
        /* If the second reserve fails the first array is merely bigger than needed; the
         * queue's contents are unchanged, and the next push retries only the second. */
        int rc = heap_reserve(&queue->order, cap);
        if (rc == P2C2R_OK)
            rc = heap_reserve(&queue->deadline, cap);
        if (rc != P2C2R_OK)
            return rc;
    }
    size_t i = queue->len++;
    queue->order.items[i] = item;
    sift_up(&queue->order, i);
    queue->deadline.items[i] = item;
    sift_up(&queue->deadline, i);
    return P2C2R_OK;
}

coord_qitem *coord_queue_peek(const coord_queue *queue)
{
    assert(queue);
    return queue->len ? queue->order.items[0] : NULL;
}

coord_qitem *coord_queue_pop(coord_queue *queue)
{
    coord_qitem *item = coord_queue_peek(queue);
    if (item)
        coord_queue_remove(queue, item);
    return item;
}

coord_qitem *coord_queue_pop_expired(coord_queue *queue, uint64_t now_us)
{
    assert(queue);
    if (!queue->len || queue->deadline.items[0]->deadline_us > now_us)
        return NULL;
    coord_qitem *item = queue->deadline.items[0];
    coord_queue_remove(queue, item);
    return item;
}

void coord_queue_remove(coord_queue *queue, coord_qitem *item)
{
    assert(queue && item);
    assert(heap_holds(&queue->order, queue->len, item));
    assert(heap_holds(&queue->deadline, queue->len, item));
    heap_delete(&queue->order, queue->len, item->pos_order);
    heap_delete(&queue->deadline, queue->len, item->pos_deadline);
    queue->len--;
}

size_t coord_queue_size(const coord_queue *queue)
{
    assert(queue);
    return queue->len;
}

uint64_t coord_queue_next_deadline(const coord_queue *queue)
{
    assert(queue);
    return queue->len ? queue->deadline.items[0]->deadline_us : UINT64_MAX;
}
