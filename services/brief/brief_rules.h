/* brief_rules.h — the brief's pure domain rules (no I/O; unit-tested in
 * tests/unit/test_brief_rules.c): lookback clamp, inspection outcome, Table B validity and the
 * expiring filter, station velocity label, pipeline health checks, pipeline stats average,
 * severity tier → health, address keys and the property-health cards (reference §2.2–§2.4,
 * with §9 items 9 and 11 fixed).
 *
 * Ownership: functions that build proto messages allocate them (and every string in them)
 * from the arena passed in; inputs are borrowed. */
#ifndef SFP_BRIEF_RULES_H
#define SFP_BRIEF_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "severity.h"
#include "sfpermits/v1/brief.pb-c.h"

#define SFP_BRIEF_LOOKBACK_MIN 1
#define SFP_BRIEF_LOOKBACK_MAX 90
#define SFP_BRIEF_EXPIRING_WARN_DAYS 30
#define SFP_BRIEF_MAX_CARDS 50
#define SFP_BRIEF_MAX_SIGNALS 10
#define SFP_BRIEF_STALE_HOURS 36.0

/* lookback_days: <= 0 (unset/invalid) → 1; > 90 → 90. */
int32_t sfp_brief_clamp_lookback(int64_t requested);
/* Query-string value → requested lookback as the reference's int() would read it: optional
 * blanks and sign, digits only; anything else (empty, "abc", "7d", "1.5") → 1. Saturates
 * instead of overflowing. The result still goes through sfp_brief_clamp_lookback. */
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

/* ---- pipeline health (§2.2): the four checks and their worst ---- */
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

/* ---- property health cards (§2.4) ---- */

/* One watched permit with its parcel-level facts (the property-health query's row). */
typedef struct sfp_brief_permit_row {
    const char *permit_number, *status, *status_date, *filed_date, *issued_date, *completed_date;
    const char *description, *permit_type_definition;
    double estimated_cost;
    bool has_revised_cost;
    double revised_cost;
    const char *street_number, *street_name, *street_suffix, *block, *lot, *neighborhood;
    const char *label; /* label of the watch that brought the permit in */
    int label_rank;    /* preference of that watch: address 1 < parcel 2 < permit 3 */
    int inspection_count;
    const char *hold_stations; /* comma-separated pending stations on hold (filed permits), "" none */
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

/* Groups rows (ordered newest status_date first) into at most SFP_BRIEF_MAX_CARDS cards,
 * worst health first (then most recent activity, then address). Health: the worst
 * property_health tier of the card's parcels when any has a row ("property_health"), else the
 * severity v1 score of its worst active permit ("severity_v1"); then upgrades to at_risk for
 * holds ("Hold at …") and open enforcement ("Open enforcement: …"); an at_risk that comes only
 * from an expired permit is downgraded to behind (" (active site)") when the site had activity
 * within 30 days — decided on the severity result, not on the reason text (§9 item 9). */
void sfp_brief_build_cards(const sfp_brief_permit_row *rows, size_t n, int32_t today, sfp_arena *a,
                           Sfpermits__V1__BriefPropertyHealth ***cards, size_t *ncards);

/* Summary counts: every *_count is the length of its own section (§9 item 11);
 * total_watches from the caller. */
void sfp_brief_fill_summary(Sfpermits__V1__GetBriefResponse *r, int32_t total_watches, sfp_arena *a);

#endif
