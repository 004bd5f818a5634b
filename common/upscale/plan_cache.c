/* plan_cache: see plan_cache.h. The entries are a short array kept in recency order: a
 * peer sees a handful of frame sizes, and a linear scan of a few entries costs less than
 * hashing.
 */
#include "common/upscale/plan_cache.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct p2c2r_upscale_cache {
    pthread_mutex_t lock;             /* guards the fields below */
    size_t max_bytes;                 /* bound */
    size_t bytes;                     /* held now */
    size_t count;                     /* plans held */
    size_t capacity;                  /* slots in plans */
    const p2c2r_upscale_plan **plans; /* most recently used first; one reference each */
};

p2c2r_upscale_cache *p2c2r__upscale_cache_new(size_t max_bytes)
{
    p2c2r_upscale_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->max_bytes = max_bytes;
    return c;
}

void p2c2r__upscale_cache_destroy(p2c2r_upscale_cache **cache)
{
    if (!cache || !*cache)
        return;
    p2c2r_upscale_cache *c = *cache;
    for (size_t i = 0; i < c->count; i++)
        p2c2r__upscale_plan_destroy(&c->plans[i]);
    free(c->plans);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *cache = NULL;
}

/* Move entry i to the front. Lock held. */
static void cache_touch(p2c2r_upscale_cache *c, size_t i)
{
    const p2c2r_upscale_plan *p = c->plans[i];
    memmove(&c->plans[1], &c->plans[0], i * sizeof c->plans[0]);
    c->plans[0] = p;
}

/* Look for a plan; on a hit return it with a new reference for the caller. Lock held. */
static const p2c2r_upscale_plan *cache_find(p2c2r_upscale_cache *c, p2c2r_pixel_format format,
                                            uint32_t width, uint32_t height, uint32_t scale,
                                            p2c2r_mode mode)
{
    for (size_t i = 0; i < c->count; i++)
        if (p2c2r__upscale_plan_is(c->plans[i], format, width, height, scale, mode)) {
            cache_touch(c, i);
            return p2c2r__upscale_plan_ref(c->plans[0]);
        }
    return NULL;
}

/* Add p at the front, with a reference of its own, evicting from the back to make room.
 * Lock held. Returns 0, or -1 when p is not kept. */
static int cache_insert(p2c2r_upscale_cache *c, const p2c2r_upscale_plan *p)
{
    size_t need = p2c2r__upscale_plan_bytes(p);
    if (need > c->max_bytes)
        return -1;
    if (c->count == c->capacity) {
        size_t cap = c->capacity ? 2 * c->capacity : 8;
        const p2c2r_upscale_plan **grown = realloc(c->plans, cap * sizeof *grown);
        if (!grown)
            return -1;
        c->plans = grown;
        c->capacity = cap;
    }
    while (c->count > 0 && c->bytes + need > c->max_bytes) {
        const p2c2r_upscale_plan **last = &c->plans[--c->count];
        c->bytes -= p2c2r__upscale_plan_bytes(*last);
        p2c2r__upscale_plan_destroy(last);
    }
    memmove(&c->plans[1], &c->plans[0], c->count * sizeof c->plans[0]);
    c->plans[0] = p2c2r__upscale_plan_ref(p);
    c->count++;
    c->bytes += need;
    return 0;
}

int p2c2r__upscale_cache_get(p2c2r_upscale_cache *c, p2c2r_pixel_format format, uint32_t width,
                             uint32_t height, uint32_t scale, p2c2r_mode mode,
                             const p2c2r_upscale_plan **plan)
{
    assert(c && plan);
    pthread_mutex_lock(&c->lock);
    *plan = cache_find(c, format, width, height, scale, mode);
    pthread_mutex_unlock(&c->lock);
    if (*plan)
        return P2C2R_OK;

    const p2c2r_upscale_plan *built;
    int rc = p2c2r__upscale_plan_new(format, width, height, scale, mode, &built);
    if (rc != P2C2R_OK)
        return rc;
    pthread_mutex_lock(&c->lock);
    /* Another thread may have added the same plan while this one was building. */
    *plan = cache_find(c, format, width, height, scale, mode);
    if (!*plan) {
        cache_insert(c, built);
        *plan = built;
        built = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    p2c2r__upscale_plan_destroy(&built);
    return P2C2R_OK;
}

size_t p2c2r__upscale_cache_list(p2c2r_upscale_cache *c, char (*names)[P2C2R_UPSCALE_NAME_MAX],
                                 size_t max)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    for (size_t i = 0; i < n && i < max; i++)
        snprintf(names[i], P2C2R_UPSCALE_NAME_MAX, "%s", p2c2r__upscale_plan_name(c->plans[i]));
    pthread_mutex_unlock(&c->lock);
    return n;
}

size_t p2c2r__upscale_cache_bytes(p2c2r_upscale_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return n;
}
