/* handlers_cron.c — POST /cron/{signals,velocity-refresh,compute-caches,nightly,heartbeat} and
 * GET /cron/status (see handlers.h).
 *
 * The Authorization header is forwarded as-is (gw_call's allow-list); CronService checks the
 * secret, so 401 comes from the backend's UNAUTHENTICATED. A job that ran and failed comes back
 * as a non-OK status (INTERNAL → 500, UNAVAILABLE → 503, DEADLINE_EXCEEDED → 504) whose details
 * hold the job's result: the error JSON carries it as "result" (the same JSON a success
 * returns, with ok=false). ABORTED ("already running") → 409 through the status map.
 * Route classes do the CRON_WORKER gating: the POST routes are CRON_TRIGGER (worker only),
 * /cron/status is CRON_READ (everywhere). */
#include "handlers.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gw_rpc.h"
#include "pbjson.h"
#include "sfpermits/v1/cron.pb-c.h"

typedef struct cron_route {
    const char *pattern;
    const char *rpc;
    const ProtobufCMessageDescriptor *req_desc, *resp_desc;
} cron_route;

static const cron_route k_cron_routes[] = {
    {"/cron/signals", "/sfpermits.v1.CronService/RunSignals", &sfpermits__v1__run_signals_request__descriptor,
     &sfpermits__v1__signals_result__descriptor},
    {"/cron/velocity-refresh", "/sfpermits.v1.CronService/RunVelocityRefresh",
     &sfpermits__v1__run_velocity_refresh_request__descriptor, &sfpermits__v1__velocity_refresh_result__descriptor},
    {"/cron/compute-caches", "/sfpermits.v1.CronService/RunComputeCaches",
     &sfpermits__v1__run_compute_caches_request__descriptor, &sfpermits__v1__compute_caches_result__descriptor},
    {"/cron/nightly", "/sfpermits.v1.CronService/RunNightly", &sfpermits__v1__run_nightly_request__descriptor,
     &sfpermits__v1__nightly_result__descriptor},
    {"/cron/heartbeat", "/sfpermits.v1.CronService/RunHeartbeat", &sfpermits__v1__run_heartbeat_request__descriptor,
     &sfpermits__v1__heartbeat_result__descriptor},
};

static const cron_route *find_route(const char *pattern)
{
    for (size_t i = 0; i < sizeof k_cron_routes / sizeof k_cron_routes[0]; i++)
        if (pattern && !strcmp(k_cron_routes[i].pattern, pattern)) return &k_cron_routes[i];
    return NULL;
}

/* Optional integer query parameter; 0 when absent. -1 (after a 400) when malformed. */
static int query_int(gw_request *req, gw_response *resp, const char *name, long min, long max, long *out)
{
    *out = 0;
    const char *v = gw_req_query(req, name);
    if (!v) return 0;
    sfp_err err = {0};
    if (sfp_parse_long(name, v, min, max, out, &err)) {
        gw_resp_http_error(resp, 400, err.msg);
        return -1;
    }
    return 0;
}

static int query_bool(gw_request *req, gw_response *resp, const char *name, bool *out)
{
    *out = false;
    const char *v = gw_req_query(req, name);
    if (!v) return 0;
    if (!*v) { /* bare ?dry_run */
        *out = true;
        return 0;
    }
    sfp_err err = {0};
    if (sfp_parse_bool(name, v, out, &err)) {
        gw_resp_http_error(resp, 400, err.msg);
        return -1;
    }
    return 0;
}

static void cron_job_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r);

void gw_handle_cron_job(gw_request *req, gw_response *resp)
{
    const cron_route *cr = find_route(req->route ? req->route->pattern : NULL);
    if (!cr) {
        gw_resp_http_error(resp, 404, "no such cron job");
        return;
    }
    Sfpermits__V1__RunNightlyRequest nightly = SFPERMITS__V1__RUN_NIGHTLY_REQUEST__INIT;
    Sfpermits__V1__RunComputeCachesRequest caches = SFPERMITS__V1__RUN_COMPUTE_CACHES_REQUEST__INIT;
    Sfpermits__V1__RunSignalsRequest empty = SFPERMITS__V1__RUN_SIGNALS_REQUEST__INIT;
    const ProtobufCMessage *msg = &empty.base;
    /* Empty request messages share one wire form; only the descriptor differs. */
    if (cr->req_desc == &sfpermits__v1__run_nightly_request__descriptor) {
        long lookback;
        bool dry;
        if (query_int(req, resp, "lookback", 1, 90, &lookback) || query_bool(req, resp, "dry_run", &dry)) return;
        nightly.lookback_days = (int32_t)lookback;
        nightly.dry_run = dry;
        msg = &nightly.base;
    } else if (cr->req_desc == &sfpermits__v1__run_compute_caches_request__descriptor) {
        long conc;
        if (query_int(req, resp, "concurrency", 1, 32, &conc)) return;
        caches.concurrency = (int32_t)conc;
        msg = &caches.base;
    }
    req->user = (void *)cr;
    gw_call_async(req, GW_BACKEND_CRON, cr->rpc, msg, cron_job_done);
}

static void cron_job_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    const cron_route *cr = req->user;
    ProtobufCMessage *out = NULL;
    grpc_status_code code = gw_reply_json(r, resp, cr->resp_desc, &out);
    if (code != GRPC_STATUS_OK && r->st.details_len) {
        /* a failed run: render its result (packed as Any in the status details) */
        ProtobufCMessage *res = sfp_rpc_details_find(r->st.details_bin, r->st.details_len, cr->resp_desc);
        if (res) {
            char *json = sfp_pbjson_encode(res, NULL);
            gw_resp_rpc_error_result(resp, &r->st, json);
            free(json);
            protobuf_c_message_free_unpacked(res, NULL);
        }
    }
    gw_resp_header(resp, "Cache-Control", "no-store");
    if (out) protobuf_c_message_free_unpacked(out, NULL);
}

static void cron_status_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    (void)req;
    gw_reply_json(r, resp, &sfpermits__v1__get_status_response__descriptor, NULL);
    gw_resp_header(resp, "Cache-Control", "no-store");
}

void gw_handle_cron_status(gw_request *req, gw_response *resp)
{
    (void)resp;
    Sfpermits__V1__GetStatusRequest sreq = SFPERMITS__V1__GET_STATUS_REQUEST__INIT;
    gw_call_async(req, GW_BACKEND_CRON, "/sfpermits.v1.CronService/GetStatus", &sreq.base, cron_status_done);
}
