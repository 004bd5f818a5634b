/* clients: see clients.h.
 *
 * Records are reference counted because ZeroMQ's I/O thread may release a result after
 * the loop has forgotten its client: the table holds one reference, each result in
 * ZeroMQ's hands one more, and the last one out frees the record. The coordinator-wide
 * byte count lives in an account with the same rule, so a result released after the
 * coordinator itself is gone still has a counter to decrement.
 */
#include "coordinator/clients.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/task.h"

/* A client with no unfinished task is forgotten after this long without a message. */
#define CLIENT_IDLE_US (30ull * 1000000u)

struct coord_account {
    _Atomic uint64_t sending_bytes; /* results in ZeroMQ's hands, all clients */
    _Atomic uint32_t refs;          /* the table's, plus one per client record */
};

struct coord_clients {
    void *sock;                  /* clients ROUTER (raw libzmq handle), not owned */
    coord_clients_config config; /* instance and bounds */
    zhashx_t *by_route;          /* hex(route) -> client, for clients without a session */
    zhashx_t *by_session;        /* &client->session -> client, for those with one */
    coord_account *account;      /* coordinator-wide byte counts */
    uint64_t held_bytes;         /* what all clients' tasks hold */
    uint64_t next_serial;        /* last client serial handed out */
    p2c2r_batch *outbox;         /* answers waiting for the end of the pass */
    coord_client *outbox_client; /* whose they are (holding a reference), or NULL */
};

/* What travels with a result handed to ZeroMQ, to count its bytes off when it is freed. */
typedef struct sent_result {
    zmq_msg_t data;       /* a reference to the result's payload */
    coord_client *client; /* whose bytes these are (one reference) */
    size_t size;          /* bytes counted */
} sent_result;

static void account_unref(coord_account *account)
{
    if (atomic_fetch_sub(&account->refs, 1) == 1)
        free(account);
}

static void client_unref(coord_client *client)
{
    if (atomic_fetch_sub(&client->refs, 1) != 1)
        return;
    account_unref(client->account);
    free(client);
}

/* zmq_free_fn: runs on ZeroMQ's I/O thread once a result is written out or dropped. */
static void result_released(void *data, void *hint)
{
    (void)data;
    sent_result *sent = hint;
    atomic_fetch_sub(&sent->client->sending_bytes, sent->size);
    atomic_fetch_sub(&sent->client->account->sending_bytes, sent->size);
    zmq_msg_close(&sent->data);
    client_unref(sent->client);
    free(sent);
}

coord_clients *coord_clients_new(void *sock, const coord_clients_config *config)
{
    coord_clients *clients = calloc(1, sizeof *clients);
    if (!clients)
        return NULL;
    clients->sock = sock;
    clients->config = *config;
    clients->by_route = zhashx_new();
    clients->by_session = p2c2r__idmap_new();
    clients->account = calloc(1, sizeof *clients->account);
    clients->outbox = malloc(sizeof *clients->outbox);
    if (!clients->by_route || !clients->by_session || !clients->account || !clients->outbox) {
        coord_clients_destroy(&clients);
        return NULL;
    }
    atomic_init(&clients->account->refs, 1);
    return clients;
}

static void forget(coord_clients *clients, coord_client *client)
{
    if (client->session) {
        zhashx_delete(clients->by_session, &client->session);
    } else {
        p2c2r_route_key key;
        p2c2r__route_key(client->route, client->route_len, key);
        zhashx_delete(clients->by_route, key);
    }
    client_unref(client);
}

/* Forget the clients for which which() is true. */
static void forget_all(coord_clients *c, bool (*which)(const coord_client *, uint64_t),
                       uint64_t now_us)
{
    zlistx_t *gone = zlistx_new();
    if (!gone)
        return;
    for (coord_client *x = zhashx_first(c->by_session); x; x = zhashx_next(c->by_session))
        if (which(x, now_us))
            zlistx_add_end(gone, x);
    for (coord_client *x = zhashx_first(c->by_route); x; x = zhashx_next(c->by_route))
        if (!x->session && which(x, now_us))
            zlistx_add_end(gone, x);
    for (coord_client *x = zlistx_first(gone); x; x = zlistx_next(gone))
        forget(c, x);
    zlistx_destroy(&gone);
}

static bool any_client(const coord_client *client, uint64_t now_us)
{
    (void)client;
    (void)now_us;
    return true;
}

