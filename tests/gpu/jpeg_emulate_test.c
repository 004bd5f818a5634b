/* jpeg_emulate_test: the device JPEG encoder's stages run on the host by
 * peer_cuda_jpeg_emulate() (the kernels' own per-thread code, see peer/cuda/jpeg_encode.h),
 * checked on any machine against references written apart from it (jpeg_ref.h):
 *   - its quantisation tables are libjpeg's (jpeg_set_quality) at every quality, its
 *     Huffman tables libjpeg's defaults;
 *   - every subsampling at 1x1, 7x3, 17x9, 67x45, 333x101 and 1920x1080: TurboJPEG decodes
 *     it with no warning; the markers are in order (DRI, RSTn numbered 0..7 in turn, one
 *     per interval, EOI last) and every 0xFF of the scan is followed by 0 or a marker;
 *     stage by stage, the coefficients equal those libjpeg made (read back with
 *     jpeg_read_coefficients()) when TurboJPEG encoded the same planes, dummy blocks
 *     included; the bits of each block, the stuffed bytes of each interval and the whole
 *     scan equal a plain sequential coder's given the same coefficients;
 *   - on real photographs (tests/data, a wallpaper) and a noisy synthetic image, at q50,
 *     q85 and q95: luma PSNR within 0.1 dB of TurboJPEG's (TJFLAG_ACCURATEDCT, same
 *     quality and subsampling) and size within 10% of its; the figures are printed, with
 *     TurboJPEG's fast DCT's (the CPU executor's) beside them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* after stdio.h: it uses FILE and size_t */

#include "jpeg_ref.h"
#include "testutil.h"

static const char *fmt_name(p2c2r_pixel_format f)
{
    return f == P2C2R_PIX_YUV420P   ? "4:2:0"
           : f == P2C2R_PIX_YUV422P ? "4:2:2"
           : f == P2C2R_PIX_YUV444P ? "4:4:4"
                                    : "grey";
}

/* The encoder's tables against libjpeg's own. */
static void test_tables(void)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    ci.in_color_space = JCS_YCbCr;
    ci.input_components = 3;
    jpeg_set_defaults(&ci);
    int bad = 0;
    for (int q = 1; q <= 100; q++) {
        jpeg_set_quality(&ci, q, TRUE);
        for (int t = 0; t < 2; t++) {
            uint16_t mine[64];
            gj_quant_table(q, t, mine);
            for (int i = 0; i < 64; i++)
                bad += mine[i] != ci.quant_tbl_ptrs[t]->quantval[i];
        }
    }
    CHECK(bad == 0);
    /* The DHT the encoder writes: libjpeg's standard tables. */
    gj_geometry g;
    uint8_t hdr[GJ_HEADER_MAX + 2];
    CHECK_RC(gj_geometry_init(&g, P2C2R_PIX_YUV420P, 64, 64, 85, 0, hdr), P2C2R_OK);
    hdr[g.header_bytes] = 0xff;
    hdr[g.header_bytes + 1] = 0xd9;
    jref_info in;
    CHECK(jref_parse(hdr, g.header_bytes + 2, &in) == 0);
    JHUFF_TBL *lib[2][2] = {{ci.dc_huff_tbl_ptrs[0], ci.dc_huff_tbl_ptrs[1]},
                            {ci.ac_huff_tbl_ptrs[0], ci.ac_huff_tbl_ptrs[1]}};
    for (int c = 0; c < 2; c++)
        for (int t = 0; t < 2; t++) {
            CHECK(memcmp(in.hbits[c][t] + 1, lib[c][t]->bits + 1, 16) == 0);
            CHECK(memcmp(in.hvals[c][t], lib[c][t]->huffval, c ? 162 : 12) == 0);
        }
    CHECK(in.restart == 8 && in.width == 64 && in.ncomp == 3 && in.hs[0] == 2 && in.vs[0] == 2);
    jpeg_destroy_compress(&ci);
    CHECK_RC(gj_geometry_init(&g, P2C2R_PIX_RGB24, 64, 64, 85, 0, hdr), P2C2R_E_UNSUPPORTED);
    CHECK_RC(gj_geometry_init(&g, P2C2R_PIX_GRAY8, 64, 64, 0, 0, hdr), P2C2R_E_INVAL);
    CHECK_RC(gj_geometry_init(&g, P2C2R_PIX_GRAY8, 0, 64, 85, 0, hdr), P2C2R_E_INVAL);
}

/* Planes of an image as the encoder takes them. */
static peer_cuda_planes planes_of(const p2c2r_image *img)
{
    peer_cuda_planes p = {.nplanes = img->nplanes};
    for (uint32_t i = 0; i < img->nplanes; i++) {
        p.data[i] = img->plane[i].data;
        p.pitch[i] = img->plane[i].stride;
        p.width[i] = img->plane[i].width;
        p.height[i] = img->plane[i].height;
    }
    return p;
}

