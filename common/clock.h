/* clock: the monotonic clock every deadline and latency in the project is measured on. */
#ifndef P2C2R_CLOCK_H
#define P2C2R_CLOCK_H

#include <stdint.h>

/* Microseconds on CLOCK_MONOTONIC: never jumps, not shared between machines. */
uint64_t p2c2r__now_us(void);

#endif /* P2C2R_CLOCK_H */
