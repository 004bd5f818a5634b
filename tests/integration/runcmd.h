/* runcmd: shell command lines for the integration tests that drive other programs (ffmpeg,
 * the p2c2r CLI, the example game) and read what they print.
 */
#ifndef P2C2R_TEST_RUNCMD_H
#define P2C2R_TEST_RUNCMD_H

#include <sys/types.h>

/* Start `bash -o pipefail -c cmd` in the background; its pid, or -1. */
pid_t runcmd_start(const char *cmd);
/* Wait for it; its exit status, or -1 (not started, or killed by a signal). */
int runcmd_wait(pid_t pid);
/* Both: run cmd and return its exit status, or -1. */
int runcmd(const char *cmd);
/* The number right after key in a "key=value ..." line, or -1 when the key is not there. */
double runcmd_value(const char *line, const char *key);
/* The last line of a text file that starts with prefix, into line (size bytes); 0, or -1
 * when there is none. */
int runcmd_last_line(const char *path, const char *prefix, char *line, size_t size);

#endif /* P2C2R_TEST_RUNCMD_H */
