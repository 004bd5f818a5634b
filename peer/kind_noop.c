/* kind_noop: echoes its payload. It measures what the cluster itself costs per task
 * (queueing, routing, serialisation) with no compute in the way, so it runs inline: no
 * worker thread in the way either. */
#include "peer/kind.h"

static int noop_run(void *state, const peer_task_in *in, peer_task_out *out)
{
    (void)state;
    out->echo_input = 1;
    if (in->env->frame)
        out->frame = *in->env->frame;
    return P2C2R_OK;
}

const peer_kind_ops peer_kind_noop = {
    .name = "noop",
    .run = noop_run,
    .runs_inline = true,
};
