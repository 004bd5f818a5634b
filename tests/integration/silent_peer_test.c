/* silent_peer_test: a peer that heartbeats but never answers cannot hold frames.
 *
 * Next to one healthy peer runs a fake peer that claims 64 slots, keeps heartbeating and
 * answers nothing. Every frame must come back OK, well before its deadline: a new peer is
 * trusted with two tasks until it has answered some, each task on a peer has a timer, and
 * when it fires the task is retried elsewhere and the silent peer's record suffers. A
 * coordinator that trusted the claim and waited for answers would lose a large share of
 * the frames to their deadline. */
#include <stdio.h>
#include <stdlib.h>

#include "cluster.h"
#include "p2c2r.h"
#include "stream.h"
#include "testutil.h"

#define FRAMES      100
#define WINDOW      16
#define DEADLINE_MS 10000

int main(void)
{
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("cups_422_progressive.jpg"), &size);
    if (!jpeg)
        return 1;
    cluster cl = {0};
    const char *const silent[] = {"--mode", "silent", "--slots", "64", NULL};
    const char *const healthy[] = {"--slots", "2", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_fake_peer(&cl, silent) < 0 ||
        cluster_add_peer(&cl, healthy) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = WINDOW};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = DEADLINE_MS};
    stream_stats st =
        stream_frames(client, &desc, jpeg, size, FRAMES, WINDOW, 2 * DEADLINE_MS, NULL, NULL);
    printf("frames ok next to a silent peer: %d/%d, slowest %.0f ms (deadline %d ms)\n", st.ok,
           FRAMES, st.slowest_us / 1000.0, DEADLINE_MS);
    CHECK(st.ok == FRAMES);
    /* Retried after the attempt timeout (2 s by default), not held to the deadline. */
    CHECK(st.slowest_us < DEADLINE_MS * 1000ull / 2);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    free(jpeg);
    return testutil_finish("silent_peer_test");
}
