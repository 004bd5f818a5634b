/* curve_test: identities with CurveZMQ (coordinator/auth.h). A coordinator with a secret
 * key and two allowlists, a peer with a peer key, and:
 *
 * - an authenticated client (the SDK) is served: noop payloads come back byte for byte,
 *   and a JPEG frame comes back upscaled;
 * - connections that must be refused are refused every time, each tried REPEATS times on a
 *   socket of its own (a DEALER with the keys, or none, that sends a SUBMIT or a
 *   PEER_HELLO at once): an unknown client key, a client key on the peers socket, a peer
 *   key on the clients socket, plaintext clients and peers, and clients and peers that
 *   have the wrong coordinator key. None may complete its handshake; the coordinator's
 *   counts (the auth line it logs at shutdown) must match what was tried, and no task of
 *   theirs may be admitted or reach the peer;
 * - the real programs refused: the SDK with an unknown key (its tasks end saying the
 *   coordinator refused it) and p2c2r-peer with a client key (never registered);
 * - a client key with limits: a SUBMIT above its priority gets P2C2R_E_DENIED and one past
 *   its queued bytes P2C2R_E_BUSY, each saying why, while one within both is served.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "common/curve.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

#define REPEATS    8
#define NOOPS      12
#define NOOP_BYTES 4096
#define WAIT_MS    10000 /* a handshake's verdict comes long before */
#define LIMIT_KB   64    /* queued-bytes of the limited client key */

typedef struct keypair {
    p2c2r_curve_key pub, sec;
} keypair;

static char dir[] = "/tmp/p2c2r-curve-XXXXXX";

static int make_key(const char *name, keypair *k)
{
    char path[256], why[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (p2c2r__curve_keygen(path, why, sizeof why) != P2C2R_OK ||
        p2c2r__curve_load(path, k->pub, k->sec, why, sizeof why) != P2C2R_OK) {
        fprintf(stderr, "curve_test: %s\n", why);
        return -1;
    }
    return 0;
}

static int write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* One connection attempt on a socket of its own: keys NULL for plaintext. It sends a
 * PEER_HELLO (as_peer) or a SUBMIT at once, queued until the handshake is done. Returns 1
 * when refused (the handshake failed, or the coordinator closed the connection), 0 when the
 * handshake succeeded, -1 when nothing happened at all. */
static int attempt(void *ctx, const char *endpoint, const keypair *mine, const char *server,
                   bool as_peer)
{
    static int seq;
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    int zero = 0, never = -1;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &never, sizeof never); /* one try per socket */
    if (mine)
        CHECK_RC(p2c2r__curve_client_setup(s, mine->pub, mine->sec, server), P2C2R_OK);
    char name[64];
    snprintf(name, sizeof name, "inproc://curve-test-%d", seq++);
    CHECK(zmq_socket_monitor(s, name,
                             ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED) ==
          0);
    zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(mon, ZMQ_RCVTIMEO, &(int){WAIT_MS}, sizeof(int));
    CHECK(zmq_connect(mon, name) == 0);
    CHECK(zmq_connect(s, endpoint) == 0);
    if (as_peer) {
        testwire_hello(s, 1000 + (uint64_t)seq, 2);
    } else {
        static uint8_t payload[64];
        p2c2r_envelope env;
        p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
        env.sender = 5000 + (uint64_t)seq;
        env.task_id = 1;
        env.kind = "noop";
        env.deadline_us = 5000000;
        testwire_send(s, &env, payload, sizeof payload);
    }
    int verdict = -1;
    zmq_msg_t ev;
    zmq_msg_init(&ev);
    if (zmq_msg_recv(&ev, mon, 0) >= 2) {
        uint16_t event;
        memcpy(&event, zmq_msg_data(&ev), sizeof event);
        verdict = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED ? 0 : 1;
    }
    zmq_msg_close(&ev);
    zmq_socket_monitor(s, NULL, 0);
    zmq_close(s);
    zmq_close(mon);
    return verdict;
}

