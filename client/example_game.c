/* p2c2r-example-game: the loop a game runs around the SDK, as small as it can be.
 *
 * Sixty times a second it draws a frame (a moving pattern, as small as a game's low-
 * resolution render target), submits it for a 2x upscale with a deadline of the frame
 * budget, takes every result that is ready without waiting, and presents the newest
 * upscaled frame it has, which may be the same as last tick's. It never waits for the
 * cluster: with the local fallback on, a frame the cluster cannot make in time is
 * upscaled on this machine instead. README.md walks through it.
 *
 *   p2c2r-example-game --coordinator tcp://HOST:7700 [--frames N] [--budget-ms MS]
 *                      [--adaptive] [--no-fallback]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2c2r.h"

#define WIDTH  320
#define HEIGHT 180
#define FPS    60

/* What the game shows and what it has learnt about the frames it sent. */
typedef struct game {
    uint64_t newest_shown;  /* frame number of the picture on screen (0: none yet) */
    uint64_t presented_new; /* ticks that showed a newer picture than the tick before */
    uint64_t repeated;      /* ticks that showed the same picture again */
    uint64_t cluster;       /* results computed by the cluster */
    uint64_t local;         /* by the local fallback */
    uint64_t late;          /* results that came after their deadline */
    uint64_t errors;        /* frames that ended in an error */
    uint64_t busy;          /* frames not submitted: the window was full */
    double longest_call_ms; /* the longest the game spent in one tick's SDK calls */
} game;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The game's renderer: a YUV 4:2:0 frame with a pattern that moves every frame. */
static void render(uint8_t *yuv, uint64_t frame)
{
    uint8_t *y = yuv, *u = yuv + WIDTH * HEIGHT, *v = u + (WIDTH / 2) * (HEIGHT / 2);
    for (int r = 0; r < HEIGHT; r++)
        for (int c = 0; c < WIDTH; c++)
            y[r * WIDTH + c] = (uint8_t)((c + r + frame * 4) ^ (r * 3));
    for (int r = 0; r < HEIGHT / 2; r++)
        for (int c = 0; c < WIDTH / 2; c++) {
            u[r * (WIDTH / 2) + c] = (uint8_t)(128 + (c - (int)(frame % 64)));
            v[r * (WIDTH / 2) + c] = (uint8_t)(128 + (r - 45));
        }
}

/* Take every finished frame without waiting; keep the newest picture. */
static void collect(p2c2r_client *client, game *g, const uint64_t *frame_of_task, size_t ring)
{
    p2c2r_result *r;
    while (p2c2r_poll(client, 0, &r) == P2C2R_OK) {
        uint64_t frame = frame_of_task[p2c2r_result_task_id(r) % ring];
        p2c2r_timings t;
        p2c2r_result_timings(r, &t);
        if (p2c2r_result_status(r) != P2C2R_OK) {
            g->errors++;
            fprintf(stderr, "frame %llu: %s: %s\n", (unsigned long long)frame,
                    p2c2r_errname(p2c2r_result_status(r)), p2c2r_result_detail(r));
        } else {
            g->late += t.total_us > p2c2r_result_deadline_ms(r) * 1000ull;
            if (p2c2r_result_source(r) == P2C2R_SOURCE_LOCAL)
                g->local++;
            else
                g->cluster++;
            /* A real game would upload p2c2r_result_data() to a texture here. */
            if (frame > g->newest_shown)
                g->newest_shown = frame;
        }
        p2c2r_result_free(&r);
    }
}

