/* peers_test: the registry's choice of peer, its slot accounting and reconnect support:
 * room is the earned allowance minus running, zombie and foreign work; peers that failed a
 * task are avoided while another can run it; a task that failed waits for a proven peer;
 * an open breaker takes a peer out; zombies go when a load report says so; a record moves
 * to a new route and is found by its sender id. */
#include "coordinator/peers.h"

#include <string.h>

#include "testutil.h"

int main(void)
{
    coord_peers *peers = coord_peers_new();
    CHECK(peers != NULL);
    if (!peers)
        return testutil_finish("peers_test");
    uint64_t now = 100000000; /* 100 s: earlier times stay positive */
    coord_peer *a = coord_peers_add(peers, "route-a", 7, 0xa);
    coord_peer *b = coord_peers_add(peers, "route-b", 7, 0xb);
    CHECK(a && b && a->serial != b->serial);
    a->kinds = b->kinds = 1u << 0;
    a->slots = b->slots = 8;
    CHECK(coord_peers_find(peers, "route-b", 7) == b);
    CHECK(coord_peers_find_sender(peers, 0xa) == a);
    CHECK(coord_peers_find_serial(peers, b->serial) == b);
    CHECK(coord_peers_pick(peers, 1, NULL, 0, now) == NULL); /* nobody runs kind 1 */

    /* New peers are trusted with two slots each. */
    CHECK(coord_peers_room(a, now) == HEALTH_INITIAL_TRUST);
    CHECK(coord_peers_capacity(peers, 0, now) == 2 * HEALTH_INITIAL_TRUST);
    coord_peer *first = coord_peers_pick(peers, 0, NULL, 0, now);
    coord_peers_assigned(peers, first);
    coord_peer *second = coord_peers_pick(peers, 0, NULL, 0, now);
    CHECK(first && second && first != second); /* the least loaded goes next */
    coord_peers_assigned(peers, second);

    /* Zombies and foreign work take slots; a load report frees the zombies it accounts for. */
    coord_peers_zombie_add(a, 41);
    CHECK(coord_peers_room(a, now) == 0);
    uint64_t running[] = {7};
    coord_peers_zombies_reconcile(a, running, 1, 40, false); /* 41 not seen yet: kept */
    CHECK(a->nzombies == 1);
    coord_peers_zombies_reconcile(a, running, 1, 41, false); /* seen and not running: gone */
    CHECK(a->nzombies == 0);
    coord_peers_zombie_add(a, 50);
    CHECK(coord_peers_zombie_remove(a, 50) && !coord_peers_zombie_remove(a, 50));
    a->foreign = 1;
    CHECK(coord_peers_room(a, now) == 0);
    a->foreign = 0;

    /* A task that failed on a avoids it while b can run it, waiting if b is full. */
    uint64_t avoid_a[] = {a->serial};
    for (int i = 0; i < 4; i++)
        coord_health_success(&b->health, b->name, b->slots);
    CHECK(coord_peers_pick(peers, 0, avoid_a, 1, now) == b);
    b->inflight = b->slots;
    CHECK(coord_peers_pick(peers, 0, avoid_a, 1, now) == NULL);
    CHECK(coord_peers_other_capable(peers, 0, avoid_a, 1, now));
    b->inflight = 1;

    /* ...and waits for the proven b rather than try the unproven c. */
    coord_peer *c = coord_peers_add(peers, "route-c", 7, 0xc);
    c->kinds = 1u << 0;
    c->slots = 8;
    b->inflight = b->slots;
    CHECK(coord_peers_pick(peers, 0, avoid_a, 1, now) == NULL);
    CHECK(coord_peers_pick(peers, 0, NULL, 0, now) != b); /* a first attempt goes anywhere */
    b->inflight = 1;

    /* An open breaker takes b out; with no one else left, the avoided a is taken. */
    for (int i = 0; i < (int)HEALTH_TRIP_FAILURES; i++) {
        coord_health_failure(&b->health, b->name, now, "test");
        coord_health_failure(&c->health, c->name, now, "test");
    }
    CHECK(!coord_peers_other_capable(peers, 0, avoid_a, 1, now));
    CHECK(coord_peers_pick(peers, 0, avoid_a, 1, now) == a);

    /* A reconnect moves the record to its new route. */
    CHECK_RC(coord_peers_rekey(peers, a, "route-a2", 8), P2C2R_OK);
    CHECK(coord_peers_find(peers, "route-a", 7) == NULL);
    CHECK(coord_peers_find(peers, "route-a2", 8) == a);
    CHECK(coord_peers_find_sender(peers, 0xa) == a);
    /* A second record cannot take a sender id in use. */
    coord_peer *d = coord_peers_add(peers, "route-d", 7, 0xa);
    CHECK(d && d->sender == 0 && coord_peers_find_sender(peers, 0xa) == a);

    /* Silence: the record not heard from is found. */
    a->last_seen_us = b->last_seen_us = c->last_seen_us = now;
    d->last_seen_us = now - 5000000;
    CHECK(coord_peers_silent(peers, now - 1000000) == d);
    coord_peers_remove(peers, &d);
    CHECK(d == NULL && coord_peers_size(peers) == 3);
    coord_peers_destroy(&peers);
    return testutil_finish("peers_test");
}
