/* plan_cache: the upscale plans a process keeps resident, bounded in bytes, least recently
 * used out first. The CPU side of "models resident": a peer keeps one cache for all its
 * workers, so a stream of frames of one size builds its tables once, and it reports what
 * the cache holds to the coordinator.
 *
 * Thread-safe. A plan handed out stays valid until its user drops it with
 * p2c2r__upscale_plan_destroy(), even if the cache evicts it meanwhile (plans are
 * reference-counted). Plans are built outside the lock, so a slow build never holds up
 * another thread's lookup; two threads asking for the same new plan at once may both build
 * it, and the cache keeps one.
 */
#ifndef P2C2R_UPSCALE_PLAN_CACHE_H
#define P2C2R_UPSCALE_PLAN_CACHE_H

#include <stddef.h>

#include "common/upscale/upscale.h"

typedef struct p2c2r_upscale_cache p2c2r_upscale_cache;

/* A cache holding at most max_bytes of plans (as p2c2r__upscale_plan_bytes() counts
 * them); NULL when out of memory. */
p2c2r_upscale_cache *p2c2r__upscale_cache_new(size_t max_bytes);
/* Drop the cache's references; plans still in use live on until released. Accepts NULL;
 * sets *cache to NULL. */
void p2c2r__upscale_cache_destroy(p2c2r_upscale_cache **cache);

/* The plan for these arguments, from the cache or built and added (evicting the least
 * recently used plans past the bound; a plan bigger than the whole bound is handed out but
 * not kept). The caller owns one reference: drop it with p2c2r__upscale_plan_destroy().
 * Errors as p2c2r__upscale_plan_new(). */
int p2c2r__upscale_cache_get(p2c2r_upscale_cache *cache, p2c2r_pixel_format format, uint32_t width,
                             uint32_t height, uint32_t scale, p2c2r_mode mode,
                             const p2c2r_upscale_plan **plan);

/* Copy the names of the plans held, most recently used first, into names[0..max); returns
 * how many the cache holds (which may be more than max). */
size_t p2c2r__upscale_cache_list(p2c2r_upscale_cache *cache, char (*names)[P2C2R_UPSCALE_NAME_MAX],
                                 size_t max);

/* Bytes held now. */
size_t p2c2r__upscale_cache_bytes(p2c2r_upscale_cache *cache);

#endif /* P2C2R_UPSCALE_PLAN_CACHE_H */
