/* client_internal: what the SDK's own tests reach beyond the public API. Not exported from
 * libp2c2r.so (only p2c2r_* names are); tests link the SDK's static library. */
#ifndef P2C2R_CLIENT_INTERNAL_H
#define P2C2R_CLIENT_INTERNAL_H

#include "p2c2r.h"

/* Make the client's I/O thread fail as if its network had (an error it cannot go on
 * from), to test that every task it held still ends. */
void p2c2r__client_inject_io_failure(p2c2r_client *client);

#endif /* P2C2R_CLIENT_INTERNAL_H */
