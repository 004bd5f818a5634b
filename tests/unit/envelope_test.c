/* envelope_test: encode/decode round trip, rejection of truncated, garbage, oversized and
 * wrong-version envelopes, and whole-message receive over a real inproc socket pair,
 * including messages with too many frames (drained, socket stays usable), and batches with
 * their payloads as frames, inline, or in columns. */
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/envelope.h"
#include "common/task.h"
#include "testutil.h"

static p2c2r_envelope *round_trip(const p2c2r_envelope *in)
{
    zmq_msg_t msg;
    CHECK_RC(p2c2r__envelope_encode(in, &msg), P2C2R_OK);
    p2c2r_envelope *out = NULL;
    CHECK_RC(p2c2r__envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &out), P2C2R_OK);
    zmq_msg_close(&msg);
    return out;
}

static void test_round_trip(void)
{
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    frame.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__YUV420P;
    frame.width = 2560;
    frame.height = 1600;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    up.scale = 2;
    up.mode = P2C2R__WIRE__UPSCALE_MODE__FAST;
    up.output_codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    up.jpeg_quality = 87;
    p2c2r_envelope in;
    p2c2r__envelope_init(&in, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    in.task_id = 0x123456789abcull;
    in.kind = "upscale";
    in.priority = 7;
    in.deadline_us = 16667;
    in.frame = &frame;
    in.upscale = &up;
    in.status = P2C2R_E_DEADLINE;
    in.detail = "detail text";

    p2c2r_envelope *out = round_trip(&in);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(out->version == P2C2R_PROTOCOL_VERSION);
    CHECK(out->type == P2C2R__WIRE__MSG_TYPE__SUBMIT);
    CHECK(out->task_id == in.task_id);
    CHECK(strcmp(out->kind, "upscale") == 0);
    CHECK(out->priority == 7);
    CHECK(out->deadline_us == 16667);
    CHECK(out->status == P2C2R_E_DEADLINE); /* negative codes survive (sint32) */
    CHECK(strcmp(out->detail, "detail text") == 0);
    CHECK(out->frame && out->frame->width == 2560 && out->frame->height == 1600);
    CHECK(out->frame && out->frame->codec == P2C2R__WIRE__CODEC__CODEC_JPEG);
    CHECK(out->frame && out->frame->pixel_format == P2C2R__WIRE__PIXEL_FORMAT__YUV420P);
    CHECK(out->upscale && out->upscale->scale == 2 && out->upscale->jpeg_quality == 87);
    CHECK(out->upscale && out->upscale->mode == P2C2R__WIRE__UPSCALE_MODE__FAST);
    CHECK(out->peer == NULL && out->timing == NULL);
    p2c2r__envelope_free(&out);
    CHECK(out == NULL);
    p2c2r__envelope_free(&out); /* NULL is fine */
}

static void test_rejects(void)
{
    p2c2r_envelope in;
    p2c2r__envelope_init(&in, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    in.task_id = 99;
    in.kind = "upscale";
    in.detail = "a detail long enough that truncation cuts a field in half";
    zmq_msg_t msg;
    CHECK_RC(p2c2r__envelope_encode(&in, &msg), P2C2R_OK);
    const uint8_t *bytes = zmq_msg_data(&msg);
    size_t size = zmq_msg_size(&msg);
    p2c2r_envelope *out = NULL;

    /* Every strict prefix that ends inside a field must fail; none may crash. */
    int failures = 0;
    for (size_t n = 0; n < size; n++) {
        int rc = p2c2r__envelope_decode(bytes, n, &out);
        if (rc != P2C2R_OK)
            failures++;
        CHECK(rc == P2C2R_OK || out == NULL);
        p2c2r__envelope_free(&out);
    }
    CHECK(failures > 0);
    CHECK_RC(p2c2r__envelope_decode(bytes, size - 1, &out), P2C2R_E_PROTOCOL);
    CHECK_RC(p2c2r__envelope_decode(bytes, 0, &out), P2C2R_E_PROTOCOL);
    zmq_msg_close(&msg);

    /* Random garbage: rejected or, if it happens to parse, a valid envelope. */
    uint64_t seed = 42;
    uint8_t junk[256];
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + testutil_rand(&seed) % sizeof junk;
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)testutil_rand(&seed);
        int rc = p2c2r__envelope_decode(junk, n, &out);
        CHECK(rc == P2C2R_OK || rc == P2C2R_E_PROTOCOL || rc == P2C2R_E_VERSION);
        CHECK((rc == P2C2R_OK) == (out != NULL));
        p2c2r__envelope_free(&out);
    }
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_RC(p2c2r__envelope_decode(garbage, sizeof garbage, &out), P2C2R_E_PROTOCOL);

    /* Oversized: refused before parsing. */
    static uint8_t big[P2C2R_ENVELOPE_MAX_BYTES + 1];
    CHECK_RC(p2c2r__envelope_decode(big, sizeof big, &out), P2C2R_E_TOOBIG);

    /* Another protocol version. */
    in.version = 2;
    CHECK_RC(p2c2r__envelope_encode(&in, &msg), P2C2R_OK);
    CHECK_RC(p2c2r__envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &out), P2C2R_E_VERSION);
    zmq_msg_close(&msg);

    /* Unknown message type. */
    in.version = P2C2R_PROTOCOL_VERSION;
    in.type = 42;
    CHECK_RC(p2c2r__envelope_encode(&in, &msg), P2C2R_OK);
    CHECK_RC(p2c2r__envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &out),
             P2C2R_E_PROTOCOL);
    zmq_msg_close(&msg);

    /* An envelope too large to encode. */
    static char long_detail[P2C2R_ENVELOPE_MAX_BYTES + 10];
    memset(long_detail, 'x', sizeof long_detail - 1);
    p2c2r__envelope_init(&in, P2C2R__WIRE__MSG_TYPE__ERROR);
    in.detail = long_detail;
    CHECK_RC(p2c2r__envelope_encode(&in, &msg), P2C2R_E_TOOBIG);
    zmq_msg_close(&msg);
}

