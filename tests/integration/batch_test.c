/* batch_test: batches end to end.
 *
 * 1. The SDK against a coordinator played by hand (a ROUTER): p2c2r_submit_batch() of 32
 *    noop tasks arrives as ONE SUBMIT message with 32 items and 32 payload frames (with
 *    the payloads inline, in columns, once the coordinator has said it reads them); tasks of
 *    another kind in the same call go in a message of their own, in order; a RESULT batch
 *    that mixes results and an error gives every task its own result, once, and a repeated
 *    answer is dropped. Bad batches are refused whole, and nothing reaches the wire.
 * 2. The real coordinator with a peer played by hand that says it takes batches: the 32
 *    tasks reach it as ASSIGN batches (fewer messages than tasks), and its one RESULT
 *    batch answers them all. Their payloads come as frames, or inline in the Envelope when
 *    the peer's hello says it reads them (PeerInfo.inline_payloads), in columns when it
 *    says it reads those too (Envelope.reads_columns); the peer answers the same way as
 *    the coordinator says it reads them. With two such peers, warm, a batch of 32 reaches
 *    them in one ASSIGN each.
 * 3. What shares a message: tasks submitted one by one only while small, a batch's whatever
 *    their size.
 * 4. The real coordinator and two real peers: one batch of real JPEG upscales and noop
 *    tasks, each result right.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cluster.h"
#include "common/clock.h"
#include "common/envelope.h"
#include "common/image.h"
#include "p2c2r.h"
#include "testutil.h"
#include "testwire.h"

#define N        32
#define SIZE     100
#define INSTANCE 0x5151515151515151ull
#define WAIT_MS  10000
#define DEADLINE 20000

/* Payload i of a batch: its index in every byte position that fits, then a pattern. */
static void fill(uint8_t *p, size_t size, uint32_t i)
{
    for (size_t k = 0; k < size; k++)
        p[k] = (uint8_t)(i * 31u + k);
}

static bool filled(const void *data, size_t size, uint32_t i)
{
    uint8_t want[SIZE];
    fill(want, sizeof want, i);
    return size == SIZE && memcmp(data, want, SIZE) == 0;
}

/* Whether the coordinator played by hand says it reads inline payloads (in every message,
 * as the real one does, once it has started to). */
static bool router_inline;

/* Wait for the next message on a ROUTER playing the coordinator, answering heartbeats.
 * P2C2R_OK with *msg set, or P2C2R_E_TIMEOUT. */
static int router_next(void *router, int timeout_ms, p2c2r_envelope_msg *msg)
{
    uint64_t until = p2c2r__now_us() + (uint64_t)timeout_ms * 1000u;
    while (p2c2r__now_us() < until) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        if (p2c2r__envelope_recv(router, true, 0, msg) != P2C2R_OK)
            continue;
        if (msg->env->type != P2C2R__WIRE__MSG_TYPE__HEARTBEAT)
            return P2C2R_OK;
        p2c2r_envelope beat;
        p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
        beat.instance = INSTANCE;
        beat.inline_payloads = router_inline;
        p2c2r__envelope_send(router, msg->route, msg->route_len, &beat, NULL, 0);
        p2c2r__envelope_msg_close(msg);
    }
    return P2C2R_E_TIMEOUT;
}

static p2c2r_task noop_task(const uint8_t *data, uint32_t flags)
{
    return (p2c2r_task){.kind = P2C2R_TASK_NOOP,
                        .deadline_ms = DEADLINE,
                        .flags = flags,
                        .data = data,
                        .size = SIZE};
}

/* N noop tasks, task i with payload i (fill()). */
static void noop_batch(p2c2r_task tasks[N])
{
    static uint8_t data[N][SIZE];
    for (uint32_t i = 0; i < N; i++) {
        fill(data[i], SIZE, i);
        tasks[i] = noop_task(data[i], 0);
    }
}

/* Poll n results into by_task[id - first] (counts of results per task); the statuses go
 * to status[]. Returns how many came. */
