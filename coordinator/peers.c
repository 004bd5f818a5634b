/* peers: see peers.h. Records live in a CZMQ hash keyed by the hex of the routing id,
 * owner of the records; two idmaps index the same records by sender id and by serial. */
#include "coordinator/peers.h"

#include <czmq.h>
#include <stdlib.h>

#include "common/idmap.h"

struct coord_peers {
    zhashx_t *by_route;   /* hex(route) -> coord_peer*, owns the records */
    zhashx_t *by_sender;  /* &peer->sender -> peer, for peers that sent one */
    zhashx_t *by_serial;  /* &peer->serial -> peer */
    uint64_t assignments; /* counter behind coord_peer.last_assign */
    uint64_t serials;     /* last serial handed out */
};

static void peer_free(void **item)
{
    coord_peer *peer = *item;
    if (peer)
        free(peer->zombies);
    free(peer);
    *item = NULL;
}

coord_peers *coord_peers_new(void)
{
    coord_peers *peers = calloc(1, sizeof *peers);
    if (!peers)
        return NULL;
    peers->by_route = zhashx_new();
    peers->by_sender = p2c2r__idmap_new();
    peers->by_serial = p2c2r__idmap_new();
    if (!peers->by_route || !peers->by_sender || !peers->by_serial) {
        coord_peers_destroy(&peers);
        return NULL;
    }
    zhashx_set_destructor(peers->by_route, peer_free);
    return peers;
}

void coord_peers_destroy(coord_peers **peers)
{
    if (!peers || !*peers)
        return;
    zhashx_destroy(&(*peers)->by_sender);
    zhashx_destroy(&(*peers)->by_serial);
    zhashx_destroy(&(*peers)->by_route);
    free(*peers);
    *peers = NULL;
}

coord_peer *coord_peers_find(coord_peers *peers, const void *route, size_t route_len)
{
    p2c2r_route_key key;
    p2c2r__route_key(route, route_len, key);
    return zhashx_lookup(peers->by_route, key);
}

coord_peer *coord_peers_find_sender(coord_peers *peers, uint64_t sender)
{
    return sender ? zhashx_lookup(peers->by_sender, &sender) : NULL;
}

coord_peer *coord_peers_find_serial(coord_peers *peers, uint64_t serial)
{
    return zhashx_lookup(peers->by_serial, &serial);
}

coord_peer *coord_peers_add(coord_peers *peers, const void *route, size_t route_len,
                            uint64_t sender)
{
    assert(route_len > 0 && route_len <= P2C2R_ROUTE_MAX_BYTES);
    coord_peer *peer = calloc(1, sizeof *peer);
    if (!peer)
        return NULL;
    memcpy(peer->route, route, route_len);
    peer->route_len = route_len;
    peer->serial = ++peers->serials;
    /* A sender id already in use belongs to another live record: this one goes without. */
    peer->sender = sender && !coord_peers_find_sender(peers, sender) ? sender : 0;
    coord_health_init(&peer->health);
    p2c2r_route_key key;
    p2c2r__route_key(route, route_len, key);
    if (zhashx_insert(peers->by_serial, &peer->serial, peer) != 0) {
        free(peer);
        return NULL;
    }
    if ((peer->sender && zhashx_insert(peers->by_sender, &peer->sender, peer) != 0) ||
        zhashx_insert(peers->by_route, key, peer) != 0) {
        zhashx_delete(peers->by_serial, &peer->serial);
        if (peer->sender)
            zhashx_delete(peers->by_sender, &peer->sender);
        free(peer);
        return NULL;
    }
    return peer;
}

int coord_peers_rekey(coord_peers *peers, coord_peer *peer, const void *route, size_t route_len)
{
    p2c2r_route_key old_key, new_key;
    p2c2r__route_key(peer->route, peer->route_len, old_key);
    p2c2r__route_key(route, route_len, new_key);
    /* Insert under the new key before the old one goes, so a failure changes nothing;
     * the record moves from one key to the other without its destructor running. */
    zhashx_set_destructor(peers->by_route, NULL);
    int rc = zhashx_insert(peers->by_route, new_key, peer) == 0 ? P2C2R_OK : P2C2R_E_NOMEM;
    if (rc == P2C2R_OK) {
        zhashx_delete(peers->by_route, old_key);
        memcpy(peer->route, route, route_len);
        peer->route_len = route_len;
    }
    zhashx_set_destructor(peers->by_route, peer_free);
    return rc;
}

void coord_peers_remove(coord_peers *peers, coord_peer **peer)
{
    if (!*peer)
        return;
    p2c2r_route_key key;
    p2c2r__route_key((*peer)->route, (*peer)->route_len, key);
    zhashx_delete(peers->by_serial, &(*peer)->serial);
    if ((*peer)->sender)
        zhashx_delete(peers->by_sender, &(*peer)->sender);
    zhashx_delete(peers->by_route, key); /* frees the record */
    *peer = NULL;
}

