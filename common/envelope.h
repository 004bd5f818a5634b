/* envelope: the wire messages of proto/p2c2r.proto, and sending/receiving them over ZeroMQ.
 *
 * A message is [route][Envelope][payload] on a ROUTER socket and [Envelope][payload] on a
 * DEALER: frame 1 is the protobuf-c Envelope, the optional last frame the raw payload. The
 * payload stays a zmq_msg_t from socket to socket, so the coordinator forwards megabytes of
 * pixels without copying them, and a peer hands its output buffer to ZeroMQ without a copy.
 *
 * Sizes are checked before anything is allocated: the envelope frame against
 * P2C2R_ENVELOPE_MAX_BYTES, the whole message against the socket's ZMQ_MAXMSGSIZE, and a
 * message with too many frames is drained and refused.
 *
 * Batches (several tasks in one message, Envelope.items, see proto/p2c2r.proto) arrive
 * with one payload frame per item, or, when small, with the payloads inline in the items;
 * either way the receiver gets one zmq_msg_t per item. p2c2r__envelope_item_view() shows
 * one item as the Envelope it would have been alone, and p2c2r_batch builds one to send.
 */
#ifndef P2C2R_ENVELOPE_H
#define P2C2R_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "common/curve.h"
#include "p2c2r_error.h"
#include "p2c2r_formats.h"
#include "p2c2r.pb-c.h"

#define P2C2R_PROTOCOL_VERSION   1u
#define P2C2R_ENVELOPE_MAX_BYTES 16384u /* an encoded Envelope is never larger */
/* The highest message type this build knows; a decoded envelope's type is never above it. */
#define P2C2R_MSG_TYPE_LAST      P2C2R__WIRE__MSG_TYPE__CANCEL
#define P2C2R_BATCH_MAX          64u /* tasks in one batch, at most */
/* Tasks (or answers) that nobody asked to send together share a message only while their
 * payloads come to this many bytes or fewer. Below it a message costs more than its bytes,
 * and merging saves the coordinator, the peer and the SDK most of their work per task.
 * Above it merging saves little, and holds back the first task until the last has arrived:
 * the tasks then move through the cluster as one convoy, each stage idle while another
 * holds all of them. Noop bench, window 16, same runs: 4 KiB tasks 0.72-0.76 of zmq_limit's
 * throughput merged without a bound, 0.78-0.79 merged in pairs (8 KiB), 0.79-0.85 alone;
 * 64 B tasks 0.69-0.71 alone, 0.80-0.87 merged. */
#define P2C2R_MERGE_MAX_BYTES    4096u
/* A batch whose payloads come to this many bytes or fewer carries them inside its Envelope
 * (BatchItem.payload) when its receiver reads that: one ZeroMQ frame instead of one per
 * task. A frame costs each process on its way about 0.3 us of CPU whatever its size, and
 * copying 4 KiB costs less. */
#define P2C2R_INLINE_MAX_BYTES   4096u
#define P2C2R_PAYLOAD_MAX_BYTES  (64u << 20) /* largest payload frame accepted */
#define P2C2R_KIND_MAX_LEN       32u         /* longest task kind name */
#define P2C2R_ROUTE_MAX_BYTES    255u        /* ZeroMQ routing ids are at most 255 bytes */

typedef P2c2r__Wire__Envelope p2c2r_envelope;

/* Reset *env to an empty envelope of this type at the current protocol version, saying
 * that its sender reads batches with inline payloads (Envelope.inline_payloads). */
void p2c2r__envelope_init(p2c2r_envelope *env, P2c2r__Wire__MsgType type);

/* Decode one Envelope frame into a new envelope (free with p2c2r__envelope_free()). A
 * batch in columns comes out as the items it stands for, Envelope.columns unset.
 * P2C2R_E_TOOBIG for an oversized frame, P2C2R_E_PROTOCOL for bytes that do not parse, an
 * unknown message type or a batch that is not one, P2C2R_E_VERSION for another protocol
 * version. */
