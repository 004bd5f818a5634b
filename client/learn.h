/* learn: the latencies the client observes, per class of task, and the deadlines and
 * predictions it draws from them.
 *
 * A class is a task kind with what decides its cost: for an upscale the mode, the scale,
 * the input and output codecs and the input size; for noop and sleep the sleep time and the
 * payload size rounded up to a power of two. Each class keeps its last 128 cluster
 * latencies (submit to answer, late answers included) and its last 128 local fallback run
 * times, so figures follow a cluster that changes. The table holds 64 classes, the least
 * recently used out first: a game has a few frame sizes, not hundreds.
 *
 * The deadline of a task submitted without one (deadline_ms 0):
 *   - fewer than 8 cluster answers: the kind's seed (100 ms for every kind so far: the
 *     design's "100 ms at worst" for a frame), or twice the slowest answer seen if that is
 *     more;
 *   - then max(1.5 x p99, p99 + 2 ms);
 *   - times a backoff that doubles (up to 64x) whenever a task under a learnt deadline ends
 *     with DEADLINE, and halves with each answer in time: a coordinator that refuses tasks
 *     it cannot finish in time (so no answer is ever observed) still lets the deadline grow
 *     to what the cluster needs;
 *   - never more than 60 s.
 * The fallback's prediction of a local run is 1.25 x its p99 + 1 ms once one run was seen,
 * before that a generous figure per output pixel (see learn.c).
 *
 * Written by the I/O thread, read by any thread through the public API: a mutex guards the
 * table, held only to copy a few numbers.
 */
#ifndef P2C2R_CLIENT_LEARN_H
#define P2C2R_CLIENT_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2c2r.h"

#define SDK_LEARN_WINDOW      128u
#define SDK_LEARN_CLASSES     64u
#define SDK_LEARN_MIN_SAMPLES 8u

/* What makes two tasks the same class. Compared field by field: zero it before filling. */
typedef struct sdk_class_key {
    uint8_t kind;           /* P2C2R_KIND_* */
    uint8_t mode;           /* upscale mode */
    uint8_t codec;          /* upscale input codec */
    uint8_t output_codec;   /* upscale output codec */
    uint32_t scale;         /* upscale factor */
    uint32_t width, height; /* upscale input size */
    uint32_t sleep_ms;      /* sleep time */
    uint64_t payload_bytes; /* noop/sleep: payload size rounded up to a power of two */
} sdk_class_key;

/* What the client expects of one class. */
typedef struct sdk_estimate {
    uint32_t samples;     /* cluster answers in the window */
    uint64_t p90_us;      /* their 90th percentile (0 without samples) */
    uint64_t p99_us;      /* their 99th percentile (0 without samples) */
    uint64_t local_us;    /* predicted local run, see above */
    uint64_t deadline_us; /* deadline for a task without one */
} sdk_estimate;

typedef struct sdk_learn sdk_learn;

sdk_learn *sdk_learn_new(void);
/* Accepts NULL; sets *learn to NULL. */
void sdk_learn_destroy(sdk_learn **learn);

/* One cluster answer (local false) or local run (local true) of this class took us. An
 * answer in time (in_time) also halves the class's deadline backoff. */
void sdk_learn_add(sdk_learn *learn, const sdk_class_key *key, bool local, uint64_t us,
                   bool in_time);
/* A task of this class under a learnt deadline ended with DEADLINE: back off. */
void sdk_learn_missed(sdk_learn *learn, const sdk_class_key *key);
/* The estimate for a class (a class never seen gets the seeds). */
void sdk_learn_estimate(sdk_learn *learn, const sdk_class_key *key, sdk_estimate *out);

/* The public figures of a class (seen or not), and of all classes. */
void sdk_learn_get(sdk_learn *learn, const sdk_class_key *key, p2c2r_latency *out);
size_t sdk_learn_list(sdk_learn *learn, p2c2r_latency *out, size_t max);

/* The key of an upscale as described (width, height as given) or of a noop/sleep task. */
void sdk_class_upscale(const p2c2r_upscale_desc *desc, sdk_class_key *key);
void sdk_class_other(int kind, uint32_t sleep_ms, size_t payload_bytes, sdk_class_key *key);

#endif /* P2C2R_CLIENT_LEARN_H */
