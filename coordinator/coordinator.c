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
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/log.h"
#include "common/random.h"
#include "coordinator/auth.h"
#include "coordinator/clients.h"
#include "coordinator/metrics.h"
#include "coordinator/peerlink.h"
#include "coordinator/peers.h"
#include "coordinator/tasks.h"

/* On shutdown, how long final errors may take to reach clients. */
#define SHUTDOWN_LINGER_MS   500
/* Messages handled from one socket before looking at the other, so a busy side cannot
 * starve the other. */
#define POLL_BATCH           64
/* Peer messages read at most before timers run (see drain_peers()). */
#define DRAIN_MAX            4096
/* Connections the kernel holds for each socket before they are accepted: thousands of
 * peers come back at once after a coordinator restart (capped by net.core.somaxconn). */
#define LISTEN_BACKLOG       4096
/* How often idle client records are looked for. */
#define CLIENT_SWEEP_US      (1000ull * 1000u)
/* Payload buffers at least this big get pages of their own (see coordinator_new()). */
#define MMAP_THRESHOLD_BYTES (1024 * 1024)
/* Free memory the heap keeps at its top rather than give back and fault in again. */
#define TRIM_THRESHOLD_BYTES (4 * MMAP_THRESHOLD_BYTES)

struct coordinator {
    coordinator_config config; /* settings, endpoints copied below */
    zsock_t *client_sock;      /* ROUTER for clients */
    zsock_t *peer_sock;        /* ROUTER for peers */
    coord_peers *peers;        /* registered peers */
    coord_clients *clients;    /* client side */
    coord_link *link;          /* peer side */
    coord_tasks *tasks;        /* task lifecycle */
    coord_auth *auth;          /* CURVE keys and the ZAP handler, or NULL (plain TCP) */
    coord_metrics *metrics;    /* figures and their HTTP server; NULL when not asked for */
    uint64_t instance;         /* this process's incarnation */
    char client_endpoint[256]; /* bound address for clients */
    char peer_endpoint[256];   /* bound address for peers */
};

/* Handle one message from a client; false when none was waiting. */
static bool on_client(coordinator *c)
{
    p2c2r_envelope_msg msg;
    coord_client *client, *came_back;
    coord_client_event event = coord_clients_recv(c->clients, &msg, &client, &came_back);
    /* A SUBMIT sent again after a reconnect is recognised before the answers that waited
     * are delivered: delivered, its task would be gone and would run a second time. */
    if (event == COORD_CLIENT_SUBMIT && !msg.env->n_items) {
        if (msg.has_payload)
            p2c2r__payload_own(&msg.payload); /* it may wait in the queue for long */
        coord_tasks_admit(c->tasks, client, msg.env, msg.has_payload ? &msg.payload : NULL,
                          COORD_LINK_ANY);
    } else if (event == COORD_CLIENT_SUBMIT) {
        uint64_t group = coord_tasks_group(c->tasks);
        for (size_t i = 0; i < msg.env->n_items; i++) {
            p2c2r_envelope task;
            p2c2r__envelope_item_view(msg.env, i, &task);
            if (!msg.payloads_owned)
                p2c2r__payload_own(&msg.item_payloads[i]);
            coord_tasks_admit(c->tasks, client, &task, &msg.item_payloads[i], group);
        }
    }
    if (came_back)
        coord_tasks_client_back(c->tasks, came_back);
    /* After the parked answers: a task already answered stays answered. */
    if (event == COORD_CLIENT_CANCEL)
        coord_tasks_cancel(c->tasks, client, msg.env->task_id);
    p2c2r__envelope_msg_close(&msg);
    return event != COORD_CLIENT_EMPTY;
}

/* Handle one message from a peer; false when none was waiting. */
static bool on_peer(coordinator *c)
{
    p2c2r_envelope_msg msg;
    coord_peer *peer;
    bool reconnected;
    coord_link_event event = coord_link_recv(c->link, &msg, &peer, &reconnected);
    switch (event) {
    case COORD_LINK_ANSWER:
        if (!msg.env->n_items) {
            coord_tasks_on_answer(c->tasks, peer, msg.env, msg.has_payload ? &msg.payload : NULL);
            break;
        }
        for (size_t i = 0; i < msg.env->n_items; i++) {
            p2c2r_envelope answer;
            p2c2r__envelope_item_view(msg.env, i, &answer);
            coord_tasks_on_answer(
                c->tasks, peer, &answer,
                answer.type == P2C2R__WIRE__MSG_TYPE__RESULT ? &msg.item_payloads[i] : NULL);
        }
        break;
    case COORD_LINK_LOAD:
        coord_tasks_on_load(c->tasks, peer, msg.env, reconnected);
        break;
    case COORD_LINK_BYE:
        coord_tasks_peer_lost(c->tasks, peer, "said goodbye");
        coord_peers_remove(c->peers, &peer);
        break;
    case COORD_LINK_NONE:
    case COORD_LINK_EMPTY:
        break;
    }
    p2c2r__envelope_msg_close(&msg);
    return event != COORD_LINK_EMPTY;
}

