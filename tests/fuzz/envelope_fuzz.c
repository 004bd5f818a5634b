/* envelope_fuzz: p2c2r__envelope_decode() on any bytes, as every process meets them in
 * frame 1 of a message from the network.
 *
 * The decoder must refuse with one of its documented codes, or return an envelope that is
 * safe to read and that encodes again: what decodes, re-encoded and decoded again, gives
 * the same bytes (protobuf-c keeps unknown fields, so nothing is lost on the way). */
#include <string.h>

#include "common/envelope.h"
#include "fuzz.h"

/* Read every string of a decoded envelope, as the coordinator's logs do. */
static size_t read_strings(const p2c2r_envelope *env)
{
    size_t n = strlen(env->kind) + strlen(env->detail);
    if (env->peer) {
        n += strlen(env->peer->name) + strlen(env->peer->runtime) + strlen(env->peer->simd);
        for (size_t i = 0; i < env->peer->n_kinds; i++)
            n += strlen(env->peer->kinds[i]);
        for (size_t i = 0; i < env->peer->n_resident; i++)
            n += strlen(env->peer->resident[i]);
        for (size_t i = 0; i < env->peer->n_devices; i++)
            n += strlen(env->peer->devices[i]->name);
    }
    return n + strlen(p2c2r__envelope_type_name((int)env->type));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    p2c2r_envelope *env = NULL;
    int rc = p2c2r__envelope_decode(data, size, &env);
    FUZZ_CHECK(rc == P2C2R_OK || rc == P2C2R_E_PROTOCOL || rc == P2C2R_E_VERSION ||
               rc == P2C2R_E_TOOBIG);
    FUZZ_CHECK((rc == P2C2R_OK) == (env != NULL));
    FUZZ_CHECK(rc != P2C2R_E_TOOBIG || size > P2C2R_ENVELOPE_MAX_BYTES);
    if (!env)
        return 0;
    FUZZ_CHECK(env->version == P2C2R_PROTOCOL_VERSION);
    FUZZ_CHECK(env->type > P2C2R__WIRE__MSG_TYPE__MSG_TYPE_UNSPECIFIED &&
               env->type <= P2C2R_MSG_TYPE_LAST);
    (void)read_strings(env);

    zmq_msg_t once, twice;
    if (p2c2r__envelope_encode(env, &once) == P2C2R_OK) {
        p2c2r_envelope *again = NULL;
        FUZZ_CHECK(p2c2r__envelope_decode(zmq_msg_data(&once), zmq_msg_size(&once), &again) ==
                   P2C2R_OK);
        FUZZ_CHECK(p2c2r__envelope_encode(again, &twice) == P2C2R_OK);
        FUZZ_CHECK(zmq_msg_size(&twice) == zmq_msg_size(&once));
        FUZZ_CHECK(memcmp(zmq_msg_data(&twice), zmq_msg_data(&once), zmq_msg_size(&once)) == 0);
        zmq_msg_close(&twice);
        p2c2r__envelope_free(&again);
    }
    zmq_msg_close(&once);
    p2c2r__envelope_free(&env);
    FUZZ_CHECK(env == NULL);
    return 0;
}
