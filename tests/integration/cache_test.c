/* cache_test: the coordinator's result cache with the real coordinator, a CPU peer and the
 * SDK, on real JPEGs. One frame at a time, each waited for, so that what should be a hit
 * always finds its result stored:
 * - the same upscale twice: the second is a hit (cache_hit in its timings), byte for byte
 *   the first, and no peer ran it (the peer's own count of the tasks it ran);
 * - P2C2R_TASK_NO_CACHE: never a hit, and its result is not kept;
 * - two clients, the same frame: a miss for the second (the cache is per client), unless
 *   the coordinator runs with --cache-shared;
 * - --cache-mb 0: never a hit;
 * - --cache-mb 1 with more distinct results than fit: the least recently used is evicted
 *   (a miss again) while the most recent still hits.
 * Every run ends by checking the coordinator's counters in its shutdown lines against what
 * the test saw. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "p2c2r.h"
#include "testutil.h"

/* What the test saw in one cluster's life. */
typedef struct seen {
    int hits;         /* results with cache_hit */
    int misses;       /* results without, of tasks the cache was asked about */
    int uncached;     /* results of tasks with P2C2R_TASK_NO_CACHE */
    int bytes_differ; /* hits whose bytes differ from the same frame's first result */
} seen;

typedef struct frame {
    uint8_t *data; /* the result's bytes */
    size_t size;
} frame;

static char coord_log[] = "/tmp/p2c2r-cache-coord-XXXXXX";
static char peer_log[] = "/tmp/p2c2r-cache-peer-XXXXXX";

static int start(cluster *cl, const char *const *coord_args)
{
    if (testutil_temp_file(coord_log) || testutil_temp_file(peer_log))
        return -1;
    cl->coordinator_log = coord_log;
    cl->peer_log = peer_log;
    if (cluster_start_coordinator(cl, coord_args) || cluster_add_peer(cl, NULL) < 0) {
        cluster_stop(cl);
        return -1;
    }
    return 0;
}

/* Upscale jpeg and wait for it. Returns whether it was a hit (-1: it failed); the result's
 * bytes go to *out when out is not NULL (free them). */
static int upscale(p2c2r_client *client, const p2c2r_upscale_desc *desc, const uint8_t *jpeg,
                   size_t size, frame *out)
{
    uint64_t id;
    int rc = p2c2r_submit_upscale(client, desc, jpeg, size, &id);
    CHECK_RC(rc, P2C2R_OK);
    p2c2r_result *r;
    if (rc != P2C2R_OK || p2c2r_poll(client, 30000, &r) != P2C2R_OK) {
        fprintf(stderr, "no result within 30 s\n");
        CHECK(0);
        return -1;
    }
    CHECK(p2c2r_result_task_id(r) == id);
    int status = p2c2r_result_status(r);
    if (status != P2C2R_OK)
        fprintf(stderr, "task %" PRIu64 ": %s: %s\n", id, p2c2r_errname(status),
                p2c2r_result_detail(r));
    CHECK_RC(status, P2C2R_OK);
    p2c2r_timings t;
    p2c2r_result_timings(r, &t);
    if (t.cache_hit)
        CHECK(t.peer_us == 0 && t.compute_us == 0);
    if (out && status == P2C2R_OK) {
        const void *data = p2c2r_result_data(r, &out->size);
        out->data = malloc(out->size);
        memcpy(out->data, data, out->size);
    }
    p2c2r_result_free(&r);
    return status == P2C2R_OK ? (int)t.cache_hit : -1;
}

/* Upscale and count; a hit must give the bytes of first. Returns whether it was a hit. */
static int run(seen *s, p2c2r_client *client, const p2c2r_upscale_desc *desc, const uint8_t *jpeg,
               size_t size, const frame *first)
{
    frame out = {0};
    int hit = upscale(client, desc, jpeg, size, &out);
    if (desc->flags & P2C2R_TASK_NO_CACHE) {
        s->uncached++;
        CHECK(hit == 0);
    } else if (hit == 1) {
        s->hits++;
    } else if (hit == 0) {
        s->misses++;
    }
    if (first && hit >= 0 && (out.size != first->size || memcmp(out.data, first->data, out.size)))
        s->bytes_differ++;
    free(out.data);
    return hit;
}

