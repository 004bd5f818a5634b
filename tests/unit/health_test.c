/* health_test: earned slots and the circuit breaker go through their states as health.h
 * says: slow start up to the advertised slots, halving on failure, opening after
 * HEALTH_TRIP_FAILURES failures in a row, one probe when half-open, closing on its
 * success, reopening for twice as long on its failure, and a released probe going again. */
#include "coordinator/health.h"

#include "testutil.h"

#define MS 1000u

int main(void)
{
    coord_health h;
    coord_health_init(&h);
    uint64_t now = 1000000;
    CHECK(coord_health_allowance(&h, "p", 16, now) == HEALTH_INITIAL_TRUST);
    CHECK(coord_health_allowance(&h, "p", 1, now) == 1); /* never past what it advertised */

    /* Each good answer earns one slot, up to the advertised 16. */
    for (int i = 0; i < 30; i++)
        coord_health_success(&h, "p", 16);
    CHECK(coord_health_allowance(&h, "p", 16, now) == 16);

    /* A failure halves; two more in a row open the breaker. */
    coord_health_failure(&h, "p", now, "test");
    CHECK(coord_health_allowance(&h, "p", 16, now) == 8);
    CHECK(h.breaker == COORD_BREAKER_CLOSED);
    coord_health_failure(&h, "p", now, "test");
    coord_health_failure(&h, "p", now, "test");
    CHECK(h.breaker == COORD_BREAKER_OPEN);
    CHECK(!coord_health_usable(&h, now));
    CHECK(coord_health_allowance(&h, "p", 16, now + HEALTH_COOLDOWN_MIN_US - 1) == 0);

    /* Cooled down: half-open, exactly one probe. */
    now += HEALTH_COOLDOWN_MIN_US;
    CHECK(coord_health_usable(&h, now));
    CHECK(coord_health_allowance(&h, "p", 16, now) == 1);
    CHECK(h.breaker == COORD_BREAKER_HALF_OPEN);
    coord_health_assigned(&h);
    CHECK(coord_health_allowance(&h, "p", 16, now) == 0);
    /* The probe left without a verdict: another may go. */
    coord_health_released(&h);
    CHECK(coord_health_allowance(&h, "p", 16, now) == 1);
    coord_health_assigned(&h);

    /* The probe fails: open again, for twice as long. */
    coord_health_failure(&h, "p", now, "probe failed");
    CHECK(h.breaker == COORD_BREAKER_OPEN);
    CHECK(coord_health_allowance(&h, "p", 16, now + 2 * HEALTH_COOLDOWN_MIN_US - 1) == 0);
    now += 2 * HEALTH_COOLDOWN_MIN_US;
    CHECK(coord_health_allowance(&h, "p", 16, now) == 1);
    coord_health_assigned(&h);

    /* The probe succeeds: closed, counting from scratch, trust earned again. */
    coord_health_success(&h, "p", 16);
    CHECK(h.breaker == COORD_BREAKER_CLOSED);
    CHECK(h.failures == 0 && h.opens == 0);
    CHECK(coord_health_allowance(&h, "p", 16, now) >= 1);
    coord_health_failure(&h, "p", now, "test");
    coord_health_failure(&h, "p", now, "test");
    CHECK(h.breaker == COORD_BREAKER_CLOSED); /* two in a row do not trip it */

    /* Cooldowns double up to the cap. */
    coord_health_init(&h);
    for (int i = 0; i < 40; i++) {
        coord_health_failure(&h, "p", now, "test");
        now = h.open_until_us;
        coord_health_allowance(&h, "p", 16, now);
    }
    coord_health_failure(&h, "p", now, "test");
    CHECK(h.open_until_us - now == HEALTH_COOLDOWN_MAX_US);
    CHECK(h.bad == 41 && h.good == 0);
    return testutil_finish("health_test");
}