static void free_payload(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* A ROUTER and a DEALER connected over inproc://NAME, in a context of their own. */
typedef struct socket_pair {
    void *ctx, *router, *dealer;
} socket_pair;

static socket_pair pair_open(const char *name)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://%s", name);
    socket_pair p = {zmq_ctx_new(), NULL, NULL};
    p.router = zmq_socket(p.ctx, ZMQ_ROUTER);
    p.dealer = zmq_socket(p.ctx, ZMQ_DEALER);
    CHECK(zmq_bind(p.router, endpoint) == 0);
    CHECK(zmq_connect(p.dealer, endpoint) == 0);
    return p;
}

static void pair_close(socket_pair *p)
{
    zmq_close(p->dealer);
    zmq_close(p->router);
    zmq_ctx_term(p->ctx);
}

static void test_socket_messages(void)
{
    socket_pair pair = pair_open("envelope-test");
    void *router = pair.router, *dealer = pair.dealer;

    /* A well-formed message with a payload, sent without copying. */
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    env.task_id = 5;
    char *payload_bytes = malloc(1000);
    memset(payload_bytes, 0xab, 1000);
    zmq_msg_t payload;
    CHECK_RC(p2c2r__envelope_payload_wrap(&payload, payload_bytes, 1000, free_payload, NULL),
             P2C2R_OK);
    CHECK_RC(p2c2r__envelope_send(dealer, NULL, 0, &env, &payload, 0), P2C2R_OK);
    p2c2r_envelope_msg msg;
    CHECK_RC(p2c2r__envelope_recv(router, true, 0, &msg), P2C2R_OK);
    CHECK(msg.route_len > 0);
    CHECK(msg.env && msg.env->task_id == 5);
    CHECK(msg.has_payload && zmq_msg_size(&msg.payload) == 1000);
    CHECK(msg.has_payload && ((uint8_t *)zmq_msg_data(&msg.payload))[999] == 0xab);

    /* Answer over the route; the dealer receives it without a route. */
    CHECK_RC(p2c2r__envelope_send(router, msg.route, msg.route_len, &env, NULL, 0), P2C2R_OK);
    p2c2r__envelope_msg_close(&msg);
    CHECK_RC(p2c2r__envelope_recv(dealer, false, 0, &msg), P2C2R_OK);
    CHECK(msg.env && !msg.has_payload);
    p2c2r__envelope_msg_close(&msg);

    /* Four frames: refused, drained, and the next message still reads correctly. */
    zmq_msg_t head;
    CHECK_RC(p2c2r__envelope_encode(&env, &head), P2C2R_OK);
    zmq_msg_send(&head, dealer, ZMQ_SNDMORE);
    zmq_send(dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "b", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "c", 1, 0);
    CHECK_RC(p2c2r__envelope_recv(router, true, 0, &msg), P2C2R_E_PROTOCOL);
    CHECK(msg.route_len > 0 && msg.env == NULL);
    p2c2r__envelope_msg_close(&msg);

    /* Garbage envelope frame: refused with the route kept for an error reply. */
    zmq_send(dealer, "\xff\xff\xff", 3, 0);
    CHECK_RC(p2c2r__envelope_recv(router, true, 0, &msg), P2C2R_E_PROTOCOL);
    CHECK(msg.route_len > 0);
    p2c2r__envelope_msg_close(&msg);

    env.task_id = 6;
    CHECK_RC(p2c2r__envelope_send(dealer, NULL, 0, &env, NULL, 0), P2C2R_OK);
    CHECK_RC(p2c2r__envelope_recv(router, true, 0, &msg), P2C2R_OK);
    CHECK(msg.env && msg.env->task_id == 6);
    p2c2r__envelope_msg_close(&msg);

    /* Nothing waiting. */
    CHECK_RC(p2c2r__envelope_recv(router, true, ZMQ_DONTWAIT, &msg), P2C2R_E_TIMEOUT);
    p2c2r__envelope_msg_close(&msg);

    /* A ROUTER_MANDATORY socket reports an unknown route instead of dropping. */
    int one = 1;
    zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    CHECK_RC(p2c2r__envelope_send(router, "nobody", 6, &env, NULL, ZMQ_DONTWAIT),
             P2C2R_E_UNKNOWNPEER);

    pair_close(&pair);
}

