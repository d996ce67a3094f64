/* brief_rules.h — the brief's pure domain rules (no I/O; unit-tested in
 * tests/unit/test_brief_rules.c): lookback clamp, inspection outcome, Table B validity and the
 * expiring filter, station velocity label, pipeline health checks, pipeline stats average,
 * severity tier → health, address keys and normalisation, routing, the property cards and
 * their activity rows, predictability, the property synopsis and the summary.
 *
 * Ownership: functions that build proto messages allocate them (and every string in them)
 * from the arena passed in; inputs are borrowed. */
#ifndef SFP_BRIEF_RULES_H
#define SFP_BRIEF_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena_pb.h"
#include "severity.h"
#include "sfpermits/v1/brief.pb-c.h"

#define SFP_BRIEF_LOOKBACK_MIN 1
#define SFP_BRIEF_LOOKBACK_MAX 90
#define SFP_BRIEF_EXPIRING_WARN_DAYS 30
#define SFP_BRIEF_MAX_CARDS 50
#define SFP_BRIEF_MAX_SIGNALS 10
#define SFP_BRIEF_STALE_HOURS 36.0

/* lookback_days: 0 (unset) → 1, 1..90 as is (*effective, true); anything else is out of range
 * (false: the caller answers INVALID_ARGUMENT, never clamps). */
bool sfp_brief_lookback_ok(int64_t requested, int32_t *effective);
/* Query-string value → requested lookback as the reference's int() would read it: optional
 * blanks and sign, digits only; anything else (empty, "abc", "7d", "1.5") → 1. Saturates
 * instead of overflowing. The result still goes through sfp_brief_lookback_ok. */
int64_t sfp_brief_parse_lookback(const char *s);

/* lower(result) ∈ {approved, ok, pass, passed} / {disapproved, fail, failed, not approved}. */
bool sfp_brief_inspection_is_pass(const char *result);
bool sfp_brief_inspection_is_fail(const char *result);

/* Table B (SFBC 106A.4.4) as the brief applies it: "demolition" in the type definition → 180;
 * cost = revised_cost when > 0, else estimated_cost; ≥ 2,500,000 → 1440; ≥ 100,001 → 1080;
 * else 360. */
int sfp_brief_validity_days(const char *permit_type_definition, bool has_revised, double revised_cost,
                            double estimated_cost);

/* v1 station velocity label from the median days: NULL → "unknown"; < 1 "same day"; < 7 "~N days";
 * < 30 "~N weeks"; else "~N.N months" (30-day months). Writes into out (cap >= 32). */
const char *sfp_brief_station_label(bool has_median, double median_days, char *out, size_t cap);

/* Severity tier → property health: CRITICAL at_risk, HIGH behind, MEDIUM slower, else on_track. */
const char *sfp_brief_health_for_tier(const char *tier);
/* on_track 0 < slower 1 < behind 2 < at_risk 3 < high_risk 4; unknown → 0. */
int sfp_brief_health_rank(const char *health);
/* The CardHealth of a health name ("at_risk" → CARD_HEALTH_AT_RISK); UNSPECIFIED for another. */
Sfpermits__V1__CardHealth sfp_brief_card_health(const char *health);
/* The SeverityTier of a severity v1 tier ("CRITICAL" → SEVERITY_TIER_CRITICAL); UNSPECIFIED for
 * another. */
Sfpermits__V1__SeverityTier sfp_brief_severity_tier(const char *tier);

/* ---- pipeline health: the four checks and their worst ---- */
typedef struct sfp_brief_pipeline_input {
    bool has_last_success;
    double hours_since_success; /* last nightly success (started_at) */
    bool has_addenda_as_of;
    int32_t addenda_as_of_day; /* MAX(addenda.data_as_of) as days */
    long stuck_jobs;           /* running for > 120 min */
    long recent_failures;      /* failed in the last 48 h */
} sfp_brief_pipeline_input;
Sfpermits__V1__PipelineHealth *sfp_brief_pipeline_health(const sfp_brief_pipeline_input *in, int32_t today,
                                                         sfp_arena *a);

