/* error: names and messages for the error table in p2c2r_error.h.
 *
 * The table itself is the X-macro P2C2R_ERROR_MAP, so the enum, the strings here and the
 * codes on the wire cannot drift apart. */
#include "p2c2r_error.h"

const char *p2c2r_strerror(int err)
{
    switch (err) {
    case P2C2R_OK:
        return "success";
#define P2C2R_XX_MSG(name, code, msg)                                                              \
    case code:                                                                                     \
        return msg;
        P2C2R_ERROR_MAP(P2C2R_XX_MSG)
#undef P2C2R_XX_MSG
    }
    return "unknown error";
}

const char *p2c2r_errname(int err)
{
    switch (err) {
    case P2C2R_OK:
        return "P2C2R_OK";
#define P2C2R_XX_NAME(name, code, msg)                                                             \
    case code:                                                                                     \
        return "P2C2R_E_" #name;
        P2C2R_ERROR_MAP(P2C2R_XX_NAME)
#undef P2C2R_XX_NAME
    }
    return "P2C2R_E_UNKNOWN";
}
