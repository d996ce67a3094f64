/* gw_http.h — what a route handler sees: the request (method, path, captures, query, headers,
 * body, request id, deadline) and the response it fills (status, body, extra headers).
 *
 * The server adds to EVERY response: X-Response-Time, X-Request-Id, Content-Type (from the
 * response; JSON by default), X-Content-Type-Options: nosniff, and Connection: close while
 * draining. Handlers only add route-specific headers (Cache-Control, ETag, ...).
 *
 * Ownership: a gw_request and everything it points to belong to the server and live for the
 * handler call. A gw_response owns `body` (malloc) unless the body was set with
 * gw_resp_set_static; gw_resp_free releases it. Header names must be static strings; header
 * values are copied into the response. */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gw_limits.h"
#include "route_match.h"
#include "rpc_details.h"

struct gw_server;
struct MHD_Connection;
struct sfp_rpc_status;
struct sfp_rpc_details;

#define GW_CT_JSON "application/json"
#define GW_MAX_RESP_HEADERS 12
#define GW_RESP_HEADER_MAX 256

typedef struct gw_header {
    const char *name; /* static */
    char value[GW_RESP_HEADER_MAX];
} gw_header;

typedef struct gw_response {
    int status;               /* HTTP status; 0 = handler set nothing (→ 500) */
    int grpc_code;            /* code in the error body; -1 when not an error response */
    const char *content_type; /* static; NULL → application/json */
    char *body;               /* owned (malloc) */
    const char *static_body;  /* not owned, outlives the response */
    size_t body_len;
    size_t nheaders;
    gw_header headers[GW_MAX_RESP_HEADERS];
} gw_response;

typedef struct gw_request {
    struct gw_server *srv;
    struct MHD_Connection *conn; /* NULL in unit tests: header/query lookups return NULL */
    const char *method;
    unsigned method_bit;
    const char *path; /* raw path (before '?'), as received */
    const gw_route *route;
    const gw_match *match; /* captures (decoded) */
    const char *body;      /* NUL-terminated; NULL when none */
    size_t body_len;
    const char *request_id;
    int64_t start_ns;     /* CLOCK_MONOTONIC at the first handler call */
    int64_t deadline_ns;  /* CLOCK_MONOTONIC deadline for backend calls */
    bool client_deadline; /* deadline came from the client's X-Timeout-Ms */
    void *user;           /* the handler's own state across gw_call_async (not owned by the server) */
    struct gw_ctx *ctx;   /* the server's per-request context (NULL in unit tests) */
    /* "Bearer <token>" from the session cookie (gw_pages.h), sent to backends instead of the
     * absent Authorization header; NULL = none. Points into auth_buf. */
    const char *authorization;
    char auth_buf[224];
} gw_request;

/* ---- request accessors ---- */
const char *gw_req_header(const gw_request *req, const char *name); /* case-insensitive */
const char *gw_req_query(const gw_request *req, const char *name);  /* decoded value, or NULL */
const char *gw_req_capture(const gw_request *req, const char *name);
int64_t gw_req_remaining_ms(const gw_request *req); /* <= 0 when passed */
/* Client address for rate limiting: the TCP peer, or the X-Forwarded-For client when the peer
 * is one of GATEWAY_TRUSTED_PROXIES (gw_ratelimit.h: gw_client_ip). */
void gw_req_client_ip(const gw_request *req, char *out, size_t n);
/* Replaces the route's default deadline (measured from the request start) unless the client
 * chose one with X-Timeout-Ms. */
void gw_req_set_default_deadline(gw_request *req, int timeout_ms);

/* ---- response builders ---- */
void gw_resp_init(gw_response *r);
void gw_resp_free(gw_response *r); /* frees the owned body; r can be reused after gw_resp_init */
/* Takes ownership of body (malloc'd; may be NULL when len == 0). */
void gw_resp_set_body(gw_response *r, int status, const char *content_type, char *body, size_t len);
void gw_resp_set_static(gw_response *r, int status, const char *content_type, const char *body, size_t len);
/* Adds or replaces a header. Returns 0, or -1 when the table is full or the value too long. */
int gw_resp_header(gw_response *r, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *gw_resp_get_header(const gw_response *r, const char *name);
void gw_resp_remove_header(gw_response *r, const char *name);

/* JSON error response with the status_map rules: body {"code","status","message"},
 * WWW-Authenticate: Bearer on 401, Retry-After on 429/503 (retry_after_hint or default).
 * Replaces any body already set. */
void gw_resp_error(gw_response *r, int http_status, int grpc_code, const char *message, const char *retry_after_hint);
/* gw_resp_error with the backend's details rendered into the body (gw_error_body_ex; d may be
 * NULL) and Retry-After also on other statuses when a hint (RetryInfo) is given. */
void gw_resp_error_ex(gw_response *r, int http_status, int grpc_code, const char *message, const char *retry_after_hint,
                      const struct sfp_rpc_details *d, const char *result_json);
/* Gateway-made 400 for one bad request field: INVALID_ARGUMENT with the same details a backend
 * sends (ErrorInfo reason, ARGUMENT_MALFORMED or ARGUMENT_OUT_OF_RANGE, and a BadRequest field
 * violation naming `field` with `message`), so clients handle both alike. */
void gw_resp_bad_field(gw_response *r, sfp_reason reason, const char *field, const char *message);
/* Gateway-made 429: RESOURCE_EXHAUSTED with ErrorInfo RATE_LIMITED and RetryInfo, Retry-After
 * retry_after_s (at least 1). */
void gw_resp_rate_limited(gw_response *r, const char *message, int retry_after_s);
/* Gateway-made HTTP error: the gRPC code is gw_grpc_code_for_http(http_status). */
void gw_resp_http_error(gw_response *r, int http_status, const char *message);
/* Backend error: HTTP status and client-safe message from st (status_map), its
 * grpc-status-details-bin details (ErrorInfo, BadRequest) in the body and its RetryInfo as
 * Retry-After (st->retry_after). */
void gw_resp_rpc_error(gw_response *r, const struct sfp_rpc_status *st);
/* The same, with result_json (a JSON object, e.g. a failed job's result) as "result". */
void gw_resp_rpc_error_result(gw_response *r, const struct sfp_rpc_status *st, const char *result_json);

#endif
