/* fallback_test: with the local fallback on, every frame is delivered by its deadline while
 * the cluster fails under it.
 *
 * A game loop at 60 frames/s submits a 160x90 yuv420p frame each tick for a 2x bicubic
 * upscale with a 50 ms deadline, takes what is ready without waiting, and never stops. A
 * second thread meanwhile kills a peer and brings it back, kills the coordinator (SIGKILL)
 * and restarts it 1.5 s later, kills both peers, brings them back and lets one leave
 * cleanly. Every frame must end exactly once, OK, with the right size, within its 50 ms
 * (as the SDK measured from submit() to delivery), some from the cluster and some local;
 * the split is printed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "testutil.h"

#define WIDTH       160
#define HEIGHT      90
#define FPS         60
#define DEADLINE_MS 50
#define SECONDS     10
#define FRAMES      (FPS * SECONDS)

/* What the chaos thread does, and when (ms after the game loop starts). */
typedef enum chaos_op {
    KILL_PEER,
    START_PEER,
    KILL_COORDINATOR,
    START_COORDINATOR,
    BYE_PEER
} chaos_op;
typedef struct chaos_step {
    uint32_t at_ms; /* when */
    chaos_op op;    /* what */
    int peer;       /* which peer, for peer steps */
} chaos_step;

static const chaos_step steps[] = {
    {1500, KILL_PEER, 0},         {2500, START_PEER, 0}, {3500, KILL_COORDINATOR, 0},
    {5000, START_COORDINATOR, 0}, {6500, KILL_PEER, 0},  {6500, KILL_PEER, 1},
    {7500, START_PEER, 0},        {7500, START_PEER, 1}, {8500, BYE_PEER, 1},
};

typedef struct chaos {
    cluster *cl;        /* the cluster it breaks */
    uint64_t start_us;  /* when the game loop started */
    atomic_bool failed; /* a step could not be done */
} chaos;

static const char *const peer_args[] = {"--slots",        "2",   "--threads", "1",
                                        "--heartbeat-ms", "100", NULL};

static void *chaos_main(void *arg)
{
    chaos *ch = arg;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const chaos_step *s = &steps[i];
        uint64_t at = ch->start_us + s->at_ms * 1000ull, now = p2c2r__now_us();
        if (at > now)
            usleep((useconds_t)(at - now));
        int rc = 0;
        switch (s->op) {
        case KILL_PEER:
            cluster_kill_peer(ch->cl, s->peer, SIGKILL);
            break;
        case BYE_PEER:
            cluster_kill_peer(ch->cl, s->peer, SIGTERM);
            break;
        case START_PEER:
            rc = cluster_restart_peer(ch->cl, s->peer, peer_args);
            break;
        case KILL_COORDINATOR:
            kill(ch->cl->coordinator, SIGKILL);
            break;
        case START_COORDINATOR:
            rc = cluster_restart_coordinator(ch->cl, SIGKILL, NULL);
            break;
        }
        printf("   %5.0f ms: step %zu done\n", (p2c2r__now_us() - ch->start_us) / 1000.0, i);
        if (rc != 0)
            atomic_store(&ch->failed, true);
    }
    return NULL;
}

/* One frame's fate. */
typedef struct frame_end {
    uint64_t total_us;          /* submit to delivery */
    int status;                 /* how it ended */
    p2c2r_source source;        /* where it was computed */
    size_t size;                /* output bytes */
    char why[80];               /* a local result's reason */
    uint64_t queue_us, work_us; /* local: before it started, and its run */
} frame_end;

static uint64_t ids[FRAMES];
static int seen[FRAMES];
static frame_end ends[FRAMES];

