/* peerlink: see peerlink.h. */
#include "coordinator/peerlink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/task.h"

/* Peers a dispatch pass fills ASSIGN batches for at once. Selection spreads the tasks of a
 * pass over the peers (it draws them at random), so with one batch at a time the batch
 * left whenever the next task went elsewhere: with 4 peers a SUBMIT batch of 32 became
 * some 24 ASSIGNs, each peer answering each one, instead of 4. */
#define LINK_OUTBOXES 16

/* ASSIGNs for one peer that takes batches, not yet sent. */
typedef struct link_outbox {
    p2c2r_batch *batch;                 /* allocated at first use */
    coord_peer *peer;                   /* whose (NULL: the outbox is free) */
    uint64_t together;                  /* the group of all its ASSIGNs (COORD_LINK_ANY: none) */
    P2c2r__Wire__UpscaleParams upscale; /* the batch's shared parameters, copied */
    P2c2r__Wire__SleepParams sleep;
    P2c2r__Wire__TaskNeeds needs;
} link_outbox;

struct coord_link {
    void *sock;                          /* peers ROUTER (raw libzmq handle), not owned */
    coord_peers *peers;                  /* the registry, not owned */
    uint64_t instance;                   /* the coordinator's incarnation */
    uint64_t peer_timeout_us;            /* a peer silent this long is lost */
    link_outbox outboxes[LINK_OUTBOXES]; /* batches being filled, one per peer */
    uint32_t last;                       /* the outbox used last: tasks come in runs */
};

coord_link *coord_link_new(void *sock, coord_peers *peers, uint64_t instance,
                           uint32_t peer_timeout_ms)
{
    coord_link *link = calloc(1, sizeof *link);
    if (!link)
        return NULL;
    link->sock = sock;
    link->peers = peers;
    link->instance = instance;
    link->peer_timeout_us = (uint64_t)peer_timeout_ms * 1000u;
    return link;
}

void coord_link_destroy(coord_link **link)
{
    if (!link || !*link)
        return;
    for (int i = 0; i < LINK_OUTBOXES; i++) {
        link_outbox *box = &(*link)->outboxes[i];
        if (box->peer)
            p2c2r__batch_clear(box->batch);
        free(box->batch);
    }
    free(*link);
    *link = NULL;
}

