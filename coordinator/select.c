/* select: see select.h.
 *
 * Each set is an unordered array of the peers with room; a peer records its index in each
 * set it is in, so leaving a set is a swap with the last entry. Drawing a peer is drawing
 * an index over the concatenation of a task's (one or two) sets.
 */
#include "coordinator/select.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/random.h"
#include "coordinator/peers.h"
#include "p2c2r_error.h"
#include "p2c2r_formats.h"

/* Peers drawn per decision. Two already spread load far better than one; four comes close
 * to the best of all, and the score has more than load to weigh. */
#define SELECT_DRAWS          4
/* Round trip assumed for a peer not measured yet: 1 ms scores it as a nearby peer. */
#define SELECT_UNKNOWN_RTT_US 1000u
#define SELECT_ABSENT         UINT32_MAX

const coord_select_weights coord_select_default_weights = {0.4, 0.3, 0.2, 0.1};

typedef struct sel_set {
    struct coord_peer **avail; /* peers with room, in no order */
    uint32_t navail;           /* entries in avail */
    uint32_t cap;              /* room in avail */
    uint32_t usable;           /* usable members */
    uint32_t proven;           /* usable members that are proven */
    uint64_t capacity;         /* allowances of the usable members, summed */
} sel_set;

struct coord_select {
    coord_select_weights w;       /* score weights */
    uint64_t rng;                 /* xorshift state for the draws */
    sel_set sets[COORD_SEL_SETS]; /* by set id */
};

static int set_id(int kind, int mode, int runtime_index)
{
    return (kind * COORD_SEL_MODES + mode) * COORD_SEL_RUNTIMES + runtime_index;
}

/* The sets a task uses: its kind and mode on the runtime it asks for, or on both. */
static int task_sets(int kind, int mode, int runtime, int ids[2])
{
    if (kind < 0 || kind >= COORD_SEL_KINDS || mode < 0 || mode >= COORD_SEL_MODES)
        return 0;
    int n = 0;
    if (runtime != P2C2R_RUNTIME_CUDA)
        ids[n++] = set_id(kind, mode, 0);
    if (runtime != P2C2R_RUNTIME_CPU)
        ids[n++] = set_id(kind, mode, 1);
    return n;
}

coord_select *coord_select_new(const coord_select_weights *weights, uint64_t seed)
{
    coord_select *sel = calloc(1, sizeof *sel);
    if (!sel)
        return NULL;
    sel->w = weights ? *weights : coord_select_default_weights;
    sel->rng = seed ? seed : p2c2r__random_id();
    return sel;
}

void coord_select_destroy(coord_select **sel)
{
    if (!sel || !*sel)
        return;
    for (int i = 0; i < COORD_SEL_SETS; i++)
        free((*sel)->sets[i].avail);
    free(*sel);
    *sel = NULL;
}

static uint64_t next_random(coord_select *sel)
{
    sel->rng ^= sel->rng << 13;
    sel->rng ^= sel->rng >> 7;
    sel->rng ^= sel->rng << 17;
    return sel->rng;
}

/* ---- membership --------------------------------------------------------------------- */

static int avail_add(sel_set *s, coord_peer *peer, uint32_t *pos)
{
    if (s->navail == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        coord_peer **grown = realloc(s->avail, cap * sizeof *grown);
        if (!grown)
            return P2C2R_E_NOMEM;
        s->avail = grown;
        s->cap = cap;
    }
    *pos = s->navail;
    s->avail[s->navail++] = peer;
    return P2C2R_OK;
}

/* Remove the peer at *pos; the last entry takes its place and its own index follows. */
static void avail_remove(sel_set *s, int set, uint32_t *pos)
{
    uint32_t i = *pos, last = --s->navail;
    if (i != last) {
        coord_peer *moved = s->avail[last];
        s->avail[i] = moved;
        for (uint8_t k = 0; k < moved->place.n; k++)
            if (moved->place.set[k] == set)
                moved->place.pos[k] = i;
    }
    *pos = SELECT_ABSENT;
}

