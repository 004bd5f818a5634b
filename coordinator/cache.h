/* cache: results the coordinator keeps, to answer the same task again without a peer.
 *
 * A game often sends the same frame with the same parameters more than once (a paused
 * scene, a menu, a retry after its own timeout). A task whose kind always gives the same
 * output for the same input (tasks.c says which) is looked up by a key made of its scope,
 * its parameters and its input bytes; a hit is answered at once with the stored output.
 *
 * The key is found through a 64-bit XXH3 hash (libxxhash) of all three, but a hash alone
 * never decides: every entry keeps its key material (scope, parameter bytes and a copy of
 * or a reference to the input), compared in full on a hit, so two inputs that share a
 * hash can never return each other's frame. Entries live in one LRU list bounded in bytes
 * (inputs and outputs counted, plus a fixed overhead per entry); adding past the bound
 * evicts the least recently used first.
 *
 * Scope: by default each client sees only its own results. An operator may share the
 * cache between clients, which saves more work but lets one client learn, by the speed of
 * an answer, that another submitted the same frame.
 *
 * Payloads are zmq messages: inputs and outputs are kept as references to the frames
 * they arrived in (no copy), except small ones, which ZeroMQ may keep inside a larger
 * receive buffer that a reference would pin; those are copied.
 */
#ifndef P2C2R_COORD_CACHE_H
#define P2C2R_COORD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "common/envelope.h"

typedef struct coord_cache coord_cache;

/* The hash of a key: the real one by default; tests give one that collides. */
typedef uint64_t coord_cache_hash_fn(uint64_t scope, const void *params, size_t params_size,
                                     const void *input, size_t input_size);

/* What a key is made of. params: bytes that describe the task's parameters completely
 * (the caller's canonical form: equal tasks give equal bytes); input: its payload. */
typedef struct coord_cache_key {
    uint64_t scope;         /* whose results these are (0: shared by all clients) */
    const void *params;     /* parameter bytes */
    size_t params_size;     /* bytes at params, at most COORD_CACHE_PARAMS_MAX */
    const zmq_msg_t *input; /* the task's payload */
    uint64_t hash;          /* filled by coord_cache_hash() */
} coord_cache_key;

#define COORD_CACHE_PARAMS_MAX 64

/* Counters since the start. */
typedef struct coord_cache_stats {
    uint64_t hits, misses;   /* lookups */
    uint64_t stores;         /* results kept */
    uint64_t evictions;      /* entries dropped for room */
    uint64_t collisions;     /* lookups whose hash matched an entry of another key */
    uint64_t entries, bytes; /* now */
} coord_cache_stats;

/* max_bytes: the bound (0: nothing is ever kept); hash: NULL for XXH3. NULL when out of
 * memory. */
coord_cache *coord_cache_new(uint64_t max_bytes, coord_cache_hash_fn *hash);
/* Accepts NULL; sets *cache to NULL. */
void coord_cache_destroy(coord_cache **cache);

/* Whether the cache keeps anything at all (a bound above 0). */
bool coord_cache_enabled(const coord_cache *cache);

/* Compute key->hash. */
void coord_cache_hash(const coord_cache *cache, coord_cache_key *key);

/* Look a hashed key up. On a hit: true, *frame describes the output and *output is
 * initialised with a reference to it (the caller closes it); the entry becomes the most
 * recently used. */
bool coord_cache_get(coord_cache *cache, const coord_cache_key *key, P2c2r__Wire__Frame *frame,
                     zmq_msg_t *output);

/* Keep output (not modified: a reference or a copy is taken) under a hashed key, replacing
 * an entry with the same key. Does nothing when the entry alone would exceed the bound or
 * memory runs out. */
void coord_cache_put(coord_cache *cache, const coord_cache_key *key,
                     const P2c2r__Wire__Frame *frame, const zmq_msg_t *output);

void coord_cache_stats_get(const coord_cache *cache, coord_cache_stats *stats);

#endif /* P2C2R_COORD_CACHE_H */
