/* cancel_test: cancelling a task, in every race, through the SDK and on the wire.
 *
 * Every task must end exactly once, so each part counts the answers per task id and checks
 * that each task got one, and that nothing more came after a quiet spell.
 *
 * SDK (p2c2r_cancel()), one peer with one slot and logs at debug, where the peer says when
 * a task starts in its slot:
 *   - a queued task and then the running 60 s sleep ahead of it are cancelled: both end
 *     CANCELLED, the queued one never starts, and a noop queued behind them, with a deadline
 *     far shorter than the sleep, is answered: the peer stopped the sleep early;
 *   - cancelling a task whose result was polled returns P2C2R_OK and changes nothing;
 *   - a running upscale, which cannot stop, is cancelled: the peer drops its output;
 *   - cancelling twice gives one result; id 0 and an id never handed out are P2C2R_E_INVAL;
 *   - a running task is cancelled and its peer killed at once: one result, and the peer
 *     that takes over never starts it;
 *   - with the local fallback and no coordinator, a cancelled frame ends CANCELLED once and
 *     the fallback's output for it is thrown away.
 * The client's counters (cancelled, dropped_answers) and the coordinator's (cancelled,
 * retries) must agree with that.
 *
 * Wire (a client and peers played by hand, see testwire.h), one peer slot at a time:
 *   - CANCEL of a queued task: one ERROR CANCELLED;
 *   - CANCEL of a running task: the peer gets CANCEL with the ASSIGN's id, the client one
 *     ERROR CANCELLED; the peer's late RESULT reaches nobody, and the slot it held is given
 *     a new task only after that late RESULT;
 *   - CANCEL after the RESULT, CANCEL twice, CANCEL of an unknown id: no further answer,
 *     and the coordinator goes on serving;
 *   - CANCEL of a running task whose peer then dies: one answer, and the task is never
 *     assigned to the second peer.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

#define LONG_SLEEP_MS     60000u /* a sleep that outlasts the test unless it is stopped */
#define LONG_DEADLINE_MS  120000u
#define SHORT_DEADLINE_MS 30000u /* well below LONG_SLEEP_MS: met only if the sleep stops */
#define QUIET_MS          500    /* how long "nothing more comes" is watched */
#define MAX_TASKS         64

/* Answers counted per task id. */
typedef struct tally {
    uint64_t ids[MAX_TASKS];
    int count[MAX_TASKS];
    int status[MAX_TASKS];
    int n;
} tally;

static int tally_add(tally *t, uint64_t id, int status)
{
    for (int i = 0; i < t->n; i++)
        if (t->ids[i] == id) {
            t->count[i]++;
            return t->count[i];
        }
    if (t->n == MAX_TASKS)
        return -1;
    t->ids[t->n] = id;
    t->count[t->n] = 1;
    t->status[t->n++] = status;
    return 1;
}

static int tally_count(const tally *t, uint64_t id)
{
    for (int i = 0; i < t->n; i++)
        if (t->ids[i] == id)
            return t->count[i];
    return 0;
}

/* ---- SDK level ---------------------------------------------------------------------- */

/* Poll one result (up to timeout_ms), count it, and return its status for task `want`;
 * 1 when a result for another task came, P2C2R_E_TIMEOUT when none did. */
static int take(p2c2r_client *client, tally *t, int timeout_ms, uint64_t want, p2c2r_source *src)
{
    p2c2r_result *r = NULL;
    if (p2c2r_poll(client, timeout_ms, &r) != P2C2R_OK)
        return P2C2R_E_TIMEOUT;
    uint64_t id = p2c2r_result_task_id(r);
    int status = p2c2r_result_status(r);
    printf("task %llu: %s%s%s\n", (unsigned long long)id, p2c2r_errname(status),
           *p2c2r_result_detail(r) ? ": " : "", p2c2r_result_detail(r));
    CHECK(tally_add(t, id, status) == 1);
    if (src)
        *src = p2c2r_result_source(r);
    p2c2r_result_free(&r);
    return id == want ? status : 1;
}

