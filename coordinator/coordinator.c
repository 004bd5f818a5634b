/* coordinator: see coordinator.h.
 *
 * Payload frames are never copied: a SUBMIT's payload stays in the task as a zmq_msg_t and
 * each ASSIGN sends a zmq_msg_copy() of it, which shares the buffer by reference count. The
 * task keeps its own reference so it can be requeued if its peer is lost. Envelopes going
 * out are built on the stack and point into the received ones, so nothing is re-allocated
 * per hop either.
 */
#include "coordinator/coordinator.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/task.h"
#include "coordinator/peers.h"
#include "coordinator/queue.h"

/* A task has not run on a peer when its deadline is this close: not worth a retry. */
#define REQUEUE_MIN_LEFT_US 1000u
/* On shutdown, how long final errors may take to reach clients. */
#define SHUTDOWN_LINGER_MS  500

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

struct coordinator {
    coordinator_config config; /* settings, endpoints copied below */
    zsock_t *client_sock;      /* ROUTER for clients */
    zsock_t *peer_sock;        /* ROUTER for peers */
    void *clients;             /* raw libzmq handle of client_sock */
    void *peers_raw;           /* raw libzmq handle of peer_sock */
    coord_queue *queue;        /* tasks waiting for a peer */
    coord_peers *peers;        /* registered peers */
    zhashx_t *inflight;        /* &task->id -> task, for tasks on a peer */
    uint64_t next_id;          /* last task id handed out */
    uint64_t next_seq;         /* arrival counter for the queue order */
    uint64_t submitted;        /* tasks admitted */
    uint64_t answered;         /* tasks ended towards their client */
    char client_endpoint[256]; /* bound address for clients */
    char peer_endpoint[256];   /* bound address for peers */
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

/* Send an ERROR to a client (or peer) route; task_id in the receiver's numbering. */
static void send_error(void *sock, const void *route, size_t route_len, uint64_t task_id,
                       int status, const char *detail, const P2c2r__Wire__Timing *timing)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    env.timing = (P2c2r__Wire__Timing *)timing;
    int rc = p2c2r__envelope_send(sock, route, route_len, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_debug("error reply for task %" PRIu64 " not delivered: %s", task_id,
                  p2c2r_strerror(rc));
}

/* End a task towards its client with an error, and free it. The task must be in neither
 * the queue nor the in-flight map. */
static void task_fail(coordinator *c, coord_task *task, int status, const char *detail)
{
    P2c2r__Wire__Timing timing = P2C2R__WIRE__TIMING__INIT;
    uint64_t now = p2c2r__now_us();
    timing.queue_us = (task->assigned_us ? task->assigned_us : now) - task->submitted_us;
    log_debug("task %" PRIu64 " ends: %s (%s)", task->id, p2c2r_errname(status), detail);
    send_error(c->clients, task->client_route, task->client_route_len, task->client_task_id, status,
               detail, &timing);
    c->answered++;
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

/* Drop a peer: each of its tasks goes back to the queue if its deadline still allows,
 * otherwise it ends with P2C2R_E_PEERLOST. */
static void peer_lost(coordinator *c, coord_peer *peer, const char *why)
{
    if (peer->inflight)
        log_warn("peer %s gone (%s) with %u task(s) in flight", peer->name, why, peer->inflight);
    else
        log_info("peer %s gone (%s)", peer->name, why);
    uint64_t now = p2c2r__now_us();
    while (peer->tasks) {
        coord_task *task = peer->tasks;
        peer_list_remove(task);
        zhashx_delete(c->inflight, &task->id);
        if (task->qitem.deadline_us > now + REQUEUE_MIN_LEFT_US &&
            coord_queue_push(c->queue, &task->qitem) == P2C2R_OK)
            continue;
        task_fail(c, task, P2C2R_E_PEERLOST, "peer lost while running the task");
    }
    coord_peers_remove(c->peers, &peer);
}

/* Send a task to a peer. On failure the task is untouched (still owned by the caller). */
static int assign(coordinator *c, coord_task *task, coord_peer *peer, uint64_t now)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ASSIGN);
    env.task_id = task->id;
    env.kind = task->env->kind;
    env.priority = task->env->priority;
    env.deadline_us = task->qitem.deadline_us - now;
    env.frame = task->env->frame;
    env.upscale = task->env->upscale;

