/* task: one task's record and the table of them, shared by tasks.c (admission, the one
 * way a task ends, time, the table's life) and attempts.c (runs on peers: dispatch,
 * answers, peers coming and going). Private to those two files.
 *
 * A task is in exactly one of three places: the queue (QUEUED), a peer's list of running
 * tasks plus the map of attempt ids (RUNNING), or its client's list of answers waiting for
 * it to come back (PARKED). Moving between them goes through the few functions below that
 * detach and attach, so the counts the peers and clients keep cannot drift.
 */
#ifndef P2C2R_COORD_TASK_H
#define P2C2R_COORD_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "coordinator/admission.h"
#include "coordinator/cache.h"
#include "coordinator/estimate.h"
#include "coordinator/params.h"
#include "coordinator/queue.h"
#include "coordinator/recheck.h"
#include "coordinator/tasks.h"
#include "coordinator/timers.h"
#include "coordinator/verify.h"

/* Queue levels: a client's priority p is level p + 1 (saturating), so that level 0, below
 * every client's task, is the rechecks' (recheck.h). */
#define TASK_RECHECK_LEVEL 0u

/* A running task whose deadline passed is ended this long after it, so that a result
 * already on its way back is not thrown away for a few microseconds. */
#define DEADLINE_SLACK_US 5000u

typedef enum task_state { TASK_QUEUED, TASK_RUNNING, TASK_PARKED, TASK_DONE } task_state;

/* A task's identity as its client sees it: one task per key at a time. */
typedef struct task_key {
    uintptr_t client; /* its client's record (which outlives the client's tasks, and for a
                         client with a session follows it across reconnects) */
    uint64_t id;      /* the client's task id */
} task_key;

/* The answer a task ended with. It lives on the stack while it is sent; only an answer
 * whose client is away is copied to the heap (with its detail after it) and parked, so
 * that a queued task carries no room for an answer it does not have yet. */
typedef struct task_answer {
    int status;                 /* P2C2R_OK or the error */
    const char *detail;         /* the error's explanation ("" for results) */
    bool has_frame;             /* frame is set (results) */
    P2c2r__Wire__Frame frame;   /* what the payload is */
    P2c2r__Wire__Timing timing; /* where the time went */
    zmq_msg_t payload;          /* the result's bytes (a reference to the peer's frame) */
    bool has_payload;           /* payload holds a frame */
    char kept_detail[];         /* parked: the copy detail points at */
} task_answer;

typedef struct coord_task {
    coord_qitem qitem;              /* queue position while QUEUED */
    coord_timer timer;              /* RUNNING: attempt timeout; PARKED: how long to wait */
    task_state state;               /* where the task is */
    task_key key;                   /* the client's identity for it */
    bool keyed;                     /* in tasks->by_key */
    coord_client *client;           /* who asked */
    int kind;                       /* common/task.h kind index */
    int mode;                       /* upscale mode 1..4, else 0 */
    int runtime;                    /* p2c2r_runtime it needs */
    uint64_t memory_bytes;          /* memory it needs on its peer (0: not stated) */
    uint64_t plan_hash;             /* the filter table it needs (0: none), for affinity */
    coord_params params;            /* what the SUBMIT asked for, sent on as ASSIGN */
    zmq_msg_t payload;              /* the SUBMIT's payload, owned until the task ends */
    size_t payload_size;            /* its bytes, counted against the client's budget */
    bool has_payload;               /* the SUBMIT had a payload frame (sent on with ASSIGN) */
    bool cacheable;                 /* its result may be kept in and answered from the cache */
    coord_input input;              /* what the coordinator knows of the input */
    uint64_t cls;                   /* estimate class */
    uint64_t work_us;               /* estimated service time counted while running */
    uint64_t submitted_us;          /* arrival, coordinator clock */
    uint64_t together;              /* its SUBMIT batch's group, whose ASSIGNs share a
                                       message (COORD_LINK_ANY: none) */
    uint64_t assigned_us;           /* start of the current (or last) attempt */
    uint64_t attempt_id;            /* RUNNING: wire id of the current attempt */
    uint32_t attempts;              /* attempts started */
    uint64_t *tried;                /* serials of peers that failed it (TASK_MAX_TRIED,
                                       allocated at the first failure), or NULL */
    uint32_t ntried;                /* entries in tried */
    int input_error;                /* an input error one peer reported, unconfirmed; 0 if none */
    uint64_t input_error_peer;      /* serial of that peer */
    coord_peer *peer;               /* RUNNING: its peer */
    struct coord_task *prev, *next; /* RUNNING: in peer->tasks; PARKED: in client->parked */
    task_answer *answer;            /* PARKED: what the client gets, owned; else NULL */
    coord_recheck_job *check;       /* a recheck (recheck.h), owned: its answers so far. Such
                                       a task is a client's task run again for no client: it
                                       holds no bytes of the client's budget, is not in
                                       by_key, and its end reaches no client */
} coord_task;

