/* tcpproxy: see tcpproxy.h.
 *
 * Each relayed connection is a pair of sockets with one buffer per direction; a direction
 * reads only when its buffer is empty and writes until it is, so a slow side holds the
 * other back instead of piling up memory. Commands come through a socketpair, which also
 * carries the answer, so tcpproxy_reset_all() returns only once the resets are done.
 */
#include "tcpproxy.h"

#include "cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROXY_MAX_LINKS 64
#define PROXY_BUF       65536

typedef struct relay_link {
    int fd[2];              /* 0: the accepted side, 1: towards the target; -1 if unused */
    char buf[2][PROXY_BUF]; /* buf[i]: read from fd[i], to be written to fd[1 - i] */
    size_t len[2], off[2];  /* bytes in buf[i], bytes of them already written */
} relay_link;

struct tcpproxy {
    int listen_fd;                     /* accepts the relayed connections */
    int port;                          /* its port */
    int target_port;                   /* where they are relayed */
    int ctl[2];                        /* socketpair: [0] for the caller, [1] for the thread */
    pthread_t thread;                  /* runs relay() */
    relay_link links[PROXY_MAX_LINKS]; /* connections being relayed */
};

static void close_link(relay_link *l, int reset)
{
    for (int i = 0; i < 2; i++) {
        if (l->fd[i] < 0)
            continue;
        if (reset) {
            /* Linger 0: close() sends RST instead of FIN. */
            struct linger lg = {1, 0};
            setsockopt(l->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(l->fd[i]);
        l->fd[i] = -1;
    }
    l->len[0] = l->len[1] = l->off[0] = l->off[1] = 0;
}

static void accept_one(tcpproxy *p)
{
    int in = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (in < 0)
        return;
    int out = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->target_port)};
    to.sin_addr.s_addr = htonl(cluster_host_addr());
    relay_link *l = NULL;
    for (int i = 0; i < PROXY_MAX_LINKS && !l; i++)
        if (p->links[i].fd[0] < 0)
            l = &p->links[i];
    if (out < 0 || !l || connect(out, (struct sockaddr *)&to, sizeof to) != 0) {
        close(in);
        if (out >= 0)
            close(out);
        return;
    }
    l->fd[0] = in;
    l->fd[1] = out;
}

/* Move bytes for one direction of a link that poll() says is ready. Returns -1 when the
 * link is finished. */
static int pump(relay_link *l, int i, short revents_from, short revents_to)
{
    if (l->len[i] == 0 && (revents_from & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read(l->fd[i], l->buf[i], PROXY_BUF);
        if (n <= 0)
            return -1;
        l->len[i] = (size_t)n;
        l->off[i] = 0;
    }
    if (l->len[i] > l->off[i] && (revents_to & POLLOUT)) {
        ssize_t n = write(l->fd[1 - i], l->buf[i] + l->off[i], l->len[i] - l->off[i]);
        if (n <= 0)
            return -1;
        l->off[i] += (size_t)n;
        if (l->off[i] == l->len[i])
            l->len[i] = l->off[i] = 0;
    }
    return 0;
}

static void *relay(void *arg)
{
    tcpproxy *p = arg;
    for (;;) {
        struct pollfd fds[2 + 2 * PROXY_MAX_LINKS];
        int map[2 + 2 * PROXY_MAX_LINKS];
        int n = 0;
        fds[n++] = (struct pollfd){p->ctl[1], POLLIN, 0};
        fds[n++] = (struct pollfd){p->listen_fd, POLLIN, 0};
        for (int k = 0; k < PROXY_MAX_LINKS; k++) {
            relay_link *l = &p->links[k];
            if (l->fd[0] < 0)
                continue;
            for (int i = 0; i < 2; i++) {
                short ev = 0;
                if (l->len[i] == 0)
                    ev |= POLLIN;
                if (l->len[1 - i] > l->off[1 - i])
                    ev |= POLLOUT;
                map[n] = k;
                fds[n++] = (struct pollfd){l->fd[i], ev, 0};
            }
        }
        if (poll(fds, (nfds_t)n, -1) < 0)
            continue;
        if (fds[0].revents & POLLIN) {
            char cmd;
            if (read(p->ctl[1], &cmd, 1) != 1 || cmd == 'q')
                break;
            int count = 0;
            for (int k = 0; k < PROXY_MAX_LINKS; k++)
                if (p->links[k].fd[0] >= 0) {
                    close_link(&p->links[k], 1);
                    count++;
                }
            if (write(p->ctl[1], &count, sizeof count) != sizeof count)
                break;
            continue; /* the descriptors polled are closed now */
        }
        if (fds[1].revents & POLLIN)
            accept_one(p);
        for (int j = 2; j < n; j += 2) {
            relay_link *l = &p->links[map[j]];
            if (l->fd[0] < 0)
                continue;
            if (pump(l, 0, fds[j].revents, fds[j + 1].revents) < 0 ||
                pump(l, 1, fds[j + 1].revents, fds[j].revents) < 0)
                close_link(l, 0);
        }
    }
    return NULL;
}

tcpproxy *tcpproxy_start(int target_port)
{
    tcpproxy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    for (int k = 0; k < PROXY_MAX_LINKS; k++)
        p->links[k].fd[0] = p->links[k].fd[1] = -1;
    p->target_port = target_port;
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(cluster_host_addr());
    socklen_t len = sizeof addr;
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(p->listen_fd, 64) != 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&addr, &len) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->ctl) != 0) {
        if (p->listen_fd >= 0)
            close(p->listen_fd);
        free(p);
        return NULL;
    }
    p->port = ntohs(addr.sin_port);
    if (pthread_create(&p->thread, NULL, relay, p) != 0) {
        close(p->listen_fd);
        close(p->ctl[0]);
        close(p->ctl[1]);
        free(p);
        return NULL;
    }
    return p;
}

int tcpproxy_port(const tcpproxy *p)
{
    return p->port;
}

int tcpproxy_reset_all(tcpproxy *p)
{
    int count = -1;
    if (write(p->ctl[0], "r", 1) != 1 || read(p->ctl[0], &count, sizeof count) != sizeof count)
        return -1;
    return count;
}

void tcpproxy_stop(tcpproxy **proxy)
{
    if (!proxy || !*proxy)
        return;
    tcpproxy *p = *proxy;
    if (write(p->ctl[0], "q", 1) == 1)
        pthread_join(p->thread, NULL);
    for (int k = 0; k < PROXY_MAX_LINKS; k++)
        close_link(&p->links[k], 0);
    close(p->listen_fd);
    close(p->ctl[0]);
    close(p->ctl[1]);
    free(p);
    *proxy = NULL;
}
