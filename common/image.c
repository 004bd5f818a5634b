/* image: planar 8-bit images and the TurboJPEG codec behind them (see image.h).
 *
 * One allocation holds all planes, each row padded to IMAGE_ALIGN bytes so that SIMD and GPU
 * copies see aligned rows; code that needs packed bytes goes through image_to_raw().
 *
 * JPEG input is hostile until proven otherwise: the header's dimensions pass
 * p2c2r__image_check() before any pixel memory exists, progressive scans are capped
 * (TJFLAG_LIMITSCANS) and any libjpeg warning, which is how a truncated stream shows up,
 * aborts the decode (TJFLAG_STOPONWARNING) so a half-grey frame is never passed on as valid.
 * YCbCr JPEGs are decoded to and encoded from planes, which skips colour conversion and
 * chroma resampling, the two costliest steps TurboJPEG would otherwise add.
 */
#include "common/image.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

/* Row and plane alignment: a cache line, so that every row starts aligned for SIMD loads
 * and for pitched copies to a GPU. */
#define IMAGE_ALIGN 64u

/* TJFLAG_FASTDCT (the integer "ifast" DCT) for speed on encode. It is spelled out although
 * libjpeg-turbo 2.1 already defaults to it when compressing (same bytes out with or
 * without), so that no library default can silently slow the encoder. Decode keeps
 * TurboJPEG's default accurate inverse DCT: "ifast" there cost 5-8 dB of round-trip PSNR
 * at q95 on the test photos, for no speed gain measurable above noise.
 * TJFLAG_LIMITSCANS stops a progressive JPEG with thousands of scans from burning CPU. */
#define JPEG_ENCODE_FLAGS TJFLAG_FASTDCT
#define JPEG_DECODE_FLAGS (TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)

struct p2c2r_jpeg {
    tjhandle enc; /* TurboJPEG compressor; NULL after a failure until the next use */
    tjhandle dec; /* TurboJPEG decompressor; likewise */
};

/* 4:2:0 chroma of an odd side rounds up, as JPEG (and tjPlaneWidth) does. */
static const p2c2r_layout image_layouts[] = {
    [P2C2R_PIX_GRAY8] = {1, 1, 0, 0},   [P2C2R_PIX_RGB24] = {1, 3, 0, 0},
    [P2C2R_PIX_YUV420P] = {3, 1, 1, 1}, [P2C2R_PIX_YUV422P] = {3, 1, 1, 0},
    [P2C2R_PIX_YUV444P] = {3, 1, 0, 0},
};

const p2c2r_layout *p2c2r__image_layout(p2c2r_pixel_format format)
{
    size_t i = (size_t)format;
    if (i >= sizeof image_layouts / sizeof image_layouts[0] || image_layouts[i].nplanes == 0)
        return NULL;
    return &image_layouts[i];
}

/* The TJSAMP_* TurboJPEG encodes a layout with (RGB24 as 4:2:0). */
static int image_tjsamp(const p2c2r_layout *l)
{
    if (l->channels == 3)
        return TJSAMP_420;
    if (l->nplanes == 1)
        return TJSAMP_GRAY;
    return l->shift_y ? TJSAMP_420 : l->shift_x ? TJSAMP_422 : TJSAMP_444;
}

static void image_plane_size(const p2c2r_layout *l, uint32_t i, uint32_t width, uint32_t height,
                             uint32_t *pw, uint32_t *ph)
{
    uint32_t sx = i ? l->shift_x : 0;
    uint32_t sy = i ? l->shift_y : 0;
    *pw = (uint32_t)(((uint64_t)width + (1u << sx) - 1) >> sx);
    *ph = (uint32_t)(((uint64_t)height + (1u << sy) - 1) >> sy);
}

/* Memory size of plane 0: TurboJPEG's planar calls see subsampled luma rounded up to whole
 * chroma samples (tjPlaneWidth/Height(0, ...)); the decoder writes that spare column and
 * row, the encoder reads them. */