int main(int argc, char **argv)
{
    const char *coordinator = "tcp://127.0.0.1:7700";
    long frames = 600, budget_ms = 50;
    bool adaptive = false, fallback = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--coordinator") == 0 && i + 1 < argc)
            coordinator = argv[++i];
        else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
            frames = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--budget-ms") == 0 && i + 1 < argc)
            budget_ms = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--adaptive") == 0)
            adaptive = true;
        else if (strcmp(argv[i], "--no-fallback") == 0)
            fallback = false;
        else {
            fprintf(stderr,
                    "usage: %s [--coordinator ENDPOINT] [--frames N] [--budget-ms MS] "
                    "[--adaptive] [--no-fallback]\n",
                    argv[0]);
            return 2;
        }
    }
    if (frames < 1 || budget_ms < 1 || budget_ms > 10000) {
        fprintf(stderr, "%s: --frames needs 1 or more, --budget-ms 1..10000\n", argv[0]);
        return 2;
    }
    if (!P2C2R_VERSION_OK()) {
        fprintf(stderr, "built for libp2c2r %d.%d, running with %s\n", P2C2R_VERSION_MAJOR,
                P2C2R_VERSION_MINOR, p2c2r_version_string());
        return 1;
    }

    /* 1. One client for the game's life: the local fallback on, adaptive quality if
     *    asked (then the mode below is the best wanted, and the SDK may use less). */
    p2c2r_client_config config = {
        .coordinator = coordinator,
        .max_in_flight = 16,
        .fallback = fallback ? P2C2R_FALLBACK_LOCAL : P2C2R_FALLBACK_NONE,
        .frame_budget_ms = adaptive ? (uint32_t)budget_ms : 0,
    };
    int err;
    p2c2r_client *client = p2c2r_client_new(&config, &err);
    if (!client) {
        fprintf(stderr, "cannot start the SDK: %s\n", p2c2r_strerror(err));
        return 1;
    }
    p2c2r_upscale_desc desc = {
        .codec = P2C2R_CODEC_RAW,
        .pixel_format = P2C2R_PIX_YUV420P,
        .width = WIDTH,
        .height = HEIGHT,
        .scale = 2,
        .mode = adaptive ? P2C2R_MODE_LANCZOS : P2C2R_MODE_BICUBIC,
        .output_codec = P2C2R_CODEC_RAW,
        .deadline_ms = (uint32_t)budget_ms,
    };
    static uint8_t frame[WIDTH * HEIGHT * 3 / 2];
    uint64_t frame_of_task[64] = {0}; /* task id -> frame number, for the last 64 tasks */
    game g = {0};
    double start = now_ms();

    for (long tick = 1; tick <= frames; tick++) {
        /* 2. Draw this tick's frame and hand it over: submit() copies it and returns. */
        render(frame, (uint64_t)tick);
        double t0 = now_ms();
        uint64_t id;
        int rc = p2c2r_submit_upscale(client, &desc, frame, sizeof frame, &id);
        if (rc == P2C2R_OK)
            frame_of_task[id % 64] = (uint64_t)tick;
        else if (rc == P2C2R_E_BUSY)
            g.busy++; /* too many in flight: skip this one, never wait */
        else
            fprintf(stderr, "submit: %s\n", p2c2r_strerror(rc));

        /* 3. Take what is ready, without waiting, and present the newest picture. */
        uint64_t shown_before = g.newest_shown;
        collect(client, &g, frame_of_task, 64);
        double spent = now_ms() - t0;
        if (spent > g.longest_call_ms)
            g.longest_call_ms = spent;
        if (g.newest_shown > shown_before)
            g.presented_new++;
        else
            g.repeated++;

        /* 4. Wait for the next tick, as vsync would. */
        double next = start + (double)tick * 1000.0 / FPS;
        double left = next - now_ms();
        if (left > 0) {
            struct timespec ts = {0, (long)(left * 1e6)};
            nanosleep(&ts, NULL);
        }
    }

    /* 5. At the end, collect the last frames (only now is waiting fine). */
    while (p2c2r_client_pending(client)) {
        p2c2r_result *r;
        if (p2c2r_poll(client, 1000, &r) != P2C2R_OK)
            break;
        g.errors += p2c2r_result_status(r) != P2C2R_OK;
        if (p2c2r_result_status(r) == P2C2R_OK) {
            p2c2r_timings t;
            p2c2r_result_timings(r, &t);
            g.late += t.total_us > p2c2r_result_deadline_ms(r) * 1000ull;
            g.local += p2c2r_result_source(r) == P2C2R_SOURCE_LOCAL;
            g.cluster += p2c2r_result_source(r) == P2C2R_SOURCE_CLUSTER;
        }
        p2c2r_result_free(&r);
    }
    p2c2r_client_stats stats;
    p2c2r_client_get_stats(client, &stats);
    printf("summary: frames=%ld presented_new=%llu repeated=%llu cluster=%llu local=%llu "
           "late=%llu errors=%llu busy=%llu longest_call_ms=%.2f mode=%d\n",
           frames, (unsigned long long)g.presented_new, (unsigned long long)g.repeated,
           (unsigned long long)g.cluster, (unsigned long long)g.local, (unsigned long long)g.late,
           (unsigned long long)g.errors, (unsigned long long)g.busy, g.longest_call_ms,
           (int)stats.quality_mode);
    p2c2r_client_destroy(&client);
    return g.errors ? 1 : 0;
}