/* Frames of the next message on the router, route included; the message is consumed. */
static int count_frames(void *router)
{
    int n = 0;
    zmq_msg_t part;
    zmq_msg_init(&part);
    do {
        if (zmq_msg_recv(&part, router, 0) < 0)
            break;
        n++;
    } while (zmq_msg_more(&part));
    zmq_msg_close(&part);
    return n;
}

/* A RESULT batch of n items, item i with a payload of sizes[i] bytes of value i and, when
 * detail, a detail of the longest kind. */
static void fill_batch(p2c2r_batch *b, size_t n, const size_t *sizes, bool detail, bool inline_ok)
{
    static char text[200];
    memset(text, 'd', sizeof text - 1);
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    frame.width = 3840;
    frame.height = 2160;
    p2c2r__batch_init(b, P2C2R__WIRE__MSG_TYPE__RESULT);
    b->inline_ok = inline_ok;
    for (size_t i = 0; i < n; i++) {
        zmq_msg_t payload;
        CHECK(zmq_msg_init_size(&payload, sizes[i]) == 0);
        memset(zmq_msg_data(&payload), (int)i, sizes[i]);
        p2c2r__batch_add(b, 0xfedcba9876543210ull - i, UINT64_MAX / 2, P2C2R_OK,
                         detail ? text : NULL, &frame, NULL, &payload);
    }
}

