/* wire: see wire.h.
 *
 * The DEALER has ZMQ_IMMEDIATE set: while no connection to the coordinator is up, a send
 * fails at once instead of queueing. A SUBMIT queued in a dead connection would reach a
 * coordinator that comes back seconds later with a deadline counted from when it was
 * queued; failing instead tells the I/O thread, there and then, that the cluster cannot
 * take the job (the fallback takes it, or it waits and goes on the next connect).
 */
#include "client/wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/curve.h"
#include "common/task.h"

/* Reconnects start quickly and back off to half a second, so a restarted coordinator is
 * found well within a second. */
#define RECONNECT_IVL_MS     100
#define RECONNECT_IVL_MAX_MS 500

struct sdk_outbox {
    p2c2r_batch batch;              /* the SUBMIT being put together */
    sdk_job_wire shape;             /* the first job's SUBMIT: the batch's shared fields */
    sdk_job *jobs[P2C2R_BATCH_MAX]; /* the jobs added, in order */
    size_t n;                       /* jobs added since the last send */
};

sdk_outbox *sdk_outbox_new(void)
{
    return calloc(1, sizeof(sdk_outbox));
}

void sdk_outbox_destroy(sdk_outbox **box)
{
    if (!box || !*box)
        return;
    p2c2r__batch_clear(&(*box)->batch);
    free(*box);
    *box = NULL;
}

bool sdk_outbox_fits(const sdk_outbox *box, const sdk_job *job)
{
    if (box->n == 0)
        return true;
    if (box->n == P2C2R_BATCH_MAX || !sdk_job_same_shape(box->jobs[0], job))
        return false;
    /* The jobs of one submit call stay together; those of separate calls share a message
     * only while it is small. */
    return box->jobs[box->n - 1]->batch_more ||
           box->batch.bytes + sdk_buf_size(job->buf) <= P2C2R_MERGE_MAX_BYTES;
}

/* job's payload as a message of its own over the job's buffer (no copy). */
static int payload_of(sdk_job *j, zmq_msg_t *out)
{
    if (!j->has_payload) {
        size_t size = sdk_buf_size(j->buf);
        if (size && zmq_msg_init_data(&j->payload, sdk_buf_data(j->buf), size, sdk_buf_zmq_free,
                                      sdk_buf_ref(j->buf)) != 0) {
            sdk_buf *extra = j->buf;
            sdk_buf_unref(&extra); /* the reference taken for ZeroMQ */
            zmq_msg_init(&j->payload);
            return P2C2R_E_NOMEM;
        }
        j->has_payload = true;
    }
    zmq_msg_init(out);
    return zmq_msg_copy(out, &j->payload) == 0 ? P2C2R_OK : P2C2R_E_NOMEM;
}

int sdk_outbox_add(sdk_outbox *box, sdk_job *job, uint64_t now, uint64_t sender)
{
    zmq_msg_t payload;
    int rc = payload_of(job, &payload);
    if (rc != P2C2R_OK)
        return rc;
    uint64_t left = job->deadline_us > now ? job->deadline_us - now : 1;
    if (box->n == 0) {
        sdk_job_wire_fill(job, left, sender, &box->shape);
        p2c2r__batch_init(&box->batch, P2C2R__WIRE__MSG_TYPE__SUBMIT);
        box->batch.env = box->shape.env;
        /* Each item carries its own id, deadline and frame. */
        box->batch.env.task_id = 0;
        box->batch.env.deadline_us = 0;
        box->batch.env.frame = NULL;
    }
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    bool upscale = job->kind == P2C2R_KIND_UPSCALE;
    if (upscale) {
        frame.codec = (P2c2r__Wire__Codec)job->desc.codec;
        frame.pixel_format = (P2c2r__Wire__PixelFormat)job->desc.pixel_format;
        frame.width = job->desc.width;
        frame.height = job->desc.height;
    }
    p2c2r__batch_add(&box->batch, job->id, left, P2C2R_OK, NULL, upscale ? &frame : NULL, NULL,
                     &payload);
    box->jobs[box->n++] = job;
    return P2C2R_OK;
}

size_t sdk_outbox_jobs(sdk_outbox *box, sdk_job ***jobs)
{
    *jobs = box->jobs;
    return box->n;
}

int sdk_outbox_send(sdk_outbox *box, void *sock, bool inline_ok, bool columns_ok)
{
    if (box->n == 0)
        return P2C2R_OK;
    box->n = 0;
    box->batch.inline_ok = inline_ok;
    box->batch.columns_ok = columns_ok;
    /* A DEALER with ZMQ_IMMEDIATE and no connection up, or a full queue: P2C2R_E_BUSY. */
    return p2c2r__batch_send(&box->batch, sock, NULL, 0, ZMQ_DONTWAIT);
}

