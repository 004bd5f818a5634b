/* peer: see peer.h. */
#include "peer/peer.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/log.h"
#include "common/task.h"
#include "peer/kind.h"
#include "peer/resources.h"
#include "peer/worker.h"

/* How long goodbye and final results may take to leave when the peer stops. */
#define SHUTDOWN_LINGER_MS 500

struct peer {
    peer_config config;    /* settings; name copied below */
    char name[64];         /* what the coordinator calls us */
    zsock_t *dealer;       /* to the coordinator */
    void *sock;            /* raw handle of dealer */
    zactor_t **workers;    /* one per slot */
    bool *busy;            /* whether each worker has a job */
    uint32_t nbusy;        /* count of busy workers */
    zmq_pollitem_t *items; /* dealer, then each worker's pipe */
    uint64_t next_beat_us; /* when to send the next heartbeat */
    uint64_t done;         /* tasks answered */
    peer_resources res;    /* thread pool and filter tables shared by the workers */
};

/* Most filter-table names a hello lists. */
#define HELLO_MAX_RESIDENT 32

static void send_error(peer *p, uint64_t task_id, int status, const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    int rc = p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_warn("error for task %" PRIu64 " not sent: %s", task_id, p2c2r_strerror(rc));
}

static void send_hello(peer *p)
{
    P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
    char *kinds[peer_kinds_count];
    for (size_t i = 0; i < peer_kinds_count; i++)
        kinds[i] = (char *)peer_kinds[i]->name;
    info.name = p->name;
    info.kinds = kinds;
    info.n_kinds = peer_kinds_count;
    info.slots = p->config.slots;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    info.cpu_cores = cores > 0 ? (uint32_t)cores : 1;
    info.runtime = "cpu";
    info.simd = (char *)p2c2r__upscale_simd_name(p->res.simd);
    char names[HELLO_MAX_RESIDENT][P2C2R_UPSCALE_NAME_MAX];
    char *resident[HELLO_MAX_RESIDENT];
    size_t held = peer_resources_resident(&p->res, names, HELLO_MAX_RESIDENT);
    info.n_resident = held < HELLO_MAX_RESIDENT ? held : HELLO_MAX_RESIDENT;
    for (size_t i = 0; i < info.n_resident; i++)
        resident[i] = names[i];
    info.resident = resident;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__PEER_HELLO);
    env.peer = &info;
    int rc = p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_warn("hello not sent: %s", p2c2r_strerror(rc));
}

static void send_simple(peer *p, P2c2r__Wire__MsgType type)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, type);
    p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
}

static void on_assign(peer *p, p2c2r_envelope_msg *msg)
{
    uint64_t now = p2c2r__now_us();
    p2c2r_envelope *env = msg->env;
    size_t size = msg->has_payload ? zmq_msg_size(&msg->payload) : 0;
    const char *detail;
    int rc = p2c2r__task_validate(env, size, &detail);
    int kind = peer_kind_index(env->kind);
    if (rc == P2C2R_OK && kind < 0) {
        rc = P2C2R_E_UNSUPPORTED;
        detail = "this peer does not run that kind";
    }
    if (rc != P2C2R_OK) {
        send_error(p, env->task_id, rc, detail);
        return;
    }
    uint32_t idle = 0;
    while (idle < p->config.slots && p->busy[idle])
        idle++;
    if (idle == p->config.slots) {
        log_warn("task %" PRIu64 " assigned beyond our %u slot(s)", env->task_id, p->config.slots);
        send_error(p, env->task_id, P2C2R_E_BUSY, "peer has no free slot");
        return;
    }
    peer_job *job = calloc(1, sizeof *job);
    if (!job) {
        send_error(p, env->task_id, P2C2R_E_NOMEM, "peer out of memory");
        return;
    }
    uint64_t task_id = env->task_id;
    job->env = env;
    msg->env = NULL;
    zmq_msg_init(&job->payload);
    if (msg->has_payload)
        zmq_msg_move(&job->payload, &msg->payload);
    job->kind = kind;
    job->received_us = now;
    job->deadline_us = now + env->deadline_us;
    if (peer_worker_send(p->workers[idle], &job) != P2C2R_OK) {
        send_error(p, task_id, P2C2R_E_INTERNAL, "worker unreachable");
        return;
    }
    p->busy[idle] = true;
    p->nbusy++;
}

static void on_coordinator(peer *p)
{
    p2c2r_envelope_msg msg;
    int rc = p2c2r__envelope_recv(p->sock, false, ZMQ_DONTWAIT, &msg);
    if (rc != P2C2R_OK) {
        if (rc != P2C2R_E_TIMEOUT)
            log_warn("malformed message from the coordinator: %s", p2c2r_strerror(rc));
        goto done;
    }
    switch (msg.env->type) {
    case P2C2R__WIRE__MSG_TYPE__ASSIGN:
        on_assign(p, &msg);
        break;
    case P2C2R__WIRE__MSG_TYPE__HEARTBEAT:
        break;
    case P2C2R__WIRE__MSG_TYPE__ERROR:
        if (msg.env->status == P2C2R_E_UNKNOWNPEER) {
            /* The coordinator restarted or dropped us: register again. */
            log_info("coordinator does not know us; registering again");
            send_hello(p);
        } else {
            log_warn("coordinator error: %s (%s)", p2c2r_strerror(msg.env->status),
                     msg.env->detail);
        }
        break;
    default:
        log_warn("unexpected %s from the coordinator", p2c2r__envelope_type_name(msg.env->type));
    }
done:
    p2c2r__envelope_msg_close(&msg);
}

