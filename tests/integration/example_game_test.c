/* example_game_test: the example game loop of client/example_game.c (the one README.md walks
 * through) runs for FRAMES ticks at 60 frames/s against a real cluster of two CPU peers and
 * reports what it presented.
 *
 * Its summary must say: every tick presented a picture, new or the one before
 * (presented_new + repeated = frames), new pictures came (presented_new > 0, from the
 * cluster), every frame was submitted (busy = 0: the window never filled, so the loop never
 * had to skip or wait) and came back without error and by its deadline (late = 0: the
 * local fallback covers what the cluster cannot make in time), from the cluster or locally
 * (cluster + local = frames). The longest time one tick spent in the SDK is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "runcmd.h"
#include "testutil.h"

#define FRAMES    120
/* The frames' deadline: long enough that none misses it on a loaded machine, where this
 * checks the loop, not timing (fallback_test does, at 50 ms). */
#define BUDGET_MS 250

static const char *const peer_args[] = {"--slots", "2", "--threads", "1", NULL};

int main(void)
{
    const char *game = getenv("P2C2R_EXAMPLE_GAME_BIN");
    char out[] = "/tmp/p2c2r-game-XXXXXX";
    if (!game || testutil_temp_file(out) != 0) {
        fprintf(stderr, "example_game_test: needs P2C2R_EXAMPLE_GAME_BIN and a temporary file\n");
        return 1;
    }
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0 ||
        cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        unlink(out);
        return 1;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --coordinator '%s' --frames %d --budget-ms %d >'%s'", game,
             cl.client_endpoint, FRAMES, BUDGET_MS, out);
    CHECK(runcmd(cmd) == 0);
    CHECK(cluster_stop(&cl) == 0);

    char line[1024] = "";
    CHECK(runcmd_last_line(out, "summary: ", line, sizeof line) == 0);
    printf("%s", line);
    long frames = (long)runcmd_value(line, "frames");
    long presented_new = (long)runcmd_value(line, "presented_new");
    long repeated = (long)runcmd_value(line, "repeated");
    long cluster_made = (long)runcmd_value(line, "cluster");
    long local = (long)runcmd_value(line, "local");
    long late = (long)runcmd_value(line, "late");
    long errors = (long)runcmd_value(line, "errors");
    long busy = (long)runcmd_value(line, "busy");
    CHECK(frames == FRAMES);
    CHECK(presented_new > 0 && repeated >= 0 && presented_new + repeated == FRAMES);
    CHECK(cluster_made > 0 && local >= 0 && cluster_made + local == FRAMES);
    CHECK(late == 0 && errors == 0 && busy == 0);
    CHECK(runcmd_value(line, "longest_call_ms") >= 0);
    unlink(out);
    return testutil_finish("example_game_test");
}
