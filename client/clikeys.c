/* clikeys: see clikeys.h. */
#include "clikeys.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *key_error(int rc)
{
    switch (rc) {
    case P2C2R_E_IO:
        return strerror(errno);
    case P2C2R_E_INVAL:
        return "not a key file of that kind (a secret key needs the NAME_secret file)";
    case P2C2R_E_UNSUPPORTED:
        return "this libzmq was built without CURVE";
    default:
        return p2c2r_strerror(rc);
    }
}

int cli_keys_apply(cli_keys *keys, p2c2r_client_config *config)
{
    if (!keys->secret_file && !keys->coordinator)
        return 0;
    if (!keys->secret_file || !keys->coordinator) {
        fprintf(stderr, "p2c2r: --curve-secret and --coordinator-key go together\n");
        return -1;
    }
    int rc = p2c2r_key_load(keys->secret_file, keys->public_key, keys->secret_key);
    if (rc != P2C2R_OK) {
        fprintf(stderr, "p2c2r: --curve-secret %s: %s\n", keys->secret_file, key_error(rc));
        return -1;
    }
    rc = p2c2r_key_load(keys->coordinator, keys->coordinator_key, NULL);
    if (rc != P2C2R_OK) {
        fprintf(stderr, "p2c2r: --coordinator-key %s: %s\n", keys->coordinator, key_error(rc));
        return -1;
    }
    config->curve_public_key = keys->public_key;
    config->curve_secret_key = keys->secret_key;
    config->coordinator_public_key = keys->coordinator_key;
    return 0;
}

static void keygen_usage(FILE *out)
{
    fprintf(out, "Usage: p2c2r keygen [--out NAME]\n"
                 "Make a CurveZMQ keypair: NAME holds the public key (give it to the\n"
                 "coordinator's operator for an allowlist, or to peers and clients as\n"
                 "--coordinator-key), NAME_secret both keys (mode 0600; keep it). CZMQ's\n"
                 "certificate format. Existing files are never overwritten.\n\n"
                 "  --out NAME   where to write (default p2c2r-key)\n"
                 "Prints the public key on stdout.\n");
}

int cli_keygen_main(int argc, char **argv)
{
    const char *name = "p2c2r-key";
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        if (c == 'o') {
            name = optarg;
        } else if (c == 'h') {
            keygen_usage(stdout);
            return 0;
        } else {
            keygen_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "p2c2r: keygen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    int rc = p2c2r_keygen(name);
    if (rc != P2C2R_OK) {
        fprintf(stderr, "p2c2r: keygen %s: %s\n", name,
                rc == P2C2R_E_INVAL ? "the files exist already; not overwritten" : key_error(rc));
        return 1;
    }
    char public_key[P2C2R_KEY_SIZE];
    if (p2c2r_key_load(name, public_key, NULL) != P2C2R_OK) {
        fprintf(stderr, "p2c2r: keygen: cannot read back %s\n", name);
        return 1;
    }
    printf("%s\n", public_key);
    return 0;
}
