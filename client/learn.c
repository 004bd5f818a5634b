/* learn: see learn.h.
 *
 * Percentiles are nearest-rank over a sorted copy of a class's window, recomputed only when
 * the window changed since they were last asked for: at 60 frames/s a sort of 128 numbers
 * per frame costs microseconds, and most frames ask nothing new.
 */
#include "client/learn.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/task.h"

/* The deadline of a kind before anything was learnt of it: the design's "100 ms at worst"
 * for a frame, the same for noop and sleep tasks, which learn their own from there. */
static const uint32_t seed_ms[P2C2R_KIND_COUNT] = {
    [P2C2R_KIND_UPSCALE] = 100,
    [P2C2R_KIND_NOOP] = 100,
    [P2C2R_KIND_SLEEP] = 100,
};
#define LEARNT_MAX_US                    (60ull * 1000000u)
#define BACKOFF_MAX_SHIFT                6
/* The local run before any was measured: per output pixel, generous enough for a debug or
 * sanitized build on a slow core (a release build does 540p -> 1080p JPEG to JPEG in about
 * 2.2 ns per output pixel, the quality mode in 95 ns; tests/bench). */
#define LOCAL_PRIOR_NS_PER_PIXEL         15u
#define LOCAL_PRIOR_QUALITY_NS_PER_PIXEL 250u
#define LOCAL_PRIOR_FIXED_US             2000u

/* A window of the last SDK_LEARN_WINDOW samples and the percentiles drawn from it. The
 * samples are kept in arrival order (to know which one leaves) and in order of size (for
 * the percentiles): a sample comes with every answer, and sorting the window for each
 * one cost more than the rest of the SDK's work on a small task. */
typedef struct window {
    uint32_t us[SDK_LEARN_WINDOW];     /* samples, a ring */
    uint32_t sorted[SDK_LEARN_WINDOW]; /* the same samples, smallest first */
    uint32_t count;                    /* samples held (at most the window) */
    uint32_t next;                     /* ring position of the next sample */
    bool dirty;                        /* changed since the percentiles were computed */
    uint32_t p50, p90, p99, max;       /* percentiles of the samples held */
} window;

typedef struct class_entry {
    sdk_class_key key;  /* which class */
    bool used;          /* holds a class */
    uint64_t last_used; /* tick of the last use, for eviction */
    window cluster;     /* submit-to-answer latencies */
    window local;       /* local run times */
    uint32_t backoff;   /* deadline multiplier shift, 0..BACKOFF_MAX_SHIFT */
} class_entry;

struct sdk_learn {
    pthread_mutex_t lock;                   /* guards everything below */
    class_entry classes[SDK_LEARN_CLASSES]; /* the table */
    uint64_t tick;                          /* use counter */
    uint32_t last;                          /* the entry found last: most lookups are for
                                               the class of the task before */
};

sdk_learn *sdk_learn_new(void)
{
    sdk_learn *l = calloc(1, sizeof *l);
    if (l)
        pthread_mutex_init(&l->lock, NULL);
    return l;
}

void sdk_learn_destroy(sdk_learn **learn)
{
    if (!learn || !*learn)
        return;
    pthread_mutex_destroy(&(*learn)->lock);
    free(*learn);
    *learn = NULL;
}

void sdk_class_upscale(const p2c2r_upscale_desc *d, sdk_class_key *key)
{
    memset(key, 0, sizeof *key);
    key->kind = P2C2R_KIND_UPSCALE;
    key->mode = (uint8_t)d->mode;
    key->codec = (uint8_t)d->codec;
    key->output_codec = (uint8_t)d->output_codec;
    key->scale = d->scale;
    key->width = d->width;
    key->height = d->height;
}

void sdk_class_other(int kind, uint32_t sleep_ms, size_t payload_bytes, sdk_class_key *key)
{
    memset(key, 0, sizeof *key);
    key->kind = (uint8_t)kind;
    key->sleep_ms = sleep_ms;
    uint64_t p = 1;
    while (p < payload_bytes)
        p <<= 1;
    key->payload_bytes = p;
}

