/* CronService over real gRPC against a real Postgres (in-process server, like
 * test_health_service.c), with a fake BriefService for compute-caches.
 *
 * Counterparts of the replaced system's cron tests: auth without/with a wrong token
 * (UNAUTHENTICATED), empty CRON_SECRET denies everything, stats merged at the top level,
 * failure → ok=false/status failed/error, transitions failure non-fatal, compute-caches counts,
 * lookback 1 per user, a per-user error counted, users query failure. Plus: the 12 detectors
 * and tier rules on a fixture, signals twice back to back with identical results (FKs hold on
 * the second run), a failing detector reported as −1, velocity percentiles against
 * hand-computed values (window widening, de-dup, exclusions, n ≥ 10), transitions and
 * congestion, two concurrent triggers → one ABORTED, readers never see empty tables during a
 * signals or velocity run, the stuck-row sweep (only rows past the limit), the cron_log row
 * finished by id, deadline → DEADLINE_EXCEEDED with the row failed, status = last 20 rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron_harness.h"
#include "cron_service.h"
#include "pbjson.h"
#include "severity.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/cron.pb-c.h"
#include "testsupport.h"

#define SECRET "test-cron-secret"
#define TODAY "2025-06-15"

/* ------------------------------------------------------------------ fake brief service */

typedef struct fake_brief {
    pthread_mutex_t mu;
    int calls;
    int64_t uids[64];
    int lookbacks[64];
    int bad_auth; /* calls whose authorization was not "Bearer SECRET" */
    int64_t fresh_uid, fail_uid;
    bool fail_all;
} fake_brief;

static fake_brief g_brief;

static grpc_status_code fake_get_brief(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                       void *user)
{
    fake_brief *f = user;
    const Sfpermits__V1__GetBriefRequest *r = (const void *)req;
    const char *auth = sfp_rpc_metadata(ctx, "authorization");
    const char *uid_s = sfp_rpc_metadata(ctx, "x-sfp-user-id");
    int64_t uid = uid_s ? strtoll(uid_s, NULL, 10) : -1;
    pthread_mutex_lock(&f->mu);
    if (!auth || strcmp(auth, "Bearer " SECRET)) f->bad_auth++;
    if (f->calls < 64) {
        f->uids[f->calls] = uid;
        f->lookbacks[f->calls] = r->lookback_days;
    }
    f->calls++;
    bool fail = f->fail_all || uid == f->fail_uid, fresh = uid == f->fresh_uid;
    pthread_mutex_unlock(&f->mu);
    if (fail) {
        sfp_rpc_set_message(ctx, "brief exploded");
        return GRPC_STATUS_INTERNAL;
    }
    sfp_arena *a = sfp_rpc_arena(ctx);
    Sfpermits__V1__GetBriefResponse *out = sfp_arena_msg(a, &sfpermits__v1__get_brief_response__descriptor);
    out->brief = sfp_arena_msg(a, &sfpermits__v1__brief__descriptor);
    out->brief->lookback_days = r->lookback_days;
    out->metadata = sfp_arena_msg(a, &sfpermits__v1__read_metadata__descriptor);
    out->metadata->debug = sfp_arena_msg(a, &sfpermits__v1__read_debug__descriptor);
    out->metadata->debug->cached = fresh;
    *resp = &out->base;
    return GRPC_STATUS_OK;
}

/* ------------------------------------------------------------------ harness */

typedef struct harness {
    char *url;
    sfp_test_cron cron;
    sfp_rpc_server *brief_srv;
    pthread_t brief_th;
    sfp_rpc_channel *brief_ch;
} harness;

static void start(harness *h, const char *dbname, const char *secret)
{
    memset(h, 0, sizeof *h);
    h->url = sfp_test_migrated_db(dbname);
    sfp_test_cron_init(&h->cron, h->url, "sfp-cron-test", 8, secret);

    /* fake brief */
    memset(&g_brief, 0, sizeof g_brief);
    pthread_mutex_init(&g_brief.mu, NULL);
    g_brief.fresh_uid = g_brief.fail_uid = -1;
    sfp_rpc_method bm[] = {{"/sfpermits.v1.BriefService/GetBrief", &sfpermits__v1__get_brief_request__descriptor,
                            &sfpermits__v1__get_brief_response__descriptor, fake_get_brief, &g_brief}};
    sfp_rpc_server_config bc = {.service = "brief", .addr = "127.0.0.1:0", .workers = 4};
    sfp_test_rpc_start(&bc, bm, 1, &h->brief_srv, &h->brief_th, &h->brief_ch);

    h->cron.svc.cfg.today = TODAY;
    h->cron.svc.brief = h->brief_ch;
    sfp_test_cron_serve(&h->cron, 8);
}

static void stop(harness *h)
{
    sfp_test_cron_stop(&h->cron);
    sfp_test_rpc_stop(h->brief_srv, h->brief_th, h->brief_ch);
    pthread_mutex_destroy(&g_brief.mu);
    free(h->url);
}

static const ProtobufCMessageDescriptor *res_desc(sfp_cron_job j)
{
    switch (j) {
    case SFP_CRON_JOB_SIGNALS: return &sfpermits__v1__signals_result__descriptor;
    case SFP_CRON_JOB_VELOCITY: return &sfpermits__v1__velocity_refresh_result__descriptor;
    case SFP_CRON_JOB_COMPUTE_CACHES: return &sfpermits__v1__compute_caches_result__descriptor;
    case SFP_CRON_JOB_NIGHTLY: return &sfpermits__v1__nightly_result__descriptor;
    case SFP_CRON_JOB_HEARTBEAT: return &sfpermits__v1__heartbeat_result__descriptor;
    default: return &sfpermits__v1__get_status_response__descriptor;
    }
}

/* Calls job with `auth` as the authorization metadata (NULL = none). */
static grpc_status_code call(harness *h, sfp_cron_job job, const char *auth, int64_t timeout_ms, void **out,
                             sfp_rpc_status *st)
{
    Sfpermits__V1__RunSignalsRequest empty = SFPERMITS__V1__RUN_SIGNALS_REQUEST__INIT;
    sfp_rpc_md md[1] = {{"authorization", auth}};
    ProtobufCMessage *resp = NULL;
    grpc_status_code c = sfp_rpc_call(h->cron.ch, sfp_cron_job_rpc_path(job), &empty.base, res_desc(job), &resp,
                                      timeout_ms, md, auth ? 1 : 0, st);
    *out = resp;
    return c;
}

