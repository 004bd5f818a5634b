/* adapt: see adapt.h. */
#include "client/adapt.h"

#include <stdatomic.h>
#include <stdlib.h>

#define RECENT         8u   /* frames the step-down test looks at */
#define RECENT_MIN     4u   /* frames it needs at the current level */
#define DOWN_PERCENT   80u  /* the second slowest at or above this share of the budget */
#define ROOM_PERCENT   50u  /* every frame of an up run within this share */
#define UP_RUN         30u  /* frames in an up run, before any doubling */
#define UP_SHIFT_MAX   5u   /* at most 30 << 5 = 960 frames */
#define FORGIVE_FRAMES 600u /* frames held at a level that undo one doubling */
#define LEVELS         4u

struct sdk_adapt {
    uint64_t budget_us;            /* the game's frame budget */
    _Atomic int level;             /* current mode, P2C2R_MODE_FAST..QUALITY */
    uint32_t recent[RECENT];       /* latencies at this level, a ring of the last ones */
    uint32_t held;                 /* frames observed at this level */
    uint32_t room_run;             /* frames in a row at this level within the room */
    uint32_t shift[LEVELS + 1];    /* up-run doubling per mode (index = mode) */
    atomic_uint_fast64_t down, up; /* steps taken */
};

sdk_adapt *sdk_adapt_new(uint32_t budget_ms)
{
    sdk_adapt *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->budget_us = (uint64_t)budget_ms * 1000u;
    atomic_init(&a->level, P2C2R_MODE_QUALITY);
    atomic_init(&a->down, 0);
    atomic_init(&a->up, 0);
    return a;
}

void sdk_adapt_destroy(sdk_adapt **adapt)
{
    if (!adapt)
        return;
    free(*adapt);
    *adapt = NULL;
}

p2c2r_mode sdk_adapt_mode(const sdk_adapt *a, p2c2r_mode wanted)
{
    int level = atomic_load_explicit(&((sdk_adapt *)a)->level, memory_order_relaxed);
    return (int)wanted < level ? wanted : (p2c2r_mode)level;
}

static void set_level(sdk_adapt *a, int level)
{
    atomic_store_explicit(&a->level, level, memory_order_relaxed);
    a->held = 0;
    a->room_run = 0;
}

/* The second slowest of the recent frames (the slowest when there is one). */
static uint32_t second_slowest(const sdk_adapt *a)
{
    uint32_t first = 0, second = 0;
    uint32_t n = a->held < RECENT ? a->held : RECENT;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = a->recent[i];
        if (v > first) {
            second = first;
            first = v;
        } else if (v > second) {
            second = v;
        }
    }
    return n > 1 ? second : first;
}

void sdk_adapt_observe(sdk_adapt *a, p2c2r_mode used, uint64_t total_us)
{
    int level = atomic_load_explicit(&a->level, memory_order_relaxed);
    /* Frames submitted before the last step (or asked below the level) say nothing about
     * this level. */
    if ((int)used != level)
        return;
    a->recent[a->held++ % RECENT] = total_us > UINT32_MAX ? UINT32_MAX : (uint32_t)total_us;
    if (a->held % FORGIVE_FRAMES == 0 && a->shift[level])
        a->shift[level]--;
    if (level > P2C2R_MODE_FAST && a->held >= RECENT_MIN &&
        second_slowest(a) * 100ull >= a->budget_us * DOWN_PERCENT) {
        if (a->shift[level] < UP_SHIFT_MAX)
            a->shift[level]++;
        set_level(a, level - 1);
        atomic_fetch_add(&a->down, 1);
        return;
    }
    a->room_run = total_us * 100u <= a->budget_us * ROOM_PERCENT ? a->room_run + 1 : 0;
    if (level < P2C2R_MODE_QUALITY && a->room_run >= UP_RUN << a->shift[level + 1]) {
        set_level(a, level + 1);
        atomic_fetch_add(&a->up, 1);
    }
}

void sdk_adapt_counts(const sdk_adapt *a, p2c2r_mode *level, uint64_t *down, uint64_t *up)
{
    sdk_adapt *m = (sdk_adapt *)a;
    *level = (p2c2r_mode)atomic_load(&m->level);
    *down = atomic_load(&m->down);
    *up = atomic_load(&m->up);
}
