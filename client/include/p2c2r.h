/* p2c2r.h: the public C API of libp2c2r, the P2C2R client SDK.
 *
 * A game creates one client per coordinator, submits frames without ever waiting on the
 * network, and polls for results. Every submitted task ends exactly once: poll() hands back
 * either its output or an error (P2C2R_E_DEADLINE when the cluster could not make it in time).
 *
 * No ZeroMQ, protobuf or CUDA types, usable from C and C++. It includes two dependency-free
 * headers installed beside it: p2c2r_error.h (the project's one error table, shared with the
 * coordinator and peers because the codes travel on the wire) and p2c2r_formats.h (codecs,
 * pixel layouts and modes, numbered as on the wire).
 *
 * Threading: a client may be used from any thread; submit() and poll() take a short lock
 * and never block on the network (an internal I/O thread owns the socket).
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
#define P2C2R_VERSION_MINOR 1
#define P2C2R_VERSION_PATCH 0

typedef struct p2c2r_client p2c2r_client;
typedef struct p2c2r_result p2c2r_result;

/* Client settings. Zero-initialise and set what you need; zero fields take the defaults. */
typedef struct p2c2r_client_config {
    const char *coordinator; /* endpoint, e.g. "tcp://127.0.0.1:7700" (required) */
    uint32_t max_in_flight;  /* submit window; submit() returns P2C2R_E_BUSY past it (64) */
    uint32_t grace_ms;       /* a task with no answer this long after its deadline is ended
                                locally with P2C2R_E_DEADLINE (250) */
} p2c2r_client_config;

/* One upscale request. The caller's pixel or JPEG bytes are copied during submit(). */
typedef struct p2c2r_upscale_desc {
    p2c2r_codec codec;               /* input encoding */
    p2c2r_pixel_format pixel_format; /* input pixels for RAW/ZSTD; UNSPECIFIED for JPEG */
    uint32_t width, height;          /* input size; may be 0 for JPEG (read from its header) */
    uint32_t scale;                  /* integer factor, 1..8 */
    p2c2r_mode mode;                 /* filter (default FAST) */
    p2c2r_codec output_codec;        /* default JPEG */
    uint32_t jpeg_quality;           /* 1..100 (default 90) */
    uint32_t priority;               /* larger runs first (default 0) */
    uint32_t deadline_ms;            /* budget from submit() to result (default 100) */
    p2c2r_runtime runtime;           /* where it may run (default: any peer) */
    uint64_t memory_bytes;           /* memory it will use on the peer, 0: not stated; only
                                        peers with that much free are chosen */
} p2c2r_upscale_desc;

/* Create a client and start its I/O thread. Returns NULL with *err set on failure
 * (err may be NULL). Connecting is asynchronous: a missing coordinator shows up as tasks
 * that end with an error, never as a stall.
 *
 * While tasks are in flight the client checks that the coordinator is alive (a heartbeat
 * every 250 ms). If the coordinator restarts, each unfinished task is sent again when its
 * deadline leaves time, else ends at once with P2C2R_E_COORDLOST; after a broken
 * connection the unfinished tasks are sent again too, and the coordinator runs none of them
 * twice. A coordinator that has said nothing for a second is taken as unreachable: tasks
 * then end at their deadline with P2C2R_E_COORDLOST rather than grace_ms later. */
p2c2r_client *p2c2r_client_new(const p2c2r_client_config *config, int *err);

/* Stop the I/O thread and free the client. Unfinished tasks are abandoned and results not
 * yet polled are freed. Accepts NULL; sets *client to NULL. */
void p2c2r_client_destroy(p2c2r_client **client);

/* Submit an upscale of `size` bytes at `data`. Copies the bytes and returns at once.
 * On success returns P2C2R_OK and stores the new task id in *task_id; the task will end
 * with exactly one result from poll(). On failure returns a negative code (P2C2R_E_BUSY when
 * the window is full, P2C2R_E_INVAL for a bad description) and no result will follow. */
int p2c2r_submit_upscale(p2c2r_client *client, const p2c2r_upscale_desc *desc, const void *data,
                         size_t size, uint64_t *task_id);

/* Submit a `noop` task: the peer echoes the payload. For measuring the cluster itself. */
int p2c2r_submit_noop(p2c2r_client *client, const void *data, size_t size, uint32_t deadline_ms,
                      uint64_t *task_id);

/* Submit a `sleep` task: the peer holds a slot for sleep_ms (0..60000), then echoes the
 * payload. For testing how a cluster schedules slow and mixed work. */
int p2c2r_submit_sleep(p2c2r_client *client, uint32_t sleep_ms, const void *data, size_t size,
                       uint32_t deadline_ms, uint64_t *task_id);

/* Wait up to timeout_ms (0: do not wait, -1: forever) for the next finished task.
 * Returns P2C2R_OK and a result the caller must free, or P2C2R_E_TIMEOUT when none came. */
int p2c2r_poll(p2c2r_client *client, int timeout_ms, p2c2r_result **result);

/* Number of submitted tasks whose result has not been polled yet. */
uint32_t p2c2r_client_pending(const p2c2r_client *client);

/* Free a result. Accepts NULL; sets *result to NULL. */
void p2c2r_result_free(p2c2r_result **result);

uint64_t p2c2r_result_task_id(const p2c2r_result *result);
/* P2C2R_OK, or the error the task ended with. */
int p2c2r_result_status(const p2c2r_result *result);
/* Detail text for an error result ("" when none); owned by the result. */
const char *p2c2r_result_detail(const p2c2r_result *result);
p2c2r_codec p2c2r_result_codec(const p2c2r_result *result);
p2c2r_pixel_format p2c2r_result_pixel_format(const p2c2r_result *result);
uint32_t p2c2r_result_width(const p2c2r_result *result);
uint32_t p2c2r_result_height(const p2c2r_result *result);
/* The output bytes (encoded as result_codec); owned by the result. */
const void *p2c2r_result_data(const p2c2r_result *result, size_t *size);

/* Where the time of one task went, in microseconds. */
typedef struct p2c2r_timings {
    uint64_t total_us;   /* submit() to result arrival, measured by the client */
    uint64_t queue_us;   /* waiting in the coordinator's queue */
    uint64_t peer_us;    /* on the peer, assignment to result */
    uint64_t decode_us;  /* peer: input decoding */
    uint64_t compute_us; /* peer: the task itself (e.g. upscaling) */
    uint64_t encode_us;  /* peer: output encoding */
} p2c2r_timings;

void p2c2r_result_timings(const p2c2r_result *result, p2c2r_timings *timings);

#ifdef __cplusplus
}
#endif
#endif /* P2C2R_H */