/* Runs job and returns its result, successful or failed (sfp_test_cron_job_result). */
static void *run_ok(harness *h, sfp_cron_job job)
{
    void *out = NULL;
    sfp_rpc_status st;
    grpc_status_code c = call(h, job, "Bearer " SECRET, 60000, &out, &st);
    return sfp_test_cron_job_result(c, out, &st, res_desc(job), sfp_cron_job_cli_name(job));
}

static void free_msg(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static long q(harness *h, const char *sql)
{
    return sfp_test_sql_long(h->url, sql);
}

static int64_t map_get(void *entries, size_t n, const char *key)
{
    Sfpermits__V1__SignalsResult__TierDistributionEntry **e = entries;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i]->key, key)) return e[i]->value;
    return INT64_MIN;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A job call on its own thread (for the lock / concurrency tests). */
typedef struct async_call {
    harness *h;
    sfp_cron_job job;
    int64_t timeout_ms;
    pthread_t th;
    grpc_status_code code;
    void *out;
    sfp_rpc_status st;
} async_call;

static void *async_main(void *arg)
{
    async_call *a = arg;
    a->code = call(a->h, a->job, "Bearer " SECRET, a->timeout_ms, &a->out, &a->st);
    return NULL;
}

static void async_start(async_call *a, harness *h, sfp_cron_job job, int64_t timeout_ms)
{
    memset(a, 0, sizeof *a);
    a->h = h;
    a->job = job;
    a->timeout_ms = timeout_ms;
    pthread_create(&a->th, NULL, async_main, a);
}

/* A separate session holding a table lock inside an open transaction. */
static PGconn *hold_lock(const char *url, const char *table, const char *mode)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "BEGIN; LOCK TABLE %s IN %s MODE", table, mode);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    return c;
}

static void release_lock(PGconn *c)
{
    PGresult *r = PQexec(c, "COMMIT");
    PQclear(r);
    PQfinish(c);
}

/* Waits until `sql` returns >= want (polling), up to 10 s. */
static void wait_for(harness *h, const char *sql, long want)
{
    for (int i = 0; i < 1000; i++) {
        if (q(h, sql) >= want) return;
        sleep_ms(10);
    }
    fail_msg("timed out waiting for: %s", sql);
}

/* ------------------------------------------------------------------ fixtures */

/* today = 2025-06-15. One parcel per detector/tier case (see the expected values below). */
static const char *const k_signals_fixture[] = {
    "INSERT INTO permits (permit_number, permit_type, permit_type_definition, status, status_date, description, "
    " filed_date, issued_date, estimated_cost, block, lot, street_number, street_name) VALUES "
    "('P1', '3', 'additions alterations or repairs', 'expired', '2024-01-01T00:00:00.000', 'seismic retrofit', "
    "  '2019-01-01T00:00:00.000', '2019-06-01T00:00:00.000', 80000, '1000', '001', '1', 'A ST'),"
    "('P2', '3', 'additions alterations or repairs', 'issued', '2020-01-01T00:00:00.000', 'kitchen remodel', "
    "  '2019-10-01T00:00:00.000', '2020-01-01T00:00:00.000', 50000, '1000', '002', '2', 'A ST'),"
    "('P3', '3', 'additions alterations or repairs', 'expired', '2023-01-01T00:00:00.000', 'window replacement', "
    "  '2020-01-01T00:00:00.000', '2020-02-01T00:00:00.000', 9000, '1000', '003', '3', 'A ST'),"
    "('P4', '8', 'otc alterations permit', 'expired', '2023-01-01T00:00:00.000', 'reroofing', "
    "  '2020-01-01T00:00:00.000', '2020-01-01T00:00:00.000', 7000, '1000', '004', '4', 'A ST'),"
    "('P5', '1', 'new construction', 'expired', '2023-01-01T00:00:00.000', 'new building', "
    "  '2018-01-01T00:00:00.000', '2019-01-01T00:00:00.000', 3000000, '1000', '005', '5', 'A ST'),"
    "('P6', '3', 'additions alterations or repairs', 'issued', '2021-01-01T00:00:00.000', 'bathroom remodel', "
    "  '2020-11-01T00:00:00.000', '2021-01-01T00:00:00.000', 30000, '1000', '006', '6', 'A ST'),"
    "('P10', '3', 'additions alterations or repairs', 'filed', '2023-10-01T00:00:00.000', 'addition', "
    "  '2023-10-01T00:00:00.000', NULL, 400000, '1000', '010', '10', 'A ST'),"
    "('P11', '3', 'additions alterations or repairs', 'filed', '2025-02-01T00:00:00.000', 'deck', "
    "  '2025-02-01T00:00:00.000', NULL, 20000, '1000', '011', '11', 'A ST'),"
    "('P12', '3', 'additions alterations or repairs', 'expired', '2024-01-01T00:00:00.000', 'foundation', "
    "  '2019-01-01T00:00:00.000', '2019-03-01T00:00:00.000', 120000, '1000', '012', '12', 'A ST'),"
    "('P13', '3', 'additions alterations or repairs', 'issued', '2024-12-01T00:00:00.000', 'electrical panel upgrade', "
    "  '2024-11-01T00:00:00.000', '2024-12-01T00:00:00.000', 15000, '1000', '012', '12', 'A ST');",
    "INSERT INTO inspections (reference_number, scheduled_date, result, inspection_description) VALUES "
    "('P1', '2019-07-01T00:00:00.000', 'PASSED', 'FOUNDATION'), ('P1', '2019-08-01T00:00:00.000', 'PASSED', 'FRAME'),"
    "('P1', '2019-09-01T00:00:00.000', 'FAILED', 'FRAME'), ('P1', '2019-10-01T00:00:00.000', 'PASSED', 'INSULATION'),"
    "('P1', '2019-11-01T00:00:00.000', 'CANCELLED', 'SHEETROCK'),"
    "('P2', '2021-01-01T00:00:00.000', 'PASSED', 'ROUGH'), ('P2', '2024-01-01T00:00:00.000', 'DISAPPROVED', 'ROUGH'),"
    "('P3', '2020-03-01T00:00:00.000', 'PASSED', 'ROUGH'), ('P3', '2020-04-01T00:00:00.000', 'FAILED', 'ROUGH'),"
    "('P12', '2019-04-01T00:00:00.000', 'PASSED', 'A'), ('P12', '2019-05-01T00:00:00.000', 'PASSED', 'B'),"
    "('P12', '2019-06-01T00:00:00.000', 'PASSED', 'C'), ('P12', '2019-07-01T00:00:00.000', 'PASSED', 'D'),"
    "('P12', '2019-08-01T00:00:00.000', 'PASSED', 'FINAL INSPECT/APPRVD');",
    "INSERT INTO violations (complaint_number, block, lot, status, nov_category_description) VALUES "
    "('V1', '1000', '001', 'open', 'building section'), ('V2', '1000', '001', 'open', 'building section'),"
    "('V8', '1000', '008', 'open', 'housing section'),"
    "('V9', '1000', '009', 'open', 'Director''s hearing'),"
    "('V12', '1000', '012', 'Closed', 'building section'), ('V13', '1000', '012', 'complied', 'abatement');",
    "INSERT INTO complaints (complaint_number, block, lot, status) VALUES "
    "('C7', '1000', '007', 'open'), ('C8', '1000', '008', 'open'), ('C12', '1000', '012', 'closed'),"
    "('C13', '1000', '012', 'ABATED');",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, start_date, finish_date, "
    " review_results) VALUES "
    "('P10', 0, 1, 'BLDG', '2023-10-02T00:00:00.000', '2023-10-02T00:00:00.000', '2023-11-01T00:00:00.000', 'Approved'),"
    "('P10', 0, 2, 'BLDG', '2023-12-01T00:00:00.000', '2023-12-01T00:00:00.000', '2024-01-01T00:00:00.000', "
    "  'Issued Comments'),"
    "('P10', 0, 3, 'CPB', '2023-10-02T00:00:00.000', '2023-10-02T00:00:00.000', '2023-10-05T00:00:00.000', "
    "  'Issued Comments'),"
    "('P10', 0, 4, 'CPB', '2023-11-02T00:00:00.000', '2023-11-02T00:00:00.000', '2023-11-05T00:00:00.000', 'Approved'),"
    "('P10', 0, 5, 'PPC', '2024-01-01T00:00:00.000', '2024-01-01T00:00:00.000', NULL, NULL),"
    "('P11', 0, 1, 'SFFD', '2025-03-01T00:00:00.000', '2025-03-01T00:00:00.000', NULL, ''),"
    "('P11', 0, 2, 'MECH', '2025-06-01T00:00:00.000', '2025-06-01T00:00:00.000', NULL, NULL);",
    /* watchers: an active user watching P1 and parcel 1000/012 (P12, P13); an inactive one watching P2 */
    "INSERT INTO users (user_id, email, is_active) VALUES (1, 'a@example.com', true), (2, 'b@example.com', false);",
    "INSERT INTO watch_items (user_id, watch_type, permit_number, block, lot) VALUES "
    "(1, 'permit', 'P1', NULL, NULL), (1, 'parcel', NULL, '1000', '012'), (2, 'permit', 'P2', NULL, NULL);",
    NULL};

