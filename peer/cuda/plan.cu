/* plan: a plan's device copy (see cuda_upscale.h and kernels.h) and the dispatch of an
 * upscale to the mode's kernels.
 *
 * The copy is one device allocation: the cuk_plan header (filter, plane geometry, tile
 * counts) and, for the quality mode, the position tables of the luma plane, exactly the
 * CPU plan's. The kernels of the separable modes compute their clamped source positions
 * from the filter's offsets instead of reading the CPU's per-row table: an add and two
 * compares are cheaper than a load. A host copy of the header stays with the plan for the
 * launcher's grid maths.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

extern "C" {
#include "common/upscale/plan.h"
}

struct peer_cuda_plan {
    cuk_plan host;          /* the header, its table pointers into `mem` */
    void *mem;              /* the block: device memory, or host memory for the emulation */
    size_t bytes;           /* of the block */
    int on_host;            /* mem is host memory (peer_cuda_plan_host()) */
    p2c2r_pixel_format fmt; /* of the images it upscales */
};

/* Copy n items of a CPU table to the block at *at, returning where they will live. */
template <typename T>
static const T *plan_table(uint8_t *mem, uintptr_t base, size_t *at, const T *src, size_t n)
{
    size_t off = *at;
    *at += (n * sizeof(T) + 15) / 16 * 16;
    if (mem)
        memcpy(mem + off, src, n * sizeof(T));
    return (const T *)(base + off);
}

size_t cuk_plan_build(const p2c2r_upscale_plan *p, void *mem, uintptr_t base)
{
    cuk_plan h;
    memset(&h, 0, sizeof h);
    h.mode = (uint32_t)p->mode;
    h.scale = p->scale;
    h.taps = p->filter.taps;
    h.nplanes = p->nplanes;
    h.rdiv = (uint32_t)((((uint64_t)1 << 31) + p->scale - 1) / p->scale);
    memcpy(h.offset, p->filter.offset, sizeof h.offset);
    memcpy(h.weight, p->filter.weight, sizeof h.weight);
    size_t at = (sizeof h + 15) / 16 * 16;
    uint32_t tiles = 0;
    for (uint32_t i = 0; i < p->nplanes; i++) {
        const upscale_plane_plan *pp = &p->plane[i];
        cuk_plane *c = &h.plane[i];
        uint32_t tw = pp->quality ? CUK_Q_TW : CUK_SEP_TW(pp->channels);
        uint32_t th = pp->quality ? CUK_Q_TH : CUK_SEP_TH(pp->channels);
        c->sw = pp->sw;
        c->sh = pp->sh;
        c->dw = pp->dw;
        c->dh = pp->dh;
        c->channels = pp->channels;
        c->quality = (uint32_t)pp->quality;
        c->tiles_x = (pp->dw + tw - 1) / tw;
        c->tiles = c->tiles_x * ((pp->dh + th - 1) / th);
        c->first = tiles;
        tiles += c->tiles;
        if (pp->quality) {
            uint8_t *m = (uint8_t *)mem;
            c->qcols = plan_table(m, base, &at, pp->qcols, (size_t)pp->dw * 4);
            c->qrows = plan_table(m, base, &at, pp->qrows, (size_t)pp->dh * 4);
            c->qfx = plan_table(m, base, &at, pp->qfx, pp->dw);
            c->qfy = plan_table(m, base, &at, pp->qfy, pp->dh);
        }
    }
    if (mem)
        memcpy(mem, &h, sizeof h);
    return at;
}

/* The struct around a block at mem, header copied with its pointers for base. */
static peer_cuda_plan *plan_new(const p2c2r_upscale_plan *plan, uint8_t **stage, size_t *bytes)
{
    *bytes = cuk_plan_build(plan, NULL, 0);
    peer_cuda_plan *p = (peer_cuda_plan *)calloc(1, sizeof *p);
    *stage = (uint8_t *)malloc(*bytes);
    if (!p || !*stage) {
        free(p);
        free(*stage);
        *stage = NULL;
        return NULL;
    }
    p->bytes = *bytes;
    p->fmt = plan->format;
    return p;
}

int peer_cuda_plan_upload(const p2c2r_upscale_plan *plan, cudaStream_t stream, peer_cuda_plan **out)
{
    *out = NULL;
    uint8_t *stage;
    size_t bytes;
    peer_cuda_plan *p = plan_new(plan, &stage, &bytes);
    if (!p)
        return P2C2R_E_NOMEM;
    cudaError_t err = cudaMalloc(&p->mem, bytes);
    if (err != cudaSuccess) {
        p->mem = NULL;
        free(stage);
        free(p);
        return cuk_fail("plan upload: cudaMalloc", err);
    }
    cuk_plan_build(plan, stage, (uintptr_t)p->mem);
    memcpy(&p->host, stage, sizeof p->host);
    /* From pageable memory the copy is staged before the call returns, so the stage can
     * go at once; the DMA itself is ordered on stream. */
    err = cudaMemcpyAsync(p->mem, stage, bytes, cudaMemcpyHostToDevice, stream);
    free(stage);
    if (err != cudaSuccess) {
        int rc = cuk_fail("plan upload: cudaMemcpyAsync", err);
        peer_cuda_plan_destroy(&p);
        return rc;
    }
    *out = p;
    return P2C2R_OK;
}