static int take_results(p2c2r_client *client, uint64_t first, int n, int *count, int *status,
                        bool check_payload)
{
    int got = 0;
    while (got < n) {
        p2c2r_result *r;
        if (p2c2r_poll(client, WAIT_MS, &r) != P2C2R_OK)
            break;
        uint64_t k = p2c2r_result_task_id(r) - first;
        CHECK(k < (uint64_t)n);
        if (k < (uint64_t)n) {
            count[k]++;
            status[k] = p2c2r_result_status(r);
            size_t size;
            const void *data = p2c2r_result_data(r, &size);
            if (check_payload && status[k] == P2C2R_OK)
                CHECK(filled(data, size, (uint32_t)k));
        }
        got++;
        p2c2r_result_free(&r);
    }
    return got;
}

/* ---- 1. the SDK's side of the wire ---------------------------------------------------- */

static void sdk_side(void *ctx)
{
    char endpoint[256];
    void *router = testwire_router(ctx, endpoint, sizeof endpoint);
    CHECK(router != NULL);
    if (!router)
        return;
    p2c2r_client_config config = {.coordinator = endpoint, .max_in_flight = 64};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client)
        return;

    /* Refused whole: nothing is taken, nothing is sent. */
    static uint8_t data[N + 8][SIZE];
    p2c2r_task tasks[N + 8];
    uint64_t ids[N + 8];
    for (uint32_t i = 0; i < N + 8; i++) {
        fill(data[i], SIZE, i);
        tasks[i] = noop_task(data[i], 0);
    }
    CHECK_RC(p2c2r_submit_batch(client, tasks, 0, ids), P2C2R_E_INVAL);
    CHECK_RC(p2c2r_submit_batch(client, tasks, 65, ids), P2C2R_E_INVAL);
    CHECK_RC(p2c2r_submit_batch(client, NULL, 1, ids), P2C2R_E_INVAL);
    p2c2r_task bad[3] = {tasks[0], tasks[1], tasks[2]};
    bad[2].kind = P2C2R_TASK_SLEEP;
    bad[2].sleep_ms = 70000; /* above the 60 s a sleep may take */
    CHECK_RC(p2c2r_submit_batch(client, bad, 3, ids), P2C2R_E_INVAL);
    bad[2] = tasks[2];
    bad[2].kind = (p2c2r_task_kind)99;
    CHECK_RC(p2c2r_submit_batch(client, bad, 3, ids), P2C2R_E_INVAL);
    bad[2] = tasks[2];
    bad[2].kind = P2C2R_TASK_UPSCALE; /* without its description */
    CHECK_RC(p2c2r_submit_batch(client, bad, 3, ids), P2C2R_E_INVAL);
    CHECK(p2c2r_client_pending(client) == 0);

    /* 32 noop tasks: one SUBMIT with 32 items. */
    CHECK_RC(p2c2r_submit_batch(client, tasks, N, ids), P2C2R_OK);
    for (int i = 1; i < N; i++)
        CHECK(ids[i] == ids[0] + (uint64_t)i);
    CHECK(p2c2r_client_pending(client) == N);
    p2c2r_envelope_msg msg;
    CHECK_RC(router_next(router, WAIT_MS, &msg), P2C2R_OK);
    if (msg.env) {
        const p2c2r_envelope *env = msg.env;
        CHECK(env->type == P2C2R__WIRE__MSG_TYPE__SUBMIT);
        CHECK(env->n_items == N);
        CHECK(env->batches && env->inline_payloads);
        CHECK(strcmp(env->kind, "noop") == 0);
        /* The coordinator has not said it reads inline payloads: one frame each. */
        CHECK(testwire_inline(env) == 0 && !msg.columns);
        for (size_t i = 0; i < env->n_items && i < N; i++) {
            CHECK(env->items[i]->task_id == ids[i]);
            CHECK(env->items[i]->deadline_us > 0 &&
                  env->items[i]->deadline_us <= DEADLINE * 1000ull);
            CHECK(filled(zmq_msg_data(&msg.item_payloads[i]), zmq_msg_size(&msg.item_payloads[i]),
                         (uint32_t)i));
        }
        /* The answers: one RESULT batch, results echoing each payload but one error. */
        static p2c2r_batch answer;
        p2c2r__batch_init(&answer, P2C2R__WIRE__MSG_TYPE__RESULT);
        answer.env.instance = INSTANCE;
        router_inline = true; /* from now on the SDK's small batches come inline */
        answer.env.inline_payloads = router_inline;
        answer.inline_ok = env->inline_payloads;
        for (size_t i = 0; i < env->n_items && i < N; i++) {
            bool error = i == 30;
            zmq_msg_t out;
            zmq_msg_init(&out);
            if (!error)
                zmq_msg_copy(&out, &msg.item_payloads[i]);
            p2c2r__batch_add(&answer, env->items[i]->task_id, 0,
                             error ? P2C2R_E_BADINPUT : P2C2R_OK, error ? "item 30 refused" : NULL,
                             NULL, NULL, &out);
        }
        CHECK_RC(p2c2r__batch_send(&answer, router, msg.route, msg.route_len, 0), P2C2R_OK);
        /* The first answer again: the task has its result, this one is dropped. */
        p2c2r__batch_init(&answer, P2C2R__WIRE__MSG_TYPE__RESULT);
        answer.env.instance = INSTANCE;
        answer.env.inline_payloads = router_inline;
        for (int k = 0; k < 2; k++) {
            zmq_msg_t out;
            zmq_msg_init(&out);
            zmq_msg_copy(&out, &msg.item_payloads[0]);
            p2c2r__batch_add(&answer, ids[0], 0, P2C2R_OK, NULL, NULL, NULL, &out);
        }
        CHECK_RC(p2c2r__batch_send(&answer, router, msg.route, msg.route_len, 0), P2C2R_OK);
    }
    p2c2r__envelope_msg_close(&msg);
    int count[N] = {0}, status[N] = {0};
    CHECK(take_results(client, ids[0], N, count, status, true) == N);
    for (int i = 0; i < N; i++) {
        CHECK(count[i] == 1);
        CHECK(status[i] == (i == 30 ? P2C2R_E_BADINPUT : P2C2R_OK));
    }
    p2c2r_result *extra = NULL;
    CHECK_RC(p2c2r_poll(client, 300, &extra), P2C2R_E_TIMEOUT);
    p2c2r_result_free(&extra);
    p2c2r_client_stats stats;
    p2c2r_client_get_stats(client, &stats);
    CHECK(stats.dropped_answers == 2);
    CHECK(stats.errors == 1 && stats.cluster == N - 1);

    /* Three shapes in one call: noop, sleep, noop with no_cache: three messages, in order,
     * each answered plainly. */
    p2c2r_task mixed[8];
    for (int i = 0; i < 8; i++)
        mixed[i] = noop_task(data[i], i >= 5 ? P2C2R_TASK_NO_CACHE : 0);
    mixed[3].kind = mixed[4].kind = P2C2R_TASK_SLEEP;
    CHECK_RC(p2c2r_submit_batch(client, mixed, 8, ids), P2C2R_OK);
    const char *kinds[3] = {"noop", "sleep", "noop"};
    size_t items[3] = {3, 2, 3};
    for (int m = 0; m < 3; m++) {
        CHECK_RC(router_next(router, WAIT_MS, &msg), P2C2R_OK);
        if (!msg.env)
            break;
        CHECK(strcmp(msg.env->kind, kinds[m]) == 0);
        CHECK(msg.env->no_cache == (m == 2));
        size_t n = msg.env->n_items ? msg.env->n_items : 1;
        CHECK(n == items[m]);
        /* Payloads inline, now that the coordinator has said it reads them (sleeps have
         * none). */
        if (m != 1)
            CHECK(testwire_inline(msg.env) == n);
        CHECK(msg.columns == (msg.env->n_items > 1));
        for (size_t i = 0; i < n; i++) {
            p2c2r_envelope view;
            if (msg.env->n_items)
                p2c2r__envelope_item_view(msg.env, i, &view);
            else
                view = *msg.env;
            zmq_msg_t *payload = msg.env->n_items ? &msg.item_payloads[i] : &msg.payload;
            p2c2r_envelope answer;
            p2c2r__envelope_init(&answer, P2C2R__WIRE__MSG_TYPE__RESULT);
            answer.task_id = view.task_id;
            answer.instance = INSTANCE;
            answer.inline_payloads = router_inline;
            zmq_msg_t out;
            zmq_msg_init(&out);
            zmq_msg_copy(&out, payload);
            CHECK_RC(p2c2r__envelope_send(router, msg.route, msg.route_len, &answer, &out, 0),
                     P2C2R_OK);
            zmq_msg_close(&out);
        }
        p2c2r__envelope_msg_close(&msg);
    }
    int count8[8] = {0}, status8[8] = {0};
    CHECK(take_results(client, ids[0], 8, count8, status8, true) == 8);
    for (int i = 0; i < 8; i++)
        CHECK(count8[i] == 1 && status8[i] == P2C2R_OK);

    /* A window with room for fewer than the batch: BUSY, nothing taken. */
    p2c2r_client_config small = {.coordinator = endpoint, .max_in_flight = 8};
    p2c2r_client *tight = p2c2r_client_new(&small, NULL);
    CHECK(tight != NULL);
    if (tight) {
        CHECK_RC(p2c2r_submit_batch(tight, tasks, 9, ids), P2C2R_E_BUSY);
        CHECK(p2c2r_client_pending(tight) == 0);
    }
    CHECK_RC(router_next(router, 300, &msg), P2C2R_E_TIMEOUT); /* nothing was sent */
    p2c2r__envelope_msg_close(&msg);
    p2c2r_client_destroy(&tight);
    p2c2r_client_destroy(&client);
    zmq_close(router);
}

