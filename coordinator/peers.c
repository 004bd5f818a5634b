/* peers: see peers.h. Records live in a CZMQ hash keyed by the hex of the routing id,
 * owner of the records; two idmaps index the same records by sender id and by serial.
 * refresh() is the one place that turns a record's state into its standing in the
 * selection index; every mutator ends with it. */
#include "coordinator/peers.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/clock.h"
#include "common/idmap.h"
#include "common/log.h"
#include "p2c2r_formats.h"

struct coord_peers {
    zhashx_t *by_route;    /* hex(route) -> coord_peer*, owns the records */
    zhashx_t *by_sender;   /* &peer->sender -> peer, for peers that sent one */
    zhashx_t *by_serial;   /* &peer->serial -> peer */
    coord_select *sel;     /* which peer runs a task */
    coord_timers *timers;  /* open breakers' cooldowns */
    coord_reputation *rep; /* what rechecks found of each identity */
    uint64_t serials;      /* last serial handed out */
    uint64_t uses;         /* counter behind coord_peer_hist.uses */
};

#define PEER_OF_TIMER(t) ((coord_peer *)((char *)(t)-offsetof(coord_peer, breaker_timer)))

static void peer_free(void **item)
{
    coord_peer *peer = *item;
    if (peer)
        free(peer->zombies);
    free(peer);
    *item = NULL;
}