/* Reads what the peers have already sent, before a timer blames one of them: after a
 * long pass (a burst of clients, a slow moment of the machine) the answers and heartbeats
 * that wait in the socket are news the timers must see. Bounded, so that a flood of peer
 * messages cannot keep the timers from running at all. Returns whether it read any. */
static bool drain_peers(coordinator *c)
{
    int n = 0;
    while (n < DRAIN_MAX && on_peer(c))
        n++;
    return n > 0;
}

/* Drop peers that went silent. */
static void sweep_peers(coordinator *c, uint64_t now)
{
    coord_peer *peer;
    while ((peer = coord_link_silent(c->link, now))) {
        coord_tasks_peer_lost(c->tasks, peer, "heartbeat timeout");
        coord_peers_remove(c->peers, &peer);
    }
}

int coordinator_run(coordinator *c)
{
    zmq_pollitem_t items[5] = {
        {zsock_resolve(c->peer_sock), 0, ZMQ_POLLIN, 0}, /* peers first: results free slots */
        {zsock_resolve(c->client_sock), 0, ZMQ_POLLIN, 0},
    };
    int nitems = 2 + (c->auth ? coord_auth_poll_items(c->auth, items + 2) : 0);
    uint64_t sweep_every = coord_link_sweep_interval_us(c->link);
    uint64_t next_sweep = p2c2r__now_us() + sweep_every;
    uint64_t next_client_sweep = next_sweep + CLIENT_SWEEP_US;
    int rc = P2C2R_OK;
    while (!zsys_interrupted) {
        uint64_t now = p2c2r__now_us();
        uint64_t wake = next_sweep;
        uint64_t due = coord_tasks_next_wakeup(c->tasks);
        if (due < wake)
            wake = due;
        due = coord_peers_next_wakeup(c->peers);
        if (due < wake)
            wake = due;
        due = coord_metrics_next_render(c->metrics);
        if (due < wake)
            wake = due;
        long timeout_ms = wake > now ? (long)((wake - now + 999) / 1000) : 0;
        if (zmq_poll(items, nitems, timeout_ms) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(errno));
            rc = P2C2R_E_IO;
            break;
        }
        /* Handshakes wait for the ZAP handler: answered first. */
        for (int i = 2; i < nitems; i++)
            if (items[i].revents & ZMQ_POLLIN) {
                coord_auth_handle(c->auth);
                break;
            }
        /* Reading until a socket is empty, rather than asking it (ZMQ_EVENTS) after each
         * message, saves a round of libzmq's command processing per message. */
        for (int i = 0; i < POLL_BATCH && (items[0].revents & ZMQ_POLLIN); i++)
            if (!on_peer(c))
                break;
        /* The answers those made leave now, not after the clients' messages and the
         * dispatch below: in a stream of small tasks a result waited for up to a whole
         * pass (noop bench, 4 KiB: p50 ratio 1.29-1.44 before, 1.20-1.30 after). */
        coord_clients_flush(c->clients);
        for (int i = 0; i < POLL_BATCH && (items[1].revents & ZMQ_POLLIN); i++)
            if (!on_client(c))
                break;
        now = p2c2r__now_us();
        bool expiring = coord_tasks_next_wakeup(c->tasks) <= now || now >= next_sweep;
        if (expiring && drain_peers(c))
            now = p2c2r__now_us();
        if (coord_tasks_next_wakeup(c->tasks) <= now)
            coord_tasks_expire(c->tasks, now);
        if (coord_peers_next_wakeup(c->peers) <= now)
            coord_peers_expire(c->peers, now); /* breakers whose cooldown ended */
        if (now >= next_sweep) {
            sweep_peers(c, now);
            next_sweep = now + sweep_every;
        }
        if (now >= next_client_sweep) {
            coord_clients_sweep(c->clients, now);
            next_client_sweep = now + CLIENT_SWEEP_US;
        }
        coord_tasks_dispatch(c->tasks);
        coord_clients_flush(c->clients);
        if (coord_metrics_next_render(c->metrics) <= now)
            coord_metrics_render(c->metrics, c->peers, c->tasks, now);
    }
    log_info("shutting down");
    coord_tasks_drain(c->tasks, P2C2R_E_IO, "coordinator shutting down");
    coord_clients_flush(c->clients);
    return rc;
}

