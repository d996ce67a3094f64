/* handlers_report.c — GET /report/{block}/{lot} (see handlers.h).
 *
 * Order: validate block/lot (400, no RPC) → per-client rate limit (429 + Retry-After) →
 * ReportService/GetPropertyReport → JSON. Caching: the ETag is a hash of the report's content
 * without its volatile parts (generated_at, debug counters, source ages), so an unchanged
 * parcel revalidates with 304 even when it was re-assembled; Cache-Control is public with the
 * time until the oldest live source expires (sources.max_age_seconds, ≤ 900).
 *
 * The reply is taken raw (gw_call_raw) and scanned at the wire level (gw_pbwire.h): fields
 * 1–15 are hashed for the ETag (the same value as hashing the report packed without fields
 * 16–18, since protobuf-c packs in field-number order), and only fields 16–18 are unpacked.
 * If-None-Match → 304 without any JSON; a memoised content → memo + freshly encoded tail;
 * otherwise the full report is unpacked and encoded (and memoised). A reply the scan rejects
 * is unpacked whole as before (undecodable → 500 as for any route). */
#include "handlers.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "gw_json_memo.h"
#include "gw_pages.h"
#include "gw_pbwire.h"
#include "gw_ratelimit.h"
#include "gw_rpc.h"
#include "http_server.h"
#include "pbjson.h"
#include "sfpermits/v1/report.pb-c.h"
#include "soda_client.h"

#define REPORT_MAX_AGE_CAP 900
#define REPORT_RPC "/sfpermits.v1.ReportService/GetPropertyReport"
/* The volatile fields: sources = 16, debug = 17, generated_at = 18 — the report's last fields. */
#define REPORT_TAIL_FIRST 16
#define REPORT_TAIL_LAST 18

/* ---- JSON memo ----
 * The report's content (fields 1–15, ~84 KB of JSON for 3512/001) is the same for every
 * request until the data changes; only sources/debug/generated_at (the JSON's tail, from
 * `,"sources":`) differ. The content's JSON is memoised (gw_json_memo.h) under
 * "report:{block}/{lot}:{content bytes}:{content hash}", so a hit costs a wire scan, a small
 * unpack and a copy instead of a full unpack and encoding. */
#define GW_REPORT_MEMO_ENTRIES 64
#define GW_REPORT_MEMO_MAX_BYTES (1u << 20)

static gw_json_memo *g_memo;
static pthread_once_t g_memo_once = PTHREAD_ONCE_INIT;

static void memo_init(void)
{
    g_memo = gw_json_memo_new(",\"sources\":", GW_REPORT_MEMO_ENTRIES, GW_REPORT_MEMO_MAX_BYTES);
}

static gw_json_memo *report_memo(void)
{
    pthread_once(&g_memo_once, memo_init);
    return g_memo;
}

void gw_report_memo_clear(void)
{
    gw_json_memo_clear(report_memo());
}

static void format_etag(uint64_t h, char *out, size_t n)
{
    snprintf(out, n, "\"%016llx\"", (unsigned long long)h);
}

/* Content ETag of an unpacked report (the fallback path): its packed protobuf with the volatile
 * fields detached, hashed — the same value the wire scan computes. */
static void report_etag(Sfpermits__V1__PropertyReport *r, char *out, size_t n)
{
    Sfpermits__V1__ReportSources *sources = r->sources;
    Sfpermits__V1__ReportDebug *debug = r->debug;
    char *generated_at = r->generated_at;
    r->sources = NULL;
    r->debug = NULL;
    r->generated_at = (char *)"";
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) abort();
    protobuf_c_message_pack(&r->base, buf);
    r->sources = sources;
    r->debug = debug;
    r->generated_at = generated_at;
    format_etag(gw_fnv1a64(GW_FNV1A64_INIT, buf, len), out, n);
    free(buf);
}

/* The volatile fields alone: the spans of fields 16–18 concatenated and unpacked as a
 * PropertyReport (everything else at its zero value). NULL when they do not decode. */
static Sfpermits__V1__PropertyReport *unpack_tail(const uint8_t *wire, const gw_pbwire_split *sp)
{
    uint8_t stackbuf[1024];
    uint8_t *buf = sp->spans_len <= sizeof stackbuf ? stackbuf : malloc(sp->spans_len);
    if (!buf) abort();
    size_t off = 0;
    for (size_t i = 0; i < sp->nspans; i++) {
        memcpy(buf + off, wire + sp->spans[i].off, sp->spans[i].len);
        off += sp->spans[i].len;
    }
    ProtobufCMessage *m = protobuf_c_message_unpack(&sfpermits__v1__property_report__descriptor, NULL, off, buf);
    if (buf != stackbuf) free(buf);
    return (Sfpermits__V1__PropertyReport *)m;
}