    zmq_msg_t copy;
    zmq_msg_init(&copy);
    if (task->has_payload && zmq_msg_copy(&copy, &task->payload) != 0)
        return P2C2R_E_NOMEM;
    int rc = p2c2r__envelope_send(c->peers_raw, peer->route, peer->route_len, &env,
                                  task->has_payload ? &copy : NULL, ZMQ_DONTWAIT);
    zmq_msg_close(&copy);
    return rc;
}

/* Hand queued tasks to peers while the head of the queue has a peer with a free slot. */
static void dispatch(coordinator *c)
{
    coord_qitem *item;
    while ((item = coord_queue_peek(c->queue))) {
        coord_task *task = TASK_OF(item);
        uint64_t now = p2c2r__now_us();
        if (item->deadline_us <= now) {
            coord_queue_pop(c->queue);
            task_fail(c, task, P2C2R_E_DEADLINE, "deadline passed while queued");
            continue;
        }
        coord_peer *peer = coord_peers_pick(c->peers, task->kind);
        if (!peer)
            return; /* the head waits for a slot; strict order keeps priorities honest */
        int rc = assign(c, task, peer, now);
        if (rc == P2C2R_E_UNKNOWNPEER) {
            peer_lost(c, peer, "unroutable");
            continue;
        }
        if (rc != P2C2R_OK) {
            /* The peer's pipe is full or memory ran out: try again on the next event. */
            log_warn("assign to %s failed: %s", peer->name, p2c2r_strerror(rc));
            return;
        }
        coord_queue_pop(c->queue);
        task->assigned_us = now;
        task->peer = peer;
        task->prev = NULL;
        task->next = peer->tasks;
        if (peer->tasks)
            peer->tasks->prev = task;
        peer->tasks = task;
        coord_peers_assigned(c->peers, peer);
        if (zhashx_insert(c->inflight, &task->id, task) != 0) {
            peer_list_remove(task);
            task_fail(c, task, P2C2R_E_NOMEM, "coordinator out of memory");
        }
    }
}

static void handle_submit(coordinator *c, p2c2r_envelope_msg *msg)
{
    p2c2r_envelope *env = msg->env;
    size_t size = msg->has_payload ? zmq_msg_size(&msg->payload) : 0;
    if (env->type != P2C2R__WIRE__MSG_TYPE__SUBMIT) {
        send_error(c->clients, msg->route, msg->route_len, env->task_id, P2C2R_E_PROTOCOL,
                   "clients may only send SUBMIT", NULL);
        return;
    }
    const char *detail;
    int rc = p2c2r__task_validate(env, size, &detail);
    if (rc != P2C2R_OK) {
        send_error(c->clients, msg->route, msg->route_len, env->task_id, rc, detail, NULL);
        return;
    }
    if (coord_queue_size(c->queue) >= c->config.max_queue) {
        send_error(c->clients, msg->route, msg->route_len, env->task_id, P2C2R_E_BUSY,
                   "coordinator queue is full", NULL);
        return;
    }
    coord_task *task = calloc(1, sizeof *task);
    if (!task) {
        send_error(c->clients, msg->route, msg->route_len, env->task_id, P2C2R_E_NOMEM,
                   "coordinator out of memory", NULL);
        return;
    }
    uint64_t now = p2c2r__now_us();
    task->id = ++c->next_id;
    task->client_task_id = env->task_id;
    memcpy(task->client_route, msg->route, msg->route_len);
    task->client_route_len = msg->route_len;
    task->kind = p2c2r__task_kind_lookup(env->kind);
    task->submitted_us = now;
    task->qitem.priority = env->priority;
    task->qitem.deadline_us = now + env->deadline_us;
    task->qitem.seq = ++c->next_seq;
    zmq_msg_init(&task->payload);
    if (msg->has_payload)
        zmq_msg_move(&task->payload, &msg->payload);
    task->has_payload = msg->has_payload;
    task->env = env;
    msg->env = NULL;
    if (coord_queue_push(c->queue, &task->qitem) != P2C2R_OK) {
        task_fail(c, task, P2C2R_E_NOMEM, "coordinator out of memory");
        return;
    }
    c->submitted++;
    log_debug("task %" PRIu64 " queued (%s, client id %" PRIu64 ")", task->id, env->kind,
              task->client_task_id);
}

