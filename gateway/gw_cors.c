/* gw_cors.c — see gw_cors.h. */
#include "gw_cors.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "route_match.h"

#define CORS_ALLOW_HEADERS "Authorization, Content-Type, If-None-Match, X-Timeout-Ms, X-Request-Id"
#define CORS_EXPOSE_HEADERS "ETag, Retry-After, X-Request-Id, X-Response-Time"

/* Calls fn on each trimmed, non-empty entry of list; stops when fn returns true. */
static bool each(const char *list, bool (*fn)(const char *e, size_t n, void *u), void *u)
{
    for (const char *p = list ? list : ""; *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *end = p;
        while (*end && *end != ',') end++;
        size_t n = (size_t)(end - p);
        while (n && p[n - 1] == ' ') n--;
        if (n && fn(p, n, u)) return true;
        p = end;
    }
    return false;
}

static bool invalid(const char *e, size_t n, void *u)
{
    const char *rest = n > 8 && !strncmp(e, "https://", 8) ? e + 8 : n > 7 && !strncmp(e, "http://", 7) ? e + 7 : NULL;
    bool bad = !rest;
    if (rest) {
        size_t rn = n - (size_t)(rest - e), colon = 0;
        for (size_t i = 0; i < rn && !bad; i++) {
            char c = rest[i];
            if (c == ':') {
                if (colon || i == 0) bad = true;
                colon = i;
            } else if (colon ? !isdigit((unsigned char)c) : !(isalnum((unsigned char)c) || c == '.' || c == '-')) {
                bad = true;
            }
        }
        if (colon && (colon == rn - 1 || rn - colon - 1 > 5)) bad = true;
        if (colon && !bad) {
            long port = 0;
            for (size_t i = colon + 1; i < rn; i++) port = port * 10 + (rest[i] - '0');
            if (port < 1 || port > 65535) bad = true;
        }
    }
    if (bad) snprintf((char *)u, 96, "%.*s", (int)(n > 80 ? 80 : n), e);
    return bad;
}

int gw_cors_validate(const char *list, sfp_err *err)
{
    char bad[96] = "";
    if (each(list, invalid, bad))
        return sfp_err_set(
            err, 1, "GATEWAY_CORS_ORIGINS: '%s' is not an origin (comma-separated http(s)://host[:port], no path)",
            bad);
    return 0;
}

typedef struct {
    const char *origin;
    size_t n;
} find_ctx;

static bool same(const char *e, size_t n, void *u)
{
    const find_ctx *f = u;
    return n == f->n && !strncmp(e, f->origin, n);
}

bool gw_cors_allowed(const char *list, const char *origin)
{
    if (!origin || !*origin) return false;
    find_ctx f = {origin, strlen(origin)};
    return each(list, same, &f);
}

static void add_vary_origin(gw_response *resp)
{
    const char *v = gw_resp_get_header(resp, "Vary");
    if (!v) gw_resp_header(resp, "Vary", "Origin");
    else if (!strstr(v, "Origin")) {
        char cur[GW_RESP_HEADER_MAX];
        snprintf(cur, sizeof cur, "%s", v);
        gw_resp_header(resp, "Vary", "%s, Origin", cur);
    }
}

void gw_cors_apply(const char *list, const char *origin, gw_response *resp)
{
    if (!list || !*list || !gw_cors_allowed(list, origin)) return;
    if (gw_resp_get_header(resp, "Access-Control-Allow-Origin")) return;
    gw_resp_header(resp, "Access-Control-Allow-Origin", "%s", origin);
    gw_resp_header(resp, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
    add_vary_origin(resp);
}

void gw_cors_preflight(const char *list, const char *origin, const char *request_method, unsigned allow,
                       gw_response *resp)
{
    char methods[96];
    gw_allow_header(allow, methods, sizeof methods);
    if (!allow) {
        gw_resp_http_error(resp, 404, "no route matches this path");
    } else if (!gw_cors_allowed(list, origin)) {
        gw_resp_http_error(resp, 403, "origin is not allowed (GATEWAY_CORS_ORIGINS)");
        add_vary_origin(resp);
    } else if (!(gw_method_bit(request_method) & (allow | ((allow & GW_M_GET) ? GW_M_HEAD : 0)))) {
        gw_resp_http_error(resp, 405, "the requested method is not allowed here");
        gw_resp_header(resp, "Allow", "%s", methods);
    } else {
        gw_resp_set_static(resp, 204, NULL, NULL, 0);
        gw_resp_header(resp, "Access-Control-Allow-Origin", "%s", origin);
        gw_resp_header(resp, "Access-Control-Allow-Methods", "%s", methods);
        gw_resp_header(resp, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
        gw_resp_header(resp, "Access-Control-Max-Age", "600");
        add_vary_origin(resp);
    }
}
