/* curve: CurveZMQ keys and the socket options that use them, shared by the coordinator,
 * the peer, the SDK and the CLI.
 *
 * Keys are 40-character Z85 strings (32 bytes). Key files are CZMQ's certificate format
 * (zcert: a ZPL text file with a "curve" section holding "public-key" and, in the secret
 * file, "secret-key"), so they can be read and made with CZMQ's own tools as well as
 * with `p2c2r keygen`. A keypair NAME is two files: NAME (public key only, to hand out)
 * and NAME_secret (both keys, mode 0600).
 *
 * libzmq may be built without CURVE (no libsodium or tweetnacl): every call that needs it
 * checks p2c2r__curve_available() and says so instead of failing later at connect time.
 */
#ifndef P2C2R_CURVE_H
#define P2C2R_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#define P2C2R_CURVE_KEY_LEN 40 /* characters of a Z85 key */

/* A Z85 key and its terminating NUL. */
typedef char p2c2r_curve_key[P2C2R_CURVE_KEY_LEN + 1];

/* Whether this libzmq speaks CURVE (zmq_has("curve")). */
bool p2c2r__curve_available(void);
/* The sentence to print when it does not. */
const char *p2c2r__curve_missing(void);

/* Whether text is a well-formed Z85 key: 40 characters that decode to 32 bytes. */
bool p2c2r__curve_key_valid(const char *text);

/* Make a new keypair and write it as NAME (public) and NAME_secret (mode 0600). P2C2R_OK,
 * or an error with a sentence in why. Refuses to overwrite existing files. */
int p2c2r__curve_keygen(const char *name, char *why, size_t why_size);

/* Read a key file. public_key is always filled; secret_key, when not NULL, must be in the
 * file, else P2C2R_E_INVAL and why says so. As zcert_load() does, NAME reads NAME_secret
 * when that exists beside it. */
int p2c2r__curve_load(const char *path, p2c2r_curve_key public_key, p2c2r_curve_key secret_key,
                      char *why, size_t why_size);

/* A public key given as a Z85 string or as a key file (either file of a pair). */
int p2c2r__curve_public(const char *file_or_z85, p2c2r_curve_key key, char *why, size_t why_size);

/* Make a socket (raw libzmq handle, before it connects) a CURVE client of the server
 * whose public key is server_key. P2C2R_E_UNSUPPORTED without CURVE, P2C2R_E_INVAL for a
 * malformed key. */
int p2c2r__curve_client_setup(void *sock, const char *public_key, const char *secret_key,
                              const char *server_key);
/* Make a socket (before it binds) a CURVE server whose connections are checked by the ZAP
 * handler under this domain. */
int p2c2r__curve_server_setup(void *sock, const char *secret_key, const char *zap_domain);

#endif /* P2C2R_CURVE_H */