/* The first position in sorted[0, n) whose value is not below v. */
static uint32_t lower_bound(const uint32_t *sorted, uint32_t n, uint32_t v)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t rank(const uint32_t *sorted, uint32_t n, uint32_t percent)
{
    uint32_t r = (n * percent + 99) / 100;
    return sorted[(r ? r : 1) - 1];
}

static void window_add(window *w, uint64_t us)
{
    uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    if (w->count == SDK_LEARN_WINDOW) { /* the oldest sample leaves */
        uint32_t at = lower_bound(w->sorted, w->count, w->us[w->next]);
        memmove(&w->sorted[at], &w->sorted[at + 1], (w->count - at - 1) * sizeof *w->sorted);
        w->count--;
    }
    uint32_t at = lower_bound(w->sorted, w->count, v);
    memmove(&w->sorted[at + 1], &w->sorted[at], (w->count - at) * sizeof *w->sorted);
    w->sorted[at] = v;
    w->count++;
    w->us[w->next] = v;
    w->next = (w->next + 1) % SDK_LEARN_WINDOW;
    w->dirty = true;
}

static void window_update(window *w)
{
    if (!w->dirty)
        return;
    w->dirty = false;
    if (!w->count) {
        w->p50 = w->p90 = w->p99 = w->max = 0;
        return;
    }
    w->p50 = rank(w->sorted, w->count, 50);
    w->p90 = rank(w->sorted, w->count, 90);
    w->p99 = rank(w->sorted, w->count, 99);
    w->max = w->sorted[w->count - 1];
}

/* The entry of a class, or NULL when unknown (create false) or out of table (never: the
 * least recently used is taken over). */
static class_entry *lookup(sdk_learn *l, const sdk_class_key *key, bool create)
{
    class_entry *last = &l->classes[l->last];
    if (last->used && memcmp(&last->key, key, sizeof *key) == 0) {
        last->last_used = ++l->tick;
        return last;
    }
    class_entry *victim = &l->classes[0];
    for (uint32_t i = 0; i < SDK_LEARN_CLASSES; i++) {
        class_entry *e = &l->classes[i];
        if (e->used && memcmp(&e->key, key, sizeof *key) == 0) {
            e->last_used = ++l->tick;
            l->last = i;
            return e;
        }
        if (!e->used || (victim->used && e->last_used < victim->last_used))
            victim = e;
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof *victim);
    victim->key = *key;
    victim->used = true;
    victim->last_used = ++l->tick;
    l->last = (uint32_t)(victim - l->classes);
    return victim;
}

static uint64_t seed_us(const sdk_class_key *key)
{
    return (uint64_t)(key->kind < P2C2R_KIND_COUNT ? seed_ms[key->kind] : 100u) * 1000u;
}

/* Deadline for a class entry (NULL: never seen). */
static uint64_t deadline_us(const sdk_class_key *key, class_entry *e)
{
    uint64_t base = seed_us(key);
    uint32_t shift = 0;
    if (e) {
        window_update(&e->cluster);
        uint64_t p99 = e->cluster.p99;
        if (e->cluster.count >= SDK_LEARN_MIN_SAMPLES)
            base = p99 * 3 / 2 > p99 + 2000u ? p99 * 3 / 2 : p99 + 2000u;
        else if (2ull * e->cluster.max > base)
            base = 2ull * e->cluster.max;
        shift = e->backoff;
    }
    uint64_t d = base << shift;
    return d > LEARNT_MAX_US ? LEARNT_MAX_US : d < 1000u ? 1000u : d;
}

