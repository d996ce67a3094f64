/* Per-client rate limiter and trusted-proxy client address resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gw_ratelimit.h"

#define S 1000000000LL

static void test_limit_then_window_resets(void **state)
{
    (void)state;
    gw_ratelimit *rl = gw_ratelimit_new(3, 60, 100);
    int ra = 0;
    for (int i = 0; i < 3; i++) assert_true(gw_ratelimit_take(rl, "1.2.3.4", 10 * S + i, &ra));
    assert_false(gw_ratelimit_take(rl, "1.2.3.4", 10 * S + 5, &ra));
    assert_int_equal(ra, 60);
    assert_false(gw_ratelimit_take(rl, "1.2.3.4", 40 * S, &ra));
    assert_int_equal(ra, 30);
    assert_true(gw_ratelimit_take(rl, "5.6.7.8", 40 * S, &ra)); /* other clients unaffected */
    assert_true(gw_ratelimit_take(rl, "1.2.3.4", 70 * S, &ra)); /* window over */
    gw_ratelimit_free(rl);
}

static void test_zero_disables(void **state)
{
    (void)state;
    gw_ratelimit *rl = gw_ratelimit_new(0, 60, 100);
    for (int i = 0; i < 1000; i++) assert_true(gw_ratelimit_take(rl, "1.2.3.4", i, NULL));
    gw_ratelimit_free(rl);
}

static void test_table_bounded_never_false_429(void **state)
{
    (void)state;
    gw_ratelimit *rl = gw_ratelimit_new(1, 60, 10);
    char ip[32];
    for (int i = 0; i < 100; i++) {
        snprintf(ip, sizeof ip, "10.0.0.%d", i);
        assert_true(gw_ratelimit_take(rl, ip, S + i, NULL)); /* each new client passes */
    }
    assert_false(gw_ratelimit_take(rl, "10.0.0.99", S + 200, NULL)); /* recent one still limited */
    gw_ratelimit_free(rl);
}

static void test_client_ip(void **state)
{
    (void)state;
    char out[64];
    gw_client_ip("9.9.9.9", "1.1.1.1", "", out, sizeof out);
    assert_string_equal(out, "9.9.9.9"); /* untrusted peer: XFF ignored */
    gw_client_ip("10.0.0.1", "1.1.1.1", "10.0.0.1", out, sizeof out);
    assert_string_equal(out, "1.1.1.1");
    gw_client_ip("10.0.0.1", "6.6.6.6, 1.1.1.1, 10.0.0.2", "10.0.0.1,10.0.0.2", out, sizeof out);
    assert_string_equal(out, "1.1.1.1"); /* rightmost untrusted; the forged 6.6.6.6 is ignored */
    gw_client_ip("10.0.0.1", " , ", "10.0.0.1", out, sizeof out);
    assert_string_equal(out, "10.0.0.1");
    gw_client_ip("10.0.0.1", NULL, "10.0.0.1", out, sizeof out);
    assert_string_equal(out, "10.0.0.1");
    gw_client_ip("10.0.0.11", "1.1.1.1", "10.0.0.1", out, sizeof out);
    assert_string_equal(out, "10.0.0.11"); /* prefix of a trusted entry is not trusted */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_then_window_resets),
        cmocka_unit_test(test_zero_disables),
        cmocka_unit_test(test_table_bounded_never_false_429),
        cmocka_unit_test(test_client_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