static const char *const k_tiers[][2] = {
    {"1000/001", "high_risk"}, {"1000/002", "at_risk"},   {"1000/003", "behind"}, {"1000/004", "slower"},
    {"1000/005", "behind"},    {"1000/006", "slower"},    {"1000/007", "slower"}, {"1000/008", "at_risk"},
    {"1000/009", "high_risk"}, {"1000/010", "high_risk"}, {"1000/011", "behind"},
};

static const struct {
    const char *name;
    int64_t n;
} k_detector_counts[] = {
    {"hold_comments", 1},
    {"hold_stalled_planning", 1},
    {"hold_stalled", 1},
    {"nov", 3},
    {"abatement", 1},
    {"expired_uninspected", 1},
    {"stale_with_activity", 1},
    {"expired_minor_activity", 1},
    {"expired_inconclusive", 1},
    {"complaint", 1},
    {"expired_otc", 1},
    {"stale_no_activity", 1},
};

static int load(const char *url, const char *const *parts)
{
    for (; *parts; parts++)
        if (sfp_test_sql(url, *parts)) return -1;
    return 0;
}

static void check_signals_result(harness *h, const Sfpermits__V1__SignalsResult *r)
{
    assert_true(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "success");
    assert_string_equal(r->error, "");
    assert_string_equal(r->job_type, "signals");
    assert_true(r->log_id > 0);
    assert_int_equal(r->total_signals, 14);
    assert_int_equal(r->permit_signals, 9);
    assert_int_equal(r->property_signals, 14);
    assert_int_equal(r->property_health, 11);
    assert_int_equal(r->signal_types, 13);
    assert_int_equal(r->severity_cache, 3);
    assert_int_equal(r->n_detectors, 12);
    for (size_t i = 0; i < 12; i++) {
        int64_t v = map_get(r->detectors, r->n_detectors, k_detector_counts[i].name);
        if (v != k_detector_counts[i].n)
            fail_msg("detector %s: %lld, want %lld", k_detector_counts[i].name, (long long)v,
                     (long long)k_detector_counts[i].n);
    }
    assert_int_equal(map_get(r->tier_distribution, r->n_tier_distribution, "high_risk"), 3);
    assert_int_equal(map_get(r->tier_distribution, r->n_tier_distribution, "at_risk"), 2);
    assert_int_equal(map_get(r->tier_distribution, r->n_tier_distribution, "behind"), 3);
    assert_int_equal(map_get(r->tier_distribution, r->n_tier_distribution, "slower"), 3);
    assert_int_equal(map_get(r->tier_distribution, r->n_tier_distribution, "on_track"), 0);
    for (size_t i = 0; i < sizeof k_tiers / sizeof k_tiers[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM property_health WHERE block_lot = '%s' AND tier = '%s'",
                 k_tiers[i][0], k_tiers[i][1]);
        if (q(h, sql) != 1) fail_msg("parcel %s should be %s", k_tiers[i][0], k_tiers[i][1]);
    }
    assert_int_equal(q(h, "SELECT count(*) FROM property_health WHERE block_lot = '1000/012'"), 0);
}

