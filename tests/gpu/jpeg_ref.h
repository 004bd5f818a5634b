/* jpeg_ref: what the device JPEG encoder's tests check its output against, written
 * independently of peer/cuda: a JPEG's markers read back (tables, frame, restart
 * interval, where the scan is), libjpeg's own quantised coefficients of a JPEG that
 * TurboJPEG made from the same planes, and a plain sequential Huffman coder (one bit writer over
 * the whole scan, codes derived from the DHT segments the encoder wrote), and a strict TurboJPEG
 * decode.
 */
#ifndef P2C2R_TESTS_GPU_JPEG_REF_H
#define P2C2R_TESTS_GPU_JPEG_REF_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"
#include "jpeg_encode.h"

/* A JPEG's headers as read back. */
typedef struct jref_info {
    uint16_t quant[4][64];         /* DQT tables, natural order */
    uint8_t hbits[2][2][17];       /* DHT [class: 0 DC, 1 AC][table]: counts per length */
    uint8_t hvals[2][2][256];      /* DHT symbols */
    uint32_t code[2][2][256];      /* (code << 8) | length, from the DHT (Annex C.2) */
    uint32_t width, height, ncomp; /* SOF0 */
    uint32_t hs[3], vs[3], tq[3];  /* SOF0 per component */
    uint32_t restart;              /* DRI (0: none) */
    size_t scan, scan_end;         /* entropy-coded bytes [scan, scan_end), EOI at scan_end */
} jref_info;

/* Read the markers of a baseline JPEG: 0, or -1 after printing what is wrong. */
int jref_parse(const uint8_t *jpeg, size_t size, jref_info *info);

/* Natural index of each zigzag position, walked along the diagonals. */
void jref_zigzag(uint8_t natural[64]);

/* The quantised coefficients (zigzag) of every block of a JPEG as libjpeg reads them
 * (jpeg_read_coefficients()), dummy blocks included, laid out in the scan order of the
 * MCUs info describes (whose sampling the JPEG must have). NULL on a mismatch. */
int16_t *jref_coefficients(const uint8_t *jpeg, size_t size, const jref_info *info);

/* The entropy-coded data of coefficients (as jref_coefficients() lays them out) coded
 * sequentially with info's tables and restart interval: every block's bits, every
 * interval's bytes (padded, stuffed, with its marker), and the bytes. 0, or -1. */
typedef struct jref_scan {
    uint8_t *data;      /* the scan's bytes, RST markers included */
    size_t size;        /* bytes */
    uint32_t *bits;     /* per block */
    uint32_t *ssize;    /* per interval */
    uint32_t blocks;    /* blocks coded */
    uint32_t intervals; /* restart intervals */
} jref_scan;
int jref_encode(const int16_t *coef, const jref_info *info, jref_scan *out);
void jref_scan_free(jref_scan *s);

/* Decode with TurboJPEG into planes of a new image, failing on any warning
 * (tjGetErrorCode() == TJERR_WARNING) as on an error: 0, or -1 after printing why. */
int jref_decode(const uint8_t *jpeg, size_t size, p2c2r_image *img);

/* The same image encoded by TurboJPEG (no restarts; TJFLAG_ACCURATEDCT, libjpeg's islow,
 * or with fast, TJFLAG_FASTDCT as the CPU executor encodes), from planes of an image
 * from p2c2r__image_alloc() (its spare column/row is filled here). */
int jref_turbojpeg(p2c2r_image *img, int quality, int fast, uint8_t **out, size_t *size);

#endif /* P2C2R_TESTS_GPU_JPEG_REF_H */
