/* client: libp2c2r, the client SDK behind p2c2r.h.
 *
 * The game thread never touches the network. submit() encodes the envelope, copies the
 * payload once into a ZeroMQ message and hands both to the I/O thread over an inproc pipe;
 * the I/O thread owns the DEALER to the coordinator, keeps the table of tasks in flight and
 * hands finished tasks back over a second pipe, which poll() reads. Two pipes, each with
 * its own lock, so a thread blocked in poll() never delays a submit() on another thread.
 *
 * Every accepted task ends exactly once: the coordinator's RESULT or ERROR, or, when
 * nothing came by deadline + grace (coordinator down, network gone), a local
 * P2C2R_E_DEADLINE. An answer arriving after that is dropped.
 *
 * Surviving the coordinator. The client has a random session id, sent with every message,
 * and keeps a reference to each task's envelope and payload until the task ends. While
 * tasks are in flight it sends a HEARTBEAT every HEARTBEAT_US; every answer carries the
 * coordinator's instance. A new instance means the coordinator restarted and lost every
 * task it held: each is sent again if its deadline leaves time, else ended at once with
 * P2C2R_E_COORDLOST. A reconnect to the same instance (seen through a socket monitor) may
 * have lost SUBMITs in the broken connection: each unfinished task is sent again, and the
 * coordinator, which knows tasks by (session, task id), runs none twice. A coordinator
 * silent for LIVENESS_US is taken as unreachable: tasks then end at their deadline with
 * P2C2R_E_COORDLOST instead of waiting out the grace.
 */
#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/idmap.h"
#include "common/random.h"
#include "common/task.h"
#include "p2c2r.h"

#define DEFAULT_MAX_IN_FLIGHT 64u
#define DEFAULT_GRACE_MS      250u
#define DEFAULT_DEADLINE_MS   100u
/* Reconnects start quickly and back off to half a second, so a restarted coordinator is
 * found well within a second. */
#define RECONNECT_IVL_MS      100
#define RECONNECT_IVL_MAX_MS  500
/* Liveness: heartbeats while tasks are in flight, and how long a silence means "gone". */
#define HEARTBEAT_US          (250ull * 1000u)
#define LIVENESS_US           (1000ull * 1000u)
/* A task is sent again only with at least this much of its deadline left. */
#define RESUBMIT_MIN_LEFT_US  (2000u)

/* First frame of every message on the submit pipe. */
typedef struct submit_meta {
    uint64_t task_id;     /* 0 asks the I/O thread to stop */
    uint64_t deadline_us; /* absolute, on this machine's monotonic clock */
} submit_meta;

struct p2c2r_result {
    uint64_t task_id;          /* the id submit() returned */
    int status;                /* P2C2R_OK or the error */
    char *detail;              /* error detail, never NULL */
    p2c2r_codec codec;         /* output encoding */
    p2c2r_pixel_format format; /* output pixel layout */
    uint32_t width, height;    /* output size */
    zmq_msg_t payload;         /* output bytes, kept as received (no copy) */
    p2c2r_timings timings;     /* where the time went */
};

/* A task the I/O thread is waiting on. */
typedef struct io_task {
    uint64_t task_id;      /* hash key */
    uint64_t submitted_us; /* when submit() ran */
    uint64_t deadline_us;  /* absolute deadline */
    uint64_t expire_us;    /* deadline + grace: ended locally after this */
    zmq_msg_t env;         /* the encoded SUBMIT, kept to send it again */
    zmq_msg_t payload;     /* a reference to its payload, likewise */
    bool has_payload;      /* payload holds a frame */
} io_task;

/* What the I/O thread knows of the coordinator. */
typedef struct io_state {
    zhashx_t *inflight;   /* task id -> io_task */
    uint64_t next_expiry; /* earliest expire_us (UINT64_MAX: none) */
    uint64_t instance;    /* the coordinator's instance last heard (0: none yet) */
    uint64_t last_heard;  /* when it last said anything */
    uint64_t next_beat;   /* when to send the next heartbeat */
    bool disconnected;    /* the monitor saw the connection drop */
    void *monitor;        /* PAIR receiving the DEALER's connection events */
} io_state;

