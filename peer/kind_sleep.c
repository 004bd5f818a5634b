/* kind_sleep: holds its slot for SleepParams.ms milliseconds, then echoes its payload.
 * Real frames take milliseconds to seconds and vary; a sleep task takes exactly what it is
 * told, so tests and benchmarks of scheduling (slow peers, mixed service times, peers
 * that run one kind only) get controlled service times from the real peer binary.
 *
 * It sleeps in short steps and stops at the first one after its task is cancelled, so a
 * cancelled sleep frees its slot at once, as a real kind that can stop part-way would. */
#include <errno.h>
#include <time.h>

#include "common/clock.h"
#include "peer/kind.h"

/* How often a sleeping task looks at its cancelled flag. */
#define SLEEP_STEP_US 5000u

static bool cancelled(const peer_task_in *in)
{
    return in->cancelled && atomic_load(in->cancelled);
}

static int sleep_run(void *state, const peer_task_in *in, peer_task_out *out)
{
    (void)state;
    uint32_t ms = in->env->sleep ? in->env->sleep->ms : 0;
    uint64_t start = p2c2r__now_us(), end = start + (uint64_t)ms * 1000u, now = start;
    while (now < end && !cancelled(in)) {
        uint64_t step = end - now < SLEEP_STEP_US ? end - now : SLEEP_STEP_US;
        struct timespec left = {0, (long)step * 1000L};
        while (nanosleep(&left, &left) != 0 && errno == EINTR)
            ;
        now = p2c2r__now_us();
    }
    out->compute_us = now - start;
    if (now < end) {
        out->detail = "cancelled while it slept";
        return P2C2R_E_CANCELLED;
    }
    out->echo_input = 1;
    if (in->env->frame)
        out->frame = *in->env->frame;
    return P2C2R_OK;
}

const peer_kind_ops peer_kind_sleep = {
    .name = "sleep",
    .run = sleep_run,
};