/* Nothing at all comes for QUIET_MS. */
static void expect_quiet(p2c2r_client *client, tally *t)
{
    CHECK_RC(take(client, t, QUIET_MS, 0, NULL), P2C2R_E_TIMEOUT);
}

static uint64_t submit_sleep(p2c2r_client *client, uint32_t ms, uint32_t deadline_ms)
{
    uint64_t id = 0;
    CHECK_RC(p2c2r_submit_sleep(client, ms, "s", 1, deadline_ms, &id), P2C2R_OK);
    return id;
}

static uint64_t submit_noop(p2c2r_client *client, uint32_t deadline_ms)
{
    uint64_t id = 0;
    CHECK_RC(p2c2r_submit_noop(client, "n", 1, deadline_ms, &id), P2C2R_OK);
    return id;
}

#define SLEEP_STARTED "(sleep) started"

static void sdk_cluster_races(void)
{
    char coord_log[] = "/tmp/p2c2r-cancel-coord-XXXXXX";
    char peer0_log[] = "/tmp/p2c2r-cancel-peer0-XXXXXX";
    char peer1_log[] = "/tmp/p2c2r-cancel-peer1-XXXXXX";
    if (testutil_temp_file(coord_log) || testutil_temp_file(peer0_log) ||
        testutil_temp_file(peer1_log)) {
        CHECK(!"temporary logs");
        return;
    }
    cluster cl = {.coordinator_log = coord_log, .peer_log = peer0_log, .log_level = "debug"};
    const char *const one_slot[] = {"--slots", "1", NULL};
    CHECK(cluster_start_coordinator(&cl, NULL) == 0);
    CHECK(cluster_add_peer(&cl, one_slot) == 0);
    p2c2r_client_config config = {.coordinator = cl.client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client) {
        cluster_stop(&cl);
        return;
    }
    tally t = {0};
    size_t big_size = 0;
    const char *path = testutil_wallpaper("2560x1600", 0);
    uint8_t *big = path ? testutil_read_file(path, &big_size) : NULL;
    CHECK(big != NULL);

    /* The cluster works. */
    uint64_t warm = submit_noop(client, LONG_DEADLINE_MS);
    CHECK_RC(take(client, &t, 60000, warm, NULL), P2C2R_OK);

    printf("-- cancel a queued task, then the running one ahead of it\n");
    uint64_t running = submit_sleep(client, LONG_SLEEP_MS, LONG_DEADLINE_MS);
    CHECK(testutil_await_lines(peer0_log, SLEEP_STARTED, 1, 60000) == 0);
    uint64_t queued = submit_sleep(client, LONG_SLEEP_MS, LONG_DEADLINE_MS);
    uint64_t behind = submit_noop(client, SHORT_DEADLINE_MS);
    CHECK_RC(p2c2r_cancel(client, queued), P2C2R_OK);
    CHECK_RC(take(client, &t, 10000, queued, NULL), P2C2R_E_CANCELLED);
    CHECK_RC(p2c2r_cancel(client, running), P2C2R_OK);
    CHECK_RC(take(client, &t, 10000, running, NULL), P2C2R_E_CANCELLED);
    /* Its deadline is half the sleep's: only a slot freed early lets it run in time. */
    p2c2r_source src = P2C2R_SOURCE_NONE;
    CHECK_RC(take(client, &t, 60000, behind, &src), P2C2R_OK);
    CHECK(src == P2C2R_SOURCE_CLUSTER);
    /* The queued sleep left the queue: it never started (the running one did, once). */
    CHECK(testutil_count_lines(peer0_log, SLEEP_STARTED) == 1);
    CHECK(testutil_count_lines(peer0_log, "P2C2R_E_CANCELLED") == 1);

    printf("-- cancel after the result was polled\n");
    p2c2r_client_stats before, after;
    p2c2r_client_get_stats(client, &before);
    uint64_t done = submit_noop(client, LONG_DEADLINE_MS);
    CHECK_RC(take(client, &t, 60000, done, NULL), P2C2R_OK);
    CHECK_RC(p2c2r_cancel(client, done), P2C2R_OK);
    expect_quiet(client, &t);
    p2c2r_client_get_stats(client, &after);
    CHECK(after.cancelled == before.cancelled);

    printf("-- cancel twice\n");
    uint64_t twice = submit_sleep(client, LONG_SLEEP_MS, LONG_DEADLINE_MS);
    CHECK(testutil_await_lines(peer0_log, SLEEP_STARTED, 2, 60000) == 0);
    CHECK_RC(p2c2r_cancel(client, twice), P2C2R_OK);
    CHECK_RC(p2c2r_cancel(client, twice), P2C2R_OK);
    CHECK_RC(take(client, &t, 10000, twice, NULL), P2C2R_E_CANCELLED);
    uint64_t next = submit_noop(client, SHORT_DEADLINE_MS);
    CHECK_RC(take(client, &t, 60000, next, NULL), P2C2R_OK);
    CHECK_RC(p2c2r_cancel(client, twice), P2C2R_OK);
    expect_quiet(client, &t);

    printf("-- cancel a running upscale, which cannot stop\n");
    /* A quality upscale of 2560x1600 to 7680x4800 takes seconds: the CANCEL reaches the
     * peer while it runs, and the peer drops the output it then makes. */
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG,
                               .scale = 3,
                               .mode = P2C2R_MODE_QUALITY,
                               .deadline_ms = LONG_DEADLINE_MS};
    uint64_t upscale = 0;
    CHECK_RC(p2c2r_submit_upscale(client, &desc, big, big_size, &upscale), P2C2R_OK);
    CHECK(testutil_await_lines(peer0_log, "(upscale) started", 1, 60000) == 0);
    CHECK_RC(p2c2r_cancel(client, upscale), P2C2R_OK);
    CHECK_RC(take(client, &t, 10000, upscale, NULL), P2C2R_E_CANCELLED);
    uint64_t after_upscale = submit_noop(client, LONG_DEADLINE_MS);
    CHECK_RC(take(client, &t, 60000, after_upscale, NULL), P2C2R_OK);
    CHECK(testutil_count_lines(peer0_log, "(upscale): P2C2R_E_CANCELLED") == 1);
    expect_quiet(client, &t);

    printf("-- cancel ids that were never handed out\n");
    CHECK_RC(p2c2r_cancel(client, 0), P2C2R_E_INVAL);
    CHECK_RC(p2c2r_cancel(client, next + 1000), P2C2R_E_INVAL);
    CHECK_RC(p2c2r_cancel(NULL, next), P2C2R_E_INVAL);

    printf("-- cancel a running task while its peer dies\n");
    uint64_t orphan = submit_sleep(client, LONG_SLEEP_MS, LONG_DEADLINE_MS);
    CHECK(testutil_await_lines(peer0_log, SLEEP_STARTED, 3, 60000) == 0);
    CHECK_RC(p2c2r_cancel(client, orphan), P2C2R_OK);
    cluster_kill_peer(&cl, 0, SIGKILL);
    cl.peer_log = peer1_log;
    CHECK(cluster_add_peer(&cl, one_slot) == 1);
    CHECK_RC(take(client, &t, 10000, orphan, NULL), P2C2R_E_CANCELLED);
    uint64_t after_loss = submit_noop(client, LONG_DEADLINE_MS);
    CHECK_RC(take(client, &t, 60000, after_loss, NULL), P2C2R_OK);
    expect_quiet(client, &t);
    /* The new peer ran the noop and never the cancelled sleep. */
    CHECK(testutil_count_lines(peer1_log, "(noop)") >= 1);
    CHECK(testutil_count_lines(peer1_log, "(sleep)") == 0);

    /* Eleven tasks, each ended once; five by a cancel, none of the coordinator's answers to
     * them counted as dropped. */
    p2c2r_client_get_stats(client, &after);
    printf("client: %llu submitted, %llu from the cluster, %llu errors, %llu cancelled, %llu "
           "dropped answers\n",
           (unsigned long long)after.submitted, (unsigned long long)after.cluster,
           (unsigned long long)after.errors, (unsigned long long)after.cancelled,
           (unsigned long long)after.dropped_answers);
    CHECK(t.n == 11);
    for (int i = 0; i < t.n; i++)
        CHECK(t.count[i] == 1);
    CHECK(after.submitted == 11 && after.cluster == 6 && after.errors == 5);
    CHECK(after.cancelled == 5 && after.dropped_answers == 0);
    CHECK(p2c2r_client_pending(client) == 0);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    /* The coordinator cancelled the five, and ran nothing a second time. */
    CHECK(testutil_number_before(coord_log, " cancelled") == 5);
    CHECK(testutil_number_before(coord_log, " retried attempt(s)") == 0);
    unlink(coord_log);
    unlink(peer0_log);
    unlink(peer1_log);
    free(big);
}

