/* video: see video.h. */
#include "video.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cliutil.h"
#include "p2c2r.h"

#define DEFAULT_WINDOW 16u
/* Progress lines on a terminal, at most this often. */
#define PROGRESS_S     0.5

typedef struct video_options {
    const char *coordinator; /* clients endpoint */
    uint32_t width, height;  /* input frame size */
    uint32_t fps;            /* frames per second of the input */
    uint32_t scale;          /* factor */
    p2c2r_mode mode;         /* filter */
    uint32_t deadline_ms;    /* per frame, from when it is read */
    uint32_t window;         /* frames in flight */
    bool fallback;           /* upscale locally what the cluster cannot make in time */
    uint32_t local_threads;  /* fallback threads */
} video_options;

/* One frame between stdin and stdout. */
typedef struct video_slot {
    uint8_t *input;       /* the frame read, lent to the SDK */
    atomic_bool lent;     /* the SDK still reads input */
    bool used;            /* holds a frame not yet written */
    uint64_t task_id;     /* its task */
    p2c2r_result *result; /* its result, once in */
} video_slot;

typedef struct video_tally {
    size_t frames;      /* written */
    size_t on_time;     /* written from a result that came by its deadline */
    size_t cluster;     /* computed by the cluster */
    size_t local;       /* computed by the local fallback */
    size_t errors;      /* ended in an error (the previous frame written instead) */
    double *latency_ms; /* per frame written from a result */
    size_t nlatency;    /* of them */
    size_t cap;         /* allocated */
} video_tally;

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: p2c2r video --size WxH --fps N [OPTIONS]\n"
        "Upscale raw yuv420p frames from stdin through a P2C2R cluster and write the\n"
        "upscaled raw yuv420p frames to stdout, in order, every frame.\n\n"
        "  --size WxH              input frame size (required)\n"
        "  --fps N                 input frame rate, 1..1000: frames are taken at most this\n"
        "                          fast, as from a live source (required)\n"
        "  --coordinator ENDPOINT  coordinator's clients endpoint (default tcp://127.0.0.1:7700)\n"
        "  --scale N               integer factor 1..8 (default 2)\n"
        "  --mode MODE             fast, bicubic, lanczos or quality (default fast)\n"
        "  --deadline-ms MS        per-frame deadline from when it is read (default three\n"
        "                          frame intervals, at least 50)\n"
        "  --window N              frames in flight, 1..1024 (default 16)\n"
        "  --local-threads N       threads of the local fallback, 1..64 (default 1)\n"
        "  --no-fallback           never upscale locally: a frame the cluster misses is\n"
        "                          replaced by the previous one\n"
        "  -h, --help              show this help\n\n"
        "Prints a progress line on stderr when it is a terminal, and at the end:\n"
        "  summary: frames=N on_time=N on_time_pct=P cluster=N local=N errors=N seconds=S "
        "p50_ms=L p99_ms=L\n"
        "Exit status: 0 when every frame was upscaled, 1 when some were not or the input\n"
        "ended in the middle of a frame, 2 on bad usage.\n");
}

static int parse_size(const char *text, uint32_t *w, uint32_t *h)
{
    char *x = strchr(text, 'x');
    if (!x) {
        fprintf(stderr, "p2c2r: --size needs WIDTHxHEIGHT, not '%s'\n", text);
        return -1;
    }
    char width[16];
    size_t n = (size_t)(x - text);
    if (n == 0 || n >= sizeof width) {
        fprintf(stderr, "p2c2r: --size needs WIDTHxHEIGHT, not '%s'\n", text);
        return -1;
    }
    memcpy(width, text, n);
    width[n] = '\0';
    return cli_parse_u32(width, "--size width", 2, 16384, w) ||
                   cli_parse_u32(x + 1, "--size height", 2, 16384, h)
               ? -1
               : 0;
}

static size_t yuv420p_size(uint32_t w, uint32_t h)
{
    return (size_t)w * h + 2 * (size_t)((w + 1) / 2) * ((h + 1) / 2);
}

static void release_input(void *arg, const void *data)
{
    (void)data;
    video_slot *s = arg;
    atomic_store(&s->lent, false);
}

static void tally_latency(video_tally *t, double ms)
{
    if (t->nlatency == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        double *more = realloc(t->latency_ms, cap * sizeof *more);
        if (!more)
            return; /* the figure is lost, not the frame */
        t->latency_ms = more;
        t->cap = cap;
    }
    t->latency_ms[t->nlatency++] = ms;
}

static void progress(const video_tally *t, double start, bool last)
{
    double *sorted = t->nlatency ? malloc(t->nlatency * sizeof *sorted) : NULL;
    if (sorted) {
        memcpy(sorted, t->latency_ms, t->nlatency * sizeof *sorted);
        cli_sort(sorted, t->nlatency);
    }
    fprintf(stderr,
            "\rframes %zu  on time %.1f%%  cluster %zu  local %zu  errors %zu  p50 %.1f ms  "
            "p99 %.1f ms  %.1f s%s",
            t->frames, t->frames ? 100.0 * (double)t->on_time / (double)t->frames : 100.0,
            t->cluster, t->local, t->errors, sorted ? cli_percentile(sorted, t->nlatency, 50) : 0,
            sorted ? cli_percentile(sorted, t->nlatency, 99) : 0, cli_now_s() - start,
            last ? "\n" : "  ");
    free(sorted);
}

