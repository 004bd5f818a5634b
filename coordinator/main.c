/* p2c2r-coordinator: command line front of the coordinator service (coordinator.h). */
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cliopt.h"
#include "common/curve.h"
#include "common/log.h"
#include "coordinator/coordinator.h"
#include "coordinator/recheck.h"
#include "p2c2r_error.h"

#define PROGRAM "p2c2r-coordinator"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: p2c2r-coordinator [OPTIONS]\n"
            "Run the P2C2R coordinator: clients submit tasks, peers run them.\n\n"
            "  --clients ENDPOINT      bind address for clients (default tcp://*:7700)\n"
            "  --peers ENDPOINT        bind address for peers (default tcp://*:7701)\n"
            "                          a port of * picks a free one; the ready line says which\n"
            "  --max-queue N           queued tasks before SUBMIT gets BUSY (default 10000)\n"
            "  --max-queued-mb MB      bytes held for all clients, inputs and results not\n"
            "                          yet written out, before SUBMIT gets BUSY (default 1024)\n"
            "  --max-client-mb MB      the same for one client (default 256)\n"
            "  --max-client-tasks N    one client's unfinished tasks before SUBMIT gets BUSY\n"
            "                          (default 1000)\n"
            "  --score-weights H,L,R,A how peers are scored: history, load, round trip,\n"
            "                          affinity (default 0.4,0.3,0.2,0.1)\n"
            "  --peer-timeout-ms MS    drop a peer silent this long (default 2000)\n"
            "  --max-attempts N        runs of one task on peers before its last error is\n"
            "                          final (default 4)\n"
            "  --attempt-timeout-ms MS longest one run may go unanswered before the task is\n"
            "                          retried elsewhere; shortened for tasks whose usual\n"
            "                          time is known (default 2000)\n"
            "  --cache-mb MB           results kept to answer the same task again without a\n"
            "                          peer (upscale only; 0 turns it off) (default 256)\n"
            "  --cache-shared          one result cache for all clients rather than one per\n"
            "                          client: more hits, but a client can tell from the\n"
            "                          speed of an answer that another sent the same frame\n"
            "  --curve-secret FILE     the coordinator's secret key (p2c2r keygen): both\n"
            "                          sockets become CurveZMQ servers and only keys on the\n"
            "                          allowlists below get in (default: plain TCP)\n"
            "  --allow-peers FILE      public keys that may register as peers, one a line\n"
            "  --allow-clients FILE    public keys that may submit, one a line, each with\n"
            "                          optional limits: KEY [priority=N] [queued-bytes=N[k|M|G]]\n"
            "  --metrics HOST:PORT     serve Prometheus metrics on http://HOST:PORT/metrics\n"
            "                          and the cluster's status as JSON on /status, read by\n"
            "                          `p2c2r status` (default: off; a PORT of 0 picks one)\n"
            "  --recheck-rate R        share of upscale results (0..1) run again on a peer of\n"
            "                          another identity and compared; a third peer settles a\n"
            "                          disagreement and peers outvoted too often are\n"
            "                          quarantined; 0 turns it off (default 0.05)\n"
            "  --log-level LEVEL       error, warn, info or debug (default info)\n"
            "  -h, --help              show this help\n\n"
            "Once both sockets are bound it prints one line to stdout:\n"
            "  p2c2r-coordinator ready clients=ENDPOINT peers=ENDPOINT [metrics=HOST:PORT]\n"
            "and serves until SIGINT or SIGTERM.\n");
}

