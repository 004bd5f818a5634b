/* attempts: running tasks on peers (see tasks.h for the rules, task.h for the record):
 * choosing the next task and its peer, sending the ASSIGN, the answers, retries, and what
 * a peer's load reports and its loss mean for the tasks it held.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "coordinator/metrics.h"
#include "coordinator/task.h"

/* A retry needs at least this much time left when there is no service estimate. */
#define REQUEUE_MIN_LEFT_US    1000u
/* Learnt attempt timeouts never go below this, whatever the estimates say: a peer busy
 * for a moment (other processes on its cores) is not a silent one, and a frame's own
 * deadline bounds the wait anyway. */
#define ATTEMPT_TIMEOUT_MIN_US (250ull * 1000u)
/* Peers that failed a task and are avoided when it is retried. */
#define TASK_MAX_TRIED         8
/* Load reports list at most this many running tasks (COORD_PEER_MAX_SLOTS). */
#define LOAD_MAX_RUNNING       COORD_PEER_MAX_SLOTS

/* ---- attempts ----------------------------------------------------------------------- */

static void remember_tried(coord_task *task, uint64_t serial)
{
    for (uint32_t i = 0; i < task->ntried; i++)
        if (task->tried[i] == serial)
            return;
    if (!task->tried)
        task->tried = malloc(TASK_MAX_TRIED * sizeof *task->tried);
    /* Without memory the peer is not avoided on retry: a worse choice, never a wrong one. */
    if (task->tried && task->ntried < TASK_MAX_TRIED)
        task->tried[task->ntried++] = serial;
}

/* Whether a task still has time for another attempt. */
static bool time_for_another(const coord_tasks *tasks, const coord_task *task, uint64_t now)
{
    uint64_t need = coord_task_estimate(tasks, task->cls);
    if (need < REQUEUE_MIN_LEFT_US)
        need = REQUEUE_MIN_LEFT_US;
    return task->attempts < tasks->config.max_attempts && task->qitem.deadline_us > now + need;
}

/* A detached task's attempt failed on the peer with this serial: queue it again if its
 * deadline and attempts allow, else end it with status. */
static void retry_or_end(coord_tasks *tasks, coord_task *task, int status, const char *detail,
                         uint64_t serial)
{
    remember_tried(task, serial);
    if (time_for_another(tasks, task, p2c2r__now_us()) &&
        coord_task_queue(tasks, task) == P2C2R_OK) {
        tasks->stats.retries++;
        log_debug("task %" PRIu64 " queued again after attempt %u: %s", task->key.id,
                  task->attempts, detail);
        return;
    }
    char why[160];
    snprintf(why, sizeof why, "%.120s (after %u attempt%s)", detail, task->attempts,
             task->attempts == 1 ? "" : "s");
    coord_task_end(tasks, task, status, why, NULL, NULL, NULL);
}

/* The peer failed the task: charge it, then retry or end. */
static void peer_fault(coord_tasks *tasks, coord_task *task, coord_peer *peer, int status,
                       const char *detail)
{
    coord_peers_failure(tasks->peers, peer, p2c2r__now_us(), detail);
    retry_or_end(tasks, task, status, detail, peer->serial);
}

static uint64_t attempt_timeout(const coord_tasks *tasks, const coord_task *task)
{
    uint64_t mean, dev, timeout = tasks->config.attempt_timeout_us;
    if (coord_estimates_get(tasks->estimates, task->cls, &mean, &dev)) {
        /* Well past what this class normally takes, as TCP's retransmission timer is. */
        uint64_t learnt = 4 * (mean + 4 * dev);
        if (learnt < ATTEMPT_TIMEOUT_MIN_US)
            learnt = ATTEMPT_TIMEOUT_MIN_US;
        if (learnt < timeout)
            timeout = learnt;
    }
    return timeout;
}

/* The ASSIGNs of a batch that did not leave: their tasks go back to the queue (the peer
 * is not charged: it never saw them), and an unroutable peer is lost. Returns rc. */
