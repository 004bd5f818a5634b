/* task: the task kinds the cluster knows and the checks every hop applies to a request.
 *
 * The SDK runs these checks before sending (so a bad call fails at once), the coordinator
 * before admitting a task, and the peer before running it: a hostile or buggy sender is
 * refused with a precise error wherever it enters. Kinds get small indexes so the
 * coordinator can keep capability sets as bitmasks.
 */
#ifndef P2C2R_TASK_H
#define P2C2R_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"

enum p2c2r_kind {
    P2C2R_KIND_UPSCALE = 0, /* decode, upscale by an integer factor, encode */
    P2C2R_KIND_NOOP = 1,    /* echo the payload: measures the cluster itself */
    P2C2R_KIND_SLEEP = 2,   /* hold a slot for SleepParams.ms, then echo: tests scheduling */
    P2C2R_KIND_COUNT
};

#define P2C2R_SCALE_MAX        8u
#define P2C2R_JPEG_QUALITY_DEF 90u
/* Longest deadline a task may ask for (one hour). Deadlines travel as time left in a
 * uint64; bounding them keeps now + deadline from wrapping into the past, and a task that
 * never expires from holding memory forever. */
#define P2C2R_DEADLINE_MAX_US  (3600ull * 1000000u)
/* Most slots a peer may advertise: its load report (Envelope.load) lists every task it
 * runs and must fit in one envelope. */
#define P2C2R_PEER_MAX_SLOTS   256u
/* Longest a sleep task may ask to sleep. */
#define P2C2R_SLEEP_MAX_MS     60000u

/* Index of a kind name, or -1 when the cluster has no such kind. */
int p2c2r__task_kind_lookup(const char *name);
/* Name of a kind index. */
const char *p2c2r__task_kind_name(int kind);

/* Check the task fields of a SUBMIT or ASSIGN envelope whose payload is payload_size bytes.
 * On failure returns the error code and points *detail at a static explanation.
 * Input dimensions, when declared, must give an output within the image limits. */
int p2c2r__task_validate(const p2c2r_envelope *env, size_t payload_size, const char **detail);

#endif /* P2C2R_TASK_H */