static void test_signals_detectors_tiers_and_twice(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_signals", SECRET);
    assert_int_equal(load(h.url, k_signals_fixture), 0);
    Sfpermits__V1__SignalsResult *r1 = run_ok(&h, SFP_CRON_JOB_SIGNALS);
    check_signals_result(&h, r1);
    /* details */
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_signals WHERE permit_number = 'P10' AND signal_type = "
                           "'hold_comments' AND detail = 'Issued Comments at station BLDG' AND severity = 'at_risk'"),
                     1);
    assert_int_equal(q(&h, "SELECT at_risk_count FROM property_health WHERE block_lot = '1000/010'"), 2);
    assert_int_equal(q(&h, "SELECT signal_count FROM property_health WHERE block_lot = '1000/001'"), 2);
    assert_int_equal(q(&h, "SELECT jsonb_array_length(signals_json) FROM property_health WHERE block_lot = '1000/009'"),
                     2);
    assert_int_equal(q(&h, "SELECT count(*) FROM property_signals WHERE block_lot = '1000/009' AND source_permit IS "
                           "NULL AND signal_type IN ('nov', 'abatement')"),
                     2);
    /* severity: P1, P12, P13 (watched by the active user), never P2 (inactive watcher) */
    assert_int_equal(q(&h, "SELECT count(*) FROM severity_cache WHERE permit_number IN ('P1', 'P12', 'P13')"), 3);
    assert_int_equal(q(&h, "SELECT count(*) FROM severity_cache WHERE permit_number = 'P2'"), 0);
    sfp_sev_input in = {.permit_number = "P1",
                        .status = "expired",
                        .permit_type_definition = "additions alterations or repairs",
                        .description = "seismic retrofit",
                        .filed_day = sfp_sev_parse_day("2019-01-01"),
                        .issued_day = sfp_sev_parse_day("2019-06-01"),
                        .completed_day = SFP_SEV_NO_DATE,
                        .status_day = sfp_sev_parse_day("2024-01-01"),
                        .estimated_cost = 80000,
                        .inspection_count = 5};
    sfp_sev_result sr;
    sfp_severity_score(&in, sfp_sev_parse_day(TODAY), &sr);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM severity_cache WHERE permit_number = 'P1' AND score = %d AND "
             "tier = '%s' AND drivers ? 'inspection_activity'",
             sr.score, sr.tier);
    assert_int_equal(q(&h, sql), 1);
    /* cron_log row finished by id with the stats JSON */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM cron_log WHERE log_id = %lld AND status = 'success' AND "
             "job_type = 'signals' AND (stats->>'total_signals')::int = 14 AND completed_at IS NOT NULL",
             (long long)r1->log_id);
    assert_int_equal(q(&h, sql), 1);

    /* stats at the top level of the JSON */
    char *json = sfp_pbjson_encode(&r1->base, NULL);
    assert_non_null(strstr(json, "{\"ok\":true,\"elapsed_seconds\":"));
    assert_non_null(strstr(json, ",\"status\":\"success\",")); /* the JobStatus enum's JSON name */
    assert_non_null(strstr(json, "\"total_signals\":14"));
    assert_non_null(strstr(json, "\"tier_distribution\":{"));
    free(json);

    /* second run back to back: succeeds (FKs hold), identical data */
    long ids1 = q(&h, "SELECT sum(hashtext(permit_number || signal_type || coalesce(detail, ''))) FROM permit_signals");
    long maxid = q(&h, "SELECT max(id) FROM permit_signals");
    Sfpermits__V1__SignalsResult *r2 = run_ok(&h, SFP_CRON_JOB_SIGNALS);
    check_signals_result(&h, r2);
    assert_true(r2->log_id > r1->log_id);
    for (size_t i = 0; i < r1->n_tier_distribution; i++)
        assert_int_equal(map_get(r2->tier_distribution, r2->n_tier_distribution, r1->tier_distribution[i]->key),
                         r1->tier_distribution[i]->value);
    assert_int_equal(q(&h, "SELECT sum(hashtext(permit_number || signal_type || coalesce(detail, ''))) FROM "
                           "permit_signals"),
                     ids1);
    assert_int_equal(q(&h, "SELECT max(id) FROM permit_signals"), maxid); /* unchanged signals keep their rows */
    assert_int_equal(q(&h, "SELECT count(*) FROM signal_types"), 13);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE job_type = 'signals' AND status = 'success'"), 2);
    free_msg(r1);
    free_msg(r2);
    stop(&h);
}

/* Signals counts, and a failing detector is −1 while the job goes on. */
static void test_signals_failures(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_signals_fail", SECRET);
    assert_int_equal(load(h.url, k_signals_fixture), 0);
    /* complaints table gone: only the complaint detector fails */
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE complaints RENAME TO complaints_away"), 0);
    Sfpermits__V1__SignalsResult *r = run_ok(&h, SFP_CRON_JOB_SIGNALS);
    assert_true(r->ok);
    assert_int_equal(map_get(r->detectors, r->n_detectors, "complaint"), -1);
    assert_int_equal(map_get(r->detectors, r->n_detectors, "nov"), 3);
    assert_int_equal(r->total_signals, 13);
    free_msg(r);
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE complaints_away RENAME TO complaints"), 0);

    /* the write step fails: ok=false, status failed, error; the previous rows stay */
    long before = q(&h, "SELECT count(*) FROM permit_signals");
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE property_health RENAME TO property_health_away"), 0);
    r = run_ok(&h, SFP_CRON_JOB_SIGNALS);
    assert_false(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "failed");
    assert_non_null(strstr(r->error, "signals"));
    assert_null(strstr(r->error, "DELETE")); /* no SQL in messages */
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM cron_log WHERE log_id = %lld AND status = 'failed' AND "
             "error_message <> '' AND completed_at IS NOT NULL",
             (long long)r->log_id);
    assert_int_equal(q(&h, sql), 1);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_signals"), before);
    free_msg(r);
    stop(&h);
}

/* today 2025-06-15. BLDG/initial: 10 samples in 90 days (1..10 d), 5 more in 180 (20..24 d), 2 more in
 * 365 (50, 60 d) + rows that must not count (Administrative, > 365 d, negative, future arrival, older
 * than 365 d, a reassignment duplicate with an earlier finish). SFFD/revision: 30 samples of k·0.4 d.
 * CPB: 9 samples (< 10). INTAKE→PLAN 6 transitions, INTAKE→OTHER 2. PPC: 4 open rows. */
