/* twin: the cases on which the CUDA kernels are checked against their CPU twin
 * (common/upscale), shared by the host emulation test and the device test.
 *
 * Every mode, every pixel format, every scale 1..8, on sizes that are no multiple of any
 * tile (1x1, 7x3, 67x45, 131x7, 333x101), and 1920x1080 at 2x; half of the cases with
 * 16-byte-aligned row pitches (the kernels' vector stores), half with odd pitches (their
 * byte stores). Output planes are filled with a marker first, and the bytes past each
 * row's end must still hold it afterwards.
 */
#ifndef P2C2R_TESTS_GPU_TWIN_H
#define P2C2R_TESTS_GPU_TWIN_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_upscale.h"

/* One case. */
typedef struct twin_case {
    p2c2r_pixel_format format; /* image format */
    uint32_t width, height;    /* source size */
    uint32_t scale;            /* 1..8 */
    p2c2r_mode mode;           /* filter */
    int odd_pitch;             /* rows padded to an odd pitch, else to 64 bytes */
} twin_case;

/* The cases, in cases[0..max); returns how many there are. */
size_t twin_cases(twin_case *cases, size_t max);
/* "lanczos yuv420p 67x45 x3 (odd pitch)" */
void twin_case_name(const twin_case *c, char *name, size_t size);

/* Host planes in one allocation. */
typedef struct twin_planes {
    peer_cuda_planes p; /* the view */
    uint8_t *buf;       /* owns the planes */
} twin_planes;

/* Planes of the given geometry (widths, heights and nplanes of g, channels from format),
 * pitch padded as the case says, every byte set to fill. P2C2R_E_NOMEM. */
int twin_planes_alloc(twin_planes *t, const peer_cuda_planes *g, p2c2r_pixel_format format,
                      int odd_pitch, uint8_t fill);
void twin_planes_free(twin_planes *t);
/* Bytes per sample row of plane i (width * channels). */
size_t twin_row_bytes(const twin_planes *t, p2c2r_pixel_format format, uint32_t i);

/* The source image of a case (edges, gradients and noise, from seed) in CPU form and
 * copied into planes of the case's geometry; and the CPU's output for it. */
int twin_source(const twin_case *c, const p2c2r_upscale_plan *plan, const peer_cuda_planes *g,
                p2c2r_image *cpu_src, twin_planes *src, p2c2r_image *cpu_dst);

/* Compare out with the CPU's output: the number of samples that differ (the first few
 * printed with `what`), plus one for each plane whose row padding lost the fill. */
size_t twin_compare(const twin_planes *out, p2c2r_pixel_format format, const p2c2r_image *cpu,
                    uint8_t fill, const char *what);

#endif /* P2C2R_TESTS_GPU_TWIN_H */
