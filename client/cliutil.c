/* cliutil: see cliutil.h. */
#include "cliutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name;
    p2c2r_mode mode;
} modes[] = {{"fast", P2C2R_MODE_FAST},
             {"bicubic", P2C2R_MODE_BICUBIC},
             {"lanczos", P2C2R_MODE_LANCZOS},
             {"quality", P2C2R_MODE_QUALITY}};

int cli_parse_u32(const char *text, const char *flag, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (*text == '\0' || *text == '-' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "p2c2r: %s needs a whole number in %u..%u, not '%s'\n", flag, min, max,
                text);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int cli_parse_mode(const char *text, p2c2r_mode *mode)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(text, modes[i].name) == 0) {
            *mode = modes[i].mode;
            return 0;
        }
    fprintf(stderr, "p2c2r: unknown mode '%s' (fast, bicubic, lanczos, quality)\n", text);
    return -1;
}

const char *cli_mode_name(p2c2r_mode mode)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (modes[i].mode == mode)
            return modes[i].name;
    return "?";
}

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void cli_sort(double *values, size_t n)
{
    qsort(values, n, sizeof *values, compare_double);
}

double cli_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return sorted[(rank > n ? n : rank) - 1];
}