/* Send it, then read it back: frames on the wire, and every item's payload. */
static int batch_frames(void *dealer, void *router, p2c2r_batch *b, size_t n, const size_t *sizes,
                        bool detail, bool inline_ok)
{
    fill_batch(b, n, sizes, detail, inline_ok);
    CHECK_RC(p2c2r__batch_send(b, dealer, NULL, 0, 0), P2C2R_OK);
    CHECK(b->n == 0);
    int frames = count_frames(router);
    fill_batch(b, n, sizes, detail, inline_ok);
    CHECK_RC(p2c2r__batch_send(b, dealer, NULL, 0, 0), P2C2R_OK);
    p2c2r_envelope_msg msg;
    CHECK_RC(p2c2r__envelope_recv(router, true, 0, &msg), P2C2R_OK);
    CHECK(msg.env && msg.env->n_items == n && msg.item_payloads);
    for (size_t i = 0; msg.env && msg.item_payloads && i < msg.env->n_items; i++) {
        CHECK(msg.env->items[i]->task_id == 0xfedcba9876543210ull - i);
        CHECK(zmq_msg_size(&msg.item_payloads[i]) == sizes[i]);
        const uint8_t *d = zmq_msg_data(&msg.item_payloads[i]);
        for (size_t k = 0; k < sizes[i]; k++)
            if (d[k] != (uint8_t)i) {
                CHECK(!"payload byte");
                break;
            }
    }
    p2c2r__envelope_msg_close(&msg);
    return frames;
}

/* Batches with their payloads as frames or inline (BatchItem.payload), and the refusal of
 * a batch that mixes the two. */
static void test_batches(void)
{
    socket_pair pair = pair_open("envelope-batches");
    void *router = pair.router, *dealer = pair.dealer;
    p2c2r_batch *b = malloc(sizeof *b);
    size_t small[64], big[3] = {3000, 0, 3000};
    for (size_t i = 0; i < 64; i++)
        small[i] = i % 3 == 1 ? 0 : 64; /* 43 x 64 B = 2752 B */

    /* Small payloads to a receiver that reads them inline: one frame after the route. */
    CHECK(batch_frames(dealer, router, b, 32, small, false, true) == 2);
    /* ... to one that does not: a frame per item. */
    CHECK(batch_frames(dealer, router, b, 32, small, false, false) == 2 + 32);
    /* More than P2C2R_INLINE_MAX_BYTES: frames. */
    CHECK(batch_frames(dealer, router, b, 3, big, false, true) == 2 + 3);
    /* Inline, 64 long details would not fit P2C2R_ENVELOPE_MAX_BYTES: frames again. */
    size_t all64[64];
    for (size_t i = 0; i < 64; i++)
        all64[i] = 64;
    CHECK(batch_frames(dealer, router, b, 64, all64, true, true) == 2 + 64);
    CHECK(batch_frames(dealer, router, b, 64, all64, false, true) == 2);

    /* An item with an inline payload in a batch that also brings frames: refused, drained. */
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
    P2c2r__Wire__BatchItem items[2] = {P2C2R__WIRE__BATCH_ITEM__INIT,
                                       P2C2R__WIRE__BATCH_ITEM__INIT};
    P2c2r__Wire__BatchItem *ptrs[2] = {&items[0], &items[1]};
    items[0].task_id = 1;
    items[1].task_id = 2;
    items[1].payload.data = (uint8_t *)"inline";
    items[1].payload.len = 6;
    env.n_items = 2;
    env.items = ptrs;
    zmq_msg_t head;
    CHECK_RC(p2c2r__envelope_encode(&env, &head), P2C2R_OK);
    zmq_msg_send(&head, dealer, ZMQ_SNDMORE);
    zmq_send(dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "b", 1, 0);
    p2c2r_envelope_msg msg;
    CHECK_RC(p2c2r__envelope_recv(router, true, 0, &msg), P2C2R_E_PROTOCOL);
    p2c2r__envelope_msg_close(&msg);
    /* The same items without frames: both payloads inline, the first one empty. */
    CHECK_RC(p2c2r__envelope_encode(&env, &head), P2C2R_OK);
    zmq_msg_send(&head, dealer, 0);
    CHECK_RC(p2c2r__envelope_recv(router, true, 0, &msg), P2C2R_OK);
    CHECK(msg.item_payloads && zmq_msg_size(&msg.item_payloads[0]) == 0);
    CHECK(msg.item_payloads && zmq_msg_size(&msg.item_payloads[1]) == 6 &&
          memcmp(zmq_msg_data(&msg.item_payloads[1]), "inline", 6) == 0);
    p2c2r__envelope_msg_close(&msg);

    free(b);
    pair_close(&pair);
}

