/* p2c2r: command line client. `p2c2r upscale` pushes image files through a cluster the way
 * a game would push frames: a window of frames in flight, outputs written as they come
 * back, and a summary of throughput and latency at the end. `p2c2r video` (video.c)
 * upscales a raw video stream from stdin to stdout.
 *
 * It uses only the public SDK (p2c2r.h), so it doubles as an example of embedding it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clikeys.h"
#include "cliutil.h"
#include "p2c2r.h"
#include "status.h"
#include "video.h"

typedef struct cli_options {
    const char *coordinator; /* clients endpoint */
    const char *outdir;      /* where outputs go (NULL: not written) */
    p2c2r_upscale_desc desc; /* shared by every frame; codec set per file */
    uint32_t window;         /* frames in flight */
    cli_keys keys;           /* CurveZMQ keys (none: plain TCP) */
} cli_options;

typedef struct cli_frame {
    const char *path; /* input file */
    uint64_t task_id; /* SDK id once submitted */
    int submitted;    /* whether it is in flight */
} cli_frame;

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: p2c2r upscale [OPTIONS] FILE...\n"
        "       p2c2r video --size WxH --fps N [OPTIONS]   (p2c2r video --help)\n"
        "       p2c2r keygen [--out NAME]                  (p2c2r keygen --help)\n"
        "       p2c2r status --metrics HOST:PORT [--json]  (p2c2r status --help)\n"
        "Upscale JPEG files through a P2C2R cluster and report throughput and latency.\n\n"
        "  --coordinator ENDPOINT  coordinator's clients endpoint (default tcp://127.0.0.1:7700)\n"
        "  --scale N               integer factor 1..8 (default 2)\n"
        "  --mode MODE             fast (bilinear), bicubic (Catmull-Rom), lanczos\n"
        "                          (Lanczos-3) or quality (edge-adaptive upsampling and\n"
        "                          sharpening, FSR 1-like; much slower) (default fast)\n"
        "  --quality Q             output JPEG quality 1..100 (default 90)\n"
        "  --window N              frames in flight (default 8)\n"
        "  --deadline-ms MS        per-frame deadline (default 10000)\n"
        "  --priority P            larger runs first (default 0)\n"
        "  -o, --outdir DIR        write outputs there as NNNN_NAME.jpg\n"
        "  --curve-secret FILE     connect with CurveZMQ using this secret key file\n"
        "  --coordinator-key KEY   the coordinator's public key: key file or 40 Z85 chars\n"
        "  -h, --help              show this help\n\n"
        "Prints one line per failed frame on stderr and a summary line on stdout:\n"
        "  summary: frames=N ok=N errors=N seconds=S frames_per_s=F p50_ms=L p99_ms=L\n"
        "Exit status: 0 when every frame came back, 1 when some failed, 2 on bad usage.\n");
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (buf = malloc((size_t)st.st_size)) &&
        fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
        *size = (size_t)st.st_size;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int write_output(const char *outdir, size_t index, const char *input, const p2c2r_result *r)
{
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    char name[4096];
    int n = snprintf(name, sizeof name, "%s/%04zu_%s", outdir, index, base);
    /* Name the file after what it holds. */
    char *dot = strrchr(name, '.');
    if (dot && dot > strrchr(name, '/'))
        *dot = '\0';
    if (n < 0 || (size_t)n >= sizeof name - 8)
        return -1;
    strcat(name, p2c2r_result_codec(r) == P2C2R_CODEC_JPEG   ? ".jpg"
                 : p2c2r_result_codec(r) == P2C2R_CODEC_ZSTD ? ".zst"
                                                             : ".raw");
    size_t size;
    const void *data = p2c2r_result_data(r, &size);
    FILE *f = fopen(name, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int run_upscale(cli_options *opt, char **files, size_t nfiles)
{
    p2c2r_client_config config = {
        .coordinator = opt->coordinator,
        .max_in_flight = opt->window,
    };
    if (cli_keys_apply(&opt->keys, &config))
        return 2;
    int err = 0;
    p2c2r_client *client = p2c2r_client_new(&config, &err);
    if (!client) {
        fprintf(stderr, "p2c2r: cannot create client for %s: %s\n", opt->coordinator,
                p2c2r_strerror(err));
        return 1;
    }
    cli_frame *frames = calloc(nfiles, sizeof *frames);
    double *latency_ms = calloc(nfiles, sizeof *latency_ms);
    if (!frames || !latency_ms) {
        fprintf(stderr, "p2c2r: out of memory\n");
        free(frames);
        free(latency_ms);
        p2c2r_client_destroy(&client);
        return 1;
    }
    size_t next = 0, finished = 0, ok = 0, errors = 0, inflight = 0;
    uint64_t compute_us = 0, queue_us = 0, bytes_in = 0, bytes_out = 0;
    double start = cli_now_s();
    while (finished < nfiles) {
        while (next < nfiles && inflight < opt->window) {
            cli_frame *f = &frames[next];
            f->path = files[next];
            size_t size = 0;
            unsigned char *data = read_file(f->path, &size);
            int readable = data != NULL;
            int rc = readable ? p2c2r_submit_upscale(client, &opt->desc, data, size, &f->task_id)
                              : P2C2R_E_IO;
            free(data);
            next++;
            if (rc != P2C2R_OK) {
                fprintf(stderr, "p2c2r: %s: %s%s\n", f->path, p2c2r_strerror(rc),
                        readable ? "" : " (cannot read the file)");
                errors++;
                finished++;
                continue;
            }
            bytes_in += size;
            f->submitted = 1;
            inflight++;
        }
        if (inflight == 0)
            continue;
        p2c2r_result *r = NULL;
        if (p2c2r_poll(client, 1000, &r) != P2C2R_OK)
            continue; /* every task ends: the SDK ends silent ones at their deadline */
        size_t i = 0;
        while (i < nfiles && !(frames[i].submitted && frames[i].task_id == p2c2r_result_task_id(r)))
            i++;
        if (i == nfiles) {
            fprintf(stderr, "p2c2r: result for unknown task %llu\n",
                    (unsigned long long)p2c2r_result_task_id(r));
            p2c2r_result_free(&r);
            continue;
        }
        frames[i].submitted = 0;
        inflight--;
        finished++;
        p2c2r_timings t;
        p2c2r_result_timings(r, &t);
        int status = p2c2r_result_status(r);
        if (status == P2C2R_OK && opt->outdir && write_output(opt->outdir, i, frames[i].path, r)) {
            fprintf(stderr, "p2c2r: %s: cannot write output: %s\n", frames[i].path,
                    strerror(errno));
            status = P2C2R_E_IO;
        }
        if (status == P2C2R_OK) {
            size_t size;
            p2c2r_result_data(r, &size);
            latency_ms[ok++] = (double)t.total_us / 1000.0;
            compute_us += t.decode_us + t.compute_us + t.encode_us;
            queue_us += t.queue_us;
            bytes_out += size;
        } else {
            fprintf(stderr, "p2c2r: %s: %s: %s\n", frames[i].path, p2c2r_errname(status),
                    p2c2r_result_detail(r)[0] ? p2c2r_result_detail(r) : p2c2r_strerror(status));
            errors++;
        }
        p2c2r_result_free(&r);
    }
    double seconds = cli_now_s() - start;
    cli_sort(latency_ms, ok);
    printf("summary: frames=%zu ok=%zu errors=%zu seconds=%.3f frames_per_s=%.2f p50_ms=%.1f "
           "p99_ms=%.1f\n",
           nfiles, ok, errors, seconds, seconds > 0 ? (double)ok / seconds : 0.0,
           cli_percentile(latency_ms, ok, 50), cli_percentile(latency_ms, ok, 99));
    if (ok)
        printf("detail: in=%.1f MB out=%.1f MB mean_peer_work_ms=%.1f mean_queue_ms=%.1f\n",
               (double)bytes_in / 1e6, (double)bytes_out / 1e6,
               (double)compute_us / 1000.0 / (double)ok, (double)queue_us / 1000.0 / (double)ok);
    free(frames);
    free(latency_ms);
    p2c2r_client_destroy(&client);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "video") == 0)
        return cli_video_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "keygen") == 0)
        return cli_keygen_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return cli_status_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "upscale") != 0) {
        fprintf(stderr, "p2c2r: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    cli_options opt = {
        .coordinator = "tcp://127.0.0.1:7700",
        .desc = {.codec = P2C2R_CODEC_JPEG,
                 .scale = 2,
                 .mode = P2C2R_MODE_FAST,
                 .output_codec = P2C2R_CODEC_JPEG,
                 .jpeg_quality = 90,
                 .deadline_ms = 10000},
        .window = 8,
    };
    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"scale", required_argument, NULL, 's'},
        {"mode", required_argument, NULL, 'm'},
        {"quality", required_argument, NULL, 'q'},
        {"window", required_argument, NULL, 'w'},
        {"deadline-ms", required_argument, NULL, 'd'},
        {"priority", required_argument, NULL, 'p'},
        {"outdir", required_argument, NULL, 'o'},
        {"curve-secret", required_argument, NULL, 'K'},
        {"coordinator-key", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt.coordinator = optarg;
            break;
        case 's':
            if (cli_parse_u32(optarg, "--scale", 1, 8, &opt.desc.scale))
                return 2;
            break;
        case 'm':
            if (cli_parse_mode(optarg, &opt.desc.mode))
                return 2;
            break;
        case 'q':
            if (cli_parse_u32(optarg, "--quality", 1, 100, &opt.desc.jpeg_quality))
                return 2;
            break;
        case 'w':
            if (cli_parse_u32(optarg, "--window", 1, 4096, &opt.window))
                return 2;
            break;
        case 'd':
            if (cli_parse_u32(optarg, "--deadline-ms", 1, 3600000, &opt.desc.deadline_ms))
                return 2;
            break;
        case 'p':
            if (cli_parse_u32(optarg, "--priority", 0, UINT32_MAX, &opt.desc.priority))
                return 2;
            break;
        case 'o':
            opt.outdir = optarg;
            break;
        case 'K':
            opt.keys.secret_file = optarg;
            break;
        case 'C':
            opt.keys.coordinator = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "p2c2r: no input files\n");
        usage(stderr);
        return 2;
    }
    if (opt.outdir && mkdir(opt.outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "p2c2r: cannot create %s: %s\n", opt.outdir, strerror(errno));
        return 2;
    }
    return run_upscale(&opt, argv + optind, (size_t)(argc - optind));
}