static int assigns_failed(coord_tasks *tasks, int rc, coord_peer *peer, const uint64_t *ids,
                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        coord_task *task = zhashx_lookup(tasks->running, &ids[i]);
        if (!task || task->peer != peer)
            continue;
        coord_task_detach_running(tasks, task);
        task->attempts--; /* it never started */
        if (coord_task_queue(tasks, task) != P2C2R_OK)
            coord_task_end(tasks, task, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL,
                           NULL);
    }
    log_limited(P2C2R_LOG_WARN, "%zu ASSIGN(s) to %s not sent: %s", n, peer->name,
                p2c2r_strerror(rc));
    if (rc == P2C2R_E_UNKNOWNPEER) {
        coord_tasks_peer_lost(tasks, peer, "unroutable");
        coord_peers_remove(tasks->peers, &peer);
    }
    return rc;
}

/* Send the ASSIGNs waiting in the link's outboxes. P2C2R_OK, or the last error after
 * dealing with the tasks that did not leave. */
static int flush_assigns(coord_tasks *tasks)
{
    int result = P2C2R_OK;
    for (;;) {
        coord_peer *peer;
        uint64_t ids[P2C2R_BATCH_MAX];
        size_t n;
        int rc = coord_link_flush(tasks->link, &peer, ids, &n);
        if (!peer)
            return result;
        if (rc != P2C2R_OK)
            result = assigns_failed(tasks, rc, peer, ids, n);
    }
}

/* Send a task to a peer and make it RUNNING there. On failure the task is untouched. */
static int start_attempt(coord_tasks *tasks, coord_task *task, coord_peer *peer, uint64_t now)
{
    coord_params_view view;
    p2c2r_envelope *env = coord_params_view_of(&task->params, P2C2R__WIRE__MSG_TYPE__ASSIGN, &view);
    env->task_id = tasks->next_attempt + 1;
    env->deadline_us = task->qitem.deadline_us - now;
    const zmq_msg_t *payload = task->has_payload ? &task->payload : NULL;
    int rc = coord_link_assign(tasks->link, peer, env, payload, task->together);
    if (rc == COORD_LINK_FLUSH_FIRST) {
        if (flush_assigns(tasks) != P2C2R_OK)
            return COORD_LINK_FLUSH_FIRST; /* peer may be gone with it: the next pass */
        rc = coord_link_assign(tasks->link, peer, env, payload, task->together);
    }
    if (rc != P2C2R_OK)
        return rc;
    task->attempt_id = ++tasks->next_attempt;
    task->attempts++;
    task->assigned_us = now;
    coord_task_attach_running(tasks, task, peer);
    uint64_t due = now + attempt_timeout(tasks, task);
    if (due > task->qitem.deadline_us + DEADLINE_SLACK_US)
        due = task->qitem.deadline_us + DEADLINE_SLACK_US;
    if (zhashx_insert(tasks->running, &task->attempt_id, task) != 0 ||
        coord_timers_arm(tasks->timers, &task->timer, due) != P2C2R_OK) {
        /* The ASSIGN is out: count its slot until the peer answers or reports it gone. */
        coord_task_detach_running(tasks, task);
        coord_peers_zombie_add(tasks->peers, peer, task->attempt_id);
        coord_task_end(tasks, task, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL, NULL);
    }
    return P2C2R_OK;
}

/* Whether a comes before b among tasks that could run now: priority, then deadline, then
 * arrival. */
static bool more_urgent(const coord_qitem *a, const coord_qitem *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    if (a->deadline_us != b->deadline_us)
        return a->deadline_us < b->deadline_us;
    return a->seq < b->seq;
}

/* The most urgent task whose class has a peer with room now, skipping blocked classes. */
static coord_qitem *next_to_run(coord_tasks *tasks, uint64_t *blocked)
{
    coord_qitem *best = NULL;
    uint64_t classes = coord_queue_classes(tasks->queue) & ~*blocked;
    while (classes) {
        uint32_t cls = (uint32_t)__builtin_ctzll(classes);
        classes &= classes - 1;
        coord_qitem *item = coord_queue_next(tasks->queue, cls);
        const coord_task *t = TASK_OF_QITEM(item);
        if (!coord_peers_available(tasks->peers, t->kind, t->mode, t->runtime)) {
            *blocked |= 1ull << cls;
            continue;
        }
        if (!best || more_urgent(item, best))
            best = item;
    }
    return best;
}

