/* BriefService over real gRPC against a Postgres seeded by `sfp-seed --scale demo`
 * (counterparts of the reference implementation's brief-cache and pipeline-stats tests,
 * plus what the reference never had):
 *   401 without / unknown / malformed / revoked token or inactive user; A's token never yields
 *   B's data; second call served from the cache; two users → two computes; refresh → the next
 *   call recomputes; a second refresh → RESOURCE_EXHAUSTED + RetryInfo; pipeline_stats with
 *   average and 24 h counts; a failing pipeline_stats query → section absent + warning, brief
 *   still OK (and kept only for the degraded TTL); lookback out of range → INVALID_ARGUMENT + field violation; the SQL statement count of a
 *   cold brief is the same for 1 watch and 50 watches; 20 concurrent cold calls → 1 compute;
 *   Introspection counters and page-cache stats; an integration test per section with data
 *   (health, team_activity, regulatory_alerts, property_synopsis, planning_context with its
 *   planning records, change_velocity, compliance_calendar, data_quality, street_use_activity,
 *   nearby_development), each degrading alone, and the reference's card/changes rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "brief_rules.h"
#include "brief_sections.h"
#include "brief_service.h"
#include "pbjson.h"
#include "severity.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/introspection.pb-c.h"
#include "testsupport.h"

#include <libpq-fe.h>

#include "brief_enum_names.h"

static char *g_url;
static long g_alice, g_bob;

typedef struct harness {
    sfp_pool *pool;
    sfp_page_cache *cache;
    sfp_brief_service svc;
    sfp_rpc_server *srv;
    pthread_t th;
    sfp_rpc_channel *ch;
} harness;

/* pool_max: DB_POOL_MAX of the service's pool */
static void start_pool(harness *h, int pool_max)
{
    memset(h, 0, sizeof *h);
    sfp_pool_config cfg = {.conninfo = g_url,
                           .min = 1,
                           .max = pool_max,
                           .connect_timeout_s = 5,
                           .statement_timeout_ms = 20000,
                           .acquire_timeout_ms = 5000,
                           .idle_check_s = 30,
                           .application_name = "it-brief"};
    sfp_err err = {0};
    h->pool = sfp_pool_create(&cfg, &err);
    assert_non_null(h->pool);
    h->cache = sfp_page_cache_new(h->pool);
    h->svc.pool = h->pool;
    h->svc.cache = h->cache;
    sfp_brief_config_defaults(&h->svc.cfg);
    sfp_rpc_method m[2];
    sfp_brief_service_methods(&h->svc, m);
    static const char *const names[] = {SFP_BRIEF_SERVICE_NAME, NULL};
    sfp_rpc_server_config sc = {.service = "brief",
                                .addr = "127.0.0.1:0",
                                .workers = 8,
                                .service_names = names,
                                .ready = sfp_pool_ready_cb,
                                .ready_user = h->pool,
                                .stats = sfp_brief_service_stats,
                                .stats_user = &h->svc};
    sfp_test_rpc_start(&sc, m, 2, &h->srv, &h->th, &h->ch);
}

static void start(harness *h)
{
    start_pool(h, 12);
}

static void stop(harness *h)
{
    sfp_test_rpc_stop(h->srv, h->th, h->ch);
    sfp_page_cache_free(h->cache);
    sfp_pool_destroy(h->pool);
}

/* token: NULL = no metadata; "raw:<v>" = the authorization value as is; else "Bearer <token>". */
static grpc_status_code get_brief(harness *h, const char *token, int lookback, Sfpermits__V1__GetBriefResponse **out,
                                  sfp_rpc_status *st)
{
    Sfpermits__V1__GetBriefRequest req = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    req.lookback_days = lookback;
    char v[256];
    if (token && !strncmp(token, "raw:", 4)) snprintf(v, sizeof v, "%s", token + 4);
    else if (token) snprintf(v, sizeof v, "Bearer %s", token);
    sfp_rpc_md md = {"authorization", v};
    ProtobufCMessage *resp = NULL;
    grpc_status_code c =
        sfp_rpc_call(h->ch, SFP_BRIEF_GET_PATH, &req.base, &sfpermits__v1__get_brief_response__descriptor, &resp, 20000,
                     &md, token ? 1 : 0, st);
    *out = (void *)resp;
    return c;
}

static Sfpermits__V1__GetBriefResponse *brief_ok(harness *h, const char *token, int lookback)
{
    Sfpermits__V1__GetBriefResponse *r = NULL;
    sfp_rpc_status st;
    grpc_status_code c = get_brief(h, token, lookback, &r, &st);
    if (c != GRPC_STATUS_OK) fail_msg("GetBrief(%s, %d): %s %s", token, lookback, sfp_rpc_code_name(c), st.message);
    return r;
}

static grpc_status_code refresh(harness *h, const char *token, Sfpermits__V1__RefreshBriefResponse **out,
                                sfp_rpc_status *st)
{
    Sfpermits__V1__RefreshBriefRequest req = SFPERMITS__V1__REFRESH_BRIEF_REQUEST__INIT;
    char v[256];
    snprintf(v, sizeof v, "Bearer %s", token ? token : "");
    sfp_rpc_md md = {"authorization", v};
    ProtobufCMessage *resp = NULL;
    grpc_status_code c =
        sfp_rpc_call(h->ch, SFP_BRIEF_REFRESH_PATH, &req.base, &sfpermits__v1__refresh_brief_response__descriptor,
                     &resp, 10000, &md, token ? 1 : 0, st);
    *out = (void *)resp;
    return c;
}

static void free_msg(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static double counter(harness *h, const char *name)
{
    Sfpermits__V1__ServiceStats *s = sfp_test_stats(h->ch);
    double v = sfp_test_stats_counter(s, name);
    free_msg(s);
    if (v < 0) fail_msg("no counter %s", name);
    return v;
}

static int reset(void **state)
{
    (void)state;
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache; DELETE FROM brief_refresh"), 0);
    return 0;
}

/* ---------------------------------------------------------------- auth */

static void test_unauthenticated(void **state)
{
    (void)state;
    harness h;
    start(&h);
    const char *bad[] = {NULL,          "nope-not-a-token",     "raw:Basic YWxpY2U6eA==",
                         "raw:Bearer",  "raw:demo-token-alice", "raw:Bearer demo-token-alice extra",
                         "tok-revoked", "tok-inactive"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Sfpermits__V1__GetBriefResponse *r = NULL;
        sfp_rpc_status st;
        grpc_status_code c = get_brief(&h, bad[i], 1, &r, &st);
        if (c != GRPC_STATUS_UNAUTHENTICATED)
            fail_msg("token %s: %s", bad[i] ? bad[i] : "(none)", sfp_rpc_code_name(c));
        assert_null(r);
        assert_null(strstr(st.message, "revoked")); /* no hint which check failed */
    }
    Sfpermits__V1__RefreshBriefResponse *rr = NULL;
    sfp_rpc_status st;
    assert_int_equal(refresh(&h, NULL, &rr, &st), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(refresh(&h, "tok-revoked", &rr, &st), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(counter(&h, "brief_unauthenticated"), 10);
    assert_int_equal(counter(&h, "page_cache_computes"), 0);
    /* the scheme is case-insensitive */
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "raw:bearer demo-token-alice", 1);
    free_msg(r);
    /* last_used_at is recorded */
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM api_tokens WHERE last_used_at IS NOT NULL "
                                              "AND token_sha256 = sha256('demo-token-alice'::bytea)"),
                     1);
    stop(&h);
}

static bool label_in(const char *label, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(label, *set)) return true;
    return false;
}

/* Every label in a brief comes from its owner's watch list; summary counts are the owner's. */
static void test_user_isolation(void **state)
{
    (void)state;
    harness h;
    start(&h);
    static const char *const alice[] = {
        "1600 Mission St (HQ)", "HQ tenant improvement", "1455 Market St", "Tenderloin", "", NULL};
    static const char *const bob[] = {"146 Lake St", "146 Lake St parcel", "Jackson St remodel", "1281 8th Ave", "",
                                      NULL};
    for (int u = 0; u < 2; u++) {
        Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, u ? "demo-token-bob" : "demo-token-alice", 30);
        const char *const *own = u ? bob : alice, *const *other = u ? alice : bob;
        long uid = u ? g_bob : g_alice;
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM watch_items WHERE user_id = %ld AND is_active", uid);
        assert_int_equal(r->brief->summary->total_watches, sfp_test_sql_long(g_url, sql));
        size_t labels = 0;
        for (size_t i = 0; i < r->brief->n_changes; i++, labels++)
            assert_true(label_in(r->brief->changes[i]->label, own));
        for (size_t i = 0; i < r->brief->n_plan_reviews; i++, labels++)
            assert_true(label_in(r->brief->plan_reviews[i]->label, own));
        for (size_t i = 0; i < r->brief->n_inspections; i++, labels++)
            assert_true(label_in(r->brief->inspections[i]->label, own));
        for (size_t i = 0; i < r->brief->n_new_filings; i++, labels++)
            assert_true(label_in(r->brief->new_filings[i]->label, own));
        for (size_t i = 0; i < r->brief->n_property_health; i++, labels++) {
            assert_true(label_in(r->brief->property_health[i]->label, own));
            if (*r->brief->property_health[i]->label)
                assert_false(label_in(r->brief->property_health[i]->label, other));
        }
        assert_true(labels > 0); /* the demo watch lists produce content */
        assert_true(r->brief->n_property_health > 0);
        free_msg(r);
    }
    stop(&h);
}

/* ---------------------------------------------------------------- cache behaviour */

