/* testutil: see testutil.h. */
#include "testutil.h"

#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int testutil_failures;

int testutil_finish(const char *name)
{
    if (testutil_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, testutil_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

uint8_t *testutil_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) != 0)
        goto fail;
    long len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc(len ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
        goto fail;
    fclose(f);
    *size = (size_t)len;
    return buf;
fail:
    fprintf(stderr, "%s: read failed\n", path);
    free(buf);
    fclose(f);
    return NULL;
}

const char *testutil_data_path(const char *name)
{
    static char path[4096];
    const char *dir = getenv("P2C2R_TEST_DATA");
#ifdef P2C2R_TEST_DATA
    if (!dir)
        dir = P2C2R_TEST_DATA;
#endif
    if (!dir)
        dir = "tests/data";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

double testutil_psnr_plane(const p2c2r_plane *a, const p2c2r_plane *b)
{
    if (a->width != b->width || a->height != b->height || a->channels != b->channels)
        return -1.0;
    double sum = 0.0;
    size_t row = (size_t)a->width * a->channels;
    for (uint32_t y = 0; y < a->height; y++) {
        const uint8_t *pa = a->data + (size_t)y * a->stride;
        const uint8_t *pb = b->data + (size_t)y * b->stride;
        for (size_t x = 0; x < row; x++) {
            double d = (double)pa[x] - (double)pb[x];
            sum += d * d;
        }
    }
    if (sum == 0.0)
        return INFINITY;
    double mse = sum / ((double)row * a->height);
    return 10.0 * log10(255.0 * 255.0 / mse);
}

static double clamp_coord(double v, uint32_t size)
{
    return v < 0.0 ? 0.0 : v > (double)(size - 1) ? (double)(size - 1) : v;
}

void testutil_bilinear_reference(const p2c2r_plane *src, p2c2r_plane *dst)
{
    uint32_t ch = src->channels;
    for (uint32_t y = 0; y < dst->height; y++) {
        double sy = clamp_coord((y + 0.5) * src->height / dst->height - 0.5, src->height);
        uint32_t y0 = (uint32_t)sy, y1 = y0 + 1 < src->height ? y0 + 1 : y0;
        double fy = sy - y0;
        for (uint32_t x = 0; x < dst->width; x++) {
            double sx = clamp_coord((x + 0.5) * src->width / dst->width - 0.5, src->width);
            uint32_t x0 = (uint32_t)sx, x1 = x0 + 1 < src->width ? x0 + 1 : x0;
            double fx = sx - x0;
            for (uint32_t c = 0; c < ch; c++) {
                const uint8_t *r0 = src->data + (size_t)y0 * src->stride;
                const uint8_t *r1 = src->data + (size_t)y1 * src->stride;
                double top = r0[x0 * ch + c] * (1 - fx) + r0[x1 * ch + c] * fx;
                double bot = r1[x0 * ch + c] * (1 - fx) + r1[x1 * ch + c] * fx;
                double v = top * (1 - fy) + bot * fy;
                dst->data[(size_t)y * dst->stride + x * ch + c] = (uint8_t)(v + 0.5);
            }
        }
    }
}

uint64_t testutil_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

const char *testutil_wallpaper(const char *size, int index)
{
    static char path[4096];
    char pattern[256];
    snprintf(pattern, sizeof pattern, "/usr/share/wallpapers/*/contents/images/%s.jpg", size);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        fprintf(stderr, "no wallpaper matches %s (package plasma-workspace-wallpapers)\n", pattern);
        globfree(&g);
        return NULL;
    }
    snprintf(path, sizeof path, "%s", g.gl_pathv[(size_t)index % g.gl_pathc]);
    globfree(&g);
    return path;
}

int testutil_middle_420(const char *path, uint32_t w, uint32_t h, p2c2r_jpeg *jpeg,
                        p2c2r_image *orig)
{
    size_t size;
    uint8_t *data = testutil_read_file(path, &size);
    p2c2r_image full = {0};
    int rc = data ? p2c2r__jpeg_decode(jpeg, data, size, &full) : P2C2R_E_IO;
    free(data);
    if (rc != P2C2R_OK || full.nplanes != 3 || full.width < w || full.height < h) {
        p2c2r__image_free(&full);
        return -1;
    }
    rc = p2c2r__image_alloc(orig, P2C2R_PIX_YUV420P, w, h);
    uint32_t x0 = (full.width - w) / 2 & ~1u, y0 = (full.height - h) / 2 & ~1u;
    uint32_t sx = full.plane[1].width < full.width, sy = full.plane[1].height < full.height;
    for (uint32_t i = 0; rc == P2C2R_OK && i < 3; i++) {
        p2c2r_plane *d = &orig->plane[i];
        for (uint32_t y = 0; y < d->height; y++)
            for (uint32_t x = 0; x < d->width; x++) {
                uint32_t lx = x0 + (i ? 2 * x : x), ly = y0 + (i ? 2 * y : y);
                const p2c2r_plane *s = &full.plane[i];
                uint32_t px = i ? lx >> sx : lx, py = i ? ly >> sy : ly;
                d->data[(size_t)y * d->stride + x] = s->data[(size_t)py * s->stride + px];
            }
    }
    p2c2r__image_free(&full);
    return rc == P2C2R_OK ? 0 : -1;
}

int testutil_count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += !needle || strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

int testutil_await_lines(const char *path, const char *needle, int n, int timeout_ms)
{
    for (int waited = 0; testutil_count_lines(path, needle) < n; waited += 10) {
        if (waited >= timeout_ms) {
            fprintf(stderr, "%s: fewer than %d line(s) with '%s' after %d ms\n", path, n, needle,
                    timeout_ms);
            return -1;
        }
        usleep(10000);
    }
    return 0;
}

long testutil_number_before(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    long n = -1;
    while (fgets(line, sizeof line, f)) {
        char *at = strstr(line, needle);
        if (!at)
            continue;
        while (at > line && at[-1] >= '0' && at[-1] <= '9')
            at--;
        n = strtol(at, NULL, 10);
    }
    fclose(f);
    return n;
}

int testutil_temp_file(char *tmpl)
{
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        perror(tmpl);
        return -1;
    }
    close(fd);
    return 0;
}

int testutil_task_ended(const uint64_t *ids, int *seen, int n, uint64_t id)
{
    int k = 0;
    while (k < n && ids[k] != id)
        k++;
    CHECK(k < n && !seen[k]);
    if (k == n)
        return -1;
    seen[k] = 1;
    return k;
}

long testutil_proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0) {
            kb = strtol(line + len, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

uint64_t testutil_cpu_ticks(pid_t pid)
{
    /* Fields 14 and 15 of /proc/PID/stat, counted after the command name, which may hold
     * spaces and parentheses. */
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return 0;
    return utime + stime;
}
