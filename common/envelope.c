/* envelope: see envelope.h. */
#include "common/envelope.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void p2c2r__envelope_init(p2c2r_envelope *env, P2c2r__Wire__MsgType type)
{
    static const p2c2r_envelope empty = P2C2R__WIRE__ENVELOPE__INIT;
    *env = empty;
    env->version = P2C2R_PROTOCOL_VERSION;
    env->type = type;
    /* p2c2r__envelope_recv() reads both, whoever calls it. */
    env->inline_payloads = true;
    env->reads_columns = true;
}

/* Whether m or a message inside it holds an unknown field numbered 0. No field can have
 * that number, and protobuf-c refuses a tag of 0 written in one byte, but takes the same
 * tag written in more bytes than needed (0x80 0x00) as an unknown field numbered 0: a
 * message that protobuf-c itself refuses once it is encoded again. */
static bool has_field_zero(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return true;
    for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *field = (const char *)m + f->offset;
        size_t n = 1;
        ProtobufCMessage *const *sub = (ProtobufCMessage *const *)field;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)((const char *)m + f->quantifier_offset);
            sub = *(ProtobufCMessage *const *const *)field;
        }
        for (size_t k = 0; k < n; k++)
            if (sub[k] && has_field_zero(sub[k]))
                return true;
    }
    return false;
}

/* Decoded envelopes live in an arena. protobuf-c allocates every message, string and array
 * of an envelope on its own (a batch of 64 items is hundreds of allocations) and frees them
 * one by one; here they come from one block, more chained on when it is full, and go
 * together. The Envelope itself is protobuf-c's first allocation, so it sits at the start
 * of the first block, where p2c2r__envelope_free() finds the arena again. */
typedef struct arena_block {
    struct arena_block *next; /* blocks added when this one was full */
    size_t used, cap;         /* bytes of data handed out, and there */
    max_align_t data[];       /* what protobuf-c is given */
} arena_block;

#define ARENA_ALIGN ((size_t) _Alignof(max_align_t))

static arena_block *arena_block_new(size_t cap)
{
    arena_block *b = malloc(sizeof *b + cap);
    if (b)
        *b = (arena_block){.cap = cap};
    return b;
}