/* A batch of n varied tasks: statuses, frames of their own on some, timings on others,
 * payloads of 0..95 bytes. */
static void fill_varied(p2c2r_batch *b, P2c2r__Wire__MsgType type, size_t n, bool columns_ok)
{
    p2c2r__batch_init(b, type);
    b->inline_ok = true;
    b->columns_ok = columns_ok;
    for (size_t i = 0; i < n; i++) {
        P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
        frame.codec = (P2c2r__Wire__Codec)(i % 3);
        frame.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__RGB24;
        frame.width = (uint32_t)(i * 7);
        frame.height = (uint32_t)(i * 5 + 1);
        P2c2r__Wire__Timing timing = P2C2R__WIRE__TIMING__INIT;
        timing.queue_us = i;
        timing.peer_us = 1000 + i;
        timing.decode_us = i % 2;
        timing.compute_us = UINT64_MAX - i;
        timing.encode_us = 3 * i;
        timing.cache_hit = i % 5 == 0;
        timing.copy_in_us = 11;
        timing.copy_out_us = i % 4;
        timing.tables_us = i * i;
        timing.runtime =
            i % 2 ? P2C2R__WIRE__RUNTIME__RUNTIME_CUDA : P2C2R__WIRE__RUNTIME__RUNTIME_CPU;
        zmq_msg_t payload;
        size_t size = (i * 37) % 96;
        CHECK(zmq_msg_init_size(&payload, size) == 0);
        memset(zmq_msg_data(&payload), (int)(i + 1), size);
        int status = type == P2C2R__WIRE__MSG_TYPE__RESULT && i % 7 == 3 ? P2C2R_E_DEADLINE : 0;
        p2c2r__batch_add(b, 1000 + i, i % 4 ? 50000 + i : 0, status, NULL, i % 3 ? &frame : NULL,
                         i % 2 ? &timing : NULL, &payload);
    }
}

/* Item i of two received batches, seen as the messages they stand for, is the same. */
static void check_same_items(const p2c2r_envelope_msg *a, const p2c2r_envelope_msg *b)
{
    CHECK(a->env->n_items == b->env->n_items);
    for (size_t i = 0; i < a->env->n_items && i < b->env->n_items; i++) {
        p2c2r_envelope x, y;
        p2c2r__envelope_item_view(a->env, i, &x);
        p2c2r__envelope_item_view(b->env, i, &y);
        CHECK(x.type == y.type && x.task_id == y.task_id && x.deadline_us == y.deadline_us &&
              x.status == y.status && strcmp(x.detail, y.detail) == 0);
        CHECK((x.frame == NULL) == (y.frame == NULL));
        if (x.frame && y.frame)
            CHECK(x.frame->codec == y.frame->codec &&
                  x.frame->pixel_format == y.frame->pixel_format &&
                  x.frame->width == y.frame->width && x.frame->height == y.frame->height);
        CHECK((x.timing == NULL) == (y.timing == NULL));
        if (x.timing && y.timing)
            CHECK(x.timing->queue_us == y.timing->queue_us &&
                  x.timing->peer_us == y.timing->peer_us &&
                  x.timing->decode_us == y.timing->decode_us &&
                  x.timing->compute_us == y.timing->compute_us &&
                  x.timing->encode_us == y.timing->encode_us &&
                  x.timing->cache_hit == y.timing->cache_hit &&
                  x.timing->copy_in_us == y.timing->copy_in_us &&
                  x.timing->copy_out_us == y.timing->copy_out_us &&
                  x.timing->tables_us == y.timing->tables_us &&
                  x.timing->runtime == y.timing->runtime);
        CHECK(zmq_msg_size(&a->item_payloads[i]) == zmq_msg_size(&b->item_payloads[i]) &&
              memcmp(zmq_msg_data(&a->item_payloads[i]), zmq_msg_data(&b->item_payloads[i]),
                     zmq_msg_size(&b->item_payloads[i])) == 0);
    }
}

