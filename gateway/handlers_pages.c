/* handlers_pages.c — see gw_pages.h. */
#include "gw_pages.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_html_brief.h"
#include "gw_html_common.h"
#include "gw_html_report.h"
#include "gw_html_search.h"
#include "gw_limits.h"
#include "gw_read.h"
#include "gw_rpc.h"
#include "handlers.h"
#include "rpc.h"
#include "static_pages.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"

#define SEARCH_RPC "/sfpermits.v1.ReportService/SearchParcels"
#define TOKEN_MAX 200
_Static_assert(sizeof(((gw_request *)0)->auth_buf) >= TOKEN_MAX + sizeof "Bearer ", "auth_buf holds a token");

/* ------------------------------------------------------------------ pure helpers */

bool gw_req_wants_html(const gw_request *req)
{
    return gw_accept_prefers_html(gw_req_header(req, "Accept"));
}

void gw_page_headers(gw_response *resp)
{
    gw_resp_header(resp, "Content-Security-Policy", "%s", GW_PAGE_CSP);
    gw_resp_header(resp, "X-Frame-Options", "DENY");
    gw_resp_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
}

void gw_page_set(gw_response *resp, int status, char *page, size_t len)
{
    gw_page_headers(resp);
    gw_resp_set_body(resp, status, GW_CT_HTML, page, len);
}

static bool token_ok(const char *t)
{
    size_t n = strlen(t);
    if (!n || n > TOKEN_MAX) return false;
    for (; *t; t++)
        if (!isalnum((unsigned char)*t) && !strchr("._~+/=-", *t)) return false;
    return true;
}

bool gw_cookie_value(const char *h, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= n) return false;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            while (vl && out[vl - 1] == ' ') out[--vl] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

static int hexv(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

bool gw_form_value(const char *body, size_t len, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *p = body, *end = body ? body + len : NULL;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fe = amp ? amp : end;
        if ((size_t)(fe - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t j = 0;
            for (const char *v = p + nl + 1; v < fe; v++) {
                if (j + 1 >= n) return false;
                int c = (unsigned char)*v;
                if (c == '+') {
                    c = ' ';
                } else if (c == '%' && fe - v >= 3 && hexv(v[1]) >= 0 && hexv(v[2]) >= 0) {
                    c = hexv(v[1]) * 16 + hexv(v[2]);
                    v += 2;
                }
                if (!c) return false;
                out[j++] = (char)c;
            }
            out[j] = '\0';
            return true;
        }
        p = amp ? amp + 1 : end;
    }
    return false;
}

static bool origin_is(const char *host, const char *o, bool prefix)
{
    const char *rest = !strncmp(o, "https://", 8) ? o + 8 : !strncmp(o, "http://", 7) ? o + 7 : NULL;
    if (!rest) return false;
    size_t hl = strlen(host);
    if (strncasecmp(rest, host, hl)) return false;
    return rest[hl] == '\0' || (prefix && rest[hl] == '/');
}

bool gw_same_origin(const char *host, const char *origin, const char *referer)
{
    if (!host || !*host) return false;
    if (origin) return origin_is(host, origin, false);
    if (referer) return origin_is(host, referer, true);
    return false;
}

bool gw_session_token(const gw_request *req, char *out, size_t n)
{
    const char *h = gw_req_header(req, "Cookie");
    return h && gw_cookie_value(h, GW_SESSION_COOKIE, out, n) && token_ok(out);
}

bool gw_use_session(gw_request *req)
{
    if (gw_req_header(req, "Authorization")) return false;
    char tok[TOKEN_MAX + 1];
    if (!gw_session_token(req, tok, sizeof tok)) return false;
    snprintf(req->auth_buf, sizeof req->auth_buf, "Bearer %s", tok);
    req->authorization = req->auth_buf;
    return true;
}

static bool csrf_ok(gw_request *req, gw_response *resp)
{
    if (gw_same_origin(gw_req_header(req, "Host"), gw_req_header(req, "Origin"), gw_req_header(req, "Referer")))
        return true;
    size_t len;
    char *page = gw_html_message_page("Request refused",
                                      "This form must be sent from this site's own pages. Go back, reload the page "
                                      "and try again.",
                                      "/brief", "Back to the morning brief", &len);
    gw_page_set(resp, 403, page, len);
    return false;
}

static bool over_tls(const gw_request *req)
{
    const char *p = gw_req_header(req, "X-Forwarded-Proto");
    return p && !strcasecmp(p, "https");
}

static void set_cookie(gw_request *req, gw_response *resp, const char *value, int max_age)
{
    gw_resp_header(resp, "Set-Cookie", "%s=%s; Path=/brief; Max-Age=%d; HttpOnly; SameSite=Strict%s", GW_SESSION_COOKIE,
                   value, max_age, over_tls(req) ? "; Secure" : "");
}

static void see_other(gw_response *resp, const char *location)
{
    gw_resp_header(resp, "Location", "%s", location);
    gw_resp_header(resp, "Cache-Control", "no-store");
    gw_resp_set_static(resp, 303, GW_CT_HTML, "", 0);
}

/* ------------------------------------------------------------------ search */

static int search_limit(const char *s)
{
    if (!s) return 0;
    char *e;
    long v = strtol(s, &e, 10);
    if (e == s || *e) return -1;
    return v < 1 || v > 50 ? -1 : (int)v;
}

static void search_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    (void)req;
    if (gw_reply_json(r, resp, &sfpermits__v1__search_parcels_response__descriptor, NULL) == GRPC_STATUS_OK)
        gw_resp_header(resp, "Cache-Control", "public, max-age=60");
}