static uint64_t local_us(const sdk_class_key *key, class_entry *e)
{
    if (e && e->local.count) {
        window_update(&e->local);
        return (uint64_t)e->local.p99 * 5 / 4 + 1000u;
    }
    uint64_t pixels = (uint64_t)key->width * key->height * key->scale * key->scale;
    if (!pixels) /* a JPEG whose header could not be read: a 1080p frame */
        pixels = 1920ull * 1080u;
    uint64_t ns = key->mode == P2C2R_MODE_QUALITY ? LOCAL_PRIOR_QUALITY_NS_PER_PIXEL
                                                  : LOCAL_PRIOR_NS_PER_PIXEL;
    return pixels * ns / 1000u + LOCAL_PRIOR_FIXED_US;
}

void sdk_learn_add(sdk_learn *l, const sdk_class_key *key, bool local, uint64_t us, bool in_time)
{
    pthread_mutex_lock(&l->lock);
    class_entry *e = lookup(l, key, true);
    window_add(local ? &e->local : &e->cluster, us);
    if (!local && in_time && e->backoff)
        e->backoff--;
    pthread_mutex_unlock(&l->lock);
}

void sdk_learn_missed(sdk_learn *l, const sdk_class_key *key)
{
    pthread_mutex_lock(&l->lock);
    class_entry *e = lookup(l, key, true);
    if (e->backoff < BACKOFF_MAX_SHIFT)
        e->backoff++;
    pthread_mutex_unlock(&l->lock);
}

void sdk_learn_estimate(sdk_learn *l, const sdk_class_key *key, sdk_estimate *out)
{
    pthread_mutex_lock(&l->lock);
    class_entry *e = lookup(l, key, false);
    if (e)
        window_update(&e->cluster);
    out->samples = e ? e->cluster.count : 0;
    out->p90_us = e ? e->cluster.p90 : 0;
    out->p99_us = e ? e->cluster.p99 : 0;
    out->local_us = local_us(key, e);
    out->deadline_us = deadline_us(key, e);
    pthread_mutex_unlock(&l->lock);
}

/* Fill the public figures of key from entry e (NULL: never seen); lock held. */
static void describe(const sdk_class_key *key, class_entry *e, p2c2r_latency *out)
{
    memset(out, 0, sizeof *out);
    out->kind = p2c2r__task_kind_name(key->kind);
    out->mode = (p2c2r_mode)key->mode;
    out->width = key->width;
    out->height = key->height;
    out->scale = key->scale;
    out->codec = (p2c2r_codec)key->codec;
    out->output_codec = (p2c2r_codec)key->output_codec;
    out->sleep_ms = key->sleep_ms;
    out->payload_bytes = key->payload_bytes;
    out->deadline_ms = (uint32_t)((deadline_us(key, e) + 999) / 1000);
    if (!e)
        return;
    window_update(&e->cluster);
    window_update(&e->local);
    out->samples = e->cluster.count;
    out->p50_us = e->cluster.p50;
    out->p90_us = e->cluster.p90;
    out->p99_us = e->cluster.p99;
    out->max_us = e->cluster.max;
    out->local_samples = e->local.count;
    out->local_p50_us = e->local.p50;
    out->local_p99_us = e->local.p99;
}

void sdk_learn_get(sdk_learn *l, const sdk_class_key *key, p2c2r_latency *out)
{
    pthread_mutex_lock(&l->lock);
    describe(key, lookup(l, key, false), out);
    pthread_mutex_unlock(&l->lock);
}

size_t sdk_learn_list(sdk_learn *l, p2c2r_latency *out, size_t max)
{
    pthread_mutex_lock(&l->lock);
    /* Most recently used first: repeatedly the most recent below the last one taken. */
    size_t n = 0;
    uint64_t below = UINT64_MAX;
    for (;;) {
        class_entry *best = NULL;
        for (uint32_t i = 0; i < SDK_LEARN_CLASSES; i++) {
            class_entry *e = &l->classes[i];
            if (e->used && e->last_used < below && (!best || e->last_used > best->last_used))
                best = e;
        }
        if (!best)
            break;
        if (n < max)
            describe(&best->key, best, &out[n]);
        n++;
        below = best->last_used;
    }
    pthread_mutex_unlock(&l->lock);
    return n;
}
