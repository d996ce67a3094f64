/* GET /report/{block}/{lot} end to end: gateway → sfp-report → Postgres (seeded demo data)
 * and → sfp-soda-test-server over loopback HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "promcheck.h"
#include "testhttp.h"
#include "testsupport.h"

static sfp_proc g_soda, g_report, g_gw, g_gw_limited;
static char g_env_db[1024], g_env_soda[128], g_env_report[64];

static int start_gateway(sfp_proc *p, const char *limit)
{
    const char *env[] = {"GATEWAY_ADDR=127.0.0.1:0", g_env_report, "HEALTH_SVC_ADDR=127.0.0.1:1", limit, NULL};
    return sfp_proc_start(p, "sfp-gateway", env);
}

static int setup(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("e2e_report");
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", url);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "env '%s' %s/sfp-seed --scale demo >/dev/null 2>&1", g_env_db, SFP_BIN_DIR);
    int rc = system(cmd);
    free(url);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc)) return -1;
    const char *soda_env[] = {g_env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_soda, "sfp-soda-test-server", soda_env)) return -1;
    snprintf(g_env_soda, sizeof g_env_soda, "SODA_BASE_URL=http://127.0.0.1:%d/resource", g_soda.port);
    /* Report cache off: these tests assert the query plan, so every request must reach SQL
     * (the cache has its own end-to-end test, test_report_cache_e2e.c). */
    const char *rep_env[] = {g_env_db, g_env_soda, "LISTEN_ADDR=127.0.0.1:0", "REPORT_CACHE_TTL_S=0", NULL};
    if (sfp_proc_start(&g_report, "sfp-report", rep_env)) return -1;
    snprintf(g_env_report, sizeof g_env_report, "REPORT_SVC_ADDR=127.0.0.1:%d", g_report.port);
    if (start_gateway(&g_gw, "GATEWAY_REPORT_RATE_LIMIT=0")) return -1;
    if (start_gateway(&g_gw_limited, "GATEWAY_REPORT_RATE_LIMIT=2")) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    bad |= sfp_proc_stop(&g_gw, 10000) != 0;
    bad |= sfp_proc_stop(&g_gw_limited, 10000) != 0;
    bad |= sfp_proc_stop(&g_report, 10000) != 0;
    bad |= sfp_proc_stop(&g_soda, 10000) != 0;
    return bad ? -1 : 0;
}

static void assert_error_json(const sfp_http_resp *r, long status, const char *grpc_name)
{
    assert_int_equal(r->status, status);
    cJSON *j = cJSON_Parse(r->body);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, grpc_name);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "message")));
    cJSON_Delete(j);
    char v[64];
    assert_non_null(sfp_http_header(r, "X-Response-Time", v, sizeof v));
}

static void test_report_44_permits(void **state)
{
    (void)state;
    sfp_http_resp r;
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "permits")), 44);
    assert_int_equal(cJSON_GetObjectItem(j, "total_permits")->valueint, 44);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
    cJSON *src = cJSON_GetObjectItem(j, "sources");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(src, "complaints"), "state")->valuestring, "live");
    int queries = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "debug"), "sql_queries")->valueint;
    assert_true(queries > 0 && queries <= 10);
    cJSON_Delete(j);
    char cc[128], etag[64], rt[32];
    assert_non_null(sfp_http_header(&r, "Cache-Control", cc, sizeof cc));
    int max_age = -1;
    assert_int_equal(sscanf(cc, "public, max-age=%d", &max_age), 1);
    assert_true(max_age > 0 && max_age <= 900);
    assert_non_null(sfp_http_header(&r, "ETag", etag, sizeof etag));
    assert_non_null(sfp_http_header(&r, "X-Response-Time", rt, sizeof rt));
    sfp_http_resp_free(&r);

    /* Second request: served from the SODA cache, same content → same ETag → 304. */
    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", h, NULL, 0, &r), 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    sfp_http_resp_free(&r);
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", NULL, NULL, 0, &r), 0);
    j = cJSON_Parse(r.body);
    src = cJSON_GetObjectItem(j, "sources");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(src, "complaints"), "state")->valuestring, "cached");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "debug"), "sql_queries")->valueint <= queries, 1);
    cJSON_Delete(j);
    sfp_http_resp_free(&r);
}

/* The content part of a body: everything before the last `,"sources":` (the volatile tail). */
static size_t content_len(const sfp_http_resp *r)
{
    static const char k[] = ",\"sources\":";
    for (size_t i = r->len; i >= sizeof k - 1; i--)
        if (!memcmp(r->body + i - (sizeof k - 1), k, sizeof k - 1)) return i - (sizeof k - 1);
    fail_msg("no sources tail in the body");
    return 0;
}

