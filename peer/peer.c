/* peer: see peer.h. */
#include "peer/peer.h"

#include <czmq.h>
#include <stdatomic.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/envelope.h"
#include "common/log.h"
#include "common/random.h"
#include "common/task.h"
#include "peer/caps.h"
#include "peer/kind.h"
#include "peer/metrics.h"
#include "peer/resources.h"
#include "peer/runtime.h"
#include "peer/worker.h"

/* How long goodbye and final results may take to leave when the peer stops. */
#define SHUTDOWN_LINGER_MS   500
/* Re-registration backs off from one heartbeat period up to this, so a coordinator that
 * keeps saying "unknown peer" gets one hello per period at first and fewer after. */
#define HELLO_BACKOFF_MAX_US (2000ull * 1000u)

/* Heartbeats between two that carry PeerInfo (free memory) when nothing else changed. */
#define BEATS_PER_INFO 16

/* Most filter-table names a hello lists: with a full load report they must still fit in
 * one envelope (P2C2R_ENVELOPE_MAX_BYTES). */
#define HELLO_MAX_RESIDENT 16

/* What one worker is doing. */
typedef struct peer_slot {
    bool busy;             /* it holds a job */
    uint64_t instance;     /* the coordinator instance that assigned the job */
    uint64_t task_id;      /* that coordinator's id for it */
    atomic_bool cancelled; /* the coordinator gave it up (read by the worker) */
} peer_slot;

struct peer {
    peer_config config;        /* settings; name copied below */
    char name[64];             /* what the coordinator calls us */
    uint64_t sender;           /* our random id, the same for the life of the process */
    zsock_t *dealer;           /* to the coordinator */
    zsock_t *monitor;          /* the dealer's failed CURVE handshakes, or NULL */
    void *sock;                /* raw handle of dealer */
    zactor_t **workers;        /* one per slot */
    peer_slot *slots;          /* what each worker is doing */
    uint32_t nbusy;            /* count of busy workers */
    zmq_pollitem_t *items;     /* dealer, then the pipes of the busy workers */
    p2c2r_batch *answers;      /* answers of the inline tasks of a batch, being gathered */
    uint32_t *polled;          /* the worker of each of those pipes */
    uint64_t next_beat_us;     /* when to send the next heartbeat (or hello) */
    uint64_t instance;         /* the coordinator we last heard from (0: none yet) */
    bool coordinator_inline;   /* its last message said it reads inline payloads */
    bool coordinator_columns;  /* and batches in columns */
    bool registered;           /* that coordinator knows us */
    uint64_t last_assigned;    /* highest ASSIGN id received from that instance */
    uint64_t hello_sent_us;    /* when the last PEER_HELLO went out */
    uint64_t hello_backoff_us; /* wait before another hello while unregistered */
    uint64_t done;             /* tasks answered */
    peer_resources res;        /* thread pool and filter tables shared by the workers */
    peer_caps caps;            /* what it runs and has, as told to the coordinator */
    peer_runtime runtime;      /* what its frames run on */
    uint64_t echo_us;          /* the coordinator's clock in its last heartbeat (0: none) */
    uint64_t echo_at_us;       /* when that heartbeat came, our clock */
    uint32_t beats_since_info; /* heartbeats sent without PeerInfo */
    char told_names[HELLO_MAX_RESIDENT][P2C2R_UPSCALE_NAME_MAX]; /* tables last reported */
    size_t told_resident;                                        /* entries in told_names */
};

static void send_error(peer *p, uint64_t instance, uint64_t task_id, int status, const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.instance = instance;
    env.sender = p->sender;
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    int rc = p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_limited(P2C2R_LOG_WARN, "error for task %" PRIu64 " not sent: %s", task_id,
                    p2c2r_strerror(rc));
}

/* Fill load with what the workers run: the current coordinator's task ids (into ids,
 * room for config.slots) and how many slots work for another instance. */
static void fill_load(const peer *p, P2c2r__Wire__PeerLoad *load, uint64_t *ids)
{
    size_t n = 0;
    uint32_t foreign = 0;
    for (uint32_t w = 0; w < p->config.slots; w++) {
        if (!p->slots[w].busy)
            continue;
        if (p->slots[w].instance == p->instance)
            ids[n++] = p->slots[w].task_id;
        else
            foreign++;
    }
    load->running = ids;
    load->n_running = n;
    load->last_assigned = p->last_assigned;
    load->foreign_busy = foreign;
}

