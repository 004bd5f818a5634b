/* keys: the SDK's CurveZMQ key functions (p2c2r.h), over common/curve.h so that the
 * coordinator, the peer and games read the same files the same way. */
#include <string.h>

#include "common/curve.h"
#include "common/log.h"
#include "p2c2r.h"

int p2c2r_keygen(const char *name)
{
    char why[512];
    if (!name || !name[0])
        return P2C2R_E_INVAL;
    int rc = p2c2r__curve_keygen(name, why, sizeof why);
    if (rc != P2C2R_OK)
        log_debug("keygen: %s", why);
    return rc;
}

int p2c2r_key_load(const char *source, char public_key[P2C2R_KEY_SIZE],
                   char secret_key[P2C2R_KEY_SIZE])
{
    char why[512];
    if (!source || !public_key)
        return P2C2R_E_INVAL;
    if (!p2c2r__curve_available())
        return P2C2R_E_UNSUPPORTED;
    int rc = secret_key ? p2c2r__curve_load(source, public_key, secret_key, why, sizeof why)
                        : p2c2r__curve_public(source, public_key, why, sizeof why);
    if (rc != P2C2R_OK)
        log_debug("key %s: %s", source, why);
    return rc;
}