/* The scan's markers: stuffing after every 0xFF, RSTn in turn at each interval's end. */
static void check_markers(const uint8_t *j, const jref_info *in, const gj_trace *t)
{
    uint32_t rst = 0, bad = 0;
    size_t seg = in->scan;
    for (size_t i = in->scan; i < in->scan_end; i++) {
        if (j[i] != 0xff)
            continue;
        if (j[i + 1] == 0) {
            i++;
            continue;
        }
        if (j[i + 1] != 0xd0 + rst % 8 || rst + 1 >= t->g.intervals || i + 2 - seg != t->ssize[rst])
            bad++;
        rst++;
        i++;
        seg = i + 1;
    }
    CHECK(bad == 0);
    CHECK(rst + 1 == t->g.intervals);
    CHECK(in->restart == t->g.restart_mcus);
}

/* Each stage against the references: the coefficients libjpeg made for TurboJPEG's
 * encode of the same planes at the same quality, then a sequential coder's bits. */
static void check_stages(p2c2r_image *img, int q, const uint8_t *j, size_t size,
                         const jref_info *in, const gj_trace *t, const char *name)
{
    uint8_t *tj = NULL;
    size_t ts = 0;
    CHECK(jref_turbojpeg(img, q, 0, &tj, &ts) == 0);
    int16_t *ref = tj ? jref_coefficients(tj, ts, in) : NULL;
    free(tj);
    CHECK(ref != NULL);
    if (!ref)
        return;
    size_t n = (size_t)t->g.blocks * 64, differ = 0;
    for (size_t i = 0; i < n; i++)
        if (ref[i] != t->coef[i] && differ++ < 3)
            fprintf(stderr, "%s: coefficient %zu of block %zu: %d, libjpeg's %d\n", name, i % 64,
                    i / 64, t->coef[i], ref[i]);
    CHECK(differ == 0);
    jref_scan s;
    CHECK(jref_encode(t->coef, in, &s) == 0);
    CHECK(s.blocks == t->g.blocks && s.intervals == t->g.intervals);
    if (s.blocks == t->g.blocks && s.intervals == t->g.intervals) {
        CHECK(memcmp(s.bits, t->bits, s.blocks * sizeof *s.bits) == 0);
        CHECK(memcmp(s.ssize, t->ssize, s.intervals * sizeof *s.ssize) == 0);
        uint64_t bits = 0;
        for (uint32_t i = 0; i < s.blocks; i++)
            bits += s.bits[i];
        uint64_t ibits = 0;
        for (uint32_t i = 0; i < s.intervals; i++)
            ibits += t->ibits[i];
        CHECK(bits == ibits);
    }
    CHECK(s.size == in->scan_end - in->scan && s.size + in->scan + 2 == size &&
          memcmp(s.data, j + in->scan, s.size) == 0);
    jref_scan_free(&s);
    free(ref);
}

/* A source: gradients, hard edges and noise, every plane. */
static int synthetic(p2c2r_image *img, p2c2r_pixel_format f, uint32_t w, uint32_t h, int noise)
{
    if (p2c2r__image_alloc(img, f, w, h) != P2C2R_OK)
        return -1;
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)w << 20 | h);
    for (uint32_t i = 0; i < img->nplanes; i++) {
        p2c2r_plane *p = &img->plane[i];
        for (uint32_t y = 0; y < p->height; y++)
            for (uint32_t x = 0; x < p->width; x++) {
                int v = (int)((x * 255) / (p->width + 1) + (y * 97) / (p->height + 1)) / 2;
                v += ((x / 11 + y / 7) & 1) ? 60 : 0;
                v += (int)(testutil_rand(&rng) % (unsigned)(2 * noise + 1)) - noise;
                p->data[(size_t)y * p->stride + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    }
    return 0;
}

/* Encode by emulation and check everything but the PSNR; 0 when it all held. */
static int run_case(p2c2r_image *img, int q, const char *name, uint8_t **out, size_t *size)
{
    int before = testutil_failures;
    gj_trace t;
    peer_cuda_planes src = planes_of(img);
    int rc =
        peer_cuda_jpeg_emulate(&src, img->format, img->width, img->height, q, 0, &t, out, size);
    CHECK_RC(rc, P2C2R_OK);
    if (rc != P2C2R_OK)
        return -1;
    jref_info in;
    p2c2r_image dec;
    CHECK(jref_parse(*out, *size, &in) == 0);
    CHECK(in.width == img->width && in.height == img->height);
    CHECK(jref_decode(*out, *size, &dec) == 0);
    CHECK(dec.format == img->format);
    p2c2r__image_free(&dec);
    check_markers(*out, &in, &t);
    check_stages(img, q, *out, *size, &in, &t, name);
    gj_trace_free(&t);
    if (testutil_failures != before)
        fprintf(stderr, "%s: failed\n", name);
    return testutil_failures == before ? 0 : -1;
}

static void test_sizes(void)
{
    static const uint32_t sizes[][2] = {{1, 1},   {7, 3},     {17, 9},
                                        {67, 45}, {333, 101}, {1920, 1080}};
    static const p2c2r_pixel_format fmts[] = {P2C2R_PIX_YUV420P, P2C2R_PIX_YUV422P,
                                              P2C2R_PIX_YUV444P, P2C2R_PIX_GRAY8};
    int cases = 0, failed = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t f = 0; f < 4; f++) {
            p2c2r_image img;
            char name[64];
            snprintf(name, sizeof name, "%s %ux%u", fmt_name(fmts[f]), sizes[s][0], sizes[s][1]);
            CHECK(synthetic(&img, fmts[f], sizes[s][0], sizes[s][1], 20) == 0);
            uint8_t *out = NULL;
            size_t size = 0;
            cases++;
            failed += run_case(&img, 85, name, &out, &size) != 0;
            free(out);
            p2c2r__image_free(&img);
        }
    printf("%d sizes x subsamplings at q85: %d failed\n", cases, failed);
}