struct p2c2r_client {
    p2c2r_client_config config;   /* settings with defaults filled in */
    char *endpoint;               /* copy of config.coordinator */
    zsock_t *dealer;              /* I/O thread: to the coordinator */
    zsock_t *submit_tx;           /* game side of the submit pipe */
    zsock_t *submit_rx;           /* I/O side of the submit pipe */
    zsock_t *result_tx;           /* I/O side of the result pipe */
    zsock_t *result_rx;           /* game side of the result pipe */
    pthread_mutex_t submit_lock;  /* serialises submit_tx */
    pthread_mutex_t result_lock;  /* serialises result_rx */
    pthread_t io_thread;          /* runs io_loop */
    bool io_started;              /* whether io_thread must be joined */
    uint64_t session;             /* our random id, sent with every message */
    char monitor_endpoint[64];    /* inproc address of the DEALER's event monitor */
    atomic_uint pending;          /* submitted and not yet polled */
    atomic_uint_fast64_t next_id; /* last task id handed out */
};

static void io_task_free(void **item)
{
    io_task *t = *item;
    if (t) {
        zmq_msg_close(&t->env);
        zmq_msg_close(&t->payload);
    }
    free(t);
    *item = NULL;
}

/* ---- results ---------------------------------------------------------------------- */

static p2c2r_result *result_new(uint64_t task_id, int status, const char *detail)
{
    p2c2r_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->detail = strdup(detail ? detail : "");
    if (!r->detail) {
        free(r);
        return NULL;
    }
    r->task_id = task_id;
    r->status = status;
    zmq_msg_init(&r->payload);
    return r;
}

void p2c2r_result_free(p2c2r_result **result)
{
    if (!result || !*result)
        return;
    zmq_msg_close(&(*result)->payload);
    free((*result)->detail);
    free(*result);
    *result = NULL;
}

uint64_t p2c2r_result_task_id(const p2c2r_result *r)
{
    return r->task_id;
}

int p2c2r_result_status(const p2c2r_result *r)
{
    return r->status;
}

const char *p2c2r_result_detail(const p2c2r_result *r)
{
    return r->detail;
}

p2c2r_codec p2c2r_result_codec(const p2c2r_result *r)
{
    return r->codec;
}

p2c2r_pixel_format p2c2r_result_pixel_format(const p2c2r_result *r)
{
    return r->format;
}

uint32_t p2c2r_result_width(const p2c2r_result *r)
{
    return r->width;
}

uint32_t p2c2r_result_height(const p2c2r_result *r)
{
    return r->height;
}

const void *p2c2r_result_data(const p2c2r_result *r, size_t *size)
{
    if (size)
        *size = zmq_msg_size((zmq_msg_t *)&r->payload);
    return zmq_msg_data((zmq_msg_t *)&r->payload);
}

void p2c2r_result_timings(const p2c2r_result *r, p2c2r_timings *timings)
{
    *timings = r->timings;
}

/* ---- I/O thread ------------------------------------------------------------------- */

/* Hand a finished task to the game side. The pipe has no high-water mark (the submit
 * window bounds it), so this does not block. */
static void deliver(p2c2r_client *c, p2c2r_result *r)
{
    if (zmq_send(zsock_resolve(c->result_tx), &r, sizeof r, 0) != (int)sizeof r)
        p2c2r_result_free(&r); /* only when the client is being torn down */
}

/* End a task locally with an error (when the result cannot be built, or nothing came). */
static void deliver_error(p2c2r_client *c, zhashx_t *inflight, uint64_t task_id, int status,
                          const char *detail)
{
    io_task *t = zhashx_lookup(inflight, &task_id);
    p2c2r_result *r = result_new(task_id, status, detail);
    if (r && t)
        r->timings.total_us = p2c2r__now_us() - t->submitted_us;
    zhashx_delete(inflight, &task_id);
    if (r)
        deliver(c, r);
}

/* Send a task's SUBMIT to the coordinator: the first time as encoded by submit(), again
 * (after a restart or reconnect) with the deadline re-encoded as the time left now.
 * Returns false when it could not be queued for sending. */
