/* httpd: a small read-only HTTP endpoint (GET only) on libmicrohttpd, for the metrics and
 * status pages of the coordinator and the peer.
 *
 * libmicrohttpd runs its own thread; each request calls the page function there, which
 * must not touch state another thread owns without a lock (the coordinator hands it a
 * snapshot, see coordinator/metrics.h). Nothing here ever blocks the caller's thread.
 */
#ifndef P2C2R_HTTPD_H
#define P2C2R_HTTPD_H

#include "common/promtext.h"

typedef struct p2c2r_httpd p2c2r_httpd;

/* Fill out with the page at path ("/metrics") and set *content_type; return 200, or 404
 * for a page that does not exist. Runs on libmicrohttpd's thread. */
typedef int p2c2r_httpd_page_fn(void *arg, const char *path, p2c2r_text *out,
                                const char **content_type);

/* Listen on address, "HOST:PORT" (an IPv4 address or name; a PORT of 0 picks a free
 * one) and serve pages through page(arg, ...). NULL with *err set (P2C2R_E_INVAL for a
 * malformed address, P2C2R_E_IO when it cannot listen). */
p2c2r_httpd *p2c2r__httpd_start(const char *address, p2c2r_httpd_page_fn *page, void *arg,
                                int *err);
/* "HOST:PORT" actually listened on. */
const char *p2c2r__httpd_address(const p2c2r_httpd *h);
/* Stop serving (waits for requests in progress). Accepts NULL; sets *h to NULL. */
void p2c2r__httpd_stop(p2c2r_httpd **h);

#endif /* P2C2R_HTTPD_H */
