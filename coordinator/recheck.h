/* recheck: catching peers that return well-formed wrong results, by running a sample of
 * tasks a second time on another peer and comparing the outputs.
 *
 * verify.h checks a result's shape; a hostile or broken peer can still return a valid
 * JPEG of the right size with the wrong pixels. So a fraction of the tasks a peer answered
 * (--recheck-rate) is run again on a peer of another identity (reputation.h), never the
 * same one, and the two outputs are compared:
 * - Same runtime and same CPU instruction set: the bytes must be equal. The peer's
 *   kernels are deterministic per runtime, and the encoders give the same bytes for the
 *   same pixels and settings (jpegband.h: whatever the number of threads; zstd at a fixed
 *   level), so any difference is a wrong answer. Comparing bytes costs a memcmp, where
 *   comparing pixels would cost the coordinator's one thread two decodes per check.
 * - Otherwise (CPU against CUDA, or CPU kernels built for different instruction sets):
 *   equal bytes still agree; different bytes are decoded and agree when the PSNR over
 *   all planes is at least RECHECK_MIN_PSNR_DB. Kernels of different runtimes are held to
 *   their CPU twins within a level or two (DESIGN.md); a level off on one luma sample in
 *   seven still scores 53.8 dB after JPEG coding, while a picture changed where a player
 *   would see it (half of it brightened by 40) scores 22 dB (recheck_test).
 * When the two disagree a third peer, of an identity different from both, decides: the
 * one outvoted two to one loses reputation, the two that agree gain it. With no third
 * peer to be had, or three different answers, nobody is charged (undecided).
 *
 * The client is not kept waiting: it gets the first answer at once, and the check runs
 * afterwards as a task of its own that nobody waits for. A check therefore never makes a
 * frame late, and every task still ends exactly once (a recheck's answers never go to a
 * client). The price is that a wrong frame reaches its client before the peer that made
 * it is caught; what the check buys is that such a peer is caught and quarantined after a
 * few wrong answers, and that a wrong result it left in the result cache is replaced by
 * the majority's. Rechecks queue below every client task (task.h), hold references to
 * the input and outputs rather than copies, and at most RECHECK_MAX_PENDING are open at
 * once (a sampled task beyond that goes unchecked and is counted as skipped).
 *
 * Not thread-safe: the coordinator's loop owns it.
 */
#ifndef P2C2R_COORD_RECHECK_H
#define P2C2R_COORD_RECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "common/image.h"
#include "coordinator/reputation.h"

/* The default share of tasks checked again: one in twenty costs about 5% more peer
 * work and catches a peer that is always wrong within about forty of its tasks. */
#define RECHECK_DEFAULT_RATE 0.05
/* Outputs of different runtimes agree at this PSNR or above (all planes together). */
#define RECHECK_MIN_PSNR_DB  40.0
/* Rechecks open at once, at most. */
#define RECHECK_MAX_PENDING  64u
/* How long a recheck may wait for a peer and run: it is no frame, and waits behind every
 * client's task. */
#define RECHECK_DEADLINE_US  (5ull * 1000000u)

/* What an output is: its codec and pixels (the wire's Frame numbers). */
typedef struct coord_output_desc {
    uint32_t codec;        /* P2C2R_CODEC_* */
    uint32_t pixel_format; /* p2c2r_pixel_format */
    uint32_t width, height;
} coord_output_desc;

/* One peer's answer to a task. */
typedef struct coord_recheck_answer {
    const char *identity;    /* the peer's identity (reputation.h) */
    int runtime;             /* P2C2R_RUNTIME_CPU or _CUDA */
    const char *simd;        /* its CPU kernels' instruction set ("" when unknown) */
    const zmq_msg_t *output; /* its output bytes */
} coord_recheck_answer;

