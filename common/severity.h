/* severity.h — severity scoring v1 of a single permit: a pure function, no I/O.
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
 *  - the age ramp is the FORMULA days_filed / 1460 × 100 (365 d → 25, 730 → 50, 1095 → 75;
 *    a code comment in the system this one replaces claims 30/60/80, the formula is the rule);
 *  - age_staleness caps in this order: the filing-age part at 100, then (filing age + the
 *    inactivity boost of at most 40) at 100, THEN a "complete" permit's × 0.1 — so a complete
 *    permit's age_staleness is at most 10;
 *  - Table B validity looks at the permit TYPE DEFINITION ("demolition" in it → 180 days), not at
 *    the description's category;
 *  - rounding (one rule, the one of the system this one replaces, which is Python's round):
 *    sfp_round_half_even — the exact binary value rounded, ties to even. Dimension scores are
 *    rounded to 1 decimal, the score to an integer;
 *  - top_driver = argmax of (dimension score ROUNDED to 1 decimal) × weight, the first dimension
 *    in the order below on a tie (inspection, age, expiration, cost, category);
 *  - statuses are compared lower-cased; "complete" is the SODA value (a "completed" status is
 *    treated like any other non-special status, as in the reference);
 *  - dates are days since 1970-01-01; SFP_SEV_NO_DATE marks a missing date.
 *
 * Ownership: inputs are borrowed; the result is self-contained (fixed buffers, static strings). */
#ifndef SFP_SEVERITY_H
#define SFP_SEVERITY_H

#include "civil_date.h"
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
    sfp_sev_dim top_driver;         /* argmax dims[d] × weight (rounded dims; first on ties) */
    const char *confidence;         /* "medium" when issued with 0 inspections, else "high" */
    bool expired;                   /* issued and past its Table B validity (expires_in <= 0) */
    int expires_in;                 /* issued with issued_date: validity − days issued; else 0 */
    char explanation[256];          /* "<tier text>. Top driver: <Label> (<n>/100)[. <clause>]" */
    /* clauses: "Permit expired N days ago" / "Permit expires in N days"; "Filed N days ago[. No
     * activity in N days]"; "N inspections (expected ~E for <category>)" with E to 0 decimals */
} sfp_sev_result;

/* sfp_parse_iso_day (civil_date.h) with this module's convention: SFP_SEV_NO_DATE for NULL,
 * empty or invalid. */
int32_t sfp_sev_parse_day(const char *s);

sfp_sev_category sfp_sev_classify(const char *description, const char *permit_type_definition);
const char *sfp_sev_category_name(sfp_sev_category c); /* "seismic_structural", ... */
const char *sfp_sev_dim_name(sfp_sev_dim d);           /* "inspection_activity", ... */
const char *sfp_sev_dim_label(sfp_sev_dim d);          /* "Inspection Activity", "Age / Staleness", ... */
double sfp_sev_dim_weight(sfp_sev_dim d);
const char *sfp_sev_tier_for_score(int score);
/* Table B validity (days) used by the expiration dimension: "demolition" in the lower-cased
 * permit type definition → 180 (whatever the description says); else cost (revised if present,
 * else estimated) ≥ 2,500,000 → 1440; ≥ 100,001 → 1080; else 360. NULL type definition = "". */
int sfp_sev_validity_days(const char *permit_type_definition, double cost);

/* Python's round(x, ndigits) for 0 <= ndigits <= 15 (clamped): the EXACT binary value of x
 * rounded to ndigits decimals with ties to even, returned as the double nearest that decimal.
 * So 21.25 → 21.2 (an exact tie), 0.15 → 0.1 (0.15 is stored as 0.1499999…), 0.25 → 0.2,
 * 0.35 → 0.3 (0.34999…), 2.675 → 2.67 (ndigits 2). Not Postgres round(numeric), which rounds
 * half away from zero on a 15-digit decimal image (21.25 → 21.3, 0.15 → 0.2). NaN/inf unchanged. */
double sfp_round_half_even(double x, int ndigits);

/* Scores `in` as of `today` (days since 1970-01-01). Always succeeds. */
void sfp_severity_score(const sfp_sev_input *in, int32_t today, sfp_sev_result *out);

#endif