int p2c2r__envelope_decode(const void *data, size_t size, p2c2r_envelope **env);
/* Accepts NULL; sets *env to NULL. */
void p2c2r__envelope_free(p2c2r_envelope **env);

/* A copy of *env of its own (free with p2c2r__envelope_free()): for a batch item that must
 * outlive its message. P2C2R_OK, or an error of encoding or decoding it. */
int p2c2r__envelope_dup(const p2c2r_envelope *env, p2c2r_envelope **copy);

/* Encode *env into a new zmq message (initialised here; the caller sends or closes it). */
int p2c2r__envelope_encode(const p2c2r_envelope *env, zmq_msg_t *msg);

/* One received message. */
typedef struct p2c2r_envelope_msg {
    uint8_t route[P2C2R_ROUTE_MAX_BYTES]; /* sender's routing id (ROUTER sockets) */
    size_t route_len;                     /* 0 on DEALER sockets */
    p2c2r_envelope *env;                  /* decoded frame 1; NULL if it failed to decode */
    zmq_msg_t payload;                    /* the payload frame (empty when has_payload false) */
    bool has_payload;                     /* whether a payload frame came */
    p2c2r_curve_key user_id;              /* routed: the sender's CURVE public key, as the
                                             ZAP handler named it (User-Id); "" without */
    zmq_msg_t *item_payloads;             /* a batch: the payload of each env->items entry
                                             (in the envelope's arena), else NULL */
    bool payloads_owned;                  /* item_payloads are copies out of the Envelope
                                             (inline), so p2c2r__payload_own() would copy
                                             them for nothing */
    bool columns;                         /* the batch came in columns (BatchColumns); env
                                             holds it as items all the same */
} p2c2r_envelope_msg;

/* Receive one whole message from sock (routed: it is a ROUTER). flags as for zmq_msg_recv
 * (ZMQ_DONTWAIT). Every frame of the message is consumed, even on error, so the socket is
 * left at a message boundary; route is filled whenever one came, so the caller can answer
 * a malformed request. A batch (env->n_items > 0: a SUBMIT, ASSIGN or RESULT of at most
 * P2C2R_BATCH_MAX items) must come with exactly one payload frame per item, or with none
 * and its payloads inline (item_payloads then holds copies of them). Returns
 * P2C2R_OK, a decode error, P2C2R_E_PROTOCOL for a wrong number of frames or a batch that
 * may not be one, P2C2R_E_TIMEOUT when DONTWAIT found nothing, or P2C2R_E_IO.
 * Always call p2c2r__envelope_msg_close() afterwards. */
int p2c2r__envelope_recv(void *sock, bool routed, int flags, p2c2r_envelope_msg *msg);
void p2c2r__envelope_msg_close(p2c2r_envelope_msg *msg);

/* Send [route][env][payload]. route NULL (route_len 0) on a DEALER. payload may be NULL;
 * otherwise it is sent (ownership passes to ZeroMQ) and left empty, also on failure.
 * flags may hold ZMQ_DONTWAIT. P2C2R_E_BUSY when the send would block or the high-water
 * mark is reached, P2C2R_E_UNKNOWNPEER when a ROUTER has no such route
 * (ZMQ_ROUTER_MANDATORY), P2C2R_E_IO otherwise. */
int p2c2r__envelope_send(void *sock, const void *route, size_t route_len, const p2c2r_envelope *env,
                         zmq_msg_t *payload, int flags);

/* Wrap a malloc'd-style buffer in a zmq message without copying; free_fn(data, hint) runs
 * when ZeroMQ is done with it. On failure free_fn has already run. */
int p2c2r__envelope_payload_wrap(zmq_msg_t *msg, void *data, size_t size, zmq_free_fn *free_fn,
                                 void *hint);