static void *arena_alloc(void *arg, size_t size)
{
    arena_block *first = arg, *b = first->next ? first->next : first;
    size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (b->cap - b->used < size) {
        arena_block *more = arena_block_new(size > first->cap ? size : first->cap);
        if (!more)
            return NULL;
        more->next = first->next; /* the newest first after the head: it has room */
        first->next = more;
        b = more;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

static void arena_free_one(void *arg, void *pointer)
{
    (void)arg; /* freed with the whole arena */
    (void)pointer;
}

static void arena_destroy(arena_block *first)
{
    while (first) {
        arena_block *next = first->next;
        free(first);
        first = next;
    }
}

static arena_block *arena_of(p2c2r_envelope *env)
{
    return (arena_block *)((char *)env - offsetof(arena_block, data));
}

/* Whether a column has no entries or one per task. */
#define COLUMN_FITS(c, field, n) ((c)->n_##field == 0 || (c)->n_##field == (n))

/* A batch that came in columns, made into the items it stands for (in e's arena): readers
 * see one form, and encoding it again gives items. P2C2R_E_PROTOCOL when the columns do
 * not describe 1..P2C2R_BATCH_MAX tasks or come with items. */
static int expand_columns(p2c2r_envelope *e)
{
    const P2c2r__Wire__BatchColumns *c = e->columns;
    size_t n = c->n_task_id;
    if (e->n_items || n == 0 || n > P2C2R_BATCH_MAX || !COLUMN_FITS(c, deadline_us, n) ||
        !COLUMN_FITS(c, status, n) || !COLUMN_FITS(c, payload_size, n) ||
        !COLUMN_FITS(c, queue_us, n) || !COLUMN_FITS(c, peer_us, n) ||
        !COLUMN_FITS(c, decode_us, n) || !COLUMN_FITS(c, compute_us, n) ||
        !COLUMN_FITS(c, encode_us, n) || !COLUMN_FITS(c, cache_hit, n) ||
        !COLUMN_FITS(c, copy_in_us, n) || !COLUMN_FITS(c, copy_out_us, n) ||
        !COLUMN_FITS(c, tables_us, n) || !COLUMN_FITS(c, runtime, n) ||
        !COLUMN_FITS(c, framed, n) || !COLUMN_FITS(c, frame_codec, n) ||
        !COLUMN_FITS(c, frame_pixel_format, n) || !COLUMN_FITS(c, frame_width, n) ||
        !COLUMN_FITS(c, frame_height, n) || !COLUMN_FITS(c, timed, n))
        return P2C2R_E_PROTOCOL;
    uint64_t total = 0;
    for (size_t k = 0; k < c->n_payload_size; k++)
        total += c->payload_size[k];
    if (total != c->payloads.len)
        return P2C2R_E_PROTOCOL;
    arena_block *arena = arena_of(e);
    P2c2r__Wire__BatchItem *items = arena_alloc(arena, n * sizeof *items);
    P2c2r__Wire__BatchItem **ptrs = arena_alloc(arena, n * sizeof *ptrs);
    P2c2r__Wire__Timing *timings = c->n_timed ? arena_alloc(arena, n * sizeof *timings) : NULL;
    P2c2r__Wire__Frame *frames = c->n_framed ? arena_alloc(arena, n * sizeof *frames) : NULL;
    if (!items || !ptrs || (c->n_timed && !timings) || (c->n_framed && !frames))
        return P2C2R_E_NOMEM;
    static const P2c2r__Wire__BatchItem empty_item = P2C2R__WIRE__BATCH_ITEM__INIT;
    static const P2c2r__Wire__Timing empty_timing = P2C2R__WIRE__TIMING__INIT;
    static const P2c2r__Wire__Frame empty_frame = P2C2R__WIRE__FRAME__INIT;
#define COLUMN(field, k) (c->n_##field ? c->field[k] : 0)
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        P2c2r__Wire__BatchItem *item = &items[k];
        *item = empty_item;
        item->task_id = c->task_id[k];
        item->deadline_us = COLUMN(deadline_us, k);
        item->status = COLUMN(status, k);
        item->detail = (char *)"";
        size_t size = COLUMN(payload_size, k);
        item->payload = (ProtobufCBinaryData){size, size ? c->payloads.data + at : NULL};
        at += size;
        if (COLUMN(timed, k)) {
            P2c2r__Wire__Timing *t = &timings[k];
            *t = empty_timing;
            t->queue_us = COLUMN(queue_us, k);
            t->peer_us = COLUMN(peer_us, k);
            t->decode_us = COLUMN(decode_us, k);
            t->compute_us = COLUMN(compute_us, k);
            t->encode_us = COLUMN(encode_us, k);
            t->cache_hit = COLUMN(cache_hit, k);
            t->copy_in_us = COLUMN(copy_in_us, k);
            t->copy_out_us = COLUMN(copy_out_us, k);
            t->tables_us = COLUMN(tables_us, k);
            t->runtime = COLUMN(runtime, k);
            item->timing = t;
        }
        if (COLUMN(framed, k)) {
            P2c2r__Wire__Frame *f = &frames[k];
            *f = empty_frame;
            f->codec = COLUMN(frame_codec, k);
            f->pixel_format = COLUMN(frame_pixel_format, k);
            f->width = COLUMN(frame_width, k);
            f->height = COLUMN(frame_height, k);
            item->frame = f;
        }
        ptrs[k] = item;
    }
#undef COLUMN
    e->items = ptrs;
    e->n_items = n;
    e->columns = NULL; /* stays in the arena, unread */
    return P2C2R_OK;
}

/* p2c2r__envelope_decode(), saying whether the batch came in columns. */
static int decode(const void *data, size_t size, p2c2r_envelope **env, bool *columns)
{
    *env = NULL;
    *columns = false;
    if (size > P2C2R_ENVELOPE_MAX_BYTES)
        return P2C2R_E_TOOBIG;
    /* An empty frame parses as an all-default Envelope; refuse it as the empty message
     * it is rather than let it through as version 0. */
    if (size == 0)
        return P2C2R_E_PROTOCOL;
    /* Decoded, an envelope takes a few times its encoded size (pointers, counts, the
     * structs of its items). */
    arena_block *arena = arena_block_new(sizeof(p2c2r_envelope) + 512 + 8 * size);
    if (!arena)
        return P2C2R_E_NOMEM;
    ProtobufCAllocator allocator = {arena_alloc, arena_free_one, arena};
    p2c2r_envelope *e = p2c2r__wire__envelope__unpack(&allocator, size, data);
    if (!e) {
        arena_destroy(arena);
        return P2C2R_E_PROTOCOL;
    }
    assert((void *)e == (void *)arena->data); /* protobuf-c allocates the message first */
    if (has_field_zero(&e->base)) {
        p2c2r__envelope_free(&e);
        return P2C2R_E_PROTOCOL;
    }
    if (e->version != P2C2R_PROTOCOL_VERSION) {
        p2c2r__envelope_free(&e);
        return P2C2R_E_VERSION;
    }
    if (e->columns) {
        *columns = true;
        int rc = expand_columns(e);
        if (rc != P2C2R_OK) {
            p2c2r__envelope_free(&e);
            return rc;
        }
    }
    bool batchable = e->type == P2C2R__WIRE__MSG_TYPE__SUBMIT ||
                     e->type == P2C2R__WIRE__MSG_TYPE__ASSIGN ||
                     e->type == P2C2R__WIRE__MSG_TYPE__RESULT;
    if (e->type <= P2C2R__WIRE__MSG_TYPE__MSG_TYPE_UNSPECIFIED || e->type > P2C2R_MSG_TYPE_LAST ||
        (e->n_items && (!batchable || e->n_items > P2C2R_BATCH_MAX))) {
        p2c2r__envelope_free(&e);
        return P2C2R_E_PROTOCOL;
    }
    *env = e;
    return P2C2R_OK;
}

int p2c2r__envelope_decode(const void *data, size_t size, p2c2r_envelope **env)
{
    bool columns;
    return decode(data, size, env, &columns);
}

void p2c2r__envelope_free(p2c2r_envelope **env)
{
    if (!env || !*env)
        return;
    arena_destroy(arena_of(*env));
    *env = NULL;
}

int p2c2r__envelope_encode(const p2c2r_envelope *env, zmq_msg_t *msg)
{
    size_t size = p2c2r__wire__envelope__get_packed_size(env);
    if (size > P2C2R_ENVELOPE_MAX_BYTES) {
        zmq_msg_init(msg);
        return P2C2R_E_TOOBIG;
    }
    if (zmq_msg_init_size(msg, size) != 0) {
        zmq_msg_init(msg);
        return P2C2R_E_NOMEM;
    }
    p2c2r__wire__envelope__pack(env, zmq_msg_data(msg));
    return P2C2R_OK;
}

int p2c2r__envelope_dup(const p2c2r_envelope *env, p2c2r_envelope **copy)
{
    *copy = NULL;
    zmq_msg_t packed;
    int rc = p2c2r__envelope_encode(env, &packed);
    if (rc == P2C2R_OK)
        rc = p2c2r__envelope_decode(zmq_msg_data(&packed), zmq_msg_size(&packed), copy);
    zmq_msg_close(&packed);
    return rc;
}

/* Drain what is left of a multipart message so the next recv starts a new one. */
static void drain(void *sock, zmq_msg_t *part)
{
    while (zmq_msg_more(part)) {
        zmq_msg_close(part);
        zmq_msg_init(part);
        if (zmq_msg_recv(part, sock, 0) < 0)
            break;
    }
}

/* A batch with its payloads inline: each becomes a message of its own. */
static int copy_inline(p2c2r_envelope_msg *msg)
{
    for (size_t i = 0; i < msg->env->n_items; i++) {
        const ProtobufCBinaryData *bytes = &msg->env->items[i]->payload;
        if (zmq_msg_init_size(&msg->item_payloads[i], bytes->len) != 0) {
            zmq_msg_init(&msg->item_payloads[i]);
            return P2C2R_E_NOMEM;
        }
        if (bytes->len)
            memcpy(zmq_msg_data(&msg->item_payloads[i]), bytes->data, bytes->len);
    }
    return P2C2R_OK;
}

/* The rest of a batch: exactly one payload frame per item, or none and the payloads
 * inline; part holds the envelope's frame. P2C2R_OK, or P2C2R_E_PROTOCOL / P2C2R_E_NOMEM
 * with part holding the last frame read, for the caller to drain. */
static int recv_items(void *sock, p2c2r_envelope_msg *msg, zmq_msg_t *part)
{
    size_t n = msg->env->n_items;
    /* In the envelope's arena: it goes with the envelope, and needs no malloc of its own. */
    arena_block *arena = arena_of(msg->env);
    msg->item_payloads = arena_alloc(arena, n * sizeof *msg->item_payloads);
    if (!msg->item_payloads)
        return P2C2R_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        zmq_msg_init(&msg->item_payloads[i]);
    if (!zmq_msg_more(part)) {
        msg->payloads_owned = true;
        return copy_inline(msg);
    }
    for (size_t i = 0; i < n; i++)
        if (msg->env->items[i]->payload.len)
            return P2C2R_E_PROTOCOL; /* payloads come one way or the other */
    for (size_t i = 0; i < n; i++) {
        if (zmq_msg_recv(&msg->item_payloads[i], sock, 0) < 0)
            return P2C2R_E_IO;
        bool more = zmq_msg_more(&msg->item_payloads[i]);
        if (more != (i + 1 < n)) {
            zmq_msg_close(part);
            zmq_msg_init(part);
            zmq_msg_move(part, &msg->item_payloads[i]);
            return P2C2R_E_PROTOCOL;
        }
    }
    zmq_msg_close(part);
    zmq_msg_init(part);
    return P2C2R_OK;
}

int p2c2r__envelope_recv(void *sock, bool routed, int flags, p2c2r_envelope_msg *msg)
{
    msg->route_len = 0;
    msg->env = NULL;
    msg->has_payload = false;
    msg->item_payloads = NULL;
    msg->payloads_owned = false;
    msg->columns = false;
    msg->user_id[0] = '\0';
    zmq_msg_init(&msg->payload);

    zmq_msg_t part;
    zmq_msg_init(&part);
    int rc = P2C2R_OK;
    if (zmq_msg_recv(&part, sock, flags) < 0) {
        rc = errno == EAGAIN ? P2C2R_E_TIMEOUT : P2C2R_E_IO;
        goto done;
    }
    if (routed) {
        size_t len = zmq_msg_size(&part);
        if (len > sizeof msg->route || !zmq_msg_more(&part)) {
            rc = P2C2R_E_PROTOCOL;
            goto drain;
        }
        memcpy(msg->route, zmq_msg_data(&part), len);
        msg->route_len = len;
        zmq_msg_close(&part);
        zmq_msg_init(&part);
        /* The rest of a message arrives atomically once its first frame has. */
        if (zmq_msg_recv(&part, sock, 0) < 0) {
            rc = P2C2R_E_IO;
            goto done;
        }
        /* Set by the coordinator's ZAP handler on every message of a CURVE connection. */
        const char *user = zmq_msg_gets(&part, "User-Id");
        if (user)
            snprintf(msg->user_id, sizeof msg->user_id, "%s", user);
    }
    rc = decode(zmq_msg_data(&part), zmq_msg_size(&part), &msg->env, &msg->columns);
    if (rc == P2C2R_OK && msg->env->n_items) {
        rc = recv_items(sock, msg, &part);
        if (rc == P2C2R_OK || rc == P2C2R_E_IO)
            goto done;
        goto drain;
    }
    if (!zmq_msg_more(&part))
        goto done;
    if (zmq_msg_recv(&msg->payload, sock, 0) < 0) {
        rc = P2C2R_E_IO;
        goto done;
    }
    msg->has_payload = true;
    if (zmq_msg_more(&msg->payload)) {
        rc = P2C2R_E_PROTOCOL;
        zmq_msg_close(&part);
        zmq_msg_init(&part);
        zmq_msg_move(&part, &msg->payload);
        msg->has_payload = false;
        goto drain;
    }
    goto done;
drain:
    drain(sock, &part);
done:
    zmq_msg_close(&part);
    if (rc != P2C2R_OK) {
        if (msg->item_payloads) {
            for (size_t i = 0; i < msg->env->n_items; i++)
                zmq_msg_close(&msg->item_payloads[i]);
            msg->item_payloads = NULL; /* freed with the envelope */
        }
        p2c2r__envelope_free(&msg->env);
    }
    return rc;
}

void p2c2r__envelope_msg_close(p2c2r_envelope_msg *msg)
{
    if (msg->item_payloads) {
        for (size_t i = 0; msg->env && i < msg->env->n_items; i++)
            zmq_msg_close(&msg->item_payloads[i]);
        msg->item_payloads = NULL; /* freed with the envelope */
    }
    p2c2r__envelope_free(&msg->env);
    zmq_msg_close(&msg->payload);
    zmq_msg_init(&msg->payload);
    msg->has_payload = false;
}

static int send_error(void)
{
    switch (errno) {
    case EAGAIN:
        return P2C2R_E_BUSY;
    case EHOSTUNREACH:
        return P2C2R_E_UNKNOWNPEER;
    default:
        return P2C2R_E_IO;
    }
}

int p2c2r__envelope_send(void *sock, const void *route, size_t route_len, const p2c2r_envelope *env,
                         zmq_msg_t *payload, int flags)
{
    zmq_msg_t head;
    int rc = p2c2r__envelope_encode(env, &head);
    if (rc != P2C2R_OK)
        goto fail;
    if (route_len > 0) {
        /* With ZMQ_ROUTER_MANDATORY an unroutable first frame fails here, before any
         * other frame is queued, so nothing half-sent is left behind. */
        if (zmq_send(sock, route, route_len, flags | ZMQ_SNDMORE) < 0) {
            rc = send_error();
            goto fail;
        }
    }
    if (zmq_msg_send(&head, sock, flags | (payload ? ZMQ_SNDMORE : 0)) < 0) {
        rc = send_error();
        goto fail;
    }
    if (payload && zmq_msg_send(payload, sock, flags) < 0) {
        rc = send_error();
        goto fail;
    }
    return P2C2R_OK;
fail:
    zmq_msg_close(&head);
    if (payload) {
        zmq_msg_close(payload);
        zmq_msg_init(payload);
    }
    return rc;
}

int p2c2r__envelope_payload_wrap(zmq_msg_t *msg, void *data, size_t size, zmq_free_fn *free_fn,
                                 void *hint)
{
    if (zmq_msg_init_data(msg, data, size, free_fn, hint) != 0) {
        free_fn(data, hint);
        zmq_msg_init(msg);
        return P2C2R_E_NOMEM;
    }
    return P2C2R_OK;
}

void p2c2r__route_key(const void *route, size_t len, p2c2r_route_key key)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *r = route;
    for (size_t i = 0; i < len; i++) {
        key[2 * i] = hex[r[i] >> 4];
        key[2 * i + 1] = hex[r[i] & 15];
    }
    key[2 * len] = '\0';
}

