/* cache: see cache.h. */
#include "coordinator/cache.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/idmap.h"

/* What an entry costs beyond its payloads: the record, the map's item, the allocator's. */
#define ENTRY_OVERHEAD 256u

typedef struct cache_entry {
    uint64_t hash;                          /* the map's key (idmap: a uint64_t inside) */
    uint64_t scope;                         /* key material: whose */
    uint8_t params[COORD_CACHE_PARAMS_MAX]; /* key material: parameters */
    size_t params_size;                     /* bytes in params */
    zmq_msg_t input;                        /* key material: the input bytes */
    zmq_msg_t output;                       /* the result's bytes */
    uint32_t codec, pixel_format;           /* the result's Frame */
    uint32_t width, height;
    uint64_t bytes;                    /* what it counts against the bound */
    struct cache_entry *same;          /* next entry with the same hash */
    struct cache_entry *newer, *older; /* LRU list */
} cache_entry;

struct coord_cache {
    uint64_t max_bytes;        /* the bound */
    coord_cache_hash_fn *hash; /* key hash */
    zhashx_t *by_hash;         /* &entry->hash -> first entry with that hash */
    cache_entry *newest;       /* LRU list ends */
    cache_entry *oldest;
    coord_cache_stats stats; /* counters; entries and bytes kept current */
};

static uint64_t xxh3_key(uint64_t scope, const void *params, size_t params_size, const void *input,
                         size_t input_size)
{
    uint64_t seed = XXH3_64bits_withSeed(params, params_size, scope);
    return XXH3_64bits_withSeed(input, input_size, seed);
}

coord_cache *coord_cache_new(uint64_t max_bytes, coord_cache_hash_fn *hash)
{
    coord_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return NULL;
    cache->max_bytes = max_bytes;
    cache->hash = hash ? hash : xxh3_key;
    cache->by_hash = p2c2r__idmap_new();
    if (!cache->by_hash) {
        free(cache);
        return NULL;
    }
    return cache;
}

static void entry_free(cache_entry *e)
{
    zmq_msg_close(&e->input);
    zmq_msg_close(&e->output);
    free(e);
}

void coord_cache_destroy(coord_cache **cache)
{
    if (!cache || !*cache)
        return;
    coord_cache *c = *cache;
    cache_entry *e = c->newest;
    while (e) {
        cache_entry *older = e->older;
        entry_free(e);
        e = older;
    }
    zhashx_destroy(&c->by_hash);
    free(c);
    *cache = NULL;
}

bool coord_cache_enabled(const coord_cache *cache)
{
    return cache->max_bytes > 0;
}

void coord_cache_hash(const coord_cache *cache, coord_cache_key *key)
{
    zmq_msg_t *input = (zmq_msg_t *)key->input;
    key->hash = cache->hash(key->scope, key->params, key->params_size, zmq_msg_data(input),
                            zmq_msg_size(input));
}

static bool same_key(const cache_entry *e, const coord_cache_key *key)
{
    zmq_msg_t *input = (zmq_msg_t *)key->input, *kept = (zmq_msg_t *)&e->input;
    size_t size = zmq_msg_size(input);
    return e->scope == key->scope && e->params_size == key->params_size &&
           memcmp(e->params, key->params, key->params_size) == 0 && zmq_msg_size(kept) == size &&
           memcmp(zmq_msg_data(kept), zmq_msg_data(input), size) == 0;
}

