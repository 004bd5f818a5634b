/* upscale_bench: the CPU upscale kernels against libswscale, and the peer's whole
 * JPEG -> upscale -> JPEG path, on real pictures.
 *
 * Pictures: photographs from Debian's plasma-workspace-wallpapers. An original (the middle
 * 1920x1080 of a wallpaper's "1920x1080.jpg", which holds a 2560x1600 picture, or the
 * middle 3840x2160 of a 5120x2880 one) is made 4:2:0, shrunk 2x by averaging 2x2 blocks,
 * and upscaled 2x back; Y-PSNR is measured against the original.
 *
 * 1. Kernels, one thread, yuv420p 960x540 -> 1920x1080 and 1920x1080 -> 3840x2160:
 *    bilinear, bicubic, lanczos against libswscale's SWS_BILINEAR, SWS_BICUBIC and
 *    SWS_LANCZOS with default parameters (no SWS_ACCURATE_RND: what a libswscale user gets
 *    by default); bicubic also against SWS_BICUBIC given Catmull-Rom's parameters, the
 *    same filter as ours ("bicubic/cr"); then quality (which libswscale has no
 *    counterpart of). Each timing is
 *    the median of REPS runs per picture, ours and libswscale's interleaved run by run so
 *    that both see the same machine load; the ratio is ours / libswscale's.
 * 2. The peer's path in this process: the upscale kind's run() (peer/kind_upscale.c)
 *    on a JPEG q85 frame, output JPEG q85, with 1 and 2 threads per frame (alternating run
 *    by run), printing the decode / compute / encode split the peer itself measures. The
 *    reference for the 2-thread figure is the machine's own: two frames run at once, one
 *    thread each, on independent states. Work with nothing to share then takes pair_x
 *    times as long as alone (cores that share caches, memory bandwidth or, on a virtual
 *    machine, a physical core), so no split of one frame over two threads can do better
 *    than pair_x / 2 of the one-thread time.
 *
 * Figures are printed, never asserted. Exits 77 (skip) when libswscale was not found at
 * build time (after printing our own figures) or no wallpaper is installed.
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/image.h"
#include "common/upscale/upscale.h"
#include "peer/kind.h"
#include "peer/resources.h"
#include "testutil.h"

#ifdef P2C2R_HAVE_SWSCALE
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
#endif

#define WALL "/usr/share/wallpapers/"

typedef struct bench_size {
    const char *name;           /* for the report */
    uint32_t w, h;              /* original size */
    const char *const files[4]; /* wallpapers, NULL-terminated */
    int reps;                   /* timed runs per picture */
} bench_size;

static const bench_size sizes[] = {
    {"960x540 -> 1920x1080",
     1920,
     1080,
     {WALL "BytheWater/contents/images/1920x1080.jpg",
      WALL "ColdRipple/contents/images/1920x1080.jpg", WALL "Path/contents/images/1920x1080.jpg",
      NULL},
     31},
    {"1920x1080 -> 3840x2160",
     3840,
     2160,
     {WALL "SafeLanding/contents/images/5120x2880.jpg",
      WALL "Honeywave/contents/images/5120x2880.jpg", WALL "Shell/contents/images/5120x2880.jpg",
      NULL},
     11},
};

static const struct {
    p2c2r_mode mode;  /* ours */
    const char *name; /* for the report */
    int sws_flags;    /* libswscale's, 0 for none */
    int sws_cr;       /* libswscale with Catmull-Rom parameters (B = 0, C = 0.5) */
} modes[] = {
#ifdef P2C2R_HAVE_SWSCALE
    {P2C2R_MODE_FAST, "bilinear", SWS_BILINEAR, 0},
    /* libswscale's default bicubic is B = 0, C = 0.6, sharper than Catmull-Rom: compared
     * with both that default and the same filter. */
    {P2C2R_MODE_BICUBIC, "bicubic", SWS_BICUBIC, 0},
    {P2C2R_MODE_BICUBIC, "bicubic/cr", SWS_BICUBIC, 1},
    {P2C2R_MODE_LANCZOS, "lanczos", SWS_LANCZOS, 0},
#else
    {P2C2R_MODE_FAST, "bilinear", 0, 0},
    {P2C2R_MODE_BICUBIC, "bicubic", 0, 0},
    {P2C2R_MODE_LANCZOS, "lanczos", 0, 0},
#endif
    {P2C2R_MODE_QUALITY, "quality", 0, 0},
};
#define NMODES (sizeof modes / sizeof modes[0])

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return v[n / 2];
}

