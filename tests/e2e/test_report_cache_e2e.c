/* sfp-report's assembled-report cache end to end: gateway → sfp-report (cache on, as
 * deployed) → Postgres + sfp-soda-test-server. A repeat is answered without SQL or SODA; a
 * write to the permits table from another connection reaches the running service through
 * NOTIFY sfp_data_changed (migration 0007) and the next report shows it. */
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
#include <unistd.h>

#include "promcheck.h"
#include "testhttp.h"
#include "testsupport.h"

static sfp_proc g_soda, g_report, g_gw;
static char g_env_db[1024], g_env_soda[128], g_env_report[64];
static char *g_url;

static double report_metric(const char *name)
{
    char err[256] = "";
    char *body = sfp_prom_scrape(sfp_proc_log_port(&g_report, "metrics listening"), err, sizeof err);
    if (!body) fail_msg("%s: %s", g_report.log_path, err);
    double v = sfp_prom_value(body, name, NULL);
    free(body);
    return v;
}

static int setup(void **state)
{
    (void)state;
    g_url = sfp_test_migrated_db("e2e_report_cache");
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", g_url);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "env '%s' %s/sfp-seed --scale demo >/dev/null 2>&1", g_env_db, SFP_BIN_DIR);
    int rc = system(cmd);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc)) return -1;
    const char *soda_env[] = {g_env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_soda, "sfp-soda-test-server", soda_env)) return -1;
    snprintf(g_env_soda, sizeof g_env_soda, "SODA_BASE_URL=http://127.0.0.1:%d/resource", g_soda.port);
    const char *rep_env[] = {g_env_db, g_env_soda, "LISTEN_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_report, "sfp-report", rep_env)) return -1;
    snprintf(g_env_report, sizeof g_env_report, "REPORT_SVC_ADDR=127.0.0.1:%d", g_report.port);
    const char *gw_env[] = {"GATEWAY_ADDR=127.0.0.1:0", g_env_report, "HEALTH_SVC_ADDR=127.0.0.1:1",
                            "GATEWAY_REPORT_RATE_LIMIT=0", NULL};
    return sfp_proc_start(&g_gw, "sfp-gateway", gw_env);
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    bad |= sfp_proc_stop(&g_gw, 10000) != 0;
    bad |= sfp_proc_stop(&g_report, 10000) != 0;
    bad |= sfp_proc_stop(&g_soda, 10000) != 0;
    free(g_url);
    return bad ? -1 : 0;
}

typedef struct got {
    bool hit;
    int sql_queries, soda_requests;
    char description[128]; /* of the newest permit */
    char permit[32];
    char etag[64];
} got;

static void get_report(got *g)
{
    sfp_http_resp r;
    assert_int_equal(sfp_http(NULL, g_gw.port, "GET", "/report/3512/001", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    cJSON *dbg = cJSON_GetObjectItem(j, "debug");
    g->hit = cJSON_IsTrue(cJSON_GetObjectItem(dbg, "report_cache_hit"));
    g->sql_queries = cJSON_GetObjectItem(dbg, "sql_queries")->valueint;
    g->soda_requests = cJSON_GetObjectItem(dbg, "soda_requests")->valueint;
    cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "permits"), 0);
    snprintf(g->description, sizeof g->description, "%s", cJSON_GetObjectItem(p0, "description")->valuestring);
    snprintf(g->permit, sizeof g->permit, "%s", cJSON_GetObjectItem(p0, "permit_number")->valuestring);
    cJSON_Delete(j);
    assert_non_null(sfp_http_header(&r, "ETag", g->etag, sizeof g->etag));
    sfp_http_resp_free(&r);
}

static void test_repeat_is_a_hit_and_a_write_invalidates(void **state)
{
    (void)state;
    for (int i = 0; i < 250 && report_metric("sfp_report_cache_listening") != 1; i++) usleep(20000);
    assert_true(report_metric("sfp_report_cache_listening") == 1);

    got a, b, c;
    get_report(&a);
    assert_false(a.hit);
    assert_true(a.sql_queries >= 2);
    get_report(&b);
    assert_true(b.hit);
    assert_int_equal(b.sql_queries, 0);
    assert_int_equal(b.soda_requests, 0);
    assert_string_equal(b.etag, a.etag); /* same content, same validator */
    assert_true(report_metric("sfp_report_cache_hits_total") >= 1);

    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE permits SET description = 'changed by e2e' WHERE permit_number = '%s'", a.permit);
    assert_int_equal(sfp_test_sql(g_url, sql), 0);
    for (int i = 0; i < 250; i++) { /* the notification travels asynchronously */
        get_report(&c);
        if (!strcmp(c.description, "changed by e2e")) break;
        usleep(20000);
    }
    assert_string_equal(c.description, "changed by e2e");
    assert_string_not_equal(c.etag, a.etag);
    assert_true(report_metric("sfp_report_cache_invalidations_total") >= 1);
    get_report(&c);
    assert_true(c.hit);
    assert_string_equal(c.description, "changed by e2e");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeat_is_a_hit_and_a_write_invalidates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
