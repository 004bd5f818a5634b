/* image: 8-bit images in the wire pixel formats, and the JPEG codec (TurboJPEG).
 *
 * Images are kept planar YCbCr wherever the input allows: it is JPEG's own form, so a
 * JPEG -> upscale -> JPEG path runs with no colour conversion at all (decode to planes,
 * resample each plane, encode from planes). RGB24 is one plane of 3 interleaved channels.
 *
 * Every size is checked against the limits below before anything is allocated; a JPEG's
 * header dimensions are checked before it is decoded.
 */
#ifndef P2C2R_IMAGE_H
#define P2C2R_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "p2c2r_error.h"
#include "p2c2r_formats.h"

/* Largest image side and area the project handles, input or output. */
#define P2C2R_IMAGE_MAX_SIDE   16384u
#define P2C2R_IMAGE_MAX_PIXELS (128u * 1024u * 1024u)

/* One plane of samples. */
typedef struct p2c2r_plane {
    uint8_t *data;     /* first sample of the first row */
    uint32_t width;    /* pixels per row */
    uint32_t height;   /* rows */
    uint32_t stride;   /* bytes from one row to the next (>= width * channels) */
    uint32_t channels; /* interleaved samples per pixel: 1, or 3 for RGB24 */
} p2c2r_plane;

/* An image: format, size and up to three planes living in one allocation. */
typedef struct p2c2r_image {
    p2c2r_pixel_format format; /* GRAY8, RGB24 or a YUV*P format */
    uint32_t width;            /* pixels */
    uint32_t height;           /* pixels */
    uint32_t nplanes;          /* 1 (GRAY8, RGB24) or 3 (YUV) */
    p2c2r_plane plane[3];      /* Y, Cb, Cr or the single plane */
    uint8_t *buffer;           /* owns all plane data; NULL when empty */
} p2c2r_image;

/* How a pixel format lays out its planes. */
typedef struct p2c2r_layout {
    uint32_t nplanes;  /* 1 or 3 */
    uint32_t channels; /* samples per pixel in plane 0: 1, or 3 for RGB24 */
    uint32_t shift_x;  /* chroma subsampling across, log2: chroma width = ceil(width >> it) */
    uint32_t shift_y;  /* and down */
} p2c2r_layout;

/* The layout of format, or NULL for a format this build does not know. */
const p2c2r_layout *p2c2r__image_layout(p2c2r_pixel_format format);

/* Check that (format, width, height) is a supported, in-limits image.
 * P2C2R_E_UNSUPPORTED for an unknown format, P2C2R_E_TOOBIG past the limits,
 * P2C2R_E_BADINPUT for a zero size. */
int p2c2r__image_check(p2c2r_pixel_format format, uint32_t width, uint32_t height);

/* Bytes of a tightly packed raw image (planes one after the other, rows packed), or 0 if
 * the arguments fail p2c2r__image_check(). */
size_t p2c2r__image_raw_size(p2c2r_pixel_format format, uint32_t width, uint32_t height);

/* Allocate an uninitialised image. Rows are padded to 64 bytes, and for YUV420P/422P of odd
 * size the Y plane has one spare column/row past its width/height (TurboJPEG's planar
 * calls use it; see p2c2r__jpeg_encode()). On failure *img is left empty (buffer NULL). */
int p2c2r__image_alloc(p2c2r_image *img, p2c2r_pixel_format format, uint32_t width,
                       uint32_t height);

/* Bytes p2c2r__image_alloc() would allocate for this image (0 if it fails the check). */
size_t p2c2r__image_bytes(p2c2r_pixel_format format, uint32_t width, uint32_t height);

/* Lay out an image exactly as p2c2r__image_alloc() does, over memory the caller owns (e.g.
 * pinned host memory a GPU copies from): buffer must be 64-byte aligned and hold
 * p2c2r__image_bytes(). The image borrows it: never p2c2r__image_free() it. P2C2R_E_INVAL
 * when size is too small, else p2c2r__image_check()'s errors. */
int p2c2r__image_place(p2c2r_image *img, p2c2r_pixel_format format, uint32_t width, uint32_t height,
                       void *buffer, size_t size);

/* Free an image's planes and zero it. Accepts an empty image. */
void p2c2r__image_free(p2c2r_image *img);

/* Copy a packed raw image of exactly p2c2r__image_raw_size() bytes into a new image.
 * P2C2R_E_BADINPUT when size does not match. */
int p2c2r__image_from_raw(p2c2r_image *img, p2c2r_pixel_format format, uint32_t width,
                          uint32_t height, const void *data, size_t size);

/* Copy a packed raw image (p2c2r__image_raw_size() bytes of img's format and size) into
 * img's planes, row by row. */
void p2c2r__image_unpack(p2c2r_image *img, const void *data);

/* Pack an image into a new malloc'd buffer (caller frees with free()). */
int p2c2r__image_to_raw(const p2c2r_image *img, uint8_t **out, size_t *size);

/* A TurboJPEG compressor/decompressor pair. Not thread-safe: one per thread. */
typedef struct p2c2r_jpeg p2c2r_jpeg;

p2c2r_jpeg *p2c2r__jpeg_new(void);
/* Accepts NULL; sets *jpeg to NULL. */
void p2c2r__jpeg_destroy(p2c2r_jpeg **jpeg);

/* Read a JPEG header. *format is the layout p2c2r__jpeg_decode() will produce.
 * P2C2R_E_BADINPUT for bytes that are not a JPEG, P2C2R_E_TOOBIG past the limits,
 * P2C2R_E_UNSUPPORTED for CMYK/YCCK JPEGs. */
int p2c2r__jpeg_header(p2c2r_jpeg *jpeg, const void *data, size_t size, uint32_t *width,
                       uint32_t *height, p2c2r_pixel_format *format);

/* Decode a JPEG into *img (which must be empty). Produces YUV420P/422P/444P planes for
 * those subsamplings, GRAY8 for greyscale, RGB24 for anything else. Checks the header's
 * dimensions against the limits before allocating. A truncated or corrupt JPEG is
 * P2C2R_E_BADINPUT; on any error *img is left empty. */
int p2c2r__jpeg_decode(p2c2r_jpeg *jpeg, const void *data, size_t size, p2c2r_image *img);

/* Encode an image as JPEG at quality 1..100 (else P2C2R_E_INVAL). YUV planes are encoded as
 * they are (same subsampling, no colour conversion); RGB24 as 4:2:0; GRAY8 as greyscale.
 * The image must come from p2c2r__image_alloc() (or decode/from_raw): for odd-sized
 * YUV420P/422P it fills the Y plane's spare column/row by edge replication, writing only
 * outside the visible image. *out is allocated by TurboJPEG: free it with
 * p2c2r__jpeg_free_buffer(). P2C2R_E_CODEC if TurboJPEG fails. */
int p2c2r__jpeg_encode(p2c2r_jpeg *jpeg, const p2c2r_image *img, int quality, uint8_t **out,
                       size_t *size);

/* Free a buffer returned by p2c2r__jpeg_encode(). Accepts NULL. The signature matches
 * zmq_free_fn so that the buffer can be sent without copying. */
void p2c2r__jpeg_free_buffer(void *data, void *hint);

#endif /* P2C2R_IMAGE_H */
