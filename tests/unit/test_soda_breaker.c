/* Circuit breaker state machine (common/soda_breaker): counterparts of the reference's
 * tests/test_sprint_79_4.py breaker cases, plus half-open probe limits, the half-open max wait,
 * generation checks, Retry-After and env configuration. A fake clock: no sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"
#include "arena.h"
#include "soda_breaker.h"
#include "soda_stats_pb.h"

static double g_now = 1000.0;
static double fake_clock(void *arg)
{
    (void)arg;
    return g_now;
}

static sfp_breaker *mk(int threshold, int open_s, int probes, int max_wait)
{
    sfp_breaker_config c;
    sfp_breaker_config_defaults(&c);
    c.threshold = threshold;
    c.open_s = open_s;
    c.half_open_probes = probes;
    c.half_open_max_wait_s = max_wait;
    c.clock = fake_clock;
    g_now = 1000.0;
    return sfp_breaker_new(&c);
}

static void call(sfp_breaker *b, sfp_breaker_outcome o)
{
    sfp_breaker_ticket t;
    assert_true(sfp_breaker_allow(b, &t));
    sfp_breaker_done(b, &t, o, 0);
}

static sfp_breaker_stats stats(sfp_breaker *b)
{
    sfp_breaker_stats s;
    sfp_breaker_get_stats(b, &s);
    return s;
}

static void test_starts_closed(void **st)
{
    (void)st;
    sfp_breaker *b = mk(5, 60, 1, 30);
    sfp_breaker_stats s = stats(b);
    assert_string_equal(s.state, "closed");
    assert_int_equal(s.consecutive_failures, 0);
    assert_int_equal(s.opens, 0);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    sfp_breaker_ticket t;
    assert_true(sfp_breaker_allow(b, &t));
    assert_false(t.probe);
    sfp_breaker_done(b, &t, SFP_BREAKER_SUCCESS, 0);
    sfp_breaker_free(b);
}

static void test_opens_at_threshold(void **st)
{
    (void)st;
    sfp_breaker *b = mk(3, 60, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    assert_int_equal(stats(b).consecutive_failures, 2);
    call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_OPEN);
    sfp_breaker_ticket t;
    assert_false(sfp_breaker_allow(b, &t)); /* is_open → refused */
    sfp_breaker_stats s = stats(b);
    assert_int_equal(s.opens, 1);
    assert_int_equal(s.rejected, 1);
    assert_int_equal(s.failures, 3);
    assert_int_equal(s.transitions, 1);
    assert_true(s.seconds_until_half_open > 59.9 && s.seconds_until_half_open <= 60.0);
    sfp_breaker_free(b);
}

static void test_under_threshold_stays_closed(void **st)
{
    (void)st;
    sfp_breaker *b = mk(5, 60, 1, 30);
    for (int i = 0; i < 4; i++) call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(stats(b).consecutive_failures, 4);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    sfp_breaker_free(b);
}

static void test_default_threshold_is_5(void **st)
{
    (void)st;
    sfp_breaker_config c;
    sfp_breaker_config_defaults(&c);
    assert_int_equal(c.threshold, 5);
    assert_int_equal(c.open_s, 60);
    assert_int_equal(c.half_open_probes, 3);
    assert_int_equal(c.half_open_max_wait_s, 30);
    c.clock = fake_clock;
    sfp_breaker *b = sfp_breaker_new(&c);
    for (int i = 0; i < 4; i++) call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_OPEN);
    sfp_breaker_free(b);
}

static void test_recovers_to_half_open_after_timeout(void **st)
{
    (void)st;
    sfp_breaker *b = mk(1, 60, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    sfp_breaker_ticket t;
    g_now += 59.0; /* no elapsed time to speak of: stays open */
    assert_false(sfp_breaker_allow(b, &t));
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_OPEN);
    g_now += 2.0; /* 61 s after the failure */
    assert_true(sfp_breaker_allow(b, &t));
    assert_true(t.probe);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_HALF_OPEN);
    sfp_breaker_done(b, &t, SFP_BREAKER_SUCCESS, 0);
    sfp_breaker_free(b);
}

