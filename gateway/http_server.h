/* http_server.h — the gateway's HTTP/1.1 server on libmicrohttpd.
 *
 * Threading: MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD (+ERROR_LOG routed
 * into the JSON log, +ITC for quiesce). A handler runs in its connection's thread and may
 * block on gRPC. GATEWAY_MAX_CONNECTIONS bounds connections (= threads).
 *
 * Request life cycle (MHD calls the access handler several times per request):
 *  1. URI-log callback (request line parsed): a per-request context is allocated and owned
 *     by MHD's con_cls slot until the completion callback frees it.
 *  2. First handler call (headers complete): start of the X-Response-Time clock, request id
 *     (client X-Request-Id if sane, else 16 random bytes as hex), limit checks:
 *       URL longer than GATEWAY_MAX_URL        → 414 (answered at step 4)
 *       request line + headers > GATEWAY_MAX_HEADER_BYTES → 431 (answered at step 4)
 *       Content-Length > GATEWAY_MAX_BODY      → 413 answered right away, so no
 *                                                "100 Continue" is sent; MHD then closes.
 *     Nothing else is queued here: a response queued in the first call makes MHD close the
 *     connection, which would break keep-alive.
 *  3. Body calls: the body is buffered up to GATEWAY_MAX_BODY; a streamed (chunked) body that
 *     grows beyond it is drained and answered 413 at step 4. libmicrohttpd 0.9.75 refuses a
 *     response queued while upload data is pending, so draining is the only way to answer;
 *     after GATEWAY_MAX_BODY + 1 MiB the connection is dropped without an answer.
 *  4. Final call (no more upload data): pending limit error, or route dispatch (404 / 405 +
 *     Allow / 400 bad path or query / handler). Every response gets X-Response-Time,
 *     X-Request-Id, Content-Type, X-Content-Type-Options.
 *  5. Completion callback: one JSON access-log line {method, path, route, status, ms,
 *     request_id, ...}; the context is freed.
 *
 * What libmicrohttpd answers by itself (no handler call, so no X-Response-Time): a request
 * line or header block larger than the per-connection memory pool (gw_config_conn_memory:
 * >= 256 KiB, and at least 4x the configured limits, so any request up to 4x the limits
 * gets the gateway's own 414/431), malformed request lines, and an HTTP/1.1 request with an
 * invalid Content-Length or chunked framing (400). These are logged as "request rejected by
 * http layer" when the request line was parsed. There is no hook in libmicrohttpd 0.9.75 to
 * add headers to those internal responses.
 *
 * Shutdown (gw_server_stop): stop accepting (quiesce, the listening socket is closed so the
 * port is free at once), answer in-flight requests with Connection: close, wait up to
 * SHUTDOWN_GRACE_MS for them, then stop MHD (closes idle keep-alive connections).
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
    pthread_mutex_t mu; /* held during a check, so concurrent probes coalesce */
    int64_t checked_ns; /* 0 = never */
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
/* HTTP metrics (gw_metrics.h), registered with the process's /metrics by main. */
struct gw_metrics *gw_server_metrics(gw_server *s);
bool gw_server_draining(const gw_server *s);

#endif
