/* envelope: the wire messages of proto/p2c2r.proto, and sending/receiving them over ZeroMQ.
 *
 * A message is [route][Envelope][payload] on a ROUTER socket and [Envelope][payload] on a
 * DEALER: frame 1 is the protobuf-c Envelope, the optional last frame the raw payload. The
 * payload stays a zmq_msg_t from socket to socket, so the coordinator forwards megabytes of
 * pixels without copying them, and a peer hands its output buffer to ZeroMQ without a copy.
 *
 * Sizes are checked before anything is allocated: the envelope frame against
 * P2C2R_ENVELOPE_MAX_BYTES, the whole message against the socket's ZMQ_MAXMSGSIZE, and a
 * message with too many frames is drained and refused.
 */
#ifndef P2C2R_ENVELOPE_H
#define P2C2R_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "p2c2r_error.h"
#include "p2c2r_formats.h"
#include "p2c2r.pb-c.h"

#define P2C2R_PROTOCOL_VERSION   1u
#define P2C2R_ENVELOPE_MAX_BYTES 4096u       /* an encoded Envelope is never larger */
#define P2C2R_PAYLOAD_MAX_BYTES  (64u << 20) /* largest payload frame accepted */
#define P2C2R_KIND_MAX_LEN       32u         /* longest task kind name */
#define P2C2R_ROUTE_MAX_BYTES    255u        /* ZeroMQ routing ids are at most 255 bytes */

typedef P2c2r__Wire__Envelope p2c2r_envelope;

/* Reset *env to an empty envelope of this type at the current protocol version. */
void p2c2r__envelope_init(p2c2r_envelope *env, P2c2r__Wire__MsgType type);

/* Decode one Envelope frame into a new envelope (free with p2c2r__envelope_free()).
 * P2C2R_E_TOOBIG for an oversized frame, P2C2R_E_PROTOCOL for bytes that do not parse or
 * an unknown message type, P2C2R_E_VERSION for another protocol version. */
int p2c2r__envelope_decode(const void *data, size_t size, p2c2r_envelope **env);
/* Accepts NULL; sets *env to NULL. */
void p2c2r__envelope_free(p2c2r_envelope **env);

/* Encode *env into a new zmq message (initialised here; the caller sends or closes it). */
int p2c2r__envelope_encode(const p2c2r_envelope *env, zmq_msg_t *msg);

/* One received message. */
typedef struct p2c2r_envelope_msg {
    uint8_t route[P2C2R_ROUTE_MAX_BYTES]; /* sender's routing id (ROUTER sockets) */
    size_t route_len;                     /* 0 on DEALER sockets */
    p2c2r_envelope *env;                  /* decoded frame 1; NULL if it failed to decode */
    zmq_msg_t payload;                    /* the payload frame (empty when has_payload false) */
    bool has_payload;                     /* whether a payload frame came */
} p2c2r_envelope_msg;

/* Receive one whole message from sock (routed: it is a ROUTER). flags as for zmq_msg_recv
 * (ZMQ_DONTWAIT). Every frame of the message is consumed, even on error, so the socket is
 * left at a message boundary; route is filled whenever one came, so the caller can answer
 * a malformed request. Returns P2C2R_OK, a decode error, P2C2R_E_PROTOCOL for a wrong
 * number of frames, P2C2R_E_TIMEOUT when DONTWAIT found nothing, or P2C2R_E_IO.
 * Always call p2c2r__envelope_msg_close() afterwards. */
int p2c2r__envelope_recv(void *sock, bool routed, int flags, p2c2r_envelope_msg *msg);
void p2c2r__envelope_msg_close(p2c2r_envelope_msg *msg);

/* Send [route][env][payload]. route NULL (route_len 0) on a DEALER. payload may be NULL;
 * otherwise it is sent (ownership passes to ZeroMQ) and left empty, also on failure.
 * flags may hold ZMQ_DONTWAIT. P2C2R_E_BUSY when the send would block or the high-water
 * mark is reached, P2C2R_E_UNKNOWNPEER when a ROUTER has no such route
 * (ZMQ_ROUTER_MANDATORY), P2C2R_E_IO otherwise. */
int p2c2r__envelope_send(void *sock, const void *route, size_t route_len, const p2c2r_envelope *env,
                         zmq_msg_t *payload, int flags);

/* Wrap a malloc'd-style buffer in a zmq message without copying; free_fn(data, hint) runs
 * when ZeroMQ is done with it. On failure free_fn has already run. */
int p2c2r__envelope_payload_wrap(zmq_msg_t *msg, void *data, size_t size, zmq_free_fn *free_fn,
                                 void *hint);

/* A routing id as a printable hash key: two hex digits per byte, NUL-terminated. */
typedef char p2c2r_route_key[2 * P2C2R_ROUTE_MAX_BYTES + 1];
void p2c2r__route_key(const void *route, size_t len, p2c2r_route_key key);

/* Short name of a message type for logs ("SUBMIT"). */
const char *p2c2r__envelope_type_name(int type);

#endif /* P2C2R_ENVELOPE_H */