int gw_report_reply_parse(gw_report_reply *r, const uint8_t *wire, size_t n, sfp_rpc_status *st)
{
    memset(r, 0, sizeof *r);
    r->wire = wire;
    r->wire_len = n;
    gw_pbwire_split sp;
    if (gw_pbwire_split_fields(wire, n, REPORT_TAIL_FIRST, REPORT_TAIL_LAST, &sp) == 0 &&
        (r->tail = unpack_tail(wire, &sp))) {
        format_etag(sp.hash, r->etag, sizeof r->etag);
        r->content_len = sp.content_len;
    } else { /* not scannable: the whole report, as gw_call would decode it */
        ProtobufCMessage *m = NULL;
        if (gw_rpc_decode(GW_BACKEND_REPORT, REPORT_RPC, &sfpermits__v1__property_report__descriptor, wire, n, &m,
                          st) != GRPC_STATUS_OK)
            return -1;
        r->full = (Sfpermits__V1__PropertyReport *)m;
        report_etag(r->full, r->etag, sizeof r->etag);
    }
    const Sfpermits__V1__PropertyReport *t = r->tail ? r->tail : r->full;
    int max_age = t->sources ? t->sources->max_age_seconds : 0;
    r->max_age = max_age < 0 ? 0 : max_age > REPORT_MAX_AGE_CAP ? REPORT_MAX_AGE_CAP : max_age;
    return 0;
}

char *gw_report_reply_json(gw_report_reply *r, const char *block, const char *lot, size_t *len, bool *memo_hit,
                           sfp_rpc_status *st)
{
    *memo_hit = false;
    if (!r->tail) return sfp_pbjson_encode(&r->full->base, len); /* fallback: no memo */
    gw_json_memo *memo = report_memo();
    char key[GW_JSON_MEMO_KEY_MAX];
    snprintf(key, sizeof key, "report:%s/%s:%zu:%s", block, lot, r->content_len, r->etag);
    size_t tail_len = 0;
    char *tail = gw_json_memo_tail(memo, &r->tail->base, &tail_len);
    char *body = tail ? gw_json_memo_get(memo, key, tail, tail_len, len) : NULL;
    if (body) {
        *memo_hit = true;
    } else {
        ProtobufCMessage *m = NULL;
        if (gw_rpc_decode(GW_BACKEND_REPORT, REPORT_RPC, &sfpermits__v1__property_report__descriptor, r->wire,
                          r->wire_len, &m, st) == GRPC_STATUS_OK) {
            r->full = (Sfpermits__V1__PropertyReport *)m;
            body = gw_json_memo_fill(memo, key, m, tail, tail_len, len);
        }
    }
    free(tail);
    return body;
}

void gw_report_reply_free(gw_report_reply *r)
{
    if (r->tail) protobuf_c_message_free_unpacked(&r->tail->base, NULL);
    if (r->full) protobuf_c_message_free_unpacked(&r->full->base, NULL);
    r->tail = r->full = NULL;
}

static void report_done(gw_request *req, gw_response *resp, const gw_rpc_reply *reply);

void gw_handle_report(gw_request *req, gw_response *resp)
{
    const char *block = gw_req_capture(req, "block");
    const char *lot = gw_req_capture(req, "lot");
    if (!block || !sfp_soda_valid_block(block)) {
        gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, "block",
                          "block must be 4 digits with an optional capital letter, e.g. 3512");
        return;
    }
    if (!lot || !sfp_soda_valid_lot(lot)) {
        gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, "lot",
                          "lot must be 3 digits with an optional capital letter, e.g. 001");
        return;
    }
    char client[64];
    gw_req_client_ip(req, client, sizeof client);
    int retry_after = 0;
    if (!gw_ratelimit_take(gw_server_report_limiter(req->srv), client, sfp_mono_ns(), &retry_after)) {
        gw_resp_rate_limited(resp, "too many report requests; try again later", retry_after);
        return;
    }

    Sfpermits__V1__GetPropertyReportRequest in = SFPERMITS__V1__GET_PROPERTY_REPORT_REQUEST__INIT;
    in.block = (char *)block;
    in.lot = (char *)lot;
    gw_call_async(req, GW_BACKEND_REPORT, REPORT_RPC, &in.base, report_done);
}

static void report_done(gw_request *req, gw_response *resp, const gw_rpc_reply *reply)
{
    const char *block = gw_req_capture(req, "block");
    const char *lot = gw_req_capture(req, "lot");
    sfp_rpc_status st = reply->st;
    if (st.code != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st);
        return;
    }
    const uint8_t *wire = reply->bytes; /* owned by the server */
    gw_report_reply r;
    if (gw_report_reply_parse(&r, wire, reply->len, &st)) {
        gw_resp_rpc_error(resp, &st);
        return;
    }
    if (gw_req_wants_html(req)) { /* the page: its own ETag and Cache-Control (gw_pages.h) */
        gw_report_html(req, resp, &r);
        gw_report_reply_free(&r);
        return;
    }
    gw_resp_header(resp, "Vary", "Accept");
    gw_resp_header(resp, "Cache-Control", "public, max-age=%d", r.max_age);
    gw_resp_header(resp, "ETag", "%s", r.etag);
    if (gw_etag_matches(gw_req_header(req, "If-None-Match"), r.etag)) {
        gw_report_reply_free(&r);
        gw_resp_set_static(resp, 304, GW_CT_JSON, NULL, 0); /* no body, no serialisation */
        return;
    }
    size_t len = 0;
    bool memo_hit;
    char *json = gw_report_reply_json(&r, block, lot, &len, &memo_hit, &st);
    gw_report_reply_free(&r);
    if (!json) {
        gw_resp_rpc_error(resp, &st);
        return;
    }
    gw_resp_set_body(resp, 200, GW_CT_JSON, json, len);
}