/* With the local fallback and no coordinator: the frame goes local, and a cancelled one
 * ends CANCELLED while the fallback's output for it is thrown away. */
static void sdk_local_race(void)
{
    size_t size = 0;
    const char *path = testutil_wallpaper("1920x1080", 0);
    uint8_t *jpeg = path ? testutil_read_file(path, &size) : NULL;
    CHECK(jpeg != NULL);
    if (!jpeg)
        return;
    char nobody[128];
    snprintf(nobody, sizeof nobody, "tcp://%s:9", cluster_host()); /* nothing listens */
    p2c2r_client_config config = {
        .coordinator = nobody, .fallback = P2C2R_FALLBACK_LOCAL, .local_threads = 1};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client) {
        free(jpeg);
        return;
    }
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_JPEG, .scale = 2, .deadline_ms = 120000};
    uint64_t first = 0, cancelled = 0, last = 0;
    tally t = {0};
    printf("-- cancel a frame at the local fallback\n");
    CHECK_RC(p2c2r_submit_upscale(client, &desc, jpeg, size, &first), P2C2R_OK);
    CHECK_RC(p2c2r_submit_upscale(client, &desc, jpeg, size, &cancelled), P2C2R_OK);
    CHECK_RC(p2c2r_cancel(client, cancelled), P2C2R_OK);
    /* The one thread runs them in order: when the last is back, so is the cancelled one. */
    CHECK_RC(p2c2r_submit_upscale(client, &desc, jpeg, size, &last), P2C2R_OK);
    for (int i = 0; i < 3; i++) {
        p2c2r_source src = P2C2R_SOURCE_NONE;
        p2c2r_result *r = NULL;
        CHECK_RC(p2c2r_poll(client, 120000, &r), P2C2R_OK);
        if (!r)
            break;
        uint64_t id = p2c2r_result_task_id(r);
        src = p2c2r_result_source(r);
        printf("task %llu: %s (source %d)\n", (unsigned long long)id,
               p2c2r_errname(p2c2r_result_status(r)), (int)src);
        CHECK(tally_add(&t, id, p2c2r_result_status(r)) == 1);
        if (id == cancelled)
            CHECK(p2c2r_result_status(r) == P2C2R_E_CANCELLED);
        else
            CHECK(p2c2r_result_status(r) == P2C2R_OK && src == P2C2R_SOURCE_LOCAL);
        p2c2r_result_free(&r);
    }
    expect_quiet(client, &t);
    CHECK(tally_count(&t, first) == 1 && tally_count(&t, cancelled) == 1 &&
          tally_count(&t, last) == 1);
    p2c2r_client_stats s;
    p2c2r_client_get_stats(client, &s);
    printf("local client: %llu local, %llu cancelled, %llu dropped answers\n",
           (unsigned long long)s.local, (unsigned long long)s.cancelled,
           (unsigned long long)s.dropped_answers);
    CHECK(s.local == 2 && s.cancelled == 1 && s.errors == 1 && s.dropped_answers == 0);
    CHECK(p2c2r_client_pending(client) == 0);
    p2c2r_client_destroy(&client);
    free(jpeg);
}

