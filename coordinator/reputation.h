/* reputation: what the coordinator has learnt about each peer identity from rechecks
 * (recheck.h), and which identities it no longer uses.
 *
 * A peer's identity is the ZAP User-Id of its connection when it has one (with CurveZMQ,
 * its public key) and otherwise the name it declares. Records are keyed by identity, not
 * by connection or peer record, so a peer that reconnects, or a process that comes back
 * with the same key (or name), keeps its history.
 *
 * The rule. Every identity starts at score 0. A recheck in which it sided with the
 * majority (or agreed with the other peer) adds REPUTATION_AGREE, up to REPUTATION_CAP;
 * one in which it was outvoted (the minority of three) subtracts REPUTATION_DISAGREE.
 * An identity whose score falls below REPUTATION_FLOOR is quarantined for the
 * coordinator's life: no task goes to it again, whatever it says or however often it
 * reconnects. With the values below a new peer is quarantined by its second wrong answer
 * that a recheck catches (0 -> -4 -> -8), one with the full credit of 8 by its fourth in a
 * row (8 -> 4 -> 0 -> -4 -> -8), and a peer wrong in more than one check in five drifts
 * there; an honest peer, whose kernels give the same output as every other honest peer's,
 * is never outvoted and never loses anything. The cap keeps a peer from banking credit
 * for a later run of wrong answers.
 *
 * Not thread-safe: the coordinator's loop owns it.
 */
#ifndef P2C2R_COORD_REPUTATION_H
#define P2C2R_COORD_REPUTATION_H

#include <stdbool.h>
#include <stdint.h>

#define REPUTATION_AGREE        1
#define REPUTATION_DISAGREE     4
#define REPUTATION_CAP          8
#define REPUTATION_FLOOR        (-4)
/* Identities remembered at most; past that new ones go unrecorded (and are not
 * quarantined), which costs a stranger real work per identity. */
#define REPUTATION_MAX_RECORDS  100000u
/* Longest identity kept ("key:" or "name:" and the rest). */
#define REPUTATION_IDENTITY_MAX 128

/* One identity's record. */
typedef struct coord_rep_record {
    int32_t score;          /* see the rule above */
    uint64_t agreements;    /* rechecks it agreed with or sided with the majority */
    uint64_t disagreements; /* rechecks in which it was outvoted */
    bool quarantined;       /* no longer used */
} coord_rep_record;

typedef struct coord_reputation coord_reputation;

/* NULL when out of memory. */
coord_reputation *coord_reputation_new(void);
/* Accepts NULL; sets *rep to NULL. */
void coord_reputation_destroy(coord_reputation **rep);

/* Record one recheck's verdict on identity: it agreed (or was in the majority), or it was
 * outvoted. Returns true when this verdict quarantined it. */
bool coord_reputation_record(coord_reputation *rep, const char *identity, bool agreed);

/* Whether identity is quarantined. */
bool coord_reputation_quarantined(const coord_reputation *rep, const char *identity);

/* The record of identity, or NULL when it has none. */
const coord_rep_record *coord_reputation_get(const coord_reputation *rep, const char *identity);

/* Identities quarantined so far. */
uint64_t coord_reputation_quarantines(const coord_reputation *rep);

#endif /* P2C2R_COORD_REPUTATION_H */