static void test_second_call_cached_two_users_two_computes(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *a1 = brief_ok(&h, "demo-token-alice", 1);
    assert_false(a1->metadata->debug->cached);
    assert_true(strlen(a1->metadata->generated_at) >= 20);
    assert_int_equal(a1->metadata->max_age_seconds, 1800);
    assert_int_equal(strlen(a1->metadata->etag), 32);
    Sfpermits__V1__GetBriefResponse *a2 = brief_ok(&h, "demo-token-alice", 1);
    assert_true(a2->metadata->debug->cached);
    assert_string_equal(a2->metadata->generated_at, a1->metadata->generated_at);
    assert_string_equal(a2->metadata->etag, a1->metadata->etag); /* same page, same validator */
    assert_true(a2->metadata->max_age_seconds <= 1800 && a2->metadata->max_age_seconds > 1700);
    assert_int_equal(a2->brief->n_changes, a1->brief->n_changes);
    assert_int_equal(a2->metadata->debug->sql_queries, 2); /* auth + cache read */
    assert_int_equal(counter(&h, "brief_computed"), 1);
    assert_int_equal(counter(&h, "brief_cached"), 1);
    Sfpermits__V1__GetBriefResponse *b1 = brief_ok(&h, "demo-token-bob", 1);
    assert_false(b1->metadata->debug->cached);
    assert_string_not_equal(b1->metadata->etag, a1->metadata->etag);
    assert_int_equal(counter(&h, "page_cache_computes"), 2);
    /* another lookback is another page */
    Sfpermits__V1__GetBriefResponse *a7 = brief_ok(&h, "demo-token-alice", 7);
    assert_false(a7->metadata->debug->cached);
    assert_int_equal(a7->brief->lookback_days, 7);
    assert_int_equal(counter(&h, "page_cache_computes"), 3);
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM page_cache WHERE cache_key LIKE 'brief:%'"), 3);
    free_msg(a1);
    free_msg(a2);
    free_msg(b1);
    free_msg(a7);
    stop(&h);
}

static void test_refresh_then_recompute_then_rate_limited(void **state)
{
    (void)state;
    harness h;
    start(&h);
    free_msg(brief_ok(&h, "demo-token-alice", 1));
    free_msg(brief_ok(&h, "demo-token-alice", 7));
    free_msg(brief_ok(&h, "demo-token-bob", 1));
    Sfpermits__V1__RefreshBriefResponse *rr = NULL;
    sfp_rpc_status st;
    assert_int_equal(refresh(&h, "demo-token-alice", &rr, &st), GRPC_STATUS_OK);
    assert_int_equal(rr->invalidated, 2); /* alice's two pages, not bob's */
    assert_int_equal(rr->retry_after_seconds, 300);
    assert_true(strlen(rr->refreshed_at) == 20);
    free_msg(rr);
    Sfpermits__V1__GetBriefResponse *a = brief_ok(&h, "demo-token-alice", 1);
    assert_false(a->metadata->debug->cached); /* recomputed */
    free_msg(a);
    Sfpermits__V1__GetBriefResponse *b = brief_ok(&h, "demo-token-bob", 1);
    assert_true(b->metadata->debug->cached); /* bob untouched */
    free_msg(b);
    /* second refresh right away */
    rr = NULL;
    assert_int_equal(refresh(&h, "demo-token-alice", &rr, &st), GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_null(rr);
    /* RetryInfo (not custom metadata) says when, ErrorInfo why */
    long ra = strtol(st.retry_after, NULL, 10);
    assert_true(ra > 290 && ra <= 300);
    assert_true(st.details.retry_delay_ms > 290000 && st.details.retry_delay_ms <= 300000);
    assert_string_equal(st.details.reason, "RATE_LIMITED");
    assert_string_equal(st.details.domain, "sfpermits.dev");
    assert_non_null(strstr(st.message, "300"));
    /* nothing was invalidated by the refused refresh */
    a = brief_ok(&h, "demo-token-alice", 1);
    assert_true(a->metadata->debug->cached);
    free_msg(a);
    /* the limit is per user */
    assert_int_equal(refresh(&h, "demo-token-bob", &rr, &st), GRPC_STATUS_OK);
    assert_int_equal(rr->invalidated, 1);
    free_msg(rr);
    /* state lives in Postgres: a new process (harness) still refuses; an old slot passes */
    stop(&h);
    start(&h);
    assert_int_equal(refresh(&h, "demo-token-alice", &rr, &st), GRPC_STATUS_RESOURCE_EXHAUSTED);
    char sql[160];
    snprintf(sql, sizeof sql,
             "UPDATE brief_refresh SET last_refresh_at = now() - interval '301 seconds' WHERE user_id = %ld", g_alice);
    assert_int_equal(sfp_test_sql(g_url, sql), 0);
    assert_int_equal(refresh(&h, "demo-token-alice", &rr, &st), GRPC_STATUS_OK);
    assert_int_equal(rr->invalidated, 1); /* the page recomputed after the first refresh */
    free_msg(rr);
    assert_int_equal(counter(&h, "brief_refresh_limited"), 1);
    stop(&h);
}

/* Two replicas refreshing at the same instant: exactly one passes. */
typedef struct refresher {
    harness *h;
    grpc_status_code code;
} refresher;

static void *do_refresh(void *arg)
{
    refresher *r = arg;
    Sfpermits__V1__RefreshBriefResponse *rr = NULL;
    sfp_rpc_status st;
    r->code = refresh(r->h, "demo-token-carol", &rr, &st);
    free_msg(rr);
    return NULL;
}

static void test_concurrent_refresh_one_wins(void **state)
{
    (void)state;
    harness h1, h2;
    start(&h1);
    start(&h2);
    refresher r[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (refresher){.h = i % 2 ? &h2 : &h1};
        pthread_create(&th[i], NULL, do_refresh, &r[i]);
    }
    int ok = 0, limited = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ok += r[i].code == GRPC_STATUS_OK;
        limited += r[i].code == GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(limited, 7);
    stop(&h2);
    stop(&h1);
}

/* ---------------------------------------------------------------- sections */

static void test_pipeline_stats(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-carol", 1);
    assert_int_equal(r->brief->n_warnings, 0);
    Sfpermits__V1__PipelineStats *ps = r->brief->pipeline_stats;
    assert_non_null(ps);
    /* demo history: nightly success 241 s, failed 480 s, success 395 s, success 252 s */
    assert_int_equal(ps->n_recent_jobs, 4);
    assert_string_equal(ps->recent_jobs[0]->job_type, "nightly");
    assert_int_equal(ps->recent_jobs[0]->status, SFPERMITS__V1__JOB_STATUS__JOB_STATUS_SUCCESS);
    assert_true(ps->recent_jobs[0]->optional_elapsed_seconds_case);
    assert_true(ps->recent_jobs[0]->elapsed_seconds == 252);
    assert_int_equal(ps->recent_jobs[2]->status, SFPERMITS__V1__JOB_STATUS__JOB_STATUS_FAILED);
    assert_true(ps->optional_avg_duration_seconds_case);
    assert_true(ps->avg_duration_seconds == 296); /* (252 + 395 + 241) / 3: failed runs excluded */
    /* last 24 h, every job type: nightly + signals + velocity_refresh success, 3 heartbeats */
    assert_int_equal(ps->last_24h_success, 3);
    assert_int_equal(ps->last_24h_failed, 0);
    assert_int_equal(ps->last_24h_jobs, 6);
    /* neighbours */
    assert_non_null(r->brief->last_refresh);
    assert_false(r->brief->last_refresh->is_stale);
    assert_non_null(r->brief->pipeline_health);
    assert_string_equal(ENAME(r->brief->pipeline_health->status), "ok");
    assert_int_equal(r->brief->pipeline_health->n_checks, 4);
    free_msg(r);

    /* no successful run among the last five → average null */
    assert_int_equal(sfp_test_sql(g_url, "BEGIN; UPDATE cron_log SET status = 'failed' WHERE job_type = 'nightly';"
                                         "DELETE FROM page_cache; COMMIT"),
                     0);
    r = brief_ok(&h, "demo-token-carol", 1);
    assert_false(r->brief->pipeline_stats->optional_avg_duration_seconds_case);
    assert_int_equal(r->brief->pipeline_stats->last_24h_failed, 1);
    assert_null(r->brief->last_refresh); /* no successful nightly: absent */
    assert_string_equal(ENAME(r->brief->pipeline_health->status), "critical");
    free_msg(r);
    assert_int_equal(sfp_test_sql(g_url, "UPDATE cron_log SET status = 'success' WHERE job_type = 'nightly' "
                                         "AND error_message IS NULL"),
                     0);
    stop(&h);
}

/* The stats query fails → the section is absent and named in warnings; the
 * brief is still served, and kept only for the degraded TTL. */
static void test_pipeline_stats_failure_degrades(void **state)
{
    (void)state;
    harness h;
    start(&h);
    assert_int_equal(sfp_test_sql(g_url, "ALTER TABLE cron_log RENAME TO cron_log_moved"), 0);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 7);
    assert_null(r->brief->pipeline_stats);
    assert_null(r->brief->last_refresh);
    assert_string_equal(ENAME(r->brief->pipeline_health->status), "unknown");
    bool named = false;
    for (size_t i = 0; i < r->brief->n_warnings; i++) {
        if (!strcmp(r->brief->warnings[i]->section, "pipeline_stats")) named = true;
        assert_null(strstr(r->brief->warnings[i]->message, "cron_log")); /* safe text, no SQL */
    }
    assert_true(named);
    assert_true(r->brief->n_changes > 0 && r->brief->n_property_health > 0); /* the other sections are intact */
    assert_int_equal(r->metadata->max_age_seconds, 60);
    free_msg(r);
    assert_int_equal(counter(&h, "brief_degraded"), 1);
    assert_int_equal(sfp_test_sql(g_url, "ALTER TABLE cron_log_moved RENAME TO cron_log"), 0);
    stop(&h);
}

