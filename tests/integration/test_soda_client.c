/* SODA client + breaker + cache against the local test server (sfp-soda-test-server, built-in
 * generator, no Postgres needed). Counterparts of the replaced system's cache and
 * client/breaker tests, plus stale-if-error, coalescing, shared breaker, deadlines and
 * concurrency. Upstream calls are counted with the server's /__stats. One fake clock drives
 * cache ages and the breaker's open period; HTTP timing is real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "buf.h"
#include "soda_client.h"
#include "testsupport.h"

static sfp_proc g_srv;
static char g_base[128];
static double g_now = 10000.0;
static double fake_clock(void *arg)
{
    (void)arg;
    return g_now;
}

static int64_t mono_ms(void)
{
    return sfp_mono_ms();
}

/* ---------------- test-server helpers ---------------- */

static size_t collect(char *p, size_t sz, size_t n, void *user)
{
    sfp_buf_append(user, p, sz * n);
    return sz * n;
}

static cJSON *http_json(const char *method, const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_srv.port, path);
    CURL *e = curl_easy_init();
    sfp_buf b;
    sfp_buf_init(&b);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "POST")) curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode cc = curl_easy_perform(e);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(e);
    if (cc != CURLE_OK || code != 200) fail_msg("%s %s failed: curl %d http %ld", method, path, (int)cc, code);
    cJSON *j = cJSON_ParseWithLength(b.data, b.len);
    sfp_buf_free(&b);
    assert_non_null(j);
    return j;
}

static void control(const char *query)
{
    char path[256];
    snprintf(path, sizeof path, "/__control?%s", query);
    cJSON_Delete(http_json("POST", path));
}

static long upstream(const char *dataset) /* NULL = all requests */
{
    cJSON *j = http_json("GET", "/__stats");
    long n;
    if (!dataset) n = (long)cJSON_GetObjectItem(j, "requests")->valuedouble;
    else n = (long)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_dataset"), dataset)->valuedouble;
    cJSON_Delete(j);
    return n;
}

static char *last_field(const char *k)
{
    cJSON *j = http_json("GET", "/__stats");
    char *v = strdup(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "last"), k)->valuestring);
    cJSON_Delete(j);
    return v;
}

/* ---------------- fixtures ---------------- */

