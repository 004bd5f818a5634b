/* tasks: see tasks.h. */
#include "coordinator/tasks.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/task.h"
#include "coordinator/queue.h"

/* A task has not run on a peer when its deadline is this close: not worth a retry. */
#define REQUEUE_MIN_LEFT_US 1000u

typedef struct coord_task {
    coord_qitem qitem;                           /* queue position while queued */
    uint64_t id;                                 /* coordinator's id, used with peers */
    uint64_t client_task_id;                     /* the client's id for the same task */
    uint8_t client_route[P2C2R_ROUTE_MAX_BYTES]; /* client's routing id */
    size_t client_route_len;                     /* bytes in client_route */
    int kind;                                    /* common/task.h kind index */
    p2c2r_envelope *env;                         /* the SUBMIT, owned; re-sent as ASSIGN */
    zmq_msg_t payload;                           /* the SUBMIT's payload, owned */
    bool has_payload;                            /* whether payload holds a frame */
    uint64_t submitted_us;                       /* arrival, coordinator clock */
    uint64_t assigned_us;                        /* last assignment to a peer */
    coord_peer *peer;                            /* peer running it; NULL while queued */
    struct coord_task *prev, *next;              /* in the peer's in-flight list */
} coord_task;

struct coord_tasks {
    coord_tasks_config config; /* limits */
    coord_clients *clients;    /* where answers go */
    coord_link *link;          /* where ASSIGNs go */
    coord_peers *peers;        /* who can run what */
    coord_queue *queue;        /* tasks waiting for a peer */
    zhashx_t *inflight;        /* &task->id -> task, for tasks on a peer */
    uint64_t next_id;          /* last task id handed out */
    uint64_t next_seq;         /* arrival counter for the queue order */
    uint64_t admitted;         /* tasks admitted */
    uint64_t ended;            /* tasks ended towards their client */
};

#define TASK_OF(item) ((coord_task *)((char *)(item)-offsetof(coord_task, qitem)))

static void task_free(coord_task **task)
{
    if (!*task)
        return;
    p2c2r__envelope_free(&(*task)->env);
    zmq_msg_close(&(*task)->payload);
    free(*task);
    *task = NULL;
}

/* The one way a task ends: answer its client, count it, free it. The task must be in
 * neither the queue nor a peer's in-flight set. status P2C2R_OK sends result (the peer's
 * RESULT envelope) and payload; any other status sends an ERROR with detail, and
 * result/payload may be NULL. */
static void task_end(coord_tasks *tasks, coord_task *task, int status, const char *detail,
                     const p2c2r_envelope *result, zmq_msg_t *payload)
{
    P2c2r__Wire__Timing timing = P2C2R__WIRE__TIMING__INIT;
    if (result && result->timing)
        timing = *result->timing;
    uint64_t now = p2c2r__now_us();
    timing.queue_us = (task->assigned_us ? task->assigned_us : now) - task->submitted_us;

    p2c2r_envelope out;
    p2c2r__envelope_init(&out, status == P2C2R_OK ? P2C2R__WIRE__MSG_TYPE__RESULT
                                                  : P2C2R__WIRE__MSG_TYPE__ERROR);
    out.task_id = task->client_task_id;
    out.status = status;
    out.detail = (char *)(detail ? detail : "");
    out.timing = &timing;
    if (status == P2C2R_OK) {
        out.kind = task->env->kind;
        out.frame = result ? result->frame : NULL;
    } else {
        log_debug("task %" PRIu64 " ends: %s (%s)", task->id, p2c2r_errname(status), out.detail);
        payload = NULL;
    }
    int rc = coord_clients_send(tasks->clients, task->client_route, task->client_route_len, &out,
                                payload);
    if (rc != P2C2R_OK)
        log_info("answer for task %" PRIu64 " not delivered, client gone: %s", task->id,
                 p2c2r_strerror(rc));
    tasks->ended++;
    task_free(&task);
}

