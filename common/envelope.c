/* envelope: see envelope.h. */
#include "common/envelope.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
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
    env->inline_payloads = true; /* p2c2r__envelope_recv() reads them, whoever calls it */
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

/* One first block is kept for the next envelope, process-wide. A block is a large
 * request for malloc (kilobytes), and glibc answers each large request by first merging
 * every freed small chunk it holds for quick reuse: with a block per message, the small
 * allocations of every task (its record, hash entries, payload messages) lost their quick
 * path. Taken and given back by atomic exchange, so any thread may decode. */
#define ARENA_SPARE_MAX (256u << 10) /* a larger first block goes back to malloc */
static _Atomic(arena_block *) arena_spare;

static arena_block *arena_block_new(size_t cap)
{
    arena_block *b = malloc(sizeof *b + cap);
    if (b)
        *b = (arena_block){.cap = cap};
    return b;
}

/* A first block of at least cap bytes: the spare one when it is big enough. */
static arena_block *arena_first_new(size_t cap)
{
    arena_block *b = atomic_exchange(&arena_spare, NULL);
    if (b && b->cap >= cap) {
        *b = (arena_block){.cap = b->cap};
        return b;
    }
    free(b);
    size_t rounded = 4096; /* a few sizes, so that a spare block usually fits the next */
    while (rounded < cap)
        rounded *= 2;
    return arena_block_new(rounded);
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
    if (first && first->cap <= ARENA_SPARE_MAX) {
        arena_block *rest = first->next;
        free(atomic_exchange(&arena_spare, first));
        first = rest;
    }
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

int p2c2r__envelope_decode(const void *data, size_t size, p2c2r_envelope **env)
{
    *env = NULL;
    if (size > P2C2R_ENVELOPE_MAX_BYTES)
        return P2C2R_E_TOOBIG;
    /* An empty frame parses as an all-default Envelope; refuse it as the empty message
     * it is rather than let it through as version 0. */
    if (size == 0)
        return P2C2R_E_PROTOCOL;
    /* Decoded, an envelope takes a few times its encoded size (pointers, counts, the
     * structs of its items). */
    arena_block *arena = arena_first_new(sizeof(p2c2r_envelope) + 512 + 8 * size);
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
    /* In the envelope's arena: it goes with the envelope, and 64 messages are a large
     * request that malloc would answer slowly (see arena_spare). */
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
    rc = p2c2r__envelope_decode(zmq_msg_data(&part), zmq_msg_size(&part), &msg->env);
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
    batch->env.n_items = batch->n;
    batch->env.items = batch->item_ptrs;
    bool inline_items = batch->inline_ok && batch->bytes <= P2C2R_INLINE_MAX_BYTES;
    for (size_t i = 0; inline_items && i < batch->n; i++) {
        batch->items[i].payload.data = zmq_msg_data(&batch->payloads[i]);
        batch->items[i].payload.len = zmq_msg_size(&batch->payloads[i]);
    }
    zmq_msg_t head;
    int rc = p2c2r__envelope_encode(&batch->env, &head);
    if (rc == P2C2R_E_TOOBIG && inline_items) {
        /* Long error details left no room for the payloads: they go as frames. */
        inline_items = false;
        for (size_t i = 0; i < batch->n; i++)
            batch->items[i].payload = (ProtobufCBinaryData){0};
        rc = p2c2r__envelope_encode(&batch->env, &head);
    }
    if (rc != P2C2R_OK)
        goto fail;
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
