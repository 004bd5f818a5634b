/* upscale: the CPU upscaling kernels, shared by the peer and (later) the SDK's local
 * fallback, so that both produce the same pixels.
 *
 * Planar 8-bit in, planar 8-bit out, by an integer factor 1..8 in both directions, in one
 * of the four modes of p2c2r_mode:
 *   FAST     bilinear (2 taps per axis)
 *   BICUBIC  Catmull-Rom (4 taps)
 *   LANCZOS  Lanczos-3 (6 taps)
 *   QUALITY  on luma (Y, GRAY8): edge-adaptive directional upsampling followed by
 *            contrast-adaptive sharpening, in the spirit of AMD FSR 1 EASU + RCAS (see
 *            quality.h); chroma and RGB24 planes get Lanczos-3, which already has more
 *            detail than 4:2:0 chroma carries.
 *
 * Geometry: output pixel X of a plane samples source position (X + 0.5) / scale - 0.5, and
 * source positions outside the plane take the nearest edge pixel, so no kernel reads
 * outside its image. Chroma is sited as JPEG (JFIF) sites it, centred between the luma
 * samples it covers; with that siting the output chroma plane of any image, odd sizes
 * included, is the first ceil(scale * W / 2) columns (rows) of a scale-times upscale of
 * the source chroma plane, so it follows the luma grid exactly. (Resampling by the ratio
 * of plane sizes, e.g. 80 -> 159 for a 159-pixel-wide 4:2:0 image at 2x, would drift by
 * up to half a chroma pixel.)
 *
 * Everything a given (format, size, scale, mode) needs is precomputed once into a plan
 * (filter weights per phase, source rows per output row, quality-mode column tables): the
 * CPU's "resident model". Plans are immutable and shared between threads; plan_cache.h
 * keeps them in a bounded LRU cache.
 *
 * Arithmetic: separable modes use Q14 weights and 16-bit intermediates, each product
 * rounded as x86's PMULHRSW rounds it. The scalar and the AVX2 kernels compute the very
 * same integer formula, so their outputs are identical byte for byte, and every output
 * sample is within 1 of the exact real-valued filter (upscale_test.c checks both). The
 * AVX2 path is chosen at run time when the CPU has it; P2C2R_SIMD=scalar in the
 * environment forces the scalar path. The quality mode is scalar float code on every CPU.
 */
#ifndef P2C2R_UPSCALE_H
#define P2C2R_UPSCALE_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"
#include "common/pool.h"
#include "p2c2r_formats.h"

#define P2C2R_UPSCALE_MAX_SCALE 8u
/* Longest plan name, terminating NUL included. */
#define P2C2R_UPSCALE_NAME_MAX  64u

/* Instruction set the separable kernels run on. */
typedef enum p2c2r_simd {
    P2C2R_SIMD_SCALAR = 0, /* portable C */
    P2C2R_SIMD_AVX2 = 1,   /* x86-64 AVX2, chosen at run time */
} p2c2r_simd;

/* The best level this CPU runs, unless P2C2R_SIMD=scalar is set. Decided once. */
p2c2r_simd p2c2r__upscale_simd(void);
/* "scalar" or "avx2". */
const char *p2c2r__upscale_simd_name(p2c2r_simd simd);

/* Everything precomputed for one (format, size, scale, mode). Immutable once built. */
typedef struct p2c2r_upscale_plan p2c2r_upscale_plan;

/* Build a plan for upscaling a width x height image of `format` by `scale` in `mode`.
 * P2C2R_E_UNSUPPORTED for an unknown format or mode, P2C2R_E_INVAL for a scale outside
 * 1..8, P2C2R_E_TOOBIG when the output would pass the image limits, P2C2R_E_NOMEM. */
int p2c2r__upscale_plan_new(p2c2r_pixel_format format, uint32_t width, uint32_t height,
                            uint32_t scale, p2c2r_mode mode, const p2c2r_upscale_plan **plan);
/* Plans are reference-counted, since a cache may evict a plan that a thread is still
 * running: _ref() takes one more reference, _destroy() drops one and frees the plan with
 * the last. Both are thread-safe. _destroy() accepts NULL and sets *plan to NULL. */
const p2c2r_upscale_plan *p2c2r__upscale_plan_ref(const p2c2r_upscale_plan *plan);
void p2c2r__upscale_plan_destroy(const p2c2r_upscale_plan **plan);
/* Whether plan is the one for these arguments. */
int p2c2r__upscale_plan_is(const p2c2r_upscale_plan *plan, p2c2r_pixel_format format,
                           uint32_t width, uint32_t height, uint32_t scale, p2c2r_mode mode);

/* The name a plan for these arguments has ("lanczos yuv420p 960x540 x2"), written into
 * name; "" for an unknown format or mode. The coordinator computes it for a task to find
 * the peers that hold the plan. */
void p2c2r__upscale_plan_key(p2c2r_pixel_format format, uint32_t width, uint32_t height,
                             uint32_t scale, p2c2r_mode mode, char name[P2C2R_UPSCALE_NAME_MAX]);

/* Name of a plan ("lanczos yuv420p 960x540 x2"), for logs and the peer's resident list. */
const char *p2c2r__upscale_plan_name(const p2c2r_upscale_plan *plan);
/* Bytes the plan holds, what the cache counts against its bound. */
size_t p2c2r__upscale_plan_bytes(const p2c2r_upscale_plan *plan);
/* Output size. */
void p2c2r__upscale_plan_output(const p2c2r_upscale_plan *plan, uint32_t *width, uint32_t *height);
/* Output rows a band must start at a multiple of (the vertical chroma subsampling:
 * 2 for YUV420P, else 1), so that a band's chroma rows are its own. */
uint32_t p2c2r__upscale_plan_row_align(const p2c2r_upscale_plan *plan);

/* Compute output rows [y0, y1) of dst (luma rows; and the chroma rows they cover) from src.
 * src and dst must match the plan (format and sizes, e.g. dst from p2c2r__image_alloc()),
 * y0 a multiple of the row alignment, y0 < y1 <= output height. Rows of different bands
 * may be computed by different threads at once, and the bytes do not depend on how the
 * image is cut. P2C2R_E_INVAL on a mismatch, P2C2R_E_NOMEM for scratch memory. */
int p2c2r__upscale_rows(const p2c2r_upscale_plan *plan, const p2c2r_image *src, p2c2r_image *dst,
                        uint32_t y0, uint32_t y1, p2c2r_simd simd);

/* The whole image, cut into bands run on the pool (NULL: this thread only). */
int p2c2r__upscale_image(const p2c2r_upscale_plan *plan, const p2c2r_image *src, p2c2r_image *dst,
                         p2c2r_pool *pool, p2c2r_simd simd);

/* One plane on its own, for tests and tools: dst (1..4 channels like src) must be at most
 * scale times src in each direction and more than scale times (src - 1), which is how
 * chroma planes of odd-sized images come out. Builds its tables on every call. */
int p2c2r__upscale_plane(const p2c2r_plane *src, p2c2r_plane *dst, uint32_t scale, p2c2r_mode mode,
                         p2c2r_simd simd);

#endif /* P2C2R_UPSCALE_H */
