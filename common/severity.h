/* severity.h — severity scoring v1 of a single permit (reference §3.6): a pure function, no I/O.
 * Used by the brief (property health when no property_health row exists) and by the cron
 * service (severity_cache refresh).
 *
 * Score = round-half-even(clamp(Σ dimension × weight)), 0..100, over five dimensions:
 *   inspection_activity  0.25   expiration_proximity 0.20   category_risk 0.15
 *   age_staleness        0.25   cost_tier            0.15
 * Tier: ≥80 CRITICAL, ≥60 HIGH, ≥40 MEDIUM, ≥20 LOW, else GREEN.
 *
 * Rules of note (tests/unit/test_severity.c has a table per rule):
 *  - category = the first keyword group found in lower(description + " " + type definition),
 *    plain substring matching as in the reference ("adu" also matches "graduate");
 *  - the age ramp is the FORMULA days_filed / 1460 × 100 (365 d → 25, 730 → 50, 1095 → 75),
 *    not the 30/60/80 of the reference's comment (§9 item 25);
 *  - statuses are compared lower-cased; "complete" is the SODA value (a "completed" status is
 *    treated like any other non-special status, as in the reference);
 *  - dates are days since 1970-01-01; SFP_SEV_NO_DATE marks a missing date.
 *
 * Ownership: inputs are borrowed; the result is self-contained (fixed buffers, static strings). */
#ifndef SFP_SEVERITY_H
#define SFP_SEVERITY_H

#include <stdbool.h>
#include <stdint.h>

#define SFP_SEV_NO_DATE INT32_MIN

typedef enum {
    SFP_SEV_CAT_SEISMIC_STRUCTURAL = 0,
    SFP_SEV_CAT_FIRE_SAFETY,
    SFP_SEV_CAT_ADU,
    SFP_SEV_CAT_NEW_CONSTRUCTION,
    SFP_SEV_CAT_KITCHEN_BATH,
    SFP_SEV_CAT_ELECTRICAL,
    SFP_SEV_CAT_PLUMBING,
    SFP_SEV_CAT_STRUCTURAL,
    SFP_SEV_CAT_WINDOWS_DOORS,
    SFP_SEV_CAT_REROOFING,
    SFP_SEV_CAT_SOLAR,
    SFP_SEV_CAT_DEMOLITION,
    SFP_SEV_CAT_GENERAL,
    SFP_SEV_CAT_COUNT
} sfp_sev_category;

typedef enum {
    SFP_SEV_DIM_INSPECTION = 0, /* inspection_activity */
    SFP_SEV_DIM_AGE,            /* age_staleness */
    SFP_SEV_DIM_EXPIRATION,     /* expiration_proximity */
    SFP_SEV_DIM_COST,           /* cost_tier */
    SFP_SEV_DIM_CATEGORY,       /* category_risk */
    SFP_SEV_DIM_COUNT
} sfp_sev_dim;

typedef struct sfp_sev_input {
    const char *permit_number;
    const char *status;                                       /* any case; NULL = "" */
    const char *permit_type_definition;                       /* NULL = "" */
    const char *description;                                  /* NULL = "" */
    int32_t filed_day, issued_day, completed_day, status_day; /* SFP_SEV_NO_DATE when missing */
    double estimated_cost;                                    /* 0 when unknown */
    bool has_revised_cost;
    double revised_cost;
    int inspection_count;
} sfp_sev_input;

typedef struct sfp_sev_result {
    int score;        /* 0..100 */
    const char *tier; /* "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "GREEN" */
    sfp_sev_category category;
    double dims[SFP_SEV_DIM_COUNT]; /* each 0..100, rounded to 1 decimal */
    sfp_sev_dim top_driver;         /* argmax dim × weight (first on ties) */
    const char *confidence;         /* "medium" when issued with 0 inspections, else "high" */
    bool expired;                   /* issued and past its Table B validity (expires_in <= 0) */
    int expires_in;                 /* issued with issued_date: validity − days issued; else 0 */
    char explanation[256];          /* "<tier text>. Top driver: <Label> (<n>/100)[. <clause>]" */
} sfp_sev_result;

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int32_t sfp_sev_days_from_civil(int y, int m, int d);
/* "YYYY-MM-DD..." (first 10 chars) → days; SFP_SEV_NO_DATE for NULL, empty or invalid. */
int32_t sfp_sev_parse_day(const char *s);

sfp_sev_category sfp_sev_classify(const char *description, const char *permit_type_definition);
const char *sfp_sev_category_name(sfp_sev_category c); /* "seismic_structural", ... */
const char *sfp_sev_dim_name(sfp_sev_dim d);           /* "inspection_activity", ... */
const char *sfp_sev_dim_label(sfp_sev_dim d);          /* "Inspection Activity", ... */
double sfp_sev_dim_weight(sfp_sev_dim d);
const char *sfp_sev_tier_for_score(int score);
/* Table B validity (days) used by the expiration dimension: demolition category 180; cost
 * (revised if present, else estimated) ≥ 2,500,000 → 1440; ≥ 100,001 → 1080; else 360. */
int sfp_sev_validity_days(sfp_sev_category c, double cost);

/* Scores `in` as of `today` (days since 1970-01-01). Always succeeds. */
void sfp_severity_score(const sfp_sev_input *in, int32_t today, sfp_sev_result *out);

#endif