/* What a hello or a heartbeat says of the peer: everything PeerInfo holds, with the
 * filter tables resident now sorted by name (the cache lists them most recently used
 * first, an order that changes with every frame and says nothing to the coordinator). */
typedef struct peer_report {
    P2c2r__Wire__PeerInfo info;                             /* points into the fields below */
    char *kinds[PEER_CAPS_MAX_KINDS];                       /* kind names */
    P2c2r__Wire__UpscaleMode modes[4];                      /* upscale modes */
    char names[HELLO_MAX_RESIDENT][P2C2R_UPSCALE_NAME_MAX]; /* resident tables */
    char *resident[HELLO_MAX_RESIDENT];                     /* pointers into names */
    peer_caps_devices devices;                              /* its GPUs */
} peer_report;

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void fill_report(const peer *p, peer_report *r)
{
    static const P2c2r__Wire__PeerInfo empty = P2C2R__WIRE__PEER_INFO__INIT;
    r->info = empty;
    peer_caps_fill(&p->caps, &r->info, r->kinds, r->modes);
    peer_caps_fill_devices(&p->caps, &p->res, p->config.slots, &r->info, &r->devices);
    r->info.name = (char *)p->name;
    r->info.slots = p->config.slots;
    r->info.batches = true;
    r->info.inline_payloads = true;
    size_t held = peer_resources_resident(&p->res, r->names, HELLO_MAX_RESIDENT);
    r->info.n_resident = held < HELLO_MAX_RESIDENT ? held : HELLO_MAX_RESIDENT;
    qsort(r->names, r->info.n_resident, sizeof r->names[0], compare_names);
    for (size_t i = 0; i < r->info.n_resident; i++)
        r->resident[i] = r->names[i];
    r->info.resident = r->resident;
}

/* Whether the resident tables differ from what the coordinator was last told; remembers
 * them as told when they do. */
static bool resident_changed(peer *p, const peer_report *r)
{
    size_t n = r->info.n_resident;
    if (n == p->told_resident && !memcmp(p->told_names, r->names, n * sizeof r->names[0]))
        return false;
    memcpy(p->told_names, r->names, n * sizeof r->names[0]);
    p->told_resident = n;
    return true;
}

/* Whether a CURVE handshake has failed since the last look. */
static bool refused(peer *p)
{
    bool any = false;
    zmsg_t *ev;
    while (p->monitor && (ev = zmsg_recv(p->monitor))) {
        any = true;
        zmsg_destroy(&ev);
    }
    return any;
}

/* A heartbeat: what the peer runs, and its PeerInfo when the resident tables changed. */
static void send_beat(peer *p)
{
    P2c2r__Wire__PeerLoad load = P2C2R__WIRE__PEER_LOAD__INIT;
    uint64_t ids[p->config.slots];
    fill_load(p, &load, ids);
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    env.instance = p->instance;
    env.sender = p->sender;
    env.load = &load;
    peer_report report;
    fill_report(p, &report);
    /* PeerInfo again when its tables changed, and now and then for its free memory. */
    if (resident_changed(p, &report) || ++p->beats_since_info >= BEATS_PER_INFO) {
        env.peer = &report.info;
        p->beats_since_info = 0;
    }
    if (p->echo_us) {
        /* Back with the time it waited here, so the coordinator measures the round trip. */
        env.echo_us = p->echo_us;
        env.held_us = p2c2r__now_us() - p->echo_at_us;
        p->echo_us = 0;
    }
    p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
}

static void send_hello(peer *p)
{
    peer_report report;
    fill_report(p, &report);
    resident_changed(p, &report);
    P2c2r__Wire__PeerLoad load = P2C2R__WIRE__PEER_LOAD__INIT;
    uint64_t ids[p->config.slots];
    fill_load(p, &load, ids);
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__PEER_HELLO);
    env.instance = p->instance;
    env.sender = p->sender;
    env.peer = &report.info;
    env.load = &load;
    p->hello_sent_us = p2c2r__now_us();
    int rc = p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
    if (rc == P2C2R_E_TOOBIG) {
        /* Registering matters more than listing what is resident. */
        report.info.n_resident = 0;
        rc = p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
    }
    if (rc != P2C2R_OK)
        log_limited(P2C2R_LOG_WARN, "hello not sent: %s%s", p2c2r_strerror(rc),
                    refused(p) ? " (the coordinator refused the connection: this peer's key is "
                                 "not on its peers allowlist, or --coordinator-key is wrong)"
                               : "");
}