static const char *const k_velocity_fixture[] = {
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date, review_results) "
    "SELECT 'B90-' || k, 0, 1, 'BLDG', '2025-05-01T00:00:00.000', "
    "  to_char(timestamp '2025-05-01' + k * interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS.000'), NULL "
    "FROM generate_series(1, 10) k;",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date, review_results) "
    "SELECT 'B180-' || k, 0, 1, 'BLDG', '2025-02-01T00:00:00.000', "
    "  to_char(timestamp '2025-02-01' + k * interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS.000'), 'Approved' "
    "FROM generate_series(20, 24) k;",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date, review_results) "
    "VALUES ('B365-1', 0, 1, 'BLDG', '2024-10-01T00:00:00.000', '2024-11-20T00:00:00.000', NULL),"
    "('B365-2', 0, 1, 'BLDG', '2024-10-01T00:00:00.000', '2024-11-30T00:00:00.000', NULL),"
    "('BX-adm', 0, 1, 'BLDG', '2025-05-01T00:00:00.000', '2025-05-03T00:00:00.000', 'Administrative'),"
    "('BX-na', 0, 1, 'BLDG', '2025-05-01T00:00:00.000', '2025-05-03T00:00:00.000', 'Not Applicable'),"
    "('BX-long', 0, 1, 'BLDG', '2024-07-01T00:00:00.000', '2025-08-01T00:00:00.000', NULL),"
    "('BX-neg', 0, 1, 'BLDG', '2025-05-10T00:00:00.000', '2025-05-01T00:00:00.000', NULL),"
    "('BX-future', 0, 1, 'BLDG', '2025-07-01T00:00:00.000', '2025-07-02T00:00:00.000', NULL),"
    "('BX-old', 0, 1, 'BLDG', '2024-01-01T00:00:00.000', '2024-01-02T00:00:00.000', NULL),"
    "('BX-open', 0, 1, 'BLDG', '2025-05-01T00:00:00.000', NULL, NULL),"
    "('B90-1', 0, 1, 'BLDG', '2025-05-01T00:00:00.000', '2025-05-01T06:00:00.000', NULL);",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'S-' || k, 1, 1, 'SFFD', '2025-06-01T00:00:00.000', "
    "  to_char(timestamp '2025-06-01' + k * interval '576 minutes', 'YYYY-MM-DD\"T\"HH24:MI:SS.000') "
    "FROM generate_series(1, 30) k;",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'C-' || k, 0, 1, 'CPB', '2025-05-01T00:00:00.000', '2025-05-05T00:00:00.000' "
    "FROM generate_series(1, 9) k;",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'T-' || k, 0, s, CASE WHEN s = 1 THEN 'INTAKE' WHEN k <= 6 THEN 'PLAN' ELSE 'OTHER' END, "
    "  '2019-01-0' || s || 'T00:00:00.000', '2019-01-0' || s || 'T12:00:00.000' "
    "FROM generate_series(1, 8) k, generate_series(1, 2) s;",
    "INSERT INTO addenda (application_number, addenda_number, step, station, arrive, finish_date) "
    "SELECT 'Q-' || k, 0, 1, 'PPC', '2025-06-01T00:00:00.000', NULL FROM generate_series(1, 4) k;",
    NULL};

static void check_velocity_row(harness *h, const char *station, const char *metric, const char *period, long n,
                               const char *p25, const char *p50, const char *p75, const char *p90)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM station_velocity_v2 WHERE station = '%s' AND metric_type = '%s' AND period = '%s' "
             "AND sample_count = %ld AND p25_days = %s AND p50_days = %s AND p75_days = %s AND p90_days = %s",
             station, metric, period, n, p25, p50, p75, p90);
    if (q(h, sql) != 1) {
        PGconn *c = PQconnectdb(h->url);
        snprintf(sql, sizeof sql,
                 "SELECT sample_count, p25_days, p50_days, p75_days, p90_days FROM station_velocity_v2 "
                 "WHERE station = '%s' AND metric_type = '%s' AND period = '%s'",
                 station, metric, period);
        PGresult *r = PQexec(c, sql);
        char got[256] = "(no row)";
        if (PQntuples(r) == 1)
            snprintf(got, sizeof got, "n=%s p25=%s p50=%s p75=%s p90=%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
                     PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4));
        PQclear(r);
        PQfinish(c);
        fail_msg("%s/%s/%s: got %s, want n=%ld p25=%s p50=%s p75=%s p90=%s", station, metric, period, got, n, p25, p50,
                 p75, p90);
    }
}