/* The Envelope frame of the next message on router, undecoded; whether frames followed. */
static P2c2r__Wire__Envelope *raw_envelope(void *router, bool *more)
{
    zmq_msg_t part;
    zmq_msg_init(&part);
    CHECK(zmq_msg_recv(&part, router, 0) >= 0); /* the route */
    CHECK(zmq_msg_recv(&part, router, 0) >= 0);
    P2c2r__Wire__Envelope *env =
        p2c2r__wire__envelope__unpack(NULL, zmq_msg_size(&part), zmq_msg_data(&part));
    *more = zmq_msg_more(&part);
    while (zmq_msg_more(&part))
        CHECK(zmq_msg_recv(&part, router, 0) >= 0);
    zmq_msg_close(&part);
    CHECK(env != NULL);
    return env;
}

/* An encoded Envelope with these columns, as a receiver meets it. */
static int decode_columns(P2c2r__Wire__MsgType type, P2c2r__Wire__BatchColumns *c, size_t n_items)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, type);
    env.columns = c;
    P2c2r__Wire__BatchItem item = P2C2R__WIRE__BATCH_ITEM__INIT, *items[1] = {&item};
    env.n_items = n_items;
    env.items = items;
    zmq_msg_t msg;
    CHECK_RC(p2c2r__envelope_encode(&env, &msg), P2C2R_OK);
    p2c2r_envelope *out = NULL;
    int rc = p2c2r__envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &out);
    zmq_msg_close(&msg);
    CHECK((rc == P2C2R_OK) == (out != NULL));
    p2c2r__envelope_free(&out);
    return rc;
}

/* Batches in columns (BatchColumns): the same tasks as items give, in one frame, and the
 * refusal of columns that do not describe a batch. */
