/* zstd_fuzz: the bounded decompress of common/zstd.h on any bytes, as a peer meets a zstd
 * payload from the network.
 *
 * p2c2r__zstd_content_size() and p2c2r__zstd_decompress() must agree: a payload decodes
 * only if it is one whole frame declaring its size, into exactly that many bytes, and a
 * declared size above the caller's limit is refused as TOOBIG before anything is
 * allocated (checked by a limit one byte short). What decodes compresses and decodes back
 * to the same bytes. */
#include <string.h>

#include "common/zstd.h"
#include "p2c2r_error.h"
#include "fuzz.h"

/* The largest output tried: keeps each input cheap, and the fuzzer's memory bounded. */
#define OUT_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t declared = 0;
    int crc = p2c2r__zstd_content_size(data, size, &declared);
    FUZZ_CHECK(crc == P2C2R_OK || crc == P2C2R_E_BADINPUT);

    uint8_t *out = NULL;
    size_t out_size = 0;
    int rc = p2c2r__zstd_decompress(data, size, OUT_MAX, &out, &out_size);
    FUZZ_CHECK(rc == P2C2R_OK || rc == P2C2R_E_BADINPUT || rc == P2C2R_E_TOOBIG ||
               rc == P2C2R_E_NOMEM);
    FUZZ_CHECK((rc == P2C2R_OK) == (out != NULL));
    if (crc != P2C2R_OK)
        FUZZ_CHECK(rc == P2C2R_E_BADINPUT);
    else if (declared > OUT_MAX)
        FUZZ_CHECK(rc == P2C2R_E_TOOBIG);
    if (rc != P2C2R_OK)
        return 0;
    FUZZ_CHECK(out_size == declared);

    if (declared > 0) {
        uint8_t *none = NULL;
        size_t none_size = 1;
        FUZZ_CHECK(p2c2r__zstd_decompress(data, size, declared - 1, &none, &none_size) ==
                   P2C2R_E_TOOBIG);
        FUZZ_CHECK(none == NULL && none_size == 0);
    }

    uint8_t *packed = NULL, *back = NULL;
    size_t packed_size = 0, back_size = 0;
    FUZZ_CHECK(p2c2r__zstd_compress(out, out_size, 1, &packed, &packed_size) == P2C2R_OK);
    FUZZ_CHECK(p2c2r__zstd_decompress(packed, packed_size, out_size, &back, &back_size) ==
               P2C2R_OK);
    FUZZ_CHECK(back_size == out_size && memcmp(back, out, out_size) == 0);
    free(back);
    free(packed);
    free(out);
    return 0;
}
