/* io: see io.h. */
#include "client/io.h"

#include <czmq.h> /* zhashx, for the job table */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "client/inbox.h"
#include "client/local.h"
#include "client/wire.h"
#include "common/clock.h"
#include "common/idmap.h"
#include "common/image.h"
#include "common/task.h"

/* Liveness: heartbeats while jobs are in flight, and how long a silence means "gone". */
#define HEARTBEAT_US                  (250ull * 1000u)
#define LIVENESS_US                   (1000ull * 1000u)
/* A job is sent again only with at least this much of its deadline left. */
#define RESUBMIT_MIN_LEFT_US          (2000u)
/* Slack between the fallback's predicted finish and the deadline, for waking up, handing
 * over and a busy machine's scheduling: 3 ms plus an eighth of the budget (9 ms of 50). */
#define FALLBACK_MARGIN_US(budget_us) (3000u + (budget_us) / 8)
/* A connected DEALER that refused a message is tried again this much later. */
#define RETRY_SEND_US                 (5000u)
/* Jobs a timer pass ends at most before it looks again. */
#define TIMER_BATCH                   64

struct sdk_io {
    sdk_io_config cfg;          /* settings; endpoint points to our copy */
    sdk_inbox *inbox;           /* jobs and requests from other threads */
    sdk_local *local;           /* the fallback, or NULL */
    sdk_outbox *outbox;         /* SUBMITs being put together */
    pthread_t thread;           /* runs io_main */
    bool started;               /* thread must be joined */
    pthread_mutex_t start_lock; /* guards start_rc and start_done */
    pthread_cond_t start_cond;  /* signalled when the thread is up or gave up */
    int start_rc;               /* the thread's set-up result */
    bool start_done;            /* start_rc is set */
    /* owned by the thread */
    void *dealer;             /* to the coordinator */
    void *monitor;            /* the DEALER's connection events */
    zhashx_t *jobs;           /* id -> sdk_job, every job not yet freed */
    p2c2r_jpeg *jpeg;         /* reads JPEG headers for class keys */
    uint64_t instance;        /* the coordinator's instance last heard (0: none yet) */
    bool coordinator_inline;  /* its last message said it reads inline payloads */
    bool coordinator_columns; /* and batches in columns */
    uint64_t last_heard;      /* when it last said anything */
    uint64_t next_beat;       /* when to send the next heartbeat */
    uint64_t next_timer;      /* earliest time a timer pass has work (UINT64_MAX: none) */
    bool connected;           /* a connection to the coordinator is up */
    bool was_connected;       /* one was up before: a new one is a reconnect */
    bool refused;             /* the last handshake failed: the coordinator refused our key, or
                                 we have the wrong key for it (CURVE) */
    uint64_t started_us;      /* when the thread started */
    uint64_t retry_us;        /* when to try again sending jobs a connected DEALER refused
                                 (its queue full, or the connection not yet attached); 0:
                                 none */
    uint32_t at_local;        /* jobs the fallback holds */
};

static const char *const why_text[] = {
    [SDK_WHY_NONE] = "",
    [SDK_WHY_UNREACHABLE] = "local: the coordinator is unreachable",
    [SDK_WHY_PREDICTED] = "local: the cluster's learnt latency would miss the deadline",
    [SDK_WHY_NO_ANSWER] = "local: the cluster's answer is overdue",
    [SDK_WHY_ERROR] = "local: the cluster answered with an error",
};

static void *dealer_of(sdk_io *io)
{
    return io->dealer;
}

/* Not connected (after a first connection, or for longer than a silence would be allowed
 * since the client started: connecting takes a moment), or silent. */
static bool unreachable(const sdk_io *io, uint64_t now)
{
    if (!io->connected && (io->was_connected || now > io->started_us + LIVENESS_US))
        return true;
    return now > io->last_heard + LIVENESS_US;
}

static void schedule(sdk_io *io, uint64_t at)
{
    if (at < io->next_timer)
        io->next_timer = at;
}

/* ---- ending jobs --------------------------------------------------------------------- */

/* Whether a job may leave the table: ended, not held by the fallback, and no cluster
 * answer worth learning from still due. */
static bool job_done_with(const sdk_job *j, uint64_t now)
{
    return j->state == SDK_JOB_ENDED && !j->at_local &&
           (!j->sent || j->answered || now >= j->expire_us);
}

static void job_forget(sdk_io *io, sdk_job *j)
{
    zhashx_delete(io->jobs, &j->id); /* the destructor frees it */
}

/* Whether an error says something about latency (a slow or absent cluster), for adaptive
 * quality; bad input does not. */
