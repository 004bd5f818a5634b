/* plan: the inside of a p2c2r_upscale_plan, shared by the modules of the upscale library
 * (upscale.c builds plans; separable*.c and quality.c run them). Not for use outside
 * common/upscale/.
 *
 * A separable filter at an integer scale s is polyphase: output X = s*i + p is always the
 * same weighted sum of source pixels i + offset[p] .. i + offset[p] + taps - 1, so one set
 * of weights per phase describes the whole axis, and the kernels can apply it to 16
 * neighbouring outputs of one phase with plain vector loads (no gathers). Rows are cached
 * after the horizontal pass in this phase-major layout, and the vertical pass interleaves
 * the phases as it stores.
 */
#ifndef P2C2R_UPSCALE_PLAN_H
#define P2C2R_UPSCALE_PLAN_H

#include "common/upscale/upscale.h"

#define UPSCALE_MAX_TAPS  6
/* Fixed point of the weights: each phase's weights sum to exactly 1 << UPSCALE_WBITS. */
#define UPSCALE_WBITS     14
/* Source samples enter the horizontal pass as value << UPSCALE_INSHIFT (at most 32640). */
#define UPSCALE_INSHIFT   7
/* Padding, in pixels, left of a padded source row: covers offset[p] >= -3. */
#define UPSCALE_PAD_LEFT  8
/* Padding right of the rounded row width: covers the last vector's taps. */
#define UPSCALE_PAD_RIGHT 16
/* Outputs of one phase handled per vector step. */
#define UPSCALE_VEC       16

/* One polyphase filter: the mode's kernel at one integer scale. */
typedef struct upscale_filter {
    uint32_t scale;                                            /* s, 1..8 */
    uint32_t taps;                                             /* 2, 4 or 6 */
    int32_t offset[P2C2R_UPSCALE_MAX_SCALE];                   /* first tap of phase p */
    int16_t weight[P2C2R_UPSCALE_MAX_SCALE][UPSCALE_MAX_TAPS]; /* Q14, sum 1 << 14 */
} upscale_filter;

/* How one plane is upscaled. */
typedef struct upscale_plane_plan {
    uint32_t sw, sh;      /* source plane size */
    uint32_t dw, dh;      /* output plane size (dw <= s * sw, dh <= s * sh) */
    uint32_t channels;    /* interleaved samples per pixel */
    uint32_t shift_y;     /* log2 of the plane's vertical subsampling against luma */
    int quality;          /* edge-adaptive + sharpening (quality.c) instead of separable */
    const int32_t *vrows; /* dh * taps: clamped source row of each tap of each output row */
    const int32_t *qcols; /* quality: dw * 4 clamped source columns x-1..x+2, else NULL */
    const int32_t *qrows; /* quality: dh * 4 clamped source rows y-1..y+2, else NULL */
    const float *qfx;     /* quality: dw fractional positions across, else NULL */
    const float *qfy;     /* quality: dh fractional positions down, else NULL */
} upscale_plane_plan;

struct p2c2r_upscale_plan {
    char name[P2C2R_UPSCALE_NAME_MAX]; /* e.g. "lanczos yuv420p 960x540 x2" */
    p2c2r_pixel_format format;         /* image format */
    p2c2r_mode mode;                   /* filter */
    uint32_t width, height;            /* source image size */
    uint32_t scale;                    /* factor */
    uint32_t row_align;                /* bands start at multiples of this output row */
    uint32_t nplanes;                  /* 1 or 3 */
    upscale_plane_plan plane[3];       /* per plane */
    upscale_filter filter;             /* separable filter (Lanczos-3 in QUALITY mode) */
    size_t bytes;                      /* memory held, struct included */
    uint32_t refs;                     /* references (atomic): see p2c2r__upscale_plan_ref() */
    void *tables;                      /* one allocation behind every table pointer */
};

/* Samples of a horizontally filtered row, per phase: the source row's sample count rounded
 * up to whole vectors. */
static inline uint32_t upscale_row_elems(const upscale_plane_plan *pp)
{
    uint32_t n = pp->sw * pp->channels;
    return (n + UPSCALE_VEC - 1) / UPSCALE_VEC * UPSCALE_VEC;
}

/* PMULHRSW on one lane: (a * b) / 2^15, rounded half up, as the instruction does. */
static inline int32_t upscale_mulhrs(int32_t a, int32_t b)
{
    return (a * b + (1 << 14)) >> 15;
}

/* Rows of a separable plane's band: compute output rows [y0, y1) of dst. `scratch` holds
 * upscale_separable_scratch() bytes. Implemented by every instruction set. */
typedef struct upscale_sep_ops {
    const char *name; /* "scalar", "avx2" */
    /* One source row (sw * channels samples, channels == 1 only for SIMD ops) through the
     * horizontal pass into s phase rows of upscale_row_elems() int16 each. `pad` is a
     * scratch row of UPSCALE_PAD_LEFT + row_elems + UPSCALE_PAD_RIGHT pixels. */
    void (*hpass)(const upscale_plane_plan *pp, const upscale_filter *f, const uint8_t *src,
                  int16_t *pad, int16_t *out);
    /* One output row from `taps` horizontally filtered rows and one phase's weights. */
    void (*vpass)(const upscale_plane_plan *pp, const upscale_filter *f, const int16_t *const *rows,
                  const int16_t *weight, uint8_t *dst);
} upscale_sep_ops;

extern const upscale_sep_ops upscale_sep_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const upscale_sep_ops upscale_sep_avx2;
#endif

/* int16 samples of the padded source row that hpass() needs as scratch (one vector more
 * than the padding, so that the padding can be written in whole vectors). */
static inline size_t upscale_pad_elems(const upscale_plane_plan *pp)
{
    uint32_t c = pp->channels;
    size_t px = UPSCALE_PAD_LEFT + (upscale_row_elems(pp) + c - 1) / c + UPSCALE_PAD_RIGHT;
    return px * c + UPSCALE_VEC;
}

/* The polyphase filter of a separable mode (FAST, BICUBIC, LANCZOS) at an integer scale
 * (filter.c). P2C2R_E_UNSUPPORTED for any other mode, P2C2R_E_INVAL for a bad scale. */
int upscale_filter_init(upscale_filter *f, p2c2r_mode mode, uint32_t scale);

/* Output rows [y0, y1) of a separable plane (separable.c). P2C2R_E_NOMEM for scratch. */
int upscale_separable_rows(const upscale_plane_plan *pp, const upscale_filter *f,
                           const upscale_sep_ops *ops, const p2c2r_plane *src, p2c2r_plane *dst,
                           uint32_t y0, uint32_t y1);

/* Output rows [y0, y1) of a quality-mode plane (quality.c). P2C2R_E_NOMEM for scratch. */
int upscale_quality_rows(const upscale_plane_plan *pp, uint32_t scale, const p2c2r_plane *src,
                         p2c2r_plane *dst, uint32_t y0, uint32_t y1);

#endif /* P2C2R_UPSCALE_PLAN_H */