static void on_client(coordinator *c)
{
    p2c2r_envelope_msg msg;
    int rc = p2c2r__envelope_recv(c->clients, true, ZMQ_DONTWAIT, &msg);
    if (rc == P2C2R_OK)
        handle_submit(c, &msg);
    else if (msg.route_len > 0)
        send_error(c->clients, msg.route, msg.route_len, 0, rc, "malformed request", NULL);
    p2c2r__envelope_msg_close(&msg);
}

static void on_hello(coordinator *c, p2c2r_envelope_msg *msg, coord_peer *peer)
{
    const P2c2r__Wire__PeerInfo *info = msg->env->peer;
    if (!info || info->slots == 0 || info->slots > 4096) {
        send_error(c->peers_raw, msg->route, msg->route_len, 0, P2C2R_E_INVAL,
                   "PEER_HELLO needs peer info with 1..4096 slots", NULL);
        return;
    }
    uint32_t kinds = 0;
    for (size_t i = 0; i < info->n_kinds; i++) {
        int kind = p2c2r__task_kind_lookup(info->kinds[i]);
        if (kind >= 0)
            kinds |= 1u << kind;
        else
            log_warn("peer %s offers unknown kind '%s'", info->name, info->kinds[i]);
    }
    if (!peer) {
        peer = coord_peers_add(c->peers, msg->route, msg->route_len);
        if (!peer) {
            send_error(c->peers_raw, msg->route, msg->route_len, 0, P2C2R_E_NOMEM,
                       "coordinator out of memory", NULL);
            return;
        }
    }
    snprintf(peer->name, sizeof peer->name, "%s", info->name[0] ? info->name : "unnamed");
    peer->kinds = kinds;
    peer->slots = info->slots;
    peer->last_seen_us = p2c2r__now_us();
    log_info("peer %s registered: %u slot(s), runtime %s, %zu kind(s)", peer->name, peer->slots,
             info->runtime, info->n_kinds);
}

