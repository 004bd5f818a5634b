/* jpegband: see jpegband.h.
 *
 * libjpeg reports errors through a longjmp out of its error_exit hook; each band's
 * encoder has its own jmp_buf and is destroyed on that path. The raw-data interface
 * takes one MCU row (max_v_samp_factor * 8 luma rows) per call and reads whole 8x8
 * blocks, so the right edge of each row is replicated into the row padding up to a block
 * boundary (the image's rows are padded to 64 bytes, so that room exists) and rows past
 * the bottom are pointers to the last row, which is how libjpeg pads a picture itself.
 */
#include "common/jpegband.h"

#include <assert.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "common/clock.h"

/* Largest MCU: 2 x 2 luma blocks (4:2:0). */
#define JB_MAX_MCU_ROWS 16

typedef struct jb_error {
    struct jpeg_error_mgr mgr; /* libjpeg's, first so the hook can cast back */
    jmp_buf escape;            /* where error_exit returns to */
} jb_error;

static void jb_error_exit(j_common_ptr cinfo)
{
    longjmp(((jb_error *)cinfo->err)->escape, 1);
}

static void jb_output_message(j_common_ptr cinfo)
{
    (void)cinfo; /* warnings while compressing are not worth a line on stderr */
}

/* The layout of a format the band encoder takes (planar: YUV or greyscale), else NULL. */
static const p2c2r_layout *jb_layout(p2c2r_pixel_format format)
{
    const p2c2r_layout *l = p2c2r__image_layout(format);
    return l && l->channels == 1 ? l : NULL;
}

int p2c2r__jpegband_supports(p2c2r_pixel_format format)
{
    return jb_layout(format) != NULL;
}

uint32_t p2c2r__jpegband_rows(p2c2r_pixel_format format)
{
    const p2c2r_layout *l = jb_layout(format);
    return l ? 8u << l->shift_y : 8;
}

/* One band's job and result. */
typedef struct jb_band {
    uint32_t y0, y1;    /* luma rows */
    unsigned char *buf; /* its own little JPEG, from libjpeg (malloc'd) */
    unsigned long len;  /* bytes at buf */
    int rc;             /* P2C2R_OK or why it failed */
    uint64_t encode_us; /* time spent encoding it */
} jb_band;

typedef struct jb_job {
    const p2c2r_image *img;      /* the image */
    int quality;                 /* 1..100 */
    p2c2r_jpegband_hooks *hooks; /* or NULL */
    jb_band *bands;              /* one per piece */
} jb_job;

/* Replicate the last sample of rows [r0, r1) of p into the padding up to `to` columns. */
static void jb_pad_right(const p2c2r_plane *p, uint32_t r0, uint32_t r1, uint32_t to)
{
    assert(to <= p->stride);
    for (uint32_t r = r0; r < r1; r++) {
        uint8_t *row = p->data + (size_t)r * p->stride;
        memset(row + p->width, row[p->width - 1], to - p->width);
    }
}