static void test_lookback_range(void **state)
{
    (void)state;
    harness h;
    start(&h);
    int32_t today = sfp_today_days(); /* the service's "today" */
    static const struct {
        int in, want;
    } cases[] = {{0, 1}, {1, 1}, {30, 30}, {90, 90}};
    /* out of range: INVALID_ARGUMENT naming the field, never clamped */
    static const int bad[] = {-5, -1, 91, 500, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Sfpermits__V1__GetBriefResponse *r = NULL;
        sfp_rpc_status st;
        assert_int_equal(get_brief(&h, "demo-token-bob", bad[i], &r, &st), GRPC_STATUS_INVALID_ARGUMENT);
        assert_null(r);
        assert_string_equal(st.details.reason, "ARGUMENT_OUT_OF_RANGE");
        assert_int_equal(st.details.nviolations, 1);
        assert_string_equal(st.details.violations[0].field, "lookback_days");
        assert_non_null(strstr(st.details.violations[0].description, "1..90"));
        assert_non_null(strstr(st.message, "lookback_days"));
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-bob", cases[i].in);
        assert_int_equal(r->brief->lookback_days, cases[i].want);
        char since[11];
        sfp_format_iso_day(today - cases[i].want, since);
        assert_string_equal(r->brief->since, since);
        free_msg(r);
    }
    /* 0, -5 and 1 share one page; 90 and 500 too */
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM page_cache"), 3);
    stop(&h);
}

/* The reference ran two queries per watched parcel; here a cold brief costs the same number of
 * statements for 1 watch and for 50. */
static void test_query_count_independent_of_watches(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *one = brief_ok(&h, "tok-one-watch", 7);
    double compute_one = counter(&h, "brief_compute_queries_last");
    Sfpermits__V1__GetBriefResponse *fifty = brief_ok(&h, "tok-fifty-watches", 7);
    double compute_fifty = counter(&h, "brief_compute_queries_last");
    assert_int_equal(one->brief->summary->total_watches, 1);
    assert_int_equal(fifty->brief->summary->total_watches, 50);
    assert_false(one->metadata->debug->cached);
    assert_false(fifty->metadata->debug->cached);
    assert_int_equal(one->metadata->debug->sql_queries, fifty->metadata->debug->sql_queries);
    assert_true(compute_one == SFP_BRIEF_SECTION_QUERIES && compute_fifty == SFP_BRIEF_SECTION_QUERIES);
    assert_true(fifty->brief->n_property_health > one->brief->n_property_health);
    assert_int_equal(counter(&h, "brief_sql_queries_last"), fifty->metadata->debug->sql_queries);
    free_msg(one);
    free_msg(fifty);
    stop(&h);
}

typedef struct caller {
    harness *h;
    grpc_status_code code;
    bool cached;
} caller;

static void *do_get(void *arg)
{
    caller *c = arg;
    Sfpermits__V1__GetBriefResponse *r = NULL;
    sfp_rpc_status st;
    c->code = get_brief(c->h, "demo-token-alice", 14, &r, &st);
    if (r) c->cached = r->metadata->debug->cached;
    free_msg(r);
    return NULL;
}

static void test_twenty_concurrent_cold_calls_one_compute(void **state)
{
    (void)state;
    harness h;
    start(&h);
    caller c[20];
    pthread_t th[20];
    for (int i = 0; i < 20; i++) {
        c[i] = (caller){.h = &h};
        pthread_create(&th[i], NULL, do_get, &c[i]);
    }
    int computed = 0;
    for (int i = 0; i < 20; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].code, GRPC_STATUS_OK);
        computed += !c[i].cached;
    }
    assert_int_equal(computed, 1);
    assert_int_equal(counter(&h, "page_cache_computes"), 1);
    assert_int_equal(counter(&h, "brief_computed"), 1);
    assert_int_equal(counter(&h, "brief_cached"), 19);
    stop(&h);
}

static grpc_status_code get_as(harness *h, const char *authz, const char *user_id,
                               Sfpermits__V1__GetBriefResponse **out)
{
    Sfpermits__V1__GetBriefRequest req = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    sfp_rpc_md md[2] = {{"authorization", authz}, {"x-sfp-user-id", user_id}};
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    grpc_status_code c = sfp_rpc_call(h->ch, SFP_BRIEF_GET_PATH, &req.base,
                                      &sfpermits__v1__get_brief_response__descriptor, &resp, 20000, md, 2, &st);
    *out = (void *)resp;
    return c;
}

