/* testutil: small helpers shared by the test executables.
 *
 * Each test is one executable; CHECK() reports the failing expression with its location
 * and makes the test exit 1 at the end, so one run shows every failure. A test that cannot
 * run here (no GPU) exits 77, which meson reports as skipped.
 */
#ifndef P2C2R_TESTUTIL_H
#define P2C2R_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/image.h"

extern int testutil_failures;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);               \
            testutil_failures++;                                                                   \
        }                                                                                          \
    } while (0)

/* CHECK that an int-returning call gives `want`, printing both codes when it does not. */
#define CHECK_RC(call, want)                                                                       \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %d\n", __FILE__, __LINE__, #call,  \
                    rc_, p2c2r_errname(rc_), (int)(want));                                         \
            testutil_failures++;                                                                   \
        }                                                                                          \
    } while (0)

/* Print a pass/fail line for the test and return its exit code. */
int testutil_finish(const char *name);

/* Read a whole file into a malloc'd buffer. Returns NULL (and prints why) on failure. */
uint8_t *testutil_read_file(const char *path, size_t *size);

/* Path of a file under tests/data (the build passes the directory as P2C2R_TEST_DATA).
 * Returns a static buffer. */
const char *testutil_data_path(const char *name);

/* PSNR in dB of two equally sized planes (infinity when identical, -1 on a size mismatch). */
double testutil_psnr_plane(const p2c2r_plane *a, const p2c2r_plane *b);

/* Double-precision bilinear resampling of src into dst with the convention of
 * common/upscale/upscale.h (pixel centres aligned, edges clamped), rounded to nearest. Written
 * independently of the kernels so tests have a reference that is obviously right. */
void testutil_bilinear_reference(const p2c2r_plane *src, p2c2r_plane *dst);

/* Path of a real photograph of the given size from Debian's plasma-workspace-wallpapers
 * (a project dependency), e.g. testutil_wallpaper("1920x1080"); index picks among them.
 * Returns a static buffer, or NULL (after printing why) when there is none. */
const char *testutil_wallpaper(const char *size, int index);

/* A w x h 4:2:0 image from the middle of the JPEG picture at path (a wallpaper's
 * "1920x1080.jpg" holds a 2560x1600 picture): luma copied, chroma point sampled. 0, or -1
 * when it cannot be read, is not YCbCr or is smaller than w x h. */
int testutil_middle_420(const char *path, uint32_t w, uint32_t h, p2c2r_jpeg *jpeg,
                        p2c2r_image *orig);

/* Make an empty file from a mkstemp() template ("/tmp/p2c2r-log-XXXXXX", changed in
 * place), for a log to be read afterwards. Returns 0, or -1 after printing why. */
int testutil_temp_file(char *tmpl);

/* A task with this id has ended: its index among the n ids submitted, marked in seen[].
 * CHECKs that it is one of them and had not ended before (every task ends exactly once);
 * -1 when it is unknown. */
int testutil_task_ended(const uint64_t *ids, int *seen, int n, uint64_t id);

/* Lines of a text file (a log) that contain needle (NULL: all lines); -1 if unreadable. */
int testutil_count_lines(const char *path, const char *needle);
/* Wait up to timeout_ms until the file has at least n lines with needle: 0, or -1 after
 * printing what was missing. For a process's log that says when something happened. */
int testutil_await_lines(const char *path, const char *needle, int n, int timeout_ms);
/* The number written just before needle on the last line of the file that has it, or -1:
 * reads figures such as "12 task(s) admitted" from a log. */
long testutil_number_before(const char *path, const char *needle);

/* Deterministic xorshift PRNG so failures reproduce. */
uint64_t testutil_rand(uint64_t *state);

/* A "Vm...:" line of /proc/PID/status (field e.g. "VmRSS:"), in kB; -1 when unreadable. */
long testutil_proc_kb(pid_t pid, const char *field);

/* utime + stime of a process in clock ticks (sysconf(_SC_CLK_TCK) a second); 0 when
 * unreadable. */
uint64_t testutil_cpu_ticks(pid_t pid);

#endif /* P2C2R_TESTUTIL_H */
