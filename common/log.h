/* log: one-line, timestamped logs on stderr for the coordinator and peers.
 *
 * The level comes from p2c2r__log_init() or the P2C2R_LOG environment variable
 * (error, warn, info, debug). Each line names the program, so the interleaved output of a
 * local cluster stays readable. */
#ifndef P2C2R_LOG_H
#define P2C2R_LOG_H

#include <stdatomic.h>
#include <stdint.h>

enum p2c2r_log_level {
    P2C2R_LOG_ERROR = 0,
    P2C2R_LOG_WARN = 1,
    P2C2R_LOG_INFO = 2,
    P2C2R_LOG_DEBUG = 3,
};

/* Set the program name printed on each line and the default level (P2C2R_LOG overrides). */
void p2c2r__log_init(const char *program, enum p2c2r_log_level level);
/* Parse a level name; returns -1 for an unknown one. */
int p2c2r__log_parse_level(const char *name);
int p2c2r__log_enabled(enum p2c2r_log_level level);
void p2c2r__log(enum p2c2r_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* State of one rate-limited log line (one per call site, zero-initialised). */
typedef struct p2c2r_log_limit {
    _Atomic uint64_t next_us;    /* earliest time the next line may be printed */
    _Atomic uint64_t suppressed; /* lines dropped since the last one printed */
} p2c2r_log_limit;

/* Print at most one line per second through this limit; the next line printed says how
 * many were dropped in between. For events a misbehaving peer or client can repeat at
 * will, so that logs grow with time, not with traffic. Thread-safe. */
void p2c2r__log_limited(p2c2r_log_limit *limit, enum p2c2r_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_limited(level, ...)                                                                    \
    do {                                                                                           \
        static p2c2r_log_limit log_limit_;                                                         \
        if (p2c2r__log_enabled(level))                                                             \
            p2c2r__log_limited(&log_limit_, level, __VA_ARGS__);                                   \
    } while (0)

#define log_error(...) p2c2r__log(P2C2R_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  p2c2r__log(P2C2R_LOG_WARN, __VA_ARGS__)
#define log_info(...)  p2c2r__log(P2C2R_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (p2c2r__log_enabled(P2C2R_LOG_DEBUG))                                                   \
            p2c2r__log(P2C2R_LOG_DEBUG, __VA_ARGS__);                                              \
    } while (0)

#endif /* P2C2R_LOG_H */