static bool io_send_task(p2c2r_client *c, io_task *t, bool again)
{
    void *dealer = zsock_resolve(c->dealer);
    zmq_msg_t env, payload;
    zmq_msg_init(&env);
    zmq_msg_init(&payload);
    if (again) {
        p2c2r_envelope *e = NULL;
        uint64_t now = p2c2r__now_us();
        if (p2c2r__envelope_decode(zmq_msg_data(&t->env), zmq_msg_size(&t->env), &e) != P2C2R_OK)
            return false;
        e->deadline_us = t->deadline_us > now ? t->deadline_us - now : 1;
        int rc = p2c2r__envelope_encode(e, &env);
        p2c2r__envelope_free(&e);
        if (rc != P2C2R_OK)
            return false;
    } else if (zmq_msg_copy(&env, &t->env) != 0) {
        return false;
    }
    if (t->has_payload)
        zmq_msg_copy(&payload, &t->payload);
    int rc = zmq_msg_send(&env, dealer, ZMQ_DONTWAIT | (t->has_payload ? ZMQ_SNDMORE : 0));
    if (rc >= 0 && t->has_payload)
        rc = zmq_msg_send(&payload, dealer, ZMQ_DONTWAIT);
    zmq_msg_close(&env);
    zmq_msg_close(&payload);
    return rc >= 0;
}

/* Forward one submission from the pipe to the coordinator. Returns false on "stop". */
static bool io_on_submit(p2c2r_client *c, io_state *io)
{
    void *rx = zsock_resolve(c->submit_rx);
    submit_meta meta;
    if (zmq_recv(rx, &meta, sizeof meta, 0) != (int)sizeof meta || meta.task_id == 0)
        return false;
    io_task *t = calloc(1, sizeof *t);
    if (t) {
        zmq_msg_init(&t->env);
        zmq_msg_init(&t->payload);
    }
    zmq_msg_t discard;
    zmq_msg_init(&discard);
    zmq_msg_recv(t ? &t->env : &discard, rx, 0);
    bool has_payload = zmq_msg_more(t ? &t->env : &discard);
    if (has_payload)
        zmq_msg_recv(t ? &t->payload : &discard, rx, 0);
    zmq_msg_close(&discard);
    if (!t) {
        p2c2r_result *r = result_new(meta.task_id, P2C2R_E_NOMEM, "client out of memory");
        if (r)
            deliver(c, r);
        return true;
    }
    t->task_id = meta.task_id;
    t->has_payload = has_payload;
    t->submitted_us = p2c2r__now_us();
    t->deadline_us = meta.deadline_us;
    t->expire_us = meta.deadline_us + (uint64_t)c->config.grace_ms * 1000u;
    zhashx_insert(io->inflight, &t->task_id, t);
    if (zhashx_size(io->inflight) == 1) {
        /* The first task after a quiet spell: silence so far says nothing. */
        io->last_heard = t->submitted_us;
        io->next_beat = t->submitted_us + HEARTBEAT_US;
    }
    if (t->expire_us < io->next_expiry)
        io->next_expiry = t->expire_us;
    if (io->next_beat < io->next_expiry)
        io->next_expiry = io->next_beat;
    if (!io_send_task(c, t, false))
        deliver_error(c, io->inflight, meta.task_id, P2C2R_E_IO,
                      "cannot queue the task towards the coordinator");
    return true;
}

/* Send every unfinished task again, or end it when too little of its deadline is left. */
static void io_resubmit_all(p2c2r_client *c, io_state *io, const char *why)
{
    uint64_t now = p2c2r__now_us();
    /* Ending a task removes it from the table: walk a copy of the ids. */
    size_t n = 0;
    uint64_t *ids = malloc((zhashx_size(io->inflight) + 1) * sizeof *ids);
    for (io_task *t = zhashx_first(io->inflight); t; t = zhashx_next(io->inflight)) {
        if (ids)
            ids[n++] = t->task_id;
        else if (!(t->deadline_us > now + RESUBMIT_MIN_LEFT_US && io_send_task(c, t, true)))
            t->expire_us = io->next_expiry = now; /* no memory to end it here: its timer will */
    }
    for (size_t i = 0; i < n; i++) {
        io_task *t = zhashx_lookup(io->inflight, &ids[i]);
        if (t->deadline_us > now + RESUBMIT_MIN_LEFT_US && io_send_task(c, t, true))
            continue;
        char detail[128];
        snprintf(detail, sizeof detail, "%s; too little time left to send the task again", why);
        deliver_error(c, io->inflight, ids[i], P2C2R_E_COORDLOST, detail);
    }
    free(ids);
}