/* ---- 2. the coordinator's side: ASSIGN batches to a peer played by hand --------------- */

/* What reached a peer played by hand. */
typedef struct assigned {
    int tasks;            /* tasks assigned */
    int messages;         /* ASSIGN messages */
    int largest;          /* tasks in the largest */
    size_t largest_bytes; /* payload bytes in the largest by bytes */
    int batches;          /* ASSIGN messages of several tasks */
    int inline_batches;   /* ... that carried their payloads inline */
    int column_batches;   /* ... in columns */
} assigned;

/* Answer each ASSIGN on the npeers peers with one RESULT batch echoing its payloads,
 * until n tasks came or WAIT_MS passed; *a says what came. */
static void serve_peers(void *const *peers, int npeers, int n, assigned *a)
{
    *a = (assigned){0};
    static p2c2r_batch answer;
    uint64_t until = p2c2r__now_us() + WAIT_MS * 1000ull;
    while (a->tasks < n && p2c2r__now_us() < until) {
        zmq_pollitem_t ready[2];
        for (int i = 0; i < npeers && i < 2; i++)
            ready[i] = (zmq_pollitem_t){peers[i], 0, ZMQ_POLLIN, 0};
        if (zmq_poll(ready, npeers, 100) <= 0)
            continue;
        void *peer = ready[0].revents & ZMQ_POLLIN ? peers[0] : peers[1];
        p2c2r_envelope_msg msg;
        if (testwire_recv(peer, 100, &msg) != P2C2R_OK || !msg.env ||
            msg.env->type != P2C2R__WIRE__MSG_TYPE__ASSIGN) {
            p2c2r__envelope_msg_close(&msg);
            continue;
        }
        size_t items = msg.env->n_items ? msg.env->n_items : 1, bytes = 0;
        a->messages++;
        a->batches += msg.env->n_items > 1;
        a->inline_batches += msg.env->n_items > 1 && testwire_inline(msg.env) == items;
        a->column_batches += msg.columns;
        a->largest = (int)items > a->largest ? (int)items : a->largest;
        p2c2r__batch_init(&answer, P2C2R__WIRE__MSG_TYPE__RESULT);
        answer.env.instance = msg.env->instance;
        answer.inline_ok = msg.env->inline_payloads; /* as the real peer answers */
        answer.columns_ok = msg.env->reads_columns;
        for (size_t i = 0; i < items; i++) {
            p2c2r_envelope view;
            if (msg.env->n_items)
                p2c2r__envelope_item_view(msg.env, i, &view);
            else
                view = *msg.env;
            zmq_msg_t out;
            zmq_msg_init(&out);
            zmq_msg_copy(&out, msg.env->n_items ? &msg.item_payloads[i] : &msg.payload);
            bytes += zmq_msg_size(&out);
            p2c2r__batch_add(&answer, view.task_id, 0, P2C2R_OK, NULL, NULL, NULL, &out);
            a->tasks++;
        }
        a->largest_bytes = bytes > a->largest_bytes ? bytes : a->largest_bytes;
        CHECK_RC(p2c2r__batch_send(&answer, peer, NULL, 0, 0), P2C2R_OK);
        p2c2r__envelope_msg_close(&msg);
    }
}