static void dispatch(coord_tasks *tasks)
{
    /* Classes whose next task cannot go now: they wait, the others go on (a task no free
     * peer can run never holds up one that a peer could run now). */
    uint64_t blocked = 0;
    coord_qitem *item;
    while ((item = next_to_run(tasks, &blocked))) {
        coord_task *task = TASK_OF_QITEM(item);
        uint64_t now = p2c2r__now_us();
        uint64_t need = coord_task_estimate(tasks, task->cls);
        if (item->deadline_us <= now + need) {
            coord_queue_remove(tasks->queue, &task->qitem);
            if (item->deadline_us > now) {
                tasks->stats.shed += task->check == NULL;
                coord_task_end(tasks, task, P2C2R_E_DEADLINE,
                               "not started: it would finish after its deadline", NULL, NULL, NULL);
            } else {
                coord_task_end(tasks, task, P2C2R_E_DEADLINE, "deadline passed while queued", NULL,
                               NULL, NULL);
            }
            continue;
        }
        coord_select_task want = {
            .kind = task->kind,
            .mode = task->mode,
            .runtime = task->runtime,
            .memory_bytes = task->memory_bytes,
            .now_us = now,
            .deadline_us = item->deadline_us,
            .cls = task->cls,
            .cluster_mean_us = need,
            .plan_hash = task->plan_hash,
            .avoid = task->tried,
            .navoid = task->ntried,
            .avoid_strict = task->check != NULL,
        };
        coord_peer *peer = coord_peers_pick(tasks->peers, &want);
        /* A recheck never goes to an identity that answered it, whatever its record. */
        if (!peer || (task->check && coord_recheck_answered(task->check, peer->identity))) {
            blocked |= 1ull << item->cls; /* it waits for a peer that fits */
            continue;
        }
        coord_queue_take(tasks->queue, item, need);
        int rc = start_attempt(tasks, task, peer, now);
        if (rc == P2C2R_OK)
            continue;
        coord_task_queue(tasks, task); /* it was there a moment ago: room is there */
        if (rc == COORD_LINK_FLUSH_FIRST)
            return;
        if (rc == P2C2R_E_UNKNOWNPEER) {
            coord_tasks_peer_lost(tasks, peer, "unroutable");
            coord_peers_remove(tasks->peers, &peer);
            continue;
        }
        /* The peer's pipe is full or memory ran out: try again on the next event. */
        log_limited(P2C2R_LOG_WARN, "assign to %s failed: %s", peer->name, p2c2r_strerror(rc));
        return;
    }
}

void coord_tasks_dispatch(coord_tasks *tasks)
{
    dispatch(tasks);
    flush_assigns(tasks);
}

/* ---- answers from peers ------------------------------------------------------------- */

static bool known_status(int status)
{
    switch (status) {
#define P2C2R_XX_KNOWN(name, code, msg) case code:
        P2C2R_ERROR_MAP(P2C2R_XX_KNOWN)
#undef P2C2R_XX_KNOWN
        return true;
    }
    return false;
}

/* Errors about the input rather than the peer: final once a second peer agrees. */
static bool input_error(int status)
{
    return status == P2C2R_E_BADINPUT || status == P2C2R_E_UNSUPPORTED ||
           status == P2C2R_E_TOOBIG || status == P2C2R_E_INVAL;
}

static void on_input_error(coord_tasks *tasks, coord_task *task, coord_peer *peer, int status,
                           const char *detail)
{
    coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
    if (task->input_error && peer->serial != task->input_error_peer) {
        /* A second peer agrees: the input is at fault, and no peer is charged. */
        coord_task_end(tasks, task, status, detail, NULL, NULL, NULL);
        return;
    }
    remember_tried(task, peer->serial);
    uint64_t now = p2c2r__now_us();
    if (time_for_another(tasks, task, now) &&
        coord_peers_other_capable(tasks->peers, task->kind, task->mode, task->runtime, task->tried,
                                  task->ntried) &&
        coord_task_queue(tasks, task) == P2C2R_OK) {
        /* One peer's word is not enough: a broken or hostile peer could fail every task
         * this way. Another peer runs it; if that one succeeds, this one is charged. */
        task->input_error = status;
        task->input_error_peer = peer->serial;
        tasks->stats.retries++;
        return;
    }
    coord_task_end(tasks, task, status, detail, NULL, NULL, NULL);
}

/* ---- rechecks (recheck.h) ---------------------------------------------------------- */

