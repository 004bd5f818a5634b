/* sdk_nonblocking_test: the SDK never makes a game thread wait, and never loses a task.
 * 1. poll(0) and submit() return at once while another thread waits in poll(-1), which
 *    still gets the next result.
 * 2. submit() copies a frame into memory the client reuses: 300 frames through a window of
 *    8 allocate a handful of buffers, not 300.
 * 3. A lent frame is not copied and its release runs exactly once per frame, never for a
 *    submit that failed.
 * 4. With a result callback every task comes to it once, on an SDK thread, and poll()
 *    refuses.
 * 5. p2c2r_client_new() fails when a thread or socket cannot be made (too few file
 *    descriptors), and a client it returns works: its task ends.
 * 6. When the I/O thread fails, every task it held ends with P2C2R_E_IO and new submits
 *    are refused.
 * 7. A deadline counts from submit(): tasks submitted while the coordinator is not yet up
 *    end at their deadline, not a deadline after the connection came.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client/client_internal.h"
#include "cluster.h"
#include "common/clock.h"
#include "p2c2r.h"
#include "testutil.h"

#define WATCHDOG_US 2000000u

/* ---- 1. poll(0) beside poll(-1) ---------------------------------------------------- */

typedef struct waiter {
    p2c2r_client *client; /* shared */
    int rc;               /* what poll(-1) returned */
    uint64_t task_id;     /* of the result it got */
    atomic_bool done;     /* it returned */
} waiter;

static void *wait_forever(void *arg)
{
    waiter *w = arg;
    p2c2r_result *r = NULL;
    w->rc = p2c2r_poll(w->client, -1, &r);
    w->task_id = r ? p2c2r_result_task_id(r) : 0;
    p2c2r_result_free(&r);
    atomic_store(&w->done, true);
    return NULL;
}

typedef struct quick {
    p2c2r_client *client; /* shared */
    uint64_t slowest_us;  /* the longest poll(0) or submit() */
    uint64_t id;          /* the task submitted */
    atomic_bool done;     /* finished */
} quick;

static void *poll_and_submit(void *arg)
{
    quick *q = arg;
    for (int i = 0; i < 1000; i++) {
        uint64_t t0 = p2c2r__now_us();
        p2c2r_result *r;
        CHECK_RC(p2c2r_poll(q->client, 0, &r), P2C2R_E_TIMEOUT);
        uint64_t t = p2c2r__now_us() - t0;
        if (t > q->slowest_us)
            q->slowest_us = t;
    }
    uint64_t t0 = p2c2r__now_us();
    CHECK_RC(p2c2r_submit_noop(q->client, "ping", 4, 5000, &q->id), P2C2R_OK);
    uint64_t t = p2c2r__now_us() - t0;
    if (t > q->slowest_us)
        q->slowest_us = t;
    atomic_store(&q->done, true);
    return NULL;
}

/* Wait up to WATCHDOG_US for *flag; false if it never came. */
static bool wait_flag(atomic_bool *flag)
{
    uint64_t until = p2c2r__now_us() + WATCHDOG_US;
    while (!atomic_load(flag) && p2c2r__now_us() < until)
        usleep(1000);
    return atomic_load(flag);
}

static void poll_beside_poll(const cluster *cl)
{
    printf("1. poll(0) and submit() while another thread waits in poll(-1)\n");
    p2c2r_client_config config = {.coordinator = cl->client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client)
        return;
    waiter w = {.client = client};
    quick q = {.client = client};
    pthread_t tw, tq;
    pthread_create(&tw, NULL, wait_forever, &w);
    usleep(100000); /* it is waiting now */
    pthread_create(&tq, NULL, poll_and_submit, &q);
    if (!wait_flag(&q.done)) {
        fprintf(stderr, "poll(0) or submit() still blocked after %u ms\n", WATCHDOG_US / 1000);
        CHECK(!"poll(0) returned at once");
        _exit(testutil_finish("sdk_nonblocking_test")); /* the threads cannot be joined */
    }
    printf("   1000 poll(0) and a submit(): the slowest took %llu us\n",
           (unsigned long long)q.slowest_us);
    CHECK(wait_flag(&w.done));
    CHECK_RC(w.rc, P2C2R_OK);
    CHECK(w.task_id == q.id);
    pthread_join(tq, NULL);
    pthread_join(tw, NULL);
    p2c2r_client_destroy(&client);
}

/* ---- 2. and 3. memory ------------------------------------------------------------------ */

#define FRAMES 300
#define WINDOW 8