static void peer_list_remove(coord_task *task)
{
    coord_peer *peer = task->peer;
    if (task->prev)
        task->prev->next = task->next;
    else
        peer->tasks = task->next;
    if (task->next)
        task->next->prev = task->prev;
    task->prev = task->next = NULL;
    task->peer = NULL;
    peer->inflight--;
}

static void peer_list_add(coord_task *task, coord_peer *peer)
{
    task->peer = peer;
    task->prev = NULL;
    task->next = peer->tasks;
    if (peer->tasks)
        peer->tasks->prev = task;
    peer->tasks = task;
}

void coord_tasks_peer_lost(coord_tasks *tasks, coord_peer *peer, const char *why)
{
    if (peer->inflight)
        log_warn("peer %s gone (%s) with %u task(s) in flight", peer->name, why, peer->inflight);
    else
        log_info("peer %s gone (%s)", peer->name, why);
    uint64_t now = p2c2r__now_us();
    while (peer->tasks) {
        coord_task *task = peer->tasks;
        peer_list_remove(task);
        zhashx_delete(tasks->inflight, &task->id);
        if (task->qitem.deadline_us > now + REQUEUE_MIN_LEFT_US &&
            coord_queue_push(tasks->queue, &task->qitem) == P2C2R_OK)
            continue;
        task_end(tasks, task, P2C2R_E_PEERLOST, "peer lost while running the task", NULL, NULL);
    }
}

/* Send a task to a peer. On failure the task is untouched (still owned by the caller). */
static int assign(coord_tasks *tasks, coord_task *task, coord_peer *peer, uint64_t now)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ASSIGN);
    env.task_id = task->id;
    env.kind = task->env->kind;
    env.priority = task->env->priority;
    env.deadline_us = task->qitem.deadline_us - now;
    env.frame = task->env->frame;
    env.upscale = task->env->upscale;
    return coord_link_assign(tasks->link, peer, &env, task->has_payload ? &task->payload : NULL);
}

void coord_tasks_dispatch(coord_tasks *tasks)
{
    coord_qitem *item;
    while ((item = coord_queue_peek(tasks->queue))) {
        coord_task *task = TASK_OF(item);
        uint64_t now = p2c2r__now_us();
        if (item->deadline_us <= now) {
            coord_queue_pop(tasks->queue);
            task_end(tasks, task, P2C2R_E_DEADLINE, "deadline passed while queued", NULL, NULL);
            continue;
        }
        coord_peer *peer = coord_peers_pick(tasks->peers, task->kind);
        if (!peer)
            return; /* the head waits for a slot; strict order keeps priorities honest */
        int rc = assign(tasks, task, peer, now);
        if (rc == P2C2R_E_UNKNOWNPEER) {
            coord_tasks_peer_lost(tasks, peer, "unroutable");
            coord_peers_remove(tasks->peers, &peer);
            continue;
        }
        if (rc != P2C2R_OK) {
            /* The peer's pipe is full or memory ran out: try again on the next event. */
            log_warn("assign to %s failed: %s", peer->name, p2c2r_strerror(rc));
            return;
        }
        coord_queue_pop(tasks->queue);
        task->assigned_us = now;
        peer_list_add(task, peer);
        coord_peers_assigned(tasks->peers, peer);
        if (zhashx_insert(tasks->inflight, &task->id, task) != 0) {
            peer_list_remove(task);
            task_end(tasks, task, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL);
        }
    }
}

