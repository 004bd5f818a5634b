/* queue: see queue.h.
 *
 * Layout: class -> priority levels (a short array, highest first) -> a ring of owner
 * queues taking turns (deficit round robin) -> each owner's items in a binary heap by
 * (deadline, seq). Owner queues are found by (class, priority, owner) in a hash table and
 * exist only while they hold items. Beside all that, one binary heap of every item by
 * (deadline, seq) finds what expires.
 *
 * Both heaps order the same way and differ only in which position field they maintain,
 * so a heap is described by data (its array and the offset of its position field) and
 * there is one sift_up/sift_down. Arrays grow by doubling; the big deadline heap never
 * shrinks (the queue's length is bounded by admission), owners' small heaps go with them.
 */
#include "coordinator/queue.h"

#include <assert.h>
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "p2c2r_error.h"

#define HEAP_INITIAL_CAP 16

/* A binary heap of items by (deadline, seq). */
typedef struct heap {
    coord_qitem **items; /* items[0] is the top; children of i are 2i+1 and 2i+2 */
    size_t len;          /* items held */
    size_t cap;          /* slots allocated */
} heap;

typedef struct queue_level queue_level;

/* The key of an owner queue. */
typedef struct owner_key {
    uint32_t cls;      /* class */
    uint32_t priority; /* priority level */
    const void *owner; /* whose tasks */
} owner_key;

typedef struct queue_owner {
    owner_key key;                   /* what it holds */
    heap items;                      /* its items by (deadline, seq) */
    int64_t deficit_us;              /* work it may still send this turn */
    uint64_t work_us;                /* costs of its items, summed */
    struct queue_owner *prev, *next; /* in its level's ring */
    queue_level *level;              /* where it takes turns */
} queue_owner;

struct queue_level {
    uint32_t priority; /* of every item here */
    queue_owner *turn; /* the ring, at the owner whose turn it is */
    uint32_t owners;   /* owners in the ring */
    uint64_t work_us;  /* costs of every item here, summed */
};

typedef struct queue_class {
    queue_level **levels; /* by priority, highest first */
    size_t nlevels;       /* entries in levels */
    size_t cap;           /* room in levels */
} queue_class;

struct coord_queue {
    queue_class classes[COORD_QUEUE_CLASSES]; /* by class number */
    uint64_t active;                          /* classes with items, as bits */
    heap deadline;                            /* every item, by (deadline, seq) */
    zhashx_t *owners;                         /* owner_key -> queue_owner */
};

/* ---- heaps -------------------------------------------------------------------------- */

static bool before(const coord_qitem *a, const coord_qitem *b)
{
    if (a->deadline_us != b->deadline_us)
        return a->deadline_us < b->deadline_us;
    return a->seq < b->seq;
}

static void heap_set(heap *h, size_t off, size_t i, coord_qitem *item)
{
    h->items[i] = item;
    *(size_t *)((char *)item + off) = i;
}

static void sift_up(heap *h, size_t off, size_t i)
{
    coord_qitem *item = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(item, h->items[parent]))
            break;
        heap_set(h, off, i, h->items[parent]);
        i = parent;
    }
    heap_set(h, off, i, item);
}

static void sift_down(heap *h, size_t off, size_t i)
{
    coord_qitem *item = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && before(h->items[child + 1], h->items[child]))
            child++;
        if (!before(h->items[child], item))
            break;
        heap_set(h, off, i, h->items[child]);
        i = child;
    }
    heap_set(h, off, i, item);
}

static int heap_push(heap *h, size_t off, coord_qitem *item)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : HEAP_INITIAL_CAP;
        coord_qitem **items = realloc(h->items, cap * sizeof *items);
        if (!items)
            return P2C2R_E_NOMEM;
        h->items = items;
        h->cap = cap;
    }
    h->items[h->len++] = item;
    sift_up(h, off, h->len - 1);
    return P2C2R_OK;
}

/* Take out the item at i. The last item fills the hole; it may belong above or below. */
static void heap_delete(heap *h, size_t off, size_t i)
{
    coord_qitem *removed = h->items[i];
    size_t last = --h->len;
    if (i != last) {
        heap_set(h, off, i, h->items[last]);
        if (i > 0 && before(h->items[i], h->items[(i - 1) / 2]))
            sift_up(h, off, i);
        else
            sift_down(h, off, i);
    }
    *(size_t *)((char *)removed + off) = SIZE_MAX;
}

#define OFF_DEADLINE offsetof(coord_qitem, pos_deadline)
#define OFF_OWNER    offsetof(coord_qitem, pos_owner)

/* ---- owners and levels -------------------------------------------------------------- */

