/* velocity-refresh rules on rows made here (the seeded world never produces these cases),
 * through the real CronService over gRPC against a real Postgres, today = 2025-06-15:
 *  - percentile rounding: one rule, Python's round (the float8's exact value, ties to even):
 *    p25 3.25 → 3.2, p50 5.25 → 5.2, p75 21.25 → 21.2 (numeric round gives 3.3 / 5.3 / 21.3);
 *  - transition probability = n / the transitions out of the station that survive the
 *    5-transition cut (6 to BLDG + 2 to CPB → BLDG 1.0, no CPB row);
 *  - congestion baseline = mean over the snapshots (today − 3/6/9/12 months) in which the
 *    station had a queue; a station with no current queue gets no row; one with a queue but no
 *    snapshot queue gets NULL baseline and ratio, label normal.
 * Every expected figure is also derived from the pure rules of cron_rules.h, so the SQL and
 * the rules cannot drift apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_harness.h"
#include "cron_service.h"
#include "sfpermits/v1/cron.pb-c.h"
#include "testsupport.h"

#define SECRET "test-cron-velocity-secret"
#define TODAY "2025-06-15"

typedef struct harness {
    char *url;
    sfp_test_cron cron;
} harness;

static void start(harness *h, const char *dbname)
{
    memset(h, 0, sizeof *h);
    h->url = sfp_test_migrated_db(dbname);
    sfp_test_cron_init(&h->cron, h->url, "sfp-cron-velocity-test", 8, SECRET);
    h->cron.svc.cfg.today = TODAY;
    sfp_test_cron_serve(&h->cron, 4);
}

static void stop(harness *h)
{
    sfp_test_cron_stop(&h->cron);
    free(h->url);
}

static Sfpermits__V1__VelocityRefreshResult *run_velocity(harness *h)
{
    Sfpermits__V1__RunVelocityRefreshRequest req = SFPERMITS__V1__RUN_VELOCITY_REFRESH_REQUEST__INIT;
    sfp_rpc_md md[1] = {{"authorization", "Bearer " SECRET}};
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    grpc_status_code c = sfp_rpc_call(h->cron.ch, sfp_cron_job_rpc_path(SFP_CRON_JOB_VELOCITY), &req.base,
                                      &sfpermits__v1__velocity_refresh_result__descriptor, &resp, 60000, md, 1, &st);
    if (c != GRPC_STATUS_OK) fail_msg("velocity-refresh: %s %s", sfp_rpc_code_name(c), st.message);
    Sfpermits__V1__VelocityRefreshResult *r = (void *)resp;
    assert_true(r->ok);
    assert_string_equal(r->transitions_error, "");
    assert_string_equal(r->congestion_error, "");
    return r;
}

/* The single text value of `sql` ("(null)" for NULL, "(no row)" for none); caller frees. */
static char *text_of(harness *h, const char *sql)
{
    PGconn *c = PQconnectdb(h->url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
    char *out = strdup(PQntuples(r) == 0 ? "(no row)" : PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return out;
}

static void expect_text(harness *h, const char *sql, const char *want)
{
    char *got = text_of(h, sql);
    if (strcmp(got, want)) fail_msg("%s\n  got  %s\n  want %s", sql, got, want);
    free(got);
}

/* ------------------------------------------------------------------ rounding */

/* RND: 10 initial reviews in the last 90 days lasting 1, 2, 3, 4, 5, 5.5, 20.5, 21.5, 30, 30 d.
 * percentile_cont positions (n−1)·p: 2.25 → 3 + 0.25 = 3.25; 4.5 → 5 + 0.25 = 5.25;
 * 6.75 → 20.5 + 0.75 = 21.25; 8.1 → 30. All exact ties at 1 decimal except p90. */
static const char k_round_fixture[] =
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'R-' || k, 0, 1, 'RND', '2025-05-01T00:00:00.000', "
    "  to_char(timestamp '2025-05-01' + d * interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS.000') "
    "FROM unnest(ARRAY[1, 2, 3, 4, 5, 5.5, 20.5, 21.5, 30, 30]) WITH ORDINALITY AS x(d, k)";

static void test_percentile_rounding_half_even(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_vel_round");
    assert_int_equal(sfp_test_sql(h.url, k_round_fixture), 0);
    Sfpermits__V1__VelocityRefreshResult *r = run_velocity(&h);
    assert_int_equal(r->rows_inserted, 2); /* current + baseline */
    /* the exact percentiles, as Postgres computes them, are the ties themselves */
    expect_text(&h,
                "WITH d AS (SELECT EXTRACT(EPOCH FROM (finish_date::timestamp - arrive::timestamp)) / 86400.0 AS x "
                "FROM addenda WHERE station = 'RND') SELECT array_to_string(percentile_cont(ARRAY[0.25, 0.5, 0.75, "
                "0.9]) WITHIN GROUP (ORDER BY x), ' ') FROM d",
                "3.25 5.25 21.25 30");
    /* numeric round would give 3.3 / 5.3 / 21.3 */
    const double want[4] = {sfp_cron_round1(3.25), sfp_cron_round1(5.25), sfp_cron_round1(21.25), 30};
    assert_true(want[0] == 3.2 && want[1] == 5.2 && want[2] == 21.2);
    for (int p = 0; p < 2; p++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT concat_ws(' ', sample_count, p25_days, p50_days, p75_days, p90_days) FROM "
                 "station_velocity_v2 WHERE station = 'RND' AND metric_type = 'initial' AND period = '%s'",
                 p ? "baseline" : "current");
        expect_text(&h, sql, "10 3.2 5.2 21.2 30");
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

/* ------------------------------------------------------------------ transitions */

/* From INTAKE: 6 permits go on to BLDG, 2 to CPB (cut: < 5). From PPC: 6 to BLDG (one permit
 * twice: 5 permits), 5 to SFFD, 3 to MECH (cut). All finished in 2019. */
static const char *const k_transitions_fixture[] = {
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'T-' || k, 0, s, CASE WHEN s = 1 THEN 'INTAKE' WHEN k <= 6 THEN 'BLDG' ELSE 'CPB' END, "
    "  '2019-01-0' || s || 'T00:00:00.000', '2019-01-0' || s || 'T12:00:00.000' "
    "FROM generate_series(1, 8) k, generate_series(1, 2) s",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'U-' || k, 0, s, CASE WHEN s = 1 THEN 'PPC' WHEN k <= 5 THEN 'BLDG' WHEN k <= 10 THEN 'SFFD' "
    "  ELSE 'MECH' END, '2019-02-0' || s || 'T00:00:00.000', '2019-02-0' || s || 'T12:00:00.000' "
    "FROM generate_series(1, 13) k, generate_series(1, 2) s",
    /* U-1 goes round once more: PPC → BLDG again (steps 3, 4) */
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) VALUES "
    "('U-1', 0, 3, 'PPC', '2019-02-03T00:00:00.000', '2019-02-03T12:00:00.000'), "
    "('U-1', 0, 4, 'BLDG', '2019-02-04T00:00:00.000', '2019-02-04T12:00:00.000')",
    NULL};

static void expect_transition(harness *h, const char *from, const char *to, long n, long permits, double prob)
{
    char sql[320], want[96];
    snprintf(sql, sizeof sql,
             "SELECT concat_ws(' ', transition_count, sample_permits, probability, permit_type_bucket) FROM "
             "station_transitions WHERE from_station = '%s' AND to_station = '%s'",
             from, to);
    if (isnan(prob)) snprintf(want, sizeof want, "(no row)");
    else snprintf(want, sizeof want, "%ld %ld %.15g all", n, permits, prob);
    expect_text(h, sql, want);
}

static void test_transition_probability_over_kept_pairs(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_vel_transitions");
    for (const char *const *p = k_transitions_fixture; *p; p++) assert_int_equal(sfp_test_sql(h.url, *p), 0);
    Sfpermits__V1__VelocityRefreshResult *r = run_velocity(&h);
    /* INTAKE: {6, 2} → BLDG 6/6 = 1 (dividing by all 8 gave 0.75); CPB cut */
    const long intake[] = {6, 2};
    assert_true(sfp_cron_transition_probability(6, intake, 2) == 1.0);
    expect_transition(&h, "INTAKE", "BLDG", 6, 6, sfp_cron_transition_probability(6, intake, 2));
    expect_transition(&h, "INTAKE", "CPB", 0, 0, sfp_cron_transition_probability(2, intake, 2));
    /* PPC: {6, 5, 3} → BLDG 6/11 = 0.5455, SFFD 5/11 = 0.4545 (over all 14: 0.4286 / 0.3571) */
    const long ppc[] = {6, 5, 3};
    assert_true(sfp_cron_transition_probability(6, ppc, 3) == 0.5455);
    expect_transition(&h, "PPC", "BLDG", 6, 5, sfp_cron_transition_probability(6, ppc, 3));
    expect_transition(&h, "PPC", "SFFD", 5, 5, sfp_cron_transition_probability(5, ppc, 3));
    expect_transition(&h, "PPC", "MECH", 0, 0, sfp_cron_transition_probability(3, ppc, 3));
    /* BLDG → PPC (U-1's second round) once: cut */
    assert_int_equal(r->transitions, 3);
    assert_int_equal(sfp_test_sql_long(h.url, "SELECT count(*) FROM station_transitions"), 3);
    /* the probabilities out of each station sum to 1 over the kept pairs */
    expect_text(&h,
                "SELECT string_agg(from_station || '=' || round(s::numeric, 3), ' ' ORDER BY from_station) FROM "
                "(SELECT from_station, sum(probability) AS s FROM station_transitions GROUP BY from_station) x",
                "INTAKE=1.000 PPC=1.000");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

/* ------------------------------------------------------------------ congestion */

/* Snapshots for today 2025-06-15: 2025-03-15, 2024-12-15, 2024-09-15, 2024-06-15. A row is in a
 * snapshot's queue when it arrived on or before that day and finished after it (or not yet). */
static const char *const k_congestion_fixture[] = {
    /* BLDG: 6 open now; 5 in the 3-month snapshot only → baseline 5, ratio 1.2 busy
     * (empty snapshots as 0: baseline 1.25, ratio 4.8 congested) */
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'B-open-' || k, 0, 1, 'BLDG', '2025-06-01T00:00:00.000', NULL FROM generate_series(1, 6) k",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'B-old-' || k, 0, 1, 'BLDG', '2025-03-01T00:00:00.000', '2025-04-01T00:00:00.000' "
    "FROM generate_series(1, 5) k",
    /* CPB: queues in the past, none now → no row */
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'C-old-' || k, 0, 1, 'CPB', '2024-12-01T00:00:00.000', '2025-01-01T00:00:00.000' "
    "FROM generate_series(1, 7) k",
    /* PPC: 4 open now, never in a snapshot → row, NULL baseline and ratio, normal */
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'P-open-' || k, 0, 1, 'PPC', '2025-06-01T00:00:00.000', NULL FROM generate_series(1, 4) k",
    /* MECH: 3 open now; 10 at −3 months, 2 at −9 months → baseline 6, ratio 0.5 clearing
     * (as 0s: baseline 3, ratio 1 normal) */
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'M-open-' || k, 0, 1, 'MECH', '2025-06-01T00:00:00.000', NULL FROM generate_series(1, 3) k",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'M-q1-' || k, 0, 1, 'MECH', '2025-03-01T00:00:00.000', '2025-04-01T00:00:00.000' "
    "FROM generate_series(1, 10) k",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'M-q3-' || k, 0, 1, 'MECH', '2024-09-01T00:00:00.000', '2024-10-01T00:00:00.000' "
    "FROM generate_series(1, 2) k",
    /* DPW: snapshot day boundaries at 2025-03-15 — arriving that day counts, finishing that day
     * does not; one row open since 2024-06-01 is in every snapshot and in today's queue: queue
     * 3 + 1 = 4, snapshots {2, 1, 1, 1} → baseline 1.25, ratio 3.2 congested */
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) VALUES "
    "('D-open-1', 0, 1, 'DPW', '2025-06-10T00:00:00.000', NULL), "
    "('D-open-2', 0, 1, 'DPW', '2025-06-10T00:00:00.000', NULL), "
    "('D-open-3', 0, 1, 'DPW', '2025-06-10T00:00:00.000', NULL), "
    "('D-long', 0, 1, 'DPW', '2024-06-01T00:00:00.000', NULL), "
    "('D-in', 0, 1, 'DPW', '2025-03-15T10:00:00.000', '2025-03-16T09:00:00.000'), "
    "('D-out', 0, 1, 'DPW', '2025-03-01T00:00:00.000', '2025-03-15T23:00:00.000')",
    NULL};

static void expect_congestion(harness *h, const char *station, long queue, const long snaps[4])
{
    char sql[320], want[160];
    snprintf(sql, sizeof sql,
             "SELECT concat_ws(' ', current_queue, coalesce(baseline_queue_avg::text, 'null'), "
             "coalesce(congestion_ratio::text, 'null'), congestion_label) FROM station_congestion "
             "WHERE station = '%s'",
             station);
    if (queue == 0) {
        snprintf(want, sizeof want, "(no row)");
    } else {
        double base = sfp_cron_congestion_baseline(snaps);
        double ratio = isnan(base) ? NAN : (double)queue / base;
        char b[32] = "null", rt[32] = "null";
        if (!isnan(base)) snprintf(b, sizeof b, "%.15g", base);
        if (!isnan(ratio)) snprintf(rt, sizeof rt, "%.15g", ratio);
        snprintf(want, sizeof want, "%ld %s %s %s", queue, b, rt, sfp_cron_congestion_label(queue, ratio));
    }
    expect_text(h, sql, want);
}

static void test_congestion_baseline_over_snapshots_with_queue(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_vel_congestion");
    for (const char *const *p = k_congestion_fixture; *p; p++) assert_int_equal(sfp_test_sql(h.url, *p), 0);
    Sfpermits__V1__VelocityRefreshResult *r = run_velocity(&h);
    const long bldg[4] = {5, 0, 0, 0}, cpb[4] = {0, 7, 0, 0}, ppc[4] = {0, 0, 0, 0}, mech[4] = {10, 0, 2, 0},
               dpw[4] = {2, 1, 1, 1};
    expect_congestion(&h, "BLDG", 6, bldg);
    expect_text(&h, "SELECT congestion_label FROM station_congestion WHERE station = 'BLDG'", "busy");
    expect_congestion(&h, "CPB", 0, cpb);
    expect_congestion(&h, "PPC", 4, ppc);
    expect_text(&h,
                "SELECT concat_ws(' ', baseline_queue_avg IS NULL, congestion_ratio IS NULL, congestion_label) "
                "FROM station_congestion WHERE station = 'PPC'",
                "t t normal");
    expect_congestion(&h, "MECH", 3, mech);
    expect_text(&h, "SELECT congestion_label FROM station_congestion WHERE station = 'MECH'", "clearing");
    expect_congestion(&h, "DPW", 4, dpw);
    expect_text(&h,
                "SELECT concat_ws(' ', baseline_queue_avg, congestion_ratio, congestion_label) FROM "
                "station_congestion WHERE station = 'DPW'",
                "1.25 3.2 congested");
    assert_int_equal(r->congestion, 4); /* BLDG, DPW, MECH, PPC — not CPB */
    assert_int_equal(sfp_test_sql_long(h.url, "SELECT count(*) FROM station_congestion"), 4);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

int main(void)
{
    sfp_rpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_rounding_half_even),
        cmocka_unit_test(test_transition_probability_over_kept_pairs),
        cmocka_unit_test(test_congestion_baseline_over_snapshots_with_queue),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sfp_rpc_shutdown();
    return rc;
}