static void image_luma_mem(const p2c2r_layout *l, uint32_t width, uint32_t height, uint32_t *mem_w,
                           uint32_t *mem_h)
{
    *mem_w = width;
    *mem_h = height;
    if (l->nplanes == 3) {
        *mem_w = (width + (1u << l->shift_x) - 1) & ~((1u << l->shift_x) - 1);
        *mem_h = (height + (1u << l->shift_y) - 1) & ~((1u << l->shift_y) - 1);
    }
}

int p2c2r__image_check(p2c2r_pixel_format format, uint32_t width, uint32_t height)
{
    if (!p2c2r__image_layout(format))
        return P2C2R_E_UNSUPPORTED;
    if (width == 0 || height == 0)
        return P2C2R_E_BADINPUT;
    if (width > P2C2R_IMAGE_MAX_SIDE || height > P2C2R_IMAGE_MAX_SIDE ||
        (uint64_t)width * height > P2C2R_IMAGE_MAX_PIXELS)
        return P2C2R_E_TOOBIG;
    return P2C2R_OK;
}

size_t p2c2r__image_raw_size(p2c2r_pixel_format format, uint32_t width, uint32_t height)
{
    if (p2c2r__image_check(format, width, height) != P2C2R_OK)
        return 0;
    const p2c2r_layout *l = p2c2r__image_layout(format);
    /* Within the limits this is at most 3 * 128 Mi, so size_t holds it even on 32 bits. */
    size_t total = 0;
    for (uint32_t i = 0; i < l->nplanes; i++) {
        uint32_t pw, ph;
        image_plane_size(l, i, width, height, &pw, &ph);
        total += (size_t)pw * l->channels * ph;
    }
    return total;
}

/* Lay out an image of (format, width, height) over buffer (NULL: only count); its bytes. */
static size_t image_lay_out(p2c2r_image *img, p2c2r_pixel_format format, uint32_t width,
                            uint32_t height, uint8_t *buffer)
{
    const p2c2r_layout *l = p2c2r__image_layout(format);
    size_t total = 0;
    for (uint32_t i = 0; i < l->nplanes; i++) {
        p2c2r_plane *p = &img->plane[i];
        image_plane_size(l, i, width, height, &p->width, &p->height);
        p->channels = l->channels;
        uint32_t mem_w = p->width, mem_h = p->height;
        if (i == 0)
            image_luma_mem(l, p->width, p->height, &mem_w, &mem_h);
        p->stride = (mem_w * l->channels + IMAGE_ALIGN - 1) & ~(IMAGE_ALIGN - 1);
        p->data = buffer ? buffer + total : NULL;
        total += (size_t)p->stride * mem_h;
    }
    img->format = format;
    img->width = width;
    img->height = height;
    img->nplanes = l->nplanes;
    img->buffer = buffer;
    return total;
}

size_t p2c2r__image_bytes(p2c2r_pixel_format format, uint32_t width, uint32_t height)
{
    p2c2r_image img;
    if (p2c2r__image_check(format, width, height) != P2C2R_OK)
        return 0;
    return image_lay_out(&img, format, width, height, NULL);
}

int p2c2r__image_place(p2c2r_image *img, p2c2r_pixel_format format, uint32_t width, uint32_t height,
                       void *buffer, size_t size)
{
    assert(img && buffer && ((uintptr_t)buffer & (IMAGE_ALIGN - 1)) == 0);
    memset(img, 0, sizeof *img);
    size_t need = p2c2r__image_bytes(format, width, height);
    if (!need || need > size)
        return need ? P2C2R_E_INVAL : p2c2r__image_check(format, width, height);
    image_lay_out(img, format, width, height, buffer);
    return P2C2R_OK;
}