/* Luma PSNR of a JPEG against the source. */
static double psnr(const uint8_t *j, size_t size, const p2c2r_image *src)
{
    p2c2r_image dec;
    if (jref_decode(j, size, &dec) != 0)
        return -1;
    double v = testutil_psnr_plane(&src->plane[0], &dec.plane[0]);
    p2c2r__image_free(&dec);
    return v;
}

/* One real or synthetic source at three qualities, against TurboJPEG's accurate DCT (and,
 * printed only, its fast DCT, which the CPU executor uses). */
static void compare(p2c2r_image *img, const char *name)
{
    static const int qs[] = {50, 85, 95};
    for (int i = 0; i < 3; i++) {
        uint8_t *ours = NULL, *tj = NULL, *fast = NULL;
        size_t os = 0, ts = 0, fs = 0;
        char label[96];
        snprintf(label, sizeof label, "%s q%d", name, qs[i]);
        run_case(img, qs[i], label, &ours, &os);
        CHECK(jref_turbojpeg(img, qs[i], 0, &tj, &ts) == 0);
        CHECK(jref_turbojpeg(img, qs[i], 1, &fast, &fs) == 0);
        double po = ours ? psnr(ours, os, img) : -1, pt = tj ? psnr(tj, ts, img) : -1;
        double pf = fast ? psnr(fast, fs, img) : -1;
        printf("%-30s %-5s ours %8zu B %6.2f dB | TJ accurate %8zu B %6.2f dB: size %+5.2f%% "
               "PSNR %+.3f dB | TJ fast %8zu B %6.2f dB\n",
               label, fmt_name(img->format), os, po, ts, pt, ts ? 100.0 * ((double)os / ts - 1) : 0,
               po - pt, fs, pf);
        CHECK(po > 0 && pt > 0 && fabs(po - pt) <= 0.1);
        CHECK(ts && (double)os <= 1.10 * (double)ts);
        free(ours);
        free(tj);
        free(fast);
    }
}

static void test_quality(void)
{
    static const char *files[] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                  "fallenleaf_gray.jpg", "path_444.jpg"};
    p2c2r_jpeg *dec = p2c2r__jpeg_new();
    CHECK(dec != NULL);
    for (size_t f = 0; f < 5 && dec; f++) {
        const char *path =
            f < 4 ? testutil_data_path(files[f]) : testutil_wallpaper("1920x1080", 0);
        size_t size = 0;
        uint8_t *data = path ? testutil_read_file(path, &size) : NULL;
        p2c2r_image img = {0};
        CHECK(data && p2c2r__jpeg_decode(dec, data, size, &img) == P2C2R_OK);
        if (img.buffer) {
            char name[64];
            const char *slash = strrchr(path, '/');
            /* the wallpaper's "1920x1080.jpg" holds a bigger picture: say which */
            snprintf(name, sizeof name, "wallpaper %ux%u", img.width, img.height);
            compare(&img, f < 4 ? slash + 1 : name);
        }
        p2c2r__image_free(&img);
        free(data);
    }
    p2c2r__jpeg_destroy(&dec);
    p2c2r_image img;
    CHECK(synthetic(&img, P2C2R_PIX_YUV420P, 640, 480, 40) == 0);
    compare(&img, "synthetic noise 640x480");
    p2c2r__image_free(&img);
}

int main(void)
{
    test_tables();
    test_sizes();
    test_quality();
    return testutil_finish("jpeg_emulate_test");
}
