/* curve: see curve.h. */
#include "common/curve.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2c2r_error.h"

/* What zcert_load() gives for the secret key of a file that holds none. */
#define NO_SECRET "0000000000000000000000000000000000000000"

bool p2c2r__curve_available(void)
{
    return zmq_has("curve") != 0;
}

const char *p2c2r__curve_missing(void)
{
    return "this libzmq was built without CURVE (zmq_has(\"curve\") is false): "
           "install a libzmq built with libsodium (Debian's libzmq5 is)";
}

bool p2c2r__curve_key_valid(const char *text)
{
    uint8_t bytes[32];
    return text && strlen(text) == P2C2R_CURVE_KEY_LEN && zmq_z85_decode(bytes, text) != NULL;
}

int p2c2r__curve_keygen(const char *name, char *why, size_t why_size)
{
    if (!p2c2r__curve_available()) {
        snprintf(why, why_size, "%s", p2c2r__curve_missing());
        return P2C2R_E_UNSUPPORTED;
    }
    char secret_path[4096];
    snprintf(secret_path, sizeof secret_path, "%s_secret", name);
    if (access(name, F_OK) == 0 || access(secret_path, F_OK) == 0) {
        snprintf(why, why_size, "%s or %s already exists; not overwritten", name, secret_path);
        return P2C2R_E_INVAL;
    }
    zcert_t *cert = zcert_new();
    if (!cert) {
        snprintf(why, why_size, "cannot make a keypair");
        return P2C2R_E_NOMEM;
    }
    zcert_set_meta(cert, "made-by", "p2c2r keygen");
    /* zcert_save_secret() saves under a private umask; the mode is set again below in
     * case the file system ignores it. */
    int rc = zcert_save(cert, name);
    zcert_destroy(&cert);
    if (rc != 0 || chmod(secret_path, 0600) != 0) {
        snprintf(why, why_size, "cannot write %s and %s: %s", name, secret_path, strerror(errno));
        return P2C2R_E_IO;
    }
    return P2C2R_OK;
}

int p2c2r__curve_load(const char *path, p2c2r_curve_key public_key, p2c2r_curve_key secret_key,
                      char *why, size_t why_size)
{
    if (access(path, R_OK) != 0) {
        snprintf(why, why_size, "cannot read key file %s: %s", path, strerror(errno));
        return P2C2R_E_IO;
    }
    zcert_t *cert = zcert_load(path);
    if (!cert) {
        snprintf(why, why_size, "%s is not a key file (CZMQ certificate with a public-key)", path);
        return P2C2R_E_INVAL;
    }
    int rc = P2C2R_OK;
    snprintf(public_key, sizeof(p2c2r_curve_key), "%s", zcert_public_txt(cert));
    if (secret_key) {
        snprintf(secret_key, sizeof(p2c2r_curve_key), "%s", zcert_secret_txt(cert));
        if (strcmp(secret_key, NO_SECRET) == 0) {
            snprintf(why, why_size, "%s holds no secret key (give the NAME_secret file)", path);
            rc = P2C2R_E_INVAL;
        }
    }
    if (rc == P2C2R_OK && (!p2c2r__curve_key_valid(public_key) ||
                           (secret_key && !p2c2r__curve_key_valid(secret_key)))) {
        snprintf(why, why_size, "%s holds a malformed key (40 Z85 characters expected)", path);
        rc = P2C2R_E_INVAL;
    }
    zcert_destroy(&cert);
    return rc;
}

int p2c2r__curve_public(const char *file_or_z85, p2c2r_curve_key key, char *why, size_t why_size)
{
    if (p2c2r__curve_key_valid(file_or_z85) && access(file_or_z85, F_OK) != 0) {
        snprintf(key, sizeof(p2c2r_curve_key), "%s", file_or_z85);
        return P2C2R_OK;
    }
    return p2c2r__curve_load(file_or_z85, key, NULL, why, why_size);
}

static int set_key(void *sock, int option, const char *key)
{
    if (!p2c2r__curve_key_valid(key))
        return P2C2R_E_INVAL;
    return zmq_setsockopt(sock, option, key, P2C2R_CURVE_KEY_LEN) == 0 ? P2C2R_OK : P2C2R_E_INVAL;
}

int p2c2r__curve_client_setup(void *sock, const char *public_key, const char *secret_key,
                              const char *server_key)
{
    if (!p2c2r__curve_available())
        return P2C2R_E_UNSUPPORTED;
    int rc = set_key(sock, ZMQ_CURVE_SERVERKEY, server_key);
    if (rc == P2C2R_OK)
        rc = set_key(sock, ZMQ_CURVE_PUBLICKEY, public_key);
    if (rc == P2C2R_OK)
        rc = set_key(sock, ZMQ_CURVE_SECRETKEY, secret_key);
    return rc;
}

int p2c2r__curve_server_setup(void *sock, const char *secret_key, const char *zap_domain)
{
    if (!p2c2r__curve_available())
        return P2C2R_E_UNSUPPORTED;
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, zap_domain, strlen(zap_domain)) != 0)
        return P2C2R_E_INVAL;
    return set_key(sock, ZMQ_CURVE_SECRETKEY, secret_key);
}