const char *p2c2r__envelope_type_name(int type)
{
    switch (type) {
    case P2C2R__WIRE__MSG_TYPE__PEER_HELLO:
        return "PEER_HELLO";
    case P2C2R__WIRE__MSG_TYPE__HEARTBEAT:
        return "HEARTBEAT";
    case P2C2R__WIRE__MSG_TYPE__SUBMIT:
        return "SUBMIT";
    case P2C2R__WIRE__MSG_TYPE__ASSIGN:
        return "ASSIGN";
    case P2C2R__WIRE__MSG_TYPE__RESULT:
        return "RESULT";
    case P2C2R__WIRE__MSG_TYPE__ERROR:
        return "ERROR";
    case P2C2R__WIRE__MSG_TYPE__PEER_BYE:
        return "PEER_BYE";
    case P2C2R__WIRE__MSG_TYPE__CANCEL:
        return "CANCEL";
    default:
        return "UNKNOWN";
    }
}

void p2c2r__envelope_item_view(const p2c2r_envelope *env, size_t i, p2c2r_envelope *view)
{
    const P2c2r__Wire__BatchItem *item = env->items[i];
    *view = *env;
    view->n_items = 0;
    view->items = NULL;
    view->task_id = item->task_id;
    view->deadline_us = item->deadline_us;
    if (item->frame)
        view->frame = item->frame;
    view->status = item->status;
    view->detail = item->detail;
    view->timing = item->timing;
    if (env->type == P2C2R__WIRE__MSG_TYPE__RESULT && item->status != P2C2R_OK)
        view->type = P2C2R__WIRE__MSG_TYPE__ERROR;
}