/* Every message from the coordinator says which instance sent it. */
static void io_heard(p2c2r_client *c, io_state *io, uint64_t instance)
{
    io->last_heard = p2c2r__now_us();
    if (!instance || instance == io->instance)
        return;
    uint64_t before = io->instance;
    io->instance = instance;
    if (before)
        io_resubmit_all(c, io, "the coordinator restarted and lost the task");
}

static void io_on_answer(p2c2r_client *c, io_state *io)
{
    p2c2r_envelope_msg msg;
    int rc = p2c2r__envelope_recv(zsock_resolve(c->dealer), false, ZMQ_DONTWAIT, &msg);
    if (rc != P2C2R_OK)
        goto done; /* malformed: without an id there is no task to end; its timer will */
    const p2c2r_envelope *env = msg.env;
    io_heard(c, io, env->instance);
    if (env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT)
        goto done;
    io_task *t = zhashx_lookup(io->inflight, &env->task_id);
    if (!t)
        goto done; /* already ended: its one answer was given */
    bool ok = env->type == P2C2R__WIRE__MSG_TYPE__RESULT;
    p2c2r_result *r = result_new(env->task_id, ok ? P2C2R_OK : env->status, env->detail);
    if (!r) {
        deliver_error(c, io->inflight, env->task_id, P2C2R_E_NOMEM, "client out of memory");
        goto done;
    }
    if (!ok && r->status == P2C2R_OK)
        r->status = P2C2R_E_PROTOCOL; /* an ERROR must carry a code */
    if (env->frame) {
        r->codec = (p2c2r_codec)env->frame->codec;
        r->format = (p2c2r_pixel_format)env->frame->pixel_format;
        r->width = env->frame->width;
        r->height = env->frame->height;
    }
    if (env->timing) {
        r->timings.queue_us = env->timing->queue_us;
        r->timings.peer_us = env->timing->peer_us;
        r->timings.decode_us = env->timing->decode_us;
        r->timings.compute_us = env->timing->compute_us;
        r->timings.encode_us = env->timing->encode_us;
    }
    r->timings.total_us = p2c2r__now_us() - t->submitted_us;
    if (ok && msg.has_payload)
        zmq_msg_move(&r->payload, &msg.payload);
    zhashx_delete(io->inflight, &env->task_id);
    deliver(c, r);
done:
    p2c2r__envelope_msg_close(&msg);
}

/* A connection event from the DEALER's monitor: after a reconnect, SUBMITs may have been
 * lost with the old connection, so every unfinished task goes again (the coordinator runs
 * each once). */
static void io_on_monitor(p2c2r_client *c, io_state *io)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, io->monitor, 0) >= 0 && zmq_msg_more(&ev))
        zmq_msg_recv(&addr, io->monitor, 0);
    uint16_t event = 0;
    if (zmq_msg_size(&ev) >= sizeof event)
        memcpy(&event, zmq_msg_data(&ev), sizeof event);
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    if (event == ZMQ_EVENT_DISCONNECTED) {
        io->disconnected = true;
    } else if (event == ZMQ_EVENT_CONNECTED && io->disconnected) {
        io->disconnected = false;
        io_resubmit_all(c, io, "the connection to the coordinator broke");
    }
}

/* End the tasks nothing came for, and keep the coordinator talking while any is in
 * flight; returns the next time to look again. */
static uint64_t io_timers(p2c2r_client *c, io_state *io, uint64_t now)
{
    bool silent = now > io->last_heard + LIVENESS_US;
    if (zhashx_size(io->inflight) && now >= io->next_beat) {
        p2c2r_envelope beat;
        p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
        beat.sender = c->session;
        p2c2r__envelope_send(zsock_resolve(c->dealer), NULL, 0, &beat, NULL, ZMQ_DONTWAIT);
        io->next_beat = now + HEARTBEAT_US;
    }
    uint64_t next = UINT64_MAX;
    uint64_t expired[64];
    size_t n = 0;
    for (io_task *t = zhashx_first(io->inflight); t; t = zhashx_next(io->inflight)) {
        /* An unreachable coordinator will not answer in the grace either. */
        uint64_t due = silent ? t->deadline_us : t->expire_us;
        if (due <= now && n < 64)
            expired[n++] = t->task_id;
        else if (due < next)
            next = due;
    }
    for (size_t i = 0; i < n; i++)
        deliver_error(c, io->inflight, expired[i], silent ? P2C2R_E_COORDLOST : P2C2R_E_DEADLINE,
                      silent ? "no word from the coordinator: unreachable or down"
                             : "no answer from the cluster by the deadline");
    if (n == 64)
        return now; /* more may be due: look again at once */
    if (zhashx_size(io->inflight)) {
        if (io->next_beat < next)
            next = io->next_beat;
        if (!silent && io->last_heard + LIVENESS_US < next)
            next = io->last_heard + LIVENESS_US + 1;
    }
    return next;
}

