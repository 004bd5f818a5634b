/* reconnect_test: a peer's busy slots survive a reset of its connection.
 *
 * The peer (two slots) reaches the coordinator through a TCP relay. While it runs two
 * frames, every connection through the relay is reset. The peer reconnects and says
 * hello again with what it still runs; the coordinator must recognise it, keep its two
 * tasks in flight and not send it more than its slots. Every frame must come back OK: a
 * coordinator that took the reconnected peer for an idle new one would assign it more,
 * and the peer's BUSY answers would end frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "p2c2r.h"
#include "tcpproxy.h"
#include "testutil.h"

#define FRAMES 12
/* Frames must outlast the reconnect (a few hundred milliseconds): 3x of 1080p does, and
 * under AddressSanitizer, several times slower, 2x does. */
#if defined(__SANITIZE_ADDRESS__)
#define SCALE 2
#else
#define SCALE 3
#endif

int main(void)
{
    /* Real 1080p frames: the peer is still busy with them when it has reconnected and said
     * hello again. */
    size_t size;
    const char *path = testutil_wallpaper("1920x1080", 0);
    uint8_t *jpeg = path ? testutil_read_file(path, &size) : NULL;
    if (!jpeg)
        return 1;
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL)) {
        cluster_stop(&cl);
        return 1;
    }
    const char *colon = strrchr(cl.peer_endpoint, ':');
    tcpproxy *proxy = tcpproxy_start(atoi(colon + 1));
    CHECK(proxy != NULL);
    char via[64];
    snprintf(via, sizeof via, "tcp://127.0.0.1:%d", proxy ? tcpproxy_port(proxy) : 1);
    const char *const peer_args[] = {"--coordinator",  via,   "--slots", "2",
                                     "--heartbeat-ms", "100", NULL};
    if (!proxy || cluster_add_peer(&cl, peer_args) < 0) {
        tcpproxy_stop(&proxy);
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = FRAMES};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = SCALE, .deadline_ms = 60000};
    uint64_t ids[FRAMES];
    for (int i = 0; client && i < FRAMES; i++)
        CHECK_RC(p2c2r_submit_upscale(client, &desc, jpeg, size, &ids[i]), P2C2R_OK);

    int ok = 0, seen[FRAMES] = {0};
    for (int n = 0; client && n < FRAMES; n++) {
        p2c2r_result *r;
        if (p2c2r_poll(client, 60000, &r) != P2C2R_OK) {
            CHECK(!"a frame never ended");
            break;
        }
        if (n == 1)
            printf("two frames in; reset %d connection(s) through the relay\n",
                   tcpproxy_reset_all(proxy));
        int k = 0;
        while (k < FRAMES && ids[k] != p2c2r_result_task_id(r))
            k++;
        CHECK(k < FRAMES && !seen[k]);
        if (k < FRAMES)
            seen[k] = 1;
        int status = p2c2r_result_status(r);
        if (status != P2C2R_OK)
            fprintf(stderr, "frame %d: %s: %s\n", k, p2c2r_errname(status), p2c2r_result_detail(r));
        ok += status == P2C2R_OK;
        p2c2r_result_free(&r);
    }
    printf("frames ok across the reset: %d/%d\n", ok, FRAMES);
    CHECK(ok == FRAMES);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    tcpproxy_stop(&proxy);
    free(jpeg);
    return testutil_finish("reconnect_test");
}