/* Relay a worker's answer, frame by frame, to the coordinator; the worker is idle again. */
static void on_worker(peer *p, uint32_t w)
{
    void *pipe = p->items[1 + w].socket;
    zmq_msg_t part;
    zmq_msg_init(&part);
    bool sending = true;
    for (;;) {
        if (zmq_msg_recv(&part, pipe, 0) < 0)
            break;
        bool more = zmq_msg_more(&part);
        if (sending && zmq_msg_send(&part, p->sock, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
            log_error("answer dropped, coordinator not reachable: %s", zmq_strerror(errno));
            sending = false;
        }
        if (!more)
            break;
    }
    zmq_msg_close(&part);
    p->busy[w] = false;
    p->nbusy--;
    p->done++;
}

int peer_run(peer *p)
{
    uint32_t n = 1 + p->config.slots;
    send_hello(p);
    p->next_beat_us = p2c2r__now_us() + p->config.heartbeat_ms * 1000ull;
    while (!zsys_interrupted) {
        uint64_t now = p2c2r__now_us();
        long timeout = p->next_beat_us > now ? (long)((p->next_beat_us - now + 999) / 1000) : 0;
        if (zmq_poll(p->items, (int)n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(errno));
            return P2C2R_E_IO;
        }
        for (uint32_t w = 0; w < p->config.slots; w++)
            if (p->items[1 + w].revents & ZMQ_POLLIN)
                on_worker(p, w);
        if (p->items[0].revents & ZMQ_POLLIN)
            for (int i = 0; i < 64 && (zsock_events(p->dealer) & ZMQ_POLLIN); i++)
                on_coordinator(p);
        now = p2c2r__now_us();
        if (now >= p->next_beat_us) {
            send_simple(p, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
            p->next_beat_us = now + p->config.heartbeat_ms * 1000ull;
        }
    }
    log_info("stopping after %" PRIu64 " task(s)", p->done);
    return P2C2R_OK;
}

peer *peer_new(const peer_config *config, int *err)
{
    int rc = P2C2R_E_NOMEM;
    peer *p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->config = *config;
    snprintf(p->name, sizeof p->name, "%s", config->name);
    p->workers = calloc(config->slots, sizeof *p->workers);
    p->busy = calloc(config->slots, sizeof *p->busy);
    p->items = calloc(1 + config->slots, sizeof *p->items);
    p->dealer = zsock_new(ZMQ_DEALER);
    if (!p->workers || !p->busy || !p->items || !p->dealer)
        goto fail;
    rc = peer_resources_init(&p->res, config->threads);
    if (rc != P2C2R_OK)
        goto fail;
    rc = P2C2R_E_NOMEM;
    for (uint32_t w = 0; w < config->slots; w++) {
        p->workers[w] = peer_worker_new(&p->res);
        if (!p->workers[w])
            goto fail;
        p->items[1 + w] =
            (zmq_pollitem_t){zsock_resolve(zactor_sock(p->workers[w])), 0, ZMQ_POLLIN, 0};
    }
    zsock_set_linger(p->dealer, SHUTDOWN_LINGER_MS);
    zsock_set_maxmsgsize(p->dealer, (int)(P2C2R_PAYLOAD_MAX_BYTES + P2C2R_ENVELOPE_MAX_BYTES));
    if (zsock_connect(p->dealer, "%s", config->coordinator) < 0) {
        log_error("cannot connect to %s: %s", config->coordinator, zmq_strerror(errno));
        rc = P2C2R_E_INVAL;
        goto fail;
    }
    p->sock = zsock_resolve(p->dealer);
    p->items[0] = (zmq_pollitem_t){p->sock, 0, ZMQ_POLLIN, 0};
    return p;
fail:
    peer_destroy(&p);
    if (err)
        *err = rc;
    return NULL;
}

void peer_destroy(peer **pp)
{
    if (!pp || !*pp)
        return;
    peer *p = *pp;
    if (p->sock)
        send_simple(p, P2C2R__WIRE__MSG_TYPE__PEER_BYE);
    /* Each worker finishes its current job before it sees the stop message. */
    for (uint32_t w = 0; p->workers && w < p->config.slots; w++)
        zactor_destroy(&p->workers[w]);
    zsock_destroy(&p->dealer);
    peer_resources_fini(&p->res);
    free(p->workers);
    free(p->busy);
    free(p->items);
    free(p);
    *pp = NULL;
}