/* Say hello unless one went out within the backoff; each unanswered hello doubles it. */
static void maybe_hello(peer *p, uint64_t now)
{
    if (p->hello_sent_us && now < p->hello_sent_us + p->hello_backoff_us)
        return;
    if (p->hello_sent_us) {
        p->hello_backoff_us *= 2;
        if (p->hello_backoff_us > HELLO_BACKOFF_MAX_US)
            p->hello_backoff_us = HELLO_BACKOFF_MAX_US;
    }
    send_hello(p);
}

/* Every message from the coordinator carries its instance: a new one means the
 * coordinator we knew is gone, with every task it gave us. */
static void note_instance(peer *p, uint64_t instance)
{
    if (!instance || instance == p->instance)
        return;
    if (p->instance)
        log_info("coordinator restarted (instance %016" PRIx64 " -> %016" PRIx64 ")%s", p->instance,
                 instance, p->nbusy ? "; results for the old one will be dropped" : "");
    p->instance = instance;
    p->last_assigned = 0;
    p->registered = false;
}

static void send_simple(peer *p, P2c2r__Wire__MsgType type)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, type);
    env.instance = p->instance;
    env.sender = p->sender;
    p2c2r__envelope_send(p->sock, NULL, 0, &env, NULL, ZMQ_DONTWAIT);
}

/* One task of an ASSIGN. *envp is the envelope of a message that came alone (taken when a
 * worker runs the task) or the view of a batch item (copied when a worker runs it).
 * payload may be NULL. The answer of a kind that runs inline goes into batch when not
 * NULL, else straight to the coordinator. */
static void assign_one(peer *p, p2c2r_envelope **envp, bool is_view, zmq_msg_t *payload,
                       p2c2r_batch *batch)
{
    uint64_t now = p2c2r__now_us();
    p2c2r_envelope *env = *envp;
    if (env->instance == p->instance && env->task_id > p->last_assigned)
        p->last_assigned = env->task_id;
    size_t size = payload ? zmq_msg_size(payload) : 0;
    const char *detail;
    int rc = p2c2r__task_validate(env, size, &detail);
    int kind = peer_kind_index(env->kind);
    if (rc == P2C2R_OK && (kind < 0 || kind >= PEER_CAPS_MAX_KINDS || !p->caps.runs[kind])) {
        rc = P2C2R_E_UNSUPPORTED;
        detail = "this peer does not run that kind";
    }
    if (rc != P2C2R_OK) {
        send_error(p, env->instance, env->task_id, rc, detail);
        return;
    }
    if (peer_kinds[kind]->runs_inline) {
        peer_job job = {.env = env, .kind = kind, .received_us = now};
        job.deadline_us = now + env->deadline_us;
        zmq_msg_init(&job.payload);
        if (payload)
            zmq_msg_move(&job.payload, payload);
        peer_answer answer;
        peer_worker_answer(NULL, true, &job, &answer);
        peer_metrics_task(p->res.metrics, &job, &answer);
        zmq_msg_close(&job.payload);
        p->done++;
        if (batch) {
            bool result = answer.env.type == P2C2R__WIRE__MSG_TYPE__RESULT;
            p2c2r__batch_add(batch, answer.env.task_id, 0, answer.env.status, answer.env.detail,
                             answer.env.frame, answer.env.timing, result ? &answer.payload : NULL);
            zmq_msg_close(&answer.payload);
            return;
        }
        rc = peer_answer_send(p->sock, ZMQ_DONTWAIT, &answer);
        if (rc != P2C2R_OK)
            log_limited(P2C2R_LOG_WARN, "answer to task %" PRIu64 " not sent: %s", env->task_id,
                        p2c2r_strerror(rc));
        return;
    }
    uint32_t idle = 0;
    while (idle < p->config.slots && p->slots[idle].busy)
        idle++;
    if (idle == p->config.slots) {
        log_limited(P2C2R_LOG_WARN, "task %" PRIu64 " assigned beyond our %u slot(s)", env->task_id,
                    p->config.slots);
        send_error(p, env->instance, env->task_id, P2C2R_E_BUSY, "peer has no free slot");
        return;
    }
    uint64_t task_id = env->task_id, instance = env->instance;
    peer_job *job = calloc(1, sizeof *job);
    if (job && is_view) {
        /* The batch's envelope goes with its message; the worker gets a copy of its own. */
        if (p2c2r__envelope_dup(env, &job->env) != P2C2R_OK) {
            free(job);
            job = NULL;
        }
    } else if (job) {
        job->env = env;
        *envp = NULL;
    }
    if (!job) {
        send_error(p, instance, task_id, P2C2R_E_NOMEM, "peer out of memory");
        return;
    }
    zmq_msg_init(&job->payload);
    if (payload)
        zmq_msg_move(&job->payload, payload);
    job->kind = kind;
    job->received_us = now;
    job->deadline_us = now + job->env->deadline_us;
    atomic_store(&p->slots[idle].cancelled, false);
    job->cancelled = &p->slots[idle].cancelled;
    if (peer_worker_send(p->workers[idle], &job) != P2C2R_OK) {
        send_error(p, instance, task_id, P2C2R_E_INTERNAL, "worker unreachable");
        return;
    }
    p->slots[idle].busy = true;
    p->slots[idle].instance = instance;
    p->slots[idle].task_id = task_id;
    p->nbusy++;
    peer_metrics_busy(p->res.metrics, p->nbusy);
    log_debug("task %" PRIu64 " (%s) started in slot %u", task_id, peer_kinds[kind]->name, idle);
}