static bool slow_error(int status)
{
    return status != P2C2R_E_BADINPUT && status != P2C2R_E_INVAL && status != P2C2R_E_UNSUPPORTED &&
           status != P2C2R_E_TOOBIG && status != P2C2R_E_CANCELLED;
}

/* Deliver r as the job's one result. */
static void job_end(sdk_io *io, sdk_job *j, p2c2r_result *r)
{
    uint64_t now = p2c2r__now_us();
    j->state = SDK_JOB_ENDED;
    atomic_store(&j->ended, true);
    if (r) {
        r->deadline_ms = j->deadline_ms;
        r->timings.total_us = now - j->submitted_us;
        if (j->kind == P2C2R_KIND_UPSCALE)
            r->mode = j->desc.mode;
        if (io->cfg.adapt && j->kind == P2C2R_KIND_UPSCALE &&
            (r->status == P2C2R_OK || slow_error(r->status)))
            sdk_adapt_observe(io->cfg.adapt, j->desc.mode,
                              r->status == P2C2R_OK ? r->timings.total_us : UINT64_MAX);
        sdk_results_deliver(io->cfg.results, &r);
    }
    if (job_done_with(j, now))
        job_forget(io, j);
    else if (j->state == SDK_JOB_ENDED && !j->at_local)
        schedule(io, j->expire_us);
}

static void job_end_error(sdk_io *io, sdk_job *j, int status, const char *detail)
{
    /* Out of memory for the result: the task still ends, and the game sees it in the
     * window's count; nothing better is possible. */
    job_end(io, j, sdk_result_new(j->id, status, detail));
}

/* The fallback's predicted finish for a job starting now, from its learnt run time and
 * what it holds already. */
static uint64_t local_finish(sdk_io *io, const sdk_job *j, const sdk_estimate *est, uint64_t now)
{
    uint32_t threads = sdk_local_threads(io->local);
    uint64_t ahead = sdk_local_backlog(io->local);
    return now + est->local_us + est->local_us * ahead / threads +
           FALLBACK_MARGIN_US(j->deadline_us - j->submitted_us);
}

static void go_local(sdk_io *io, sdk_job *j, sdk_job_why why)
{
    j->state = SDK_JOB_LOCAL;
    j->why = why;
    j->at_local = true;
    io->at_local++;
    sdk_local_push(io->local, j);
}

/* The cluster cannot deliver the job (an error, a lost coordinator): the fallback takes
 * it if it can still make the deadline, else the job ends with the error. */
static void job_fail(sdk_io *io, sdk_job *j, int status, const char *detail, sdk_job_why why)
{
    if (j->may_run_local && j->state == SDK_JOB_CLUSTER && status != P2C2R_E_BADINPUT &&
        status != P2C2R_E_INVAL && status != P2C2R_E_TOOBIG) {
        sdk_estimate est;
        sdk_learn_estimate(io->cfg.learn, &j->key, &est);
        if (local_finish(io, j, &est, p2c2r__now_us()) <= j->deadline_us) {
            go_local(io, j, why);
            return;
        }
    }
    if (status == P2C2R_E_DEADLINE && j->learnt_deadline)
        sdk_learn_missed(io->cfg.learn, &j->key);
    job_end_error(io, j, status, detail);
}

/* ---- sending --------------------------------------------------------------------------- */

/* When a job waiting for the cluster needs looking at next. */
static uint64_t job_due(const sdk_io *io, const sdk_job *j, bool silent)
{
    if (j->state == SDK_JOB_ENDED)
        return j->at_local ? UINT64_MAX : j->expire_us;
    if (j->state == SDK_JOB_LOCAL)
        return UINT64_MAX; /* the fallback always hands it back */
    if (silent && io->local && j->may_run_local)
        return 0; /* the fallback takes it now */
    /* An unreachable coordinator will not answer in the grace either. */
    uint64_t due = silent ? j->deadline_us : j->expire_us;
    if (io->local && j->may_run_local && j->fallback_us < due)
        due = j->fallback_us;
    return due;
}

/* What follows a job's SUBMIT sent (rc P2C2R_OK) or refused. */
static void after_send(sdk_io *io, sdk_job *j, int rc, uint64_t now)
{
    bool local = io->local && j->may_run_local;
    if (rc == P2C2R_OK) {
        j->sent = true;
    } else if (rc == P2C2R_E_BUSY && local && unreachable(io, now)) {
        go_local(io, j, SDK_WHY_UNREACHABLE);
        return;
    } else if (rc != P2C2R_E_BUSY) {
        job_fail(io, j, rc, "cannot queue the task towards the coordinator", SDK_WHY_ERROR);
        return;
    } else if (io->connected && !io->retry_us) {
        /* BUSY: it goes on the next connect, or in a moment if connected. */
        io->retry_us = now + RETRY_SEND_US;
        schedule(io, io->retry_us);
    }
    schedule(io, job_due(io, j, unreachable(io, now)));
}