/* Shrink every plane 2x by averaging 2x2 blocks (the last row/column repeats at odd
 * edges). */
static int shrink(const p2c2r_image *o, p2c2r_image *s)
{
    if (p2c2r__image_alloc(s, o->format, o->width / 2, o->height / 2) != P2C2R_OK)
        return -1;
    for (uint32_t i = 0; i < 3; i++) {
        const p2c2r_plane *a = &o->plane[i];
        p2c2r_plane *d = &s->plane[i];
        for (uint32_t y = 0; y < d->height; y++)
            for (uint32_t x = 0; x < d->width; x++) {
                uint32_t x1 = 2 * x + 1 < a->width ? 2 * x + 1 : 2 * x;
                uint32_t y1 = 2 * y + 1 < a->height ? 2 * y + 1 : 2 * y;
                const uint8_t *r0 = a->data + (size_t)2 * y * a->stride;
                const uint8_t *r1 = a->data + (size_t)y1 * a->stride;
                d->data[(size_t)y * d->stride + x] =
                    (uint8_t)((r0[2 * x] + r0[x1] + r1[2 * x] + r1[x1] + 2) / 4);
            }
    }
    return 0;
}

typedef struct figures {
    double ours_ms, sws_ms; /* median per picture, averaged over pictures */
    double ours_db, sws_db; /* Y-PSNR, averaged over pictures */
    double scalar_ms;       /* our scalar path */
    int pictures;           /* pictures measured */
} figures;

#ifdef P2C2R_HAVE_SWSCALE
static uint64_t time_sws(struct SwsContext *ctx, const p2c2r_image *src, p2c2r_image *dst)
{
    const uint8_t *sp[3] = {src->plane[0].data, src->plane[1].data, src->plane[2].data};
    int ss[3] = {(int)src->plane[0].stride, (int)src->plane[1].stride, (int)src->plane[2].stride};
    uint8_t *dp[3] = {dst->plane[0].data, dst->plane[1].data, dst->plane[2].data};
    int ds[3] = {(int)dst->plane[0].stride, (int)dst->plane[1].stride, (int)dst->plane[2].stride};
    uint64_t t0 = p2c2r__now_us();
    sws_scale(ctx, sp, ss, 0, (int)src->height, dp, ds);
    return p2c2r__now_us() - t0;
}
#endif

static void kernels(const bench_size *bs, p2c2r_jpeg *jpeg, figures fig[NMODES])
{
    for (int f = 0; bs->files[f]; f++) {
        p2c2r_image orig = {0}, src = {0}, ours = {0}, theirs = {0};
        if (testutil_middle_420(bs->files[f], bs->w, bs->h, jpeg, &orig) != 0 ||
            shrink(&orig, &src) || p2c2r__image_alloc(&ours, P2C2R_PIX_YUV420P, bs->w, bs->h) ||
            p2c2r__image_alloc(&theirs, P2C2R_PIX_YUV420P, bs->w, bs->h)) {
            fprintf(stderr, "skipping %s\n", bs->files[f]);
            goto next;
        }
        for (size_t m = 0; m < NMODES; m++) {
            const p2c2r_upscale_plan *plan = NULL;
            if (p2c2r__upscale_plan_new(P2C2R_PIX_YUV420P, src.width, src.height, 2, modes[m].mode,
                                        &plan) != P2C2R_OK)
                continue;
            uint64_t t_ours[64], t_sws[64], t_scalar[64];
            int reps = modes[m].mode == P2C2R_MODE_QUALITY ? 3 : bs->reps;
#ifdef P2C2R_HAVE_SWSCALE
            struct SwsContext *ctx = NULL;
            static const double catmull_rom[2] = {0.0, 0.5};
            if (modes[m].sws_flags)
                ctx = sws_getContext((int)src.width, (int)src.height, AV_PIX_FMT_YUV420P,
                                     (int)bs->w, (int)bs->h, AV_PIX_FMT_YUV420P, modes[m].sws_flags,
                                     NULL, NULL, modes[m].sws_cr ? catmull_rom : NULL);
#endif
            for (int r = 0; r < reps; r++) {
                uint64_t t0 = p2c2r__now_us();
                p2c2r__upscale_image(plan, &src, &ours, NULL, p2c2r__upscale_simd());
                t_ours[r] = p2c2r__now_us() - t0;
                t_sws[r] = 0;
#ifdef P2C2R_HAVE_SWSCALE
                if (ctx)
                    t_sws[r] = time_sws(ctx, &src, &theirs);
#endif
                if (r < 5) {
                    t0 = p2c2r__now_us();
                    p2c2r__upscale_image(plan, &src, &ours, NULL, P2C2R_SIMD_SCALAR);
                    t_scalar[r] = p2c2r__now_us() - t0;
                }
            }
            figures *fm = &fig[m];
            fm->ours_ms += median(t_ours, reps) / 1000.0;
            fm->sws_ms += median(t_sws, reps) / 1000.0;
            fm->scalar_ms += median(t_scalar, reps < 5 ? reps : 5) / 1000.0;
            fm->ours_db += testutil_psnr_plane(&ours.plane[0], &orig.plane[0]);
#ifdef P2C2R_HAVE_SWSCALE
            if (ctx)
                fm->sws_db += testutil_psnr_plane(&theirs.plane[0], &orig.plane[0]);
            sws_freeContext(ctx);
#endif
            fm->pictures++;
            p2c2r__upscale_plan_destroy(&plan);
        }
    next:
        p2c2r__image_free(&orig);
        p2c2r__image_free(&src);
        p2c2r__image_free(&ours);
        p2c2r__image_free(&theirs);
    }
}

