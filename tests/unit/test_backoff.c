/* backoff.h: the reconnect schedule with an injected clock and random source — no sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static double g_now;
static double fake_clock(void *arg)
{
    (void)arg;
    return g_now;
}

static uint32_t g_rand;
static uint32_t fake_rand(void *arg)
{
    (void)arg;
    return g_rand;
}

static sfp_backoff mk(int min_ms, int max_ms)
{
    sfp_backoff b;
    sfp_backoff_config c = {.min_ms = min_ms, .max_ms = max_ms, .clock = fake_clock, .rnd = fake_rand};
    sfp_backoff_init(&b, &c);
    return b;
}

/* Steps double from min to the cap; the delay is drawn from [step/2, step]. */
static void test_schedule_doubles_to_cap(void **st)
{
    (void)st;
    g_now = 100.0;
    sfp_backoff b = mk(50, 2000);
    assert_int_equal(sfp_backoff_wait_ms(&b), 0); /* nothing failed yet: go */
    const int steps[] = {50, 100, 200, 400, 800, 1600, 2000, 2000, 2000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        g_rand = 0; /* lowest draw: step/2 */
        sfp_backoff lo = b;
        assert_int_equal(sfp_backoff_fail(&lo), steps[i] / 2);
        g_rand = UINT32_MAX; /* (step - step/2 + 1) divides 2^32 - 1 + 1 only by chance: use the modulus */
        int d = sfp_backoff_fail(&b);
        assert_true(d >= steps[i] / 2 && d <= steps[i]);
    }
}

static void test_jitter_covers_the_range(void **st)
{
    (void)st;
    g_now = 0;
    sfp_backoff b = mk(100, 100);
    g_rand = 0;
    assert_int_equal(sfp_backoff_fail(&b), 50);
    g_rand = 50; /* 50 % 51 = 50 → 50 + 50 */
    assert_int_equal(sfp_backoff_fail(&b), 100);
    g_rand = 25;
    assert_int_equal(sfp_backoff_fail(&b), 75);
}

static void test_wait_follows_the_clock(void **st)
{
    (void)st;
    g_now = 10.0;
    sfp_backoff b = mk(400, 400);
    g_rand = 200; /* 200 % 201 = 200 → 400 ms */
    assert_int_equal(sfp_backoff_fail(&b), 400);
    assert_int_equal(sfp_backoff_wait_ms(&b), 400);
    g_now = 10.3;
    assert_int_equal(sfp_backoff_wait_ms(&b), 100);
    g_now = 10.4;
    assert_int_equal(sfp_backoff_wait_ms(&b), 0);
    g_now = 11.0;
    assert_int_equal(sfp_backoff_wait_ms(&b), 0);
}

static void test_reset_starts_over(void **st)
{
    (void)st;
    g_now = 0;
    sfp_backoff b = mk(50, 2000);
    g_rand = 0;
    for (int i = 0; i < 6; i++) sfp_backoff_fail(&b);
    assert_int_equal(sfp_backoff_fail(&b), 1000); /* step 2000 */
    sfp_backoff_reset(&b);
    assert_int_equal(sfp_backoff_wait_ms(&b), 0);
    assert_int_equal(sfp_backoff_fail(&b), 25); /* step 50 again */
}

/* A 20 s outage at the default 50 → 800 ms makes a bounded number of attempts, and the
 * attempt after the recovery comes at most max_ms late. */
static void test_outage_attempt_count(void **st)
{
    (void)st;
    g_now = 0;
    sfp_backoff b = mk(50, 800);
    int attempts = 0;
    for (uint32_t r = 12345;;) {
        r = r * 1103515245u + 12345u;
        g_rand = r;
        attempts++;
        int d = sfp_backoff_fail(&b);
        assert_true(d >= 25 && d <= 800);
        g_now += d / 1000.0;
        if (g_now >= 20.0) break;
    }
    assert_true(attempts <= 100);
    assert_true(attempts >= 20); /* and it keeps trying */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_doubles_to_cap), cmocka_unit_test(test_jitter_covers_the_range),
        cmocka_unit_test(test_wait_follows_the_clock),  cmocka_unit_test(test_reset_starts_over),
        cmocka_unit_test(test_outage_attempt_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
