/* testwire: talking the wire protocol by hand, for tests that play a client or a peer as
 * one written from proto/p2c2r.proto alone would: no SDK, no peer agent, just envelopes
 * on a DEALER socket. */
#ifndef P2C2R_TESTWIRE_H
#define P2C2R_TESTWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"

/* A DEALER connected to endpoint, with linger 0 and the project's size limit. */
void *testwire_dealer(void *ctx, const char *endpoint);
/* A ROUTER bound to a free loopback port, for playing the coordinator; its endpoint is
 * copied into endpoint. NULL on failure. */
void *testwire_router(void *ctx, char *endpoint, size_t size);
/* Send env and, when payload is not NULL, a payload frame of size bytes (copied). */
int testwire_send(void *sock, p2c2r_envelope *env, const void *payload, size_t size);
/* Wait up to timeout_ms for one message. P2C2R_OK, P2C2R_E_TIMEOUT or a decode error;
 * close msg with p2c2r__envelope_msg_close() in every case. */
int testwire_recv(void *sock, int timeout_ms, p2c2r_envelope_msg *msg);
/* SUBMIT task_id as sender: an upscale at scale 1 (fast, raw out) of a side x side GRAY8
 * raw frame, due in an hour. Valid, cheap for a peer, and its answer as big as its input. */
int testwire_submit_gray(void *sock, uint64_t sender, uint64_t task_id, const uint8_t *pixels,
                         uint32_t side);
/* Say PEER_HELLO as a peer with this sender id and slots, running upscale and noop. */
int testwire_hello(void *sock, uint64_t sender, uint32_t slots);
/* The same as a peer that also runs sleep and takes ASSIGN batches and CANCEL
 * (PeerInfo.batches). */
int testwire_hello_batches(void *sock, uint64_t sender, uint32_t slots);
/* The same as a peer that also reads batches with their payloads inline
 * (PeerInfo.inline_payloads), as items only. */
int testwire_hello_inline(void *sock, uint64_t sender, uint32_t slots);
/* ... and that reads them in columns too (Envelope.reads_columns). */
int testwire_hello_columns(void *sock, uint64_t sender, uint32_t slots);
/* Items of a received batch whose payload came inline (a non-empty BatchItem.payload). */
size_t testwire_inline(const p2c2r_envelope *env);

#endif /* P2C2R_TESTWIRE_H */
