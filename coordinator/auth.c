/* auth: see auth.h. */
#include "coordinator/auth.h"

#include <inttypes.h>
#include <string.h>

#include "common/curve.h"
#include "common/log.h"
#include "p2c2r_error.h"

#define ZAP_ENDPOINT   "inproc://zeromq.zap.01"
#define DOMAIN_PEERS   "peers"
#define DOMAIN_CLIENTS "clients"

struct coord_auth {
    p2c2r_curve_key public_key; /* the coordinator's, for the log */
    p2c2r_curve_key secret_key; /* the coordinator's */
    coord_allowlist *peers;     /* keys that may register as peers */
    coord_allowlist *clients;   /* keys that may submit, with their limits */
    zsock_t *zap;               /* REP on ZAP_ENDPOINT */
    zsock_t *monitor[2];        /* PAIR receiving the handshake failures of the peers and the
                                   clients socket (NULL until secured) */
    coord_auth_stats stats;     /* counts */
};

/* A key on both lists would have both roles: refused at start. */
static int check_disjoint(const coord_auth *auth, char *why, size_t why_size)
{
    const char *both = coord_allowlist_shared(auth->peers, auth->clients);
    if (!both)
        return P2C2R_OK;
    snprintf(why, why_size, "key %s is on both the peers and the clients allowlist", both);
    return P2C2R_E_INVAL;
}

coord_auth *coord_auth_new(const char *secret_file, const char *peers_file,
                           const char *clients_file, char *why, size_t why_size)
{
    if (!p2c2r__curve_available()) {
        snprintf(why, why_size, "%s", p2c2r__curve_missing());
        return NULL;
    }
    coord_auth *auth = calloc(1, sizeof *auth);
    if (!auth) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    if (p2c2r__curve_load(secret_file, auth->public_key, auth->secret_key, why, why_size) ||
        coord_allowlist_load(peers_file, false, &auth->peers, why, why_size) ||
        coord_allowlist_load(clients_file, true, &auth->clients, why, why_size) ||
        check_disjoint(auth, why, why_size))
        goto fail;
    auth->zap = zsock_new(ZMQ_REP);
    if (!auth->zap || zsock_bind(auth->zap, ZAP_ENDPOINT) != 0) {
        snprintf(why, why_size, "cannot bind the ZAP handler on %s: %s", ZAP_ENDPOINT,
                 zmq_strerror(errno));
        goto fail;
    }
    zsock_set_rcvtimeo(auth->zap, 0); /* read only what is waiting */
    log_info("CURVE on: coordinator key %s, %zu peer key(s), %zu client key(s)", auth->public_key,
             coord_allowlist_size(auth->peers), coord_allowlist_size(auth->clients));
    return auth;
fail:
    coord_auth_destroy(&auth);
    return NULL;
}

void coord_auth_destroy(coord_auth **auth)
{
    if (!auth || !*auth)
        return;
    coord_auth *a = *auth;
    if (a->zap) {
        coord_auth_handle(a); /* what happened last still counts */
        log_info("auth: %" PRIu64 " connection(s) accepted, %" PRIu64 " refused (%" PRIu64
                 " unknown key(s), %" PRIu64 " key(s) of the other role, %" PRIu64
                 " failed CURVE handshake(s))",
                 a->stats.accepted,
                 a->stats.unknown_key + a->stats.wrong_role + a->stats.failed_curve,
                 a->stats.unknown_key, a->stats.wrong_role, a->stats.failed_curve);
    }
    zsock_destroy(&a->monitor[0]);
    zsock_destroy(&a->monitor[1]);
    zsock_destroy(&a->zap);
    coord_allowlist_destroy(&a->peers);
    coord_allowlist_destroy(&a->clients);
    memset(a->secret_key, 0, sizeof a->secret_key);
    free(a);
    *auth = NULL;
}

int coord_auth_secure(coord_auth *auth, zsock_t *sock, bool peers)
{
    int rc = p2c2r__curve_server_setup(zsock_resolve(sock), auth->secret_key,
                                       peers ? DOMAIN_PEERS : DOMAIN_CLIENTS);
    if (rc != P2C2R_OK)
        return rc;
    char name[64];
    snprintf(name, sizeof name, "inproc://p2c2r-auth-monitor-%s", peers ? "peers" : "clients");
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    zsock_t **mon = &auth->monitor[peers ? 0 : 1];
    if (zmq_socket_monitor(zsock_resolve(sock), name, events) != 0 ||
        !(*mon = zsock_new(ZMQ_PAIR)) || zsock_connect(*mon, "%s", name) != 0)
        return P2C2R_E_IO;
    zsock_set_rcvtimeo(*mon, 0);
    return P2C2R_OK;
}

