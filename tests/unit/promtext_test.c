/* promtext_test: the exposition text written by common/promtext.c parses back as the
 * Prometheus text format says: one HELP and one TYPE line before a family's samples,
 * label values escaped and read back unchanged, histogram buckets cumulative and ending
 * with +Inf equal to _count, _sum the sum of what was observed. Quantiles fall in the
 * bucket of the true value; JSON strings escape control characters. */
#include "common/promtext.h"

#include <stdlib.h>
#include <string.h>

#include "p2c2r_error.h"
#include "testutil.h"

/* One sample line parsed back. */
typedef struct sample {
    char name[128];
    char lname[8][32];
    char lvalue[8][128];
    int nlabels;
    double value;
} sample;

/* Parse `name{a="x",b="y"} value`, undoing the escapes; false on any deviation from the
 * format. */
static bool parse_sample(const char *line, sample *s)
{
    memset(s, 0, sizeof *s);
    size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
    if (!n || n >= sizeof s->name)
        return false;
    memcpy(s->name, line, n);
    const char *p = line + n;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            if (s->nlabels == 8)
                return false;
            size_t ln = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
            if (!ln || ln >= 32 || p[ln] != '=' || p[ln + 1] != '"')
                return false;
            memcpy(s->lname[s->nlabels], p, ln);
            p += ln + 2;
            size_t v = 0;
            while (*p != '"') {
                if (!*p || v + 1 >= 128)
                    return false;
                if (*p == '\\') {
                    p++;
                    if (*p == 'n')
                        s->lvalue[s->nlabels][v++] = '\n';
                    else if (*p == '\\' || *p == '"')
                        s->lvalue[s->nlabels][v++] = *p;
                    else
                        return false;
                    p++;
                } else {
                    if (*p == '\n')
                        return false;
                    s->lvalue[s->nlabels][v++] = *p++;
                }
            }
            p++;
            s->nlabels++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return false;
        }
        p++;
    }
    if (*p != ' ')
        return false;
    char *end;
    s->value = strtod(p + 1, &end);
    return end != p + 1 && *end == '\0';
}

static const char *label(const sample *s, const char *name)
{
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->lname[i], name) == 0)
            return s->lvalue[i];
    return NULL;
}

int main(void)
{
    static const char nasty[] = "a\\b\"c\nd{e}=f,";
    p2c2r_hist h = {0};
    uint64_t sum = 0;
    for (uint64_t ms = 1; ms <= 100; ms++) {
        p2c2r__hist_observe(&h, ms * 1000);
        sum += ms * 1000;
    }
    p2c2r__hist_observe(&h, 60ull * 1000000); /* beyond every bound */
    sum += 60ull * 1000000;
    CHECK(h.count == 101);
    CHECK(h.buckets[P2C2R_HIST_NBOUNDS] == 1);

    p2c2r_text t = {0};
    p2c2r__prom_family(&t, "test_seconds", "histogram", "A test histogram");
    p2c2r_labels l = {{"kind", "peer"}, {"noop", nasty}, 2};
    p2c2r__prom_hist(&t, "test_seconds", &l, &h);
    p2c2r__prom_family(&t, "test_total", "counter", "A test counter");
    p2c2r__prom_sample(&t, "test_total", &l, 42);
    p2c2r__prom_sample(&t, "test_total", NULL, 0.25);
    CHECK(!t.failed);

    /* Parse it all back. */
    int help = 0, type = 0, buckets = 0, samples = 0;
    double last_le = -1, last_cum = -1, inf = -1, count = -1, sumv = -1;
    char *save, *text = strdup(t.data);
    const char *family = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            help++;
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            type++;
            family = strstr(line, "test_total") ? "test_total" : "test_seconds";
            continue;
        }
        sample s;
        CHECK(parse_sample(line, &s));
        samples++;
        CHECK(family && strncmp(s.name, family, strlen(family)) == 0); /* TYPE came first */
        if (strncmp(s.name, "test_seconds", 12) == 0) {
            CHECK(label(&s, "peer") && strcmp(label(&s, "peer"), nasty) == 0);
            CHECK(label(&s, "kind") && strcmp(label(&s, "kind"), "noop") == 0);
        }
        if (strcmp(s.name, "test_seconds_bucket") == 0) {
            const char *le = label(&s, "le");
            CHECK(le != NULL);
            buckets++;
            CHECK(s.value >= last_cum); /* cumulative */
            last_cum = s.value;
            if (le && strcmp(le, "+Inf") == 0) {
                inf = s.value;
            } else if (le) {
                double b = strtod(le, NULL);
                CHECK(b > last_le); /* increasing bounds */
                last_le = b;
            }
        } else if (strcmp(s.name, "test_seconds_count") == 0) {
            count = s.value;
        } else if (strcmp(s.name, "test_seconds_sum") == 0) {
            sumv = s.value;
        } else if (strcmp(s.name, "test_total") == 0) {
            CHECK(s.nlabels == 0 ? s.value == 0.25 : s.value == 42);
        }
    }
    free(text);
    CHECK(help == 2 && type == 2);
    CHECK(buckets == P2C2R_HIST_NBOUNDS + 1);
    CHECK(inf == 101 && count == 101);
    CHECK(sumv > (double)sum / 1e6 - 1e-6 && sumv < (double)sum / 1e6 + 1e-6);
    CHECK(samples == buckets + 2 + 2);

    /* A value on a bound counts in that bucket (le is "less or equal"). */
    p2c2r_hist b = {0};
    p2c2r__hist_observe(&b, 1000); /* 0.001 s, the second bound */
    CHECK(b.buckets[1] == 1);

    /* Quantiles: the median of 1..100 ms and 60 s (51 ms) lies in (50 ms, 75 ms]; p95 is in
     * (75 ms, 100 ms]; an empty histogram gives 0. */
    double p50 = p2c2r__hist_quantile(&h, 0.5), p95 = p2c2r__hist_quantile(&h, 0.95);
    CHECK(p50 > 0.05 && p50 <= 0.075);
    CHECK(p95 > 0.075 && p95 <= 0.1);
    CHECK(p2c2r__hist_quantile(&h, 0.999) == 10.0); /* in +Inf: the highest bound */
    p2c2r_hist empty = {0};
    CHECK(p2c2r__hist_quantile(&empty, 0.5) == 0);
    p2c2r_hist sum2 = {0};
    p2c2r__hist_add(&sum2, &h);
    p2c2r__hist_add(&sum2, &h);
    CHECK(sum2.count == 202 && sum2.sum_us == 2 * h.sum_us);

    /* Status labels, JSON strings. */
    char st[32];
    CHECK(strcmp(p2c2r__prom_status(P2C2R_OK, st), "ok") == 0);
    CHECK(strcmp(p2c2r__prom_status(P2C2R_E_DEADLINE, st), "deadline") == 0);
    p2c2r__text_reset(&t);
    p2c2r__text_quoted(&t, "x\"\\\n\x01y", true);
    CHECK(strcmp(t.data, "x\\\"\\\\\\n\\u0001y") == 0);
    /* Longer than the small buffer of text_printf. */
    p2c2r__text_reset(&t);
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    p2c2r__text_printf(&t, "<%s>", big);
    CHECK(t.len == sizeof big + 1 && t.data[0] == '<' && t.data[t.len - 1] == '>');
    p2c2r__text_fini(&t);
    return testutil_finish("promtext");
}
