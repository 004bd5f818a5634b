/* estimate: see estimate.h. Classes live in an idmap keyed by the packed class number. */
#include "coordinator/estimate.h"

#include <stdlib.h>

#include "common/idmap.h"

typedef struct est_class {
    uint64_t cls;     /* key */
    uint64_t mean_us; /* smoothed mean (gain 1/8) */
    uint64_t dev_us;  /* smoothed mean deviation (gain 1/4) */
} est_class;

struct coord_estimates {
    zhashx_t *classes; /* cls -> est_class, owned; none leaves before the table does */
    est_class *last;   /* the class looked up last: a task's class is asked for several
                          times on its way, and a stream of tasks is mostly of one class */
};

static void class_free(void **item)
{
    free(*item);
    *item = NULL;
}

coord_estimates *coord_estimates_new(void)
{
    coord_estimates *est = calloc(1, sizeof *est);
    if (!est)
        return NULL;
    est->classes = p2c2r__idmap_new();
    if (!est->classes) {
        free(est);
        return NULL;
    }
    zhashx_set_destructor(est->classes, class_free);
    return est;
}

void coord_estimates_destroy(coord_estimates **est)
{
    if (!est || !*est)
        return;
    zhashx_destroy(&(*est)->classes);
    free(*est);
    *est = NULL;
}

static unsigned log2_floor(uint64_t x)
{
    return x ? 63u - (unsigned)__builtin_clzll(x) : 0u;
}

uint64_t coord_estimate_class(int kind, const p2c2r_envelope *env, uint64_t input_size)
{
    /* 8 bits each: kind, mode, scale, output codec, log2 of the size. */
    uint64_t mode = 0, scale = 0, codec = 0;
    if (env->upscale) {
        mode = env->upscale->mode & 0xff;
        scale = env->upscale->scale & 0xff;
        codec = env->upscale->output_codec & 0xff;
    } else if (env->sleep) {
        /* A sleep's time is its parameter: one class per duration (16 bits of ms). */
        mode = (env->sleep->ms >> 8) & 0xff;
        scale = env->sleep->ms & 0xff;
    }
    return ((uint64_t)(kind & 0xff) << 32) | (mode << 24) | (scale << 16) | (codec << 8) |
           log2_floor(input_size);
}

static est_class *lookup(coord_estimates *est, uint64_t cls)
{
    if (est->last && est->last->cls == cls)
        return est->last;
    est_class *c = zhashx_lookup(est->classes, &cls);
    if (c)
        est->last = c;
    return c;
}

void coord_estimates_add(coord_estimates *est, uint64_t cls, uint64_t service_us)
{
    est_class *c = lookup(est, cls);
    if (!c) {
        c = malloc(sizeof *c);
        if (!c)
            return;
        *c = (est_class){.cls = cls, .mean_us = service_us, .dev_us = service_us / 2};
        if (zhashx_insert(est->classes, &c->cls, c) != 0)
            free(c);
        return;
    }
    /* TCP's smoothing (RFC 6298), in integers: dev += (|x - mean| - dev) / 4, then
     * mean += (x - mean) / 8. */
    uint64_t diff = service_us > c->mean_us ? service_us - c->mean_us : c->mean_us - service_us;
    c->dev_us = c->dev_us - c->dev_us / 4 + diff / 4;
    c->mean_us = c->mean_us - c->mean_us / 8 + service_us / 8;
}

bool coord_estimates_get(coord_estimates *est, uint64_t cls, uint64_t *mean_us, uint64_t *dev_us)
{
    const est_class *c = lookup(est, cls);
    if (!c)
        return false;
    *mean_us = c->mean_us;
    *dev_us = c->dev_us;
    return true;
}