typedef enum coord_recheck_outcome {
    COORD_RECHECK_AGREED,    /* the second answer agreed with the first */
    COORD_RECHECK_THIRD,     /* they disagree: a third peer must decide */
    COORD_RECHECK_DECIDED,   /* the third sided with one of them */
    COORD_RECHECK_UNDECIDED, /* three different answers */
} coord_recheck_outcome;

typedef struct coord_recheck_verdict {
    coord_recheck_outcome outcome;
    bool first_outvoted;       /* DECIDED: the first answer, the one its client got, lost */
    const char *outvoted;      /* DECIDED: the identity outvoted (valid while the job is) */
    const zmq_msg_t *majority; /* DECIDED: an output of the majority (valid while the job and
                                  the answer given to coord_recheck_add() are) */
    bool quarantined;          /* DECIDED: this verdict quarantined the outvoted identity */
} coord_recheck_verdict;

/* Counters since the start. */
typedef struct coord_recheck_stats {
    uint64_t sampled;    /* tasks whose result is being or was checked again */
    uint64_t skipped;    /* drawn but not checked: no other peer, or RECHECK_MAX_PENDING open */
    uint64_t agreed;     /* second answers equal to the first */
    uint64_t disagreed;  /* second answers that differed: a third peer was asked */
    uint64_t overturned; /* the first answer was outvoted (its client had a wrong frame) */
    uint64_t upheld;     /* the second answer was outvoted */
    uint64_t undecided;  /* disagreements no third peer settled */
    uint64_t abandoned;  /* checks that ended with no verdict (no peer in time, shutdown) */
} coord_recheck_stats;

typedef struct coord_recheck coord_recheck;
typedef struct coord_recheck_job coord_recheck_job;

/* rate: share of tasks to check, 0..1 (0: none). rep: where verdicts are recorded, used,
 * not owned. seed: for the draws (0: any). NULL when out of memory. */
coord_recheck *coord_recheck_new(double rate, coord_reputation *rep, uint64_t seed);
/* Every job must have ended. Accepts NULL; sets *rc to NULL. */
void coord_recheck_destroy(coord_recheck **rc);

/* Whether to check a task just answered: a draw at the configured rate. */
bool coord_recheck_draw(coord_recheck *rc);
/* A task drawn that cannot be checked: no other peer could run it now. */
void coord_recheck_skip(coord_recheck *rc);
/* Open a check of a task whose output desc came from first (its output is referenced, not
 * copied). NULL when RECHECK_MAX_PENDING are open (counted as skipped) or out of memory. */
coord_recheck_job *coord_recheck_start(coord_recheck *rc, const coord_output_desc *desc,
                                       const coord_recheck_answer *first);
/* Whether identity has already answered in this check (it may not answer again). */
bool coord_recheck_answered(const coord_recheck_job *job, const char *identity);
/* Another peer's answer (its identity not yet in the job): compares it, records the
 * reputations a verdict settles, and says what follows. */
void coord_recheck_add(coord_recheck *rc, coord_recheck_job *job, const coord_recheck_answer *a,
                       coord_recheck_verdict *verdict);
/* A THIRD outcome that no third peer will settle. */
void coord_recheck_unsettled(coord_recheck *rc, coord_recheck_job *job);
/* End a check: after its verdict, or abandoned without one. Sets *job to NULL. */
void coord_recheck_end(coord_recheck *rc, coord_recheck_job **job, bool abandoned);

void coord_recheck_stats_get(const coord_recheck *rc, coord_recheck_stats *stats);

/* Whether two outputs of desc agree by the rules above. *psnr_db: their PSNR when they
 * were decoded (INFINITY when equal bytes, 0 when not compared or undecodable). jpeg: a
 * TurboJPEG handle for decoding. */
bool coord_recheck_same(p2c2r_jpeg *jpeg, const coord_output_desc *desc,
                        const coord_recheck_answer *a, const coord_recheck_answer *b,
                        double *psnr_db);

#endif /* P2C2R_COORD_RECHECK_H */
