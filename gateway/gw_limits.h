/* gw_limits.h — pure request-hygiene helpers of the gateway: request ids, X-Timeout-Ms,
 * Content-Length, ETag / If-None-Match. No I/O except the kernel RNG for new request ids;
 * nothing allocates (outputs go to caller-provided buffers). */
#ifndef GW_LIMITS_H
#define GW_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_REQUEST_ID_MAX 128    /* longest client id accepted */
#define GW_REQUEST_ID_GEN_LEN 32 /* generated: 16 random bytes as lowercase hex */

/* A client X-Request-Id is passed through when it is 1..128 chars of [A-Za-z0-9._-]. */
bool gw_request_id_valid(const char *s);
/* Writes 32 lowercase hex chars + NUL (16 bytes from getrandom; falls back to a
 * clock/counter mix if the kernel RNG fails, which never happens on Linux >= 3.17). */
void gw_request_id_generate(char out[GW_REQUEST_ID_GEN_LEN + 1]);
/* Copies the client's id into out when valid, else generates one. Returns true when the
 * client's id was used. out must hold GW_REQUEST_ID_MAX + 1 bytes. */
bool gw_request_id_choose(const char *client, char out[GW_REQUEST_ID_MAX + 1]);

/* X-Timeout-Ms: 1..10 decimal digits, value >= 1; capped at max_ms. Returns 0 and sets *out,
 * or -1 (caller answers 400). */
int gw_parse_timeout_ms(const char *s, int max_ms, int *out);

/* Content-Length: 1..19 decimal digits. Returns 0 or -1. */
int gw_parse_content_length(const char *s, uint64_t *out);

/* True when an If-None-Match header value matches etag ("*", or a comma-separated list of
 * entity tags, weak comparison: W/"x" matches "x"). */
bool gw_etag_matches(const char *if_none_match, const char *etag);

/* Bytes of a header line as sent: name ": " value CRLF. */
static inline size_t gw_header_line_bytes(size_t name_len, size_t value_len)
{
    return name_len + value_len + 4;
}

#endif