static void on_peer_answer(coordinator *c, p2c2r_envelope_msg *msg, coord_peer *peer)
{
    const p2c2r_envelope *in = msg->env;
    coord_task *task = zhashx_lookup(c->inflight, &in->task_id);
    if (!task || task->peer != peer) {
        /* Already requeued elsewhere or ended: the task has had its one answer. */
        log_debug("late answer for task %" PRIu64 " from %s dropped", in->task_id, peer->name);
        return;
    }
    zhashx_delete(c->inflight, &task->id);
    peer_list_remove(task);
    bool ok = in->type == P2C2R__WIRE__MSG_TYPE__RESULT;
    if (ok)
        peer->done++;
    else
        peer->failed++;

    P2c2r__Wire__Timing timing = P2C2R__WIRE__TIMING__INIT;
    if (in->timing)
        timing = *in->timing;
    timing.queue_us = task->assigned_us - task->submitted_us;

    p2c2r_envelope out;
    p2c2r__envelope_init(&out, in->type);
    out.task_id = task->client_task_id;
    out.kind = task->env->kind;
    out.status = ok ? P2C2R_OK : in->status;
    out.detail = in->detail;
    out.frame = in->frame;
    out.timing = &timing;
    int rc = p2c2r__envelope_send(c->clients, task->client_route, task->client_route_len, &out,
                                  ok && msg->has_payload ? &msg->payload : NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_info("result of task %" PRIu64 " not delivered, client gone: %s", task->id,
                 p2c2r_strerror(rc));
    c->answered++;
    task_free(&task);
}

static void on_peer(coordinator *c)
{
    p2c2r_envelope_msg msg;
    int rc = p2c2r__envelope_recv(c->peers_raw, true, ZMQ_DONTWAIT, &msg);
    if (rc != P2C2R_OK) {
        if (rc != P2C2R_E_TIMEOUT)
            log_warn("malformed message from a peer: %s", p2c2r_strerror(rc));
        if (msg.route_len > 0)
            send_error(c->peers_raw, msg.route, msg.route_len, 0, rc, "malformed message", NULL);
        goto done;
    }
    coord_peer *peer = coord_peers_find(c->peers, msg.route, msg.route_len);
    if (peer)
        peer->last_seen_us = p2c2r__now_us();
    switch (msg.env->type) {
    case P2C2R__WIRE__MSG_TYPE__PEER_HELLO:
        on_hello(c, &msg, peer);
        break;
    case P2C2R__WIRE__MSG_TYPE__HEARTBEAT:
    case P2C2R__WIRE__MSG_TYPE__RESULT:
    case P2C2R__WIRE__MSG_TYPE__ERROR:
    case P2C2R__WIRE__MSG_TYPE__PEER_BYE:
        if (!peer) {
            send_error(c->peers_raw, msg.route, msg.route_len, msg.env->task_id,
                       P2C2R_E_UNKNOWNPEER, "say PEER_HELLO first", NULL);
            break;
        }
        if (msg.env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT) {
            p2c2r_envelope beat;
            p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
            p2c2r__envelope_send(c->peers_raw, peer->route, peer->route_len, &beat, NULL,
                                 ZMQ_DONTWAIT);
        } else if (msg.env->type == P2C2R__WIRE__MSG_TYPE__PEER_BYE) {
            peer_lost(c, peer, "said goodbye");
        } else {
            on_peer_answer(c, &msg, peer);
        }
        break;
    default:
        send_error(c->peers_raw, msg.route, msg.route_len, msg.env->task_id, P2C2R_E_PROTOCOL,
                   "unexpected message type from a peer", NULL);
    }
done:
    p2c2r__envelope_msg_close(&msg);
}

/* Expire queued tasks past their deadline and drop peers that went silent. */
static void sweep(coordinator *c, uint64_t now)
{
    coord_qitem *item;
    while ((item = coord_queue_pop_expired(c->queue, now)))
        task_fail(c, TASK_OF(item), P2C2R_E_DEADLINE, "deadline passed while queued");
    uint64_t timeout = (uint64_t)c->config.peer_timeout_ms * 1000u;
    coord_peer *peer;
    while (now > timeout && (peer = coord_peers_silent(c->peers, now - timeout)))
        peer_lost(c, peer, "heartbeat timeout");
}

/* End everything unfinished: the coordinator is going away. */
static void drain_all(coordinator *c)
{
    coord_qitem *item;
    while ((item = coord_queue_pop(c->queue)))
        task_fail(c, TASK_OF(item), P2C2R_E_IO, "coordinator shutting down");
    for (coord_task *t = zhashx_first(c->inflight); t; t = zhashx_first(c->inflight)) {
        zhashx_delete(c->inflight, &t->id);
        peer_list_remove(t);
        task_fail(c, t, P2C2R_E_IO, "coordinator shutting down");
    }
}

int coordinator_run(coordinator *c)
{
    zmq_pollitem_t items[2] = {
        {c->peers_raw, 0, ZMQ_POLLIN, 0}, /* peers first: results free slots */
        {c->clients, 0, ZMQ_POLLIN, 0},
    };
    uint64_t sweep_every = (uint64_t)c->config.peer_timeout_ms * 1000u / 4u;
    uint64_t next_sweep = p2c2r__now_us() + sweep_every;
    int rc = P2C2R_OK;
    while (!zsys_interrupted) {
        uint64_t now = p2c2r__now_us();
        uint64_t wake = next_sweep;
        uint64_t deadline = coord_queue_next_deadline(c->queue);
        if (deadline < wake)
            wake = deadline;
        long timeout_ms = wake > now ? (long)((wake - now + 999) / 1000) : 0;
        if (zmq_poll(items, 2, timeout_ms) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(errno));
            rc = P2C2R_E_IO;
            break;
        }
        /* Bounded batches keep one busy side from starving the other. */
        for (int i = 0; i < 64 && (items[0].revents & ZMQ_POLLIN); i++) {
            on_peer(c);
            if (!(zsock_events(c->peer_sock) & ZMQ_POLLIN))
                break;
        }
        for (int i = 0; i < 64 && (items[1].revents & ZMQ_POLLIN); i++) {
            on_client(c);
            if (!(zsock_events(c->client_sock) & ZMQ_POLLIN))
                break;
        }
        now = p2c2r__now_us();
        if (now >= next_sweep || coord_queue_next_deadline(c->queue) <= now) {
            sweep(c, now);
            if (now >= next_sweep)
                next_sweep = now + sweep_every;
        }
        dispatch(c);
    }
    log_info("shutting down: %" PRIu64 " task(s) admitted, %" PRIu64 " answered", c->submitted,
             c->answered);
    drain_all(c);
    return rc;
}

