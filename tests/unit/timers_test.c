/* timers_test: coord_timers against a naive reference under random arm/re-arm/cancel/pop,
 * and the edge cases (cancelling what is not armed, re-arming in place, ties). */
#include "coordinator/timers.h"

#include <stdlib.h>

#include "p2c2r_error.h"
#include "testutil.h"

#define NTIMERS 300
#define OPS     100000

int main(void)
{
    coord_timers *t = coord_timers_new();
    CHECK(t != NULL);
    if (!t)
        return testutil_finish("timers_test");
    coord_timer timers[NTIMERS] = {0};
    uint64_t when[NTIMERS];
    bool armed[NTIMERS] = {0};

    CHECK(coord_timers_next(t) == UINT64_MAX);
    CHECK(coord_timers_pop_due(t, UINT64_MAX) == NULL);
    coord_timers_cancel(t, &timers[0]); /* not armed: nothing happens */
    CHECK(!coord_timers_armed(&timers[0]));

    uint64_t rng = 42, now = 0;
    for (int op = 0; op < OPS; op++) {
        int i = (int)(testutil_rand(&rng) % NTIMERS);
        switch (testutil_rand(&rng) % 4) {
        case 0:
        case 1: /* arm or re-arm, often at equal times */
            when[i] = now + testutil_rand(&rng) % 50;
            CHECK_RC(coord_timers_arm(t, &timers[i], when[i]), P2C2R_OK);
            armed[i] = true;
            break;
        case 2:
            coord_timers_cancel(t, &timers[i]);
            armed[i] = false;
            break;
        default: { /* time passes: everything due comes out, earliest first */
            now += testutil_rand(&rng) % 10;
            uint64_t last = 0;
            coord_timer *due;
            while ((due = coord_timers_pop_due(t, now))) {
                int k = (int)(due - timers);
                CHECK(armed[k] && when[k] <= now && when[k] >= last);
                CHECK(!coord_timers_armed(due));
                last = when[k];
                armed[k] = false;
            }
            break;
        }
        }
        /* The reference's view of the next timer matches. */
        if (op % 97 == 0) {
            uint64_t next = UINT64_MAX;
            size_t count = 0;
            for (int k = 0; k < NTIMERS; k++) {
                CHECK(armed[k] == coord_timers_armed(&timers[k]));
                if (armed[k]) {
                    count++;
                    next = when[k] < next ? when[k] : next;
                }
            }
            CHECK(coord_timers_next(t) == next);
            CHECK(coord_timers_size(t) == count);
        }
    }
    coord_timers_destroy(&t);
    CHECK(t == NULL);
    coord_timers_destroy(&t); /* accepts NULL */
    return testutil_finish("timers_test");
}
