/* Pure rules of the cron service (services/cron/cron_rules.h): bearer check, tiers, the
 * signal catalogue, percentile_cont against hand-computed values, rounding (Python's round),
 * transition probability over the kept pairs, congestion baseline over the snapshots with a
 * queue and labels,
 * the nightly window (catch-up capped at 30 days), back-off, time budgets, job names and
 * sfp-cronctl exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "cron_rules.h"

static void test_auth(void **state)
{
    (void)state;
    static const struct {
        const char *header, *secret;
        bool ok;
    } cases[] = {
        {"Bearer s3cret", "s3cret", true},
        {"  Bearer s3cret \r\n", "s3cret\n", true}, /* surrounding blanks ignored on both sides */
        {"Bearer s3cret", "", false},               /* empty secret denies everything */
        {"Bearer ", "", false},
        {"Bearer", "", false},
        {"", "", false},
        {"Bearer s3cret", "   ", false}, /* blank secret = empty */
        {NULL, "s3cret", false},         /* header missing */
        {"Bearer s3cret", NULL, false},  /* secret unset */
        {"", "s3cret", false},
        {"bearer s3cret", "s3cret", true}, /* the scheme is case-insensitive (RFC 7235) */
        {"BEARER s3cret", "s3cret", true},
        {"Bearer s3cre", "s3cret", false},    /* prefix of the secret */
        {"Bearer s3cretX", "s3cret", false},  /* longer */
        {"Bearer  s3cret", "s3cret", true},   /* blanks after the scheme: 1 or more */
        {"Bearer s3 cret", "s3 cret", false}, /* a token has no blanks inside */
        {"Basic s3cret", "s3cret", false},
        {"s3cret", "s3cret", false},
        {"Bearer S3CRET", "s3cret", false},
        {"Bearer s3cret\0junk", "s3cret", true}, /* C string ends at NUL */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sfp_cron_auth_ok(cases[i].header, cases[i].secret) != cases[i].ok)
            fail_msg("case %zu: header '%s' secret '%s' expected %d", i, cases[i].header ? cases[i].header : "(null)",
                     cases[i].secret ? cases[i].secret : "(null)", cases[i].ok);
    }
}