/* "H,L,R,A": four non-negative weights, not all zero. */
static int parse_weights(const char *text, double w[4])
{
    double v[4];
    char tail;
    if (sscanf(text, "%lf,%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4 || v[0] < 0 ||
        v[1] < 0 || v[2] < 0 || v[3] < 0 || v[0] + v[1] + v[2] + v[3] <= 0) {
        fprintf(stderr,
                PROGRAM ": --score-weights needs four weights >= 0, not all zero, as "
                        "H,L,R,A, not '%s'\n",
                text);
        return -1;
    }
    memcpy(w, v, sizeof v);
    return 0;
}

/* A share of tasks, 0..1. */
static int parse_rate(const char *text, double *rate)
{
    double v;
    char tail;
    if (sscanf(text, "%lf%c", &v, &tail) != 1 || !(v >= 0 && v <= 1)) {
        fprintf(stderr, PROGRAM ": --recheck-rate needs a number from 0 to 1, not '%s'\n", text);
        return -1;
    }
    *rate = v;
    return 0;
}

int main(int argc, char **argv)
{
    coordinator_config config = {
        .client_endpoint = "tcp://*:7700",
        .peer_endpoint = "tcp://*:7701",
        .max_queue = 10000,
        .peer_timeout_ms = 2000,
        .max_attempts = 4,
        .attempt_timeout_ms = 2000,
        .max_queued_mb = 1024,
        .max_client_mb = 256,
        .max_client_tasks = 1000,
        .score_weights = {0.4, 0.3, 0.2, 0.1},
        .cache_mb = 256,
        .recheck_rate = RECHECK_DEFAULT_RATE,
    };
    int level = P2C2R_LOG_INFO;
    static const struct option options[] = {
        {"clients", required_argument, NULL, 'c'},
        {"peers", required_argument, NULL, 'p'},
        {"max-queue", required_argument, NULL, 'q'},
        {"peer-timeout-ms", required_argument, NULL, 't'},
        {"max-attempts", required_argument, NULL, 'a'},
        {"attempt-timeout-ms", required_argument, NULL, 'A'},
        {"max-queued-mb", required_argument, NULL, 'm'},
        {"max-client-mb", required_argument, NULL, 'M'},
        {"max-client-tasks", required_argument, NULL, 'T'},
        {"score-weights", required_argument, NULL, 'w'},
        {"cache-mb", required_argument, NULL, 'C'},
        {"cache-shared", no_argument, NULL, 'S'},
        {"curve-secret", required_argument, NULL, 'K'},
        {"allow-peers", required_argument, NULL, 'P'},
        {"allow-clients", required_argument, NULL, 'L'},
        {"metrics", required_argument, NULL, 'X'},
        {"recheck-rate", required_argument, NULL, 'r'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config.client_endpoint = optarg;
            break;
        case 'p':
            config.peer_endpoint = optarg;
            break;
        case 'q':
            if (p2c2r__cliopt_u32(PROGRAM, "--max-queue", optarg, 1, UINT32_MAX, &config.max_queue))
                return 2;
            break;
        case 't':
            if (p2c2r__cliopt_u32(PROGRAM, "--peer-timeout-ms", optarg, 10, 3600000,
                                  &config.peer_timeout_ms))
                return 2;
            break;
        case 'a':
            if (p2c2r__cliopt_u32(PROGRAM, "--max-attempts", optarg, 1, 16, &config.max_attempts))
                return 2;
            break;
        case 'A':
            if (p2c2r__cliopt_u32(PROGRAM, "--attempt-timeout-ms", optarg, 10, 3600000,
                                  &config.attempt_timeout_ms))
                return 2;
            break;
        case 'm':
            if (p2c2r__cliopt_u32(PROGRAM, "--max-queued-mb", optarg, 1, 1u << 20,
                                  &config.max_queued_mb))
                return 2;
            break;
        case 'M':
            if (p2c2r__cliopt_u32(PROGRAM, "--max-client-mb", optarg, 1, 1u << 20,
                                  &config.max_client_mb))
                return 2;
            break;
        case 'T':
            if (p2c2r__cliopt_u32(PROGRAM, "--max-client-tasks", optarg, 1, 10000000,
                                  &config.max_client_tasks))
                return 2;
            break;
        case 'w':
            if (parse_weights(optarg, config.score_weights))
                return 2;
            break;
        case 'C':
            if (p2c2r__cliopt_u32(PROGRAM, "--cache-mb", optarg, 0, 1u << 20, &config.cache_mb))
                return 2;
            break;
        case 'S':
            config.cache_shared = true;
            break;
        case 'K':
            config.curve_secret = optarg;
            break;
        case 'P':
            config.allow_peers = optarg;
            break;
        case 'L':
            config.allow_clients = optarg;
            break;
        case 'X':
            config.metrics_address = optarg;
            break;
        case 'r':
            if (parse_rate(optarg, &config.recheck_rate))
                return 2;
            break;
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
    if (!config.curve_secret != !config.allow_peers ||
        !config.curve_secret != !config.allow_clients) {
        fprintf(stderr, PROGRAM ": --curve-secret, --allow-peers and --allow-clients go "
                                "together (an allowlist may be an empty file)\n");
        return 2;
    }
    if (config.curve_secret && !p2c2r__curve_available()) {
        fprintf(stderr, PROGRAM ": --curve-secret: %s\n", p2c2r__curve_missing());
        return 2;
    }
    p2c2r__log_init("coordinator", (enum p2c2r_log_level)level);
    zsys_init(); /* installs the SIGINT/SIGTERM handler behind zsys_interrupted */

    int err = 0;
    coordinator *coord = coordinator_new(&config, &err);
    if (!coord) {
        log_error("cannot start: %s", p2c2r_strerror(err));
        return 1;
    }
    const char *metrics = coordinator_metrics_address(coord);
    printf("p2c2r-coordinator ready clients=%s peers=%s%s%s\n", coordinator_client_endpoint(coord),
           coordinator_peer_endpoint(coord), metrics ? " metrics=" : "", metrics ? metrics : "");
    log_info("instance %016" PRIx64, coordinator_instance(coord));
    fflush(stdout);
    int rc = coordinator_run(coord);
    coordinator_destroy(&coord);
    return rc == 0 ? 0 : 1;
}