/* The cron warm-up identity (CRON_SECRET + x-sfp-user-id) and everything that must not pass. */
static void test_service_identity_for_cron(void **state)
{
    (void)state;
    harness h;
    start(&h);
    char alice[16], gone[16];
    snprintf(alice, sizeof alice, "%ld", g_alice);
    snprintf(gone, sizeof gone, "%ld",
             sfp_test_sql_long(g_url, "SELECT user_id FROM users WHERE email = 'gone@example.com'"));
    Sfpermits__V1__GetBriefResponse *r = NULL;
    assert_int_equal(get_as(&h, "Bearer s3cret", alice, &r), GRPC_STATUS_UNAUTHENTICATED); /* no secret configured */
    h.svc.cfg.service_secret = "s3cret";
    assert_int_equal(get_as(&h, "Bearer s3cret", alice, &r), GRPC_STATUS_OK);
    Sfpermits__V1__GetBriefResponse *own = brief_ok(&h, "demo-token-alice", 1);
    assert_true(own->metadata->debug->cached); /* the same page: brief:{alice}:1 */
    assert_string_equal(own->metadata->etag, r->metadata->etag);
    free_msg(own);
    free_msg(r);
    r = NULL;
    assert_int_equal(get_as(&h, "Bearer s3cre", alice, &r), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(get_as(&h, "Bearer s3cret", "1 OR 1=1", &r), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(get_as(&h, "Bearer s3cret", gone, &r), GRPC_STATUS_UNAUTHENTICATED); /* inactive user */
    assert_int_equal(get_as(&h, "Bearer s3cret", "999999", &r), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(get_as(&h, "Bearer demo-token-bob", alice, &r), GRPC_STATUS_UNAUTHENTICATED); /* user token */
    assert_int_equal(get_as(&h, "bearer s3cret", alice, &r), GRPC_STATUS_OK); /* scheme case-insensitive */
    free_msg(r);
    r = NULL;
    { /* a repeated x-sfp-user-id is refused, even when both values are valid */
        Sfpermits__V1__GetBriefRequest req = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
        sfp_rpc_md md[3] = {{"authorization", "Bearer s3cret"}, {"x-sfp-user-id", alice}, {"x-sfp-user-id", alice}};
        ProtobufCMessage *resp = NULL;
        sfp_rpc_status st;
        assert_int_equal(sfp_rpc_call(h.ch, SFP_BRIEF_GET_PATH, &req.base,
                                      &sfpermits__v1__get_brief_response__descriptor, &resp, 20000, md, 3, &st),
                         GRPC_STATUS_UNAUTHENTICATED);
        assert_null(resp);
    }
    h.svc.cfg.service_secret = "";
    assert_int_equal(get_as(&h, "Bearer ", alice, &r), GRPC_STATUS_UNAUTHENTICATED);
    assert_null(r);
    stop(&h);
}

/* The auth cache's clock (seconds): moved by the test, never slept on. */
static double g_auth_now = 1000;
static double auth_clock(void *arg)
{
    (void)arg;
    return g_auth_now;
}

/* BRIEF_AUTH_CACHE_MS: a hot token costs one statement (the page read); a revocation is
 * honoured once the entry expires. */
static void test_auth_cache(void **state)
{
    (void)state;
    harness h;
    start(&h);
    h.svc.auth_cache = sfp_brief_auth_cache_new(400);
    sfp_brief_auth_cache_set_clock(h.svc.auth_cache, auth_clock, NULL);
    assert_int_equal(sfp_test_sql(g_url, "INSERT INTO api_tokens (user_id, token_sha256) SELECT user_id,"
                                         " sha256('tok-temp'::bytea) FROM users WHERE email = 'carol@example.com'"),
                     0);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "tok-temp", 2);
    assert_false(r->metadata->debug->cached);
    free_msg(r);
    r = brief_ok(&h, "tok-temp", 2);
    assert_true(r->metadata->debug->cached);
    assert_int_equal(r->metadata->debug->sql_queries, 1); /* no auth statement */
    free_msg(r);
    assert_int_equal(
        sfp_test_sql(g_url, "UPDATE api_tokens SET revoked_at = now() WHERE token_sha256 = sha256('tok-temp'::bytea)"),
        0);
    free_msg(brief_ok(&h, "tok-temp", 2)); /* still remembered */
    g_auth_now += 0.5;                     /* past the 400 ms */
    sfp_rpc_status st;
    assert_int_equal(get_brief(&h, "tok-temp", 2, &r, &st), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(get_brief(&h, "nope", 2, &r, &st), GRPC_STATUS_UNAUTHENTICATED); /* failures not cached */
    stop(&h);
    sfp_brief_auth_cache_free(h.svc.auth_cache);
}

static void test_introspection(void **state)
{
    (void)state;
    harness h;
    start(&h);
    free_msg(brief_ok(&h, "demo-token-alice", 1));
    free_msg(brief_ok(&h, "demo-token-alice", 1));
    Sfpermits__V1__GetStatsRequest req = SFPERMITS__V1__GET_STATS_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_call(h.ch, "/sfpermits.v1.Introspection/GetStats", &req.base,
                                  &sfpermits__v1__service_stats__descriptor, &resp, 5000, NULL, 0, &st),
                     GRPC_STATUS_OK);
    Sfpermits__V1__ServiceStats *s = (void *)resp;
    assert_string_equal(s->service, "brief");
    assert_non_null(s->pool);
    assert_non_null(s->page_cache);
    assert_int_equal(s->page_cache->hits, 1);
    assert_int_equal(s->page_cache->misses, 1);
    assert_int_equal(s->page_cache->live_rows, 1);
    assert_true(s->page_cache->optional_oldest_entry_age_minutes_case);
    free_msg(s);
    assert_int_equal(sfp_rpc_health_check(h.ch, SFP_BRIEF_SERVICE_NAME, 3000, &st), 1);
    stop(&h);
}

/* ---------------------------------------------------------------- sections with data */

/* One SQL value as text (malloc'd; "" for no row / NULL). */
static char *sql_text(const char *sql)
{
    PGconn *c = PQconnectdb(g_url);
    PGresult *r = PQexec(c, sql);
    char *v = strdup(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
    return v;
}

static const Sfpermits__V1__BriefPredictability *pred(const Sfpermits__V1__GetBriefResponse *r, const char *permit)
{
    for (size_t i = 0; i < r->brief->n_health; i++)
        if (!strcmp(r->brief->health[i]->permit_number, permit)) return r->brief->health[i];
    return NULL;
}

/* health (predictability): the narrowest comparables with >= 10 samples; trade permits
 * only ever compare at the review-path level; inactive permits are left out. */
static void test_section_health(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "tok-sections", 7);
    assert_int_equal(r->brief->n_warnings, 0);
    const Sfpermits__V1__BriefPredictability *a = pred(r, "T00000000001");
    assert_non_null(a);
    /* 10 comparables in Testville / 50k_150k / same type: 10, 20, ..., 100 days */
    assert_string_equal(a->benchmark, "neighborhood+cost+type");
    assert_int_equal(a->sample_size, 10);
    assert_int_equal(a->p50, 50);
    assert_int_equal(a->p75, 80);
    assert_int_equal(a->p90, 90);
    assert_int_equal(a->elapsed_days, 100);
    assert_string_equal(ENAME(a->status), "at_risk");
    assert_int_equal(a->pct_of_typical, 200);
    assert_string_equal(a->permit_status, "filed");
    assert_string_equal(a->cost_bracket, "50k_150k");
    assert_string_equal(a->label, "pred A");
    const Sfpermits__V1__BriefPredictability *b = pred(r, "T00000000002"); /* Emptyville: widened */
    assert_non_null(b);
    assert_string_not_equal(b->benchmark, "neighborhood+cost+type");
    assert_true(b->sample_size >= 10);
    assert_int_equal(b->elapsed_days, 5);
    const Sfpermits__V1__BriefPredictability *e = pred(r, "T00000000003"); /* electrical */
    assert_non_null(e);
    assert_string_equal(e->benchmark, "review_path");
    assert_null(pred(r, "T00000000004"));                               /* complete: not active */
    assert_string_equal(ENAME(r->brief->health[0]->status), "at_risk"); /* worst first */
    int risky = 0;
    for (size_t i = 0; i < r->brief->n_health; i++)
        risky += !strcmp(ENAME(r->brief->health[i]->status), "at_risk") ||
                 !strcmp(ENAME(r->brief->health[i]->status), "behind");
    assert_int_equal(r->brief->summary->at_risk_count, risky);
    free_msg(r);
    stop(&h);
}

/* The packed health section of a brief (caller frees): two briefs' predictability items compare
 * equal byte for byte. */
static uint8_t *pack_health(const Sfpermits__V1__GetBriefResponse *r, size_t *len)
{
    Sfpermits__V1__Brief b = SFPERMITS__V1__BRIEF__INIT;
    b.n_health = r->brief->n_health;
    b.health = r->brief->health;
    *len = sfpermits__v1__brief__get_packed_size(&b);
    uint8_t *out = malloc(*len ? *len : 1);
    assert_non_null(out);
    sfpermits__v1__brief__pack(&b, out);
    return out;
}

/* The benchmarks precomputed for the day (brief_benchmarks) give the live query's result at
 * every level; they are read when present; any write to timeline_stats drops them. */
static void test_section_health_precomputed(void **state)
{
    (void)state;
    harness h;
    start(&h);
    /* the setup's timeline_stats inserts emptied what sfp-seed filled: this brief is live */
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM brief_benchmarks"), 0);
    Sfpermits__V1__GetBriefResponse *live = brief_ok(&h, "tok-sections", 7);
    assert_true(live->brief->n_health >= 3);
    assert_true(sfp_test_sql_long(g_url, "SELECT sfp_brief_benchmarks_fill(current_date)") > 0);
    /* every level the live brief used is stored (T1 level 1, T2 widened, T3 review path) */
    assert_true(sfp_test_sql_long(g_url, "SELECT count(DISTINCT lvl) FROM brief_benchmarks") >= 3);
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache"), 0);
    Sfpermits__V1__GetBriefResponse *pre = brief_ok(&h, "tok-sections", 7);
    assert_int_equal(pre->brief->n_warnings, 0);
    size_t la, lb;
    uint8_t *pa = pack_health(live, &la), *pb = pack_health(pre, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
    free_msg(pre);
    /* read from the table: a changed stored row shows */
    assert_int_equal(sfp_test_sql(g_url, "UPDATE brief_benchmarks SET n = n + 1000 WHERE lvl = 1 AND"
                                         " neighborhood = 'Testville'; DELETE FROM page_cache"),
                     0);
    pre = brief_ok(&h, "tok-sections", 7);
    assert_int_equal(pred(pre, "T00000000001")->sample_size, 1010);
    free_msg(pre);
    /* any statement writing timeline_stats empties it: live again */
    assert_int_equal(sfp_test_sql(g_url, "UPDATE timeline_stats SET days_to_issuance = days_to_issuance WHERE false;"
                                         " DELETE FROM page_cache"),
                     0);
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM brief_benchmarks"), 0);
    pre = brief_ok(&h, "tok-sections", 7);
    assert_int_equal(pred(pre, "T00000000001")->sample_size, 10);
    pa = pack_health(live, &la);
    pb = pack_health(pre, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
    free_msg(pre);
    free_msg(live);
    stop(&h);
}

static void test_section_team_activity(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "tok-sections", 7);
    assert_int_equal(r->brief->n_team_activity, 1); /* the 40-day-old filing is outside the lookback */
    Sfpermits__V1__BriefTeamActivity *t = r->brief->team_activity[0];
    assert_string_equal(t->permit_number, "T00000000005");
    assert_string_equal(t->entity_name, "Test Builders Inc");
    assert_string_equal(t->role, "contractor");
    assert_string_equal(t->label, "my GC");
    assert_string_equal(t->street_name, "TESTING");
    assert_int_equal(r->brief->summary->team_count, 1);
    free_msg(r);
    r = brief_ok(&h, "tok-sections", 90);
    assert_int_equal(r->brief->n_team_activity, 2);
    assert_string_equal(r->brief->team_activity[0]->permit_number, "T00000000005"); /* newest first */
    free_msg(r);
    /* a busy entity: the same rows (its recent contacts are read by their permit's filing date) */
    assert_int_equal(sfp_test_sql(g_url, "UPDATE entities SET permit_count = 100000 WHERE entity_id = 999001;"
                                         "DELETE FROM page_cache"),
                     0);
    for (int lb = 7; lb <= 90; lb += 83) {
        r = brief_ok(&h, "tok-sections", lb);
        assert_int_equal(r->brief->n_team_activity, lb == 7 ? 1 : 2);
        assert_string_equal(r->brief->team_activity[0]->permit_number, "T00000000005");
        assert_string_equal(r->brief->team_activity[0]->entity_name, "Test Builders Inc");
        free_msg(r);
    }
    assert_int_equal(sfp_test_sql(g_url, "UPDATE entities SET permit_count = 2 WHERE entity_id = 999001"), 0);
    stop(&h);
}

static void test_section_regulatory_alerts(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-carol", 1);
    long want =
        sfp_test_sql_long(g_url, "SELECT count(*) FROM regulatory_watch WHERE status IN ('monitoring', 'passed')");
    assert_true(want >= 3);
    assert_int_equal(r->brief->n_regulatory_alerts, want);
    assert_int_equal(r->brief->summary->regulatory_count, want);
    for (size_t i = 0; i < r->brief->n_regulatory_alerts; i++) {
        assert_string_not_equal(r->brief->regulatory_alerts[i]->source_id, "test-withdrawn");
        assert_true(strlen(r->brief->regulatory_alerts[i]->title) > 0);
    }
    assert_string_equal(r->brief->regulatory_alerts[0]->source_id, "demo-ord-adu");
    assert_string_equal(ENAME(r->brief->regulatory_alerts[0]->status), "passed");
    free_msg(r);
    stop(&h);
}

static void test_section_property_synopsis(void **state)
{
    (void)state;
    harness h;
    start(&h);
    /* alice: primary address 1455 MARKET */
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 1);
    long n = sfp_test_sql_long(g_url, "SELECT count(*) FROM permits WHERE street_number = '1455'"
                                      " AND upper(street_name) = 'MARKET'");
    assert_true(n > 0);
    Sfpermits__V1__BriefPropertySynopsis *s = r->brief->property_synopsis;
    assert_non_null(s);
    assert_string_equal(s->address, "1455 Market");
    assert_int_equal(s->total_permits, n);
    long total = 0;
    for (size_t i = 0; i < s->n_status_counts; i++) total += s->status_counts[i]->value;
    assert_int_equal(total, n);
    assert_non_null(s->latest_permit);
    char *latest = sql_text("SELECT left(max(filed_date), 10) FROM permits WHERE street_number = '1455'"
                            " AND upper(street_name) = 'MARKET'");
    assert_string_equal(s->latest_date, latest);
    assert_string_equal(s->latest_permit->filed_date, latest);
    free(latest);
    assert_true(s->n_top_types >= 1 && s->n_top_types <= 5);
    free_msg(r);
    /* carol has no primary address */
    r = brief_ok(&h, "demo-token-carol", 1);
    assert_null(r->brief->property_synopsis);
    free_msg(r);
    /* "146 Lake St" matches the LAKE permits (suffix ignored, any case) */
    r = brief_ok(&h, "tok-sections", 1);
    assert_non_null(r->brief->property_synopsis);
    assert_int_equal(r->brief->property_synopsis->total_permits,
                     sfp_test_sql_long(g_url, "SELECT count(*) FROM permits WHERE street_number = '146'"
                                              " AND upper(street_name) = 'LAKE'"));
    free_msg(r);
    stop(&h);
}

static void test_section_planning_context(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 1);
    assert_int_equal(r->brief->n_planning_context, 1); /* alice watches one parcel: 3512/001 */
    Sfpermits__V1__BriefPlanningContext *p = r->brief->planning_context[0];
    assert_string_equal(p->block_lot, "3512-001");
    assert_string_equal(p->label, "1600 Mission St (HQ)");
    char *z = sql_text("SELECT zoning_code FROM tax_rolls WHERE block = '3512' AND lot = '001'"
                       " ORDER BY tax_year DESC LIMIT 1");
    assert_true(strlen(z) > 0);
    assert_string_equal(p->zoning_code, z);
    free(z);
    /* its open planning records (the seed places two open ones there), newest first, ≤10 */
    long open =
        sfp_test_sql_long(g_url, "SELECT least(count(*), 10) FROM planning_records WHERE block = '3512'"
                                 " AND lot = '001' AND lower(coalesce(record_status, '')) !~ '^ *(closed|withdrawn)'");
    assert_true(open >= 2);
    assert_int_equal(p->n_planning_records, open);
    for (size_t i = 0; i < p->n_planning_records; i++) {
        const Sfpermits__V1__BriefPlanningRecord *x = p->planning_records[i];
        assert_true(sfp_brief_planning_is_open(x->status));
        assert_true(strlen(x->description) <= 120);
        assert_int_equal(strlen(x->open_date), 10);
        if (i) assert_true(strcmp(p->planning_records[i - 1]->open_date, x->open_date) >= 0);
    }
    assert_int_equal(r->brief->summary->planning_context_count, 1);
    free_msg(r);
    /* a parcel without zoning still shows when it has open records: drop 3512/001's rolls */
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache; CREATE TABLE tr_keep AS SELECT * FROM tax_rolls"
                                         " WHERE block = '3512' AND lot = '001';"
                                         " DELETE FROM tax_rolls WHERE block = '3512' AND lot = '001'"),
                     0);
    r = brief_ok(&h, "demo-token-alice", 1);
    assert_int_equal(sfp_test_sql(g_url, "INSERT INTO tax_rolls SELECT * FROM tr_keep; DROP TABLE tr_keep"), 0);
    assert_int_equal(r->brief->n_planning_context, 1);
    assert_string_equal(r->brief->planning_context[0]->zoning_code, "");
    assert_int_equal(r->brief->planning_context[0]->n_planning_records, open);
    free_msg(r);
    stop(&h);
}

