/* Config parsing: every error names the variable; defaults apply when unset or empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db_pool.h"

static void test_parse_long(void **state)
{
    (void)state;
    sfp_err e = {0};
    long v = 0;
    assert_int_equal(sfp_parse_long("X", "42", 0, 100, &v, &e), 0);
    assert_int_equal(v, 42);
    assert_int_equal(sfp_parse_long("X", "-3", -5, 5, &v, &e), 0);
    assert_int_equal(v, -3);
    assert_int_equal(sfp_parse_long("DB_POOL_MAX", "abc", 0, 100, &v, &e), -1);
    assert_non_null(strstr(e.msg, "DB_POOL_MAX"));
    assert_int_equal(sfp_parse_long("X", "12abc", 0, 100, &v, &e), -1);
    assert_int_equal(sfp_parse_long("X", "", 0, 100, &v, &e), -1);
    assert_int_equal(sfp_parse_long("X", " 5", 0, 100, &v, &e), -1);
    assert_int_equal(sfp_parse_long("X", "101", 0, 100, &v, &e), -1);
    assert_non_null(strstr(e.msg, "out of range"));
    assert_int_equal(sfp_parse_long("X", "99999999999999999999999", 0, 100, &v, &e), -1);
}

static void test_parse_bool(void **state)
{
    (void)state;
    sfp_err e = {0};
    bool b = false;
    const char *yes[] = {"1", "true", "TRUE", "Yes", "on"};
    const char *no[] = {"0", "false", "False", "NO", "off"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(sfp_parse_bool("CRON_WORKER", yes[i], &b, &e), 0);
        assert_true(b);
        assert_int_equal(sfp_parse_bool("CRON_WORKER", no[i], &b, &e), 0);
        assert_false(b);
    }
    assert_int_equal(sfp_parse_bool("CRON_WORKER", "maybe", &b, &e), -1);
    assert_non_null(strstr(e.msg, "CRON_WORKER"));
}

static void test_parse_addr(void **state)
{
    (void)state;
    sfp_err e = {0};
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "127.0.0.1:50051", &e), 0);
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "localhost:0", &e), 0);
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "[::1]:8080", &e), 0);
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "unix:/tmp/x.sock", &e), 0);
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "unix:relative", &e), -1);
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "127.0.0.1", &e), -1);
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "127.0.0.1:99999", &e), -1);
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "bad host:80", &e), -1);
    assert_non_null(strstr(e.msg, "LISTEN_ADDR"));
}

static void test_parse_target(void **state)
{
    (void)state;
    sfp_err e = {0};
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "127.0.0.1:50051", &e), 0);
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "unix:/run/report.sock", &e), 0);
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "dns:///report.sfpermits.svc.cluster.local:50051", &e), 0);
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "dns:report:50051", &e), 0);
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "dns://127.0.0.1:5353/report.test:50051", &e), 0);
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "dns:///report", &e), -1); /* no port */
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "dns://127.0.0.1:5353", &e), -1);
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "dns://bad server/report:1", &e), -1);
    assert_int_equal(sfp_parse_target("REPORT_SVC_ADDR", "dns:///unix:/x.sock", &e), -1);
    assert_non_null(strstr(e.msg, "REPORT_SVC_ADDR"));
    /* a listen address is never a name to resolve */
    assert_int_equal(sfp_parse_addr("LISTEN_ADDR", "dns:///report:50051", &e), -1);
    /* through the table: the *_SVC_ADDR variables take targets */
    setenv("REPORT_SVC_ADDR", "dns:///report:50051", 1);
    const char *t = NULL;
    assert_int_equal(sfp_cfg_text("REPORT_SVC_ADDR", &t, &e), 0);
    assert_string_equal(t, "dns:///report:50051");
    setenv("REPORT_SVC_ADDR", "dns:///report", 1);
    assert_int_equal(sfp_cfg_text("REPORT_SVC_ADDR", &t, &e), -1);
    unsetenv("REPORT_SVC_ADDR");
}

static void test_env_defaults_and_errors(void **state)
{
    (void)state;
    sfp_err e = {0};
    int v = 0;
    unsetenv("RPC_WORKERS");
    assert_int_equal(sfp_cfg_int("RPC_WORKERS", &v, &e), 0);
    assert_int_equal(v, 8); /* the table's default */
    setenv("RPC_WORKERS", "", 1);
    assert_int_equal(sfp_cfg_int("RPC_WORKERS", &v, &e), 0);
    assert_int_equal(v, 8);
    setenv("RPC_WORKERS", "257", 1); /* the table's range is 1..256 */
    assert_int_equal(sfp_cfg_int("RPC_WORKERS", &v, &e), -1);
    assert_non_null(strstr(e.msg, "RPC_WORKERS"));
    unsetenv("RPC_WORKERS");
}

