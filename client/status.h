/* status: `p2c2r status`, the state of a running cluster from its coordinator's /status
 * page (coordinator/metrics.h): its peers and the latency of each kind of task, as a table
 * or as JSON. */
#ifndef P2C2R_CLIENT_STATUS_H
#define P2C2R_CLIENT_STATUS_H

/* argv[0] is "status". Returns the exit status. */
int cli_status_main(int argc, char **argv);

#endif /* P2C2R_CLIENT_STATUS_H */