int p2c2r__image_alloc(p2c2r_image *img, p2c2r_pixel_format format, uint32_t width, uint32_t height)
{
    assert(img);
    memset(img, 0, sizeof *img);
    int rc = p2c2r__image_check(format, width, height);
    if (rc != P2C2R_OK)
        return rc;
    size_t total = p2c2r__image_bytes(format, width, height);
    /* Every stride is a multiple of IMAGE_ALIGN, so total already is one, as
     * aligned_alloc() requires. */
    uint8_t *buffer = aligned_alloc(IMAGE_ALIGN, total);
    if (!buffer)
        return P2C2R_E_NOMEM;
    image_lay_out(img, format, width, height, buffer);
    return P2C2R_OK;
}

void p2c2r__image_free(p2c2r_image *img)
{
    if (!img)
        return;
    free(img->buffer);
    memset(img, 0, sizeof *img);
}

int p2c2r__image_from_raw(p2c2r_image *img, p2c2r_pixel_format format, uint32_t width,
                          uint32_t height, const void *data, size_t size)
{
    assert(img);
    assert(data || size == 0);
    memset(img, 0, sizeof *img);
    int rc = p2c2r__image_check(format, width, height);
    if (rc != P2C2R_OK)
        return rc;
    if (size != p2c2r__image_raw_size(format, width, height))
        return P2C2R_E_BADINPUT;
    rc = p2c2r__image_alloc(img, format, width, height);
    if (rc != P2C2R_OK)
        return rc;
    p2c2r__image_unpack(img, data);
    return P2C2R_OK;
}

void p2c2r__image_unpack(p2c2r_image *img, const void *data)
{
    const uint8_t *src = data;
    for (uint32_t i = 0; i < img->nplanes; i++) {
        p2c2r_plane *p = &img->plane[i];
        size_t row = (size_t)p->width * p->channels;
        for (uint32_t y = 0; y < p->height; y++) {
            memcpy(p->data + (size_t)y * p->stride, src, row);
            src += row;
        }
    }
}

int p2c2r__image_to_raw(const p2c2r_image *img, uint8_t **out, size_t *size)
{
    assert(img && img->buffer && out && size);
    *out = NULL;
    *size = 0;
    size_t total = p2c2r__image_raw_size(img->format, img->width, img->height);
    assert(total > 0);
    uint8_t *buf = malloc(total);
    if (!buf)
        return P2C2R_E_NOMEM;
    uint8_t *dst = buf;
    for (uint32_t i = 0; i < img->nplanes; i++) {
        const p2c2r_plane *p = &img->plane[i];
        size_t row = (size_t)p->width * p->channels;
        for (uint32_t y = 0; y < p->height; y++) {
            memcpy(dst, p->data + (size_t)y * p->stride, row);
            dst += row;
        }
    }
    assert((size_t)(dst - buf) == total);
    *out = buf;
    *size = total;
    return P2C2R_OK;
}

/* TurboJPEG 2.1 leaves a decompressor mid-stream when tjDecompressHeader3() fails, and
 * every later call on it then fails too ("two SOI markers"): one bad frame would poison
 * the thread's codec. So a handle that failed is thrown away and made afresh on next use,
 * which costs a few small allocations on the error path only. */
static void jpeg_discard(tjhandle *h)
{
    if (*h)
        tjDestroy(*h);
    *h = NULL;
}

static int jpeg_ready(tjhandle *h, int compress)
{
    if (!*h)
        *h = compress ? tjInitCompress() : tjInitDecompress();
    return *h ? P2C2R_OK : P2C2R_E_NOMEM;
}

p2c2r_jpeg *p2c2r__jpeg_new(void)
{
    p2c2r_jpeg *jpeg = calloc(1, sizeof *jpeg);
    if (!jpeg)
        return NULL;
    jpeg->enc = tjInitCompress();
    if (!jpeg->enc)
        goto fail;
    jpeg->dec = tjInitDecompress();
    if (!jpeg->dec)
        goto fail;
    return jpeg;
fail:
    p2c2r__jpeg_destroy(&jpeg);
    return NULL;
}

void p2c2r__jpeg_destroy(p2c2r_jpeg **jpeg)
{
    if (!jpeg || !*jpeg)
        return;
    jpeg_discard(&(*jpeg)->enc);
    jpeg_discard(&(*jpeg)->dec);
    free(*jpeg);
    *jpeg = NULL;
}

