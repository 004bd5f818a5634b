/* jpeg_ref: see jpeg_ref.h. */
#include "jpeg_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* after stdio.h: it uses FILE and size_t */
#include <turbojpeg.h>

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

void jref_zigzag(uint8_t natural[64])
{
    int z = 0;
    for (int s = 0; s < 15; s++) /* diagonal s: row + column == s, alternating direction */
        for (int i = 0; i < 8; i++) {
            int r = s % 2 ? i : s - i, c = s - r;
            if (r >= 0 && r < 8 && c >= 0 && c < 8)
                natural[z++] = (uint8_t)(r * 8 + c);
        }
}

/* Annex C.2: codes of a DHT table, by length then symbol order. */
static void derive(const uint8_t bits[17], const uint8_t *vals, uint32_t code[256])
{
    uint32_t c = 0, k = 0;
    memset(code, 0, 256 * sizeof *code);
    for (uint32_t len = 1; len <= 16; len++) {
        for (uint32_t n = 0; n < bits[len]; n++)
            code[vals[k++]] = c++ << 8 | len;
        c <<= 1;
    }
}

int jref_parse(const uint8_t *j, size_t size, jref_info *in)
{
    memset(in, 0, sizeof *in);
    uint8_t natural[64];
    jref_zigzag(natural);
    if (size < 4 || j[0] != 0xff || j[1] != 0xd8) {
        fprintf(stderr, "jref: no SOI\n");
        return -1;
    }
    size_t at = 2;
    while (at + 4 <= size) {
        if (j[at] != 0xff) {
            fprintf(stderr, "jref: no marker at %zu\n", at);
            return -1;
        }
        uint8_t m = j[at + 1];
        uint32_t len = be16(j + at + 2);
        const uint8_t *p = j + at + 4, *end = j + at + 2 + len;
        if (at + 2 + len > size)
            break;
        if (m == 0xdb) {
            for (; p + 65 <= end; p += 65)
                for (int z = 0; z < 64; z++)
                    in->quant[p[0] & 3][natural[z]] = p[1 + z];
        } else if (m == 0xc4) {
            while (p + 17 <= end) {
                uint32_t cls = p[0] >> 4, t = p[0] & 1, n = 0;
                for (int l = 1; l <= 16; l++)
                    n += in->hbits[cls][t][l] = p[l];
                memcpy(in->hvals[cls][t], p + 17, n);
                derive(in->hbits[cls][t], in->hvals[cls][t], in->code[cls][t]);
                p += 17 + n;
            }
        } else if (m == 0xc0) {
            in->height = be16(p + 1);
            in->width = be16(p + 3);
            in->ncomp = p[5];
            for (uint32_t c = 0; c < in->ncomp && c < 3; c++) {
                in->hs[c] = p[7 + 3 * c] >> 4;
                in->vs[c] = p[7 + 3 * c] & 15;
                in->tq[c] = p[8 + 3 * c];
            }
        } else if (m == 0xdd) {
            in->restart = be16(p);
        } else if (m == 0xda) {
            in->scan = at + 2 + len;
            if (size < in->scan + 2 || j[size - 2] != 0xff || j[size - 1] != 0xd9) {
                fprintf(stderr, "jref: the JPEG does not end with EOI\n");
                return -1;
            }
            in->scan_end = size - 2;
            return 0;
        }
        at += 2 + len;
    }
    fprintf(stderr, "jref: no SOS\n");
    return -1;
}

/* Blocks across and down of component c, padded to whole MCUs; MCUs across. */
static void grid(const jref_info *in, uint32_t *mcus_x, uint32_t *mcus_y)
{
    uint32_t hmax = in->hs[0], vmax = in->vs[0];
    *mcus_x = (in->width + 8 * hmax - 1) / (8 * hmax);
    *mcus_y = (in->height + 8 * vmax - 1) / (8 * vmax);
}

static uint32_t blocks_per_mcu(const jref_info *in)
{
    uint32_t n = 0;
    for (uint32_t c = 0; c < in->ncomp; c++)
        n += in->hs[c] * in->vs[c];
    return n;
}

