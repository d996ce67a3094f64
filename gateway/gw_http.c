/* gw_http.c — response builders and the pure request accessors (see gw_http.h).
 * gw_req_header / gw_req_query need libmicrohttpd and live in http_server.c. */
#include "gw_http.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "rpc.h"
#include "status_map.h"

const char *gw_req_capture(const gw_request *req, const char *name)
{
    return req->match ? gw_match_capture(req->match, name) : NULL;
}

int64_t gw_req_remaining_ms(const gw_request *req)
{
    int64_t left = req->deadline_ns - sfp_mono_ns();
    return left <= 0 ? 0 : (left + 999999) / 1000000;
}

void gw_req_set_default_deadline(gw_request *req, int timeout_ms)
{
    if (req->client_deadline || timeout_ms <= 0) return;
    req->deadline_ns = req->start_ns + (int64_t)timeout_ms * 1000000;
}

void gw_resp_init(gw_response *r)
{
    memset(r, 0, sizeof *r);
    r->grpc_code = -1;
}

void gw_resp_free(gw_response *r)
{
    free(r->body);
    r->body = NULL;
    r->static_body = NULL;
    r->body_len = 0;
}

void gw_resp_set_body(gw_response *r, int status, const char *content_type, char *body, size_t len)
{
    gw_resp_free(r);
    r->status = status;
    r->content_type = content_type;
    r->body = body;
    r->body_len = body ? len : 0;
}

void gw_resp_set_static(gw_response *r, int status, const char *content_type, const char *body, size_t len)
{
    gw_resp_free(r);
    r->status = status;
    r->content_type = content_type;
    r->static_body = body;
    r->body_len = body ? len : 0;
}

static gw_header *find_header(gw_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name)) return &r->headers[i];
    return NULL;
}

int gw_resp_header(gw_response *r, const char *name, const char *fmt, ...)
{
    gw_header *h = find_header(r, name);
    if (!h) {
        if (r->nheaders == GW_MAX_RESP_HEADERS) return -1;
        h = &r->headers[r->nheaders];
    }
    char tmp[GW_RESP_HEADER_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) return -1;
    /* never let a value split the header block */
    for (char *p = tmp; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
    if (h == &r->headers[r->nheaders]) r->nheaders++;
    h->name = name;
    memcpy(h->value, tmp, (size_t)n + 1);
    return 0;
}

const char *gw_resp_get_header(const gw_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name)) return r->headers[i].value;
    return NULL;
}

void gw_resp_remove_header(gw_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name)) {
            memmove(&r->headers[i], &r->headers[i + 1], (r->nheaders - i - 1) * sizeof r->headers[0]);
            r->nheaders--;
            return;
        }
}

void gw_resp_error(gw_response *r, int http_status, int grpc_code, const char *message, const char *retry_after_hint)
{
    gw_resp_error_ex(r, http_status, grpc_code, message, retry_after_hint, NULL, NULL);
}

void gw_resp_error_ex(gw_response *r, int http_status, int grpc_code, const char *message, const char *retry_after_hint,
                      const sfp_rpc_details *d, const char *result_json)
{
    /* Retry-After on 429/503 (hint or default), and on any status the backend sent RetryInfo for */
    bool retry = gw_needs_retry_after(http_status) || (retry_after_hint && *retry_after_hint);
    int retry_s = retry ? gw_retry_after_seconds(retry_after_hint, http_status) : -1;
    sfp_buf b;
    sfp_buf_init(&b);
    gw_error_body_ex(&b, grpc_code, message, d, retry_s, result_json);
    size_t len;
    char *body = sfp_buf_steal(&b, &len);
    gw_resp_set_body(r, http_status, GW_CT_JSON, body, len);
    r->grpc_code = grpc_code;
    /* error responses are never cacheable validators */
    gw_resp_remove_header(r, "ETag");
    gw_resp_remove_header(r, "Cache-Control");
    if (gw_needs_www_authenticate(http_status)) gw_resp_header(r, "WWW-Authenticate", "Bearer");
    if (retry) gw_resp_header(r, "Retry-After", "%d", retry_s);
}

void gw_resp_bad_field(gw_response *r, sfp_reason reason, const char *field, const char *message)
{
    sfp_rpc_details d;
    sfp_rpc_details_init(&d);
    sfp_rpc_details_set_reason(&d, reason);
    sfp_rpc_details_add_violation(&d, field, "%s", message);
    gw_resp_error_ex(r, 400, GRPC_STATUS_INVALID_ARGUMENT, message, NULL, &d, NULL);
}

void gw_resp_rate_limited(gw_response *r, const char *message, int retry_after_s)
{
    if (retry_after_s < 1) retry_after_s = 1;
    sfp_rpc_details d;
    sfp_rpc_details_init(&d);
    sfp_rpc_details_set_reason(&d, SFP_REASON_RATE_LIMITED);
    sfp_rpc_details_set_retry_ms(&d, (int64_t)retry_after_s * 1000);
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry_after_s);
    gw_resp_error_ex(r, 429, GRPC_STATUS_RESOURCE_EXHAUSTED, message, ra, &d, NULL);
}

void gw_resp_http_error(gw_response *r, int http_status, const char *message)
{
    gw_resp_error(r, http_status, gw_grpc_code_for_http(http_status), message, NULL);
}

void gw_resp_rpc_error(gw_response *r, const sfp_rpc_status *st)
{
    gw_resp_rpc_error_result(r, st, NULL);
}

void gw_resp_rpc_error_result(gw_response *r, const sfp_rpc_status *st, const char *result_json)
{
    int code = (int)st->code;
    gw_resp_error_ex(r, gw_http_status_for_grpc(code), code, gw_client_message(code, st->message), st->retry_after,
                     &st->details, result_json);
}
