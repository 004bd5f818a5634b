/* cache_test: coord_cache on its own. Hits and misses (scope, parameters and input each
 * part of the key), collisions forced by a constant hash (a hash alone never decides),
 * LRU eviction and the byte bound checked against a model under random puts and gets,
 * replacing a key, entries too big for the bound, a bound of 0, and the two ways a payload
 * is kept (small ones copied, large ones referenced). */
#include "coordinator/cache.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Sizes on either side of cache.c's copy threshold (8 KiB). */
#define SMALL_BYTES 1000
#define LARGE_BYTES (64 * 1024)

/* A hash that makes every key collide. */
static uint64_t constant_hash(uint64_t scope, const void *params, size_t params_size,
                              const void *input, size_t input_size)
{
    (void)scope, (void)params, (void)params_size, (void)input, (void)input_size;
    return 42;
}

/* A message of size bytes, each byte seed + its index. */
static void make_msg(zmq_msg_t *msg, size_t size, uint8_t seed)
{
    zmq_msg_init_size(msg, size);
    uint8_t *p = zmq_msg_data(msg);
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static bool msg_equal(zmq_msg_t *a, zmq_msg_t *b)
{
    return zmq_msg_size(a) == zmq_msg_size(b) &&
           memcmp(zmq_msg_data(a), zmq_msg_data(b), zmq_msg_size(a)) == 0;
}

/* A key over input with one parameter byte. params must outlive the key. */
static coord_cache_key make_key(coord_cache *cache, uint64_t scope, uint8_t *params,
                                const zmq_msg_t *input)
{
    coord_cache_key key = {.scope = scope, .params = params, .params_size = 1, .input = input};
    coord_cache_hash(cache, &key);
    return key;
}

static P2c2r__Wire__Frame frame_of(uint32_t width, uint32_t height)
{
    P2c2r__Wire__Frame f = P2C2R__WIRE__FRAME__INIT;
    f.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    f.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__YUV420P;
    f.width = width;
    f.height = height;
    return f;
}

/* Whether key is found with exactly the bytes of want (NULL: that it is not found). */
static bool found_as(coord_cache *cache, const coord_cache_key *key, zmq_msg_t *want)
{
    P2c2r__Wire__Frame f;
    zmq_msg_t out;
    if (!coord_cache_get(cache, key, &f, &out))
        return want == NULL;
    bool ok = want && msg_equal(&out, want);
    zmq_msg_close(&out);
    return ok;
}

static coord_cache_stats stats_of(coord_cache *cache)
{
    coord_cache_stats s;
    coord_cache_stats_get(cache, &s);
    return s;
}

static void hits_and_misses(void)
{
    coord_cache *cache = coord_cache_new(1 << 20, NULL);
    CHECK(cache && coord_cache_enabled(cache));
    zmq_msg_t in, out, other_in, longer_in;
    make_msg(&in, SMALL_BYTES, 1);
    make_msg(&out, 4 * SMALL_BYTES, 2);
    make_msg(&other_in, SMALL_BYTES, 1);
    ((uint8_t *)zmq_msg_data(&other_in))[SMALL_BYTES - 1] ^= 1; /* the last byte differs */
    make_msg(&longer_in, SMALL_BYTES + 1, 1);                   /* in's bytes and one more */
    uint8_t p = 3, q = 4;
    coord_cache_key key = make_key(cache, 7, &p, &in);

    CHECK(found_as(cache, &key, NULL)); /* empty */
    P2c2r__Wire__Frame frame = frame_of(640, 360);
    coord_cache_put(cache, &key, &frame, &out);
    P2c2r__Wire__Frame got;
    zmq_msg_t hit;
    CHECK(coord_cache_get(cache, &key, &got, &hit));
    CHECK(msg_equal(&hit, &out));
    CHECK(got.codec == frame.codec && got.pixel_format == frame.pixel_format);
    CHECK(got.width == 640 && got.height == 360);
    zmq_msg_close(&hit);

    /* Each part of the key matters. */
    coord_cache_key k = make_key(cache, 7, &q, &in);
    CHECK(found_as(cache, &k, NULL));
    k = make_key(cache, 8, &p, &in);
    CHECK(found_as(cache, &k, NULL));
    k = make_key(cache, 7, &p, &other_in);
    CHECK(found_as(cache, &k, NULL));
    k = make_key(cache, 7, &p, &longer_in);
    CHECK(found_as(cache, &k, NULL));
    k = make_key(cache, 7, &p, &in); /* the same key, built again */
    CHECK(found_as(cache, &k, &out));

    coord_cache_stats s = stats_of(cache);
    CHECK(s.hits == 2 && s.misses == 5 && s.stores == 1 && s.entries == 1);
    CHECK(s.evictions == 0 && s.collisions == 0);
    CHECK(s.bytes >= 5u * SMALL_BYTES);

    /* Parameters longer than a key may hold are never kept. */
    uint8_t long_params[COORD_CACHE_PARAMS_MAX + 1] = {0};
    coord_cache_key too_long = {
        .scope = 7, .params = long_params, .params_size = sizeof long_params, .input = &in};
    coord_cache_hash(cache, &too_long);
    coord_cache_put(cache, &too_long, &frame, &out);
    CHECK(stats_of(cache).entries == 1);

    coord_cache_destroy(&cache);
    CHECK(cache == NULL);
    coord_cache_destroy(&cache); /* NULL is fine */
    zmq_msg_close(&in);
    zmq_msg_close(&out);
    zmq_msg_close(&other_in);
    zmq_msg_close(&longer_in);
}

/* Every key hashes alike: the stored key material alone tells them apart. */
static void collisions(void)
{
    enum { N = 4 };
    coord_cache *cache = coord_cache_new(1 << 20, constant_hash);
    zmq_msg_t in[N], out[N];
    uint8_t p = 1;
    coord_cache_key key[N];
    P2c2r__Wire__Frame frame = frame_of(16, 16);
    for (int i = 0; i < N; i++) {
        make_msg(&in[i], SMALL_BYTES, (uint8_t)(10 + i));
        make_msg(&out[i], SMALL_BYTES, (uint8_t)(100 + i));
        key[i] = make_key(cache, 1, &p, &in[i]);
        CHECK(key[i].hash == 42);
    }
    /* Scope and parameters alone differ in two more keys over in[0]. */
    uint8_t p2 = 2;
    coord_cache_key other_scope = make_key(cache, 2, &p, &in[0]);
    coord_cache_key other_params = make_key(cache, 1, &p2, &in[0]);

    coord_cache_put(cache, &key[0], &frame, &out[0]);
    CHECK(found_as(cache, &key[1], NULL)); /* same hash, another key: a miss */
    CHECK(found_as(cache, &other_scope, NULL));
    CHECK(found_as(cache, &other_params, NULL));
    CHECK(stats_of(cache).collisions == 3);
    for (int i = 1; i < 3; i++)
        coord_cache_put(cache, &key[i], &frame, &out[i]);
    /* All three kept and each found as itself, whatever its place in the chain. */
    CHECK(stats_of(cache).entries == 3);
    for (int i = 0; i < 3; i++)
        CHECK(found_as(cache, &key[i], &out[i]));
    CHECK(found_as(cache, &key[3], NULL));
    /* A lookup meeting other keys counts once, however many it passes: the chain is
     * 0, 2, 1, so the gets of 2, 1 and 3 each count one. */
    coord_cache_stats s = stats_of(cache);
    CHECK(s.collisions == 3 + 3);
    CHECK(s.hits == 3 && s.misses == 4);

    /* Out of the chain in every position: the first (the map's), then a middle one. */
    coord_cache_destroy(&cache);
    for (int drop = 0; drop < 3; drop++) {
        cache = coord_cache_new(1 << 20, constant_hash);
        for (int i = 0; i < 3; i++)
            coord_cache_put(cache, &key[i], &frame, &out[i]);
        /* Replacing a key takes the old entry out of the chain first. */
        coord_cache_put(cache, &key[drop], &frame, &out[3]);
        CHECK(stats_of(cache).entries == 3);
        for (int i = 0; i < 3; i++)
            CHECK(found_as(cache, &key[i], i == drop ? &out[3] : &out[i]));
        coord_cache_destroy(&cache);
    }
    for (int i = 0; i < N; i++) {
        zmq_msg_close(&in[i]);
        zmq_msg_close(&out[i]);
    }
}

/* What one entry of these sizes counts against the bound, as the cache reports it. */
static uint64_t entry_cost(size_t in_size, size_t out_size)
{
    coord_cache *cache = coord_cache_new(1 << 30, NULL);
    zmq_msg_t in, out;
    make_msg(&in, in_size, 0);
    make_msg(&out, out_size, 0);
    uint8_t p = 0;
    coord_cache_key key = make_key(cache, 0, &p, &in);
    P2c2r__Wire__Frame frame = frame_of(1, 1);
    coord_cache_put(cache, &key, &frame, &out);
    uint64_t bytes = stats_of(cache).bytes;
    coord_cache_destroy(&cache);
    zmq_msg_close(&in);
    zmq_msg_close(&out);
    return bytes;
}

/* Random puts and gets of keys of varied sizes against a model of an LRU bounded in bytes;
 * the cache's overhead per entry is learnt from one entry. */
static void lru_against_model(void)
{
    enum { KEYS = 24, OPS = 20000 };
    uint64_t overhead = entry_cost(SMALL_BYTES, SMALL_BYTES) - 2 * SMALL_BYTES;
    CHECK(overhead < 4096);
    CHECK(entry_cost(LARGE_BYTES, 3 * LARGE_BYTES) == overhead + 4 * LARGE_BYTES);
    uint64_t rng = 7;
    for (int round = 0; round < 4; round++) {
        uint64_t max = 64 * 1024 + testutil_rand(&rng) % (256 * 1024);
        coord_cache *cache = coord_cache_new(max, NULL);
        zmq_msg_t in[KEYS];
        uint64_t cost[KEYS];
        uint8_t p[KEYS];
        coord_cache_key key[KEYS];
        size_t out_size[KEYS];
        /* The model: when each key was last used (0: not kept) and its version. */
        uint64_t used[KEYS] = {0}, tick = 0;
        uint8_t version[KEYS] = {0};
        uint64_t evictions = 0;
        for (int k = 0; k < KEYS; k++) {
            /* Both sides of the copy threshold, and now and then more than the bound. */
            size_t in_size = 1 + testutil_rand(&rng) % (k % 5 == 0 ? 40000 : 12000);
            out_size[k] = 4 * in_size;
            make_msg(&in[k], in_size, (uint8_t)k);
            p[k] = (uint8_t)(k % 3);
            key[k] = make_key(cache, (uint64_t)k % 2, &p[k], &in[k]);
            cost[k] = overhead + in_size + out_size[k];
        }
        P2c2r__Wire__Frame frame = frame_of(8, 8);
        for (int op = 0; op < OPS; op++) {
            int k = (int)(testutil_rand(&rng) % KEYS);
            if (testutil_rand(&rng) % 3 == 0) {
                zmq_msg_t out;
                version[k]++;
                make_msg(&out, out_size[k], version[k]);
                coord_cache_put(cache, &key[k], &frame, &out);
                zmq_msg_close(&out);
                used[k] = 0; /* replaced, or dropped when too big */
                if (cost[k] <= max) {
                    for (;;) {
                        uint64_t bytes = 0;
                        int oldest = -1;
                        for (int j = 0; j < KEYS; j++)
                            if (used[j]) {
                                bytes += cost[j];
                                if (oldest < 0 || used[j] < used[oldest])
                                    oldest = j;
                            }
                        if (bytes + cost[k] <= max)
                            break;
                        used[oldest] = 0;
                        evictions++;
                    }
                    used[k] = ++tick;
                }
            } else {
                zmq_msg_t want;
                make_msg(&want, out_size[k], version[k]);
                CHECK(found_as(cache, &key[k], used[k] ? &want : NULL));
                zmq_msg_close(&want);
                if (used[k])
                    used[k] = ++tick; /* a get refreshes */
            }
            coord_cache_stats s = stats_of(cache);
            uint64_t bytes = 0, entries = 0;
            for (int j = 0; j < KEYS; j++)
                if (used[j]) {
                    bytes += cost[j];
                    entries++;
                }
            CHECK(s.bytes <= max);
            CHECK(s.bytes == bytes && s.entries == entries);
            CHECK(s.evictions == evictions);
        }
        CHECK(evictions > 0);
        coord_cache_destroy(&cache);
        for (int k = 0; k < KEYS; k++)
            zmq_msg_close(&in[k]);
    }
}

/* The least recently used goes first, and a get counts as a use. */
static void lru_order(void)
{
    enum { N = 4 };
    uint64_t cost = entry_cost(SMALL_BYTES, SMALL_BYTES);
    coord_cache *cache = coord_cache_new(3 * cost, NULL);
    zmq_msg_t in[N], out[N];
    coord_cache_key key[N];
    uint8_t p = 0;
    P2c2r__Wire__Frame frame = frame_of(4, 4);
    for (int i = 0; i < N; i++) {
        make_msg(&in[i], SMALL_BYTES, (uint8_t)i);
        make_msg(&out[i], SMALL_BYTES, (uint8_t)(50 + i));
        key[i] = make_key(cache, 0, &p, &in[i]);
    }
    for (int i = 0; i < 3; i++)
        coord_cache_put(cache, &key[i], &frame, &out[i]);
    CHECK(stats_of(cache).entries == 3 && stats_of(cache).bytes == 3 * cost);
    CHECK(found_as(cache, &key[0], &out[0])); /* 0 is now the most recent; 1 the least */
    coord_cache_put(cache, &key[3], &frame, &out[3]);
    CHECK(found_as(cache, &key[1], NULL));
    CHECK(found_as(cache, &key[0], &out[0]));
    CHECK(found_as(cache, &key[2], &out[2]));
    CHECK(found_as(cache, &key[3], &out[3]));
    coord_cache_stats s = stats_of(cache);
    CHECK(s.evictions == 1 && s.entries == 3 && s.bytes == 3 * cost);

    /* An entry bigger than the bound is not kept, and pushes nothing out. */
    zmq_msg_t big;
    make_msg(&big, 3 * cost, 9);
    coord_cache_put(cache, &key[1], &frame, &big);
    CHECK(found_as(cache, &key[1], NULL));
    s = stats_of(cache);
    CHECK(s.evictions == 1 && s.entries == 3 && s.stores == 4);

    /* Replacing a key: one entry, the new output, the new size. */
    coord_cache_put(cache, &key[0], &frame, &out[1]);
    CHECK(found_as(cache, &key[0], &out[1]));
    s = stats_of(cache);
    CHECK(s.entries == 3 && s.bytes == 3 * cost && s.evictions == 1);
    coord_cache_destroy(&cache);

    /* A bound of 0 keeps nothing. */
    cache = coord_cache_new(0, NULL);
    CHECK(!coord_cache_enabled(cache));
    coord_cache_hash(cache, &key[0]);
    coord_cache_put(cache, &key[0], &frame, &out[0]);
    CHECK(found_as(cache, &key[0], NULL));
    s = stats_of(cache);
    CHECK(s.entries == 0 && s.bytes == 0 && s.stores == 0 && s.misses == 1);
    coord_cache_destroy(&cache);
    zmq_msg_close(&big);
    for (int i = 0; i < N; i++) {
        zmq_msg_close(&in[i]);
        zmq_msg_close(&out[i]);
    }
}

/* Payload messages whose release is counted, to see whether the cache pins them. */
static int released;

static void count_release(void *data, void *hint)
{
    (void)hint;
    released++;
    free(data);
}

static void zero_copy_msg(zmq_msg_t *msg, size_t size, uint8_t seed)
{
    uint8_t *p = malloc(size);
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(seed + i * 7);
    zmq_msg_init_data(msg, p, size, count_release, NULL);
}

/* Small payloads are copied (a reference could pin a larger receive buffer); large ones
 * are kept by reference (no copy of a frame). */
static void small_and_large(void)
{
    static const size_t sizes[] = {SMALL_BYTES, 8192, 8193, LARGE_BYTES};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        bool copied = sizes[i] <= 8192;
        coord_cache *cache = coord_cache_new(1 << 20, NULL);
        released = 0;
        zmq_msg_t in, out;
        zero_copy_msg(&in, sizes[i], 1);
        zero_copy_msg(&out, sizes[i], 2);
        const void *out_data = zmq_msg_data(&out);
        uint8_t p = 0;
        coord_cache_key key = make_key(cache, 0, &p, &in);
        P2c2r__Wire__Frame frame = frame_of(2, 2);
        coord_cache_put(cache, &key, &frame, &out);
        zmq_msg_t hit;
        CHECK(coord_cache_get(cache, &key, &frame, &hit));
        CHECK(msg_equal(&hit, &out));
        CHECK((zmq_msg_data(&hit) == out_data) == !copied);
        zmq_msg_close(&hit);

        /* The caller lets go: copies free the originals, references keep them. */
        zmq_msg_t want_in, want_out;
        zmq_msg_init(&want_in);
        zmq_msg_init(&want_out);
        zmq_msg_copy(&want_out, &out);
        make_msg(&want_in, sizes[i], 1);
        zmq_msg_close(&out);
        zmq_msg_close(&want_out);
        zmq_msg_close(&in);
        CHECK(released == (copied ? 2 : 0));
        make_msg(&want_out, sizes[i], 2);
        coord_cache_key again = make_key(cache, 0, &p, &want_in);
        CHECK(found_as(cache, &again, &want_out));
        coord_cache_destroy(&cache);
        CHECK(released == 2);
        zmq_msg_close(&want_in);
        zmq_msg_close(&want_out);
    }
}

int main(void)
{
    hits_and_misses();
    collisions();
    lru_order();
    lru_against_model();
    small_and_large();
    return testutil_finish("cache_test");
}