/* Take the peer out of every set's figures and arrays, keeping its list of sets. */
static void withdraw(coord_select *sel, coord_peer *peer)
{
    coord_sel_place *pl = &peer->place;
    for (uint8_t k = 0; k < pl->n; k++) {
        sel_set *s = &sel->sets[pl->set[k]];
        if (pl->pos[k] != SELECT_ABSENT)
            avail_remove(s, pl->set[k], &pl->pos[k]);
        if (pl->usable) {
            s->usable--;
            s->proven -= pl->proven;
            s->capacity -= pl->allowance;
        }
    }
    pl->usable = false;
    pl->proven = false;
    pl->allowance = 0;
}

void coord_select_leave(coord_select *sel, coord_peer *peer)
{
    withdraw(sel, peer);
    peer->place.n = 0;
    peer->place.joined = false;
}

int coord_select_join(coord_select *sel, coord_peer *peer)
{
    coord_select_leave(sel, peer);
    coord_sel_place *pl = &peer->place;
    int rt = peer->runtime == P2C2R_RUNTIME_CUDA ? 1 : 0;
    for (int kind = 0; kind < COORD_SEL_KINDS; kind++) {
        if (!(peer->kinds & (1u << kind)))
            continue;
        /* Kinds with modes (upscale) are served per mode; the others have mode 0. */
        uint32_t modes = kind == 0 ? peer->modes & 0x1e : 1u;
        for (int mode = 0; mode < COORD_SEL_MODES; mode++) {
            if (!(modes & (1u << mode)) || pl->n == COORD_SEL_MAX_MEMBERSHIP)
                continue;
            pl->set[pl->n] = (uint8_t)set_id(kind, mode, rt);
            pl->pos[pl->n] = SELECT_ABSENT;
            pl->n++;
        }
    }
    pl->joined = true;
    return P2C2R_OK;
}

void coord_select_update(coord_select *sel, coord_peer *peer, uint32_t room, uint32_t allowance,
                         bool usable, bool proven)
{
    coord_sel_place *pl = &peer->place;
    if (!pl->joined)
        return;
    proven = usable && proven;
    allowance = usable ? allowance : 0;
    bool want = usable && room > 0;
    /* Most updates (a task assigned or answered while slots stay free) change nothing
     * here: the peer's first set stands for all of them. */
    if (pl->usable == usable && pl->proven == proven && pl->allowance == allowance &&
        (pl->n == 0 || (pl->pos[0] != SELECT_ABSENT) == want))
        return;
    for (uint8_t k = 0; k < pl->n; k++) {
        sel_set *s = &sel->sets[pl->set[k]];
        if (pl->usable) {
            s->usable--;
            s->proven -= pl->proven;
            s->capacity -= pl->allowance;
        }
        if (usable) {
            s->usable++;
            s->proven += proven;
            s->capacity += allowance;
        }
        bool in = pl->pos[k] != SELECT_ABSENT;
        if (in && !want)
            avail_remove(s, pl->set[k], &pl->pos[k]);
        else if (!in && want && avail_add(s, peer, &pl->pos[k]) != P2C2R_OK)
            pl->pos[k] = SELECT_ABSENT; /* out of memory: not offered, which is safe */
    }
    pl->usable = usable;
    pl->proven = proven;
    pl->allowance = allowance;
}

/* ---- score -------------------------------------------------------------------------- */

static bool avoided(const coord_select_task *t, uint64_t serial)
{
    for (size_t i = 0; i < t->navoid; i++)
        if (t->avoid[i] == serial)
            return true;
    return false;
}

static bool fits(const coord_peer *p, const coord_select_task *t)
{
    return !t->memory_bytes || p->memory_free >= t->memory_bytes;
}

