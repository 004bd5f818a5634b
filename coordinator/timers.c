/* timers: see timers.h. The array grows by doubling and never shrinks, like the queue's. */
#include "coordinator/timers.h"

#include <assert.h>
#include <stdlib.h>

#include "p2c2r_error.h"

#define TIMERS_INITIAL_CAP 64

struct coord_timers {
    coord_timer **items; /* items[0] fires first; children of i are 2i+1, 2i+2 */
    size_t len;          /* armed timers */
    size_t cap;          /* slots allocated */
};

static void place(coord_timers *t, size_t i, coord_timer *timer)
{
    t->items[i] = timer;
    timer->pos = i + 1;
}

static void sift_up(coord_timers *t, size_t i)
{
    coord_timer *timer = t->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (t->items[parent]->when_us <= timer->when_us)
            break;
        place(t, i, t->items[parent]);
        i = parent;
    }
    place(t, i, timer);
}

static void sift_down(coord_timers *t, size_t i)
{
    coord_timer *timer = t->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= t->len)
            break;
        if (child + 1 < t->len && t->items[child + 1]->when_us < t->items[child]->when_us)
            child++;
        if (t->items[child]->when_us >= timer->when_us)
            break;
        place(t, i, t->items[child]);
        i = child;
    }
    place(t, i, timer);
}

coord_timers *coord_timers_new(void)
{
    return calloc(1, sizeof(coord_timers));
}

void coord_timers_destroy(coord_timers **timers)
{
    if (!timers || !*timers)
        return;
    free((*timers)->items);
    free(*timers);
    *timers = NULL;
}

bool coord_timers_armed(const coord_timer *timer)
{
    return timer->pos != 0;
}

void coord_timers_cancel(coord_timers *t, coord_timer *timer)
{
    if (!timer->pos)
        return;
    size_t i = timer->pos - 1;
    assert(i < t->len && t->items[i] == timer);
    timer->pos = 0;
    size_t last = --t->len;
    if (i == last)
        return;
    /* The last timer fills the hole; it may belong above or below it. */
    place(t, i, t->items[last]);
    if (i > 0 && t->items[i]->when_us < t->items[(i - 1) / 2]->when_us)
        sift_up(t, i);
    else
        sift_down(t, i);
}

int coord_timers_arm(coord_timers *t, coord_timer *timer, uint64_t when_us)
{
    coord_timers_cancel(t, timer);
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : TIMERS_INITIAL_CAP;
        coord_timer **items = realloc(t->items, cap * sizeof *items);
        if (!items)
            return P2C2R_E_NOMEM;
        t->items = items;
        t->cap = cap;
    }
    timer->when_us = when_us;
    place(t, t->len++, timer);
    sift_up(t, t->len - 1);
    return P2C2R_OK;
}

coord_timer *coord_timers_pop_due(coord_timers *t, uint64_t now_us)
{
    if (!t->len || t->items[0]->when_us > now_us)
        return NULL;
    coord_timer *timer = t->items[0];
    coord_timers_cancel(t, timer);
    return timer;
}

uint64_t coord_timers_next(const coord_timers *t)
{
    return t->len ? t->items[0]->when_us : UINT64_MAX;
}

size_t coord_timers_size(const coord_timers *t)
{
    return t->len;
}
