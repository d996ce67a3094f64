/* gw_rpc.c — see gw_rpc.h. */
#include "gw_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http_server.h"
#include "log.h"
#include "pbjson.h"

static const char *const backend_names[GW_BACKEND_COUNT] = {"health", "report", "brief", "cron"};

const char *gw_backend_name(gw_backend_id id)
{
    return (id >= 0 && id < GW_BACKEND_COUNT) ? backend_names[id] : "?";
}

void gw_backends_open(gw_backends *b, const gw_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->addr[GW_BACKEND_HEALTH] = cfg->health_addr;
    b->addr[GW_BACKEND_REPORT] = cfg->report_addr;
    b->addr[GW_BACKEND_BRIEF] = cfg->brief_addr;
    b->addr[GW_BACKEND_CRON] = cfg->cron_addr;
    for (int i = 0; i < GW_BACKEND_COUNT; i++) b->ch[i] = sfp_rpc_channel_create(b->addr[i]);
}

void gw_backends_close(gw_backends *b)
{
    if (!b) return;
    for (int i = 0; i < GW_BACKEND_COUNT; i++) {
        sfp_rpc_channel_destroy(b->ch[i]);
        b->ch[i] = NULL;
    }
}

static bool md_value_ok(const char *v)
{
    if (!v || !*v || strlen(v) > 4096) return false;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e) return false;
    return true;
}

/* Client-class outcomes (bad input, not found, auth, conflicts, quota) are routine: info.
 * Transport and server faults: warn. */
static sfp_log_level level_for(grpc_status_code c)
{
    switch (c) {
    case GRPC_STATUS_UNKNOWN:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_UNIMPLEMENTED:
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_DATA_LOSS: return SFP_WARN;
    default: return ((int)c > GRPC_STATUS_UNAUTHENTICATED || (int)c < 0) ? SFP_WARN : SFP_INFO;
    }
}

/* One log line per failed call; t0 = when the call started (sfp_mono_ns), < 0 when none was made. */
static void log_failure(gw_backend_id be, const char *rpc_path, const sfp_rpc_status *st, int64_t t0)
{
    if (t0 >= 0)
        sfp_log(level_for(st->code), "backend call failed", SFP_S("backend", gw_backend_name(be)),
                SFP_S("rpc", rpc_path), SFP_I("code", st->code), SFP_S("status", sfp_rpc_code_name(st->code)),
                SFP_S("error", st->message), SFP_D("ms", (double)(sfp_mono_ns() - t0) / 1e6));
    else
        sfp_log(level_for(st->code), "backend call failed", SFP_S("backend", gw_backend_name(be)),
                SFP_S("rpc", rpc_path), SFP_I("code", st->code), SFP_S("status", sfp_rpc_code_name(st->code)),
                SFP_S("error", st->message));
}

/* The metadata forwarded for req into md (at least GW_FWD_MAX entries); returns the count. */
#define GW_FWD_MAX 5
static size_t forward_md(gw_request *req, sfp_rpc_md *md)
{
    static const struct {
        const char *header, *key;
    } fwd[] = {{"Authorization", "authorization"},
               {"traceparent", "traceparent"},
               {"tracestate", "tracestate"},
               {"User-Agent", "user-agent"}};
    size_t nmd = 0;
    md[nmd++] = (sfp_rpc_md){"x-request-id", req->request_id};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
        const char *v = gw_req_header(req, fwd[i].header);
        if (i == 0 && !v) v = req->authorization; /* the session cookie's token (gw_pages.h) */
        if (md_value_ok(v)) md[nmd++] = (sfp_rpc_md){fwd[i].key, v};
    }
    return nmd;
}

void gw_rpc_log_failure(gw_backend_id be, const char *rpc_path, const sfp_rpc_status *st, int64_t t0)
{
    log_failure(be, rpc_path, st, t0);
}

void gw_call_async(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                   gw_rpc_cont cont)
{
    gw_rpc_reply r = {.be = be, .rpc_path = rpc_path};
    int64_t left = gw_req_remaining_ms(req);
    sfp_rpc_channel *ch = (req->srv && be >= 0 && be < GW_BACKEND_COUNT) ? gw_server_backends(req->srv)->ch[be] : NULL;
    if (!ch || !req->ctx) {
        r.st.code = GRPC_STATUS_UNAVAILABLE;
        snprintf(r.st.message, sizeof r.st.message, "no channel for backend %s", gw_backend_name(be));
    } else if (left <= 0) {
        r.st.code = GRPC_STATUS_DEADLINE_EXCEEDED;
        snprintf(r.st.message, sizeof r.st.message, "deadline passed before the call");
    } else {
        sfp_rpc_md md[GW_FWD_MAX];
        size_t nmd = forward_md(req, md);
        gw_server_call_async(req, be, rpc_path, msg, md, nmd, left, cont);
        return;
    }
    log_failure(be, rpc_path, &r.st, -1);
    cont(req, gw_server_response(req), &r);
}