/* The peer's own smoothed service time for the task's class, or 0. */
static uint64_t peer_mean(const coord_peer *p, uint64_t cls)
{
    for (int i = 0; i < COORD_PEER_HIST; i++)
        if (p->hist[i].uses && p->hist[i].cls == cls)
            return p->hist[i].mean_us;
    return 0;
}

static bool holds_plan(const coord_peer *p, uint64_t hash)
{
    for (uint32_t i = 0; hash && i < p->nresident; i++)
        if (p->resident[i] == hash)
            return true;
    return false;
}

void coord_select_terms(const coord_peer *p, double *success, double *load, double *rtt)
{
    /* success (half of history): with one success and one failure assumed before the
     * first answer, a new peer is neither trusted nor condemned. */
    *success = (double)(p->health.good + 1) / (double)(p->health.good + p->health.bad + 2);

    /* load: the share of the slots it may hold that are busy. A peer at half its slots
     * finishes a new task sooner, and keeps room for a burst. */
    uint32_t busy = p->inflight + p->nzombies + p->foreign;
    *load = p->place.allowance ? fmin(1.0, (double)busy / p->place.allowance) : 1.0;

    /* rtt: the payload travels there and back. 1 / (ms + 1) is 1 on the same machine and
     * falls off quickly for distant peers, which matters for small, fast tasks. */
    uint64_t rtt_us = p->rtt_us ? p->rtt_us : SELECT_UNKNOWN_RTT_US;
    *rtt = 1.0 / ((double)rtt_us / 1000.0 + 1.0);
}

double coord_select_score(const coord_select *sel, const coord_peer *p, const coord_select_task *t,
                          bool *meets)
{
    /* history: what this peer has shown. Its success rate, and its speed on this class
     * relative to the cluster's mean, capped at 1 (being faster than average earns the
     * full term; being slower costs in proportion). With no figure for speed, the neutral
     * half. */
    double success, load, rtt;
    coord_select_terms(p, &success, &load, &rtt);
    uint64_t own = peer_mean(p, t->cls);
    double speed = 0.5;
    if (own && t->cluster_mean_us)
        speed = fmin(1.0, (double)t->cluster_mean_us / (double)own);
    double history = 0.5 * success + 0.5 * speed;
    uint64_t rtt_us = p->rtt_us ? p->rtt_us : SELECT_UNKNOWN_RTT_US;

    /* affinity: its filter tables for this task are resident (no build on first use), or
     * it ran this class of task recently (warm caches, known speed). */
    double affinity = holds_plan(p, t->plan_hash) || own ? 1.0 : 0.0;

    /* Expected finish: it has room, so the task starts now and takes its service time. */
    uint64_t service = own ? own : t->cluster_mean_us;
    *meets = !t->deadline_us || t->now_us + service + rtt_us <= t->deadline_us;
    return sel->w.history * history + sel->w.load * (1.0 - load) + sel->w.rtt * rtt +
           sel->w.affinity * affinity;
}

/* Whether a is better than b (which may be NULL) for the task; a's score is sa. */
static bool better(const coord_select *sel, const coord_select_task *t, coord_peer *a,
                   double *best_score, bool *best_meets)
{
    bool meets;
    double s = coord_select_score(sel, a, t, &meets);
    /* Meeting the deadline comes before any score. */
    if (meets != *best_meets ? meets : s > *best_score) {
        *best_score = s;
        *best_meets = meets;
        return true;
    }
    return false;
}

/* ---- choice ------------------------------------------------------------------------- */

/* The rare path, for a task that failed before: every peer with room is looked at. It
 * avoids the peers that failed it while another usable peer can run it, and waits for a
 * proven peer when one can. */