/* ---- wire level --------------------------------------------------------------------- */

#define WIRE_PEERS       2
#define WIRE_DEADLINE_US 60000000u

/* What a hand-played peer was sent. */
typedef struct wire_peer {
    void *sock;                  /* NULL once closed (the peer died) */
    uint64_t sender;             /* its PEER_HELLO sender id */
    uint64_t instance;           /* the coordinator's, from its answer to the hello */
    uint64_t attempt[MAX_TASKS]; /* ASSIGN ids, in order */
    uint64_t task[MAX_TASKS];    /* the client's task id of each, read from its payload */
    int nassigned;
    uint64_t cancel[MAX_TASKS]; /* CANCEL ids, in order */
    int ncancels;
} wire_peer;

/* A client and peers played by hand. */
typedef struct wire {
    void *client; /* DEALER on the clients port */
    wire_peer peers[WIRE_PEERS];
    tally answers;         /* RESULT and ERROR to the client, per task id */
    uint64_t next_beat_us; /* when the peers next say HEARTBEAT */
} wire;

static void wire_peer_recv(wire_peer *p)
{
    p2c2r_envelope_msg msg;
    if (testwire_recv(p->sock, 0, &msg) != P2C2R_OK) {
        p2c2r__envelope_msg_close(&msg);
        return;
    }
    const p2c2r_envelope *env = msg.env;
    if (env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT) {
        p->instance = env->instance;
    } else if (env->type == P2C2R__WIRE__MSG_TYPE__ASSIGN && p->nassigned < MAX_TASKS) {
        CHECK(env->n_items == 0); /* one slot: one task at a time */
        char text[32] = "";
        size_t n = msg.has_payload ? zmq_msg_size(&msg.payload) : 0;
        n = n < sizeof text - 1 ? n : sizeof text - 1;
        if (n)
            memcpy(text, zmq_msg_data(&msg.payload), n);
        text[n] = '\0';
        p->attempt[p->nassigned] = env->task_id;
        p->task[p->nassigned++] = strtoull(text, NULL, 10);
        printf("peer %llx: ASSIGN %llu (task %s)\n", (unsigned long long)p->sender,
               (unsigned long long)env->task_id, text);
    } else if (env->type == P2C2R__WIRE__MSG_TYPE__CANCEL && p->ncancels < MAX_TASKS) {
        CHECK(env->instance == p->instance);
        p->cancel[p->ncancels++] = env->task_id;
        printf("peer %llx: CANCEL %llu\n", (unsigned long long)p->sender,
               (unsigned long long)env->task_id);
    } else {
        printf("peer %llx: %s %s\n", (unsigned long long)p->sender,
               p2c2r__envelope_type_name(env->type), env->detail ? env->detail : "");
    }
    p2c2r__envelope_msg_close(&msg);
}