int p2c2r__jpeg_header(p2c2r_jpeg *jpeg, const void *data, size_t size, uint32_t *width,
                       uint32_t *height, p2c2r_pixel_format *format)
{
    assert(jpeg && width && height && format);
    assert(data || size == 0);
    if (size == 0 || size > ULONG_MAX)
        return P2C2R_E_BADINPUT;
    if (jpeg_ready(&jpeg->dec, 0) != P2C2R_OK)
        return P2C2R_E_NOMEM;
    /* TurboJPEG 2.1 returns success without touching its outputs for a stream that ends
     * before any frame header (it takes it for a tables-only stream), hence the
     * initialisation and the size check. It fails on subsamplings it cannot name. */
    int w = 0, h = 0, subsamp = -1, colorspace = -1;
    if (tjDecompressHeader3(jpeg->dec, data, (unsigned long)size, &w, &h, &subsamp, &colorspace) !=
        0) {
        jpeg_discard(&jpeg->dec);
        return P2C2R_E_BADINPUT;
    }
    if (w <= 0 || h <= 0) {
        jpeg_discard(&jpeg->dec);
        return P2C2R_E_BADINPUT;
    }

    p2c2r_pixel_format f;
    if (colorspace == TJCS_GRAY) {
        f = P2C2R_PIX_GRAY8;
    } else if (colorspace == TJCS_YCbCr && subsamp == TJSAMP_420) {
        f = P2C2R_PIX_YUV420P;
    } else if (colorspace == TJCS_YCbCr && subsamp == TJSAMP_422) {
        f = P2C2R_PIX_YUV422P;
    } else if (colorspace == TJCS_YCbCr && subsamp == TJSAMP_444) {
        f = P2C2R_PIX_YUV444P;
    } else if (colorspace == TJCS_YCbCr || colorspace == TJCS_RGB) {
        /* 4:4:0, 4:1:1, or Adobe RGB-coded: TurboJPEG converts these to RGB for us. */
        f = P2C2R_PIX_RGB24;
    } else {
        /* CMYK / YCCK: libjpeg cannot convert them to RGB. */
        return P2C2R_E_UNSUPPORTED;
    }
    int rc = p2c2r__image_check(f, (uint32_t)w, (uint32_t)h);
    if (rc != P2C2R_OK)
        return rc;
    *width = (uint32_t)w;
    *height = (uint32_t)h;
    *format = f;
    return P2C2R_OK;
}

int p2c2r__jpeg_decode(p2c2r_jpeg *jpeg, const void *data, size_t size, p2c2r_image *img)
{
    assert(jpeg && img && !img->buffer);
    /* A decompressor keeps the Huffman and quantisation tables of the streams it read
     * before, and uses them for a stream that does not define its own: the picture would
     * depend on what this handle decoded earlier, for other tasks. A fresh one takes
     * libjpeg-turbo's standard Huffman tables instead, as jpegrows does. */
    jpeg_discard(&jpeg->dec);
    uint32_t width, height;
    p2c2r_pixel_format format;
    int rc = p2c2r__jpeg_header(jpeg, data, size, &width, &height, &format);
    if (rc != P2C2R_OK)
        goto fail;
    rc = p2c2r__image_alloc(img, format, width, height);
    if (rc != P2C2R_OK)
        goto fail;

    int tj;
    if (img->nplanes == 3) {
        unsigned char *planes[3];
        int strides[3];
        for (int i = 0; i < 3; i++) {
            planes[i] = img->plane[i].data;
            strides[i] = (int)img->plane[i].stride;
        }
        tj = tjDecompressToYUVPlanes(jpeg->dec, data, (unsigned long)size, planes, (int)width,
                                     strides, (int)height, JPEG_DECODE_FLAGS);
    } else {
        int pf = format == P2C2R_PIX_GRAY8 ? TJPF_GRAY : TJPF_RGB;
        tj = tjDecompress2(jpeg->dec, data, (unsigned long)size, img->plane[0].data, (int)width,
                           (int)img->plane[0].stride, (int)height, pf, JPEG_DECODE_FLAGS);
    }
    /* A warning (e.g. premature end of data) is as fatal as an error: either way the
     * pixels are not what the sender encoded. */
    if (tj != 0) {
        jpeg_discard(&jpeg->dec);
        rc = P2C2R_E_BADINPUT;
        goto fail;
    }
    return P2C2R_OK;
fail:
    p2c2r__image_free(img);
    return rc;
}