static int bind_socket(zsock_t *sock, const char *endpoint, char *bound, size_t bound_size)
{
    zsock_set_router_mandatory(sock, 1);
    zsock_set_maxmsgsize(sock, (int)(P2C2R_PAYLOAD_MAX_BYTES + P2C2R_ENVELOPE_MAX_BYTES));
    zsock_set_linger(sock, SHUTDOWN_LINGER_MS);
    zsock_set_backlog(sock, LISTEN_BACKLOG);
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
    c->instance = p2c2r__random_id();
    /* Payloads of up to 64 MiB come and go. glibc raises its mmap threshold after freeing
     * big blocks and then serves them from the heap, which it rarely gives back: a client
     * that left could leave hundreds of megabytes behind. A fixed threshold keeps every
     * large buffer in pages of its own, returned to the system when freed. At 1 MiB, not
     * lower: a 256 KiB frame in fresh pages cost a page fault per 4 KiB when ZeroMQ filled
     * it and an munmap on the loop when it was freed (a cache hit took 84 us of the loop
     * instead of 41, and the process 345 us of CPU instead of 210). A fixed threshold also
     * stops glibc from raising its trim threshold with it: left at 128 KiB, every free of a
     * 256 KiB frame at the top of the heap gave the pages back and the next frame faulted
     * them in again, so the heap keeps up to a few frames' worth at its top. */
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES);
    c->client_sock = zsock_new(ZMQ_ROUTER);
    c->peer_sock = zsock_new(ZMQ_ROUTER);
    if (!c->client_sock || !c->peer_sock)
        goto fail;
    if (config->curve_secret) {
        char why[512];
        rc = P2C2R_E_INVAL;
        c->auth = coord_auth_new(config->curve_secret, config->allow_peers, config->allow_clients,
                                 why, sizeof why);
        if (!c->auth) {
            log_error("%s", why);
            goto fail;
        }
        /* Before binding: no connection may come in unchecked. */
        if ((rc = coord_auth_secure(c->auth, c->peer_sock, true)) != P2C2R_OK ||
            (rc = coord_auth_secure(c->auth, c->client_sock, false)) != P2C2R_OK) {
            log_error("cannot make the sockets CURVE servers: %s", p2c2r_strerror(rc));
            goto fail;
        }
    }
    rc = bind_socket(c->client_sock, config->client_endpoint, c->client_endpoint,
                     sizeof c->client_endpoint);
    if (rc != P2C2R_OK)
        goto fail;
    rc =
        bind_socket(c->peer_sock, config->peer_endpoint, c->peer_endpoint, sizeof c->peer_endpoint);
    if (rc != P2C2R_OK)
        goto fail;
    if (config->metrics_address) {
        c->metrics = coord_metrics_new(config->metrics_address, c->instance, &rc);
        if (!c->metrics)
            goto fail;
    }
    rc = P2C2R_E_NOMEM;
    coord_clients_config clients_config = {
        .instance = c->instance,
        .max_bytes = (uint64_t)config->max_queued_mb << 20,
        .max_client_bytes = (uint64_t)config->max_client_mb << 20,
        .allowed = c->auth ? coord_auth_clients(c->auth) : NULL,
    };
    coord_select_weights weights = {config->score_weights[0], config->score_weights[1],
                                    config->score_weights[2], config->score_weights[3]};
    c->peers = coord_peers_new(&weights, 0);
    c->clients = coord_clients_new(zsock_resolve(c->client_sock), &clients_config);
    c->link =
        coord_link_new(zsock_resolve(c->peer_sock), c->peers, c->instance, config->peer_timeout_ms);
    if (!c->peers || !c->clients || !c->link)
        goto fail;
    coord_tasks_config tasks_config = {
        .instance = c->instance,
        .max_queue = config->max_queue,
        .max_client_tasks = config->max_client_tasks,
        .cache_bytes = (uint64_t)config->cache_mb << 20,
        .cache_shared = config->cache_shared,
        .recheck_rate = config->recheck_rate,
        .max_attempts = config->max_attempts,
        .attempt_timeout_us = (uint64_t)config->attempt_timeout_ms * 1000u,
        .metrics = c->metrics,
    };
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
    coord_metrics_destroy(&c->metrics);
    coord_link_destroy(&c->link);
    coord_clients_destroy(&c->clients);
    coord_peers_destroy(&c->peers);
    zsock_destroy(&c->client_sock);
    zsock_destroy(&c->peer_sock);
    coord_auth_destroy(&c->auth); /* after the sockets it watches */
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

const char *coordinator_metrics_address(const coordinator *c)
{
    return c->metrics ? coord_metrics_address(c->metrics) : NULL;
}

uint64_t coordinator_instance(const coordinator *c)
{
    return c->instance;
}
