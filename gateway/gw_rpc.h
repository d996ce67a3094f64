/* gw_rpc.h — the gateway's backends (one shared gRPC channel per backend for the whole
 * process) and the call helpers every route uses.
 *
 * gw_call forwards, as gRPC metadata: x-request-id (always), and when the client sent them
 * with printable ASCII values: authorization, traceparent, tracestate, user-agent
 * (an allow-list; nothing else crosses). The deadline is the request's (route default,
 * GATEWAY_TIMEOUT_MS, or the client's X-Timeout-Ms capped at 30 s); a request whose deadline
 * has already passed gets DEADLINE_EXCEEDED without a call.
 *
 * Ownership: gw_backends owns its channels (gw_backends_close). Messages returned through
 * `out` / `keep` are malloc-unpacked; the caller frees them with
 * protobuf_c_message_free_unpacked(msg, NULL). */
#ifndef GW_RPC_H
#define GW_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include "gw_config.h"
#include "gw_http.h"
#include "rpc.h"

typedef enum {
    GW_BACKEND_HEALTH = 0,
    GW_BACKEND_REPORT,
    GW_BACKEND_BRIEF,
    GW_BACKEND_CRON,
    GW_BACKEND_COUNT
} gw_backend_id;

typedef struct gw_backends {
    sfp_rpc_channel *ch[GW_BACKEND_COUNT];
    const char *addr[GW_BACKEND_COUNT]; /* point into the config */
} gw_backends;

const char *gw_backend_name(gw_backend_id id); /* "health", "report", ... */
/* Creates the channels (connections are made lazily by gRPC). */
void gw_backends_open(gw_backends *b, const gw_config *cfg);
void gw_backends_close(gw_backends *b); /* NULL-safe, idempotent */

/* The outcome of an asynchronous call, as its continuation sees it. Failures are already
 * logged ("backend call failed"). */
typedef struct gw_rpc_reply {
    gw_backend_id be;
    const char *rpc_path;
    sfp_rpc_status st;
    const uint8_t *bytes; /* OK: the packed reply (owned by the server, valid during the continuation) */
    size_t len;
} gw_rpc_reply;
typedef void (*gw_rpc_cont)(gw_request *req, gw_response *resp, const gw_rpc_reply *reply);

/* Starts a unary call with the request's deadline and forwarded metadata; `cont` produces the
 * response once the reply (or an error: deadline, unavailable, ...) is in. When no call can be
 * made (deadline already passed, no channel) cont runs at once with that error. The message is
 * packed before this returns (it may live on the handler's stack). */
void gw_call_async(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                   gw_rpc_cont cont);
/* Unpacks an OK reply: OK and *out (caller frees), or INTERNAL in st (logged). */
grpc_status_code gw_reply_decode(const gw_rpc_reply *r, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                                 sfp_rpc_status *st);
/* gw_call_json's rendering for a reply: 200 + the generic JSON encoding, or the mapped error.
 * keep as in gw_call_json. Returns the gRPC code. */
grpc_status_code gw_reply_json(const gw_rpc_reply *r, gw_response *resp, const ProtobufCMessageDescriptor *desc,
                               ProtobufCMessage **keep);

/* One "backend call failed" log line (t0 = sfp_mono_ns() at the start, < 0 when no call was made). */
void gw_rpc_log_failure(gw_backend_id be, const char *rpc_path, const sfp_rpc_status *st, int64_t t0);

/* Blocking: unary call with the request's deadline and forwarded metadata. Fills st; on OK *out holds
 * the response (caller frees). Failures are logged (with the backend's original message). */
grpc_status_code gw_call(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                         const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **out, sfp_rpc_status *st);

/* gw_call without the decoding: on OK *out is the response payload as received (the packed
 * message; malloc'd, caller frees) and *out_len its length; else *out is NULL. Same metadata,
 * deadline and failure logging as gw_call (which is this + gw_rpc_decode). */
grpc_status_code gw_call_raw(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                             uint8_t **out, size_t *out_len, sfp_rpc_status *st);
/* Unpacks a payload from gw_call_raw of rpc_path on backend be: OK and *out (caller frees), or
 * INTERNAL "response could not be decoded" in st (logged like any failed call). */
grpc_status_code gw_rpc_decode(gw_backend_id be, const char *rpc_path, const ProtobufCMessageDescriptor *resp_desc,
                               const uint8_t *bytes, size_t len, ProtobufCMessage **out, sfp_rpc_status *st);

/* gw_call, then on OK: resp = 200 with the JSON encoding of the response (the generic
 * pbjson encoder); on error: resp = the mapped error (gw_resp_rpc_error). When keep is non-NULL
 * and the call succeeded, the decoded message is handed to the caller (to inspect fields and
 * adjust the status); else it is freed here. Returns the gRPC code. */
grpc_status_code gw_call_json(gw_request *req, gw_response *resp, gw_backend_id be, const char *rpc_path,
                              const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *resp_desc,
                              ProtobufCMessage **keep);

#endif
