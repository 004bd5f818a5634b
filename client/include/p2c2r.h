/* p2c2r.h: the public C API of libp2c2r, the P2C2R client SDK.
 *
 * A game creates one client per coordinator, submits frames without ever waiting on the
 * network, and takes results from poll() or a callback. Every submitted task ends exactly
 * once: with its output (from the cluster, or from the SDK's own CPU when the local
 * fallback is on) or with an error (P2C2R_E_DEADLINE when nothing could make it in time).
 *
 * No ZeroMQ, protobuf or CUDA types, usable from C and C++. It includes two dependency-free
 * headers installed beside it: p2c2r_error.h (the project's one error table, shared with the
 * coordinator and peers because the codes travel on the wire) and p2c2r_formats.h (codecs,
 * pixel layouts and modes, numbered as on the wire).
 *
 * Threading: a client may be used from any number of threads at once, except that
 * p2c2r_client_destroy() must not run beside any other call on the same client. No call
 * waits on the network or on another thread: submit() copies the frame into memory the SDK
 * reuses (or borrows it, see p2c2r_submit_upscale_lent()) and returns; poll(0) returns at
 * once even while other threads wait in poll(). The SDK's own threads (one for the network,
 * local_threads for the fallback) do the rest.
 *
 * Linking: pkg-config --cflags --libs p2c2r.
 */
#ifndef P2C2R_H
#define P2C2R_H

#include <stddef.h>
#include <stdint.h>

#include "p2c2r_error.h"   /* P2C2R_OK, P2C2R_E_*, p2c2r_strerror() */
#include "p2c2r_formats.h" /* p2c2r_codec, p2c2r_pixel_format, p2c2r_mode */