coord_peers *coord_peers_new(const coord_select_weights *weights, uint64_t seed)
{
    coord_peers *peers = calloc(1, sizeof *peers);
    if (!peers)
        return NULL;
    peers->by_route = zhashx_new();
    peers->by_sender = p2c2r__idmap_new();
    peers->by_serial = p2c2r__idmap_new();
    peers->sel = coord_select_new(weights, seed);
    peers->timers = coord_timers_new();
    peers->rep = coord_reputation_new();
    if (!peers->by_route || !peers->by_sender || !peers->by_serial || !peers->sel ||
        !peers->timers || !peers->rep) {
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
    coord_select_destroy(&(*peers)->sel);
    coord_timers_destroy(&(*peers)->timers);
    coord_reputation_destroy(&(*peers)->rep);
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

/* ---- standing in the selection index ------------------------------------------------ */

static uint32_t busy(const coord_peer *p)
{
    return p->inflight + p->nzombies + p->foreign;
}

static void refresh(coord_peers *peers, coord_peer *p, uint64_t now_us)
{
    uint32_t allowed = coord_health_allowance(&p->health, p->name, p->slots, now_us);
    if (p->quarantined)
        allowed = 0;
    uint32_t room = allowed > busy(p) ? allowed - busy(p) : 0;
    bool usable = !p->quarantined && coord_health_usable(&p->health, now_us);
    bool proven = p->health.good > 0 && p->health.failures == 0;
    coord_select_update(peers->sel, p, room, allowed, usable, proven);
    /* An open breaker comes back by itself: wake up when its cooldown ends. */
    if (p->health.breaker == COORD_BREAKER_OPEN)
        coord_timers_arm(peers->timers, &p->breaker_timer, p->health.open_until_us);
    else
        coord_timers_cancel(peers->timers, &p->breaker_timer);
}

uint32_t coord_peers_room(coord_peer *p, uint64_t now_us)
{
    if (p->quarantined)
        return 0;
    uint32_t allowed = coord_health_allowance(&p->health, p->name, p->slots, now_us);
    return allowed > busy(p) ? allowed - busy(p) : 0;
}

/* ---- records ------------------------------------------------------------------------ */

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
    peer->runtime = P2C2R_RUNTIME_CPU;
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
    coord_select_leave(peers->sel, *peer);
    coord_timers_cancel(peers->timers, &(*peer)->breaker_timer);
    p2c2r_route_key key;
    p2c2r__route_key((*peer)->route, (*peer)->route_len, key);
    zhashx_delete(peers->by_serial, &(*peer)->serial);
    if ((*peer)->sender)
        zhashx_delete(peers->by_sender, &(*peer)->sender);
    zhashx_delete(peers->by_route, key); /* frees the record */
    *peer = NULL;
}

uint64_t coord_peers_table_hash(const char *name)
{
    uint64_t h = XXH3_64bits(name, strlen(name));
    return h ? h : 1; /* 0 means "no table" */
}

int coord_peers_set_info(coord_peers *peers, coord_peer *peer, const P2c2r__Wire__PeerInfo *info,
                         uint64_t now_us)
{
    int unknown = 0;
    uint32_t kinds = 0;
    for (size_t i = 0; i < info->n_kinds; i++) {
        int kind = p2c2r__task_kind_lookup(info->kinds[i]);
        if (kind >= 0 && kind < COORD_SEL_KINDS)
            kinds |= 1u << kind;
        else
            unknown++;
    }
    uint32_t modes = 0;
    for (size_t i = 0; i < info->n_modes; i++)
        if (info->modes[i] >= P2C2R__WIRE__UPSCALE_MODE__FAST &&
            info->modes[i] <= P2C2R__WIRE__UPSCALE_MODE__QUALITY)
            modes |= 1u << info->modes[i];
    /* A peer from before modes were reported runs the only mode there was then. */
    if ((kinds & (1u << P2C2R_KIND_UPSCALE)) && !info->n_modes)
        modes = 1u << P2C2R__WIRE__UPSCALE_MODE__FAST;
    snprintf(peer->name, sizeof peer->name, "%s", info->name[0] ? info->name : "unnamed");
    peer->kinds = kinds;
    peer->modes = modes;
    peer->runtime = strcmp(info->runtime, "cuda") == 0 ? P2C2R_RUNTIME_CUDA : P2C2R_RUNTIME_CPU;
    peer->slots = info->slots;
    peer->batches = info->batches;
    peer->inline_payloads = info->inline_payloads;
    peer->cpu_cores = info->cpu_cores;
    snprintf(peer->simd, sizeof peer->simd, "%s", info->simd);
    peer->ndevices = (uint32_t)info->n_devices;
    snprintf(peer->device, sizeof peer->device, "%s",
             info->n_devices ? info->devices[0]->name : "");
    /* Memory a task can use: the largest GPU's free memory on a GPU peer, the host's on a
     * CPU peer. */
    uint64_t memory = info->memory_free;
    if (peer->runtime == P2C2R_RUNTIME_CUDA) {
        memory = 0;
        for (size_t i = 0; i < info->n_devices; i++)
            if (info->devices[i]->memory_free > memory)
                memory = info->devices[i]->memory_free;
    }
    peer->memory_free = memory;
    peer->nresident = 0;
    for (size_t i = 0; i < info->n_resident && peer->nresident < COORD_PEER_RESIDENT; i++)
        peer->resident[peer->nresident++] = coord_peers_table_hash(info->resident[i]);
    coord_select_join(peers->sel, peer);
    refresh(peers, peer, now_us);
    return unknown;
}

/* ---- identity and reputation ------------------------------------------------------ */

bool coord_peers_set_identity(coord_peers *peers, coord_peer *peer, const char *user_id)
{
    if (user_id && user_id[0])
        snprintf(peer->identity, sizeof peer->identity, "key:%s", user_id);
    else
        snprintf(peer->identity, sizeof peer->identity, "name:%s", peer->name);
    peer->quarantined = coord_reputation_quarantined(peers->rep, peer->identity);
    refresh(peers, peer, p2c2r__now_us());
    return peer->quarantined;
}

size_t coord_peers_quarantine(coord_peers *peers, const char *identity, coord_peer **out,
                              size_t max)
{
    size_t n = 0;
    for (coord_peer *p = zhashx_first(peers->by_route); p; p = zhashx_next(peers->by_route)) {
        if (strcmp(p->identity, identity) != 0)
            continue;
        p->quarantined = true;
        refresh(peers, p, p2c2r__now_us()); /* the index, not the hash */
        if (n < max)
            out[n++] = p;
    }
    return n;
}

coord_reputation *coord_peers_reputation(coord_peers *peers)
{
    return peers->rep;
}

/* ---- choice ------------------------------------------------------------------------- */

coord_peer *coord_peers_pick(coord_peers *peers, coord_select_task *t)
{
    t->avoided_usable = t->avoided_proven = 0;
    for (size_t i = 0; i < t->navoid; i++) {
        coord_peer *p = coord_peers_find_serial(peers, t->avoid[i]);
        if (p && coord_select_serves(p, t->kind, t->mode, t->runtime)) {
            t->avoided_usable++;
            t->avoided_proven += p->place.proven;
        }
    }
    return coord_select_pick(peers->sel, t);
}

bool coord_peers_other_capable(coord_peers *peers, int kind, int mode, int runtime,
                               const uint64_t *avoid, size_t navoid)
{
    uint32_t usable = coord_select_usable(peers->sel, kind, mode, runtime);
    for (size_t i = 0; i < navoid && usable; i++) {
        coord_peer *p = coord_peers_find_serial(peers, avoid[i]);
        if (p && coord_select_serves(p, kind, mode, runtime))
            usable--;
    }
    return usable > 0;
}

uint64_t coord_peers_capacity(coord_peers *peers, int kind, int mode, int runtime)
{
    return coord_select_capacity(peers->sel, kind, mode, runtime);
}

uint32_t coord_peers_available(coord_peers *peers, int kind, int mode, int runtime)
{
    return coord_select_available(peers->sel, kind, mode, runtime);
}

/* ---- what happens to a peer --------------------------------------------------------- */

void coord_peers_assigned(coord_peers *peers, coord_peer *peer)
{
    peer->inflight++;
    coord_health_assigned(&peer->health);
    refresh(peers, peer, p2c2r__now_us());
}

void coord_peers_released(coord_peers *peers, coord_peer *peer)
{
    peer->inflight--;
    refresh(peers, peer, p2c2r__now_us());
}

void coord_peers_success(coord_peers *peers, coord_peer *peer, uint64_t cls, uint64_t service_us,
                         uint64_t now_us)
{
    coord_health_success(&peer->health, peer->name, peer->slots);
    /* Its own service time for this class: update the entry, or take the least recently
     * used one. */
    coord_peer_hist *slot = &peer->hist[0];
    for (int i = 0; i < COORD_PEER_HIST; i++) {
        coord_peer_hist *h = &peer->hist[i];
        if (h->uses && h->cls == cls) {
            slot = h;
            break;
        }
        if (h->uses < slot->uses)
            slot = h;
    }
    if (slot->uses && slot->cls == cls)
        slot->mean_us = slot->mean_us - slot->mean_us / 8 + service_us / 8;
    else
        *slot = (coord_peer_hist){.cls = cls, .mean_us = service_us};
    slot->uses = ++peers->uses;
    refresh(peers, peer, now_us);
}

void coord_peers_failure(coord_peers *peers, coord_peer *peer, uint64_t now_us, const char *why)
{
    coord_health_failure(&peer->health, peer->name, now_us, why);
    refresh(peers, peer, now_us);
}

void coord_peers_no_verdict(coord_peers *peers, coord_peer *peer, uint64_t now_us)
{
    coord_health_released(&peer->health);
    refresh(peers, peer, now_us);
}

void coord_peers_set_foreign(coord_peers *peers, coord_peer *peer, uint64_t foreign,
                             uint64_t now_us)
{
    peer->foreign = foreign < peer->slots ? (uint32_t)foreign : peer->slots;
    refresh(peers, peer, now_us);
}

void coord_peers_rtt_sample(coord_peer *peer, uint64_t rtt_us)
{
    /* Smoothed as TCP smooths its round trips (gain 1/8). */
    peer->rtt_us = peer->rtt_us ? peer->rtt_us - peer->rtt_us / 8 + rtt_us / 8 : rtt_us;
    if (!peer->rtt_us)
        peer->rtt_us = 1;
}

void coord_peers_zombie_add(coord_peers *peers, coord_peer *peer, uint64_t task_id)
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
    refresh(peers, peer, p2c2r__now_us());
}

