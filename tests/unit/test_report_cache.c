/* services/report/report_cache: what the assembled-report cache may serve, driven through its
 * listener events directly (no database): bypassed until the listener is up and while it is
 * down; a notification between a lookup and its store drops the store; entries end at their
 * own expiry and day; degraded reports are never made entries; sources age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "clock.h"
#include "report_cache.h"

#define TODAY 20500

/* The cache's clock: whole seconds set by the test, so ages and expiries are exact. */
static double g_now = 1000;
static double fake_clock(void *arg)
{
    (void)arg;
    return g_now;
}

static void live_sources(sfp_rpt_soda_result soda[SFP_RPT_DS_N])
{
    memset(soda, 0, sizeof(sfp_rpt_soda_result) * SFP_RPT_DS_N);
    for (int d = 0; d < SFP_RPT_DS_N; d++) {
        soda[d].state = SFP_SODA_LIVE;
        soda[d].reason = "";
        soda[d].has_age = true;
        soda[d].has_ttl = true;
        soda[d].ttl_remaining_seconds = 900;
        soda[d].n_records = (size_t)d + 1;
    }
    soda[SFP_RPT_DS_TAX_ROLL].state = SFP_SODA_CACHED;
    soda[SFP_RPT_DS_TAX_ROLL].age_seconds = 100;
    soda[SFP_RPT_DS_TAX_ROLL].ttl_remaining_seconds = 800;
}

static sfp_rpt_cached *entry(void)
{
    sfp_rpt_soda_result soda[SFP_RPT_DS_N];
    live_sources(soda);
    unsigned all = SFP_RPT_DS_BIT(0) | SFP_RPT_DS_BIT(1) | SFP_RPT_DS_BIT(2);
    sfp_rpt_cached *e =
        sfp_rpt_cached_new((const uint8_t *)"\x0a\x04"
                                            "3512",
                           6, "0123456789abcdef0123456789abcdef", TODAY, soda, all, "2026-02-12T10:00:00Z", g_now);
    assert_non_null(e);
    return e;
}

static sfp_rpt_cache *mk_ttl(int ttl_s)
{
    sfp_rpt_cache_config cfg;
    sfp_rpt_cache_config_defaults(&cfg);
    cfg.ttl_s = ttl_s;
    cfg.clock = fake_clock;
    sfp_rpt_cache *c = sfp_rpt_cache_new(&cfg);
    assert_non_null(c);
    return c;
}

static sfp_rpt_cache *mk(void)
{
    return mk_ttl(300);
}

/* get → miss with an active ticket (the caller assembles). */
static void miss(sfp_rpt_cache *c, sfp_rpt_cache_ticket *t)
{
    assert_null(sfp_rpt_cache_get(c, "3512", "001", TODAY, sfp_mono_ms() + 1000, t));
    assert_true(t->active);
}

static void test_disabled_and_bypassed(void **state)
{
    (void)state;
    sfp_rpt_cache_config cfg = {.ttl_s = 0, .max_entries = 10};
    assert_null(sfp_rpt_cache_new(&cfg));
    sfp_rpt_cache_ticket t;
    assert_null(sfp_rpt_cache_get(NULL, "3512", "001", TODAY, sfp_mono_ms() + 1000, &t));
    assert_false(t.active);
    sfp_rpt_cache_store(NULL, &t, entry()); /* freed, not stored */

    sfp_rpt_cache *c = mk();
    assert_null(sfp_rpt_cache_get(c, "3512", "001", TODAY, sfp_mono_ms() + 1000, &t)); /* listener not up */
    assert_false(t.active);
    sfp_rpt_cache_store(c, &t, entry());
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_UP, "");
    miss(c, &t);
    sfp_rpt_cache_store(c, &t, entry());
    sfp_cache_val *v = sfp_rpt_cache_get(c, "3512", "001", TODAY, sfp_mono_ms() + 1000, &t);
    assert_non_null(v);
    assert_false(t.active);
    sfp_cache_val_unref(v);
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_DOWN, ""); /* changes may be missed: bypass */
    assert_null(sfp_rpt_cache_get(c, "3512", "001", TODAY, sfp_mono_ms() + 1000, &t));
    assert_false(t.active);
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_UP, ""); /* back, but what was kept is gone */
    miss(c, &t);
    sfp_rpt_cache_abandon(c, &t);
    sfp_rpt_cache_stats s;
    sfp_rpt_cache_get_stats(c, &s);
    assert_int_equal(s.stores, 1);
    assert_int_equal(s.hits, 1);
    assert_true(s.listening);
    sfp_rpt_cache_free(c);
}

