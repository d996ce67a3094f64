/* handlers_brief.c — GET /brief and POST /brief/refresh (see handlers.h). The caller's
 * Authorization header reaches BriefService as metadata (gw_call's allow-list); the gateway
 * itself never interprets the token. */
#include "handlers.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

#include <pthread.h>

#include "gw_json_memo.h"
#include "gw_pages.h"
#include "gw_rpc.h"
#include "sfpermits/v1/brief.pb-c.h"

/* ---- JSON memo ----
 * A cached brief is the same page for every hit until it is recomputed (new computed_at →
 * new etag), but encoding 60+ KB of JSON costs more than everything else the gateway does for
 * the request. The page — all fields except the per-request ones (cached, cached_at,
 * computed_at, ttl_seconds_remaining, etag, sql_queries), which are the message's last fields
 * and therefore the JSON's tail, starting at `,"cached":` — is memoised by etag in a
 * gw_json_memo of its own (see gw_json_memo.h). The etag is derived by the service from
 * brief:{user}:{lookback} and computed_at, so an entry can only ever serve the user whose page
 * it is. */
#define GW_BRIEF_MEMO_ENTRIES 64
#define GW_BRIEF_MEMO_MAX_BYTES (1u << 20) /* pages larger than 1 MiB are not memoised */

static gw_json_memo *g_memo;
static pthread_once_t g_memo_once = PTHREAD_ONCE_INIT;

static void memo_init(void)
{
    g_memo = gw_json_memo_new(",\"cached\":", GW_BRIEF_MEMO_ENTRIES, GW_BRIEF_MEMO_MAX_BYTES);
}

static gw_json_memo *brief_memo(void)
{
    pthread_once(&g_memo_once, memo_init);
    return g_memo;
}

void gw_brief_memo_clear(void)
{
    gw_json_memo_clear(brief_memo());
}

/* The response body: the memoised page + this request's tail, or a full encoding (which then
 * feeds the memo). Same bytes either way. */
char *gw_brief_json(Sfpermits__V1__GetBriefResponse *b, size_t *len, bool *memo_hit)
{
    Sfpermits__V1__GetBriefResponse t = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    t.cached = b->cached;
    t.cached_at = b->cached_at;
    t.computed_at = b->computed_at;
    t.ttl_seconds_remaining = b->ttl_seconds_remaining;
    t.etag = b->etag;
    t.sql_queries = b->sql_queries;
    return gw_json_memo_encode(brief_memo(), b->etag, &b->base, &t.base, len, memo_hit);
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

static void brief_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    ProtobufCMessage *out = NULL;
    sfp_rpc_status st;
    if (gw_reply_decode(r, &sfpermits__v1__get_brief_response__descriptor, &out, &st) != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st); /* 401 + WWW-Authenticate: Bearer, 429/503 + Retry-After, ... */
        return;
    }
    const Sfpermits__V1__GetBriefResponse *b = (const Sfpermits__V1__GetBriefResponse *)out;
    /* Per-user content: only the user's own cache may keep it, for what is left of the entry's TTL. */
    gw_resp_header(resp, "Cache-Control", "private, max-age=%d",
                   b->ttl_seconds_remaining > 0 ? b->ttl_seconds_remaining : 0);
    gw_resp_header(resp, "Vary", "Accept, Cookie, Authorization");
    if (b->etag && *b->etag) {
        char etag[GW_RESP_HEADER_MAX];
        snprintf(etag, sizeof etag, "W/\"%s\"", b->etag);
        gw_resp_header(resp, "ETag", "%s", etag);
        if (gw_etag_matches(gw_req_header(req, "If-None-Match"), etag)) {
            protobuf_c_message_free_unpacked(out, NULL);
            gw_resp_set_static(resp, 304, GW_CT_JSON, NULL, 0); /* no body, no serialisation */
            return;
        }
    }
    size_t len = 0;
    bool memo_hit;
    char *json = gw_brief_json((Sfpermits__V1__GetBriefResponse *)out, &len, &memo_hit);
    protobuf_c_message_free_unpacked(out, NULL);
    gw_resp_set_body(resp, 200, GW_CT_JSON, json, len);
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
    gw_call_async(req, GW_BACKEND_BRIEF, "/sfpermits.v1.BriefService/GetBrief", &in.base, brief_done);
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