/* Consecutive requests (the second served from the gateway's JSON memo): same content bytes,
 * same ETag, and the ETag still revalidates with 304. */
static void test_report_memo_consistent(void **state)
{
    (void)state;
    sfp_http_resp a, b;
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", NULL, NULL, 0, &a), 0);
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", NULL, NULL, 0, &b), 0);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    size_t na = content_len(&a), nb = content_len(&b);
    assert_true(na > 10000);
    assert_int_equal(na, nb);
    assert_memory_equal(a.body, b.body, na);
    cJSON *j = cJSON_Parse(b.body); /* the memo + tail is one valid document */
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "permits")), 44);
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(j, "sources")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "generated_at")));
    cJSON_Delete(j);
    char ea[64], eb[64], cc[128];
    assert_non_null(sfp_http_header(&a, "ETag", ea, sizeof ea));
    assert_non_null(sfp_http_header(&b, "ETag", eb, sizeof eb));
    assert_string_equal(ea, eb);
    sfp_http_resp_free(&a);
    sfp_http_resp_free(&b);
    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: %s", eb);
    const char *h[] = {inm, NULL};
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", h, NULL, 0, &a), 0);
    assert_int_equal(a.status, 304);
    assert_int_equal(a.len, 0);
    assert_non_null(sfp_http_header(&a, "ETag", ea, sizeof ea));
    assert_string_equal(ea, eb);
    assert_non_null(sfp_http_header(&a, "Cache-Control", cc, sizeof cc));
    sfp_http_resp_free(&a);
}

static void test_query_count_constant(void **state)
{
    (void)state;
    int counts[2];
    const char *paths[] = {"/report/3507/004", "/report/3512/001"};
    for (int i = 0; i < 2; i++) {
        sfp_http_resp r;
        assert_int_equal(sfp_http(NULL, g_gw.port, "GET", paths[i], NULL, NULL, 0, &r), 0);
        assert_int_equal(r.status, 200);
        cJSON *j = cJSON_Parse(r.body);
        counts[i] = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "debug"), "sql_queries")->valueint;
        cJSON_Delete(j);
        sfp_http_resp_free(&r);
    }
    assert_int_equal(counts[0], counts[1]);
}

/* The error body names its ErrorInfo reason and, when given, the BadRequest field. */
static void assert_reason(const sfp_http_resp *r, const char *reason, const char *field)
{
    cJSON *j = cJSON_Parse(r->body);
    assert_non_null(j);
    cJSON *rs = cJSON_GetObjectItem(j, "reason");
    assert_true(cJSON_IsString(rs));
    assert_string_equal(rs->valuestring, reason);
    assert_string_equal(cJSON_GetObjectItem(j, "domain")->valuestring, "sfpermits.dev");
    if (field) {
        cJSON *fv = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "field_violations"), 0);
        assert_non_null(fv);
        assert_string_equal(cJSON_GetObjectItem(fv, "field")->valuestring, field);
    }
    cJSON_Delete(j);
}

static void test_bad_input_400_before_rpc(void **state)
{
    (void)state;
    const char *bad[] = {"/report/%27%3B%20DROP/001", "/report/..%2F/001", "/report/351234567/001",
                         "/report/3512/0001",         "/report/abcd/001",  "/report/3512/%00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sfp_http_resp r;
        assert_int_equal(sfp_http(NULL, g_gw.port, "GET", bad[i], NULL, NULL, 0, &r), 0);
        assert_error_json(&r, 400, "INVALID_ARGUMENT");
        assert_reason(&r, "ARGUMENT_MALFORMED", NULL);
        sfp_http_resp_free(&r);
    }
    sfp_http_resp r;
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/abcd/001", NULL, NULL, 0, &r), 0);
    assert_reason(&r, "ARGUMENT_MALFORMED", "block");
    sfp_http_resp_free(&r);
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/0001", NULL, NULL, 0, &r), 0);
    assert_reason(&r, "ARGUMENT_MALFORMED", "lot");
    sfp_http_resp_free(&r);
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001/extra", NULL, NULL, 0, &r), 0);
    assert_error_json(&r, 404, "NOT_FOUND");
    sfp_http_resp_free(&r);
    assert_int_equal(sfp_http(NULL, g_gw.port, "POST", "/report/3512/001", NULL, "", 0, &r), 0);
    assert_int_equal(r.status, 405);
    sfp_http_resp_free(&r);
}

