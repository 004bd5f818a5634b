/* jpegrows: see jpegrows.h.
 *
 * libjpeg's raw-data interface hands out one MCU row (max_v_samp_factor * 8 luma rows) per
 * call and writes whole 8x8 blocks: columns up to the block boundary (inside the image's
 * 64-byte row padding) and, in the last MCU row, rows past the plane's height, which go
 * to a scratch row. Errors leave through longjmp from libjpeg's error_exit; warnings are
 * turned into errors the same way.
 */
#include "common/jpegrows.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

/* As TurboJPEG's TJFLAG_LIMITSCANS. */
#define JR_MAX_SCANS    500
/* Rows of one component in an MCU row: v_samp_factor x 8, and libjpeg takes sampling
 * factors up to MAX_SAMP_FACTOR (4) also in a greyscale stream, where any is legal. */
#define JR_MAX_MCU_ROWS (MAX_SAMP_FACTOR * DCTSIZE)

void p2c2r__rows_init(p2c2r_rows *rows)
{
    pthread_mutex_init(&rows->lock, NULL);
    pthread_cond_init(&rows->more, NULL);
    rows->done = 0;
    rows->rc = P2C2R_OK;
}

void p2c2r__rows_fini(p2c2r_rows *rows)
{
    pthread_cond_destroy(&rows->more);
    pthread_mutex_destroy(&rows->lock);
}

static void rows_set(p2c2r_rows *rows, uint32_t done, int rc)
{
    pthread_mutex_lock(&rows->lock);
    rows->done = done;
    rows->rc = rc;
    pthread_cond_broadcast(&rows->more);
    pthread_mutex_unlock(&rows->lock);
}

int p2c2r__rows_wait(p2c2r_rows *rows, uint32_t need)
{
    pthread_mutex_lock(&rows->lock);
    while (rows->done < need && rows->rc == P2C2R_OK)
        pthread_cond_wait(&rows->more, &rows->lock);
    int rc = rows->done >= need ? P2C2R_OK : rows->rc;
    pthread_mutex_unlock(&rows->lock);
    return rc;
}

int p2c2r__jpegrows_supports(p2c2r_pixel_format format)
{
    return format == P2C2R_PIX_YUV420P || format == P2C2R_PIX_YUV422P ||
           format == P2C2R_PIX_YUV444P || format == P2C2R_PIX_GRAY8;
}

typedef struct jr_error {
    struct jpeg_error_mgr mgr; /* libjpeg's, first so hooks can cast back */
    jmp_buf escape;            /* where errors return to */
} jr_error;

static void jr_error_exit(j_common_ptr cinfo)
{
    longjmp(((jr_error *)cinfo->err)->escape, 1);
}

/* A warning (level -1) is fatal, as with TJFLAG_STOPONWARNING; trace messages are not. */
static void jr_emit_message(j_common_ptr cinfo, int level)
{
    if (level < 0)
        longjmp(((jr_error *)cinfo->err)->escape, 1);
}

static void jr_progress(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > JR_MAX_SCANS)
        longjmp(((jr_error *)cinfo->err)->escape, 1);
}

/* Whether the stream's components are laid out as fmt says. */
static int jr_matches(j_decompress_ptr d, const p2c2r_image *img)
{
    if ((uint32_t)d->image_width != img->width || (uint32_t)d->image_height != img->height)
        return 0;
    if (img->format == P2C2R_PIX_GRAY8)
        return d->num_components == 1;
    if (d->num_components != 3 || d->jpeg_color_space != JCS_YCbCr)
        return 0;
    int h = img->format == P2C2R_PIX_YUV444P ? 1 : 2;
    int v = img->format == P2C2R_PIX_YUV420P ? 2 : 1;
    return d->comp_info[0].h_samp_factor == h && d->comp_info[0].v_samp_factor == v &&
           d->comp_info[1].h_samp_factor == 1 && d->comp_info[1].v_samp_factor == 1 &&
           d->comp_info[2].h_samp_factor == 1 && d->comp_info[2].v_samp_factor == 1;
}

/* The body of the decode; may leave through longjmp at any libjpeg call. *scratch is
 * allocated here and freed by the caller. */
static int jr_decompress(j_decompress_ptr d, const void *data, size_t size, p2c2r_image *img,
                         p2c2r_rows *rows, uint8_t **scratch)
{
    jpeg_mem_src(d, data, (unsigned long)size);
    if (jpeg_read_header(d, TRUE) != JPEG_HEADER_OK || !jr_matches(d, img))
        return P2C2R_E_BADINPUT;
    d->raw_data_out = TRUE;
    d->dct_method = JDCT_ISLOW;
    jpeg_start_decompress(d);
    int nplanes = (int)img->nplanes;
    uint32_t mcu = (uint32_t)d->max_v_samp_factor * 8;
    size_t widest = 0;
    for (int i = 0; i < nplanes; i++) {
        size_t w = (size_t)d->comp_info[i].width_in_blocks * 8;
        if (w > img->plane[i].stride)
            return P2C2R_E_BADINPUT; /* cannot happen with image_alloc's padding */
        widest = w > widest ? w : widest;
    }
    *scratch = malloc(widest);
    if (!*scratch)
        return P2C2R_E_NOMEM;
    JSAMPROW ptrs[3][JR_MAX_MCU_ROWS];
    JSAMPARRAY planes[3] = {ptrs[0], ptrs[1], ptrs[2]};
    for (uint32_t y = 0; y < img->height; y += mcu) {
        for (int i = 0; i < nplanes; i++) {
            const p2c2r_plane *p = &img->plane[i];
            uint32_t n = (uint32_t)d->comp_info[i].v_samp_factor * 8;
            uint32_t r0 = y / mcu * n;
            for (uint32_t k = 0; k < n; k++)
                ptrs[i][k] = r0 + k < p->height ? p->data + (size_t)(r0 + k) * p->stride : *scratch;
        }
        if (jpeg_read_raw_data(d, planes, mcu) != mcu)
            return P2C2R_E_BADINPUT; /* suspended: the data ended */
        uint32_t done = y + mcu < img->height ? y + mcu : img->height;
        rows_set(rows, done, P2C2R_OK);
    }
    jpeg_finish_decompress(d);
    return P2C2R_OK;
}

int p2c2r__jpegrows_decode(const void *data, size_t size, p2c2r_image *img, p2c2r_rows *rows)
{
    int rc = P2C2R_E_BADINPUT;
    uint8_t *scratch = NULL;
    uint8_t **volatile scratch_at = &scratch;
    struct jpeg_decompress_struct d;
    jr_error err;
    struct jpeg_progress_mgr progress = {.progress_monitor = jr_progress};
    if (!p2c2r__jpegrows_supports(img->format) || size == 0 || size > ULONG_MAX)
        goto done;
    d.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jr_error_exit;
    err.mgr.emit_message = jr_emit_message;
    if (setjmp(err.escape)) {
        rc = P2C2R_E_BADINPUT;
        jpeg_destroy_decompress(&d);
        goto done;
    }
    jpeg_create_decompress(&d);
    d.progress = &progress;
    rc = jr_decompress(&d, data, size, img, rows, scratch_at);
    jpeg_destroy_decompress(&d);
done:
    free(*scratch_at);
    if (rc == P2C2R_OK)
        rows_set(rows, img->height, P2C2R_OK);
    else
        rows_set(rows, 0, rc);
    return rc;
}
