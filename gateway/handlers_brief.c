/* handlers_brief.c — GET /brief and POST /brief/refresh (see handlers.h). The caller's
 * Authorization header reaches BriefService as metadata (gw_call's allow-list); the gateway
 * itself never interprets the token. */
#include "handlers.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "buf.h"
#include "gw_rpc.h"
#include "pbjson.h"
#include "sfpermits/v1/brief.pb-c.h"

/* ---- JSON memo ----
 * A cached brief is the same page for every hit until it is recomputed (new computed_at →
 * new etag), but encoding 60+ KB of JSON costs more than everything else the gateway does for
 * the request. The memo keeps the generic encoder's output for the page — all fields except
 * the per-request ones (cached, cached_at, computed_at, ttl_seconds_remaining, etag,
 * sql_queries), which are the message's last fields and therefore the JSON's tail — keyed by
 * etag, and appends a freshly encoded tail on every request. The etag is derived by the
 * service from brief:{user}:{lookback} and computed_at, so an entry can only ever serve the
 * user whose page it is. Bounded: GW_BRIEF_MEMO_ENTRIES pages, LRU. Any surprise in the
 * encoder's output (a new trailing field, say) simply disables the memo for that response. */
#define GW_BRIEF_MEMO_ENTRIES 64
#define GW_BRIEF_MEMO_MAX_BYTES (1u << 20) /* pages larger than 1 MiB are not memoised */

typedef struct memo_entry {
    char etag[48];
    char *prefix; /* JSON up to (not including) the per-request tail; malloc'd */
    size_t len;
    uint64_t used;
} memo_entry;

static pthread_mutex_t g_memo_mu = PTHREAD_MUTEX_INITIALIZER;
static memo_entry g_memo[GW_BRIEF_MEMO_ENTRIES];
static uint64_t g_memo_tick;

/* The per-request fields start at the last `,"cached":` of an encoded GetBriefResponse. */
static const char *tail_start(const char *json, size_t len)
{
    static const char k[] = ",\"cached\":";
    for (size_t i = len; i >= sizeof k - 1; i--)
        if (!memcmp(json + i - (sizeof k - 1), k, sizeof k - 1)) return json + i - (sizeof k - 1);
    return NULL;
}

/* JSON of the per-request fields of b (a leading comma, through the closing brace), from the
 * generic encoder run on a message that carries only them. malloc'd. */
static char *encode_tail(const Sfpermits__V1__GetBriefResponse *b, size_t *len)
{
    Sfpermits__V1__GetBriefResponse t = SFPERMITS__V1__GET_BRIEF_RESPONSE__INIT;
    t.cached = b->cached;
    t.cached_at = b->cached_at;
    t.computed_at = b->computed_at;
    t.ttl_seconds_remaining = b->ttl_seconds_remaining;
    t.etag = b->etag;
    t.sql_queries = b->sql_queries;
    size_t n = 0;
    char *j = sfp_pbjson_encode(&t.base, &n);
    const char *ts = tail_start(j, n);
    if (!ts) {
        free(j);
        return NULL;
    }
    size_t tl = n - (size_t)(ts - j);
    char *out = malloc(tl + 1);
    if (!out) abort();
    memcpy(out, ts, tl + 1);
    free(j);
    *len = tl;
    return out;
}