static int group_setup(void **st)
{
    (void)st;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *env[] = {"DATABASE_URL=", "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_srv, "sfp-soda-test-server", env)) return -1;
    snprintf(g_base, sizeof g_base, "http://127.0.0.1:%d/resource", g_srv.port);
    return 0;
}

static int group_teardown(void **st)
{
    (void)st;
    int rc = g_srv.pid > 0 ? sfp_proc_stop(&g_srv, 5000) : 0; /* normally stopped by the last test */
    curl_global_cleanup();
    return rc == 0 ? 0 : -1;
}

static int each_setup(void **st)
{
    (void)st;
    cJSON_Delete(http_json("POST", "/__reset"));
    g_now = 10000.0;
    return 0;
}

typedef struct opts {
    int threshold, open_s, timeout_ms, ttl_s, stale_s, max_entries, probes;
    long max_bytes;
    const char *token;
} opts;

static sfp_soda *mk(opts o)
{
    sfp_soda_config c;
    sfp_soda_config_defaults(&c);
    c.base_url = g_base;
    c.app_token = o.token;
    if (o.timeout_ms) c.timeout_ms = o.timeout_ms;
    if (o.max_bytes) c.max_response_bytes = o.max_bytes;
    if (o.threshold) c.breaker.threshold = o.threshold;
    if (o.open_s) c.breaker.open_s = o.open_s;
    if (o.probes) c.breaker.half_open_probes = o.probes;
    if (o.ttl_s) c.cache.ttl_s = o.ttl_s;
    if (o.stale_s) c.cache.stale_max_s = o.stale_s;
    if (o.max_entries) c.cache.max_entries = o.max_entries;
    c.breaker.clock = fake_clock;
    c.cache.clock = fake_clock;
    sfp_err e = {0};
    sfp_soda *s = sfp_soda_create(&c, &e);
    if (!s) fail_msg("sfp_soda_create: %s", e.msg);
    return s;
}

static void fetch3(sfp_soda *s, const char *block, const char *lot, int64_t budget, sfp_soda_result *r)
{
    sfp_err e = {0};
    assert_int_equal(sfp_soda_parcel_fetch(s, block, lot, sfp_soda_report_specs, SFP_SODA_REPORT_N, budget, r, &e), 0);
}

static sfp_breaker_stats bstats(sfp_soda *s)
{
    sfp_breaker_stats b;
    sfp_breaker_get_stats(sfp_soda_breaker(s), &b);
    return b;
}

static int run_one(sfp_soda *s, const char *dataset, int64_t budget, sfp_soda_response *r)
{
    sfp_soda_query q = {
        .dataset = dataset, .where = "block='1234' AND lot='005'", .order = "date_filed DESC", .limit = 50};
    return sfp_soda_query_run(s, &q, budget, r);
}

/* ---------------- cache ---------------- */

static void test_cache_hit_skips_http_and_expired_refetches_all_three(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){0});
    sfp_soda_result r1[3], r2[3], r3[3];
    fetch3(s, "2991", "012", 5000, r1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r1[i].source, SFP_SODA_LIVE);
        assert_non_null(r1[i].rows);
        assert_true(r1[i].fresh_for_s > 899.0);
    }
    assert_int_equal(upstream(NULL), 3);
    g_now += 100;
    fetch3(s, "2991", "012", 5000, r2);
    assert_int_equal(upstream(NULL), 3); /* no HTTP for hits */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r2[i].source, SFP_SODA_CACHED);
        assert_true(r2[i].age_s > 99.9 && r2[i].age_s < 100.1);
        assert_true(r2[i].fresh_for_s > 799.9 && r2[i].fresh_for_s < 800.1);
        assert_ptr_equal(r2[i].rows, r1[i].rows); /* the parsed rows are shared, never copied */
    }
    g_now += 801; /* TTL + 1 s */
    fetch3(s, "2991", "012", 5000, r3);
    for (int i = 0; i < 3; i++) assert_int_equal(r3[i].source, SFP_SODA_LIVE);
    assert_int_equal(upstream("gm2e-bten"), 2);
    assert_int_equal(upstream("nbtm-fbw5"), 2);
    assert_int_equal(upstream("wv5m-vpq2"), 2);
    sfp_soda_results_clear(r1, 3);
    sfp_soda_results_clear(r2, 3);
    sfp_soda_results_clear(r3, 3);
    sfp_soda_destroy(s);
}

static void test_request_as_sent_and_rows(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.token = "test-token-123"});
    sfp_soda_result r[3];
    fetch3(s, "3512", "001", 5000, r);
    /* the heavy parcel has 60 complaints, 55 violations, 7 roll years: limits applied */
    assert_int_equal(sfp_soda_rows_count(r[SFP_SODA_COMPLAINTS].rows), 50);
    assert_int_equal(sfp_soda_rows_count(r[SFP_SODA_VIOLATIONS].rows), 50);
    assert_int_equal(sfp_soda_rows_count(r[SFP_SODA_TAX_ROLL].rows), 5);
    const cJSON *tax = sfp_soda_rows_json(r[SFP_SODA_TAX_ROLL].rows);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(tax, 0), "closed_roll_year")->valuestring, "2025");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(tax, 4), "closed_roll_year")->valuestring, "2021");
    const cJSON *row;
    const char *prev = "9999";
    cJSON_ArrayForEach(row, sfp_soda_rows_json(r[SFP_SODA_COMPLAINTS].rows))
    {
        const char *d = cJSON_GetObjectItem(row, "date_filed")->valuestring;
        assert_true(strcmp(d, prev) <= 0); /* date_filed DESC */
        assert_string_equal(cJSON_GetObjectItem(row, "block")->valuestring, "3512");
        prev = d;
    }
    sfp_soda_results_clear(r, 3);
    /* one more single-dataset query so "last" is deterministic */
    sfp_soda_result t;
    sfp_err e = {0};
    const sfp_soda_parcel_spec *tax_spec = &sfp_soda_report_specs[SFP_SODA_TAX_ROLL];
    assert_int_equal(sfp_soda_parcel_fetch(s, "0417", "022A", tax_spec, 1, 5000, &t, &e), 0);
    sfp_soda_result_clear(&t);
    const char *k[] = {"dataset", "where", "order", "limit", "offset", "app_token"};
    const char *want[] = {"wv5m-vpq2",     "block='0417' AND lot='022A'", "closed_roll_year DESC", "5", "0",
                          "test-token-123"};
    for (int i = 0; i < 6; i++) {
        char *v = last_field(k[i]);
        if (strcmp(v, want[i])) fail_msg("last.%s = '%s', want '%s'", k[i], v, want[i]);
        free(v);
    }
    char *ae = last_field("accept_encoding");
    assert_non_null(strstr(ae, "gzip"));
    free(ae);
    sfp_soda_destroy(s);
}