static void test_half_open_success_closes(void **st)
{
    (void)st;
    sfp_breaker *b = mk(2, 60, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE);
    g_now += 61;
    call(b, SFP_BREAKER_SUCCESS);
    sfp_breaker_stats s = stats(b);
    assert_string_equal(s.state, "closed");
    assert_int_equal(s.consecutive_failures, 0);
    assert_int_equal(s.transitions, 3); /* closed→open→half_open→closed */
    /* counts really reset: needs the full threshold again */
    call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    sfp_breaker_free(b);
}

static void test_half_open_failure_reopens(void **st)
{
    (void)st;
    sfp_breaker *b = mk(1, 60, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    g_now += 61;
    call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_OPEN);
    sfp_breaker_ticket t;
    assert_false(sfp_breaker_allow(b, &t));
    sfp_breaker_stats s = stats(b);
    assert_int_equal(s.opens, 2);
    assert_true(s.seconds_until_half_open > 59.9); /* timer restarted */
    sfp_breaker_free(b);
}

static void test_success_resets_count(void **st)
{
    (void)st;
    sfp_breaker *b = mk(3, 60, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_SUCCESS);
    assert_int_equal(stats(b).consecutive_failures, 0);
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED); /* not consecutive: 2 < 3 */
    /* success on closed with nothing to reset is a no-op */
    call(b, SFP_BREAKER_SUCCESS);
    call(b, SFP_BREAKER_SUCCESS);
    sfp_breaker_stats s = stats(b);
    assert_string_equal(s.state, "closed");
    assert_int_equal(s.transitions, 0);
    assert_int_equal(s.successes, 3);
    sfp_breaker_free(b);
}

static void test_ignored_does_not_count(void **st)
{
    (void)st;
    sfp_breaker *b = mk(2, 60, 1, 30);
    for (int i = 0; i < 10; i++) call(b, SFP_BREAKER_IGNORED);
    sfp_breaker_stats s = stats(b);
    assert_string_equal(s.state, "closed");
    assert_int_equal(s.consecutive_failures, 0);
    assert_int_equal(s.ignored, 10);
    /* in half_open an IGNORED outcome releases the probe permit without a state change */
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE);
    g_now += 61;
    sfp_breaker_ticket t, t2;
    assert_true(sfp_breaker_allow(b, &t));
    assert_false(sfp_breaker_allow(b, &t2)); /* one probe at a time */
    sfp_breaker_done(b, &t, SFP_BREAKER_IGNORED, 0);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_HALF_OPEN);
    assert_true(sfp_breaker_allow(b, &t2)); /* permit released */
    sfp_breaker_done(b, &t2, SFP_BREAKER_SUCCESS, 0);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    sfp_breaker_free(b);
}

static void test_half_open_probe_limit(void **st)
{
    (void)st;
    sfp_breaker *b = mk(1, 10, 3, 30);
    call(b, SFP_BREAKER_FAILURE);
    g_now += 11;
    sfp_breaker_ticket t[4];
    assert_true(sfp_breaker_allow(b, &t[0]));
    assert_true(sfp_breaker_allow(b, &t[1]));
    assert_true(sfp_breaker_allow(b, &t[2]));
    assert_false(sfp_breaker_allow(b, &t[3]));
    assert_int_equal(stats(b).probes_in_flight, 3);
    sfp_breaker_done(b, &t[0], SFP_BREAKER_SUCCESS, 0); /* first success closes */
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    /* the other probes' outcomes belong to an old generation: ignored for state */
    sfp_breaker_done(b, &t[1], SFP_BREAKER_FAILURE, 0);
    sfp_breaker_done(b, &t[2], SFP_BREAKER_FAILURE, 0);
    sfp_breaker_stats s = stats(b);
    assert_string_equal(s.state, "closed");
    assert_int_equal(s.consecutive_failures, 0);
    assert_int_equal(s.failures, 3); /* still visible in the totals */
    sfp_breaker_free(b);
}