/* Stop the cluster and hold its logs against what the test saw. */
static void stop_and_check(cluster *cl, const seen *s, long evictions, const char *what)
{
    CHECK(cluster_stop(cl) == 0);
    long ran = testutil_number_before(peer_log, " task(s)");
    long hits = testutil_number_before(coord_log, " cache hit(s)");
    long admitted = testutil_number_before(coord_log, " task(s) admitted");
    printf("%s: hits %d, misses %d, without cache %d; peer ran %ld, coordinator counted %ld "
           "hit(s) of %ld task(s)\n",
           what, s->hits, s->misses, s->uncached, ran, hits, admitted);
    CHECK(s->bytes_differ == 0);
    CHECK(ran == s->misses + s->uncached); /* a hit never reaches a peer */
    CHECK(hits == s->hits);
    CHECK(admitted == s->hits + s->misses + s->uncached);
    if (evictions >= 0) {
        /* The cache's own line: every lookup it had, what it dropped. */
        CHECK(testutil_number_before(coord_log, " hit(s), ") == s->hits);
        CHECK(testutil_number_before(coord_log, " miss(es)") == s->misses);
        CHECK(testutil_number_before(coord_log, " stored") == s->misses);
        CHECK(testutil_number_before(coord_log, " evicted") == evictions);
        CHECK(testutil_number_before(coord_log, " collision(s)") == 0);
    } else {
        CHECK(testutil_count_lines(coord_log, "result cache:") == 0); /* off */
    }
    unlink(coord_log);
    unlink(peer_log);
    strcpy(coord_log, "/tmp/p2c2r-cache-coord-XXXXXX");
    strcpy(peer_log, "/tmp/p2c2r-cache-peer-XXXXXX");
}

static p2c2r_client *client_new(const cluster *cl)
{
    p2c2r_client_config config = {.coordinator = cl->client_endpoint, .max_in_flight = 4};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    return client;
}

static const p2c2r_upscale_desc base = {
    .codec = P2C2R_CODEC_JPEG,
    .scale = 2,
    .mode = P2C2R_MODE_BICUBIC,
    .output_codec = P2C2R_CODEC_JPEG,
    .jpeg_quality = 90,
    .deadline_ms = 60000,
};

static uint8_t *jpeg[2]; /* two real pictures */
static size_t size[2];

/* Per-client scope, hits, NO_CACHE, and the clients' own count of hits. */
static void per_client(p2c2r_client *a, p2c2r_client *b, seen *s)
{
    frame first = {0};
    CHECK(upscale(a, &base, jpeg[0], size[0], &first) == 0);
    s->misses++;
    CHECK(run(s, a, &base, jpeg[0], size[0], &first) == 1);
    CHECK(run(s, a, &base, jpeg[0], size[0], &first) == 1);
    /* Another parameter, another result. */
    p2c2r_upscale_desc lanczos = base;
    lanczos.mode = P2C2R_MODE_LANCZOS;
    CHECK(run(s, a, &lanczos, jpeg[0], size[0], NULL) == 0);
    /* Opted out: a peer runs it every time, and it leaves nothing behind. */
    p2c2r_upscale_desc no_cache = base;
    no_cache.flags = P2C2R_TASK_NO_CACHE;
    run(s, a, &no_cache, jpeg[0], size[0], &first);
    run(s, a, &no_cache, jpeg[1], size[1], NULL);
    run(s, a, &no_cache, jpeg[1], size[1], NULL);
    CHECK(run(s, a, &base, jpeg[1], size[1], NULL) == 0);
    /* Another client: its own scope. */
    CHECK(run(s, b, &base, jpeg[0], size[0], &first) == 0);
    CHECK(run(s, b, &base, jpeg[0], size[0], &first) == 1);
    p2c2r_client_stats st;
    p2c2r_client_get_stats(a, &st);
    CHECK(st.cache_hits == 2);
    p2c2r_client_get_stats(b, &st);
    CHECK(st.cache_hits == 1);
    free(first.data);
}