/* One run of the upscale kind, for a thread of its own. */
typedef struct run_job {
    void *state;
    const peer_task_in *in;
    pthread_t thread;
} run_job;

static int run_once(void *state, const peer_task_in *in, peer_task_out *out)
{
    int rc = peer_kind_upscale.run(state, in, out);
    if (rc != P2C2R_OK)
        fprintf(stderr, "upscale failed: %s (%s)\n", p2c2r_errname(rc), out->detail);
    if (out->data)
        out->free_fn(out->data, NULL);
    return rc;
}

static void *run_thread(void *arg)
{
    run_job *j = arg;
    peer_task_out out = {.frame = P2C2R__WIRE__FRAME__INIT};
    run_once(j->state, j->in, &out);
    return NULL;
}

/* The peer's upscale kind on one JPEG with 1 and with 2 threads per frame, and two frames
 * at once with 1 thread each, the three run by run alternately so that all see the same
 * machine load: medians of reps runs of the total and of the kind's own split,
 * ms[threads - 1][total, decode, compute, encode]; *pair_ms: the wall time of the pair. */
static void peer_path(const uint8_t *jpeg, size_t size, uint32_t w, uint32_t h, p2c2r_mode mode,
                      int reps, double ms[2][4], double *pair_ms)
{
    /* states 0 and 2: one thread per frame; 1: two */
    static const uint32_t threads[3] = {1, 2, 1};
    peer_resources res[3];
    void *state[3] = {NULL, NULL, NULL};
    memset(res, 0, sizeof res);
    for (int k = 0; k < 3; k++)
        if (peer_resources_init(&res[k], threads[k]) != P2C2R_OK ||
            peer_kind_upscale.init(&state[k], &res[k], 0) != P2C2R_OK) {
            fprintf(stderr, "cannot start the upscale kind\n");
            goto done;
        }
    P2c2r__Wire__Envelope env = P2C2R__WIRE__ENVELOPE__INIT;
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    frame.width = w;
    frame.height = h;
    up.scale = 2;
    up.mode = (P2c2r__Wire__UpscaleMode)mode;
    up.output_codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    up.jpeg_quality = 85;
    env.kind = "upscale";
    env.frame = &frame;
    env.upscale = &up;
    peer_task_in in = {.env = &env, .payload = jpeg, .payload_size = size};
    uint64_t t[2][4][64], pair[64];
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < 2; k++) {
            peer_task_out out = {.frame = P2C2R__WIRE__FRAME__INIT};
            uint64_t t0 = p2c2r__now_us();
            run_once(state[k], &in, &out);
            t[k][0][r] = p2c2r__now_us() - t0;
            t[k][1][r] = out.decode_us;
            t[k][2][r] = out.compute_us;
            t[k][3][r] = out.encode_us;
        }
        run_job other = {.state = state[2], .in = &in};
        peer_task_out out = {.frame = P2C2R__WIRE__FRAME__INIT};
        uint64_t t0 = p2c2r__now_us();
        bool started = pthread_create(&other.thread, NULL, run_thread, &other) == 0;
        run_once(state[0], &in, &out);
        if (started)
            pthread_join(other.thread, NULL);
        pair[r] = p2c2r__now_us() - t0;
    }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            ms[k][i] = median(t[k][i], reps) / 1000.0;
    *pair_ms = median(pair, reps) / 1000.0;