void p2c2r__batch_init(p2c2r_batch *batch, P2c2r__Wire__MsgType type)
{
    p2c2r__envelope_init(&batch->env, type);
    batch->n = 0;
    batch->bytes = 0;
    batch->inline_ok = false;
    batch->columns_ok = false;
}

void p2c2r__batch_add(p2c2r_batch *batch, uint64_t task_id, uint64_t deadline_us, int status,
                      const char *detail, const P2c2r__Wire__Frame *frame,
                      const P2c2r__Wire__Timing *timing, zmq_msg_t *payload)
{
    static const P2c2r__Wire__BatchItem empty_item = P2C2R__WIRE__BATCH_ITEM__INIT;
    static const P2c2r__Wire__Frame empty_frame = P2C2R__WIRE__FRAME__INIT;
    static const P2c2r__Wire__Timing empty_timing = P2C2R__WIRE__TIMING__INIT;
    size_t i = batch->n++;
    P2c2r__Wire__BatchItem *item = &batch->items[i];
    *item = empty_item;
    item->task_id = task_id;
    item->deadline_us = deadline_us;
    item->status = status;
    /* Most items carry no detail: no copy then (this runs once per task). */
    item->detail = (char *)"";
    if (detail && detail[0]) {
        size_t n = strnlen(detail, sizeof batch->details[i] - 1);
        memcpy(batch->details[i], detail, n);
        batch->details[i][n] = '\0';
        item->detail = batch->details[i];
    }
    if (frame) {
        /* A bare copy: no unknown fields of the sender's travel on. */
        batch->frames[i] = empty_frame;
        batch->frames[i].codec = frame->codec;
        batch->frames[i].pixel_format = frame->pixel_format;
        batch->frames[i].width = frame->width;
        batch->frames[i].height = frame->height;
        item->frame = &batch->frames[i];
    }
    if (timing) {
        batch->timings[i] = *timing;
        batch->timings[i].base = empty_timing.base;
        item->timing = &batch->timings[i];
    }
    batch->item_ptrs[i] = item;
    zmq_msg_init(&batch->payloads[i]);
    if (payload) {
        batch->bytes += zmq_msg_size(payload);
        zmq_msg_move(&batch->payloads[i], payload);
    }
}