static void copies_reuse_buffers(const cluster *cl)
{
    printf("2. %d copied frames of 256 KiB through a window of %d\n", FRAMES, WINDOW);
    p2c2r_client_config config = {.coordinator = cl->client_endpoint, .max_in_flight = WINDOW};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    size_t size = 256u << 10;
    uint8_t *frame = malloc(size);
    int ended = 0, submitted = 0;
    while (client && frame && ended < FRAMES) {
        uint64_t id;
        while (submitted < FRAMES && submitted - ended < WINDOW) {
            memset(frame, submitted, size);
            CHECK_RC(p2c2r_submit_noop(client, frame, size, 10000, &id), P2C2R_OK);
            submitted++;
        }
        p2c2r_result *r;
        if (p2c2r_poll(client, 10000, &r) != P2C2R_OK) {
            CHECK(!"a frame never ended");
            break;
        }
        CHECK_RC(p2c2r_result_status(r), P2C2R_OK);
        size_t n;
        const uint8_t *out = p2c2r_result_data(r, &n);
        /* Each echo is its own frame's bytes: a reused buffer was never overwritten while
         * its frame was still being sent. */
        CHECK(n == size && out[0] == out[size - 1] &&
              out[0] == (uint8_t)(p2c2r_result_task_id(r) - 1));
        ended++;
        p2c2r_result_free(&r);
    }
    p2c2r_client_stats s;
    if (client) {
        p2c2r_client_get_stats(client, &s);
        printf("   buffers allocated: %llu, held: %llu KiB\n", (unsigned long long)s.buffer_allocs,
               (unsigned long long)s.buffer_bytes >> 10);
        CHECK(s.buffer_allocs >= 1 && s.buffer_allocs <= 2 * WINDOW);
        CHECK(s.submitted == FRAMES && s.cluster == FRAMES && s.errors == 0);
    }
    free(frame);
    p2c2r_client_destroy(&client);
}

typedef struct lent_frame {
    uint8_t bytes[4096]; /* the frame */
    atomic_int releases; /* times released */
} lent_frame;

static void on_release(void *arg, const void *data)
{
    lent_frame *f = arg;
    CHECK(data == f->bytes);
    atomic_fetch_add(&f->releases, 1);
}

static void lent_frames(const cluster *cl)
{
    printf("3. lent frames\n");
    p2c2r_client_config config = {.coordinator = cl->client_endpoint, .max_in_flight = 4};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client)
        return;
    static lent_frame frames[40];
    int ok = 0;
    p2c2r_upscale_desc desc = {.codec = P2C2R_CODEC_RAW,
                               .pixel_format = P2C2R_PIX_GRAY8,
                               .width = 64,
                               .height = 64,
                               .scale = 2,
                               .output_codec = P2C2R_CODEC_RAW,
                               .deadline_ms = 10000};
    for (int i = 0; i < 40; i++) {
        lent_frame *f = &frames[i];
        memset(f->bytes, i, sizeof f->bytes);
        uint64_t id;
        CHECK_RC(
            p2c2r_submit_upscale_lent(client, &desc, f->bytes, sizeof f->bytes, on_release, f, &id),
            P2C2R_OK);
        p2c2r_result *r;
        CHECK_RC(p2c2r_poll(client, 10000, &r), P2C2R_OK);
        if (r) {
            size_t n;
            const uint8_t *out = p2c2r_result_data(r, &n);
            ok += p2c2r_result_status(r) == P2C2R_OK && n == 128 * 128 && out[0] == i &&
                  out[n - 1] == i;
        }
        p2c2r_result_free(&r);
    }
    /* Failed submits: the buffer stays the caller's, release never runs. */
    static lent_frame refused;
    uint64_t id;
    p2c2r_upscale_desc bad = desc;
    bad.scale = 9;
    CHECK_RC(p2c2r_submit_upscale_lent(client, &bad, refused.bytes, sizeof refused.bytes,
                                       on_release, &refused, &id),
             P2C2R_E_INVAL);
    p2c2r_client_config tiny = {.coordinator = cl->client_endpoint, .max_in_flight = 1};
    p2c2r_client *one = p2c2r_client_new(&tiny, NULL);
    CHECK(one != NULL);
    if (one) {
        CHECK_RC(p2c2r_submit_upscale_lent(one, &desc, frames[0].bytes, sizeof frames[0].bytes,
                                           on_release, &frames[0], &id),
                 P2C2R_OK);
        CHECK_RC(p2c2r_submit_upscale_lent(one, &desc, refused.bytes, sizeof refused.bytes,
                                           on_release, &refused, &id),
                 P2C2R_E_BUSY);
    }
    p2c2r_client_destroy(&one);
    p2c2r_client_destroy(&client);
    int once = 0;
    for (int i = 1; i < 40; i++)
        once += atomic_load(&frames[i].releases) == 1;
    printf("   %d/40 upscaled, %d/39 released exactly once, frame 0 lent twice released %d "
           "times, refused frame released %d times\n",
           ok, once, atomic_load(&frames[0].releases), atomic_load(&refused.releases));
    CHECK(ok == 40 && once == 39);
    CHECK(atomic_load(&frames[0].releases) == 2);
    CHECK(atomic_load(&refused.releases) == 0);
}

