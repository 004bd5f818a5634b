/* forged_frames_test: a peer that returns plausible but wrong frames is caught by rechecks and
 * quarantined; honest peers never are.
 *
 * Two honest CPU peers and a forger (p2c2r-fakepeer --mode forge) serve a coordinator
 * that checks every upscale again (--recheck-rate 1) with no result cache (the same frame
 * is sent again and again). The forger answers every other task with the real upscale,
 * byte for byte what an honest peer sends, and the others with the luma of the top half
 * brightened: a valid JPEG of the right size and codec, which the shape checks pass.
 *
 * Frames are streamed until the coordinator's log says the forger is quarantined. Every
 * frame must end OK (a client gets the first answer; wrong ones before the quarantine are
 * counted, not failed). Then the forger is restarted under the same name (a reconnect of
 * the same identity) forging every frame, and another round of frames must all be byte
 * for byte the honest reference: the quarantine holds across reconnects. At the end the
 * coordinator's stats line gives the counts; exactly one identity was quarantined, the
 * forger's; every disagreement was about a forged frame; and the forger was outvoted at
 * least twice. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "p2c2r.h"
#include "stream.h"
#include "testutil.h"

#define ROUND     30
#define MAX_ROUND 20
#define WINDOW    4

/* The honest output, and how the results compared with it. */
typedef struct reference {
    const void *data; /* the reference output */
    size_t size;      /* its bytes */
    int identical;    /* OK results equal to it */
    int wrong;        /* OK results that differ */
} reference;

static void compare(void *arg, const p2c2r_result *r)
{
    reference *ref = arg;
    size_t n;
    const void *data = p2c2r_result_data(r, &n);
    if (p2c2r_result_status(r) != P2C2R_OK)
        return;
    if (n == ref->size && memcmp(data, ref->data, n) == 0)
        ref->identical++;
    else
        ref->wrong++;
}

int main(void)
{
    size_t size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("path_444.jpg"), &size);
    if (!jpeg)
        return 1;
    char log[] = "/tmp/p2c2r-forged-XXXXXX", peer_log[] = "/tmp/p2c2r-forged-peers-XXXXXX";
    testutil_temp_file(log);
    testutil_temp_file(peer_log);
    cluster cl = {.coordinator_log = log};
    const char *const coord_args[] = {"--recheck-rate", "1", "--cache-mb", "0", NULL};
    const char *const honest_a[] = {"--slots", "2", "--name", "honest-a", NULL};
    const char *const honest_b[] = {"--slots", "2", "--name", "honest-b", NULL};
    if (cluster_start_coordinator(&cl, coord_args) || cluster_add_peer(&cl, honest_a) < 0) {
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

    CHECK(cluster_add_peer(&cl, honest_b) >= 0);
    cl.peer_log = peer_log; /* the forger says which frames it forged */
    const char *const forger[] = {
        "--mode", "forge", "--forge-every", "2", "--name", "forger", "--slots", "2", NULL};
    int forger_index = cluster_add_fake_peer(&cl, forger);
    CHECK(forger_index >= 0);
    usleep(300000); /* let them register */

    reference before = {ref_data, ref_size, 0, 0};
    int rounds = 0, ok = 0, sent = 0;
    while (ref && forger_index >= 0 && rounds < MAX_ROUND &&
           testutil_count_lines(log, "peer name:forger quarantined") < 1) {
        stream_stats st =
            stream_frames(client, &desc, jpeg, size, ROUND, WINDOW, 30000, compare, &before);
        ok += st.ok;
        sent += ROUND;
        rounds++;
    }
    printf("before the quarantine: %d frame(s), %d ok, %d identical to the reference, %d "
           "forged ones delivered (the client gets the first answer)\n",
           sent, ok, before.identical, before.wrong);
    CHECK(ok == sent);
    CHECK(testutil_count_lines(log, "peer name:forger quarantined") == 1);

    /* The same identity back on a new connection, forging everything: it gets no task. */
    const char *const forger_always[] = {"--mode",  "forge", "--name", "forger",
                                         "--slots", "2",     NULL};
    if (forger_index >= 0) {
        cluster_kill_peer(&cl, forger_index, SIGTERM);
        CHECK(cluster_add_fake_peer(&cl, forger_always) >= 0);
    }
    usleep(300000);
    reference after = {ref_data, ref_size, 0, 0};
    stream_stats st = {0};
    if (ref)
        st = stream_frames(client, &desc, jpeg, size, ROUND, WINDOW, 30000, compare, &after);
    printf("after it reconnected: %d/%d ok, %d identical to the reference, %d wrong\n", st.ok,
           ROUND, after.identical, after.wrong);
    CHECK(st.ok == ROUND && after.identical == ROUND && after.wrong == 0);
    CHECK(testutil_count_lines(log,
                               "(name:forger) is quarantined: registered, but given no task") >= 1);

    p2c2r_result_free(&ref);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    long agreed = testutil_number_before(log, " agreed, ");
    long disagreed = testutil_number_before(log, " disagreed, ");
    long first = testutil_number_before(log, " first answer(s) outvoted");
    long second = testutil_number_before(log, " second answer(s) outvoted");
    long undecided = testutil_number_before(log, " undecided, ");
    long sampled = testutil_number_before(log, " sampled, ");
    long quarantined = testutil_number_before(log, " peer identit(ies) quarantined");
    int forged = testutil_count_lines(peer_log, "forged frame");
    printf("rechecks: %ld sampled, %ld agreed, %ld disagreed (%ld first and %ld second answers "
           "outvoted, %ld undecided); %d frame(s) forged; %ld identit(ies) quarantined\n",
           sampled, agreed, disagreed, first, second, undecided, forged, quarantined);
    CHECK(quarantined == 1);
    CHECK(testutil_count_lines(log, "quarantined: outvoted") == 1);
    CHECK(testutil_count_lines(log, "honest-a quarantined") == 0);
    CHECK(testutil_count_lines(log, "honest-b quarantined") == 0);
    CHECK(agreed > 0);
    /* Every disagreement is about a forged frame, and each forged frame is in one check. */
    CHECK(disagreed >= 2 && disagreed <= forged);
    CHECK(first + second >= 2 && first + second + undecided <= disagreed);
    if (testutil_failures)
        printf("coordinator log kept in %s\n", log);
    else
        unlink(log);
    unlink(peer_log);
    free(jpeg);
    return testutil_finish("forged_frames_test");
}