/* The body of jb_encode_band(): may leave through libjpeg's longjmp at any call. */
static void jb_compress(j_compress_ptr cinfo, const p2c2r_image *img, int quality, jb_band *b)
{
    const p2c2r_layout *l = jb_layout(img->format); /* checked by the caller */
    int sx = (int)l->shift_x, sy = (int)l->shift_y, nplanes = (int)l->nplanes;
    jpeg_mem_dest(cinfo, &b->buf, &b->len);
    cinfo->image_width = img->width;
    cinfo->image_height = b->y1 - b->y0;
    cinfo->input_components = nplanes;
    cinfo->in_color_space = nplanes == 3 ? JCS_YCbCr : JCS_GRAYSCALE;
    jpeg_set_defaults(cinfo);
    jpeg_set_colorspace(cinfo, nplanes == 3 ? JCS_YCbCr : JCS_GRAYSCALE);
    if (nplanes == 3) {
        cinfo->comp_info[0].h_samp_factor = 1 << sx;
        cinfo->comp_info[0].v_samp_factor = 1 << sy;
        for (int i = 1; i < 3; i++)
            cinfo->comp_info[i].h_samp_factor = cinfo->comp_info[i].v_samp_factor = 1;
    }
    jpeg_set_quality(cinfo, quality, TRUE);
    cinfo->dct_method = JDCT_IFAST;
    cinfo->raw_data_in = TRUE;
    cinfo->restart_in_rows = 1;
    jpeg_start_compress(cinfo, TRUE);

    uint32_t mcu = 8u << sy;
    JSAMPROW rows[3][JB_MAX_MCU_ROWS];
    JSAMPARRAY planes[3] = {rows[0], rows[1], rows[2]};
    for (int i = 0; i < nplanes; i++) {
        const p2c2r_plane *p = &img->plane[i];
        uint32_t psy = i ? (uint32_t)sy : 0;
        uint32_t blocks = (uint32_t)cinfo->comp_info[i].width_in_blocks;
        uint32_t r0 = b->y0 >> psy, r1 = (b->y1 + (1u << psy) - 1) >> psy;
        jb_pad_right(p, r0, r1 < p->height ? r1 : p->height, blocks * 8);
    }
    for (uint32_t y = b->y0; y < b->y1; y += mcu) {
        for (int i = 0; i < nplanes; i++) {
            const p2c2r_plane *p = &img->plane[i];
            uint32_t psy = i ? (uint32_t)sy : 0, n = mcu >> psy;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t r = (y >> psy) + k;
                rows[i][k] = p->data + (size_t)(r < p->height ? r : p->height - 1) * p->stride;
            }
        }
        jpeg_write_raw_data(cinfo, planes, mcu);
    }
    jpeg_finish_compress(cinfo);
}

/* Encode rows [y0, y1) of img as a JPEG of their own into b. */
static int jb_encode_band(const p2c2r_image *img, int quality, jb_band *b)
{
    struct jpeg_compress_struct cinfo;
    jb_error err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jb_error_exit;
    err.mgr.output_message = jb_output_message;
    b->buf = NULL;
    b->len = 0;
    if (setjmp(err.escape)) {
        jpeg_destroy_compress(&cinfo);
        free(b->buf);
        b->buf = NULL;
        return P2C2R_E_CODEC;
    }
    jpeg_create_compress(&cinfo);
    jb_compress(&cinfo, img, quality, b);
    jpeg_destroy_compress(&cinfo);
    return P2C2R_OK;
}

static void jb_run(void *arg, uint32_t k)
{
    jb_job *job = arg;
    jb_band *b = &job->bands[k];
    const p2c2r_jpegband_hooks *h = job->hooks;
    b->rc = h && h->fill ? h->fill(h->arg, b->y0, b->y1) : P2C2R_OK;
    uint64_t t0 = p2c2r__now_us();
    if (b->rc == P2C2R_OK)
        b->rc = jb_encode_band(job->img, job->quality, b);
    b->encode_us = p2c2r__now_us() - t0;
}

/* Offsets in a libjpeg stream of the SOF0 segment's height field and of the first byte of
 * scan data. -1 if the stream is not what libjpeg writes. */
static int jb_parse(const unsigned char *s, size_t len, size_t *height_at, size_t *scan_at)
{
    size_t i = 2;
    *height_at = 0;
    if (len < 4 || s[0] != 0xFF || s[1] != 0xD8)
        return -1;
    while (i + 4 <= len && s[i] == 0xFF) {
        unsigned marker = s[i + 1];
        size_t seg = ((size_t)s[i + 2] << 8) | s[i + 3];
        if (marker == 0xC0)
            *height_at = i + 5;
        i += 2 + seg;
        if (marker == 0xDA) {
            *scan_at = i;
            return *height_at && i <= len - 2 ? 0 : -1;
        }
    }
    return -1;
}