void coord_attempt_maybe_recheck(coord_tasks *tasks, const coord_task *task, coord_peer *peer,
                                 const P2c2r__Wire__Frame *frame, const zmq_msg_t *output)
{
    /* noop and sleep are compared whole with their input already (verify.h). */
    if (task->kind != P2C2R_KIND_UPSCALE || !coord_recheck_draw(tasks->recheck))
        return;
    uint64_t avoid = peer->serial;
    if (!coord_peers_other_capable(tasks->peers, task->kind, task->mode, task->runtime, &avoid,
                                   1)) {
        coord_recheck_skip(tasks->recheck); /* no second peer to ask */
        return;
    }
    coord_task *copy = coord_task_new(tasks);
    if (!copy)
        return;
    coord_output_desc desc = {frame->codec, frame->pixel_format, frame->width, frame->height};
    coord_recheck_answer first = {peer->identity, peer->runtime, peer->simd, output};
    copy->check = coord_recheck_start(tasks->recheck, &desc, &first);
    if (!copy->check) {
        free(copy);
        return;
    }
    uint64_t now = p2c2r__now_us();
    copy->key = task->key; /* for logs: it is not in by_key */
    copy->client = task->client;
    copy->client->tasks++; /* keeps the client record, as any of its tasks does */
    copy->kind = task->kind;
    copy->mode = task->mode;
    copy->runtime = task->runtime;
    copy->memory_bytes = task->memory_bytes;
    copy->plan_hash = task->plan_hash;
    copy->params = task->params;
    copy->cacheable = task->cacheable;
    copy->input = task->input;
    copy->cls = task->cls;
    zmq_msg_init(&copy->payload);
    zmq_msg_copy(&copy->payload, (zmq_msg_t *)&task->payload); /* a reference */
    copy->has_payload = task->has_payload;
    copy->submitted_us = now;
    copy->qitem.priority = TASK_RECHECK_LEVEL;
    copy->qitem.deadline_us = now + RECHECK_DEADLINE_US;
    copy->qitem.seq = ++tasks->next_seq;
    remember_tried(copy, peer->serial);
    if (coord_task_queue(tasks, copy) != P2C2R_OK)
        coord_task_end(tasks, copy, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL, NULL);
}

/* Stop using every record of an identity the rechecks have quarantined: its running
 * tasks go to other peers. */
static void quarantine(coord_tasks *tasks, const char *identity)
{
    coord_peer *found[16];
    size_t n = coord_peers_quarantine(tasks->peers, identity, found, 16);
    const coord_rep_record *r =
        coord_reputation_get(coord_peers_reputation(tasks->peers), identity);
    log_warn("peer %s quarantined: outvoted in %" PRIu64 " recheck(s), agreed in %" PRIu64
             " (reputation %d, below %d); it gets no task again, even if it reconnects",
             identity, r ? r->disagreements : 0, r ? r->agreements : 0, r ? r->score : 0,
             REPUTATION_FLOOR);
    for (size_t i = 0; i < n && i < 16; i++) {
        coord_peer *peer = found[i];
        char why[160];
        snprintf(why, sizeof why, "peer %s quarantined", peer->name);
        while (peer->tasks) {
            coord_task *task = peer->tasks;
            coord_task_detach_running(tasks, task);
            retry_or_end(tasks, task, P2C2R_E_PEERLOST, why, peer->serial);
        }
    }
}

/* A peer answered a recheck with a result of the right shape. */
static void on_recheck_result(coord_tasks *tasks, coord_task *task, coord_peer *peer,
                              const p2c2r_envelope *in, zmq_msg_t *out)
{
    coord_recheck_answer a = {peer->identity, peer->runtime, peer->simd, out};
    coord_recheck_verdict v = {.outcome = COORD_RECHECK_UNDECIDED};
    if (out && !coord_recheck_answered(task->check, peer->identity))
        coord_recheck_add(tasks->recheck, task->check, &a, &v);
    if (v.outcome == COORD_RECHECK_THIRD) {
        remember_tried(task, peer->serial);
        if (time_for_another(tasks, task, p2c2r__now_us()) &&
            coord_peers_other_capable(tasks->peers, task->kind, task->mode, task->runtime,
                                      task->tried, task->ntried) &&
            coord_task_queue(tasks, task) == P2C2R_OK)
            return;
        coord_recheck_unsettled(tasks->recheck, task->check);
    } else if (v.outcome == COORD_RECHECK_DECIDED) {
        /* The cache may hold the outvoted first answer: the majority's replaces it. */
        if (v.first_outvoted && in->frame)
            coord_task_cache_result(tasks, task, in->frame, v.majority);
        if (v.quarantined)
            quarantine(tasks, v.outvoted);
    }
    coord_task_end(tasks, task, P2C2R_OK, "", NULL, NULL, NULL);
}