struct coord_tasks {
    coord_tasks_config config;  /* limits */
    coord_clients *clients;     /* where answers go */
    coord_link *link;           /* where ASSIGNs go */
    coord_peers *peers;         /* who can run what */
    coord_verify *verify;       /* input inspection and result checks */
    coord_estimates *estimates; /* learnt service times */
    coord_timers *timers;       /* attempt and parking timers */
    coord_queue *queue;         /* tasks waiting for a peer */
    zhashx_t *running;          /* &task->attempt_id -> task, RUNNING tasks */
    zhashx_t *by_key;           /* &task->key -> task */
    coord_cache *cache;         /* results kept to answer the same task again */
    coord_admission *admission; /* estimated work queued and running, for admission */
    coord_recheck *recheck;     /* which results are checked again, and the verdicts */
    uint64_t next_attempt;      /* last attempt id handed out */
    uint64_t next_seq;          /* arrival counter for the queue order */
    uint64_t next_group;        /* last SUBMIT batch group handed out */
    coord_task *spare;          /* freed records kept for new tasks (task_new()), linked by
                                   next */
    uint32_t nspare;            /* how many */
    coord_tasks_stats stats;    /* counters */
};

#define TASK_OF_QITEM(item) ((coord_task *)((char *)(item)-offsetof(coord_task, qitem)))
#define TASK_OF_TIMER(t)    ((coord_task *)((char *)(t)-offsetof(coord_task, timer)))

/* ---- tasks.c ------------------------------------------------------------------------- */

/* A zeroed task record; NULL when out of memory. Freed with the task's end. */
coord_task *coord_task_new(coord_tasks *tasks);

/* End a task that is in no queue, on no peer and parked nowhere: record its answer (a
 * result when status is P2C2R_OK, with frame, the peer's timing and payload taken by
 * reference; an error with detail otherwise), release its input and deliver the answer. */
void coord_task_end(coord_tasks *tasks, coord_task *task, int status, const char *detail,
                    const P2c2r__Wire__Frame *frame, const P2c2r__Wire__Timing *timing,
                    const zmq_msg_t *payload);
/* Queue a task that is nowhere (new, or back from a failed attempt). */
int coord_task_queue(coord_tasks *tasks, coord_task *task);
/* Take a RUNNING task off its peer: out of the attempt map, the peer's list and its slot
 * count, its timer stopped. Returns the peer. */
coord_peer *coord_task_detach_running(coord_tasks *tasks, coord_task *task);
/* Make a task that is nowhere RUNNING on peer (the attempt map is the caller's). */
void coord_task_attach_running(coord_tasks *tasks, coord_task *task, coord_peer *peer);
/* The learnt service time of an estimate class, 0 when none. */
uint64_t coord_task_estimate(const coord_tasks *tasks, uint64_t cls);
/* Keep a checked result of a cacheable task in the cache. */
void coord_task_cache_result(coord_tasks *tasks, coord_task *task, const P2c2r__Wire__Frame *frame,
                             const zmq_msg_t *output);

/* ---- attempts.c ---------------------------------------------------------------------- */

/* A RUNNING task's attempt timer fired at now: the peer is charged when it had time
 * enough, and the task goes elsewhere or ends. */
void coord_attempt_timed_out(coord_tasks *tasks, coord_task *task, uint64_t now);
/* Peer answered task, a client's task, with a checked result: perhaps check it again
 * (recheck.h) by queueing a copy of it. Before the task ends (its input is still there). */
void coord_attempt_maybe_recheck(coord_tasks *tasks, const coord_task *task, coord_peer *peer,
                                 const P2c2r__Wire__Frame *frame, const zmq_msg_t *output);

#endif /* P2C2R_COORD_TASK_H */
