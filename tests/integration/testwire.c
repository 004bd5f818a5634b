/* testwire: see testwire.h. */
#include "testwire.h"

#include <stdbool.h>
#include <stdio.h>

#include "cluster.h"
#include "common/task.h"

#include <string.h>
#include <zmq.h>

void *testwire_dealer(void *ctx, const char *endpoint)
{
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    int64_t max = P2C2R_PAYLOAD_MAX_BYTES + P2C2R_ENVELOPE_MAX_BYTES;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (zmq_connect(sock, endpoint) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

void *testwire_router(void *ctx, char *endpoint, size_t size)
{
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    char any[64];
    snprintf(any, sizeof any, "tcp://%s:*", cluster_host());
    if (zmq_bind(sock, any) != 0 || zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, endpoint, &size) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

int testwire_send(void *sock, p2c2r_envelope *env, const void *payload, size_t size)
{
    zmq_msg_t msg;
    zmq_msg_init_size(&msg, size);
    if (size)
        memcpy(zmq_msg_data(&msg), payload, size);
    int rc = p2c2r__envelope_send(sock, NULL, 0, env, payload ? &msg : NULL, 0);
    zmq_msg_close(&msg);
    return rc;
}

int testwire_recv(void *sock, int timeout_ms, p2c2r_envelope_msg *msg)
{
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0) {
        p2c2r__envelope_recv(sock, false, ZMQ_DONTWAIT, msg); /* initialises msg */
        return P2C2R_E_TIMEOUT;
    }
    return p2c2r__envelope_recv(sock, false, 0, msg);
}

int testwire_submit_gray(void *sock, uint64_t sender, uint64_t task_id, const uint8_t *pixels,
                         uint32_t side)
{
    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    frame.codec = P2C2R__WIRE__CODEC__CODEC_RAW;
    frame.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__GRAY8;
    frame.width = frame.height = side;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    up.scale = 1;
    up.mode = P2C2R__WIRE__UPSCALE_MODE__FAST;
    up.output_codec = P2C2R__WIRE__CODEC__CODEC_RAW;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.sender = sender;
    env.task_id = task_id;
    env.kind = "upscale";
    env.deadline_us = P2C2R_DEADLINE_MAX_US;
    env.frame = &frame;
    env.upscale = &up;
    return testwire_send(sock, &env, pixels, (size_t)side * side);
}

static int hello(void *sock, uint64_t sender, uint32_t slots, bool batches, bool inline_payloads,
                 bool columns)
{
    char *kinds[] = {"upscale", "noop", "sleep"};
    P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
    info.name = "wire-peer";
    info.kinds = kinds;
    info.n_kinds = batches ? 3 : 2;
    info.slots = slots;
    info.runtime = "cpu";
    info.batches = batches;
    info.inline_payloads = inline_payloads;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__PEER_HELLO);
    env.sender = sender;
    env.peer = &info;
    env.reads_columns = columns;
    return testwire_send(sock, &env, NULL, 0);
}

int testwire_hello(void *sock, uint64_t sender, uint32_t slots)
{
    return hello(sock, sender, slots, false, false, false);
}

int testwire_hello_batches(void *sock, uint64_t sender, uint32_t slots)
{
    return hello(sock, sender, slots, true, false, false);
}

int testwire_hello_inline(void *sock, uint64_t sender, uint32_t slots)
{
    return hello(sock, sender, slots, true, true, false);
}

int testwire_hello_columns(void *sock, uint64_t sender, uint32_t slots)
{
    return hello(sock, sender, slots, true, true, true);
}

size_t testwire_inline(const p2c2r_envelope *env)
{
    size_t n = 0;
    for (size_t i = 0; i < env->n_items; i++)
        n += env->items[i]->payload.len > 0;
    return n;
}
