/* clikeys: CurveZMQ keys on the p2c2r command line: `p2c2r keygen`, and the
 * --curve-secret/--coordinator-key flags of the commands that connect. Only the public
 * SDK header, like the commands. */
#ifndef P2C2R_CLIENT_CLIKEYS_H
#define P2C2R_CLIENT_CLIKEYS_H

#include "p2c2r.h"

/* The keys a command connects with (empty strings: plain TCP). */
typedef struct cli_keys {
    const char *secret_file;              /* --curve-secret, or NULL */
    const char *coordinator;              /* --coordinator-key, or NULL */
    char public_key[P2C2R_KEY_SIZE];      /* ours */
    char secret_key[P2C2R_KEY_SIZE];      /* ours */
    char coordinator_key[P2C2R_KEY_SIZE]; /* the coordinator's */
} cli_keys;

/* Read the keys the flags name and put them in config; prints why and returns -1 when
 * they cannot be read (or only one flag was given). Nothing to do without the flags. */
int cli_keys_apply(cli_keys *keys, p2c2r_client_config *config);

/* `p2c2r keygen [--out NAME]` (argv[0] is "keygen"); returns the exit status. */
int cli_keygen_main(int argc, char **argv);

#endif /* P2C2R_CLIENT_CLIKEYS_H */
