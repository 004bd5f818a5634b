/* fallback_paths_test: each way a frame goes to the local fallback, against a coordinator
 * played by hand on a ROUTER socket, so that every answer comes exactly when the test says.
 * 1. The cluster answers BUSY: the frame is upscaled locally at once, and the result says
 *    why; a BADINPUT answer is the frame's own fault and ends it with that error.
 * 2. The cluster answers after the deadline: the local result is delivered on time, the
 *    cluster's late answer is dropped (counted, never delivered), and its latency is learnt.
 * 3. Once the learnt latency says the cluster would miss the deadline, frames go local at
 *    once ("predicted") instead of waiting for it.
 * 4. The coordinator stops answering anything (hung, connection up): after a second of
 *    silence frames go local at once as "unreachable".
 * Every frame ends exactly once, and local output is the bilinear upscale of the input.
 */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

#define SIDE     64
#define INSTANCE 0x5eedull

typedef enum policy { ANSWER_BUSY, ANSWER_BADINPUT, ANSWER_LATE, ANSWER_NOTHING } policy;

/* A RESULT the coordinator owes, and when it sends it. */
typedef struct owed {
    uint8_t route[P2C2R_ROUTE_MAX_BYTES]; /* the client's route */
    size_t route_len;                     /* its length */
    uint64_t task_id;                     /* the client's id */
    uint64_t due_us;                      /* when to send it */
} owed;

typedef struct coordinator {
    void *router;     /* the clients socket */
    policy policy;    /* what SUBMITs get */
    uint32_t late_ms; /* ANSWER_LATE: after this long */
    bool hung;        /* answers nothing at all, not even heartbeats */
    owed owed[256];   /* RESULTs to send */
    int nowed;        /* of them */
    int submits;      /* SUBMITs received */
} coordinator;

/* What came out of the client. */
typedef struct outcome {
    int status;           /* how the frame ended */
    p2c2r_source source;  /* where it was made */
    char detail[96];      /* why */
    uint64_t total_us;    /* submit to delivery */
    uint32_t deadline_ms; /* its deadline */
    bool right;           /* output as expected */
} outcome;

static uint8_t frame[SIDE * SIDE];

static void answer(coordinator *co, const uint8_t *route, size_t len, uint64_t task_id, int status)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env,
                         status ? P2C2R__WIRE__MSG_TYPE__ERROR : P2C2R__WIRE__MSG_TYPE__RESULT);
    env.instance = INSTANCE;
    env.task_id = task_id;
    env.status = status;
    env.detail = status ? "refused by the test" : "";
    P2c2r__Wire__Frame f = P2C2R__WIRE__FRAME__INIT;
    zmq_msg_t payload;
    if (!status) {
        f.codec = P2C2R__WIRE__CODEC__CODEC_RAW;
        f.pixel_format = P2C2R__WIRE__PIXEL_FORMAT__GRAY8;
        f.width = f.height = 2 * SIDE;
        env.frame = &f;
        zmq_msg_init_size(&payload, 4 * SIDE * SIDE);
        memset(zmq_msg_data(&payload), 0, 4 * SIDE * SIDE);
    }
    p2c2r__envelope_send(co->router, route, len, &env, status ? NULL : &payload, 0);
}

