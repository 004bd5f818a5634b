/* adapt: adaptive quality, the mode a frame is upscaled in chosen from how long recent
 * frames took against the game's frame budget.
 *
 * Levels are the modes from cheapest to dearest: fast, bicubic, lanczos, quality. A frame
 * runs at min(the level, the mode the game asked for). The policy watches the latency of
 * every frame delivered (submit to result, wherever it was computed) that ran at the
 * current level:
 *   - down one level when, over at least 4 such frames, the second slowest of the last 8
 *     took 80% of the budget or more (one outlier does not move it, a trend does);
 *   - up one level after a run of frames at the current level all within 50% of the
 *     budget. The run needed is 30 frames, doubled for each time the level above was left
 *     for being too slow (up to 960 frames), so a level that cannot keep up is retried
 *     less and less often instead of every half second; the doubling wears off by one step
 *     for every 600 frames held at the upper level.
 * The gap between 50% and 80% is the hysteresis: a frame time between the two moves
 * nothing.
 *
 * The I/O thread observes; submit() on any thread reads the level (one atomic load).
 */
#ifndef P2C2R_CLIENT_ADAPT_H
#define P2C2R_CLIENT_ADAPT_H

#include <stdint.h>

#include "p2c2r.h"

typedef struct sdk_adapt sdk_adapt;

/* A policy for this budget (> 0), starting at the best level. NULL when out of memory. */
sdk_adapt *sdk_adapt_new(uint32_t budget_ms);
/* Accepts NULL; sets *adapt to NULL. */
void sdk_adapt_destroy(sdk_adapt **adapt);

/* The mode to run a frame in when the game asks for `wanted`. Thread-safe. */
p2c2r_mode sdk_adapt_mode(const sdk_adapt *adapt, p2c2r_mode wanted);
/* A frame run in mode `used` was delivered total_us after its submit. One thread only. */
void sdk_adapt_observe(sdk_adapt *adapt, p2c2r_mode used, uint64_t total_us);
/* The current level and the steps taken so far. Thread-safe. */
void sdk_adapt_counts(const sdk_adapt *adapt, p2c2r_mode *level, uint64_t *down, uint64_t *up);

#endif /* P2C2R_CLIENT_ADAPT_H */