/* compliance_calendar: alice's parcel 3512/001 has boiler permits expiring within 90 days and
 * expired within the year (seeded); every one in the window is listed, soonest first. */
static void test_section_compliance_calendar(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 1);
    long want = sfp_test_sql_long(g_url, "SELECT count(*) FROM boiler_permits WHERE block = '3512' AND lot = '001'"
                                         " AND left(expiration_date, 10)::date - current_date BETWEEN -365 AND 90");
    assert_true(want >= 2);
    assert_int_equal(r->brief->n_compliance_calendar, want);
    assert_int_equal(r->brief->summary->compliance_calendar_count, want);
    bool expired = false, ahead = false;
    for (size_t i = 0; i < r->brief->n_compliance_calendar; i++) {
        const Sfpermits__V1__BriefComplianceItem *x = r->brief->compliance_calendar[i];
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT left(expiration_date, 10)::date - current_date FROM boiler_permits"
                 " WHERE permit_number = '%s'",
                 x->permit_number);
        assert_int_equal(x->days_until, sfp_test_sql_long(g_url, sql));
        assert_true(x->days_until >= -365 && x->days_until <= 90);
        assert_int_equal(x->is_expired, x->days_until < 0);
        assert_string_equal(x->block, "3512");
        assert_string_equal(x->lot, "001");
        assert_string_equal(x->label, "1600 Mission St (HQ)");
        assert_true(strlen(x->boiler_type) > 0);
        if (i) assert_true(r->brief->compliance_calendar[i - 1]->days_until <= x->days_until);
        expired |= x->is_expired;
        ahead |= !x->is_expired;
    }
    assert_true(expired && ahead);
    free_msg(r);
    /* carol watches 0312/005 and 0585/003 (both seeded with boilers): both parcels appear */
    r = brief_ok(&h, "demo-token-carol", 1);
    bool p1 = false, p2 = false;
    for (size_t i = 0; i < r->brief->n_compliance_calendar; i++) {
        p1 |= !strcmp(r->brief->compliance_calendar[i]->block, "0312");
        p2 |= !strcmp(r->brief->compliance_calendar[i]->block, "0585");
    }
    assert_true(p1 && p2);
    free_msg(r);
    stop(&h);
}

/* The sections run on two connections when the pool has a spare one, on the page cache's alone
 * when it has not (DB_POOL_MAX = 1: never waiting for the connection the call itself holds),
 * and the brief is the same either way. */
static void test_sections_on_one_or_two_connections(void **state)
{
    (void)state;
    uint8_t *packed[2];
    size_t len[2];
    for (int k = 0; k < 2; k++) {
        harness h;
        start_pool(&h, k ? 1 : 12);
        assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache"), 0);
        Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 30);
        assert_false(r->metadata->debug->cached);
        assert_int_equal(counter(&h, "brief_compute_lanes_last"), k ? 1 : 2);
        assert_int_equal(r->brief->n_warnings, 0);
        assert_true(r->brief->n_property_health > 0 && r->brief->n_changes > 0 && r->brief->n_data_quality == 3);
        if (r->brief->last_refresh) r->brief->last_refresh->hours_ago = 0; /* time alone moves it */
        len[k] = protobuf_c_message_get_packed_size(&r->brief->base);
        packed[k] = malloc(len[k]);
        protobuf_c_message_pack(&r->brief->base, packed[k]);
        free_msg(r);
        stop(&h);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(packed[0], packed[1], len[0]);
    free(packed[0]);
    free(packed[1]);
}

static bool warned(const Sfpermits__V1__GetBriefResponse *r, const char *section);

/* A section of the spare lane blocked on a lock ends at the call's deadline (its own
 * transaction gets the deadline as statement timeout), not at the pool's 20 s statement timeout:
 * the call answers (the brief degraded, or DEADLINE_EXCEEDED "brief timed out" when the timeout
 * fired at the deadline itself) well before the client's own 10 s deadline would cut it. */
static void test_spare_lane_keeps_the_deadline(void **state)
{
    (void)state;
    harness h;
    start(&h);
    h.svc.cfg.statement_timeout_ms = 1500; /* the call's work deadline */
    PGconn *locker = PQconnectdb(g_url);
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    PGresult *lr =
        PQexec(locker, "BEGIN; LOCK TABLE entities IN ACCESS EXCLUSIVE MODE"); /* team_activity: spare lane */
    assert_int_equal(PQresultStatus(lr), PGRES_COMMAND_OK);
    PQclear(lr);
    Sfpermits__V1__GetBriefRequest req = SFPERMITS__V1__GET_BRIEF_REQUEST__INIT;
    req.lookback_days = 7;
    sfp_rpc_md md = {"authorization", "Bearer demo-token-alice"};
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    grpc_status_code c = sfp_rpc_call(h.ch, SFP_BRIEF_GET_PATH, &req.base,
                                      &sfpermits__v1__get_brief_response__descriptor, &resp, 10000, &md, 1, &st);
    PQclear(PQexec(locker, "ROLLBACK"));
    PQfinish(locker);
    if (c == GRPC_STATUS_OK) {
        Sfpermits__V1__GetBriefResponse *r = (void *)resp;
        assert_true(warned(r, "team_activity"));
        assert_int_equal(counter(&h, "brief_compute_lanes_last"), 2);
        free_msg(r);
    } else {
        assert_int_equal(c, GRPC_STATUS_DEADLINE_EXCEEDED);
        assert_string_equal(st.message, "brief timed out"); /* the server's answer, not the client's cut */
    }
    stop(&h);
}

