/* twin: see twin.h. */
#include "twin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const p2c2r_pixel_format twin_formats[] = {
    P2C2R_PIX_GRAY8, P2C2R_PIX_RGB24, P2C2R_PIX_YUV420P, P2C2R_PIX_YUV422P, P2C2R_PIX_YUV444P};
static const p2c2r_mode twin_modes[] = {P2C2R_MODE_FAST, P2C2R_MODE_BICUBIC, P2C2R_MODE_LANCZOS,
                                        P2C2R_MODE_QUALITY};
static const uint32_t twin_sizes[][2] = {{1, 1}, {7, 3}, {67, 45}, {131, 7}, {333, 101}};

size_t twin_cases(twin_case *cases, size_t max)
{
    size_t n = 0;
    for (size_t m = 0; m < sizeof twin_modes / sizeof twin_modes[0]; m++) {
        for (size_t f = 0; f < sizeof twin_formats / sizeof twin_formats[0]; f++)
            for (size_t z = 0; z < sizeof twin_sizes / sizeof twin_sizes[0]; z++)
                for (uint32_t s = 1; s <= P2C2R_UPSCALE_MAX_SCALE; s++, n++)
                    if (n < max)
                        cases[n] =
                            (twin_case){twin_formats[f], twin_sizes[z][0], twin_sizes[z][1], s,
                                        twin_modes[m],   (int)(n % 2)};
        if (n < max)
            cases[n] = (twin_case){P2C2R_PIX_YUV420P, 1920, 1080, 2, twin_modes[m], 0};
        n++;
    }
    return n;
}

static uint32_t twin_channels(p2c2r_pixel_format format, uint32_t plane)
{
    return format == P2C2R_PIX_RGB24 && plane == 0 ? 3 : 1;
}

void twin_case_name(const twin_case *c, char *name, size_t size)
{
    char key[P2C2R_UPSCALE_NAME_MAX];
    p2c2r__upscale_plan_key(c->format, c->width, c->height, c->scale, c->mode, key);
    snprintf(name, size, "%s (%s pitch)", key, c->odd_pitch ? "odd" : "aligned");
}

size_t twin_row_bytes(const twin_planes *t, p2c2r_pixel_format format, uint32_t i)
{
    return (size_t)t->p.width[i] * twin_channels(format, i);
}

int twin_planes_alloc(twin_planes *t, const peer_cuda_planes *g, p2c2r_pixel_format format,
                      int odd_pitch, uint8_t fill)
{
    memset(t, 0, sizeof *t);
    t->p = *g;
    size_t total = 0, at[3];
    for (uint32_t i = 0; i < g->nplanes; i++) {
        size_t row = (size_t)g->width[i] * twin_channels(format, i);
        t->p.pitch[i] = odd_pitch ? (row + 3) | 1 : (row + 63) / 64 * 64;
        at[i] = total;
        total += (t->p.pitch[i] * g->height[i] + 63) / 64 * 64;
    }
    /* 64-byte aligned, so that the aligned case really is aligned. */
    t->buf = aligned_alloc(64, total ? total : 64);
    if (!t->buf)
        return P2C2R_E_NOMEM;
    memset(t->buf, fill, total);
    for (uint32_t i = 0; i < g->nplanes; i++)
        t->p.data[i] = t->buf + at[i];
    return P2C2R_OK;
}

void twin_planes_free(twin_planes *t)
{
    free(t->buf);
    memset(t, 0, sizeof *t);
}

/* A sample of the test picture: a diagonal edge, a soft gradient, stripes and noise, so
 * that every branch of the quality mode (flat, edge, texture) and the clamp to 0..255 of
 * the separable modes' overshoot are reached. */
static uint8_t twin_sample(uint32_t x, uint32_t y, uint32_t k, uint64_t *rng)
{
    uint32_t v;
    if (x + 2 * y < 40)
        v = 250;
    else if ((x / 5 + y / 7) % 3 == 0)
        v = (x * 3 + y * 2 + k * 40) & 0xff;
    else if (x % 11 < 2)
        v = 0;
    else
        v = (uint32_t)(testutil_rand(rng) & 0xff);
    return (uint8_t)v;
}