static uint32_t busy(const coord_peer *p)
{
    return p->inflight + p->nzombies + p->foreign;
}

uint32_t coord_peers_room(coord_peer *p, uint64_t now_us)
{
    uint32_t allowed = coord_health_allowance(&p->health, p->name, p->slots, now_us);
    return allowed > busy(p) ? allowed - busy(p) : 0;
}

static bool avoided(uint64_t serial, const uint64_t *avoid, size_t navoid)
{
    for (size_t i = 0; i < navoid; i++)
        if (avoid[i] == serial)
            return true;
    return false;
}

/* Whether p should get the next task rather than best (which may be NULL). */
static bool better(const coord_peer *p, const coord_peer *best)
{
    if (!best)
        return true;
    /* Compare busy/slots without division: a/b < c/d <=> a*d < c*b. */
    uint64_t lp = (uint64_t)busy(p) * best->slots;
    uint64_t lb = (uint64_t)busy(best) * p->slots;
    return lp < lb || (lp == lb && p->last_assign < best->last_assign);
}

/* A peer that has answered well and has not failed since. */
static bool proven(const coord_peer *p)
{
    return p->health.good > 0 && p->health.failures == 0;
}

coord_peer *coord_peers_pick(coord_peers *peers, int kind, const uint64_t *avoid, size_t navoid,
                             uint64_t now_us)
{
    coord_peer *best = NULL, *best_avoided = NULL, *best_proven = NULL;
    bool other_usable = false, any_proven = false;
    for (coord_peer *p = zhashx_first(peers->by_route); p; p = zhashx_next(peers->by_route)) {
        if (!(p->kinds & (1u << kind)) || !coord_health_usable(&p->health, now_us))
            continue;
        bool avoid_p = avoided(p->serial, avoid, navoid);
        if (!avoid_p) {
            other_usable = true;
            any_proven |= proven(p);
        }
        if (coord_peers_room(p, now_us) == 0)
            continue;
        if (avoid_p) {
            if (better(p, best_avoided))
                best_avoided = p;
            continue;
        }
        if (better(p, best))
            best = p;
        if (proven(p) && better(p, best_proven))
            best_proven = p;
    }
    /* A task that already failed somewhere waits for a proven peer when there is one,
     * rather than spend its attempts on peers nobody has seen work. */
    if (navoid && any_proven)
        return best_proven;
    return best ? best : other_usable ? NULL : best_avoided;
}

bool coord_peers_other_capable(coord_peers *peers, int kind, const uint64_t *avoid, size_t navoid,
                               uint64_t now_us)
{
    for (coord_peer *p = zhashx_first(peers->by_route); p; p = zhashx_next(peers->by_route))
        if ((p->kinds & (1u << kind)) && coord_health_usable(&p->health, now_us) &&
            !avoided(p->serial, avoid, navoid))
            return true;
    return false;
}

uint32_t coord_peers_capacity(coord_peers *peers, int kind, uint64_t now_us)
{
    uint32_t total = 0;
    for (coord_peer *p = zhashx_first(peers->by_route); p; p = zhashx_next(peers->by_route))
        if (p->kinds & (1u << kind))
            total += coord_health_allowance(&p->health, p->name, p->slots, now_us);
    return total;
}

void coord_peers_assigned(coord_peers *peers, coord_peer *peer)
{
    peer->inflight++;
    peer->last_assign = ++peers->assignments;
    coord_health_assigned(&peer->health);
}

void coord_peers_zombie_add(coord_peer *peer, uint64_t task_id)
{
    /* Never more zombies than slots: past that the peer is not running them all anyway. */
    if (peer->nzombies >= peer->slots)
        return;
    if (!peer->zombies) {
        peer->zombies = calloc(COORD_PEER_MAX_SLOTS, sizeof *peer->zombies);
        if (!peer->zombies)
            return;
    }
    peer->zombies[peer->nzombies++] = task_id;
}

bool coord_peers_zombie_remove(coord_peer *peer, uint64_t task_id)
{
    for (uint32_t i = 0; i < peer->nzombies; i++) {
        if (peer->zombies[i] == task_id) {
            peer->zombies[i] = peer->zombies[--peer->nzombies];
            return true;
        }
    }
    return false;
}

static bool sorted_has(const uint64_t *ids, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] == id)
            return true;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void coord_peers_zombies_reconcile(coord_peer *peer, const uint64_t *running, size_t nrunning,
                                   uint64_t last_assigned, bool all_accounted)
{
    for (uint32_t i = 0; i < peer->nzombies;) {
        uint64_t id = peer->zombies[i];
        if ((all_accounted || id <= last_assigned) && !sorted_has(running, nrunning, id))
            peer->zombies[i] = peer->zombies[--peer->nzombies];
        else
            i++;
    }
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