static void serve(void *peer, int n, assigned *a)
{
    serve_peers(&peer, 1, n, a);
}

/* What the peer played by hand says it reads: batch payloads as frames only, inline as
 * items, or inline in columns as well. */
typedef enum reads { READS_FRAMES, READS_INLINE, READS_COLUMNS } reads;

static void coordinator_side(void *ctx, reads form)
{
    static const char *const said[] = {"frames", "inline items", "columns"};
    cluster cl = {0};
    CHECK(cluster_start_coordinator(&cl, NULL) == 0);
    void *peer = testwire_dealer(ctx, cl.peer_endpoint);
    CHECK(peer &&
          (form == READS_COLUMNS  ? testwire_hello_columns(peer, 0xbeefull, 64)
           : form == READS_INLINE ? testwire_hello_inline(peer, 0xbeefull, 64)
                                  : testwire_hello_batches(peer, 0xbeefull, 64)) == P2C2R_OK);
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = 64};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    /* Registration first: a task that finds no peer would wait in the queue anyway, but
     * then it could be assigned alone as the peer arrives. */
    zmq_pollitem_t wait = {peer, 0, ZMQ_POLLIN, 0};
    zmq_poll(&wait, 1, 1000);
    p2c2r_task tasks[N];
    uint64_t ids[N];
    noop_batch(tasks);
    CHECK(client && p2c2r_submit_batch(client, tasks, N, ids) == P2C2R_OK);

    /* Each ASSIGN is answered at once with one RESULT batch: a new peer is trusted with
     * more tasks at a time as it answers (health.h), so later ASSIGNs carry more. */
    assigned a;
    serve(peer, N, &a);
    printf("batch: %d tasks reached the peer in %d ASSIGN message(s), the largest of %d; %d of "
           "%d batch(es) with inline payloads, %d in columns (the peer reads %s)\n",
           a.tasks, a.messages, a.largest, a.inline_batches, a.batches, a.column_batches,
           said[form]);
    CHECK(a.tasks == N);
    CHECK(a.messages < N && a.largest > 1);
    CHECK(a.inline_batches == (form != READS_FRAMES ? a.batches : 0));
    CHECK(a.column_batches == (form == READS_COLUMNS ? a.batches : 0));
    int count[N] = {0}, status[N] = {0};
    CHECK(client && take_results(client, ids[0], N, count, status, true) == N);
    for (int i = 0; i < N; i++)
        CHECK(count[i] == 1 && status[i] == P2C2R_OK);
    p2c2r_client_destroy(&client);
    if (peer)
        zmq_close(peer);
    CHECK(cluster_stop(&cl) == 0);
}

