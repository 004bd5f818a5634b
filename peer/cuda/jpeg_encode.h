/* jpeg_encode: a baseline JPEG encoder (sequential DCT, Huffman, 8-bit, JFIF) for planar
 * YCbCr 4:2:0, 4:2:2, 4:4:4 and grey planes that are already in device memory, so that
 * only the finished bitstream crosses to the host.
 *
 * The scan is cut into restart intervals (DRI, RSTn markers) and every stage runs in
 * parallel across blocks or intervals, each a launch on the caller's stream:
 *   dct        per 8x8 block: the samples (edges replicated as libjpeg pads them),
 *              libjpeg's islow integer DCT and quantiser with its tables for the quality
 *              (dummy blocks past the edge as libjpeg makes them), in zigzag order: the
 *              coefficients are libjpeg's own;
 *   bits       per block: the bits of its Huffman codes (standard Annex K.3 tables);
 *   interval   per interval: the blocks' bit offsets (a prefix sum) and its total;
 *   scan       a prefix sum over the intervals' 32-bit words: where each one is packed;
 *   clear      per interval: zero its words;
 *   pack       per block: its codes OR'd into the words at its offset;
 *   stuffsize  per interval: its bytes once padded with 1-bits, 0xFF stuffed and its RSTn
 *              marker added;
 *   scan       a second prefix sum, over the stuffed sizes: where each lands;
 *   write      per interval: its stuffed bytes and marker at their place after the
 *              headers; the last one writes EOI and the total size.
 * The headers (SOI, APP0 JFIF, DQT, SOF0, DHT, DRI, SOS) are built on the host
 * (jpeg_headers.c) and copied in front. Restart intervals default to 48 blocks' worth of
 * MCUs (8 MCUs of 4:2:0): enough intervals for the device's threads at 1080p and up; the
 * markers made the test images 0.1-5% bigger than TurboJPEG's single-pass output.
 *
 * Every stage is a __host__ __device__ function of one thread (jpeg_stages.cuh), and
 * peer_cuda_jpeg_emulate() runs the very same functions on the host for every thread, so
 * the unit suite checks the device's arithmetic, indexing and bitstream on any machine.
 *
 * C-compatible: the executor and the tests are C.
 */
#ifndef P2C2R_PEER_CUDA_JPEG_ENCODE_H
#define P2C2R_PEER_CUDA_JPEG_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_upscale.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest header the host writes (two DQT, four DHT, SOF0, SOS and the rest). */
#define GJ_HEADER_MAX     1024
/* Restart interval in blocks of the default (rounded to whole MCUs). */
#define GJ_RESTART_BLOCKS 48

/* One frame's layout: what every stage reads, passed to the kernels by value. */
typedef struct gj_geometry {
    uint32_t width, height; /* image size, pixels */
    uint32_t ncomp;         /* 1 (grey) or 3 */
    uint32_t hs[3], vs[3];  /* sampling factors per component */
    uint32_t pw[3], ph[3];  /* plane sizes per component */
    uint32_t mcus_x, mcus;  /* MCUs across, in all */
    uint32_t bpm;           /* blocks per MCU */
    uint8_t comp[10];       /* per block of an MCU: its component */
    uint8_t dx[10], dy[10]; /* per block of an MCU: its block offset in the MCU */
    uint8_t prev[10];       /* per block of an MCU: the block of its component coded
                             * before it (DC predictor), prev[] - bpm of the MCU
                             * before when >= bpm */
    uint32_t restart_mcus;  /* MCUs per restart interval */
    uint32_t intervals;     /* restart intervals */
    uint32_t blocks;        /* blocks in all: mcus * bpm */
    uint32_t header_bytes;  /* of the headers before the scan */
    uint8_t natural[64];    /* natural index of each zigzag position */
    uint16_t quant[2][64];  /* quantisation, natural order: luma, chroma */
} gj_geometry;

/* Huffman code tables: per symbol (code << 8) | length; 0 for an unused symbol. */
typedef struct gj_huff {
    uint32_t dc[2][16];  /* luma, chroma */
    uint32_t ac[2][256]; /* luma, chroma */
} gj_huff;

