/* kind_sleep: holds its slot for SleepParams.ms milliseconds, then echoes its payload.
 * Real frames take milliseconds to seconds and vary; a sleep task takes exactly what it is
 * told, so tests and benchmarks of scheduling (slow peers, mixed service times, peers
 * that run one kind only) get controlled service times from the real peer binary. */
#include <errno.h>
#include <time.h>

#include "peer/kind.h"

static int sleep_run_cpu(void *state, const peer_task_in *in, peer_task_out *out)
{
    (void)state;
    uint32_t ms = in->env->sleep ? in->env->sleep->ms : 0;
    struct timespec left = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
    out->echo_input = 1;
    if (in->env->frame)
        out->frame = *in->env->frame;
    out->compute_us = (uint64_t)ms * 1000u;
    return P2C2R_OK;
}

const peer_kind_ops peer_kind_sleep = {
    .name = "sleep",
    .run_cpu = sleep_run_cpu,
};