static void test_stale_served_when_server_fails(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 100, .stale_s = 3600});
    sfp_soda_result r1[3], r2[3], r3[3];
    fetch3(s, "1234", "005", 5000, r1);
    g_now += 1000; /* expired, within stale retention */
    control("mode=fail500");
    fetch3(s, "1234", "005", 5000, r2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r2[i].source, SFP_SODA_STALE);
        assert_true(r2[i].age_s > 999.9 && r2[i].age_s < 1000.1);
        assert_string_equal(r2[i].reason, "http_500");
        assert_int_equal(r2[i].http_status, 500);
        assert_false(r2[i].breaker_open);
        assert_ptr_equal(r2[i].rows, r1[i].rows);
    }
    assert_int_equal(upstream(NULL), 6); /* the refresh was attempted */
    g_now += 900 + 3600;                 /* beyond retention */
    fetch3(s, "1234", "005", 5000, r3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r3[i].source, SFP_SODA_UNAVAILABLE);
        assert_null(r3[i].rows);
    }
    sfp_ttl_cache_stats cs;
    sfp_ttl_cache_get_stats(sfp_soda_cache(s), &cs);
    assert_int_equal(cs.stale_served, 3);
    sfp_soda_results_clear(r1, 3);
    sfp_soda_results_clear(r2, 3);
    sfp_soda_results_clear(r3, 3);
    sfp_soda_destroy(s);
}

static void test_stale_served_when_breaker_open(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 3});
    sfp_soda_result r1[3], r2[3], r3[3];
    fetch3(s, "1234", "005", 5000, r1);
    g_now += 950;
    control("mode=fail503");
    fetch3(s, "7777", "001", 5000, r2); /* 3 counted failures: opens */
    assert_string_equal(bstats(s).state, "open");
    sfp_soda_results_clear(r2, 3);
    long before = upstream(NULL);
    fetch3(s, "1234", "005", 5000, r3); /* expired entries, breaker open: stale, no HTTP */
    assert_int_equal(upstream(NULL), before);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r3[i].source, SFP_SODA_STALE);
        assert_true(r3[i].breaker_open);
        assert_string_equal(r3[i].reason, "breaker_open");
        assert_non_null(r3[i].rows);
    }
    sfp_soda_results_clear(r1, 3);
    sfp_soda_results_clear(r3, 3);
    sfp_soda_destroy(s);
}

static void test_empty_200_is_cached(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){0});
    sfp_soda_result r1[3], r2[3];
    fetch3(s, "1234", "000", 5000, r1); /* the generator's empty parcel */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r1[i].source, SFP_SODA_LIVE);
        assert_non_null(r1[i].rows);
        assert_int_equal(sfp_soda_rows_count(r1[i].rows), 0);
        assert_int_equal(cJSON_GetArraySize(sfp_soda_rows_json(r1[i].rows)), 0);
    }
    fetch3(s, "1234", "000", 5000, r2);
    for (int i = 0; i < 3; i++) assert_int_equal(r2[i].source, SFP_SODA_CACHED);
    assert_int_equal(upstream(NULL), 3);
    sfp_soda_results_clear(r1, 3);
    sfp_soda_results_clear(r2, 3);
    sfp_soda_destroy(s);
}