void gw_handle_search(gw_request *req, gw_response *resp)
{
    const char *q = gw_req_query(req, "q");
    int limit = search_limit(gw_req_query(req, "limit"));
    if (!q || !*q) {
        gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, "q",
                          "q is required: an address, block/lot (3512/001) or permit number");
        return;
    }
    if (limit < 0) {
        gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_OUT_OF_RANGE, "limit", "limit must be an integer from 1 to 50");
        return;
    }
    Sfpermits__V1__SearchParcelsRequest in = SFPERMITS__V1__SEARCH_PARCELS_REQUEST__INIT;
    in.q = (char *)q;
    in.limit = limit;
    gw_call_async(req, GW_BACKEND_REPORT, SEARCH_RPC, &in.base, search_done);
}

/* The landing page's q without leading blanks (NULL when absent). */
static const char *home_q(const gw_request *req)
{
    const char *q = gw_req_query(req, "q");
    while (q && isspace((unsigned char)*q)) q++;
    return q;
}

static void home_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    const char *q = home_q(req);
    size_t len = 0;
    ProtobufCMessage *out = NULL;
    sfp_rpc_status st;
    if (gw_reply_decode(r, &sfpermits__v1__search_parcels_response__descriptor, &out, &st) != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st); /* status + Retry-After; the body becomes the page */
        const char *msg = st.code == GRPC_STATUS_INVALID_ARGUMENT
                              ? "Type an address (1600 Mission St), a block/lot (3512/001) or a permit number."
                              : "Search is unavailable right now. Please try again in a minute.";
        char *page = gw_html_search_page(q, NULL, msg, &len);
        gw_page_set(resp, resp->status, page, len);
        return;
    }
    char *page = gw_html_search_page(q, (const Sfpermits__V1__SearchParcelsResponse *)out, NULL, &len);
    protobuf_c_message_free_unpacked(out, NULL);
    gw_resp_header(resp, "Cache-Control", "public, max-age=60");
    gw_page_set(resp, 200, page, len);
}

void gw_handle_home(gw_request *req, gw_response *resp)
{
    const char *q = home_q(req);
    if (!q || !*q) {
        size_t len = 0;
        char *page = gw_html_search_page(NULL, NULL, NULL, &len);
        gw_resp_header(resp, "Cache-Control", "%s", GW_STATIC_CACHE_CONTROL);
        gw_page_set(resp, 200, page, len);
        return;
    }
    Sfpermits__V1__SearchParcelsRequest in = SFPERMITS__V1__SEARCH_PARCELS_REQUEST__INIT;
    in.q = (char *)q;
    gw_call_async(req, GW_BACKEND_REPORT, SEARCH_RPC, &in.base, home_done);
}

/* ------------------------------------------------------------------ report */

/* The first letter of a source's state ('-' when unknown), for the page's ETag. */
static char state_letter(const Sfpermits__V1__SourceStatus *s)
{
    switch (s ? s->state : SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_UNSPECIFIED) {
    case SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_LIVE: return 'l';
    case SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_CACHED: return 'c';
    case SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_STALE: return 's';
    case SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_UNAVAILABLE: return 'u';
    default: return '-';
    }
}

