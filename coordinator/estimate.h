/* estimate: how long a task takes on a peer, learnt from the tasks that came back.
 *
 * Overload control needs to know, before a task starts, whether it can finish by its
 * deadline. The time from ASSIGN to answer (the coordinator's own clock: peer work plus
 * the hops, which is what a deadline pays for) is recorded per task class (kind, mode,
 * scale, output codec and the input's size to within a factor of two) and smoothed the
 * way TCP smooths round-trip times: a mean and a mean deviation, each an exponentially
 * weighted average, so that one slow frame moves the figure but does not define it.
 * Classes nobody has run yet have no estimate, and nothing is refused on a guess.
 */
#ifndef P2C2R_COORD_ESTIMATE_H
#define P2C2R_COORD_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/envelope.h"

typedef struct coord_estimates coord_estimates;

coord_estimates *coord_estimates_new(void);
/* Accepts NULL; sets *est to NULL. */
void coord_estimates_destroy(coord_estimates **est);

/* The class of a task: its kind and parameters, and its input's size (pixels for images,
 * payload bytes otherwise). */
uint64_t coord_estimate_class(int kind, const p2c2r_envelope *env, uint64_t input_size);

/* Record one service time for a class. Out of memory only loses the sample. */
void coord_estimates_add(coord_estimates *est, uint64_t cls, uint64_t service_us);

/* The smoothed mean and mean deviation for a class; false when it has no sample yet. */
bool coord_estimates_get(coord_estimates *est, uint64_t cls, uint64_t *mean_us, uint64_t *dev_us);

#endif /* P2C2R_COORD_ESTIMATE_H */