static void send_error(coord_link *link, const p2c2r_envelope_msg *to, uint64_t task_id, int status,
                       const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.instance = link->instance;
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    int rc = p2c2r__envelope_send(link->sock, to->route, to->route_len, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_debug("error reply to a peer not delivered: %s", p2c2r_strerror(rc));
}

/* Tell a registered peer which coordinator it talks to: the answer to its hello and to
 * each of its heartbeats. It carries the coordinator's clock, which the peer sends back
 * with its next heartbeat: the round trip, measured here. */
static void send_beat(coord_link *link, const coord_peer *peer)
{
    p2c2r_envelope beat;
    p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    beat.instance = link->instance;
    beat.echo_us = p2c2r__now_us();
    p2c2r__envelope_send(link->sock, peer->route, peer->route_len, &beat, NULL, ZMQ_DONTWAIT);
}

/* Register the sender of a PEER_HELLO (new, reconnected, or saying hello again). Returns
 * its record, or NULL when it was refused (and told why). */
static coord_peer *on_hello(coord_link *link, p2c2r_envelope_msg *msg, coord_peer *peer,
                            bool *reconnected)
{
    const P2c2r__Wire__PeerInfo *info = msg->env->peer;
    if (!info || info->slots == 0 || info->slots > COORD_PEER_MAX_SLOTS) {
        send_error(link, msg, 0, P2C2R_E_INVAL, "PEER_HELLO needs peer info with 1..256 slots");
        return NULL;
    }
    const char *how = "registered";
    if (!peer) {
        peer = coord_peers_find_sender(link->peers, msg->env->sender);
        /* A record is its key's: another key naming its sender id gets a record of its own. */
        if (peer && strcmp(peer->key, msg->user_id) != 0)
            peer = NULL;
        if (peer && coord_peers_rekey(link->peers, peer, msg->route, msg->route_len) == P2C2R_OK) {
            *reconnected = true;
            how = "reconnected";
        } else {
            peer = coord_peers_add(link->peers, msg->route, msg->route_len, msg->env->sender);
        }
        if (!peer) {
            send_error(link, msg, 0, P2C2R_E_NOMEM, "coordinator out of memory");
            return NULL;
        }
        snprintf(peer->key, sizeof peer->key, "%s", msg->user_id);
    }
    uint64_t now = p2c2r__now_us();
    peer->last_seen_us = now;
    peer->reads_columns = msg->env->reads_columns;
    if (coord_peers_set_info(link->peers, peer, info, now))
        log_limited(P2C2R_LOG_WARN, "peer %s offers task kinds this coordinator does not know",
                    peer->name);
    log_info("peer %s %s: %u slot(s), runtime %s%s%s, %u core(s) (%s), %zu kind(s), %zu "
             "mode(s), %zu task(s) running",
             peer->name, how, peer->slots, info->runtime, peer->ndevices ? " on " : "",
             peer->device, peer->cpu_cores, peer->simd[0] ? peer->simd : "?", info->n_kinds,
             info->n_modes, msg->env->load ? msg->env->load->n_running : (size_t)0);
    if (coord_peers_set_identity(link->peers, peer, msg->user_id))
        log_warn("peer %s (%s) is quarantined: registered, but given no task", peer->name,
                 peer->identity);
    send_beat(link, peer);
    return peer;
}

coord_link_event coord_link_recv(coord_link *link, p2c2r_envelope_msg *msg, coord_peer **peer_out,
                                 bool *reconnected)
{
    *peer_out = NULL;
    *reconnected = false;
    int rc = p2c2r__envelope_recv(link->sock, true, ZMQ_DONTWAIT, msg);
    if (rc == P2C2R_E_TIMEOUT)
        return COORD_LINK_EMPTY;
    if (rc != P2C2R_OK) {
        log_limited(P2C2R_LOG_WARN, "malformed message from a peer: %s", p2c2r_strerror(rc));
        if (msg->route_len > 0)
            send_error(link, msg, 0, rc, "malformed message");
        return COORD_LINK_NONE;
    }
    coord_peer *peer = coord_peers_find(link->peers, msg->route, msg->route_len);
    if (peer)
        peer->last_seen_us = p2c2r__now_us();
    switch (msg->env->type) {
    case P2C2R__WIRE__MSG_TYPE__PEER_HELLO:
        peer = on_hello(link, msg, peer, reconnected);
        *peer_out = peer;
        return peer ? COORD_LINK_LOAD : COORD_LINK_NONE;
    case P2C2R__WIRE__MSG_TYPE__HEARTBEAT:
    case P2C2R__WIRE__MSG_TYPE__RESULT:
    case P2C2R__WIRE__MSG_TYPE__ERROR:
    case P2C2R__WIRE__MSG_TYPE__PEER_BYE:
        if (!peer) {
            /* One line a second at most: a peer that does not listen repeats this at will. */
            log_limited(P2C2R_LOG_INFO, "%s from an unregistered peer: asked to say hello",
                        p2c2r__envelope_type_name(msg->env->type));
            send_error(link, msg, msg->env->task_id, P2C2R_E_UNKNOWNPEER, "say PEER_HELLO first");
            return COORD_LINK_NONE;
        }
        *peer_out = peer;
        if (msg->env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT) {
            uint64_t now = p2c2r__now_us();
            if (msg->env->echo_us && msg->env->echo_us <= now &&
                msg->env->held_us <= now - msg->env->echo_us)
                coord_peers_rtt_sample(peer, now - msg->env->echo_us - msg->env->held_us);
            /* A heartbeat carries PeerInfo when its resident tables changed. */
            const P2c2r__Wire__PeerInfo *info = msg->env->peer;
            if (info && info->slots >= 1 && info->slots <= COORD_PEER_MAX_SLOTS)
                coord_peers_set_info(link->peers, peer, info, now);
            send_beat(link, peer);
            return COORD_LINK_LOAD;
        }
        return msg->env->type == P2C2R__WIRE__MSG_TYPE__PEER_BYE ? COORD_LINK_BYE
                                                                 : COORD_LINK_ANSWER;
    default:
        send_error(link, msg, msg->env->task_id, P2C2R_E_PROTOCOL,
                   "unexpected message type from a peer");
        return COORD_LINK_NONE;
    }
}

/* Whether two ASSIGNs share what a batch's items share (see proto/p2c2r.proto). */
static bool same_shared(const p2c2r_envelope *a, const p2c2r_envelope *b)
{
    if (strcmp(a->kind, b->kind) != 0 || a->priority != b->priority)
        return false;
    if (!a->upscale != !b->upscale || !a->sleep != !b->sleep || !a->needs != !b->needs)
        return false;
    const P2c2r__Wire__UpscaleParams *u = a->upscale, *v = b->upscale;
    if (u && (u->scale != v->scale || u->mode != v->mode || u->output_codec != v->output_codec ||
              u->jpeg_quality != v->jpeg_quality || u->output_format != v->output_format))
        return false;
    if (a->sleep && a->sleep->ms != b->sleep->ms)
        return false;
    return !a->needs || (a->needs->runtime == b->needs->runtime &&
                         a->needs->memory_bytes == b->needs->memory_bytes);
}

/* Whether a task of together with size bytes of payload may join the outbox's batch: the
 * tasks of one SUBMIT batch stay together, and any tasks go together while small. */
static bool joins(const link_outbox *box, const p2c2r_envelope *env, uint64_t together, size_t size)
{
    const p2c2r_batch *b = box->batch;
    if (b->n == P2C2R_BATCH_MAX || !same_shared(&b->env, env))
        return false;
    return (together != COORD_LINK_ANY && together == box->together) ||
           b->bytes + size <= P2C2R_MERGE_MAX_BYTES;
}

/* The outbox holding peer's batch, or NULL. */
static link_outbox *outbox_of(coord_link *link, const coord_peer *peer)
{
    if (link->outboxes[link->last].peer == peer)
        return &link->outboxes[link->last];
    for (uint32_t i = 0; i < LINK_OUTBOXES; i++)
        if (link->outboxes[i].peer == peer) {
            link->last = i;
            return &link->outboxes[i];
        }
    return NULL;
}

/* A free outbox made peer's, with env's shared fields; NULL when none is free (or out of
 * memory). */
static link_outbox *outbox_open(coord_link *link, coord_peer *peer, const p2c2r_envelope *env,
                                uint64_t together)
{
    link_outbox *box = NULL;
    for (uint32_t i = 0; i < LINK_OUTBOXES && !box; i++)
        if (!link->outboxes[i].peer) {
            box = &link->outboxes[i];
            link->last = i;
        }
    if (!box || (!box->batch && !(box->batch = malloc(sizeof *box->batch))))
        return NULL;
    p2c2r_batch *b = box->batch;
    p2c2r__batch_init(b, P2C2R__WIRE__MSG_TYPE__ASSIGN);
    b->env.instance = env->instance;
    b->inline_ok = peer->inline_payloads;
    b->columns_ok = peer->reads_columns;
    b->env.kind = env->kind;
    b->env.priority = env->priority;
    if (env->upscale) {
        box->upscale = *env->upscale;
        b->env.upscale = &box->upscale;
    }
    if (env->sleep) {
        box->sleep = *env->sleep;
        b->env.sleep = &box->sleep;
    }
    if (env->needs) {
        box->needs = *env->needs;
        b->env.needs = &box->needs;
    }
    box->peer = peer;
    box->together = together;
    return box;
}

int coord_link_assign(coord_link *link, coord_peer *peer, p2c2r_envelope *env,
                      const zmq_msg_t *payload, uint64_t together)
{
    env->instance = link->instance;
    size_t size = payload ? zmq_msg_size((zmq_msg_t *)payload) : 0;
    link_outbox *box = NULL;
    if (peer->batches) {
        box = outbox_of(link, peer);
        if (box && !joins(box, env, together, size))
            return COORD_LINK_FLUSH_FIRST;
        if (!box && !(box = outbox_open(link, peer, env, together)))
            return COORD_LINK_FLUSH_FIRST; /* every outbox is taken (or out of memory) */
        if (together != box->together)
            box->together = COORD_LINK_ANY; /* a mix: none stays together now */
    }
    zmq_msg_t copy;
    zmq_msg_init(&copy);
    if (payload && zmq_msg_copy(&copy, (zmq_msg_t *)payload) != 0) {
        if (box && box->batch->n == 0)
            box->peer = NULL; /* opened for nothing */
        return P2C2R_E_NOMEM;
    }
    if (box) {
        p2c2r__batch_add(box->batch, env->task_id, env->deadline_us, 0, NULL, env->frame, NULL,
                         &copy);
        return P2C2R_OK;
    }
    int rc = p2c2r__envelope_send(link->sock, peer->route, peer->route_len, env,
                                  payload ? &copy : NULL, ZMQ_DONTWAIT);
    zmq_msg_close(&copy);
    return rc;
}

int coord_link_flush(coord_link *link, coord_peer **peer, uint64_t ids[P2C2R_BATCH_MAX], size_t *n)
{
    *peer = NULL;
    *n = 0;
    for (uint32_t i = 0; i < LINK_OUTBOXES; i++) {
        link_outbox *box = &link->outboxes[i];
        if (!box->peer)
            continue;
        p2c2r_batch *b = box->batch;
        *peer = box->peer;
        *n = b->n;
        for (size_t k = 0; k < b->n; k++)
            ids[k] = b->items[k].task_id;
        box->peer = NULL;
        return p2c2r__batch_send(b, link->sock, (*peer)->route, (*peer)->route_len, ZMQ_DONTWAIT);
    }
    return P2C2R_OK;
}

void coord_link_cancel(coord_link *link, coord_peer *peer, uint64_t attempt_id)
{
    if (!peer->batches)
        return;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__CANCEL);
    env.instance = link->instance;
    env.task_id = attempt_id;
    int rc =
        p2c2r__envelope_send(link->sock, peer->route, peer->route_len, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_debug("CANCEL to %s not sent: %s", peer->name, p2c2r_strerror(rc));
}

coord_peer *coord_link_silent(coord_link *link, uint64_t now_us)
{
    if (now_us <= link->peer_timeout_us)
        return NULL;
    return coord_peers_silent(link->peers, now_us - link->peer_timeout_us);
}

uint64_t coord_link_sweep_interval_us(const coord_link *link)
{
    return link->peer_timeout_us / 4u;
}