/* data_quality: one item per dataset, on the 200 newest rows; below 5 % → warn. */
static void test_section_data_quality(void **state)
{
    (void)state;
    static const struct {
        const char *name, *sample;
    } ds[] = {{"planning_records", "SELECT block, lot FROM planning_records ORDER BY id DESC LIMIT 200"},
              {"tax_rolls", "SELECT block, lot FROM tax_rolls ORDER BY block DESC, lot DESC, tax_year DESC LIMIT 200"},
              {"boiler_permits", "SELECT block, lot FROM boiler_permits ORDER BY id DESC LIMIT 200"}};
    harness h;
    start(&h);
    /* the brief reads the stored rows (a changed stored row shows) */
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT sfp_brief_data_quality_fill()"), 3);
    assert_int_equal(sfp_test_sql(g_url, "UPDATE brief_data_quality SET matched = 7 WHERE dataset = 'tax_rolls'"), 0);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-bob", 1);
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT sfp_brief_data_quality_fill()"), 3);
    assert_string_equal(r->brief->data_quality[1]->dataset, "tax_rolls");
    assert_int_equal(r->brief->data_quality[1]->matched, 7);
    free_msg(r);
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache"), 0);
    /* stored or computed by the view when none are stored: the same */
    for (int pass = 0; pass < 2; pass++) {
        if (pass) assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache; DELETE FROM brief_data_quality"), 0);
        r = brief_ok(&h, "demo-token-bob", 1);
        assert_int_equal(r->brief->n_data_quality, 3);
        for (size_t i = 0; i < 3; i++) {
            const Sfpermits__V1__BriefDataQuality *x = r->brief->data_quality[i];
            char sql[400];
            assert_string_equal(x->dataset, ds[i].name);
            snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s) s", ds[i].sample);
            assert_int_equal(x->sampled, sfp_test_sql_long(g_url, sql));
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM (%s) s WHERE EXISTS (SELECT 1 FROM permits p WHERE p.block = s.block"
                     " AND p.lot = s.lot)",
                     ds[i].sample);
            assert_int_equal(x->matched, sfp_test_sql_long(g_url, sql));
            assert_true(x->sampled > 0);
            assert_string_equal(ENAME(x->status), x->match_rate_pct < 5.0 ? "warn" : "ok");
        }
        free_msg(r);
    }
    /* 500 boiler permits on a parcel no permit knows → the newest 200 match 0 % → warn; the write
     * dropped the stored rows (else the brief would show the stale ones) */
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT sfp_brief_data_quality_fill()"), 3);
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache; INSERT INTO boiler_permits (permit_number, block,"
                                         " lot) SELECT 'BPX' || g, '9998', '001' FROM generate_series(1, 500) g"),
                     0);
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT count(*) FROM brief_data_quality"), 0);
    r = brief_ok(&h, "demo-token-bob", 1);
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM boiler_permits WHERE permit_number LIKE 'BPX%'"), 0);
    assert_int_equal(sfp_test_sql_long(g_url, "SELECT sfp_brief_data_quality_fill()"), 3);
    assert_string_equal(r->brief->data_quality[2]->dataset, "boiler_permits");
    assert_int_equal(r->brief->data_quality[2]->matched, 0);
    assert_string_equal(ENAME(r->brief->data_quality[2]->status), "warn");
    free_msg(r);
    stop(&h);
}

/* street_use_activity: bob's address watch "146 LAKE" sees the street-use permits on LAKE ST
 * approved since `since`; a watch spelled " Lake  St " sees the same ones. */
static void test_section_street_use(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-bob", 7);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT least(count(*), 50) FROM street_use_permits WHERE street_name = 'LAKE ST'"
             " AND approved_date >= '%s'",
             r->brief->since);
    long want = sfp_test_sql_long(g_url, sql);
    assert_true(want >= 2); /* the seed approves two on the last two days at 146 LAKE ST */
    assert_int_equal(r->brief->n_street_use_activity, want);
    assert_int_equal(r->brief->summary->street_use_count, want);
    for (size_t i = 0; i < r->brief->n_street_use_activity; i++) {
        const Sfpermits__V1__BriefStreetUse *x = r->brief->street_use_activity[i];
        assert_string_equal(x->street_name, "LAKE ST");
        assert_string_equal(x->label, "146 Lake St");
        assert_true(strcmp(x->approved_date, r->brief->since) >= 0);
        assert_true(strlen(x->purpose) <= 120);
        if (i) assert_true(strcmp(r->brief->street_use_activity[i - 1]->approved_date, x->approved_date) >= 0);
    }
    char *first = strdup(r->brief->street_use_activity[0]->permit_number);
    free_msg(r);
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache; UPDATE watch_items SET street_name = ' Lake  St '"
                                         " WHERE watch_type = 'address' AND street_name = 'LAKE'"),
                     0);
    r = brief_ok(&h, "demo-token-bob", 7);
    assert_int_equal(sfp_test_sql(g_url, "UPDATE watch_items SET street_name = 'LAKE' WHERE watch_type = 'address'"
                                         " AND street_name = ' Lake  St '"),
                     0);
    assert_int_equal(r->brief->n_street_use_activity, want);
    assert_string_equal(r->brief->street_use_activity[0]->permit_number, first);
    free(first);
    free_msg(r);
    stop(&h);
}

/* nearby_development: pipeline projects on the block of alice's watched parcel 3512/001, the
 * parcel's own project first. */
static void test_section_nearby_development(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 1);
    long want = sfp_test_sql_long(g_url, "SELECT least(count(*), 30) FROM development_pipeline"
                                         " WHERE block_lot LIKE '3512%'");
    assert_true(want >= 1);
    assert_int_equal(r->brief->n_nearby_development, want);
    assert_int_equal(r->brief->summary->nearby_development_count, want);
    const Sfpermits__V1__BriefNearbyDevelopment *x = r->brief->nearby_development[0];
    assert_true(x->same_parcel);
    assert_string_equal(x->block_lot, "3512001");
    assert_string_equal(x->block, "3512");
    assert_string_equal(x->label, "1600 Mission St (HQ)");
    assert_true(strlen(x->description) > 0 && strlen(x->description) <= 120);
    assert_true(x->proposed_units > 0);
    for (size_t i = 0; i < r->brief->n_nearby_development; i++)
        assert_int_equal(strncmp(r->brief->nearby_development[i]->block_lot, "3512", 4), 0);
    free_msg(r);
    /* a user without parcel watches → none */
    r = brief_ok(&h, "tok-sections", 1);
    assert_int_equal(r->brief->n_nearby_development, 0);
    free_msg(r);
    stop(&h);
}

static void test_section_change_velocity(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-bob", 30);
    char sql[256];
    long total = 0;
    assert_true(r->brief->n_change_velocity > 0);
    for (size_t i = 0; i < r->brief->n_change_velocity; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM permit_changes WHERE detected_at >= '%s'::date AND change_type = '%s'",
                 r->brief->since, r->brief->change_velocity[i]->key);
        assert_int_equal(r->brief->change_velocity[i]->value, sfp_test_sql_long(g_url, sql));
        if (i) assert_true(strcmp(r->brief->change_velocity[i - 1]->key, r->brief->change_velocity[i]->key) < 0);
        total += r->brief->change_velocity[i]->value;
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM permit_changes WHERE detected_at >= '%s'::date", r->brief->since);
    assert_int_equal(total, sfp_test_sql_long(g_url, sql));
    free_msg(r);
    stop(&h);
}

static bool warned(const Sfpermits__V1__GetBriefResponse *r, const char *section)
{
    for (size_t i = 0; i < r->brief->n_warnings; i++)
        if (!strcmp(r->brief->warnings[i]->section, section)) return true;
    return false;
}

/* Each new section degrades on its own: its table gone → empty + a warning, the rest intact. */
static void test_sections_degrade_alone(void **state)
{
    (void)state;
    static const struct {
        const char *section, *breaks, *repairs;
    } cases[] = {
        {"health", "ALTER TABLE timeline_stats RENAME TO timeline_stats_x",
         "ALTER TABLE timeline_stats_x RENAME TO timeline_stats"},
        {"team_activity", "ALTER TABLE entities RENAME TO entities_x", "ALTER TABLE entities_x RENAME TO entities"},
        {"regulatory_alerts", "ALTER TABLE regulatory_watch RENAME TO regulatory_watch_x",
         "ALTER TABLE regulatory_watch_x RENAME TO regulatory_watch"},
        {"property_synopsis", "ALTER TABLE users RENAME COLUMN primary_street_name TO psn_x",
         "ALTER TABLE users RENAME COLUMN psn_x TO primary_street_name"},
        {"planning_context", "ALTER TABLE tax_rolls RENAME COLUMN zoning_code TO zoning_code_x",
         "ALTER TABLE tax_rolls RENAME COLUMN zoning_code_x TO zoning_code"},
        {"compliance_calendar", "ALTER TABLE boiler_permits RENAME COLUMN expiration_date TO exp_x",
         "ALTER TABLE boiler_permits RENAME COLUMN exp_x TO expiration_date"},
        {"data_quality", "ALTER TABLE brief_data_quality RENAME TO brief_data_quality_x",
         "ALTER TABLE brief_data_quality_x RENAME TO brief_data_quality"},
        {"street_use_activity", "ALTER TABLE street_use_permits RENAME TO street_use_permits_x",
         "ALTER TABLE street_use_permits_x RENAME TO street_use_permits"},
        {"nearby_development", "ALTER TABLE development_pipeline RENAME TO development_pipeline_x",
         "ALTER TABLE development_pipeline_x RENAME TO development_pipeline"},
        /* the cards' parcel facts alone: the cards are still built, without them */
        {"property_health", "ALTER TABLE property_health RENAME TO property_health_x",
         "ALTER TABLE property_health_x RENAME TO property_health"},
        {"change_velocity", "ALTER TABLE permit_changes RENAME COLUMN detected_at TO detected_x",
         "ALTER TABLE permit_changes RENAME COLUMN detected_x TO detected_at"},
    };
    harness h;
    start(&h);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache"), 0);
        assert_int_equal(sfp_test_sql(g_url, cases[i].breaks), 0);
        Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "tok-sections", 90);
        assert_int_equal(sfp_test_sql(g_url, cases[i].repairs), 0);
        if (!warned(r, cases[i].section)) fail_msg("%s: no warning", cases[i].section);
        for (size_t k = 0; k < r->brief->n_warnings; k++) /* only this section (and last_refresh for detected_at) */
            if (strcmp(r->brief->warnings[k]->section, cases[i].section) &&
                strcmp(r->brief->warnings[k]->section, "last_refresh"))
                fail_msg("%s: also %s", cases[i].section, r->brief->warnings[k]->section);
        assert_true(r->brief->n_property_health > 0);
        assert_int_equal(r->metadata->max_age_seconds, 60); /* degraded TTL */
        free_msg(r);
    }
    stop(&h);
}

