/* p2c2r-peer: command line front of the peer agent (peer.h). */
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "p2c2r.h"
#include "peer/peer.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: p2c2r-peer [OPTIONS]\n"
        "Run a P2C2R peer: register with a coordinator and run the tasks it assigns.\n\n"
        "  --coordinator ENDPOINT  coordinator's peers endpoint (default tcp://127.0.0.1:7701)\n"
        "  --slots N               tasks at once, one worker thread each\n"
        "                          (default: one per online CPU core)\n"
        "  --name NAME             name in the coordinator's logs (default host-pid)\n"
        "  --heartbeat-ms MS       heartbeat period (default 250)\n"
        "  --log-level LEVEL       error, warn, info or debug (default info)\n"
        "  -h, --help              show this help\n\n"
        "Runs on the CPU, with the kinds: upscale (mode fast), noop.\n"
        "Prints 'p2c2r-peer ready' on stdout once its workers are up; stops on SIGINT\n"
        "or SIGTERM after finishing the tasks it holds.\n");
}

static int parse_u32(const char *text, const char *flag, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "p2c2r-peer: %s needs a whole number in %u..%u, not '%s'\n", flag, min, max,
                text);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
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
        .slots = cores > 0 ? (uint32_t)cores : 1,
        .heartbeat_ms = 250,
    };
    int level = P2C2R_LOG_INFO;
    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"slots", required_argument, NULL, 's'},
        {"name", required_argument, NULL, 'n'},
        {"heartbeat-ms", required_argument, NULL, 'b'},
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
            if (parse_u32(optarg, "--slots", 1, 4096, &config.slots))
                return 2;
            break;
        case 'n':
            config.name = optarg;
            break;
        case 'b':
            if (parse_u32(optarg, "--heartbeat-ms", 10, 60000, &config.heartbeat_ms))
                return 2;
            break;
        case 'l':
            level = p2c2r__log_parse_level(optarg);
            if (level < 0) {
                fprintf(stderr, "p2c2r-peer: unknown log level '%s'\n", optarg);
                return 2;
            }
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
        fprintf(stderr, "p2c2r-peer: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    p2c2r__log_init("peer", (enum p2c2r_log_level)level);
    zsys_init(); /* installs the SIGINT/SIGTERM handler behind zsys_interrupted */

    int err = 0;
    peer *p = peer_new(&config, &err);
    if (!p) {
        log_error("cannot start: %s", p2c2r_strerror(err));
        return 1;
    }
    printf("p2c2r-peer ready name=%s slots=%u coordinator=%s\n", config.name, config.slots,
           config.coordinator);
    fflush(stdout);
    int rc = peer_run(p);
    peer_destroy(&p);
    return rc == 0 ? 0 : 1;
}
