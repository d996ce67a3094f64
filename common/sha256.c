/* sha256.c — see sha256.h. */
#include "sha256.h"

#include <openssl/evp.h>

int sfp_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

int sfp_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t md[32];
    if (sfp_sha256(data, len, md)) return -1;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}
