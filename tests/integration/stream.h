/* stream: copies of one frame pushed through a client with a window of them in flight, as
 * a game pushes frames, each result handed to a callback. The loop the integration tests
 * share when they count what comes back. */
#ifndef P2C2R_TEST_STREAM_H
#define P2C2R_TEST_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "p2c2r.h"

typedef struct stream_stats {
    int ended;           /* results received */
    int ok;              /* of them, P2C2R_OK */
    uint64_t slowest_us; /* the longest submit-to-result time */
} stream_stats;

/* Called for each result before it is freed; may be NULL. */
typedef void stream_result_fn(void *arg, const p2c2r_result *r);

/* Submit `frames` upscales of data (desc, size bytes), `window` at a time, until each has
 * ended; fn sees every result. A result that does not come within poll_ms fails the test
 * (CHECK) and ends the stream. The first failures are printed on stderr. */
stream_stats stream_frames(p2c2r_client *client, const p2c2r_upscale_desc *desc, const void *data,
                           size_t size, int frames, int window, int poll_ms, stream_result_fn *fn,
                           void *arg);

#endif /* P2C2R_TEST_STREAM_H */