p2c2r_result *sdk_answer_result(const p2c2r_envelope *env, zmq_msg_t *payload)
{
    bool ok = env->type == P2C2R__WIRE__MSG_TYPE__RESULT;
    p2c2r_result *r = sdk_result_new(env->task_id, ok ? P2C2R_OK : env->status, env->detail);
    if (!r)
        return NULL;
    if (!ok && r->status == P2C2R_OK)
        r->status = P2C2R_E_PROTOCOL; /* an ERROR must carry a code */
    r->source = ok ? P2C2R_SOURCE_CLUSTER : P2C2R_SOURCE_NONE;
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
        r->timings.cache_hit = env->timing->cache_hit;
    }
    if (ok && payload)
        zmq_msg_move(&r->payload, payload);
    return r;
}

int sdk_send_cancel(void *sock, uint64_t task_id, uint64_t sender)
{
    p2c2r_envelope cancel;
    p2c2r__envelope_init(&cancel, P2C2R__WIRE__MSG_TYPE__CANCEL);
    cancel.task_id = task_id;
    cancel.sender = sender;
    return p2c2r__envelope_send(sock, NULL, 0, &cancel, NULL, ZMQ_DONTWAIT);
}

static int set_int(void *sock, int option, int value)
{
    return zmq_setsockopt(sock, option, &value, sizeof value);
}

/* The ZeroMQ context every client of the process shares, made with the first. The SDK's
 * own rather than CZMQ's process-wide one: a game that also uses CZMQ and shuts it down
 * (zsys_shutdown() closes every socket it knows) cannot pull the clients' sockets away,
 * and a socket that cannot be made (no file descriptors left) is an error returned here,
 * where CZMQ's constructors abort. One context, not one per client: libzmq aborts when a
 * new context cannot start its threads, and a context's threads are the process's anyway.
 * It lives as long as the process. */
static void *shared_ctx;
static pthread_once_t shared_ctx_once = PTHREAD_ONCE_INIT;

static void shared_ctx_make(void)
{
    shared_ctx = zmq_ctx_new();
}

int sdk_dealer_open(const char *endpoint, const char *const *curve, void **dealer, void **monitor)
{
    pthread_once(&shared_ctx_once, shared_ctx_make);
    if (!shared_ctx)
        return P2C2R_E_NOMEM;
    *dealer = zmq_socket(shared_ctx, ZMQ_DEALER);
    *monitor = zmq_socket(shared_ctx, ZMQ_PAIR);
    if (!*dealer || !*monitor)
        return P2C2R_E_IO;
    int64_t max = P2C2R_PAYLOAD_MAX_BYTES + P2C2R_ENVELOPE_MAX_BYTES;
    if (set_int(*dealer, ZMQ_LINGER, 0) || set_int(*monitor, ZMQ_LINGER, 0) ||
        set_int(*dealer, ZMQ_IMMEDIATE, 1) ||
        set_int(*dealer, ZMQ_RECONNECT_IVL, RECONNECT_IVL_MS) ||
        set_int(*dealer, ZMQ_RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS) ||
        zmq_setsockopt(*dealer, ZMQ_MAXMSGSIZE, &max, sizeof max))
        return P2C2R_E_IO;
    /* A name never used before in this process: a client made where a destroyed one was
     * (same address) must not find the old monitor's endpoint, which the context may not
     * have let go of yet; its events would never come. */
    static atomic_uint_fast64_t serial;
    char name[64];
    snprintf(name, sizeof name, "inproc://p2c2r-client-monitor-%" PRIu64,
             (uint64_t)atomic_fetch_add(&serial, 1));
    /* Connected means the handshake is done: only then does the DEALER take messages. */
    if (zmq_socket_monitor(*dealer, name,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) ||
        zmq_connect(*monitor, name) != 0)
        return P2C2R_E_IO;
    if (curve) {
        int rc = p2c2r__curve_client_setup(*dealer, curve[0], curve[1], curve[2]);
        if (rc != P2C2R_OK)
            return rc;
    }
    if (zmq_connect(*dealer, endpoint) != 0)
        return errno == EINVAL || errno == EPROTONOSUPPORT ? P2C2R_E_INVAL /* malformed */
                                                           : P2C2R_E_IO;
    return P2C2R_OK;
}