#ifdef __cplusplus
extern "C" {
#endif

#define P2C2R_VERSION_MAJOR 0
#define P2C2R_VERSION_MINOR 2
#define P2C2R_VERSION_PATCH 0
/* The version as one number, major * 10000 + minor * 100 + patch. */
#define P2C2R_VERSION                                                                              \
    (P2C2R_VERSION_MAJOR * 10000 + P2C2R_VERSION_MINOR * 100 + P2C2R_VERSION_PATCH)

/* The version of the library loaded at run time, as P2C2R_VERSION counts it. Before 1.0
 * each minor version may change the ABI (the soname carries it: libp2c2r.so.0.2), so a
 * program checks that the library it runs with has the major and minor of the header it
 * was built against; P2C2R_VERSION_OK() does exactly that. */
uint32_t p2c2r_version(void);
/* The same as text, "0.2.0". */
const char *p2c2r_version_string(void);
#define P2C2R_VERSION_OK() (p2c2r_version() / 100 == P2C2R_VERSION / 100)

typedef struct p2c2r_client p2c2r_client;
typedef struct p2c2r_result p2c2r_result;

/* What the SDK does when the cluster cannot deliver a frame by its deadline. */
typedef enum p2c2r_fallback {
    P2C2R_FALLBACK_NONE = 0,  /* the task ends with the cluster's error (DEADLINE, BUSY, ...) */
    P2C2R_FALLBACK_LOCAL = 1, /* upscale it on this machine's CPU, with the same kernels as a
                                 CPU peer, on the SDK's fallback threads */
} p2c2r_fallback;

/* Where a result's output was computed. */
typedef enum p2c2r_source {
    P2C2R_SOURCE_NONE = 0,    /* an error: no output */
    P2C2R_SOURCE_CLUSTER = 1, /* a peer of the cluster */
    P2C2R_SOURCE_LOCAL = 2,   /* the SDK's local fallback */
} p2c2r_source;

/* Receives each finished task when set in the config, instead of poll(). It runs on the
 * SDK's I/O thread, one result at a time, and owns the result: free it with
 * p2c2r_result_free(), now or later, from any thread. It must return quickly (the I/O thread
 * sends and receives nothing meanwhile); it may call submit(), but never poll() or
 * p2c2r_client_destroy(). */
typedef void p2c2r_result_fn(void *arg, p2c2r_result *result);

/* Client settings. Zero-initialise and set what you need; zero fields take the defaults. */
typedef struct p2c2r_client_config {
    const char *coordinator;    /* endpoint, e.g. "tcp://127.0.0.1:7700" (required) */
    uint32_t max_in_flight;     /* submit window; submit() returns P2C2R_E_BUSY past it (64) */
    uint32_t grace_ms;          /* a task with no answer this long after its deadline is ended
                                   locally with P2C2R_E_DEADLINE (250) */
    p2c2r_fallback fallback;    /* P2C2R_FALLBACK_LOCAL: a frame the cluster cannot deliver in
                                   time is upscaled locally (default NONE) */
    uint32_t local_threads;     /* threads of the local fallback, each running one frame (1) */
    uint32_t frame_budget_ms;   /* adaptive quality: the latency a frame should take. When set,
                                   a frame's desc.mode is the best mode wanted and the SDK steps
                                   down (quality, lanczos, bicubic, fast) when recent frames come
                                   near the budget, and back up when there is room (0: off) */
    p2c2r_result_fn *on_result; /* results go here instead of to poll() (NULL: poll) */
    void *on_result_arg;        /* passed to on_result */
    uint32_t buffer_cache_mb;   /* memory for frame copies kept for reuse between submits (256) */
    /* CurveZMQ (all three, or none for plain TCP): this client's keypair and the
     * coordinator's public key, as 40-character Z85 strings (p2c2r_key_load() reads them
     * from key files). A key the coordinator does not list for clients is refused in the
     * handshake: nothing is sent, and tasks end at their deadline with P2C2R_E_COORDLOST
     * (or go local with the fallback). */
    const char *curve_public_key;       /* this client's public key */
    const char *curve_secret_key;       /* this client's secret key */
    const char *coordinator_public_key; /* the coordinator's public key */
} p2c2r_client_config;

/* One upscale request. */
typedef struct p2c2r_upscale_desc {
    p2c2r_codec codec;               /* input encoding */
    p2c2r_pixel_format pixel_format; /* input pixels for RAW/ZSTD; UNSPECIFIED for JPEG */
    uint32_t width, height;          /* input size; may be 0 for JPEG (read from its header) */
    uint32_t scale;                  /* integer factor, 1..8 */
    p2c2r_mode mode;                 /* filter (default FAST); with adaptive quality, the best
                                        mode wanted */
    p2c2r_codec output_codec;        /* default JPEG */
    uint32_t jpeg_quality;           /* 1..100 (default 90) */
    uint32_t priority;               /* larger runs first (default 0) */
    uint32_t deadline_ms;            /* budget from submit() to result, 1..3600000; 0: the
                                        deadline the SDK has learnt for frames of this kind,
                                        mode and size (see p2c2r_client_latencies()) */
    p2c2r_runtime runtime;           /* where it may run (default: any peer); CUDA also keeps
                                        it off the local fallback */
    uint64_t memory_bytes;           /* memory it will use on the peer, 0: not stated; only
                                        peers with that much free are chosen */
    uint32_t flags;                  /* P2C2R_TASK_* options, or 0 */
} p2c2r_upscale_desc;

/* Task options (p2c2r_upscale_desc.flags, p2c2r_task.flags). */
#define P2C2R_TASK_NO_CACHE                                                                        \
    1u /* never answer it from the coordinator's result cache: a                                   \
          peer always runs it */

/* Create a client and start its threads. Returns NULL with *err set on failure (err may be
 * NULL), including when a thread cannot start. Connecting is asynchronous: a missing
 * coordinator shows up as tasks that end with an error (or locally), never as a stall.
 *
 * While tasks are in flight the client checks that the coordinator is alive (a heartbeat
 * every 250 ms). If the coordinator restarts, each unfinished task is sent again when its
 * deadline leaves time, else ends at once with P2C2R_E_COORDLOST; after a broken
 * connection the unfinished tasks are sent again too, and the coordinator runs none of them
 * twice. A coordinator that is disconnected or has said nothing for a second is taken as
 * unreachable: tasks then end at their deadline with P2C2R_E_COORDLOST rather than grace_ms
 * later, or, with the local fallback, go local at once.
 *
 * If the I/O thread fails (a network error it cannot go on from), every task it held ends
 * with P2C2R_E_IO and later submits return P2C2R_E_IO.
 *
 * P2C2R_E_INVAL for CURVE keys that are not all three given or not Z85 keys,
 * P2C2R_E_UNSUPPORTED when they are given and libzmq has no CURVE. */
p2c2r_client *p2c2r_client_new(const p2c2r_client_config *config, int *err);

/* Stop the client's threads and free it. Unfinished tasks are abandoned (their results are
 * never delivered) and results not yet polled are freed. Every lent buffer has been released
 * when it returns. Accepts NULL; sets *client to NULL. */
void p2c2r_client_destroy(p2c2r_client **client);

/* Submit an upscale of `size` bytes at `data`. Copies the bytes once, into memory the
 * client keeps for the next frames, and returns at once. On success returns P2C2R_OK and
 * stores the new task id in *task_id; the task will end with exactly one result. On failure
 * returns a negative code (P2C2R_E_BUSY when the window is full, P2C2R_E_INVAL for a bad
 * description, P2C2R_E_IO when the I/O thread has failed) and no result will follow. */
int p2c2r_submit_upscale(p2c2r_client *client, const p2c2r_upscale_desc *desc, const void *data,
                         size_t size, uint64_t *task_id);

/* Called when the SDK no longer reads a lent buffer: after the task has ended and the
 * network has sent it, possibly after the result was delivered. It runs on one of the SDK's
 * threads (or ZeroMQ's) and must not call into the client. */
typedef void p2c2r_release_fn(void *arg, const void *data);

/* As p2c2r_submit_upscale(), without the copy: the SDK reads `data` in place until it calls
 * release(release_arg, data), exactly once, and the caller must not change the bytes before
 * that. On failure release is never called and the buffer is the caller's again at once. */
int p2c2r_submit_upscale_lent(p2c2r_client *client, const p2c2r_upscale_desc *desc,
                              const void *data, size_t size, p2c2r_release_fn *release,
                              void *release_arg, uint64_t *task_id);

/* Submit a `noop` task: the peer echoes the payload. For measuring the cluster itself.
 * deadline_ms as in p2c2r_upscale_desc (0: learnt). Never runs locally. */
int p2c2r_submit_noop(p2c2r_client *client, const void *data, size_t size, uint32_t deadline_ms,
                      uint64_t *task_id);

/* Submit a `sleep` task: the peer holds a slot for sleep_ms (0..60000), then echoes the
 * payload. For testing how a cluster schedules slow and mixed work. Never runs locally. */
int p2c2r_submit_sleep(p2c2r_client *client, uint32_t sleep_ms, const void *data, size_t size,
                       uint32_t deadline_ms, uint64_t *task_id);

/* What p2c2r_submit_batch() submits. */
typedef enum p2c2r_task_kind {
    P2C2R_TASK_UPSCALE = 1, /* p2c2r_task.upscale describes it */
    P2C2R_TASK_NOOP = 2,    /* as p2c2r_submit_noop() */
    P2C2R_TASK_SLEEP = 3,   /* as p2c2r_submit_sleep(), for sleep_ms */
} p2c2r_task_kind;

/* One task of a batch. */
typedef struct p2c2r_task {
    p2c2r_task_kind kind;
    const p2c2r_upscale_desc *upscale; /* UPSCALE: the request (its deadline_ms and flags) */
    uint32_t sleep_ms;                 /* SLEEP: 0..60000 */
    uint32_t deadline_ms;              /* NOOP, SLEEP: as for p2c2r_submit_noop() */
    uint32_t flags;                    /* NOOP, SLEEP: P2C2R_TASK_* */
    const void *data;                  /* the payload, copied once */
    size_t size;
} p2c2r_task;

/* Submit n tasks at once (1..64): each payload is copied once, and the tasks that share a
 * kind and parameters (all but their payload, frame size and deadline) travel to the
 * coordinator as one message. Returns at once, as submit() does. Tasks are taken in order:
 * on P2C2R_OK all n were, and task_ids[i] holds the id of tasks[i]; on an error (as for
 * p2c2r_submit_upscale(); P2C2R_E_BUSY when the window has room for fewer than n) none was,
 * and no result will follow for any of them. Each taken task ends with its own result. */
int p2c2r_submit_batch(p2c2r_client *client, const p2c2r_task *tasks, size_t n, uint64_t *task_ids);

/* Cancel a task. Returns at once: P2C2R_OK when task_id is one this client handed out,
 * P2C2R_E_INVAL when it never did. A task that has not ended yet ends now, with
 * P2C2R_E_CANCELLED as its one result: a queued task leaves the coordinator's queue, a
 * running one is dropped by its peer where it can be and its output discarded otherwise,
 * a local run's output is discarded. A task that has ended already (its result delivered,
 * polled or not) is not affected, and neither is a task cancelled twice: it still has
 * exactly one result. */
int p2c2r_cancel(p2c2r_client *client, uint64_t task_id);

/* Wait up to timeout_ms (0: do not wait, -1: forever) for the next finished task.
 * Returns P2C2R_OK and a result the caller must free, or P2C2R_E_TIMEOUT when none came.
 * poll(0) never waits, whatever other threads are doing in poll(). P2C2R_E_INVAL on a
 * client whose results go to on_result. */
int p2c2r_poll(p2c2r_client *client, int timeout_ms, p2c2r_result **result);

/* Number of submitted tasks whose result has not been taken yet (by poll() or on_result). */
uint32_t p2c2r_client_pending(const p2c2r_client *client);

/* Free a result. Accepts NULL; sets *result to NULL. */
void p2c2r_result_free(p2c2r_result **result);

uint64_t p2c2r_result_task_id(const p2c2r_result *result);
/* P2C2R_OK, or the error the task ended with. */
int p2c2r_result_status(const p2c2r_result *result);
/* For an error, its detail ("" when none); for a local result, why the cluster's answer was
 * not used ("" for the cluster's results). Owned by the result. */
const char *p2c2r_result_detail(const p2c2r_result *result);
/* Where the output was computed (P2C2R_SOURCE_NONE for an error). */
p2c2r_source p2c2r_result_source(const p2c2r_result *result);
/* The mode the output was made with (upscale; 0 for other kinds). With adaptive quality it
 * may be below the mode asked for. */
p2c2r_mode p2c2r_result_mode(const p2c2r_result *result);
/* The deadline the task ran under, in ms from submit(): as asked, or as learnt when 0. */
uint32_t p2c2r_result_deadline_ms(const p2c2r_result *result);
p2c2r_codec p2c2r_result_codec(const p2c2r_result *result);
p2c2r_pixel_format p2c2r_result_pixel_format(const p2c2r_result *result);
uint32_t p2c2r_result_width(const p2c2r_result *result);
uint32_t p2c2r_result_height(const p2c2r_result *result);
/* The output bytes (encoded as result_codec); owned by the result. */
const void *p2c2r_result_data(const p2c2r_result *result, size_t *size);

/* Where the time of one task went, in microseconds. */
typedef struct p2c2r_timings {
    uint64_t total_us;   /* submit() to the result's delivery, measured by the client */
    uint64_t queue_us;   /* waiting in the coordinator's queue (local: in the fallback's) */
    uint64_t peer_us;    /* on the peer, assignment to result (local: 0) */
    uint64_t decode_us;  /* input decoding, on the peer or locally */
    uint64_t compute_us; /* the task itself (e.g. upscaling) */
    uint64_t encode_us;  /* output encoding */
    uint32_t cache_hit;  /* 1: the coordinator answered from its result cache (peer_us,
                            decode_us, compute_us and encode_us are then 0) */
} p2c2r_timings;

void p2c2r_result_timings(const p2c2r_result *result, p2c2r_timings *timings);

/* What the client has done so far. */
typedef struct p2c2r_client_stats {
    uint64_t submitted;       /* tasks accepted by submit() */
    uint64_t cluster;         /* ended with the cluster's output */
    uint64_t local;           /* ended with the local fallback's output */
    uint64_t errors;          /* ended with an error */
    uint64_t late;            /* of all that ended, after their deadline */
    uint64_t cancelled;       /* ended by p2c2r_cancel() */
    uint64_t cache_hits;      /* of the cluster's results, answered from its result cache */
    uint64_t dropped_answers; /* cluster answers for tasks that had already ended */
    uint64_t buffer_allocs;   /* frame buffers allocated; reuse keeps it near the window */
    uint64_t buffer_bytes;    /* memory held in frame buffers now, in use or kept */
    p2c2r_mode quality_mode;  /* adaptive quality's current mode (0: off) */
    uint64_t quality_down;    /* adaptive quality's steps down so far */
    uint64_t quality_up;      /* and up */
} p2c2r_client_stats;

void p2c2r_client_get_stats(const p2c2r_client *client, p2c2r_client_stats *stats);

/* What the client has learnt of one class of tasks: same kind, mode, scale, codecs and input
 * size (upscale), or kind, sleep time and payload size class (noop, sleep). */
typedef struct p2c2r_latency {
    const char *kind;         /* "upscale", "noop" or "sleep" (static) */
    p2c2r_mode mode;          /* upscale: the mode */
    uint32_t width, height;   /* upscale: input size (JPEG: from its header) */
    uint32_t scale;           /* upscale: factor */
    p2c2r_codec codec;        /* upscale: input encoding */
    p2c2r_codec output_codec; /* upscale: output encoding */
    uint32_t sleep_ms;        /* sleep: the time asked for */
    uint64_t payload_bytes;   /* noop, sleep: payloads up to this size (a power of two) */
    uint32_t samples;         /* cluster answers in the window (the last 128) */
    uint32_t p50_us;          /* submit() to the cluster's answer: median */
    uint32_t p90_us;          /* 90th percentile */
    uint32_t p99_us;          /* 99th percentile */
    uint32_t max_us;          /* longest in the window */
    uint32_t deadline_ms;     /* the deadline a task of this class with deadline_ms 0 gets */
    uint32_t local_samples;   /* local fallback runs in the window */
    uint32_t local_p50_us;    /* local run (decode, upscale, encode): median */
    uint32_t local_p99_us;    /* 99th percentile */
} p2c2r_latency;

/* Copy up to max learnt classes, most recently used first, into out; returns how many the
 * client knows (which may be more than max). */
size_t p2c2r_client_latencies(const p2c2r_client *client, p2c2r_latency *out, size_t max);

/* The learnt figures for upscales such as desc (its width and height must be set, also for
 * JPEG). A class not seen yet gives samples 0 and the deadline a first such task would get.
 * P2C2R_E_INVAL for a description without a size. */
int p2c2r_client_upscale_latency(const p2c2r_client *client, const p2c2r_upscale_desc *desc,
                                 p2c2r_latency *out);

/* CurveZMQ keys: 40 Z85 characters and a NUL. */
#define P2C2R_KEY_SIZE 41

/* Make a keypair, written as NAME (the public key, to hand to the coordinator's operator)
 * and NAME_secret (both keys, file mode 0600), in CZMQ's certificate format. Never
 * overwrites: P2C2R_E_INVAL when either file exists, P2C2R_E_IO when they cannot be
 * written, P2C2R_E_UNSUPPORTED when libzmq has no CURVE. */
int p2c2r_keygen(const char *name);

/* Read a key. source is a key file of either kind, or (for a public key only) the key
 * itself as 40 Z85 characters. public_key is filled; secret_key, when not NULL, needs a
 * NAME_secret file. P2C2R_E_IO when the file cannot be read, P2C2R_E_INVAL when it holds
 * no such key, P2C2R_E_UNSUPPORTED when libzmq has no CURVE. */
int p2c2r_key_load(const char *source, char public_key[P2C2R_KEY_SIZE],
                   char secret_key[P2C2R_KEY_SIZE]);

#ifdef __cplusplus
}
#endif
#endif /* P2C2R_H */