/* Try REPEATS times; CHECK that every try was refused. */
static void refused_every_time(void *ctx, const char *what, const char *endpoint,
                               const keypair *mine, const char *server, bool as_peer)
{
    int refused = 0, verdict = 1;
    for (int i = 0; i < REPEATS && verdict != -1; i++) /* no verdict: stop waiting */
        refused += (verdict = attempt(ctx, endpoint, mine, server, as_peer)) == 1;
    printf("curve_test: %s: refused %d of %d\n", what, refused, REPEATS);
    if (refused != REPEATS)
        fprintf(stderr, "curve_test: %s got in (or no verdict) %d time(s)\n", what,
                REPEATS - refused);
    CHECK(refused == REPEATS);
}

/* Wait for one result of client (up to WAIT_MS); NULL when none came. */
static p2c2r_result *next_result(p2c2r_client *c)
{
    p2c2r_result *r = NULL;
    if (p2c2r_poll(c, WAIT_MS, &r) != P2C2R_OK)
        return NULL;
    return r;
}

static p2c2r_client *client_with(const char *endpoint, const keypair *k, const char *server)
{
    p2c2r_client_config cfg = {.coordinator = endpoint,
                               .curve_public_key = k->pub,
                               .curve_secret_key = k->sec,
                               .coordinator_public_key = server};
    int err = 0;
    p2c2r_client *c = p2c2r_client_new(&cfg, &err);
    CHECK_RC(err, P2C2R_OK);
    return c;
}

/* The authenticated client: noop payloads and a JPEG frame come back. Returns the tasks
 * it had served. */
static int served(const char *endpoint, const keypair *k, const char *server)
{
    p2c2r_client *c = client_with(endpoint, k, server);
    if (!c)
        return 0;
    uint8_t payload[NOOPS][NOOP_BYTES];
    uint64_t ids[NOOPS + 1];
    uint64_t seed = 7;
    for (int i = 0; i < NOOPS; i++) {
        for (int j = 0; j < NOOP_BYTES; j++)
            payload[i][j] = (uint8_t)testutil_rand(&seed);
        CHECK_RC(p2c2r_submit_noop(c, payload[i], NOOP_BYTES, 10000, &ids[i]), P2C2R_OK);
    }
    size_t jpeg_size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("path_444.jpg"), &jpeg_size);
    p2c2r_upscale_desc d = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 20000};
    CHECK(jpeg && p2c2r_submit_upscale(c, &d, jpeg, jpeg_size, &ids[NOOPS]) == P2C2R_OK);
    int seen[NOOPS + 1] = {0}, ok = 0;
    for (int n = 0; n < NOOPS + 1; n++) {
        p2c2r_result *r = next_result(c);
        CHECK(r != NULL);
        if (!r)
            break;
        int i = testutil_task_ended(ids, seen, NOOPS + 1, p2c2r_result_task_id(r));
        size_t size = 0;
        const void *data = p2c2r_result_data(r, &size);
        if (p2c2r_result_status(r) != P2C2R_OK)
            fprintf(stderr, "curve_test: task failed: %s\n", p2c2r_result_detail(r));
        CHECK(p2c2r_result_status(r) == P2C2R_OK);
        if (i >= 0 && i < NOOPS)
            CHECK(size == NOOP_BYTES && memcmp(data, payload[i], NOOP_BYTES) == 0);
        else if (i == NOOPS)
            CHECK(p2c2r_result_width(r) > 0 && p2c2r_result_codec(r) == P2C2R_CODEC_JPEG);
        ok += p2c2r_result_status(r) == P2C2R_OK;
        p2c2r_result_free(&r);
    }
    free(jpeg);
    p2c2r_client_destroy(&c);
    return ok;
}

/* The client key with limits: priority=2, queued-bytes=LIMIT_KB k. Returns the tasks
 * served (admitted). */