bool coord_peers_zombie_remove(coord_peers *peers, coord_peer *peer, uint64_t task_id)
{
    for (uint32_t i = 0; i < peer->nzombies; i++) {
        if (peer->zombies[i] == task_id) {
            peer->zombies[i] = peer->zombies[--peer->nzombies];
            refresh(peers, peer, p2c2r__now_us());
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

void coord_peers_zombies_reconcile(coord_peers *peers, coord_peer *peer, const uint64_t *running,
                                   size_t nrunning, uint64_t last_assigned, bool all_accounted)
{
    uint32_t before = peer->nzombies;
    for (uint32_t i = 0; i < peer->nzombies;) {
        uint64_t id = peer->zombies[i];
        if ((all_accounted || id <= last_assigned) && !sorted_has(running, nrunning, id))
            peer->zombies[i] = peer->zombies[--peer->nzombies];
        else
            i++;
    }
    if (peer->nzombies != before)
        refresh(peers, peer, p2c2r__now_us());
}

/* ---- time --------------------------------------------------------------------------- */

uint64_t coord_peers_expire(coord_peers *peers, uint64_t now_us)
{
    coord_timer *t;
    while ((t = coord_timers_pop_due(peers->timers, now_us)))
        refresh(peers, PEER_OF_TIMER(t), now_us);
    return coord_timers_next(peers->timers);
}

uint64_t coord_peers_next_wakeup(const coord_peers *peers)
{
    return coord_timers_next(peers->timers);
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

coord_peer *coord_peers_first(coord_peers *peers)
{
    return zhashx_first(peers->by_serial);
}

coord_peer *coord_peers_next(coord_peers *peers)
{
    return zhashx_next(peers->by_serial);
}
