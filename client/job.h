/* job: one submitted task as the SDK keeps it, from submit() to its one result.
 *
 * submit() fills in what the caller asked for and hands the job to the I/O thread, which
 * owns it from then on: it decides where the job runs (cluster, local fallback or both in
 * turn), ends it exactly once and frees it. The local fallback borrows a job while it runs
 * it and hands it back. The SUBMIT envelope is built from the job whenever it is sent, so
 * the deadline on the wire is always the time left at that moment.
 */
#ifndef P2C2R_CLIENT_JOB_H
#define P2C2R_CLIENT_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#include "client/buffers.h"
#include "client/learn.h"
#include "common/envelope.h"
#include "p2c2r.h"

/* Where a job stands, as the I/O thread sees it. */
typedef enum sdk_job_state {
    SDK_JOB_CLUSTER = 0, /* waiting for the cluster (sent, or waiting to be sent) */
    SDK_JOB_LOCAL = 1,   /* handed to the local fallback; an OK answer of the cluster that
                            comes before the local result still wins */
    SDK_JOB_ENDED = 2,   /* its result was delivered; kept only to learn from a late answer
                            or until the fallback hands it back */
} sdk_job_state;

/* Why a job went local, for the result's detail. */
typedef enum sdk_job_why {
    SDK_WHY_NONE = 0,
    SDK_WHY_UNREACHABLE, /* the coordinator is disconnected or silent */
    SDK_WHY_PREDICTED,   /* the cluster's learnt latency would miss the deadline */
    SDK_WHY_NO_ANSWER,   /* no answer by three times the cluster's p99, or with just the
                            time for a local run left */
    SDK_WHY_ERROR,       /* the cluster answered with an error (BUSY, DEADLINE, ...) */
} sdk_job_why;

/* Which of the job's messages the I/O thread's inbox carries. */
typedef enum sdk_job_op {
    SDK_OP_SUBMIT = 0,     /* a new job from submit() */
    SDK_OP_LOCAL_DONE = 1, /* the fallback hands the job back (local_result set or not) */
    SDK_OP_CANCEL = 2,     /* not a job: p2c2r_cancel() asks to end job `id` */
} sdk_job_op;

typedef struct sdk_job sdk_job;
struct sdk_job {
    /* set by submit() */
    uint64_t id;             /* the task id handed to the caller (hash key) */
    int kind;                /* P2C2R_KIND_* */
    p2c2r_upscale_desc desc; /* upscale: as asked, mode resolved, defaults filled in */
    uint32_t sleep_ms;       /* sleep: the time asked for */
    uint32_t flags;          /* P2C2R_TASK_* */
    bool batch_more;         /* the next job in the inbox came from the same
                                p2c2r_submit_batch(): send them together */
    uint64_t submitted_us;   /* when submit() ran */
    sdk_buf *buf;            /* the payload (one reference) */
    bool may_run_local;      /* an upscale, fallback on, not restricted to CUDA */
    /* owned by the I/O thread */
    sdk_class_key key;         /* its class, for learnt latencies */
    uint64_t deadline_us;      /* absolute deadline */
    uint32_t deadline_ms;      /* the same counted from submit, as delivered */
    bool learnt_deadline;      /* the deadline came from learning, not the caller */
    uint64_t expire_us;        /* deadline + grace: ended with DEADLINE, or forgotten */
    uint64_t fallback_us;      /* when it goes local with no answer (UINT64_MAX: never) */
    uint64_t fallback_late_us; /* the last moment for that, when the fallback is busy */
    sdk_job_state state;       /* see above */
    sdk_job_why why;           /* why it went local */
    bool sent;                 /* a SUBMIT for it is out (an answer may come) */
    bool answered;             /* the cluster answered it */
    bool cancelled;            /* ended by p2c2r_cancel() */
    zmq_msg_t payload;         /* buf wrapped for ZeroMQ, sent by reference */
    bool has_payload;          /* payload holds buf */
    /* shared with the local fallback */
    atomic_bool ended;          /* set by the I/O thread when it delivered a result */
    bool at_local;              /* the fallback holds it (I/O thread's view) */
    uint64_t local_start_us;    /* when the fallback took it up */
    p2c2r_result *local_result; /* the fallback's result, or NULL when it skipped the job */
    uint64_t local_run_us;      /* how long the local run took */
    /* links */
    sdk_job_op op; /* what the inbox carries it for */
    sdk_job *next; /* inbox or fallback queue */
};

/* A zeroed job with id and kind set; NULL when out of memory. */
sdk_job *sdk_job_new(uint64_t id, int kind);
/* Free a job and drop its payload. Accepts NULL; sets *job to NULL. */
void sdk_job_free(sdk_job **job);

/* The pieces of a SUBMIT envelope for one job, on the caller's stack. */
typedef struct sdk_job_wire {
    p2c2r_envelope env;             /* the envelope; points into the fields below */
    P2c2r__Wire__Frame frame;       /* upscale input */
    P2c2r__Wire__UpscaleParams up;  /* upscale parameters */
    P2c2r__Wire__TaskNeeds needs;   /* runtime and memory */
    P2c2r__Wire__SleepParams sleep; /* sleep parameters */
} sdk_job_wire;

/* Whether a and b travel in one SUBMIT batch: the same kind and parameters, all but the
 * payload, frame size and deadline. */
bool sdk_job_same_shape(const sdk_job *a, const sdk_job *b);

/* Fill w with the SUBMIT for job, with deadline_us as time left and sender as our id. */
void sdk_job_wire_fill(const sdk_job *job, uint64_t deadline_us, uint64_t sender, sdk_job_wire *w);

#endif /* P2C2R_CLIENT_JOB_H */
