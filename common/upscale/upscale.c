/* upscale: plans, the choice of kernels, and cutting a frame into bands (see upscale.h).
 *
 * A plan's tables live in one allocation after the struct's own fields are set; the two
 * chroma planes of a YUV image have the same geometry and share theirs.
 */
#include "common/upscale/upscale.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/upscale/plan.h"

/* Short names of the pixel formats, for plan names. */
static const char *const format_names[] = {
    [P2C2R_PIX_GRAY8] = "gray8",     [P2C2R_PIX_RGB24] = "rgb24",
    [P2C2R_PIX_YUV420P] = "yuv420p", [P2C2R_PIX_YUV422P] = "yuv422p",
    [P2C2R_PIX_YUV444P] = "yuv444p",
};

static const char *const mode_names[] = {
    [P2C2R_MODE_FAST] = "fast",
    [P2C2R_MODE_BICUBIC] = "bicubic",
    [P2C2R_MODE_LANCZOS] = "lanczos",
    [P2C2R_MODE_QUALITY] = "quality",
};

p2c2r_simd p2c2r__upscale_simd(void)
{
    const char *force = getenv("P2C2R_SIMD");
    if (force && strcmp(force, "scalar") == 0)
        return P2C2R_SIMD_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2"))
        return P2C2R_SIMD_AVX2;
#endif
    return P2C2R_SIMD_SCALAR;
}

void p2c2r__upscale_plan_key(p2c2r_pixel_format format, uint32_t width, uint32_t height,
                             uint32_t scale, p2c2r_mode mode, char name[P2C2R_UPSCALE_NAME_MAX])
{
    name[0] = '\0';
    if ((unsigned)format >= sizeof format_names / sizeof format_names[0] || !format_names[format] ||
        mode < P2C2R_MODE_FAST || mode > P2C2R_MODE_QUALITY)
        return;
    snprintf(name, P2C2R_UPSCALE_NAME_MAX, "%s %s %ux%u x%u", mode_names[mode],
             format_names[format], width, height, scale);
}

const char *p2c2r__upscale_simd_name(p2c2r_simd simd)
{
    return simd == P2C2R_SIMD_AVX2 ? "avx2" : "scalar";
}

/* The kernels for a plane: AVX2 only when asked for, present on this CPU, and the plane
 * has one channel. */
static const upscale_sep_ops *plan_ops(p2c2r_simd simd, uint32_t channels)
{
#if defined(__x86_64__) || defined(__i386__)
    if (simd == P2C2R_SIMD_AVX2 && channels == 1 && __builtin_cpu_supports("avx2"))
        return &upscale_sep_avx2;
#else
    (void)simd;
    (void)channels;
#endif
    return &upscale_sep_scalar;
}

/* Bytes of one plane's tables. */
static size_t plan_tables_bytes(const upscale_plane_plan *pp, uint32_t taps)
{
    if (pp->quality)
        return ((size_t)pp->dw + pp->dh) * (4 * sizeof(int32_t) + sizeof(float));
    return (size_t)pp->dh * taps * sizeof(int32_t);
}

static int32_t plan_clamp(int64_t v, uint32_t size)
{
    return v < 0 ? 0 : v >= (int64_t)size ? (int32_t)size - 1 : (int32_t)v;
}

/* Quality-mode table of one axis: per output position, the 4 clamped source positions
 * around it and the fraction past the second. */
static void plan_quality_axis(uint32_t src, uint32_t dst, uint32_t scale, int32_t *idx, float *frac)
{
    for (uint32_t x = 0; x < dst; x++) {
        double pos = (x + 0.5) / scale - 0.5;
        double f = floor(pos);
        frac[x] = (float)(pos - f);
        for (int k = 0; k < 4; k++)
            idx[(size_t)x * 4 + k] = plan_clamp((int64_t)f - 1 + k, src);
    }
}