/* Every kind refuses what it cannot use, naming the variable. */
static void test_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *name, *value;
        int rc;
    } cases[] = {
        {"LOG_LEVEL", "debug", 0},
        {"LOG_LEVEL", "bogus", -1},
        {"TZ", "America/Los_Angeles", 0},
        {"TZ", "Mars/Olympus", -1},
        {"TZ", "PST8PDT", 0},
        {"TZ", "../../etc/passwd", -1},
        {"CRON_WORK_MEM", "64MB", 0},
        {"CRON_WORK_MEM", "64 MB", -1},
        {"SODA_BASE_URL", "http://x/r", 0},
        {"SODA_BASE_URL", "ftp://x", -1},
        {"METRICS_ADDR", "off", 0},
        {"REPORT_SVC_ADDR", "off", 0},
        {"GATEWAY_ADDR", "off", -1},
        {"GATEWAY_TRUSTED_PROXIES", "10.0.0.1, ::1", 0},
        {"GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8", -1},
        {"CRON_SECRET", "a\nb", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_err e = {0};
        const char *out = NULL;
        setenv(cases[i].name, cases[i].value, 1);
        int rc = sfp_cfg_text(cases[i].name, &out, &e);
        if (rc != cases[i].rc) fail_msg("%s=%s: rc %d", cases[i].name, cases[i].value, rc);
        if (rc) assert_non_null(strstr(e.msg, cases[i].name));
        unsetenv(cases[i].name);
    }
    sfp_err e = {0};
    int ms = 0;
    setenv("DB_STATEMENT_TIMEOUT", "2min", 1);
    assert_int_equal(sfp_cfg_duration_ms("DB_STATEMENT_TIMEOUT", &ms, &e), 0);
    assert_int_equal(ms, 120000);
    unsetenv("DB_STATEMENT_TIMEOUT");
}

/* Start-up: a bad value refuses with exit code 2; a required variable missing too; --help and
 * --print-config exit 0 without starting anything. */
static void test_startup_check(void **state)
{
    (void)state;
    sfp_err e = {0};
    setenv("DATABASE_URL", "postgresql://u:hunter2@h/db", 1);
    assert_int_equal(sfp_config_check(SFP_B_REPORT, &e), 0);
    setenv("LOG_LEVEL", "bogus", 1);
    assert_int_equal(sfp_config_check(SFP_B_REPORT, &e), -1);
    assert_non_null(strstr(e.msg, "LOG_LEVEL"));
    unsetenv("LOG_LEVEL");
    unsetenv("DATABASE_URL");
    assert_int_equal(sfp_config_check(SFP_B_REPORT, &e), -1);
    assert_non_null(strstr(e.msg, "DATABASE_URL"));
    assert_int_equal(sfp_config_check(SFP_B_GATEWAY, &e), 0); /* the gateway needs no database */
    char *argv[] = {"sfp-x", "--bogus", NULL};
    assert_int_equal(sfp_config_start(SFP_B_GATEWAY, "", "x", 2, argv), 2);
    char *ok[] = {"sfp-x", NULL};
    assert_int_equal(sfp_config_start(SFP_B_GATEWAY, "", "x", 1, ok), -1);
}

static void test_pool_config(void **state)
{
    (void)state;
    sfp_err e = {0};
    sfp_pool_config c;
    unsetenv("DATABASE_URL");
    assert_int_equal(sfp_pool_config_from_env(&c, "t", &e), -1);
    assert_non_null(strstr(e.msg, "DATABASE_URL"));
    setenv("DATABASE_URL", "postgresql://x@127.0.0.1:1/db", 1);
    unsetenv("DB_POOL_MIN"), unsetenv("DB_POOL_MAX"), unsetenv("DB_CONNECT_TIMEOUT");
    unsetenv("DB_STATEMENT_TIMEOUT"), unsetenv("DB_ACQUIRE_TIMEOUT");
    assert_int_equal(sfp_pool_config_from_env(&c, "t", &e), 0);
    assert_int_equal(c.min, 2);
    assert_int_equal(c.max, 20);
    assert_int_equal(c.connect_timeout_s, 10);
    assert_int_equal(c.statement_timeout_ms, 30000);
    setenv("DB_STATEMENT_TIMEOUT", "500ms", 1);
    assert_int_equal(sfp_pool_config_from_env(&c, "t", &e), 0);
    assert_int_equal(c.statement_timeout_ms, 500);
    setenv("DB_STATEMENT_TIMEOUT", "2min", 1);
    assert_int_equal(sfp_pool_config_from_env(&c, "t", &e), 0);
    assert_int_equal(c.statement_timeout_ms, 120000);
    setenv("DB_STATEMENT_TIMEOUT", "5 parsecs", 1);
    assert_int_equal(sfp_pool_config_from_env(&c, "t", &e), -1);
    assert_non_null(strstr(e.msg, "DB_STATEMENT_TIMEOUT"));
    unsetenv("DB_STATEMENT_TIMEOUT");
    setenv("DB_POOL_MIN", "30", 1);
    assert_int_equal(sfp_pool_config_from_env(&c, "t", &e), -1);
    assert_non_null(strstr(e.msg, "DB_POOL_MIN"));
    setenv("DB_POOL_MAX", "zero", 1);
    assert_int_equal(sfp_pool_config_from_env(&c, "t", &e), -1);
    assert_non_null(strstr(e.msg, "DB_POOL_MAX"));
    unsetenv("DB_POOL_MIN"), unsetenv("DB_POOL_MAX");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test(test_parse_target),
        cmocka_unit_test(test_env_defaults_and_errors),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_startup_check),
        cmocka_unit_test(test_pool_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