/* Two peers played by hand: once they have earned their slots, the 32 tasks of a SUBMIT
 * batch reach them in one ASSIGN each, however selection spreads the tasks between them
 * (the coordinator fills a batch per peer during a pass, not one at a time). */
static void two_peers(void *ctx)
{
    cluster cl = {0};
    CHECK(cluster_start_coordinator(&cl, NULL) == 0);
    void *peers[2] = {testwire_dealer(ctx, cl.peer_endpoint),
                      testwire_dealer(ctx, cl.peer_endpoint)};
    for (int i = 0; i < 2; i++)
        CHECK(peers[i] &&
              testwire_hello_columns(peers[i], 0xbee0ull + (uint64_t)i, 64) == P2C2R_OK);
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = 64};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    for (int i = 0; i < 2; i++) {
        zmq_pollitem_t wait = {peers[i], 0, ZMQ_POLLIN, 0};
        zmq_poll(&wait, 1, 1000);
    }
    p2c2r_task tasks[N];
    uint64_t ids[N];
    noop_batch(tasks);
    /* Eight batches earn each peer its 64 slots (one more per good answer); the ninth is
     * the one counted. */
    assigned a = {0};
    for (int round = 0; round < 9 && client; round++) {
        CHECK_RC(p2c2r_submit_batch(client, tasks, N, ids), P2C2R_OK);
        serve_peers(peers, 2, N, &a);
        int count[N] = {0}, status[N] = {0};
        CHECK(take_results(client, ids[0], N, count, status, true) == N);
    }
    printf("batch: with two peers, 32 tasks of a warm cluster reached them in %d ASSIGN "
           "message(s)\n",
           a.messages);
    CHECK(a.tasks == N && a.messages <= 2);
    p2c2r_client_destroy(&client);
    for (int i = 0; i < 2; i++)
        if (peers[i])
            zmq_close(peers[i]);
    CHECK(cluster_stop(&cl) == 0);
}

