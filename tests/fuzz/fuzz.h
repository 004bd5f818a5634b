/* fuzz: what every fuzz target in this folder shares.
 *
 * A target is one file defining LLVMFuzzerTestOneInput(), the entry point of libFuzzer
 * (https://llvm.org/docs/LibFuzzer.html). The same file builds two ways:
 *   - with clang and -Dfuzzing=true, linked with -fsanitize=fuzzer: libFuzzer drives it,
 *     guided by coverage, under AddressSanitizer and UndefinedBehaviorSanitizer;
 *   - in the default (gcc) build, linked with driver.c, which runs the seeds and a fixed
 *     number of seeded random mutations of them, so that the `fuzz` suite runs everywhere.
 * A target checks what the code under test promises (its return codes, the consistency of
 * what it returns) with FUZZ_CHECK, which aborts: to both drivers an abort is a crash,
 * kept as a reproducer.
 */
#ifndef P2C2R_FUZZ_H
#define P2C2R_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(expr)                                                                           \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #expr);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif /* P2C2R_FUZZ_H */
