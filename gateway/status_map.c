/* status_map.c — see status_map.h. */
#include "status_map.h"

#include <grpc/status.h>
#include <string.h>

#include "rpc.h"

int gw_http_status_for_grpc(int code)
{
    switch (code) {
    case GRPC_STATUS_OK: return 200;
    case GRPC_STATUS_CANCELLED: return 499;
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_FAILED_PRECONDITION:
    case GRPC_STATUS_OUT_OF_RANGE: return 400;
    case GRPC_STATUS_DEADLINE_EXCEEDED: return 504;
    case GRPC_STATUS_NOT_FOUND: return 404;
    case GRPC_STATUS_ALREADY_EXISTS:
    case GRPC_STATUS_ABORTED: return 409;
    case GRPC_STATUS_PERMISSION_DENIED: return 403;
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return 429;
    case GRPC_STATUS_UNIMPLEMENTED: return 501;
    case GRPC_STATUS_UNAVAILABLE: return 503;
    case GRPC_STATUS_UNAUTHENTICATED: return 401;
    default: return 500; /* UNKNOWN, INTERNAL, DATA_LOSS, custom codes */
    }
}

int gw_grpc_code_for_http(int s)
{
    switch (s) {
    case 200: return GRPC_STATUS_OK;
    case 400:
    case 413:
    case 414:
    case 431: return GRPC_STATUS_INVALID_ARGUMENT;
    case 401: return GRPC_STATUS_UNAUTHENTICATED;
    case 403: return GRPC_STATUS_PERMISSION_DENIED;
    case 404: return GRPC_STATUS_NOT_FOUND;
    case 405: return GRPC_STATUS_UNIMPLEMENTED;
    case 409: return GRPC_STATUS_ABORTED;
    case 429: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case 499: return GRPC_STATUS_CANCELLED;
    case 501: return GRPC_STATUS_UNIMPLEMENTED;
    case 503: return GRPC_STATUS_UNAVAILABLE;
    case 504: return GRPC_STATUS_DEADLINE_EXCEEDED;
    default: return (s >= 400 && s < 500) ? GRPC_STATUS_INVALID_ARGUMENT : GRPC_STATUS_INTERNAL;
    }
}

const char *gw_grpc_code_name(int code)
{
    if (code < 0 || code > GRPC_STATUS_UNAUTHENTICATED) return "UNKNOWN";
    const char *n = sfp_rpc_code_name((grpc_status_code)code);
    return n ? n : "UNKNOWN";
}

const char *gw_http_reason(int s)
{
    switch (s) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

bool gw_needs_www_authenticate(int s)
{
    return s == 401;
}

bool gw_needs_retry_after(int s)
{
    return s == 429 || s == 503;
}

int gw_retry_after_seconds(const char *hint, int s)
{
    int def = s == 429 ? GW_RETRY_AFTER_429_DEFAULT : GW_RETRY_AFTER_503_DEFAULT;
    if (!hint || !*hint) return def;
    long v = 0;
    size_t n = 0;
    for (const char *p = hint; *p; p++, n++) {
        if (*p < '0' || *p > '9' || n >= 10) return def;
        v = v * 10 + (*p - '0');
    }
    if (v > GW_RETRY_AFTER_MAX) v = GW_RETRY_AFTER_MAX;
    return (int)v;
}

const char *gw_client_message(int code, const char *msg)
{
    switch (code) {
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_NOT_FOUND:
    case GRPC_STATUS_ALREADY_EXISTS:
    case GRPC_STATUS_PERMISSION_DENIED:
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
    case GRPC_STATUS_FAILED_PRECONDITION:
    case GRPC_STATUS_ABORTED:
    case GRPC_STATUS_OUT_OF_RANGE:
    case GRPC_STATUS_UNIMPLEMENTED:
    case GRPC_STATUS_UNAUTHENTICATED:
        if (msg && *msg) return msg;
        break;
    default: break;
    }
    switch (code) {
    case GRPC_STATUS_OK: return "";
    case GRPC_STATUS_CANCELLED: return "request cancelled";
    case GRPC_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case GRPC_STATUS_DEADLINE_EXCEEDED: return "deadline exceeded";
    case GRPC_STATUS_NOT_FOUND: return "not found";
    case GRPC_STATUS_ALREADY_EXISTS: return "already exists";
    case GRPC_STATUS_PERMISSION_DENIED: return "permission denied";
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return "too many requests";
    case GRPC_STATUS_FAILED_PRECONDITION: return "failed precondition";
    case GRPC_STATUS_ABORTED: return "aborted";
    case GRPC_STATUS_OUT_OF_RANGE: return "out of range";
    case GRPC_STATUS_UNIMPLEMENTED: return "not implemented";
    case GRPC_STATUS_UNAVAILABLE: return "service unavailable";
    case GRPC_STATUS_UNAUTHENTICATED: return "authentication required";
    default: return "internal error";
    }
}

void gw_error_body(sfp_buf *out, int code, const char *message)
{
    gw_error_body_ex(out, code, message, NULL, -1, NULL);
}

static void put_details(sfp_buf *out, const sfp_rpc_details *d)
{
    if (d->reason[0]) {
        sfp_buf_puts(out, ",\"reason\":");
        sfp_buf_json_str(out, d->reason);
        sfp_buf_puts(out, ",\"domain\":");
        sfp_buf_json_str(out, d->domain);
        if (d->nmeta) {
            sfp_buf_puts(out, ",\"metadata\":{");
            for (size_t i = 0; i < d->nmeta; i++) {
                if (i) sfp_buf_putc(out, ',');
                sfp_buf_json_str(out, d->meta[i].key);
                sfp_buf_putc(out, ':');
                sfp_buf_json_str(out, d->meta[i].value);
            }
            sfp_buf_putc(out, '}');
        }
    }
    if (d->nviolations) {
        sfp_buf_puts(out, ",\"field_violations\":[");
        for (size_t i = 0; i < d->nviolations; i++) {
            sfp_buf_puts(out, i ? ",{\"field\":" : "{\"field\":");
            sfp_buf_json_str(out, d->violations[i].field);
            sfp_buf_puts(out, ",\"description\":");
            sfp_buf_json_str(out, d->violations[i].description);
            sfp_buf_putc(out, '}');
        }
        sfp_buf_putc(out, ']');
    }
}

void gw_error_body_ex(sfp_buf *out, int code, const char *message, const sfp_rpc_details *d, int retry_after_s,
                      const char *result_json)
{
    const char *m = message ? message : "";
    size_t n = strlen(m);
    if (n > 512) {
        n = 512;
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)m[n] & 0xC0) == 0x80) n--;
    }
    sfp_buf_printf(out, "{\"code\":%d,\"status\":", code);
    sfp_buf_json_str(out, gw_grpc_code_name(code));
    sfp_buf_puts(out, ",\"message\":");
    sfp_buf_json_strn(out, m, n);
    if (d) put_details(out, d);
    if (retry_after_s >= 0) sfp_buf_printf(out, ",\"retry_after_s\":%d", retry_after_s);
    if (result_json && *result_json) {
        sfp_buf_puts(out, ",\"result\":");
        sfp_buf_puts(out, result_json);
    }
    sfp_buf_putc(out, '}');
}
