/* http_server.h — the gateway's HTTP/1.1 server on libmicrohttpd.
 *
 * Threading: connections are accepted by the front (gw_front.h: caps, strict head check, head
 * deadline) and handed to libmicrohttpd once their first request head is complete.
 * libmicrohttpd runs MHD_USE_EPOLL with an internal thread pool of GATEWAY_THREADS threads
 * (MHD_ALLOW_SUSPEND_RESUME, ITC), so connections are multiplexed on a few threads and a
 * handler must never block. Backend calls are asynchronous (gw_rpc.h: gw_call_async): the
 * connection is suspended while its gRPC call runs on the shared completion queue (one thread,
 * rpc_async.h) and resumed from that queue's thread when the reply arrives; the continuation then
 * renders the response in an HTTP thread. No thread is held per in-flight request.
 *
 * Request life cycle (MHD calls the access handler several times per request):
 *  1. URI-log callback (request line parsed): a per-request context is allocated and owned
 *     by MHD's con_cls slot until the completion callback frees it.
 *  2. First handler call (headers complete): start of the X-Response-Time clock, request id
 *     (client X-Request-Id if sane, else 16 random bytes as hex), strict checks (a NUL or
 *     control byte in the request line, Content-Length twice, Content-Length with
 *     Transfer-Encoding → 400, a transfer coding other than chunked → 501; answered at once
 *     with Connection: close, so nothing pipelined behind it is served), limit checks:
 *       URL longer than GATEWAY_MAX_URL        → 414 (answered at step 4)
 *       request line + headers > GATEWAY_MAX_HEADER_BYTES → 431 (answered at step 4)
 *       Content-Length > GATEWAY_MAX_BODY      → 413 answered right away, so no
 *                                                "100 Continue" is sent; MHD then closes.
 *  3. Body calls: the body is buffered up to GATEWAY_MAX_BODY; a streamed (chunked) body that
 *     grows beyond it is drained and answered 413 at step 4; after GATEWAY_MAX_BODY + 1 MiB the
 *     connection is dropped without an answer.
 *  4. Final call (no more upload data): pending limit error, or route dispatch (404 / 405 +
 *     Allow / 400 bad path or query / handler). A handler that called gw_call_async leaves the
 *     connection suspended; the call after the resume runs its continuation. Every response
 *     gets X-Response-Time, X-Request-Id, Content-Type, X-Content-Type-Options.
 *  5. Completion callback: one JSON access-log line {method, path, route, status, ms,
 *     request_id, ...}; the context is freed.
 *
 * What libmicrohttpd answers by itself (no handler call, so no X-Response-Time): a keep-alive
 * request whose head does not fit the per-connection memory pool (gw_config_conn_memory), or
 * with malformed framing. The first request of a connection never gets there: the front checks
 * it on the raw bytes and answers with the gateway's JSON.
 *
 * Shutdown (gw_server_stop): stop accepting (the listening socket is closed so the port is
 * free at once), answer in-flight requests with Connection: close, wait up to
 * SHUTDOWN_GRACE_MS for them, cancel the backend calls still running (their requests answer
 * 499/504 and finish), then stop MHD (closes idle keep-alive connections).
 *
 * Ownership: gw_server_create copies cfg; routes and backends are borrowed and must outlive
 * the server. gw_server_destroy frees everything the server allocated. */
#ifndef GW_HTTP_SERVER_H
#define GW_HTTP_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "gw_config.h"
#include "gw_http.h"
#include "gw_rpc.h"
#include "route_match.h"
#include "sfp_err.h"

typedef struct gw_server gw_server;

/* Readiness answer cached for GW_READY_CACHE_MS so probes never hammer the backend. */
#define GW_READY_CACHE_MS 2000
typedef struct gw_ready_cache {
    pthread_mutex_t mu;
    int64_t checked_ns; /* 0 = never */
    bool checking;      /* a check is in flight */
    bool ready;
    char reason[128];
} gw_ready_cache;

/* Compiles the route table (NULL + err if invalid); does not listen yet. */
gw_server *gw_server_create(const gw_config *cfg, const gw_route *routes, size_t nroutes, gw_backends *backends,
                            sfp_err *err);
/* Binds GATEWAY_ADDR, starts MHD, logs {"msg":"listening","addr":...,"port":N}. */
int gw_server_start(gw_server *s, sfp_err *err);
int gw_server_port(const gw_server *s);
/* Graceful stop (see above). Idempotent. */
void gw_server_stop(gw_server *s);
void gw_server_destroy(gw_server *s); /* stops if needed; NULL-safe */

const gw_config *gw_server_config(const gw_server *s);
gw_backends *gw_server_backends(gw_server *s);
gw_ready_cache *gw_server_ready_cache(gw_server *s);
/* The /report per-client limiter (GATEWAY_REPORT_RATE_LIMIT per GATEWAY_REPORT_RATE_WINDOW). */
struct gw_ratelimit *gw_server_report_limiter(gw_server *s);
/* The JSON cache of read replies (gw_json_cache.h), owned by the server; NULL when s is NULL
 * or the cache is off. */
struct gw_json_cache *gw_server_json_cache(gw_server *s);
/* HTTP metrics (gw_metrics.h), registered with the process's /metrics by main. */
struct gw_metrics *gw_server_metrics(gw_server *s);
bool gw_server_draining(const gw_server *s);

/* Used by gw_call_async (gw_rpc.c): suspends req's connection and starts the call; cont runs
 * after the resume. */
void gw_server_call_async(gw_request *req, gw_backend_id be, const char *rpc_path, const ProtobufCMessage *msg,
                          const sfp_rpc_md *md, size_t nmd, int64_t timeout_ms, gw_rpc_cont cont);
/* The response a continuation fills (the request's own). */
gw_response *gw_server_response(gw_request *req);

#endif
