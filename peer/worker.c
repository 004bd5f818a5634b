/* worker: see worker.h. */
#include "peer/worker.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "peer/kind.h"
#include "peer/metrics.h"

void peer_worker_job_free(peer_job **job)
{
    if (!job || !*job)
        return;
    p2c2r__envelope_free(&(*job)->env);
    zmq_msg_close(&(*job)->payload);
    free(*job);
    *job = NULL;
}

int peer_worker_send(zactor_t *worker, peer_job **job)
{
    void *pipe = zsock_resolve(zactor_sock(worker));
    if (zmq_send(pipe, job, sizeof *job, 0) != (int)sizeof *job) {
        peer_worker_job_free(job);
        return P2C2R_E_IO;
    }
    *job = NULL;
    return P2C2R_OK;
}

void peer_worker_answer(void *state, bool ready, peer_job *job, peer_answer *a)
{
    const peer_kind_ops *ops = peer_kinds[job->kind];
    peer_task_in in = {
        .env = job->env,
        .payload = zmq_msg_data(&job->payload),
        .payload_size = zmq_msg_size(&job->payload),
        .cancelled = job->cancelled,
    };
    peer_task_out out = {.frame = P2C2R__WIRE__FRAME__INIT};
    int rc;
    uint64_t start = p2c2r__now_us();
    if (job->cancelled && atomic_load(job->cancelled)) {
        rc = P2C2R_E_CANCELLED;
        out.detail = "cancelled before the task started on the peer";
    } else if (start >= job->deadline_us) {
        rc = P2C2R_E_DEADLINE;
        out.detail = "deadline passed before the task started on the peer";
    } else if (!ready) {
        rc = P2C2R_E_INTERNAL;
        out.detail = "the peer could not initialise this task kind";
    } else {
        rc = ops->run(state, &in, &out);
    }
    uint64_t end = p2c2r__now_us();
    if (rc == P2C2R_OK && job->cancelled && atomic_load(job->cancelled)) {
        /* Too late to stop it: its output is dropped here rather than sent for nothing. */
        rc = P2C2R_E_CANCELLED;
        out.detail = "cancelled while the task ran";
    } else if (rc == P2C2R_OK && end > job->deadline_us) {
        /* Nobody can use a late frame: say so instead of shipping its bytes. */
        rc = P2C2R_E_DEADLINE;
        out.detail = "task finished after its deadline";
    }

    a->timing = (P2c2r__Wire__Timing)P2C2R__WIRE__TIMING__INIT;
    a->timing.decode_us = out.decode_us;
    a->timing.compute_us = out.compute_us;
    a->timing.encode_us = out.encode_us;
    a->timing.copy_in_us = out.copy_in_us;
    a->timing.copy_out_us = out.copy_out_us;
    a->timing.tables_us = out.tables_us;
    /* An enum, not the name: the coordinator keeps bare copies of a Timing. */
    a->timing.runtime = !out.runtime                       ? P2C2R__WIRE__RUNTIME__RUNTIME_ANY
                        : strcmp(out.runtime, "cuda") == 0 ? P2C2R__WIRE__RUNTIME__RUNTIME_CUDA
                                                           : P2C2R__WIRE__RUNTIME__RUNTIME_CPU;
    a->timing.peer_us = end - job->received_us;
    p2c2r__envelope_init(&a->env, rc == P2C2R_OK ? P2C2R__WIRE__MSG_TYPE__RESULT
                                                 : P2C2R__WIRE__MSG_TYPE__ERROR);
    a->env.instance = job->env->instance; /* the coordinator that asked */
    a->env.task_id = job->env->task_id;
    a->env.status = rc;
    a->env.detail = (char *)(out.detail ? out.detail : "");
    a->env.timing = &a->timing;

    zmq_msg_init(&a->payload);
    if (rc == P2C2R_OK) {
        a->frame = out.frame;
        a->env.frame = &a->frame;
        if (out.echo_input)
            zmq_msg_move(&a->payload, &job->payload);
        else if (out.data)
            rc = p2c2r__envelope_payload_wrap(&a->payload, out.data, out.size, out.free_fn, NULL);
    } else if (out.data) {
        out.free_fn(out.data, NULL);
    }
    if (rc != P2C2R_OK && a->env.type == P2C2R__WIRE__MSG_TYPE__RESULT) {
        a->env.type = P2C2R__WIRE__MSG_TYPE__ERROR;
        a->env.status = rc;
        a->env.detail = "out of memory sending the result";
        a->env.frame = NULL;
    }
    log_debug("task %" PRIu64 " (%s): %s in %" PRIu64 " us", job->env->task_id, ops->name,
              p2c2r_errname(a->env.status), end - start);
}

int peer_answer_send(void *sock, int flags, peer_answer *a)
{
    bool result = a->env.type == P2C2R__WIRE__MSG_TYPE__RESULT;
    int rc = p2c2r__envelope_send(sock, NULL, 0, &a->env, result ? &a->payload : NULL, flags);
    zmq_msg_close(&a->payload);
    return rc;
}

/* What a worker starts with. */
typedef struct worker_args {
    const peer_resources *res; /* shared by all workers */
    uint32_t slot;             /* which slot it is */
} worker_args;

static void worker_actor(zsock_t *pipe_sock, void *arg)
{
    worker_args *args = arg;
    const peer_resources *res = args->res;
    uint32_t slot = args->slot;
    free(args);
    void *states[peer_kinds_count];
    int ready[peer_kinds_count];
    for (size_t i = 0; i < peer_kinds_count; i++) {
        states[i] = NULL;
        ready[i] = !peer_kinds[i]->init || peer_kinds[i]->init(&states[i], res, slot) == P2C2R_OK;
        if (!ready[i])
            log_error("kind %s failed to initialise", peer_kinds[i]->name);
    }
    zsock_signal(pipe_sock, 0);
    void *pipe = zsock_resolve(pipe_sock);
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, pipe, 0) < 0)
            break;
        /* Anything that is not a job pointer is the actor's "$TERM". */
        if (zmq_msg_size(&msg) != sizeof(peer_job *)) {
            zmq_msg_close(&msg);
            break;
        }
        peer_job *job;
        memcpy(&job, zmq_msg_data(&msg), sizeof job);
        zmq_msg_close(&msg);
        peer_answer answer;
        peer_worker_answer(states[job->kind], ready[job->kind], job, &answer);
        peer_metrics_task(res->metrics, job, &answer);
        int rc = peer_answer_send(pipe, 0, &answer);
        if (rc != P2C2R_OK)
            log_error("worker cannot answer task %" PRIu64 ": %s", job->env->task_id,
                      p2c2r_strerror(rc));
        peer_worker_job_free(&job);
    }
    for (size_t i = 0; i < peer_kinds_count; i++)
        if (ready[i] && peer_kinds[i]->fini)
            peer_kinds[i]->fini(&states[i]);
}

zactor_t *peer_worker_new(const peer_resources *res, uint32_t slot)
{
    worker_args *args = malloc(sizeof *args);
    if (!args)
        return NULL;
    *args = (worker_args){.res = res, .slot = slot};
    zactor_t *actor = zactor_new(worker_actor, args);
    if (!actor)
        free(args); /* the thread never started */
    return actor;
}