/* ---- 3. what shares a message --------------------------------------------------------- */

#define BIG  4096 /* bytes of a task too big to share a message it was not sent in */
#define MANY 24   /* tasks submitted one by one */

/* Tasks submitted one by one share a message, from the SDK to the coordinator and from the
 * coordinator to a peer, only while their payloads come to P2C2R_MERGE_MAX_BYTES or fewer;
 * the tasks of one submit_batch() stay together whatever their size. */
static void merge_bound(void *ctx)
{
    cluster cl = {0};
    CHECK(cluster_start_coordinator(&cl, NULL) == 0);
    void *peer = testwire_dealer(ctx, cl.peer_endpoint);
    CHECK(peer && testwire_hello_batches(peer, 0xfeedull, 64) == P2C2R_OK);
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = 64};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!peer || !client)
        goto done;
    zmq_pollitem_t wait = {peer, 0, ZMQ_POLLIN, 0};
    zmq_poll(&wait, 1, 1000);
    static uint8_t big[MANY][BIG], small[2 * MANY][SIZE];
    uint64_t ids[2 * MANY];
    int count[2 * MANY], status[2 * MANY];
    assigned a;

    /* Big tasks one by one, back to back: merged, any two would pass the bound. */
    for (uint32_t i = 0; i < MANY; i++) {
        fill(big[i], BIG, i);
        CHECK_RC(p2c2r_submit_noop(client, big[i], BIG, DEADLINE, &ids[i]), P2C2R_OK);
    }
    serve(peer, MANY, &a);
    printf("merge: %d tasks of %d B submitted one by one reached the peer in %d ASSIGN(s), "
           "the largest of %d\n",
           a.tasks, BIG, a.messages, a.largest);
    CHECK(a.tasks == MANY && a.largest == 1);
    memset(count, 0, sizeof count);
    CHECK(take_results(client, ids[0], MANY, count, status, false) == MANY);

    /* Small ones may share, up to the bound. */
    for (uint32_t i = 0; i < 2 * MANY; i++) {
        fill(small[i], SIZE, i);
        CHECK_RC(p2c2r_submit_noop(client, small[i], SIZE, DEADLINE, &ids[i]), P2C2R_OK);
    }
    serve(peer, 2 * MANY, &a);
    printf("merge: %d tasks of %d B reached the peer in %d ASSIGN(s), the largest of %d (%zu "
           "B)\n",
           a.tasks, SIZE, a.messages, a.largest, a.largest_bytes);
    CHECK(a.tasks == 2 * MANY && a.largest_bytes <= P2C2R_MERGE_MAX_BYTES);
    memset(count, 0, sizeof count);
    CHECK(take_results(client, ids[0], 2 * MANY, count, status, true) == 2 * MANY);

    /* Big ones in one submit_batch(): together past the bound. */
    p2c2r_task tasks[8];
    for (uint32_t i = 0; i < 8; i++)
        tasks[i] = (p2c2r_task){
            .kind = P2C2R_TASK_NOOP, .deadline_ms = DEADLINE, .data = big[i], .size = BIG};
    CHECK_RC(p2c2r_submit_batch(client, tasks, 8, ids), P2C2R_OK);
    serve(peer, 8, &a);
    printf("merge: a batch of 8 tasks of %d B reached the peer in %d ASSIGN(s), the largest of "
           "%d (%zu B)\n",
           BIG, a.messages, a.largest, a.largest_bytes);
    CHECK(a.tasks == 8 && a.largest > 1 && a.largest_bytes > P2C2R_MERGE_MAX_BYTES);
    memset(count, 0, sizeof count);
    CHECK(take_results(client, ids[0], 8, count, status, false) == 8);
    for (int i = 0; i < 8; i++)
        CHECK(count[i] == 1 && status[i] == P2C2R_OK);
done:
    p2c2r_client_destroy(&client);
    if (peer)
        zmq_close(peer);
    CHECK(cluster_stop(&cl) == 0);
}

/* ---- 4. real peers, real frames ------------------------------------------------------ */

