/* peer_loss_test: a peer killed mid-task loses no frame. Two peers share the work; one is
 * killed with SIGKILL while it holds tasks. The coordinator notices (unroutable sends or
 * heartbeat timeout), puts that peer's tasks back in the queue, and the other peer runs
 * them: every frame still ends exactly once, with a result. */
#include <signal.h>
#include <stdlib.h>

#include "cluster.h"
#include "p2c2r.h"
#include "testutil.h"

#define FRAMES 24

int main(void)
{
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("bythewater_420.jpg"), &size);
    if (!jpeg)
        return 1;
    cluster cl = {0};
    const char *const coord_args[] = {"--peer-timeout-ms", "500", NULL};
    const char *const peer_args[] = {"--slots", "2", "--heartbeat-ms", "100", NULL};
    if (cluster_start_coordinator(&cl, coord_args) || cluster_add_peer(&cl, peer_args) < 0 ||
        cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = FRAMES};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    uint64_t ids[FRAMES];
    int seen[FRAMES] = {0};
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 60000};
    for (int i = 0; client && i < FRAMES; i++)
        CHECK_RC(p2c2r_submit_upscale(client, &desc, jpeg, size, &ids[i]), P2C2R_OK);

    int ok = 0;
    for (int n = 0; client && n < FRAMES; n++) {
        p2c2r_result *r;
        if (p2c2r_poll(client, 30000, &r) != P2C2R_OK) {
            CHECK(0);
            break;
        }
        if (n == 0) {
            printf("first result in; killing peer 0 while it holds tasks\n");
            cluster_kill_peer(&cl, 0, SIGKILL);
        }
        int k = testutil_task_ended(ids, seen, FRAMES, p2c2r_result_task_id(r));
        if (p2c2r_result_status(r) != P2C2R_OK)
            fprintf(stderr, "frame %d: %s: %s\n", k, p2c2r_errname(p2c2r_result_status(r)),
                    p2c2r_result_detail(r));
        ok += p2c2r_result_status(r) == P2C2R_OK;
        p2c2r_result_free(&r);
    }
    printf("frames ok after losing a peer: %d/%d\n", ok, FRAMES);
    CHECK(ok == FRAMES);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    free(jpeg);
    return testutil_finish("peer_loss_test");
}
