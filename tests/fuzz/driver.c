/* driver: runs a libFuzzer target without libFuzzer, for compilers that have none (gcc).
 *
 *   NAME_fuzz [-iters N] [-seed S] CORPUS...
 *
 * Every file of each CORPUS (a file or a folder of files) runs once as it is, then N
 * mutations of them (default 20000): bit flips, boundary bytes and words, deletions,
 * insertions, duplicated chunks, truncation, and splices of two inputs. No coverage guides
 * it, unlike libFuzzer, but the PRNG is seeded, so a run repeats exactly, and run under
 * the sanitizer build it catches out-of-bounds accesses at the faulting byte. When the
 * target crashes (a FUZZ_CHECK, a signal, a sanitizer report) the input is first written
 * to crash-NAME in the working folder, to feed back to the target by hand or to libFuzzer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_INPUTS 4096

static uint8_t *inputs[MAX_INPUTS]; /* the corpus, read once */
static size_t sizes[MAX_INPUTS];    /* bytes of each input */
static size_t ninputs;              /* how many were read */

static char crash_path[256];   /* where the running input goes when the target crashes */
static const uint8_t *running; /* the input the target is running */
static size_t running_size;    /* its size */

/* Sanitizer runtimes (gcc's and clang's) call this, when present, before they exit on a
 * report; weak, so that the plain build links without them. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void save_running(void)
{
    if (!running)
        return;
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t n = write(fd, running, running_size);
        (void)n;
        close(fd);
    }
    static const char msg[] = "driver: the crashing input is in ";
    ssize_t n = write(2, msg, sizeof msg - 1);
    n = write(2, crash_path, strlen(crash_path));
    n = write(2, "\n", 1);
    (void)n;
    running = NULL;
}

static void on_signal(int sig)
{
    save_running();
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t rng = 0x5eed;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? rng % n : 0;
}

static void add_input(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "driver: cannot read %s\n", path);
        exit(2);
    }
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0, n;
    do {
        if (size == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            FUZZ_CHECK(buf != NULL);
        }
        n = fread(buf + size, 1, cap - size, f);
        size += n;
    } while (n > 0);
    fclose(f);
    if (ninputs == MAX_INPUTS) {
        fprintf(stderr, "driver: more than %d inputs\n", MAX_INPUTS);
        exit(2);
    }
    inputs[ninputs] = buf;
    sizes[ninputs++] = size;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* A file, or every file of a folder in name order (so that runs repeat). */
static void add_corpus(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "driver: no corpus at %s\n", path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_input(path);
        return;
    }
    struct dirent **names;
    int n = scandir(path, &names, NULL, by_name);
    FUZZ_CHECK(n >= 0);
    for (int i = 0; i < n; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
        if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
            add_input(file);
        free(names[i]);
    }
    free(names);
}

static void run(const uint8_t *data, size_t size)
{
    running = data;
    running_size = size;
    LLVMFuzzerTestOneInput(data, size);
    running = NULL;
}

/* Mutate a copy of a random input into buf (cap bytes); returns its size. */
static size_t mutate(uint8_t *buf, size_t cap)
{
    size_t pick = (size_t)rnd(ninputs);
    size_t n = sizes[pick] < cap ? sizes[pick] : cap;
    memcpy(buf, inputs[pick], n);
    static const uint32_t boundary[] = {0,      1,      0x7f,       0x80,      0xff,
                                        0x7fff, 0xffff, 0x7fffffff, 0xffffffff};
    int edits = 1 + (int)rnd(8);
    for (int e = 0; e < edits; e++) {
        size_t at = (size_t)rnd(n + 1), len = 1 + (size_t)rnd(16);
        switch (rnd(8)) {
        case 0: /* flip a bit */
            if (at < n)
                buf[at] ^= (uint8_t)(1u << rnd(8));
            break;
        case 1: /* a boundary value, 1, 2 or 4 bytes, either byte order */
            for (size_t i = 0, w = 1u << rnd(3), v = boundary[rnd(9)]; i < w && at + i < n; i++)
                buf[at + i] = (uint8_t)(rnd(2) ? v >> (8 * i) : v >> (8 * (w - 1 - i)));
            break;
        case 2: /* truncate */
            n = at;
            break;
        case 3: /* delete a run */
            if (at < n) {
                len = len < n - at ? len : n - at;
                memmove(buf + at, buf + at + len, n - at - len);
                n -= len;
            }
            break;
        case 4: /* insert random bytes */
            len = len < cap - n ? len : cap - n;
            memmove(buf + at + len, buf + at, n - at);
            for (size_t i = 0; i < len; i++)
                buf[at + i] = (uint8_t)rnd(256);
            n += len;
            break;
        case 5: /* duplicate a chunk of the input elsewhere in it */
            if (n > 0) {
                size_t from = (size_t)rnd(n);
                len = len < n - from ? len : n - from;
                len = len < cap - n ? len : cap - n;
                memmove(buf + at + len, buf + at, n - at);
                memmove(buf + at, buf + (from < at ? from : from + len), len);
                n += len;
            }
            break;
        case 6: { /* splice: keep the head, take the tail of another input */
            size_t other = (size_t)rnd(ninputs), from = (size_t)rnd(sizes[other] + 1);
            size_t tail = sizes[other] - from < cap - at ? sizes[other] - from : cap - at;
            if (at <= n) {
                memcpy(buf + at, inputs[other] + from, tail);
                n = at + tail;
            }
            break;
        }
        default: /* overwrite with a random byte */
            if (at < n)
                buf[at] = (uint8_t)rnd(256);
            break;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    long iters = 20000;
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-iters") == 0)
            iters = atol(argv[i + 1]);
        else if (strcmp(argv[i], "-seed") == 0)
            rng = strtoull(argv[i + 1], NULL, 0) | 1;
        else
            break;
    }
    if (i >= argc || argv[i][0] == '-') {
        fprintf(stderr, "usage: %s [-iters N] [-seed S] CORPUS...\n", name);
        return 2;
    }
    for (; i < argc; i++)
        add_corpus(argv[i]);
    if (ninputs == 0) {
        fprintf(stderr, "%s: the corpus is empty\n", name);
        return 2;
    }

    snprintf(crash_path, sizeof crash_path, "crash-%s", name);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(save_running);
    static const int signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t s = 0; s < sizeof signals / sizeof signals[0]; s++)
        signal(signals[s], on_signal);

    size_t cap = 64;
    for (size_t k = 0; k < ninputs; k++) {
        run(inputs[k], sizes[k]);
        cap = sizes[k] + 64 > cap ? sizes[k] + 64 : cap;
    }
    uint8_t *buf = malloc(cap);
    FUZZ_CHECK(buf != NULL);
    for (long k = 0; k < iters; k++) {
        size_t n = mutate(buf, cap);
        /* A copy of exactly n bytes, so that a read past the end is caught. */
        uint8_t *exact = malloc(n ? n : 1);
        FUZZ_CHECK(exact != NULL);
        memcpy(exact, buf, n);
        run(exact, n);
        free(exact);
    }
    free(buf);
    for (size_t k = 0; k < ninputs; k++)
        free(inputs[k]);
    printf("%s: %zu inputs, %ld mutations, no crash\n", name, ninputs, iters);
    return 0;
}