/* Fill the spare luma column and row that p2c2r__image_alloc() leaves for TurboJPEG by
 * repeating the edge, as libjpeg itself pads a picture to whole blocks: whatever the
 * resampler left there would otherwise leak into the edge blocks as ringing. Only memory
 * outside the visible image is written, hence allowed on a const image. */
static void image_pad_luma(const p2c2r_plane *y, const p2c2r_layout *l)
{
    uint32_t mem_w, mem_h;
    image_luma_mem(l, y->width, y->height, &mem_w, &mem_h);
    assert(y->stride >= mem_w);
    for (uint32_t x = y->width; x < mem_w; x++)
        for (uint32_t r = 0; r < y->height; r++)
            y->data[(size_t)r * y->stride + x] = y->data[(size_t)r * y->stride + y->width - 1];
    for (uint32_t r = y->height; r < mem_h; r++)
        memcpy(y->data + (size_t)r * y->stride, y->data + (size_t)(y->height - 1) * y->stride,
               mem_w);
}

int p2c2r__jpeg_encode(p2c2r_jpeg *jpeg, const p2c2r_image *img, int quality, uint8_t **out,
                       size_t *size)
{
    assert(jpeg && img && img->buffer && out && size);
    *out = NULL;
    *size = 0;
    if (quality < 1 || quality > 100)
        return P2C2R_E_INVAL;
    const p2c2r_layout *l = p2c2r__image_layout(img->format);
    if (!l)
        return P2C2R_E_UNSUPPORTED;
    assert(img->nplanes == l->nplanes);
    int tjsamp = image_tjsamp(l);
    if (jpeg_ready(&jpeg->enc, 1) != P2C2R_OK)
        return P2C2R_E_NOMEM;

    unsigned char *buf = NULL;
    unsigned long len = 0;
    int tj;
    if (img->nplanes == 3) {
        const unsigned char *planes[3];
        int strides[3];
        for (int i = 0; i < 3; i++) {
            assert(i == 0 ||
                   img->plane[i].width == (uint32_t)tjPlaneWidth(i, (int)img->width, tjsamp));
            assert(i == 0 ||
                   img->plane[i].height == (uint32_t)tjPlaneHeight(i, (int)img->height, tjsamp));
            planes[i] = img->plane[i].data;
            strides[i] = (int)img->plane[i].stride;
        }
        image_pad_luma(&img->plane[0], l);
        tj = tjCompressFromYUVPlanes(jpeg->enc, planes, (int)img->width, strides, (int)img->height,
                                     tjsamp, &buf, &len, quality, JPEG_ENCODE_FLAGS);
    } else {
        int pf = img->format == P2C2R_PIX_GRAY8 ? TJPF_GRAY : TJPF_RGB;
        tj = tjCompress2(jpeg->enc, img->plane[0].data, (int)img->width, (int)img->plane[0].stride,
                         (int)img->height, pf, &buf, &len, tjsamp, quality, JPEG_ENCODE_FLAGS);
    }
    if (tj != 0)
        goto fail;
    *out = buf;
    *size = len;
    return P2C2R_OK;
fail:
    /* TurboJPEG may have grown the buffer before failing. */
    tjFree(buf);
    jpeg_discard(&jpeg->enc);
    return P2C2R_E_CODEC;
}

void p2c2r__jpeg_free_buffer(void *data, void *hint)
{
    (void)hint;
    tjFree(data);
}
