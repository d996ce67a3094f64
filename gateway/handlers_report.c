/* handlers_report.c — GET /report/{block}/{lot} (see handlers.h).
 *
 * Order: validate block/lot (400, no RPC) → per-client rate limit (429 + Retry-After) →
 * ReportService/GetPropertyReport → JSON. Caching: the ETag is a hash of the report's content
 * without its volatile parts (generated_at, debug counters, source ages), so an unchanged
 * parcel revalidates with 304 even when it was re-assembled; Cache-Control is public with the
 * time until the oldest live source expires (sources.max_age_seconds, ≤ 900). */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ratelimit.h"
#include "gw_rpc.h"
#include "http_server.h"
#include "pbjson.h"
#include "sfpermits/v1/report.pb-c.h"
#include "soda_client.h"

#define REPORT_MAX_AGE_CAP 900

static uint64_t fnv1a64(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Content ETag: the packed protobuf of the report with the volatile fields detached, hashed
 * (packing is several times cheaper than a second JSON encoding). */
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
    snprintf(out, n, "\"%016llx\"", (unsigned long long)fnv1a64((const char *)buf, len));
    free(buf);
}

void gw_handle_report(gw_request *req, gw_response *resp)
{
    const char *block = gw_req_capture(req, "block");
    const char *lot = gw_req_capture(req, "lot");
    if (!block || !sfp_soda_valid_block(block)) {
        gw_resp_http_error(resp, 400, "block must be 4 digits with an optional capital letter, e.g. 3512");
        return;
    }
    if (!lot || !sfp_soda_valid_lot(lot)) {
        gw_resp_http_error(resp, 400, "lot must be 3 digits with an optional capital letter, e.g. 001");
        return;
    }
    char client[64];
    gw_req_client_ip(req, client, sizeof client);
    int retry_after = 0;
    if (!gw_ratelimit_take(gw_server_report_limiter(req->srv), client, gw_now_ns(), &retry_after)) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        gw_resp_error(resp, 429, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many report requests; try again later", ra);
        return;
    }

    Sfpermits__V1__GetPropertyReportRequest in = SFPERMITS__V1__GET_PROPERTY_REPORT_REQUEST__INIT;
    in.block = (char *)block;
    in.lot = (char *)lot;
    ProtobufCMessage *out = NULL;
    sfp_rpc_status st;
    if (gw_call(req, GW_BACKEND_REPORT, "/sfpermits.v1.ReportService/GetPropertyReport", &in.base,
                &sfpermits__v1__property_report__descriptor, &out, &st) != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st);
        return;
    }
    Sfpermits__V1__PropertyReport *r = (Sfpermits__V1__PropertyReport *)out;
    int max_age = r->sources ? r->sources->max_age_seconds : 0;
    if (max_age < 0) max_age = 0;
    if (max_age > REPORT_MAX_AGE_CAP) max_age = REPORT_MAX_AGE_CAP;
    gw_resp_header(resp, "Cache-Control", "public, max-age=%d", max_age);
    char etag[40];
    report_etag(r, etag, sizeof etag);
    gw_resp_header(resp, "ETag", "%s", etag);
    if (gw_etag_matches(gw_req_header(req, "If-None-Match"), etag)) {
        protobuf_c_message_free_unpacked(out, NULL);
        gw_resp_set_static(resp, 304, GW_CT_JSON, NULL, 0);
        return;
    }
    size_t len = 0;
    char *json = sfp_pbjson_encode(out, &len);
    protobuf_c_message_free_unpacked(out, NULL);
    gw_resp_set_body(resp, 200, GW_CT_JSON, json, len);
}