/* Play the coordinator for ms milliseconds. */
static void serve(coordinator *co, uint32_t ms)
{
    uint64_t until = p2c2r__now_us() + ms * 1000ull;
    for (uint64_t now = p2c2r__now_us(); now < until; now = p2c2r__now_us()) {
        for (int i = 0; i < co->nowed; i++)
            if (co->owed[i].due_us <= now) {
                answer(co, co->owed[i].route, co->owed[i].route_len, co->owed[i].task_id, 0);
                co->owed[i--] = co->owed[--co->nowed];
            }
        zmq_pollitem_t item = {co->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 1) <= 0)
            continue;
        p2c2r_envelope_msg msg;
        if (p2c2r__envelope_recv(co->router, true, 0, &msg) != P2C2R_OK || co->hung) {
            p2c2r__envelope_msg_close(&msg);
            continue;
        }
        if (msg.env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT) {
            p2c2r_envelope beat;
            p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
            beat.instance = INSTANCE;
            p2c2r__envelope_send(co->router, msg.route, msg.route_len, &beat, NULL, 0);
        } else if (msg.env->type == P2C2R__WIRE__MSG_TYPE__SUBMIT) {
            co->submits++;
            if (co->policy == ANSWER_BUSY)
                answer(co, msg.route, msg.route_len, msg.env->task_id, P2C2R_E_BUSY);
            else if (co->policy == ANSWER_BADINPUT)
                answer(co, msg.route, msg.route_len, msg.env->task_id, P2C2R_E_BADINPUT);
            else if (co->policy == ANSWER_LATE && co->nowed < 256) {
                owed *o = &co->owed[co->nowed++];
                memcpy(o->route, msg.route, msg.route_len);
                o->route_len = msg.route_len;
                o->task_id = msg.env->task_id;
                o->due_us = p2c2r__now_us() + co->late_ms * 1000ull;
            }
        }
        p2c2r__envelope_msg_close(&msg);
    }
}

/* Submit n frames one tick (20 ms) apart while playing the coordinator, then serve until
 * all ended (or 3 s); outcomes in submit order. */
static void run(p2c2r_client *client, coordinator *co, int n, uint32_t deadline_ms, outcome *out)
{
    uint64_t ids[64];
    int seen[64] = {0}, ended = 0;
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_RAW,
                               .pixel_format = P2C2R_PIX_GRAY8,
                               .width = SIDE,
                               .height = SIDE,
                               .scale = 2,
                               .output_codec = P2C2R_CODEC_RAW,
                               .deadline_ms = deadline_ms};
    memset(out, 0, (size_t)n * sizeof *out);
    uint64_t until = p2c2r__now_us() + n * 20000ull + 3000000u;
    for (int i = 0; ended < n && p2c2r__now_us() < until;) {
        if (i < n)
            CHECK_RC(p2c2r_submit_upscale(client, &desc, frame, sizeof frame, &ids[i++]), P2C2R_OK);
        serve(co, 20);
        p2c2r_result *r;
        while (p2c2r_poll(client, 0, &r) == P2C2R_OK) {
            int k = testutil_task_ended(ids, seen, i, p2c2r_result_task_id(r));
            if (k >= 0) {
                outcome *o = &out[k];
                p2c2r_timings t;
                p2c2r_result_timings(r, &t);
                o->status = p2c2r_result_status(r);
                o->source = p2c2r_result_source(r);
                snprintf(o->detail, sizeof o->detail, "%s", p2c2r_result_detail(r));
                o->total_us = t.total_us;
                o->deadline_ms = p2c2r_result_deadline_ms(r);
                size_t size;
                const uint8_t *px = p2c2r_result_data(r, &size);
                /* The input is a ramp of 4 per column: the 2x bilinear output at x = 2k + 1
                 * samples k + 0.25, 4k + 1 (the test's cluster sends zeros). */
                o->right =
                    o->status != P2C2R_OK || (size == 4 * SIDE * SIDE &&
                                              (o->source == P2C2R_SOURCE_CLUSTER || px[21] == 41));
                ended++;
            }
            p2c2r_result_free(&r);
        }
    }
    CHECK(ended == n);
}

static int count(const outcome *o, int n, p2c2r_source source, const char *detail_part)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += o[i].status == P2C2R_OK && o[i].source == source && o[i].right &&
             o[i].total_us <= o[i].deadline_ms * 1000ull &&
             (!detail_part || strstr(o[i].detail, detail_part));
    return c;
}