void gw_report_html(gw_request *req, gw_response *resp, gw_read_reply *r)
{
    sfp_rpc_status st;
    const Sfpermits__V1__PropertyReport *rep =
        (const void *)gw_read_content(r, &sfpermits__v1__property_report__descriptor, &st);
    if (!rep) {
        gw_resp_rpc_error(resp, &st);
        return;
    }
    /* The page's ETag: the content's, plus the state of each source (a degraded page must not
     * revalidate as the complete one). Ages are not part of it. */
    const char *etag_c = r->md->etag && *r->md->etag ? r->md->etag : NULL;
    if (etag_c) {
        char etag[GW_RESP_HEADER_MAX];
        snprintf(etag, sizeof etag, "\"%s-%c%c%c-html\"", etag_c, state_letter(gw_read_source(r->md, "complaints")),
                 state_letter(gw_read_source(r->md, "violations")), state_letter(gw_read_source(r->md, "tax_roll")));
        gw_resp_header(resp, "ETag", "%s", etag);
        if (gw_etag_matches(gw_req_header(req, "If-None-Match"), etag)) {
            gw_resp_header(resp, "Cache-Control", "public, max-age=%d", gw_report_max_age(r));
            gw_resp_header(resp, "Vary", "Accept");
            gw_resp_set_static(resp, 304, GW_CT_HTML, NULL, 0);
            return;
        }
    }
    gw_resp_header(resp, "Cache-Control", "public, max-age=%d", gw_report_max_age(r));
    gw_resp_header(resp, "Vary", "Accept");
    size_t len = 0;
    char *page = gw_html_report_page(rep, r->md, &len);
    gw_page_set(resp, 200, page, len);
}

/* ------------------------------------------------------------------ brief */

static int form_lookback(const gw_request *req)
{
    char v[16];
    return gw_form_value(req->body, req->body_len, "lookback", v, sizeof v) ? gw_brief_lookback(v) : 1;
}

static void signin_page(gw_response *resp, int status, const char *error, int lookback)
{
    size_t len;
    char *page = gw_html_brief_signin(error, lookback, &len);
    gw_resp_header(resp, "Cache-Control", "no-store");
    gw_page_set(resp, status, page, len);
}

static void brief_page_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    int lookback = gw_brief_lookback(gw_req_query(req, "lookback"));
    bool had_session = req->authorization != NULL; /* gw_use_session took the cookie */
    gw_resp_header(resp, "Vary", "Accept, Cookie, Authorization");
    sfp_rpc_status st = r->st;
    gw_read_reply rr;
    bool parsed = st.code == GRPC_STATUS_OK && gw_read_parse(&rr, r, &st) == 0;
    const Sfpermits__V1__Brief *b =
        parsed ? (const void *)gw_read_content(&rr, &sfpermits__v1__brief__descriptor, &st) : NULL;
    if (!b) {
        if (parsed) gw_read_free(&rr);
        if (st.code == GRPC_STATUS_UNAUTHENTICATED) {
            if (had_session) set_cookie(req, resp, "", 0);
            signin_page(resp, 200, "Your session has ended or the token is no longer valid. Please sign in again.",
                        lookback);
            return;
        }
        gw_resp_rpc_error(resp, &st);
        size_t len;
        char *page = gw_html_message_page("Morning brief unavailable",
                                          "The morning brief could not be loaded right now. Please try again in a "
                                          "minute.",
                                          "/brief", "Try again", &len);
        gw_page_set(resp, resp->status, page, len);
        return;
    }
    gw_resp_header(resp, "Cache-Control", "private, no-cache");
    if (rr.md->etag && *rr.md->etag) {
        char etag[GW_RESP_HEADER_MAX];
        snprintf(etag, sizeof etag, "W/\"%s-html\"", rr.md->etag);
        gw_resp_header(resp, "ETag", "%s", etag);
        if (gw_etag_matches(gw_req_header(req, "If-None-Match"), etag)) {
            gw_read_free(&rr);
            gw_resp_set_static(resp, 304, GW_CT_HTML, NULL, 0);
            return;
        }
    }
    const char *refreshed = gw_req_query(req, "refreshed");
    size_t len;
    char *page = gw_html_brief_page(
        b, rr.md, refreshed ? "Refreshed: the brief was recomputed from the latest data." : NULL, &len);
    gw_read_free(&rr);
    gw_page_set(resp, 200, page, len);
}

void gw_brief_html(gw_request *req, gw_response *resp)
{
    int lookback = gw_brief_lookback(gw_req_query(req, "lookback"));
    if (!gw_use_session(req) && !gw_req_header(req, "Authorization")) {
        gw_resp_header(resp, "Vary", "Accept, Cookie, Authorization");
        signin_page(resp, 200, NULL, lookback);
        return;
    }
    Sfpermits__V1__GetBriefRequest in = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    in.lookback_days = lookback;
    gw_call_async(req, GW_BACKEND_BRIEF, "/sfpermits.v1.BriefService/GetBrief", &in.base, brief_page_done);
}