/* The quantisation table of libjpeg for quality 1..100 (jpeg_quality_scaling, then
 * jpeg_add_quant_table with force_baseline), natural order; luma when chroma is 0. */
void gj_quant_table(int quality, int chroma, uint16_t table[64]);
/* The standard Huffman tables (Annex K.3, libjpeg's defaults) as codes. */
void gj_huff_tables(gj_huff *h);
/* Fill g for an image (P2C2R_E_UNSUPPORTED for a format other than YUV 4:2:0, 4:2:2,
 * 4:4:4 or GRAY8, P2C2R_E_INVAL for a bad quality or size, P2C2R_E_TOOBIG past 65535 on a
 * side), restart_mcus 0 for the default, and write the headers into hdr
 * (GJ_HEADER_MAX bytes). */
int gj_geometry_init(gj_geometry *g, p2c2r_pixel_format format, uint32_t width, uint32_t height,
                     int quality, uint32_t restart_mcus, uint8_t *hdr);
/* Upper bound of the finished JPEG's bytes for g. */
size_t gj_max_bytes(const gj_geometry *g);

/* A device encoder: its scratch buffers on one device, grown and never shrunk. */
typedef struct peer_cuda_jpeg peer_cuda_jpeg;

/* A new encoder for the current device (nothing allocated on it until the first frame).
 * P2C2R_E_NOMEM. */
int peer_cuda_jpeg_new(peer_cuda_jpeg **out);
/* Free it and its device memory. Its stream must be idle. Accepts NULL; sets *j to NULL. */
void peer_cuda_jpeg_destroy(peer_cuda_jpeg **j);

/* Queue the encode of planes (device memory; p2c2r__image_alloc()'s plane sizes for the
 * format) on stream. Scratch grows (cudaMalloc) only for a bigger frame than any before,
 * after waiting for the stream. Errors: gj_geometry_init()'s, P2C2R_E_INVAL for planes
 * that do not match the format and size, P2C2R_E_NOMEM or P2C2R_E_INTERNAL for the device
 * (logged). Never exits, never waits for the kernels. */
int peer_cuda_jpeg_encode(peer_cuda_jpeg *j, const peer_cuda_planes *planes,
                          p2c2r_pixel_format format, uint32_t width, uint32_t height, int quality,
                          uint32_t restart_mcus, cudaStream_t stream);
/* Wait for the encode queued last on stream and copy its bitstream into a new malloc'd
 * buffer (*out, free() it): the size first (4 bytes), then exactly the JPEG's bytes.
 * P2C2R_E_NOMEM, P2C2R_E_INTERNAL. */
int peer_cuda_jpeg_fetch(peer_cuda_jpeg *j, cudaStream_t stream, uint8_t **out, size_t *size);

/* What the emulation leaves behind for a test to check stage by stage (all malloc'd, freed
 * by gj_trace_free()). */
typedef struct gj_trace {
    gj_geometry g;   /* the frame's layout */
    int16_t *coef;   /* blocks * 64 quantised coefficients, zigzag order, scan order */
    uint32_t *bits;  /* blocks: bits of each block's codes */
    uint32_t *ibits; /* intervals: bits of each interval before padding */
    uint32_t *ssize; /* intervals: bytes of each once padded, stuffed, with its marker */
} gj_trace;
void gj_trace_free(gj_trace *t);

/* Run the encoder's stages on the host (planes in host memory), every thread of every
 * stage in turn, into a new malloc'd JPEG (*out, free() it); trace, when not NULL, keeps
 * the stages' results. Errors as peer_cuda_jpeg_encode(), P2C2R_E_NOMEM. */
int peer_cuda_jpeg_emulate(const peer_cuda_planes *planes, p2c2r_pixel_format format,
                           uint32_t width, uint32_t height, int quality, uint32_t restart_mcus,
                           gj_trace *trace, uint8_t **out, size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* P2C2R_PEER_CUDA_JPEG_ENCODE_H */