static void test_breaker_open_result_not_cached_and_no_http(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 3, .open_s = 60});
    sfp_soda_result r[3];
    control("mode=fail500");
    fetch3(s, "1111", "001", 5000, r);
    sfp_soda_results_clear(r, 3);
    assert_string_equal(bstats(s).state, "open");
    control("mode=ok");
    long before = upstream(NULL);
    /* client returns empty with no HTTP call when open */
    sfp_soda_response resp;
    assert_int_equal(run_one(s, "gm2e-bten", 5000, &resp), -1);
    assert_int_equal(resp.status, SFP_SODA_E_BREAKER_OPEN);
    assert_string_equal(resp.reason, "breaker_open");
    assert_null(resp.rows);
    assert_int_equal(sfp_soda_rows_count(resp.rows), 0);
    fetch3(s, "2222", "002", 5000, r);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].source, SFP_SODA_UNAVAILABLE);
        assert_true(r[i].breaker_open);
        assert_null(r[i].rows);
    }
    sfp_soda_results_clear(r, 3);
    assert_int_equal(upstream(NULL), before);
    assert_true(bstats(s).rejected >= 4);
    /* after the open period: the empty breaker-open results were not cached; half-open lets
     * the whole report (3 probes by default) through */
    g_now += 61;
    fetch3(s, "2222", "002", 5000, r);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].source, SFP_SODA_LIVE);
        assert_false(r[i].breaker_open);
    }
    assert_string_equal(bstats(s).state, "closed"); /* the probes succeeded */
    assert_int_equal(upstream(NULL), before + 3);
    sfp_soda_results_clear(r, 3);
    fetch3(s, "2222", "002", 5000, r);
    for (int i = 0; i < 3; i++) assert_int_equal(r[i].source, SFP_SODA_CACHED);
    assert_int_equal(upstream(NULL), before + 3);
    sfp_soda_results_clear(r, 3);
    sfp_soda_destroy(s);
}

static void test_half_open_probe_limit_through_client(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 1, .open_s = 60, .probes = 1});
    sfp_soda_response resp;
    control("mode=fail500&count=1");
    assert_int_equal(run_one(s, "gm2e-bten", 5000, &resp), -1);
    assert_string_equal(bstats(s).state, "open");
    g_now += 61;
    sfp_soda_result r[3];
    fetch3(s, "3333", "003", 5000, r); /* one probe goes out, the other two are refused */
    int live = 0, refused = 0;
    for (int i = 0; i < 3; i++) {
        live += r[i].source == SFP_SODA_LIVE;
        refused += r[i].breaker_open && r[i].source == SFP_SODA_UNAVAILABLE;
    }
    assert_int_equal(live, 1);
    assert_int_equal(refused, 2);
    assert_int_equal(upstream(NULL), 2);
    assert_string_equal(bstats(s).state, "closed");
    sfp_soda_results_clear(r, 3);
    sfp_soda_destroy(s);
}

static void test_200_resets_failures(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 5});
    sfp_soda_response r;
    control("mode=fail500&count=2");
    assert_int_equal(run_one(s, "gm2e-bten", 5000, &r), -1);
    assert_int_equal(run_one(s, "gm2e-bten", 5000, &r), -1);
    assert_int_equal(bstats(s).consecutive_failures, 2);
    assert_int_equal(run_one(s, "gm2e-bten", 5000, &r), 0); /* count used up: 200 */
    assert_int_equal(r.http_status, 200);
    assert_true(sfp_soda_rows_count(r.rows) > 0);
    assert_true(cJSON_IsArray(sfp_soda_rows_json(r.rows)));
    sfp_soda_response_clear(&r);
    sfp_breaker_stats b = bstats(s);
    assert_int_equal(b.consecutive_failures, 0);
    assert_string_equal(b.state, "closed");
    sfp_soda_destroy(s);
}

