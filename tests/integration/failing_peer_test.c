/* failing_peer_test: peers that fail every task cannot make frames fail.
 *
 * Next to one healthy peer run three that claim 64 slots each and answer every task at
 * once: one with P2C2R_E_INTERNAL, one with P2C2R_E_BUSY, one calling every input bad
 * (P2C2R_E_BADINPUT). Such peers look free all the time. Every frame must still come
 * back OK: a peer's failure sends the task to another peer, an input error is believed
 * only when a second peer agrees, and the failing peers' circuit breakers open (the
 * coordinator's log says so) so that they stop being picked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "p2c2r.h"
#include "stream.h"
#include "testutil.h"

#define FRAMES 200
#define WINDOW 16

static void check_size(void *arg, const p2c2r_result *r)
{
    (void)arg;
    if (p2c2r_result_status(r) == P2C2R_OK)
        CHECK(p2c2r_result_width(r) == 2 * 317 && p2c2r_result_height(r) == 2 * 199);
}

int main(void)
{
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("bythewater_420.jpg"), &size);
    if (!jpeg)
        return 1;
    char log[] = "/tmp/p2c2r-failing-XXXXXX";
    testutil_temp_file(log);
    cluster cl = {.coordinator_log = log};
    const char *const fail[] = {"--mode", "fail", NULL};
    const char *const busy[] = {"--mode", "busy", NULL};
    const char *const liar[] = {"--mode", "liar", NULL};
    const char *const healthy[] = {"--slots", "2", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_fake_peer(&cl, fail) < 0 ||
        cluster_add_fake_peer(&cl, busy) < 0 || cluster_add_fake_peer(&cl, liar) < 0 ||
        cluster_add_peer(&cl, healthy) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    usleep(300000); /* "ready" is printed before the hello is through: let all register */
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = WINDOW};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 20000};
    stream_stats st =
        stream_frames(client, &desc, jpeg, size, FRAMES, WINDOW, 30000, check_size, NULL);
    printf("frames ok next to three failing peers: %d/%d\n", st.ok, FRAMES);
    CHECK(st.ok == FRAMES);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    int opened = testutil_count_lines(log, "circuit breaker open");
    printf("circuit breaker openings logged: %d\n", opened);
    CHECK(opened >= 3);
    unlink(log);
    free(jpeg);
    return testutil_finish("failing_peer_test");
}