void coord_tasks_admit(coord_tasks *tasks, p2c2r_envelope_msg *msg)
{
    p2c2r_envelope *env = msg->env;
    if (coord_queue_size(tasks->queue) >= tasks->config.max_queue) {
        coord_clients_send_error(tasks->clients, msg->route, msg->route_len, env->task_id,
                                 P2C2R_E_BUSY, "coordinator queue is full", NULL);
        return;
    }
    coord_task *task = calloc(1, sizeof *task);
    if (!task) {
        coord_clients_send_error(tasks->clients, msg->route, msg->route_len, env->task_id,
                                 P2C2R_E_NOMEM, "coordinator out of memory", NULL);
        return;
    }
    uint64_t now = p2c2r__now_us();
    task->id = ++tasks->next_id;
    task->client_task_id = env->task_id;
    memcpy(task->client_route, msg->route, msg->route_len);
    task->client_route_len = msg->route_len;
    task->kind = p2c2r__task_kind_lookup(env->kind);
    task->submitted_us = now;
    task->qitem.priority = env->priority;
    task->qitem.deadline_us = now + env->deadline_us;
    task->qitem.seq = ++tasks->next_seq;
    zmq_msg_init(&task->payload);
    if (msg->has_payload)
        zmq_msg_move(&task->payload, &msg->payload);
    task->has_payload = msg->has_payload;
    task->env = env;
    msg->env = NULL;
    if (coord_queue_push(tasks->queue, &task->qitem) != P2C2R_OK) {
        task_end(tasks, task, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL);
        return;
    }
    tasks->admitted++;
    log_debug("task %" PRIu64 " queued (%s, client id %" PRIu64 ")", task->id, task->env->kind,
              task->client_task_id);
}

void coord_tasks_on_answer(coord_tasks *tasks, coord_peer *peer, p2c2r_envelope_msg *msg)
{
    const p2c2r_envelope *in = msg->env;
    coord_task *task = zhashx_lookup(tasks->inflight, &in->task_id);
    if (!task || task->peer != peer) {
        /* Already requeued elsewhere or ended: the task has had its one answer. */
        log_debug("late answer for task %" PRIu64 " from %s dropped", in->task_id, peer->name);
        return;
    }
    zhashx_delete(tasks->inflight, &task->id);
    peer_list_remove(task);
    bool ok = in->type == P2C2R__WIRE__MSG_TYPE__RESULT;
    if (ok)
        peer->done++;
    else
        peer->failed++;
    task_end(tasks, task, ok ? P2C2R_OK : in->status, in->detail, in,
             ok && msg->has_payload ? &msg->payload : NULL);
}

void coord_tasks_expire(coord_tasks *tasks, uint64_t now_us)
{
    coord_qitem *item;
    while ((item = coord_queue_pop_expired(tasks->queue, now_us)))
        task_end(tasks, TASK_OF(item), P2C2R_E_DEADLINE, "deadline passed while queued", NULL,
                 NULL);
}

uint64_t coord_tasks_next_wakeup(const coord_tasks *tasks)
{
    return coord_queue_next_deadline(tasks->queue);
}

void coord_tasks_drain(coord_tasks *tasks, int status, const char *detail)
{
    coord_qitem *item;
    while ((item = coord_queue_pop(tasks->queue)))
        task_end(tasks, TASK_OF(item), status, detail, NULL, NULL);
    for (coord_task *t = zhashx_first(tasks->inflight); t; t = zhashx_first(tasks->inflight)) {
        zhashx_delete(tasks->inflight, &t->id);
        peer_list_remove(t);
        task_end(tasks, t, status, detail, NULL, NULL);
    }
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
    tasks->inflight = p2c2r__idmap_new();
    if (!tasks->queue || !tasks->inflight) {
        coord_tasks_destroy(&tasks);
        return NULL;
    }
    return tasks;
}

void coord_tasks_destroy(coord_tasks **tasks)
{
    if (!tasks || !*tasks)
        return;
    coord_tasks *t = *tasks;
    if (t->queue && t->inflight) {
        coord_tasks_drain(t, P2C2R_E_IO, "coordinator shutting down");
        log_info("%" PRIu64 " task(s) admitted, %" PRIu64 " answered", t->admitted, t->ended);
    }
    zhashx_destroy(&t->inflight);
    coord_queue_destroy(&t->queue);
    free(t);
    *tasks = NULL;
}
