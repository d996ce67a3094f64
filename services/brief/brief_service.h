/* brief_service.h — BriefService: GetBrief (the caller's morning brief through the page cache)
 * and RefreshBrief (invalidate the caller's cached briefs, at most once per interval).
 *
 * Caller identity: `authorization: Bearer <token>` metadata only (brief_auth.h); missing,
 * unknown or revoked → UNAUTHENTICATED. No request field names a user. The one exception is
 * the cron warm-up (compute-caches): `authorization: Bearer <CRON_SECRET>` together with
 * `x-sfp-user-id` metadata, which the gateway never forwards; without CRON_SECRET set in this
 * process that path is closed.
 *
 * GetBrief: lookback_days 1..90 (0 = 1); anything else → INVALID_ARGUMENT with ErrorInfo
 * ARGUMENT_OUT_OF_RANGE and a BadRequest violation of lookback_days (checked before the
 * caller is authenticated: no database work). Key brief:{user_id}:{lookback}:v{SFP_BRIEF_PAGE_VERSION},
 * TTL BRIEF_CACHE_TTL_MINUTES; a miss runs brief_sections.h (20 queries whatever the watch
 * count) inside the page cache's transaction. The payload is the packed Brief (the content
 * only); the reply sends it verbatim, unparsed, as GetBriefResponse.brief and adds a
 * ReadMetadata set on every call (etag, max_age_seconds, generated_at, debug). A brief with degraded sections (warnings) is kept
 * for at most BRIEF_DEGRADED_TTL_MINUTES, so a transient failure does not stick for 30 min.
 *
 * RefreshBrief: one transaction: an atomic upsert of brief_refresh whose ON CONFLICT ... WHERE
 * only passes when the previous refresh is at least BRIEF_REFRESH_INTERVAL_S old (so two
 * replicas can never both pass), then page_cache invalidation of brief:{user_id}:%.
 * Too soon → RESOURCE_EXHAUSTED with ErrorInfo RATE_LIMITED and RetryInfo (the seconds until
 * the next refresh is allowed) in grpc-status-details-bin (→ HTTP 429 + Retry-After).
 *
 * Errors (one mapping, sfp_rpc_status_of): INVALID_ARGUMENT, UNAUTHENTICATED, UNAVAILABLE (no
 * database; ErrorInfo DATABASE_UNAVAILABLE + RetryInfo), DEADLINE_EXCEEDED, INTERNAL.
 *
 * Environment (sfp_brief_config_from_env; errors name the variable):
 *   BRIEF_CACHE_TTL_MINUTES     30     (0..1440; 0 = no caching)
 *   BRIEF_DEGRADED_TTL_MINUTES  1      (0..1440) TTL of a brief with warnings (capped by the TTL)
 *   BRIEF_REFRESH_INTERVAL_S    300    (0..86400) minimum time between two refreshes of a user
 *   BRIEF_STATEMENT_TIMEOUT_MS  10000  (100..600000) longest a brief may run when the call has a
 *                                      later (or no) deadline
 *   BRIEF_AUTH_CACHE_MS         5000   (0..60000) how long a verified token is remembered in
 *                                      memory (a revocation takes effect at most this late;
 *                                      0 = ask Postgres on every call)
 *   CRON_SECRET                 unset  enables the cron warm-up identity above (same value as
 *                                      sfp-cron's)
 *
 * Introspection: pool, page_cache (hits/misses of this process, live/expired rows) and
 * counters brief_requests, brief_cached, brief_computed, brief_unauthenticated,
 * brief_failed, brief_degraded (briefs computed with a degraded section), brief_refreshes, brief_refresh_limited,
 * brief_sql_queries_total, brief_sql_queries_last (statements of the last GetBrief),
 * brief_compute_queries_last (data queries of the last computed brief),
 * brief_compute_lanes_last (connections its sections ran on: 2 when the pool had a spare),
 * page_cache_coalesced, page_cache_computes, page_cache_errors. */
#ifndef SFP_BRIEF_SERVICE_H
#define SFP_BRIEF_SERVICE_H

/* Version of the packed Brief kept in page_cache, part of the key: bump it when the Brief's wire
 * format changes incompatibly (a field retyped, e.g. a string state that became an enum), so a
 * page packed before the deploy is never decoded as the new type; old keys expire unread. */
#define SFP_BRIEF_PAGE_VERSION 2

#include <stdatomic.h>
#include <stdint.h>

#include "brief_auth.h"
#include "db_pool.h"
#include "page_cache.h"
#include "rpc.h"

typedef struct sfp_brief_config {
    int cache_ttl_minutes;
    int degraded_ttl_minutes;
    int refresh_interval_s;
    int statement_timeout_ms;
    const char *service_secret; /* CRON_SECRET (borrowed); NULL/"" = no service identity */
    int memory_cache_entries;   /* BRIEF_MEMORY_CACHE_ENTRIES: wiring turns on the page cache's memory tier */
    int auth_cache_ms;          /* BRIEF_AUTH_CACHE_MS: wiring creates the auth cache when > 0 */
} sfp_brief_config;

void sfp_brief_config_defaults(sfp_brief_config *c);
int sfp_brief_config_from_env(sfp_brief_config *c, sfp_err *err);

typedef struct sfp_brief_counters {
    atomic_llong requests, cached, computed, unauthenticated, failed, degraded, refreshes, refresh_limited;
    atomic_llong sql_total, sql_last, compute_queries_last, compute_lanes_last;
} sfp_brief_counters;

typedef struct sfp_brief_service {
    sfp_pool *pool;                   /* borrowed */
    sfp_page_cache *cache;            /* borrowed (one per process, shared by all calls) */
    sfp_brief_auth_cache *auth_cache; /* borrowed, optional (NULL: every call asks Postgres) */
    sfp_brief_config cfg;
    int32_t fixed_today; /* tests: days since 1970-01-01; 0 = the local date */
    sfp_brief_counters counters;
} sfp_brief_service;

#define SFP_BRIEF_SERVICE_NAME "sfpermits.v1.BriefService"
#define SFP_BRIEF_GET_PATH "/sfpermits.v1.BriefService/GetBrief"
#define SFP_BRIEF_REFRESH_PATH "/sfpermits.v1.BriefService/RefreshBrief"

/* Method table entries (GetBrief, RefreshBrief) bound to svc, which must outlive the server. */
void sfp_brief_service_methods(sfp_brief_service *svc, sfp_rpc_method out[2]);
/* Introspection extras: pool, page cache, counters. */
void sfp_brief_service_stats(struct Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user);

#endif
