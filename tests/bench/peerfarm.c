/* peerfarm: see peerfarm.h. */
#include "peerfarm.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/random.h"
#include "testwire.h"

#define FARM_BEAT_US         (PEERFARM_BEAT_MS * 1000ull)
/* Heartbeats are sent in batches this far apart: waking for each one (every 250 us with
 * a thousand peers) would cost a zmq_poll over every socket each time, and the farm
 * would take the coordinator's core. */
#define FARM_TICK_US         (10ull * 1000u)
/* A peer the coordinator does not know says hello again at most this often. */
#define FARM_HELLO_US        (1000ull * 1000u)
/* Messages taken from one socket before looking at the others. */
#define FARM_DRAIN_MAX       16
/* How long the caller waits for the thread to answer a command. */
#define FARM_REPLY_MS        10000
/* Longest wait for the answers to one round of extra heartbeats. */
#define FARM_TRAFFIC_WAIT_US (1000ull * 1000u)
/* Room for the control pipes besides the peers' sockets. */
#define FARM_SPARE_SOCKS     8

typedef enum farm_op { FARM_GROW, FARM_TRAFFIC, FARM_STATS, FARM_STOP } farm_op;

/* A command on the control pipe, and its answer. */
typedef struct farm_cmd {
    farm_op op; /* what to do */
    int arg;    /* GROW: peers in all; TRAFFIC: rounds; STATS: reset afterwards */
} farm_cmd;

typedef struct farm_reply {
    int rc;               /* 0 or -1 */
    peerfarm_stats stats; /* STATS: the figures */
} farm_reply;

/* One played peer. */
typedef struct farm_peer {
    void *sock;             /* DEALER to the coordinator's peer endpoint */
    uint64_t sender;        /* its random id, for the life of the farm */
    uint64_t instance;      /* the coordinator's instance last heard (0: none yet) */
    uint64_t last_assigned; /* highest ASSIGN id received from that instance */
    uint64_t hello_us;      /* when it last said hello */
    uint64_t tasks;         /* ASSIGNs answered */
    uint64_t tasks_mark;    /* tasks at the last spread reset */
    bool registered;        /* the coordinator answered it with a HEARTBEAT */
} farm_peer;

/* Everything the thread owns. */
typedef struct farm_loop {
    void *ctx;                 /* the farm's context, not owned */
    const char *endpoint;      /* where peers connect, not owned */
    int max;                   /* room in peers and items */
    void *pipe;                /* the thread's end of the control pipe */
    farm_peer *peers;          /* npeers in use */
    int npeers;                /* peers connected */
    zmq_pollitem_t *items;     /* the pipe, then each peer's socket */
    int beat_next;             /* the peer whose heartbeat is due next */
    uint64_t beat_due_us;      /* when it is due */
    peerfarm_stats counts;     /* counters (the spread is computed on demand) */
    int traffic_left;          /* extra heartbeat rounds still to send */
    uint64_t traffic_wait_for; /* beats_back once the last round is answered */
    uint64_t traffic_sent_us;  /* when the last round went out */
    char name[32];             /* scratch for PeerInfo.name */
    char *kinds[1];            /* PeerInfo.kinds */
} farm_loop;

struct peerfarm {
    void *ctx;          /* the farm's context: its sockets and the pipe */
    void *pipe;         /* the caller's end of the control pipe */
    pthread_t thread;   /* runs farm_run */
    bool started;       /* whether thread must be joined */
    farm_loop *loop;    /* the thread's state until it starts (then NULL: it frees it) */
    char endpoint[256]; /* copy of the peer endpoint */
};

/* ---- the thread --------------------------------------------------------------------- */

/* What a peer is running: nothing, ever. It answers each ASSIGN in the step it receives it,
 * so by the time a hello or heartbeat goes out it holds no task; last_assigned still tells
 * the coordinator that every id up to it was answered. */