/* Send the SUBMITs the outbox holds, as one message. */
static void flush(sdk_io *io, uint64_t now)
{
    sdk_job **jobs;
    size_t n = sdk_outbox_jobs(io->outbox, &jobs);
    if (!n)
        return;
    int rc =
        sdk_outbox_send(io->outbox, dealer_of(io), io->coordinator_inline, io->coordinator_columns);
    for (size_t i = 0; i < n; i++)
        after_send(io, jobs[i], rc, now);
}

/* Send a job that waits for the cluster (through the outbox: the caller flushes it), or
 * hand it to the fallback when the cluster cannot take it now. */
static void dispatch(sdk_io *io, sdk_job *j, uint64_t now)
{
    if (io->local && j->may_run_local && unreachable(io, now)) {
        go_local(io, j, SDK_WHY_UNREACHABLE);
        return;
    }
    if (!sdk_outbox_fits(io->outbox, j))
        flush(io, now);
    int rc = sdk_outbox_add(io->outbox, j, now, io->cfg.session);
    if (rc != P2C2R_OK)
        job_fail(io, j, rc, "cannot queue the task towards the coordinator", SDK_WHY_ERROR);
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(sdk_job *const *)a)->id, y = (*(sdk_job *const *)b)->id;
    return x < y ? -1 : x > y;
}

/* Which jobs jobs_where() picks. */
typedef enum job_pick {
    PICK_ALL,       /* every job in the table */
    PICK_UNSENT,    /* waiting for the cluster, never sent */
    PICK_CLUSTER,   /* waiting for the cluster */
    PICK_LOCALABLE, /* waiting for the cluster, and may run locally */
} job_pick;

/* The jobs picked, oldest first, in a list the caller frees: ending or handing over a job
 * may change the table, so callers walk a copy. NULL when out of memory; *n their number. */
static sdk_job **jobs_where(sdk_io *io, job_pick pick, size_t *n)
{
    size_t cap = zhashx_size(io->jobs);
    sdk_job **list = malloc((cap ? cap : 1) * sizeof *list);
    *n = 0;
    for (sdk_job *j = zhashx_first(io->jobs); j && list; j = zhashx_next(io->jobs)) {
        bool cluster = j->state == SDK_JOB_CLUSTER;
        if (pick == PICK_ALL || (pick == PICK_CLUSTER && cluster) ||
            (pick == PICK_UNSENT && cluster && !j->sent) ||
            (pick == PICK_LOCALABLE && cluster && j->may_run_local))
            list[(*n)++] = j;
    }
    if (list)
        qsort(list, *n, sizeof *list, by_id);
    return list;
}

/* Send every job waiting for the cluster again (all: after a restart or a reconnect; or only
 * those never sent), or end it when too little of its deadline is left. */