static void test_velocity_percentiles_transitions_congestion(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_velocity", SECRET);
    assert_int_equal(load(h.url, k_velocity_fixture), 0);
    Sfpermits__V1__VelocityRefreshResult *r = run_ok(&h, SFP_CRON_JOB_VELOCITY);
    assert_true(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "success");
    assert_string_equal(r->job_type, "velocity_refresh");
    assert_int_equal(r->rows_inserted, 4);
    assert_int_equal(r->stations, 2);
    assert_int_equal(r->periods, 2);
    assert_int_equal(r->n_period_labels, 2);
    assert_string_equal(r->period_labels[0], "baseline");
    assert_string_equal(r->period_labels[1], "current");
    /* hand-computed: current = 180-day result (90-day n=10 < 30): {1..10, 20..24} */
    check_velocity_row(&h, "BLDG", "initial", "current", 15, "4.5", "8", "20.5", "22.6");
    /* baseline {1..10, 20..24, 50, 60}: p90 = 24 + 0.4·26 */
    check_velocity_row(&h, "BLDG", "initial", "baseline", 17, "5", "9", "22", "34.4");
    /* 0.4..12.0 step 0.4, n = 30 (no widening): p25 3.2+0.25·0.4, p50 6.2, p75 9.1, p90 10.84 */
    check_velocity_row(&h, "SFFD", "revision", "current", 30, "3.3", "6.2", "9.1", "10.8");
    check_velocity_row(&h, "SFFD", "revision", "baseline", 30, "3.3", "6.2", "9.1", "10.8");
    assert_int_equal(q(&h, "SELECT count(*) FROM station_velocity_v2 WHERE station = 'CPB'"), 0);
    /* transitions: INTAKE→PLAN 6; INTAKE→OTHER (2) below 5, so out of the denominator too → 1.0
     * (more cases in test_cron_velocity.c) */
    assert_int_equal(r->transitions, 1);
    assert_string_equal(r->transitions_error, "");
    assert_int_equal(q(&h, "SELECT count(*) FROM station_transitions WHERE from_station = 'INTAKE' AND to_station = "
                           "'PLAN' AND transition_count = 6 AND sample_permits = 6 AND probability = 1 AND "
                           "permit_type_bucket = 'all'"),
                     1);
    /* congestion: PPC 4 open now, no queue at any snapshot → no baseline, no ratio, normal */
    assert_string_equal(r->congestion_error, "");
    assert_true(r->congestion >= 1);
    assert_int_equal(q(&h, "SELECT count(*) FROM station_congestion WHERE station = 'PPC' AND current_queue = 4 AND "
                           "baseline_queue_avg IS NULL AND congestion_ratio IS NULL AND congestion_label = 'normal'"),
                     1);
    int64_t first_id = r->log_id;
    free_msg(r);

    /* idempotent: same rows again */
    r = run_ok(&h, SFP_CRON_JOB_VELOCITY);
    assert_true(r->ok);
    assert_int_equal(r->rows_inserted, 4);
    assert_true(r->log_id > first_id);
    check_velocity_row(&h, "BLDG", "initial", "current", 15, "4.5", "8", "20.5", "22.6");
    free_msg(r);

    /* the transitions step fails → still ok, transitions_error set, velocity written */
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE station_transitions RENAME TO st_away"), 0);
    r = run_ok(&h, SFP_CRON_JOB_VELOCITY);
    assert_true(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "success");
    assert_int_equal(r->rows_inserted, 4);
    assert_int_equal(r->transitions, 0);
    assert_true(strlen(r->transitions_error) > 0);
    assert_string_equal(r->congestion_error, "");
    free_msg(r);
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE st_away RENAME TO station_transitions"), 0);

    /* the refresh itself fails → ok false, failed, error; old rows kept */
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE addenda RENAME TO addenda_away"), 0);
    r = run_ok(&h, SFP_CRON_JOB_VELOCITY);
    assert_false(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "failed");
    assert_true(strlen(r->error) > 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM station_velocity_v2"), 4);
    free_msg(r);
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE addenda_away RENAME TO addenda"), 0);
    stop(&h);
}

/* No token / wrong token → UNAUTHENTICATED for every
 * job; status needs none. */
/* Out-of-range request fields: INVALID_ARGUMENT with a BadRequest field violation, never
 * clamped, and no run (no cron_log row). */
static void test_out_of_range_arguments(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_args", SECRET);
    sfp_rpc_md md[1] = {{"authorization", "Bearer " SECRET}};
    static const int bad_lookback[] = {-1, 91, 500};
    for (size_t i = 0; i < sizeof bad_lookback / sizeof bad_lookback[0]; i++) {
        Sfpermits__V1__RunNightlyRequest req = SFPERMITS__V1__RUN_NIGHTLY_REQUEST__INIT;
        req.lookback_days = bad_lookback[i];
        ProtobufCMessage *resp = NULL;
        sfp_rpc_status st;
        assert_int_equal(sfp_rpc_call(h.cron.ch, "/sfpermits.v1.CronService/RunNightly", &req.base,
                                      &sfpermits__v1__nightly_result__descriptor, &resp, 10000, md, 1, &st),
                         GRPC_STATUS_INVALID_ARGUMENT);
        assert_null(resp);
        assert_string_equal(st.details.reason, "ARGUMENT_OUT_OF_RANGE");
        assert_int_equal(st.details.nviolations, 1);
        assert_string_equal(st.details.violations[0].field, "lookback_days");
        assert_non_null(strstr(st.details.violations[0].description, "1..90"));
    }
    static const int bad_conc[] = {-1, 33};
    for (size_t i = 0; i < sizeof bad_conc / sizeof bad_conc[0]; i++) {
        Sfpermits__V1__RunComputeCachesRequest req = SFPERMITS__V1__RUN_COMPUTE_CACHES_REQUEST__INIT;
        req.concurrency = bad_conc[i];
        ProtobufCMessage *resp = NULL;
        sfp_rpc_status st;
        assert_int_equal(sfp_rpc_call(h.cron.ch, "/sfpermits.v1.CronService/RunComputeCaches", &req.base,
                                      &sfpermits__v1__compute_caches_result__descriptor, &resp, 10000, md, 1, &st),
                         GRPC_STATUS_INVALID_ARGUMENT);
        assert_string_equal(st.details.violations[0].field, "concurrency");
    }
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log"), 0);
    stop(&h);
}

static void test_auth(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_auth", SECRET);
    const sfp_cron_job jobs[] = {SFP_CRON_JOB_SIGNALS, SFP_CRON_JOB_VELOCITY, SFP_CRON_JOB_COMPUTE_CACHES,
                                 SFP_CRON_JOB_NIGHTLY, SFP_CRON_JOB_HEARTBEAT};
    /* ("bearer " SECRET is fine: the auth scheme is case-insensitive, RFC 7235) */
    const char *bad[] = {NULL, "Bearer wrong", "Bearer " SECRET "x", SECRET, "Basic " SECRET, ""};
    for (size_t j = 0; j < 5; j++)
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            void *out = NULL;
            sfp_rpc_status st;
            assert_int_equal(call(&h, jobs[j], bad[b], 5000, &out, &st), GRPC_STATUS_UNAUTHENTICATED);
            assert_null(out);
            assert_null(strstr(st.message, SECRET));
        }
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log"), 0); /* nothing ran */
    void *out = NULL;
    sfp_rpc_status st;
    assert_int_equal(call(&h, SFP_CRON_JOB_STATUS, NULL, 5000, &out, &st), GRPC_STATUS_OK);
    assert_true(((Sfpermits__V1__GetStatusResponse *)out)->ok);
    free_msg(out);
    stop(&h);
}

static void test_empty_secret_denies_everything(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_nosecret", "");
    const char *tries[] = {"Bearer ", "Bearer", "", "Bearer x", NULL};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        void *out = NULL;
        sfp_rpc_status st;
        assert_int_equal(call(&h, SFP_CRON_JOB_HEARTBEAT, tries[i], 5000, &out, &st), GRPC_STATUS_UNAUTHENTICATED);
        assert_int_equal(call(&h, SFP_CRON_JOB_SIGNALS, tries[i], 5000, &out, &st), GRPC_STATUS_UNAUTHENTICATED);
    }
    void *out = NULL;
    sfp_rpc_status st;
    assert_int_equal(call(&h, SFP_CRON_JOB_STATUS, NULL, 5000, &out, &st), GRPC_STATUS_OK);
    free_msg(out);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log"), 0);
    stop(&h);
}