int main(void)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            frame[y * SIDE + x] = (uint8_t)(x * 4);
    void *ctx = zmq_ctx_new();
    coordinator co = {0};
    char endpoint[256];
    co.router = testwire_router(ctx, endpoint, sizeof endpoint);
    p2c2r_client_config config = {.coordinator = endpoint, .fallback = P2C2R_FALLBACK_LOCAL};
    p2c2r_client *client = co.router ? p2c2r_client_new(&config, NULL) : NULL;
    CHECK(client != NULL);
    if (!client)
        return testutil_finish("fallback_paths_test");
    outcome out[64];

    printf("1. the cluster answers BUSY, then BADINPUT\n");
    co.policy = ANSWER_BUSY;
    run(client, &co, 10, 100, out);
    int busy = count(out, 10, P2C2R_SOURCE_LOCAL, "answered with an error");
    printf("   BUSY: %d/10 local, on time, right; e.g. \"%s\" after %.1f ms\n", busy, out[0].detail,
           out[0].total_us / 1000.0);
    CHECK(busy == 10);
    co.policy = ANSWER_BADINPUT;
    run(client, &co, 3, 100, out);
    for (int i = 0; i < 3; i++)
        CHECK_RC(out[i].status, P2C2R_E_BADINPUT);

    printf("2. the cluster answers 80 ms after submit, deadline 50 ms\n");
    co.policy = ANSWER_LATE;
    co.late_ms = 80;
    p2c2r_client_stats before, after;
    p2c2r_client_get_stats(client, &before);
    /* 10 frames 20 ms apart: the 10th is submitted before the 8th answer is learnt, so all
     * are sent to the cluster. */
    run(client, &co, 10, 50, out);
    serve(&co, 200); /* the last late answers */
    p2c2r_client_get_stats(client, &after);
    int local = count(out, 10, P2C2R_SOURCE_LOCAL, NULL);
    printf("   %d/10 local and on time; %llu late answers dropped\n", local,
           (unsigned long long)(after.dropped_answers - before.dropped_answers));
    CHECK(local == 10);
    CHECK(after.dropped_answers - before.dropped_answers == 10);
    CHECK(after.cluster == before.cluster);
    p2c2r_upscale_desc key = {.codec = P2C2R_CODEC_RAW,
                              .pixel_format = P2C2R_PIX_GRAY8,
                              .width = SIDE,
                              .height = SIDE,
                              .scale = 2,
                              .output_codec = P2C2R_CODEC_RAW};
    p2c2r_latency lat;
    CHECK_RC(p2c2r_client_upscale_latency(client, &key, &lat), P2C2R_OK);
    printf("   learnt: %u answers, p50 %.1f ms; %u local runs, p50 %.2f ms\n", lat.samples,
           lat.p50_us / 1000.0, lat.local_samples, lat.local_p50_us / 1000.0);
    CHECK(lat.samples == 10 && lat.p50_us >= 80000);
    CHECK(lat.local_samples == 20);

    printf("3. the same cluster once it is known to be late\n");
    run(client, &co, 10, 50, out);
    int predicted = count(out, 10, P2C2R_SOURCE_LOCAL, "would miss");
    printf("   %d/10 went local at once; e.g. \"%s\" after %.1f ms\n", predicted, out[9].detail,
           out[9].total_us / 1000.0);
    CHECK(predicted == 10);
    serve(&co, 100);

    printf("4. the coordinator hangs (no answer to anything) for 2 s\n");
    co.hung = true;
    co.policy = ANSWER_NOTHING;
    run(client, &co, 60, 200, out); /* 1.2 s of frames */
    int unreachable = count(out, 60, P2C2R_SOURCE_LOCAL, "unreachable");
    int on_time = count(out, 60, P2C2R_SOURCE_LOCAL, NULL);
    printf("   %d/60 local and on time, the last %d of them as unreachable\n", on_time,
           unreachable);
    CHECK(on_time == 60);
    CHECK(unreachable >= 5 && strstr(out[59].detail, "unreachable"));

    p2c2r_client_destroy(&client);
    zmq_close(co.router);
    zmq_ctx_term(ctx);
    return testutil_finish("fallback_paths_test");
}
