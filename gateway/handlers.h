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
 *   GET /brief        BriefService/GetBrief for the caller (Authorization forwarded) →
 *                     JSON; ?lookback=N (1..90, default/not an integer 1; out of range → 400); Cache-Control: private,
 *                     max-age=<seconds left of the cache entry>, Vary: Authorization,
 *                     ETag W/"<etag>" + If-None-Match → 304; 401 carries WWW-Authenticate.
 *   POST /brief/refresh
 *                     BriefService/RefreshBrief → {"invalidated":N,...}, Cache-Control:
 *                     no-store; too soon → 429 + Retry-After (the service's retry-after).
 *   POST /cron/{signals,velocity-refresh,compute-caches,nightly,heartbeat}
 *                     CronService/Run* (Authorization forwarded; the service checks the
 *                     secret → 401) → the result JSON; ok=false (the job ran and failed) → 500
 *                     with that body; ABORTED (already running) → 409; nightly takes
 *                     ?lookback=1..90 and ?dry_run, compute-caches ?concurrency=1..32.
 *                     Cache-Control: no-store. Class CRON_TRIGGER (served by CRON_WORKER only).
 *   GET /cron/status  CronService/GetStatus (no secret) → last 20 cron_log rows; no-store.
 *                     Class CRON_READ (served everywhere).
 * Ownership: handlers put malloc'd bodies into the response (which then owns them) or point
 * it at static data; they keep nothing between requests themselves: the readiness cache and
 * the JSON cache of read replies (gw_json_cache.h) live in the gw_server. */
#ifndef GW_HANDLERS_H
#define GW_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gw_http.h"

void gw_handle_health(gw_request *req, gw_response *resp);
void gw_handle_healthz(gw_request *req, gw_response *resp);
void gw_handle_readyz(gw_request *req, gw_response *resp);
void gw_handle_static(gw_request *req, gw_response *resp);
void gw_handle_cron_job(gw_request *req, gw_response *resp);
void gw_handle_cron_status(gw_request *req, gw_response *resp);
void gw_handle_brief(gw_request *req, gw_response *resp);
void gw_handle_brief_refresh(gw_request *req, gw_response *resp);
/* ?lookback= value as an integer, not range-checked (absent or not an integer → 1). Pure. */
int32_t gw_brief_lookback(const char *s);
struct gw_read_reply;
struct gw_json_cache;
struct sfp_buf;
struct sfp_rpc_status;
/* GET /brief's per-request JSON members, rendered from the reply's metadata (each starting
 * with a comma): cached, cached_at, computed_at, ttl_seconds_remaining, etag, sql_queries. */
void gw_brief_json_tail(struct sfp_buf *b, const struct gw_read_reply *r);
/* GET /brief's JSON body (malloc'd): the brief's JSON (from cache by etag, gw_read_json) +
 * gw_brief_json_tail. NULL when the brief does not decode (st set); *hit tells whether the
 * brief's JSON came from the cache. */
char *gw_brief_json(struct gw_json_cache *cache, struct gw_read_reply *r, size_t *len, bool *hit,
                    struct sfp_rpc_status *st);

/* GET /report/{block}/{lot}: block/lot validated before any RPC (400), per-client rate limit
 * (429 + Retry-After), ReportService → JSON, Cache-Control: public, max-age=<seconds until
 * the oldest live source expires, ≤900>, content ETag + If-None-Match → 304. */
void gw_handle_report(gw_request *req, gw_response *resp);
#define GW_REPORT_RPC "/sfpermits.v1.ReportService/GetPropertyReport"
/* The reply's max_age_seconds clamped to 0..900 (Cache-Control of the JSON and the page). */
int gw_report_max_age(const struct gw_read_reply *r);
/* GET /report's per-request JSON members, rendered from the reply's metadata (each starting
 * with a comma): sources {complaints, violations, tax_roll, max_age_seconds}, debug
 * {sql_queries, soda_requests, elapsed_ms, report_cache_hit}, generated_at. */
void gw_report_json_tail(struct sfp_buf *b, const struct gw_read_reply *r);
/* GET /report's JSON body (malloc'd): the report's JSON (from cache by etag, gw_read_json) +
 * gw_report_json_tail. NULL when the report does not decode (st set); *hit tells whether the
 * report's JSON came from the cache. */
char *gw_report_json(struct gw_json_cache *cache, struct gw_read_reply *r, size_t *len, bool *hit,
                     struct sfp_rpc_status *st);
#define GW_REPORT_TIMEOUT_MS 10000

#define GW_HEALTH_FULL_TIMEOUT_MS 30000
#define GW_READY_CHECK_TIMEOUT_MS 1000
/* Cron routes: the service's job limit (CRON_JOB_TIMEOUT_S 300, CRON_NIGHTLY_TIMEOUT_S 480)
 * plus a margin, so the service ends the job and answers before the gateway gives up. */
#define GW_CRON_JOB_TIMEOUT_MS 310000
#define GW_CRON_NIGHTLY_TIMEOUT_MS 490000
#define GW_CRON_HEARTBEAT_TIMEOUT_MS 35000
#define GW_BRIEF_TIMEOUT_MS 10000
#define GW_BRIEF_REFRESH_TIMEOUT_MS 5000

#endif
