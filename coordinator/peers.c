/* peers: see peers.h. Records live in a CZMQ hash keyed by the hex of the routing id. */
#include "coordinator/peers.h"

#include <czmq.h>
#include <stdlib.h>

struct coord_peers {
    zhashx_t *by_route;   /* hex(route) -> coord_peer*, owns the records */
    uint64_t assignments; /* counter behind coord_peer.last_assign */
};

static void route_key(const void *route, size_t len, char key[2 * P2C2R_ROUTE_MAX_BYTES + 1])
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *r = route;
    for (size_t i = 0; i < len; i++) {
        key[2 * i] = hex[r[i] >> 4];
        key[2 * i + 1] = hex[r[i] & 15];
    }
    key[2 * len] = '\0';
}

static void peer_free(void **item)
{
    free(*item);
    *item = NULL;
}

coord_peers *coord_peers_new(void)
{
    coord_peers *peers = calloc(1, sizeof *peers);
    if (!peers)
        return NULL;
    peers->by_route = zhashx_new();
    if (!peers->by_route) {
        free(peers);
        return NULL;
    }
    zhashx_set_destructor(peers->by_route, peer_free);
    return peers;
}

void coord_peers_destroy(coord_peers **peers)
{
    if (!peers || !*peers)
        return;
    zhashx_destroy(&(*peers)->by_route);
    free(*peers);
    *peers = NULL;
}

coord_peer *coord_peers_find(coord_peers *peers, const void *route, size_t route_len)
{
    char key[2 * P2C2R_ROUTE_MAX_BYTES + 1];
    route_key(route, route_len, key);
    return zhashx_lookup(peers->by_route, key);
}

coord_peer *coord_peers_add(coord_peers *peers, const void *route, size_t route_len)
{
    assert(route_len > 0 && route_len <= P2C2R_ROUTE_MAX_BYTES);
    coord_peer *peer = calloc(1, sizeof *peer);
    if (!peer)
        return NULL;
    memcpy(peer->route, route, route_len);
    peer->route_len = route_len;
    char key[2 * P2C2R_ROUTE_MAX_BYTES + 1];
    route_key(route, route_len, key);
    if (zhashx_insert(peers->by_route, key, peer) != 0) {
        free(peer);
        return NULL;
    }
    return peer;
}

void coord_peers_remove(coord_peers *peers, coord_peer **peer)
{
    if (!*peer)
        return;
    char key[2 * P2C2R_ROUTE_MAX_BYTES + 1];
    route_key((*peer)->route, (*peer)->route_len, key);
    zhashx_delete(peers->by_route, key); /* frees the record */
    *peer = NULL;
}

coord_peer *coord_peers_pick(coord_peers *peers, int kind)
{
    coord_peer *best = NULL;
    for (coord_peer *p = zhashx_first(peers->by_route); p; p = zhashx_next(peers->by_route)) {
        if (!(p->kinds & (1u << kind)) || p->inflight >= p->slots)
            continue;
        if (!best) {
            best = p;
            continue;
        }
        /* Compare inflight/slots without division: a/b < c/d <=> a*d < c*b. */
        uint64_t lp = (uint64_t)p->inflight * best->slots;
        uint64_t lb = (uint64_t)best->inflight * p->slots;
        if (lp < lb || (lp == lb && p->last_assign < best->last_assign))
            best = p;
    }
    return best;
}

void coord_peers_assigned(coord_peers *peers, coord_peer *peer)
{
    peer->inflight++;
    peer->last_assign = ++peers->assignments;
}

coord_peer *coord_peers_silent(coord_peers *peers, uint64_t cutoff_us)
{
    for (coord_peer *p = zhashx_first(peers->by_route); p; p = zhashx_next(peers->by_route))
        if (p->last_seen_us < cutoff_us)
            return p;
    return NULL;
}

size_t coord_peers_size(const coord_peers *peers)
{
    return zhashx_size(peers->by_route);
}

int coord_peers_any_capable(coord_peers *peers, int kind)
{
    for (coord_peer *p = zhashx_first(peers->by_route); p; p = zhashx_next(peers->by_route))
        if (p->kinds & (1u << kind))
            return 1;
    return 0;
}
