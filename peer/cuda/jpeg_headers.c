/* jpeg_headers: the host side of the device JPEG encoder (jpeg_encode.h): libjpeg's
 * quantisation tables for a quality, the standard Huffman tables and their codes, a
 * frame's geometry (MCUs, blocks, restart intervals) and its headers, which the device
 * writes in front of the scan it codes.
 */
#include <string.h>

#include "jpeg_encode.h"

#include "common/image.h"

/* Annex K.1: the luma and chroma tables libjpeg scales (natural order). */
static const uint16_t std_quant[2][64] = {
    {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
     14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
     18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99},
    {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
     99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
     99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99},
};

/* Annex K.3 (libjpeg's std_huff_tables): code counts per length 1..16 at [1..16], and the
 * symbols in code order. */
static const uint8_t dc_luma_bits[17] = {0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t dc_luma_vals[12] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                         0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};
static const uint8_t dc_chroma_bits[17] = {0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
static const uint8_t dc_chroma_vals[12] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                           0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};
static const uint8_t ac_luma_bits[17] = {0, 0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125};
static const uint8_t ac_luma_vals[162] = {
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
    0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
    0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
    0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
    0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
    0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
static const uint8_t ac_chroma_bits[17] = {0, 0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119};
static const uint8_t ac_chroma_vals[162] = {
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
    0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
    0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
    0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
    0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
    0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
/* Natural index of each zigzag position. */
static const uint8_t natural_order[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

typedef struct std_huff {
    uint8_t id;          /* Tc << 4 | Th in DHT */
    const uint8_t *bits; /* counts at [1..16] */
    const uint8_t *vals; /* symbols */
} std_huff;

static const std_huff huffs[4] = {
    {0x00, dc_luma_bits, dc_luma_vals},
    {0x10, ac_luma_bits, ac_luma_vals},
    {0x01, dc_chroma_bits, dc_chroma_vals},
    {0x11, ac_chroma_bits, ac_chroma_vals},
};

void gj_quant_table(int quality, int chroma, uint16_t table[64])
{
    /* jpeg_quality_scaling(), then jpeg_add_quant_table(..., force_baseline = TRUE). */
    if (quality <= 0)
        quality = 1;
    if (quality > 100)
        quality = 100;
    long scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
    for (int i = 0; i < 64; i++) {
        long t = ((long)std_quant[chroma ? 1 : 0][i] * scale + 50) / 100;
        table[i] = (uint16_t)(t <= 0 ? 1 : t > 255 ? 255 : t);
    }
}

/* Codes of one table (Annex C, libjpeg's jpeg_make_c_derived_tbl) into code[symbol]. */
static void huff_codes(const std_huff *t, uint32_t *code)
{
    uint32_t c = 0;
    size_t k = 0;
    for (uint32_t len = 1; len <= 16; len++, c <<= 1)
        for (uint32_t n = 0; n < t->bits[len]; n++, c++)
            code[t->vals[k++]] = (c << 8) | len;
}

void gj_huff_tables(gj_huff *h)
{
    memset(h, 0, sizeof *h);
    huff_codes(&huffs[0], h->dc[0]);
    huff_codes(&huffs[1], h->ac[0]);
    huff_codes(&huffs[2], h->dc[1]);
    huff_codes(&huffs[3], h->ac[1]);
}

static uint8_t *put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

/* A marker segment's start: marker, then its length (which counts itself). */
static uint8_t *segment(uint8_t *p, uint8_t marker, uint32_t length)
{
    *p++ = 0xff;
    *p++ = marker;
    return put16(p, length);
}

static uint32_t write_headers(const gj_geometry *g, uint8_t *hdr)
{
    static const uint8_t jfif[14] = {'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
    uint32_t ntables = g->ncomp == 3 ? 2 : 1;
    uint8_t *p = hdr;
    *p++ = 0xff;
    *p++ = 0xd8; /* SOI */
    p = segment(p, 0xe0, 2 + sizeof jfif);
    memcpy(p, jfif, sizeof jfif);
    p += sizeof jfif;
    p = segment(p, 0xdb, 2 + 65 * ntables);
    for (uint32_t t = 0; t < ntables; t++) {
        *p++ = (uint8_t)t; /* 8-bit precision, table t */
        for (int z = 0; z < 64; z++)
            *p++ = (uint8_t)g->quant[t][natural_order[z]];
    }
    p = segment(p, 0xc0, 8 + 3 * g->ncomp); /* SOF0 */
    *p++ = 8;
    p = put16(p, g->height);
    p = put16(p, g->width);
    *p++ = (uint8_t)g->ncomp;
    for (uint32_t c = 0; c < g->ncomp; c++) {
        *p++ = (uint8_t)(c + 1);
        *p++ = (uint8_t)(g->hs[c] << 4 | g->vs[c]);
        *p++ = c ? 1 : 0;
    }
    uint32_t dht = 2;
    for (uint32_t t = 0; t < 2 * ntables; t++) {
        dht += 17;
        for (int len = 1; len <= 16; len++)
            dht += huffs[t].bits[len];
    }
    p = segment(p, 0xc4, dht);
    for (uint32_t t = 0; t < 2 * ntables; t++) {
        uint32_t n = 0;
        *p++ = huffs[t].id;
        for (int len = 1; len <= 16; len++)
            n += *p++ = huffs[t].bits[len];
        memcpy(p, huffs[t].vals, n);
        p += n;
    }
    p = segment(p, 0xdd, 4); /* DRI */
    p = put16(p, g->restart_mcus);
    p = segment(p, 0xda, 6 + 2 * g->ncomp); /* SOS */
    *p++ = (uint8_t)g->ncomp;
    for (uint32_t c = 0; c < g->ncomp; c++) {
        *p++ = (uint8_t)(c + 1);
        *p++ = c ? 0x11 : 0x00;
    }
    *p++ = 0;  /* Ss */
    *p++ = 63; /* Se */
    *p++ = 0;  /* Ah, Al */
    return (uint32_t)(p - hdr);
}

/* Components and luma sampling factors of a format; 0 for one the encoder does not take
 * (the planar ones only: YUV and greyscale). */
static int sampling(p2c2r_pixel_format format, uint32_t *ncomp, uint32_t *h, uint32_t *v)
{
    const p2c2r_layout *l = p2c2r__image_layout(format);
    if (!l || l->channels != 1)
        return 0;
    *ncomp = l->nplanes;
    *h = 1u << l->shift_x;
    *v = 1u << l->shift_y;
    return 1;
}

int gj_geometry_init(gj_geometry *g, p2c2r_pixel_format format, uint32_t width, uint32_t height,
                     int quality, uint32_t restart_mcus, uint8_t *hdr)
{
    memset(g, 0, sizeof *g);
    uint32_t hmax, vmax;
    if (!sampling(format, &g->ncomp, &hmax, &vmax))
        return P2C2R_E_UNSUPPORTED;
    if (quality < 1 || quality > 100 || width == 0 || height == 0)
        return P2C2R_E_INVAL;
    if (width > 65535 || height > 65535 || restart_mcus > 65535)
        return P2C2R_E_TOOBIG;
    g->width = width;
    g->height = height;
    for (uint32_t c = 0; c < g->ncomp; c++) {
        g->hs[c] = c ? 1 : hmax;
        g->vs[c] = c ? 1 : vmax;
        g->pw[c] = (width * g->hs[c] + hmax - 1) / hmax;
        g->ph[c] = (height * g->vs[c] + vmax - 1) / vmax;
        for (uint32_t y = 0; y < g->vs[c]; y++)
            for (uint32_t x = 0; x < g->hs[c]; x++, g->bpm++) {
                g->comp[g->bpm] = (uint8_t)c;
                g->dx[g->bpm] = (uint8_t)x;
                g->dy[g->bpm] = (uint8_t)y;
            }
    }
    /* Each block's DC predictor: the block of its component before it in this MCU, or
     * the component's last block in the MCU before. */
    for (uint32_t p = 0; p < g->bpm; p++) {
        uint32_t q = p, last = p;
        while (q > 0 && g->comp[q - 1] != g->comp[p])
            q--;
        for (uint32_t r = p; r < g->bpm; r++)
            if (g->comp[r] == g->comp[p])
                last = r;
        g->prev[p] = (uint8_t)(q > 0 ? q - 1 : last + g->bpm);
    }
    g->mcus_x = (width + 8 * hmax - 1) / (8 * hmax);
    g->mcus = g->mcus_x * ((height + 8 * vmax - 1) / (8 * vmax));
    g->blocks = g->mcus * g->bpm;
    g->restart_mcus = restart_mcus ? restart_mcus : (GJ_RESTART_BLOCKS + g->bpm - 1) / g->bpm;
    g->intervals = (g->mcus + g->restart_mcus - 1) / g->restart_mcus;
    memcpy(g->natural, natural_order, sizeof natural_order);
    for (int t = 0; t < 2; t++)
        gj_quant_table(quality, t, g->quant[t]);
    g->header_bytes = write_headers(g, hdr);
    return P2C2R_OK;
}

size_t gj_max_bytes(const gj_geometry *g)
{
    /* A block codes to at most 1,676 bits (DC 22, 63 AC codes of 26, 3 ZRL): 54 words. An
     * interval's words are bytes once more when every one is 0xFF, and a marker. */
    size_t words = (size_t)g->blocks * 54 + g->intervals;
    return g->header_bytes + 8 * words + 2 * (size_t)g->intervals + 2;
}