static void fill_load(const farm_peer *p, P2c2r__Wire__PeerLoad *load)
{
    load->running = NULL;
    load->n_running = 0;
    load->last_assigned = p->last_assigned;
    load->foreign_busy = 0;
}

static void set_registered(farm_loop *l, farm_peer *p, bool registered)
{
    if (registered == p->registered)
        return;
    p->registered = registered;
    if (registered) {
        l->counts.registered++;
        l->counts.registrations++;
    } else {
        l->counts.registered--;
    }
}

static void say_hello(farm_loop *l, farm_peer *p, uint64_t now)
{
    P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
    snprintf(l->name, sizeof l->name, "scale-%d", (int)(p - l->peers));
    info.name = l->name;
    info.kinds = l->kinds;
    info.n_kinds = 1;
    info.slots = PEERFARM_SLOTS;
    info.cpu_cores = 1;
    info.runtime = "cpu";
    P2c2r__Wire__PeerLoad load = P2C2R__WIRE__PEER_LOAD__INIT;
    fill_load(p, &load);
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__PEER_HELLO);
    env.sender = p->sender;
    env.instance = p->instance;
    env.peer = &info;
    env.load = &load;
    p->hello_us = now;
    if (p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT) == P2C2R_OK)
        l->counts.hellos++;
    else
        l->counts.dropped++;
}

/* A registered peer heartbeats; one the coordinator does not know says hello instead,
 * once a second at most, which also covers a hello that was lost. */
static void beat(farm_loop *l, farm_peer *p, uint64_t now)
{
    if (!p->registered) {
        if (now >= p->hello_us + FARM_HELLO_US)
            say_hello(l, p, now);
        return;
    }
    P2c2r__Wire__PeerLoad load = P2C2R__WIRE__PEER_LOAD__INIT;
    fill_load(p, &load);
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    env.sender = p->sender;
    env.instance = p->instance;
    env.load = &load;
    if (p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT) == P2C2R_OK)
        l->counts.heartbeats++;
    else
        l->counts.dropped++;
}

/* Every message from the coordinator carries its instance: a new one is a coordinator
 * that has never heard of this peer, nor of the ids the old one handed out. */
static void note_instance(farm_loop *l, farm_peer *p, uint64_t instance)
{
    if (!instance || instance == p->instance)
        return;
    p->instance = instance;
    p->last_assigned = 0;
    set_registered(l, p, false);
}

static void answer_error(farm_loop *l, farm_peer *p, const p2c2r_envelope *in, int status,
                         const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.sender = p->sender;
    env.instance = in->instance;
    env.task_id = in->task_id;
    env.status = status;
    env.detail = (char *)detail;
    if (p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT) != P2C2R_OK)
        l->counts.dropped++;
}

/* noop: the payload goes back as it came, without a copy (the frame moves to ZeroMQ). */
static void on_assign(farm_loop *l, farm_peer *p, p2c2r_envelope_msg *msg)
{
    const p2c2r_envelope *in = msg->env;
    l->counts.assigns++;
    if (in->instance == p->instance && in->task_id > p->last_assigned)
        p->last_assigned = in->task_id;
    if (strcmp(in->kind, PEERFARM_KIND) != 0) {
        l->counts.wrong++;
        answer_error(l, p, in, P2C2R_E_UNSUPPORTED, "this peer runs only noop");
        return;
    }
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
    env.sender = p->sender;
    env.instance = in->instance;
    env.task_id = in->task_id;
    env.status = P2C2R_OK;
    env.frame = in->frame;
    if (p2c2r__envelope_send(p->sock, NULL, 0, &env, msg->has_payload ? &msg->payload : NULL,
                             ZMQ_DONTWAIT) != P2C2R_OK) {
        l->counts.dropped++;
        l->counts.wrong++;
        return;
    }
    l->counts.results++;
    p->tasks++;
}

