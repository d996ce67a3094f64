/* Severity scoring v1 (common/severity.h): tables of cases per dimension, the age ramp
 * FORMULA (365 d → 25, not 30), age_staleness capping order (age 100, age + boost 100, then
 * × 0.1 for complete), category order and substring quirks, Table B validity from the type
 * definition, Python-style rounding (half to even on the exact binary value), tiers, top driver
 * from ROUNDED dimensions (first on ties), confidence and explanation clauses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "severity.h"

static int32_t T; /* "today": 2026-01-01 */

static sfp_sev_input base(void)
{
    sfp_sev_input in = {.permit_number = "202401010001",
                        .status = "filed",
                        .permit_type_definition = "",
                        .description = "",
                        .filed_day = SFP_SEV_NO_DATE,
                        .issued_day = SFP_SEV_NO_DATE,
                        .completed_day = SFP_SEV_NO_DATE,
                        .status_day = SFP_SEV_NO_DATE};
    return in;
}

static sfp_sev_result score(const sfp_sev_input *in)
{
    sfp_sev_result r;
    sfp_severity_score(in, T, &r);
    return r;
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(sfp_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(sfp_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(sfp_sev_parse_day("2026-01-01T00:00:00.000"), T);
    assert_int_equal(sfp_sev_parse_day("2024-02-29"), sfp_days_from_civil(2024, 2, 29));
    assert_int_equal(sfp_sev_parse_day("2023-02-29"), SFP_SEV_NO_DATE);
    assert_int_equal(sfp_sev_parse_day("2023-13-01"), SFP_SEV_NO_DATE);
    assert_int_equal(sfp_sev_parse_day("2023/01/01"), SFP_SEV_NO_DATE);
    assert_int_equal(sfp_sev_parse_day(""), SFP_SEV_NO_DATE);
    assert_int_equal(sfp_sev_parse_day(NULL), SFP_SEV_NO_DATE);
}

static void test_category_order_and_quirks(void **state)
{
    (void)state;
    static const struct {
        const char *desc, *type;
        sfp_sev_category want;
    } cases[] = {
        {"Seismic retrofit of foundation", "", SFP_SEV_CAT_SEISMIC_STRUCTURAL}, /* seismic before structural */
        {"soft story upgrade", "", SFP_SEV_CAT_SEISMIC_STRUCTURAL},
        {"install FIRE SPRINKLER system", "", SFP_SEV_CAT_FIRE_SAFETY},
        {"legalize in-law unit", "", SFP_SEV_CAT_ADU},
        {"graduate studio remodel", "", SFP_SEV_CAT_ADU}, /* substring quirk kept: "adu" in "graduate" */
        {"erect 4 story building", "", SFP_SEV_CAT_NEW_CONSTRUCTION},
        {"kitchen remodel with new wiring", "", SFP_SEV_CAT_KITCHEN_BATH}, /* kitchen before electrical */
        {"panel upgrade", "", SFP_SEV_CAT_ELECTRICAL},
        {"replace water heater", "", SFP_SEV_CAT_PLUMBING},
        {"new shear wall", "", SFP_SEV_CAT_STRUCTURAL},
        {"replace 3 windows", "", SFP_SEV_CAT_WINDOWS_DOORS},
        {"re-roof", "", SFP_SEV_CAT_REROOFING},
        {"rooftop photovoltaic", "", SFP_SEV_CAT_SOLAR},
        {"", "demolitions", SFP_SEV_CAT_DEMOLITION}, /* the type definition counts too */
        {"paint interior", "otc alterations permit", SFP_SEV_CAT_GENERAL},
        {NULL, NULL, SFP_SEV_CAT_GENERAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_sev_category c = sfp_sev_classify(cases[i].desc, cases[i].type);
        if (c != cases[i].want)
            fail_msg("case %zu '%s': got %s want %s", i, cases[i].desc ? cases[i].desc : "(null)",
                     sfp_sev_category_name(c), sfp_sev_category_name(cases[i].want));
    }
}

/* The formula days/1460×100: 365 d → 25, 730 → 50, 1095 → 75 (not the 30/60/80 that a code
 * comment of the replaced system claims). */
static void test_age_ramp_formula(void **state)
{
    (void)state;
    static const struct {
        int days;
        double want;
    } cases[] = {{0, 0}, {365, 25.0}, {730, 50.0}, {1095, 75.0}, {1460, 100.0}, {2000, 100.0}, {-10, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_sev_input in = base();
        in.filed_day = T - cases[i].days;
        sfp_sev_result r = score(&in);
        if (fabs(r.dims[SFP_SEV_DIM_AGE] - cases[i].want) > 1e-9)
            fail_msg("filed %d days ago: age %.3f want %.3f", cases[i].days, r.dims[SFP_SEV_DIM_AGE], cases[i].want);
    }
}

static void test_age_inactivity_and_complete(void **state)
{
    (void)state;
    sfp_sev_input in = base();
    in.status_day = T - 60; /* not more than 60: nothing added */
    assert_true(score(&in).dims[SFP_SEV_DIM_AGE] == 0);
    in.status_day = T - 210; /* (150/300)×40 = 20 */
    assert_true(fabs(score(&in).dims[SFP_SEV_DIM_AGE] - 20.0) < 1e-9);
    in.status_day = T - 1000; /* capped at 40 */
    assert_true(fabs(score(&in).dims[SFP_SEV_DIM_AGE] - 40.0) < 1e-9);
    in = base();
    in.status = "complete";
    in.filed_day = T - 730; /* 50 × 0.1 */
    assert_true(fabs(score(&in).dims[SFP_SEV_DIM_AGE] - 5.0) < 1e-9);
    in.status = "COMPLETE"; /* compared lower-cased */
    assert_true(fabs(score(&in).dims[SFP_SEV_DIM_AGE] - 5.0) < 1e-9);
    in.status = "completed"; /* not the SODA value: no 0.1 factor (as the reference) */
    assert_true(fabs(score(&in).dims[SFP_SEV_DIM_AGE] - 50.0) < 1e-9);
}

static void test_inspection_activity(void **state)
{
    (void)state;
    static const struct {
        const char *status, *desc;
        int issued_ago; /* -1: no issued date */
        int inspections;
        double want;
    } cases[] = {
        {"filed", "seismic retrofit", 400, 0, 0},
        {"approved", "seismic retrofit", 400, 0, 0},
        {"", "seismic retrofit", 400, 0, 0},
        {"complete", "seismic retrofit", -1, 0, 90}, /* life safety */
        {"complete", "fire alarm", -1, 0, 90},
        {"complete", "new foundation", -1, 0, 90}, /* structural is life safety */
        {"complete", "kitchen remodel", -1, 0, 70},
        {"complete", "adu conversion", -1, 0, 70},
        {"complete", "paint", -1, 0, 30},
        {"complete", "electrical", -1, 1, 30}, /* ratio 1/2.5 → (1−0.4)×50 */
        {"complete", "electrical", -1, 3, 0},
        {"issued", "paint", 10, 0, 0},            /* < 30 days */
        {"issued", "new foundation", 365, 0, 70}, /* 40 + 30×1 */
        {"issued", "paint", 365, 0, 40},          /* 20 + 20×1 */
        {"issued", "paint", 1000, 0, 60},         /* staleness capped at 2 */
        {"issued", "paint", 100, 1, 0},           /* ratio 1/2 ≥ 0.5 */
        {"issued", "adu", 100, 1, 14.1},          /* (0.5 − 1/6.8)×40 = 14.12 */
        {"issued", "paint", -1, 0, 0},            /* issued without a date */
        {"expired", "paint", 400, 0, 0},
        {"reinstated", "paint", 400, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_sev_input in = base();
        in.status = cases[i].status;
        in.description = cases[i].desc;
        if (cases[i].issued_ago >= 0) in.issued_day = T - cases[i].issued_ago;
        in.inspection_count = cases[i].inspections;
        sfp_sev_result r = score(&in);
        if (fabs(r.dims[SFP_SEV_DIM_INSPECTION] - cases[i].want) > 1e-9)
            fail_msg("case %zu (%s, %s): inspection %.2f want %.2f", i, cases[i].status, cases[i].desc,
                     r.dims[SFP_SEV_DIM_INSPECTION], cases[i].want);
    }
}

static void test_expiration_and_validity(void **state)
{
    (void)state;
    assert_int_equal(sfp_sev_validity_days("demolitions", 5e6), 180);
    assert_int_equal(sfp_sev_validity_days("DEMOLITIONS", 10), 180); /* compared lower-cased */
    assert_int_equal(sfp_sev_validity_days("otc alterations permit", 2500000), 1440);
    assert_int_equal(sfp_sev_validity_days("otc alterations permit", 2499999), 1080);
    assert_int_equal(sfp_sev_validity_days("", 100001), 1080);
    assert_int_equal(sfp_sev_validity_days(NULL, 100000), 360);
    static const struct {
        const char *status, *desc, *type;
        double est;
        bool has_rev;
        double rev;
        int issued_ago;
        double want;
        int expires_in;
        bool expired;
    } cases[] = {
        {"issued", "paint", "", 50000, false, 0, 100, 13.9, 260, false}, /* (360−260)/180×25 = 13.89 */
        {"issued", "paint", "", 50000, false, 0, 350, 90, 10, false},
        {"issued", "paint", "", 50000, false, 0, 300, 70, 60, false},
        {"issued", "paint", "", 50000, false, 0, 200, 50, 160, false},
        {"issued", "paint", "", 50000, false, 0, 360, 100, 0, true}, /* expires_in 0 → expired */
        {"issued", "paint", "", 50000, false, 0, 400, 100, -40, true},
        {"issued", "paint", "", 50000, false, 0, 10, 1.4, 350, false}, /* 350 ≤ 360: (10/180)×25 = 1.39 */
        /* validity comes from the type definition, not from the description's category */
        {"issued", "garage", "demolitions", 50000, false, 0, 100, 70, 80, false},
        {"issued", "demolish garage", "additions alterations or repairs", 50000, false, 0, 100, 13.9, 260, false},
        {"issued", "paint", "", 3000000, false, 0, 100, 0, 1340, false},
        {"issued", "paint", "", 3000000, true, 50000, 100, 13.9, 260, false}, /* revised wins */
        {"filed", "paint", "", 50000, false, 0, 400, 0, 0, false},            /* only issued permits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_sev_input in = base();
        in.status = cases[i].status;
        in.description = cases[i].desc;
        in.permit_type_definition = cases[i].type;
        in.estimated_cost = cases[i].est;
        in.has_revised_cost = cases[i].has_rev;
        in.revised_cost = cases[i].rev;
        in.issued_day = T - cases[i].issued_ago;
        sfp_sev_result r = score(&in);
        double want = cases[i].want;
        if (fabs(r.dims[SFP_SEV_DIM_EXPIRATION] - want) > 1e-9 || r.expires_in != cases[i].expires_in ||
            r.expired != cases[i].expired)
            fail_msg("case %zu: expiration %.2f/%d/%d want %.2f/%d/%d", i, r.dims[SFP_SEV_DIM_EXPIRATION], r.expires_in,
                     r.expired, want, cases[i].expires_in, cases[i].expired);
    }
}

static void test_cost_tier_and_category_risk(void **state)
{
    (void)state;
    static const struct {
        double cost;
        double want;
    } cost[] = {{0, 0},       {-5, 0},      {10000, 10},   {50000, 20},    {199999, 20},
                {200000, 40}, {500000, 60}, {1000000, 80}, {2500000, 100}, {9e9, 100}};
    for (size_t i = 0; i < sizeof cost / sizeof cost[0]; i++) {
        sfp_sev_input in = base();
        in.estimated_cost = cost[i].cost;
        sfp_sev_result r = score(&in);
        if (r.dims[SFP_SEV_DIM_COST] != cost[i].want)
            fail_msg("cost %.0f: tier %.0f want %.0f", cost[i].cost, r.dims[SFP_SEV_DIM_COST], cost[i].want);
    }
    static const struct {
        const char *desc;
        double want;
    } cat[] = {{"seismic", 100},   {"beam", 90},     {"fire escape", 85}, {"new building", 80}, {"adu", 70},
               {"raze", 65},       {"outlet", 55},   {"sewer", 50},       {"new bathroom", 45}, {"door", 25},
               {"ev charger", 20}, {"new roof", 10}, {"paint", 30}};
    for (size_t i = 0; i < sizeof cat / sizeof cat[0]; i++) {
        sfp_sev_input in = base();
        in.description = cat[i].desc;
        if (score(&in).dims[SFP_SEV_DIM_CATEGORY] != cat[i].want) fail_msg("category risk of '%s'", cat[i].desc);
    }
}

static void test_tiers_and_rounding(void **state)
{
    (void)state;
    assert_string_equal(sfp_sev_tier_for_score(100), "CRITICAL");
    assert_string_equal(sfp_sev_tier_for_score(80), "CRITICAL");
    assert_string_equal(sfp_sev_tier_for_score(79), "HIGH");
    assert_string_equal(sfp_sev_tier_for_score(60), "HIGH");
    assert_string_equal(sfp_sev_tier_for_score(59), "MEDIUM");
    assert_string_equal(sfp_sev_tier_for_score(40), "MEDIUM");
    assert_string_equal(sfp_sev_tier_for_score(39), "LOW");
    assert_string_equal(sfp_sev_tier_for_score(20), "LOW");
    assert_string_equal(sfp_sev_tier_for_score(19), "GREEN");
    assert_string_equal(sfp_sev_tier_for_score(0), "GREEN");
    /* filed general permit, nothing else: 30 × 0.15 = 4.5 → 4 (half to even, as Python's round) */
    sfp_sev_input in = base();
    sfp_sev_result r = score(&in);
    assert_int_equal(r.score, 4);
    assert_string_equal(r.tier, "GREEN");
    assert_int_equal(r.top_driver, SFP_SEV_DIM_CATEGORY);
    assert_string_equal(r.confidence, "high");
    assert_string_equal(r.explanation, "On track, no action needed. Top driver: Category Risk (30/100)");
}

/* Whole scores worked out by hand (comments show the weighted sum). */
static void test_full_scores(void **state)
{
    (void)state;
    /* seismic, issued 380 d ago, filed 400 d ago, idle 380 d, 0 inspections, $150k:
     * insp 40+30×(380/365)=71.23 ×.25 = 17.81; age 27.40+40=67.40 ×.25 = 16.85; exp 0 (1080−380=700);
     * cost 20 ×.15 = 3; category 100 ×.15 = 15 → 52.66 → 53 MEDIUM, top inspection. */
    sfp_sev_input in = base();
    in.status = "issued";
    in.description = "seismic retrofit";
    in.estimated_cost = 150000;
    in.filed_day = T - 400;
    in.issued_day = T - 380;
    in.status_day = T - 380;
    sfp_sev_result r = score(&in);
    assert_int_equal(r.score, 53);
    assert_string_equal(r.tier, "MEDIUM");
    assert_int_equal(r.category, SFP_SEV_CAT_SEISMIC_STRUCTURAL);
    assert_int_equal(r.top_driver, SFP_SEV_DIM_INSPECTION);
    assert_string_equal(r.confidence, "medium");
    assert_true(fabs(r.dims[SFP_SEV_DIM_INSPECTION] - 71.2) < 1e-9);
    assert_true(fabs(r.dims[SFP_SEV_DIM_AGE] - 67.4) < 1e-9);
    assert_string_equal(r.explanation, "Moderate risk \xe2\x80\x94 monitor closely. Top driver: Inspection Activity "
                                       "(71/100). 0 inspections (expected ~4 for seismic_structural)");

    /* new construction, $3M revised, filed+issued 1500 d ago, idle 400 d, 0 inspections:
     * insp 60 → 15; age 100 → 25; exp 100 (1440−1500 = −60) → 20; cost 100 → 15; cat 80 → 12 = 87. */
    in = base();
    in.status = "Issued";
    in.description = "new construction";
    in.estimated_cost = 10;
    in.has_revised_cost = true;
    in.revised_cost = 3000000;
    in.filed_day = in.issued_day = T - 1500;
    in.status_day = T - 400;
    r = score(&in);
    assert_int_equal(r.score, 87);
    assert_string_equal(r.tier, "CRITICAL");
    assert_int_equal(r.top_driver, SFP_SEV_DIM_AGE);
    assert_true(r.expired);
    assert_int_equal(r.expires_in, -60);
    assert_string_equal(r.explanation,
                        "Requires immediate attention. Top driver: Age / Staleness (100/100). Filed 1500 days ago. "
                        "No activity in 400 days");

    /* expired general permit with its inspections done: exp 100 → 20 is the top driver.
     * insp 0; age 370/1460×100 = 25.34 → 6.34; cost 10 → 1.5; cat 30 → 4.5 → 32.34 → 32 LOW. */
    in = base();
    in.status = "issued";
    in.description = "paint";
    in.estimated_cost = 10000;
    in.filed_day = T - 370;
    in.issued_day = T - 365;
    in.status_day = T - 10;
    in.inspection_count = 2;
    r = score(&in);
    assert_int_equal(r.score, 32);
    assert_string_equal(r.tier, "LOW");
    assert_int_equal(r.top_driver, SFP_SEV_DIM_EXPIRATION);
    assert_true(r.expired);
    assert_string_equal(r.confidence, "high");
    assert_string_equal(r.explanation, "Minor risk factors. Top driver: Expiration Proximity (100/100). "
                                       "Permit expired 5 days ago");
    in.issued_day = T - 340; /* expires in 20 days: 90 → 18 still the top driver */
    r = score(&in);
    assert_false(r.expired);
    assert_non_null(strstr(r.explanation, "Permit expires in 20 days"));
}

/* age_staleness caps the filing-age part at 100, then (age + inactivity boost) at 100, and only
 * then multiplies a complete permit by 0.1: a complete permit's age is at most 10. Capping only
 * after the 0.1 (the old rule) gave a 1991 complete permit 92.8 instead of 10. */
static void test_age_capping_order(void **state)
{
    (void)state;
    const int32_t filed_1991 = sfp_days_from_civil(1991, 6, 5);
    static const struct {
        const char *status;
        int filed_ago, status_ago; /* -1: no date */
        double want;               /* old rule in the comment */
    } cases[] = {
        {"complete", -2, 2000, 10.0},  /* filed 1991-06-05: 100, +40 → 100, ×0.1 (old: >90) */
        {"complete", 1000, 360, 10.0}, /* 68.49 + 40 = 108.49 → 100 → 10 (old 10.8) */
        {"complete", 2000, -1, 10.0},  /* 136.99 → 100 → 10 (old 13.7) */
        {"complete", 1460, 61, 10.0},  /* 100 + 0.13 → 100 → 10 (old 10.0) */
        {"complete", 730, -1, 5.0},    /* 50 × 0.1 */
        {"complete", 365, 210, 4.5},   /* (25 + 20) × 0.1 */
        {"issued", 2000, 400, 100.0},  /* capped twice, no factor */
        {"issued", 1200, 90, 86.2},    /* 82.19 + 4 = 86.19 */
        {"issued", 1400, 1000, 100.0}, /* 95.89 + 40 → 100 */
        {"filed", 1460, -1, 100.0},    {"filed", -1, 360, 40.0}, /* boost alone, capped at 40 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_sev_input in = base();
        in.status = cases[i].status;
        if (cases[i].filed_ago == -2) in.filed_day = filed_1991;
        else if (cases[i].filed_ago >= 0) in.filed_day = T - cases[i].filed_ago;
        if (cases[i].status_ago >= 0) in.status_day = T - cases[i].status_ago;
        double got = score(&in).dims[SFP_SEV_DIM_AGE];
        if (got != cases[i].want) fail_msg("case %zu: age_staleness %.3f want %.3f", i, got, cases[i].want);
    }
    /* the whole score of such a permit: general, $10k, 0 inspections, complete, filed 1991, idle
     * since 2000: inspection 30 ×.25 = 7.5; age 10 ×.25 = 2.5; cost 10 ×.15 = 1.5; category 30 ×.15
     * = 4.5 → 16 GREEN (the old rule: age 92.x → 37 LOW) */
    sfp_sev_input in = base();
    in.status = "complete";
    in.description = "paint";
    in.estimated_cost = 10000;
    in.filed_day = filed_1991;
    in.status_day = sfp_days_from_civil(2000, 1, 1);
    sfp_sev_result r = score(&in);
    assert_int_equal(r.score, 16);
    assert_string_equal(r.tier, "GREEN");
    assert_int_equal(r.top_driver, SFP_SEV_DIM_INSPECTION);
}

/* The top driver is chosen from the dimension scores ROUNDED to 1 decimal × weight, the first
 * dimension (inspection, age, expiration, cost, category) winning a tie. */
static void test_top_driver_rounded_first_on_tie(void **state)
{
    (void)state;
    static const struct {
        const char *status, *desc;
        int filed_ago, issued_ago, inspections;
        double cost;
        sfp_sev_dim want;
    } cases[] = {
        /* age 744/1460×100 = 50.96 → 51.0 ×.25 = 12.75 = fire_safety 85 ×.15: age first
         * (unrounded: 12.74 < 12.75 → category) */
        {"filed", "fire alarm", 744, -1, 0, 0, SFP_SEV_DIM_AGE},
        /* 743 d → 50.89 → 50.9 ×.25 = 12.725 < 12.75: category */
        {"filed", "fire alarm", 743, -1, 0, 0, SFP_SEV_DIM_CATEGORY},
        /* 745 d → 51.03 → 51.0: still the tie, age first */
        {"filed", "fire alarm", 745, -1, 0, 0, SFP_SEV_DIM_AGE},
        /* inspection 60 ×.25 = 15, expiration (expired) 100 ×.2 = 20, age 100 ×.25 = 25: age */
        {"issued", "paint", 1460, 1000, 0, 0, SFP_SEV_DIM_AGE},
        /* exact tie inspection 40 ×.25 (issued 365 d, 0 inspections) = age 40 ×.25 (filed 584 d):
         * inspection first; $150k → validity 1080, no expiration score */
        {"issued", "paint", 584, 365, 0, 150000, SFP_SEV_DIM_INSPECTION},
        /* nothing but category */
        {"filed", "paint", -1, -1, 0, 0, SFP_SEV_DIM_CATEGORY},
        /* cost 100 ×.15 = 15 = seismic category 100 ×.15: cost first */
        {"filed", "seismic", -1, -1, 0, 3e6, SFP_SEV_DIM_COST},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_sev_input in = base();
        in.status = cases[i].status;
        in.description = cases[i].desc;
        if (cases[i].filed_ago >= 0) in.filed_day = T - cases[i].filed_ago;
        if (cases[i].issued_ago >= 0) in.issued_day = T - cases[i].issued_ago;
        in.inspection_count = cases[i].inspections;
        in.estimated_cost = cases[i].cost;
        sfp_sev_result r = score(&in);
        if (r.top_driver != cases[i].want)
            fail_msg("case %zu: top driver %s want %s (dims %.1f %.1f %.1f %.1f %.1f)", i,
                     sfp_sev_dim_name(r.top_driver), sfp_sev_dim_name(cases[i].want), r.dims[0], r.dims[1], r.dims[2],
                     r.dims[3], r.dims[4]);
    }
}

/* One rounding rule, Python's round: the exact binary value, ties to even. Values compared
 * bit for bit with the double nearest the expected decimal. */
static void test_round_half_even(void **state)
{
    (void)state;
    static const struct {
        double x;
        int nd;
        double want;
    } cases[] = {
        {21.25, 1, 21.2},                     /* exact tie → even (Postgres numeric round: 21.3) */
        {21.35, 1, 21.4},                     /* 21.35 is stored as 21.350000000000001 → up */
        {12.75, 1, 12.8},                     /* exact tie → even 128 */
        {0.25, 1, 0.2},                       /* exact tie → even */
        {0.15, 1, 0.1},                       /* 0.1499999… (numeric round: 0.2) */
        {0.35, 1, 0.3},                       /* 0.3499999… */
        {0.45, 1, 0.5},                       /* 0.4500000…1 */
        {1.45, 1, 1.4},                       /* 1.4499999… */
        {-0.25, 1, -0.2},                     /* symmetric */
        {13.8889, 1, 13.9}, {2.675, 2, 2.67}, /* 2.67499999… */
        {0.125, 2, 0.12},                     /* exact tie → even */
        {0.5, 0, 0},        {1.5, 0, 2},      {2.5, 0, 2},       {3.5, 0, 4},
        {4.5, 0, 4},        {52.66, 0, 53},   {1e300, 1, 1e300}, {7.0, 1, 7.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = sfp_round_half_even(cases[i].x, cases[i].nd);
        if (got != cases[i].want)
            fail_msg("round(%.17g, %d) = %.17g, want %.17g", cases[i].x, cases[i].nd, got, cases[i].want);
    }
    assert_true(isnan(sfp_round_half_even(NAN, 1)));
    assert_true(isinf(sfp_round_half_even(INFINITY, 1)));
    /* (10/180)×25 = 1.3888… and (0.5 − 1/6.8)×40 = 14.117…: the dimension values of the tables above */
    assert_true(sfp_round_half_even(10 / 180.0 * 25.0, 1) == 1.4);
    assert_true(sfp_round_half_even((0.5 - 1 / 6.8) * 40.0, 1) == 14.1);
}

int main(void)
{
    T = sfp_days_from_civil(2026, 1, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_category_order_and_quirks),
        cmocka_unit_test(test_age_ramp_formula),
        cmocka_unit_test(test_age_inactivity_and_complete),
        cmocka_unit_test(test_inspection_activity),
        cmocka_unit_test(test_expiration_and_validity),
        cmocka_unit_test(test_cost_tier_and_category_risk),
        cmocka_unit_test(test_tiers_and_rounding),
        cmocka_unit_test(test_full_scores),
        cmocka_unit_test(test_age_capping_order),
        cmocka_unit_test(test_top_driver_rounded_first_on_tie),
        cmocka_unit_test(test_round_half_even),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
