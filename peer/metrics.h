/* metrics: what a peer counts, served in the Prometheus text format on /metrics
 * (common/httpd.h, libmicrohttpd): tasks run per kind, mode, executor (runtime) and
 * status, the time of each stage (decode, copies to and from a GPU, compute, encode, table
 * builds, and the whole stay on the peer), its slots, its runtime and its GPUs.
 *
 * Workers record their tasks from their own threads; a mutex guards the figures, held for
 * an update or for copying them, never while a page is written or sent.
 */
#ifndef P2C2R_PEER_METRICS_H
#define P2C2R_PEER_METRICS_H

#include <stdint.h>

#include "peer/runtime.h"
#include "peer/worker.h"

typedef struct peer_metrics peer_metrics;

/* Serve on address ("HOST:PORT"; port 0 picks one) for a peer of slots slots running on rt
 * (copied; NULL: the CPU). NULL with *err set on failure. */
peer_metrics *peer_metrics_new(const char *address, const char *name, uint32_t slots,
                               const peer_runtime *rt, int *err);
/* Stops the server. Accepts NULL; sets *m to NULL. */
void peer_metrics_destroy(peer_metrics **m);
/* "HOST:PORT" served on. */
const char *peer_metrics_address(const peer_metrics *m);

/* A job was answered with a (peer_worker_answer()). Thread-safe; m may be NULL. */
void peer_metrics_task(peer_metrics *m, const peer_job *job, const peer_answer *a);
/* Slots busy now. m may be NULL. */
void peer_metrics_busy(peer_metrics *m, uint32_t busy);

#endif /* P2C2R_PEER_METRICS_H */