static void *io_loop(void *arg)
{
    p2c2r_client *c = arg;
    io_state io = {.next_expiry = UINT64_MAX};
    io.inflight = p2c2r__idmap_new();
    zsock_t *monitor = zsock_new(ZMQ_PAIR);
    if (!io.inflight || !monitor || zsock_connect(monitor, "%s", c->monitor_endpoint) != 0) {
        zhashx_destroy(&io.inflight);
        zsock_destroy(&monitor);
        return NULL;
    }
    io.monitor = zsock_resolve(monitor);
    zhashx_set_destructor(io.inflight, io_task_free);

    zmq_pollitem_t items[3] = {
        {zsock_resolve(c->submit_rx), 0, ZMQ_POLLIN, 0},
        {zsock_resolve(c->dealer), 0, ZMQ_POLLIN, 0},
        {io.monitor, 0, ZMQ_POLLIN, 0},
    };
    for (;;) {
        uint64_t now = p2c2r__now_us();
        long timeout = io.next_expiry == UINT64_MAX ? -1
                       : io.next_expiry > now       ? (long)((io.next_expiry - now + 999) / 1000)
                                                    : 0;
        if (zmq_poll(items, 3, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if ((items[0].revents & ZMQ_POLLIN) && !io_on_submit(c, &io))
            break;
        for (int i = 0; i < 64 && (zsock_events(c->dealer) & ZMQ_POLLIN); i++)
            io_on_answer(c, &io);
        if (items[2].revents & ZMQ_POLLIN)
            io_on_monitor(c, &io);
        now = p2c2r__now_us();
        if (now >= io.next_expiry)
            io.next_expiry = io_timers(c, &io, now);
    }
    zhashx_destroy(&io.inflight);
    zsock_destroy(&monitor);
    return NULL;
}

/* ---- game side -------------------------------------------------------------------- */

p2c2r_client *p2c2r_client_new(const p2c2r_client_config *config, int *err)
{
    int rc = P2C2R_E_INVAL;
    p2c2r_client *c = NULL;
    if (!config || !config->coordinator || !config->coordinator[0])
        goto fail;
    /* A library must not take the game's SIGINT/SIGTERM: CZMQ installs its own handlers
     * on first use unless told not to. */
    zsys_handler_set(NULL);
    rc = P2C2R_E_NOMEM;
    c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    pthread_mutex_init(&c->submit_lock, NULL);
    pthread_mutex_init(&c->result_lock, NULL);
    c->config = *config;
    if (!c->config.max_in_flight)
        c->config.max_in_flight = DEFAULT_MAX_IN_FLIGHT;
    if (!c->config.grace_ms)
        c->config.grace_ms = DEFAULT_GRACE_MS;
    c->endpoint = strdup(config->coordinator);
    c->config.coordinator = c->endpoint;

    /* Pipe names only need to be unique in this process. */
    char name[64];
    snprintf(name, sizeof name, "inproc://p2c2r-client-%p-submit", (void *)c);
    c->submit_rx = zsock_new(ZMQ_PAIR);
    c->submit_tx = zsock_new(ZMQ_PAIR);
    if (!c->endpoint || !c->submit_rx || !c->submit_tx || zsock_bind(c->submit_rx, "%s", name) ||
        zsock_connect(c->submit_tx, "%s", name))
        goto fail;
    snprintf(name, sizeof name, "inproc://p2c2r-client-%p-result", (void *)c);
    c->result_rx = zsock_new(ZMQ_PAIR);
    c->result_tx = zsock_new(ZMQ_PAIR);
    if (!c->result_rx || !c->result_tx || zsock_bind(c->result_rx, "%s", name) ||
        zsock_connect(c->result_tx, "%s", name))
        goto fail;
    /* The submit window bounds both pipes; a high-water mark could only turn that bound
     * into a blocked game thread. */
    zsock_set_sndhwm(c->submit_tx, 0);
    zsock_set_rcvhwm(c->submit_rx, 0);
    zsock_set_sndhwm(c->result_tx, 0);
    zsock_set_rcvhwm(c->result_rx, 0);

    c->dealer = zsock_new(ZMQ_DEALER);
    if (!c->dealer)
        goto fail;
    zsock_set_linger(c->dealer, 0);
    zsock_set_reconnect_ivl(c->dealer, RECONNECT_IVL_MS);
    zsock_set_reconnect_ivl_max(c->dealer, RECONNECT_IVL_MAX_MS);
    zsock_set_maxmsgsize(c->dealer, (int)(P2C2R_PAYLOAD_MAX_BYTES + P2C2R_ENVELOPE_MAX_BYTES));
    c->session = p2c2r__random_id();
    snprintf(c->monitor_endpoint, sizeof c->monitor_endpoint, "inproc://p2c2r-client-%p-monitor",
             (void *)c);
    if (zmq_socket_monitor(zsock_resolve(c->dealer), c->monitor_endpoint,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) != 0)
        goto fail;
    if (zsock_connect(c->dealer, "%s", c->endpoint) < 0) {
        rc = P2C2R_E_INVAL; /* a malformed endpoint */
        goto fail;
    }
    if (pthread_create(&c->io_thread, NULL, io_loop, c) != 0)
        goto fail;
    c->io_started = true;
    return c;
fail:
    p2c2r_client_destroy(&c);
    if (err)
        *err = rc;
    return NULL;
}

void p2c2r_client_destroy(p2c2r_client **client)
{
    if (!client || !*client)
        return;
    p2c2r_client *c = *client;
    if (c->io_started) {
        submit_meta stop = {0, 0};
        pthread_mutex_lock(&c->submit_lock);
        zmq_send(zsock_resolve(c->submit_tx), &stop, sizeof stop, 0);
        pthread_mutex_unlock(&c->submit_lock);
        pthread_join(c->io_thread, NULL);
    }
    if (c->result_rx) {
        p2c2r_result *r;
        while (zmq_recv(zsock_resolve(c->result_rx), &r, sizeof r, ZMQ_DONTWAIT) == sizeof r)
            p2c2r_result_free(&r);
    }
    zsock_destroy(&c->dealer);
    zsock_destroy(&c->submit_tx);
    zsock_destroy(&c->submit_rx);
    zsock_destroy(&c->result_tx);
    zsock_destroy(&c->result_rx);
    pthread_mutex_destroy(&c->submit_lock);
    pthread_mutex_destroy(&c->result_lock);
    free(c->endpoint);
    free(c);
    *client = NULL;
}

/* Validate, encode and hand one task to the I/O thread. */
static int submit(p2c2r_client *c, p2c2r_envelope *env, const void *data, size_t size,
                  uint32_t deadline_ms, uint64_t *task_id)
{
    if (!c || !task_id || (size && !data))
        return P2C2R_E_INVAL;
    env->deadline_us = (uint64_t)(deadline_ms ? deadline_ms : DEFAULT_DEADLINE_MS) * 1000u;
    const char *detail;
    int rc = p2c2r__task_validate(env, size, &detail);
    if (rc != P2C2R_OK)
        return rc;
    /* Claim a window slot first; give it back on any failure below. */
    unsigned before = atomic_fetch_add(&c->pending, 1);
    if (before >= c->config.max_in_flight) {
        atomic_fetch_sub(&c->pending, 1);
        return P2C2R_E_BUSY;
    }
    submit_meta meta;
    meta.task_id = atomic_fetch_add(&c->next_id, 1) + 1;
    meta.deadline_us = p2c2r__now_us() + env->deadline_us;
    env->task_id = meta.task_id;
    env->sender = c->session;

    zmq_msg_t head, payload;
    rc = p2c2r__envelope_encode(env, &head);
    if (rc != P2C2R_OK)
        goto fail;
    if (zmq_msg_init_size(&payload, size) != 0) {
        zmq_msg_close(&head);
        rc = P2C2R_E_NOMEM;
        goto fail;
    }
    if (size)
        memcpy(zmq_msg_data(&payload), data, size);

    pthread_mutex_lock(&c->submit_lock);
    void *tx = zsock_resolve(c->submit_tx);
    int sent = zmq_send(tx, &meta, sizeof meta, ZMQ_SNDMORE) == (int)sizeof meta &&
               zmq_msg_send(&head, tx, ZMQ_SNDMORE) >= 0 && zmq_msg_send(&payload, tx, 0) >= 0;
    pthread_mutex_unlock(&c->submit_lock);
    zmq_msg_close(&head);
    zmq_msg_close(&payload);
    if (!sent) {
        rc = P2C2R_E_IO;
        goto fail;
    }
    *task_id = meta.task_id;
    return P2C2R_OK;
fail:
    atomic_fetch_sub(&c->pending, 1);
    return rc;
}

int p2c2r_submit_upscale(p2c2r_client *c, const p2c2r_upscale_desc *desc, const void *data,
                         size_t size, uint64_t *task_id)
{
    if (!desc)
        return P2C2R_E_INVAL;
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    frame.codec = (P2c2r__Wire__Codec)desc->codec;
    frame.pixel_format = (P2c2r__Wire__PixelFormat)desc->pixel_format;
    frame.width = desc->width;
    frame.height = desc->height;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    up.scale = desc->scale;
    up.mode = desc->mode ? (P2c2r__Wire__UpscaleMode)desc->mode : P2C2R__WIRE__UPSCALE_MODE__FAST;
    up.output_codec = desc->output_codec ? (P2c2r__Wire__Codec)desc->output_codec
                                         : P2C2R__WIRE__CODEC__CODEC_JPEG;
    up.jpeg_quality = desc->jpeg_quality ? desc->jpeg_quality : P2C2R_JPEG_QUALITY_DEF;
    P2c2r__Wire__TaskNeeds needs = P2C2R__WIRE__TASK_NEEDS__INIT;
    needs.runtime = (P2c2r__Wire__Runtime)desc->runtime;
    needs.memory_bytes = desc->memory_bytes;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.kind = (char *)p2c2r__task_kind_name(P2C2R_KIND_UPSCALE);
    env.priority = desc->priority;
    env.frame = &frame;
    env.upscale = &up;
    if (desc->runtime || desc->memory_bytes)
        env.needs = &needs;
    return submit(c, &env, data, size, desc->deadline_ms, task_id);
}

int p2c2r_submit_noop(p2c2r_client *c, const void *data, size_t size, uint32_t deadline_ms,
                      uint64_t *task_id)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.kind = (char *)p2c2r__task_kind_name(P2C2R_KIND_NOOP);
    return submit(c, &env, data, size, deadline_ms, task_id);
}

int p2c2r_submit_sleep(p2c2r_client *c, uint32_t sleep_ms, const void *data, size_t size,
                       uint32_t deadline_ms, uint64_t *task_id)
{
    P2c2r__Wire__SleepParams params = P2C2R__WIRE__SLEEP_PARAMS__INIT;
    params.ms = sleep_ms;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.kind = (char *)p2c2r__task_kind_name(P2C2R_KIND_SLEEP);
    env.sleep = &params;
    return submit(c, &env, data, size, deadline_ms, task_id);
}

int p2c2r_poll(p2c2r_client *c, int timeout_ms, p2c2r_result **result)
{
    if (!c || !result)
        return P2C2R_E_INVAL;
    *result = NULL;
    pthread_mutex_lock(&c->result_lock);
    void *rx = zsock_resolve(c->result_rx);
    zmq_pollitem_t item = {rx, 0, ZMQ_POLLIN, 0};
    int rc = P2C2R_E_TIMEOUT;
    int n;
    do
        n = zmq_poll(&item, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    p2c2r_result *r;
    if (n > 0 && zmq_recv(rx, &r, sizeof r, ZMQ_DONTWAIT) == (int)sizeof r) {
        *result = r;
        atomic_fetch_sub(&c->pending, 1);
        rc = P2C2R_OK;
    }
    pthread_mutex_unlock(&c->result_lock);
    return rc;
}

uint32_t p2c2r_client_pending(const p2c2r_client *c)
{
    return atomic_load(&((p2c2r_client *)c)->pending);
}
