/* recheck: see recheck.h. A job holds up to two answers: the first (the one its client
 * got) and, after a disagreement, the second, until a third decides between them. */
#include "coordinator/recheck.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/random.h"
#include "common/zstd.h"

/* One answer kept in a job. */
typedef struct kept_answer {
    char identity[REPUTATION_IDENTITY_MAX]; /* who gave it */
    int runtime;                            /* on what */
    char simd[16];                          /* with which CPU kernels */
    zmq_msg_t output;                       /* a reference to its bytes */
} kept_answer;

struct coord_recheck_job {
    coord_output_desc desc; /* what the outputs are */
    uint32_t n;             /* answers kept: 1, or 2 after a disagreement */
    kept_answer answer[2];  /* the first, then the second */
};

struct coord_recheck {
    double rate;               /* share of tasks checked */
    coord_reputation *rep;     /* where verdicts go, not owned */
    p2c2r_jpeg *jpeg;          /* for decoding outputs of different runtimes */
    uint64_t rng;              /* xorshift state for the draws */
    uint32_t pending;          /* jobs open */
    coord_recheck_stats stats; /* counters */
};

coord_recheck *coord_recheck_new(double rate, coord_reputation *rep, uint64_t seed)
{
    coord_recheck *rc = calloc(1, sizeof *rc);
    if (!rc)
        return NULL;
    rc->rate = rate;
    rc->rep = rep;
    rc->rng = seed ? seed : p2c2r__random_id();
    if (!rc->rng)
        rc->rng = 1;
    rc->jpeg = p2c2r__jpeg_new();
    if (!rc->jpeg) {
        free(rc);
        return NULL;
    }
    return rc;
}

void coord_recheck_destroy(coord_recheck **rc)
{
    if (!rc || !*rc)
        return;
    p2c2r__jpeg_destroy(&(*rc)->jpeg);
    free(*rc);
    *rc = NULL;
}

bool coord_recheck_draw(coord_recheck *rc)
{
    if (rc->rate <= 0)
        return false;
    rc->rng ^= rc->rng << 13;
    rc->rng ^= rc->rng >> 7;
    rc->rng ^= rc->rng << 17;
    return (double)(rc->rng >> 11) * 0x1.0p-53 < rc->rate;
}

void coord_recheck_skip(coord_recheck *rc)
{
    rc->stats.skipped++;
}

static void keep(kept_answer *k, const coord_recheck_answer *a)
{
    snprintf(k->identity, sizeof k->identity, "%s", a->identity);
    k->runtime = a->runtime;
    snprintf(k->simd, sizeof k->simd, "%s", a->simd ? a->simd : "");
    zmq_msg_init(&k->output);
    zmq_msg_copy(&k->output, (zmq_msg_t *)a->output); /* a reference: cannot fail */
}

coord_recheck_job *coord_recheck_start(coord_recheck *rc, const coord_output_desc *desc,
                                       const coord_recheck_answer *first)
{
    if (rc->pending >= RECHECK_MAX_PENDING) {
        rc->stats.skipped++;
        return NULL;
    }
    coord_recheck_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->desc = *desc;
    keep(&job->answer[0], first);
    job->n = 1;
    rc->pending++;
    rc->stats.sampled++;
    return job;
}

bool coord_recheck_answered(const coord_recheck_job *job, const char *identity)
{
    for (uint32_t i = 0; i < job->n; i++)
        if (strcmp(job->answer[i].identity, identity) == 0)
            return true;
    return false;
}

/* ---- comparison --------------------------------------------------------------------- */

/* Decode an output into planes. */
static int decode(p2c2r_jpeg *jpeg, const coord_output_desc *d, const void *data, size_t size,
                  p2c2r_image *img)
{
    if (d->codec == P2C2R_CODEC_JPEG)
        return p2c2r__jpeg_decode(jpeg, data, size, img);
    if (d->codec == P2C2R_CODEC_RAW)
        return p2c2r__image_from_raw(img, (p2c2r_pixel_format)d->pixel_format, d->width, d->height,
                                     data, size);
    size_t raw_size =
        p2c2r__image_raw_size((p2c2r_pixel_format)d->pixel_format, d->width, d->height);
    uint8_t *raw = NULL;
    size_t n = 0;
    int rc = p2c2r__zstd_decompress(data, size, raw_size, &raw, &n);
    if (rc == P2C2R_OK)
        rc = p2c2r__image_from_raw(img, (p2c2r_pixel_format)d->pixel_format, d->width, d->height,
                                   raw, n);
    free(raw);
    return rc;
}

/* PSNR of b against a over every sample of every plane; 0 when their layouts differ. */
static double psnr(const p2c2r_image *a, const p2c2r_image *b)
{
    if (a->format != b->format || a->width != b->width || a->height != b->height ||
        a->nplanes != b->nplanes)
        return 0;
    double sum = 0;
    uint64_t samples = 0;
    for (uint32_t p = 0; p < a->nplanes; p++) {
        const p2c2r_plane *x = &a->plane[p], *y = &b->plane[p];
        uint32_t row = x->width * x->channels;
        for (uint32_t r = 0; r < x->height; r++) {
            const uint8_t *u = x->data + (size_t)r * x->stride;
            const uint8_t *v = y->data + (size_t)r * y->stride;
            for (uint32_t i = 0; i < row; i++) {
                int d = (int)u[i] - (int)v[i];
                sum += d * d;
            }
        }
        samples += (uint64_t)row * x->height;
    }
    if (!samples)
        return 0;
    if (sum == 0)
        return INFINITY;
    return 10.0 * log10(255.0 * 255.0 * (double)samples / sum);
}