/* Average duration of the successful jobs with elapsed >= 0, rounded to 2 decimals;
 * false when there is none. */
bool sfp_brief_avg_success_duration(Sfpermits__V1__PipelineJob *const *jobs, size_t n, double *avg);

/* ---- property cards ---- */

/* One watched permit with its parcel-level facts (the property-health query's row). */
typedef struct sfp_brief_permit_row {
    const char *permit_number, *status, *status_date, *filed_date, *issued_date, *completed_date;
    const char *description, *permit_type_definition;
    double estimated_cost;
    bool has_revised_cost;
    double revised_cost;
    const char *street_number, *street_name, *street_suffix, *block, *lot, *neighborhood;
    const char *permit_type; /* permits.permit_type (property-activity rows) */
    const char *label;       /* label of the watch that brought the permit in */
    int label_rank;          /* preference of that watch: address 1 < parcel 2 < permit 3 */
    int inspection_count;
    /* routing of a filed permit's latest addenda round, "" when not filed or no addenda:
     * {"total":N,"completed":N,"pending":[{"station":S,"arrive":"YYYY-MM-DD…","hold":bool,
     *  "median":days|null}, …]} with pending stations in routing (step) order */
    const char *routing_json;
    /* parcel (block/lot) facts, repeated on every row of the parcel */
    int open_violations, open_complaints;
    const char *ph_tier; /* property_health.tier, "" when the parcel has no row */
    int ph_signal_count, ph_at_risk_count;
    const char *ph_signals_json; /* [{type, severity, permit, detail}], "" none */
} sfp_brief_permit_row;

/* Grouping key: UPPER("NUMBER NAME[ SUFFIX]") (suffix only when not already part of the name),
 * or "BLOCK/LOT" when the address is blank. Writes into out. */
void sfp_brief_address_key(const char *street_number, const char *street_name, const char *street_suffix,
                           const char *block, const char *lot, char *out, size_t cap);
/* "1455 MARKET ST" → "1455 Market St" (word starts upper, the rest lower; "8TH" → "8th"). */
void sfp_brief_title_case(const char *in, char *out, size_t cap);

/* Address for matching a change against a card: upper case, blanks collapsed, a trailing
 * street suffix token (ST, AVE, AV, BLVD, BL, DR, WAY, WY, PL, CT, TER, LN, RD, HWY, CIR, AL)
 * dropped, so "1455 Market St" and "1455 MARKET" compare equal. "" when number and name are
 * blank. */
void sfp_brief_address_norm(const char *street_number, const char *street_name, char *out, size_t cap);

/* Routing of a filed permit (sfp_brief_permit_row.routing_json) → BriefRouting, or NULL when
 * the JSON is blank, malformed or has no station. Stalled: pending, arrived > 30 days before
 * today, no hold. velocity: the first 5 pending stations with their v1 median label. */
Sfpermits__V1__BriefRouting *sfp_brief_routing_from_json(const char *permit_number, const char *json, int32_t today,
                                                         sfp_arena *a);

/* Groups rows (ordered newest status_date first) into at most SFP_BRIEF_MAX_CARDS cards.
 * Order: cards active within the lookback (days_since_activity <= lookback) first, then worst
 * health, then most recent activity, then address. Health: the worst property_health tier of
 * the card's parcels when any has a row ("property_health"), else the severity v1 score of its
 * worst active permit ("severity_v1"); then upgrades to at_risk for holds ("Hold at …": the
 * held stations of the routing of the card's filed permit with the lowest completion) and open
 * enforcement ("Open enforcement: …"); an at_risk that comes only from an expired permit is
 * downgraded to behind (" (active site)") when the site had activity within 30 days — decided
 * on the severity result, not on the reason text. health_reason is "" when on_track. */
void sfp_brief_build_cards(const sfp_brief_permit_row *rows, size_t n, int32_t today, int32_t lookback, sfp_arena *a,
                           Sfpermits__V1__BriefPropertyHealth ***cards, size_t *ncards);