static void wire_client_recv(wire *w)
{
    p2c2r_envelope_msg msg;
    if (testwire_recv(w->client, 0, &msg) != P2C2R_OK) {
        p2c2r__envelope_msg_close(&msg);
        return;
    }
    const p2c2r_envelope *env = msg.env;
    if (env->type == P2C2R__WIRE__MSG_TYPE__RESULT || env->type == P2C2R__WIRE__MSG_TYPE__ERROR) {
        CHECK(env->n_items == 0); /* this client never said it takes batches */
        int status = env->type == P2C2R__WIRE__MSG_TYPE__RESULT ? P2C2R_OK : env->status;
        printf("client: task %llu %s%s%s\n", (unsigned long long)env->task_id,
               p2c2r_errname(status), env->detail && *env->detail ? ": " : "",
               env->detail ? env->detail : "");
        CHECK(tally_add(&w->answers, env->task_id, status) == 1);
    }
    p2c2r__envelope_msg_close(&msg);
}

/* Take whatever comes for ms milliseconds; the live peers say HEARTBEAT meanwhile. */
static void wire_pump(wire *w, int ms)
{
    uint64_t until = p2c2r__now_us() + (uint64_t)ms * 1000u;
    do {
        uint64_t now = p2c2r__now_us();
        if (now >= w->next_beat_us) {
            for (int i = 0; i < WIRE_PEERS; i++) {
                if (!w->peers[i].sock || !w->peers[i].instance)
                    continue;
                p2c2r_envelope beat;
                p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
                beat.instance = w->peers[i].instance;
                beat.sender = w->peers[i].sender;
                testwire_send(w->peers[i].sock, &beat, NULL, 0);
            }
            w->next_beat_us = now + 100000u;
        }
        zmq_pollitem_t items[1 + WIRE_PEERS];
        int n = 0;
        items[n++] = (zmq_pollitem_t){w->client, 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < WIRE_PEERS; i++)
            items[n++] =
                (zmq_pollitem_t){w->peers[i].sock, 0, w->peers[i].sock ? ZMQ_POLLIN : 0, 0};
        if (zmq_poll(items, n, 20) <= 0)
            continue;
        if (items[0].revents & ZMQ_POLLIN)
            wire_client_recv(w);
        for (int i = 0; i < WIRE_PEERS; i++)
            if (items[1 + i].revents & ZMQ_POLLIN)
                wire_peer_recv(&w->peers[i]);
    } while (p2c2r__now_us() < until);
}

