/* io: the SDK's I/O thread, the one owner of every job between submit() and its result.
 *
 * It owns the DEALER to the coordinator, the table of unfinished jobs and the local
 * fallback, and it alone ends jobs, so that each ends exactly once whichever of the
 * cluster, the fallback and the clock gets there first. For each job it decides:
 *   - where it runs: the cluster, or (fallback on) the local fallback when the coordinator
 *     is unreachable, when the cluster's learnt latency would miss the deadline, when the
 *     cluster answers with an error, or when the deadline comes close with no answer (at the
 *     deadline less the predicted local run and the fallback's backlog, but never before
 *     half the budget is spent);
 *   - when it ends: the first result delivered wins; a cluster answer for a job that
 *     already ended (late, or beaten by the fallback) is counted and dropped, and a local
 *     result for a job the cluster answered first is dropped;
 *   - what it learns: every cluster answer's latency (late ones included) and every local
 *     run's time, per class (learn.h); with adaptive quality, every frame's latency
 *     (adapt.h).
 * Surviving the coordinator as before: heartbeats while jobs are in flight, a restarted
 * coordinator (new instance) or a reconnect makes unfinished jobs go again, and a
 * coordinator silent for a second, or disconnected, is unreachable.
 *
 * If the thread's network side fails, every job it held ends with P2C2R_E_IO, new submits
 * are refused with P2C2R_E_IO, and the thread goes on only to hand back what the local
 * fallback finishes.
 */
#ifndef P2C2R_CLIENT_IO_H
#define P2C2R_CLIENT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/adapt.h"
#include "client/job.h"
#include "client/learn.h"
#include "client/results.h"
#include "common/curve.h"

typedef struct sdk_io_config {
    const char *endpoint;         /* the coordinator's clients endpoint */
    uint32_t grace_ms;            /* a job with no answer is ended this long after its deadline */
    uint32_t local_threads;       /* fallback threads; 0: no fallback */
    uint64_t session;             /* our sender id */
    sdk_results *results;         /* where results go (borrowed) */
    sdk_learn *learn;             /* learnt latencies (borrowed) */
    sdk_adapt *adapt;             /* adaptive quality (borrowed), or NULL */
    p2c2r_curve_key curve_public; /* CurveZMQ: our public key ("" for plain TCP) */
    p2c2r_curve_key curve_secret; /* our secret key */
    p2c2r_curve_key coordinator_key; /* the coordinator's public key */
} sdk_io_config;

typedef struct sdk_io sdk_io;

/* Start the fallback's threads and the I/O thread, and wait until the I/O thread has its
 * sockets. NULL with *err set when anything fails (P2C2R_E_INVAL for a malformed endpoint). */
sdk_io *sdk_io_new(const sdk_io_config *config, int *err);
/* Stop the threads; jobs not ended are freed without a result. Accepts NULL; sets *io to
 * NULL. */
void sdk_io_destroy(sdk_io **io);

/* Hand n new jobs (n >= 1) to the I/O thread, together: jobs that travel alike go in one
 * SUBMIT batch. P2C2R_E_IO, no job taken, once the thread has failed. */
int sdk_io_submit(sdk_io *io, sdk_job **jobs, size_t n);
/* Ask the I/O thread to end task_id with P2C2R_E_CANCELLED if it has not ended, and to
 * tell the coordinator. */
void sdk_io_cancel(sdk_io *io, uint64_t task_id);

/* Tests: make the I/O thread fail as if its network had. */
void sdk_io_inject_failure(sdk_io *io);

#endif /* P2C2R_CLIENT_IO_H */
