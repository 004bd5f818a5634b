/* tcpproxy: a TCP relay on loopback that a test can cut, for integration tests.
 *
 * Peers connect to the proxy instead of the coordinator; the proxy opens a connection to
 * the coordinator for each one and copies bytes both ways. tcpproxy_reset_all() aborts
 * every relayed connection with a TCP reset on both sides, as a middlebox or a flaky
 * network would; new connections are relayed again at once. One thread does all of it.
 */
#ifndef P2C2R_TEST_TCPPROXY_H
#define P2C2R_TEST_TCPPROXY_H

typedef struct tcpproxy tcpproxy;

/* Listen on a free port of cluster_host() and relay to its target_port. NULL on failure. */
tcpproxy *tcpproxy_start(int target_port);
/* The port it listens on. */
int tcpproxy_port(const tcpproxy *proxy);
/* Reset every connection relayed now; returns how many there were. */
int tcpproxy_reset_all(tcpproxy *proxy);
/* Stop the thread, close everything. Accepts NULL; sets *proxy to NULL. */
void tcpproxy_stop(tcpproxy **proxy);

#endif /* P2C2R_TEST_TCPPROXY_H */