/* Fill one plane's tables at mem (plan_tables_bytes() of them). */
static void plan_tables_fill(upscale_plane_plan *pp, const upscale_filter *f, uint8_t *mem)
{
    if (pp->quality) {
        int32_t *cols = (int32_t *)mem, *rows = cols + (size_t)pp->dw * 4;
        float *fx = (float *)(rows + (size_t)pp->dh * 4), *fy = fx + pp->dw;
        plan_quality_axis(pp->sw, pp->dw, f->scale, cols, fx);
        plan_quality_axis(pp->sh, pp->dh, f->scale, rows, fy);
        pp->qcols = cols;
        pp->qrows = rows;
        pp->qfx = fx;
        pp->qfy = fy;
        return;
    }
    int32_t *vr = (int32_t *)mem;
    for (uint32_t y = 0; y < pp->dh; y++) {
        uint32_t j = y / f->scale, q = y % f->scale;
        for (uint32_t t = 0; t < f->taps; t++)
            vr[(size_t)y * f->taps + t] = plan_clamp((int64_t)j + f->offset[q] + t, pp->sh);
    }
    pp->vrows = vr;
}

static int plan_same_geometry(const upscale_plane_plan *a, const upscale_plane_plan *b)
{
    return a->sw == b->sw && a->sh == b->sh && a->dw == b->dw && a->dh == b->dh &&
           a->channels == b->channels && a->quality == b->quality;
}

/* Allocate p's tables and fill them; the second chroma plane shares the first's. */
static int plan_tables(p2c2r_upscale_plan *p)
{
    size_t total = 0;
    for (uint32_t i = 0; i < p->nplanes; i++)
        if (i < 2 || !plan_same_geometry(&p->plane[i], &p->plane[i - 1]))
            total += plan_tables_bytes(&p->plane[i], p->filter.taps);
    p->tables = malloc(total ? total : 1);
    if (!p->tables)
        return P2C2R_E_NOMEM;
    p->bytes = sizeof *p + total;
    uint8_t *mem = p->tables;
    for (uint32_t i = 0; i < p->nplanes; i++) {
        upscale_plane_plan *pp = &p->plane[i];
        if (i == 2 && plan_same_geometry(pp, &p->plane[1])) {
            *pp = p->plane[1];
            continue;
        }
        plan_tables_fill(pp, &p->filter, mem);
        mem += plan_tables_bytes(pp, p->filter.taps);
    }
    return P2C2R_OK;
}

int p2c2r__upscale_plan_new(p2c2r_pixel_format format, uint32_t width, uint32_t height,
                            uint32_t scale, p2c2r_mode mode, const p2c2r_upscale_plan **plan)
{
    assert(plan);
    *plan = NULL;
    int rc = p2c2r__image_check(format, width, height);
    if (rc != P2C2R_OK)
        return rc;
    if ((size_t)mode >= sizeof mode_names / sizeof mode_names[0] || !mode_names[mode])
        return P2C2R_E_UNSUPPORTED;
    if (scale < 1 || scale > P2C2R_UPSCALE_MAX_SCALE)
        return P2C2R_E_INVAL;
    uint64_t ow = (uint64_t)width * scale, oh = (uint64_t)height * scale;
    if (ow > P2C2R_IMAGE_MAX_SIDE || oh > P2C2R_IMAGE_MAX_SIDE ||
        p2c2r__image_check(format, (uint32_t)ow, (uint32_t)oh) != P2C2R_OK)
        return P2C2R_E_TOOBIG;

    p2c2r_upscale_plan *p = calloc(1, sizeof *p);
    const p2c2r_upscale_plan *owned = p;
    if (!p)
        return P2C2R_E_NOMEM;
    const p2c2r_layout *l = p2c2r__image_layout(format); /* known: image_check passed */
    rc = upscale_filter_init(&p->filter, mode == P2C2R_MODE_QUALITY ? P2C2R_MODE_LANCZOS : mode,
                             scale);
    if (rc != P2C2R_OK)
        goto fail;
    p->refs = 1;
    p->format = format;
    p->mode = mode;
    p->width = width;
    p->height = height;
    p->scale = scale;
    p->nplanes = l->nplanes;
    p->row_align = l->nplanes == 3 ? 1u << l->shift_y : 1;
    p2c2r__upscale_plan_key(format, width, height, scale, mode, p->name);
    for (uint32_t i = 0; i < l->nplanes; i++) {
        uint32_t sx = i ? l->shift_x : 0, sy = i ? l->shift_y : 0;
        upscale_plane_plan *pp = &p->plane[i];
        pp->sw = (width + (1u << sx) - 1) >> sx;
        pp->sh = (height + (1u << sy) - 1) >> sy;
        pp->dw = (uint32_t)((ow + (1u << sx) - 1) >> sx);
        pp->dh = (uint32_t)((oh + (1u << sy) - 1) >> sy);
        pp->channels = i ? 1 : l->channels;
        pp->shift_y = sy;
        pp->quality = mode == P2C2R_MODE_QUALITY && i == 0 && pp->channels == 1;
    }
    rc = plan_tables(p);
    if (rc != P2C2R_OK)
        goto fail;
    *plan = p;
    return P2C2R_OK;
fail:
    p2c2r__upscale_plan_destroy(&owned);
    return rc;
}

