/* jpegband: JPEG encoding cut into horizontal bands, so that one frame's encode runs on
 * several threads and still produces the same bytes whatever the number of threads.
 *
 * The encoder (libjpeg's raw-data interface, planar YCbCr in, no colour conversion, the
 * same settings as p2c2r__jpeg_encode(): integer "ifast" DCT, standard Huffman tables)
 * writes a restart marker after every MCU row. At a restart the entropy coder flushes
 * its bits (padding with ones, as at the end of an image) and resets the DC predictors,
 * so a run of MCU rows encoded as an image of its own is, byte for byte, that run's
 * stretch of the whole image's scan. Each band is encoded that way on any thread; the
 * result is the first band's headers (with the full height) followed by every band's
 * scan data, with the restart markers numbered in sequence. The bytes therefore do not
 * depend on the number of bands or threads, which jpegband_test checks. A restart per MCU
 * row made wallpapers at q85 0.01-0.12% bigger than TurboJPEG's single-pass output.
 *
 * Before encoding a band the encoder calls an optional fill function for its rows, so the
 * caller can compute the band (run the upscaler) right before it is encoded, while the
 * pixels are still in the core's cache.
 */
#ifndef P2C2R_JPEGBAND_H
#define P2C2R_JPEGBAND_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"
#include "common/pool.h"

/* Produce rows [y0, y1) of the image about to be encoded. Returns P2C2R_OK or an error,
 * which fails the encode. Called from any of the pool's threads, for distinct rows. */
typedef int p2c2r_jpegband_fill_fn(void *arg, uint32_t y0, uint32_t y1);

/* Optional hooks of an encode. */
typedef struct p2c2r_jpegband_hooks {
    p2c2r_jpegband_fill_fn *fill; /* run for each band's rows before it is encoded, or NULL */
    void *arg;                    /* for fill */
    /* run on the calling thread while the pool's helpers start on the bands (see
     * p2c2r__pool_run_after()), or NULL: e.g. decoding the source the bands wait for */
    void (*first)(void *first_arg);
    void *first_arg;    /* for first */
    uint64_t encode_us; /* out: microseconds spent encoding, summed over the bands */
} p2c2r_jpegband_hooks;

/* Whether p2c2r__jpegband_encode() takes this format: the YUV formats and GRAY8. */
int p2c2r__jpegband_supports(p2c2r_pixel_format format);

/* Rows a band must start at a multiple of: the height of an MCU row (16 for 4:2:0). */
uint32_t p2c2r__jpegband_rows(p2c2r_pixel_format format);

/* Encode img at quality 1..100 as `bands` bands (at least 1; fewer when the image has
 * fewer MCU rows) run on the pool (NULL: this thread), with optional hooks (may be NULL).
 * img must come from p2c2r__image_alloc(): the
 * encoder replicates edge samples into the row and plane padding it allocates, writing
 * only outside the visible image. *out is malloc'd: free() it. P2C2R_E_UNSUPPORTED for
 * RGB24, P2C2R_E_INVAL for a bad quality, P2C2R_E_CODEC if libjpeg fails, P2C2R_E_NOMEM,
 * or fill's error. */
int p2c2r__jpegband_encode(const p2c2r_image *img, int quality, p2c2r_pool *pool, uint32_t bands,
                           p2c2r_jpegband_hooks *hooks, uint8_t **out, size_t *size);

#endif /* P2C2R_JPEGBAND_H */
