/* params: what a task asks of its peer, kept in a few words while it waits.
 *
 * A decoded SUBMIT is a tree of protobuf-c allocations: the envelope, its kind string and
 * one block per submessage, several hundred bytes in all. A queue of 100,000 tasks would
 * hold tens of megabytes of them. The coordinator keeps only the fields it forwards in
 * the ASSIGN and checks the result against, as plain numbers, and builds the wire
 * structures again on the stack when it sends or checks.
 */
#ifndef P2C2R_COORD_PARAMS_H
#define P2C2R_COORD_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/envelope.h"

typedef struct coord_params {
    int kind;          /* common/task.h kind index */
    uint32_t priority; /* larger runs first */
    bool has_frame;    /* the SUBMIT described its payload */
    bool has_upscale;  /* ... carried upscale parameters */
    bool has_sleep;    /* ... carried sleep parameters */
    bool has_needs;    /* ... stated what it needs of its peer */
    uint32_t codec;    /* Frame */
    uint32_t pixel_format;
    uint32_t width, height;
    uint32_t scale; /* UpscaleParams */
    uint32_t mode;
    uint32_t output_codec;
    uint32_t jpeg_quality;
    uint32_t output_format;
    uint32_t sleep_ms; /* SleepParams */
    uint32_t runtime;  /* TaskNeeds */
    uint64_t memory_bytes;
} coord_params;

/* The wire structures built from a coord_params: env points into the view, which must
 * outlive every use of env. */
typedef struct coord_params_view {
    p2c2r_envelope env;
    P2c2r__Wire__Frame frame;
    P2c2r__Wire__UpscaleParams upscale;
    P2c2r__Wire__SleepParams sleep;
    P2c2r__Wire__TaskNeeds needs;
} coord_params_view;

/* Keep what a validated SUBMIT asks for; kind is its common/task.h index. */
void coord_params_keep(coord_params *params, int kind, const p2c2r_envelope *submit);

/* The parameters in the canonical bytes the result cache compares (cache.h): equal tasks
 * give equal bytes. Returns how many were written to out (at most COORD_PARAMS_KEY_MAX). */
#define COORD_PARAMS_KEY_MAX 64
size_t coord_params_key(const coord_params *params, uint8_t out[COORD_PARAMS_KEY_MAX]);

/* An envelope of type with the kept fields set (kind, priority, frame, upscale, sleep,
 * needs), the rest as p2c2r__envelope_init() leaves it. */
p2c2r_envelope *coord_params_view_of(const coord_params *params, P2c2r__Wire__MsgType type,
                                     coord_params_view *view);

#endif /* P2C2R_COORD_PARAMS_H */
