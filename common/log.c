/* log: see log.h. Lines are formatted into one buffer and written with a single write(2),
 * so lines from threads and processes sharing a terminal do not interleave mid-line. */
#include "common/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

static const char *log_program = "p2c2r";
static int log_level = P2C2R_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int p2c2r__log_parse_level(const char *name)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void p2c2r__log_init(const char *program, enum p2c2r_log_level level)
{
    log_program = program;
    log_level = (int)level;
    const char *env = getenv("P2C2R_LOG");
    if (env && p2c2r__log_parse_level(env) >= 0)
        log_level = p2c2r__log_parse_level(env);
}

int p2c2r__log_enabled(enum p2c2r_log_level level)
{
    return (int)level <= log_level;
}

/* Format and write one line; suffix (may be "") goes after the message. */
static void log_line(enum p2c2r_log_level level, const char *suffix, const char *fmt, va_list ap)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n =
        snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %s[%d] %s: ", tm.tm_hour, tm.tm_min,
                 tm.tm_sec, ts.tv_nsec / 1000000, log_program, (int)getpid(), level_names[level]);
    if (n >= 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s", suffix);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nowhere to report a failing stderr */
}

void p2c2r__log(enum p2c2r_log_level level, const char *fmt, ...)
{
    if (!p2c2r__log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, "", fmt, ap);
    va_end(ap);
}

void p2c2r__log_limited(p2c2r_log_limit *limit, enum p2c2r_log_level level, const char *fmt, ...)
{
    if (!p2c2r__log_enabled(level))
        return;
    uint64_t now = p2c2r__now_us();
    uint64_t next = atomic_load(&limit->next_us);
    /* One thread wins the right to print for this second; the others count themselves. */
    if (now < next || !atomic_compare_exchange_strong(&limit->next_us, &next, now + 1000000u)) {
        atomic_fetch_add(&limit->suppressed, 1);
        return;
    }
    uint64_t dropped = atomic_exchange(&limit->suppressed, 0);
    char suffix[64] = "";
    if (dropped)
        snprintf(suffix, sizeof suffix, " (and %" PRIu64 " more like it)", dropped);
    va_list ap;
    va_start(ap, fmt);
    log_line(level, suffix, fmt, ap);
    va_end(ap);
}
