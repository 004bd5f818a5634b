/* wrong_results_test: a result of the wrong shape never reaches a client as OK.
 *
 * The same frame is first upscaled by a cluster with one healthy peer: that output is the
 * reference. Then eight fake peers join, each answering every task in one wrong way:
 * garbage bytes described as the right JPEG, no payload, an unknown codec, the input's own
 * size, an unknown status code, an ERROR saying all is well, a RESULT with an error status,
 * a size claimed that the JPEG's header contradicts. Every frame must come back OK and
 * byte for byte the reference: the coordinator checks each result against what the task
 * asked for, and treats a wrong one as the peer's failure, to be retried elsewhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "p2c2r.h"
#include "stream.h"
#include "testutil.h"

#define FRAMES   120
#define WINDOW   16
#define VARIANTS 8

/* The healthy cluster's output, and how many results were byte for byte that. */
typedef struct reference {
    const void *data; /* the reference output */
    size_t size;      /* its bytes */
    int identical;    /* OK results equal to it */
} reference;

static void compare(void *arg, const p2c2r_result *r)
{
    reference *ref = arg;
    size_t n;
    const void *data = p2c2r_result_data(r, &n);
    if (p2c2r_result_status(r) == P2C2R_OK)
        ref->identical += n == ref->size && memcmp(data, ref->data, n) == 0;
}

int main(void)
{
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("path_444.jpg"), &size);
    if (!jpeg)
        return 1;
    char log[] = "/tmp/p2c2r-wrong-XXXXXX";
    testutil_temp_file(log);
    cluster cl = {.coordinator_log = log};
    const char *const healthy[] = {"--slots", "2", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, healthy) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = WINDOW};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 20000};
    uint64_t id;
    p2c2r_result *ref = NULL;
    if (client) {
        CHECK_RC(p2c2r_submit_upscale(client, &desc, jpeg, size, &id), P2C2R_OK);
        CHECK_RC(p2c2r_poll(client, 20000, &ref), P2C2R_OK);
    }
    CHECK(ref && p2c2r_result_status(ref) == P2C2R_OK);
    size_t ref_size = 0;
    const void *ref_data = ref ? p2c2r_result_data(ref, &ref_size) : NULL;

    for (int v = 0; v < VARIANTS; v++) {
        char variant[8];
        snprintf(variant, sizeof variant, "%d", v);
        const char *const wrong[] = {"--mode", "wrong", "--variant", variant, NULL};
        CHECK(cluster_add_fake_peer(&cl, wrong) >= 0);
    }
    usleep(300000); /* let them all register */
    reference ref_out = {ref_data, ref_size, 0};
    stream_stats st = {0};
    if (ref)
        st = stream_frames(client, &desc, jpeg, size, FRAMES, WINDOW, 30000, compare, &ref_out);
    printf("frames ok next to eight wrong peers: %d/%d, identical to the reference: %d\n", st.ok,
           FRAMES, ref_out.identical);
    CHECK(st.ok == FRAMES);
    CHECK(ref_out.identical == st.ok);
    p2c2r_result_free(&ref);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    long rejected = testutil_number_before(log, " result(s) rejected");
    printf("results the coordinator rejected: %ld\n", rejected);
    /* Six of the eight kinds are RESULTs of the wrong shape; each fake peer got at least
     * its first task before its breaker opened. */
    CHECK(rejected >= 6);
    unlink(log);
    free(jpeg);
    return testutil_finish("wrong_results_test");
}
