/* sdk_learn_test: the SDK's learnt latencies (client/learn.c).
 * - an unseen class gets the seed deadline (100 ms) and a local prediction from its size;
 * - with enough answers the deadline is max(1.5 x p99, p99 + 2 ms), from the last 128 only;
 * - a missed learnt deadline doubles it (up to 64x), answers in time halve it back;
 * - classes differ by mode, size, scale, codecs (upscale), sleep time and payload size class;
 * - local runs predict the fallback's time; the table keeps the 64 most recently used;
 * - the percentiles, kept as samples come and go, equal those of the last 128 sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "client/learn.h"
#include "common/task.h"
#include "testutil.h"

static sdk_class_key upscale_key(uint32_t w, uint32_t h, p2c2r_mode mode)
{
    p2c2r_upscale_desc d = {.codec = P2C2R_CODEC_RAW,
                            .pixel_format = P2C2R_PIX_YUV420P,
                            .width = w,
                            .height = h,
                            .scale = 2,
                            .mode = mode,
                            .output_codec = P2C2R_CODEC_RAW};
    sdk_class_key k;
    sdk_class_upscale(&d, &k);
    return k;
}

static void seeds(void)
{
    sdk_learn *l = sdk_learn_new();
    sdk_class_key k = upscale_key(320, 180, P2C2R_MODE_FAST);
    sdk_estimate e;
    sdk_learn_estimate(l, &k, &e);
    CHECK(e.samples == 0);
    CHECK(e.deadline_us == 100000);
    /* 640x360 output at 15 ns a pixel plus 2 ms. */
    CHECK(e.local_us == 640ull * 360 * 15 / 1000 + 2000);
    sdk_class_key q = upscale_key(320, 180, P2C2R_MODE_QUALITY);
    sdk_learn_estimate(l, &q, &e);
    CHECK(e.local_us == 640ull * 360 * 250 / 1000 + 2000);
    p2c2r_latency lat;
    sdk_learn_get(l, &k, &lat);
    CHECK(lat.samples == 0 && lat.deadline_ms == 100 && strcmp(lat.kind, "upscale") == 0);
    CHECK(sdk_learn_list(l, &lat, 1) == 0); /* asking creates nothing */
    sdk_learn_destroy(&l);
    CHECK(l == NULL);
}

static void learnt_deadline(void)
{
    sdk_learn *l = sdk_learn_new();
    sdk_class_key k = upscale_key(320, 180, P2C2R_MODE_FAST);
    sdk_estimate e;
    /* Below 8 answers: the seed, or twice the slowest when that is more. */
    for (int i = 0; i < 7; i++)
        sdk_learn_add(l, &k, false, 5000, true);
    sdk_learn_estimate(l, &k, &e);
    CHECK(e.samples == 7 && e.deadline_us == 100000);
    sdk_learn_add(l, &k, false, 70000, true);
    sdk_learn_estimate(l, &k, &e);
    /* 8 answers now, p99 = the 70 ms one: 1.5 x 70 = 105 ms. */
    CHECK(e.samples == 8 && e.deadline_us == 105000);
    /* 128 answers of 1000 + (i % 100) us push the 70 ms one out of the window: sorted, 1000
     * to 1027 twice, then 1028 to 1099. p99 (rank 127) is 1098 us, and p99 + 2 ms beats
     * 1.5 x p99. */
    for (int i = 0; i < 128; i++)
        sdk_learn_add(l, &k, false, 1000 + (uint64_t)(i % 100), true);
    sdk_learn_estimate(l, &k, &e);
    CHECK(e.samples == 128);
    CHECK(e.deadline_us == 1098 + 2000);
    CHECK(e.p90_us == 1087); /* rank 116 */
    p2c2r_latency lat;
    sdk_learn_get(l, &k, &lat);
    CHECK(lat.samples == 128 && lat.max_us == 1099 && lat.p99_us == 1098 && lat.p50_us == 1035);
    CHECK(lat.deadline_ms == 4); /* 3.098 ms, rounded up */
    /* Slower answers: 1.5 x p99 beats p99 + 2 ms. */
    for (int i = 0; i < 128; i++)
        sdk_learn_add(l, &k, false, 10000, true);
    sdk_learn_estimate(l, &k, &e);
    CHECK(e.deadline_us == 15000);
    sdk_learn_destroy(&l);
}

