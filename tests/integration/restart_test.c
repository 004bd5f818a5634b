/* restart_test: an answer from before a coordinator restart never reaches a client of the
 * new coordinator.
 *
 * A peer played by hand takes client A's task from coordinator 1, which then crashes and
 * is restarted on the same ports. The peer registers with coordinator 2 and is given
 * client B's task, numbered as A's was (each coordinator counts from the start). The peer
 * now sends the stale answer — A's frame, under coordinator 1's numbers — and only then
 * B's. B must get its own frame: the stale answer carries coordinator 1's instance and is
 * dropped, where matching on the task id alone would hand A's frame to B. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

static const char frame_a[] = "frame of client A";
static const char frame_b[] = "frame of client B";

/* Wait for an ASSIGN on the hand-played peer; fills its id and instance. */
static int await_assign(void *peer, uint64_t *task_id, uint64_t *instance, char *payload,
                        size_t size)
{
    for (int i = 0; i < 100; i++) {
        p2c2r_envelope_msg msg;
        int rc = testwire_recv(peer, 100, &msg);
        if (rc == P2C2R_OK && msg.env->type == P2C2R__WIRE__MSG_TYPE__ASSIGN) {
            *task_id = msg.env->task_id;
            *instance = msg.env->instance;
            size_t n = zmq_msg_size(&msg.payload);
            n = n < size - 1 ? n : size - 1;
            memcpy(payload, zmq_msg_data(&msg.payload), n);
            payload[n] = '\0';
            p2c2r__envelope_msg_close(&msg);
            return 0;
        }
        p2c2r__envelope_msg_close(&msg);
    }
    return -1;
}

/* Say hello until the coordinator answers with its instance (it may be restarting). */
static uint64_t register_peer(void *peer, uint64_t sender)
{
    for (int i = 0; i < 50; i++) {
        testwire_hello(peer, sender, 1);
        p2c2r_envelope_msg msg;
        int rc = testwire_recv(peer, 200, &msg);
        uint64_t instance = rc == P2C2R_OK && msg.env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT
                                ? msg.env->instance
                                : 0;
        p2c2r__envelope_msg_close(&msg);
        if (instance)
            return instance;
    }
    return 0;
}

static void send_result(void *peer, uint64_t instance, uint64_t task_id, const char *payload)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
    env.instance = instance;
    env.task_id = task_id;
    testwire_send(peer, &env, payload, strlen(payload));
}

int main(void)
{
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL)) {
        cluster_stop(&cl);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *peer = testwire_dealer(ctx, cl.peer_endpoint);
    void *client_a = testwire_dealer(ctx, cl.client_endpoint);
    CHECK(peer && client_a);
    uint64_t sender = 0x5eed5eed5eed5eedull;
    uint64_t instance1 = register_peer(peer, sender);
    CHECK(instance1 != 0);

    /* Client A, written from the proto: one noop task with its frame. */
    p2c2r_envelope submit;
    p2c2r__envelope_init(&submit, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    submit.kind = "noop";
    submit.task_id = 1;
    submit.deadline_us = 30000000u;
    testwire_send(client_a, &submit, frame_a, strlen(frame_a));
    uint64_t old_id = 0, old_instance = 0;
    char got[64];
    CHECK(await_assign(peer, &old_id, &old_instance, got, sizeof got) == 0);
    CHECK(strcmp(got, frame_a) == 0);
    CHECK(old_instance == instance1);
    printf("coordinator 1 (instance %016llx) assigned A's task as %llu\n",
           (unsigned long long)old_instance, (unsigned long long)old_id);

    printf("crashing coordinator 1, starting coordinator 2 on the same ports\n");
    CHECK(cluster_restart_coordinator(&cl, SIGKILL, NULL) == 0);
    uint64_t instance2 = register_peer(peer, sender);
    CHECK(instance2 != 0 && instance2 != instance1);

    p2c2r_client_config config = {.coordinator = cl.client_endpoint};
    p2c2r_client *client_b = p2c2r_client_new(&config, NULL);
    CHECK(client_b != NULL);
    uint64_t b_id = 0;
    if (client_b)
        CHECK_RC(p2c2r_submit_noop(client_b, frame_b, strlen(frame_b), 10000, &b_id), P2C2R_OK);
    uint64_t new_id = 0, new_instance = 0;
    CHECK(await_assign(peer, &new_id, &new_instance, got, sizeof got) == 0);
    CHECK(strcmp(got, frame_b) == 0);
    printf("coordinator 2 (instance %016llx) assigned B's task as %llu\n",
           (unsigned long long)new_instance, (unsigned long long)new_id);

    printf("the peer sends A's stale answer first, then B's\n");
    send_result(peer, old_instance, old_id, frame_a);
    usleep(200000);
    send_result(peer, new_instance, new_id, frame_b);

    p2c2r_result *r = NULL;
    if (client_b)
        CHECK_RC(p2c2r_poll(client_b, 10000, &r), P2C2R_OK);
    if (r) {
        size_t n;
        const char *data = p2c2r_result_data(r, &n);
        printf("client B got %s: '%.*s'\n", p2c2r_errname(p2c2r_result_status(r)), (int)n, data);
        CHECK(p2c2r_result_task_id(r) == b_id);
        CHECK_RC(p2c2r_result_status(r), P2C2R_OK);
        CHECK(n == strlen(frame_b) && memcmp(data, frame_b, n) == 0);
        p2c2r_result_free(&r);
    }
    /* Nothing else may come for B: its task has ended. */
    if (client_b)
        CHECK_RC(p2c2r_poll(client_b, 300, &r), P2C2R_E_TIMEOUT);
    p2c2r_client_destroy(&client_b);
    zmq_close(peer);
    zmq_close(client_a);
    zmq_ctx_term(ctx);
    CHECK(cluster_stop(&cl) == 0);
    return testutil_finish("restart_test");
}