static void resend(sdk_io *io, bool all, const char *why)
{
    uint64_t now = p2c2r__now_us();
    size_t n;
    sdk_job **list = jobs_where(io, all ? PICK_CLUSTER : PICK_UNSENT, &n);
    if (!list) {
        io->next_timer = now; /* out of memory: the timers will end them */
        return;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%s; too little time left to send the task again", why);
    for (size_t i = 0; i < n; i++) {
        sdk_job *j = list[i];
        if (j->deadline_us > now + RESUBMIT_MIN_LEFT_US)
            dispatch(io, j, now);
        else
            job_fail(io, j, P2C2R_E_COORDLOST, detail, SDK_WHY_UNREACHABLE);
    }
    flush(io, now);
    free(list);
}

/* ---- the coordinator's answers ------------------------------------------------------- */

static void heard(sdk_io *io, uint64_t instance)
{
    io->last_heard = p2c2r__now_us();
    if (!instance || instance == io->instance)
        return;
    uint64_t before = io->instance;
    io->instance = instance;
    if (before)
        resend(io, true, "the coordinator restarted and lost the task");
}

/* One answer: a RESULT or ERROR, or one item of a RESULT batch, with its payload. */
static void on_one_answer(sdk_io *io, const p2c2r_envelope *env, zmq_msg_t *payload)
{
    sdk_job *j = zhashx_lookup(io->jobs, &env->task_id);
    if (!j || j->answered) {
        sdk_results_dropped(io->cfg.results); /* forgotten: its one result was given */
        return;
    }
    uint64_t now = p2c2r__now_us();
    bool ok = env->type == P2C2R__WIRE__MSG_TYPE__RESULT;
    j->answered = true;
    if (ok)
        sdk_learn_add(io->cfg.learn, &j->key, false, now - j->submitted_us, now <= j->deadline_us);
    if (j->state == SDK_JOB_ENDED) {
        if (!j->cancelled) /* a cancelled task's answer is expected, not dropped */
            sdk_results_dropped(io->cfg.results);
        if (job_done_with(j, now))
            job_forget(io, j);
        return;
    }
    if (!ok && j->state == SDK_JOB_LOCAL)
        return; /* the fallback is on it */
    if (!ok) {
        int status = env->status ? env->status : P2C2R_E_PROTOCOL;
        job_fail(io, j, status, env->detail, SDK_WHY_ERROR);
        return;
    }
    p2c2r_result *r = sdk_answer_result(env, payload);
    if (r)
        job_end(io, j, r);
    else
        job_fail(io, j, P2C2R_E_NOMEM, "client out of memory", SDK_WHY_ERROR);
}

static void on_answer(sdk_io *io)
{
    p2c2r_envelope_msg msg;
    if (p2c2r__envelope_recv(dealer_of(io), false, ZMQ_DONTWAIT, &msg) != P2C2R_OK)
        goto done; /* malformed: without an id there is no job to end; its timer will */
    const p2c2r_envelope *env = msg.env;
    heard(io, env->instance);
    io->coordinator_inline = env->inline_payloads;
    io->coordinator_columns = env->reads_columns;
    if (env->type == P2C2R__WIRE__MSG_TYPE__HEARTBEAT)
        goto done;
    if (env->type == P2C2R__WIRE__MSG_TYPE__RESULT && env->n_items) {
        for (size_t i = 0; i < env->n_items; i++) {
            p2c2r_envelope item;
            p2c2r__envelope_item_view(env, i, &item);
            on_one_answer(io, &item, &msg.item_payloads[i]);
        }
        goto done;
    }
    on_one_answer(io, env, msg.has_payload ? &msg.payload : NULL);
done:
    p2c2r__envelope_msg_close(&msg);
}

static void send_heartbeat(sdk_io *io)
{
    p2c2r_envelope beat;
    p2c2r__envelope_init(&beat, P2C2R__WIRE__MSG_TYPE__HEARTBEAT);
    beat.sender = io->cfg.session;
    beat.batches = true; /* answers may come in RESULT batches */
    p2c2r__envelope_send(dealer_of(io), NULL, 0, &beat, NULL, ZMQ_DONTWAIT);
    io->next_beat = p2c2r__now_us() + HEARTBEAT_US;
}

/* A connection event from the DEALER's monitor. */
static void on_monitor(sdk_io *io)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    void *mon = io->monitor;
    if (zmq_msg_recv(&ev, mon, 0) >= 0 && zmq_msg_more(&ev))
        zmq_msg_recv(&addr, mon, 0);
    uint16_t event = 0;
    if (zmq_msg_size(&ev) >= sizeof event)
        memcpy(&event, zmq_msg_data(&ev), sizeof event);
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    if (event == ZMQ_EVENT_DISCONNECTED) {
        io->connected = false;
        io->coordinator_inline = false; /* the next one says again whether it reads them */
        io->coordinator_columns = false;
        /* Frames in flight in the connection are lost unless it comes back at once; the
         * fallback does not wait to find out. */
        if (io->local) {
            size_t n;
            sdk_job **list = jobs_where(io, PICK_LOCALABLE, &n);
            for (size_t i = 0; list && i < n; i++)
                go_local(io, list[i], SDK_WHY_UNREACHABLE);
            free(list);
        }
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
               event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        io->refused = true; /* libzmq tries again; tasks end as unreachable, saying why */
    } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        io->connected = true;
        io->refused = false;
        bool again = io->was_connected;
        io->was_connected = true;
        /* A heartbeat at once: its answer says whether this is the same coordinator, and
         * makes it reachable again for the fallback's decisions. */
        send_heartbeat(io);
        /* After a reconnect, SUBMITs may have been lost with the old connection: all go
         * again (the coordinator runs each once). Else only those never sent. */
        resend(io, again, "the connection to the coordinator broke");
    }
}

/* ---- timers ------------------------------------------------------------------------- */

/* End or hand over the jobs whose time came, keep the coordinator talking while any is
 * in flight, and set the next time to look. */
