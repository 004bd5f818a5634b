/* clusterkeys: see clusterkeys.h. */
#include "clusterkeys.h"

#include <stdio.h>
#include <stdlib.h>

int cluster_keys_make(cluster_keys *k, const char *peer_slots)
{
    static const char *const names[5] = {"coord_secret", "coord", "peer_secret", "peers.allow",
                                         "clients.allow"};
    snprintf(k->dir, sizeof k->dir, "/tmp/p2c2r-keys-XXXXXX");
    if (!mkdtemp(k->dir)) {
        perror("cluster_keys: mkdtemp");
        return -1;
    }
    for (int i = 0; i < 5; i++)
        snprintf(k->path[i], sizeof k->path[i], "%s/%s", k->dir, names[i]);
    char name[64], why[512] = "file not written";
    p2c2r_curve_key peer, unused;
    char *publics[3] = {k->coord, peer, k->client_public};
    char *secrets[3] = {unused, unused, k->client_secret};
    const char *who[3] = {"coord", "peer", "client"};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s/%s", k->dir, who[i]);
        if (p2c2r__curve_keygen(name, why, sizeof why) ||
            p2c2r__curve_load(name, publics[i], secrets[i], why, sizeof why))
            goto fail;
    }
    for (int i = 3; i < 5; i++) {
        FILE *f = fopen(k->path[i], "w");
        if (!f)
            goto fail;
        fprintf(f, "%s\n", i == 3 ? peer : k->client_public);
        if (fclose(f) != 0)
            goto fail;
    }
    const char *coord_args[7] = {
        "--curve-secret", k->path[0], "--allow-peers", k->path[3], "--allow-clients",
        k->path[4],       NULL};
    const char *peer_args[7] = {
        "--slots", peer_slots, "--curve-secret", k->path[2], "--coordinator-key", k->path[1], NULL};
    for (int i = 0; i < 7; i++)
        k->coord_args[i] = coord_args[i];
    int skip = peer_slots ? 0 : 2; /* no --slots */
    for (int i = 0; i < 7; i++)
        k->peer_args[i] = i + skip < 7 ? peer_args[i + skip] : NULL;
    return 0;
fail:
    fprintf(stderr, "cluster_keys: cannot make keys: %s\n", why);
    cluster_keys_remove(k);
    return -1;
}

void cluster_keys_remove(const cluster_keys *k)
{
    if (!k->dir[0])
        return;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", k->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cluster_keys: cannot remove %s\n", k->dir);
}
