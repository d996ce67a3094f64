/* gw_metrics.h — the gateway's HTTP metrics for /metrics (common/metrics.h):
 *   sfp_http_requests_total{route,method,code}   counter (route = the route pattern, or
 *                                                "unmatched" for 404s before routing)
 *   sfp_http_request_duration_seconds{route}     histogram, first byte read → response queued
 *   sfp_http_in_flight                           gauge
 * Ownership: the gw_metrics owns its series; route strings are the static route patterns.
 * Thread-safe (one mutex; observe is O(series) with a handful of series per route). */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include "buf.h"

typedef struct gw_metrics gw_metrics;

gw_metrics *gw_metrics_new(void);
void gw_metrics_free(gw_metrics *m); /* NULL-safe */
/* route: a static pattern or NULL (unmatched); method: copied (≤ 15 chars). */
void gw_metrics_observe(gw_metrics *m, const char *route, const char *method, int status, double ms);
void gw_metrics_set_in_flight_source(gw_metrics *m, int (*fn)(void *), void *user);
void gw_metrics_collect(sfp_buf *out, void *m); /* sfp_metrics_collect_fn */

#endif
