/* peerlink: see peerlink.h. */
#include "coordinator/peerlink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/task.h"

struct coord_link {
    void *sock;               /* peers ROUTER (raw libzmq handle), not owned */
    coord_peers *peers;       /* the registry, not owned */
    uint64_t peer_timeout_us; /* a peer silent this long is lost */
};

coord_link *coord_link_new(void *sock, coord_peers *peers, uint32_t peer_timeout_ms)
{
    coord_link *link = calloc(1, sizeof *link);
    if (!link)
        return NULL;
    link->sock = sock;
    link->peers = peers;
    link->peer_timeout_us = (uint64_t)peer_timeout_ms * 1000u;
    return link;
}

void coord_link_destroy(coord_link **link)
{
    if (!link || !*link)
        return;
    free(*link);
    *link = NULL;
}

static void send_error(coord_link *link, const p2c2r_envelope_msg *to, uint64_t task_id, int status,
                       const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    int rc = p2c2r__envelope_send(link->sock, to->route, to->route_len, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_debug("error reply to a peer not delivered: %s", p2c2r_strerror(rc));
}

static void on_hello(coord_link *link, p2c2r_envelope_msg *msg, coord_peer *peer)
{
    const P2c2r__Wire__PeerInfo *info = msg->env->peer;
    if (!info || info->slots == 0 || info->slots > 4096) {
        send_error(link, msg, 0, P2C2R_E_INVAL, "PEER_HELLO needs peer info with 1..4096 slots");
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
        peer = coord_peers_add(link->peers, msg->route, msg->route_len);
        if (!peer) {
            send_error(link, msg, 0, P2C2R_E_NOMEM, "coordinator out of memory");
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

int coord_link_recv(coord_link *link, p2c2r_envelope_msg *msg, coord_peer **peer_out)
{
    *peer_out = NULL;
    int rc = p2c2r__envelope_recv(link->sock, true, ZMQ_DONTWAIT, msg);
    if (rc != P2C2R_OK) {
        if (rc != P2C2R_E_TIMEOUT)
            log_warn("malformed message from a peer: %s", p2c2r_strerror(rc));
        if (msg->route_len > 0)
            send_error(link, msg, 0, rc, "malformed message");
        return rc;
    }
    coord_peer *peer = coord_peers_find(link->peers, msg->route, msg->route_len);
    if (peer)
        peer->last_seen_us = p2c2r__now_us();
    switch (msg->env->type) {
    case P2C2R__WIRE__MSG_TYPE__PEER_HELLO:
        on_hello(link, msg, peer);
        return P2C2R_E_TIMEOUT;
    case P2C2R__WIRE__MSG_TYPE__HEARTBEAT:
    case P2C2R__WIRE__MSG_TYPE__RESULT:
    case P2C2R__WIRE__MSG_TYPE__ERROR:
    case P2C2R__WIRE__MSG_TYPE__PEER_BYE:
        if (!peer) {
            send_error(link, msg, msg->env->task_id, P2C2R_E_UNKNOWNPEER, "say PEER_HELLO first");
            return P2C2R_E_UNKNOWNPEER;
        }
        if (msg->env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT) {
            p2c2r_envelope beat;
            p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
            p2c2r__envelope_send(link->sock, peer->route, peer->route_len, &beat, NULL,
                                 ZMQ_DONTWAIT);
            return P2C2R_E_TIMEOUT;
        }
        *peer_out = peer;
        return P2C2R_OK;
    default:
        send_error(link, msg, msg->env->task_id, P2C2R_E_PROTOCOL,
                   "unexpected message type from a peer");
        return P2C2R_E_PROTOCOL;
    }
}

int coord_link_assign(coord_link *link, coord_peer *peer, const p2c2r_envelope *env,
                      const zmq_msg_t *payload)
{
    zmq_msg_t copy;
    zmq_msg_init(&copy);
    if (payload && zmq_msg_copy(&copy, (zmq_msg_t *)payload) != 0)
        return P2C2R_E_NOMEM;
    int rc = p2c2r__envelope_send(link->sock, peer->route, peer->route_len, env,
                                  payload ? &copy : NULL, ZMQ_DONTWAIT);
    zmq_msg_close(&copy);
    return rc;
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
