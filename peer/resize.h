/* resize: CPU resampling kernels for the upscale task kind.
 *
 * Sampling convention (shared with OpenCV's INTER_LINEAR and Pillow): destination pixel x
 * samples source position (x + 0.5) * src_w / dst_w - 0.5, so pixel centres line up and an
 * integer upscale does not shift the image. Source coordinates are clamped to the image,
 * so no kernel reads outside it.
 *
 * These are the CPU references that any GPU kernel of the same name is tested against.
 */
#ifndef P2C2R_RESIZE_H
#define P2C2R_RESIZE_H

#include "common/image.h"

/* Bilinear resampling of src into dst (any sizes, same channel count; dst->data must hold
 * dst->height rows of dst->stride bytes). Fixed-point: each output sample is within 1 of
 * the exact real-valued bilinear result. P2C2R_E_INVAL on mismatched or empty planes, or
 * planes larger than P2C2R_IMAGE_MAX_SIDE or with more than 4 channels; P2C2R_E_NOMEM if
 * its small tables cannot be allocated. */
int p2c2r__resize_bilinear(const p2c2r_plane *src, p2c2r_plane *dst);

#endif /* P2C2R_RESIZE_H */
