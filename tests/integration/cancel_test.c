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

/* Wait (up to 60 s) until the log has at least n lines with needle. */
static bool await_lines(const char *path, const char *needle, int n)
{
    for (int i = 0; i < 600; i++) {
        if (testutil_count_lines(path, needle) >= n)
            return true;
        usleep(100000);
    }
    fprintf(stderr, "%s: fewer than %d line(s) with '%s'\n", path, n, needle);
    return false;
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

    /* The cluster works. */
    uint64_t warm = submit_noop(client, LONG_DEADLINE_MS);
    CHECK_RC(take(client, &t, 60000, warm, NULL), P2C2R_OK);

    printf("-- cancel a queued task, then the running one ahead of it\n");
    uint64_t running = submit_sleep(client, LONG_SLEEP_MS, LONG_DEADLINE_MS);
    CHECK(await_lines(peer0_log, SLEEP_STARTED, 1));
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
    CHECK(await_lines(peer0_log, SLEEP_STARTED, 2));
    CHECK_RC(p2c2r_cancel(client, twice), P2C2R_OK);
    CHECK_RC(p2c2r_cancel(client, twice), P2C2R_OK);
    CHECK_RC(take(client, &t, 10000, twice, NULL), P2C2R_E_CANCELLED);
    uint64_t next = submit_noop(client, SHORT_DEADLINE_MS);
    CHECK_RC(take(client, &t, 60000, next, NULL), P2C2R_OK);
    CHECK_RC(p2c2r_cancel(client, twice), P2C2R_OK);
    expect_quiet(client, &t);

    printf("-- cancel ids that were never handed out\n");
    CHECK_RC(p2c2r_cancel(client, 0), P2C2R_E_INVAL);
    CHECK_RC(p2c2r_cancel(client, next + 1000), P2C2R_E_INVAL);
    CHECK_RC(p2c2r_cancel(NULL, next), P2C2R_E_INVAL);

    printf("-- cancel a running task while its peer dies\n");
    uint64_t orphan = submit_sleep(client, LONG_SLEEP_MS, LONG_DEADLINE_MS);
    CHECK(await_lines(peer0_log, SLEEP_STARTED, 3));
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

    /* Nine tasks, each ended once; four by a cancel, none of the coordinator's answers to
     * them counted as dropped. */
    p2c2r_client_get_stats(client, &after);
    printf("client: %llu submitted, %llu from the cluster, %llu errors, %llu cancelled, %llu "
           "dropped answers\n",
           (unsigned long long)after.submitted, (unsigned long long)after.cluster,
           (unsigned long long)after.errors, (unsigned long long)after.cancelled,
           (unsigned long long)after.dropped_answers);
    CHECK(t.n == 9);
    for (int i = 0; i < t.n; i++)
        CHECK(t.count[i] == 1);
    CHECK(after.submitted == 9 && after.cluster == 5 && after.errors == 4);
    CHECK(after.cancelled == 4 && after.dropped_answers == 0);
    CHECK(p2c2r_client_pending(client) == 0);
    p2c2r_client_destroy(&client);
    CHECK(cluster_stop(&cl) == 0);
    /* The coordinator cancelled the four, and ran nothing a second time. */
    CHECK(testutil_number_before(coord_log, " cancelled") == 4);
    CHECK(testutil_number_before(coord_log, " retried attempt(s)") == 0);
    unlink(coord_log);
    unlink(peer0_log);
    unlink(peer1_log);
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

int main(void)
{
    sdk_cluster_races();
    sdk_local_race();
    return testutil_finish("cancel_test");
}