void p2c2r__batch_clear(p2c2r_batch *batch)
{
    for (size_t i = 0; i < batch->n; i++)
        zmq_msg_close(&batch->payloads[i]);
    batch->n = 0;
    batch->bytes = 0;
}

/* The batch's columns while it is encoded (see BatchColumns in proto/p2c2r.proto). */
typedef struct columns {
    P2c2r__Wire__BatchColumns msg;
    uint64_t task_id[P2C2R_BATCH_MAX], deadline_us[P2C2R_BATCH_MAX];
    int32_t status[P2C2R_BATCH_MAX];
    uint32_t payload_size[P2C2R_BATCH_MAX];
    uint64_t queue_us[P2C2R_BATCH_MAX], peer_us[P2C2R_BATCH_MAX], decode_us[P2C2R_BATCH_MAX],
        compute_us[P2C2R_BATCH_MAX], encode_us[P2C2R_BATCH_MAX], copy_in_us[P2C2R_BATCH_MAX],
        copy_out_us[P2C2R_BATCH_MAX], tables_us[P2C2R_BATCH_MAX];
    protobuf_c_boolean cache_hit[P2C2R_BATCH_MAX], timed[P2C2R_BATCH_MAX], framed[P2C2R_BATCH_MAX];
    P2c2r__Wire__Runtime runtime[P2C2R_BATCH_MAX];
    P2c2r__Wire__Codec frame_codec[P2C2R_BATCH_MAX];
    P2c2r__Wire__PixelFormat frame_pixel_format[P2C2R_BATCH_MAX];
    uint32_t frame_width[P2C2R_BATCH_MAX], frame_height[P2C2R_BATCH_MAX];
    uint8_t payloads[P2C2R_INLINE_MAX_BYTES];
} columns;

