/* testhttp.h — blocking HTTP/1.1 client for e2e tests (libcurl). */
#ifndef SFP_TESTHTTP_H
#define SFP_TESTHTTP_H

#include <stddef.h>

typedef struct sfp_http_resp {
    long status;
    char *body; /* owned, NUL-terminated (empty when none) */
    size_t len;
    char *hdrs; /* owned: raw response header block */
    size_t hlen;
    long num_connects;
} sfp_http_resp;

/* One request to 127.0.0.1:port. handle: a CURL* to reuse (keep-alive) or NULL for a fresh
 * one. headers: NULL-terminated "Name: value" list. Returns the CURLcode (0 = OK). */
int sfp_http(void *handle, int port, const char *method, const char *path, const char *const *headers, const char *body,
             size_t blen, sfp_http_resp *r);
/* Value of a response header (case-insensitive), trimmed, copied into out; NULL if absent. */
const char *sfp_http_header(const sfp_http_resp *r, const char *name, char *out, size_t cap);
void sfp_http_resp_free(sfp_http_resp *r);

#endif