static void test_half_open_max_wait_unsticks(void **st)
{
    (void)st;
    sfp_breaker *b = mk(1, 60, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    g_now += 61;
    sfp_breaker_ticket lost, t;
    assert_true(sfp_breaker_allow(b, &lost)); /* a probe that never reports */
    g_now += 29;
    assert_false(sfp_breaker_allow(b, &t));
    assert_string_equal(stats(b).state, "half_open");
    g_now += 1.5; /* max wait passed: back to open, visible even without traffic */
    sfp_breaker_stats s = stats(b);
    assert_string_equal(s.state, "open");
    assert_int_equal(s.opens, 2);
    assert_false(sfp_breaker_allow(b, &t));
    g_now += 61; /* the next open period ends: a fresh probe is allowed */
    assert_true(sfp_breaker_allow(b, &t));
    /* the lost probe finally reports: old generation, ignored */
    sfp_breaker_done(b, &lost, SFP_BREAKER_FAILURE, 0);
    assert_string_equal(stats(b).state, "half_open");
    sfp_breaker_done(b, &t, SFP_BREAKER_SUCCESS, 0);
    assert_string_equal(stats(b).state, "closed");
    sfp_breaker_free(b);

    /* Low traffic: nobody looks at the breaker between the lost probe and the next call, long
     * after max wait + open period. That call must be let through as a new probe. */
    b = mk(1, 60, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    g_now += 61;
    assert_true(sfp_breaker_allow(b, &lost));
    g_now += 30 + 60 + 5;
    assert_true(sfp_breaker_allow(b, &t));
    assert_true(t.probe);
    sfp_breaker_done(b, &t, SFP_BREAKER_SUCCESS, 0);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_CLOSED);
    sfp_breaker_free(b);
}

static void test_generation_drops_stale_outcomes(void **st)
{
    (void)st;
    sfp_breaker *b = mk(2, 60, 1, 30);
    sfp_breaker_ticket slow;
    assert_true(sfp_breaker_allow(b, &slow)); /* started while closed */
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE); /* opens */
    g_now += 61;
    call(b, SFP_BREAKER_SUCCESS); /* half_open → closed */
    sfp_breaker_done(b, &slow, SFP_BREAKER_FAILURE, 0);
    assert_int_equal(stats(b).consecutive_failures, 0); /* not counted against the new closed period */
    /* a success from an old generation cannot close an open breaker either */
    sfp_breaker_ticket old;
    assert_true(sfp_breaker_allow(b, &old));
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_OPEN);
    sfp_breaker_done(b, &old, SFP_BREAKER_SUCCESS, 0);
    assert_int_equal(sfp_breaker_state_now(b), SFP_BREAKER_OPEN);
    sfp_breaker_free(b);
}

static void test_retry_after_lower_bound(void **st)
{
    (void)st;
    sfp_breaker *b = mk(1, 60, 1, 30);
    sfp_breaker_ticket t;
    assert_true(sfp_breaker_allow(b, &t));
    sfp_breaker_done(b, &t, SFP_BREAKER_FAILURE, 300); /* 429 Retry-After: 300 */
    sfp_breaker_stats s = stats(b);
    assert_string_equal(s.state, "open");
    assert_true(s.seconds_until_half_open > 299.0);
    g_now += 61;
    assert_false(sfp_breaker_allow(b, &t)); /* still open: Retry-After wins over 60 s */
    g_now += 240;
    assert_true(sfp_breaker_allow(b, &t));
    sfp_breaker_done(b, &t, SFP_BREAKER_SUCCESS, 0);
    /* a shorter Retry-After never shortens the configured period; huge ones are capped (1 h) */
    assert_true(sfp_breaker_allow(b, &t));
    sfp_breaker_done(b, &t, SFP_BREAKER_FAILURE, 10 * 86400);
    s = stats(b);
    assert_true(s.seconds_until_half_open <= 3600.0 && s.seconds_until_half_open > 3599.0);
    sfp_breaker_free(b);
}