static void real_peers(void)
{
    static const char *const inputs[] = {"bythewater_420.jpg", "cups_422_progressive.jpg",
                                         "fallenleaf_gray.jpg", "path_444.jpg"};
    cluster cl = {0};
    CHECK(cluster_start_coordinator(&cl, NULL) == 0);
    CHECK(cluster_add_peer(&cl, NULL) >= 0);
    CHECK(cluster_add_peer(&cl, NULL) >= 0);
    p2c2r_client_config config = {.coordinator = cl.client_endpoint, .max_in_flight = 64};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    uint8_t *jpeg[4] = {0};
    size_t jpeg_size[4] = {0};
    uint32_t w[4] = {0}, h[4] = {0};
    p2c2r_jpeg *codec = p2c2r__jpeg_new();
    p2c2r_upscale_desc desc[4];
    static uint8_t data[N][SIZE];
    p2c2r_task tasks[N];
    uint64_t ids[N];
    for (int i = 0; i < 4; i++) {
        jpeg[i] = testutil_read_file(testutil_data_path(inputs[i]), &jpeg_size[i]);
        p2c2r_pixel_format fmt;
        CHECK(jpeg[i] &&
              p2c2r__jpeg_header(codec, jpeg[i], jpeg_size[i], &w[i], &h[i], &fmt) == P2C2R_OK);
        desc[i] = (p2c2r_upscale_desc){.codec = P2C2R_CODEC_JPEG,
                                       .scale = 2,
                                       .mode = P2C2R_MODE_FAST,
                                       .deadline_ms = DEADLINE,
                                       .flags = P2C2R_TASK_NO_CACHE};
    }
    /* Upscales at 0, 8, 16, 24 (two of each input); noop tasks between them. */
    for (uint32_t i = 0; i < N; i++) {
        fill(data[i], SIZE, i);
        tasks[i] = noop_task(data[i], 0);
        if (i % 4 == 0) {
            int k = (int)(i / 4) % 4;
            tasks[i] = (p2c2r_task){.kind = P2C2R_TASK_UPSCALE,
                                    .upscale = &desc[k],
                                    .data = jpeg[k],
                                    .size = jpeg_size[k]};
        }
    }
    CHECK(client && p2c2r_submit_batch(client, tasks, N, ids) == P2C2R_OK);
    int got = 0;
    int count[N] = {0};
    while (client && got < N) {
        p2c2r_result *r;
        if (p2c2r_poll(client, 30000, &r) != P2C2R_OK)
            break;
        uint64_t k = p2c2r_result_task_id(r) - ids[0];
        CHECK(k < N && p2c2r_result_status(r) == P2C2R_OK);
        if (p2c2r_result_status(r) != P2C2R_OK)
            fprintf(stderr, "batch: task %llu: %s: %s\n", (unsigned long long)k,
                    p2c2r_errname(p2c2r_result_status(r)), p2c2r_result_detail(r));
        if (k < N && p2c2r_result_status(r) == P2C2R_OK) {
            count[k]++;
            size_t size;
            const void *out = p2c2r_result_data(r, &size);
            if (k % 4 == 0) {
                int in = (int)(k / 4) % 4;
                uint32_t ow = 0, oh = 0;
                p2c2r_pixel_format fmt;
                CHECK(p2c2r__jpeg_header(codec, out, size, &ow, &oh, &fmt) == P2C2R_OK);
                CHECK(ow == 2 * w[in] && oh == 2 * h[in]);
            } else {
                CHECK(filled(out, size, (uint32_t)k));
            }
        }
        got++;
        p2c2r_result_free(&r);
    }
    CHECK(got == N);
    for (int i = 0; i < N; i++)
        CHECK(count[i] == 1);
    p2c2r_client_destroy(&client);
    p2c2r__jpeg_destroy(&codec);
    for (int i = 0; i < 4; i++)
        free(jpeg[i]);
    CHECK(cluster_stop(&cl) == 0);
}

int main(void)
{
    void *ctx = zmq_ctx_new();
    sdk_side(ctx);
    coordinator_side(ctx, READS_FRAMES);
    coordinator_side(ctx, READS_INLINE);
    coordinator_side(ctx, READS_COLUMNS);
    two_peers(ctx);
    merge_bound(ctx);
    real_peers();
    zmq_ctx_term(ctx);
    return testutil_finish("batch");
}