static int twin_source(const twin_case *c, const p2c2r_upscale_plan *plan,
                       const peer_cuda_planes *g, p2c2r_image *cpu_src, twin_planes *src,
                       p2c2r_image *cpu_dst)
{
    uint32_t ow, oh;
    p2c2r__upscale_plan_output(plan, &ow, &oh);
    int rc = p2c2r__image_alloc(cpu_src, c->format, c->width, c->height);
    if (rc == P2C2R_OK)
        rc = p2c2r__image_alloc(cpu_dst, c->format, ow, oh);
    if (rc == P2C2R_OK)
        rc = twin_planes_alloc(src, g, c->format, c->odd_pitch, 0x5a);
    if (rc != P2C2R_OK)
        return rc;
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)c->width << 32 | c->height << 8 | c->scale);
    for (uint32_t i = 0; i < cpu_src->nplanes; i++) {
        p2c2r_plane *p = &cpu_src->plane[i];
        for (uint32_t y = 0; y < p->height; y++)
            for (uint32_t x = 0; x < p->width; x++)
                for (uint32_t k = 0; k < p->channels; k++) {
                    uint8_t v = twin_sample(x, y, k + i, &rng);
                    p->data[(size_t)y * p->stride + x * p->channels + k] = v;
                    src->p.data[i][y * src->p.pitch[i] + x * p->channels + k] = v;
                }
    }
    return p2c2r__upscale_image(plan, cpu_src, cpu_dst, NULL, p2c2r__upscale_simd());
}

static size_t twin_compare(const twin_planes *out, p2c2r_pixel_format format,
                           const p2c2r_image *cpu, uint8_t fill, const char *what)
{
    size_t bad = 0;
    for (uint32_t i = 0; i < out->p.nplanes; i++) {
        const p2c2r_plane *ref = &cpu->plane[i];
        size_t row = twin_row_bytes(out, format, i);
        int pad_ok = 1;
        for (uint32_t y = 0; y < out->p.height[i]; y++) {
            const uint8_t *o = out->p.data[i] + y * out->p.pitch[i];
            const uint8_t *r = ref->data + (size_t)y * ref->stride;
            for (size_t x = 0; x < row; x++)
                if (o[x] != r[x] && bad++ < 5)
                    fprintf(stderr, "%s: plane %u row %u sample %zu: %u, CPU %u\n", what, i, y, x,
                            o[x], r[x]);
            for (size_t x = row; x < out->p.pitch[i]; x++)
                pad_ok &= o[x] == fill;
        }
        if (!pad_ok) {
            fprintf(stderr, "%s: plane %u: written past the end of a row\n", what, i);
            bad++;
        }
    }
    return bad;
}

int twin_run_begin(twin_run *r, const twin_case *c)
{
    memset(r, 0, sizeof *r);
    twin_case_name(c, r->name, sizeof r->name);
    int rc = p2c2r__upscale_plan_new(c->format, c->width, c->height, c->scale, c->mode, &r->plan);
    CHECK_RC(rc, P2C2R_OK);
    return rc;
}

int twin_run_images(twin_run *r, const twin_case *c, const peer_cuda_plan *gpu)
{
    peer_cuda_planes gs, gd;
    peer_cuda_plan_geometry(gpu, &gs, &gd);
    int rc = twin_source(c, r->plan, &gs, &r->cpu_src, &r->src, &r->cpu_dst);
    if (rc == P2C2R_OK)
        rc = twin_planes_alloc(&r->dst, &gd, c->format, c->odd_pitch, TWIN_FILL);
    CHECK_RC(rc, P2C2R_OK);
    return rc;
}

int twin_run_check(twin_run *r, const twin_case *c)
{
    size_t bad = twin_compare(&r->dst, c->format, &r->cpu_dst, TWIN_FILL, r->name);
    if (bad)
        fprintf(stderr, "%s: %zu samples differ from the CPU's\n", r->name, bad);
    CHECK(bad == 0);
    return bad != 0;
}

void twin_run_end(twin_run *r)
{
    twin_planes_free(&r->src);
    twin_planes_free(&r->dst);
    p2c2r__image_free(&r->cpu_src);
    p2c2r__image_free(&r->cpu_dst);
    p2c2r__upscale_plan_destroy(&r->plan);
}

int twin_need_device(const char *program)
{
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaSuccess && count > 0)
        return 0;
    printf("%s: no CUDA device (%s): skipped\n", program,
           err != cudaSuccess ? cudaGetErrorString(err) : "none found");
    return 77;
}