/* Append band scan data to out at *pos, numbering every restart marker with *next. */
static void jb_append_scan(uint8_t *out, size_t *pos, const unsigned char *scan, size_t n,
                           unsigned *next)
{
    size_t i = 0;
    while (i < n) {
        const unsigned char *ff = memchr(scan + i, 0xFF, n - i);
        size_t run = ff ? (size_t)(ff - (scan + i)) + 1 : n - i;
        memcpy(out + *pos, scan + i, run);
        *pos += run;
        i += run;
        if (ff && i < n && scan[i] >= 0xD0 && scan[i] <= 0xD7) {
            out[(*pos)++] = (uint8_t)(0xD0 + (*next)++ % 8);
            i++;
        }
    }
}

int p2c2r__jpegband_encode(const p2c2r_image *img, int quality, p2c2r_pool *pool, uint32_t bands,
                           p2c2r_jpegband_hooks *hooks, uint8_t **out, size_t *size)
{
    assert(img && img->buffer && out && size);
    *out = NULL;
    *size = 0;
    if (!p2c2r__jpegband_supports(img->format))
        return P2C2R_E_UNSUPPORTED;
    if (quality < 1 || quality > 100)
        return P2C2R_E_INVAL;
    uint32_t mcu = p2c2r__jpegband_rows(img->format);
    uint32_t mcu_rows = (img->height + mcu - 1) / mcu;
    if (bands < 1)
        bands = 1;
    if (bands > mcu_rows)
        bands = mcu_rows;
    jb_job job = {img, quality, hooks, calloc(bands, sizeof(jb_band))};
    if (!job.bands) {
        if (hooks && hooks->first)
            hooks->first(hooks->first_arg); /* it may be what ends someone's wait */
        return P2C2R_E_NOMEM;
    }
    for (uint32_t k = 0; k < bands; k++) {
        job.bands[k].y0 = (uint32_t)((uint64_t)mcu_rows * k / bands) * mcu;
        uint32_t end = (uint32_t)((uint64_t)mcu_rows * (k + 1) / bands) * mcu;
        job.bands[k].y1 = end < img->height ? end : img->height;
    }
    p2c2r__pool_run_after(pool, hooks ? hooks->first : NULL, hooks ? hooks->first_arg : NULL,
                          jb_run, &job, bands);
    if (hooks) {
        hooks->encode_us = 0;
        for (uint32_t k = 0; k < bands; k++)
            hooks->encode_us += job.bands[k].encode_us;
    }

    int rc = P2C2R_OK;
    size_t total = 0, height_at = 0, scan_at[bands];
    for (uint32_t k = 0; k < bands && rc == P2C2R_OK; k++) {
        jb_band *b = &job.bands[k];
        size_t h;
        rc = b->rc;
        if (rc == P2C2R_OK && jb_parse(b->buf, b->len, k ? &h : &height_at, &scan_at[k]) != 0)
            rc = P2C2R_E_CODEC;
        total += b->len;
    }
    uint8_t *buf = rc == P2C2R_OK ? malloc(total + 2 * bands) : NULL;
    if (rc == P2C2R_OK && !buf)
        rc = P2C2R_E_NOMEM;
    if (rc == P2C2R_OK) {
        /* Headers of band 0 with the whole height, then each band's scan (its bytes before
         * the final EOI), a restart marker between bands, and one EOI. */
        size_t pos = scan_at[0];
        memcpy(buf, job.bands[0].buf, pos);
        buf[height_at] = (uint8_t)(img->height >> 8);
        buf[height_at + 1] = (uint8_t)img->height;
        unsigned next = 0;
        for (uint32_t k = 0; k < bands; k++) {
            const jb_band *b = &job.bands[k];
            if (k) {
                buf[pos++] = 0xFF;
                buf[pos++] = (uint8_t)(0xD0 + next++ % 8);
            }
            jb_append_scan(buf, &pos, b->buf + scan_at[k], b->len - 2 - scan_at[k], &next);
        }
        buf[pos++] = 0xFF;
        buf[pos++] = 0xD9;
        *out = buf;
        *size = pos;
    }
    for (uint32_t k = 0; k < bands; k++)
        free(job.bands[k].buf);
    free(job.bands);
    return rc;
}