static void test_heartbeat_status_and_stuck_sweep(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_status", SECRET);
    /* 25 old finished rows, one stuck 'running' 2 h old, one 'running' 5 min old (not stuck yet) */
    assert_int_equal(sfp_test_sql(h.url,
                                  "INSERT INTO cron_log (job_type, started_at, completed_at, status) "
                                  "SELECT 'nightly', now() - k * interval '1 day', now() - k * interval '1 day' + "
                                  "interval '5 minutes', 'success' FROM generate_series(1, 25) k;"
                                  "INSERT INTO cron_log (job_type, started_at, status) VALUES "
                                  "('nightly', now() - interval '2 hours', 'running'),"
                                  "('signals', now() - interval '5 minutes', 'running')"),
                     0);
    Sfpermits__V1__HeartbeatResult *hb = run_ok(&h, SFP_CRON_JOB_HEARTBEAT);
    assert_true(hb->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, hb->status), "success");
    assert_string_equal(hb->job_type, "heartbeat");
    assert_true(hb->log_id > 0);
    assert_true(strlen(hb->started_at) >= 20 && hb->started_at[10] == 'T');
    assert_true(strlen(hb->completed_at) >= 20);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE status = 'failed' AND error_message LIKE 'stuck%' "
                           "AND started_at < now() - interval '1 hour'"),
                     1);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE status = 'running' AND job_type = 'signals'"), 1);

    void *out = NULL;
    sfp_rpc_status st;
    assert_int_equal(call(&h, SFP_CRON_JOB_STATUS, NULL, 5000, &out, &st), GRPC_STATUS_OK);
    Sfpermits__V1__GetStatusResponse *s = out;
    assert_true(s->ok);
    assert_int_equal(s->total, 20);
    assert_int_equal(s->n_jobs, 20);
    assert_int_equal(s->jobs[0]->log_id, hb->log_id); /* newest first */
    assert_string_equal(s->jobs[0]->job_type, "heartbeat");
    assert_true(s->jobs[0]->optional_elapsed_seconds_case);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, s->jobs[1]->status),
                        "running"); /* the 5-minute one */
    assert_false(s->jobs[1]->optional_elapsed_seconds_case);
    assert_string_equal(s->jobs[1]->completed_at, "");
    assert_true(strlen(s->checked_at) > 0);
    for (size_t i = 1; i < s->n_jobs; i++) assert_true(strcmp(s->jobs[i - 1]->started_at, s->jobs[i]->started_at) >= 0);
    free_msg(out);
    free_msg(hb);
    stop(&h);
}

/* Two triggers at once: one runs, the other gets ABORTED at once; jobs of other types are not
 * blocked. The first run is held inside its transaction by a table lock the test owns. */
