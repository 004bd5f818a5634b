/* admission: whether a task can still finish by its deadline, judged as it arrives.
 *
 * Under overload the worst thing a coordinator can do is accept everything and start each
 * task with too little time left: peers then compute frames that are thrown away as late,
 * and nothing finishes in time. This module keeps the estimated work (estimate.h) queued
 * at each priority and running on peers, and judges a newcomer by when it would start —
 * after the work queued at its priority or above and about half of the running work,
 * spread over the slots that can run it — plus its own service time. A task that cannot
 * make it is answered at once, which also tells the client early enough to act.
 *
 * The figures are estimates, so the judgement is only as good as they are; tasks with no
 * estimate yet, and kinds no peer can run yet, are admitted. Not thread-safe.
 */
#ifndef P2C2R_COORD_ADMISSION_H
#define P2C2R_COORD_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct coord_admission coord_admission;

/* NULL when out of memory. */
coord_admission *coord_admission_new(void);
/* Accepts NULL; sets *adm to NULL. */
void coord_admission_destroy(coord_admission **adm);

/* A task with this estimated service time joined (work_us > 0) or left (work_us < 0) the
 * queue at this priority. */
void coord_admission_queued(coord_admission *adm, uint32_t priority, int64_t work_us);
/* A task with this estimated service time started (> 0) or stopped (< 0) running. */
void coord_admission_running(coord_admission *adm, int64_t work_us);

/* Whether a task of this priority that takes need_us (0: unknown) can finish by
 * deadline_us when capacity tasks of its kind run at once (0: no peer yet). If not,
 * writes why into why. */
bool coord_admission_check(const coord_admission *adm, uint32_t priority, uint64_t need_us,
                           uint32_t capacity, uint64_t now_us, uint64_t deadline_us, char *why,
                           size_t why_size);

#endif /* P2C2R_COORD_ADMISSION_H */
