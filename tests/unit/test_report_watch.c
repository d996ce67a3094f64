/* The in-process regulatory_watch copy (report_watch.h): served only while listening, dropped
 * by any notification, refused when read under an older generation, bounded in age (fake
 * clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "report_watch.h"

static double g_now = 1000;
static double fake_clock(void *arg)
{
    (void)arg;
    return g_now;
}

static const char *const CONCEPTS[] = {"permit_expiration", "enforcement"};
static const sfp_rpt_reg_watch ROWS[] = {
    {.title = "Expiration reform",
     .description = "d",
     .status = "monitoring",
     .impact_level = "high",
     .url = "https://x/1",
     .concepts = (const char **)CONCEPTS,
     .n_concepts = 2},
    {.title = "ADU rules", .description = "", .status = "passed", .impact_level = "low", .url = ""},
};

static bool get(sfp_rpt_watch *w, sfp_arena *a, sfp_rpt_reg_watch **rows, size_t *n, uint64_t *gen)
{
    return sfp_rpt_watch_get(w, a, rows, n, gen);
}

static void test_watch_copy_lifecycle(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_watch *w = sfp_rpt_watch_new(fake_clock, NULL);
    sfp_rpt_reg_watch *rows;
    size_t n;
    uint64_t gen;
    /* not listening yet: nothing is kept */
    assert_false(get(w, a, &rows, &n, &gen));
    sfp_rpt_watch_put(w, gen, ROWS, 2);
    assert_false(get(w, a, &rows, &n, &gen));

    sfp_rpt_watch_listen_event(w, SFP_LISTEN_UP, "");
    assert_false(get(w, a, &rows, &n, &gen));
    sfp_rpt_watch_put(w, gen, ROWS, 2);
    assert_true(get(w, a, &rows, &n, &gen));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].title, "Expiration reform");
    assert_true(rows[0].title != ROWS[0].title); /* a deep copy in the caller's arena */
    assert_int_equal(rows[0].n_concepts, 2);
    assert_string_equal(rows[0].concepts[1], "enforcement");
    assert_string_equal(rows[1].impact_level, "low");

    /* a change drops it; rows read before the change are refused */
    uint64_t before = gen;
    sfp_rpt_watch_listen_event(w, SFP_LISTEN_NOTIFY, "");
    assert_false(get(w, a, &rows, &n, &gen));
    sfp_rpt_watch_put(w, before, ROWS, 1);
    assert_false(get(w, a, &rows, &n, &gen));
    sfp_rpt_watch_put(w, gen, ROWS, 1);
    assert_true(get(w, a, &rows, &n, &gen));
    assert_int_equal(n, 1);

    /* too old */
    g_now += SFP_RPT_WATCH_MAX_AGE_S + 1;
    assert_false(get(w, a, &rows, &n, &gen));
    sfp_rpt_watch_put(w, gen, ROWS, 2);
    assert_true(get(w, a, &rows, &n, &gen));

    /* listener down: not served, not kept */
    sfp_rpt_watch_listen_event(w, SFP_LISTEN_DOWN, "");
    assert_false(get(w, a, &rows, &n, &gen));
    sfp_rpt_watch_put(w, gen, ROWS, 2);
    assert_false(get(w, a, &rows, &n, &gen));

    sfp_rpt_watch_stats s;
    sfp_rpt_watch_get_stats(w, &s);
    assert_int_equal(s.hits, 3);
    assert_int_equal(s.stores, 3);
    assert_int_equal(s.invalidations, 2);
    assert_false(s.listening);
    assert_false(s.held);
    sfp_rpt_watch_free(w);

    /* NULL cache: never held */
    assert_false(get(NULL, a, &rows, &n, &gen));
    sfp_rpt_watch_put(NULL, gen, ROWS, 2);
    sfp_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_copy_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
