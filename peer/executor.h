/* executor: where an upscale runs, behind one const ops table, so that the upscale kind
 * never knows whether a thread pool or a GPU makes its frame.
 *
 * The kind decodes a task's parameters, checks them (mode, JPEG header, declared sizes,
 * output layout) and hands the executor of its slot a p2c2r_frame_request whose format and
 * size are known; the executor turns it into output bytes. Two executors exist:
 *   cpu   the thread-pool path of common/upscale: filter tables from the peer's plan
 *         cache, JPEG -> JPEG frames pipelined (row decoder, bands resampled and encoded on
 *         the pool as their source rows arrive), every other frame through
 *         p2c2r__frame_upscale() on the pool;
 *   cuda  (peer/cuda/executor.c, only in a build with CUDA) per slot one stream and
 *         buffers kept for the next frames; decode on the slot's thread, copy in, kernels,
 *         copy out, band encode on the pool. A frame its kernels refuse goes to the cpu
 *         executor's slot it keeps beside its own.
 *
 * An executor serves one device (the CPU, or one GPU): a peer with several GPUs has one
 * executor each and spreads its slots across them. Its slots are per worker thread and
 * never shared, so a slot needs no lock; the executor's device-wide state (the resident
 * tables) is thread-safe.
 */
#ifndef P2C2R_PEER_EXECUTOR_H
#define P2C2R_PEER_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/upscale/frame.h"
#include "common/upscale/upscale.h"

struct peer_resources;
typedef struct peer_executor peer_executor;

/* What an executor made of a request, beyond p2c2r_frame_output's bytes and times. */
typedef struct peer_exec_out {
    p2c2r_frame_output frame; /* the output bytes, layout, size; decode/compute/encode time */
    uint64_t copy_in_us;      /* host to device copy (0 on the CPU) */
    uint64_t copy_out_us;     /* device to host copy (0 on the CPU) */
    uint64_t tables_us;       /* building (and uploading) filter tables this frame needed
                                 first: 0 once they are resident */
    const char *runtime;      /* the executor that ran it: "cpu" or "cuda" */
} peer_exec_out;

typedef struct peer_executor_ops {
    const char *runtime; /* "cpu" or "cuda", as PeerInfo.runtime says */
    /* A slot's state for one worker thread of res (which outlives it). */
    int (*slot_new)(peer_executor *ex, const struct peer_resources *res, void **slot);
    /* Run one request. req->format, width and height are the input's (for JPEG, its
     * header's, already checked). Errors as p2c2r__frame_upscale() gives them, with
     * out->frame.detail set; on error out->frame.data is NULL. */
    int (*upscale)(void *slot, const p2c2r_frame_request *req, peer_exec_out *out);
    /* Undo slot_new. Accepts *slot NULL; sets it to NULL. */
    void (*slot_destroy)(void **slot);
    /* Names of the tables resident on the device, as p2c2r__upscale_cache_list(), and the
     * device memory they hold into *bytes; NULL when the device's tables are the peer's
     * plan cache (the CPU). Thread-safe. */
    size_t (*resident)(peer_executor *ex, char (*names)[P2C2R_UPSCALE_NAME_MAX], size_t max,
                       size_t *bytes);
    /* Free the device-wide state. No slot may be left. */
    void (*fini)(peer_executor *ex);
} peer_executor_ops;

/* One device's executor. */
struct peer_executor {
    const peer_executor_ops *ops; /* how it runs */
    void *device;                 /* its device-wide state (NULL for the CPU) */
    int ordinal;                  /* the device's index (CUDA), -1 for the CPU */
};

/* The CPU executor: its tables are the plan cache of the peer's resources. */
extern const peer_executor_ops peer_executor_cpu;

#endif /* P2C2R_PEER_EXECUTOR_H */
