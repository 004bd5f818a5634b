/* sdk_restart_test: clients and peers notice a coordinator restart at once.
 * 1. Frames are in flight when the coordinator is killed (SIGKILL) and restarted on the
 *    same ports. The SDK sees the new instance within a second and sends its unfinished
 *    tasks again: every frame comes back OK, long before its deadline.
 * 2. The coordinator is killed and stays down: tasks end at their deadline with
 *    P2C2R_E_COORDLOST, not a grace period later with a bare deadline error.
 * 3. A peer facing a coordinator that refuses everything it says (UNKNOWNPEER) says hello
 *    again with backoff, not once per refusal, and its log does not grow a line per
 *    refusal. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster.h"
#include "common/clock.h"
#include "common/envelope.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

#define FRAMES 12

static void restart_with_frames_in_flight(void)
{
    printf("1. coordinator killed and restarted with %d frames in flight\n", FRAMES);
    size_t size;
    const char *path = testutil_wallpaper("1920x1080", 1);
    uint8_t *jpeg = path ? testutil_read_file(path, &size) : NULL;
    cluster cl = {0};
    const char *const peer_args[] = {"--slots", "2", "--heartbeat-ms", "100", NULL};
    if (!jpeg || cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0) {
        CHECK(!"cluster did not start");
        cluster_stop(&cl);
        free(jpeg);
        return;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = FRAMES};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 20000};
    uint64_t ids[FRAMES], start = p2c2r__now_us(), restarted = 0, slowest = 0;
    for (int i = 0; client && i < FRAMES; i++)
        CHECK_RC(p2c2r_submit_upscale(client, &desc, jpeg, size, &ids[i]), P2C2R_OK);
    int ok = 0, seen[FRAMES] = {0};
    for (int n = 0; client && n < FRAMES; n++) {
        p2c2r_result *r;
        if (p2c2r_poll(client, 30000, &r) != P2C2R_OK) {
            CHECK(!"a frame never ended");
            break;
        }
        if (n == 0) {
            CHECK(cluster_restart_coordinator(&cl, SIGKILL, NULL) == 0);
            restarted = p2c2r__now_us();
            printf("   first frame in after %.0f ms; coordinator restarted\n",
                   (restarted - start) / 1000.0);
        }
        int k = testutil_task_ended(ids, seen, FRAMES, p2c2r_result_task_id(r));
        if (p2c2r_result_status(r) == P2C2R_OK)
            ok++;
        else
            fprintf(stderr, "   frame %d: %s: %s\n", k, p2c2r_errname(p2c2r_result_status(r)),
                    p2c2r_result_detail(r));
        slowest = p2c2r__now_us() - start;
        p2c2r_result_free(&r);
    }
    printf("   frames ok: %d/%d, the last %.0f ms after the restart (deadline %u ms)\n", ok, FRAMES,
           restarted ? (start + slowest - restarted) / 1000.0 : 0.0, desc.deadline_ms);
    CHECK(ok == FRAMES);
    /* Sent again within about a second, not left to run into their deadline. */
    CHECK(slowest < desc.deadline_ms * 1000ull / 2);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    free(jpeg);
}

static void coordinator_stays_down(void)
{
    printf("2. coordinator killed and left down, tasks due in 1500 ms\n");
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL)) {
        CHECK(!"coordinator did not start");
        return;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    uint64_t id;
    /* No peer: the tasks wait in the coordinator's queue until it dies. */
    for (int i = 0; client && i < 3; i++)
        CHECK_RC(p2c2r_submit_noop(client, "x", 1, 1500, &id), P2C2R_OK);
    usleep(100000);
    kill(cl.coordinator, SIGKILL);
    for (int i = 0; client && i < 3; i++) {
        p2c2r_result *r;
        CHECK_RC(p2c2r_poll(client, 5000, &r), P2C2R_OK);
        if (!r)
            break;
        p2c2r_timings t;
        p2c2r_result_timings(r, &t);
        printf("   %s after %.0f ms: %s\n", p2c2r_errname(p2c2r_result_status(r)),
               t.total_us / 1000.0, p2c2r_result_detail(r));
        CHECK_RC(p2c2r_result_status(r), P2C2R_E_COORDLOST);
        CHECK(t.total_us < (1500u + 100u) * 1000u);
        p2c2r_result_free(&r);
    }
    p2c2r_client_destroy(&client);
    cluster_stop(&cl); /* the coordinator ended badly by design */
}

static void hello_backoff(void)
{
    printf("3. a peer refused by its coordinator for 2 s\n");
    void *ctx = zmq_ctx_new();
    char endpoint[256];
    void *router = testwire_router(ctx, endpoint, sizeof endpoint);
    if (!router) {
        CHECK(!"cannot bind");
        return;
    }
    char log[] = "/tmp/p2c2r-peerlog-XXXXXX";
    testutil_temp_file(log);
    cluster cl = {.peer_log = log};
    const char *const peer_args[] = {"--coordinator", endpoint, "--heartbeat-ms", "50", NULL};
    CHECK(cluster_add_peer(&cl, peer_args) >= 0);
    int hellos = 0, messages = 0;
    uint64_t until = p2c2r__now_us() + 2000000u;
    while (p2c2r__now_us() < until) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        p2c2r_envelope_msg msg;
        if (p2c2r__envelope_recv(router, true, 0, &msg) == P2C2R_OK) {
            messages++;
            hellos += msg.env->type == P2C2R__WIRE__MSG_TYPE__PEER_HELLO;
            p2c2r_envelope no;
            p2c2r__envelope_init(&no, P2C2R__WIRE__MSG_TYPE__ERROR);
            no.instance = 0x1234;
            no.status = P2C2R_E_UNKNOWNPEER;
            no.detail = "say PEER_HELLO first";
            p2c2r__envelope_send(router, msg.route, msg.route_len, &no, NULL, 0);
        }
        p2c2r__envelope_msg_close(&msg);
    }
    cluster_stop(&cl);
    int lines = testutil_count_lines(log, NULL);
    unlink(log);
    printf("   %d messages from the peer, %d of them PEER_HELLO; %d lines in its log\n", messages,
           hellos, lines);
    CHECK(hellos >= 2 && hellos <= 10);
    CHECK(lines <= 10);
    zmq_close(router);
    zmq_ctx_term(ctx);
}

int main(void)
{
    restart_with_frames_in_flight();
    coordinator_stays_down();
    hello_backoff();
    return testutil_finish("sdk_restart_test");
}
