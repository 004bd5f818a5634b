/* promtext: the Prometheus text exposition format (version 0.0.4), written by hand because
 * Debian has no C client library for it, and latency histograms whose quantiles the
 * coordinator computes itself for `p2c2r status`.
 *
 * A text is a growing buffer; every write after an allocation failure is dropped and the
 * text is marked failed, so a caller checks once at the end. Families are written as the
 * format wants them: one `# HELP` and one `# TYPE` line, then its samples. Label values are
 * escaped (backslash, double quote, newline); metric and label names are the caller's
 * constants and must already match [a-zA-Z_:][a-zA-Z0-9_:]*.
 *
 * A histogram has fixed buckets (P2C2R_HIST_BOUNDS, seconds, chosen around a frame's
 * budget: 16.7 ms at 60 fps, 100 ms at worst). It is plain data and not thread-safe: its
 * owner serialises access.
 */
#ifndef P2C2R_PROMTEXT_H
#define P2C2R_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the finite buckets, in seconds; one more bucket, +Inf, follows. */
#define P2C2R_HIST_BOUNDS                                                                          \
    0.0005, 0.001, 0.002, 0.004, 0.008, 0.0125, 0.0167, 0.025, 0.033, 0.05, 0.075, 0.1, 0.25, 0.5, \
        1.0, 2.5, 5.0, 10.0
#define P2C2R_HIST_NBOUNDS 18

typedef struct p2c2r_hist {
    uint64_t buckets[P2C2R_HIST_NBOUNDS + 1]; /* observations per bucket, not cumulative;
                                                 the last is above every bound */
    uint64_t count;                           /* observations */
    uint64_t sum_us;                          /* their sum, microseconds */
} p2c2r_hist;

/* Record one observation of us microseconds. */
void p2c2r__hist_observe(p2c2r_hist *h, uint64_t us);
/* Add every observation of from into to. */
void p2c2r__hist_add(p2c2r_hist *to, const p2c2r_hist *from);
/* The q-quantile (0 < q < 1) in seconds, interpolated linearly inside its bucket as
 * Prometheus's histogram_quantile() does; an answer in the +Inf bucket is the highest
 * finite bound. 0 when the histogram is empty. */
double p2c2r__hist_quantile(const p2c2r_hist *h, double q);

typedef struct p2c2r_text {
    char *data;  /* the text, NUL-terminated; owned */
    size_t len;  /* bytes in it */
    size_t cap;  /* bytes allocated */
    bool failed; /* an allocation failed: the text is incomplete */
} p2c2r_text;

/* Start empty (keeping an allocation from a previous use). */
void p2c2r__text_reset(p2c2r_text *t);
void p2c2r__text_fini(p2c2r_text *t);
void p2c2r__text_printf(p2c2r_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append len bytes of data. */
void p2c2r__text_append(p2c2r_text *t, const char *data, size_t len);
/* Append s as the inside of a double-quoted string: as a Prometheus label value when json
 * is false (\\, \", \n escaped), as a JSON string otherwise (control characters too). */
void p2c2r__text_quoted(p2c2r_text *t, const char *s, bool json);

/* A label set: up to P2C2R_PROM_MAX_LABELS name/value pairs. */
#define P2C2R_PROM_MAX_LABELS 6
typedef struct p2c2r_labels {
    const char *name[P2C2R_PROM_MAX_LABELS];  /* label names, constants */
    const char *value[P2C2R_PROM_MAX_LABELS]; /* their values, escaped when written */
    int n;                                    /* pairs in use */
} p2c2r_labels;

/* `# HELP name help` and `# TYPE name type` (type: counter, gauge or histogram). */
void p2c2r__prom_family(p2c2r_text *t, const char *name, const char *type, const char *help);
/* One sample `name{labels} value` (labels may be NULL or empty). */
void p2c2r__prom_sample(p2c2r_text *t, const char *name, const p2c2r_labels *labels, double value);
/* A histogram's samples: name_bucket{labels,le="..."} (cumulative, ending with +Inf),
 * name_sum (seconds) and name_count. */
void p2c2r__prom_hist(p2c2r_text *t, const char *name, const p2c2r_labels *labels,
                      const p2c2r_hist *h);

/* A task status as a label value: "ok", or the error's name in lower case ("deadline"),
 * written into buf. Returns buf. */
const char *p2c2r__prom_status(int status, char buf[32]);

#endif /* P2C2R_PROMTEXT_H */
