/* upscale_crop: the picture in the README's CPU kernels section. A 4:2:0 JPEG wallpaper is
 * shrunk 2x (2x2 averages), upscaled 2x back in lanczos and quality modes, and a crop of
 * each is written side by side with the original's as a binary PPM on stdout:
 *   original | lanczos | quality
 * Usage: upscale_crop WALLPAPER.jpg X Y W H > out.ppm   (crop in output pixels; X = -1
 * picks the W x H block with the most luma edge energy, and prints where on stderr)
 * pnmtopng (Debian's netpbm) turns the PPM into the committed PNG. */
#include <stdio.h>
#include <stdlib.h>

#include "common/image.h"
#include "common/upscale/upscale.h"
#include "testutil.h"

static uint8_t clamp8(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
}

/* JFIF YCbCr -> RGB of pixel (x, y) of a 4:2:0 image (chroma sample x / 2, y / 2). */
static void rgb(const p2c2r_image *img, uint32_t x, uint32_t y, uint8_t out[3])
{
    const p2c2r_plane *p = img->plane;
    double Y = p[0].data[(size_t)y * p[0].stride + x];
    double cb = p[1].data[(size_t)(y / 2) * p[1].stride + x / 2] - 128.0;
    double cr = p[2].data[(size_t)(y / 2) * p[2].stride + x / 2] - 128.0;
    out[0] = clamp8(Y + 1.402 * cr);
    out[1] = clamp8(Y - 0.344136 * cb - 0.714136 * cr);
    out[2] = clamp8(Y + 1.772 * cb);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: upscale_crop WALLPAPER.jpg X Y W H > out.ppm\n");
        return 2;
    }
    int autopick = atoi(argv[2]) < 0;
    uint32_t cx = autopick ? 0 : (uint32_t)atoi(argv[2]), cy = (uint32_t)atoi(argv[3]);
    uint32_t cw = (uint32_t)atoi(argv[4]), ch = (uint32_t)atoi(argv[5]);
    size_t size;
    uint8_t *data = testutil_read_file(argv[1], &size);
    p2c2r_jpeg *jpeg = p2c2r__jpeg_new();
    p2c2r_image orig = {0}, small = {0}, out[2] = {{0}};
    if (!data || p2c2r__jpeg_decode(jpeg, data, size, &orig) != P2C2R_OK ||
        orig.format != P2C2R_PIX_YUV420P || cx + cw > orig.width || cy + ch > orig.height) {
        fprintf(stderr, "need a 4:2:0 JPEG holding the crop\n");
        return 1;
    }
    if (autopick) {
        const p2c2r_plane *l = &orig.plane[0];
        double best = -1;
        for (uint32_t y = 0; y + ch < l->height; y += 16)
            for (uint32_t x = 0; x + cw < l->width; x += 16) {
                double e = 0;
                for (uint32_t j = 0; j + 1 < ch; j += 2)
                    for (uint32_t i = 0; i + 1 < cw; i += 2) {
                        const uint8_t *q = l->data + (size_t)(y + j) * l->stride + x + i;
                        e += abs(q[1] - q[0]) + abs(q[l->stride] - q[0]);
                    }
                if (e > best) {
                    best = e;
                    cx = x & ~1u;
                    cy = y & ~1u;
                }
            }
        fprintf(stderr, "crop at %u,%u\n", cx, cy);
    }
    p2c2r__image_alloc(&small, P2C2R_PIX_YUV420P, orig.width / 2, orig.height / 2);
    for (uint32_t i = 0; i < 3; i++) {
        const p2c2r_plane *a = &orig.plane[i];
        p2c2r_plane *d = &small.plane[i];
        for (uint32_t y = 0; y < d->height; y++)
            for (uint32_t x = 0; x < d->width; x++) {
                const uint8_t *r0 = a->data + (size_t)(2 * y) * a->stride + 2 * x;
                const uint8_t *r1 = r0 + (2 * y + 1 < a->height ? a->stride : 0);
                uint32_t dx = 2 * x + 1 < a->width;
                d->data[(size_t)y * d->stride + x] =
                    (uint8_t)((r0[0] + r0[dx] + r1[0] + r1[dx] + 2) / 4);
            }
    }
    const p2c2r_mode modes[2] = {P2C2R_MODE_LANCZOS, P2C2R_MODE_QUALITY};
    for (int m = 0; m < 2; m++) {
        const p2c2r_upscale_plan *plan = NULL;
        p2c2r__image_alloc(&out[m], P2C2R_PIX_YUV420P, orig.width, orig.height);
        if (p2c2r__upscale_plan_new(P2C2R_PIX_YUV420P, small.width, small.height, 2, modes[m],
                                    &plan) != P2C2R_OK ||
            p2c2r__upscale_image(plan, &small, &out[m], NULL, p2c2r__upscale_simd()) != P2C2R_OK)
            return 1;
        p2c2r__upscale_plan_destroy(&plan);
    }
    printf("P6\n%u %u\n255\n", 3 * cw, ch);
    const p2c2r_image *panels[3] = {&orig, &out[0], &out[1]};
    for (uint32_t y = 0; y < ch; y++)
        for (int k = 0; k < 3; k++)
            for (uint32_t x = 0; x < cw; x++) {
                uint8_t px[3];
                rgb(panels[k], cx + x, cy + y, px);
                fwrite(px, 1, 3, stdout);
            }
    free(data);
    p2c2r__image_free(&orig);
    p2c2r__image_free(&small);
    p2c2r__image_free(&out[0]);
    p2c2r__image_free(&out[1]);
    p2c2r__jpeg_destroy(&jpeg);
    return 0;
}