static void on_message(farm_loop *l, farm_peer *p, p2c2r_envelope_msg *msg, uint64_t now)
{
    const p2c2r_envelope *in = msg->env;
    note_instance(l, p, in->instance);
    switch (in->type) {
    case P2C2R__WIRE__MSG_TYPE__HEARTBEAT:
        /* The answer to a hello or a heartbeat: the coordinator knows this peer. */
        l->counts.beats_back++;
        set_registered(l, p, true);
        break;
    case P2C2R__WIRE__MSG_TYPE__ASSIGN:
        on_assign(l, p, msg);
        break;
    case P2C2R__WIRE__MSG_TYPE__ERROR:
        if (in->status == P2C2R_E_UNKNOWNPEER) {
            l->counts.unknown_peer++;
            set_registered(l, p, false);
            if (now >= p->hello_us + FARM_HELLO_US)
                say_hello(l, p, now);
        } else {
            if (l->counts.errors++ < 5)
                fprintf(stderr, "peerfarm: peer %d got ERROR %s: %s\n", (int)(p - l->peers),
                        p2c2r_errname(in->status), in->detail);
        }
        break;
    default:
        l->counts.errors++;
    }
}

static void drain_peer(farm_loop *l, farm_peer *p, uint64_t now)
{
    for (int i = 0; i < FARM_DRAIN_MAX; i++) {
        p2c2r_envelope_msg msg;
        int rc = p2c2r__envelope_recv(p->sock, false, ZMQ_DONTWAIT, &msg);
        if (rc == P2C2R_OK)
            on_message(l, p, &msg, now);
        else if (rc != P2C2R_E_TIMEOUT)
            l->counts.errors++;
        p2c2r__envelope_msg_close(&msg);
        if (rc == P2C2R_E_TIMEOUT)
            break;
    }
}

static int grow(farm_loop *l, int npeers, uint64_t now)
{
    if (npeers > l->max)
        return -1;
    while (l->npeers < npeers) {
        farm_peer *p = &l->peers[l->npeers];
        *p = (farm_peer){.sender = p2c2r__random_id()};
        p->sock = testwire_dealer(l->ctx, l->endpoint);
        if (!p->sock) {
            fprintf(stderr, "peerfarm: socket for peer %d: %s\n", l->npeers,
                    zmq_strerror(zmq_errno()));
            return -1;
        }
        l->items[1 + l->npeers] = (zmq_pollitem_t){p->sock, 0, ZMQ_POLLIN, 0};
        l->npeers++;
        l->counts.peers = l->npeers;
        say_hello(l, p, now);
    }
    return 0;
}

static void stats(farm_loop *l, bool reset, peerfarm_stats *out)
{
    *out = l->counts;
    out->traffic_left = l->traffic_left;
    out->spread_min = l->npeers ? UINT64_MAX : 0;
    out->spread_max = 0;
    out->spread_idle = 0;
    for (int i = 0; i < l->npeers; i++) {
        farm_peer *p = &l->peers[i];
        uint64_t n = p->tasks - p->tasks_mark;
        out->spread_min = n < out->spread_min ? n : out->spread_min;
        out->spread_max = n > out->spread_max ? n : out->spread_max;
        out->spread_idle += n == 0;
        if (reset)
            p->tasks_mark = p->tasks;
    }
    if (reset)
        l->counts.longest_pass_us = 0;
}

/* One command from the caller; false when it was the stop. */
static bool on_command(farm_loop *l, uint64_t now)
{
    farm_cmd cmd;
    if (zmq_recv(l->pipe, &cmd, sizeof cmd, ZMQ_DONTWAIT) != (int)sizeof cmd)
        return true;
    farm_reply reply = {0};
    switch (cmd.op) {
    case FARM_GROW:
        reply.rc = grow(l, cmd.arg, now);
        break;
    case FARM_TRAFFIC:
        l->traffic_left = cmd.arg;
        break;
    case FARM_STATS:
        stats(l, cmd.arg != 0, &reply.stats);
        break;
    case FARM_STOP:
        break;
    }
    zmq_send(l->pipe, &reply, sizeof reply, 0);
    return cmd.op != FARM_STOP;
}

