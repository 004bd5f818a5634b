/* cliopt: see cliopt.h. */
#include "common/cliopt.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

int p2c2r__cliopt_u32(const char *program, const char *flag, const char *text, uint32_t min,
                      uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (*text == '\0' || *text == '-' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: %s needs a whole number in %u..%u, not '%s'\n", program, flag, min,
                max, text);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int p2c2r__cliopt_log_level(const char *program, const char *text, int *level)
{
    int parsed = p2c2r__log_parse_level(text);
    if (parsed < 0) {
        fprintf(stderr, "%s: unknown log level '%s' (error, warn, info, debug)\n", program, text);
        return -1;
    }
    *level = parsed;
    return 0;
}