static void test_timeout_counts(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 3, .timeout_ms = 300});
    control("mode=hang");
    sfp_soda_response r;
    int64_t t0 = mono_ms();
    assert_int_equal(run_one(s, "gm2e-bten", INT64_MAX, &r), -1);
    int64_t took = mono_ms() - t0;
    assert_int_equal(r.status, SFP_SODA_E_TIMEOUT);
    assert_string_equal(r.reason, "timeout");
    assert_true(took >= 280 && took < 1500);
    assert_int_equal(bstats(s).consecutive_failures, 1);
    run_one(s, "gm2e-bten", INT64_MAX, &r);
    run_one(s, "gm2e-bten", INT64_MAX, &r);
    assert_string_equal(bstats(s).state, "open"); /* 3 timeouts with threshold 3 */
    sfp_soda_destroy(s);
}

static void test_503_counts_404_does_not(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 5});
    sfp_soda_response r;
    control("mode=fail503");
    assert_int_equal(run_one(s, "gm2e-bten", 5000, &r), -1);
    assert_int_equal(r.status, SFP_SODA_E_HTTP);
    assert_int_equal(r.http_status, 503);
    assert_string_equal(r.reason, "http_503");
    assert_int_equal(bstats(s).consecutive_failures, 1);
    control("mode=ok");
    assert_int_equal(run_one(s, "gm2e-bten", 5000, &r), 0);
    sfp_soda_response_clear(&r);
    control("mode=fail404");
    for (int i = 0; i < 6; i++) {
        assert_int_equal(run_one(s, "gm2e-bten", 5000, &r), -1);
        assert_int_equal(r.http_status, 404);
        assert_string_equal(r.reason, "http_404");
    }
    control("mode=ok");
    assert_int_equal(run_one(s, "abcd-1234", 5000, &r), -1); /* real 404: unknown dataset */
    assert_int_equal(r.http_status, 404);
    sfp_soda_query bad = {.dataset = "gm2e-bten", .where = "1=1", .limit = 1}; /* real 400 */
    assert_int_equal(sfp_soda_query_run(s, &bad, 5000, &r), -1);
    assert_int_equal(r.http_status, 400);
    sfp_breaker_stats b = bstats(s);
    assert_int_equal(b.consecutive_failures, 0);
    assert_string_equal(b.state, "closed");
    assert_int_equal(b.ignored, 8);
    assert_int_equal(b.failures, 1);
    sfp_soda_destroy(s);
}

static void test_429_retry_after_extends_open(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 1, .open_s = 60});
    control("mode=fail429&retry_after=120");
    sfp_soda_response r;
    assert_int_equal(run_one(s, "nbtm-fbw5", 5000, &r), -1);
    assert_int_equal(r.http_status, 429);
    assert_int_equal(r.retry_after_s, 120);
    sfp_breaker_stats b = bstats(s);
    assert_string_equal(b.state, "open");
    assert_true(b.seconds_until_half_open > 119.0);
    sfp_soda_destroy(s);
}

static void test_garbage_is_an_error_not_a_crash(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.threshold = 10});
    control("mode=garbage");
    sfp_soda_result r[3];
    fetch3(s, "5000", "010", 5000, r);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].source, SFP_SODA_UNAVAILABLE);
        assert_string_equal(r[i].reason, "bad_json");
        assert_null(r[i].rows);
    }
    sfp_soda_results_clear(r, 3);
    assert_int_equal(bstats(s).consecutive_failures, 3);
    sfp_ttl_cache_stats cs;
    sfp_ttl_cache_get_stats(sfp_soda_cache(s), &cs);
    assert_int_equal(cs.entries, 0); /* errors are never cached */
    sfp_soda_destroy(s);
}