static void test_unknown_parcel_404(void **state)
{
    (void)state;
    sfp_http_resp r;
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/9998/000", NULL, NULL, 0, &r), 0);
    assert_error_json(&r, 404, "NOT_FOUND");
    sfp_http_resp_free(&r);
}

static void test_rate_limit_429(void **state)
{
    (void)state;
    sfp_http_resp r;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sfp_http(NULL, g_gw_limited.port, "GET", "/report/9998/000", NULL, NULL, 0, &r), 0);
        assert_int_equal(r.status, 404);
        sfp_http_resp_free(&r);
    }
    assert_int_equal(sfp_http(NULL, g_gw_limited.port, "GET", "/report/3512/001", NULL, NULL, 0, &r), 0);
    assert_error_json(&r, 429, "RESOURCE_EXHAUSTED");
    assert_reason(&r, "RATE_LIMITED", NULL);
    char ra[16];
    assert_non_null(sfp_http_header(&r, "Retry-After", ra, sizeof ra));
    assert_true(atoi(ra) >= 1 && atoi(ra) <= 60);
    sfp_http_resp_free(&r);
    /* A forged X-Forwarded-For from an untrusted peer changes nothing. */
    const char *h[] = {"X-Forwarded-For: 203.0.113.9", NULL};
    assert_int_equal(sfp_http(NULL, g_gw_limited.port, "GET", "/report/3512/001", h, NULL, 0, &r), 0);
    assert_int_equal(r.status, 429);
    sfp_http_resp_free(&r);
}

/* GET /metrics of a process, checked strictly; returns the body (caller frees). */
static char *scrape(const sfp_proc *p)
{
    char err[256] = "";
    char *body = sfp_prom_scrape(sfp_proc_log_port(p, "metrics listening"), err, sizeof err);
    if (!body) fail_msg("%s: %s", p->log_path, err);
    return body;
}

static void test_metrics_move_with_traffic(void **state)
{
    (void)state;
    const char *route = "route=\"/report/{block}/{lot}\",method=\"GET\",code=\"200\"";
    char *before = scrape(&g_gw);
    double ok0 = sfp_prom_value(before, "sfp_http_requests_total", route);
    double n0 = sfp_prom_value(before, "sfp_http_request_duration_seconds_count", "route=\"/report/{block}/{lot}\"");
    free(before);
    if (isnan(ok0)) ok0 = 0;
    if (isnan(n0)) n0 = 0;
    char *rb = scrape(&g_report);
    double calls0 = sfp_prom_value(rb, "sfp_rpc_server_requests_total",
                                   "method=\"/sfpermits.v1.ReportService/GetPropertyReport\",code=\"OK\"");
    free(rb);
    if (isnan(calls0)) calls0 = 0;
    for (int i = 0; i < 2; i++) {
        sfp_http_resp r;
        assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3507/004", NULL, NULL, 0, &r), 0);
        assert_int_equal(r.status, 200);
        sfp_http_resp_free(&r);
    }
    char *after = scrape(&g_gw);
    assert_true(sfp_prom_value(after, "sfp_http_requests_total", route) == ok0 + 2);
    assert_true(sfp_prom_value(after, "sfp_http_request_duration_seconds_count", "route=\"/report/{block}/{lot}\"") >=
                n0 + 2);
    free(after);
    rb = scrape(&g_report);
    assert_true(sfp_prom_value(rb, "sfp_rpc_server_requests_total",
                               "method=\"/sfpermits.v1.ReportService/GetPropertyReport\",code=\"OK\"") == calls0 + 2);
    assert_true(sfp_prom_value(rb, "sfp_report_sql_queries_total", NULL) > 0);
    assert_true(sfp_prom_value(rb, "sfp_db_pool_acquires_total", NULL) > 0);
    assert_true(sfp_prom_value(rb, "sfp_soda_breaker_state", "state=\"closed\"") == 1);
    assert_true(sfp_prom_value(rb, "sfp_soda_cache_hits_total", NULL) >= 1);
    free(rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_44_permits),         cmocka_unit_test(test_report_memo_consistent),
        cmocka_unit_test(test_query_count_constant),      cmocka_unit_test(test_bad_input_400_before_rpc),
        cmocka_unit_test(test_unknown_parcel_404),        cmocka_unit_test(test_rate_limit_429),
        cmocka_unit_test(test_metrics_move_with_traffic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