/* Send the heartbeats that are due, round robin over the peers, one every
 * FARM_BEAT_US / npeers: each peer beats once a period, at its own phase. */
static void send_beats(farm_loop *l, uint64_t now)
{
    if (l->npeers == 0)
        return;
    uint64_t step = FARM_BEAT_US / (uint64_t)l->npeers;
    if (step == 0)
        step = 1;
    /* Late by more than a period (the machine was busy): start afresh, not in a burst. */
    if (l->beat_due_us + FARM_BEAT_US < now)
        l->beat_due_us = now;
    while (l->beat_due_us <= now) {
        if (l->beat_next >= l->npeers)
            l->beat_next = 0;
        beat(l, &l->peers[l->beat_next++], now);
        l->beat_due_us += step;
    }
}

/* One more round of extra heartbeats, once the coordinator has answered nearly all of the
 * last one, so that about one round at most is ever waiting in the queues. An answer the
 * coordinator could not send never comes: past FARM_TRAFFIC_WAIT_US the round goes anyway. */
static void send_traffic(farm_loop *l, uint64_t now)
{
    if (l->traffic_left == 0)
        return;
    if (l->counts.beats_back + (uint64_t)l->npeers / 8 < l->traffic_wait_for &&
        now < l->traffic_sent_us + FARM_TRAFFIC_WAIT_US)
        return;
    uint64_t sent = 0;
    for (int i = 0; i < l->npeers; i++)
        if (l->peers[i].registered) {
            beat(l, &l->peers[i], now);
            sent++;
        }
    l->traffic_wait_for = l->counts.beats_back + sent;
    l->traffic_sent_us = now;
    l->traffic_left--;
}

static void farm_run(farm_loop *l)
{
    l->beat_due_us = p2c2r__now_us() + FARM_BEAT_US;
    for (;;) {
        uint64_t now = p2c2r__now_us();
        uint64_t wake = l->beat_due_us > now + FARM_TICK_US ? l->beat_due_us : now + FARM_TICK_US;
        long timeout_ms = l->traffic_left ? 1 : (long)((wake - now + 999) / 1000);
        if (zmq_poll(l->items, 1 + l->npeers, timeout_ms) < 0 && zmq_errno() != EINTR) {
            fprintf(stderr, "peerfarm: poll: %s\n", zmq_strerror(zmq_errno()));
            break;
        }
        now = p2c2r__now_us();
        for (int i = 0; i < l->npeers; i++)
            if (l->items[1 + i].revents & ZMQ_POLLIN)
                drain_peer(l, &l->peers[i], now);
        if ((l->items[0].revents & ZMQ_POLLIN) && !on_command(l, now))
            break;
        send_beats(l, p2c2r__now_us());
        send_traffic(l, p2c2r__now_us());
        uint64_t pass = p2c2r__now_us() - now;
        if (pass > l->counts.longest_pass_us)
            l->counts.longest_pass_us = pass;
    }
}

static void *farm_thread(void *arg)
{
    farm_loop *l = arg;
    farm_reply ready = {0};
    zmq_send(l->pipe, &ready, sizeof ready, 0);
    farm_run(l);
    for (int i = 0; i < l->npeers; i++)
        zmq_close(l->peers[i].sock);
    zmq_close(l->pipe);
    free(l->peers);
    free(l->items);
    free(l);
    return NULL;
}

/* ---- the caller's side -------------------------------------------------------------- */

static int command(peerfarm *farm, farm_op op, int arg, farm_reply *reply)
{
    farm_cmd cmd = {op, arg};
    if (zmq_send(farm->pipe, &cmd, sizeof cmd, 0) != (int)sizeof cmd)
        return -1;
    zmq_pollitem_t item = {farm->pipe, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, FARM_REPLY_MS) <= 0 ||
        zmq_recv(farm->pipe, reply, sizeof *reply, 0) != (int)sizeof *reply) {
        fprintf(stderr, "peerfarm: no answer from the farm thread\n");
        return -1;
    }
    return reply->rc;
}

