/* timers: one-shot timers for the coordinator's loop, in a binary min-heap.
 *
 * Every task on a peer carries a timer (its attempt may not outlast the attempt timeout
 * or its deadline), and every answer waiting for an absent client carries one (it is kept
 * until its deadline). Timers are intrusive: the owner embeds a coord_timer, zeroed before
 * first use, and the heap records each timer's index so it can be cancelled in O(log n)
 * without a search. The loop sleeps until coord_timers_next() and collects what is due
 * with coord_timers_pop_due(). Not thread-safe: it belongs to the coordinator's loop.
 */
#ifndef P2C2R_COORD_TIMERS_H
#define P2C2R_COORD_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct coord_timer {
    uint64_t when_us; /* when it fires, coordinator clock */
    size_t pos;       /* index in the heap + 1; 0 when not armed (maintained by the heap) */
} coord_timer;

typedef struct coord_timers coord_timers;

coord_timers *coord_timers_new(void);
/* Frees the heap, not the timers. Accepts NULL; sets *timers to NULL. */
void coord_timers_destroy(coord_timers **timers);

/* Arm timer to fire at when_us (re-arming an armed timer moves it). P2C2R_E_NOMEM when the
 * heap cannot grow; the timer is then not armed. */
int coord_timers_arm(coord_timers *timers, coord_timer *timer, uint64_t when_us);
/* Disarm timer; nothing happens if it is not armed. */
void coord_timers_cancel(coord_timers *timers, coord_timer *timer);
/* Whether timer is armed. */
bool coord_timers_armed(const coord_timer *timer);
/* Remove and return the earliest timer due at now_us, or NULL. */
coord_timer *coord_timers_pop_due(coord_timers *timers, uint64_t now_us);
/* When the earliest timer fires, or UINT64_MAX when none is armed. */
uint64_t coord_timers_next(const coord_timers *timers);
size_t coord_timers_size(const coord_timers *timers);

#endif /* P2C2R_COORD_TIMERS_H */