static void test_response_size_limit(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.max_bytes = 2048});
    sfp_soda_result r;
    sfp_err e = {0};
    assert_int_equal(sfp_soda_parcel_fetch(s, "3512", "001", &sfp_soda_report_specs[0], 1, 5000, &r, &e), 0);
    assert_int_equal(r.source, SFP_SODA_UNAVAILABLE);
    assert_string_equal(r.reason, "too_large");
    sfp_breaker_stats b = bstats(s);
    assert_int_equal(b.consecutive_failures, 0); /* our limit, not SODA's fault */
    assert_int_equal(b.ignored, 1);
    sfp_soda_destroy(s);
}

/* ---------------- deadlines and concurrency ---------------- */

static void test_hang_times_out_within_deadline(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.timeout_ms = 10000});
    control("mode=hang");
    sfp_soda_result r[3];
    int64_t t0 = mono_ms();
    fetch3(s, "4000", "001", 400, r);
    int64_t took = mono_ms() - t0;
    if (took < 380 || took > 900) fail_msg("took %lld ms for a 400 ms budget", (long long)took);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].source, SFP_SODA_UNAVAILABLE);
        assert_string_equal(r[i].reason, "deadline");
    }
    sfp_soda_results_clear(r, 3);
    /* a 400 ms caller budget is too short to blame SODA: not counted */
    assert_int_equal(bstats(s).consecutive_failures, 0);
    sfp_soda_destroy(s);
}

static void test_three_queries_overlap(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){0});
    control("mode=delay&delay_ms=300");
    sfp_soda_result r[3];
    int64_t t0 = mono_ms();
    fetch3(s, "3512", "001", 5000, r);
    int64_t took = mono_ms() - t0;
    for (int i = 0; i < 3; i++) assert_int_equal(r[i].source, SFP_SODA_LIVE);
    if (took < 295 || took > 650)
        fail_msg("3 queries with 300 ms delay took %lld ms (serial would be 900)", (long long)took);
    sfp_soda_results_clear(r, 3);
    sfp_soda_destroy(s);
}

typedef struct job {
    sfp_soda *s;
    char block[8], lot[8];
    size_t n;
    const sfp_soda_parcel_spec *specs;
    sfp_soda_result r[3];
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    sfp_err e = {0};
    j->rc = sfp_soda_parcel_fetch(j->s, j->block, j->lot, j->specs, j->n, 5000, j->r, &e);
    return NULL;
}

static void test_ten_concurrent_misses_one_upstream_call(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){0});
    control("mode=delay&delay_ms=500");
    job jobs[10];
    pthread_t th[10];
    for (int i = 0; i < 10; i++) {
        jobs[i] = (job){.s = s, .block = "3512", .lot = "001", .n = 3, .specs = sfp_soda_report_specs};
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    for (int i = 0; i < 10; i++) pthread_join(th[i], NULL);
    assert_int_equal(upstream("gm2e-bten"), 1);
    assert_int_equal(upstream("nbtm-fbw5"), 1);
    assert_int_equal(upstream("wv5m-vpq2"), 1);
    /* Per dataset: exactly one request fetched (LIVE, not coalesced); every other one either
     * joined that fetch (LIVE, coalesced) or — only if its thread started after the fetch ended,
     * e.g. under valgrind — hit the cache. All ten hold the same parsed rows. */
    int coalesced = 0, cached = 0;
    const sfp_soda_rows *first[3] = {jobs[0].r[0].rows, jobs[0].r[1].rows, jobs[0].r[2].rows};
    for (int k = 0; k < 3; k++) {
        int leaders = 0;
        for (int i = 0; i < 10; i++) {
            assert_int_equal(jobs[i].rc, 0);
            const sfp_soda_result *r = &jobs[i].r[k];
            assert_non_null(r->rows);
            assert_ptr_equal(r->rows, first[k]); /* one parsed copy for all ten */
            if (r->source == SFP_SODA_CACHED) cached++;
            else if (r->source == SFP_SODA_LIVE && r->coalesced) coalesced++;
            else if (r->source == SFP_SODA_LIVE) leaders++;
            else fail_msg("unexpected source %s", sfp_soda_source_name(r->source));
        }
        assert_int_equal(leaders, 1);
    }
    for (int i = 0; i < 10; i++) sfp_soda_results_clear(jobs[i].r, 3);
    assert_int_equal(coalesced + cached, 27);
    assert_true(coalesced >= 3); /* real waiting happened (all 27 without valgrind) */
    sfp_ttl_cache_stats cs;
    sfp_ttl_cache_get_stats(sfp_soda_cache(s), &cs);
    assert_int_equal(cs.coalesced, coalesced);
    assert_int_equal(cs.in_flight, 0);
    sfp_soda_destroy(s);
}

