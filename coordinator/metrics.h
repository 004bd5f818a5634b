/* metrics: what the coordinator counts and measures, exposed in the Prometheus text format
 * on /metrics and as JSON on /status (what `p2c2r status` shows), over HTTP
 * (common/httpd.h, libmicrohttpd).
 *
 * The loop owns the figures and updates them without a lock through the hooks below
 * (a task ended, a peer answered). The HTTP server runs on libmicrohttpd's thread and
 * never touches them: every COORD_METRICS_RENDER_US the loop renders both pages into
 * buffers of its own, then swaps them with the served ones under a mutex held only for
 * the swap; a request copies the served page under the same mutex. A slow or stuck
 * scraper can therefore never stall the loop, and what it sees is at most one interval
 * old.
 *
 * Label cardinality is bounded: per-peer and per-client series are kept for at most
 * COORD_METRICS_MAX_SERIES peers and as many clients, the first seen while they are
 * active; the rest are added together under peer="other" / client="other". A series not
 * seen for COORD_METRICS_SERIES_TTL_US (a peer gone, a client idle) is dropped, which
 * frees its place. Kinds, modes, runtimes and statuses are fixed small sets.
 */
#ifndef P2C2R_COORD_METRICS_H
#define P2C2R_COORD_METRICS_H

#include <stdint.h>

#include "coordinator/clients.h"
#include "coordinator/peers.h"

#define COORD_METRICS_RENDER_US     (100ull * 1000u)
#define COORD_METRICS_MAX_SERIES    32
#define COORD_METRICS_SERIES_TTL_US (300ull * 1000000u)
/* Peers listed one by one on /status, at most (all are counted). */
#define COORD_METRICS_STATUS_PEERS  256

typedef struct coord_metrics coord_metrics;
struct coord_tasks;

/* Serve on address ("HOST:PORT"; port 0 picks one). NULL with *err set on failure. */
coord_metrics *coord_metrics_new(const char *address, uint64_t instance, int *err);
/* Stops the server. Accepts NULL; sets *m to NULL. */
void coord_metrics_destroy(coord_metrics **m);
/* "HOST:PORT" served on. */
const char *coord_metrics_address(const coord_metrics *m);

/* A task ended with status (coord_task_end()): queue_us waited in the queue, e2e_us from
 * admission to its answer; cache_hit: answered from the result cache. m may be NULL. */
void coord_metrics_task_end(coord_metrics *m, int kind, int mode, const coord_client *client,
                            int status, uint64_t queue_us, uint64_t e2e_us, bool cache_hit);
/* peer answered one attempt of a task (status P2C2R_OK for a RESULT, before it is
 * checked) after peer_us. m may be NULL. */
void coord_metrics_answer(coord_metrics *m, const coord_peer *peer, int kind, int mode, int status,
                          uint64_t peer_us);

/* When the pages are next due (UINT64_MAX for a NULL m). */
uint64_t coord_metrics_next_render(const coord_metrics *m);
/* Render both pages from the figures, the peers' registry and the tasks' counters, and
 * hand them to the server. */
void coord_metrics_render(coord_metrics *m, coord_peers *peers, const struct coord_tasks *tasks,
                          uint64_t now_us);

#endif /* P2C2R_COORD_METRICS_H */