/* Pump until cond holds, up to 60 s; then CHECK it. */
#define AWAIT(w, cond)                                                                             \
    do {                                                                                           \
        for (int i_ = 0; i_ < 600 && !(cond); i_++)                                                \
            wire_pump((w), 100);                                                                   \
        CHECK(cond);                                                                               \
    } while (0)

/* A sleep task of the client's, numbered id, its payload the id as text. Each has its own
 * duration, so the coordinator has never learnt a shorter time for it to wait for its
 * peer: it waits as long as --attempt-timeout-ms says. */
static void wire_submit(wire *w, uint64_t id)
{
    P2c2r__Wire__SleepParams sleep = P2C2R__WIRE__SLEEP_PARAMS__INIT;
    sleep.ms = 1000u + (uint32_t)id;
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    env.kind = "sleep";
    env.sleep = &sleep;
    env.task_id = id;
    env.deadline_us = WIRE_DEADLINE_US;
    char text[32];
    int n = snprintf(text, sizeof text, "%llu", (unsigned long long)id);
    CHECK_RC(testwire_send(w->client, &env, text, (size_t)n), P2C2R_OK);
}

static void wire_cancel(wire *w, uint64_t id)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__CANCEL);
    env.task_id = id;
    CHECK_RC(testwire_send(w->client, &env, NULL, 0), P2C2R_OK);
}

/* Peer p answers its ASSIGN `attempt` with a RESULT echoing the payload. */
static void wire_answer(wire *w, int p, uint64_t attempt, uint64_t task)
{
    p2c2r_envelope env;
    p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__RESULT);
    env.instance = w->peers[p].instance;
    env.task_id = attempt;
    char text[32];
    int n = snprintf(text, sizeof text, "%llu", (unsigned long long)task);
    CHECK_RC(testwire_send(w->peers[p].sock, &env, text, (size_t)n), P2C2R_OK);
}

