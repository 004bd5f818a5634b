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

/* The output planes' marker. */
#define TWIN_FILL 0xa5

/* One case under test: the CPU's side of it and the host planes of the kernels' side. */
typedef struct twin_run {
    char name[128];                 /* twin_case_name() */
    const p2c2r_upscale_plan *plan; /* the CPU plan */
    p2c2r_image cpu_src, cpu_dst;   /* the CPU's images */
    twin_planes src, dst;           /* host planes: the source, the output (TWIN_FILL) */
} twin_run;

/* The CPU plan of a case. Errors as p2c2r__upscale_plan_new() (CHECKed). */
int twin_run_begin(twin_run *r, const twin_case *c);
/* The source image (edges, gradients and noise) in CPU form and in planes of the geometry
 * of gpu (the kernels' plan), output planes of that geometry, and the CPU's output. */
int twin_run_images(twin_run *r, const twin_case *c, const peer_cuda_plan *gpu);
/* Compare r->dst with the CPU's output: 0 when equal, else 1 with the first differences
 * and any plane whose row padding lost TWIN_FILL printed (and CHECKed). */
int twin_run_check(twin_run *r, const twin_case *c);
/* Free what the run holds. */
void twin_run_end(twin_run *r);

/* 0 when CUDA sees a device; else print why `program` skips and return 77. */
int twin_need_device(const char *program);

#endif /* P2C2R_TESTS_GPU_TWIN_H */
