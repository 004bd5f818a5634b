/* kind: the table of task kinds a peer runs.
 *
 * Each kind is a const ops table; the worker dispatches through it and never switches on
 * the kind, so adding a kind means one new file and one line in kinds.c. A kind's state
 * (codec handles, its slot of an executor) is created once per worker thread by init()
 * and reused for every task, so nothing heavy happens per frame. Where a kind's work runs
 * (CPU thread pool or GPU) is the executor's business (executor.h), not the kind's: a
 * kind has one run function.
 */
#ifndef P2C2R_PEER_KIND_H
#define P2C2R_PEER_KIND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "common/envelope.h"
#include "peer/resources.h"

/* What a kind gets: the ASSIGN envelope and its payload. */
typedef struct peer_task_in {
    const p2c2r_envelope *env;    /* the ASSIGN */
    const uint8_t *payload;       /* frame 2 (may be NULL when size is 0) */
    size_t payload_size;          /* bytes at payload */
    const atomic_bool *cancelled; /* raised when the coordinator gives the task up; a kind that
                                     can stop part-way watches it (NULL: never raised) */
} peer_task_in;

/* What a kind produces. On success data/size/free_fn hold the output payload (or
 * echo_input asks to send the input payload back unchanged), and frame describes it. */
typedef struct peer_task_out {
    void *data;               /* output bytes, released with free_fn once sent */
    size_t size;              /* bytes at data */
    zmq_free_fn *free_fn;     /* how to free data */
    int echo_input;           /* send the input payload back as the output */
    P2c2r__Wire__Frame frame; /* describes the output */
    uint64_t decode_us;       /* time spent decoding input */
    uint64_t compute_us;      /* time spent on the task itself */
    uint64_t encode_us;       /* time spent encoding output */
    uint64_t copy_in_us;      /* time copying the input to a device (GPU) */
    uint64_t copy_out_us;     /* time copying the output back from it */
    uint64_t tables_us;       /* time building tables the task needed first (0 when resident) */
    const char *runtime;      /* the executor that ran it ("cpu", "cuda"; NULL: none) */
    const char *detail;       /* on error: a static explanation */
} peer_task_out;

typedef struct peer_kind_ops {
    const char *name; /* wire name, as in common/task.h */
    /* per worker thread (slot, 0-based); NULL if stateless. res outlives the state. */
    int (*init)(void **state, const peer_resources *res, uint32_t slot);
    int (*run)(void *state, const peer_task_in *in, peer_task_out *out);
    void (*fini)(void **state); /* undoes init; NULL if stateless */
    /* Stateless, never blocks and takes microseconds: it runs on the peer's network thread
     * as the ASSIGN arrives, because handing it to a worker thread and its answer back
     * would cost more than the task itself. */
    bool runs_inline;
} peer_kind_ops;

extern const peer_kind_ops peer_kind_upscale;
extern const peer_kind_ops peer_kind_noop;
extern const peer_kind_ops peer_kind_sleep;

/* All kinds this peer runs, in common/task.h index order where the name matches. */
extern const peer_kind_ops *const peer_kinds[];
extern const size_t peer_kinds_count;

/* Index in peer_kinds of a wire kind name, or -1. */
int peer_kind_index(const char *name);

#endif /* P2C2R_PEER_KIND_H */