int peer_cuda_plan_host(const p2c2r_upscale_plan *plan, peer_cuda_plan **out)
{
    *out = NULL;
    uint8_t *stage;
    size_t bytes;
    peer_cuda_plan *p = plan_new(plan, &stage, &bytes);
    if (!p)
        return P2C2R_E_NOMEM;
    cuk_plan_build(plan, stage, (uintptr_t)stage);
    memcpy(&p->host, stage, sizeof p->host);
    p->mem = stage;
    p->on_host = 1;
    *out = p;
    return P2C2R_OK;
}

void peer_cuda_plan_destroy(peer_cuda_plan **plan)
{
    if (!plan || !*plan)
        return;
    peer_cuda_plan *p = *plan;
    *plan = NULL;
    if (p->on_host) {
        free(p->mem);
    } else if (p->mem) {
        cudaError_t err = cudaFree(p->mem);
        if (err != cudaSuccess)
            cuk_fail("plan destroy: cudaFree", err);
    }
    free(p);
}

size_t peer_cuda_plan_bytes(const peer_cuda_plan *plan)
{
    return plan->bytes;
}

void peer_cuda_plan_geometry(const peer_cuda_plan *plan, peer_cuda_planes *src,
                             peer_cuda_planes *dst)
{
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    src->nplanes = dst->nplanes = plan->host.nplanes;
    for (uint32_t i = 0; i < plan->host.nplanes; i++) {
        const cuk_plane *c = &plan->host.plane[i];
        src->width[i] = c->sw;
        src->height[i] = c->sh;
        src->pitch[i] = (size_t)c->sw * c->channels;
        dst->width[i] = c->dw;
        dst->height[i] = c->dh;
        dst->pitch[i] = (size_t)c->dw * c->channels;
    }
}

/* Whether the planes have the plan's geometry: sizes, pitches that hold a row, data. */
static int planes_match(const peer_cuda_planes *pl, const cuk_plan *h, int out)
{
    if (pl->nplanes != h->nplanes)
        return 0;
    for (uint32_t i = 0; i < h->nplanes; i++) {
        const cuk_plane *c = &h->plane[i];
        uint32_t w = out ? c->dw : c->sw, hh = out ? c->dh : c->sh;
        if (!pl->data[i] || pl->width[i] != w || pl->height[i] != hh ||
            pl->pitch[i] < (size_t)w * c->channels)
            return 0;
    }
    return 1;
}

/* The kernels that make planes [first, nplanes) of a plan's mode. */
static const cuk_mode_ops *mode_ops(const cuk_plan *h, uint32_t first)
{
    /* By p2c2r_mode (C++ has no array designators); the quality mode's chroma and RGB
     * planes are Lanczos-3. */
    static_assert(P2C2R_MODE_FAST == 1 && P2C2R_MODE_BICUBIC == 2 && P2C2R_MODE_LANCZOS == 3 &&
                      P2C2R_MODE_QUALITY == 4,
                  "p2c2r_mode values");
    static const cuk_mode_ops *const separable[] = {NULL, &cuk_fast_ops, &cuk_bicubic_ops,
                                                    &cuk_lanczos_ops, &cuk_lanczos_ops};
    return h->plane[first].quality ? &cuk_quality_ops : separable[h->mode];
}

/* Check the arguments and fill io; returns how many launches the image takes (1, or 2 for
 * a quality plan with chroma), or P2C2R_E_INVAL. */
static int upscale_prepare(const peer_cuda_plan *plan, const peer_cuda_planes *src,
                           const peer_cuda_planes *dst, cuk_io *io)
{
    if (!plan || !src || !dst || !planes_match(src, &plan->host, 0) ||
        !planes_match(dst, &plan->host, 1))
        return P2C2R_E_INVAL;
    memset(io, 0, sizeof *io);
    io->vec_ok = 1;
    for (uint32_t i = 0; i < plan->host.nplanes; i++) {
        for (uint32_t k = 0; k < plan->host.nplanes; k++)
            if (dst->data[i] == src->data[k])
                return P2C2R_E_INVAL;
        io->src[i] = src->data[i];
        io->dst[i] = dst->data[i];
        io->spitch[i] = src->pitch[i];
        io->dpitch[i] = dst->pitch[i];
        if ((uintptr_t)dst->data[i] % 16 || dst->pitch[i] % 16)
            io->vec_ok = 0;
    }
    return plan->host.plane[0].quality && plan->host.nplanes > 1 ? 2 : 1;
}

int peer_cuda_upscale(const peer_cuda_plan *plan, const peer_cuda_planes *src,
                      const peer_cuda_planes *dst, cudaStream_t stream)
{
    cuk_io io;
    int launches = upscale_prepare(plan, src, dst, &io);
    if (launches < 0)
        return launches;
    if (plan->on_host)
        return P2C2R_E_INVAL;
    const cuk_plan *dev = (const cuk_plan *)plan->mem;
    for (uint32_t first = 0; first < (uint32_t)launches; first++) {
        int rc = mode_ops(&plan->host, first)->launch(&plan->host, dev, &io, first, stream);
        if (rc != P2C2R_OK)
            return rc;
    }
    return P2C2R_OK;
}

int peer_cuda_emulate(const peer_cuda_plan *plan, const peer_cuda_planes *src,
                      const peer_cuda_planes *dst)
{
    cuk_io io;
    int launches = upscale_prepare(plan, src, dst, &io);
    if (launches < 0)
        return launches;
    if (!plan->on_host)
        return P2C2R_E_INVAL;
    const cuk_plan *h = (const cuk_plan *)plan->mem;
    for (uint32_t first = 0; first < (uint32_t)launches; first++) {
        int rc = mode_ops(h, first)->emulate(h, &io, first);
        if (rc != P2C2R_OK)
            return rc;
    }
    return P2C2R_OK;
}
