/* tasks: see tasks.h.
 *
 * A task is in exactly one of three places: the queue (QUEUED), a peer's list of running
 * tasks plus the map of attempt ids (RUNNING), or its client's list of answers waiting for
 * it to come back (PARKED). Moving between them goes through the few functions below that
 * detach and attach, so the counts the peers and clients keep cannot drift.
 */
#include "coordinator/tasks.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/task.h"
#include "common/upscale/upscale.h"
#include "coordinator/admission.h"
#include "coordinator/estimate.h"
#include "coordinator/params.h"
#include "coordinator/queue.h"
#include "coordinator/timers.h"
#include "coordinator/verify.h"

/* A retry needs at least this much time left when there is no service estimate. */
#define REQUEUE_MIN_LEFT_US    1000u
/* A running task whose deadline passed is ended this long after it, so that a result
 * already on its way back is not thrown away for a few microseconds. */
#define DEADLINE_SLACK_US      5000u
/* An answer waits for an absent client until its deadline plus this: the SDK gives up on
 * a task at its deadline plus its grace (250 ms by default). */
#define PARK_GRACE_US          (250ull * 1000u)
/* Learnt attempt timeouts never go below this, whatever the estimates say: a peer busy
 * for a moment (other processes on its cores) is not a silent one, and a frame's own
 * deadline bounds the wait anyway. */
#define ATTEMPT_TIMEOUT_MIN_US (250ull * 1000u)
/* Peers that failed a task and are avoided when it is retried. */
#define TASK_MAX_TRIED         8
/* Load reports list at most this many running tasks (COORD_PEER_MAX_SLOTS). */
#define LOAD_MAX_RUNNING       COORD_PEER_MAX_SLOTS

typedef enum task_state { TASK_QUEUED, TASK_RUNNING, TASK_PARKED, TASK_DONE } task_state;

/* A task's identity as its client sees it: one task per key at a time. */
typedef struct task_key {
    uint64_t session; /* the client's Envelope.sender */
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
    bool keyed;                     /* in tasks->by_key (clients with a session) */
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
    coord_input input;              /* what the coordinator knows of the input */
    uint64_t cls;                   /* estimate class */
    uint64_t work_us;               /* estimated service time counted while running */
    uint64_t submitted_us;          /* arrival, coordinator clock */
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
    zhashx_t *by_key;           /* &task->key -> task, for clients with a session */
    coord_admission *admission; /* estimated work queued and running, for admission */
    uint64_t next_attempt;      /* last attempt id handed out */
    uint64_t next_seq;          /* arrival counter for the queue order */
    coord_tasks_stats stats;    /* counters */
};

#define TASK_OF_QITEM(item) ((coord_task *)((char *)(item)-offsetof(coord_task, qitem)))
#define TASK_OF_TIMER(t)    ((coord_task *)((char *)(t)-offsetof(coord_task, timer)))

static void deliver(coord_tasks *tasks, coord_task *task, task_answer *a);

/* ---- keys and bookkeeping ----------------------------------------------------------- */

