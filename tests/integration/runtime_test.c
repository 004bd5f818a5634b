/* runtime_test: what a peer computes on (--runtime), as it says in its log, its ready line
 * and its hello, and as the coordinator then logs it.
 *
 * On a host without a CUDA device (or in a build without CUDA):
 *   - `--runtime auto` (the default) starts on the CPU, logs why ("runtime cpu: no CUDA
 *     driver or device (...)" or "... built without CUDA"), registers as runtime cpu, and
 *     upscales a frame through `p2c2r upscale`;
 *   - `--runtime cuda` exits 1 at start with an error that names the flag and the reason;
 * with a device, auto registers as cuda and `--runtime cuda` starts. Everywhere:
 *   - `--runtime cpu` registers as cpu without looking for a device;
 *   - `--runtime gpu` and `--device x` are refused (exit 2) with the flag named.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "runcmd.h"
#include "testutil.h"

/* Run the peer binary with args (and its log into a file); its exit status, the log in
 * out[size]. */
static int peer_exit(const char *args, char *out, size_t size)
{
    char log[] = "/tmp/p2c2r-runtime-XXXXXX";
    if (testutil_temp_file(log) != 0)
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "timeout 20 '%s' --coordinator tcp://%s:1 %s >/dev/null 2>'%s'",
             getenv("P2C2R_PEER_BIN"), cluster_host(), args, log);
    int status = runcmd(cmd);
    out[0] = '\0';
    FILE *f = fopen(log, "r");
    if (f) {
        size_t n = fread(out, 1, size - 1, f);
        out[n] = '\0';
        fclose(f);
    }
    unlink(log);
    return status;
}

int main(void)
{
    char coord_log[] = "/tmp/p2c2r-runtime-coord-XXXXXX";
    char peer_log[] = "/tmp/p2c2r-runtime-peer-XXXXXX";
    char outdir[] = "/tmp/p2c2r-runtime-out-XXXXXX";
    CHECK(testutil_temp_file(coord_log) == 0);
    CHECK(testutil_temp_file(peer_log) == 0);
    CHECK(mkdtemp(outdir) != NULL);
    cluster cl = {.coordinator_log = coord_log, .peer_log = peer_log};
    if (cluster_start_coordinator(&cl, NULL) != 0)
        return 1;
    const char *const auto_args[] = {"--name", "auto-peer", "--slots", "1", NULL};
    CHECK(cluster_add_peer(&cl, auto_args) == 0);
    CHECK(testutil_await_lines(peer_log, "registered with coordinator", 1, 30000) == 0);
    bool gpu = testutil_count_lines(peer_log, "runtime cuda: ") == 1;
    if (gpu) {
        printf("this host has a CUDA device: auto chose cuda\n");
        CHECK(testutil_count_lines(coord_log,
                                   "peer auto-peer registered: 1 slot(s), runtime cuda") == 1);
    } else {
        CHECK(testutil_count_lines(peer_log, "runtime cpu: no CUDA") +
                  testutil_count_lines(peer_log, "runtime cpu: this peer was built without CUDA") ==
              1);
        CHECK(testutil_count_lines(coord_log,
                                   "peer auto-peer registered: 1 slot(s), runtime cpu") == 1);
    }

    /* A frame through it. */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' upscale --coordinator '%s' --scale 2 --mode lanczos -o '%s' '%s' "
             "| grep -q 'ok=1 errors=0'",
             getenv("P2C2R_CLI_BIN"), cl.client_endpoint, outdir,
             testutil_data_path("bythewater_420.jpg"));
    CHECK(runcmd(cmd) == 0);

    /* --runtime cpu never looks for a device. */
    const char *const cpu_args[] = {"--name", "cpu-peer", "--runtime", "cpu", NULL};
    CHECK(cluster_add_peer(&cl, cpu_args) == 1);
    CHECK(testutil_await_lines(coord_log, "peer cpu-peer registered", 1, 30000) == 0);
    CHECK(testutil_count_lines(coord_log, "registered: ") == 2);
    CHECK(testutil_count_lines(coord_log, "runtime cpu, ") == (gpu ? 1 : 2));
    CHECK(testutil_count_lines(peer_log, "runtime cpu: --runtime cpu") == 1);
    CHECK(cluster_stop(&cl) == 0);

    char err[4096];
    if (!gpu) {
        CHECK(peer_exit("--runtime cuda", err, sizeof err) == 1);
        CHECK(strstr(err, "--runtime cuda: ") != NULL);
        CHECK(strstr(err, "no CUDA") || strstr(err, "built without CUDA"));
        printf("--runtime cuda without a device: %s", err);
    }
    CHECK(peer_exit("--runtime gpu", err, sizeof err) == 2);
    CHECK(strstr(err, "--runtime: 'gpu' is not auto, cpu or cuda") != NULL);
    CHECK(peer_exit("--device x", err, sizeof err) == 2);
    CHECK(strstr(err, "--device") != NULL);

    char rm[512];
    snprintf(rm, sizeof rm, "rm -rf '%s'", outdir);
    runcmd(rm);
    unlink(coord_log);
    unlink(peer_log);
    return testutil_finish("runtime");
}