static bool idle_client(const coord_client *client, uint64_t now_us)
{
    return client->tasks == 0 && now_us > client->last_seen_us + CLIENT_IDLE_US;
}

void coord_clients_destroy(coord_clients **clients)
{
    if (!clients || !*clients)
        return;
    coord_clients *c = *clients;
    if (c->outbox && c->sock)
        coord_clients_flush(c);
    free(c->outbox);
    if (c->by_route && c->by_session)
        forget_all(c, any_client, 0);
    zhashx_destroy(&c->by_route);
    zhashx_destroy(&c->by_session);
    if (c->account)
        account_unref(c->account);
    free(c);
    *clients = NULL;
}

static coord_client *client_new(coord_clients *clients, const p2c2r_envelope_msg *msg,
                                uint64_t session)
{
    coord_client *client = calloc(1, sizeof *client);
    if (!client)
        return NULL;
    client->session = session;
    client->serial = ++clients->next_serial;
    memcpy(client->route, msg->route, msg->route_len);
    client->route_len = msg->route_len;
    client->account = clients->account;
    snprintf(client->identity, sizeof client->identity, "%s", msg->user_id);
    const coord_allowed *allowed = coord_allowlist_find(clients->config.allowed, msg->user_id);
    client->max_priority = allowed ? allowed->max_priority : UINT32_MAX;
    client->max_queued_bytes = allowed ? allowed->max_queued_bytes : 0;
    atomic_init(&client->refs, 1);
    atomic_fetch_add(&clients->account->refs, 1);
    p2c2r_route_key key;
    p2c2r__route_key(msg->route, msg->route_len, key);
    int rc = session ? zhashx_insert(clients->by_session, &client->session, client)
                     : zhashx_insert(clients->by_route, key, client);
    if (rc != 0) {
        client_unref(client);
        return NULL;
    }
    return client;
}

/* The record of the sender of msg, created or moved to msg's connection as needed. Sets
 * *came_back when a client that was away (or on another connection) is back. NULL with
 * *refusal set when it may not have it. */
static coord_client *client_of(coord_clients *clients, const p2c2r_envelope_msg *msg,
                               coord_client **came_back, const char **refusal)
{
    *refusal = "coordinator out of memory";
    uint64_t session = msg->env ? msg->env->sender : 0;
    p2c2r_route_key key;
    p2c2r__route_key(msg->route, msg->route_len, key);
    coord_client *client = session ? zhashx_lookup(clients->by_session, &session)
                                   : zhashx_lookup(clients->by_route, key);
    if (!client)
        return client_new(clients, msg, session);
    /* A session is its key's: another key naming it gets nothing of it. */
    if (strcmp(client->identity, msg->user_id) != 0) {
        *refusal = "this session belongs to another client key";
        return NULL;
    }
    if (client->route_len != msg->route_len ||
        memcmp(client->route, msg->route, msg->route_len) != 0) {
        /* The same client on a new connection (only one with a session can be found
         * from another): answers go there from now on. */
        memcpy(client->route, msg->route, msg->route_len);
        client->route_len = msg->route_len;
        client->away = false;
        *came_back = client;
        log_info("client %016" PRIx64 " is back on a new connection", session);
    }
    return client;
}

void coord_clients_send_error(coord_clients *clients, const void *route, size_t route_len,
                              uint64_t task_id, int status, const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.instance = clients->config.instance;
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    int rc = p2c2r__envelope_send(clients->sock, route, route_len, &env, NULL, ZMQ_DONTWAIT);
    if (rc != P2C2R_OK)
        log_debug("error reply for task %" PRIu64 " not delivered: %s", task_id,
                  p2c2r_strerror(rc));
}

