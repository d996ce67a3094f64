/* handlers.h — route handlers. Each fills a gw_response from a gw_request (see gw_http.h);
 * they never touch libmicrohttpd directly.
 *
 *   GET /health       HealthService/GetHealth → JSON (generic encoder); 200 when status is
 *                     "ok", 503 (+Retry-After) otherwise; ?full=1 (or true/yes/on, or bare
 *                     ?full) asks for exact row counts and raises the default deadline to 30 s.
 *   GET /healthz      the gateway process alone, no RPC: 200 {"status":"ok"}.
 *   GET /readyz       grpc.health.v1 Check("readiness") on the health backend, answer cached
 *                     GW_READY_CACHE_MS: 200 {"status":"ready"} when SERVING, else 503 error JSON.
 *   GET /methodology, /about-data, /demo
 *                     embedded pages, Cache-Control: public, max-age=3600,
 *                     stale-while-revalidate=86400, ETag + If-None-Match → 304.
 * Ownership: handlers put malloc'd bodies into the response (which then owns them) or point
 * it at static data; they keep nothing between requests except the readiness cache, which
 * lives in the gw_server. */
#ifndef GW_HANDLERS_H
#define GW_HANDLERS_H

#include "gw_http.h"

void gw_handle_health(gw_request *req, gw_response *resp);
void gw_handle_healthz(gw_request *req, gw_response *resp);
void gw_handle_readyz(gw_request *req, gw_response *resp);
void gw_handle_static(gw_request *req, gw_response *resp);

#define GW_HEALTH_FULL_TIMEOUT_MS 30000
#define GW_READY_CHECK_TIMEOUT_MS 1000

#endif