static int bind_socket(zsock_t *sock, const char *endpoint, char *bound, size_t bound_size)
{
    zsock_set_router_mandatory(sock, 1);
    zsock_set_maxmsgsize(sock, (int)(P2C2R_PAYLOAD_MAX_BYTES + P2C2R_ENVELOPE_MAX_BYTES));
    zsock_set_linger(sock, SHUTDOWN_LINGER_MS);
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        log_error("cannot bind %s: %s", endpoint, zmq_strerror(errno));
        return P2C2R_E_IO;
    }
    char *last = zsock_last_endpoint(sock);
    snprintf(bound, bound_size, "%s", last ? last : endpoint);
    free(last);
    return P2C2R_OK;
}

coordinator *coordinator_new(const coordinator_config *config, int *err)
{
    int rc = P2C2R_E_NOMEM;
    coordinator *c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    c->config = *config;
    c->queue = coord_queue_new();
    c->peers = coord_peers_new();
    c->inflight = p2c2r__idmap_new();
    c->client_sock = zsock_new(ZMQ_ROUTER);
    c->peer_sock = zsock_new(ZMQ_ROUTER);
    if (!c->queue || !c->peers || !c->inflight || !c->client_sock || !c->peer_sock)
        goto fail;
    rc = bind_socket(c->client_sock, config->client_endpoint, c->client_endpoint,
                     sizeof c->client_endpoint);
    if (rc != P2C2R_OK)
        goto fail;
    rc =
        bind_socket(c->peer_sock, config->peer_endpoint, c->peer_endpoint, sizeof c->peer_endpoint);
    if (rc != P2C2R_OK)
        goto fail;
    c->clients = zsock_resolve(c->client_sock);
    c->peers_raw = zsock_resolve(c->peer_sock);
    return c;
fail:
    coordinator_destroy(&c);
    if (err)
        *err = rc;
    return NULL;
}

void coordinator_destroy(coordinator **coord)
{
    if (!coord || !*coord)
        return;
    coordinator *c = *coord;
    if (c->queue && c->inflight)
        drain_all(c);
    zhashx_destroy(&c->inflight);
    coord_queue_destroy(&c->queue);
    coord_peers_destroy(&c->peers);
    zsock_destroy(&c->client_sock);
    zsock_destroy(&c->peer_sock);
    free(c);
    *coord = NULL;
}

const char *coordinator_client_endpoint(const coordinator *c)
{
    return c->client_endpoint;
}

const char *coordinator_peer_endpoint(const coordinator *c)
{
    return c->peer_endpoint;
}