/* The ASSIGN id peer p got for the client's task, or 0. */
static uint64_t attempt_of(const wire *w, int p, uint64_t task)
{
    for (int i = 0; i < w->peers[p].nassigned; i++)
        if (w->peers[p].task[i] == task)
            return w->peers[p].attempt[i];
    return 0;
}

static int cancels_of(const wire *w, int p, uint64_t attempt)
{
    int n = 0;
    for (int i = 0; i < w->peers[p].ncancels; i++)
        n += w->peers[p].cancel[i] == attempt;
    return n;
}

static bool wire_peer_start(wire *w, void *ctx, const cluster *cl, int p, uint64_t sender)
{
    w->peers[p] = (wire_peer){.sock = testwire_dealer(ctx, cl->peer_endpoint), .sender = sender};
    if (!w->peers[p].sock)
        return false;
    CHECK_RC(testwire_hello_batches(w->peers[p].sock, sender, 1), P2C2R_OK);
    AWAIT(w, w->peers[p].instance != 0);
    return w->peers[p].instance != 0;
}

/* The answers a task got. */
#define ANSWERS(w, id) tally_count(&(w)->answers, (id))

static void wire_races(void)
{
    char coord_log[] = "/tmp/p2c2r-cancel-wire-XXXXXX";
    if (testutil_temp_file(coord_log)) {
        CHECK(!"temporary log");
        return;
    }
    cluster cl = {.coordinator_log = coord_log};
    /* A peer silent for 3 s is lost: the hand-played peers beat every 100 ms, and a test
     * process starved for a while on a busy machine must not look dead. */
    const char *const args[] = {"--peer-timeout-ms", "3000", "--attempt-timeout-ms", "600000",
                                NULL};
    if (cluster_start_coordinator(&cl, args)) {
        CHECK(!"coordinator");
        cluster_stop(&cl);
        return;
    }
    void *ctx = zmq_ctx_new();
    wire w = {.client = testwire_dealer(ctx, cl.client_endpoint)};
    CHECK(w.client != NULL);
    CHECK(wire_peer_start(&w, ctx, &cl, 0, 0x1111111111111111ull));

    printf("-- CANCEL of a queued task\n");
    wire_submit(&w, 1);
    AWAIT(&w, attempt_of(&w, 0, 1) != 0);
    wire_submit(&w, 2); /* the peer's one slot is taken: it waits */
    wire_cancel(&w, 2);
    AWAIT(&w, ANSWERS(&w, 2) == 1);
    CHECK(w.answers.status[w.answers.n - 1] == P2C2R_E_CANCELLED);
    wire_answer(&w, 0, attempt_of(&w, 0, 1), 1);
    AWAIT(&w, ANSWERS(&w, 1) == 1);
    wire_pump(&w, QUIET_MS);
    CHECK(attempt_of(&w, 0, 2) == 0); /* it left the queue: never assigned */
    CHECK(w.peers[0].ncancels == 0);  /* and the peer is not bothered with it */

    printf("-- CANCEL of a running task, answered by the peer anyway\n");
    wire_submit(&w, 3);
    AWAIT(&w, attempt_of(&w, 0, 3) != 0);
    uint64_t a3 = attempt_of(&w, 0, 3);
    wire_cancel(&w, 3);
    AWAIT(&w, ANSWERS(&w, 3) == 1 && cancels_of(&w, 0, a3) == 1);
    wire_submit(&w, 4);
    wire_pump(&w, QUIET_MS);
    /* The slot is still the cancelled task's until the peer says it is done. */
    CHECK(attempt_of(&w, 0, 4) == 0);
    wire_answer(&w, 0, a3, 3); /* it could not stop it */
    AWAIT(&w, attempt_of(&w, 0, 4) != 0);
    wire_answer(&w, 0, attempt_of(&w, 0, 4), 4);
    AWAIT(&w, ANSWERS(&w, 4) == 1);
    CHECK(ANSWERS(&w, 3) == 1); /* the late RESULT went nowhere */

    printf("-- CANCEL after the RESULT\n");
    wire_cancel(&w, 4);
    wire_pump(&w, QUIET_MS);
    CHECK(ANSWERS(&w, 4) == 1);

    printf("-- CANCEL twice\n");
    wire_submit(&w, 5);
    AWAIT(&w, attempt_of(&w, 0, 5) != 0);
    uint64_t a5 = attempt_of(&w, 0, 5);
    wire_cancel(&w, 5);
    wire_cancel(&w, 5);
    AWAIT(&w, ANSWERS(&w, 5) == 1 && cancels_of(&w, 0, a5) == 1);
    {
        /* As the real peer does for a task it stops: ERROR CANCELLED frees the slot. */
        p2c2r_envelope env;
        p2c2r__envelope_init(&env, P2C2R__WIRE__MSG_TYPE__ERROR);
        env.instance = w.peers[0].instance;
        env.task_id = a5;
        env.status = P2C2R_E_CANCELLED;
        env.detail = "cancelled while it slept";
        CHECK_RC(testwire_send(w.peers[0].sock, &env, NULL, 0), P2C2R_OK);
    }
    wire_pump(&w, QUIET_MS);
    CHECK(ANSWERS(&w, 5) == 1 && cancels_of(&w, 0, a5) == 1);

    printf("-- CANCEL of an id the coordinator never saw\n");
    wire_cancel(&w, 999999);
    wire_submit(&w, 6);
    AWAIT(&w, attempt_of(&w, 0, 6) != 0);
    wire_answer(&w, 0, attempt_of(&w, 0, 6), 6);
    AWAIT(&w, ANSWERS(&w, 6) == 1);
    CHECK(ANSWERS(&w, 999999) == 0);

    printf("-- CANCEL of a running task, then its peer dies\n");
    wire_submit(&w, 7);
    AWAIT(&w, attempt_of(&w, 0, 7) != 0);
    wire_cancel(&w, 7);
    AWAIT(&w, ANSWERS(&w, 7) == 1 && cancels_of(&w, 0, attempt_of(&w, 0, 7)) == 1);
    zmq_close(w.peers[0].sock);
    w.peers[0].sock = NULL;
    CHECK(wire_peer_start(&w, ctx, &cl, 1, 0x2222222222222222ull));
    /* Once the coordinator has given the first peer up, a new task goes to the second. */
    for (int i = 0; i < 600 && testutil_count_lines(coord_log, "gone") < 1; i++)
        wire_pump(&w, 100);
    CHECK(testutil_count_lines(coord_log, "gone") == 1);
    wire_submit(&w, 8);
    AWAIT(&w, attempt_of(&w, 1, 8) != 0);
    wire_answer(&w, 1, attempt_of(&w, 1, 8), 8);
    AWAIT(&w, ANSWERS(&w, 8) == 1);
    wire_pump(&w, QUIET_MS);
    CHECK(w.peers[1].nassigned == 1 && attempt_of(&w, 1, 7) == 0);

    /* Every task answered exactly once; the coordinator cancelled four, retried none. */
    CHECK(w.answers.n == 8);
    for (int i = 0; i < w.answers.n; i++)
        CHECK(w.answers.count[i] == 1);
    for (uint64_t id = 1; id <= 8; id++)
        CHECK(ANSWERS(&w, id) == 1);
    zmq_close(w.client);
    if (w.peers[1].sock)
        zmq_close(w.peers[1].sock);
    zmq_ctx_term(ctx);
    CHECK(cluster_stop(&cl) == 0);
    CHECK(testutil_number_before(coord_log, " cancelled") == 4);
    CHECK(testutil_number_before(coord_log, " retried attempt(s)") == 0);
    unlink(coord_log);
}

int main(void)
{
    wire_races();
    sdk_cluster_races();
    sdk_local_race();
    return testutil_finish("cancel_test");
}