/* The card of a parcel → its index in r (its parcels_display), -1 when none. */
static int card_of(const Sfpermits__V1__GetBriefResponse *r, const char *parcels)
{
    for (size_t i = 0; i < r->brief->n_property_health; i++)
        if (!strcmp(r->brief->property_health[i]->parcels_display, parcels)) return (int)i;
    return -1;
}

/* A card's parcel facts (open violations and complaints, property_health's tier and signals)
 * come from their own statement, joined to the card rows by parcel. */
static void test_cards_parcel_facts(void **state)
{
    (void)state;
    harness h;
    start(&h);
    assert_int_equal(sfp_test_sql(g_url, "DELETE FROM page_cache"), 0);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 30);
    int k = -1; /* a card of one parcel, with no property_health row */
    for (size_t i = 0; i < r->brief->n_property_health && k < 0; i++) {
        const Sfpermits__V1__BriefPropertyHealth *m = r->brief->property_health[i];
        if (*m->parcels_display && !strchr(m->parcels_display, ',') && strcmp(m->health_source, "property_health"))
            k = (int)i;
    }
    assert_true(k >= 0);
    char parcel[40], block[20], lot[20];
    snprintf(parcel, sizeof parcel, "%s", r->brief->property_health[k]->parcels_display);
    assert_int_equal(sscanf(parcel, "%19[^/]/%19s", block, lot), 2);
    int violations = r->brief->property_health[k]->open_violations;
    int complaints = r->brief->property_health[k]->open_complaints;
    free_msg(r);
    char sql[600];
    snprintf(sql, sizeof sql,
             "INSERT INTO violations (complaint_number, block, lot, status) VALUES ('TPF-V1', '%s', '%s', 'Open');"
             "INSERT INTO complaints (complaint_number, block, lot, status) VALUES ('TPF-C1', '%s', '%s', 'OPEN');"
             "INSERT INTO property_health (block_lot, tier, signal_count, at_risk_count, signals_json) VALUES"
             " ('%s', 'high_risk', 3, 2, '[{\"type\":\"tpf\",\"severity\":\"high_risk\",\"permit\":\"\","
             "\"detail\":\"test signal\"}]');"
             "DELETE FROM page_cache",
             block, lot, block, lot, parcel);
    assert_int_equal(sfp_test_sql(g_url, sql), 0);
    r = brief_ok(&h, "demo-token-alice", 30);
    snprintf(sql, sizeof sql,
             "DELETE FROM violations WHERE complaint_number = 'TPF-V1'; DELETE FROM complaints WHERE complaint_number"
             " = 'TPF-C1'; DELETE FROM property_health WHERE block_lot = '%s'; DELETE FROM page_cache",
             parcel);
    assert_int_equal(sfp_test_sql(g_url, sql), 0);
    k = card_of(r, parcel);
    assert_true(k >= 0);
    const Sfpermits__V1__BriefPropertyHealth *m = r->brief->property_health[k];
    assert_int_equal(m->open_violations, violations + 1);
    assert_int_equal(m->open_complaints, complaints + 1);
    assert_string_equal(m->health_source, "property_health");
    assert_string_equal(ENAME(m->health), "high_risk");
    assert_int_equal(m->signal_count, 3);
    assert_int_equal(m->at_risk_count, 2);
    assert_int_equal(r->brief->n_warnings, 0);
    free_msg(r);
    stop(&h);
}

/* The reference's rules, on seeded data. */
static void test_rules_on_seeded_data(void **state)
{
    (void)state;
    harness h;
    start(&h);
    Sfpermits__V1__GetBriefResponse *r = brief_ok(&h, "demo-token-alice", 30);
    /* last_refresh: the latest successful nightly's start time and its "Mon DD" */
    char *started = sql_text("SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || '|'"
                             " || to_char(started_at AT TIME ZONE 'UTC', 'Mon DD') FROM cron_log"
                             " WHERE job_type = 'nightly' AND status = 'success' ORDER BY started_at DESC LIMIT 1");
    char both[64];
    snprintf(both, sizeof both, "%s|%s", r->brief->last_refresh->last_success,
             r->brief->last_refresh->last_success_date);
    assert_string_equal(both, started);
    free(started);
    assert_true(r->brief->last_refresh->hours_ago >= 5.9 &&
                r->brief->last_refresh->hours_ago <= 6.2); /* started 6 h ago */
    /* plan reviews: pending stations by name; no "unknown" label */
    assert_true(r->brief->n_plan_reviews > 0);
    for (size_t i = 0; i < r->brief->n_plan_reviews; i++) {
        const Sfpermits__V1__BriefPlanReview *v = r->brief->plan_reviews[i];
        assert_int_equal(v->n_routing_pending_stations, v->routing_pending_count);
        assert_string_not_equal(v->station_typical_label, "unknown");
    }
    /* cards: routing only from filed permits; type of the latest permit; parcels */
    for (size_t i = 0; i < r->brief->n_property_health; i++) {
        const Sfpermits__V1__BriefPropertyHealth *m = r->brief->property_health[i];
        if (*m->block) assert_non_null(strstr(m->parcels_display, m->block));
        if (!strcmp(ENAME(m->health), "on_track")) assert_string_equal(m->health_reason, "");
        if (m->routing) {
            char sql[200];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM permits WHERE permit_number = '%s' AND status = 'filed'",
                     m->routing->permit_number);
            assert_int_equal(sfp_test_sql_long(g_url, sql), 1);
        }
        if (*m->latest_permit) {
            char sql[200];
            snprintf(sql, sizeof sql,
                     "SELECT coalesce(permit_type_definition, '') FROM permits WHERE permit_number = '%s'",
                     m->latest_permit);
            char *t = sql_text(sql);
            assert_string_equal(m->latest_permit_type, t);
            free(t);
        }
        if (i && r->brief->property_health[i - 1]->optional_days_since_activity_case &&
            m->optional_days_since_activity_case && m->days_since_activity <= 30)
            assert_true(r->brief->property_health[i - 1]->days_since_activity <= 30); /* recently active first */
    }
    free_msg(r);
    /* changes: a card active within the lookback adds its permits as property rows, unless a
     * change at its address is listed ("2 TESTING" stands for the card "2 Testing St") */
    r = brief_ok(&h, "tok-sections", 7);
    int t1 = 0, t2 = 0;
    for (size_t i = 0; i < r->brief->n_changes; i++) {
        const Sfpermits__V1__BriefChange *c = r->brief->changes[i];
        if (!strcmp(c->permit_number, "T00000000002")) {
            t2++;
            assert_string_equal(c->watch_type, "permit");
        }
        if (!strcmp(c->permit_number, "T00000000001")) {
            t1++;
            assert_string_equal(c->watch_type, "property");
            assert_string_equal(c->change_type, "status");
            assert_string_equal(c->new_status, "FILED");
            assert_string_equal(c->label, "pred A");
        }
    }
    assert_int_equal(t1, 1);
    assert_int_equal(t2, 1);
    assert_int_equal(r->brief->summary->changes_count, (int)r->brief->n_changes);
    /* the recently active cards come first */
    assert_true(r->brief->property_health[0]->optional_days_since_activity_case &&
                r->brief->property_health[0]->days_since_activity <= 7);
    free_msg(r);
    stop(&h);
}

/* ---------------------------------------------------------------- fixture */

static void seed(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("DATABASE_URL", g_url, 1);
        setenv("LOG_LEVEL", "warn", 1);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
        execl(SFP_BIN_DIR "/sfp-seed", "sfp-seed", "--scale", "demo", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "sfp-seed failed (status %d)\n", st);
        exit(1);
    }
}