static void on_timers(sdk_io *io, uint64_t now)
{
    if (io->retry_us && now >= io->retry_us) {
        io->retry_us = 0;
        resend(io, false, "the coordinator's connection took no more");
    }
    bool silent = unreachable(io, now);
    if (zhashx_size(io->jobs) && now >= io->next_beat)
        send_heartbeat(io);
    uint64_t next = UINT64_MAX;
    sdk_job *due[TIMER_BATCH];
    size_t n = 0;
    for (sdk_job *j = zhashx_first(io->jobs); j; j = zhashx_next(io->jobs)) {
        uint64_t at = job_due(io, j, silent);
        if (at <= now && n < TIMER_BATCH)
            due[n++] = j;
        else if (at < next)
            next = at;
    }
    for (size_t i = 0; i < n; i++) {
        sdk_job *j = due[i];
        bool local = io->local && j->may_run_local && now < j->deadline_us;
        if (j->state == SDK_JOB_ENDED)
            job_forget(io, j);
        else if (local && silent)
            go_local(io, j, SDK_WHY_UNREACHABLE);
        else if (local && now >= j->fallback_us) {
            /* Busy: only at the last moment, unless the fallback would be through its
             * backlog and this job before then anyway: starting it now costs the frames
             * queued there nothing, and leaves the time until the last moment to a
             * machine that stalls the process (the game's own work, a loaded CPU). */
            sdk_estimate est;
            sdk_learn_estimate(io->cfg.learn, &j->key, &est);
            if (now < j->fallback_late_us && sdk_local_backlog(io->local) &&
                local_finish(io, j, &est, now) > j->fallback_late_us) {
                j->fallback_us = j->fallback_late_us;
                schedule(io, j->fallback_us);
            } else {
                go_local(io, j, SDK_WHY_NO_ANSWER);
            }
        } else if (silent)
            job_fail(io, j, P2C2R_E_COORDLOST,
                     io->refused ? "the coordinator refused the connection: this client's key "
                                   "is not allowed, or the coordinator key is wrong (CURVE)"
                                 : "no word from the coordinator: unreachable or down",
                     SDK_WHY_UNREACHABLE);
        else
            job_fail(io, j, P2C2R_E_DEADLINE, "no answer from the cluster by the deadline",
                     SDK_WHY_NO_ANSWER);
    }
    if (n == TIMER_BATCH)
        next = now; /* more may be due: look again at once */
    if (io->retry_us && io->retry_us < next)
        next = io->retry_us;
    if (zhashx_size(io->jobs)) {
        if (io->next_beat < next)
            next = io->next_beat;
        if (!silent && io->last_heard + LIVENESS_US < next)
            next = io->last_heard + LIVENESS_US + 1;
        if (!io->was_connected && now <= io->started_us + LIVENESS_US &&
            io->started_us + LIVENESS_US < next)
            next = io->started_us + LIVENESS_US + 1; /* never connected: unreachable then */
    }
    io->next_timer = next;
}

/* ---- jobs from other threads --------------------------------------------------------- */

/* Fill in what the I/O thread decides for a new job: its class, its deadline, when it
 * goes local with no answer. */
static void admit(sdk_io *io, sdk_job *j, uint64_t now)
{
    if (j->kind == P2C2R_KIND_UPSCALE) {
        sdk_class_upscale(&j->desc, &j->key);
        if (j->desc.codec == P2C2R_CODEC_JPEG && (!j->desc.width || !j->desc.height) && io->jpeg) {
            p2c2r_pixel_format fmt;
            if (p2c2r__jpeg_header(io->jpeg, sdk_buf_data(j->buf), sdk_buf_size(j->buf),
                                   &j->key.width, &j->key.height, &fmt) != P2C2R_OK)
                j->key.width = j->key.height = 0;
        }
    } else {
        sdk_class_other(j->kind, j->sleep_ms, sdk_buf_size(j->buf), &j->key);
    }
    sdk_estimate est;
    sdk_learn_estimate(io->cfg.learn, &j->key, &est);
    if (!j->deadline_ms) {
        j->deadline_ms = (uint32_t)((est.deadline_us + 999) / 1000);
        j->learnt_deadline = true;
    }
    j->deadline_us = j->submitted_us + (uint64_t)j->deadline_ms * 1000u;
    j->expire_us = j->deadline_us + (uint64_t)io->cfg.grace_ms * 1000u;
    if (!io->local || !j->may_run_local)
        return;
    /* Go local with no answer at the last moment the fallback still makes the deadline,
     * but give the cluster at least half the budget. */
    uint64_t finish = local_finish(io, j, &est, now);
    uint64_t half = j->submitted_us + (j->deadline_us - j->submitted_us) / 2;
    uint64_t need = finish - now;
    j->fallback_late_us = j->deadline_us > need ? j->deadline_us - need : now;
    if (j->fallback_late_us < half)
        j->fallback_late_us = half;
    /* Sooner while the fallback is idle, once the cluster is overdue: no answer by three
     * times its p99 (at least 2 ms) most likely means a task lost with a peer or the
     * coordinator. The fallback starts on it; the cluster's answer may still come first. */
    j->fallback_us = j->fallback_late_us;
    if (est.samples >= SDK_LEARN_MIN_SAMPLES) {
        uint64_t overdue = j->submitted_us + (3 * est.p99_us > 2000u ? 3 * est.p99_us : 2000u);
        if (overdue < j->fallback_us)
            j->fallback_us = overdue;
    }
    /* The cluster's own record says it would be late, and the fallback would not. */
    if (est.samples >= SDK_LEARN_MIN_SAMPLES && now + est.p90_us > j->deadline_us &&
        finish <= j->deadline_us)
        j->why = SDK_WHY_PREDICTED;
}