static void backoff(void)
{
    sdk_learn *l = sdk_learn_new();
    sdk_class_key k;
    sdk_class_other(P2C2R_KIND_SLEEP, 250, 1, &k);
    sdk_estimate e;
    uint64_t want[] = {200000, 400000, 800000, 1600000, 3200000, 6400000, 6400000};
    for (int i = 0; i < 7; i++) {
        sdk_learn_missed(l, &k);
        sdk_learn_estimate(l, &k, &e);
        CHECK(e.deadline_us == want[i]);
    }
    /* Answers in time halve it; a late one does not. */
    sdk_learn_add(l, &k, false, 30000, false);
    sdk_learn_estimate(l, &k, &e);
    CHECK(e.deadline_us == 6400000);
    sdk_learn_add(l, &k, false, 30000, true);
    sdk_learn_estimate(l, &k, &e);
    CHECK(e.deadline_us == 3200000);
    /* Never past 60 s: with 8 answers of 40 s (p99 40 s, 60 s) and a doubling. */
    for (int i = 0; i < 8; i++)
        sdk_learn_add(l, &k, false, 40000000, false);
    sdk_learn_missed(l, &k);
    sdk_learn_estimate(l, &k, &e);
    CHECK(e.deadline_us == 60000000);
    sdk_learn_destroy(&l);
}

static void classes(void)
{
    sdk_learn *l = sdk_learn_new();
    sdk_class_key a = upscale_key(320, 180, P2C2R_MODE_FAST);
    sdk_class_key b = upscale_key(640, 360, P2C2R_MODE_FAST);
    sdk_class_key c = upscale_key(320, 180, P2C2R_MODE_LANCZOS);
    sdk_class_key n1, n2, n3;
    sdk_class_other(P2C2R_KIND_NOOP, 0, 1000, &n1);
    sdk_class_other(P2C2R_KIND_NOOP, 0, 1024, &n2); /* the same power of two */
    sdk_class_other(P2C2R_KIND_NOOP, 0, 1025, &n3);
    CHECK(memcmp(&n1, &n2, sizeof n1) == 0 && n1.payload_bytes == 1024);
    CHECK(n3.payload_bytes == 2048);
    sdk_learn_add(l, &a, false, 1000, true);
    sdk_learn_add(l, &b, false, 2000, true);
    sdk_learn_add(l, &b, false, 2000, true);
    sdk_learn_add(l, &c, true, 3000, true); /* a local run */
    sdk_learn_add(l, &n1, false, 500, true);
    p2c2r_latency list[8];
    CHECK(sdk_learn_list(l, list, 8) == 4);
    /* Most recently used first. */
    CHECK(strcmp(list[0].kind, "noop") == 0 && list[0].payload_bytes == 1024);
    CHECK(list[1].mode == P2C2R_MODE_LANCZOS && list[1].samples == 0 && list[1].local_samples == 1);
    CHECK(list[2].width == 640 && list[2].samples == 2 && list[2].p50_us == 2000);
    CHECK(list[3].width == 320 && list[3].samples == 1 && list[3].p50_us == 1000);
    sdk_estimate e;
    sdk_learn_estimate(l, &c, &e);
    CHECK(e.local_us == 3000 * 5 / 4 + 1000); /* measured now, not the prior */
    /* The 64 most recently used stay: 70 more classes push the first ones out. */
    for (uint32_t i = 0; i < 70; i++) {
        sdk_class_key k = upscale_key(1000 + i, 100, P2C2R_MODE_FAST);
        sdk_learn_add(l, &k, false, 100, true);
    }
    CHECK(sdk_learn_list(l, list, 1) == SDK_LEARN_CLASSES);
    CHECK(list[0].width == 1069);
    sdk_learn_get(l, &a, &list[0]);
    CHECK(list[0].samples == 0);
    sdk_learn_destroy(&l);
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t rank_of(const uint32_t *sorted, uint32_t n, uint32_t percent)
{
    uint32_t r = (n * percent + 99) / 100;
    return sorted[(r ? r : 1) - 1];
}

/* 1000 samples with many repeats (and the largest a sample can be), checked after each
 * against the last 128 (or fewer) sorted from scratch. */
static void percentiles(void)
{
    sdk_learn *l = sdk_learn_new();
    sdk_class_key k = upscale_key(640, 360, P2C2R_MODE_BICUBIC);
    static uint32_t all[1000];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int wrong = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        all[i] = i % 97 == 0 ? UINT32_MAX : (uint32_t)(x % 50) * 100;
        sdk_learn_add(l, &k, false, all[i] == UINT32_MAX ? UINT64_MAX : all[i], true);
        uint32_t n = i + 1 < SDK_LEARN_WINDOW ? i + 1 : SDK_LEARN_WINDOW, last[SDK_LEARN_WINDOW];
        memcpy(last, &all[i + 1 - n], n * sizeof *last);
        qsort(last, n, sizeof *last, compare_u32);
        p2c2r_latency lat;
        sdk_learn_get(l, &k, &lat);
        wrong += lat.samples != n || lat.p50_us != rank_of(last, n, 50) ||
                 lat.p90_us != rank_of(last, n, 90) || lat.p99_us != rank_of(last, n, 99) ||
                 lat.max_us != last[n - 1];
    }
    CHECK(wrong == 0);
    sdk_learn_destroy(&l);
}

int main(void)
{
    seeds();
    learnt_deadline();
    backoff();
    classes();
    percentiles();
    return testutil_finish("sdk_learn_test");
}