static void test_columns(void)
{
    socket_pair pair = pair_open("envelope-columns");
    void *router = pair.router, *dealer = pair.dealer;
    p2c2r_batch *b = malloc(sizeof *b);
    const P2c2r__Wire__MsgType types[] = {P2C2R__WIRE__MSG_TYPE__SUBMIT,
                                          P2C2R__WIRE__MSG_TYPE__ASSIGN,
                                          P2C2R__WIRE__MSG_TYPE__RESULT};
    for (size_t t = 0; t < 3; t++) {
        /* On the wire: one frame, columns and no items. */
        fill_varied(b, types[t], 64, true);
        CHECK_RC(p2c2r__batch_send(b, dealer, NULL, 0, 0), P2C2R_OK);
        bool more;
        P2c2r__Wire__Envelope *raw = raw_envelope(router, &more);
        CHECK(raw && !more && raw->columns && raw->n_items == 0 && raw->columns->n_task_id == 64);
        p2c2r__wire__envelope__free_unpacked(raw, NULL);
        /* Received: the same tasks as the batch sent as items. */
        p2c2r_envelope_msg cols, items;
        fill_varied(b, types[t], 64, true);
        CHECK_RC(p2c2r__batch_send(b, dealer, NULL, 0, 0), P2C2R_OK);
        CHECK_RC(p2c2r__envelope_recv(router, true, 0, &cols), P2C2R_OK);
        fill_varied(b, types[t], 64, false);
        CHECK_RC(p2c2r__batch_send(b, dealer, NULL, 0, 0), P2C2R_OK);
        CHECK_RC(p2c2r__envelope_recv(router, true, 0, &items), P2C2R_OK);
        CHECK(cols.env->n_items == 64 && cols.payloads_owned && cols.env->columns == NULL);
        check_same_items(&cols, &items);
        p2c2r__envelope_msg_close(&cols);
        p2c2r__envelope_msg_close(&items);
    }
    /* An item with a detail: the batch goes as items. */
    fill_varied(b, P2C2R__WIRE__MSG_TYPE__RESULT, 8, true);
    b->items[5].detail = (char *)"why";
    CHECK_RC(p2c2r__batch_send(b, dealer, NULL, 0, 0), P2C2R_OK);
    bool more;
    P2c2r__Wire__Envelope *raw = raw_envelope(router, &more);
    CHECK(raw && !more && !raw->columns && raw->n_items == 8);
    CHECK(raw && raw->n_items == 8 && strcmp(raw->items[5]->detail, "why") == 0);
    p2c2r__wire__envelope__free_unpacked(raw, NULL);
    /* Payloads over P2C2R_INLINE_MAX_BYTES: frames, whatever the receiver reads. */
    size_t big[2] = {3000, 3000};
    CHECK(batch_frames(dealer, router, b, 2, big, false, true) == 2 + 2);

    /* Columns that do not describe a batch. */
    uint64_t ids[65], deadlines[65];
    uint32_t sizes[2] = {2, 3};
    for (size_t i = 0; i < 65; i++)
        ids[i] = deadlines[i] = i + 1;
    P2c2r__Wire__BatchColumns c = P2C2R__WIRE__BATCH_COLUMNS__INIT;
    c.n_task_id = 2;
    c.task_id = ids;
    c.n_payload_size = 2;
    c.payload_size = sizes;
    c.payloads = (ProtobufCBinaryData){5, (uint8_t *)"abcde"};
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_OK);
    /* ... with items as well */
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 1), P2C2R_E_PROTOCOL);
    /* ... in a message that is no batch */
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__HEARTBEAT, &c, 0), P2C2R_E_PROTOCOL);
    /* ... payload sizes that do not add up to the payloads' bytes, either way */
    c.payloads.len = 4;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_E_PROTOCOL);
    c.payloads.len = 5;
    c.n_payload_size = 0;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_E_PROTOCOL);
    c.n_payload_size = 2;
    /* ... a column of another length */
    c.n_deadline_us = 1;
    c.deadline_us = deadlines;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_E_PROTOCOL);
    c.n_deadline_us = 2;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_OK);
    P2c2r__Wire__Runtime runtimes[3] = {0};
    c.n_runtime = 3;
    c.runtime = runtimes;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__RESULT, &c, 0), P2C2R_E_PROTOCOL);
    c.n_runtime = 0;
    /* ... no task, or more than P2C2R_BATCH_MAX */
    c.n_task_id = 0;
    c.n_deadline_us = 0;
    c.n_payload_size = 0;
    c.payloads.len = 0;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_E_PROTOCOL);
    c.n_task_id = 65;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_E_PROTOCOL);
    c.n_task_id = 64;
    CHECK_RC(decode_columns(P2C2R__WIRE__MSG_TYPE__SUBMIT, &c, 0), P2C2R_OK);

    free(b);
    pair_close(&pair);
}

/* Task kind names both ways (p2c2r__task_kind_lookup() tells kinds by their first letter,
 * then checks the whole name). */
static void test_kind_names(void)
{
    for (int k = 0; k < P2C2R_KIND_COUNT; k++)
        CHECK(p2c2r__task_kind_lookup(p2c2r__task_kind_name(k)) == k);
    CHECK(p2c2r__task_kind_lookup("noop") == P2C2R_KIND_NOOP);
    const char *unknown[] = {"", "n", "noo", "noop ", "nooq", "upscalex", "Upscale", "sleeps", "x"};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++)
        CHECK(p2c2r__task_kind_lookup(unknown[i]) == -1);
}

static void test_strerror(void)
{
    CHECK(strcmp(p2c2r_errname(P2C2R_E_DEADLINE), "P2C2R_E_DEADLINE") == 0);
    CHECK(strcmp(p2c2r_strerror(P2C2R_OK), "success") == 0);
    CHECK(strcmp(p2c2r_strerror(-9999), "unknown error") == 0);
    CHECK(strcmp(p2c2r__envelope_type_name(P2C2R__WIRE__MSG_TYPE__ASSIGN), "ASSIGN") == 0);
}

int main(void)
{
    test_round_trip();
    test_rejects();
    test_socket_messages();
    test_batches();
    test_columns();
    test_kind_names();
    test_strerror();
    return testutil_finish("envelope_test");
}
