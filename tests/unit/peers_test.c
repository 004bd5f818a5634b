/* peers_test: the registry and its selection index. Capabilities from PeerInfo decide
 * which tasks a peer is offered (kind, mode, runtime, memory); room is the earned
 * allowance minus running, zombie and foreign work; peers that failed a task are avoided
 * while another can run it, and a task that failed waits for a proven peer; an open
 * breaker takes a peer out until its cooldown ends; the score prefers history, free slots,
 * a short round trip and resident tables, and a peer that meets the deadline over one that
 * does not; a record moves to a new route and is found by its sender id. */
#include "coordinator/peers.h"

#include <string.h>

#include "p2c2r_formats.h"
#include "testutil.h"

#define S 1000000ull /* a second, in us */

static coord_peer *add(coord_peers *peers, const char *route, uint64_t sender, const char *runtime,
                       uint32_t slots, uint64_t memory, uint64_t now)
{
    coord_peer *p = coord_peers_add(peers, route, strlen(route), sender);
    CHECK(p != NULL);
    if (!p)
        return NULL;
    char *kinds[] = {"upscale", "noop"};
    P2c2r__Wire__UpscaleMode modes[] = {P2C2R__WIRE__UPSCALE_MODE__FAST,
                                        P2C2R__WIRE__UPSCALE_MODE__LANCZOS};
    P2c2r__Wire__PeerInfo info = P2C2R__WIRE__PEER_INFO__INIT;
    info.name = (char *)route;
    info.kinds = kinds;
    info.n_kinds = 2;
    info.modes = modes;
    info.n_modes = 2;
    info.slots = slots;
    info.runtime = (char *)runtime;
    info.memory_free = memory;
    P2c2r__Wire__Device dev = P2C2R__WIRE__DEVICE__INIT;
    P2c2r__Wire__Device *devs[] = {&dev};
    if (strcmp(runtime, "cuda") == 0) {
        dev.name = "test gpu";
        dev.memory_free = memory;
        info.devices = devs;
        info.n_devices = 1;
    }
    CHECK(coord_peers_set_info(peers, p, &info, now) == 0);
    return p;
}

static coord_select_task task(int kind, int mode, int runtime, uint64_t now)
{
    return (coord_select_task){.kind = kind, .mode = mode, .runtime = runtime, .now_us = now};
}