/* Column field of batch item k: its value, and the column is sent (with n entries, n
 * being the batch's tasks in the caller) when any value is not 0. */
#define SET_COLUMN(col, field, k, value)                                                           \
    do {                                                                                           \
        (col)->field[k] = (value);                                                                 \
        if ((col)->field[k])                                                                       \
            (col)->msg.n_##field = n;                                                              \
    } while (0)

/* Encode the batch in columns into *head: P2C2R_OK, or an error (P2C2R_E_INVAL when an
 * item has a detail, which columns do not carry) with nothing in *head to send or close.
 * The payloads must fit inline (batch->bytes <= P2C2R_INLINE_MAX_BYTES). */
static int encode_columns(p2c2r_batch *batch, zmq_msg_t *head)
{
    static const P2c2r__Wire__BatchColumns empty = P2C2R__WIRE__BATCH_COLUMNS__INIT;
    columns col;
    col.msg = empty;
    size_t n = batch->n, at = 0;
    for (size_t k = 0; k < n; k++) {
        const P2c2r__Wire__BatchItem *item = &batch->items[k];
        if (item->detail[0])
            return P2C2R_E_INVAL;
        col.task_id[k] = item->task_id;
        SET_COLUMN(&col, deadline_us, k, item->deadline_us);
        SET_COLUMN(&col, status, k, item->status);
        size_t size = zmq_msg_size(&batch->payloads[k]);
        SET_COLUMN(&col, payload_size, k, (uint32_t)size);
        if (size)
            memcpy(col.payloads + at, zmq_msg_data(&batch->payloads[k]), size);
        at += size;
        static const P2c2r__Wire__Timing none = P2C2R__WIRE__TIMING__INIT;
        const P2c2r__Wire__Timing *t = item->timing ? item->timing : &none;
        SET_COLUMN(&col, timed, k, item->timing != NULL);
        SET_COLUMN(&col, queue_us, k, t->queue_us);
        SET_COLUMN(&col, peer_us, k, t->peer_us);
        SET_COLUMN(&col, decode_us, k, t->decode_us);
        SET_COLUMN(&col, compute_us, k, t->compute_us);
        SET_COLUMN(&col, encode_us, k, t->encode_us);
        SET_COLUMN(&col, cache_hit, k, t->cache_hit);
        SET_COLUMN(&col, copy_in_us, k, t->copy_in_us);
        SET_COLUMN(&col, copy_out_us, k, t->copy_out_us);
        SET_COLUMN(&col, tables_us, k, t->tables_us);
        SET_COLUMN(&col, runtime, k, t->runtime);
        static const P2c2r__Wire__Frame no_frame = P2C2R__WIRE__FRAME__INIT;
        const P2c2r__Wire__Frame *f = item->frame ? item->frame : &no_frame;
        SET_COLUMN(&col, framed, k, item->frame != NULL);
        SET_COLUMN(&col, frame_codec, k, f->codec);
        SET_COLUMN(&col, frame_pixel_format, k, f->pixel_format);
        SET_COLUMN(&col, frame_width, k, f->width);
        SET_COLUMN(&col, frame_height, k, f->height);
    }
    col.msg.n_task_id = n;
    col.msg.task_id = col.task_id;
    col.msg.deadline_us = col.deadline_us;
    col.msg.status = col.status;
    col.msg.payload_size = col.payload_size;
    col.msg.payloads = (ProtobufCBinaryData){at, col.payloads};
    col.msg.queue_us = col.queue_us;
    col.msg.peer_us = col.peer_us;
    col.msg.decode_us = col.decode_us;
    col.msg.compute_us = col.compute_us;
    col.msg.encode_us = col.encode_us;
    col.msg.cache_hit = col.cache_hit;
    col.msg.copy_in_us = col.copy_in_us;
    col.msg.copy_out_us = col.copy_out_us;
    col.msg.tables_us = col.tables_us;
    col.msg.runtime = col.runtime;
    col.msg.timed = col.timed;
    col.msg.framed = col.framed;
    col.msg.frame_codec = col.frame_codec;
    col.msg.frame_pixel_format = col.frame_pixel_format;
    col.msg.frame_width = col.frame_width;
    col.msg.frame_height = col.frame_height;
    batch->env.n_items = 0;
    batch->env.items = NULL;
    batch->env.columns = &col.msg;
    int rc = p2c2r__envelope_encode(&batch->env, head);
    batch->env.columns = NULL;
    if (rc != P2C2R_OK)
        zmq_msg_close(head);
    return rc;
}