static void test_concurrent_trigger_aborted(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_concurrent", SECRET);
    assert_int_equal(load(h.url, k_signals_fixture), 0);
    PGconn *lk = hold_lock(h.url, "property_health", "ACCESS EXCLUSIVE");
    async_call a;
    async_start(&a, &h, SFP_CRON_JOB_SIGNALS, 60000);
    wait_for(&h, "SELECT count(*) FROM cron_log WHERE job_type = 'signals' AND status = 'running'", 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    void *out = NULL;
    sfp_rpc_status st;
    assert_int_equal(call(&h, SFP_CRON_JOB_SIGNALS, "Bearer " SECRET, 30000, &out, &st), GRPC_STATUS_ABORTED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 3000); /* never waits */
    assert_non_null(strstr(st.message, "already running"));
    /* a different job runs meanwhile */
    Sfpermits__V1__HeartbeatResult *hb = run_ok(&h, SFP_CRON_JOB_HEARTBEAT);
    assert_true(hb->ok);
    free_msg(hb);
    release_lock(lk);
    pthread_join(a.th, NULL);
    assert_int_equal(a.code, GRPC_STATUS_OK);
    assert_true(((Sfpermits__V1__SignalsResult *)a.out)->ok);
    free_msg(a.out);
    /* only one signals row, and the lock is free again */
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE job_type = 'signals'"), 1);
    Sfpermits__V1__SignalsResult *r = run_ok(&h, SFP_CRON_JOB_SIGNALS);
    assert_true(r->ok);
    free_msg(r);
    assert_int_equal(q(&h, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
    stop(&h);
}

/* Readers polling during a run never see an empty table. */
typedef struct reader {
    const char *url;
    const char *sql;
    atomic_bool stop;
    long min;
    atomic_long polls;
    pthread_t th;
} reader;

static void *reader_main(void *arg)
{
    reader *rd = arg;
    PGconn *c = PQconnectdb(rd->url);
    rd->min = LONG_MAX;
    while (!atomic_load(&rd->stop)) {
        PGresult *r = PQexec(c, rd->sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
            if (v < rd->min) rd->min = v;
            rd->polls++;
        }
        PQclear(r);
        sleep_ms(2);
    }
    PQfinish(c);
    return NULL;
}

/* Waits (up to 30 s) until the reader has polled n more times. */
static void wait_polls(reader *rd, long n)
{
    long want = atomic_load(&rd->polls) + n;
    for (int i = 0; i < 30000 && atomic_load(&rd->polls) < want; i++) sleep_ms(1);
    if (atomic_load(&rd->polls) < want) fail_msg("reader stalled");
}

static void readers_during_run(harness *h, sfp_cron_job job, const char *late_table, const char *count_sql,
                               const char *wait_sql)
{
    reader rd = {.url = h->url, .sql = count_sql};
    atomic_init(&rd.stop, false);
    pthread_create(&rd.th, NULL, reader_main, &rd);
    /* hold the run just before COMMIT: the last table it writes is locked against writers */
    PGconn *lk = hold_lock(h->url, late_table, "EXCLUSIVE");
    async_call a;
    async_start(&a, h, job, 60000);
    wait_for(h, wait_sql, 1); /* the job is blocked on our lock, its DELETE/INSERT done */
    wait_polls(&rd, 20);      /* readers poll meanwhile */
    release_lock(lk);
    pthread_join(a.th, NULL);
    wait_polls(&rd, 5); /* and after the commit */
    atomic_store(&rd.stop, true);
    pthread_join(rd.th, NULL);
    assert_int_equal(a.code, GRPC_STATUS_OK);
    free_msg(a.out);
    assert_true(rd.polls > 20);
    if (rd.min <= 0) fail_msg("a reader saw an empty table (%s)", count_sql);
}

static void test_readers_never_see_empty_tables(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_readers", SECRET);
    assert_int_equal(load(h.url, k_signals_fixture), 0);
    assert_int_equal(load(h.url, k_velocity_fixture), 0);
    free_msg(run_ok(&h, SFP_CRON_JOB_SIGNALS));
    free_msg(run_ok(&h, SFP_CRON_JOB_VELOCITY));
    /* every permit renamed: the next run must replace every permit signal (none survives the
     * difference), so an implementation that committed its deletes early would show 0 rows */
    assert_int_equal(sfp_test_sql(h.url, "UPDATE permits SET permit_number = permit_number || 'R';"
                                         "UPDATE inspections SET reference_number = reference_number || 'R';"
                                         "UPDATE addenda SET application_number = application_number || 'R';"
                                         "UPDATE watch_items SET permit_number = permit_number || 'R' "
                                         "WHERE permit_number IS NOT NULL"),
                     0);
    readers_during_run(&h, SFP_CRON_JOB_SIGNALS, "severity_cache",
                       "SELECT least((SELECT count(*) FROM permit_signals), (SELECT count(*) FROM property_signals), "
                       "(SELECT count(*) FROM property_health))",
                       "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                       "'%severity_cache%'");
    readers_during_run(&h, SFP_CRON_JOB_VELOCITY, "station_congestion",
                       "SELECT least((SELECT count(*) FROM station_velocity_v2), "
                       "(SELECT count(*) FROM station_transitions))",
                       "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
                       "'%station_congestion%'");
    assert_int_equal(q(&h, "SELECT count(*) FROM property_health"), 11);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_signals"), 9);
    assert_int_equal(q(&h, "SELECT count(*) FROM permit_signals WHERE permit_number NOT LIKE '%R'"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM property_signals WHERE source_permit NOT LIKE '%R'"), 0);
    assert_int_equal(q(&h, "SELECT count(*) FROM station_velocity_v2"), 4);
    stop(&h);
}

/* The call's deadline bounds the run: DEADLINE_EXCEEDED, the row failed, the lock released. */
static void test_deadline_marks_row_failed(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_deadline", SECRET);
    assert_int_equal(load(h.url, k_signals_fixture), 0);
    PGconn *lk = hold_lock(h.url, "property_health", "ACCESS EXCLUSIVE");
    void *out = NULL;
    sfp_rpc_status st;
    assert_int_equal(call(&h, SFP_CRON_JOB_SIGNALS, "Bearer " SECRET, 2000, &out, &st), GRPC_STATUS_DEADLINE_EXCEEDED);
    release_lock(lk);
    wait_for(&h,
             "SELECT count(*) FROM cron_log WHERE job_type = 'signals' AND status = 'failed' AND "
             "error_message LIKE '%time budget%'",
             1);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log WHERE status = 'running'"), 0);
    /* a deadline shorter than the margin: refused before anything runs */
    assert_int_equal(call(&h, SFP_CRON_JOB_SIGNALS, "Bearer " SECRET, 500, &out, &st), GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_int_equal(q(&h, "SELECT count(*) FROM cron_log"), 1);
    Sfpermits__V1__SignalsResult *r = run_ok(&h, SFP_CRON_JOB_SIGNALS); /* lock was released */
    assert_true(r->ok);
    free_msg(r);
    stop(&h);
}

/* compute-caches: counts, lookback 1 per active user, per-user errors counted, no users,
 * every user failing, users query failure; expired page_cache rows purged. */
static void test_compute_caches(void **state)
{
    (void)state;
    harness h;
    start(&h, "it_cron_caches", SECRET);
    /* no users → total 0, ok */
    Sfpermits__V1__ComputeCachesResult *r = run_ok(&h, SFP_CRON_JOB_COMPUTE_CACHES);
    assert_true(r->ok);
    assert_int_equal(r->total_users, 0);
    assert_int_equal(r->computed + r->fresh_hits + r->errors, 0);
    free_msg(r);

    assert_int_equal(
        sfp_test_sql(h.url, "INSERT INTO users (user_id, email, is_active) VALUES (42, 'u42@x', true), "
                            "(43, 'u43@x', true), (44, 'u44@x', false), (45, 'u45@x', true);"
                            "INSERT INTO page_cache (cache_key, payload, computed_at, ttl_minutes, invalidated_at) "
                            "VALUES ('brief:42:1', '\\x00', now() - interval '2 hours', 30, NULL),"
                            "('brief:43:1', '\\x00', now(), 30, NULL),"
                            "('brief:45:7', '\\x00', now(), 30, now() - interval '1 minute')"),
        0);
    g_brief.fresh_uid = 43;
    g_brief.fail_uid = 45;
    r = run_ok(&h, SFP_CRON_JOB_COMPUTE_CACHES);
    assert_true(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "success");
    assert_string_equal(r->job_type, "compute_caches");
    assert_int_equal(r->total_users, 3); /* 44 is inactive */
    assert_int_equal(r->computed, 1);
    assert_int_equal(r->fresh_hits, 1);
    assert_int_equal(r->errors, 1);
    assert_int_equal(r->computed + r->fresh_hits + r->errors, r->total_users);
    assert_int_equal(r->purged, 2); /* expired brief:42:1 and invalidated brief:45:7 */
    assert_int_equal(q(&h, "SELECT count(*) FROM page_cache WHERE cache_key = 'brief:43:1'"), 1);
    assert_int_equal(g_brief.calls, 3);
    assert_int_equal(g_brief.bad_auth, 0);
    bool saw42 = false;
    for (int i = 0; i < g_brief.calls; i++) {
        assert_int_equal(g_brief.lookbacks[i], 1); /* brief:{uid}:1 */
        assert_int_not_equal(g_brief.uids[i], 44);
        saw42 |= g_brief.uids[i] == 42;
    }
    assert_true(saw42);
    free_msg(r);

    /* every user fails → the job failed */
    g_brief.fail_all = true;
    r = run_ok(&h, SFP_CRON_JOB_COMPUTE_CACHES);
    assert_false(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "failed");
    assert_int_equal(r->errors, 3);
    assert_non_null(strstr(r->error, "every brief warm-up failed"));
    free_msg(r);
    g_brief.fail_all = false;

    /* users query fails → failed with error */
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE users RENAME TO users_away"), 0);
    r = run_ok(&h, SFP_CRON_JOB_COMPUTE_CACHES);
    assert_false(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "failed");
    assert_non_null(strstr(r->error, "users"));
    free_msg(r);
    assert_int_equal(sfp_test_sql(h.url, "ALTER TABLE users_away RENAME TO users"), 0);
    stop(&h);
}

int main(void)
{
    sfp_rpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_range_arguments),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_empty_secret_denies_everything),
        cmocka_unit_test(test_heartbeat_status_and_stuck_sweep),
        cmocka_unit_test(test_signals_detectors_tiers_and_twice),
        cmocka_unit_test(test_signals_failures),
        cmocka_unit_test(test_velocity_percentiles_transitions_congestion),
        cmocka_unit_test(test_concurrent_trigger_aborted),
        cmocka_unit_test(test_readers_never_see_empty_tables),
        cmocka_unit_test(test_deadline_marks_row_failed),
        cmocka_unit_test(test_compute_caches),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sfp_rpc_shutdown();
    return rc;
}
