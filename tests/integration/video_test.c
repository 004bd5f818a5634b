/* video_test: `p2c2r video` between two real ffmpeg processes upscales a video through a
 * real cluster, every frame, in order, and again while the coordinator is killed midway.
 *
 *   ffmpeg -f lavfi -i testsrc2=320x180:60 -pix_fmt yuv420p -f rawvideo - |
 *     p2c2r video --size 320x180 --fps 60 --coordinator C |
 *     ffmpeg -f rawvideo -pix_fmt yuv420p -s 640x360 -i - -c:v ffv1 out.mkv
 *
 * Checks, on what the second ffmpeg wrote: the frame count and size (ffprobe), every frame
 * byte for byte the project's CPU kernel's 2x bilinear upscale of the same input frame (the
 * cluster's peers and the SDK's fallback both run it), and its PSNR against ffmpeg's own
 * bilinear scale of the same video at least MIN_PSNR_DB (a check that does not rest on the
 * project's kernel: a frame shifted, swapped, mis-sited or of another frame falls far
 * below it). `p2c2r video`'s summary line must count every frame, none an error, from the
 * cluster in the first run and some local in the second (the coordinator killed after
 * KILL_AFTER_MS and left down: frames in flight then, and all after, go local). The
 * summaries are printed.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "runcmd.h"
#include "common/image.h"
#include "common/upscale/frame.h"
#include "testutil.h"

#define W             320
#define H             180
#define SCALE         2
#define FPS           60
#define MIN_PSNR_DB   40.0
#define KILL_AFTER_MS 700
/* Long enough that no frame misses it on a loaded machine: what is checked here is the
 * pipe (every frame, in order, right), not timing (fallback_test). */
#define DEADLINE_MS   1000

/* What p2c2r video's summary line said (-1: missing). */
typedef struct video_summary {
    long frames, on_time, cluster, local, errors;
    double on_time_pct, p50_ms, p99_ms;
} video_summary;

static char dir[] = "/tmp/p2c2r-video-XXXXXX";

/* dir/NAME.EXT, valid until the next call. */
static const char *file(const char *name, const char *ext)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    return path;
}

static video_summary read_summary(const char *path)
{
    video_summary s = {-1, -1, -1, -1, -1, -1, -1, -1};
    char line[1024];
    if (runcmd_last_line(path, "summary: ", line, sizeof line) != 0)
        return s;
    printf("   %s", line);
    s.frames = (long)runcmd_value(line, "frames");
    s.on_time = (long)runcmd_value(line, "on_time");
    s.on_time_pct = runcmd_value(line, "on_time_pct");
    s.cluster = (long)runcmd_value(line, "cluster");
    s.local = (long)runcmd_value(line, "local");
    s.errors = (long)runcmd_value(line, "errors");
    s.p50_ms = runcmd_value(line, "p50_ms");
    s.p99_ms = runcmd_value(line, "p99_ms");
    return s;
}

/* The pipeline of `frames` frames into dir/NAME.mkv, p2c2r's stderr into dir/NAME.err.
 * Started in the background; returns its pid. */
static pid_t start_pipeline(const char *cli, const char *endpoint, int frames, const char *name)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=%dx%d:rate=%d -frames:v %d "
             "-pix_fmt yuv420p -f rawvideo - | "
             "'%s' video --size %dx%d --fps %d --deadline-ms %d --coordinator '%s' 2>'%s/%s.err' | "
             "ffmpeg -nostdin -v error -f rawvideo -pix_fmt yuv420p -s %dx%d -r %d -i - "
             "-c:v ffv1 -y '%s/%s.mkv'",
             W, H, FPS, frames, cli, W, H, FPS, DEADLINE_MS, endpoint, dir, name, W * SCALE,
             H * SCALE, FPS, dir, name);
    return runcmd_start(cmd);
}

/* Frames and size of dir/NAME.mkv by ffprobe (decoding every frame). */
static bool probe(const char *name, int *frames, int *width, int *height)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
             "stream=width,height,nb_read_frames -of csv=p=0 '%s/%s.mkv' >'%s/%s.probe'",
             dir, name, dir, name);
    *frames = *width = *height = -1;
    if (runcmd(cmd) != 0)
        return false;
    FILE *f = fopen(file(name, "probe"), "r");
    bool ok = f && fscanf(f, "%d,%d,%d", width, height, frames) == 3;
    if (f)
        fclose(f);
    return ok;
}

/* Average PSNR (dB) of dir/NAME.mkv against dir/ref.mkv by ffmpeg's psnr filter; 1000 when
 * identical; -1 when it cannot be measured. */
static double psnr_vs_ffmpeg(const char *name)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -i '%s/%s.mkv' -i '%s/ref.mkv' -lavfi '[0][1]psnr=shortest=1' -f "
             "null - 2>&1 | "
             "grep -o 'average:[0-9.inf]*' | tail -1 | cut -d: -f2 >'%s/%s.psnr'",
             dir, name, dir, dir, name);
    if (runcmd(cmd) != 0)
        return -1;
    FILE *f = fopen(file(name, "psnr"), "r");
    char text[32] = "";
    bool ok = f && fgets(text, sizeof text, f);
    if (f)
        fclose(f);
    if (!ok)
        return -1;
    return strncmp(text, "inf", 3) == 0 ? 1000 : strtod(text, NULL);
}

/* Frames of dir/NAME.mkv (decoded to raw by ffmpeg) that are byte for byte the project's
 * CPU kernel's upscale of the same input frame; -1 when they cannot be read. */