int p2c2r__batch_send(p2c2r_batch *batch, void *sock, const void *route, size_t route_len,
                      int flags)
{
    if (batch->n == 0)
        return P2C2R_OK;
    if (batch->n == 1) {
        p2c2r_envelope env;
        batch->env.n_items = 1;
        batch->env.items = batch->item_ptrs;
        p2c2r__envelope_item_view(&batch->env, 0, &env);
        bool has_payload = env.type != P2C2R__WIRE__MSG_TYPE__ERROR;
        int rc = p2c2r__envelope_send(sock, route, route_len, &env,
                                      has_payload ? &batch->payloads[0] : NULL, flags);
        p2c2r__batch_clear(batch);
        return rc;
    }
    zmq_msg_t head;
    int rc;
    bool inline_items = batch->inline_ok && batch->bytes <= P2C2R_INLINE_MAX_BYTES;
    if (inline_items && batch->columns_ok && encode_columns(batch, &head) == P2C2R_OK)
        goto send_head;
    batch->env.n_items = batch->n;
    batch->env.items = batch->item_ptrs;
    for (size_t i = 0; inline_items && i < batch->n; i++) {
        batch->items[i].payload.data = zmq_msg_data(&batch->payloads[i]);
        batch->items[i].payload.len = zmq_msg_size(&batch->payloads[i]);
    }
    rc = p2c2r__envelope_encode(&batch->env, &head);
    if (rc == P2C2R_E_TOOBIG && inline_items) {
        /* Long error details left no room for the payloads: they go as frames. */
        inline_items = false;
        for (size_t i = 0; i < batch->n; i++)
            batch->items[i].payload = (ProtobufCBinaryData){0};
        rc = p2c2r__envelope_encode(&batch->env, &head);
    }
    if (rc != P2C2R_OK)
        goto fail;
send_head:
    /* With ZMQ_ROUTER_MANDATORY an unroutable first frame fails here, before any other
     * frame is queued. */
    if (route_len > 0 && zmq_send(sock, route, route_len, flags | ZMQ_SNDMORE) < 0) {
        rc = send_error();
        goto fail;
    }
    if (zmq_msg_send(&head, sock, flags | (inline_items ? 0 : ZMQ_SNDMORE)) < 0) {
        rc = send_error();
        goto fail;
    }
    if (inline_items) {
        p2c2r__batch_clear(batch);
        return P2C2R_OK;
    }
    /* The rest of a multipart message cannot be refused once its first frame is queued. */
    for (size_t i = 0; i < batch->n; i++)
        zmq_msg_send(&batch->payloads[i], sock, flags | (i + 1 < batch->n ? ZMQ_SNDMORE : 0));
    p2c2r__batch_clear(batch);
    return P2C2R_OK;
fail:
    zmq_msg_close(&head);
    p2c2r__batch_clear(batch);
    return rc;
}

int p2c2r__payload_own(zmq_msg_t *msg)
{
    size_t size = zmq_msg_size(msg);
    if (size > P2C2R_PAYLOAD_OWN_MAX)
        return P2C2R_OK;
    zmq_msg_t own;
    if (zmq_msg_init_size(&own, size) != 0)
        return P2C2R_E_NOMEM;
    if (size)
        memcpy(zmq_msg_data(&own), zmq_msg_data(msg), size);
    zmq_msg_move(msg, &own); /* closes the old *msg */
    return P2C2R_OK;
}
