/* task_fuzz: p2c2r__task_validate(), the checks every hop applies to a SUBMIT (and an
 * ASSIGN) before anything else reads it, on whatever p2c2r__envelope_decode() accepts.
 *
 * Each input is tried with payload sizes at and around the limits. A refusal must carry a
 * documented code and an explanation; an acceptance must mean what task.h promises the
 * code after it may rely on, which is checked here independently of task.c: a known kind,
 * a deadline of 1 us .. 1 hour, a payload within 64 MiB, parameters present for the kinds
 * that need them, and, for upscale, in-range parameters and an output within the image
 * limits. */
#include <string.h>

#include "common/envelope.h"
#include "common/image.h"
#include "common/task.h"
#include "fuzz.h"

static int known_codec(int codec)
{
    return codec == P2C2R__WIRE__CODEC__CODEC_RAW || codec == P2C2R__WIRE__CODEC__CODEC_JPEG ||
           codec == P2C2R__WIRE__CODEC__CODEC_ZSTD;
}

/* What an accepted upscale task guarantees. */
static void check_upscale(const p2c2r_envelope *env, size_t payload_size)
{
    const P2c2r__Wire__Frame *in = env->frame;
    const P2c2r__Wire__UpscaleParams *up = env->upscale;
    FUZZ_CHECK(in && up);
    FUZZ_CHECK(payload_size > 0);
    FUZZ_CHECK(known_codec((int)in->codec));
    FUZZ_CHECK(up->scale >= 1 && up->scale <= P2C2R_SCALE_MAX);
    FUZZ_CHECK((int)up->mode >= 0 && (int)up->mode <= P2C2R__WIRE__UPSCALE_MODE__QUALITY);
    FUZZ_CHECK(up->output_codec == P2C2R__WIRE__CODEC__CODEC_UNSPECIFIED ||
               known_codec((int)up->output_codec));
    FUZZ_CHECK(up->jpeg_quality <= 100);
    if (in->codec != P2C2R__WIRE__CODEC__CODEC_JPEG) {
        /* Raw pixels: a real format and size, whose packed size is computable. */
        FUZZ_CHECK(
            p2c2r__image_raw_size((p2c2r_pixel_format)in->pixel_format, in->width, in->height) > 0);
    }
    uint64_t ow = (uint64_t)in->width * up->scale, oh = (uint64_t)in->height * up->scale;
    FUZZ_CHECK(ow <= P2C2R_IMAGE_MAX_SIDE && oh <= P2C2R_IMAGE_MAX_SIDE);
    FUZZ_CHECK(ow * oh <= P2C2R_IMAGE_MAX_PIXELS);
}

static void validate(const p2c2r_envelope *env, size_t payload_size)
{
    const char *detail = NULL;
    int rc = p2c2r__task_validate(env, payload_size, &detail);
    FUZZ_CHECK(detail != NULL);
    if (rc != P2C2R_OK) {
        FUZZ_CHECK(rc == P2C2R_E_UNSUPPORTED || rc == P2C2R_E_INVAL || rc == P2C2R_E_TOOBIG ||
                   rc == P2C2R_E_BADINPUT);
        FUZZ_CHECK(detail[0] != '\0');
        return;
    }
    int kind = p2c2r__task_kind_lookup(env->kind);
    FUZZ_CHECK(kind >= 0 && kind < P2C2R_KIND_COUNT);
    FUZZ_CHECK(strcmp(p2c2r__task_kind_name(kind), env->kind) == 0);
    FUZZ_CHECK(env->deadline_us >= 1 && env->deadline_us <= P2C2R_DEADLINE_MAX_US);
    FUZZ_CHECK(payload_size <= P2C2R_PAYLOAD_MAX_BYTES);
    FUZZ_CHECK(!env->needs || env->needs->runtime == P2C2R__WIRE__RUNTIME__RUNTIME_ANY ||
               env->needs->runtime == P2C2R__WIRE__RUNTIME__RUNTIME_CPU ||
               env->needs->runtime == P2C2R__WIRE__RUNTIME__RUNTIME_CUDA);
    if (kind == P2C2R_KIND_SLEEP)
        FUZZ_CHECK(env->sleep && env->sleep->ms <= P2C2R_SLEEP_MAX_MS);
    if (kind == P2C2R_KIND_UPSCALE)
        check_upscale(env, payload_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    p2c2r_envelope *env = NULL;
    if (p2c2r__envelope_decode(data, size, &env) != P2C2R_OK)
        return 0;
    static const size_t payload_sizes[] = {
        0, 1, 4096, P2C2R_PAYLOAD_MAX_BYTES, P2C2R_PAYLOAD_MAX_BYTES + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof payload_sizes / sizeof payload_sizes[0]; i++)
        validate(env, payload_sizes[i]);
    /* The size of the raw frame the envelope describes, as a client would send. */
    if (env->frame)
        validate(env, p2c2r__image_raw_size((p2c2r_pixel_format)env->frame->pixel_format,
                                            env->frame->width, env->frame->height));
    p2c2r__envelope_free(&env);
    return 0;
}
