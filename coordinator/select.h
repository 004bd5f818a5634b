/* select: which peer runs a task, decided in constant time among thousands of peers.
 *
 * Capability classes. A peer runs some task kinds, for upscale some modes, on one runtime
 * (CPU or CUDA). Every (kind, mode, runtime) it can serve is a set; a task's kind, mode
 * and runtime need name one set (or two, for "any runtime"), so matching is done before
 * anything is scored. Each set keeps an array of the peers that have room now, updated in
 * O(1) whenever a peer's room changes (a task assigned or answered, a breaker opening),
 * and the sums selection and admission need (usable peers, slots they may hold).
 *
 * Choice. A task's peer is the best-scoring of a few peers drawn at random from its sets'
 * available arrays ("power of d choices": with d = 4 the load is spread almost as evenly
 * as by scanning every peer, at a cost that does not grow with the cluster). The score
 * is the design's formula, with configurable weights:
 *   w_h * history + w_l * (1 - load) + w_r * 1 / (rtt_ms + 1) + w_a * affinity
 * and a peer whose expected finish (its service time for the task's class, or the
 * cluster's, plus its round trip) misses the task's deadline loses to any that meets it.
 * Memory needs are a filter on the draws. Why each term is what it is: see score() in
 * select.c.
 *
 * A task that already failed somewhere is placed by scanning its sets instead (the rare
 * path): it avoids the peers that failed it while another usable peer can run it, and
 * waits for a proven peer (good answers, no failure since) when one exists.
 *
 * Not thread-safe: the coordinator's loop owns it.
 */
#ifndef P2C2R_COORD_SELECT_H
#define P2C2R_COORD_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets: kinds x (mode 0 for kinds without modes, 1..4 for upscale) x runtime (cpu, cuda). */
#define COORD_SEL_KINDS          4
#define COORD_SEL_MODES          5
#define COORD_SEL_RUNTIMES       2
#define COORD_SEL_SETS           (COORD_SEL_KINDS * COORD_SEL_MODES * COORD_SEL_RUNTIMES)
/* Sets one peer can be in: every kind, with every mode for upscale, on its one runtime. */
#define COORD_SEL_MAX_MEMBERSHIP (COORD_SEL_KINDS * COORD_SEL_MODES)

struct coord_peer;

/* Where a peer stands in the selection index; inside each peer record, kept by select.c. */
typedef struct coord_sel_place {
    uint8_t n;                              /* sets the peer belongs to */
    uint8_t set[COORD_SEL_MAX_MEMBERSHIP];  /* their ids */
    uint32_t pos[COORD_SEL_MAX_MEMBERSHIP]; /* index in each set's available array, or
                                               UINT32_MAX when it has no room */
    uint32_t allowance;                     /* slots counted in the sets' capacity */
    bool usable;                            /* counted among the sets' usable peers */
    bool proven;                            /* counted among their proven peers */
    bool joined;                            /* in the index at all */
} coord_sel_place;

/* The score's weights (the design's seed: 0.4, 0.3, 0.2, 0.1). */
typedef struct coord_select_weights {
    double history;  /* success rate and speed on this kind of task */
    double load;     /* 1 - the share of its slots in use */
    double rtt;      /* 1 / (round trip in ms + 1) */
    double affinity; /* its tables are resident, or it ran this class of task recently */
} coord_select_weights;

extern const coord_select_weights coord_select_default_weights;

/* What a task asks of its peer. */
typedef struct coord_select_task {
    int kind;                 /* common/task.h kind index */
    int mode;                 /* upscale mode 1..4, else 0 */
    int runtime;              /* p2c2r_runtime: ANY, CPU or CUDA */
    uint64_t memory_bytes;    /* memory it needs on the peer (0: not stated) */
    uint64_t now_us;          /* coordinator clock */
    uint64_t deadline_us;     /* absolute */
    uint64_t cls;             /* estimate class (estimate.h) */
    uint64_t cluster_mean_us; /* the cluster's service time for cls (0: unknown) */
    uint64_t plan_hash;       /* hash of the filter table it needs (0: none) */
    const uint64_t *avoid;    /* serials of the peers that failed it */
    size_t navoid;            /* entries in avoid */
    uint32_t avoided_usable;  /* of them, usable peers in the task's sets */
    uint32_t avoided_proven;  /* of those, proven ones */
} coord_select_task;

typedef struct coord_select coord_select;

/* NULL when out of memory. seed makes the random draws repeatable (0: any). */
coord_select *coord_select_new(const coord_select_weights *weights, uint64_t seed);
/* Accepts NULL; sets *sel to NULL. */
void coord_select_destroy(coord_select **sel);

/* Put a peer in the sets its capabilities (kinds, modes, runtime) name, with no room yet;
 * call again after they change. P2C2R_E_NOMEM leaves it out of every set. */
int coord_select_join(coord_select *sel, struct coord_peer *peer);
/* Take a peer out of every set (it is going away). */
void coord_select_leave(coord_select *sel, struct coord_peer *peer);
/* The peer's room (tasks it may take now), allowance (slots it may hold), usability
 * (breaker not open) or provenness (good answers, no failure since) changed. O(sets it is
 * in). */
void coord_select_update(coord_select *sel, struct coord_peer *peer, uint32_t room,
                         uint32_t allowance, bool usable, bool proven);

/* The peer to run the task now, or NULL when none of its sets has a fitting peer with room. */
struct coord_peer *coord_select_pick(coord_select *sel, const coord_select_task *task);

/* Slots the usable peers that can run such a task may hold at once, all together. */
uint64_t coord_select_capacity(const coord_select *sel, int kind, int mode, int runtime);
/* Usable peers that can run such a task. */
uint32_t coord_select_usable(const coord_select *sel, int kind, int mode, int runtime);
/* Whether peer is a usable member of a set such a task uses. */
bool coord_select_serves(const struct coord_peer *peer, int kind, int mode, int runtime);
/* Peers with room now for such a task. */
uint32_t coord_select_available(const coord_select *sel, int kind, int mode, int runtime);

/* The terms of a peer's score that do not depend on the task, each in 0..1: its success
 * rate (half of the history term), its load, and its round-trip term. */
void coord_select_terms(const struct coord_peer *peer, double *success, double *load, double *rtt);

/* The score of peer for task, as pick() computes it (for tests and logs); *meets says
 * whether its expected finish meets the deadline. */
double coord_select_score(const coord_select *sel, const struct coord_peer *peer,
                          const coord_select_task *task, bool *meets);

#endif /* P2C2R_COORD_SELECT_H */
