/* handlers_brief.c — GET /brief and POST /brief/refresh (see handlers.h). The caller's
 * Authorization header reaches BriefService as metadata (gw_call's allow-list); the gateway
 * itself never interprets the token. */
#include "handlers.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "gw_pages.h"
#include "gw_read.h"
#include "gw_rpc.h"
#include "http_server.h"
#include "sfpermits/v1/brief.pb-c.h"

#define BRIEF_RPC "/sfpermits.v1.BriefService/GetBrief"

/* The REST shape of a brief keeps the per-request fields at the top level, after the page's
 * fields, as before the read envelope. cached_at is generated_at on a page_cache hit. */
void gw_brief_json_tail(sfp_buf *b, const gw_read_reply *r)
{
    const char *generated_at = r->md->generated_at ? r->md->generated_at : "";
    sfp_buf_printf(b, ",\"cached\":%s,\"cached_at\":", r->debug->cached ? "true" : "false");
    sfp_buf_json_str(b, r->debug->cached ? generated_at : "");
    sfp_buf_puts(b, ",\"computed_at\":");
    sfp_buf_json_str(b, generated_at);
    sfp_buf_printf(b, ",\"ttl_seconds_remaining\":%d,\"etag\":", (int)r->md->max_age_seconds);
    sfp_buf_json_str(b, r->md->etag ? r->md->etag : "");
    sfp_buf_printf(b, ",\"sql_queries\":%d", (int)r->debug->sql_queries);
}

/* A brief's etag names one computed page of one user (brief:{user}:{lookback} + computed_at),
 * so a cached JSON can only ever serve the user whose page it is. */
char *gw_brief_json(gw_json_cache *cache, gw_read_reply *r, size_t *len, bool *hit, sfp_rpc_status *st)
{
    sfp_buf tail;
    sfp_buf_init(&tail);
    gw_brief_json_tail(&tail, r);
    char *body = gw_read_json(cache, "brief", r, &sfpermits__v1__brief__descriptor, tail.data, tail.len, len, hit, st);
    sfp_buf_free(&tail);
    return body;
}

/* ?lookback=N as the reference reads it: an integer (blanks and sign allowed); absent or not
 * an integer → 1. Not clamped: BriefService answers INVALID_ARGUMENT (→ 400 with the field
 * violation) for anything outside 1..90; huge values saturate to the int32 range. */
int32_t gw_brief_lookback(const char *s)
{
    if (!s) return 1;
    while (isspace((unsigned char)*s)) s++;
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return 1;
    long long v = 0;
    for (; isdigit((unsigned char)*s); s++)
        if (v < 10000000) v = v * 10 + (*s - '0');
    while (isspace((unsigned char)*s)) s++;
    if (*s) return 1;
    if (neg) v = -v;
    return (int32_t)v; /* |v| < 10^8 */
}

static void brief_done(gw_request *req, gw_response *resp, const gw_rpc_reply *reply)
{
    sfp_rpc_status st = reply->st;
    gw_read_reply r;
    if (st.code != GRPC_STATUS_OK || gw_read_parse(&r, reply, &st)) {
        gw_resp_rpc_error(resp, &st); /* 401 + WWW-Authenticate: Bearer, 429/503 + Retry-After, ... */
        return;
    }
    /* Per-user content: only the user's own cache may keep it, for what is left of the entry's TTL. */
    int max_age = r.md->max_age_seconds;
    gw_resp_header(resp, "Cache-Control", "private, max-age=%d", max_age > 0 ? max_age : 0);
    gw_resp_header(resp, "Vary", "Accept, Cookie, Authorization");
    if (gw_read_etag(&r, true, gw_req_header(req, "If-None-Match"), resp)) {
        gw_read_free(&r);
        return;
    }
    sfp_buf tail;
    sfp_buf_init(&tail);
    gw_brief_json_tail(&tail, &r);
    bool hit;
    if (gw_read_respond(gw_server_json_cache(req->srv), "brief", &r, &sfpermits__v1__brief__descriptor, tail.data,
                        tail.len, resp, &hit, &st))
        gw_resp_rpc_error(resp, &st);
    sfp_buf_free(&tail);
    gw_read_free(&r);
}

void gw_handle_brief(gw_request *req, gw_response *resp)
{
    if (gw_req_wants_html(req)) {
        gw_brief_html(req, resp); /* the page, or the sign-in form (gw_pages.h) */
        return;
    }
    gw_use_session(req); /* no Authorization header: the session cookie's token, if any */
    Sfpermits__V1__GetBriefRequest in = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    in.lookback_days = gw_brief_lookback(gw_req_query(req, "lookback"));
    gw_call_async(req, GW_BACKEND_BRIEF, BRIEF_RPC, &in.base, brief_done);
}

static void brief_refresh_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    (void)req;
    if (gw_reply_json(r, resp, &sfpermits__v1__refresh_brief_response__descriptor, NULL) == GRPC_STATUS_OK)
        gw_resp_header(resp, "Cache-Control", "no-store");
}

void gw_handle_brief_refresh(gw_request *req, gw_response *resp)
{
    if (gw_brief_refresh_session(req, resp)) return; /* the page's form, cookie-authenticated */
    Sfpermits__V1__RefreshBriefRequest in = SFPERMITS__V1__REFRESH_BRIEF_REQUEST__INIT;
    gw_call_async(req, GW_BACKEND_BRIEF, "/sfpermits.v1.BriefService/RefreshBrief", &in.base, brief_refresh_done);
}
