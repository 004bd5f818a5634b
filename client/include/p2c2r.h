/* p2c2r.h: the public C API of libp2c2r, the P2C2R client SDK.
 *
 * A game creates one client per coordinator, submits frames without ever waiting on the
 * network, and polls for results. Every submitted task ends exactly once: poll() hands back
 * either its output or an error (P2C2R_E_DEADLINE when the cluster could not make it in time).
 *
 * This header is self-contained: no ZeroMQ, protobuf or CUDA types, usable from C and C++.
 * It also holds the project's single error table, which the coordinator and peers share,
 * because the codes travel on the wire (Envelope.status) and must mean one thing everywhere.
 *
 * Threading: a client may be used from any thread; submit() and poll() take a short lock
 * and never block on the network (an internal I/O thread owns the socket).
 */
#ifndef P2C2R_H
#define P2C2R_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define P2C2R_VERSION_MAJOR 0
#define P2C2R_VERSION_MINOR 1
#define P2C2R_VERSION_PATCH 0

/* Error codes: P2C2R_OK is 0, errors are negative. The numbers travel on the wire and never
 * change; add new ones at the end. XX(NAME, code, message). */
#define P2C2R_ERROR_MAP(XX)                                                                        \
    XX(NOMEM, -1, "out of memory")                                                                 \
    XX(INVAL, -2, "invalid argument")                                                              \
    XX(BADINPUT, -3, "bad input data")                                                             \
    XX(DEADLINE, -4, "deadline passed before the task could finish")                               \
    XX(BUSY, -5, "no capacity: queue or submit window full")                                       \
    XX(TIMEOUT, -6, "timed out")                                                                   \
    XX(PROTOCOL, -7, "malformed or unexpected message")                                            \
    XX(VERSION, -8, "protocol version mismatch")                                                   \
    XX(UNSUPPORTED, -9, "unsupported task kind, codec, pixel format or mode")                      \
    XX(TOOBIG, -10, "size limit exceeded")                                                         \
    XX(IO, -11, "I/O or network failure")                                                          \
    XX(CODEC, -12, "image encoder or decoder failure")                                             \
    XX(PEERLOST, -13, "peer lost while running the task")                                          \
    XX(UNKNOWNPEER, -14, "peer is not registered with the coordinator")                            \
    XX(CLOSED, -15, "client is shutting down")                                                     \
    XX(INTERNAL, -16, "internal error")

typedef enum p2c2r_error {
    P2C2R_OK = 0,
#define P2C2R_XX_ENUM(name, code, msg) P2C2R_E_##name = (code),
    P2C2R_ERROR_MAP(P2C2R_XX_ENUM)
#undef P2C2R_XX_ENUM
} p2c2r_error;

/* A short English description of an error code; never NULL. */
const char *p2c2r_strerror(int err);
/* The symbolic name of an error code ("P2C2R_E_DEADLINE"); never NULL. */
const char *p2c2r_errname(int err);

/* How a payload is encoded. Values match the wire enum Codec in proto/p2c2r.proto. */
typedef enum p2c2r_codec {
    P2C2R_CODEC_RAW = 1,  /* uncompressed pixels in pixel_format */
    P2C2R_CODEC_JPEG = 2, /* a baseline or progressive JPEG */
    P2C2R_CODEC_ZSTD = 3, /* raw pixels compressed with zstd */
} p2c2r_codec;

/* Pixel layout of raw pixels. Values match the wire enum PixelFormat. */
typedef enum p2c2r_pixel_format {
    P2C2R_PIX_UNSPECIFIED = 0, /* for JPEG: whatever the JPEG holds; output: same as input */
    P2C2R_PIX_GRAY8 = 1,       /* one 8-bit plane */
    P2C2R_PIX_RGB24 = 2,       /* packed R,G,B bytes */
    P2C2R_PIX_YUV420P = 3,     /* planar Y, Cb, Cr (JPEG's YCbCr), chroma halved both ways */
    P2C2R_PIX_YUV422P = 4,     /* planar, chroma halved horizontally */
    P2C2R_PIX_YUV444P = 5,     /* planar, full-resolution chroma */
} p2c2r_pixel_format;

/* Upscaling filter. Values match the wire enum UpscaleMode. */
typedef enum p2c2r_mode {
    P2C2R_MODE_FAST = 1,    /* bilinear */
    P2C2R_MODE_BICUBIC = 2, /* Catmull-Rom */
    P2C2R_MODE_LANCZOS = 3, /* Lanczos-3 */
    P2C2R_MODE_QUALITY = 4, /* edge-adaptive upsampling plus sharpening */
} p2c2r_mode;

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
} p2c2r_upscale_desc;

/* Create a client and start its I/O thread. Returns NULL with *err set on failure
 * (err may be NULL). Connecting is asynchronous: a missing coordinator shows up as
 * tasks that end with P2C2R_E_DEADLINE, never as a stall. */
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
