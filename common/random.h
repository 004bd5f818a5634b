/* random: random identifiers for incarnations and sessions.
 *
 * A coordinator's instance, a peer's and a client's sender id must not repeat across
 * restarts (a restarted process must never be taken for its predecessor), so they come
 * from the kernel's generator rather than from a clock or a pid.
 */
#ifndef P2C2R_RANDOM_H
#define P2C2R_RANDOM_H

#include <stdint.h>

/* A random non-zero 64-bit number. */
uint64_t p2c2r__random_id(void);

#endif /* P2C2R_RANDOM_H */