grpc_status_code gw_reply_decode(const gw_rpc_reply *r, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                                 sfp_rpc_status *st)
{
    *out = NULL;
    if (r->st.code != GRPC_STATUS_OK) {
        *st = r->st;
        return st->code;
    }
    memset(st, 0, sizeof *st);
    return gw_rpc_decode(r->be, r->rpc_path, desc, r->bytes, r->len, out, st);
}

grpc_status_code gw_reply_json(const gw_rpc_reply *r, gw_response *resp, const ProtobufCMessageDescriptor *desc,
                               ProtobufCMessage **keep)
{
    if (keep) *keep = NULL;
    ProtobufCMessage *out = NULL;
    sfp_rpc_status st;
    if (gw_reply_decode(r, desc, &out, &st) != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st);
        return st.code;
    }
    size_t len = 0;
    char *json = sfp_pbjson_encode(out, &len);
    gw_resp_set_body(resp, 200, GW_CT_JSON, json, len);
    if (keep) *keep = out;
    else protobuf_c_message_free_unpacked(out, NULL);
    return GRPC_STATUS_OK;
}

grpc_status_code gw_call_raw(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                             uint8_t **out, size_t *out_len, sfp_rpc_status *st)
{
    *out = NULL;
    *out_len = 0;
    memset(st, 0, sizeof *st);
    sfp_rpc_md md[GW_FWD_MAX];
    size_t nmd = forward_md(req, md);
    int64_t left = gw_req_remaining_ms(req);
    sfp_rpc_channel *ch = (req->srv && be >= 0 && be < GW_BACKEND_COUNT) ? gw_server_backends(req->srv)->ch[be] : NULL;
    if (!ch) {
        st->code = GRPC_STATUS_UNAVAILABLE;
        snprintf(st->message, sizeof st->message, "no channel for backend %s", gw_backend_name(be));
    } else if (left <= 0) {
        st->code = GRPC_STATUS_DEADLINE_EXCEEDED;
        snprintf(st->message, sizeof st->message, "deadline passed before the call");
    } else {
        int64_t t0 = sfp_mono_ns();
        if (sfp_rpc_call_raw(ch, rpc_path, msg, out, out_len, left, md, nmd, st) != GRPC_STATUS_OK)
            log_failure(be, rpc_path, st, t0);
        return st->code;
    }
    log_failure(be, rpc_path, st, -1);
    return st->code;
}

grpc_status_code gw_rpc_decode(gw_backend_id be, const char *rpc_path, const ProtobufCMessageDescriptor *resp_desc,
                               const uint8_t *bytes, size_t len, ProtobufCMessage **out, sfp_rpc_status *st)
{
    if (sfp_rpc_unpack(resp_desc, bytes, len, out, st) != GRPC_STATUS_OK) log_failure(be, rpc_path, st, -1);
    return st->code;
}

grpc_status_code gw_call(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                         const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **out, sfp_rpc_status *st)
{
    *out = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (gw_call_raw(req, be, rpc_path, msg, &bytes, &len, st) == GRPC_STATUS_OK)
        gw_rpc_decode(be, rpc_path, resp_desc, bytes, len, out, st);
    free(bytes);
    return st->code;
}

grpc_status_code gw_call_json(gw_request *req, gw_response *resp, gw_backend_id be, const char *rpc_path,
                              const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *resp_desc,
                              ProtobufCMessage **keep)
{
    if (keep) *keep = NULL;
    ProtobufCMessage *out = NULL;
    sfp_rpc_status st;
    if (gw_call(req, be, rpc_path, msg, resp_desc, &out, &st) != GRPC_STATUS_OK) {
        gw_resp_rpc_error(resp, &st);
        return st.code;
    }
    size_t len = 0;
    char *json = sfp_pbjson_encode(out, &len);
    gw_resp_set_body(resp, 200, GW_CT_JSON, json, len);
    if (keep) *keep = out;
    else protobuf_c_message_free_unpacked(out, NULL);
    return GRPC_STATUS_OK;
}