/* ---- 4. callback ------------------------------------------------------------------------ */

typedef struct inbox {
    pthread_t main;     /* the test's thread */
    atomic_int results; /* results received */
    atomic_int on_main; /* of them, on the test's thread */
    uint64_t ids[64];   /* task ids received */
} inbox;

static void on_result(void *arg, p2c2r_result *r)
{
    inbox *in = arg;
    int n = atomic_fetch_add(&in->results, 1);
    if (n < 64)
        in->ids[n] = p2c2r_result_task_id(r);
    if (pthread_equal(pthread_self(), in->main))
        atomic_fetch_add(&in->on_main, 1);
    CHECK_RC(p2c2r_result_status(r), P2C2R_OK);
    p2c2r_result_free(&r);
}

static void callback(const cluster *cl)
{
    printf("4. results through a callback\n");
    inbox in = {.main = pthread_self()};
    p2c2r_client_config config = {
        .coordinator = cl->client_endpoint, .on_result = on_result, .on_result_arg = &in};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client)
        return;
    uint64_t ids[32];
    for (int i = 0; i < 32; i++)
        CHECK_RC(p2c2r_submit_noop(client, "cb", 2, 10000, &ids[i]), P2C2R_OK);
    p2c2r_result *r;
    CHECK_RC(p2c2r_poll(client, 0, &r), P2C2R_E_INVAL);
    uint64_t until = p2c2r__now_us() + 10000000u;
    while (atomic_load(&in.results) < 32 && p2c2r__now_us() < until)
        usleep(1000);
    usleep(50000); /* nothing more may come */
    int seen[32] = {0};
    for (int i = 0; i < atomic_load(&in.results) && i < 64; i++)
        testutil_task_ended(ids, seen, 32, in.ids[i]);
    printf("   %d results, %d on the caller's thread, pending %u\n", atomic_load(&in.results),
           atomic_load(&in.on_main), p2c2r_client_pending(client));
    CHECK(atomic_load(&in.results) == 32 && atomic_load(&in.on_main) == 0);
    CHECK(p2c2r_client_pending(client) == 0);
    p2c2r_client_destroy(&client);
}

/* ---- 7. deadlines count from submit ------------------------------------------------- */

