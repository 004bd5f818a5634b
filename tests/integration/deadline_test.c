/* deadline_test: work that cannot be done in time ends with P2C2R_E_DEADLINE, and the
 * queue dispatches by priority.
 * 1. A coordinator with no peers answers a queued task with DEADLINE once its deadline
 *    passes (not later, not never).
 * 2. With no coordinator at all, the SDK itself ends the task at deadline + grace.
 * 3. Tasks queued while no peer is there run in priority order once a one-slot peer joins.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "p2c2r.h"
#include "testutil.h"

static void expect_deadline(p2c2r_client *client, uint32_t deadline_ms, const char *detail_part)
{
    uint64_t id;
    CHECK_RC(p2c2r_submit_noop(client, "x", 1, deadline_ms, &id), P2C2R_OK);
    p2c2r_result *r;
    CHECK_RC(p2c2r_poll(client, 10000, &r), P2C2R_OK);
    if (!r)
        return;
    p2c2r_timings t;
    p2c2r_result_timings(r, &t);
    printf("  %s: %s after %.1f ms (deadline %u ms)\n", p2c2r_errname(p2c2r_result_status(r)),
           p2c2r_result_detail(r), t.total_us / 1000.0, deadline_ms);
    CHECK(p2c2r_result_task_id(r) == id);
    CHECK_RC(p2c2r_result_status(r), P2C2R_E_DEADLINE);
    CHECK(strstr(p2c2r_result_detail(r), detail_part) != NULL);
    CHECK(t.total_us >= (uint64_t)deadline_ms * 1000u * 9 / 10);
    p2c2r_result_free(&r);
}

int main(void)
{
    cluster cl = {0};
    /* The coordinator's log at debug says when each task is queued: the peer of part 3
     * must join only once all four are, or the first could be assigned on its own. */
    char log[] = "/tmp/p2c2r-deadline-test-XXXXXX";
    int fd = testutil_temp_file(log);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    cl.coordinator_log = log;
    cl.log_level = "debug";
    if (cluster_start_coordinator(&cl, NULL)) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client)
        goto done;

    printf("no peers: the coordinator expires the queued task\n");
    expect_deadline(client, 200, "queued");

    printf("no coordinator: the SDK ends the task itself\n");
    {
        /* A port of the coordinator's peers socket speaks a protocol that never answers a
         * client; a closed port would do too, but this one is surely not reused. */
        p2c2r_client_config lost = {.coordinator = "tcp://127.0.0.1:1", .grace_ms = 100};
        p2c2r_client *alone = p2c2r_client_new(&lost, NULL);
        CHECK(alone != NULL);
        if (alone)
            expect_deadline(alone, 150, "no answer");
        p2c2r_client_destroy(&alone);
    }

    printf("priority order once a one-slot peer joins\n");
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("fallenleaf_gray.jpg"), &size);
    CHECK(jpeg != NULL);
    /* Submitted as a, b, c, d while no peer exists; expected order b (priority), then c
     * (earlier deadline), then a and d (same deadline, a arrived first). One batch, so that
     * a and d share their submit time and so their deadline to the microsecond: submitted
     * one by one, a's deadline is earlier by the gap between the submits, which the
     * coordinator sees only up to the jitter of their transit, and under load that jitter
     * is the larger. */
    struct {
        uint32_t priority, deadline_ms;
    } shape[4] = {{0, 20000}, {5, 20000}, {0, 10000}, {0, 20000}};
    p2c2r_upscale_desc descs[4];
    p2c2r_task batch[4];
    uint64_t ids[4] = {0};
    for (int i = 0; i < 4; i++) {
        descs[i] = (p2c2r_upscale_desc){.codec = P2C2R_CODEC_JPEG,
                                        .scale = 1,
                                        .priority = shape[i].priority,
                                        .deadline_ms = shape[i].deadline_ms};
        batch[i] = (p2c2r_task){
            .kind = P2C2R_TASK_UPSCALE, .upscale = &descs[i], .data = jpeg, .size = size};
    }
    const int expected[4] = {1, 2, 0, 3};
    if (jpeg)
        CHECK_RC(p2c2r_submit_batch(client, batch, 4, ids), P2C2R_OK);
    free(jpeg);
    CHECK(testutil_await_lines(log, " queued (upscale", 4, 10000) == 0);
    const char *const one_slot[] = {"--slots", "1", NULL};
    CHECK(cluster_add_peer(&cl, one_slot) >= 0);
    for (int i = 0; i < 4; i++) {
        p2c2r_result *r;
        CHECK_RC(p2c2r_poll(client, 10000, &r), P2C2R_OK);
        CHECK(r && p2c2r_result_status(r) == P2C2R_OK);
        CHECK(r && p2c2r_result_task_id(r) == ids[expected[i]]);
        p2c2r_result_free(&r);
    }
done:
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    unlink(log);
    return testutil_finish("deadline_test");
}