static void test_env_overrides_and_defaults(void **st)
{
    (void)st;
    sfp_err e = {0};
    sfp_breaker_config c;
    unsetenv("SODA_CB_THRESHOLD");
    unsetenv("SODA_CB_TIMEOUT");
    unsetenv("SODA_CB_HALF_OPEN_PROBES");
    unsetenv("SODA_CB_HALF_OPEN_MAX_WAIT");
    sfp_breaker_config_defaults(&c);
    assert_int_equal(sfp_breaker_config_from_env(&c, &e), 0);
    assert_int_equal(c.threshold, 5);
    assert_int_equal(c.open_s, 60);
    assert_int_equal(c.half_open_probes, 3);
    assert_int_equal(c.half_open_max_wait_s, 30);
    setenv("SODA_CB_THRESHOLD", "3", 1);
    setenv("SODA_CB_TIMEOUT", "30", 1);
    setenv("SODA_CB_HALF_OPEN_PROBES", "2", 1);
    setenv("SODA_CB_HALF_OPEN_MAX_WAIT", "10", 1);
    assert_int_equal(sfp_breaker_config_from_env(&c, &e), 0);
    assert_int_equal(c.threshold, 3);
    assert_int_equal(c.open_s, 30);
    assert_int_equal(c.half_open_probes, 2);
    assert_int_equal(c.half_open_max_wait_s, 10);
    setenv("SODA_CB_THRESHOLD", "0", 1);
    assert_int_equal(sfp_breaker_config_from_env(&c, &e), -1);
    assert_non_null(strstr(e.msg, "SODA_CB_THRESHOLD"));
    setenv("SODA_CB_THRESHOLD", "3", 1);
    setenv("SODA_CB_TIMEOUT", "soon", 1);
    assert_int_equal(sfp_breaker_config_from_env(&c, &e), -1);
    assert_non_null(strstr(e.msg, "SODA_CB_TIMEOUT"));
    unsetenv("SODA_CB_THRESHOLD");
    unsetenv("SODA_CB_TIMEOUT");
    unsetenv("SODA_CB_HALF_OPEN_PROBES");
    unsetenv("SODA_CB_HALF_OPEN_MAX_WAIT");
}

static void test_stats_pb(void **st)
{
    (void)st;
    sfp_breaker *b = mk(2, 45, 1, 30);
    call(b, SFP_BREAKER_FAILURE);
    call(b, SFP_BREAKER_FAILURE);
    sfp_breaker_ticket t;
    sfp_breaker_allow(b, &t);
    sfp_arena *a = sfp_arena_new();
    Sfpermits__V1__BreakerStats *pb = sfp_breaker_stats_pb(b, a);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__breaker_state__descriptor, pb->state), "open");
    assert_int_equal(pb->threshold, 2);
    assert_int_equal(pb->open_seconds, 45);
    assert_int_equal(pb->opens, 1);
    assert_int_equal(pb->rejected, 1);
    assert_int_equal(pb->failures, 2);
    assert_int_equal(pb->consecutive_failures, 2);
    assert_true(pb->seconds_until_half_open > 44.0);
    sfp_arena_free(a);
    sfp_breaker_free(b);
}

/* Many threads hammering one breaker: counts stay consistent (run under TSan/ASan/valgrind). */
static sfp_breaker *g_shared;
static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        sfp_breaker_ticket t;
        if (sfp_breaker_allow(g_shared, &t))
            sfp_breaker_done(g_shared, &t, (i % 7) ? SFP_BREAKER_SUCCESS : SFP_BREAKER_FAILURE, 0);
    }
    return NULL;
}

static void test_thread_safety(void **st)
{
    (void)st;
    g_shared = mk(1000, 60, 1, 30);
    pthread_t th[8];
    for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, hammer, NULL);
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    sfp_breaker_stats s = stats(g_shared);
    assert_int_equal(s.successes + s.failures + s.rejected, 8 * 2000);
    assert_string_equal(s.state, "closed");
    sfp_breaker_free(g_shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starts_closed),
        cmocka_unit_test(test_opens_at_threshold),
        cmocka_unit_test(test_under_threshold_stays_closed),
        cmocka_unit_test(test_default_threshold_is_5),
        cmocka_unit_test(test_recovers_to_half_open_after_timeout),
        cmocka_unit_test(test_half_open_success_closes),
        cmocka_unit_test(test_half_open_failure_reopens),
        cmocka_unit_test(test_success_resets_count),
        cmocka_unit_test(test_ignored_does_not_count),
        cmocka_unit_test(test_half_open_probe_limit),
        cmocka_unit_test(test_half_open_max_wait_unsticks),
        cmocka_unit_test(test_generation_drops_stale_outcomes),
        cmocka_unit_test(test_retry_after_lower_bound),
        cmocka_unit_test(test_env_overrides_and_defaults),
        cmocka_unit_test(test_stats_pb),
        cmocka_unit_test(test_thread_safety),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