done:
    for (int k = 0; k < 3; k++) {
        if (state[k])
            peer_kind_upscale.fini(&state[k]);
        peer_resources_fini(&res[k]);
    }
}

int main(void)
{
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    int measured = 0;
    printf("simd: %s (P2C2R_SIMD=scalar forces the portable path)\n",
           p2c2r__upscale_simd_name(p2c2r__upscale_simd()));
    printf("\n1. kernels, one thread, yuv420p, 2x; median per picture, mean of pictures\n");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        figures fig[NMODES];
        memset(fig, 0, sizeof fig);
        kernels(&sizes[s], jpeg, fig);
        if (!fig[0].pictures)
            continue;
        measured++;
        printf("\n%s (%d pictures)\n", sizes[s].name, fig[0].pictures);
        printf("%-9s %9s %9s %7s %10s %10s %8s %9s\n", "mode", "ours_ms", "sws_ms", "ratio",
               "ours_dB", "sws_dB", "dB_diff", "scalar_ms");
        for (size_t m = 0; m < NMODES; m++) {
            figures *f = &fig[m];
            double n = f->pictures ? f->pictures : 1;
            if (modes[m].sws_flags)
                printf("%-9s %9.3f %9.3f %7.2f %10.3f %10.3f %+8.3f %9.3f\n", modes[m].name,
                       f->ours_ms / n, f->sws_ms / n, f->ours_ms / f->sws_ms, f->ours_db / n,
                       f->sws_db / n, (f->ours_db - f->sws_db) / n, f->scalar_ms / n);
            else
                printf("%-9s %9.3f %9s %7s %10.3f %10s %8s %9.3f\n", modes[m].name, f->ours_ms / n,
                       "-", "-", f->ours_db / n, "-", "-", f->scalar_ms / n);
        }
    }

    printf("\n2. peer path in-process (peer_kind_upscale.run): JPEG q85 in and out, 2x,\n"
           "   1 and 2 threads per frame run alternately, medians; the peer's own split\n"
           "   (with 2 threads compute and encode are summed over both threads); pair_x:\n"
           "   two frames at once, one thread each, against one alone (the machine's own\n"
           "   limit: no 2-thread frame can beat pair_x / 2)\n");
    printf("%-24s %-8s %7s %9s %9s %10s %9s %8s %7s\n", "case", "mode", "threads", "total_ms",
           "decode_ms", "compute_ms", "encode_ms", "vs_1thr", "pair_x");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        p2c2r_image orig = {0}, src = {0};
        uint8_t *in = NULL;
        size_t in_size = 0;
        if (testutil_middle_420(sizes[s].files[0], sizes[s].w, sizes[s].h, jpeg, &orig) != 0 ||
            shrink(&orig, &src) != 0 || p2c2r__jpeg_encode(jpeg, &src, 85, &in, &in_size)) {
            p2c2r__image_free(&orig);
            p2c2r__image_free(&src);
            continue;
        }
        for (size_t m = 0; m < NMODES; m++) {
            if (modes[m].sws_cr)
                continue; /* the same kernel as bicubic */
            double ms[2][4] = {{0}}, pair_ms = 0;
            int reps = modes[m].mode == P2C2R_MODE_QUALITY ? 3 : 2 * sizes[s].reps + 1;
            peer_path(in, in_size, src.width, src.height, modes[m].mode, reps, ms, &pair_ms);
            const double *one = ms[0], *two = ms[1];
            printf("%-24s %-8s %7d %9.2f %9.2f %10.2f %9.2f %8s %7.2f\n", sizes[s].name,
                   modes[m].name, 1, one[0], one[1], one[2], one[3], "1.00", pair_ms / one[0]);
            printf("%-24s %-8s %7d %9.2f %9.2f %10.2f %9.2f %8.2f\n", sizes[s].name, modes[m].name,
                   2, two[0], two[1], two[2], two[3], two[0] / one[0]);
        }
        p2c2r__jpeg_free_buffer(in, NULL);
        p2c2r__image_free(&orig);
        p2c2r__image_free(&src);
    }
    p2c2r__jpeg_destroy(&jpeg);
    if (!measured) {
        printf("no wallpapers found (package plasma-workspace-wallpapers): skipped\n");
        return 77;
    }
#ifndef P2C2R_HAVE_SWSCALE
    printf("libswscale was not found at build time: no comparison, skipped\n");
    return 77;
#else
    return 0;
#endif
}
