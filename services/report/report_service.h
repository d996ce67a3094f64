/* report_service.h — ReportService.GetPropertyReport(block, lot): the property report of one
 * parcel, assembled from one pooled Postgres connection (a constant number of
 * round trips, report_db.h) and three SODA datasets fetched concurrently through the shared
 * cached client while the SQL runs (report_soda.h).
 *
 * Status codes: INVALID_ARGUMENT (block/lot fail ^[0-9]{4}[A-Z]?$ / ^[0-9]{3}[A-Z]?$ after
 * trimming), NOT_FOUND (no permit, no complaint or violation, no profile), UNAVAILABLE (no
 * database connection / connection lost), DEADLINE_EXCEEDED (the call's deadline passed or a
 * statement hit its timeout), INTERNAL (other database errors). A SODA failure never fails
 * the report: the section is served stale or empty and `sources` says so.
 *
 * Environment (sfp_report_config_from_env; errors name the variable):
 *   REPORT_NEARBY_LIMIT          10     (0..50) nearby_activity rows; 0 disables the query
 *   REPORT_STATEMENT_TIMEOUT_MS  10000  (100..600000) cap of SET LOCAL statement_timeout; the
 *                                       remaining call deadline lowers it further
 *   REPORT_SODA_BUDGET_MS        2500   (100..600000) longest wait for SODA; it always ends at
 *                                       least 300 ms before the call's deadline. The wait holds
 *                                       no RPC worker: the call is completed by the SODA
 *                                       client's thread when the sources arrive or the budget
 *                                       ends (deferred completion, rpc.h)
 *
 * Introspection counters: reports_total, reports_ok, reports_not_found,
 * reports_invalid_argument, reports_unavailable, reports_deadline_exceeded, reports_failed,
 * report_sql_queries_total, report_sql_queries_last, report_soda_requests_total,
 * report_sources_stale_total, report_sources_unavailable_total, report_cache_hits_total,
 * report_cache_misses_total, report_cache_stores_total, report_cache_invalidations_total,
 * report_cache_coalesced_total, report_cache_entries, report_cache_listening,
 * report_watch_hits_total, report_watch_misses_total, report_watch_invalidations_total; plus pool, SODA
 * breaker and response-cache stats when a client is attached.
 *
 * With a report cache (report_cache.h, REPORT_CACHE_*), a hit costs no SQL and no SODA call:
 * debug.sql_queries = debug.soda_requests = 0 and debug.report_cache_hit = true; sources
 * show the SODA sections as `cached` with their age at this moment; generated_at is when the
 * content was assembled. */
#ifndef SFP_REPORT_SERVICE_H
#define SFP_REPORT_SERVICE_H

#include <stdatomic.h>
#include <stdint.h>

#include "db_pool.h"
#include "clock.h"
#include "report_soda.h"
#include "rpc.h"

#define SFP_REPORT_SODA_BUDGET_DEFAULT_MS 2500

typedef struct sfp_report_config {
    int nearby_limit;
    int statement_timeout_ms;
    int soda_budget_ms;
    int acquire_timeout_ms; /* copy of the pool's DB_ACQUIRE_TIMEOUT (wiring sets it) */
} sfp_report_config;

void sfp_report_config_defaults(sfp_report_config *c);
int sfp_report_config_from_env(sfp_report_config *c, sfp_err *err);

typedef struct sfp_report_counters {
    atomic_llong reports, ok, not_found, invalid, unavailable, deadline, failed;
    atomic_llong sql_queries, sql_queries_last, soda_requests, stale, unavailable_sources;
} sfp_report_counters;

typedef struct sfp_report_service {
    sfp_pool *pool;               /* borrowed */
    sfp_rpt_soda soda;            /* production: sfp_rpt_soda_from_client(client) */
    struct sfp_soda *soda_client; /* borrowed, optional: breaker/cache stats for Introspection */
    sfp_report_config cfg;
    struct sfp_rpt_cache *cache; /* borrowed, optional (NULL = no report cache; report_cache.h) */
    struct sfp_rpt_watch *watch; /* borrowed, optional (NULL = read regulatory_watch every time;
                                  * report_watch.h) */
    int32_t fixed_today;         /* tests: "today" in days since 1970-01-01; 0 = the local date */
    sfp_clock_fn clock;          /* tests: the clock of SODA budgets and timings; NULL = sfp_mono_clock */
    void *clock_arg;
    sfp_report_counters counters;
} sfp_report_service;

#define SFP_REPORT_SERVICE_NAME "sfpermits.v1.ReportService"
#define SFP_REPORT_METHOD_PATH "/sfpermits.v1.ReportService/GetPropertyReport"

/* Method table entry for GetPropertyReport bound to svc (which must outlive the server). */
sfp_rpc_method sfp_report_service_method(sfp_report_service *svc);
/* Introspection extras: pool, breaker, response cache, counters. */
void sfp_report_service_stats(struct Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user);

#endif
