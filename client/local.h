/* local: the local fallback, threads that upscale frames on this machine's CPU when the
 * cluster cannot deliver them in time.
 *
 * The I/O thread decides that a job goes local and pushes it here; a fallback thread takes
 * the queued job with the earliest deadline, runs the same pipeline as a CPU peer
 * (common/upscale/frame.h, filter tables kept in a cache like a peer's) and hands the job
 * back to the I/O thread with its result, which delivers it unless the cluster's answer
 * came first. A job that already ended by the time a thread takes it up is handed back
 * without running. Each thread runs one frame at a time on one core: the fallback must not
 * take the game's cores from it.
 */
#ifndef P2C2R_CLIENT_LOCAL_H
#define P2C2R_CLIENT_LOCAL_H

#include <stdint.h>

#include "client/job.h"

typedef struct sdk_local sdk_local;

/* Where finished (or skipped) jobs go: called on a fallback thread. */
typedef void sdk_local_done_fn(void *arg, sdk_job *job);

/* Start `threads` fallback threads (1..64). NULL with *err set when out of memory or when a
 * thread cannot start. */
sdk_local *sdk_local_new(uint32_t threads, sdk_local_done_fn *done, void *arg, int *err);
/* Stop the threads after the frames they are running; jobs still queued are handed back
 * unrun (local_result NULL). Accepts NULL; sets *local to NULL. */
void sdk_local_destroy(sdk_local **local);

/* Queue a job (an upscale; the caller keeps owning it and gets it back through done). */
void sdk_local_push(sdk_local *local, sdk_job *job);
/* Jobs queued or running, and the threads that run them. */
uint32_t sdk_local_backlog(sdk_local *local);
uint32_t sdk_local_threads(const sdk_local *local);

#endif /* P2C2R_CLIENT_LOCAL_H */
