/* clients: the coordinator's client side.
 *
 * Receives requests on the clients ROUTER socket, refuses what is malformed with an ERROR
 * straight back to the sender, answers client HEARTBEATs with the coordinator's instance,
 * and hands SUBMITs (one task or a batch) and CANCELs to the task lifecycle (tasks.h)
 * along with the record of the client that sent them. Every answer to a client leaves
 * through this module.
 *
 * Batches: answers to a client that takes batches (Envelope.batches) wait in an outbox
 * until the end of the loop's pass (coord_clients_flush()) and leave together, one
 * message for the answers of one client that came one after another: a peer's batch of
 * results, or the tasks ended in one pass, cost one message instead of one each.
 *
 * Client records. A client that sends its own id (Envelope.sender, the SDK does) is known
 * by it across reconnects: its record follows it to each new connection, and answers that
 * could not be delivered while it was away are delivered when it is heard from again.
 * Other clients are known by their connection alone.
 *
 * Memory is bounded in bytes, per client and in all: what a client's unfinished tasks
 * hold (their input payloads, answers waiting for it), plus the results handed to ZeroMQ
 * that have not yet been written to its connection. The last part is counted exactly: a
 * result is sent as a zero-copy message whose release, on ZeroMQ's I/O thread, takes its
 * bytes off the count, so a client that stops reading stops receiving (over budget, its
 * answers shrink to a BUSY error) and a client that goes away gives its bytes back.
 */
#ifndef P2C2R_COORD_CLIENTS_H
#define P2C2R_COORD_CLIENTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/envelope.h"
#include "coordinator/allowlist.h"

struct coord_task; /* the coordinator's task; clients only link them */
typedef struct coord_account coord_account;

typedef struct coord_client {
    uint64_t session;                     /* Envelope.sender it gives; 0: none */
    uint64_t serial;                      /* unique for the coordinator's life */
    uint8_t route[P2C2R_ROUTE_MAX_BYTES]; /* its current connection's routing id */
    size_t route_len;                     /* bytes in route */
    bool away;                            /* its connection failed: answers wait (parked) */
    bool batches;                         /* it takes RESULT batches (its last SUBMIT or
                                             HEARTBEAT said so) */
    bool inline_payloads;                 /* it reads them with inline payloads (as well) */
    bool reads_columns;                   /* and in columns */
    uint64_t held_bytes;                  /* inputs and parked answers of its tasks */
    _Atomic uint64_t sending_bytes;       /* results given to ZeroMQ, not yet written out */
    _Atomic uint32_t refs;                /* the table's, plus one per result ZeroMQ holds */
    uint32_t tasks;                       /* its unfinished tasks */
    uint64_t last_seen_us;                /* last message from it */
    coord_account *account;               /* the coordinator-wide byte counts */
    struct coord_task *parked;            /* answers waiting for it (list owned by tasks.c) */
    p2c2r_curve_key identity;             /* its CURVE public key (ZAP User-Id); "" without */
    uint32_t max_priority;                /* highest priority its key may use */
    uint64_t max_queued_bytes;            /* bytes its key may have held (0: no own limit) */
} coord_client;

typedef struct coord_clients coord_clients;

typedef struct coord_clients_config {
    uint64_t instance;              /* the coordinator's incarnation, stamped on what it sends */
    uint64_t max_bytes;             /* all clients together (see the top of this file) */
    uint64_t max_client_bytes;      /* one client */
    const coord_allowlist *allowed; /* with CURVE: client keys and their limits (borrowed;
                                       a connection's key is on it, auth.h), else NULL */
} coord_clients_config;

/* sock: the raw libzmq clients ROUTER, owned by the caller. NULL when out of memory. */
coord_clients *coord_clients_new(void *sock, const coord_clients_config *config);
/* Accepts NULL; sets *clients to NULL. Records still referenced by results in ZeroMQ's
 * hands are freed when ZeroMQ releases them. */
void coord_clients_destroy(coord_clients **clients);

/* What coord_clients_recv() found. */
typedef enum coord_client_event {
    COORD_CLIENT_EMPTY = 0, /* no message was waiting */
    COORD_CLIENT_NONE,      /* a message, dealt with here (a HEARTBEAT, or refused) */
    COORD_CLIENT_SUBMIT,    /* *msg holds a SUBMIT (one task, or a batch) from *client */
    COORD_CLIENT_CANCEL,    /* *msg holds a CANCEL from *client */
} coord_client_event;

/* Receive one request without waiting. Whatever it returns, *came_back names a client that
 * was away and has just been heard from on a new connection (its parked answers can go
 * now), or is NULL. Always close msg with p2c2r__envelope_msg_close(). */
coord_client_event coord_clients_recv(coord_clients *clients, p2c2r_envelope_msg *msg,
                                      coord_client **client, coord_client **came_back);

/* Whether admitting bytes more for client stays within the bounds (its key's own among
 * them); if not, *detail says which. */
bool coord_clients_budget(const coord_clients *clients, const coord_client *client, uint64_t bytes,
                          const char **detail);
/* Whether client's key may submit at this priority: P2C2R_OK, or P2C2R_E_DENIED and why. */
int coord_clients_allows(const coord_client *client, uint32_t priority, const char **detail);
/* Count bytes held (positive) or released (negative) for one of client's tasks. */
void coord_clients_hold(coord_clients *clients, coord_client *client, int64_t bytes);

/* Send an answer (RESULT or ERROR) for one of client's tasks. payload (may be NULL) stays
 * the caller's: what is sent is a reference to it. P2C2R_OK: sent, or in the outbox of a
 * client that takes batches. P2C2R_E_UNKNOWNPEER: the client's connection is gone and it
 * is now away. P2C2R_E_TOOBIG: the payload would take the client past its bound of bytes
 * waiting to be written (nothing sent). Other errors as p2c2r__envelope_send(). */
int coord_clients_answer(coord_clients *clients, coord_client *client, p2c2r_envelope *env,
                         const zmq_msg_t *payload);

/* Refuse one of client's requests before it became a task (an ERROR for task_id). */
void coord_clients_refuse(coord_clients *clients, coord_client *client, uint64_t task_id,
                          int status, const char *detail);

/* Send an ERROR to a connection (for requests refused before they became tasks). */
void coord_clients_send_error(coord_clients *clients, const void *route, size_t route_len,
                              uint64_t task_id, int status, const char *detail);

/* Send what waits in the outbox. Returns how many answers could not be delivered (the
 * client's connection was gone: it is away now; or its pipe was full), each logged. */
uint64_t coord_clients_flush(coord_clients *clients);

/* Forget clients with no unfinished task that have been silent for a while. */
void coord_clients_sweep(coord_clients *clients, uint64_t now_us);

#endif /* P2C2R_COORD_CLIENTS_H */
