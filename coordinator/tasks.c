/* tasks: see tasks.h; the task record and the table are in task.h. This file admits
 * tasks, ends them (the one way), parks answers for absent clients, runs the timers and
 * holds the table's life; attempts.c runs tasks on peers.
 */
#include "coordinator/tasks.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/task.h"
#include "common/upscale/upscale.h"
#include "coordinator/metrics.h"
#include "coordinator/task.h"

/* An answer waits for an absent client until its deadline plus this: the SDK gives up on
 * a task at its deadline plus its grace (250 ms by default). */
#define PARK_GRACE_US (250ull * 1000u)

static void deliver(coord_tasks *tasks, coord_task *task, task_answer *a);

/* ---- keys and bookkeeping ----------------------------------------------------------- */

static size_t key_hash(const void *key)
{
    const task_key *k = key;
    uint64_t x = (uint64_t)k->client ^ (k->id * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33; /* murmur3's finaliser */
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static int key_compare(const void *a, const void *b)
{
    const task_key *x = a, *y = b;
    if (x->client != y->client)
        return x->client < y->client ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

uint64_t coord_task_estimate(const coord_tasks *tasks, uint64_t cls)
{
    uint64_t mean, dev;
    return coord_estimates_get(tasks->estimates, cls, &mean, &dev) ? mean : 0;
}

/* The queue class of a task: which peers can run it (kind, mode, runtime need). */
static uint32_t queue_class(const coord_task *task)
{
    return (uint32_t)((task->kind * COORD_SEL_MODES + task->mode) * 3 + task->runtime);
}

int coord_task_queue(coord_tasks *tasks, coord_task *task)
{
    task->qitem.cls = queue_class(task);
    task->qitem.owner = task->client;
    task->qitem.cost_us = coord_task_estimate(tasks, task->cls);
    int rc = coord_queue_push(tasks->queue, &task->qitem);
    if (rc == P2C2R_OK)
        task->state = TASK_QUEUED;
    return rc;
}

/* Task lists (a peer's running tasks, a client's parked answers) are doubly linked through
 * prev/next, with the head in the peer or client record. */
static void list_push(coord_task **head, coord_task *task)
{
    task->prev = NULL;
    task->next = *head;
    if (*head)
        (*head)->prev = task;
    *head = task;
}

static void list_unlink(coord_task **head, coord_task *task)
{
    if (task->prev)
        task->prev->next = task->next;
    else
        *head = task->next;
    if (task->next)
        task->next->prev = task->prev;
    task->prev = task->next = NULL;
}

coord_peer *coord_task_detach_running(coord_tasks *tasks, coord_task *task)
{
    coord_peer *peer = task->peer;
    zhashx_delete(tasks->running, &task->attempt_id);
    coord_timers_cancel(tasks->timers, &task->timer);
    list_unlink(&peer->tasks, task);
    task->peer = NULL;
    coord_peers_released(tasks->peers, peer);
    coord_admission_running(tasks->admission, task->qitem.cls, -(int64_t)task->work_us);
    return peer;
}

void coord_task_attach_running(coord_tasks *tasks, coord_task *task, coord_peer *peer)
{
    task->state = TASK_RUNNING;
    task->peer = peer;
    list_push(&peer->tasks, task);
    coord_peers_assigned(tasks->peers, peer);
    task->work_us = coord_task_estimate(tasks, task->cls);
    coord_admission_running(tasks->admission, task->qitem.cls, (int64_t)task->work_us);
}

static void detach_parked(coord_tasks *tasks, coord_task *task)
{
    coord_client *client = task->client;
    coord_timers_cancel(tasks->timers, &task->timer);
    list_unlink(&client->parked, task);
    coord_clients_hold(tasks->clients, client, -(int64_t)zmq_msg_size(&task->answer->payload));
}

/* Freed task records kept for the next tasks: a stream of small tasks allocates and frees
 * one each, which is malloc's slow path when they come and go 32 at a time. None under
 * AddressSanitizer, so that a record used after its task ended is still caught. */
#define TASK_SPARE_MAX 1024u

coord_task *coord_task_new(coord_tasks *tasks)
{
    coord_task *task = tasks->spare;
    if (!task)
        return calloc(1, sizeof *task);
    tasks->spare = task->next;
    tasks->nspare--;
    memset(task, 0, sizeof *task);
    return task;
}

static void task_free(coord_tasks *tasks, coord_task *task)
{
    if (task->keyed)
        zhashx_delete(tasks->by_key, &task->key);
    task->client->tasks--;
    free(task->tried);
    zmq_msg_close(&task->payload);
    if (task->answer) {
        zmq_msg_close(&task->answer->payload);
        free(task->answer);
    }
#if !defined(__SANITIZE_ADDRESS__)
    if (tasks->nspare < TASK_SPARE_MAX) {
        task->next = tasks->spare;
        tasks->spare = task;
        tasks->nspare++;
        return;
    }
#endif
    free(task);
}

/* ---- the one way a task ends -------------------------------------------------------- */

void coord_task_end(coord_tasks *tasks, coord_task *task, int status, const char *detail,
                    const P2c2r__Wire__Frame *frame, const P2c2r__Wire__Timing *timing,
                    const zmq_msg_t *payload)
{
    if (task->check) {
        /* A recheck ends with its verdict (OK) or without one; no client hears of it. */
        coord_recheck_end(tasks->recheck, &task->check, status != P2C2R_OK);
        task->state = TASK_DONE;
        task_free(tasks, task);
        return;
    }
    task_answer answer = {.status = status, .detail = detail ? detail : ""};
    task_answer *a = &answer;
    zmq_msg_init(&a->payload);
    P2c2r__Wire__Timing empty = P2C2R__WIRE__TIMING__INIT;
    a->timing = timing ? *timing : empty;
    a->timing.base = empty.base; /* a bare copy: no unknown fields travel on */
    uint64_t now = p2c2r__now_us();
    a->timing.queue_us = (task->attempts ? task->assigned_us : now) - task->submitted_us;
    if (status == P2C2R_OK && frame) {
        P2c2r__Wire__Frame bare = P2C2R__WIRE__FRAME__INIT;
        a->has_frame = true;
        a->frame = bare;
        a->frame.codec = frame->codec;
        a->frame.pixel_format = frame->pixel_format;
        a->frame.width = frame->width;
        a->frame.height = frame->height;
    }
    if (status == P2C2R_OK && payload && zmq_msg_copy(&a->payload, (zmq_msg_t *)payload) == 0)
        a->has_payload = true;
    /* The input is not needed any more: no attempt will follow. */
    coord_clients_hold(tasks->clients, task->client, -(int64_t)task->payload_size);
    zmq_msg_close(&task->payload);
    zmq_msg_init(&task->payload);
    task->payload_size = 0;
    task->state = TASK_DONE;
    coord_metrics_task_end(tasks->config.metrics, task->kind, task->mode, task->client, status,
                           a->timing.queue_us, now - task->submitted_us, a->timing.cache_hit);
    if (status == P2C2R_OK) {
        tasks->stats.ended_ok++;
    } else {
        tasks->stats.ended_err++;
        log_debug("task %" PRIu64 " ends: %s (%s)", task->key.id, p2c2r_errname(status), a->detail);
    }
    deliver(tasks, task, a);
}

/* Keep the answer for a client that is away: on the heap (once) and counted against the
 * client's budget until its deadline plus grace. False when it cannot be kept. */
static bool park(coord_tasks *tasks, coord_task *task, task_answer *a, uint64_t now)
{
    uint64_t keep_until = task->qitem.deadline_us + PARK_GRACE_US;
    size_t bytes = zmq_msg_size(&a->payload);
    const char *why;
    if (!task->client->session || now >= keep_until ||
        !coord_clients_budget(tasks->clients, task->client, bytes, &why))
        return false;
    if (a != task->answer) {
        size_t len = strlen(a->detail);
        task_answer *kept = malloc(sizeof *kept + len + 1);
        if (!kept)
            return false;
        *kept = *a;
        memcpy(kept->kept_detail, a->detail, len + 1);
        kept->detail = kept->kept_detail;
        zmq_msg_init(&kept->payload);
        zmq_msg_move(&kept->payload, &a->payload);
        task->answer = kept; /* freed with the task */
    }
    if (coord_timers_arm(tasks->timers, &task->timer, keep_until) != P2C2R_OK)
        return false;
    task->state = TASK_PARKED;
    list_push(&task->client->parked, task);
    coord_clients_hold(tasks->clients, task->client, (int64_t)bytes);
    return true;
}

/* Hand an ended task's answer a (on the caller's stack, or task->answer when it was
 * parked) to its client, park it while the client is away, or give up on it; frees the
 * task unless parked. */
static void deliver(coord_tasks *tasks, coord_task *task, task_answer *a)
{
    p2c2r_envelope out;
    p2c2r__envelope_init(&out, a->status == P2C2R_OK ? P2C2R__WIRE__MSG_TYPE__RESULT
                                                     : P2C2R__WIRE__MSG_TYPE__ERROR);
    out.task_id = task->key.id;
    out.status = a->status;
    out.detail = (char *)a->detail;
    out.timing = &a->timing;
    if (a->status == P2C2R_OK) {
        out.kind = (char *)p2c2r__task_kind_name(task->kind);
        out.frame = a->has_frame ? &a->frame : NULL;
    }
    int rc = coord_clients_answer(tasks->clients, task->client, &out,
                                  a->has_payload ? &a->payload : NULL);
    if (rc == P2C2R_E_TOOBIG) {
        /* The client is not reading: what it gets is a short error, not more megabytes. */
        p2c2r__envelope_init(&out, P2C2R__WIRE__MSG_TYPE__ERROR);
        out.task_id = task->key.id;
        out.status = P2C2R_E_BUSY;
        out.detail = "result dropped: this client's unread results exceed its budget";
        out.timing = &a->timing;
        rc = coord_clients_answer(tasks->clients, task->client, &out, NULL);
    }
    if (rc == P2C2R_E_UNKNOWNPEER && park(tasks, task, a, p2c2r__now_us()))
        return;
    if (a != task->answer)
        zmq_msg_close(&a->payload); /* task_free() closes a parked one */
    if (rc != P2C2R_OK) {
        tasks->stats.undelivered++;
        log_limited(P2C2R_LOG_INFO, "answer for task %" PRIu64 " not delivered: %s", task->key.id,
                    p2c2r_strerror(rc));
    }
    task_free(tasks, task);
}

void coord_tasks_client_back(coord_tasks *tasks, coord_client *client)
{
    while (client->parked) {
        coord_task *task = client->parked;
        detach_parked(tasks, task);
        deliver(tasks, task, task->answer);
        if (client->parked == task)
            break; /* parked again: the client is away once more */
    }
}

/* ---- admission ---------------------------------------------------------------------- */

/* What the task asks of its peer: mode, runtime, memory, and the filter table it will use
 * (so that a peer holding it scores higher). */
static void describe_needs(coord_task *task, const p2c2r_envelope *env)
{
    if (task->kind == P2C2R_KIND_UPSCALE) {
        task->mode = env->upscale->mode ? (int)env->upscale->mode : P2C2R_MODE_FAST;
        char name[P2C2R_UPSCALE_NAME_MAX];
        p2c2r__upscale_plan_key(task->input.format, task->input.width, task->input.height,
                                env->upscale->scale, (p2c2r_mode)task->mode, name);
        task->plan_hash = name[0] ? coord_peers_table_hash(name) : 0;
    }
    if (env->needs) {
        task->runtime = (int)env->needs->runtime;
        task->memory_bytes = env->needs->memory_bytes;
    }
}

/* Whether a kind's output depends on nothing but its input and parameters, so that a
 * stored result can answer the same task again. upscale does (per runtime: the key holds
 * the runtime asked for). noop exists to measure the cluster, and sleep to hold a slot:
 * answered from a cache, both would measure nothing. */
static bool cacheable(const coord_task *task, const p2c2r_envelope *env)
{
    return task->kind == P2C2R_KIND_UPSCALE && !env->no_cache;
}

/* The cache key of a task: its client's (or everyone's) scope, its parameters, its input.
 * key->params points at bytes, which must outlive the key. */
static void cache_key(const coord_tasks *tasks, const coord_task *task,
                      uint8_t bytes[COORD_PARAMS_KEY_MAX + 1], coord_cache_key *key)
{
    const coord_client *client = task->client;
    /* The first byte tells a session (the same client across reconnects) from a client
     * known by its connection alone, so that their numbers can never meet. */
    bytes[0] = tasks->config.cache_shared ? 0 : client->session ? 1 : 2;
    key->scope = tasks->config.cache_shared ? 0
                 : client->session          ? client->session
                                            : client->serial;
    key->params = bytes;
    key->params_size = 1 + coord_params_key(&task->params, bytes + 1);
    key->input = &task->payload;
    coord_cache_hash(tasks->cache, key);
}

/* Answer a task from the cache when its result is there. */
static bool answer_from_cache(coord_tasks *tasks, coord_task *task)
{
    uint8_t bytes[COORD_PARAMS_KEY_MAX + 1];
    coord_cache_key key;
    cache_key(tasks, task, bytes, &key);
    P2c2r__Wire__Frame frame;
    zmq_msg_t output;
    if (!coord_cache_get(tasks->cache, &key, &frame, &output))
        return false;
    P2c2r__Wire__Timing timing = P2C2R__WIRE__TIMING__INIT;
    timing.cache_hit = true;
    tasks->stats.cache_hits++;
    coord_task_end(tasks, task, P2C2R_OK, "", &frame, &timing, &output);
    zmq_msg_close(&output);
    return true;
}

void coord_task_cache_result(coord_tasks *tasks, coord_task *task, const P2c2r__Wire__Frame *frame,
                             const zmq_msg_t *output)
{
    if (!task->cacheable)
        return;
    uint8_t bytes[COORD_PARAMS_KEY_MAX + 1];
    coord_cache_key key;
    cache_key(tasks, task, bytes, &key);
    coord_cache_put(tasks->cache, &key, frame, output);
}

uint64_t coord_tasks_group(coord_tasks *tasks)
{
    return ++tasks->next_group; /* never COORD_LINK_ANY: 2^64 batches take forever */
}

void coord_tasks_admit(coord_tasks *tasks, coord_client *client, const p2c2r_envelope *env,
                       zmq_msg_t *payload, uint64_t together)
{
    task_key key = {(uintptr_t)client, env->task_id};
    if (zhashx_lookup(tasks->by_key, &key)) {
        if (client->session) {
            /* Sent again after a reconnect: the task is already here and will answer once. */
            tasks->stats.duplicates++;
        } else {
            /* Without a session an id cannot be sent twice on purpose. */
            coord_clients_refuse(tasks->clients, client, env->task_id, P2C2R_E_INVAL,
                                 "task id already in use by an unfinished task");
        }
        return;
    }
    size_t size = payload ? zmq_msg_size(payload) : 0;
    const char *detail;
    coord_input input;
    int rc = p2c2r__task_validate(env, size, &detail);
    if (rc == P2C2R_OK)
        rc = coord_verify_input(tasks->verify, env, payload ? zmq_msg_data(payload) : NULL, size,
                                &input, &detail);
    if (rc == P2C2R_OK)
        rc = coord_clients_allows(client, env->priority, &detail);
    if (rc == P2C2R_OK && coord_queue_size(tasks->queue) >= tasks->config.max_queue) {
        rc = P2C2R_E_BUSY;
        detail = "coordinator queue is full (--max-queue)";
    }
    if (rc == P2C2R_OK && client->tasks >= tasks->config.max_client_tasks) {
        rc = P2C2R_E_BUSY;
        detail = "client has as many unfinished tasks as it may (--max-client-tasks)";
    }
    if (rc == P2C2R_OK && !coord_clients_budget(tasks->clients, client, size, &detail))
        rc = P2C2R_E_BUSY;
    coord_task *task = rc == P2C2R_OK ? coord_task_new(tasks) : NULL;
    if (rc == P2C2R_OK && !task) {
        rc = P2C2R_E_NOMEM;
        detail = "coordinator out of memory";
    }
    if (rc != P2C2R_OK) {
        coord_clients_refuse(tasks->clients, client, env->task_id, rc, detail);
        return;
    }
    uint64_t now = p2c2r__now_us();
    task->key = key;
    task->client = client;
    task->kind = input.kind;
    task->input = input;
    task->cls = coord_estimate_class(input.kind, env, input.size);
    describe_needs(task, env);
    task->submitted_us = now;
    task->together = together;
    task->qitem.priority = env->priority < UINT32_MAX ? env->priority + 1 : UINT32_MAX;
    task->qitem.deadline_us = now + env->deadline_us; /* bounded by task_validate() */
    task->qitem.seq = ++tasks->next_seq;
    zmq_msg_init(&task->payload);
    if (payload)
        zmq_msg_move(&task->payload, payload);
    task->payload_size = size;
    task->has_payload = payload != NULL;
    coord_params_keep(&task->params, input.kind, env);
    task->cacheable = coord_cache_enabled(tasks->cache) && cacheable(task, env);
    client->tasks++;
    coord_clients_hold(tasks->clients, client, (int64_t)size);
    tasks->stats.admitted++;
    task->keyed = zhashx_insert(tasks->by_key, &task->key, task) == 0;
    if (task->cacheable && answer_from_cache(tasks, task)) {
        tasks->stats.cache_hit_us += p2c2r__now_us() - now;
        return;
    }

    char why[200];
    uint32_t qcls = queue_class(task);
    uint64_t ahead = coord_queue_work_ahead(tasks->queue, qcls, task->qitem.priority, client);
    uint64_t capacity = coord_peers_capacity(tasks->peers, task->kind, task->mode, task->runtime);
    if (!coord_admission_check(tasks->admission, qcls, coord_task_estimate(tasks, task->cls), ahead,
                               capacity, now, task->qitem.deadline_us, why, sizeof why)) {
        tasks->stats.shed++;
        coord_task_end(tasks, task, P2C2R_E_DEADLINE, why, NULL, NULL, NULL);
        return;
    }
    if (coord_task_queue(tasks, task) != P2C2R_OK) {
        coord_task_end(tasks, task, P2C2R_E_NOMEM, "coordinator out of memory", NULL, NULL, NULL);
        return;
    }
    log_debug("task %" PRIu64 " queued (%s, client %016" PRIx64 ")", key.id, env->kind,
              client->session);
}

void coord_tasks_cancel(coord_tasks *tasks, coord_client *client, uint64_t task_id)
{
    task_key key = {(uintptr_t)client, task_id};
    coord_task *task = zhashx_lookup(tasks->by_key, &key);
    if (!task || task->state == TASK_PARKED || task->state == TASK_DONE)
        return; /* unknown, or answered already: that answer stands */
    if (task->state == TASK_QUEUED) {
        coord_queue_remove(tasks->queue, &task->qitem);
    } else {
        coord_peer *peer = coord_task_detach_running(tasks, task);
        /* Its slot stays taken until the peer answers or reports it gone. */
        coord_peers_zombie_add(tasks->peers, peer, task->attempt_id);
        coord_link_cancel(tasks->link, peer, task->attempt_id);
    }
    tasks->stats.cancelled++;
    coord_task_end(tasks, task, P2C2R_E_CANCELLED, "cancelled by the client", NULL, NULL, NULL);
}

/* ---- time --------------------------------------------------------------------------- */

static void on_timer(coord_tasks *tasks, coord_task *task, uint64_t now)
{
    if (task->state == TASK_PARKED) {
        detach_parked(tasks, task);
        tasks->stats.undelivered++;
        log_limited(P2C2R_LOG_INFO,
                    "answer for task %" PRIu64 " dropped: its client did not "
                    "come back before the deadline",
                    task->key.id);
        task_free(tasks, task);
        return;
    }
    coord_attempt_timed_out(tasks, task, now);
}

void coord_tasks_expire(coord_tasks *tasks, uint64_t now_us)
{
    coord_qitem *item;
    while ((item = coord_queue_pop_expired(tasks->queue, now_us))) {
        coord_task_end(tasks, TASK_OF_QITEM(item), P2C2R_E_DEADLINE, "deadline passed while queued",
                       NULL, NULL, NULL);
    }
    coord_timer *timer;
    while ((timer = coord_timers_pop_due(tasks->timers, now_us)))
        on_timer(tasks, TASK_OF_TIMER(timer), now_us);
}

uint64_t coord_tasks_next_wakeup(const coord_tasks *tasks)
{
    uint64_t queued = coord_queue_next_deadline(tasks->queue);
    uint64_t timer = coord_timers_next(tasks->timers);
    return queued < timer ? queued : timer;
}

/* ---- life of the table -------------------------------------------------------------- */

void coord_tasks_drain(coord_tasks *tasks, int status, const char *detail)
{
    coord_qitem *item;
    while ((item = coord_queue_pop_expired(tasks->queue, UINT64_MAX)))
        coord_task_end(tasks, TASK_OF_QITEM(item), status, detail, NULL, NULL, NULL);
    coord_task *task;
    while ((task = zhashx_first(tasks->running))) {
        coord_peer *peer = coord_task_detach_running(tasks, task);
        coord_peers_zombie_add(tasks->peers, peer, task->attempt_id);
        coord_task_end(tasks, task, status, detail, NULL, NULL, NULL);
    }
    /* What is left is parked, waiting for clients that will not come back in time now. */
    coord_timer *timer;
    while ((timer = coord_timers_pop_due(tasks->timers, UINT64_MAX))) {
        task = TASK_OF_TIMER(timer);
        detach_parked(tasks, task);
        tasks->stats.undelivered++;
        task_free(tasks, task);
    }
}

void coord_tasks_stats_get(const coord_tasks *tasks, coord_tasks_stats *stats)
{
    *stats = tasks->stats;
}

void coord_tasks_gauges(const coord_tasks *tasks, uint64_t *queued, uint64_t *running,
                        coord_cache_stats *cache)
{
    *queued = coord_queue_size(tasks->queue);
    *running = zhashx_size(tasks->running);
    coord_cache_stats_get(tasks->cache, cache);
}

coord_tasks *coord_tasks_new(const coord_tasks_config *config, coord_clients *clients,
                             coord_link *link, coord_peers *peers)
{
    coord_tasks *tasks = calloc(1, sizeof *tasks);
    if (!tasks)
        return NULL;
    tasks->config = *config;
    tasks->clients = clients;
    tasks->link = link;
    tasks->peers = peers;
    tasks->queue = coord_queue_new();
    tasks->running = p2c2r__idmap_new();
    tasks->by_key = zhashx_new();
    tasks->cache = coord_cache_new(config->cache_bytes, NULL);
    tasks->verify = coord_verify_new();
    tasks->estimates = coord_estimates_new();
    tasks->timers = coord_timers_new();
    tasks->admission = coord_admission_new();
    tasks->recheck =
        coord_recheck_new(config->recheck_rate, coord_peers_reputation(tasks->peers), 0);
    if (!tasks->queue || !tasks->running || !tasks->by_key || !tasks->verify || !tasks->estimates ||
        !tasks->timers || !tasks->admission || !tasks->cache || !tasks->recheck) {
        coord_tasks_destroy(&tasks);
        return NULL;
    }
    zhashx_set_key_hasher(tasks->by_key, key_hash);
    zhashx_set_key_comparator(tasks->by_key, key_compare);
    zhashx_set_key_duplicator(tasks->by_key, NULL);
    zhashx_set_key_destructor(tasks->by_key, NULL);
    return tasks;
}

void coord_tasks_destroy(coord_tasks **tasks)
{
    if (!tasks || !*tasks)
        return;
    coord_tasks *t = *tasks;
    if (t->queue && t->running && t->by_key && t->timers && t->recheck) {
        coord_tasks_drain(t, P2C2R_E_IO, "coordinator shutting down");
        log_info("%" PRIu64 " task(s) admitted: %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
                 " retried attempt(s), %" PRIu64 " shed, %" PRIu64 " result(s) rejected, %" PRIu64
                 " resent SUBMIT(s) recognised, %" PRIu64 " cancelled, %" PRIu64 " cache hit(s)",
                 t->stats.admitted, t->stats.ended_ok, t->stats.ended_err, t->stats.retries,
                 t->stats.shed, t->stats.rejected, t->stats.duplicates, t->stats.cancelled,
                 t->stats.cache_hits);
        if (t->cache && coord_cache_enabled(t->cache)) {
            coord_cache_stats cs;
            coord_cache_stats_get(t->cache, &cs);
            log_info(
                "result cache: %" PRIu64 " hit(s), %" PRIu64 " miss(es), %" PRIu64
                " stored, %" PRIu64 " evicted, %" PRIu64 " collision(s); %" PRIu64
                " entries of %" PRIu64 " bytes kept; a hit took %.1f us of the loop",
                cs.hits, cs.misses, cs.stores, cs.evictions, cs.collisions, cs.entries, cs.bytes,
                t->stats.cache_hits ? (double)t->stats.cache_hit_us / t->stats.cache_hits : 0.0);
        }
        coord_recheck_stats r;
        coord_recheck_stats_get(t->recheck, &r);
        log_info("rechecks: %" PRIu64 " sampled, %" PRIu64 " skipped, %" PRIu64 " agreed, %" PRIu64
                 " disagreed, %" PRIu64 " first answer(s) outvoted, %" PRIu64
                 " second answer(s) outvoted, %" PRIu64 " undecided, %" PRIu64
                 " abandoned; %" PRIu64 " peer identit(ies) quarantined",
                 r.sampled, r.skipped, r.agreed, r.disagreed, r.overturned, r.upheld, r.undecided,
                 r.abandoned, coord_reputation_quarantines(coord_peers_reputation(t->peers)));
    }
    zhashx_destroy(&t->running);
    zhashx_destroy(&t->by_key);
    coord_cache_destroy(&t->cache);
    coord_queue_destroy(&t->queue);
    coord_verify_destroy(&t->verify);
    coord_estimates_destroy(&t->estimates);
    coord_timers_destroy(&t->timers);
    coord_admission_destroy(&t->admission);
    coord_recheck_destroy(&t->recheck);
    while (t->spare) {
        coord_task *next = t->spare->next;
        free(t->spare);
        t->spare = next;
    }
    free(t);
    *tasks = NULL;
}