int coord_auth_poll_items(coord_auth *auth, zmq_pollitem_t *items)
{
    int n = 0;
    items[n++] = (zmq_pollitem_t){zsock_resolve(auth->zap), 0, ZMQ_POLLIN, 0};
    for (int i = 0; i < 2; i++)
        if (auth->monitor[i])
            items[n++] = (zmq_pollitem_t){zsock_resolve(auth->monitor[i]), 0, ZMQ_POLLIN, 0};
    return n;
}

/* The verdict on one key presented to the socket of this domain: NULL to let it in, or
 * why not (counted). */
static const char *judge(coord_auth *auth, const char *domain, const char *key)
{
    bool as_peer = strcmp(domain, DOMAIN_PEERS) == 0;
    const coord_allowlist *mine = as_peer ? auth->peers : auth->clients;
    const coord_allowlist *other = as_peer ? auth->clients : auth->peers;
    if (coord_allowlist_find(mine, key)) {
        auth->stats.accepted++;
        return NULL;
    }
    if (coord_allowlist_find(other, key)) {
        auth->stats.wrong_role++;
        return as_peer ? "a client key may not register as a peer"
                       : "a peer key may not submit as a client";
    }
    auth->stats.unknown_key++;
    return "unknown key";
}

/* One ZAP request: version, request id, domain, address, routing id, mechanism, then the
 * credentials (CURVE: the client's 32-byte public key). */
static void on_zap(coord_auth *auth, zmsg_t *req)
{
    char *version = zmsg_popstr(req);
    char *request_id = zmsg_popstr(req);
    char *domain = zmsg_popstr(req);
    char *address = zmsg_popstr(req);
    char *routing = zmsg_popstr(req);
    char *mechanism = zmsg_popstr(req);
    zframe_t *cred = zmsg_pop(req);
    p2c2r_curve_key key = "";
    const char *refusal = "not a CURVE connection";
    if (version && strcmp(version, "1.0") == 0 && mechanism && strcmp(mechanism, "CURVE") == 0 &&
        cred && zframe_size(cred) == 32 && domain) {
        zmq_z85_encode(key, zframe_data(cred), 32);
        refusal = judge(auth, domain, key);
    } else {
        auth->stats.unknown_key++;
    }
    if (refusal)
        log_limited(P2C2R_LOG_WARN, "refused key %s on the %s socket from %s: %s",
                    key[0] ? key : "(none)", domain ? domain : "?", address ? address : "?",
                    refusal);
    zmsg_t *reply = zmsg_new();
    if (reply) {
        zmsg_addstr(reply, "1.0");
        zmsg_addstr(reply, request_id ? request_id : "");
        zmsg_addstr(reply, refusal ? "400" : "200");
        zmsg_addstr(reply, refusal ? refusal : "OK");
        zmsg_addstr(reply, refusal ? "" : key); /* the User-Id of the connection's messages */
        zmsg_addmem(reply, NULL, 0);            /* no metadata */
        zmsg_send(&reply, auth->zap);
    }
    zframe_destroy(&cred);
    free(version);
    free(request_id);
    free(domain);
    free(address);
    free(routing);
    free(mechanism);
}

/* One monitor event: [uint16 event, uint32 value][endpoint]. */
static void on_monitor(coord_auth *auth, zmsg_t *ev, const char *role)
{
    zframe_t *head = zmsg_first(ev);
    if (!head || zframe_size(head) < 6)
        return;
    uint16_t event;
    uint32_t value;
    memcpy(&event, zframe_data(head), sizeof event);
    memcpy(&value, zframe_data(head) + 2, sizeof value);
    if (event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL &&
        event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        return;
    auth->stats.failed_curve++;
    log_limited(P2C2R_LOG_WARN,
                "a connection to the %s socket failed its CURVE handshake (no CURVE, or the "
                "wrong coordinator key): event 0x%x, detail 0x%x",
                role, event, value);
}

void coord_auth_handle(coord_auth *auth)
{
    zmsg_t *m;
    while ((m = zmsg_recv(auth->zap))) {
        on_zap(auth, m);
        zmsg_destroy(&m);
    }
    for (int i = 0; i < 2; i++) {
        if (!auth->monitor[i])
            continue;
        while ((m = zmsg_recv(auth->monitor[i]))) {
            on_monitor(auth, m, i == 0 ? "peers" : "clients");
            zmsg_destroy(&m);
        }
    }
}

const coord_allowlist *coord_auth_clients(const coord_auth *auth)
{
    return auth->clients;
}

void coord_auth_stats_get(const coord_auth *auth, coord_auth_stats *stats)
{
    *stats = auth->stats;
}
