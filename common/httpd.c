/* httpd: see httpd.h. */
#include "common/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "p2c2r_error.h"

/* Scrapers and `p2c2r status` come one at a time; a few more are allowed, not thousands. */
#define HTTPD_MAX_CONNECTIONS 16
#define HTTPD_TIMEOUT_S       10

struct p2c2r_httpd {
    struct MHD_Daemon *daemon; /* libmicrohttpd's server and thread */
    p2c2r_httpd_page_fn *page; /* what answers */
    void *arg;                 /* its argument */
    char address[64];          /* HOST:PORT listened on */
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, char *body, size_t len,
                             const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    p2c2r_httpd *h = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("only GET\n"), 9, "text/plain");
    if (*upload_size) /* a GET with a body: ignore it */
        *upload_size = 0;
    (void)state;
    p2c2r_text out = {0};
    const char *type = "text/plain; charset=utf-8";
    int code = h->page(h->arg, url, &out, &type);
    if (out.failed || !out.data) {
        p2c2r__text_fini(&out);
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, strdup("out of memory\n"), 14,
                     "text/plain");
    }
    return reply(conn, code == 200 ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, out.data, out.len, type);
}

/* "HOST:PORT" into an IPv4 socket address. */
static int parse_address(const char *address, struct sockaddr_in *sa)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || !colon[1] || colon - address >= 256)
        return P2C2R_E_INVAL;
    char host[256];
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return P2C2R_E_INVAL;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (strcmp(host, "*") == 0)
        snprintf(host, sizeof host, "0.0.0.0");
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return P2C2R_E_INVAL;
    memcpy(sa, res->ai_addr, sizeof *sa);
    freeaddrinfo(res);
    sa->sin_port = htons((uint16_t)port);
    return P2C2R_OK;
}

p2c2r_httpd *p2c2r__httpd_start(const char *address, p2c2r_httpd_page_fn *page, void *arg, int *err)
{
    struct sockaddr_in sa;
    int rc = parse_address(address, &sa);
    p2c2r_httpd *h = NULL;
    if (rc != P2C2R_OK) {
        log_error("metrics address '%s' is not HOST:PORT", address);
        goto fail;
    }
    rc = P2C2R_E_NOMEM;
    h = calloc(1, sizeof *h);
    if (!h)
        goto fail;
    h->page = page;
    h->arg = arg;
    rc = P2C2R_E_IO;
    h->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNECTIONS,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S, MHD_OPTION_END);
    if (!h->daemon) {
        log_error("cannot serve metrics on %s", address);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(h->address, sizeof h->address, "%s:%u", ip,
             info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port));
    return h;
fail:
    p2c2r__httpd_stop(&h);
    if (err)
        *err = rc;
    return NULL;
}

const char *p2c2r__httpd_address(const p2c2r_httpd *h)
{
    return h->address;
}

void p2c2r__httpd_stop(p2c2r_httpd **h)
{
    if (!h || !*h)
        return;
    if ((*h)->daemon)
        MHD_stop_daemon((*h)->daemon);
    free(*h);
    *h = NULL;
}