static void deadline_from_submit(cluster *cl)
{
    printf("7. tasks submitted 600 ms before the coordinator is up, deadline 1500 ms\n");
    /* The coordinator is down while the client starts and submits; it comes back on the
     * same port (with no peer, so queued tasks end at their deadline). */
    kill(cl->coordinator, SIGKILL);
    usleep(100000);
    p2c2r_client_config config = {.coordinator = cl->client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    uint64_t id[3];
    for (int i = 0; client && i < 3; i++)
        CHECK_RC(p2c2r_submit_noop(client, "late", 4, 1500, &id[i]), P2C2R_OK);
    usleep(600000);
    CHECK(cluster_restart_coordinator(cl, SIGKILL, NULL) == 0);
    for (int i = 0; client && i < 3; i++) {
        p2c2r_result *r;
        CHECK_RC(p2c2r_poll(client, 5000, &r), P2C2R_OK);
        if (!r)
            break;
        p2c2r_timings t;
        p2c2r_result_timings(r, &t);
        printf("   %s after %.0f ms: %s\n", p2c2r_errname(p2c2r_result_status(r)),
               t.total_us / 1000.0, p2c2r_result_detail(r));
        CHECK_RC(p2c2r_result_status(r), P2C2R_E_DEADLINE);
        /* The coordinator's DEADLINE at 1500 ms from submit, not 1500 ms from when the
         * task could first be sent (2100 ms). */
        CHECK(t.total_us < 1700000u);
        p2c2r_result_free(&r);
    }
    p2c2r_client_destroy(&client);
}

/* ---- 6. the I/O thread fails ----------------------------------------------------------- */

static void io_thread_fails(const cluster *cl)
{
    printf("6. the I/O thread fails with 10 tasks in flight\n");
    p2c2r_client_config config = {.coordinator = cl->client_endpoint};
    p2c2r_client *client = p2c2r_client_new(&config, NULL);
    CHECK(client != NULL);
    if (!client)
        return;
    uint64_t ids[10];
    int seen[10] = {0};
    /* No peer: they wait in the coordinator's queue. */
    for (int i = 0; i < 10; i++)
        CHECK_RC(p2c2r_submit_noop(client, "stuck", 5, 30000, &ids[i]), P2C2R_OK);
    usleep(100000);
    uint64_t t0 = p2c2r__now_us();
    p2c2r__client_inject_io_failure(client);
    int io = 0;
    for (int i = 0; i < 10; i++) {
        p2c2r_result *r;
        if (p2c2r_poll(client, 2000, &r) != P2C2R_OK)
            break;
        testutil_task_ended(ids, seen, 10, p2c2r_result_task_id(r));
        io += p2c2r_result_status(r) == P2C2R_E_IO;
        if (i == 0)
            printf("   %s: %s\n", p2c2r_errname(p2c2r_result_status(r)), p2c2r_result_detail(r));
        p2c2r_result_free(&r);
    }
    printf("   %d/10 ended with P2C2R_E_IO within %.0f ms\n", io, (p2c2r__now_us() - t0) / 1000.0);
    CHECK(io == 10);
    uint64_t id;
    CHECK_RC(p2c2r_submit_noop(client, "more", 4, 1000, &id), P2C2R_E_IO);
    CHECK(p2c2r_client_pending(client) == 0);
    p2c2r_client_destroy(&client);
}

/* ---- 5. start-up failures ---------------------------------------------------------------- */

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void start_failures(const cluster *cl)
{
    printf("5. clients made with 0 to 40 file descriptors to spare\n");
    /* A first client sets up ZeroMQ's own context and threads, which are the process's,
     * not the client's. */
    p2c2r_client_config config = {.coordinator = cl->client_endpoint,
                                  .fallback = P2C2R_FALLBACK_LOCAL};
    p2c2r_client *first = p2c2r_client_new(&config, NULL);
    CHECK(first != NULL);
    /* Clients destroyed before have their sockets closed by ZeroMQ's own thread, some time
     * later: count once the count holds still, or the spare descriptors are more than
     * planned and every client is made. */
    int in_use = -1;
    for (int tries = 0; tries < 50; tries++) {
        int now = open_fds();
        if (now == in_use)
            break;
        in_use = now;
        usleep(50000);
    }
    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    int failed = 0, worked = 0;
    for (int spare = 0; spare <= 40; spare++) {
        struct rlimit lim = {(rlim_t)(in_use + spare), old.rlim_max};
        setrlimit(RLIMIT_NOFILE, &lim);
        int err = 0;
        p2c2r_client *c = p2c2r_client_new(&config, &err);
        setrlimit(RLIMIT_NOFILE, &old);
        if (!c) {
            CHECK(err < 0);
            failed++;
            continue;
        }
        /* A client that was made must end its tasks. */
        uint64_t id;
        CHECK_RC(p2c2r_submit_noop(c, "x", 1, 300, &id), P2C2R_OK);
        p2c2r_result *r;
        CHECK_RC(p2c2r_poll(c, 3000, &r), P2C2R_OK);
        worked += r != NULL;
        p2c2r_result_free(&r);
        p2c2r_client_destroy(&c);
    }
    printf("   %d refused with an error, %d made and working\n", failed, worked);
    CHECK(failed > 0 && worked > 0 && failed + worked == 41);
    p2c2r_client_destroy(&first);
}

int main(void)
{
    cluster cl = {0};
    if (cluster_start_coordinator(&cl, NULL) || cluster_add_peer(&cl, NULL) < 0) {
        cluster_stop(&cl);
        return 1;
    }
    poll_beside_poll(&cl);
    copies_reuse_buffers(&cl);
    lent_frames(&cl);
    callback(&cl);
    start_failures(&cl);
    cluster_kill_peer(&cl, 0, SIGTERM);
    io_thread_fails(&cl);
    deadline_from_submit(&cl);
    cluster_stop(&cl);
    return testutil_finish("sdk_nonblocking_test");
}