static int limited(const char *endpoint, const keypair *k, const char *server)
{
    p2c2r_client *c = client_with(endpoint, k, server);
    if (!c)
        return 0;
    size_t jpeg_size;
    uint8_t *jpeg = testutil_read_file(testutil_data_path("path_444.jpg"), &jpeg_size);
    static uint8_t big[(LIMIT_KB + 1) * 1024];
    uint64_t high, within, over, small;
    p2c2r_upscale_desc d = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 20000};
    d.priority = 3;
    CHECK(jpeg && p2c2r_submit_upscale(c, &d, jpeg, jpeg_size, &high) == P2C2R_OK);
    d.priority = 2;
    CHECK(jpeg && p2c2r_submit_upscale(c, &d, jpeg, jpeg_size, &within) == P2C2R_OK);
    CHECK_RC(p2c2r_submit_noop(c, big, sizeof big, 20000, &over), P2C2R_OK);
    CHECK_RC(p2c2r_submit_noop(c, big, 1024, 20000, &small), P2C2R_OK);
    int served = 0;
    for (int n = 0; n < 4; n++) {
        p2c2r_result *r = next_result(c);
        CHECK(r != NULL);
        if (!r)
            break;
        uint64_t id = p2c2r_result_task_id(r);
        int st = p2c2r_result_status(r);
        const char *detail = p2c2r_result_detail(r);
        printf("curve_test: limited key, task %s: %s %s\n",
               id == high     ? "priority 3"
               : id == within ? "priority 2"
               : id == over   ? "over queued-bytes"
                              : "small",
               p2c2r_errname(st), detail ? detail : "");
        if (id == high)
            CHECK(st == P2C2R_E_DENIED && detail && strstr(detail, "priority"));
        else if (id == over)
            CHECK(st == P2C2R_E_BUSY && detail && strstr(detail, "queued-bytes"));
        else
            CHECK(st == P2C2R_OK);
        served += id == within || id == small;
        p2c2r_result_free(&r);
    }
    free(jpeg);
    p2c2r_client_destroy(&c);
    return served;
}

