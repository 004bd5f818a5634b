/* worker: one thread per slot that runs tasks through the kind table.
 *
 * Each worker is a CZMQ actor: it initialises the state of every kind (codec handles and
 * the like, kept for its whole life), signals ready, then takes jobs from its pipe one at
 * a time. A job travels as a pointer (same process, ownership moves with it); the answer
 * comes back on the pipe as ready-to-send frames [Envelope][payload], so the peer's main
 * loop only relays them to the coordinator, without decoding or copying.
 */
#ifndef P2C2R_PEER_WORKER_H
#define P2C2R_PEER_WORKER_H

#include <czmq.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/envelope.h"
#include "peer/resources.h"

typedef struct peer_job {
    p2c2r_envelope *env;          /* the ASSIGN, owned by the job */
    zmq_msg_t payload;            /* its payload, owned by the job */
    int kind;                     /* index into peer_kinds */
    uint64_t received_us;         /* when the peer got it (peer clock) */
    uint64_t deadline_us;         /* absolute deadline (peer clock) */
    const atomic_bool *cancelled; /* raised by the peer when the coordinator cancels it; may
                                     be NULL */
} peer_job;

/* Start the worker thread of slot `slot`, which shares res (which must outlive it) with
 * the other workers; returns once it is ready, or NULL. */
zactor_t *peer_worker_new(const peer_resources *res, uint32_t slot);

/* Hand a job to an idle worker. Takes ownership: *job is NULL afterwards, also on failure
 * (when the job is freed). Returns P2C2R_OK or P2C2R_E_IO. */
int peer_worker_send(zactor_t *worker, peer_job **job);

/* What a job's run produced, ready to send: [Envelope][payload]. */
typedef struct peer_answer {
    p2c2r_envelope env;         /* RESULT or ERROR; points into the fields below */
    P2c2r__Wire__Timing timing; /* where the time went */
    P2c2r__Wire__Frame frame;   /* describes the output (RESULT) */
    zmq_msg_t payload;          /* the output (RESULT), owned */
} peer_answer;

/* Run a job with its kind's state (ready: that state was initialised) and fill *a. A job
 * whose cancelled flag is up before it starts is not run; one raised while it ran turns
 * its result into an ERROR. The job keeps its envelope; an echoed payload is moved out of
 * it. */
void peer_worker_answer(void *state, bool ready, peer_job *job, peer_answer *a);

/* Send an answer on sock (a worker's pipe, or the coordinator's DEALER for a kind that runs
 * inline) with flags, and release its payload. Errors as p2c2r__envelope_send(). */
int peer_answer_send(void *sock, int flags, peer_answer *a);

/* Free a job that was not handed to a worker. Accepts NULL; sets *job to NULL. */
void peer_worker_job_free(peer_job **job);

#endif /* P2C2R_PEER_WORKER_H */
