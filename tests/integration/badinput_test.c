/* badinput_test: bad input gets a clear error and the cluster goes on serving.
 *
 * Through the SDK: a truncated JPEG and a JPEG whose header declares 65500x65500 (the
 * most a JPEG can declare: its size fields are 16-bit, so 100000x100000 cannot be written
 * in a JPEG header) each end with P2C2R_E_BADINPUT from the peer; a frame declared as
 * 100000x100000 is refused by the SDK with P2C2R_E_TOOBIG; raw pixels of the wrong size and
 * a garbage zstd payload end with P2C2R_E_BADINPUT. Straight to the coordinator's socket:
 * garbage bytes, a 100000x100000 declaration and an unknown task kind each get an ERROR.
 * After every one of them a good frame must still come back. */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cluster.h"
#include "common/envelope.h"
#include "p2c2r.h"
#include "testutil.h"

static p2c2r_client *client;

/* Submit and wait for the one result; returns its status. */
static int run(const p2c2r_upscale_desc *desc, const void *data, size_t size)
{
    uint64_t id;
    int rc = p2c2r_submit_upscale(client, desc, data, size, &id);
    if (rc != P2C2R_OK)
        return rc;
    p2c2r_result *r;
    if (p2c2r_poll(client, 30000, &r) != P2C2R_OK)
        return P2C2R_E_TIMEOUT;
    CHECK(p2c2r_result_task_id(r) == id);
    rc = p2c2r_result_status(r);
    if (rc != P2C2R_OK) {
        printf("  -> %s: %s\n", p2c2r_errname(rc), p2c2r_result_detail(r));
        CHECK(p2c2r_result_detail(r)[0] != '\0'); /* a clear error says what was wrong */
    }
    p2c2r_result_free(&r);
    return rc;
}

/* Overwrite the frame size in the JPEG's start-of-frame marker. */
static int patch_sof(uint8_t *jpeg, size_t size, uint16_t width, uint16_t height)
{
    for (size_t i = 2; i + 9 < size; i++) {
        if (jpeg[i] == 0xff &&
            (jpeg[i + 1] == 0xc0 || jpeg[i + 1] == 0xc1 || jpeg[i + 1] == 0xc2)) {
            jpeg[i + 5] = (uint8_t)(height >> 8);
            jpeg[i + 6] = (uint8_t)height;
            jpeg[i + 7] = (uint8_t)(width >> 8);
            jpeg[i + 8] = (uint8_t)width;
            return 0;
        }
    }
    return -1;
}

/* Send raw frames on a DEALER to the coordinator and return the status of its answer. */
static int raw_request(void *dealer, const void *head, size_t head_size, int with_payload)
{
    zmq_send(dealer, head, head_size, with_payload ? ZMQ_SNDMORE : 0);
    if (with_payload)
        zmq_send(dealer, "payload", 7, 0);
    p2c2r_envelope_msg msg;
    int rc = p2c2r__envelope_recv(dealer, false, 0, &msg);
    int status = rc == P2C2R_OK ? msg.env->status : rc;
    if (rc == P2C2R_OK) {
        CHECK(msg.env->type == P2C2R__WIRE__MSG_TYPE__ERROR);
        printf("  -> coordinator: %s: %s\n", p2c2r_errname(status), msg.env->detail);
    }
    p2c2r__envelope_msg_close(&msg);
    return status;
}

static void coordinator_rejects(const char *endpoint)
{
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int timeout = 10000, linger = 0;
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    CHECK(zmq_connect(dealer, endpoint) == 0);

    printf("garbage envelope\n");
    CHECK_RC(raw_request(dealer, "\xff\xfe\xfd garbage", 12, 1), P2C2R_E_PROTOCOL);

    P2c2r__Wire__Frame frame = P2C2R__WIRE__FRAME__INIT;
    frame.codec = P2C2R__WIRE__CODEC__CODEC_JPEG;
    frame.width = 100000;
    frame.height = 100000;
    P2c2r__Wire__UpscaleParams up = P2C2R__WIRE__UPSCALE_PARAMS__INIT;
    up.scale = 2;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.task_id = 7;
    env.kind = "upscale";
    env.deadline_us = 1000000;
    env.frame = &frame;
    env.upscale = &up;
    zmq_msg_t head;
    printf("declared 100000x100000 straight to the coordinator\n");
    CHECK_RC(p2c2r__envelope_encode(&env, &head), P2C2R_OK);
    CHECK_RC(raw_request(dealer, zmq_msg_data(&head), zmq_msg_size(&head), 1), P2C2R_E_TOOBIG);
    zmq_msg_close(&head);

    printf("unknown task kind\n");
    env.kind = "sharpen";
    CHECK_RC(p2c2r__envelope_encode(&env, &head), P2C2R_OK);
    CHECK_RC(raw_request(dealer, zmq_msg_data(&head), zmq_msg_size(&head), 1), P2C2R_E_UNSUPPORTED);
    zmq_msg_close(&head);

    zmq_close(dealer);
    zmq_ctx_term(ctx);
}

int main(void)
{
    size_t size;
    uint8_t *good = testutil_read_file(testutil_data_path("bythewater_420.jpg"), &size);
    if (!good)
        return 1;
    cluster cl = {0};
    const char *const peer_args[] = {"--slots", "1", NULL};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    p2c2r_client_config config = {.coordinator = cl.client_endpoint};
    client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client)
        goto done;
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 30000};

    printf("good frame\n");
    CHECK_RC(run(&desc, good, size), P2C2R_OK);

    printf("truncated JPEG\n");
    CHECK_RC(run(&desc, good, size / 2), P2C2R_E_BADINPUT);
    CHECK_RC(run(&desc, good, size), P2C2R_OK);

    printf("JPEG header declaring 65500x65500\n");
    uint8_t *huge = malloc(size);
    memcpy(huge, good, size);
    CHECK(patch_sof(huge, size, 65500, 65500) == 0);
    CHECK_RC(run(&desc, huge, size), P2C2R_E_BADINPUT);
    CHECK_RC(run(&desc, good, size), P2C2R_OK);
    free(huge);

    printf("frame declared as 100000x100000\n");
    p2c2r_upscale_desc declared = desc;
    declared.width = declared.height = 100000;
    CHECK_RC(run(&declared, good, size), P2C2R_E_TOOBIG);

    printf("raw pixels of the wrong size\n");
    p2c2r_upscale_desc raw = {.codec = P2C2R_CODEC_RAW,
                              .pixel_format = P2C2R_PIX_RGB24,
                              .width = 64,
                              .height = 64,
                              .scale = 2,
                              .deadline_ms = 30000};
    CHECK_RC(run(&raw, good, 1000), P2C2R_E_BADINPUT);

    printf("garbage zstd payload\n");
    raw.codec = P2C2R_CODEC_ZSTD;
    CHECK_RC(run(&raw, good, 1000), P2C2R_E_BADINPUT);

    coordinator_rejects(cl.client_endpoint);

    printf("good frame after all that\n");
    CHECK_RC(run(&desc, good, size), P2C2R_OK);
    CHECK(p2c2r_client_pending(client) == 0);
done:
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    free(good);
    return testutil_finish("badinput_test");
}
