/* health: see health.h. */
#include "coordinator/health.h"

#include <inttypes.h>

#include "common/log.h"

void coord_health_init(coord_health *h)
{
    *h = (coord_health){.trust = HEALTH_INITIAL_TRUST, .breaker = COORD_BREAKER_CLOSED};
}

static uint64_t cooldown_us(uint32_t opens)
{
    uint64_t us = HEALTH_COOLDOWN_MIN_US;
    for (uint32_t i = 1; i < opens && us < HEALTH_COOLDOWN_MAX_US; i++)
        us *= 2;
    return us < HEALTH_COOLDOWN_MAX_US ? us : HEALTH_COOLDOWN_MAX_US;
}

uint32_t coord_health_allowance(coord_health *h, const char *peer_name, uint32_t slots,
                                uint64_t now_us)
{
    if (h->breaker == COORD_BREAKER_OPEN) {
        if (now_us < h->open_until_us)
            return 0;
        h->breaker = COORD_BREAKER_HALF_OPEN;
        h->probing = false;
        log_info("peer %s: circuit breaker half-open, one probe task may go", peer_name);
    }
    if (h->breaker == COORD_BREAKER_HALF_OPEN)
        return h->probing ? 0 : 1;
    return h->trust < slots ? h->trust : slots;
}

void coord_health_assigned(coord_health *h)
{
    if (h->breaker == COORD_BREAKER_HALF_OPEN)
        h->probing = true;
}

void coord_health_released(coord_health *h)
{
    if (h->breaker == COORD_BREAKER_HALF_OPEN)
        h->probing = false;
}

void coord_health_success(coord_health *h, const char *peer_name, uint32_t slots)
{
    h->good++;
    h->failures = 0;
    if (h->trust < slots)
        h->trust++;
    if (h->breaker == COORD_BREAKER_HALF_OPEN) {
        h->breaker = COORD_BREAKER_CLOSED;
        h->probing = false;
        h->opens = 0;
        log_info("peer %s: circuit breaker closed, the probe succeeded", peer_name);
    }
}

void coord_health_failure(coord_health *h, const char *peer_name, uint64_t now_us, const char *why)
{
    h->bad++;
    h->failures++;
    h->trust = h->trust > 1 ? h->trust / 2 : 1;
    bool trip = h->breaker == COORD_BREAKER_HALF_OPEN ||
                (h->breaker == COORD_BREAKER_CLOSED && h->failures >= HEALTH_TRIP_FAILURES);
    if (!trip)
        return;
    h->opens++;
    h->breaker = COORD_BREAKER_OPEN;
    h->probing = false;
    uint64_t wait = cooldown_us(h->opens);
    h->open_until_us = now_us + wait;
    log_warn("peer %s: circuit breaker open after %u failure(s) in a row (last: %s); "
             "no tasks for %" PRIu64 " ms",
             peer_name, h->failures, why, wait / 1000u);
}

bool coord_health_usable(const coord_health *h, uint64_t now_us)
{
    return h->breaker != COORD_BREAKER_OPEN || now_us >= h->open_until_us;
}

const char *coord_health_breaker_name(coord_breaker b)
{
    switch (b) {
    case COORD_BREAKER_CLOSED:
        return "closed";
    case COORD_BREAKER_OPEN:
        return "open";
    case COORD_BREAKER_HALF_OPEN:
        return "half-open";
    }
    return "?";
}