static void on_result(coord_tasks *tasks, coord_task *task, coord_peer *peer,
                      const p2c2r_envelope *in, zmq_msg_t *out, uint64_t now)
{
    const char *detail;
    coord_params_view view;
    const p2c2r_envelope *asked =
        coord_params_view_of(&task->params, P2C2R__WIRE__MSG_TYPE__ASSIGN, &view);
    int rc = coord_verify_result(tasks->verify, asked, &task->input, zmq_msg_data(&task->payload),
                                 task->payload_size, in, out ? zmq_msg_data(out) : NULL,
                                 out ? zmq_msg_size(out) : 0, out != NULL, &detail);
    if (rc != P2C2R_OK) {
        tasks->stats.rejected++;
        char why[160];
        snprintf(why, sizeof why, "wrong result from peer %s: %s", peer->name, detail);
        log_limited(P2C2R_LOG_WARN, "%s", why);
        peer_fault(tasks, task, peer, rc, why);
        return;
    }
    coord_peers_success(tasks->peers, peer, task->cls, now - task->assigned_us, now);
    coord_estimates_add(tasks->estimates, task->cls, now - task->assigned_us);
    if (task->input_error) {
        coord_peer *liar = coord_peers_find_serial(tasks->peers, task->input_error_peer);
        if (liar)
            coord_peers_failure(tasks->peers, liar, now,
                                "refused as bad an input another peer ran");
    }
    if (task->check) {
        on_recheck_result(tasks, task, peer, in, out);
        return;
    }
    if (out && in->frame) {
        coord_task_cache_result(tasks, task, in->frame, out);
        coord_attempt_maybe_recheck(tasks, task, peer, in->frame, out);
    }
    coord_task_end(tasks, task, P2C2R_OK, "", in->frame, in->timing, out);
}

void coord_tasks_on_answer(coord_tasks *tasks, coord_peer *peer, const p2c2r_envelope *in,
                           zmq_msg_t *payload)
{
    if (in->instance != tasks->config.instance) {
        /* Meant for an earlier coordinator: its task id means nothing here. */
        log_limited(P2C2R_LOG_INFO, "answer from %s for another coordinator instance dropped",
                    peer->name);
        return;
    }
    coord_task *task = zhashx_lookup(tasks->running, &in->task_id);
    if (!task || task->peer != peer) {
        if (coord_peers_zombie_remove(tasks->peers, peer, in->task_id))
            log_debug("late answer from %s for attempt %" PRIu64 ": its slot is free again",
                      peer->name, in->task_id);
        else
            log_limited(P2C2R_LOG_INFO, "answer from %s for unknown attempt %" PRIu64 " dropped",
                        peer->name, in->task_id);
        return;
    }
    coord_task_detach_running(tasks, task);
    uint64_t now = p2c2r__now_us();
    coord_metrics_answer(tasks->config.metrics, peer, task->kind, task->mode,
                         in->type == P2C2R__WIRE__MSG_TYPE__RESULT ? P2C2R_OK : in->status,
                         now - task->assigned_us);
    if (in->type == P2C2R__WIRE__MSG_TYPE__RESULT) {
        on_result(tasks, task, peer, in, payload, now);
        return;
    }
    char why[160];
    int status = in->status;
    if (status == P2C2R_OK || !known_status(status)) {
        snprintf(why, sizeof why, "peer %s sent an ERROR with status %d", peer->name, status);
        peer_fault(tasks, task, peer, P2C2R_E_PROTOCOL, why);
    } else if (input_error(status)) {
        on_input_error(tasks, task, peer, status, in->detail);
    } else if (status == P2C2R_E_DEADLINE && now + DEADLINE_SLACK_US >= task->qitem.deadline_us) {
        coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
        coord_task_end(tasks, task, status, in->detail, NULL, NULL, NULL);
    } else {
        /* A deadline still ahead is not a reason: the peer gave up, as with any error. */
        snprintf(why, sizeof why, "peer %s: %s: %s", peer->name, p2c2r_errname(status), in->detail);
        peer_fault(tasks, task, peer, status, why);
    }
}