/* now is one reading for the whole batch taken from the inbox: the time left sent with
 * each job then differs between jobs exactly as their deadlines do, so a coordinator that
 * stamps a batch of arrivals with one reading of its clock keeps their order. */
static void on_submit(sdk_io *io, sdk_job *j, uint64_t now)
{
    if (!zhashx_size(io->jobs)) {
        /* The first job after an idle spell (no heartbeats then): silence so far says
         * nothing. While any job lives, even one at the fallback, heartbeats go on, so a
         * coordinator that stopped answering stays unreachable until it answers again. */
        io->last_heard = now;
        io->next_beat = now + HEARTBEAT_US;
        schedule(io, io->next_beat);
    }
    zhashx_insert(io->jobs, &j->id, j);
    admit(io, j, now);
    if (!io->dealer) { /* pushed just before the inbox closed on a failure */
        j->state = SDK_JOB_ENDED;
        job_end_error(io, j, P2C2R_E_IO, "the client's network thread has failed");
        return;
    }
    if (j->why == SDK_WHY_PREDICTED)
        go_local(io, j, SDK_WHY_PREDICTED);
    else
        dispatch(io, j, now);
}

/* p2c2r_cancel(): end the job now unless it has ended, and tell the coordinator. */
static void on_cancel(sdk_io *io, sdk_job *request)
{
    sdk_job *j = zhashx_lookup(io->jobs, &request->id);
    sdk_job_free(&request);
    if (!j || j->state == SDK_JOB_ENDED)
        return; /* ended already: its one result stands */
    if (j->sent && !j->answered && io->dealer)
        sdk_send_cancel(dealer_of(io), j->id, io->cfg.session); /* lost: the task just runs */
    j->cancelled = true;
    job_end_error(io, j, P2C2R_E_CANCELLED, "cancelled by the client");
}

/* The fallback handed a job back, run or not. */
static void on_local_done(sdk_io *io, sdk_job *j)
{
    j->at_local = false;
    io->at_local--;
    p2c2r_result *r = j->local_result;
    j->local_result = NULL;
    if (r && r->status == P2C2R_OK)
        sdk_learn_add(io->cfg.learn, &j->key, true, j->local_run_us, true);
    if (j->state == SDK_JOB_LOCAL) {
        if (r) {
            r->timings.queue_us = j->local_start_us - j->submitted_us;
            if (r->status == P2C2R_OK && sdk_result_set_detail(r, why_text[j->why]) != P2C2R_OK) {
                p2c2r_result_free(&r);
                r = sdk_result_new(j->id, P2C2R_E_NOMEM, "client out of memory");
            }
            job_end(io, j, r);
        } else {
            job_end_error(io, j, P2C2R_E_CLOSED, "the client is shutting down");
        }
        return;
    }
    p2c2r_result_free(&r); /* the cluster's answer came first */
    uint64_t now = p2c2r__now_us();
    if (job_done_with(j, now))
        job_forget(io, j);
    else
        schedule(io, j->expire_us);
}

/* ---- the thread ----------------------------------------------------------------------- */

static void started(sdk_io *io, int rc)
{
    pthread_mutex_lock(&io->start_lock);
    io->start_rc = rc;
    io->start_done = true;
    pthread_cond_signal(&io->start_cond);
    pthread_mutex_unlock(&io->start_lock);
}

static void job_destructor(void **item)
{
    sdk_job *j = *item;
    sdk_job_free(&j);
    *item = NULL;
}

