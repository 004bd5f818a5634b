/* runtimes_test: one GPU peer and one CPU peer of a real cluster make the same frames.
 *
 * The four test JPEGs (4:2:0, progressive 4:2:2, 4:4:4, greyscale) go through `p2c2r
 * upscale` in every mode twice: first with only the GPU peer (--runtime cuda) registered,
 * then with only the CPU peer (--runtime cpu; the GPU peer stopped). The CUDA kernels
 * compute the CPU kernels' formula (separable modes integer for integer, the quality mode
 * operation for operation, see peer/cuda/quality.cu: tolerance none), the GPU peer decodes
 * with the same row decoder and encodes with the same band encoder, so every output file
 * must be identical byte for byte. The GPU peer runs with P2C2R_CUDA_JPEG=off, so that it
 * encodes as the CPU peer does (its device JPEG encoder, which makes different bytes of
 * the same quality, is checked by cuda_jpeg). Without a CUDA device it says why and
 * exits 77.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "peer/cuda/devices.h"
#include "runcmd.h"
#include "testutil.h"

static const char *const modes[] = {"fast", "bicubic", "lanczos", "quality"};
static const char *const inputs[] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                     "path_444.jpg", "fallenleaf_gray.jpg"};
#define NMODES  (sizeof modes / sizeof modes[0])
#define NINPUTS (sizeof inputs / sizeof inputs[0])

/* Every mode through the cluster into DIR/RUNTIME/MODE. */
static void upscale_all(const cluster *cl, const char *dir, const char *runtime)
{
    for (size_t m = 0; m < NMODES; m++) {
        char cmd[4096];
        int n = snprintf(cmd, sizeof cmd,
                         "'%s' upscale --coordinator '%s' --scale 2 --mode %s --quality 85 "
                         "-o '%s/%s/%s'",
                         getenv("P2C2R_CLI_BIN"), cl->client_endpoint, modes[m], dir, runtime,
                         modes[m]);
        for (size_t i = 0; i < NINPUTS; i++)
            n += snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s'", testutil_data_path(inputs[i]));
        snprintf(cmd + n, sizeof cmd - (size_t)n, " | grep -q 'ok=%zu errors=0'", NINPUTS);
        CHECK(runcmd(cmd) == 0);
    }
}

int main(void)
{
    peer_device dev[4];
    char why[320] = "";
    if (peer_cuda_devices(dev, 4, why, sizeof why) == 0) {
        printf("skipped: %s\n", why);
        return 77;
    }
    printf("device %d: %s (%u.%u)\n", dev[0].ordinal, dev[0].name, dev[0].compute_major,
           dev[0].compute_minor);
    char coord_log[] = "/tmp/p2c2r-runtimes-coord-XXXXXX";
    char dir[] = "/tmp/p2c2r-runtimes-XXXXXX";
    CHECK(testutil_temp_file(coord_log) == 0);
    CHECK(mkdtemp(dir) != NULL);
    for (int i = 0; i < 2; i++) { /* the CLI makes the output folder, not its parents */
        char sub[sizeof dir + 8];
        snprintf(sub, sizeof sub, "%s/%s", dir, i ? "cpu" : "cuda");
        CHECK(mkdir(sub, 0700) == 0);
    }
    setenv("P2C2R_CUDA_JPEG", "off", 1); /* the peers inherit it */
    cluster cl = {.coordinator_log = coord_log};
    const char *const coord_args[] = {"--recheck-rate", "0", NULL};
    if (cluster_start_coordinator(&cl, coord_args) != 0)
        return 1;
    const char *const gpu_args[] = {"--name", "gpu-peer", "--runtime", "cuda", NULL};
    const char *const cpu_args[] = {"--name", "cpu-peer", "--runtime", "cpu", NULL};
    int gpu = cluster_add_peer(&cl, gpu_args);
    CHECK(gpu == 0);
    CHECK(testutil_await_lines(coord_log, "peer gpu-peer registered", 1, 30000) == 0);
    CHECK(testutil_count_lines(coord_log, "runtime cuda on ") == 1);
    upscale_all(&cl, dir, "cuda");
    CHECK(cluster_add_peer(&cl, cpu_args) == 1);
    CHECK(testutil_await_lines(coord_log, "peer cpu-peer registered", 1, 30000) == 0);
    cluster_kill_peer(&cl, gpu, SIGTERM);
    CHECK(testutil_await_lines(coord_log, "peer gpu-peer gone", 1, 30000) == 0);
    upscale_all(&cl, dir, "cpu");
    CHECK(cluster_stop(&cl) == 0);

    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "diff -r '%s/cuda' '%s/cpu' && test $(ls -R '%s/cuda' | grep -c jpg) = %zu", dir, dir,
             dir, NMODES * NINPUTS);
    CHECK(runcmd(cmd) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    runcmd(cmd);
    unlink(coord_log);
    return testutil_finish("runtimes");
}
