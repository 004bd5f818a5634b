/* stream: see stream.h. */
#include "stream.h"

#include <stdio.h>

#include "testutil.h"

/* Failed frames printed at most. */
#define STREAM_PRINT_FAILURES 5

stream_stats stream_frames(p2c2r_client *client, const p2c2r_upscale_desc *desc, const void *data,
                           size_t size, int frames, int window, int poll_ms, stream_result_fn *fn,
                           void *arg)
{
    stream_stats st = {0};
    int submitted = 0;
    while (client && st.ended < frames) {
        uint64_t id;
        while (submitted < frames && submitted - st.ended < window &&
               p2c2r_submit_upscale(client, desc, data, size, &id) == P2C2R_OK)
            submitted++;
        p2c2r_result *r;
        if (p2c2r_poll(client, poll_ms, &r) != P2C2R_OK) {
            CHECK(!"a frame never ended");
            break;
        }
        st.ended++;
        p2c2r_timings t;
        p2c2r_result_timings(r, &t);
        if (t.total_us > st.slowest_us)
            st.slowest_us = t.total_us;
        int status = p2c2r_result_status(r);
        if (status == P2C2R_OK)
            st.ok++;
        else if (st.ended - st.ok <= STREAM_PRINT_FAILURES)
            fprintf(stderr, "frame failed: %s: %s\n", p2c2r_errname(status),
                    p2c2r_result_detail(r));
        if (fn)
            fn(arg, r);
        p2c2r_result_free(&r);
    }
    return st;
}