/* A received frame of at most P2C2R_PAYLOAD_OWN_MAX bytes may be a slice of one of
 * libzmq's 8 KiB receive buffers, which then stays allocated for as long as any slice of
 * it lives. A process that keeps such frames for long (queued tasks, cached results) gives
 * each a copy of its own: 4 KiB payloads held by reference cost 8 KiB each. */
#define P2C2R_PAYLOAD_OWN_MAX 8192u

/* Make *msg a frame that owns its bytes when it is small enough to be such a slice (a
 * larger frame is left as it is). P2C2R_OK, or P2C2R_E_NOMEM with *msg unchanged. */
int p2c2r__payload_own(zmq_msg_t *msg);

/* A routing id as a printable hash key: two hex digits per byte, NUL-terminated. */
typedef char p2c2r_route_key[2 * P2C2R_ROUTE_MAX_BYTES + 1];
void p2c2r__route_key(const void *route, size_t len, p2c2r_route_key key);

/* Batch item i of env as the Envelope it would have been alone: env's shared fields, the
 * item's task id, deadline, frame (env's when the item has none), status, detail and
 * timing; an item of a RESULT batch with a non-zero status is an ERROR. The view points
 * into env, which must outlive it. */
void p2c2r__envelope_item_view(const p2c2r_envelope *env, size_t i, p2c2r_envelope *view);

/* A batch being put together to send: the caller sets env's shared fields (type, kind,
 * parameters, instance...) after p2c2r__batch_init(), then adds one item per task. */
typedef struct p2c2r_batch {
    p2c2r_envelope env;                                 /* shared fields; items set here */
    P2c2r__Wire__BatchItem items[P2C2R_BATCH_MAX];      /* one per task */
    P2c2r__Wire__BatchItem *item_ptrs[P2C2R_BATCH_MAX]; /* what env.items points at */
    P2c2r__Wire__Frame frames[P2C2R_BATCH_MAX];         /* item frames, when given */
    P2c2r__Wire__Timing timings[P2C2R_BATCH_MAX];       /* item timings, when given */
    char details[P2C2R_BATCH_MAX][160];                 /* item details, copied (cut short) */
    zmq_msg_t payloads[P2C2R_BATCH_MAX];                /* item payloads, owned */
    size_t n;                                           /* items so far */
    size_t bytes;                                       /* their payloads' bytes */
    bool inline_ok;  /* its receiver reads inline payloads: set by the caller (init clears) */
    bool columns_ok; /* its receiver reads batches in columns: set by the caller, the same */
} p2c2r_batch;

void p2c2r__batch_init(p2c2r_batch *batch, P2c2r__Wire__MsgType type);
/* Add a task: task_id, deadline_us (SUBMIT/ASSIGN), status and detail (answers; detail may
 * be NULL), frame and timing (may be NULL; copied), payload (may be NULL; moved in and
 * left empty). The batch must not be full (batch->n < P2C2R_BATCH_MAX). */
void p2c2r__batch_add(p2c2r_batch *batch, uint64_t task_id, uint64_t deadline_us, int status,
                      const char *detail, const P2c2r__Wire__Frame *frame,
                      const P2c2r__Wire__Timing *timing, zmq_msg_t *payload);
/* Send the batch as [route][Envelope][payload 1]...[payload N], as [route][Envelope] with
 * the payloads inline when inline_ok and they come to P2C2R_INLINE_MAX_BYTES or fewer (in
 * columns when columns_ok too and no item has an error detail), or,
 * when it holds one task, as that task's plain message; empty it (payloads pass to
 * ZeroMQ, or are closed). Errors as p2c2r__envelope_send(). Sending an empty batch does
 * nothing. */
int p2c2r__batch_send(p2c2r_batch *batch, void *sock, const void *route, size_t route_len,
                      int flags);
/* Close whatever the batch holds. */
void p2c2r__batch_clear(p2c2r_batch *batch);

/* Short name of a message type for logs ("SUBMIT"). */
const char *p2c2r__envelope_type_name(int type);

#endif /* P2C2R_ENVELOPE_H */