static int frames_like_kernel(const char *name, const uint8_t *input, int frames)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s/%s.mkv' -f rawvideo -y '%s/%s.yuv'",
             dir, name, dir, name);
    if (runcmd(cmd) != 0)
        return -1;
    size_t size;
    uint8_t *out = testutil_read_file(file(name, "yuv"), &size);
    size_t in_frame = (size_t)W * H * 3 / 2, out_frame = in_frame * SCALE * SCALE;
    if (!out)
        return -1;
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    p2c2r_upscale_cache *cache = p2c2r__upscale_cache_new(16u << 20);
    int same = 0;
    for (int i = 0; jpeg && cache && i < frames && (size_t)(i + 1) * out_frame <= size; i++) {
        p2c2r_frame_request req = {
            .codec = P2C2R_CODEC_RAW,
            .format = P2C2R_PIX_YUV420P,
            .width = W,
            .height = H,
            .data = input + (size_t)i * in_frame,
            .size = in_frame,
            .scale = SCALE,
            .mode = P2C2R_MODE_FAST,
            .output_codec = P2C2R_CODEC_RAW,
        };
        p2c2r_frame_output o = {0};
        if (p2c2r__frame_upscale(jpeg, cache, p2c2r__upscale_simd(), &req, &o) != P2C2R_OK)
            continue;
        if (o.size == out_frame && memcmp(o.data, out + (size_t)i * out_frame, out_frame) == 0)
            same++;
        else
            fprintf(stderr, "%s: frame %d differs from the kernel's\n", name, i);
        o.free_fn(o.data, NULL);
    }
    p2c2r__upscale_cache_destroy(&cache);
    p2c2r__jpeg_destroy(&jpeg);
    free(out);
    return same;
}

/* Every check on one run's output. */
static void check_run(const char *name, int frames, const uint8_t *input, video_summary *s)
{
    int n, w, h;
    CHECK(probe(name, &n, &w, &h));
    printf("   %s.mkv: %d frames of %dx%d\n", name, n, w, h);
    CHECK(n == frames && w == W * SCALE && h == H * SCALE);
    double db = psnr_vs_ffmpeg(name);
    printf("   PSNR against ffmpeg's bilinear scale: %.2f dB (at least %.0f wanted)\n", db,
           MIN_PSNR_DB);
    CHECK(db >= MIN_PSNR_DB);
    int same = frames_like_kernel(name, input, frames);
    printf("   frames identical to the CPU kernel's: %d of %d\n", same, frames);
    CHECK(same == frames);
    *s = read_summary(file(name, "err"));
    CHECK(testutil_count_lines(file(name, "err"), "  on time ") ==
          0); /* progress: terminals only */
    CHECK(s->frames == frames && s->errors == 0 && s->cluster + s->local == frames);
}

static const char *const peer_args[] = {"--slots", "2", "--threads", "1", NULL};

int main(void)
{
    const char *cli = getenv("P2C2R_CLI_BIN");
    if (!cli || !mkdtemp(dir)) {
        fprintf(stderr, "video_test: needs P2C2R_CLI_BIN and a temporary folder\n");
        return 1;
    }
    if (runcmd("command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null") != 0) {
        fprintf(stderr,
                "video_test: needs ffmpeg and ffprobe (Debian's ffmpeg, scripts/deps.sh)\n");
        return 1;
    }
    /* The input as raw frames, and ffmpeg's own upscale of it, to compare with. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=%dx%d:rate=%d -frames:v %d "
             "-pix_fmt yuv420p -f rawvideo -y '%s/in.yuv' && "
             "ffmpeg -nostdin -v error -f rawvideo -pix_fmt yuv420p -s %dx%d -r %d -i '%s/in.yuv' "
             "-vf scale=%d:%d:flags=bilinear -c:v ffv1 -y '%s/ref.mkv'",
             W, H, FPS, 2 * FPS, dir, W, H, FPS, dir, W * SCALE, H * SCALE, dir);
    CHECK(runcmd(cmd) == 0);
    size_t in_size = 0;
    uint8_t *input = testutil_read_file(file("in", "yuv"), &in_size);
    CHECK(input && in_size == (size_t)W * H * 3 / 2 * 2 * FPS);

    cluster cl = {0};
    if (!input || cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0 ||
        cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    printf("1. %d frames %dx%d at %d/s through the cluster, 2x fast:\n", FPS, W, H, FPS);
    video_summary s;
    CHECK(runcmd_wait(start_pipeline(cli, cl.client_endpoint, FPS, "cluster")) == 0);
    check_run("cluster", FPS, input, &s);
    CHECK(s.cluster > 0);

    printf("2. %d frames, the coordinator killed after %d ms and left down:\n", 2 * FPS,
           KILL_AFTER_MS);
    pid_t pid = start_pipeline(cli, cl.client_endpoint, 2 * FPS, "killed");
    usleep(KILL_AFTER_MS * 1000);
    kill(cl.coordinator, SIGKILL);
    CHECK(runcmd_wait(pid) == 0);
    check_run("killed", 2 * FPS, input, &s);
    CHECK(s.local > 0);

    cluster_stop(&cl); /* the coordinator was killed on purpose */
    free(input);
    if (!testutil_failures) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        runcmd(cmd);
    } else {
        fprintf(stderr, "video_test: files kept in %s\n", dir);
    }
    return testutil_finish("video_test");
}