static void test_breaker_shared_across_concurrent_requests(void **st)
{
    (void)st;
    /* One failing query per request: a per-request breaker (the reference's bug) would never
     * reach the threshold of 5; the shared one opens after five different requests. */
    sfp_soda *s = mk((opts){.threshold = 5});
    control("mode=fail500&delay_ms=100");
    job jobs[5];
    pthread_t th[5];
    for (int i = 0; i < 5; i++) {
        jobs[i] = (job){.s = s, .n = 1, .specs = &sfp_soda_report_specs[SFP_SODA_COMPLAINTS]};
        snprintf(jobs[i].block, sizeof jobs[i].block, "%04d", 6000 + i);
        snprintf(jobs[i].lot, sizeof jobs[i].lot, "001");
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    for (int i = 0; i < 5; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].r[0].source, SFP_SODA_UNAVAILABLE);
        assert_string_equal(jobs[i].r[0].reason, "http_500");
    }
    assert_int_equal(upstream(NULL), 5);
    sfp_breaker_stats b = bstats(s);
    assert_string_equal(b.state, "open");
    assert_int_equal(b.opens, 1);
    /* a sixth request, on another thread, is refused without HTTP */
    job j6 = {.s = s, .block = "6999", .lot = "001", .n = 3, .specs = sfp_soda_report_specs};
    pthread_t t6;
    pthread_create(&t6, NULL, run_job, &j6);
    pthread_join(t6, NULL);
    for (int k = 0; k < 3; k++) assert_true(j6.r[k].breaker_open);
    sfp_soda_results_clear(j6.r, 3);
    for (int i = 0; i < 5; i++) sfp_soda_results_clear(jobs[i].r, 1);
    assert_int_equal(upstream(NULL), 5);
    sfp_soda_destroy(s);
}

static void test_async_begin_end_overlaps(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){0});
    control("mode=delay&delay_ms=300");
    sfp_err e = {0};
    int64_t t0 = mono_ms();
    sfp_soda_pending *p = sfp_soda_parcel_begin(s, "3512", "001", sfp_soda_report_specs, 3, 5000, &e);
    assert_non_null(p);
    assert_true(mono_ms() - t0 < 150); /* begin does not wait for SODA */
    struct timespec ts = {0, 250 * 1000000L};
    nanosleep(&ts, NULL); /* "SQL work" */
    sfp_soda_result r[3];
    sfp_soda_parcel_end(p, r);
    int64_t took = mono_ms() - t0;
    if (took > 650) fail_msg("begin/end took %lld ms; SODA did not overlap the caller's work", (long long)took);
    for (int i = 0; i < 3; i++) assert_int_equal(r[i].source, SFP_SODA_LIVE);
    sfp_soda_results_clear(r, 3);
    /* all hits: end returns at once with cached results */
    t0 = mono_ms();
    p = sfp_soda_parcel_begin(s, "3512", "001", sfp_soda_report_specs, 3, 5000, &e);
    sfp_soda_parcel_end(p, r);
    assert_true(mono_ms() - t0 < 100);
    for (int i = 0; i < 3; i++) assert_int_equal(r[i].source, SFP_SODA_CACHED);
    sfp_soda_results_clear(r, 3);
    sfp_soda_destroy(s);
}

