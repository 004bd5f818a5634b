/* admission: whether a task can still finish by its deadline, judged as it arrives.
 *
 * Under overload the worst thing a coordinator can do is accept everything and start each
 * task with too little time left: peers then compute frames that are thrown away as late,
 * and nothing finishes in time. A newcomer is judged by when it would start — after the
 * estimated work (estimate.h) queued ahead of it in its class (queue.h says how much:
 * higher priorities, and its share of turns at its own), plus about half of the work now
 * running on that class's peers, spread over the slots they may hold — plus its own
 * service time. A task that cannot make it is answered at once, which also tells the
 * client early enough to act. This module keeps the running work per class and makes
 * that judgement.
 *
 * The figures are estimates, so the judgement is only as good as they are; tasks with no
 * estimate yet, and classes no peer can run yet, are admitted. Not thread-safe.
 */
#ifndef P2C2R_COORD_ADMISSION_H
#define P2C2R_COORD_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/queue.h"

typedef struct coord_admission coord_admission;

/* NULL when out of memory. */
coord_admission *coord_admission_new(void);
/* Accepts NULL; sets *adm to NULL. */
void coord_admission_destroy(coord_admission **adm);

/* A task of class cls with this estimated service time started (> 0) or stopped (< 0)
 * running. */
void coord_admission_running(coord_admission *adm, uint32_t cls, int64_t work_us);

/* Whether a task of class cls that takes need_us (0: unknown) can finish by deadline_us
 * after queued_ahead_us of queued work, when capacity tasks of its class run at once (0:
 * no peer yet). If not, writes why into why. */
bool coord_admission_check(const coord_admission *adm, uint32_t cls, uint64_t need_us,
                           uint64_t queued_ahead_us, uint64_t capacity, uint64_t now_us,
                           uint64_t deadline_us, char *why, size_t why_size);

#endif /* P2C2R_COORD_ADMISSION_H */
