/* handlers_health.c — GET /health, /healthz, /readyz (see handlers.h). */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "gw_rpc.h"
#include "http_server.h"
#include "log.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "status_map.h"

void gw_handle_health(gw_request *req, gw_response *resp)
{
    Sfpermits__V1__GetHealthRequest hreq = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    const char *full = gw_req_query(req, "full");
    if (full) {
        bool b = true;
        sfp_err err = {0};
        if (*full && sfp_parse_bool("full", full, &b, &err)) {
            gw_resp_http_error(resp, 400, "query parameter 'full' must be a boolean (1/0, true/false)");
            return;
        }
        hreq.full = b;
    }
    if (hreq.full) gw_req_set_default_deadline(req, GW_HEALTH_FULL_TIMEOUT_MS);
    ProtobufCMessage *out = NULL;
    if (gw_call_json(req, resp, GW_BACKEND_HEALTH, "/sfpermits.v1.HealthService/GetHealth", &hreq.base,
                     &sfpermits__v1__get_health_response__descriptor, &out) != GRPC_STATUS_OK)
        return;
    const Sfpermits__V1__GetHealthResponse *h = (const Sfpermits__V1__GetHealthResponse *)out;
    if (!h->status || strcmp(h->status, "ok") != 0) {
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

void gw_handle_readyz(gw_request *req, gw_response *resp)
{
    gw_ready_cache *rc = gw_server_ready_cache(req->srv);
    bool ready;
    char reason[128];
    pthread_mutex_lock(&rc->mu);
    int64_t now = sfp_mono_ns();
    if (rc->checked_ns == 0 || now - rc->checked_ns >= (int64_t)GW_READY_CACHE_MS * 1000000) {
        sfp_rpc_status st;
        memset(&st, 0, sizeof st);
        sfp_rpc_channel *ch = gw_server_backends(req->srv)->ch[GW_BACKEND_HEALTH];
        int64_t left = gw_req_remaining_ms(req);
        int64_t t = left < GW_READY_CHECK_TIMEOUT_MS ? left : GW_READY_CHECK_TIMEOUT_MS;
        int s = (ch && t > 0) ? sfp_rpc_health_check(ch, "readiness", t, &st) : -1;
        rc->ready = s == 1;
        if (rc->ready) rc->reason[0] = '\0';
        else if (s >= 0) snprintf(rc->reason, sizeof rc->reason, "health backend reports not serving");
        else snprintf(rc->reason, sizeof rc->reason, "health backend unreachable");
        if (!rc->ready)
            sfp_log(SFP_WARN, "not ready", SFP_S("reason", rc->reason), SFP_I("code", st.code),
                    SFP_S("error", st.message));
        rc->checked_ns = sfp_mono_ns();
    }
    ready = rc->ready;
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
