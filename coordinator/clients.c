/* clients: see clients.h. */
#include "coordinator/clients.h"

#include <inttypes.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/task.h"

struct coord_clients {
    void *sock; /* clients ROUTER (raw libzmq handle), not owned */
};

coord_clients *coord_clients_new(void *sock)
{
    coord_clients *clients = calloc(1, sizeof *clients);
    if (!clients)
        return NULL;
    clients->sock = sock;
    return clients;
}

void coord_clients_destroy(coord_clients **clients)
{
    if (!clients || !*clients)
        return;
    free(*clients);
    *clients = NULL;
}

int coord_clients_send(coord_clients *clients, const void *route, size_t route_len,
                       const p2c2r_envelope *env, zmq_msg_t *payload)
{
    return p2c2r__envelope_send(clients->sock, route, route_len, env, payload, ZMQ_DONTWAIT);
}

void coord_clients_send_error(coord_clients *clients, const void *route, size_t route_len,
                              uint64_t task_id, int status, const char *detail,
                              const P2c2r__Wire__Timing *timing)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
    env.task_id = task_id;
    env.status = status;
    env.detail = (char *)detail;
    env.timing = (P2c2r__Wire__Timing *)timing;
    int rc = coord_clients_send(clients, route, route_len, &env, NULL);
    if (rc != P2C2R_OK)
        log_debug("error reply for task %" PRIu64 " not delivered: %s", task_id,
                  p2c2r_strerror(rc));
}

int coord_clients_recv(coord_clients *clients, p2c2r_envelope_msg *msg)
{
    int rc = p2c2r__envelope_recv(clients->sock, true, ZMQ_DONTWAIT, msg);
    if (rc != P2C2R_OK) {
        if (msg->route_len > 0)
            coord_clients_send_error(clients, msg->route, msg->route_len, 0, rc,
                                     "malformed request", NULL);
        return rc;
    }
    const p2c2r_envelope *env = msg->env;
    if (env->type != P2C2R__WIRE__MSG_TYPE__SUBMIT) {
        coord_clients_send_error(clients, msg->route, msg->route_len, env->task_id,
                                 P2C2R_E_PROTOCOL, "clients may only send SUBMIT", NULL);
        return P2C2R_E_PROTOCOL;
    }
    size_t size = msg->has_payload ? zmq_msg_size(&msg->payload) : 0;
    const char *detail;
    rc = p2c2r__task_validate(env, size, &detail);
    if (rc != P2C2R_OK)
        coord_clients_send_error(clients, msg->route, msg->route_len, env->task_id, rc, detail,
                                 NULL);
    return rc;
}