static int collect(p2c2r_client *client, int timeout_ms)
{
    int n = 0;
    p2c2r_result *r;
    while (p2c2r_poll(client, timeout_ms, &r) == P2C2R_OK) {
        int i = testutil_task_ended(ids, seen, FRAMES, p2c2r_result_task_id(r));
        if (i >= 0) {
            p2c2r_timings t;
            p2c2r_result_timings(r, &t);
            ends[i].total_us = t.total_us;
            ends[i].status = p2c2r_result_status(r);
            ends[i].source = p2c2r_result_source(r);
            p2c2r_result_data(r, &ends[i].size);
            snprintf(ends[i].why, sizeof ends[i].why, "%s", p2c2r_result_detail(r));
            ends[i].queue_us = t.queue_us;
            ends[i].work_us = t.decode_us + t.compute_us + t.encode_us;
            if (ends[i].status != P2C2R_OK)
                fprintf(stderr, "frame %d: %s: %s\n", i, p2c2r_errname(ends[i].status),
                        p2c2r_result_detail(r));
        }
        p2c2r_result_free(&r);
        n++;
    }
    return n;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0 ||
        cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {
        .coordinator = cl.client_endpoint,
        .max_in_flight = 16,
        .fallback = P2C2R_FALLBACK_LOCAL,
    };
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    static uint8_t frame[WIDTH * HEIGHT * 3 / 2];
    p2c2r_upscale_desc desc = {
        .codec = P2C2R_CODEC_RAW,
        .pixel_format = P2C2R_PIX_YUV420P,
        .width = WIDTH,
        .height = HEIGHT,
        .scale = 2,
        .mode = P2C2R_MODE_BICUBIC,
        .output_codec = P2C2R_CODEC_RAW,
        .deadline_ms = DEADLINE_MS,
    };
    printf("%d frames at %d/s, %dx%d -> %dx%d bicubic, deadline %d ms; meanwhile:\n", FRAMES, FPS,
           WIDTH, HEIGHT, 2 * WIDTH, 2 * HEIGHT, DEADLINE_MS);
    chaos ch = {.cl = &cl, .start_us = p2c2r__now_us()};
    pthread_t chaos_thread;
    pthread_create(&chaos_thread, NULL, chaos_main, &ch);
    int ended = 0, refused = 0;
    for (int i = 0; client && i < FRAMES; i++) {
        uint64_t tick = ch.start_us + (uint64_t)i * 1000000u / FPS, now = p2c2r__now_us();
        if (tick > now)
            usleep((useconds_t)(tick - now));
        for (size_t k = 0; k < sizeof frame; k++)
            frame[k] = (uint8_t)(k * 7 + (size_t)i);
        int rc = p2c2r_submit_upscale(client, &desc, frame, sizeof frame, &ids[i]);
        if (rc != P2C2R_OK) {
            fprintf(stderr, "frame %d: submit: %s\n", i, p2c2r_errname(rc));
            refused++;
        }
        ended += collect(client, 0);
    }
    pthread_join(chaos_thread, NULL);
    /* The last frames: each ends within its deadline, so a second is plenty. */
    uint64_t until = p2c2r__now_us() + 1000000u;
    while (client && ended < FRAMES - refused && p2c2r__now_us() < until)
        ended += collect(client, 100);
    CHECK(!atomic_load(&ch.failed));

    int ok = 0, on_time = 0, local = 0, cluster_made = 0, right_size = 0;
    uint64_t lat[FRAMES];
    int nlat = 0;
    for (int i = 0; i < FRAMES; i++) {
        if (!seen[i] || ends[i].status != P2C2R_OK)
            continue;
        ok++;
        on_time += ends[i].total_us <= DEADLINE_MS * 1000u;
        local += ends[i].source == P2C2R_SOURCE_LOCAL;
        cluster_made += ends[i].source == P2C2R_SOURCE_CLUSTER;
        right_size += ends[i].size == (size_t)(2 * WIDTH) * (2 * HEIGHT) * 3 / 2;
        if (ends[i].total_us > DEADLINE_MS * 1000u)
            fprintf(stderr, "frame %d late: %.1f ms (%s: %s; started at %.1f ms, ran %.1f ms)\n", i,
                    ends[i].total_us / 1000.0,
                    ends[i].source == P2C2R_SOURCE_LOCAL ? "local" : "cluster", ends[i].why,
                    ends[i].queue_us / 1000.0, ends[i].work_us / 1000.0);
        lat[nlat++] = ends[i].total_us;
    }
    qsort(lat, (size_t)nlat, sizeof *lat, compare_u64);
    const char *reasons[8] = {0};
    int counts[8] = {0};
    for (int i = 0; i < FRAMES; i++) {
        if (!seen[i] || ends[i].source != P2C2R_SOURCE_LOCAL)
            continue;
        int k = 0;
        while (k < 8 && reasons[k] && strcmp(reasons[k], ends[i].why) != 0)
            k++;
        if (k < 8) {
            reasons[k] = ends[i].why;
            counts[k]++;
        }
    }
    for (int k = 0; k < 8 && reasons[k]; k++)
        printf("   %d x %s\n", counts[k], reasons[k]);
    p2c2r_client_stats s = {0};
    if (client)
        p2c2r_client_get_stats(client, &s);
    printf("frames %d: ended %d, ok %d, on time %d (%.1f%%), cluster %d, local %d; latency p50 "
           "%.1f ms, p99 %.1f ms, max %.1f ms; late cluster answers dropped %llu\n",
           FRAMES, ended, ok, on_time, 100.0 * on_time / FRAMES, cluster_made, local,
           nlat ? lat[nlat / 2] / 1000.0 : 0, nlat ? lat[(nlat * 99 + 99) / 100 - 1] / 1000.0 : 0,
           nlat ? lat[nlat - 1] / 1000.0 : 0, (unsigned long long)s.dropped_answers);
    CHECK(refused == 0);
    CHECK(ended == FRAMES);
    CHECK(ok == FRAMES);
    CHECK(on_time == FRAMES);
    CHECK(right_size == FRAMES);
    CHECK(cluster_made > 0 && local > 0);
    CHECK(s.late == 0 && s.errors == 0);
    p2c2r_client_destroy(&client);
    cluster_stop(&cl); /* peers killed on purpose end badly */
    return testutil_finish("fallback_test");
}
