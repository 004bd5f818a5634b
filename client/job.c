/* job: see job.h. */
#include "client/job.h"

#include <stdlib.h>

#include "client/results.h"
#include "common/task.h"

sdk_job *sdk_job_new(uint64_t id, int kind)
{
    sdk_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->id = id;
    j->kind = kind;
    j->fallback_us = UINT64_MAX;
    atomic_init(&j->ended, false);
    zmq_msg_init(&j->payload);
    return j;
}

void sdk_job_free(sdk_job **job)
{
    if (!job || !*job)
        return;
    sdk_job *j = *job;
    zmq_msg_close(&j->payload);
    sdk_buf_unref(&j->buf);
    p2c2r_result_free(&j->local_result);
    free(j);
    *job = NULL;
}

void sdk_job_wire_fill(const sdk_job *j, uint64_t deadline_us, uint64_t sender, sdk_job_wire *w)
{
    p2c2r__envelope_init(&w->env, P2C2R__WIRE__MSG_TYPE__SUBMIT);
    w->env.kind = (char *)p2c2r__task_kind_name(j->kind);
    w->env.task_id = j->id;
    w->env.sender = sender;
    w->env.deadline_us = deadline_us;
    w->env.no_cache = (j->flags & P2C2R_TASK_NO_CACHE) != 0;
    w->env.batches = true; /* answers may come in RESULT batches */
    if (j->kind == P2C2R_KIND_SLEEP) {
        p2c2r__wire__sleep_params__init(&w->sleep);
        w->sleep.ms = j->sleep_ms;
        w->env.sleep = &w->sleep;
    }
    if (j->kind != P2C2R_KIND_UPSCALE)
        return;
    const p2c2r_upscale_desc *d = &j->desc;
    p2c2r__wire__frame__init(&w->frame);
    w->frame.codec = (P2c2r__Wire__Codec)d->codec;
    w->frame.pixel_format = (P2c2r__Wire__PixelFormat)d->pixel_format;
    w->frame.width = d->width;
    w->frame.height = d->height;
    p2c2r__wire__upscale_params__init(&w->up);
    w->up.scale = d->scale;
    w->up.mode = (P2c2r__Wire__UpscaleMode)d->mode;
    w->up.output_codec = (P2c2r__Wire__Codec)d->output_codec;
    w->up.jpeg_quality = d->jpeg_quality;
    p2c2r__wire__task_needs__init(&w->needs);
    w->needs.runtime = (P2c2r__Wire__Runtime)d->runtime;
    w->needs.memory_bytes = d->memory_bytes;
    w->env.priority = d->priority;
    w->env.frame = &w->frame;
    w->env.upscale = &w->up;
    if (d->runtime || d->memory_bytes)
        w->env.needs = &w->needs;
}

bool sdk_job_same_shape(const sdk_job *a, const sdk_job *b)
{
    if (a->kind != b->kind || a->flags != b->flags || a->sleep_ms != b->sleep_ms)
        return false;
    if (a->kind != P2C2R_KIND_UPSCALE)
        return true;
    const p2c2r_upscale_desc *x = &a->desc, *y = &b->desc;
    return x->scale == y->scale && x->mode == y->mode && x->output_codec == y->output_codec &&
           x->jpeg_quality == y->jpeg_quality && x->priority == y->priority &&
           x->runtime == y->runtime && x->memory_bytes == y->memory_bytes;
}