static size_t key_hash(const void *key)
{
    const task_key *k = key;
    uint64_t x = k->session ^ (k->id * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33; /* murmur3's finaliser */
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static int key_compare(const void *a, const void *b)
{
    const task_key *x = a, *y = b;
    if (x->session != y->session)
        return x->session < y->session ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static uint64_t estimate_mean(const coord_tasks *tasks, uint64_t cls)
{
    uint64_t mean, dev;
    return coord_estimates_get(tasks->estimates, cls, &mean, &dev) ? mean : 0;
}

/* The queue class of a task: which peers can run it (kind, mode, runtime need). */
static uint32_t queue_class(const coord_task *task)
{
    return (uint32_t)((task->kind * COORD_SEL_MODES + task->mode) * 3 + task->runtime);
}

static int queue_task(coord_tasks *tasks, coord_task *task)
{
    task->qitem.cls = queue_class(task);
    task->qitem.owner = task->client;
    task->qitem.cost_us = estimate_mean(tasks, task->cls);
    int rc = coord_queue_push(tasks->queue, &task->qitem);
    if (rc == P2C2R_OK)
        task->state = TASK_QUEUED;
    return rc;
}

static void unqueue_task(coord_tasks *tasks, coord_task *task)
{
    coord_queue_remove(tasks->queue, &task->qitem);
}

/* Task lists (a peer's running tasks, a client's parked answers) are doubly linked through
 * prev/next, with the head in the peer or client record. */
static void list_push(coord_task **head, coord_task *task)
{
    task->prev = NULL;
    task->next = *head;
    if (*head)
        (*head)->prev = task;
    *head = task;
}

static void list_unlink(coord_task **head, coord_task *task)
{
    if (task->prev)
        task->prev->next = task->next;
    else
        *head = task->next;
    if (task->next)
        task->next->prev = task->prev;
    task->prev = task->next = NULL;
}

/* Take a RUNNING task off its peer: out of the attempt map, the peer's list and its slot
 * count, its timer stopped. Returns the peer. */
static coord_peer *detach_running(coord_tasks *tasks, coord_task *task)
{
    coord_peer *peer = task->peer;
    zhashx_delete(tasks->running, &task->attempt_id);
    coord_timers_cancel(tasks->timers, &task->timer);
    list_unlink(&peer->tasks, task);
    task->peer = NULL;
    coord_peers_released(tasks->peers, peer);
    coord_admission_running(tasks->admission, task->qitem.cls, -(int64_t)task->work_us);
    return peer;
}

static void attach_running(coord_tasks *tasks, coord_task *task, coord_peer *peer)
{
    task->state = TASK_RUNNING;
    task->peer = peer;
    list_push(&peer->tasks, task);
    coord_peers_assigned(tasks->peers, peer);
    task->work_us = estimate_mean(tasks, task->cls);
    coord_admission_running(tasks->admission, task->qitem.cls, (int64_t)task->work_us);
}

static void detach_parked(coord_tasks *tasks, coord_task *task)
{
    coord_client *client = task->client;
    coord_timers_cancel(tasks->timers, &task->timer);
    list_unlink(&client->parked, task);
    coord_clients_hold(tasks->clients, client, -(int64_t)zmq_msg_size(&task->answer->payload));
}

static void task_free(coord_tasks *tasks, coord_task *task)
{
    if (task->keyed)
        zhashx_delete(tasks->by_key, &task->key);
    task->client->tasks--;
    free(task->tried);
    zmq_msg_close(&task->payload);
    if (task->answer) {
        zmq_msg_close(&task->answer->payload);
        free(task->answer);
    }
    free(task);
}

/* ---- the one way a task ends -------------------------------------------------------- */

/* End a task that is in no queue, on no peer and parked nowhere: record its answer (a
 * result when status is P2C2R_OK, with frame, the peer's timing and payload taken by
 * reference; an error with detail otherwise), release its input and deliver the answer. */
static void task_end(coord_tasks *tasks, coord_task *task, int status, const char *detail,
                     const P2c2r__Wire__Frame *frame, const P2c2r__Wire__Timing *timing,
                     const zmq_msg_t *payload)
{
    task_answer answer = {.status = status, .detail = detail ? detail : ""};
    task_answer *a = &answer;
    zmq_msg_init(&a->payload);
    P2c2r__Wire__Timing empty = P2C2R__WIRE__TIMING__INIT;
    a->timing = timing ? *timing : empty;
    a->timing.base = empty.base; /* a bare copy: no unknown fields travel on */
    uint64_t now = p2c2r__now_us();
    a->timing.queue_us = (task->attempts ? task->assigned_us : now) - task->submitted_us;
    if (status == P2C2R_OK && frame) {
        P2c2r__Wire__Frame bare = P2C2R__WIRE__FRAME__INIT;
        a->has_frame = true;
        a->frame = bare;
        a->frame.codec = frame->codec;
        a->frame.pixel_format = frame->pixel_format;
        a->frame.width = frame->width;
        a->frame.height = frame->height;
    }
    if (status == P2C2R_OK && payload && zmq_msg_copy(&a->payload, (zmq_msg_t *)payload) == 0)
        a->has_payload = true;
    /* The input is not needed any more: no attempt will follow. */
    coord_clients_hold(tasks->clients, task->client, -(int64_t)task->payload_size);
    zmq_msg_close(&task->payload);
    zmq_msg_init(&task->payload);
    task->payload_size = 0;
    task->state = TASK_DONE;
    if (status == P2C2R_OK) {
        tasks->stats.ended_ok++;
    } else {
        tasks->stats.ended_err++;
        log_debug("task %" PRIu64 " ends: %s (%s)", task->key.id, p2c2r_errname(status), a->detail);
    }
    deliver(tasks, task, a);
}

/* Keep the answer for a client that is away: on the heap (once) and counted against the
 * client's budget until its deadline plus grace. False when it cannot be kept. */
static bool park(coord_tasks *tasks, coord_task *task, task_answer *a, uint64_t now)
{
    uint64_t keep_until = task->qitem.deadline_us + PARK_GRACE_US;
    size_t bytes = zmq_msg_size(&a->payload);
    const char *why;
    if (!task->client->session || now >= keep_until ||
        !coord_clients_budget(tasks->clients, task->client, bytes, &why))
        return false;
    if (a != task->answer) {
        size_t len = strlen(a->detail);
        task_answer *kept = malloc(sizeof *kept + len + 1);
        if (!kept)
            return false;
        *kept = *a;
        memcpy(kept->kept_detail, a->detail, len + 1);
        kept->detail = kept->kept_detail;
        zmq_msg_init(&kept->payload);
        zmq_msg_move(&kept->payload, &a->payload);
        task->answer = kept; /* freed with the task */
    }
    if (coord_timers_arm(tasks->timers, &task->timer, keep_until) != P2C2R_OK)
        return false;
    task->state = TASK_PARKED;
    list_push(&task->client->parked, task);
    coord_clients_hold(tasks->clients, task->client, (int64_t)bytes);
    return true;
}

/* Hand an ended task's answer a (on the caller's stack, or task->answer when it was
 * parked) to its client, park it while the client is away, or give up on it; frees the
 * task unless parked. */
static void deliver(coord_tasks *tasks, coord_task *task, task_answer *a)
{
    p2c2r_envelope out;
    p2c2r__envelope_init(&out, a->status == P2C2R_OK ? P2C2R__WIRE__MSG_TYPE__RESULT
                                                     : P2C2R__WIRE__MSG_TYPE__ERROR);
    out.task_id = task->key.id;
    out.status = a->status;
    out.detail = (char *)a->detail;
    out.timing = &a->timing;
    if (a->status == P2C2R_OK) {
        out.kind = (char *)p2c2r__task_kind_name(task->kind);
        out.frame = a->has_frame ? &a->frame : NULL;
    }
    int rc = coord_clients_answer(tasks->clients, task->client, &out,
                                  a->has_payload ? &a->payload : NULL);
    if (rc == P2C2R_E_TOOBIG) {
        /* The client is not reading: what it gets is a short error, not more megabytes. */
        p2c2r__envelope_init(&out, P2C2R__WIRE__MSG_TYPE__ERROR);
        out.task_id = task->key.id;
        out.status = P2C2R_E_BUSY;
        out.detail = "result dropped: this client's unread results exceed its budget";
        out.timing = &a->timing;
        rc = coord_clients_answer(tasks->clients, task->client, &out, NULL);
    }
    if (rc == P2C2R_E_UNKNOWNPEER && park(tasks, task, a, p2c2r__now_us()))
        return;
    if (a != task->answer)
        zmq_msg_close(&a->payload); /* task_free() closes a parked one */
    if (rc != P2C2R_OK) {
        tasks->stats.undelivered++;
        log_limited(P2C2R_LOG_INFO, "answer for task %" PRIu64 " not delivered: %s", task->key.id,
                    p2c2r_strerror(rc));
    }
    task_free(tasks, task);
}

void coord_tasks_client_back(coord_tasks *tasks, coord_client *client)
{
    while (client->parked) {
        coord_task *task = client->parked;
        detach_parked(tasks, task);
        deliver(tasks, task, task->answer);
        if (client->parked == task)
            break; /* parked again: the client is away once more */
    }
}

/* ---- attempts ----------------------------------------------------------------------- */

static void remember_tried(coord_task *task, uint64_t serial)
{
    for (uint32_t i = 0; i < task->ntried; i++)
        if (task->tried[i] == serial)
            return;
    if (!task->tried)
        task->tried = malloc(TASK_MAX_TRIED * sizeof *task->tried);
    /* Without memory the peer is not avoided on retry: a worse choice, never a wrong one. */
    if (task->tried && task->ntried < TASK_MAX_TRIED)
        task->tried[task->ntried++] = serial;
}

/* Whether a task still has time for another attempt. */
static bool time_for_another(const coord_tasks *tasks, const coord_task *task, uint64_t now)
{
    uint64_t need = estimate_mean(tasks, task->cls);
    if (need < REQUEUE_MIN_LEFT_US)
        need = REQUEUE_MIN_LEFT_US;
    return task->attempts < tasks->config.max_attempts && task->qitem.deadline_us > now + need;
}

/* A detached task's attempt failed on the peer with this serial: queue it again if its
 * deadline and attempts allow, else end it with status. */
static void retry_or_end(coord_tasks *tasks, coord_task *task, int status, const char *detail,
                         uint64_t serial)
{
    remember_tried(task, serial);
    if (time_for_another(tasks, task, p2c2r__now_us()) && queue_task(tasks, task) == P2C2R_OK) {
        tasks->stats.retries++;
        log_debug("task %" PRIu64 " queued again after attempt %u: %s", task->key.id,
                  task->attempts, detail);
        return;
    }
    char why[160];
    snprintf(why, sizeof why, "%s (after %u attempt%s)", detail, task->attempts,
             task->attempts == 1 ? "" : "s");
    task_end(tasks, task, status, why, NULL, NULL, NULL);
}

/* The peer failed the task: charge it, then retry or end. */
static void peer_fault(coord_tasks *tasks, coord_task *task, coord_peer *peer, int status,
                       const char *detail)
{
    coord_peers_failure(tasks->peers, peer, p2c2r__now_us(), detail);
    retry_or_end(tasks, task, status, detail, peer->serial);
}

static uint64_t attempt_timeout(const coord_tasks *tasks, const coord_task *task)
{
    uint64_t mean, dev, timeout = tasks->config.attempt_timeout_us;
    if (coord_estimates_get(tasks->estimates, task->cls, &mean, &dev)) {
        /* Well past what this class normally takes, as TCP's retransmission timer is. */
        uint64_t learnt = 4 * (mean + 4 * dev);
        if (learnt < ATTEMPT_TIMEOUT_MIN_US)
            learnt = ATTEMPT_TIMEOUT_MIN_US;
        if (learnt < timeout)
            timeout = learnt;
    }
    return timeout;
}

/* Send a task to a peer and make it RUNNING there. On failure the task is untouched. */
static int start_attempt(coord_tasks *tasks, coord_task *task, coord_peer *peer, uint64_t now)
{
    coord_params_view view;
    p2c2r_envelope *env = coord_params_view_of(&task->params, P2C2R__WIRE__MSG_TYPE__ASSIGN, &view);
    env->task_id = tasks->next_attempt + 1;
    env->deadline_us = task->qitem.deadline_us - now;
    int rc = coord_link_assign(tasks->link, peer, env, task->has_payload ? &task->payload : NULL);
    if (rc != P2C2R_OK)
        return rc;
    task->attempt_id = ++tasks->next_attempt;
    task->attempts++;
    task->assigned_us = now;
    attach_running(tasks, task, peer);
    uint64_t due = now + attempt_timeout(tasks, task);
    if (due > task->qitem.deadline_us + DEADLINE_SLACK_US)
        due = task->qitem.deadline_us + DEADLINE_SLACK_US;
    if (zhashx_insert(tasks->running, &task->attempt_id, task) != 0 ||
        coord_timers_arm(tasks->timers, &task->timer, due) != P2C2R_OK) {
        /* The ASSIGN is out: count its slot until the peer answers or reports it gone. */
        detach_running(tasks, task);
        coord_peers_zombie_add(tasks->peers, peer, task->attempt_id);
        task_end(tasks, task, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL, NULL);
    }
    return P2C2R_OK;
}

/* Whether a comes before b among tasks that could run now: priority, then deadline, then
 * arrival. */
static bool more_urgent(const coord_qitem *a, const coord_qitem *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    if (a->deadline_us != b->deadline_us)
        return a->deadline_us < b->deadline_us;
    return a->seq < b->seq;
}

/* The most urgent task whose class has a peer with room now, skipping blocked classes. */
static coord_qitem *next_to_run(coord_tasks *tasks, uint64_t *blocked)
{
    coord_qitem *best = NULL;
    uint64_t classes = coord_queue_classes(tasks->queue) & ~*blocked;
    while (classes) {
        uint32_t cls = (uint32_t)__builtin_ctzll(classes);
        classes &= classes - 1;
        coord_qitem *item = coord_queue_next(tasks->queue, cls);
        const coord_task *t = TASK_OF_QITEM(item);
        if (!coord_peers_available(tasks->peers, t->kind, t->mode, t->runtime)) {
            *blocked |= 1ull << cls;
            continue;
        }
        if (!best || more_urgent(item, best))
            best = item;
    }
    return best;
}

void coord_tasks_dispatch(coord_tasks *tasks)
{
    /* Classes whose next task cannot go now: they wait, the others go on (a task no free
     * peer can run never holds up one that a peer could run now). */
    uint64_t blocked = 0;
    coord_qitem *item;
    while ((item = next_to_run(tasks, &blocked))) {
        coord_task *task = TASK_OF_QITEM(item);
        uint64_t now = p2c2r__now_us();
        uint64_t need = estimate_mean(tasks, task->cls);
        if (item->deadline_us <= now + need) {
            unqueue_task(tasks, task);
            if (item->deadline_us > now) {
                tasks->stats.shed++;
                task_end(tasks, task, P2C2R_E_DEADLINE,
                         "not started: it would finish after its deadline", NULL, NULL, NULL);
            } else {
                task_end(tasks, task, P2C2R_E_DEADLINE, "deadline passed while queued", NULL, NULL,
                         NULL);
            }
            continue;
        }
        coord_select_task want = {
            .kind = task->kind,
            .mode = task->mode,
            .runtime = task->runtime,
            .memory_bytes = task->memory_bytes,
            .now_us = now,
            .deadline_us = item->deadline_us,
            .cls = task->cls,
            .cluster_mean_us = need,
            .plan_hash = task->plan_hash,
            .avoid = task->tried,
            .navoid = task->ntried,
        };
        coord_peer *peer = coord_peers_pick(tasks->peers, &want);
        if (!peer) {
            blocked |= 1ull << item->cls; /* it waits for a peer that fits */
            continue;
        }
        coord_queue_take(tasks->queue, item, need);
        int rc = start_attempt(tasks, task, peer, now);
        if (rc == P2C2R_OK)
            continue;
        queue_task(tasks, task); /* it was there a moment ago: room is there */
        if (rc == P2C2R_E_UNKNOWNPEER) {
            coord_tasks_peer_lost(tasks, peer, "unroutable");
            coord_peers_remove(tasks->peers, &peer);
            continue;
        }
        /* The peer's pipe is full or memory ran out: try again on the next event. */
        log_limited(P2C2R_LOG_WARN, "assign to %s failed: %s", peer->name, p2c2r_strerror(rc));
        return;
    }
}

/* ---- admission ---------------------------------------------------------------------- */

/* What the task asks of its peer: mode, runtime, memory, and the filter table it will use
 * (so that a peer holding it scores higher). */
static void describe_needs(coord_task *task, const p2c2r_envelope *env)
{
    if (task->kind == P2C2R_KIND_UPSCALE) {
        task->mode = env->upscale->mode ? (int)env->upscale->mode : P2C2R_MODE_FAST;
        char name[P2C2R_UPSCALE_NAME_MAX];
        p2c2r__upscale_plan_key(task->input.format, task->input.width, task->input.height,
                                env->upscale->scale, (p2c2r_mode)task->mode, name);
        task->plan_hash = name[0] ? coord_peers_table_hash(name) : 0;
    }
    if (env->needs) {
        task->runtime = (int)env->needs->runtime;
        task->memory_bytes = env->needs->memory_bytes;
    }
}

void coord_tasks_admit(coord_tasks *tasks, coord_client *client, p2c2r_envelope_msg *msg)
{
    p2c2r_envelope *env = msg->env;
    task_key key = {env->sender, env->task_id};
    if (key.session && zhashx_lookup(tasks->by_key, &key)) {
        /* Sent again after a reconnect: the task is already here and will answer once. */
        tasks->stats.duplicates++;
        return;
    }
    size_t size = msg->has_payload ? zmq_msg_size(&msg->payload) : 0;
    const char *detail;
    coord_input input;
    int rc = coord_verify_input(tasks->verify, env,
                                msg->has_payload ? zmq_msg_data(&msg->payload) : NULL, size, &input,
                                &detail);
    if (rc == P2C2R_OK && coord_queue_size(tasks->queue) >= tasks->config.max_queue) {
        rc = P2C2R_E_BUSY;
        detail = "coordinator queue is full (--max-queue)";
    }
    if (rc == P2C2R_OK && client->tasks >= tasks->config.max_client_tasks) {
        rc = P2C2R_E_BUSY;
        detail = "client has as many unfinished tasks as it may (--max-client-tasks)";
    }
    if (rc == P2C2R_OK && !coord_clients_budget(tasks->clients, client, size, &detail))
        rc = P2C2R_E_BUSY;
    coord_task *task = rc == P2C2R_OK ? calloc(1, sizeof *task) : NULL;
    if (rc == P2C2R_OK && !task) {
        rc = P2C2R_E_NOMEM;
        detail = "coordinator out of memory";
    }
    if (rc != P2C2R_OK) {
        coord_clients_send_error(tasks->clients, msg->route, msg->route_len, env->task_id, rc,
                                 detail);
        return;
    }
    uint64_t now = p2c2r__now_us();
    task->key = key;
    task->client = client;
    task->kind = input.kind;
    task->input = input;
    task->cls = coord_estimate_class(input.kind, env, input.size);
    describe_needs(task, env);
    task->submitted_us = now;
    task->qitem.priority = env->priority;
    task->qitem.deadline_us = now + env->deadline_us; /* bounded by task_validate() */
    task->qitem.seq = ++tasks->next_seq;
    zmq_msg_init(&task->payload);
    if (msg->has_payload)
        zmq_msg_move(&task->payload, &msg->payload);
    task->payload_size = size;
    task->has_payload = msg->has_payload;
    coord_params_keep(&task->params, input.kind, env);
    client->tasks++;
    coord_clients_hold(tasks->clients, client, (int64_t)size);
    tasks->stats.admitted++;
    if (key.session)
        task->keyed = zhashx_insert(tasks->by_key, &task->key, task) == 0;

    char why[200];
    uint32_t qcls = queue_class(task);
    uint64_t ahead = coord_queue_work_ahead(tasks->queue, qcls, task->qitem.priority, client);
    uint64_t capacity = coord_peers_capacity(tasks->peers, task->kind, task->mode, task->runtime);
    if (!coord_admission_check(tasks->admission, qcls, estimate_mean(tasks, task->cls), ahead,
                               capacity, now, task->qitem.deadline_us, why, sizeof why)) {
        tasks->stats.shed++;
        task_end(tasks, task, P2C2R_E_DEADLINE, why, NULL, NULL, NULL);
        return;
    }
    if (queue_task(tasks, task) != P2C2R_OK) {
        task_end(tasks, task, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL, NULL);
        return;
    }
    log_debug("task %" PRIu64 " queued (%s, client %016" PRIx64 ")", key.id, env->kind,
              key.session);
}

/* ---- answers from peers ------------------------------------------------------------- */

static bool known_status(int status)
{
    switch (status) {
#define P2C2R_XX_KNOWN(name, code, msg) case code:
        P2C2R_ERROR_MAP(P2C2R_XX_KNOWN)
#undef P2C2R_XX_KNOWN
        return true;
    }
    return false;
}

/* Errors about the input rather than the peer: final once a second peer agrees. */
static bool input_error(int status)
{
    return status == P2C2R_E_BADINPUT || status == P2C2R_E_UNSUPPORTED ||
           status == P2C2R_E_TOOBIG || status == P2C2R_E_INVAL;
}

static void on_input_error(coord_tasks *tasks, coord_task *task, coord_peer *peer, int status,
                           const char *detail)
{
    coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
    if (task->input_error && peer->serial != task->input_error_peer) {
        /* A second peer agrees: the input is at fault, and no peer is charged. */
        task_end(tasks, task, status, detail, NULL, NULL, NULL);
        return;
    }
    remember_tried(task, peer->serial);
    uint64_t now = p2c2r__now_us();
    if (time_for_another(tasks, task, now) &&
        coord_peers_other_capable(tasks->peers, task->kind, task->mode, task->runtime, task->tried,
                                  task->ntried) &&
        queue_task(tasks, task) == P2C2R_OK) {
        /* One peer's word is not enough: a broken or hostile peer could fail every task
         * this way. Another peer runs it; if that one succeeds, this one is charged. */
        task->input_error = status;
        task->input_error_peer = peer->serial;
        tasks->stats.retries++;
        return;
    }
    task_end(tasks, task, status, detail, NULL, NULL, NULL);
}

static void on_result(coord_tasks *tasks, coord_task *task, coord_peer *peer,
                      p2c2r_envelope_msg *msg, uint64_t now)
{
    const char *detail;
    const zmq_msg_t *out = &msg->payload;
    coord_params_view view;
    const p2c2r_envelope *asked =
        coord_params_view_of(&task->params, P2C2R__WIRE__MSG_TYPE__ASSIGN, &view);
    int rc = coord_verify_result(tasks->verify, asked, &task->input, zmq_msg_data(&task->payload),
                                 task->payload_size, msg->env, zmq_msg_data((zmq_msg_t *)out),
                                 zmq_msg_size((zmq_msg_t *)out), msg->has_payload, &detail);
    if (rc != P2C2R_OK) {
        tasks->stats.rejected++;
        char why[160];
        snprintf(why, sizeof why, "wrong result from peer %s: %s", peer->name, detail);
        log_limited(P2C2R_LOG_WARN, "%s", why);
        peer_fault(tasks, task, peer, rc, why);
        return;
    }
    coord_peers_success(tasks->peers, peer, task->cls, now - task->assigned_us, now);
    coord_estimates_add(tasks->estimates, task->cls, now - task->assigned_us);
    if (task->input_error) {
        coord_peer *liar = coord_peers_find_serial(tasks->peers, task->input_error_peer);
        if (liar)
            coord_peers_failure(tasks->peers, liar, now,
                                "refused as bad an input another peer ran");
    }
    task_end(tasks, task, P2C2R_OK, "", msg->env->frame, msg->env->timing,
             msg->has_payload ? out : NULL);
}

void coord_tasks_on_answer(coord_tasks *tasks, coord_peer *peer, p2c2r_envelope_msg *msg)
{
    const p2c2r_envelope *in = msg->env;
    if (in->instance != tasks->config.instance) {
        /* Meant for an earlier coordinator: its task id means nothing here. */
        log_limited(P2C2R_LOG_INFO, "answer from %s for another coordinator instance dropped",
                    peer->name);
        return;
    }
    coord_task *task = zhashx_lookup(tasks->running, &in->task_id);
    if (!task || task->peer != peer) {
        if (coord_peers_zombie_remove(tasks->peers, peer, in->task_id))
            log_debug("late answer from %s for attempt %" PRIu64 ": its slot is free again",
                      peer->name, in->task_id);
        else
            log_limited(P2C2R_LOG_INFO, "answer from %s for unknown attempt %" PRIu64 " dropped",
                        peer->name, in->task_id);
        return;
    }
    detach_running(tasks, task);
    uint64_t now = p2c2r__now_us();
    if (in->type == P2C2R__WIRE__MSG_TYPE__RESULT) {
        on_result(tasks, task, peer, msg, now);
        return;
    }
    char why[160];
    int status = in->status;
    if (status == P2C2R_OK || !known_status(status)) {
        snprintf(why, sizeof why, "peer %s sent an ERROR with status %d", peer->name, status);
        peer_fault(tasks, task, peer, P2C2R_E_PROTOCOL, why);
    } else if (input_error(status)) {
        on_input_error(tasks, task, peer, status, in->detail);
    } else if (status == P2C2R_E_DEADLINE && now + DEADLINE_SLACK_US >= task->qitem.deadline_us) {
        coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
        task_end(tasks, task, status, in->detail, NULL, NULL, NULL);
    } else {
        /* A deadline still ahead is not a reason: the peer gave up, as with any error. */
        snprintf(why, sizeof why, "peer %s: %s: %s", peer->name, p2c2r_errname(status), in->detail);
        peer_fault(tasks, task, peer, status, why);
    }
}

/* ---- peers coming and going --------------------------------------------------------- */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void coord_tasks_on_load(coord_tasks *tasks, coord_peer *peer, const p2c2r_envelope *env,
                         bool reconnected)
{
    const P2c2r__Wire__PeerLoad *load = env->load;
    if (!load)
        return;
    size_t n = load->n_running < LOAD_MAX_RUNNING ? load->n_running : LOAD_MAX_RUNNING;
    if (env->instance != tasks->config.instance) {
        /* Everything it runs belongs to another coordinator: busy slots all the same. */
        coord_peers_set_foreign(tasks->peers, peer, (uint64_t)n + load->foreign_busy,
                                p2c2r__now_us());
        return;
    }
    coord_peers_set_foreign(tasks->peers, peer, load->foreign_busy, p2c2r__now_us());
    uint64_t running[LOAD_MAX_RUNNING];
    if (n)
        memcpy(running, load->running, n * sizeof *running);
    qsort(running, n, sizeof *running, compare_u64);
    /* An attempt the peer has seen (id <= last_assigned) and does not run was answered —
     * answers travel ahead of this report on the same connection — or lost with a dead
     * connection. After a reconnect everything sent on the old connection is accounted
     * for. Either way it will not be answered: it goes elsewhere, the peer not charged. */
    coord_task *task = peer->tasks;
    while (task) {
        coord_task *next = task->next;
        if ((reconnected || task->attempt_id <= load->last_assigned) &&
            !bsearch(&task->attempt_id, running, n, sizeof *running, compare_u64)) {
            detach_running(tasks, task);
            coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
            char why[160];
            snprintf(why, sizeof why, "peer %s no longer holds the task", peer->name);
            retry_or_end(tasks, task, P2C2R_E_PEERLOST, why, peer->serial);
        }
        task = next;
    }
    coord_peers_zombies_reconcile(tasks->peers, peer, running, n, load->last_assigned, reconnected);
}

void coord_tasks_peer_lost(coord_tasks *tasks, coord_peer *peer, const char *why)
{
    if (peer->inflight)
        log_warn("peer %s gone (%s) with %u task(s) in flight", peer->name, why, peer->inflight);
    else
        log_info("peer %s gone (%s)", peer->name, why);
    char detail[160];
    snprintf(detail, sizeof detail, "peer %s lost (%s)", peer->name, why);
    while (peer->tasks) {
        coord_task *task = peer->tasks;
        detach_running(tasks, task);
        retry_or_end(tasks, task, P2C2R_E_PEERLOST, detail, peer->serial);
    }
}

/* ---- time --------------------------------------------------------------------------- */

static void on_timer(coord_tasks *tasks, coord_task *task, uint64_t now)
{
    if (task->state == TASK_PARKED) {
        detach_parked(tasks, task);
        tasks->stats.undelivered++;
        log_limited(P2C2R_LOG_INFO,
                    "answer for task %" PRIu64 " dropped: its client did not "
                    "come back before the deadline",
                    task->key.id);
        task_free(tasks, task);
        return;
    }
    coord_peer *peer = detach_running(tasks, task);
    /* The peer may still be running it: the slot stays taken until it says otherwise. */
    coord_peers_zombie_add(tasks->peers, peer, task->attempt_id);
    char why[160];
    if (now >= task->qitem.deadline_us) {
        /* Charged only when the task had clearly enough time for what it usually takes. */
        uint64_t mean = estimate_mean(tasks, task->cls);
        if (mean && task->qitem.deadline_us - task->assigned_us > 2 * mean)
            coord_peers_failure(tasks->peers, peer, now, "no answer by the deadline");
        else
            coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
        snprintf(why, sizeof why, "no answer from peer %s by the deadline", peer->name);
        task_end(tasks, task, P2C2R_E_DEADLINE, why, NULL, NULL, NULL);
        return;
    }
    snprintf(why, sizeof why, "peer %s did not answer within %" PRIu64 " ms", peer->name,
             (now - task->assigned_us) / 1000u);
    peer_fault(tasks, task, peer, P2C2R_E_DEADLINE, why);
}

void coord_tasks_expire(coord_tasks *tasks, uint64_t now_us)
{
    coord_qitem *item;
    while ((item = coord_queue_pop_expired(tasks->queue, now_us))) {
        task_end(tasks, TASK_OF_QITEM(item), P2C2R_E_DEADLINE, "deadline passed while queued", NULL,
                 NULL, NULL);
    }
    coord_timer *timer;
    while ((timer = coord_timers_pop_due(tasks->timers, now_us)))
        on_timer(tasks, TASK_OF_TIMER(timer), now_us);
}

uint64_t coord_tasks_next_wakeup(const coord_tasks *tasks)
{
    uint64_t queued = coord_queue_next_deadline(tasks->queue);
    uint64_t timer = coord_timers_next(tasks->timers);
    return queued < timer ? queued : timer;
}

/* ---- life of the table -------------------------------------------------------------- */

void coord_tasks_drain(coord_tasks *tasks, int status, const char *detail)
{
    coord_qitem *item;
    while ((item = coord_queue_pop_expired(tasks->queue, UINT64_MAX)))
        task_end(tasks, TASK_OF_QITEM(item), status, detail, NULL, NULL, NULL);
    coord_task *task;
    while ((task = zhashx_first(tasks->running))) {
        coord_peer *peer = detach_running(tasks, task);
        coord_peers_zombie_add(tasks->peers, peer, task->attempt_id);
        task_end(tasks, task, status, detail, NULL, NULL, NULL);
    }
    /* What is left is parked, waiting for clients that will not come back in time now. */
    coord_timer *timer;
    while ((timer = coord_timers_pop_due(tasks->timers, UINT64_MAX))) {
        task = TASK_OF_TIMER(timer);
        detach_parked(tasks, task);
        tasks->stats.undelivered++;
        task_free(tasks, task);
    }
}

void coord_tasks_stats_get(const coord_tasks *tasks, coord_tasks_stats *stats)
{
    *stats = tasks->stats;
}

coord_tasks *coord_tasks_new(const coord_tasks_config *config, coord_clients *clients,
                             coord_link *link, coord_peers *peers)
{
    coord_tasks *tasks = calloc(1, sizeof *tasks);
    if (!tasks)
        return NULL;
    tasks->config = *config;
    tasks->clients = clients;
    tasks->link = link;
    tasks->peers = peers;
    tasks->queue = coord_queue_new();
    tasks->running = p2c2r__idmap_new();
    tasks->by_key = zhashx_new();
    tasks->verify = coord_verify_new();
    tasks->estimates = coord_estimates_new();
    tasks->timers = coord_timers_new();
    tasks->admission = coord_admission_new();
    if (!tasks->queue || !tasks->running || !tasks->by_key || !tasks->verify || !tasks->estimates ||
        !tasks->timers || !tasks->admission) {
        coord_tasks_destroy(&tasks);
        return NULL;
    }
    zhashx_set_key_hasher(tasks->by_key, key_hash);
    zhashx_set_key_comparator(tasks->by_key, key_compare);
    zhashx_set_key_duplicator(tasks->by_key, NULL);
    zhashx_set_key_destructor(tasks->by_key, NULL);
    return tasks;
}

void coord_tasks_destroy(coord_tasks **tasks)
{
    if (!tasks || !*tasks)
        return;
    coord_tasks *t = *tasks;
    if (t->queue && t->running && t->by_key && t->timers) {
        coord_tasks_drain(t, P2C2R_E_IO, "coordinator shutting down");
        log_info("%" PRIu64 " task(s) admitted: %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
                 " retried attempt(s), %" PRIu64 " shed, %" PRIu64 " result(s) rejected, %" PRIu64
                 " resent SUBMIT(s) recognised",
                 t->stats.admitted, t->stats.ended_ok, t->stats.ended_err, t->stats.retries,
                 t->stats.shed, t->stats.rejected, t->stats.duplicates);
    }
    zhashx_destroy(&t->running);
    zhashx_destroy(&t->by_key);
    coord_queue_destroy(&t->queue);
    coord_verify_destroy(&t->verify);
    coord_estimates_destroy(&t->estimates);
    coord_timers_destroy(&t->timers);
    coord_admission_destroy(&t->admission);
    free(t);
    *tasks = NULL;
}