int16_t *jref_coefficients(const uint8_t *jpeg, size_t size, const jref_info *in)
{
    struct jpeg_decompress_struct di;
    struct jpeg_error_mgr err;
    di.err = jpeg_std_error(&err);
    jpeg_create_decompress(&di);
    jpeg_mem_src(&di, jpeg, (unsigned long)size);
    uint32_t mx, my, bpm = blocks_per_mcu(in);
    grid(in, &mx, &my);
    int16_t *coef = NULL;
    if (jpeg_read_header(&di, TRUE) != JPEG_HEADER_OK || (uint32_t)di.num_components != in->ncomp)
        goto done;
    for (uint32_t c = 0; c < in->ncomp; c++)
        if ((uint32_t)di.comp_info[c].h_samp_factor != in->hs[c] ||
            (uint32_t)di.comp_info[c].v_samp_factor != in->vs[c])
            goto done;
    jvirt_barray_ptr *arrays = jpeg_read_coefficients(&di);
    uint8_t natural[64];
    jref_zigzag(natural);
    coef = malloc((size_t)mx * my * bpm * 64 * sizeof *coef);
    size_t k = 0;
    for (uint32_t m = 0; coef && m < mx * my; m++)
        for (uint32_t c = 0; c < in->ncomp; c++)
            for (uint32_t by = 0; by < in->vs[c]; by++) {
                uint32_t row = (m / mx) * in->vs[c] + by;
                JBLOCKARRAY a =
                    di.mem->access_virt_barray((j_common_ptr)&di, arrays[c], row, 1, FALSE);
                for (uint32_t bx = 0; bx < in->hs[c]; bx++, k++)
                    for (int z = 0; z < 64; z++)
                        coef[k * 64 + z] = a[0][(m % mx) * in->hs[c] + bx][natural[z]];
            }
    jpeg_finish_decompress(&di);
done:
    jpeg_destroy_decompress(&di);
    return coef;
}

/* A bit writer over the whole scan, stuffing as it goes. */
typedef struct bitw {
    uint8_t *data;
    size_t size;
    uint32_t acc, nacc; /* bits not yet a byte, MSB first */
    uint64_t bits;      /* written, in all */
} bitw;

static void put_byte(bitw *w, uint32_t b)
{
    w->data[w->size++] = (uint8_t)b;
    if (b == 0xff)
        w->data[w->size++] = 0;
}

static void put_bits(bitw *w, uint32_t v, uint32_t len)
{
    w->bits += len;
    for (uint32_t i = len; i-- > 0;) {
        w->acc = w->acc << 1 | ((v >> i) & 1);
        if (++w->nacc == 8) {
            put_byte(w, w->acc);
            w->acc = w->nacc = 0;
        }
    }
}

static void put_code(bitw *w, uint32_t code)
{
    put_bits(w, code >> 8, code & 0xff);
}

static void put_value(bitw *w, int32_t v)
{
    uint32_t a = (uint32_t)abs(v), nb = 0;
    while (a >> nb)
        nb++;
    put_bits(w, (uint32_t)(v < 0 ? v - 1 : v) & ((1u << nb) - 1), nb);
}

static uint32_t category(int32_t v)
{
    uint32_t a = (uint32_t)abs(v), nb = 0;
    while (a >> nb)
        nb++;
    return nb;
}

int jref_encode(const int16_t *coef, const jref_info *in, jref_scan *s)
{
    memset(s, 0, sizeof *s);
    uint32_t mx, my, bpm = blocks_per_mcu(in), mcus;
    grid(in, &mx, &my);
    mcus = mx * my;
    uint32_t ri = in->restart ? in->restart : mcus;
    s->blocks = mcus * bpm;
    s->intervals = (mcus + ri - 1) / ri;
    bitw w = {.data = malloc((size_t)s->blocks * 420 + 4 * s->intervals + 16)};
    s->bits = calloc(s->blocks, sizeof *s->bits);
    s->ssize = calloc(s->intervals, sizeof *s->ssize);
    if (!w.data || !s->bits || !s->ssize) {
        free(w.data);
        jref_scan_free(s);
        return -1;
    }
    int32_t pred[3] = {0, 0, 0};
    uint32_t k = 0;
    for (uint32_t m = 0; m < mcus; m++) {
        size_t start = w.size;
        if (m % ri == 0)
            pred[0] = pred[1] = pred[2] = 0;
        for (uint32_t c = 0; c < in->ncomp; c++)
            for (uint32_t b = 0; b < in->hs[c] * in->vs[c]; b++, k++) {
                const int16_t *blk = coef + (size_t)k * 64;
                uint32_t t = c ? 1 : 0;
                uint64_t before = w.bits;
                int32_t diff = blk[0] - pred[c];
                pred[c] = blk[0];
                put_code(&w, in->code[0][t][category(diff)]);
                put_value(&w, diff);
                uint32_t run = 0;
                for (int z = 1; z < 64; z++) {
                    if (!blk[z]) {
                        run++;
                        continue;
                    }
                    for (; run >= 16; run -= 16)
                        put_code(&w, in->code[1][t][0xf0]);
                    put_code(&w, in->code[1][t][run << 4 | category(blk[z])]);
                    put_value(&w, blk[z]);
                    run = 0;
                }
                if (run)
                    put_code(&w, in->code[1][t][0]);
                s->bits[k] = (uint32_t)(w.bits - before);
            }
        s->ssize[m / ri] += (uint32_t)(w.size - start);
        if (m % ri == ri - 1 || m == mcus - 1) {
            size_t at = w.size;
            if (w.nacc)
                put_bits(&w, 0xff, 8 - w.nacc); /* pad with 1-bits */
            if (m != mcus - 1) {
                w.data[w.size++] = 0xff;
                w.data[w.size++] = (uint8_t)(0xd0 + (m / ri) % 8);
            }
            s->ssize[m / ri] += (uint32_t)(w.size - at);
        }
    }
    s->data = w.data;
    s->size = w.size;
    return 0;
}