void p2c2r__upscale_plan_destroy(const p2c2r_upscale_plan **plan)
{
    if (!plan || !*plan)
        return;
    p2c2r_upscale_plan *p = (p2c2r_upscale_plan *)*plan;
    *plan = NULL;
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(p->tables);
    free(p);
}

const p2c2r_upscale_plan *p2c2r__upscale_plan_ref(const p2c2r_upscale_plan *plan)
{
    __atomic_add_fetch(&((p2c2r_upscale_plan *)plan)->refs, 1, __ATOMIC_RELAXED);
    return plan;
}

int p2c2r__upscale_plan_is(const p2c2r_upscale_plan *plan, p2c2r_pixel_format format,
                           uint32_t width, uint32_t height, uint32_t scale, p2c2r_mode mode)
{
    return plan->format == format && plan->width == width && plan->height == height &&
           plan->scale == scale && plan->mode == mode;
}

const char *p2c2r__upscale_plan_name(const p2c2r_upscale_plan *plan)
{
    return plan->name;
}

size_t p2c2r__upscale_plan_bytes(const p2c2r_upscale_plan *plan)
{
    return plan->bytes;
}

void p2c2r__upscale_plan_output(const p2c2r_upscale_plan *plan, uint32_t *width, uint32_t *height)
{
    *width = plan->width * plan->scale;
    *height = plan->height * plan->scale;
}

uint32_t p2c2r__upscale_plan_row_align(const p2c2r_upscale_plan *plan)
{
    return plan->row_align;
}

static int plane_matches(const p2c2r_plane *p, uint32_t w, uint32_t h, uint32_t c)
{
    return p->data && p->width == w && p->height == h && p->channels == c &&
           p->stride >= (size_t)w * c;
}

/* Rows [y0, y1) of one plane. */
static int plan_plane_rows(const upscale_plane_plan *pp, const upscale_filter *f,
                           const p2c2r_plane *src, p2c2r_plane *dst, uint32_t y0, uint32_t y1,
                           p2c2r_simd simd)
{
    if (pp->quality)
        return upscale_quality_rows(pp, f->scale, src, dst, y0, y1);
    return upscale_separable_rows(pp, f, plan_ops(simd, pp->channels), src, dst, y0, y1);
}

int p2c2r__upscale_rows(const p2c2r_upscale_plan *plan, const p2c2r_image *src, p2c2r_image *dst,
                        uint32_t y0, uint32_t y1, p2c2r_simd simd)
{
    assert(plan && src && dst);
    if (src->format != plan->format || dst->format != plan->format ||
        src->nplanes != plan->nplanes || dst->nplanes != plan->nplanes ||
        y0 % plan->row_align != 0 || y0 >= y1 || y1 > plan->height * plan->scale)
        return P2C2R_E_INVAL;
    for (uint32_t i = 0; i < plan->nplanes; i++) {
        const upscale_plane_plan *pp = &plan->plane[i];
        if (!plane_matches(&src->plane[i], pp->sw, pp->sh, pp->channels) ||
            !plane_matches(&dst->plane[i], pp->dw, pp->dh, pp->channels) ||
            src->plane[i].data == dst->plane[i].data)
            return P2C2R_E_INVAL;
    }
    for (uint32_t i = 0; i < plan->nplanes; i++) {
        const upscale_plane_plan *pp = &plan->plane[i];
        uint32_t sy = pp->shift_y;
        uint32_t py0 = y0 >> sy, py1 = (y1 + (1u << sy) - 1) >> sy;
        int rc = plan_plane_rows(pp, &plan->filter, &src->plane[i], &dst->plane[i], py0, py1, simd);
        if (rc != P2C2R_OK)
            return rc;
    }
    return P2C2R_OK;
}

