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

static void test_env_defaults_and_errors(void **state)
{
    (void)state;
    sfp_err e = {0};
    int v = 0;
    unsetenv("SFP_T_INT");
    assert_int_equal(sfp_env_int("SFP_T_INT", 7, 0, 10, &v, &e), 0);
    assert_int_equal(v, 7);
    setenv("SFP_T_INT", "", 1);
    assert_int_equal(sfp_env_int("SFP_T_INT", 7, 0, 10, &v, &e), 0);
    assert_int_equal(v, 7);
    setenv("SFP_T_INT", "11", 1);
    assert_int_equal(sfp_env_int("SFP_T_INT", 7, 0, 10, &v, &e), -1);
    assert_non_null(strstr(e.msg, "SFP_T_INT"));
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
        cmocka_unit_test(test_parse_long),  cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_parse_addr),  cmocka_unit_test(test_env_defaults_and_errors),
        cmocka_unit_test(test_pool_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
