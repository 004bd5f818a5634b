/* connmem_server: a bare libzmq ROUTER that sends every message straight back to its
 * sender. scale_bench connects as many DEALERs to it as it connects peers to the
 * coordinator and reads its RSS the same way: what libzmq itself costs per connection,
 * beside which the coordinator's own records per peer show.
 *
 * Socket options are the coordinator's (see coordinator.c bind_socket()). Prints the
 * endpoint it bound on stdout, then serves until it is killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

int main(void)
{
    void *ctx = zmq_ctx_new();
    void *router = ctx ? zmq_socket(ctx, ZMQ_ROUTER) : NULL;
    int one = 1, backlog = 4096, linger = 500;
    char endpoint[256];
    size_t len = sizeof endpoint;
    if (!router || zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(router, ZMQ_BACKLOG, &backlog, sizeof backlog) != 0 ||
        zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(router, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        fprintf(stderr, "connmem_server: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    printf("%s\n", endpoint);
    fflush(stdout);
    for (;;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, router, 0) < 0)
            break;
        int more = zmq_msg_more(&part);
        zmq_msg_send(&part, router, more ? ZMQ_SNDMORE : 0);
        zmq_msg_close(&part);
    }
    return 1;
}