peerfarm *peerfarm_new(const char *endpoint, int max_peers)
{
    peerfarm *farm = calloc(1, sizeof *farm);
    farm_loop *l = calloc(1, sizeof *l);
    if (!farm || !l)
        goto fail;
    farm->loop = l;
    snprintf(farm->endpoint, sizeof farm->endpoint, "%s", endpoint);
    farm->ctx = zmq_ctx_new();
    if (!farm->ctx || zmq_ctx_set(farm->ctx, ZMQ_MAX_SOCKETS, max_peers + FARM_SPARE_SOCKS) != 0) {
        fprintf(stderr, "peerfarm: context for %d sockets: %s\n", max_peers + FARM_SPARE_SOCKS,
                zmq_strerror(zmq_errno()));
        goto fail;
    }
    l->ctx = farm->ctx;
    l->endpoint = farm->endpoint;
    l->max = max_peers;
    l->kinds[0] = PEERFARM_KIND;
    l->peers = calloc((size_t)max_peers, sizeof *l->peers);
    l->items = calloc((size_t)max_peers + 1, sizeof *l->items);
    char pipe_name[64];
    snprintf(pipe_name, sizeof pipe_name, "inproc://peerfarm-%p", (void *)farm);
    farm->pipe = zmq_socket(farm->ctx, ZMQ_PAIR);
    l->pipe = zmq_socket(farm->ctx, ZMQ_PAIR);
    if (!l->peers || !l->items || !farm->pipe || !l->pipe || zmq_bind(farm->pipe, pipe_name) ||
        zmq_connect(l->pipe, pipe_name))
        goto fail;
    l->items[0] = (zmq_pollitem_t){l->pipe, 0, ZMQ_POLLIN, 0};
    if (pthread_create(&farm->thread, NULL, farm_thread, l) != 0)
        goto fail;
    farm->loop = NULL; /* the thread's now: it frees it when it exits */
    farm->started = true;
    farm_reply ready;
    zmq_pollitem_t item = {farm->pipe, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, FARM_REPLY_MS) <= 0 ||
        zmq_recv(farm->pipe, &ready, sizeof ready, 0) != (int)sizeof ready)
        goto fail;
    return farm;
fail:
    fprintf(stderr, "peerfarm: cannot start\n");
    if (!farm)
        free(l);
    peerfarm_destroy(&farm);
    return NULL;
}

int peerfarm_grow(peerfarm *farm, int npeers)
{
    farm_reply reply;
    return command(farm, FARM_GROW, npeers, &reply);
}

int peerfarm_traffic(peerfarm *farm, int rounds)
{
    farm_reply reply;
    return command(farm, FARM_TRAFFIC, rounds, &reply);
}

int peerfarm_stats_get(peerfarm *farm, int reset, peerfarm_stats *stats)
{
    farm_reply reply;
    if (command(farm, FARM_STATS, reset, &reply) != 0)
        return -1;
    *stats = reply.stats;
    return 0;
}

void peerfarm_destroy(peerfarm **farm)
{
    if (!farm || !*farm)
        return;
    peerfarm *f = *farm;
    bool stuck = false;
    if (f->started) {
        farm_reply reply;
        stuck = command(f, FARM_STOP, 0, &reply) != 0;
        if (stuck)
            pthread_detach(f->thread); /* it never answered: leave it rather than hang too */
        else
            pthread_join(f->thread, NULL);
    }
    farm_loop *l = f->loop; /* set only when the thread never took it */
    if (l) {
        if (l->pipe)
            zmq_close(l->pipe);
        free(l->peers);
        free(l->items);
        free(l);
    }
    if (f->pipe)
        zmq_close(f->pipe);
    /* A stuck thread still holds sockets, and terminating would wait for them forever. */
    if (f->ctx && !stuck)
        zmq_ctx_term(f->ctx);
    free(f);
    *farm = NULL;
}
