/* clusterkeys: CurveZMQ keys for a test cluster: the coordinator's, one peer's and one
 * client's, with the allowlists that name them, in a temporary directory of their own, and
 * the flags that start the coordinator and a peer with them. */
#ifndef P2C2R_TEST_CLUSTERKEYS_H
#define P2C2R_TEST_CLUSTERKEYS_H

#include "common/curve.h"

typedef struct cluster_keys {
    char dir[32];                  /* holds the files */
    char path[5][64];              /* coord_secret, coord, peer_secret, peers.allow,
                                      clients.allow */
    p2c2r_curve_key coord;         /* the coordinator's public key */
    p2c2r_curve_key client_public; /* the client's public key, for the SDK's config */
    p2c2r_curve_key client_secret; /* and its secret key */
    const char *coord_args[7];     /* --curve-secret ... --allow-clients ..., NULL */
    const char *peer_args[7];      /* [--slots N] --curve-secret ... --coordinator-key ...,
                                      NULL */
} cluster_keys;

/* Make the keys and files; peer_args starts with --slots peer_slots unless that is NULL.
 * 0, or -1 after printing why. */
int cluster_keys_make(cluster_keys *keys, const char *peer_slots);
/* Remove the directory and what it holds; nothing for keys never made (zeroed). */
void cluster_keys_remove(const cluster_keys *keys);

#endif /* P2C2R_TEST_CLUSTERKEYS_H */
