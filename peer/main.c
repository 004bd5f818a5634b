/* p2c2r-peer: command line front of the peer agent (peer.h). */
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cliopt.h"
#include "common/curve.h"
#include "common/log.h"
#include "common/task.h"
#include "p2c2r_error.h"
#include "common/upscale/upscale.h"
#include "peer/peer.h"

#define PROGRAM "p2c2r-peer"

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: p2c2r-peer [OPTIONS]\n"
        "Run a P2C2R peer: register with a coordinator and run the tasks it assigns.\n\n"
        "  --coordinator ENDPOINT  coordinator's peers endpoint (default tcp://127.0.0.1:7701)\n"
        "  --slots N               tasks (frames) at once, one worker thread each, 1..256\n"
        "                          (default: one per online CPU core)\n"
        "  --threads N             threads one frame's resampling and encoding are shared\n"
        "                          between, shared by all slots (default: online cores)\n"
        "  --name NAME             name in the coordinator's logs (default host-pid)\n"
        "  --heartbeat-ms MS       heartbeat period (default 250)\n"
        "  --kinds LIST            task kinds to run, comma-separated: upscale, noop, sleep\n"
        "                          (default: all)\n"
        "  --runtime WHAT          what frames run on: auto (every CUDA device there is,\n"
        "                          else the CPU, saying why), cpu, or cuda (fails to start\n"
        "                          without a CUDA device) (default auto)\n"
        "  --device N              the one CUDA device to use (default: all, the slots\n"
        "                          spread across them)\n"
        "  --curve-secret FILE     this peer's secret key file (p2c2r keygen): connect with\n"
        "                          CurveZMQ; needs --coordinator-key (default: plain TCP)\n"
        "  --coordinator-key KEY   the coordinator's public key: a key file or 40 Z85 chars\n"
        "  --metrics HOST:PORT     serve Prometheus metrics on http://HOST:PORT/metrics\n"
        "                          (default: off; a PORT of 0 picks one)\n"
        "  --log-level LEVEL       error, warn, info or debug (default info)\n"
        "  -h, --help              show this help\n\n"
        "Runs the kinds upscale (modes fast, bicubic, lanczos, quality; scales 1-8), noop\n"
        "(echo) and sleep (holds a slot, then echoes). Upscales run on the CUDA devices\n"
        "where there are some (a frame their kernels refuse runs on the CPU), else on the\n"
        "CPU: its kernels use AVX2 where the CPU has it; P2C2R_SIMD=scalar in the\n"
        "environment forces the portable path.\n"
        "Prints 'p2c2r-peer ready' on stdout once its workers are up; stops on SIGINT\n"
        "or SIGTERM after finishing the tasks it holds.\n");
}

int main(int argc, char **argv)
{
    char default_name[64];
    char host[48] = "peer";
    gethostname(host, sizeof host - 1);
    snprintf(default_name, sizeof default_name, "%s-%d", host, (int)getpid());
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    peer_config config = {
        .coordinator = "tcp://127.0.0.1:7701",
        .name = default_name,
        .slots = cores <= 0                     ? 1
                 : cores > P2C2R_PEER_MAX_SLOTS ? P2C2R_PEER_MAX_SLOTS
                                                : (uint32_t)cores,
        .threads = cores > 0 ? (uint32_t)(cores < 256 ? cores : 256) : 1,
        .heartbeat_ms = 250,
        .runtime = "auto",
        .device = -1,
    };
    int level = P2C2R_LOG_INFO;
    const char *secret_file = NULL, *coordinator_key = NULL;
    p2c2r_curve_key keys[3]; /* public, secret, coordinator's */
    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"slots", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'},
        {"heartbeat-ms", required_argument, NULL, 'b'},
        {"kinds", required_argument, NULL, 'k'},
        {"curve-secret", required_argument, NULL, 'K'},
        {"coordinator-key", required_argument, NULL, 'C'},
        {"metrics", required_argument, NULL, 'X'},
        {"runtime", required_argument, NULL, 'R'},
        {"device", required_argument, NULL, 'D'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config.coordinator = optarg;
            break;
        case 's':
            if (p2c2r__cliopt_u32(PROGRAM, "--slots", optarg, 1, P2C2R_PEER_MAX_SLOTS,
                                  &config.slots))
                return 2;
            break;
        case 't':
            if (p2c2r__cliopt_u32(PROGRAM, "--threads", optarg, 1, 256, &config.threads))
                return 2;
            break;
        case 'n':
            config.name = optarg;
            break;
        case 'k':
            config.kinds = optarg;
            break;
        case 'b':
            if (p2c2r__cliopt_u32(PROGRAM, "--heartbeat-ms", optarg, 10, 60000,
                                  &config.heartbeat_ms))
                return 2;
            break;
        case 'K':
            secret_file = optarg;
            break;
        case 'C':
            coordinator_key = optarg;
            break;
        case 'X':
            config.metrics_address = optarg;
            break;
        case 'R':
            if (strcmp(optarg, "auto") && strcmp(optarg, "cpu") && strcmp(optarg, "cuda")) {
                fprintf(stderr, PROGRAM ": --runtime: '%s' is not auto, cpu or cuda\n", optarg);
                return 2;
            }
            config.runtime = optarg;
            break;
        case 'D': {
            uint32_t device;
            if (p2c2r__cliopt_u32(PROGRAM, "--device", optarg, 0, 63, &device))
                return 2;
            config.device = (int)device;
            break;
        }
        case 'l':
            if (p2c2r__cliopt_log_level(PROGRAM, optarg, &level))
                return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROGRAM ": unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!secret_file != !coordinator_key) {
        fprintf(stderr, PROGRAM ": --curve-secret and --coordinator-key go together\n");
        return 2;
    }
    if (secret_file) {
        char why[512];
        if (!p2c2r__curve_available()) {
            fprintf(stderr, PROGRAM ": --curve-secret: %s\n", p2c2r__curve_missing());
            return 2;
        }
        if (p2c2r__curve_load(secret_file, keys[0], keys[1], why, sizeof why) ||
            p2c2r__curve_public(coordinator_key, keys[2], why, sizeof why)) {
            fprintf(stderr, PROGRAM ": %s\n", why);
            return 2;
        }
        config.curve_public = keys[0];
        config.curve_secret = keys[1];
        config.coordinator_key = keys[2];
    }
    p2c2r__log_init("peer", (enum p2c2r_log_level)level);
    zsys_init(); /* installs the SIGINT/SIGTERM handler behind zsys_interrupted */

    int err = 0;
    peer *p = peer_new(&config, &err);
    if (!p) {
        /* A bad setting (a kind, the runtime, the device) has been logged with its reason. */
        if (err != P2C2R_E_INVAL && err != P2C2R_E_UNSUPPORTED)
            log_error("cannot start: %s", p2c2r_strerror(err));
        return 1;
    }
    const char *metrics = peer_metrics_served(p);
    printf("p2c2r-peer ready name=%s slots=%u threads=%u simd=%s runtime=%s coordinator=%s%s%s\n",
           config.name, config.slots, config.threads,
           p2c2r__upscale_simd_name(p2c2r__upscale_simd()), peer_runtime_name(p),
           config.coordinator, metrics ? " metrics=" : "", metrics ? metrics : "");
    fflush(stdout);
    int rc = peer_run(p);
    peer_destroy(&p);
    return rc == 0 ? 0 : 1;
}
