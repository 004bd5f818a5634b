/* sdk_adapt_test: adaptive quality's policy (client/adapt.c), fed latencies by hand.
 * - it starts at the best mode and never goes above the mode a frame asks for;
 * - frames near the budget step it down one mode at a time, down to fast and no further;
 *   one slow frame among fast ones does not;
 * - frames with room step it up after a run of 30, one mode at a time;
 * - between 50% and 80% of the budget nothing moves (hysteresis);
 * - a mode left for being too slow needs twice the run before it is tried again, and
 *   results of frames from before a step do not count against the new mode.
 */
#include "client/adapt.h"
#include "testutil.h"

#define BUDGET_MS 40u
#define SLOW      (BUDGET_MS * 1000u * 9 / 10) /* 90% of the budget */
#define ROOM      (BUDGET_MS * 1000u * 4 / 10) /* 40% */
#define MIDDLE    (BUDGET_MS * 1000u * 6 / 10) /* 60% */

/* Feed n frames of mode `mode` taking us each; returns the mode after. */
static p2c2r_mode feed(sdk_adapt *a, p2c2r_mode mode, int n, uint64_t us)
{
    for (int i = 0; i < n; i++)
        sdk_adapt_observe(a, mode, us);
    return sdk_adapt_mode(a, P2C2R_MODE_QUALITY);
}

static p2c2r_mode level(const sdk_adapt *a)
{
    return sdk_adapt_mode(a, P2C2R_MODE_QUALITY);
}

int main(void)
{
    sdk_adapt *a = sdk_adapt_new(BUDGET_MS);
    CHECK(level(a) == P2C2R_MODE_QUALITY);
    CHECK(sdk_adapt_mode(a, P2C2R_MODE_BICUBIC) == P2C2R_MODE_BICUBIC);

    /* Down: four slow quality frames step to lanczos; three do not. */
    CHECK(feed(a, P2C2R_MODE_QUALITY, 3, SLOW) == P2C2R_MODE_QUALITY);
    CHECK(feed(a, P2C2R_MODE_QUALITY, 1, SLOW) == P2C2R_MODE_LANCZOS);
    /* Quality frames still in flight when it stepped count for nothing now. */
    CHECK(feed(a, P2C2R_MODE_QUALITY, 20, SLOW) == P2C2R_MODE_LANCZOS);
    /* One slow frame among fast ones is an outlier (the second slowest decides). */
    CHECK(feed(a, P2C2R_MODE_LANCZOS, 7, ROOM) == P2C2R_MODE_LANCZOS);
    CHECK(feed(a, P2C2R_MODE_LANCZOS, 1, SLOW) == P2C2R_MODE_LANCZOS);
    /* Two are a trend. */
    CHECK(feed(a, P2C2R_MODE_LANCZOS, 1, SLOW) == P2C2R_MODE_BICUBIC);
    CHECK(feed(a, P2C2R_MODE_BICUBIC, 4, SLOW) == P2C2R_MODE_FAST);
    CHECK(feed(a, P2C2R_MODE_FAST, 50, SLOW) == P2C2R_MODE_FAST); /* nothing below fast */
    p2c2r_mode m;
    uint64_t down, up;
    sdk_adapt_counts(a, &m, &down, &up);
    CHECK(m == P2C2R_MODE_FAST && down == 3 && up == 0);

    /* Hysteresis: frames at 60% of the budget move it neither way, however many. */
    CHECK(feed(a, P2C2R_MODE_FAST, 500, MIDDLE) == P2C2R_MODE_FAST);

    /* Up: bicubic was left once for being slow, so fast needs a run of 60 with room. */
    CHECK(feed(a, P2C2R_MODE_FAST, 59, ROOM) == P2C2R_MODE_FAST);
    CHECK(feed(a, P2C2R_MODE_FAST, 1, ROOM) == P2C2R_MODE_BICUBIC);
    /* A frame outside the room breaks the run. */
    CHECK(feed(a, P2C2R_MODE_BICUBIC, 59, ROOM) == P2C2R_MODE_BICUBIC);
    CHECK(feed(a, P2C2R_MODE_BICUBIC, 1, MIDDLE) == P2C2R_MODE_BICUBIC);
    CHECK(feed(a, P2C2R_MODE_BICUBIC, 59, ROOM) == P2C2R_MODE_BICUBIC);
    CHECK(feed(a, P2C2R_MODE_BICUBIC, 1, ROOM) == P2C2R_MODE_LANCZOS);
    CHECK(feed(a, P2C2R_MODE_LANCZOS, 60, ROOM) == P2C2R_MODE_QUALITY);
    sdk_adapt_counts(a, &m, &down, &up);
    CHECK(m == P2C2R_MODE_QUALITY && down == 3 && up == 3);

    /* Quality is still too slow: down again, and now its run is 120 frames (left twice). */
    CHECK(feed(a, P2C2R_MODE_QUALITY, 4, SLOW) == P2C2R_MODE_LANCZOS);
    CHECK(feed(a, P2C2R_MODE_LANCZOS, 119, ROOM) == P2C2R_MODE_LANCZOS);
    CHECK(feed(a, P2C2R_MODE_LANCZOS, 1, ROOM) == P2C2R_MODE_QUALITY);
    /* Errors (a frame that never came) count as slow. */
    CHECK(feed(a, P2C2R_MODE_QUALITY, 4, UINT64_MAX) == P2C2R_MODE_LANCZOS);
    sdk_adapt_destroy(&a);
    CHECK(a == NULL);
    return testutil_finish("sdk_adapt_test");
}