static bool memo_get(const char *etag, const char *tail, size_t tail_len, char **body, size_t *len)
{
    bool hit = false;
    pthread_mutex_lock(&g_memo_mu);
    for (size_t i = 0; i < GW_BRIEF_MEMO_ENTRIES; i++) {
        memo_entry *e = &g_memo[i];
        if (e->prefix && !strcmp(e->etag, etag)) {
            *body = malloc(e->len + tail_len + 1);
            if (!*body) abort();
            memcpy(*body, e->prefix, e->len);
            memcpy(*body + e->len, tail, tail_len + 1);
            *len = e->len + tail_len;
            e->used = ++g_memo_tick;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&g_memo_mu);
    return hit;
}

static void memo_put(const char *etag, const char *prefix, size_t len)
{
    if (len > GW_BRIEF_MEMO_MAX_BYTES || strlen(etag) >= sizeof g_memo[0].etag) return;
    char *copy = malloc(len);
    if (!copy) abort();
    memcpy(copy, prefix, len);
    pthread_mutex_lock(&g_memo_mu);
    memo_entry *victim = &g_memo[0];
    for (size_t i = 0; i < GW_BRIEF_MEMO_ENTRIES; i++) {
        memo_entry *e = &g_memo[i];
        if (e->prefix && !strcmp(e->etag, etag)) { /* a concurrent request stored it already */
            pthread_mutex_unlock(&g_memo_mu);
            free(copy);
            return;
        }
        if (!e->prefix || e->used < victim->used) victim = e;
        if (!e->prefix) break;
    }
    free(victim->prefix);
    snprintf(victim->etag, sizeof victim->etag, "%s", etag);
    victim->prefix = copy;
    victim->len = len;
    victim->used = ++g_memo_tick;
    pthread_mutex_unlock(&g_memo_mu);
}

void gw_brief_memo_clear(void)
{
    pthread_mutex_lock(&g_memo_mu);
    for (size_t i = 0; i < GW_BRIEF_MEMO_ENTRIES; i++) {
        free(g_memo[i].prefix);
        memset(&g_memo[i], 0, sizeof g_memo[i]);
    }
    pthread_mutex_unlock(&g_memo_mu);
}

/* The response body: the memoised page + this request's tail, or a full encoding (which then
 * feeds the memo). Same bytes either way. */
char *gw_brief_json(Sfpermits__V1__GetBriefResponse *b, size_t *len, bool *memo_hit)
{
    *memo_hit = false;
    size_t tail_len = 0;
    char *tail = (b->etag && *b->etag) ? encode_tail(b, &tail_len) : NULL;
    char *body = NULL;
    if (tail && memo_get(b->etag, tail, tail_len, &body, len)) {
        free(tail);
        *memo_hit = true;
        return body;
    }
    body = sfp_pbjson_encode(&b->base, len);
    if (tail) {
        const char *ts = tail_start(body, *len);
        /* memoise only when the encoder's tail is exactly the separately encoded one */
        if (ts && (size_t)(*len - (size_t)(ts - body)) == tail_len && !memcmp(ts, tail, tail_len))
            memo_put(b->etag, body, (size_t)(ts - body));
        free(tail);
    }
    return body;
}

/* ?lookback=N as the reference reads it: an integer (blanks and sign allowed), clamped to
 * 1..90; absent or not an integer → 1. BriefService clamps again. */
int32_t gw_brief_lookback(const char *s)
{
    if (!s) return 1;
    while (isspace((unsigned char)*s)) s++;
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return 1;
    long long v = 0;
    for (; isdigit((unsigned char)*s); s++)
        if (v < 1000000) v = v * 10 + (*s - '0');
    while (isspace((unsigned char)*s)) s++;
    if (*s) return 1;
    if (neg) v = -v;
    return v < 1 ? 1 : v > 90 ? 90 : (int32_t)v;
}

void gw_handle_brief(gw_request *req, gw_response *resp)
{
    Sfpermits__V1__GetBriefRequest in = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    in.lookback_days = gw_brief_lookback(gw_req_query(req, "lookback"));
    ProtobufCMessage *out = NULL;
    sfp_rpc_status st;
    if (gw_call(req, GW_BACKEND_BRIEF, "/sfpermits.v1.BriefService/GetBrief", &in.base,
                &sfpermits__v1__get_brief_response__descriptor, &out, &st) != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st); /* 401 + WWW-Authenticate: Bearer, 429/503 + Retry-After, ... */
        return;
    }
    const Sfpermits__V1__GetBriefResponse *b = (const Sfpermits__V1__GetBriefResponse *)out;
    /* Per-user content: only the user's own cache may keep it, for what is left of the entry's TTL. */
    gw_resp_header(resp, "Cache-Control", "private, max-age=%d", b->ttl_seconds_remaining > 0 ? b->ttl_seconds_remaining : 0);
    gw_resp_header(resp, "Vary", "Authorization");
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

void gw_handle_brief_refresh(gw_request *req, gw_response *resp)
{
    Sfpermits__V1__RefreshBriefRequest in = SFPERMITS__V1__REFRESH_BRIEF_REQUEST__INIT;
    if (gw_call_json(req, resp, GW_BACKEND_BRIEF, "/sfpermits.v1.BriefService/RefreshBrief", &in.base,
                     &sfpermits__v1__refresh_brief_response__descriptor, NULL) == GRPC_STATUS_OK)
        gw_resp_header(resp, "Cache-Control", "no-store");
}
