/* queue_test: coord_queue checked against a plain-array reference, then its turns.
 *
 * (1)-(5): one class, one owner, where dispatch order must be (priority, deadline,
 * arrival) exactly, and the deadline heap must agree with a sorted reference.
 * The reference is deliberately naive (a list of live items, searched linearly or sorted with
 * qsort) and its orderings are written here again as three-way comparisons, so a mistake in
 * the queue's comparators or heap maintenance cannot hide behind the same mistake in the
 * check. Heap validity is checked only through the public API, by draining: a broken heap
 * sooner or later hands out an item that is not the reference's minimum. All randomness
 * comes from fixed seeds so a failure reproduces.
 */
#include "coordinator/queue.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "p2c2r_error.h"
#include "testutil.h"

#define RANDOM_OPS 100000

/* Dispatch order, on coord_qitem * elements as qsort passes them. */
static int ref_order_cmp(const void *pa, const void *pb)
{
    const coord_qitem *a = *(coord_qitem *const *)pa;
    const coord_qitem *b = *(coord_qitem *const *)pb;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->deadline_us != b->deadline_us)
        return a->deadline_us < b->deadline_us ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

/* Deadline order, on coord_qitem * elements. */
static int ref_deadline_cmp(const void *pa, const void *pb)
{
    const coord_qitem *a = *(coord_qitem *const *)pa;
    const coord_qitem *b = *(coord_qitem *const *)pb;
    if (a->deadline_us != b->deadline_us)
        return a->deadline_us < b->deadline_us ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

/* Drop live[i]; the reference is a set, so the last element may fill the hole. */
static void ref_drop(coord_qitem **live, size_t *n, size_t i)
{
    live[i] = live[--*n];
}

/* Small key ranges so that equal priorities and equal deadlines are common and the
 * tie-breaks (deadline, then seq) are exercised, not just the first key. */
static void random_keys(coord_qitem *item, uint64_t seq, uint64_t *rng)
{
    item->priority = (uint32_t)(testutil_rand(rng) % 4);
    item->deadline_us = 1000 + testutil_rand(rng) % 64;
    item->seq = seq;
}

/* Take what class 0 serves next, as the coordinator's dispatch does. */
static coord_qitem *pop_next(coord_queue *q)
{
    coord_qitem *item = coord_queue_next(q, 0);
    if (item)
        coord_queue_take(q, item, item->cost_us);
    return item;
}

/* Check peek, next_deadline and size against the reference. When n > 0, also give the
 * reference's next item in each order (indices into live), found in one pass because this
 * scan is most of the test's running time. */
static bool ref_agrees(coord_queue *q, coord_qitem *const *live, size_t n, size_t *first,
                       size_t *earliest)
{
    bool ok = coord_queue_size(q) == n;
    if (n == 0) {
        ok = ok && coord_queue_next(q, 0) == NULL && coord_queue_next_deadline(q) == UINT64_MAX;
    } else {
        *first = *earliest = 0;
        for (size_t i = 1; i < n; i++) {
            if (ref_order_cmp(&live[i], &live[*first]) < 0)
                *first = i;
            if (ref_deadline_cmp(&live[i], &live[*earliest]) < 0)
                *earliest = i;
        }
        ok = ok && coord_queue_next(q, 0) == live[*first] &&
             coord_queue_next_deadline(q) == live[*earliest]->deadline_us;
    }
    CHECK(ok);
    return ok;
}

/* (1) Random pushes, pops, expiries and removals against the reference, then a full drain
 * compared with the reference sorted by qsort. */
static void test_random_against_reference(void)
{
    uint64_t rng = 0x5eed0001;
    coord_qitem *pool = calloc(RANDOM_OPS, sizeof *pool);
    coord_qitem **live = malloc(RANDOM_OPS * sizeof *live);
    coord_queue *q = coord_queue_new();
    CHECK(pool && live && q);
    if (!pool || !live || !q)
        goto out;

    size_t nlive = 0, npushed = 0, max_live = 0;
    for (int op = 0; op < RANDOM_OPS; op++) {
        /* Push-heavy, then pop-heavy, then push-heavy again: the arrays grow through several
         * doublings, the queue drains back towards empty, and it ends large for the final
         * drain. */
        unsigned push_pct = op < 40000 ? 56 : op < 80000 ? 44 : 60;
        uint64_t r = testutil_rand(&rng) % 100;
        if (r < push_pct || nlive == 0) {
            coord_qitem *item = &pool[npushed];
            random_keys(item, npushed, &rng);
            npushed++;
            CHECK_RC(coord_queue_push(q, item), P2C2R_OK);
            live[nlive++] = item;
            if (nlive > max_live)
                max_live = nlive;
            continue;
        }
        /* Checking before every removal, not every push, keeps the linear scans affordable
         * under the sanitizers; any wrong push shows up at the next removal. */
        size_t first, earliest;
        if (!ref_agrees(q, live, nlive, &first, &earliest))
            goto out;
        uint64_t kind = testutil_rand(&rng) % 20;
        if (kind < 14) {
            coord_qitem *got = pop_next(q);
            CHECK(got == live[first]);
            if (got != live[first])
                goto out;
            ref_drop(live, &nlive, first);
        } else if (kind < 17) {
            /* now_us within the deadline range, so some calls find an expired item and
             * others find none. */
            uint64_t now = 1000 + testutil_rand(&rng) % 64;
            coord_qitem *want = live[earliest]->deadline_us <= now ? live[earliest] : NULL;
            coord_qitem *got = coord_queue_pop_expired(q, now);
            CHECK(got == want);
            if (got != want)
                goto out;
            if (want)
                ref_drop(live, &nlive, earliest);
        } else {
            size_t victim = (size_t)(testutil_rand(&rng) % nlive);
            coord_queue_remove(q, live[victim]);
            ref_drop(live, &nlive, victim);
        }
    }
    /* The test only means something if the queue grew well past its first allocation. */
    CHECK(max_live > 1000);
    CHECK(nlive > 1000);

    qsort(live, nlive, sizeof *live, ref_order_cmp);
    for (size_t i = 0; i < nlive; i++) {
        coord_qitem *got = pop_next(q);
        CHECK(got == live[i]);
        if (got != live[i])
            goto out;
    }
    CHECK(coord_queue_size(q) == 0);
    CHECK(pop_next(q) == NULL);
out:
    coord_queue_destroy(&q);
    free(live);
    free(pool);
}

/* (2) pop_expired hands out exactly the items with deadline <= now, earliest first, and
 * they are gone from dispatch order too. */
static void test_pop_expired(void)
{
    enum { N = 500 };
    static coord_qitem items[N];
    coord_qitem *expect[N], *rest[N];
    size_t nexpect = 0, nrest = 0;
    uint64_t rng = 0x5eed0002;
    const uint64_t now = 1024;

    coord_queue *q = coord_queue_new();
    CHECK(q != NULL);
    if (!q)
        return;
    for (size_t i = 0; i < N; i++) {
        random_keys(&items[i], i, &rng);
        CHECK_RC(coord_queue_push(q, &items[i]), P2C2R_OK);
        if (items[i].deadline_us <= now)
            expect[nexpect++] = &items[i];
        else
            rest[nrest++] = &items[i];
    }
    CHECK(nexpect > 0 && nrest > 0);

    /* Before every deadline, nothing has expired and nothing is removed. */
    CHECK(coord_queue_pop_expired(q, 999) == NULL);
    CHECK(coord_queue_size(q) == N);

    qsort(expect, nexpect, sizeof *expect, ref_deadline_cmp);
    size_t got_n = 0;
    coord_qitem *got;
    while ((got = coord_queue_pop_expired(q, now)) != NULL) {
        CHECK(got_n < nexpect && got == expect[got_n]);
        got_n++;
    }
    CHECK(got_n == nexpect);
    CHECK(coord_queue_size(q) == nrest);
    CHECK(coord_queue_next_deadline(q) > now);

    /* Dispatch order now yields exactly the unexpired items, in order. */
    qsort(rest, nrest, sizeof *rest, ref_order_cmp);
    for (size_t i = 0; i < nrest; i++)
        CHECK(pop_next(q) == rest[i]);
    CHECK(pop_next(q) == NULL);
    coord_queue_destroy(&q);
}

/* Empty q by alternating pop and pop_expired(UINT64_MAX), each checked against the reference,
 * so both heaps must stay valid while the other one is being emptied. */
static void drain_both_ways(coord_queue *q, coord_qitem **live, size_t nlive)
{
    for (bool by_order = true; nlive > 0; by_order = !by_order) {
        size_t first, earliest;
        if (!ref_agrees(q, live, nlive, &first, &earliest))
            return;
        size_t want = by_order ? first : earliest;
        coord_qitem *got = by_order ? pop_next(q) : coord_queue_pop_expired(q, UINT64_MAX);
        CHECK(got == live[want]);
        if (got != live[want])
            return;
        ref_drop(live, &nlive, want);
    }
    ref_agrees(q, live, 0, NULL, NULL);
}

/* (3) Removing arbitrary items keeps both heaps valid. For each trial the same items are
 * queued again and the first k of a fixed random removal sequence applied, for every k, so
 * the state after each single removal is checked by a full drain. */
static void test_remove_middle(void)
{
    enum { MAXN = 150, TRIALS = 20 };
    static coord_qitem items[MAXN];
    coord_qitem *perm[MAXN], *live[MAXN];
    uint64_t rng = 0x5eed0003;

    coord_queue *q = coord_queue_new();
    CHECK(q != NULL);
    if (!q)
        return;
    for (int trial = 0; trial < TRIALS; trial++) {
        size_t n = 1 + (size_t)(testutil_rand(&rng) % MAXN);
        for (size_t i = 0; i < n; i++) {
            random_keys(&items[i], i, &rng);
            perm[i] = &items[i];
        }
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(testutil_rand(&rng) % (i + 1));
            coord_qitem *t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (size_t k = 0; k <= n; k++) {
            for (size_t i = 0; i < n; i++)
                CHECK_RC(coord_queue_push(q, &items[i]), P2C2R_OK);
            for (size_t i = 0; i < k; i++)
                coord_queue_remove(q, perm[i]);
            /* The survivors, in any order: the reference is a set. */
            memcpy(live, perm + k, (n - k) * sizeof *live);
            drain_both_ways(q, live, n - k);
            if (testutil_failures)
                goto out;
        }
    }
out:
    coord_queue_destroy(&q);
}

/* (4) An empty queue, new or emptied, answers NULL and UINT64_MAX; a popped item can be
 * queued again. */
static void test_empty(void)
{
    coord_qitem item = {.priority = 7, .deadline_us = 42, .seq = 1};
    coord_queue *q = coord_queue_new();
    CHECK(q != NULL);
    if (!q)
        return;
    for (int round = 0; round < 2; round++) {
        CHECK(coord_queue_size(q) == 0);
        CHECK(coord_queue_next(q, 0) == NULL);
        CHECK(pop_next(q) == NULL);
        CHECK(coord_queue_pop_expired(q, UINT64_MAX) == NULL);
        CHECK(coord_queue_next_deadline(q) == UINT64_MAX);

        CHECK_RC(coord_queue_push(q, &item), P2C2R_OK);
        CHECK(coord_queue_size(q) == 1);
        CHECK(coord_queue_next(q, 0) == &item);
        CHECK(coord_queue_next_deadline(q) == 42);
        CHECK(coord_queue_pop_expired(q, 41) == NULL);
        CHECK(pop_next(q) == &item);
    }
    coord_queue_destroy(&q);
}

/* (5) destroy accepts NULL either way, nulls the caller's pointer and leaves queued items
 * alone (they are on the stack here, so freeing one would trip the sanitizer). */
static void test_destroy(void)
{
    coord_queue_destroy(NULL);
    coord_queue *q = NULL;
    coord_queue_destroy(&q);
    CHECK(q == NULL);

    coord_qitem items[3] = {{.priority = 1, .seq = 0}, {.priority = 2, .seq = 1}, {.seq = 2}};
    q = coord_queue_new();
    CHECK(q != NULL);
    if (!q)
        return;
    for (size_t i = 0; i < 3; i++)
        CHECK_RC(coord_queue_push(q, &items[i]), P2C2R_OK);
    coord_queue_destroy(&q);
    CHECK(q == NULL);
    CHECK(items[1].priority == 2);
}

/* (6) Owners of one priority take turns: each may send a quantum of estimated work per
 * turn, so a flooding owner does not starve another, and an owner of big tasks gets as
 * much work through as one of small ones. */
static void test_turns(void)
{
    enum { NA = 200, NB = 20 };
    static coord_qitem a[NA], b[NB];
    int owner_a, owner_b; /* only their addresses matter */
    coord_queue *q = coord_queue_new();
    CHECK(q != NULL);
    if (!q)
        return;
    /* A arrives first with many small tasks (1 ms), then B with a few 5 ms ones. */
    for (int i = 0; i < NA; i++) {
        a[i] = (coord_qitem){.deadline_us = 1000 + (uint64_t)i,
                             .seq = (uint64_t)i,
                             .owner = &owner_a,
                             .cost_us = 1000};
        CHECK_RC(coord_queue_push(q, &a[i]), P2C2R_OK);
    }
    for (int i = 0; i < NB; i++) {
        b[i] = (coord_qitem){.deadline_us = 5000 + (uint64_t)i,
                             .seq = (uint64_t)(NA + i),
                             .owner = &owner_b,
                             .cost_us = 5000};
        CHECK_RC(coord_queue_push(q, &b[i]), P2C2R_OK);
    }
    /* Turns of 10 ms: 10 of A's, then 2 of B's, over and over, each in its own order. */
    int na = 0, nb = 0;
    for (int round = 0; round < 10; round++) {
        for (int k = 0; k < 10; k++)
            CHECK(pop_next(q) == &a[na++]);
        for (int k = 0; k < 2; k++)
            CHECK(pop_next(q) == &b[nb++]);
    }
    CHECK(nb == NB);
    /* B has nothing left: A goes on alone. */
    while (na < NA)
        CHECK(pop_next(q) == &a[na++]);
    CHECK(coord_queue_size(q) == 0);

    /* A higher priority goes first whoever's turn it is. */
    coord_qitem low = {.deadline_us = 1, .seq = 1, .owner = &owner_a};
    coord_qitem high = {.priority = 1, .deadline_us = 9, .seq = 2, .owner = &owner_b};
    CHECK_RC(coord_queue_push(q, &low), P2C2R_OK);
    CHECK_RC(coord_queue_push(q, &high), P2C2R_OK);
    CHECK(pop_next(q) == &high);
    CHECK(pop_next(q) == &low);
    coord_queue_destroy(&q);
}

/* (7) Classes are served on their own; the work ahead of a newcomer counts higher
 * priorities whole and its own priority's turns. */
static void test_classes_and_work(void)
{
    int owner_a, owner_b, owner_c;
    coord_qitem x = {.cls = 3, .deadline_us = 5, .seq = 1, .owner = &owner_a, .cost_us = 2000};
    coord_qitem y = {.cls = 7, .deadline_us = 9, .seq = 2, .owner = &owner_a, .cost_us = 2000};
    coord_qitem hi = {
        .cls = 3, .priority = 2, .deadline_us = 9, .seq = 3, .owner = &owner_b, .cost_us = 4000};
    coord_qitem b1 = {.cls = 3, .deadline_us = 9, .seq = 4, .owner = &owner_b, .cost_us = 6000};
    coord_queue *q = coord_queue_new();
    CHECK(q != NULL);
    if (!q)
        return;
    CHECK(coord_queue_classes(q) == 0);
    CHECK_RC(coord_queue_push(q, &x), P2C2R_OK);
    CHECK_RC(coord_queue_push(q, &y), P2C2R_OK);
    CHECK(coord_queue_classes(q) == ((1ull << 3) | (1ull << 7)));
    CHECK(coord_queue_next(q, 3) == &x && coord_queue_next(q, 7) == &y);
    CHECK(coord_queue_next(q, 5) == NULL);
    CHECK_RC(coord_queue_push(q, &hi), P2C2R_OK);
    CHECK_RC(coord_queue_push(q, &b1), P2C2R_OK);
    /* Class 3, priority 0, owner a (2 ms queued) vs owner b (6 ms): a's newcomer waits for
     * the 4 ms above, its own 2 ms, and b's 6 ms, less than the 10 ms turns b may take
     * before a's (a's 2 ms and the unknown newcomer's 10 ms take two turns). */
    CHECK(coord_queue_work_ahead(q, 3, 0, &owner_a) == 4000 + 2000 + 6000);
    /* A new owner: everything queued at its priority is someone else's. */
    CHECK(coord_queue_work_ahead(q, 3, 0, &owner_c) == 4000 + 8000);
    CHECK(coord_queue_work_ahead(q, 3, 2, &owner_c) == 4000 + 0);
    CHECK(coord_queue_work_ahead(q, 7, 0, &owner_c) == 2000);
    coord_queue_remove(q, &y);
    CHECK(coord_queue_classes(q) == (1ull << 3));
    /* A flood from b (a second of work) counts one turn, 10 ms, against c's newcomer. */
    static coord_qitem flood[500];
    for (int i = 0; i < 500; i++) {
        flood[i] = (coord_qitem){.cls = 3,
                                 .deadline_us = 100,
                                 .seq = (uint64_t)(10 + i),
                                 .owner = &owner_b,
                                 .cost_us = 2000};
        CHECK_RC(coord_queue_push(q, &flood[i]), P2C2R_OK);
    }
    CHECK(coord_queue_work_ahead(q, 3, 0, &owner_c) == 4000 + 2 * 2 * COORD_QUEUE_QUANTUM_US);
    coord_queue_destroy(&q);
}

int main(void)
{
    test_random_against_reference();
    test_turns();
    test_classes_and_work();
    test_pop_expired();
    test_remove_middle();
    test_empty();
    test_destroy();
    return testutil_finish("queue_test");
}
