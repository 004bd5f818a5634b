/* p2c2r_error.h: the project's one error table.
 *
 * Dependency-free and owned by common/: the coordinator, peers and the SDK all use it, and
 * the codes travel on the wire (Envelope.status), so they must mean one thing everywhere.
 * The SDK's public header p2c2r.h includes it; it is installed beside it.
 *
 * P2C2R_OK is 0 and errors are negative. The numbers never change: add new codes at the
 * end. XX(NAME, code, message).
 */
#ifndef P2C2R_ERROR_H
#define P2C2R_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define P2C2R_ERROR_MAP(XX)                                                                        \
    XX(NOMEM, -1, "out of memory")                                                                 \
    XX(INVAL, -2, "invalid argument")                                                              \
    XX(BADINPUT, -3, "bad input data")                                                             \
    XX(DEADLINE, -4, "deadline passed before the task could finish")                               \
    XX(BUSY, -5, "no capacity: queue or submit window full")                                       \
    XX(TIMEOUT, -6, "timed out")                                                                   \
    XX(PROTOCOL, -7, "malformed or unexpected message")                                            \
    XX(VERSION, -8, "protocol version mismatch")                                                   \
    XX(UNSUPPORTED, -9, "unsupported task kind, codec, pixel format or mode")                      \
    XX(TOOBIG, -10, "size limit exceeded")                                                         \
    XX(IO, -11, "I/O or network failure")                                                          \
    XX(CODEC, -12, "image encoder or decoder failure")                                             \
    XX(PEERLOST, -13, "peer lost while running the task")                                          \
    XX(UNKNOWNPEER, -14, "peer is not registered with the coordinator")                            \
    XX(CLOSED, -15, "client is shutting down")                                                     \
    XX(INTERNAL, -16, "internal error")                                                            \
    XX(COORDLOST, -17, "coordinator restarted or unreachable before the task finished")            \
    XX(CANCELLED, -18, "cancelled by the client")                                                  \
    XX(DENIED, -19, "not allowed for this key")

typedef enum p2c2r_error {
    P2C2R_OK = 0,
#define P2C2R_XX_ENUM(name, code, msg) P2C2R_E_##name = (code),
    P2C2R_ERROR_MAP(P2C2R_XX_ENUM)
#undef P2C2R_XX_ENUM
} p2c2r_error;

/* A short English description of an error code; never NULL. */
const char *p2c2r_strerror(int err);
/* The symbolic name of an error code ("P2C2R_E_DEADLINE"); never NULL. */
const char *p2c2r_errname(int err);

#ifdef __cplusplus
}
#endif
#endif /* P2C2R_ERROR_H */
