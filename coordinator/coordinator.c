/* coordinator: see coordinator.h.
 *
 * This file only routes: it owns the two sockets and the poll loop, and hands each message
 * to the module it concerns. The client side (clients.c) turns requests into validated
 * SUBMITs, the peer link (peerlink.c) keeps the peers registered and alive, and the task
 * lifecycle (tasks.c) queues, assigns and ends tasks. All of them run on this one thread,
 * so nothing needs a lock.
 */
#include "coordinator/coordinator.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/log.h"
#include "coordinator/clients.h"
#include "coordinator/peerlink.h"
#include "coordinator/peers.h"
#include "coordinator/tasks.h"

/* On shutdown, how long final errors may take to reach clients. */
#define SHUTDOWN_LINGER_MS 500
/* Messages handled from one socket before looking at the other, so a busy side cannot
 * starve the other. */
#define POLL_BATCH         64

struct coordinator {
    coordinator_config config; /* settings, endpoints copied below */
    zsock_t *client_sock;      /* ROUTER for clients */
    zsock_t *peer_sock;        /* ROUTER for peers */
    coord_peers *peers;        /* registered peers */
    coord_clients *clients;    /* client side */
    coord_link *link;          /* peer side */
    coord_tasks *tasks;        /* task lifecycle */
    char client_endpoint[256]; /* bound address for clients */
    char peer_endpoint[256];   /* bound address for peers */
};

static void on_client(coordinator *c)
{
    p2c2r_envelope_msg msg;
    if (coord_clients_recv(c->clients, &msg) == P2C2R_OK)
        coord_tasks_admit(c->tasks, &msg);
    p2c2r__envelope_msg_close(&msg);
}

static void on_peer(coordinator *c)
{
    p2c2r_envelope_msg msg;
    coord_peer *peer;
    if (coord_link_recv(c->link, &msg, &peer) == P2C2R_OK) {
        if (msg.env->type == P2C2R__WIRE__MSG_TYPE__PEER_BYE) {
            coord_tasks_peer_lost(c->tasks, peer, "said goodbye");
            coord_peers_remove(c->peers, &peer);
        } else {
            coord_tasks_on_answer(c->tasks, peer, &msg);
        }
    }
    p2c2r__envelope_msg_close(&msg);
}

/* Expire queued tasks past their deadline and drop peers that went silent. */
static void sweep(coordinator *c, uint64_t now)
{
    coord_tasks_expire(c->tasks, now);
    coord_peer *peer;
    while ((peer = coord_link_silent(c->link, now))) {
        coord_tasks_peer_lost(c->tasks, peer, "heartbeat timeout");
        coord_peers_remove(c->peers, &peer);
    }
}

int coordinator_run(coordinator *c)
{
    zmq_pollitem_t items[2] = {
        {zsock_resolve(c->peer_sock), 0, ZMQ_POLLIN, 0}, /* peers first: results free slots */
        {zsock_resolve(c->client_sock), 0, ZMQ_POLLIN, 0},
    };
    uint64_t sweep_every = coord_link_sweep_interval_us(c->link);
    uint64_t next_sweep = p2c2r__now_us() + sweep_every;
    int rc = P2C2R_OK;
    while (!zsys_interrupted) {
        uint64_t now = p2c2r__now_us();
        uint64_t wake = next_sweep;
        uint64_t due = coord_tasks_next_wakeup(c->tasks);
        if (due < wake)
            wake = due;
        long timeout_ms = wake > now ? (long)((wake - now + 999) / 1000) : 0;
        if (zmq_poll(items, 2, timeout_ms) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(errno));
            rc = P2C2R_E_IO;
            break;
        }
        for (int i = 0; i < POLL_BATCH && (items[0].revents & ZMQ_POLLIN); i++) {
            on_peer(c);
            if (!(zsock_events(c->peer_sock) & ZMQ_POLLIN))
                break;
        }
        for (int i = 0; i < POLL_BATCH && (items[1].revents & ZMQ_POLLIN); i++) {
            on_client(c);
            if (!(zsock_events(c->client_sock) & ZMQ_POLLIN))
                break;
        }
        now = p2c2r__now_us();
        if (now >= next_sweep || coord_tasks_next_wakeup(c->tasks) <= now) {
            sweep(c, now);
            if (now >= next_sweep)
                next_sweep = now + sweep_every;
        }
        coord_tasks_dispatch(c->tasks);
    }
    log_info("shutting down");
    coord_tasks_drain(c->tasks, P2C2R_E_IO, "coordinator shutting down");
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
    c->client_sock = zsock_new(ZMQ_ROUTER);
    c->peer_sock = zsock_new(ZMQ_ROUTER);
    if (!c->client_sock || !c->peer_sock)
        goto fail;
    rc = bind_socket(c->client_sock, config->client_endpoint, c->client_endpoint,
                     sizeof c->client_endpoint);
    if (rc != P2C2R_OK)
        goto fail;
    rc =
        bind_socket(c->peer_sock, config->peer_endpoint, c->peer_endpoint, sizeof c->peer_endpoint);
    if (rc != P2C2R_OK)
        goto fail;
    rc = P2C2R_E_NOMEM;
    c->peers = coord_peers_new();
    c->clients = coord_clients_new(zsock_resolve(c->client_sock));
    c->link = coord_link_new(zsock_resolve(c->peer_sock), c->peers, config->peer_timeout_ms);
    if (!c->peers || !c->clients || !c->link)
        goto fail;
    coord_tasks_config tasks_config = {.max_queue = config->max_queue};
    c->tasks = coord_tasks_new(&tasks_config, c->clients, c->link, c->peers);
    if (!c->tasks)
        goto fail;
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
    coord_tasks_destroy(&c->tasks); /* ends what is left, through the client side */
    coord_link_destroy(&c->link);
    coord_clients_destroy(&c->clients);
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