static void test_lru_bound_in_client(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.max_entries = 4});
    sfp_soda_result r;
    sfp_err e = {0};
    for (int i = 0; i < 6; i++) {
        char block[8];
        snprintf(block, sizeof block, "%04d", 100 + i);
        assert_int_equal(sfp_soda_parcel_fetch(s, block, "001", sfp_soda_report_specs, 1, 5000, &r, &e), 0);
        sfp_soda_result_clear(&r);
    }
    sfp_ttl_cache_stats cs;
    sfp_ttl_cache_get_stats(sfp_soda_cache(s), &cs);
    assert_int_equal(cs.entries, 4);
    assert_int_equal(cs.evictions, 2);
    /* the oldest parcel was evicted: fetching it again is a live call */
    assert_int_equal(sfp_soda_parcel_fetch(s, "0100", "001", sfp_soda_report_specs, 1, 5000, &r, &e), 0);
    assert_int_equal(r.source, SFP_SODA_LIVE);
    sfp_soda_result_clear(&r);
    assert_int_equal(upstream(NULL), 7);
    sfp_soda_destroy(s);
}

static void *hung_request(void *arg)
{
    sfp_soda *s = arg;
    sfp_soda_response r;
    run_one(s, "gm2e-bten", 20000, &r);
    sfp_soda_response_clear(&r);
    return NULL;
}

/* Runs last: SIGTERM while a request hangs must stop the server promptly and cleanly. */
static void test_zz_server_stops_promptly_with_hung_request(void **st)
{
    (void)st;
    sfp_soda *s = mk((opts){.timeout_ms = 20000});
    control("mode=hang");
    pthread_t th;
    pthread_create(&th, NULL, hung_request, s);
    for (int i = 0; i < 200; i++) { /* wait until the request is inside the server */
        cJSON *j = http_json("GET", "/__stats");
        double inflight = cJSON_GetObjectItem(j, "in_flight")->valuedouble;
        cJSON_Delete(j);
        if (inflight >= 1) break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int64_t t0 = mono_ms();
    int rc = sfp_proc_stop(&g_srv, 2000);
    int64_t took = mono_ms() - t0;
    if (rc != 0) fail_msg("server exit status %d after %lld ms (log %s)", rc, (long long)took, g_srv.log_path);
    pthread_join(th, NULL); /* the client sees the connection drop, not a 20 s timeout */
    assert_true(mono_ms() - t0 < 3000);
    sfp_soda_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cache_hit_skips_http_and_expired_refetches_all_three, each_setup),
        cmocka_unit_test_setup(test_request_as_sent_and_rows, each_setup),
        cmocka_unit_test_setup(test_stale_served_when_server_fails, each_setup),
        cmocka_unit_test_setup(test_stale_served_when_breaker_open, each_setup),
        cmocka_unit_test_setup(test_empty_200_is_cached, each_setup),
        cmocka_unit_test_setup(test_breaker_open_result_not_cached_and_no_http, each_setup),
        cmocka_unit_test_setup(test_half_open_probe_limit_through_client, each_setup),
        cmocka_unit_test_setup(test_200_resets_failures, each_setup),
        cmocka_unit_test_setup(test_timeout_counts, each_setup),
        cmocka_unit_test_setup(test_503_counts_404_does_not, each_setup),
        cmocka_unit_test_setup(test_429_retry_after_extends_open, each_setup),
        cmocka_unit_test_setup(test_garbage_is_an_error_not_a_crash, each_setup),
        cmocka_unit_test_setup(test_response_size_limit, each_setup),
        cmocka_unit_test_setup(test_hang_times_out_within_deadline, each_setup),
        cmocka_unit_test_setup(test_three_queries_overlap, each_setup),
        cmocka_unit_test_setup(test_ten_concurrent_misses_one_upstream_call, each_setup),
        cmocka_unit_test_setup(test_breaker_shared_across_concurrent_requests, each_setup),
        cmocka_unit_test_setup(test_async_begin_end_overlaps, each_setup),
        cmocka_unit_test_setup(test_lru_bound_in_client, each_setup),
        cmocka_unit_test_setup(test_zz_server_stops_promptly_with_hung_request, each_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
