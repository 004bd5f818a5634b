/* peer_wire_test: what a real peer says on the wire, checked by a coordinator played by
 * hand. Its hello carries its capabilities (slots, SIMD level) and an empty load report;
 * while it runs a task its heartbeats list that task's id; its RESULT echoes the
 * instance of the ASSIGN it answers; afterwards its heartbeats say the task is no longer
 * running, with the last id it was given, and report the filter table it now holds. The
 * clock value in the coordinator's heartbeat comes back once, for the round trip. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cluster.h"
#include "common/clock.h"
#include "common/envelope.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

#define INSTANCE 0x1111222233334444ull
#define TASK_ID  7u
#define ECHO     123456789u

static void send_to(void *router, const p2c2r_envelope_msg *from, p2c2r_envelope *env,
                    const void *payload, size_t size)
{
    zmq_msg_t msg;
    zmq_msg_init_size(&msg, size);
    if (size)
        memcpy(zmq_msg_data(&msg), payload, size);
    p2c2r__envelope_send(router, from->route, from->route_len, env, payload ? &msg : NULL, 0);
    zmq_msg_close(&msg);
}

int main(void)
{
    size_t size;
    const char *path = testutil_wallpaper("1920x1080", 0);
    uint8_t *jpeg = path ? testutil_read_file(path, &size) : NULL;
    if (!jpeg)
        return 1;
    void *ctx = zmq_ctx_new();
    char endpoint[256];
    void *router = testwire_router(ctx, endpoint, sizeof endpoint);
    if (!router)
        return 1;
    cluster cl = {0};
    const char *const args[] = {"--coordinator",  endpoint, "--slots", "1",
                                "--heartbeat-ms", "50",     NULL};
    CHECK(cluster_add_peer(&cl, args) >= 0);

    bool hello = false, assigned = false, seen_running = false, result = false;
    bool seen_done = false, seen_resident = false, echoed = false;
    uint64_t until = p2c2r__now_us() + 60000000u;
    while (p2c2r__now_us() < until && !(result && seen_done && seen_resident)) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;
        p2c2r_envelope_msg msg;
        if (p2c2r__envelope_recv(router, true, 0, &msg) != P2C2R_OK) {
            p2c2r__envelope_msg_close(&msg);
            continue;
        }
        const p2c2r_envelope *in = msg.env;
        const P2c2r__Wire__PeerLoad *load = in->load;
        if (in->type == P2C2R__WIRE__MSG_TYPE__PEER_HELLO && !hello) {
            hello = true;
            CHECK(in->peer && in->peer->slots == 1 && in->peer->simd && in->peer->simd[0]);
            CHECK(in->sender != 0);
            CHECK(load && load->n_running == 0 && load->last_assigned == 0);
            printf("hello: slots %u, simd %s, sender %016llx\n", in->peer->slots, in->peer->simd,
                   (unsigned long long)in->sender);
            p2c2r_envelope beat;
            p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
            beat.instance = INSTANCE;
            beat.echo_us = ECHO;
            send_to(router, &msg, &beat, NULL, 0);
            /* Quality mode at 2x of a wallpaper: long enough for several heartbeats. */
            P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
            frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
            P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
            up.scale = 2;
            up.mode = P2C2R__WIRE__UPSCALE_MODE__QUALITY;
            p2c2r_envelope assign;
            p2c2r__envelope_init(&assign, P2C2R__WIRE__MSG_TYPE__ASSIGN);
            assign.instance = INSTANCE;
            assign.task_id = TASK_ID;
            assign.kind = "upscale";
            assign.deadline_us = 50000000u;
            assign.frame = &frame;
            assign.upscale = &up;
            send_to(router, &msg, &assign, jpeg, size);
            assigned = true;
        } else if (in->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT && assigned && load) {
            CHECK(in->instance == INSTANCE);
            /* The clock value of our heartbeat comes back once, with the time it was held
             * (at most a heartbeat period, 50 ms, plus scheduling). */
            if (in->echo_us) {
                CHECK(in->echo_us == ECHO && !echoed && in->held_us < 1000000u);
                echoed = true;
            }
            if (!result && load->n_running == 1 && load->running[0] == TASK_ID)
                seen_running = true;
            if (result && load->n_running == 0 && load->last_assigned == TASK_ID)
                seen_done = true;
            for (size_t i = 0; in->peer && i < in->peer->n_resident; i++) {
                printf("heartbeat reports resident: %s\n", in->peer->resident[i]);
                seen_resident |= strstr(in->peer->resident[i], "quality") != NULL;
            }
        } else if (in->type == P2C2R__WIRE__MSG_TYPE__RESULT) {
            result = true;
            CHECK(in->instance == INSTANCE && in->task_id == TASK_ID);
            CHECK(in->frame && in->frame->width > 0 && msg.has_payload);
            printf("result: %ux%u, %zu bytes\n", in->frame ? in->frame->width : 0,
                   in->frame ? in->frame->height : 0, zmq_msg_size(&msg.payload));
        } else if (in->type == P2C2R__WIRE__MSG_TYPE__ERROR) {
            fprintf(stderr, "peer answered %s: %s\n", p2c2r_errname(in->status), in->detail);
            CHECK(in->type != P2C2R__WIRE__MSG_TYPE__ERROR);
            result = true;
        }
        p2c2r__envelope_msg_close(&msg);
    }
    printf("hello %d, heartbeats listed the running task %d, result %d, then not running %d, "
           "resident table reported %d, clock echoed %d\n",
           hello, seen_running, result, seen_done, seen_resident, echoed);
    CHECK(hello && seen_running && result && seen_done && seen_resident && echoed);
    CHECK(cluster_stop(&cl) == 0);
    zmq_close(router);
    zmq_ctx_term(ctx);
    free(jpeg);
    return testutil_finish("peer_wire_test");
}