/* Appends the property-activity rows to r->changes (see BriefChange in brief.proto): for each
 * card of r->property_health active within the lookback whose normalised address no change in
 * r->changes already has, its permits (from rows, the same rows the cards were built from)
 * with status_date on or after since_day, newest first, ≤10; or one "activity" row. A permit
 * already listed in changes on the same date is not listed again. */
void sfp_brief_add_property_activity(Sfpermits__V1__Brief *r, const sfp_brief_permit_row *rows, size_t n,
                                     int32_t since_day, int32_t lookback, sfp_arena *a);

/* ---- predictability (the `health` section) ---- */

/* under_50k (< 50,000) | 50k_150k (< 150,000) | 150k_500k (< 500,000) | over_500k. */
const char *sfp_brief_cost_bracket(double estimated_cost);
/* "otc" when the type definition contains "otc" (any case), else "in_house". */
const char *sfp_brief_review_path(const char *permit_type_definition);
/* elapsed ≤ p50 on_track, ≤ p75 slower, ≤ p90 behind, else at_risk. */
const char *sfp_brief_predictability_status(int elapsed, int p50, int p75, int p90);
/* round(elapsed / p50 * 100), half away from zero; 0 when p50 <= 0. */
int sfp_brief_pct_of_typical(int elapsed, int p50);
/* Sorts at_risk, behind, slower, on_track; then elapsed/p50 descending, then permit number. */
void sfp_brief_sort_predictability(Sfpermits__V1__BriefPredictability **items, size_t n);

/* ---- property synopsis ---- */

typedef struct sfp_brief_synopsis_row {
    const char *permit_number, *permit_type_definition, *status, *filed_date, *description;
    const char *neighborhood, *block, *lot;
} sfp_brief_synopsis_row;

/* The synopsis of the user's primary address from its permits (any order); NULL when n = 0. */
Sfpermits__V1__BriefPropertySynopsis *sfp_brief_build_synopsis(const char *street_number, const char *street_name,
                                                               const sfp_brief_synopsis_row *rows, size_t n,
                                                               sfp_arena *a);

/* ---- the dataset sections (boiler, data quality, street use, planning, pipeline) ---- */

#define SFP_BRIEF_COMPLIANCE_AHEAD_DAYS 90    /* expiring within this many days */
#define SFP_BRIEF_COMPLIANCE_EXPIRED_DAYS 365 /* an expired permit stays listed this long */
#define SFP_BRIEF_DQ_WARN_PCT 5.0             /* data_quality warns under this match rate */
#define SFP_BRIEF_MAX_COMPLIANCE 50

/* Days from `today` to the ISO date at the start of `date` (YYYY-MM-DD…); false when the date
 * is missing or malformed. */
bool sfp_brief_days_until(const char *date, int32_t today, int32_t *out);
/* Whether a boiler permit expiring in days_until days belongs in the compliance calendar:
 * −SFP_BRIEF_COMPLIANCE_EXPIRED_DAYS ≤ days_until ≤ SFP_BRIEF_COMPLIANCE_AHEAD_DAYS. */
bool sfp_brief_compliance_in_window(int32_t days_until);
/* Soonest (most overdue) first, then permit number. */
void sfp_brief_sort_compliance(Sfpermits__V1__BriefComplianceItem **items, size_t n);
/* Fills match_rate_pct (1 decimal) and status ("unknown" without rows, "warn" under
 * SFP_BRIEF_DQ_WARN_PCT, else "ok") from sampled/matched. */
void sfp_brief_data_quality_rate(Sfpermits__V1__BriefDataQuality *dq);
/* A planning record is open unless its status starts with "closed" or "withdrawn" (any case);
 * a missing status is open. */
bool sfp_brief_planning_is_open(const char *status);
/* The pipeline description shown: the planning one, else DBI's, ≤120 characters (arena). */
char *sfp_brief_pipeline_description(const char *planning, const char *dbi, sfp_arena *a);

/* Summary counts: every *_count is the length of its own section (changes_count included);
 * at_risk_count counts the `health` items with status behind or at_risk; total_watches from
 * the caller. */
void sfp_brief_fill_summary(Sfpermits__V1__Brief *r, int32_t total_watches, sfp_arena *a);

#endif
