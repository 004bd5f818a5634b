/* promtext: see promtext.h. The format:
 * https://prometheus.io/docs/instrumenting/exposition_formats/ */
#include "common/promtext.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2c2r_error.h"

static const double bounds[P2C2R_HIST_NBOUNDS] = {P2C2R_HIST_BOUNDS};
/* The same in microseconds, so that an observation costs integer compares only. */
#define US(s) ((uint64_t)((s)*1e6 + 0.5))
static const uint64_t bounds_us[P2C2R_HIST_NBOUNDS] = {
    US(0.0005), US(0.001), US(0.002), US(0.004), US(0.008), US(0.0125),
    US(0.0167), US(0.025), US(0.033), US(0.05),  US(0.075), US(0.1),
    US(0.25),   US(0.5),   US(1.0),   US(2.5),   US(5.0),   US(10.0),
};

void p2c2r__hist_observe(p2c2r_hist *h, uint64_t us)
{
    int i = 0;
    while (i < P2C2R_HIST_NBOUNDS && us > bounds_us[i]) /* le: a value on a bound counts in it */
        i++;
    h->buckets[i]++;
    h->count++;
    h->sum_us += us;
}

void p2c2r__hist_add(p2c2r_hist *to, const p2c2r_hist *from)
{
    for (int i = 0; i <= P2C2R_HIST_NBOUNDS; i++)
        to->buckets[i] += from->buckets[i];
    to->count += from->count;
    to->sum_us += from->sum_us;
}

double p2c2r__hist_quantile(const p2c2r_hist *h, double q)
{
    if (!h->count)
        return 0;
    double rank = q * (double)h->count;
    uint64_t below = 0;
    for (int i = 0; i < P2C2R_HIST_NBOUNDS; i++) {
        if ((double)(below + h->buckets[i]) >= rank && h->buckets[i]) {
            double lo = i ? bounds[i - 1] : 0;
            return lo + (bounds[i] - lo) * (rank - (double)below) / (double)h->buckets[i];
        }
        below += h->buckets[i];
    }
    return bounds[P2C2R_HIST_NBOUNDS - 1];
}

/* ---- text --------------------------------------------------------------------------- */

static bool reserve(p2c2r_text *t, size_t more)
{
    if (t->failed)
        return false;
    if (t->len + more + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *data = realloc(t->data, cap);
    if (!data) {
        t->failed = true;
        return false;
    }
    t->data = data;
    t->cap = cap;
    return true;
}

void p2c2r__text_reset(p2c2r_text *t)
{
    t->len = 0;
    t->failed = false;
    if (t->data)
        t->data[0] = '\0';
}

void p2c2r__text_fini(p2c2r_text *t)
{
    free(t->data);
    *t = (p2c2r_text){0};
}

void p2c2r__text_printf(p2c2r_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(t, (size_t)n))
        return;
    if ((size_t)n < sizeof small) {
        memcpy(t->data + t->len, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    t->len += (size_t)n;
}

void p2c2r__text_append(p2c2r_text *t, const char *data, size_t len)
{
    if (!reserve(t, len))
        return;
    memcpy(t->data + t->len, data, len);
    t->len += len;
    t->data[t->len] = '\0';
}

void p2c2r__text_quoted(p2c2r_text *t, const char *s, bool json)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"')
            p2c2r__text_printf(t, "\\%c", c);
        else if (c == '\n')
            p2c2r__text_printf(t, "\\n");
        else if (json && c < 0x20)
            p2c2r__text_printf(t, "\\u%04x", c);
        else if (reserve(t, 1)) {
            t->data[t->len++] = (char)c;
            t->data[t->len] = '\0';
        }
    }
}

/* ---- exposition --------------------------------------------------------------------- */

void p2c2r__prom_family(p2c2r_text *t, const char *name, const char *type, const char *help)
{
    /* HELP text escapes backslash and newline only; ours are constants without either. */
    p2c2r__text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {a="x",b="y"} with extra (name, value) appended when extra_name is set; nothing for an
 * empty set. */
static void labels_write(p2c2r_text *t, const p2c2r_labels *l, const char *extra_name,
                         const char *extra_value)
{
    int n = l ? l->n : 0;
    if (!n && !extra_name)
        return;
    p2c2r__text_printf(t, "{");
    for (int i = 0; i < n; i++) {
        p2c2r__text_printf(t, "%s%s=\"", i ? "," : "", l->name[i]);
        p2c2r__text_quoted(t, l->value[i] ? l->value[i] : "", false);
        p2c2r__text_printf(t, "\"");
    }
    if (extra_name)
        p2c2r__text_printf(t, "%s%s=\"%s\"", n ? "," : "", extra_name, extra_value);
    p2c2r__text_printf(t, "}");
}

/* Integers exactly, others with nine significant digits (the figures are microseconds
 * and ratios: more would only print binary noise). */
static void value_write(p2c2r_text *t, double v)
{
    if (isinf(v))
        p2c2r__text_printf(t, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
        p2c2r__text_printf(t, "NaN");
    else if (v == floor(v) && fabs(v) < 1e15)
        p2c2r__text_printf(t, "%.0f", v);
    else
        p2c2r__text_printf(t, "%.9g", v);
}

void p2c2r__prom_sample(p2c2r_text *t, const char *name, const p2c2r_labels *labels, double value)
{
    p2c2r__text_printf(t, "%s", name);
    labels_write(t, labels, NULL, NULL);
    p2c2r__text_printf(t, " ");
    value_write(t, value);
    p2c2r__text_printf(t, "\n");
}

void p2c2r__prom_hist(p2c2r_text *t, const char *name, const p2c2r_labels *labels,
                      const p2c2r_hist *h)
{
    uint64_t cumulative = 0;
    for (int i = 0; i <= P2C2R_HIST_NBOUNDS; i++) {
        char le[32];
        if (i < P2C2R_HIST_NBOUNDS)
            snprintf(le, sizeof le, "%g", bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        cumulative += h->buckets[i];
        p2c2r__text_printf(t, "%s_bucket", name);
        labels_write(t, labels, "le", le);
        p2c2r__text_printf(t, " %llu\n", (unsigned long long)cumulative);
    }
    p2c2r__text_printf(t, "%s_sum", name);
    labels_write(t, labels, NULL, NULL);
    p2c2r__text_printf(t, " ");
    value_write(t, (double)h->sum_us / 1e6);
    p2c2r__text_printf(t, "\n%s_count", name);
    labels_write(t, labels, NULL, NULL);
    p2c2r__text_printf(t, " %llu\n", (unsigned long long)h->count);
}

const char *p2c2r__prom_status(int status, char buf[32])
{
    const char *name = status == 0 ? "ok" : p2c2r_errname(status);
    if (strncmp(name, "P2C2R_E_", 8) == 0)
        name += 8;
    size_t i = 0;
    for (; name[i] && i < 31; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}