static void lru_unlink(coord_cache *c, cache_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(coord_cache *c, cache_entry *e)
{
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

/* Take e out of the map's chain for its hash. */
static void chain_unlink(coord_cache *c, cache_entry *e)
{
    cache_entry *first = zhashx_lookup(c->by_hash, &e->hash);
    if (first == e) {
        zhashx_delete(c->by_hash, &e->hash);
        if (!e->same || zhashx_insert(c->by_hash, &e->same->hash, e->same) == 0)
            return;
        /* Out of memory: the rest of the chain cannot be found any more; drop it. */
        cache_entry *x = e->same;
        e->same = NULL;
        while (x) {
            cache_entry *next = x->same;
            lru_unlink(c, x);
            c->stats.entries--;
            c->stats.bytes -= x->bytes;
            entry_free(x);
            x = next;
        }
        return;
    }
    for (cache_entry *x = first; x; x = x->same)
        if (x->same == e) {
            x->same = e->same;
            return;
        }
}

static void evict(coord_cache *c, cache_entry *e)
{
    chain_unlink(c, e);
    lru_unlink(c, e);
    c->stats.entries--;
    c->stats.bytes -= e->bytes;
    entry_free(e);
}

/* The entry of key, or NULL. A lookup that meets entries of other keys with the same hash
 * counts as one collision, however many it passes. */
static cache_entry *find(coord_cache *c, const coord_cache_key *key, bool count_collisions)
{
    bool collided = false;
    cache_entry *e = zhashx_lookup(c->by_hash, &key->hash);
    for (; e && !same_key(e, key); e = e->same)
        collided = true;
    if (collided && count_collisions)
        c->stats.collisions++;
    return e;
}

bool coord_cache_get(coord_cache *cache, const coord_cache_key *key, P2c2r__Wire__Frame *frame,
                     zmq_msg_t *output)
{
    cache_entry *e = cache->max_bytes ? find(cache, key, true) : NULL;
    if (!e) {
        cache->stats.misses++;
        return false;
    }
    zmq_msg_init(output);
    if (zmq_msg_copy(output, &e->output) != 0) {
        cache->stats.misses++;
        return false;
    }
    cache->stats.hits++;
    lru_unlink(cache, e);
    lru_push(cache, e);
    *frame = (P2c2r__Wire__Frame)P2C2R__WIRE__FRAME__INIT;
    frame->codec = (P2c2r__Wire__Codec)e->codec;
    frame->pixel_format = (P2c2r__Wire__PixelFormat)e->pixel_format;
    frame->width = e->width;
    frame->height = e->height;
    return true;
}

/* Keep msg in *kept: a reference, or for a small one a copy of its own. */
static int keep(zmq_msg_t *kept, const zmq_msg_t *msg)
{
    zmq_msg_init(kept);
    if (zmq_msg_copy(kept, (zmq_msg_t *)msg) != 0)
        return -1;
    return p2c2r__payload_own(kept) == P2C2R_OK ? 0 : -1;
}

void coord_cache_put(coord_cache *cache, const coord_cache_key *key,
                     const P2c2r__Wire__Frame *frame, const zmq_msg_t *output)
{
    uint64_t bytes =
        ENTRY_OVERHEAD + zmq_msg_size((zmq_msg_t *)key->input) + zmq_msg_size((zmq_msg_t *)output);
    if (bytes > cache->max_bytes || key->params_size > COORD_CACHE_PARAMS_MAX)
        return;
    cache_entry *old = find(cache, key, false);
    if (old)
        evict(cache, old);
    while (cache->oldest && cache->stats.bytes + bytes > cache->max_bytes) {
        evict(cache, cache->oldest);
        cache->stats.evictions++;
    }
    cache_entry *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->hash = key->hash;
    e->scope = key->scope;
    memcpy(e->params, key->params, key->params_size);
    e->params_size = key->params_size;
    if (keep(&e->input, key->input) != 0) {
        zmq_msg_init(&e->output);
        entry_free(e);
        return;
    }
    if (keep(&e->output, output) != 0) {
        entry_free(e);
        return;
    }
    e->codec = (uint32_t)frame->codec;
    e->pixel_format = (uint32_t)frame->pixel_format;
    e->width = frame->width;
    e->height = frame->height;
    e->bytes = bytes;
    cache_entry *first = zhashx_lookup(cache->by_hash, &e->hash);
    if (first) {
        e->same = first->same; /* the first stays first: the map keeps pointing at it */
        first->same = e;
    } else if (zhashx_insert(cache->by_hash, &e->hash, e) != 0) {
        entry_free(e);
        return;
    }
    lru_push(cache, e);
    cache->stats.entries++;
    cache->stats.bytes += bytes;
    cache->stats.stores++;
}

void coord_cache_stats_get(const coord_cache *cache, coord_cache_stats *stats)
{
    *stats = cache->stats;
}
