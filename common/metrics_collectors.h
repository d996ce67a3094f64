/* metrics_collectors.h — Prometheus families derived from sfpermits.v1.ServiceStats, the same
 * data Introspection/GetStats returns, so /metrics and the health service never disagree.
 *   sfp_db_pool_*                 from stats.pool
 *   sfp_soda_breaker_*, sfp_soda_calls_total, sfp_soda_cache_*   from breaker, response_cache
 *   sfp_page_cache_*              from page_cache
 *   sfp_<counter name>            each stats.counters entry (a counter when the name ends in
 *                                 _total, else a gauge)
 * sfp_rpc_server_collect (rpc_server.c; user = sfp_rpc_server *) emits the framework's
 * sfp_rpc_server_requests_total{method,code} and sfp_rpc_server_duration_seconds{method}
 * histograms, then the above from the service's stats callback. */
#ifndef SFP_METRICS_COLLECTORS_H
#define SFP_METRICS_COLLECTORS_H

#include "buf.h"
#include "sfp_err.h"
#include "sfpermits/v1/introspection.pb-c.h"

void sfp_service_stats_metrics(sfp_buf *out, const Sfpermits__V1__ServiceStats *st);
void sfp_rpc_server_collect(sfp_buf *out, void *server);

/* What every service main does: start METRICS_ADDR serving and register the server's
 * collector. NULL + err (naming METRICS_ADDR) on failure. Stop it before destroying srv. */
struct sfp_metrics;
struct sfp_rpc_server;
struct sfp_metrics *sfp_rpc_server_metrics_start(struct sfp_rpc_server *srv, const char *svc, sfp_err *err);

#endif
