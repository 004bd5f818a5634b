/* jpegrows: JPEG decoding into planes row by row, announced to other threads as the rows
 * arrive, so that work on the top of a frame (resampling, encoding) starts while its
 * bottom is still being decoded. A JPEG without restart markers is one entropy-coded
 * stream, so decoding itself stays on one thread; overlapping it with the rest of the
 * frame's work is what lets a second core shorten the frame.
 *
 * Same libjpeg-turbo and the same hardening as p2c2r__jpeg_decode() (TurboJPEG): the
 * caller checks the header with p2c2r__jpeg_header() before allocating; any libjpeg
 * warning (how a truncated stream shows up) fails the decode; progressive streams with
 * more than 500 scans are refused. Raw (planar) output, accurate integer IDCT: the planes
 * are the ones TurboJPEG's tjDecompressToYUVPlanes() gives.
 */
#ifndef P2C2R_JPEGROWS_H
#define P2C2R_JPEGROWS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/image.h"

/* How far a decode has got: luma rows complete (chroma rows with them), or its failure. */
typedef struct p2c2r_rows {
    pthread_mutex_t lock; /* guards done and rc */
    pthread_cond_t more;  /* done grew, or rc was set */
    uint32_t done;        /* rows [0, done) of every plane's luma-equivalent are final */
    int rc;               /* P2C2R_OK, or why the decode failed */
} p2c2r_rows;

void p2c2r__rows_init(p2c2r_rows *rows);
void p2c2r__rows_fini(p2c2r_rows *rows);
/* Wait until luma rows [0, need) are decoded: P2C2R_OK, or the decode's error. */
int p2c2r__rows_wait(p2c2r_rows *rows, uint32_t need);

/* Whether p2c2r__jpegrows_decode() produces this layout: the YUV formats and GRAY8 (the
 * layouts p2c2r__jpeg_header() names for them). */
int p2c2r__jpegrows_supports(p2c2r_pixel_format format);

/* Decode data into img, which must come from p2c2r__image_alloc() with the format and
 * size p2c2r__jpeg_header() reported, announcing rows on `rows` as they are final (every
 * MCU row for a sequential JPEG; all at the end for a progressive one). Always ends by
 * setting rows->done to the height or rows->rc to the error, so waiters never hang.
 * P2C2R_E_BADINPUT for a truncated, corrupt or mismatching stream, P2C2R_E_NOMEM. */
int p2c2r__jpegrows_decode(const void *data, size_t size, p2c2r_image *img, p2c2r_rows *rows);

#endif /* P2C2R_JPEGROWS_H */
