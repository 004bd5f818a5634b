/* sdk_teardown_test: clients made and destroyed one after another, as a game does when it
 * switches coordinators or restarts its renderer, leave the process's ZeroMQ I/O thread
 * working for the next ones.
 *
 * All clients of a process share one ZeroMQ context, whose I/O thread sends each of a
 * DEALER's monitor events with a blocking send. A client that closed the socket reading its
 * monitor before its DEALER had stopped emitting events blocked that thread for good when
 * an event came in between (the coordinator going away as the client was destroyed): every
 * later client then never connected and its tasks ended COORDLOST. Each round here makes a
 * client, runs one task through the cluster, and destroys it, half the time with a second
 * task still in flight; every tenth round the coordinator is killed (SIGKILL) right after
 * and restarted. Every task must come back OK, so every round's client must connect. On the
 * code before the fix, 6 of 7 runs failed, at round 40 to 90.
 */
#include <signal.h>
#include <stdio.h>

#include "cluster.h"
#include "p2c2r.h"
#include "testutil.h"

#define ROUNDS 150

int main(void)
{
    cluster cl = {0};
    const char *const peer_args[] = {"--slots", "2", "--threads", "1", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    int ok = 0, first_failure = -1;
    for (int i = 0; i < ROUNDS; i++) {
        p2c2r_client_config config = {.coordinator = cl.client_endpoint};
        p2c2r_client *c = p2c2r_client_new(&config, NULL);
        CHECK(c != NULL);
        if (!c)
            break;
        uint64_t id;
        p2c2r_result *r = NULL;
        if (p2c2r_submit_noop(c, "round", 5, 3000, &id) == P2C2R_OK &&
            p2c2r_poll(c, 5000, &r) == P2C2R_OK && p2c2r_result_status(r) == P2C2R_OK)
            ok++;
        else if (first_failure < 0) {
            first_failure = i;
            fprintf(stderr, "round %d: %s\n", i,
                    r ? p2c2r_errname(p2c2r_result_status(r)) : "no result");
        }
        p2c2r_result_free(&r);
        if (first_failure >= 0) { /* the rest would fail the same way, each at its deadline */
            p2c2r_client_destroy(&c);
            break;
        }
        if (i % 2) /* destroyed with a task in flight */
            CHECK_RC(p2c2r_submit_sleep(c, 50, "x", 1, 3000, &id), P2C2R_OK);
        p2c2r_client_destroy(&c);
        if (i % 10 == 9) {
            /* The coordinator dies while the DEALER just closed may still be going. */
            CHECK(cluster_restart_coordinator(&cl, SIGKILL, NULL) == 0);
        }
    }
    printf("%d/%d rounds with a client that connected and a task OK (first failure: %d)\n", ok,
           ROUNDS, first_failure);
    CHECK(ok == ROUNDS);
    CHECK(cluster_stop(&cl) == 0);
    return testutil_finish("sdk_teardown_test");
}