int main(void)
{
    coord_peers *peers = coord_peers_new(NULL, 42);
    CHECK(peers != NULL);
    if (!peers)
        return testutil_finish("peers_test");
    uint64_t now = 100 * S;
    coord_peer *a = add(peers, "route-a", 0xa, "cpu", 8, 1ull << 30, now);
    coord_peer *b = add(peers, "route-b", 0xb, "cpu", 8, 1ull << 30, now);
    coord_peer *g = add(peers, "route-g", 0xc, "cuda", 4, 8ull << 30, now);
    if (!a || !b || !g)
        return testutil_finish("peers_test");
    CHECK(a->serial != b->serial);
    CHECK(coord_peers_find(peers, "route-b", 7) == b);
    CHECK(coord_peers_find_sender(peers, 0xa) == a);
    CHECK(coord_peers_find_serial(peers, g->serial) == g);
    CHECK(g->runtime == P2C2R_RUNTIME_CUDA && g->ndevices == 1);

    /* Matching: upscale fast runs on all three, bicubic on none, CUDA only on g. */
    coord_select_task fast = task(P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_ANY, now);
    coord_select_task bicubic =
        task(P2C2R_KIND_UPSCALE, P2C2R_MODE_BICUBIC, P2C2R_RUNTIME_ANY, now);
    coord_select_task cuda = task(P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_CUDA, now);
    coord_select_task sleep = task(P2C2R_KIND_SLEEP, 0, P2C2R_RUNTIME_ANY, now);
    CHECK(coord_peers_available(peers, P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, 0) == 3);
    CHECK(coord_peers_pick(peers, &bicubic) == NULL);
    CHECK(coord_peers_pick(peers, &sleep) == NULL);
    for (int i = 0; i < 20; i++)
        CHECK(coord_peers_pick(peers, &cuda) == g);
    /* New peers are trusted with two slots each (g advertises 4, the CPUs 8). */
    CHECK(coord_peers_capacity(peers, P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_ANY) ==
          3 * HEALTH_INITIAL_TRUST);
    CHECK(coord_peers_capacity(peers, P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_CPU) ==
          2 * HEALTH_INITIAL_TRUST);
    /* Memory: only g has 4 GiB free. */
    fast.memory_bytes = 4ull << 30;
    for (int i = 0; i < 20; i++)
        CHECK(coord_peers_pick(peers, &fast) == g);
    fast.memory_bytes = 16ull << 30;
    CHECK(coord_peers_pick(peers, &fast) == NULL);
    fast.memory_bytes = 0;

    /* Room: assignments, zombies and foreign work take slots; a load report frees the
     * zombies it accounts for. */
    coord_peers_assigned(peers, a);
    coord_peers_zombie_add(peers, a, 41);
    CHECK(coord_peers_room(a, now) == 0);
    coord_select_task cpu = task(P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_CPU, now);
    for (int i = 0; i < 20; i++)
        CHECK(coord_peers_pick(peers, &cpu) == b);
    uint64_t running[] = {7};
    coord_peers_zombies_reconcile(peers, a, running, 1, 40, false); /* 41 not seen yet */
    CHECK(a->nzombies == 1);
    coord_peers_zombies_reconcile(peers, a, running, 1, 41, false); /* seen, not running */
    CHECK(a->nzombies == 0 && coord_peers_room(a, now) == 1);
    coord_peers_set_foreign(peers, a, 1, now);
    CHECK(coord_peers_room(a, now) == 0);
    coord_peers_set_foreign(peers, a, 0, now);
    coord_peers_released(peers, a);
    CHECK(coord_peers_room(a, now) == HEALTH_INITIAL_TRUST);

    /* A task that failed on a avoids it while b can run it, and waits if b is full. */
    uint64_t avoid_a[] = {a->serial};
    cpu.avoid = avoid_a;
    cpu.navoid = 1;
    CHECK(coord_peers_pick(peers, &cpu) == b);
    coord_peers_assigned(peers, b);
    coord_peers_assigned(peers, b);
    CHECK(coord_peers_pick(peers, &cpu) == NULL);
    CHECK(coord_peers_other_capable(peers, P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_CPU,
                                    avoid_a, 1));
    coord_peers_released(peers, b);
    coord_peers_released(peers, b);
    /* ...and waits for the proven b rather than try the unproven c. */
    coord_peer *c = add(peers, "route-c", 0xd, "cpu", 8, 1ull << 30, now);
    coord_peers_success(peers, b, 1, 5000, now);
    coord_peers_assigned(peers, b);
    coord_peers_assigned(peers, b);
    coord_peers_assigned(peers, b); /* trust 3 after one success: full */
    CHECK(coord_peers_room(b, now) == 0);
    CHECK(coord_peers_pick(peers, &cpu) == NULL);
    cpu.navoid = 0;
    coord_peer *first = coord_peers_pick(peers, &cpu);
    CHECK(first == a || first == c); /* a first attempt goes to any peer with room */
    for (int i = 0; i < 3; i++)
        coord_peers_released(peers, b);

    /* An open breaker takes a peer out until its cooldown ends; then one probe goes. */
    for (int i = 0; i < (int)HEALTH_TRIP_FAILURES; i++)
        coord_peers_failure(peers, c, now, "test");
    CHECK(coord_peers_available(peers, P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_CPU) ==
          2);
    CHECK(coord_peers_next_wakeup(peers) == now + HEALTH_COOLDOWN_MIN_US);
    coord_peers_expire(peers, now + HEALTH_COOLDOWN_MIN_US);
    CHECK(c->health.breaker == COORD_BREAKER_HALF_OPEN && coord_peers_room(c, now) == 1);
    CHECK(coord_peers_available(peers, P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_CPU) ==
          3);
    coord_peers_assigned(peers, c);
    CHECK(coord_peers_room(c, now) == 0);

    /* The score: history, free slots, round trip, resident tables; the deadline first. */
    coord_peers_released(peers, c);
    coord_select *sel = coord_select_new(NULL, 1);
    coord_select_task t = task(P2C2R_KIND_UPSCALE, P2C2R_MODE_FAST, P2C2R_RUNTIME_ANY, now);
    t.cls = 1;
    t.cluster_mean_us = 10000;
    bool meets;
    double sa = coord_select_score(sel, a, &t, &meets);
    double sb = coord_select_score(sel, b, &t, &meets);
    CHECK(sb > sa); /* b answered well and ran this class fast */
    coord_peers_rtt_sample(a, 50000);
    double sa_far = coord_select_score(sel, a, &t, &meets);
    CHECK(sa_far < sa);
    t.plan_hash = coord_peers_table_hash("fast yuv420p 320x200 x2");
    a->resident[a->nresident++] = t.plan_hash;
    CHECK(coord_select_score(sel, a, &t, &meets) > sa_far);
    t.deadline_us = now + 5000; /* b's 5 ms plus a round trip does not fit */
    coord_select_score(sel, b, &t, &meets);
    CHECK(!meets);
    coord_select_destroy(&sel);

    /* A reconnect moves the record to its new route. */
    CHECK_RC(coord_peers_rekey(peers, a, "route-a2", 8), P2C2R_OK);
    CHECK(coord_peers_find(peers, "route-a", 7) == NULL);
    CHECK(coord_peers_find(peers, "route-a2", 8) == a);
    CHECK(coord_peers_find_sender(peers, 0xa) == a);
    /* A second record cannot take a sender id in use. */
    coord_peer *d = add(peers, "route-d", 0xa, "cpu", 1, 0, now);
    CHECK(d && d->sender == 0 && coord_peers_find_sender(peers, 0xa) == a);

    /* Silence: the record not heard from is found; removal leaves the index. */
    a->last_seen_us = b->last_seen_us = c->last_seen_us = g->last_seen_us = now;
    d->last_seen_us = now - 5 * S;
    CHECK(coord_peers_silent(peers, now - S) == d);
    coord_peers_remove(peers, &d);
    CHECK(d == NULL && coord_peers_size(peers) == 4);
    coord_peers_remove(peers, &g);
    for (int i = 0; i < 20; i++)
        CHECK(coord_peers_pick(peers, &cuda) == NULL);
    coord_peers_destroy(&peers);
    return testutil_finish("peers_test");
}
