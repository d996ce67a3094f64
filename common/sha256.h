/* sha256.h — SHA-256 of a byte string (OpenSSL EVP), raw or as lower-case hex. */
#ifndef SFP_SHA256_H
#define SFP_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* out = SHA-256(data[0..len)). Returns 0, or -1 when the digest failed. */
int sfp_sha256(const void *data, size_t len, uint8_t out[32]);
/* out = the 64 lower-case hex digits of SHA-256(data[0..len)) and a NUL. Returns 0 or -1. */
int sfp_sha256_hex(const void *data, size_t len, char out[65]);

#endif
