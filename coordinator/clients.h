/* clients: the coordinator's client side.
 *
 * Owns nothing but the view of the clients ROUTER socket: it receives requests, refuses
 * what is malformed or invalid with an ERROR straight back to the sender, and hands valid
 * SUBMITs to the task lifecycle (tasks.h). Every answer to a client leaves through
 * coord_clients_send(), so the rules for reaching a client live in one place.
 */
#ifndef P2C2R_COORD_CLIENTS_H
#define P2C2R_COORD_CLIENTS_H

#include <stddef.h>

#include "common/envelope.h"

typedef struct coord_clients coord_clients;

/* sock: the raw libzmq clients ROUTER, owned by the caller. NULL when out of memory. */
coord_clients *coord_clients_new(void *sock);
/* Accepts NULL; sets *clients to NULL. */
void coord_clients_destroy(coord_clients **clients);

/* Receive one request without waiting. P2C2R_OK: *msg holds a SUBMIT that passed
 * p2c2r__task_validate(). Otherwise nothing is to be done with msg: it was malformed or
 * invalid (and its sender was answered), or none was waiting (P2C2R_E_TIMEOUT).
 * Always close msg with p2c2r__envelope_msg_close(). */
int coord_clients_recv(coord_clients *clients, p2c2r_envelope_msg *msg);

/* Send env (and payload, whose ownership passes as in p2c2r__envelope_send()) to a client
 * route without waiting. Returns what p2c2r__envelope_send() returns. */
int coord_clients_send(coord_clients *clients, const void *route, size_t route_len,
                       const p2c2r_envelope *env, zmq_msg_t *payload);

/* Send an ERROR for the client's task_id; timing may be NULL. Failures are logged. */
void coord_clients_send_error(coord_clients *clients, const void *route, size_t route_len,
                              uint64_t task_id, int status, const char *detail,
                              const P2c2r__Wire__Timing *timing);

#endif /* P2C2R_COORD_CLIENTS_H */