/* The SDK with a key the coordinator does not know: its task ends saying it was refused. */
static void sdk_refused(const char *endpoint, const keypair *k, const char *server)
{
    p2c2r_client *c = client_with(endpoint, k, server);
    if (!c)
        return;
    uint64_t id;
    CHECK_RC(p2c2r_submit_noop(c, "x", 1, 1500, &id), P2C2R_OK);
    p2c2r_result *r = next_result(c);
    CHECK(r != NULL);
    if (r) {
        const char *detail = p2c2r_result_detail(r);
        printf("curve_test: SDK with an unknown key: %s %s\n",
               p2c2r_errname(p2c2r_result_status(r)), detail ? detail : "");
        CHECK(p2c2r_result_status(r) == P2C2R_E_COORDLOST);
        CHECK(detail && strstr(detail, "refused"));
        p2c2r_result_free(&r);
    }
    p2c2r_client_destroy(&c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a test killed for its time shows how far it got */
    if (!p2c2r__curve_available()) {
        printf("curve_test: %s\n", p2c2r__curve_missing());
        return 77;
    }
    if (!mkdtemp(dir))
        return 1;
    keypair coord, peer, client, lim, stranger, other_coord;
    if (make_key("coord", &coord) || make_key("peer", &peer) || make_key("client", &client) ||
        make_key("limited", &lim) || make_key("stranger", &stranger) ||
        make_key("other", &other_coord))
        return 1;
    char text[512];
    snprintf(text, sizeof text, "# peers\n%s\n", peer.pub);
    CHECK(write_file("peers.allow", text) == 0);
    snprintf(text, sizeof text, "%s   # the game\n%s priority=2 queued-bytes=%dk\n", client.pub,
             lim.pub, LIMIT_KB);
    CHECK(write_file("clients.allow", text) == 0);

    char secret[256], peers_allow[256], clients_allow[256], peer_secret[256], client_as_peer[256],
        coord_pub[256];
    snprintf(secret, sizeof secret, "%s/coord_secret", dir);
    snprintf(coord_pub, sizeof coord_pub, "%s/coord", dir);
    snprintf(peers_allow, sizeof peers_allow, "%s/peers.allow", dir);
    snprintf(clients_allow, sizeof clients_allow, "%s/clients.allow", dir);
    snprintf(peer_secret, sizeof peer_secret, "%s/peer_secret", dir);
    snprintf(client_as_peer, sizeof client_as_peer, "%s/client_secret", dir);
    char log_path[] = "/tmp/p2c2r-log-XXXXXX", peer_log[] = "/tmp/p2c2r-log-XXXXXX";
    if (testutil_temp_file(log_path) || testutil_temp_file(peer_log))
        return 1;

    cluster cl = {.coordinator_log = log_path, .peer_log = peer_log};
    const char *const coord_args[] = {
        "--curve-secret", secret, "--allow-peers", peers_allow, "--allow-clients",
        clients_allow,    NULL};
    /* The peer gets the coordinator's key as a file, the clients as Z85 text. */
    const char *const peer_args[] = {
        "--slots", "2",      "--curve-secret", peer_secret, "--coordinator-key",
        coord_pub, "--name", "good",           NULL};
    if (cluster_start_coordinator(&cl, coord_args) || cluster_add_peer(&cl, peer_args) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    /* p2c2r-peer with a client key: refused from the start to the end of the run (it keeps
     * trying). */
    const char *const bad_peer[] = {"--curve-secret",
                                    client_as_peer,
                                    "--coordinator-key",
                                    coord_pub,
                                    "--name",
                                    "impostor",
                                    NULL};
    CHECK(cluster_add_peer(&cl, bad_peer) >= 0);

    int admitted = served(cl.client_endpoint, &client, coord.pub);
    printf("curve_test: authenticated client: %d of %d task(s) served\n", admitted, NOOPS + 1);
    CHECK(admitted == NOOPS + 1);

    void *ctx = zmq_ctx_new();
    const char *ce = cl.client_endpoint, *pe = cl.peer_endpoint;
    refused_every_time(ctx, "unknown client key", ce, &stranger, coord.pub, false);
    refused_every_time(ctx, "unknown key as a peer", pe, &stranger, coord.pub, true);
    refused_every_time(ctx, "client key used as a peer", pe, &client, coord.pub, true);
    refused_every_time(ctx, "peer key used as a client", ce, &peer, coord.pub, false);
    refused_every_time(ctx, "plaintext client", ce, NULL, NULL, false);
    refused_every_time(ctx, "plaintext peer", pe, NULL, NULL, true);
    refused_every_time(ctx, "client with the wrong coordinator key", ce, &client, other_coord.pub,
                       false);
    refused_every_time(ctx, "peer with the wrong coordinator key", pe, &peer, other_coord.pub,
                       true);
    zmq_ctx_term(ctx);

    /* The SDK with an unknown key, refused. */
    sdk_refused(ce, &stranger, coord.pub);

    admitted += limited(ce, &lim, coord.pub);
    CHECK(cluster_stop(&cl) == 0);

    /* The coordinator's own counts, from its shutdown lines. */
    long unknown = testutil_number_before(log_path, " unknown key(s)");
    long role = testutil_number_before(log_path, " key(s) of the other role");
    long failed = testutil_number_before(log_path, " failed CURVE handshake(s)");
    long tasks = testutil_number_before(log_path, " task(s) admitted");
    char good_ran[64];
    snprintf(good_ran, sizeof good_ran, "stopping after %d task(s)", admitted);
    printf("curve_test: coordinator: %ld unknown key(s), %ld of the other role, %ld failed "
           "handshake(s), %ld task(s) admitted\n",
           unknown, role, failed, tasks);
    CHECK(unknown >= 2 * REPEATS + 1); /* + the SDK's tries */
    CHECK(role >= 2 * REPEATS + 1);    /* + p2c2r-peer's */
    CHECK(failed == 4 * REPEATS);
    CHECK(tasks == admitted); /* nothing from the refused ones */
    CHECK(testutil_count_lines(log_path, "registered:") == 1);
    CHECK(testutil_count_lines(log_path, "peer good registered") == 1);
    /* The good peer ran them all, the impostor none. */
    CHECK(testutil_count_lines(peer_log, good_ran) == 1);
    CHECK(testutil_count_lines(peer_log, "stopping after 0 task(s)") == 1);
    unlink(log_path);
    unlink(peer_log);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return testutil_finish("curve");
}
