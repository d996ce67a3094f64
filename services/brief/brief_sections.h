/* brief_sections.h — the SQL side of the brief: one statement per section, watches resolved
 * set-based (joins on the user's watch_items, never a query per watch), every section bounded
 * by LIMIT. The whole brief is a constant number of statements whatever the watch count:
 *
 *   watches (total) · changes · plan_reviews · inspections · new_filings · expiring ·
 *   property_health · health · team_activity · regulatory_alerts · property_synopsis ·
 *   planning_context · compliance_calendar · data_quality · street_use_activity ·
 *   nearby_development · change_velocity · last_refresh · pipeline_health · pipeline_stats
 *                                                                         = 20 queries
 *
 * (the property-activity rows of changes are derived from the property_health result), run
 * with plan_cache_mode = force_generic_plan (transaction-local: planned once per connection),
 * plus one SAVEPOINT per section, all queued in one libpq pipeline (one round trip; the
 * connection leaves pipeline mode before sfp_brief_build returns unless it was lost) — or two:
 * with ctx->pool, about half the sections run at the same time on a spare connection
 * (sfp_pool_acquire_spare) in a read-only transaction of their own, released before
 * sfp_brief_build returns; the brief is the same (every section reads its own snapshot). A
 * section whose statement fails is rolled back to its savepoint (the sections after it are
 * queued again), degrades to empty (absent for last_refresh / pipeline_stats / property_synopsis; pipeline_health
 * becomes status "unknown") and is named in `warnings`; the other sections still run.
 *
 * sfp_brief_build runs on a connection that is inside a READ COMMITTED transaction (the page
 * cache's) and fills `r` from arena `a`. It returns 0, or -1 with err (UNAVAILABLE) when that
 * connection was lost, since then no section can be trusted (a lost spare connection only
 * degrades its sections); whether a timed-out section means the call's
 * deadline passed is for the caller to judge (ctx->timed_out). */
#ifndef SFP_BRIEF_SECTIONS_H
#define SFP_BRIEF_SECTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "arena_pb.h"
#include "db_pool.h"
#include "sfp_err.h"
#include "sfpermits/v1/brief.pb-c.h"

#define SFP_BRIEF_SECTION_QUERIES 21

typedef struct sfp_brief_build_ctx {
    sfp_pool *pool;      /* a spare connection for half the sections is taken from it (NULL: none) */
    int64_t deadline_ms; /* CLOCK_MONOTONIC ms (INT64_MAX: none): the spare's statement timeout */
    int32_t user_id;
    int32_t lookback_days; /* clamped */
    int32_t today;         /* days since 1970-01-01 */
    int queries;           /* out: data statements run (SFP_BRIEF_SECTION_QUERIES) */
    int statements;        /* out: all statements incl. savepoints */
    int failed_sections;   /* out */
    bool timed_out;        /* out: a section hit its statement timeout */
    int lanes;             /* out: connections the sections ran on (2 with a spare) */
} sfp_brief_build_ctx;

int sfp_brief_build(sfp_conn *c, sfp_brief_build_ctx *ctx, Sfpermits__V1__Brief *r, sfp_arena *a, sfp_err *err);

#endif