/* A whole image cut into bands for the pool. */
typedef struct image_job {
    const p2c2r_upscale_plan *plan; /* what to run */
    const p2c2r_image *src;         /* input */
    p2c2r_image *dst;               /* output */
    p2c2r_simd simd;                /* kernels */
    uint32_t bands;                 /* pieces */
    int rc;                         /* first error, or P2C2R_OK */
} image_job;

/* Start row of band k of n over `rows` rows, on a multiple of align. */
static uint32_t band_start(uint32_t k, uint32_t n, uint32_t rows, uint32_t align)
{
    if (k >= n)
        return rows;
    uint64_t y = (uint64_t)rows * k / n;
    return (uint32_t)(y / align * align);
}

static void image_band(void *arg, uint32_t k)
{
    image_job *job = arg;
    uint32_t rows = job->plan->height * job->plan->scale, align = job->plan->row_align;
    uint32_t y0 = band_start(k, job->bands, rows, align);
    uint32_t y1 = band_start(k + 1, job->bands, rows, align);
    if (y0 >= y1)
        return;
    int rc = p2c2r__upscale_rows(job->plan, job->src, job->dst, y0, y1, job->simd);
    if (rc != P2C2R_OK)
        __atomic_store_n(&job->rc, rc, __ATOMIC_RELAXED);
}

int p2c2r__upscale_image(const p2c2r_upscale_plan *plan, const p2c2r_image *src, p2c2r_image *dst,
                         p2c2r_pool *pool, p2c2r_simd simd)
{
    uint32_t threads = p2c2r__pool_threads(pool);
    uint32_t rows = plan->height * plan->scale;
    /* A few bands per thread even out bands that cost more (edges, busier rows); each of
     * at least 16 rows so that refilling the ring at band starts stays cheap. */
    uint32_t bands = threads == 1 ? 1 : 4 * threads;
    if (bands > rows / 16)
        bands = rows / 16 ? rows / 16 : 1;
    image_job job = {plan, src, dst, simd, bands, P2C2R_OK};
    p2c2r__pool_run(pool, image_band, &job, bands);
    return job.rc;
}

int p2c2r__upscale_plane(const p2c2r_plane *src, p2c2r_plane *dst, uint32_t scale, p2c2r_mode mode,
                         p2c2r_simd simd)
{
    assert(src && dst);
    p2c2r_upscale_plan p = {0};
    int rc = upscale_filter_init(&p.filter, mode == P2C2R_MODE_QUALITY ? P2C2R_MODE_LANCZOS : mode,
                                 scale);
    if (rc != P2C2R_OK)
        return rc;
    uint32_t c = src->channels;
    if (c < 1 || c > 4 || dst->channels != c || !src->data || !dst->data ||
        src->data == dst->data || src->width == 0 || src->height == 0 ||
        src->width > P2C2R_IMAGE_MAX_SIDE || src->height > P2C2R_IMAGE_MAX_SIDE ||
        src->stride < (size_t)src->width * c || dst->stride < (size_t)dst->width * c ||
        dst->width > (uint64_t)scale * src->width ||
        dst->width <= (uint64_t)scale * (src->width - 1) ||
        dst->height > (uint64_t)scale * src->height ||
        dst->height <= (uint64_t)scale * (src->height - 1))
        return P2C2R_E_INVAL;
    p.nplanes = 1;
    p.scale = scale;
    p.plane[0] = (upscale_plane_plan){
        .sw = src->width,
        .sh = src->height,
        .dw = dst->width,
        .dh = dst->height,
        .channels = c,
        .quality = mode == P2C2R_MODE_QUALITY && c == 1,
    };
    rc = plan_tables(&p);
    if (rc != P2C2R_OK)
        return rc;
    rc = plan_plane_rows(&p.plane[0], &p.filter, src, dst, 0, dst->height, simd);
    free(p.tables);
    return rc;
}