/* Write one frame's output: the result's, or for an error the last frame written (grey
 * before any), so the stream keeps its length. Returns -1 when stdout fails. */
static int write_frame(const p2c2r_result *r, uint8_t *last, size_t out_size, video_tally *t)
{
    size_t size = 0;
    const void *data = NULL;
    if (p2c2r_result_status(r) == P2C2R_OK) {
        data = p2c2r_result_data(r, &size);
        if (size != out_size) {
            fprintf(stderr, "p2c2r: task %llu: %zu bytes of output, not %zu\n",
                    (unsigned long long)p2c2r_result_task_id(r), size, out_size);
            data = NULL;
        }
    } else {
        fprintf(stderr, "p2c2r: frame %zu: %s: %s\n", t->frames,
                p2c2r_errname(p2c2r_result_status(r)), p2c2r_result_detail(r));
    }
    p2c2r_timings tm;
    p2c2r_result_timings(r, &tm);
    if (data) {
        memcpy(last, data, out_size);
        tally_latency(t, (double)tm.total_us / 1000.0);
        t->on_time += tm.total_us <= (uint64_t)p2c2r_result_deadline_ms(r) * 1000u;
        if (p2c2r_result_source(r) == P2C2R_SOURCE_LOCAL)
            t->local++;
        else
            t->cluster++;
    } else {
        t->errors++;
    }
    t->frames++;
    if (fwrite(last, 1, out_size, stdout) != out_size) {
        fprintf(stderr, "p2c2r: cannot write to stdout: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Read one frame; 1 when read, 0 at a clean end, -1 when the input ends inside a frame. */
static int read_frame(uint8_t *buf, size_t size)
{
    size_t got = fread(buf, 1, size, stdin);
    if (got == size)
        return 1;
    if (got == 0 && feof(stdin))
        return 0;
    fprintf(stderr, "p2c2r: stdin ended %zu bytes into a frame of %zu\n", got, size);
    return -1;
}

static int run_video(const video_options *o)
{
    p2c2r_client_config config = {
        .coordinator = o->coordinator,
        .max_in_flight = o->window,
        .fallback = o->fallback ? P2C2R_FALLBACK_LOCAL : P2C2R_FALLBACK_NONE,
        .local_threads = o->local_threads,
    };
    int err = 0, status = 0;
    double start = cli_now_s();
    p2c2r_client *client = p2c2r_client_new(&config, &err);
    if (!client) {
        fprintf(stderr, "p2c2r: cannot create client for %s: %s\n", o->coordinator,
                p2c2r_strerror(err));
        return 1;
    }
    size_t in_size = yuv420p_size(o->width, o->height);
    size_t out_size = yuv420p_size(o->width * o->scale, o->height * o->scale);
    video_slot *slots = calloc(o->window, sizeof *slots);
    uint8_t *last = malloc(out_size);
    video_tally t = {0};
    bool oom = !slots || !last;
    for (uint32_t i = 0; slots && i < o->window; i++) {
        slots[i].input = malloc(in_size);
        atomic_init(&slots[i].lent, false);
        oom |= !slots[i].input;
    }
    if (oom) {
        fprintf(stderr, "p2c2r: out of memory\n");
        status = 1;
        goto done;
    }
    memset(last, 128, out_size); /* grey, until a first frame comes */
    p2c2r_upscale_desc desc = {
        .codec = P2C2R_CODEC_RAW,
        .pixel_format = P2C2R_PIX_YUV420P,
        .width = o->width,
        .height = o->height,
        .scale = o->scale,
        .mode = o->mode,
        .output_codec = P2C2R_CODEC_RAW,
        .deadline_ms = o->deadline_ms,
    };
    bool interactive = isatty(STDERR_FILENO);
    start = cli_now_s();
    double shown = start, interval = 1.0 / o->fps;
    uint64_t read = 0, written = 0;
    bool eof = false;
    while (!eof || written < read) {
        video_slot *next = &slots[read % o->window];
        double due = start + (double)read * interval;
        if (!eof && read - written < o->window && !atomic_load(&next->lent) && cli_now_s() >= due) {
            int got = read_frame(next->input, in_size);
            if (got <= 0) {
                eof = true;
                status |= got < 0;
                continue;
            }
            atomic_store(&next->lent, true);
            int rc = p2c2r_submit_upscale_lent(client, &desc, next->input, in_size, release_input,
                                               next, &next->task_id);
            if (rc != P2C2R_OK) {
                atomic_store(&next->lent, false);
                fprintf(stderr, "p2c2r: cannot submit frame %llu: %s\n", (unsigned long long)read,
                        p2c2r_strerror(rc));
                status = 1;
                eof = true;
                continue;
            }
            next->used = true;
            read++;
            continue;
        }
        /* Wait for a result, but not past the next frame's time; while the next slot's
         * frame is still lent to the SDK (its release comes just after its result), check
         * again in a millisecond rather than spin. */
        double wait = !eof && read - written < o->window ? due - cli_now_s() : 0.1;
        int timeout = wait > 0 ? (int)(wait * 1000.0) + 1 : atomic_load(&next->lent) ? 1 : 0;
        if (timeout > 100)
            timeout = 100;
        p2c2r_result *r = NULL;
        if (p2c2r_poll(client, timeout, &r) == P2C2R_OK) {
            for (uint32_t i = 0; i < o->window; i++)
                if (slots[i].used && !slots[i].result &&
                    slots[i].task_id == p2c2r_result_task_id(r)) {
                    slots[i].result = r;
                    r = NULL;
                    break;
                }
            p2c2r_result_free(&r); /* not ours: cannot happen */
        }
        for (video_slot *s = &slots[written % o->window]; written < read && s->result;
             s = &slots[written % o->window]) {
            int rc = write_frame(s->result, last, out_size, &t);
            p2c2r_result_free(&s->result);
            s->used = false;
            written++;
            if (rc != 0) {
                status = 1;
                goto done;
            }
        }
        if (interactive && cli_now_s() - shown >= PROGRESS_S) {
            shown = cli_now_s();
            progress(&t, start, false);
        }
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "p2c2r: cannot write to stdout: %s\n", strerror(errno));
        status = 1;
    }
    if (interactive)
        progress(&t, start, true);
done:
    p2c2r_client_destroy(&client); /* every lent frame is released by then */
    double seconds = cli_now_s() - start;
    cli_sort(t.latency_ms, t.nlatency);
    fprintf(stderr,
            "summary: frames=%zu on_time=%zu on_time_pct=%.1f cluster=%zu local=%zu errors=%zu "
            "seconds=%.3f p50_ms=%.1f p99_ms=%.1f\n",
            t.frames, t.on_time, t.frames ? 100.0 * (double)t.on_time / (double)t.frames : 100.0,
            t.cluster, t.local, t.errors, seconds, cli_percentile(t.latency_ms, t.nlatency, 50),
            cli_percentile(t.latency_ms, t.nlatency, 99));
    for (uint32_t i = 0; slots && i < o->window; i++) {
        p2c2r_result_free(&slots[i].result);
        free(slots[i].input);
    }
    free(slots);
    free(last);
    free(t.latency_ms);
    return status || t.errors ? 1 : 0;
}

int cli_video_main(int argc, char **argv)
{
    video_options o = {
        .coordinator = "tcp://127.0.0.1:7700",
        .scale = 2,
        .mode = P2C2R_MODE_FAST,
        .window = DEFAULT_WINDOW,
        .fallback = true,
        .local_threads = 1,
    };
    static const struct option options[] = {
        {"size", required_argument, NULL, 'S'},
        {"fps", required_argument, NULL, 'f'},
        {"coordinator", required_argument, NULL, 'c'},
        {"scale", required_argument, NULL, 's'},
        {"mode", required_argument, NULL, 'm'},
        {"deadline-ms", required_argument, NULL, 'd'},
        {"window", required_argument, NULL, 'w'},
        {"local-threads", required_argument, NULL, 'l'},
        {"no-fallback", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'S':
            bad = parse_size(optarg, &o.width, &o.height);
            break;
        case 'f':
            bad = cli_parse_u32(optarg, "--fps", 1, 1000, &o.fps);
            break;
        case 'c':
            o.coordinator = optarg;
            break;
        case 's':
            bad = cli_parse_u32(optarg, "--scale", 1, 8, &o.scale);
            break;
        case 'm':
            bad = cli_parse_mode(optarg, &o.mode);
            break;
        case 'd':
            bad = cli_parse_u32(optarg, "--deadline-ms", 1, 3600000, &o.deadline_ms);
            break;
        case 'w':
            bad = cli_parse_u32(optarg, "--window", 1, 1024, &o.window);
            break;
        case 'l':
            bad = cli_parse_u32(optarg, "--local-threads", 1, 64, &o.local_threads);
            break;
        case 'n':
            o.fallback = false;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            bad = 1;
        }
        if (bad) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !o.width || !o.fps) {
        fprintf(stderr, "p2c2r: video needs --size and --fps, and takes no files\n");
        usage(stderr);
        return 2;
    }
    if ((uint64_t)o.width * o.scale > 16384 || (uint64_t)o.height * o.scale > 16384) {
        fprintf(stderr, "p2c2r: the output %ux%u would pass 16384 pixels a side\n",
                o.width * o.scale, o.height * o.scale);
        return 2;
    }
    if (!o.deadline_ms) {
        o.deadline_ms = 3000u / o.fps;
        if (o.deadline_ms < 50)
            o.deadline_ms = 50;
    }
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away is a write error, reported */
    return run_video(&o);
}