/* Sockets and tables; P2C2R_OK or why not. */
static int setup(sdk_io *io)
{
    io->jobs = p2c2r__idmap_new();
    io->jpeg = p2c2r__jpeg_new();
    if (!io->jobs || !io->jpeg)
        return P2C2R_E_NOMEM;
    zhashx_set_destructor(io->jobs, job_destructor);
    const char *const keys[3] = {io->cfg.curve_public, io->cfg.curve_secret,
                                 io->cfg.coordinator_key};
    return sdk_dealer_open(io->cfg.endpoint, io->cfg.curve_public[0] ? keys : NULL, &io->dealer,
                           &io->monitor);
}

static void teardown(sdk_io *io)
{
    /* The monitor is stopped before either socket closes. libzmq's I/O thread sends each
     * connection event to the monitor with a blocking send: a DEALER closing with its
     * monitor still on, whose reader is gone, would leave that thread waiting forever,
     * and with it every client of the process (the context is shared). */
    if (io->dealer)
        zmq_socket_monitor(io->dealer, NULL, 0);
    if (io->monitor)
        zmq_close(io->monitor);
    if (io->dealer)
        zmq_close(io->dealer);
    /* Linger 0: messages still queued are dropped, and the frames they point to go back
     * to the buffer pool (whose destroy waits for that). */
    io->monitor = io->dealer = NULL;
    p2c2r__jpeg_destroy(&io->jpeg);
}

/* Take everything from the inbox; returns false when asked to stop. *fail reports a
 * (test) request to fail. */
static bool take_inbox(sdk_io *io, bool *fail)
{
    bool stop;
    sdk_job *j = sdk_inbox_take(io->inbox, &stop, fail);
    uint64_t now = p2c2r__now_us();
    while (j) {
        sdk_job *next = j->next;
        j->next = NULL;
        /* A cancel or a local result may end a job the outbox holds: what is there goes
         * first, as it would have had the submits come in wake-ups of their own. */
        if (j->op != SDK_OP_SUBMIT && io->dealer)
            flush(io, now);
        if (j->op == SDK_OP_LOCAL_DONE) {
            on_local_done(io, j);
        } else if (j->op == SDK_OP_CANCEL) {
            on_cancel(io, j);
        } else {
            on_submit(io, j, now);
        }
        j = next;
    }
    /* Everything taken at once goes at once: jobs of one shape as one SUBMIT, those of one
     * submit_batch() call always, those of several submit calls made while this thread was
     * busy up to P2C2R_MERGE_MAX_BYTES (sdk_outbox_fits()). Nothing waits for company:
     * what is here goes now, so a lone task pays nothing for this and a stream of small
     * ones costs the coordinator one message per wake-up. */
    if (io->dealer)
        flush(io, now);
    return !stop;
}

/* The network side failed: end every job waiting for the cluster, refuse new ones, close
 * the sockets. Jobs at the fallback come back and are delivered as usual. */
static void fail(sdk_io *io, const char *why)
{
    sdk_inbox_close(io->inbox, P2C2R_E_IO);
    char detail[160];
    snprintf(detail, sizeof detail, "the client's network thread failed: %s", why);
    size_t n;
    sdk_job **list = jobs_where(io, PICK_ALL, &n);
    for (size_t i = 0; list && i < n; i++) {
        if (list[i]->state == SDK_JOB_CLUSTER)
            job_end_error(io, list[i], P2C2R_E_IO, detail);
        else if (job_done_with(list[i], UINT64_MAX))
            job_forget(io, list[i]);
    }
    free(list);
    teardown(io);
}

static bool dealer_readable(sdk_io *io)
{
    int events = 0;
    size_t size = sizeof events;
    return zmq_getsockopt(io->dealer, ZMQ_EVENTS, &events, &size) == 0 && (events & ZMQ_POLLIN);
}