/* --cache-shared: one client's result answers another's task. */
static void shared(p2c2r_client *a, p2c2r_client *b, seen *s)
{
    frame first = {0};
    CHECK(upscale(a, &base, jpeg[1], size[1], &first) == 0);
    s->misses++;
    CHECK(run(s, b, &base, jpeg[1], size[1], &first) == 1);
    CHECK(run(s, a, &base, jpeg[1], size[1], &first) == 1);
    free(first.data);
}

/* --cache-mb 0: nothing is kept. */
static void off(p2c2r_client *a, p2c2r_client *b, seen *s)
{
    for (int i = 0; i < 3; i++)
        CHECK(run(s, i == 1 ? b : a, &base, jpeg[0], size[0], NULL) == 0);
}

/* --cache-mb 1 and raw outputs of about 370 KiB, one per mode: two fit, three do not. */
static void eviction(p2c2r_client *a, p2c2r_client *b, seen *s)
{
    (void)b;
    p2c2r_upscale_desc fast = base, bicubic = base, lanczos = base;
    fast.output_codec = bicubic.output_codec = lanczos.output_codec = P2C2R_CODEC_RAW;
    fast.mode = P2C2R_MODE_FAST;
    bicubic.mode = P2C2R_MODE_BICUBIC;
    lanczos.mode = P2C2R_MODE_LANCZOS;
    frame out = {0};
    CHECK(upscale(a, &fast, jpeg[0], size[0], &out) == 0);
    s->misses++;
    /* Two such results fit in 1 MiB and three do not, whatever the cache's small overhead
     * per entry (well under 4 KiB). */
    size_t per = size[0] + out.size;
    CHECK((1u << 20) / per == 2 && (1u << 20) / (per + 4096) == 2);
    CHECK(run(s, a, &bicubic, jpeg[0], size[0], NULL) == 0);
    CHECK(run(s, a, &lanczos, jpeg[0], size[0], NULL) == 0); /* evicts fast */
    CHECK(run(s, a, &lanczos, jpeg[0], size[0], NULL) == 1); /* the most recent is there */
    CHECK(run(s, a, &fast, jpeg[0], size[0], &out) == 0);    /* the first is gone */
    /* Storing it again pushed out the least recently used: bicubic, not lanczos. */
    CHECK(run(s, a, &fast, jpeg[0], size[0], &out) == 1);
    CHECK(run(s, a, &lanczos, jpeg[0], size[0], NULL) == 1);
    CHECK(run(s, a, &bicubic, jpeg[0], size[0], NULL) == 0); /* evicts fast */
    free(out.data);
}

typedef void scenario(p2c2r_client *a, p2c2r_client *b, seen *s);

/* One coordinator with args and a peer, two clients, the scenario, and the counts checked
 * (evictions: what the cache's line must say, -1 when the cache is off). */
static void with_cluster(const char *what, const char *const *args, scenario *fn, long evictions)
{
    cluster cl = {0};
    if (start(&cl, args)) {
        CHECK(0);
        return;
    }
    seen s = {0};
    p2c2r_client *a = client_new(&cl), *b = client_new(&cl);
    if (a && b)
        fn(a, b, &s);
    p2c2r_client_destroy(&a);
    p2c2r_client_destroy(&b);
    stop_and_check(&cl, &s, evictions, what);
}

int main(void)
{
    static const char *const names[] = {"bythewater_420.jpg", "path_444.jpg"};
    for (int i = 0; i < 2; i++) {
        jpeg[i] = testutil_read_file(testutil_data_path(names[i]), &size[i]);
        if (!jpeg[i])
            return 1;
    }
    const char *const on[] = {"--cache-mb", "64", NULL};
    const char *const shared_on[] = {"--cache-mb", "64", "--cache-shared", NULL};
    const char *const zero[] = {"--cache-mb", "0", NULL};
    const char *const small[] = {"--cache-mb", "1", NULL};
    with_cluster("per client", on, per_client, 0);
    with_cluster("shared", shared_on, shared, 0);
    with_cluster("off", zero, off, -1);
    with_cluster("eviction", small, eviction, 3);
    for (int i = 0; i < 2; i++)
        free(jpeg[i]);
    return testutil_finish("cache_test");
}
