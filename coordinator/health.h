/* health: what the coordinator has learnt about one peer's reliability, and what it lets
 * the peer do because of it.
 *
 * Two mechanisms, both driven by the peer's answers rather than by its claims:
 * - Earned slots. A peer advertises slots, but a new peer is trusted with only
 *   HEALTH_INITIAL_TRUST of them; each good answer earns one more (so trust doubles per
 *   round of answers, as TCP's slow start does), up to what it advertised, and each
 *   failure halves it. A peer that claims 64 slots and never answers can swallow two
 *   tasks, not 64.
 * - A circuit breaker. HEALTH_TRIP_FAILURES failures in a row open it: the peer gets no
 *   task for a cooldown (HEALTH_COOLDOWN_MIN_US, doubling on every reopening up to
 *   HEALTH_COOLDOWN_MAX_US). Then it is half-open: one probe task may go; success closes
 *   the breaker, failure opens it again for longer. Transitions are logged, one line each.
 *
 * A health record is plain data inside the peer record; the functions below take the
 * peer's name only for their log lines. Not thread-safe (the coordinator's loop owns it).
 */
#ifndef P2C2R_COORD_HEALTH_H
#define P2C2R_COORD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#define HEALTH_INITIAL_TRUST   2u
#define HEALTH_TRIP_FAILURES   3u
#define HEALTH_COOLDOWN_MIN_US (500ull * 1000u)
#define HEALTH_COOLDOWN_MAX_US (30ull * 1000000u)

typedef enum coord_breaker {
    COORD_BREAKER_CLOSED = 0, /* serving normally */
    COORD_BREAKER_OPEN,       /* failing: no tasks until open_until_us */
    COORD_BREAKER_HALF_OPEN,  /* cooled down: one probe task decides */
} coord_breaker;

typedef struct coord_health {
    uint32_t trust;         /* slots earned so far, <= the advertised slots */
    coord_breaker breaker;  /* breaker state */
    uint32_t failures;      /* failures in a row */
    uint32_t opens;         /* times opened since it was last closed by a good probe */
    uint64_t open_until_us; /* OPEN: when it becomes HALF_OPEN */
    bool probing;           /* HALF_OPEN: the probe task is out */
    uint64_t good;          /* answers accepted, all time */
    uint64_t bad;           /* failures charged, all time */
} coord_health;

/* A new peer's record. */
void coord_health_init(coord_health *h);

/* How many tasks the peer may hold now, given its advertised slots: 0 while the breaker
 * is open, 1 (the probe) when it is half-open and no probe is out, else the earned slots.
 * Moves an OPEN breaker whose cooldown has passed to HALF_OPEN. */
uint32_t coord_health_allowance(coord_health *h, const char *peer_name, uint32_t slots,
                                uint64_t now_us);

/* A task was assigned to the peer (marks the probe as out when half-open). */
void coord_health_assigned(coord_health *h);

/* A task left the peer with no verdict on it (its deadline passed first, its client went
 * away): a half-open breaker may send its probe again. */
void coord_health_released(coord_health *h);

/* The peer answered well: earn a slot (up to slots), close a half-open breaker. */
void coord_health_success(coord_health *h, const char *peer_name, uint32_t slots);

/* The peer failed a task (error, wrong result, no answer): halve the earned slots and
 * open the breaker after HEALTH_TRIP_FAILURES in a row. why is logged on a transition. */
void coord_health_failure(coord_health *h, const char *peer_name, uint64_t now_us, const char *why);

/* Whether the breaker lets the peer take tasks at all (CLOSED or HALF_OPEN). */
bool coord_health_usable(const coord_health *h, uint64_t now_us);

/* "closed", "open" or "half-open". */
const char *coord_health_breaker_name(coord_breaker b);

#endif /* P2C2R_COORD_HEALTH_H */