static void *io_main(void *arg)
{
    sdk_io *io = arg;
    io->next_timer = UINT64_MAX;
    io->started_us = p2c2r__now_us();
    int rc = setup(io);
    started(io, rc);
    if (rc != P2C2R_OK)
        return NULL;
    for (;;) {
        uint64_t now = p2c2r__now_us();
        long timeout = io->next_timer == UINT64_MAX ? -1
                       : io->next_timer > now       ? (long)((io->next_timer - now + 999) / 1000)
                                                    : 0;
        bool failed = false;
        if (!io->dealer) {
            /* Failed: only the inbox is left (the fallback's jobs, and stop). */
            struct pollfd pfd = {sdk_inbox_fd(io->inbox), POLLIN, 0};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                break;
            if (!take_inbox(io, &failed))
                break;
            continue;
        }
        zmq_pollitem_t items[3] = {
            {NULL, sdk_inbox_fd(io->inbox), ZMQ_POLLIN, 0},
            {dealer_of(io), 0, ZMQ_POLLIN, 0},
            {io->monitor, 0, ZMQ_POLLIN, 0},
        };
        if (zmq_poll(items, 3, timeout) < 0) {
            if (errno == EINTR)
                continue;
            fail(io, zmq_strerror(errno));
            continue;
        }
        if ((items[0].revents & ZMQ_POLLIN) && !take_inbox(io, &failed))
            break;
        if (failed) {
            fail(io, "failure injected");
            continue;
        }
        for (int i = 0; i < 64 && dealer_readable(io); i++)
            on_answer(io);
        if (items[2].revents & ZMQ_POLLIN)
            on_monitor(io);
        now = p2c2r__now_us();
        if (now >= io->next_timer)
            on_timers(io, now);
    }
    teardown(io);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void local_done(void *arg, sdk_job *job)
{
    sdk_io *io = arg;
    job->op = SDK_OP_LOCAL_DONE;
    sdk_inbox_push(io->inbox, job);
}

sdk_io *sdk_io_new(const sdk_io_config *config, int *err)
{
    int rc = P2C2R_E_NOMEM;
    sdk_io *io = calloc(1, sizeof *io);
    if (!io)
        goto fail;
    io->cfg = *config;
    pthread_mutex_init(&io->start_lock, NULL);
    pthread_cond_init(&io->start_cond, NULL);
    io->cfg.endpoint = strdup(config->endpoint);
    io->inbox = sdk_inbox_new();
    io->outbox = sdk_outbox_new();
    if (!io->cfg.endpoint || !io->inbox || !io->outbox)
        goto fail;
    if (config->local_threads) {
        io->local = sdk_local_new(config->local_threads, local_done, io, &rc);
        if (!io->local)
            goto fail;
    }
    rc = P2C2R_E_INTERNAL;
    if (pthread_create(&io->thread, NULL, io_main, io) != 0)
        goto fail;
    io->started = true;
    pthread_mutex_lock(&io->start_lock);
    while (!io->start_done)
        pthread_cond_wait(&io->start_cond, &io->start_lock);
    rc = io->start_rc;
    pthread_mutex_unlock(&io->start_lock);
    if (rc != P2C2R_OK)
        goto fail;
    return io;
fail:
    sdk_io_destroy(&io);
    if (err)
        *err = rc;
    return NULL;
}

void sdk_io_destroy(sdk_io **iop)
{
    if (!iop || !*iop)
        return;
    sdk_io *io = *iop;
    if (io->started) {
        sdk_inbox_ask_stop(io->inbox);
        pthread_join(io->thread, NULL);
    }
    /* The fallback hands back what it holds into the inbox; those jobs are in the table. */
    sdk_local_destroy(&io->local);
    if (io->inbox) {
        bool stop, failed;
        sdk_job *j = sdk_inbox_take(io->inbox, &stop, &failed);
        while (j) {
            sdk_job *next = j->next;
            if (j->op != SDK_OP_LOCAL_DONE) /* those are in the table */
                sdk_job_free(&j);
            j = next;
        }
    }
    zhashx_destroy(&io->jobs);
    teardown(io);
    sdk_outbox_destroy(&io->outbox);
    sdk_inbox_destroy(&io->inbox);
    pthread_cond_destroy(&io->start_cond);
    pthread_mutex_destroy(&io->start_lock);
    free((char *)io->cfg.endpoint);
    free(io);
    *iop = NULL;
}

int sdk_io_submit(sdk_io *io, sdk_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        jobs[i]->op = SDK_OP_SUBMIT;
        jobs[i]->batch_more = i + 1 < n;
        jobs[i]->next = i + 1 < n ? jobs[i + 1] : NULL;
    }
    return sdk_inbox_push_chain(io->inbox, jobs[0], jobs[n - 1]);
}

void sdk_io_cancel(sdk_io *io, uint64_t task_id)
{
    sdk_job *request = sdk_job_new(task_id, 0);
    if (!request)
        return; /* out of memory: the task ends as it would have */
    request->op = SDK_OP_CANCEL;
    if (sdk_inbox_push(io->inbox, request) != P2C2R_OK)
        sdk_job_free(&request); /* the thread failed: every task it held has ended */
}

void sdk_io_inject_failure(sdk_io *io)
{
    sdk_inbox_ask_fail(io->inbox);
}
