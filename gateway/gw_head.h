/* gw_head.h — strict HTTP/1.1 request-head check, on the raw bytes as received. Pure: no I/O,
 * no allocation; safe on any input (fuzzed: tests/fuzz/fuzz_head.c).
 *
 * The gateway's front (gw_front.h) runs it on the bytes a new connection has sent so far,
 * before libmicrohttpd sees any of them, so a bad request is answered at once — even before
 * its line is complete — and a request head that is still arriving costs no HTTP worker.
 *
 * Rules (RFC 9112; stricter than libmicrohttpd, so both parsers agree on what passes):
 *   - Empty lines before the request line are skipped.
 *   - Request line: method = 1..32 token characters, one SP, request target = 1..max_url
 *     visible ASCII bytes (0x21..0x7e), one SP, HTTP/1.0 or HTTP/1.1, CRLF (or bare LF).
 *     Anything else → 400 (a NUL, control byte, DEL, non-ASCII byte or second space in the line
 *     included), a longer target → 414, another HTTP version → 505.
 *   - Header lines: name = token characters, ':' right after it (no whitespace before the
 *     colon), value of HTAB, SP, visible ASCII and obs-text (0x80..0xff); a NUL or other control
 *     byte, a bare CR, or a line folded onto the next (obs-fold) → 400.
 *   - Content-Length: digits only (1..19, optional whitespace around); given twice (even with
 *     the same value) → 400. Transfer-Encoding: given twice → 400; anything but "chunked" →
 *     501; together with Content-Length → 400 (request smuggling).
 *   - Request line + header lines longer than max_head → 431.
 * Errors are decided as soon as the offending byte is seen. */
#ifndef GW_HEAD_H
#define GW_HEAD_H

#include <stddef.h>

typedef struct gw_head_limits {
    size_t max_url;  /* longest request target (GATEWAY_MAX_URL) */
    size_t max_head; /* longest request line + header lines (GATEWAY_MAX_HEADER_BYTES) */
} gw_head_limits;

typedef enum {
    GW_HEAD_ERROR = -1,    /* r->status / r->reason say why */
    GW_HEAD_NEED_MORE = 0, /* valid so far */
    GW_HEAD_COMPLETE = 1,  /* r->head_len bytes (blank line included) form a valid head */
} gw_head_state;

typedef struct gw_head_result {
    int status;         /* on error: 400, 414, 431, 501 or 505 */
    const char *reason; /* on error: static text for the JSON body */
    size_t head_len;    /* on COMPLETE */
    size_t method_len;  /* once the method is known: buf[skip .. skip+method_len) */
} gw_head_result;

gw_head_state gw_head_check(const char *buf, size_t n, const gw_head_limits *lim, gw_head_result *r);

/* RFC 9110 token character. */
int gw_head_tchar(unsigned char c);

#endif
