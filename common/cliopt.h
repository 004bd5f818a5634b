/* cliopt: command-line helpers shared by the coordinator and peer programs, so both
 * parse numbers and log levels the same way and say the same thing about bad values. */
#ifndef P2C2R_CLIOPT_H
#define P2C2R_CLIOPT_H

#include <stdint.h>

/* Parse a whole number in [min, max] for the option `flag`. On bad input prints
 * "PROGRAM: FLAG needs ..." to stderr and returns -1; otherwise stores it and returns 0. */
int p2c2r__cliopt_u32(const char *program, const char *flag, const char *text, uint32_t min,
                      uint32_t max, uint32_t *out);

/* Parse a --log-level value; prints an error and returns -1 for an unknown one. */
int p2c2r__cliopt_log_level(const char *program, const char *text, int *level);

#endif /* P2C2R_CLIOPT_H */
