/* cliutil: what the p2c2r commands share: parsing numbers and modes the same way, the
 * clock, percentiles of latencies. Only the public SDK header, like the commands. */
#ifndef P2C2R_CLIENT_CLIUTIL_H
#define P2C2R_CLIENT_CLIUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "p2c2r.h"

/* Parse a whole number in [min, max] for `flag`; on bad input prints
 * "p2c2r: FLAG needs ..." and returns -1. */
int cli_parse_u32(const char *text, const char *flag, uint32_t min, uint32_t max, uint32_t *out);
/* Parse a mode name (fast, bicubic, lanczos, quality); prints an error and returns -1 for
 * another. */
int cli_parse_mode(const char *text, p2c2r_mode *mode);
/* The name of a mode ("?" for none). */
const char *cli_mode_name(p2c2r_mode mode);
/* Seconds on the monotonic clock. */
double cli_now_s(void);
/* Sort n latencies in place and return the nearest-rank percentile p (0 when n is 0). */
void cli_sort(double *values, size_t n);
double cli_percentile(const double *sorted, size_t n, double p);

#endif /* P2C2R_CLIENT_CLIUTIL_H */