coord_client_event coord_clients_recv(coord_clients *clients, p2c2r_envelope_msg *msg,
                                      coord_client **client, coord_client **came_back)
{
    *client = NULL;
    *came_back = NULL;
    int rc = p2c2r__envelope_recv(clients->sock, true, ZMQ_DONTWAIT, msg);
    if (rc == P2C2R_E_TIMEOUT)
        return COORD_CLIENT_EMPTY;
    if (rc != P2C2R_OK) {
        if (msg->route_len > 0) {
            log_limited(P2C2R_LOG_WARN, "malformed request from a client: %s", p2c2r_strerror(rc));
            coord_clients_send_error(clients, msg->route, msg->route_len, 0, rc,
                                     "malformed request");
        }
        return COORD_CLIENT_NONE;
    }
    const p2c2r_envelope *env = msg->env;
    if (env->type != P2C2R__WIRE__MSG_TYPE__SUBMIT &&
        env->type != P2C2R__WIRE__MSG_TYPE__HEARTBEAT &&
        env->type != P2C2R__WIRE__MSG_TYPE__CANCEL) {
        coord_clients_send_error(clients, msg->route, msg->route_len, env->task_id,
                                 P2C2R_E_PROTOCOL,
                                 "clients may only send SUBMIT, CANCEL or HEARTBEAT");
        return COORD_CLIENT_NONE;
    }
    const char *refusal;
    coord_client *from = client_of(clients, msg, came_back, &refusal);
    if (!from) {
        coord_clients_send_error(clients, msg->route, msg->route_len, env->task_id,
                                 msg->user_id[0] ? P2C2R_E_DENIED : P2C2R_E_NOMEM, refusal);
        return COORD_CLIENT_NONE;
    }
    from->last_seen_us = p2c2r__now_us();
    if (env->type == P2C2R__WIRE__MSG_TYPE__CANCEL) {
        *client = from;
        return COORD_CLIENT_CANCEL;
    }
    from->batches = env->batches;
    from->inline_payloads = env->inline_payloads;
    from->reads_columns = env->reads_columns;
    if (env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT) {
        /* Answered after whatever the client's outbox holds, as a barrier would be. */
        if (clients->outbox_client == from)
            coord_clients_flush(clients);
        p2c2r_envelope beat;
        p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
        beat.instance = clients->config.instance;
        p2c2r__envelope_send(clients->sock, from->route, from->route_len, &beat, NULL,
                             ZMQ_DONTWAIT);
        return COORD_CLIENT_NONE;
    }
    *client = from;
    return COORD_CLIENT_SUBMIT;
}

bool coord_clients_budget(const coord_clients *clients, const coord_client *client, uint64_t bytes,
                          const char **detail)
{
    uint64_t mine = client->held_bytes + atomic_load(&client->sending_bytes) + bytes;
    if (client->max_queued_bytes && mine > client->max_queued_bytes) {
        *detail = "client key is over its queued-bytes limit (--allow-clients)";
        return false;
    }
    if (mine > clients->config.max_client_bytes) {
        *detail = "client is over its memory budget on the coordinator (--max-client-mb)";
        return false;
    }
    uint64_t all = clients->held_bytes + atomic_load(&clients->account->sending_bytes) + bytes;
    if (all > clients->config.max_bytes) {
        *detail = "coordinator is holding as many bytes as it may (--max-queued-mb)";
        return false;
    }
    return true;
}

int coord_clients_allows(const coord_client *client, uint32_t priority, const char **detail)
{
    if (priority <= client->max_priority)
        return P2C2R_OK;
    *detail = "priority above the highest this client key may use (--allow-clients)";
    return P2C2R_E_DENIED;
}

void coord_clients_hold(coord_clients *clients, coord_client *client, int64_t bytes)
{
    client->held_bytes += (uint64_t)bytes;
    clients->held_bytes += (uint64_t)bytes;
}

/* Put an answer in the outbox, sending what it holds first when that is another client's,
 * or it is full, or the answer's bytes would take it past P2C2R_MERGE_MAX_BYTES. payload
 * (may be NULL) is moved in. */
static int to_outbox(coord_clients *clients, coord_client *client, const p2c2r_envelope *env,
                     zmq_msg_t *payload)
{
    p2c2r_batch *box = clients->outbox;
    size_t size = payload ? zmq_msg_size(payload) : 0;
    if (clients->outbox_client != client || box->n == P2C2R_BATCH_MAX ||
        box->bytes + size > P2C2R_MERGE_MAX_BYTES) {
        coord_clients_flush(clients);
        if (client->away) {
            if (payload)
                zmq_msg_close(payload);
            return P2C2R_E_UNKNOWNPEER;
        }
        p2c2r__batch_init(box, P2C2R__WIRE__MSG_TYPE__RESULT);
        box->env.instance = clients->config.instance;
        box->inline_ok = client->inline_payloads;
        box->columns_ok = client->reads_columns;
        clients->outbox_client = client;
        atomic_fetch_add(&client->refs, 1);
    }
    p2c2r__batch_add(box, env->task_id, 0, env->status, env->detail, env->frame, env->timing,
                     payload);
    return P2C2R_OK;
}

