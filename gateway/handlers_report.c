/* handlers_report.c — GET /report/{block}/{lot} (see handlers.h).
 *
 * Order: validate block/lot (400, no RPC) → per-client rate limit (429 + Retry-After) →
 * ReportService/GetPropertyReport → JSON. Caching: the ETag is the report's own etag, computed
 * by sfp-report when it assembled the content (equal etags ⇔ identical content), so an
 * unchanged parcel revalidates with 304 even when it was re-assembled; Cache-Control is public
 * with the metadata's max_age_seconds (until the oldest live source expires, ≤ 900).
 *
 * The reply is read through the packed view (gw_read.h): only the metadata is decoded.
 * If-None-Match → 304 without any JSON; otherwise the content's JSON comes from the server's
 * JSON cache under "report:<etag>" (decoded and encoded once per distinct content) and the
 * per-request members (sources, debug, generated_at) are rendered from the metadata. */
#include "handlers.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_pages.h"
#include "gw_ratelimit.h"
#include "gw_read.h"
#include "gw_rpc.h"
#include "http_server.h"
#include "pbjson.h"
#include "sfpermits/v1/report.pb-c.h"
#include "soda_ids.h"

#define REPORT_MAX_AGE_CAP 900

int gw_report_max_age(const gw_read_reply *r)
{
    int max_age = r->md->max_age_seconds;
    return max_age < 0 ? 0 : max_age > REPORT_MAX_AGE_CAP ? REPORT_MAX_AGE_CAP : max_age;
}

void gw_report_json_tail(sfp_buf *b, const gw_read_reply *r)
{
    static const char *const names[] = {"complaints", "violations", "tax_roll"};
    sfp_buf_puts(b, ",\"sources\":{");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sfp_buf_printf(b, "\"%s\":", names[i]);
        const Sfpermits__V1__SourceStatus *s = gw_read_source(r->md, names[i]);
        if (s) sfp_pbjson_append(b, &s->base);
        else sfp_buf_puts(b, "null");
        sfp_buf_putc(b, ',');
    }
    sfp_buf_printf(b, "\"max_age_seconds\":%d},\"debug\":{\"sql_queries\":%d,\"soda_requests\":%d,\"elapsed_ms\":",
                   (int)r->md->max_age_seconds, (int)r->debug->sql_queries, (int)r->debug->soda_requests);
    gw_json_double(b, r->debug->elapsed_ms);
    sfp_buf_printf(b, ",\"report_cache_hit\":%s},\"generated_at\":", r->debug->cached ? "true" : "false");
    sfp_buf_json_str(b, r->md->generated_at ? r->md->generated_at : "");
}

char *gw_report_json(gw_json_cache *cache, gw_read_reply *r, size_t *len, bool *hit, sfp_rpc_status *st)
{
    sfp_buf tail;
    sfp_buf_init(&tail);
    gw_report_json_tail(&tail, r);
    char *body = gw_read_json(cache, "report", r, &sfpermits__v1__property_report__descriptor, tail.data, tail.len, len,
                              hit, st);
    sfp_buf_free(&tail);
    return body;
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
    gw_call_async(req, GW_BACKEND_REPORT, GW_REPORT_RPC, &in.base, report_done);
}

static void report_done(gw_request *req, gw_response *resp, const gw_rpc_reply *reply)
{
    sfp_rpc_status st = reply->st;
    if (st.code != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st);
        return;
    }
    gw_read_reply r;
    if (gw_read_parse(&r, reply, &st)) {
        gw_resp_rpc_error(resp, &st);
        return;
    }
    if (gw_req_wants_html(req)) { /* the page: its own ETag and Cache-Control (gw_pages.h) */
        gw_report_html(req, resp, &r);
        gw_read_free(&r);
        return;
    }
    gw_resp_header(resp, "Vary", "Accept");
    gw_resp_header(resp, "Cache-Control", "public, max-age=%d", gw_report_max_age(&r));
    if (gw_read_etag(&r, false, gw_req_header(req, "If-None-Match"), resp)) {
        gw_read_free(&r);
        return;
    }
    sfp_buf tail;
    sfp_buf_init(&tail);
    gw_report_json_tail(&tail, &r);
    bool hit;
    if (gw_read_respond(gw_server_json_cache(req->srv), "report", &r, &sfpermits__v1__property_report__descriptor,
                        tail.data, tail.len, resp, &hit, &st))
        gw_resp_rpc_error(resp, &st);
    sfp_buf_free(&tail);
    gw_read_free(&r);
}