bool coord_recheck_same(p2c2r_jpeg *jpeg, const coord_output_desc *desc,
                        const coord_recheck_answer *a, const coord_recheck_answer *b,
                        double *psnr_db)
{
    zmq_msg_t *x = (zmq_msg_t *)a->output, *y = (zmq_msg_t *)b->output;
    *psnr_db = 0;
    if (zmq_msg_size(x) == zmq_msg_size(y) &&
        memcmp(zmq_msg_data(x), zmq_msg_data(y), zmq_msg_size(x)) == 0) {
        *psnr_db = INFINITY;
        return true;
    }
    const char *sa = a->simd ? a->simd : "", *sb = b->simd ? b->simd : "";
    if (a->runtime == b->runtime && strcmp(sa, sb) == 0)
        return false; /* the same kernels and encoder: only equal bytes agree */
    p2c2r_image ia = {0}, ib = {0};
    if (decode(jpeg, desc, zmq_msg_data(x), zmq_msg_size(x), &ia) == P2C2R_OK &&
        decode(jpeg, desc, zmq_msg_data(y), zmq_msg_size(y), &ib) == P2C2R_OK)
        *psnr_db = psnr(&ia, &ib);
    p2c2r__image_free(&ia);
    p2c2r__image_free(&ib);
    return *psnr_db >= RECHECK_MIN_PSNR_DB;
}

/* ---- verdicts ----------------------------------------------------------------------- */

static coord_recheck_answer view(const kept_answer *k)
{
    return (coord_recheck_answer){k->identity, k->runtime, k->simd, &k->output};
}

/* Record the verdict of a check with three answers: majority[0..1] agreed, outvoted lost. */
static void decide(coord_recheck *rc, coord_recheck_job *job, const char *a, const char *b,
                   const kept_answer *outvoted, const zmq_msg_t *majority, coord_recheck_verdict *v)
{
    coord_reputation_record(rc->rep, a, true);
    coord_reputation_record(rc->rep, b, true);
    v->outcome = COORD_RECHECK_DECIDED;
    v->first_outvoted = outvoted == &job->answer[0];
    v->outvoted = outvoted->identity;
    v->majority = majority;
    v->quarantined = coord_reputation_record(rc->rep, outvoted->identity, false);
    if (v->first_outvoted)
        rc->stats.overturned++;
    else
        rc->stats.upheld++;
}

void coord_recheck_add(coord_recheck *rc, coord_recheck_job *job, const coord_recheck_answer *a,
                       coord_recheck_verdict *v)
{
    *v = (coord_recheck_verdict){.outcome = COORD_RECHECK_UNDECIDED};
    coord_recheck_answer first = view(&job->answer[0]);
    double db;
    if (job->n == 1) {
        if (coord_recheck_same(rc->jpeg, &job->desc, &first, a, &db)) {
            coord_reputation_record(rc->rep, first.identity, true);
            coord_reputation_record(rc->rep, a->identity, true);
            rc->stats.agreed++;
            v->outcome = COORD_RECHECK_AGREED;
            return;
        }
        char how[48] = "different bytes from the same kernels";
        if (db > 0)
            snprintf(how, sizeof how, "PSNR %.1f dB", db);
        log_warn("recheck: %s and %s gave different outputs for the same task (%s): a third "
                 "peer decides",
                 first.identity, a->identity, how);
        keep(&job->answer[1], a);
        job->n = 2;
        rc->stats.disagreed++;
        v->outcome = COORD_RECHECK_THIRD;
        return;
    }
    coord_recheck_answer second = view(&job->answer[1]);
    double db2;
    bool with_first = coord_recheck_same(rc->jpeg, &job->desc, &first, a, &db);
    bool with_second = coord_recheck_same(rc->jpeg, &job->desc, &second, a, &db2);
    if (with_first && !with_second) {
        decide(rc, job, first.identity, a->identity, &job->answer[1], &job->answer[0].output, v);
    } else if (with_second && !with_first) {
        decide(rc, job, second.identity, a->identity, &job->answer[0], a->output, v);
    } else {
        log_warn("recheck: %s, %s and %s gave three different answers: undecided", first.identity,
                 second.identity, a->identity);
        rc->stats.undecided++;
        return;
    }
    const coord_rep_record *r = coord_reputation_get(rc->rep, v->outvoted);
    log_warn("recheck: %s outvoted by %s and %s%s (reputation %d after %" PRIu64
             " agreement(s), %" PRIu64 " disagreement(s))",
             v->outvoted, v->first_outvoted ? second.identity : first.identity, a->identity,
             v->first_outvoted ? "; its answer had already gone to the client" : "",
             r ? r->score : 0, r ? r->agreements : 0, r ? r->disagreements : 0);
}

void coord_recheck_unsettled(coord_recheck *rc, coord_recheck_job *job)
{
    (void)job;
    rc->stats.undecided++;
}

void coord_recheck_end(coord_recheck *rc, coord_recheck_job **job, bool abandoned)
{
    if (!job || !*job)
        return;
    for (uint32_t i = 0; i < (*job)->n; i++)
        zmq_msg_close(&(*job)->answer[i].output);
    free(*job);
    *job = NULL;
    rc->pending--;
    if (abandoned)
        rc->stats.abandoned++;
}

void coord_recheck_stats_get(const coord_recheck *rc, coord_recheck_stats *stats)
{
    *stats = rc->stats;
}