static size_t key_hash(const void *k)
{
    const owner_key *key = k;
    uint64_t x = (uint64_t)(uintptr_t)key->owner ^ ((uint64_t)key->cls << 40) ^
                 ((uint64_t)key->priority * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33; /* murmur3's finaliser */
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static int key_compare(const void *a, const void *b)
{
    const owner_key *x = a, *y = b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->owner < y->owner ? -1 : x->owner > y->owner;
}

static uint64_t cost_of(const coord_qitem *item)
{
    return item->cost_us ? item->cost_us : COORD_QUEUE_DEFAULT_COST_US;
}

/* The level of cls at priority, made when create is true (NULL when out of memory). */
static queue_level *level_of(queue_class *c, uint32_t priority, bool create)
{
    size_t i = 0;
    while (i < c->nlevels && c->levels[i]->priority > priority)
        i++;
    if (i < c->nlevels && c->levels[i]->priority == priority)
        return c->levels[i];
    if (!create)
        return NULL;
    if (c->nlevels == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        queue_level **grown = realloc(c->levels, cap * sizeof *grown);
        if (!grown)
            return NULL;
        c->levels = grown;
        c->cap = cap;
    }
    queue_level *level = calloc(1, sizeof *level);
    if (!level)
        return NULL;
    level->priority = priority;
    memmove(&c->levels[i + 1], &c->levels[i], (c->nlevels - i) * sizeof *c->levels);
    c->levels[i] = level;
    c->nlevels++;
    return level;
}

static void level_drop(coord_queue *q, uint32_t cls, queue_level *level)
{
    queue_class *c = &q->classes[cls];
    size_t i = 0;
    while (c->levels[i] != level)
        i++;
    memmove(&c->levels[i], &c->levels[i + 1], (c->nlevels - i - 1) * sizeof *c->levels);
    c->nlevels--;
    free(level);
    if (!c->nlevels)
        q->active &= ~(1ull << cls);
}

/* An owner joins the ring at its end (just before the owner whose turn it is). */
static void ring_join(queue_level *level, queue_owner *qo)
{
    if (!level->turn) {
        qo->prev = qo->next = qo;
        level->turn = qo;
    } else {
        qo->next = level->turn;
        qo->prev = level->turn->prev;
        qo->prev->next = qo;
        level->turn->prev = qo;
    }
    qo->level = level;
    qo->deficit_us = COORD_QUEUE_QUANTUM_US;
    level->owners++;
}

static void ring_leave(queue_level *level, queue_owner *qo)
{
    if (qo->next == qo) {
        level->turn = NULL;
    } else {
        qo->prev->next = qo->next;
        qo->next->prev = qo->prev;
        if (level->turn == qo)
            level->turn = qo->next;
    }
    level->owners--;
}

static void owner_drop(coord_queue *q, queue_owner *qo)
{
    queue_level *level = qo->level;
    uint32_t cls = qo->key.cls;
    ring_leave(level, qo);
    zhashx_delete(q->owners, &qo->key);
    free(qo->items.items);
    free(qo);
    if (!level->owners)
        level_drop(q, cls, level);
}

/* ---- the queue ---------------------------------------------------------------------- */

coord_queue *coord_queue_new(void)
{
    coord_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->owners = zhashx_new();
    if (!q->owners) {
        free(q);
        return NULL;
    }
    zhashx_set_key_hasher(q->owners, key_hash);
    zhashx_set_key_comparator(q->owners, key_compare);
    zhashx_set_key_duplicator(q->owners, NULL);
    zhashx_set_key_destructor(q->owners, NULL);
    return q;
}

void coord_queue_destroy(coord_queue **queue)
{
    if (!queue || !*queue)
        return;
    coord_queue *q = *queue;
    for (queue_owner *qo = zhashx_first(q->owners); qo; qo = zhashx_next(q->owners)) {
        free(qo->items.items);
        free(qo);
    }
    zhashx_destroy(&q->owners);
    for (int c = 0; c < COORD_QUEUE_CLASSES; c++) {
        for (size_t i = 0; i < q->classes[c].nlevels; i++)
            free(q->classes[c].levels[i]);
        free(q->classes[c].levels);
    }
    free(q->deadline.items);
    free(q);
    *queue = NULL;
}

int coord_queue_push(coord_queue *q, coord_qitem *item)
{
    assert(item->cls < COORD_QUEUE_CLASSES);
    /* Room in the deadline heap first: after it nothing can fail but owner creation. */
    if (q->deadline.len == q->deadline.cap) {
        size_t cap = q->deadline.cap ? q->deadline.cap * 2 : HEAP_INITIAL_CAP;
        coord_qitem **items = realloc(q->deadline.items, cap * sizeof *items);
        if (!items)
            return P2C2R_E_NOMEM;
        q->deadline.items = items;
        q->deadline.cap = cap;
    }
    queue_class *c = &q->classes[item->cls];
    owner_key key = {item->cls, item->priority, item->owner};
    queue_owner *qo = zhashx_lookup(q->owners, &key);
    bool made = false;
    if (!qo) {
        queue_level *level = level_of(c, item->priority, true);
        qo = level ? calloc(1, sizeof *qo) : NULL;
        if (qo) {
            qo->key = key;
            if (zhashx_insert(q->owners, &qo->key, qo) != 0) {
                free(qo);
                qo = NULL;
            }
        }
        if (!qo) {
            if (level && !level->owners)
                level_drop(q, item->cls, level);
            return P2C2R_E_NOMEM;
        }
        ring_join(level, qo);
        made = true;
    }
    if (heap_push(&qo->items, OFF_OWNER, item) != P2C2R_OK) {
        if (made)
            owner_drop(q, qo);
        return P2C2R_E_NOMEM;
    }
    heap_push(&q->deadline, OFF_DEADLINE, item); /* room reserved above */
    item->qo = qo;
    qo->work_us += cost_of(item);
    qo->level->work_us += cost_of(item);
    q->active |= 1ull << item->cls;
    return P2C2R_OK;
}

void coord_queue_remove(coord_queue *q, coord_qitem *item)
{
    queue_owner *qo = item->qo;
    assert(qo && item->pos_owner < qo->items.len && qo->items.items[item->pos_owner] == item);
    heap_delete(&qo->items, OFF_OWNER, item->pos_owner);
    heap_delete(&q->deadline, OFF_DEADLINE, item->pos_deadline);
    qo->work_us -= cost_of(item);
    qo->level->work_us -= cost_of(item);
    item->qo = NULL;
    if (!qo->items.len)
        owner_drop(q, qo);
}

uint64_t coord_queue_classes(const coord_queue *q)
{
    return q->active;
}

coord_qitem *coord_queue_next(coord_queue *q, uint32_t cls)
{
    queue_class *c = &q->classes[cls];
    if (!c->nlevels)
        return NULL;
    return c->levels[0]->turn->items.items[0];
}

void coord_queue_take(coord_queue *q, coord_qitem *item, uint64_t cost_us)
{
    queue_owner *qo = item->qo;
    queue_level *level = qo->level;
    bool last = qo->items.len == 1;
    qo->deficit_us -= (int64_t)(cost_us ? cost_us : COORD_QUEUE_DEFAULT_COST_US);
    coord_queue_remove(q, item);
    if (last)
        return; /* the owner left the ring with its last item */
    /* Its quantum is spent: the next owner's turn, and a fresh quantum for its next one
     * (a turn always lets one task through, so a big task does not leave a debt). */
    if (qo->deficit_us <= 0 && level->turn == qo) {
        qo->deficit_us = COORD_QUEUE_QUANTUM_US;
        level->turn = qo->next;
    }
}

coord_qitem *coord_queue_pop_expired(coord_queue *q, uint64_t now_us)
{
    if (!q->deadline.len || q->deadline.items[0]->deadline_us > now_us)
        return NULL;
    coord_qitem *item = q->deadline.items[0];
    coord_queue_remove(q, item);
    return item;
}

uint64_t coord_queue_next_deadline(const coord_queue *q)
{
    return q->deadline.len ? q->deadline.items[0]->deadline_us : UINT64_MAX;
}

size_t coord_queue_size(const coord_queue *q)
{
    return q->deadline.len;
}

uint64_t coord_queue_work_ahead(const coord_queue *q, uint32_t cls, uint32_t priority,
                                const void *owner)
{
    const queue_class *c = &q->classes[cls];
    uint64_t ahead = 0;
    size_t i = 0;
    for (; i < c->nlevels && c->levels[i]->priority > priority; i++)
        ahead += c->levels[i]->work_us;
    if (i == c->nlevels || c->levels[i]->priority != priority)
        return ahead;
    const queue_level *level = c->levels[i];
    owner_key key = {cls, priority, owner};
    const queue_owner *qo = zhashx_lookup(q->owners, &key);
    uint64_t own = qo ? qo->work_us : 0;
    uint32_t others = level->owners - (qo ? 1 : 0);
    /* The newcomer joins the end of its owner's queue: its owner needs enough turns for
     * its own work and the newcomer's, and before each of them every other owner may send
     * a quantum, but none more than it has. Bounded by both, without visiting every owner:
     * an upper bound, so a flooding owner's backlog never counts against another's task
     * for more than its turns. */
    uint64_t turns = (own + COORD_QUEUE_DEFAULT_COST_US) / COORD_QUEUE_QUANTUM_US + 1;
    uint64_t theirs = level->work_us - own;
    uint64_t interleaved = turns * COORD_QUEUE_QUANTUM_US * others;
    return ahead + own + (theirs < interleaved ? theirs : interleaved);
}