static void on_assign(peer *p, p2c2r_envelope_msg *msg)
{
    if (!msg->env->n_items) {
        assign_one(p, &msg->env, false, msg->has_payload ? &msg->payload : NULL, NULL);
        return;
    }
    /* The answers of the inline tasks leave together, as the tasks came. */
    p2c2r_batch *batch = p->answers;
    p2c2r__batch_init(batch, P2C2R__WIRE__MSG_TYPE__RESULT);
    batch->env.instance = msg->env->instance;
    batch->inline_ok = p->coordinator_inline;
    batch->columns_ok = p->coordinator_columns;
    for (size_t i = 0; i < msg->env->n_items; i++) {
        p2c2r_envelope item, *view = &item;
        p2c2r__envelope_item_view(msg->env, i, &item);
        assign_one(p, &view, true, &msg->item_payloads[i], batch);
    }
    int rc = p2c2r__batch_send(batch, p->sock, NULL, 0, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_limited(P2C2R_LOG_WARN, "answers to a batch not sent: %s", p2c2r_strerror(rc));
}

/* The coordinator gave up a task: its worker stops it if it has not started, else its
 * result is dropped (peer_worker_answer()); either way the answer frees the slot. */
static void on_cancel(peer *p, const p2c2r_envelope *env)
{
    for (uint32_t w = 0; w < p->config.slots; w++)
        if (p->slots[w].busy && p->slots[w].instance == env->instance &&
            p->slots[w].task_id == env->task_id)
            atomic_store(&p->slots[w].cancelled, true);
}

/* Handle one message from the coordinator; false when none was waiting. */
static bool on_coordinator(peer *p)
{
    p2c2r_envelope_msg msg;
    int rc = p2c2r__envelope_recv(p->sock, false, ZMQ_DONTWAIT, &msg);
    if (rc != P2C2R_OK) {
        if (rc != P2C2R_E_TIMEOUT)
            log_warn("malformed message from the coordinator: %s", p2c2r_strerror(rc));
        goto done;
    }
    note_instance(p, msg.env->instance);
    p->coordinator_inline = msg.env->inline_payloads;
    p->coordinator_columns = msg.env->reads_columns;
    switch (msg.env->type) {
    case P2C2R__WIRE__MSG_TYPE__ASSIGN:
        on_assign(p, &msg);
        break;
    case P2C2R__WIRE__MSG_TYPE__CANCEL:
        on_cancel(p, msg.env);
        break;
    case P2C2R__WIRE__MSG_TYPE__HEARTBEAT:
        /* The answer to our hello or heartbeat: we are registered with this instance. */
        if (!p->registered)
            log_info("registered with coordinator instance %016" PRIx64, p->instance);
        p->registered = true;
        p->echo_us = msg.env->echo_us;
        p->echo_at_us = p2c2r__now_us();
        p->hello_backoff_us = p->config.heartbeat_ms * 1000ull;
        break;
    case P2C2R__WIRE__MSG_TYPE__ERROR:
        if (msg.env->status == P2C2R_E_UNKNOWNPEER) {
            /* The coordinator restarted, or dropped us or our connection: register again,
             * once per backoff however many messages it refuses meanwhile. */
            if (p->registered)
                log_info("coordinator does not know us; registering again");
            p->registered = false;
            maybe_hello(p, p2c2r__now_us());
        } else {
            log_limited(P2C2R_LOG_WARN, "coordinator error: %s (%s)",
                        p2c2r_strerror(msg.env->status), msg.env->detail);
        }
        break;
    default:
        log_limited(P2C2R_LOG_WARN, "unexpected %s from the coordinator",
                    p2c2r__envelope_type_name(msg.env->type));
    }
done:
    p2c2r__envelope_msg_close(&msg);
    return rc != P2C2R_E_TIMEOUT;
}

/* Relay a worker's answer, frame by frame, to the coordinator; the worker is idle again.
 * An answer for a coordinator instance that is gone is dropped: nobody there asked. */
static void on_worker(peer *p, uint32_t w)
{
    void *pipe = zsock_resolve(zactor_sock(p->workers[w]));
    zmq_msg_t part;
    zmq_msg_init(&part);
    bool sending = p->slots[w].instance == p->instance;
    if (!sending)
        log_limited(P2C2R_LOG_INFO,
                    "result of task %" PRIu64 " dropped: it was for an earlier "
                    "coordinator instance",
                    p->slots[w].task_id);
    for (;;) {
        if (zmq_msg_recv(&part, pipe, 0) < 0)
            break;
        bool more = zmq_msg_more(&part);
        if (sending && zmq_msg_send(&part, p->sock, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
            log_limited(P2C2R_LOG_WARN, "answer dropped, coordinator not reachable: %s",
                        zmq_strerror(errno));
            sending = false;
        }
        if (!more)
            break;
    }
    zmq_msg_close(&part);
    p->slots[w].busy = false;
    p->nbusy--;
    peer_metrics_busy(p->res.metrics, p->nbusy);
    p->done++;
}

int peer_run(peer *p)
{
    p->hello_backoff_us = p->config.heartbeat_ms * 1000ull;
    send_hello(p);
    p->next_beat_us = p2c2r__now_us() + p->config.heartbeat_ms * 1000ull;
    while (!zsys_interrupted) {
        uint64_t now = p2c2r__now_us();
        long timeout = p->next_beat_us > now ? (long)((p->next_beat_us - now + 999) / 1000) : 0;
        /* Only busy workers can answer: an idle peer, or one running inline kinds, polls
         * one socket instead of one per slot. */
        uint32_t n = 1;
        for (uint32_t w = 0; w < p->config.slots && n - 1 < p->nbusy; w++)
            if (p->slots[w].busy) {
                p->items[n] =
                    (zmq_pollitem_t){zsock_resolve(zactor_sock(p->workers[w])), 0, ZMQ_POLLIN, 0};
                p->polled[n++ - 1] = w;
            }
        if (zmq_poll(p->items, (int)n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(errno));
            return P2C2R_E_IO;
        }
        for (uint32_t i = 1; i < n; i++)
            if (p->items[i].revents & ZMQ_POLLIN)
                on_worker(p, p->polled[i - 1]);
        if (p->items[0].revents & ZMQ_POLLIN)
            for (int i = 0; i < 64 && on_coordinator(p); i++)
                ;
        now = p2c2r__now_us();
        if (now >= p->next_beat_us) {
            /* Unregistered, a heartbeat would only be refused: say hello instead. */
            if (p->registered)
                send_beat(p);
            else
                maybe_hello(p, now);
            p->next_beat_us = now + p->config.heartbeat_ms * 1000ull;
        }
    }
    log_info("stopping after %" PRIu64 " task(s)", p->done);
    return P2C2R_OK;
}

const char *peer_runtime_name(const peer *p)
{
    return p->runtime.name;
}

const char *peer_metrics_served(const peer *p)
{
    return p->res.metrics ? peer_metrics_address(p->res.metrics) : NULL;
}

peer *peer_new(const peer_config *config, int *err)
{
    int rc = P2C2R_E_NOMEM;
    peer *p = calloc(1, sizeof *p);
    if (!p)
        goto fail;
    p->config = *config;
    snprintf(p->name, sizeof p->name, "%s", config->name);
    p->sender = p2c2r__random_id();
    p->workers = calloc(config->slots, sizeof *p->workers);
    p->slots = calloc(config->slots, sizeof *p->slots);
    p->items = calloc(1 + config->slots, sizeof *p->items);
    p->polled = calloc(config->slots, sizeof *p->polled);
    p->answers = malloc(sizeof *p->answers);
    p->dealer = zsock_new(ZMQ_DEALER);
    if (!p->workers || !p->slots || !p->items || !p->polled || !p->answers || !p->dealer)
        goto fail;
    rc = peer_resources_init(&p->res, config->threads);
    if (rc != P2C2R_OK)
        goto fail;
    const char *bad = NULL;
    rc = peer_caps_detect(&p->caps, config->kinds, p2c2r__upscale_simd_name(p->res.simd), &bad);
    if (rc != P2C2R_OK) {
        log_error("--kinds: this peer has no task kind '%s'", bad);
        goto fail;
    }
    rc = peer_runtime_open(&p->runtime, &p->res, config->runtime ? config->runtime : "auto",
                           config->device);
    if (rc != P2C2R_OK) {
        log_error("--runtime %s: %s", config->runtime ? config->runtime : "auto",
                  p->runtime.detail);
        goto fail;
    }
    p->caps.runtime = &p->runtime;
    log_info("runtime %s: %s", p->runtime.name, p->runtime.detail);
    for (uint32_t i = 0; i < p->runtime.ndevices; i++) {
        const peer_device *d = &p->runtime.devices[i];
        log_info("device %d: %s, %u.%u, %u multiprocessors, %" PRIu64 " MiB (%" PRIu64 " MiB free)",
                 d->ordinal, d->name, d->compute_major, d->compute_minor, d->multiprocessors,
                 d->memory_total >> 20, d->memory_free >> 20);
    }
    if (config->metrics_address) {
        p->res.metrics = peer_metrics_new(config->metrics_address, config->name, config->slots,
                                          &p->runtime, &rc);
        if (!p->res.metrics)
            goto fail;
    }
    rc = P2C2R_E_NOMEM;
    for (uint32_t w = 0; w < config->slots; w++) {
        p->workers[w] = peer_worker_new(&p->res, w);
        if (!p->workers[w])
            goto fail;
    }
    zsock_set_linger(p->dealer, SHUTDOWN_LINGER_MS);
    zsock_set_maxmsgsize(p->dealer, (int)(P2C2R_PAYLOAD_MAX_BYTES + P2C2R_ENVELOPE_MAX_BYTES));
    if (config->curve_public) {
        rc = p2c2r__curve_client_setup(zsock_resolve(p->dealer), config->curve_public,
                                       config->curve_secret, config->coordinator_key);
        if (rc != P2C2R_OK) {
            log_error("cannot set the CURVE keys: %s",
                      rc == P2C2R_E_UNSUPPORTED ? p2c2r__curve_missing() : "malformed key");
            goto fail;
        }
        /* Refusals are otherwise silent: the hellos just never get through. */
        char name[64];
        snprintf(name, sizeof name, "inproc://p2c2r-peer-monitor-%p", (void *)p);
        rc = P2C2R_E_IO;
        if (zmq_socket_monitor(zsock_resolve(p->dealer), name,
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
            !(p->monitor = zsock_new(ZMQ_PAIR)) || zsock_connect(p->monitor, "%s", name) != 0)
            goto fail;
        zsock_set_rcvtimeo(p->monitor, 0);
    }
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
    zsock_destroy(&p->monitor);
    peer_metrics_destroy(&p->res.metrics);
    peer_resources_fini(&p->res);
    free(p->workers);
    free(p->slots);
    free(p->items);
    free(p->polled);
    free(p->answers);
    free(p);
    *pp = NULL;
}
