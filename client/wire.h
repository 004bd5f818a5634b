/* wire: the I/O thread's messages to and from the coordinator, put together and taken
 * apart.
 *
 * SUBMITs leave through an outbox: jobs added one after another that travel alike (the
 * same kind and parameters, sdk_job_same_shape()) go out as one SUBMIT batch when the
 * outbox is sent, each with the time left to its deadline at the moment it was added; a
 * job alone goes as a plain SUBMIT. Answers come back plain or as RESULT batches, and
 * sdk_answer_result() makes the result of one.
 */
#ifndef P2C2R_CLIENT_WIRE_H
#define P2C2R_CLIENT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "client/job.h"
#include "client/results.h"
#include "common/envelope.h"

/* Open the DEALER to the coordinator at endpoint and a PAIR that receives its connection
 * events (handshake succeeded or failed, disconnected), in the ZeroMQ context every client
 * of the process shares. curve: NULL for plain TCP, else our public key, our secret key and
 * the coordinator's public key (Z85). P2C2R_OK; P2C2R_E_INVAL for a malformed endpoint or
 * key; P2C2R_E_UNSUPPORTED when libzmq has no CURVE; P2C2R_E_NOMEM or P2C2R_E_IO. Sockets
 * made before a failure are in *dealer and *monitor, for the caller to close. */
int sdk_dealer_open(const char *endpoint, const char *const *curve, void **dealer, void **monitor);

typedef struct sdk_outbox sdk_outbox;

/* NULL when out of memory. */
sdk_outbox *sdk_outbox_new(void);
/* Accepts NULL; sets *box to NULL. The box must be empty. */
void sdk_outbox_destroy(sdk_outbox **box);

/* Whether job may join what the box holds: it is empty, or holds jobs of job's shape and
 * has room, and job comes from the same submit call as the last of them or adds few enough
 * bytes (P2C2R_MERGE_MAX_BYTES). */
bool sdk_outbox_fits(const sdk_outbox *box, const sdk_job *job);
/* Add job's SUBMIT, with the time left to its deadline at now and sender as our id. The
 * job must fit. P2C2R_OK or P2C2R_E_NOMEM (then it is not added). */
int sdk_outbox_add(sdk_outbox *box, sdk_job *job, uint64_t now, uint64_t sender);
/* The jobs added since the last sdk_outbox_send(), in order; their number. The list stays
 * as it is through a send, until the next sdk_outbox_add(). */
size_t sdk_outbox_jobs(sdk_outbox *box, sdk_job ***jobs);
/* Send what the box holds on sock as one message and empty it; small payloads go inside
 * the Envelope when inline_ok (the coordinator said it reads them), in columns when
 * columns_ok too. P2C2R_OK;
 * P2C2R_E_BUSY when no connection is up or its queue is full; P2C2R_E_NOMEM or
 * P2C2R_E_IO. Nothing was sent unless P2C2R_OK. */
int sdk_outbox_send(sdk_outbox *box, void *sock, bool inline_ok, bool columns_ok);

/* The result one answer (a RESULT or ERROR envelope, or one item of a RESULT batch seen
 * through p2c2r__envelope_item_view()) carries; a RESULT's payload is moved in from
 * *payload when given. NULL when out of memory. */
p2c2r_result *sdk_answer_result(const p2c2r_envelope *env, zmq_msg_t *payload);

/* Tell the coordinator to stop task_id. P2C2R_OK, or why it could not be sent. */
int sdk_send_cancel(void *sock, uint64_t task_id, uint64_t sender);

#endif /* P2C2R_CLIENT_WIRE_H */
