/* verify: what the coordinator checks about a task's input and about a peer's answer.
 *
 * Peers are not trusted to be right. Before a task is admitted its input is inspected as
 * far as it can be cheaply (a JPEG's header is parsed for its size and layout, raw and
 * zstd inputs declare theirs), which refuses unreadable input at once and tells the
 * coordinator what the output must be. Every RESULT is then held against that: the codec
 * asked for, the input's size times the scale, the pixel layout, a payload that is there
 * and within limits, and for JPEG a header that parses and says the right size (zstd: a
 * single frame declaring the right size; raw: the exact byte count; noop: the input echoed,
 * compared whole up to 64 KiB and at unpredictable places beyond). A result that fails is
 * a peer failure, never an answer.
 *
 * These checks are about shape, not pixels: a peer can still return a well-formed wrong
 * picture. Catching that needs the same task re-run elsewhere and compared.
 */
#ifndef P2C2R_COORD_VERIFY_H
#define P2C2R_COORD_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"

/* What the coordinator knows of a task's input. */
typedef struct coord_input {
    int kind;                  /* common/task.h kind index */
    uint32_t width, height;    /* image size (upscale), 0 for other kinds */
    p2c2r_pixel_format format; /* image layout (upscale) */
    uint64_t size;             /* pixels (upscale) or payload bytes (others): for estimates */
} coord_input;

typedef struct coord_verify coord_verify;

coord_verify *coord_verify_new(void);
/* Accepts NULL; sets *verify to NULL. */
void coord_verify_destroy(coord_verify **verify);

/* Inspect a validated SUBMIT's input (payload may be NULL when size is 0). On failure
 * returns the error for the client and points *detail at a static explanation. */
int coord_verify_input(coord_verify *verify, const p2c2r_envelope *env, const void *payload,
                       size_t size, coord_input *in, const char **detail);

/* Check a RESULT against its task. input/input_size: the task's payload. result_payload
 * may be NULL when the RESULT had none. P2C2R_OK or P2C2R_E_PROTOCOL with *detail. */
int coord_verify_result(coord_verify *verify, const p2c2r_envelope *task, const coord_input *in,
                        const void *input, size_t input_size, const p2c2r_envelope *result,
                        const void *result_payload, size_t result_size, bool has_payload,
                        const char **detail);

#endif /* P2C2R_COORD_VERIFY_H */