static int group_setup(void **state)
{
    (void)state;
    g_url = sfp_test_migrated_db("it_brief");
    seed();
    g_alice = sfp_test_sql_long(g_url, "SELECT user_id FROM users WHERE email = 'alice@example.com'");
    g_bob = sfp_test_sql_long(g_url, "SELECT user_id FROM users WHERE email = 'bob@example.com'");
    assert_true(g_alice > 0 && g_bob > 0);
    /* extra tokens: revoked (alice), an inactive user, a 1-watch and a 50-watch user */
    assert_int_equal(
        sfp_test_sql(
            g_url,
            "INSERT INTO api_tokens (user_id, token_sha256, label, revoked_at) SELECT user_id,"
            " sha256('tok-revoked'::bytea), 'revoked', now() FROM users WHERE email = 'alice@example.com';"
            "INSERT INTO users (email, is_active) VALUES ('gone@example.com', false),"
            " ('one@example.com', true), ('fifty@example.com', true);"
            "INSERT INTO api_tokens (user_id, token_sha256) SELECT user_id, sha256('tok-inactive'::bytea)"
            " FROM users WHERE email = 'gone@example.com';"
            "INSERT INTO api_tokens (user_id, token_sha256) SELECT user_id, sha256('tok-one-watch'::bytea)"
            " FROM users WHERE email = 'one@example.com';"
            "INSERT INTO api_tokens (user_id, token_sha256) SELECT user_id, sha256('tok-fifty-watches'::bytea)"
            " FROM users WHERE email = 'fifty@example.com';"
            "INSERT INTO watch_items (user_id, watch_type, block, lot, label) SELECT u.user_id, 'parcel',"
            " '3512', '001', 'HQ' FROM users u WHERE email = 'one@example.com';"
            /* 50: 20 parcels, 20 permits, 8 addresses, 2 neighborhoods */
            "INSERT INTO watch_items (user_id, watch_type, block, lot, label)"
            " SELECT u.user_id, 'parcel', p.block, p.lot, 'parcel ' || p.block || '/' || p.lot"
            " FROM users u, (SELECT DISTINCT block, lot FROM permits ORDER BY 1, 2 LIMIT 20) p"
            " WHERE u.email = 'fifty@example.com';"
            "INSERT INTO watch_items (user_id, watch_type, permit_number, label)"
            " SELECT u.user_id, 'permit', p.permit_number, 'permit ' || p.permit_number"
            " FROM users u, (SELECT permit_number FROM permits ORDER BY status_date DESC NULLS LAST LIMIT 20) p"
            " WHERE u.email = 'fifty@example.com';"
            "INSERT INTO watch_items (user_id, watch_type, street_number, street_name, label)"
            " SELECT u.user_id, 'address', p.street_number, p.street_name, 'addr'"
            " FROM users u, (SELECT DISTINCT street_number, street_name FROM permits ORDER BY 1 DESC, 2 LIMIT 8) p"
            " WHERE u.email = 'fifty@example.com';"
            "INSERT INTO watch_items (user_id, watch_type, neighborhood, label)"
            " SELECT u.user_id, 'neighborhood', n, n FROM users u, (VALUES ('Tenderloin'), ('Mission')) v(n)"
            " WHERE u.email = 'fifty@example.com'"),
        0);
    /* the sections user: watched permits with timeline_stats comparables, a watched entity,
     * a primary address written differently from the permits' */
    assert_int_equal(
        sfp_test_sql(
            g_url,
            "INSERT INTO users (email, is_active, primary_street_number, primary_street_name)"
            " VALUES ('sections@example.com', true, '146', 'Lake St');"
            "INSERT INTO api_tokens (user_id, token_sha256) SELECT user_id, sha256('tok-sections'::bytea)"
            " FROM users WHERE email = 'sections@example.com';"
            "INSERT INTO permits (permit_number, status, filed_date, permit_type_definition, neighborhood,"
            " estimated_cost, street_number, street_name, block, lot) VALUES"
            " ('T00000000001', 'filed', to_char(current_date - 100, 'YYYY-MM-DD') || 'T00:00:00.000',"
            "  'additions alterations or repairs', 'Testville', 60000, '1', 'TESTING', '9901', '001'),"
            " ('T00000000002', 'issued', to_char(current_date - 5, 'YYYY-MM-DD') || 'T00:00:00.000',"
            "  'additions alterations or repairs', 'Emptyville', 60000, '2', 'TESTING', '9901', '002'),"
            " ('T00000000003', 'filed', to_char(current_date - 30, 'YYYY-MM-DD') || 'T00:00:00.000',"
            "  'Electrical Permit', 'Testville', 60000, '3', 'TESTING', '9901', '003'),"
            " ('T00000000004', 'complete', to_char(current_date - 300, 'YYYY-MM-DD') || 'T00:00:00.000',"
            "  'additions alterations or repairs', 'Testville', 60000, '4', 'TESTING', '9901', '004'),"
            " ('T00000000005', 'filed', to_char(current_date - 1, 'YYYY-MM-DD') || 'T00:00:00.000',"
            "  'otc alterations permit', 'Testville', 1000, '5', 'TESTING', '9901', '005'),"
            " ('T00000000006', 'filed', to_char(current_date - 40, 'YYYY-MM-DD') || 'T00:00:00.000',"
            "  'otc alterations permit', 'Testville', 1000, '6', 'TESTING', '9901', '006');"
            /* activity: T1 active 2 days ago (no permit_changes row: a property-activity row);
             * T2 ('2 TESTING ST') 3 days ago with a permit_changes row at '2 TESTING' */
            "UPDATE permits SET status_date = to_char(current_date - 2, 'YYYY-MM-DD') || 'T00:00:00.000'"
            " WHERE permit_number = 'T00000000001';"
            "UPDATE permits SET status_date = to_char(current_date - 3, 'YYYY-MM-DD') || 'T00:00:00.000',"
            " street_suffix = 'ST' WHERE permit_number = 'T00000000002';"
            "INSERT INTO permit_changes (permit_number, change_date, old_status, new_status, change_type,"
            " street_number, street_name, neighborhood, block, lot) VALUES ('T00000000002', current_date - 3,"
            " 'filed', 'issued', 'status_change', '2', 'TESTING', 'Emptyville', '9901', '002');"
            "INSERT INTO timeline_stats (permit_number, permit_type_definition, review_path, neighborhood,"
            " estimated_cost, cost_bracket, filed, issued, days_to_issuance)"
            " SELECT 'TS' || g, 'additions alterations or repairs', 'in_house', 'Testville', 70000, '50k_150k',"
            " current_date - 20 - g * 10, current_date - 20, g * 10 FROM generate_series(1, 10) g;"
            /* an old comparable (issued 400 days ago) and an electrical one never count */
            "INSERT INTO timeline_stats (permit_number, permit_type_definition, review_path, neighborhood,"
            " estimated_cost, cost_bracket, filed, issued, days_to_issuance) VALUES"
            " ('TSOLD', 'additions alterations or repairs', 'in_house', 'Testville', 70000, '50k_150k',"
            "  current_date - 500, current_date - 400, 100),"
            " ('TSELEC', 'additions alterations or repairs electrical', 'in_house', 'Testville', 70000, '50k_150k',"
            "  current_date - 30, current_date - 20, 1);"
            "INSERT INTO entities (entity_id, canonical_name, entity_type) VALUES (999001, 'Test Builders Inc',"
            " 'contractor');"
            "INSERT INTO contacts (permit_number, role, name, entity_id) VALUES"
            " ('T00000000005', 'contractor', 'Test Builders', 999001),"
            " ('T00000000006', 'contractor', 'Test Builders', 999001);"
            /* as every writer does: the permit's filing date on its contacts */
            "UPDATE contacts c SET permit_filed_date = p.filed_date FROM permits p"
            " WHERE p.permit_number = c.permit_number AND c.entity_id = 999001;"
            "INSERT INTO watch_items (user_id, watch_type, permit_number, entity_id, label)"
            " SELECT u.user_id, v.t, v.p, v.e, v.l FROM users u, (VALUES ('permit', 'T00000000001', NULL::int, 'pred A'),"
            "  ('permit', 'T00000000002', NULL, 'pred B'), ('permit', 'T00000000003', NULL, 'pred E'),"
            "  ('permit', 'T00000000004', NULL, 'pred C'), ('entity', NULL, 999001, 'my GC')) v(t, p, e, l)"
            " WHERE u.email = 'sections@example.com';"
            "INSERT INTO regulatory_watch (title, source_type, source_id, status)"
            " VALUES ('Withdrawn bill', 'state_bill', 'test-withdrawn', 'withdrawn');"
            "ANALYZE permits, timeline_stats, contacts, entities"),
        0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(g_url);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_unauthenticated, reset),
        cmocka_unit_test_setup(test_user_isolation, reset),
        cmocka_unit_test_setup(test_second_call_cached_two_users_two_computes, reset),
        cmocka_unit_test_setup(test_refresh_then_recompute_then_rate_limited, reset),
        cmocka_unit_test_setup(test_concurrent_refresh_one_wins, reset),
        cmocka_unit_test_setup(test_pipeline_stats, reset),
        cmocka_unit_test_setup(test_pipeline_stats_failure_degrades, reset),
        cmocka_unit_test_setup(test_lookback_range, reset),
        cmocka_unit_test_setup(test_query_count_independent_of_watches, reset),
        cmocka_unit_test_setup(test_twenty_concurrent_cold_calls_one_compute, reset),
        cmocka_unit_test_setup(test_service_identity_for_cron, reset),
        cmocka_unit_test_setup(test_auth_cache, reset),
        cmocka_unit_test_setup(test_introspection, reset),
        cmocka_unit_test_setup(test_section_health, reset),
        cmocka_unit_test_setup(test_section_health_precomputed, reset),
        cmocka_unit_test_setup(test_section_team_activity, reset),
        cmocka_unit_test_setup(test_section_regulatory_alerts, reset),
        cmocka_unit_test_setup(test_section_property_synopsis, reset),
        cmocka_unit_test_setup(test_cards_parcel_facts, reset),
        cmocka_unit_test_setup(test_section_planning_context, reset),
        cmocka_unit_test_setup(test_section_change_velocity, reset),
        cmocka_unit_test_setup(test_section_compliance_calendar, reset),
        cmocka_unit_test_setup(test_section_data_quality, reset),
        cmocka_unit_test_setup(test_sections_on_one_or_two_connections, reset),
        cmocka_unit_test_setup(test_spare_lane_keeps_the_deadline, reset),
        cmocka_unit_test_setup(test_section_street_use, reset),
        cmocka_unit_test_setup(test_section_nearby_development, reset),
        cmocka_unit_test_setup(test_sections_degrade_alone, reset),
        cmocka_unit_test_setup(test_rules_on_seeded_data, reset),
    };
    /* The seeds and checks below count days from Postgres' current_date: make the sessions'
     * zone the service's (TZ), so their day is the day the brief counts from. */
    const char *tz = getenv("TZ");
    if (tz && *tz) setenv("PGTZ", tz[0] == ':' ? tz + 1 : tz, 1);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