/* ---- peers coming and going --------------------------------------------------------- */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void coord_tasks_on_load(coord_tasks *tasks, coord_peer *peer, const p2c2r_envelope *env,
                         bool reconnected)
{
    const P2c2r__Wire__PeerLoad *load = env->load;
    if (!load)
        return;
    size_t n = load->n_running < LOAD_MAX_RUNNING ? load->n_running : LOAD_MAX_RUNNING;
    if (env->instance != tasks->config.instance) {
        /* Everything it runs belongs to another coordinator: busy slots all the same. */
        coord_peers_set_foreign(tasks->peers, peer, (uint64_t)n + load->foreign_busy,
                                p2c2r__now_us());
        return;
    }
    coord_peers_set_foreign(tasks->peers, peer, load->foreign_busy, p2c2r__now_us());
    uint64_t running[LOAD_MAX_RUNNING];
    if (n)
        memcpy(running, load->running, n * sizeof *running);
    qsort(running, n, sizeof *running, compare_u64);
    /* An attempt the peer has seen (id <= last_assigned) and does not run was answered —
     * answers travel ahead of this report on the same connection — or lost with a dead
     * connection. After a reconnect everything sent on the old connection is accounted
     * for. Either way it will not be answered: it goes elsewhere, the peer not charged. */
    coord_task *task = peer->tasks;
    while (task) {
        coord_task *next = task->next;
        if ((reconnected || task->attempt_id <= load->last_assigned) &&
            !bsearch(&task->attempt_id, running, n, sizeof *running, compare_u64)) {
            coord_task_detach_running(tasks, task);
            coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
            char why[160];
            snprintf(why, sizeof why, "peer %s no longer holds the task", peer->name);
            retry_or_end(tasks, task, P2C2R_E_PEERLOST, why, peer->serial);
        }
        task = next;
    }
    coord_peers_zombies_reconcile(tasks->peers, peer, running, n, load->last_assigned, reconnected);
}

void coord_tasks_peer_lost(coord_tasks *tasks, coord_peer *peer, const char *why)
{
    if (peer->inflight)
        log_warn("peer %s gone (%s) with %u task(s) in flight", peer->name, why, peer->inflight);
    else
        log_info("peer %s gone (%s)", peer->name, why);
    char detail[160];
    snprintf(detail, sizeof detail, "peer %s lost (%s)", peer->name, why);
    while (peer->tasks) {
        coord_task *task = peer->tasks;
        coord_task_detach_running(tasks, task);
        retry_or_end(tasks, task, P2C2R_E_PEERLOST, detail, peer->serial);
    }
}

/* ---- time ------------------------------------------------------------------------ */

void coord_attempt_timed_out(coord_tasks *tasks, coord_task *task, uint64_t now)
{
    coord_peer *peer = coord_task_detach_running(tasks, task);
    /* The peer may still be running it: the slot stays taken until it says otherwise. */
    coord_peers_zombie_add(tasks->peers, peer, task->attempt_id);
    char why[160];
    if (now >= task->qitem.deadline_us) {
        /* Charged only when the task had clearly enough time for what it usually takes. */
        uint64_t mean = coord_task_estimate(tasks, task->cls);
        if (mean && task->qitem.deadline_us - task->assigned_us > 2 * mean)
            coord_peers_failure(tasks->peers, peer, now, "no answer by the deadline");
        else
            coord_peers_no_verdict(tasks->peers, peer, p2c2r__now_us());
        snprintf(why, sizeof why, "no answer from peer %s by the deadline", peer->name);
        coord_task_end(tasks, task, P2C2R_E_DEADLINE, why, NULL, NULL, NULL);
        return;
    }
    snprintf(why, sizeof why, "peer %s did not answer within %" PRIu64 " ms", peer->name,
             (now - task->assigned_us) / 1000u);
    peer_fault(tasks, task, peer, P2C2R_E_DEADLINE, why);
}