/* Sign-in: the token (in req->auth_buf as "Bearer <token>") was tried with GetBrief. */
static void signin_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    int lookback = form_lookback(req);
    const char *tok = req->auth_buf + strlen("Bearer ");
    req->authorization = NULL;
    if (r->st.code == GRPC_STATUS_UNAUTHENTICATED) {
        signin_page(resp, 401, "That token was not accepted. Check it and try again.", lookback);
        gw_resp_header(resp, "WWW-Authenticate", "Bearer");
        return;
    }
    if (r->st.code != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &r->st);
        int status = resp->status;
        signin_page(resp, status, "Sign-in is unavailable right now. Please try again in a minute.", lookback);
        return;
    }
    set_cookie(req, resp, tok, GW_SESSION_MAX_AGE);
    char loc[64];
    snprintf(loc, sizeof loc, "/brief?lookback=%d", lookback);
    see_other(resp, loc);
}

void gw_handle_brief_signin(gw_request *req, gw_response *resp)
{
    if (!csrf_ok(req, resp)) return;
    int lookback = form_lookback(req);
    char tok[TOKEN_MAX + 1];
    if (!gw_form_value(req->body, req->body_len, "token", tok, sizeof tok) || !token_ok(tok)) {
        signin_page(resp, 400, "Enter the access token you were given (letters, digits and . _ ~ + / = -).", lookback);
        return;
    }
    snprintf(req->auth_buf, sizeof req->auth_buf, "Bearer %s", tok);
    if (!gw_req_header(req, "Authorization")) req->authorization = req->auth_buf;
    Sfpermits__V1__GetBriefRequest in = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    in.lookback_days = lookback;
    gw_call_async(req, GW_BACKEND_BRIEF, "/sfpermits.v1.BriefService/GetBrief", &in.base, signin_done);
}

void gw_handle_brief_signout(gw_request *req, gw_response *resp)
{
    if (!csrf_ok(req, resp)) return;
    set_cookie(req, resp, "", 0);
    see_other(resp, "/brief");
}

static void refresh_page_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    int lookback = form_lookback(req);
    grpc_status_code code = r->st.code;
    char back[64];
    snprintf(back, sizeof back, "/brief?lookback=%d", lookback);
    if (code == GRPC_STATUS_OK) {
        char loc[80];
        snprintf(loc, sizeof loc, "%s&refreshed=1", back);
        see_other(resp, loc);
        return;
    }
    if (code == GRPC_STATUS_UNAUTHENTICATED) {
        set_cookie(req, resp, "", 0);
        signin_page(resp, 401, "Your session has ended. Please sign in again.", lookback);
        return;
    }
    gw_resp_rpc_error(resp, &r->st); /* 429 + Retry-After, 503, ... */
    int status = resp->status;
    char msg[200];
    if (code == GRPC_STATUS_RESOURCE_EXHAUSTED) {
        int secs = atoi(r->st.retry_after);
        if (secs <= 0) secs = 300;
        int mins = (secs + 59) / 60;
        snprintf(msg, sizeof msg,
                 "You refreshed this brief a moment ago. It can be refreshed again in about %d minute%s; "
                 "until then it already shows the latest data.",
                 mins, mins == 1 ? "" : "s");
    } else {
        snprintf(msg, sizeof msg, "The brief could not be refreshed right now. Please try again in a minute.");
    }
    size_t len;
    char *page = gw_html_message_page(code == GRPC_STATUS_RESOURCE_EXHAUSTED ? "Already refreshed" : "Refresh failed",
                                      msg, back, "Back to the morning brief", &len);
    gw_resp_header(resp, "Cache-Control", "no-store");
    gw_page_set(resp, status, page, len);
}

bool gw_brief_refresh_session(gw_request *req, gw_response *resp)
{
    if (gw_req_header(req, "Authorization")) return false;
    char tok[TOKEN_MAX + 1];
    if (!gw_session_token(req, tok, sizeof tok)) return false;
    if (!csrf_ok(req, resp)) return true;
    gw_use_session(req);
    Sfpermits__V1__RefreshBriefRequest in = SFPERMITS__V1__REFRESH_BRIEF_REQUEST__INIT;
    gw_call_async(req, GW_BACKEND_BRIEF, "/sfpermits.v1.BriefService/RefreshBrief", &in.base, refresh_page_done);
    return true;
}