/* A change notified while a report was being assembled: that report is not kept. */
static void test_notify_during_assembly_drops_the_store(void **state)
{
    (void)state;
    sfp_rpt_cache *c = mk();
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_UP, "");
    sfp_rpt_cache_ticket t;
    miss(c, &t);
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_NOTIFY, "");
    sfp_rpt_cache_store(c, &t, entry());
    miss(c, &t);
    sfp_rpt_cache_store(c, &t, entry()); /* assembled after the change: kept */
    sfp_cache_val *v = sfp_rpt_cache_get(c, "3512", "001", TODAY, sfp_mono_ms() + 1000, &t);
    assert_non_null(v);
    sfp_cache_val_unref(v);
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_NOTIFY, ""); /* and dropped on the next change */
    miss(c, &t);
    sfp_rpt_cache_abandon(c, &t);
    sfp_rpt_cache_stats s;
    sfp_rpt_cache_get_stats(c, &s);
    assert_int_equal(s.stores, 1);
    assert_int_equal(s.invalidations, 2);
    assert_int_equal(s.entries, 0);
    sfp_rpt_cache_free(c);
}

/* An entry ends at REPORT_CACHE_TTL_S, at its SODA sources' shortest TTL, whichever is first,
 * and on another day. */
static void test_entry_ends_at_expiry_and_day(void **state)
{
    (void)state;
    sfp_rpt_cache *c = mk_ttl(3600); /* longer than the sources' 800 s */
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_UP, "");
    sfp_rpt_cache_ticket t;
    miss(c, &t);
    g_now = 1000;
    sfp_rpt_cached *e = entry();
    assert_true(e->stored_at == 1000 && e->expires_at == 1800); /* the shortest source TTL: 800 s */
    sfp_rpt_cache_store(c, &t, e);
    assert_null(sfp_rpt_cache_get(c, "3512", "001", TODAY + 1, sfp_mono_ms() + 1000, &t)); /* another day */
    assert_true(t.active);
    sfp_rpt_cache_store(c, &t, entry()); /* stored at 1000 again, for today */
    g_now = 1799;                        /* one second before its SODA data would be stale: served */
    sfp_cache_val *v = sfp_rpt_cache_get(c, "3512", "001", TODAY, sfp_mono_ms() + 1000, &t);
    assert_non_null(v);
    sfp_cache_val_unref(v);
    g_now = 1800; /* at expiry: a miss */
    miss(c, &t);
    sfp_rpt_cache_abandon(c, &t);
    sfp_rpt_cache_free(c);

    c = mk_ttl(300); /* shorter than the sources' 800 s */
    sfp_rpt_cache_listen_event(c, SFP_LISTEN_UP, "");
    g_now = 1000;
    miss(c, &t);
    sfp_rpt_cache_store(c, &t, entry());
    g_now = 1299;
    v = sfp_rpt_cache_get(c, "3512", "001", TODAY, sfp_mono_ms() + 1000, &t);
    assert_non_null(v);
    sfp_cache_val_unref(v);
    g_now = 1300;
    miss(c, &t);
    sfp_rpt_cache_abandon(c, &t);
    g_now = 1000;
    sfp_rpt_cache_free(c);
}

static void test_entries_and_aged_sources(void **state)
{
    (void)state;
    sfp_rpt_soda_result soda[SFP_RPT_DS_N];
    live_sources(soda);
    unsigned cv = SFP_RPT_DS_BIT(SFP_RPT_DS_COMPLAINTS) | SFP_RPT_DS_BIT(SFP_RPT_DS_VIOLATIONS);
    soda[SFP_RPT_DS_VIOLATIONS].state = SFP_SODA_STALE; /* degraded: never an entry */
    assert_null(sfp_rpt_cached_new((const uint8_t *)"x", 1, "e", TODAY, soda, cv, "", 1000));
    live_sources(soda);
    sfp_rpt_soda_unavailable(&soda[SFP_RPT_DS_TAX_ROLL], "not_needed"); /* not needed: no bound */
    sfp_rpt_cached *e = sfp_rpt_cached_new((const uint8_t *)"x", 1, "e", TODAY, soda, cv, "2026-02-12T10:00:00Z", 1000);
    assert_non_null(e);
    assert_null(e->soda[SFP_RPT_DS_COMPLAINTS].records);
    sfp_rpt_soda_result out[SFP_RPT_DS_N];
    sfp_rpt_cached_sources(e, 1010, out); /* 10 s after it was stored */
    for (int d = SFP_RPT_DS_COMPLAINTS; d <= SFP_RPT_DS_VIOLATIONS; d++) {
        assert_int_equal(out[d].state, SFP_SODA_CACHED);
        assert_true(out[d].age_seconds == 10);
        assert_true(out[d].ttl_remaining_seconds == 890);
        assert_int_equal(out[d].upstream_requests, 0);
        assert_int_equal(out[d].n_records, (size_t)d + 1);
    }
    assert_int_equal(out[SFP_RPT_DS_TAX_ROLL].state, SFP_SODA_UNAVAILABLE);
    assert_string_equal(out[SFP_RPT_DS_TAX_ROLL].reason, "not_needed");
    sfp_rpt_cached_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disabled_and_bypassed),
        cmocka_unit_test(test_notify_during_assembly_drops_the_store),
        cmocka_unit_test(test_entry_ends_at_expiry_and_day),
        cmocka_unit_test(test_entries_and_aged_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