void jref_scan_free(jref_scan *s)
{
    free(s->data);
    free(s->bits);
    free(s->ssize);
    memset(s, 0, sizeof *s);
}

static p2c2r_pixel_format format_of(int samp)
{
    switch (samp) {
    case TJSAMP_420:
        return P2C2R_PIX_YUV420P;
    case TJSAMP_422:
        return P2C2R_PIX_YUV422P;
    case TJSAMP_444:
        return P2C2R_PIX_YUV444P;
    case TJSAMP_GRAY:
        return P2C2R_PIX_GRAY8;
    default:
        return P2C2R_PIX_RGB24;
    }
}

int jref_decode(const uint8_t *jpeg, size_t size, p2c2r_image *img)
{
    tjhandle h = tjInitDecompress();
    int w, ht, samp, cs, rc = -1;
    memset(img, 0, sizeof *img);
    if (!h)
        return -1;
    if (tjDecompressHeader3(h, jpeg, size, &w, &ht, &samp, &cs) != 0) {
        fprintf(stderr, "jref: TurboJPEG cannot read the header: %s\n", tjGetErrorStr2(h));
        goto done;
    }
    if (format_of(samp) == P2C2R_PIX_RGB24 ||
        p2c2r__image_alloc(img, format_of(samp), (uint32_t)w, (uint32_t)ht) != P2C2R_OK)
        goto done;
    unsigned char *planes[3] = {NULL, NULL, NULL};
    int strides[3] = {0, 0, 0};
    for (uint32_t i = 0; i < img->nplanes; i++) {
        planes[i] = img->plane[i].data;
        strides[i] = (int)img->plane[i].stride;
    }
    if (tjDecompressToYUVPlanes(h, jpeg, size, planes, w, strides, ht, 0) != 0) {
        fprintf(stderr, "jref: TurboJPEG %s: %s\n",
                tjGetErrorCode(h) == TJERR_WARNING ? "warning" : "error", tjGetErrorStr2(h));
        p2c2r__image_free(img);
        goto done;
    }
    rc = 0;
done:
    tjDestroy(h);
    return rc;
}

int jref_turbojpeg(p2c2r_image *img, int quality, int fast, uint8_t **out, size_t *size)
{
    static const int samp[] = {[P2C2R_PIX_YUV420P] = TJSAMP_420,
                               [P2C2R_PIX_YUV422P] = TJSAMP_422,
                               [P2C2R_PIX_YUV444P] = TJSAMP_444,
                               [P2C2R_PIX_GRAY8] = TJSAMP_GRAY};
    p2c2r_plane *y = &img->plane[0];
    /* TurboJPEG reads luma to a whole chroma sample: the spare column and row. */
    uint32_t mw = y->width + (y->width & (img->format == P2C2R_PIX_YUV420P ||
                                          img->format == P2C2R_PIX_YUV422P));
    uint32_t mh = y->height + (y->height & (img->format == P2C2R_PIX_YUV420P));
    for (uint32_t r = 0; r < y->height; r++)
        for (uint32_t x = y->width; x < mw; x++)
            y->data[(size_t)r * y->stride + x] = y->data[(size_t)r * y->stride + x - 1];
    for (uint32_t r = y->height; r < mh; r++)
        memcpy(y->data + (size_t)r * y->stride, y->data + (size_t)(r - 1) * y->stride, mw);
    const unsigned char *planes[3] = {NULL, NULL, NULL};
    int strides[3] = {0, 0, 0};
    for (uint32_t i = 0; i < img->nplanes; i++) {
        planes[i] = img->plane[i].data;
        strides[i] = (int)img->plane[i].stride;
    }
    tjhandle h = tjInitCompress();
    unsigned char *buf = NULL;
    unsigned long len = 0;
    int rc = h ? tjCompressFromYUVPlanes(h, planes, (int)img->width, strides, (int)img->height,
                                         samp[img->format], &buf, &len, quality,
                                         fast ? TJFLAG_FASTDCT : TJFLAG_ACCURATEDCT)
               : -1;
    if (h)
        tjDestroy(h);
    if (rc != 0) {
        tjFree(buf);
        return -1;
    }
    *out = malloc(len);
    if (*out)
        memcpy(*out, buf, len);
    tjFree(buf);
    *size = len;
    return *out ? 0 : -1;
}
