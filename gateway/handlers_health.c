/* handlers_health.c — GET /health, /healthz, /readyz (see handlers.h). */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "gw_rpc.h"
#include "http_server.h"
#include "log.h"
#include "grpc/health/v1/health.pb-c.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "status_map.h"

static void health_done_impl(gw_response *resp, const gw_rpc_reply *r);
static void health_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    (void)req;
    health_done_impl(resp, r);
}

void gw_handle_health(gw_request *req, gw_response *resp)
{
    Sfpermits__V1__GetHealthRequest hreq = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    const char *full = gw_req_query(req, "full");
    if (full) {
        bool b = true;
        sfp_err err = {0};
        if (*full && sfp_parse_bool("full", full, &b, &err)) {
            gw_resp_bad_field(resp, SFP_REASON_ARGUMENT_MALFORMED, "full",
                              "query parameter 'full' must be a boolean (1/0, true/false)");
            return;
        }
        hreq.full = b;
    }
    if (hreq.full) gw_req_set_default_deadline(req, GW_HEALTH_FULL_TIMEOUT_MS);
    gw_call_async(req, GW_BACKEND_HEALTH, "/sfpermits.v1.HealthService/GetHealth", &hreq.base, health_done);
}

static void health_done_impl(gw_response *resp, const gw_rpc_reply *r)
{
    ProtobufCMessage *out = NULL;
    if (gw_reply_json(r, resp, &sfpermits__v1__get_health_response__descriptor, &out) != GRPC_STATUS_OK) return;
    const Sfpermits__V1__GetHealthResponse *h = (const Sfpermits__V1__GetHealthResponse *)out;
    if (h->status != SFPERMITS__V1__SUITE_STATUS__SUITE_STATUS_OK) {
        resp->status = 503;
        gw_resp_header(resp, "Retry-After", "%d", gw_retry_after_seconds(NULL, 503));
    }
    protobuf_c_message_free_unpacked(out, NULL);
}

void gw_handle_healthz(gw_request *req, gw_response *resp)
{
    (void)req;
    static const char body[] = "{\"status\":\"ok\"}";
    gw_resp_set_static(resp, 200, GW_CT_JSON, body, sizeof body - 1);
}

/* Readiness: the health backend's grpc.health.v1 Check("readiness"), cached GW_READY_CACHE_MS.
 * One check runs at a time; probes arriving meanwhile get the previous answer (or, before the
 * first answer, start their own). */
static void ready_answer(gw_request *req, gw_response *resp)
{
    gw_ready_cache *rc = gw_server_ready_cache(req->srv);
    pthread_mutex_lock(&rc->mu);
    bool ready = rc->ready;
    char reason[128];
    snprintf(reason, sizeof reason, "%s", rc->reason);
    pthread_mutex_unlock(&rc->mu);
    if (ready) {
        static const char body[] = "{\"status\":\"ready\"}";
        gw_resp_set_static(resp, 200, GW_CT_JSON, body, sizeof body - 1);
    } else {
        gw_resp_http_error(resp, 503, reason);
    }
    gw_resp_header(resp, "Cache-Control", "no-store");
}

static void readyz_done(gw_request *req, gw_response *resp, const gw_rpc_reply *r)
{
    gw_ready_cache *rc = gw_server_ready_cache(req->srv);
    ProtobufCMessage *out = NULL;
    sfp_rpc_status st;
    int s = -1;
    if (gw_reply_decode(r, &grpc__health__v1__health_check_response__descriptor, &out, &st) == GRPC_STATUS_OK) {
        s = ((Grpc__Health__V1__HealthCheckResponse *)out)->status;
        protobuf_c_message_free_unpacked(out, NULL);
    }
    pthread_mutex_lock(&rc->mu);
    rc->ready = s == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    if (rc->ready) rc->reason[0] = '\0';
    else if (s >= 0) snprintf(rc->reason, sizeof rc->reason, "health backend reports not serving");
    else snprintf(rc->reason, sizeof rc->reason, "health backend unreachable");
    if (!rc->ready)
        sfp_log(SFP_WARN, "not ready", SFP_S("reason", rc->reason), SFP_I("code", st.code), SFP_S("error", st.message));
    rc->checked_ns = sfp_mono_ns();
    rc->checking = false;
    pthread_mutex_unlock(&rc->mu);
    ready_answer(req, resp);
}

void gw_handle_readyz(gw_request *req, gw_response *resp)
{
    gw_ready_cache *rc = gw_server_ready_cache(req->srv);
    pthread_mutex_lock(&rc->mu);
    int64_t now = sfp_mono_ns();
    bool stale = rc->checked_ns == 0 || now - rc->checked_ns >= (int64_t)GW_READY_CACHE_MS * 1000000;
    bool check = stale && (!rc->checking || rc->checked_ns == 0);
    if (check) rc->checking = true;
    pthread_mutex_unlock(&rc->mu);
    if (!check) {
        ready_answer(req, resp);
        return;
    }
    if (req->deadline_ns > now + (int64_t)GW_READY_CHECK_TIMEOUT_MS * 1000000)
        req->deadline_ns = now + (int64_t)GW_READY_CHECK_TIMEOUT_MS * 1000000;
    Grpc__Health__V1__HealthCheckRequest hc = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    hc.service = (char *)"readiness";
    gw_call_async(req, GW_BACKEND_HEALTH, "/grpc.health.v1.Health/Check", &hc.base, readyz_done);
}
