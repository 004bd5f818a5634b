/* results: finished tasks on their way to the game, the submit window, and the counts of
 * how tasks ended.
 *
 * Results reach the game by poll() or by the on_result callback. For poll() they wait in
 * a list guarded by a mutex that is held only to link or unlink one result; a thread
 * waiting in poll() waits on a condition variable, which lets go of the mutex, so a poll(0)
 * on another thread never waits behind it. The callback runs on the thread that delivers
 * (the I/O thread), outside any lock.
 *
 * The window counts tasks submitted and not yet taken by the game; it is claimed by
 * submit() and given back when a result is taken.
 */
#ifndef P2C2R_CLIENT_RESULTS_H
#define P2C2R_CLIENT_RESULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#include "p2c2r.h"

struct p2c2r_result {
    uint64_t task_id;          /* the id submit() returned */
    int status;                /* P2C2R_OK or the error */
    char *detail;              /* error detail or why it ran locally, never NULL */
    p2c2r_source source;       /* where the output was computed */
    p2c2r_mode mode;           /* the mode it was made with (upscale) */
    uint32_t deadline_ms;      /* the deadline it ran under */
    p2c2r_codec codec;         /* output encoding */
    p2c2r_pixel_format format; /* output pixel layout */
    uint32_t width, height;    /* output size */
    zmq_msg_t payload;         /* output bytes (a received frame, or wrapped local output) */
    p2c2r_timings timings;     /* where the time went */
    p2c2r_result *next;        /* the poll list */
};

/* A result with no output; NULL when out of memory. detail may be NULL. */
p2c2r_result *sdk_result_new(uint64_t task_id, int status, const char *detail);
/* Replace r's detail with a copy of detail (NULL: none). P2C2R_OK, or P2C2R_E_NOMEM with
 * r unchanged. */
int sdk_result_set_detail(p2c2r_result *r, const char *detail);

typedef struct sdk_results sdk_results;

/* A queue for a window of max_in_flight tasks; fn (may be NULL) takes results instead of
 * poll(). NULL when out of memory. */
sdk_results *sdk_results_new(uint32_t max_in_flight, p2c2r_result_fn *fn, void *arg);
/* Free the queue and every result still in it. Accepts NULL; sets *results to NULL. */
void sdk_results_destroy(sdk_results **results);

/* Claim a window slot for a new task; false when the window is full. */
bool sdk_results_reserve(sdk_results *q);
/* Give back a slot claimed for a task that was not submitted after all. */
void sdk_results_unreserve(sdk_results *q);
/* Slots claimed and not yet given back. */
uint32_t sdk_results_pending(const sdk_results *q);

/* Deliver a finished task: counted, then handed to the callback or queued for poll().
 * Takes ownership of *r and sets it to NULL. */
void sdk_results_deliver(sdk_results *q, p2c2r_result **r);
/* Take the next result, waiting up to timeout_ms (-1: forever, 0: not at all).
 * P2C2R_E_TIMEOUT when none came, P2C2R_E_INVAL with a callback. */
int sdk_results_take(sdk_results *q, int timeout_ms, p2c2r_result **r);

/* A cluster answer came for a task already ended: only counted. */
void sdk_results_dropped(sdk_results *q);
/* Fill the counts of the stats (submitted, cluster, local, errors, late, dropped). */
void sdk_results_counts(const sdk_results *q, p2c2r_client_stats *stats);

#endif /* P2C2R_CLIENT_RESULTS_H */