uint64_t coord_clients_flush(coord_clients *clients)
{
    coord_client *client = clients->outbox_client;
    if (!client)
        return 0;
    size_t n = clients->outbox->n;
    int rc = client->away ? P2C2R_E_UNKNOWNPEER
                          : p2c2r__batch_send(clients->outbox, clients->sock, client->route,
                                              client->route_len, ZMQ_DONTWAIT);
    p2c2r__batch_clear(clients->outbox);
    clients->outbox_client = NULL;
    uint64_t lost = 0;
    if (rc != P2C2R_OK) {
        lost = n;
        if (rc == P2C2R_E_UNKNOWNPEER && !client->away) {
            client->away = true;
            log_info("client %016" PRIx64 " unreachable: its connection is gone", client->session);
        }
        log_limited(P2C2R_LOG_WARN, "%zu answer(s) to client %016" PRIx64 " not delivered: %s", n,
                    client->session, p2c2r_strerror(rc));
    }
    client_unref(client);
    return lost;
}

/* Results of this many bytes or fewer are not counted as bytes being sent (sending_bytes):
 * the count costs an allocation, a zero-copy wrap and its release from ZeroMQ's thread, more
 * than such a result weighs, and what a client that stops reading can pile up of them is
 * bounded anyway, by the socket's high-water mark (1000 messages, each carrying at most
 * P2C2R_MERGE_MAX_BYTES of small results: 4 MB a client). */
#define SMALL_RESULT_BYTES 1024u

/* Send an answer alone to a client that does not take batches; payload (may be NULL) is
 * taken. A client found gone is marked away. */
static int send_plain(coord_clients *clients, coord_client *client, const p2c2r_envelope *env,
                      zmq_msg_t *payload)
{
    int rc = p2c2r__envelope_send(clients->sock, client->route, client->route_len, env, payload,
                                  ZMQ_DONTWAIT);
    if (rc == P2C2R_E_UNKNOWNPEER) {
        client->away = true;
        log_info("client %016" PRIx64 " unreachable: its connection is gone", client->session);
    }
    return rc;
}

int coord_clients_answer(coord_clients *clients, coord_client *client, p2c2r_envelope *env,
                         const zmq_msg_t *payload)
{
    env->instance = clients->config.instance;
    if (client->away)
        return P2C2R_E_UNKNOWNPEER;
    if (!payload)
        return client->batches ? to_outbox(clients, client, env, NULL)
                               : send_plain(clients, client, env, NULL);
    size_t size = zmq_msg_size((zmq_msg_t *)payload);
    zmq_msg_t out;
    if (size <= SMALL_RESULT_BYTES) {
        /* Not counted: see SMALL_RESULT_BYTES. */
        zmq_msg_init(&out);
        if (zmq_msg_copy(&out, (zmq_msg_t *)payload) != 0)
            return P2C2R_E_NOMEM;
        return client->batches ? to_outbox(clients, client, env, &out)
                               : send_plain(clients, client, env, &out);
    }
    if (atomic_load(&client->sending_bytes) + size > clients->config.max_client_bytes)
        return P2C2R_E_TOOBIG;
    sent_result *sent = malloc(sizeof *sent);
    if (!sent)
        return P2C2R_E_NOMEM;
    zmq_msg_init(&sent->data);
    if (zmq_msg_copy(&sent->data, (zmq_msg_t *)payload) != 0) {
        free(sent);
        return P2C2R_E_NOMEM;
    }
    sent->client = client;
    sent->size = size;
    atomic_fetch_add(&client->refs, 1);
    atomic_fetch_add(&client->sending_bytes, size);
    atomic_fetch_add(&clients->account->sending_bytes, size);
    /* A zero-copy message over the reference: its release counts the bytes off. On a
     * failed send it is released at once, and the caller's payload is untouched. */
    int rc =
        p2c2r__envelope_payload_wrap(&out, zmq_msg_data(&sent->data), size, result_released, sent);
    if (rc != P2C2R_OK)
        return rc;
    return client->batches ? to_outbox(clients, client, env, &out)
                           : send_plain(clients, client, env, &out);
}

void coord_clients_refuse(coord_clients *clients, coord_client *client, uint64_t task_id,
                          int status, const char *detail)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    int rc = coord_clients_answer(clients, client, &env, NULL);
    if (rc != P2C2R_OK)
        log_debug("error reply for task %" PRIu64 " not delivered: %s", task_id,
                  p2c2r_strerror(rc));
}

void coord_clients_sweep(coord_clients *clients, uint64_t now_us)
{
    forget_all(clients, idle_client, now_us);
}