static void test_tier(void **state)
{
    (void)state;
    static const struct {
        const char *types[4], *sev[4];
        size_t n;
        const char *tier;
    } cases[] = {
        {{0}, {0}, 0, "on_track"},
        {{"complaint"}, {"slower"}, 1, "slower"},
        {{"hold_stalled", "complaint"}, {"behind", "slower"}, 2, "behind"},
        {{"nov"}, {"at_risk"}, 1, "at_risk"},
        {{"nov", "nov"}, {"at_risk", "at_risk"}, 2, "at_risk"}, /* same type twice: one distinct */
        {{"nov", "abatement"}, {"at_risk", "at_risk"}, 2, "high_risk"},
        {{"hold_comments", "stale_with_activity", "complaint"}, {"at_risk", "at_risk", "slower"}, 3, "high_risk"},
        {{"nov", "hold_stalled"}, {"at_risk", "behind"}, 2, "at_risk"},
        /* a compounding type that is not at_risk does not compound */
        {{"nov", "abatement"}, {"at_risk", "behind"}, 2, "at_risk"},
        /* an at_risk type outside the compounding set counts as at_risk only */
        {{"nov", "station_slow"}, {"at_risk", "at_risk"}, 2, "at_risk"},
        {{"expired_uninspected", "hold_stalled_planning", "nov", "abatement"},
         {"at_risk", "at_risk", "at_risk", "at_risk"},
         4,
         "high_risk"},
        {{"x"}, {"info"}, 1, "on_track"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(sfp_cron_tier(cases[i].types, cases[i].sev, cases[i].n), cases[i].tier);
}

static void test_catalog(void **state)
{
    (void)state;
    size_t n;
    const sfp_cron_signal_type *c = sfp_cron_signal_catalog(&n);
    assert_int_equal(n, 13);
    size_t detectors = 0, compounding = 0;
    for (size_t i = 0; i < n; i++) {
        detectors += c[i].has_detector;
        compounding += sfp_cron_signal_compounding(c[i].type);
        if (sfp_cron_signal_compounding(c[i].type)) assert_string_equal(c[i].severity, "at_risk");
        for (size_t j = 0; j < i; j++) assert_string_not_equal(c[i].type, c[j].type);
    }
    assert_int_equal(detectors, 12);
    assert_int_equal(compounding, 6);
    assert_string_equal(c[12].type, "station_slow");
    assert_false(c[12].has_detector);
    assert_false(sfp_cron_signal_compounding("complaint"));
    assert_false(sfp_cron_signal_compounding(NULL));
}

static void test_percentile_cont(void **state)
{
    (void)state;
    /* 1..10: positions p·(n−1) → p25 = 1 + 2.25 = 3.25, p50 5.5, p75 7.75, p90 9.1 */
    const double ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assert_true(fabs(sfp_cron_percentile_cont(ten, 10, 0.25) - 3.25) < 1e-12);
    assert_true(fabs(sfp_cron_percentile_cont(ten, 10, 0.50) - 5.5) < 1e-12);
    assert_true(fabs(sfp_cron_percentile_cont(ten, 10, 0.75) - 7.75) < 1e-12);
    assert_true(fabs(sfp_cron_percentile_cont(ten, 10, 0.90) - 9.1) < 1e-12);
    /* uneven: {0.5, 2, 2, 7, 30}: p25 at 1.0 → 2; p50 at 2 → 2; p75 at 3 → 7; p90 at 3.6 → 7+0.6·23 = 20.8 */
    const double five[] = {0.5, 2, 2, 7, 30};
    assert_true(fabs(sfp_cron_percentile_cont(five, 5, 0.25) - 2.0) < 1e-12);
    assert_true(fabs(sfp_cron_percentile_cont(five, 5, 0.75) - 7.0) < 1e-12);
    assert_true(fabs(sfp_cron_percentile_cont(five, 5, 0.90) - 20.8) < 1e-9);
    const double one[] = {4.2};
    assert_true(fabs(sfp_cron_percentile_cont(one, 1, 0.9) - 4.2) < 1e-12);
    assert_true(fabs(sfp_cron_percentile_cont(ten, 10, 0.0) - 1) < 1e-12);
    assert_true(fabs(sfp_cron_percentile_cont(ten, 10, 1.0) - 10) < 1e-12);
    assert_true(isnan(sfp_cron_percentile_cont(ten, 0, 0.5)));
}

/* One rounding rule (Python's round, as the replaced system rounds the percentiles): the
 * float8's exact value, ties to even. 21.25 (SFFD revision p75) → 21.2, not numeric round's 21.3. */
static void test_round1(void **state)
{
    (void)state;
    static const double cases[][2] = {
        {21.25, 21.2},  /* exact tie → even (numeric round: 21.3) */
        {3.25, 3.2},    /* exact tie → even (numeric round: 3.3) */
        {7.75, 7.8},    /* exact tie → even */
        {0.15, 0.1},    /* 0.1499999… (numeric round: 0.2) */
        {2.05, 2.0},    /* 2.0499999… (numeric round: 2.1) */
        {-1.25, -1.2},  /* symmetric */
        {9.1, 9.1},     /* already one decimal */
        {10.84, 10.8},  /* plain */
        {22.6, 22.6},   /* plain */
        {34.4, 34.4},   /* 24 + 0.4·26 computed in float8 */
        {0.04, 0.0},    /* rounds to zero */
        {174.0, 174.0}, /* integral */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sfp_cron_round1(cases[i][0]) != cases[i][1])
            fail_msg("round1(%.17g) = %.17g, want %.17g", cases[i][0], sfp_cron_round1(cases[i][0]), cases[i][1]);
    /* 3.2 + 0.25·0.4 as float8 (3.3000000000000003) → 3.3 */
    assert_true(sfp_cron_round1(3.2 + 0.25 * 0.4) == 3.3);
}

/* Transition probability: only pairs with ≥ 5 transitions are kept, and the denominator is
 * the sum over the kept pairs only (6 to BLDG + 2 to CPB: BLDG 1.0, not 0.75). */
static void test_transition_probability(void **state)
{
    (void)state;
    static const struct {
        long count;
        long from[4];
        size_t n;
        double want; /* NAN: pair not kept */
    } cases[] = {
        {6, {6, 2}, 2, 1.0},           /* the 2 to CPB are cut, and out of the total */
        {2, {6, 2}, 2, NAN},           /* below the cut: no row */
        {6, {6, 5}, 2, 0.5455},        /* 6/11 = 0.54545… */
        {5, {6, 5}, 2, 0.4545},        /* 5/11 = 0.45454… */
        {5, {5, 5, 5, 4}, 4, 0.3333},  /* 4 cut: 5/15 */
        {5, {5, 27}, 2, 0.1563},       /* 5/32 = 0.15625: numeric round, half away from zero */
        {10, {10, 3, 3, 3}, 4, 1.0},   /* 9 transitions cut, none in the denominator */
        {4, {4}, 1, NAN},              /* nothing kept */
        {7, {7, 7, 7}, 3, 0.3333},     /* 7/21 */
        {20, {20, 20, 20}, 3, 0.3333}, /* 1/3 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = sfp_cron_transition_probability(cases[i].count, cases[i].from, cases[i].n);
        if (isnan(cases[i].want) ? !isnan(got) : got != cases[i].want)
            fail_msg("case %zu: probability %.17g, want %.17g", i, got, cases[i].want);
    }
}

/* Congestion: the baseline is the mean over the snapshots in which the station HAD a queue;
 * none → no baseline (NULL ratio, label normal). 6 open now, 5 in one snapshot: baseline 5,
 * ratio 1.2 → busy (averaging the empty snapshots as 0 gave 1.25 and "congested"). */
static void test_congestion_baseline_and_label(void **state)
{
    (void)state;
    static const struct {
        long snaps[4];
        long queue;
        double base; /* NAN: none */
        const char *label;
    } cases[] = {
        {{5, 0, 0, 0}, 6, 5.0, "busy"},   /* 6 / 5 = 1.2 */
        {{0, 0, 0, 0}, 4, NAN, "normal"}, /* no baseline: row with NULL baseline/ratio */
        {{0, 0, 0, 0}, 2, NAN, "normal"},      {{4, 6, 0, 8}, 10, 6.0, "congested"}, /* 10 / 6 = 1.67 */
        {{1, 2, 2, 2}, 7, 1.75, "congested"},                                        /* 4.0 */
        {{3, 3, 3, 3}, 3, 3.0, "normal"},                                            /* 1.0 */
        {{10, 0, 10, 0}, 6, 10.0, "clearing"},                                       /* 0.6 */
        {{10, 10, 10, 10}, 2, 10.0, "normal"},                                       /* tiny queue */
        {{0, 0, 0, 20}, 24, 20.0, "busy"},                                           /* 1.2 */
        {{0, 0, 0, 20}, 23, 20.0, "normal"},                                         /* 1.15 is not > 1.15 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double base = sfp_cron_congestion_baseline(cases[i].snaps);
        if (isnan(cases[i].base) ? !isnan(base) : base != cases[i].base)
            fail_msg("case %zu: baseline %.17g, want %.17g", i, base, cases[i].base);
        double ratio = isnan(base) ? NAN : (double)cases[i].queue / base;
        const char *want = cases[i].label;
        if (strcmp(sfp_cron_congestion_label(cases[i].queue, ratio), want))
            fail_msg("case %zu: label %s, want %s", i, sfp_cron_congestion_label(cases[i].queue, ratio), want);
    }
    /* 1 / 3 snapshots: the mean is not rounded */
    const long thirds[4] = {1, 1, 2, 0};
    assert_true(sfp_cron_congestion_baseline(thirds) == 4.0 / 3.0);
}

static void test_congestion_label(void **state)
{
    (void)state;
    assert_string_equal(sfp_cron_congestion_label(2, 10.0), "normal"); /* tiny queue */
    assert_string_equal(sfp_cron_congestion_label(3, 1.51), "congested");
    assert_string_equal(sfp_cron_congestion_label(3, 1.5), "busy");
    assert_string_equal(sfp_cron_congestion_label(10, 1.16), "busy");
    assert_string_equal(sfp_cron_congestion_label(10, 1.15), "normal");
    assert_string_equal(sfp_cron_congestion_label(10, 0.7), "normal");
    assert_string_equal(sfp_cron_congestion_label(10, 0.69), "clearing");
    assert_string_equal(sfp_cron_congestion_label(10, NAN), "normal"); /* no baseline */
}

static void test_nightly_lookback(void **state)
{
    (void)state;
    bool c = true;
    assert_int_equal(sfp_cron_nightly_lookback(0, false, 0, &c), 1); /* first run ever */
    assert_false(c);
    assert_int_equal(sfp_cron_nightly_lookback(0, true, 0.9, &c), 1); /* ran yesterday */
    assert_false(c);
    assert_int_equal(sfp_cron_nightly_lookback(0, true, 1.0, &c), 1);
    assert_false(c);
    assert_int_equal(sfp_cron_nightly_lookback(0, true, 1.5, &c), 3); /* missed a run: catch up */
    assert_true(c);
    assert_int_equal(sfp_cron_nightly_lookback(0, true, 6.2, &c), 8);
    assert_true(c);
    assert_int_equal(sfp_cron_nightly_lookback(0, true, 45, &c), 30); /* capped */
    assert_true(c);
    assert_int_equal(sfp_cron_nightly_lookback(0, true, 29.0, &c), 30);
    assert_int_equal(sfp_cron_nightly_lookback(7, true, 45, &c), 7); /* explicit wins, no catch-up */
    assert_false(c);
    assert_int_equal(sfp_cron_nightly_lookback(200, false, 0, &c), 90);
    assert_int_equal(sfp_cron_nightly_lookback(0, true, NAN, &c), 1);
}

static void test_backoff_and_budget(void **state)
{
    (void)state;
    assert_int_equal(sfp_cron_backoff_ms(1, 2000, 0), 2000);
    assert_int_equal(sfp_cron_backoff_ms(2, 2000, 0), 4000);
    assert_int_equal(sfp_cron_backoff_ms(3, 2000, 0), 8000);
    assert_int_equal(sfp_cron_backoff_ms(1, 2000, 10), 10000); /* Retry-After is a floor */
    assert_int_equal(sfp_cron_backoff_ms(9, 2000, 0), 60000);  /* capped */
    assert_int_equal(sfp_cron_backoff_ms(1, 2000, 100000), 60000);
    assert_int_equal(sfp_cron_backoff_ms(2, 0, 0), 0);
    assert_int_equal(sfp_cron_budget_ms(INT64_MAX, 480, 1000), 480000);
    assert_int_equal(sfp_cron_budget_ms(10000, 300, 1000), 9000);
    assert_int_equal(sfp_cron_budget_ms(400000, 300, 1000), 300000);
    assert_true(sfp_cron_budget_ms(500, 300, 1000) <= 0);
}

static void test_jobs(void **state)
{
    (void)state;
    static const char *const cli[] = {"signals", "velocity-refresh", "compute-caches",
                                      "nightly", "heartbeat",        "status"};
    static const char *const types[] = {"signals", "velocity_refresh", "compute_caches",
                                        "nightly", "heartbeat",        "status"};
    for (size_t i = 0; i < 6; i++) {
        sfp_cron_job j = sfp_cron_job_from_cli(cli[i]);
        assert_int_equal(j, (int)i + 1);
        assert_string_equal(sfp_cron_job_cli_name(j), cli[i]);
        assert_string_equal(sfp_cron_job_type(j), types[i]);
        assert_non_null(strstr(sfp_cron_job_rpc_path(j), "/sfpermits.v1.CronService/"));
    }
    assert_int_equal(sfp_cron_job_from_cli("velocity_refresh"), 0);
    assert_int_equal(sfp_cron_job_from_cli(""), 0);
    assert_int_equal(sfp_cron_job_from_cli(NULL), 0);
}

static void test_cronctl_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_OK), 0);
    /* a job that ran and failed is a non-OK status */
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_INTERNAL), 1);
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_FAILED_PRECONDITION), 1);
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_INVALID_ARGUMENT), 2);
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_ABORTED), 3);
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_DEADLINE_EXCEEDED), 4);
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_UNAVAILABLE), 5);
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_UNAUTHENTICATED), 6);
    assert_int_equal(sfp_cronctl_exit_code(GRPC_STATUS_PERMISSION_DENIED), 6);
    /* all distinct */
    int seen[8] = {0};
    const int codes[] = {sfp_cronctl_exit_code(GRPC_STATUS_OK),
                         sfp_cronctl_exit_code(GRPC_STATUS_INTERNAL),
                         SFP_CRONCTL_USAGE,
                         sfp_cronctl_exit_code(GRPC_STATUS_ABORTED),
                         sfp_cronctl_exit_code(GRPC_STATUS_DEADLINE_EXCEEDED),
                         sfp_cronctl_exit_code(GRPC_STATUS_UNAVAILABLE),
                         sfp_cronctl_exit_code(GRPC_STATUS_UNAUTHENTICATED)};
    for (size_t i = 0; i < 7; i++) assert_int_equal(seen[codes[i]]++, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_tier),
        cmocka_unit_test(test_catalog),
        cmocka_unit_test(test_percentile_cont),
        cmocka_unit_test(test_round1),
        cmocka_unit_test(test_congestion_label),
        cmocka_unit_test(test_transition_probability),
        cmocka_unit_test(test_congestion_baseline_and_label),
        cmocka_unit_test(test_nightly_lookback),
        cmocka_unit_test(test_backoff_and_budget),
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_cronctl_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