static coord_peer *pick_by_scan(coord_select *sel, const coord_select_task *t, const int *ids,
                                int nsets)
{
    coord_peer *best = NULL, *best_proven = NULL, *best_avoided = NULL;
    double s_best = -1, s_proven = -1, s_avoided = -1;
    bool m_best = false, m_proven = false, m_avoided = false;
    uint32_t usable = 0, proven_usable = 0;
    for (int k = 0; k < nsets; k++) {
        sel_set *s = &sel->sets[ids[k]];
        usable += s->usable;
        proven_usable += s->proven;
        for (uint32_t i = 0; i < s->navail; i++) {
            coord_peer *p = s->avail[i];
            if (!fits(p, t))
                continue;
            if (avoided(t, p->serial)) {
                if (better(sel, t, p, &s_avoided, &m_avoided))
                    best_avoided = p;
                continue;
            }
            if (better(sel, t, p, &s_best, &m_best))
                best = p;
            if (p->place.proven && better(sel, t, p, &s_proven, &m_proven))
                best_proven = p;
        }
    }
    if (t->navoid && proven_usable > t->avoided_proven)
        return best_proven; /* NULL: it waits for a proven peer to have room */
    if (best)
        return best;
    return t->avoid_strict || usable > t->avoided_usable ? NULL : best_avoided;
}

coord_peer *coord_select_pick(coord_select *sel, const coord_select_task *t)
{
    int ids[2];
    int nsets = task_sets(t->kind, t->mode, t->runtime, ids);
    uint32_t total = 0;
    for (int k = 0; k < nsets; k++)
        total += sel->sets[ids[k]].navail;
    if (!total)
        return NULL;
    if (t->navoid)
        return pick_by_scan(sel, t, ids, nsets);
    coord_peer *best = NULL;
    double best_score = -1;
    bool best_meets = false;
    int draws = SELECT_DRAWS < total ? SELECT_DRAWS : (int)total;
    coord_peer *drawn[SELECT_DRAWS];
    for (int d = 0; d < draws; d++) {
        uint32_t r = (uint32_t)(next_random(sel) % total);
        int k = 0;
        while (r >= sel->sets[ids[k]].navail)
            r -= sel->sets[ids[k++]].navail;
        drawn[d] = sel->sets[ids[k]].avail[r];
        /* With thousands of peers their records are not in cache: ask for all the draws'
         * score fields at once rather than wait for each in turn. */
        for (size_t off = 0; off < offsetof(coord_peer, resident); off += 64)
            __builtin_prefetch((const char *)drawn[d] + off);
    }
    for (int d = 0; d < draws; d++)
        if (fits(drawn[d], t) && better(sel, t, drawn[d], &best_score, &best_meets))
            best = drawn[d];
    if (!best && t->memory_bytes)
        return pick_by_scan(sel, t, ids, nsets); /* the draws did not fit: look at all */
    return best;
}

uint64_t coord_select_capacity(const coord_select *sel, int kind, int mode, int runtime)
{
    int ids[2];
    int n = task_sets(kind, mode, runtime, ids);
    uint64_t total = 0;
    for (int k = 0; k < n; k++)
        total += sel->sets[ids[k]].capacity;
    return total;
}

uint32_t coord_select_usable(const coord_select *sel, int kind, int mode, int runtime)
{
    int ids[2];
    int n = task_sets(kind, mode, runtime, ids);
    uint32_t total = 0;
    for (int k = 0; k < n; k++)
        total += sel->sets[ids[k]].usable;
    return total;
}

uint32_t coord_select_available(const coord_select *sel, int kind, int mode, int runtime)
{
    int ids[2];
    int n = task_sets(kind, mode, runtime, ids);
    uint32_t total = 0;
    for (int k = 0; k < n; k++)
        total += sel->sets[ids[k]].navail;
    return total;
}

bool coord_select_serves(const coord_peer *peer, int kind, int mode, int runtime)
{
    int ids[2];
    int n = task_sets(kind, mode, runtime, ids);
    if (!peer->place.usable)
        return false;
    for (uint8_t i = 0; i < peer->place.n; i++)
        for (int k = 0; k < n; k++)
            if (peer->place.set[i] == ids[k])
                return true;
    return false;
}
