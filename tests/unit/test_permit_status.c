/* Permit status classes and the named sets (common/permit_status.h): a table per status of
 * which set holds it, and each set's SQL array holding exactly the canonical spellings of the
 * C mask's members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "permit_status.h"

/* The sets are distinct on purpose: on the validity clock (the risk rules' and the brief's
 * "active") excludes plancheck; routed (routing enrichment) excludes approved; in review is
 * filed and plancheck; the brief's card reads the routing of filed permits only; open adds
 * plancheck to the active ones; uninspected (severity) is filed and approved. */
static void test_permit_sets(void **state)
{
    (void)state;
    static const struct {
        const char *status;
        bool on_clock, routed, review, card, open, uninspected;
    } t[] = {
        {"filed", 1, 1, 1, 1, 1, 1},      {"FILED", 1, 1, 1, 1, 1, 1},      {"plancheck", 0, 1, 1, 0, 1, 0},
        {"Plan Check", 0, 1, 1, 0, 1, 0}, {"approved", 1, 0, 0, 0, 1, 1},   {"issued", 1, 1, 0, 0, 1, 0},
        {" ISSUED ", 1, 1, 0, 0, 1, 0},   {"reinstated", 1, 1, 0, 0, 1, 0}, {"complete", 0, 0, 0, 0, 0, 0},
        {"completed", 0, 0, 0, 0, 0, 0},  {"expired", 0, 0, 0, 0, 0, 0},    {"cancelled", 0, 0, 0, 0, 0, 0},
        {"withdrawn", 0, 0, 0, 0, 0, 0},  {"suspend", 0, 0, 0, 0, 0, 0},    {"", 0, 0, 0, 0, 0, 0},
        {NULL, 0, 0, 0, 0, 0, 0},         {"revoked", 0, 0, 0, 0, 0, 0},    {"disapproved", 0, 0, 0, 0, 0, 0},
        {"filedx", 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *s = t[i].status ? t[i].status : "NULL";
        if (sfp_permit_in(t[i].status, SFP_PERMITS_ON_CLOCK) != t[i].on_clock) fail_msg("on_clock('%s')", s);
        if (sfp_permit_in(t[i].status, SFP_PERMITS_ROUTED) != t[i].routed) fail_msg("routed('%s')", s);
        if (sfp_permit_in(t[i].status, SFP_PERMITS_IN_REVIEW) != t[i].review) fail_msg("in_review('%s')", s);
        if (sfp_permit_in(t[i].status, SFP_PERMITS_CARD_ROUTING) != t[i].card) fail_msg("card_routing('%s')", s);
        if (sfp_permit_in(t[i].status, SFP_PERMITS_OPEN) != t[i].open) fail_msg("open('%s')", s);
        if (sfp_permit_in(t[i].status, SFP_PERMITS_UNINSPECTED) != t[i].uninspected) fail_msg("uninspected('%s')", s);
    }
    assert_int_equal(sfp_permit_status_of("Reinstated"), SFP_PST_REINSTATED);
    assert_int_equal(sfp_permit_status_of("CANCELED"), SFP_PST_CLOSED);
    assert_int_equal(sfp_permit_status_of("suspend"), SFP_PST_OTHER);
    assert_int_equal(sfp_permit_status_of("Completed"), SFP_PST_COMPLETE);
}

/* "ARRAY['a', 'b']" → the mask of the classes named, failing on a name that is not the
 * canonical spelling of its class (SQL compares spellings, not classes). */
static unsigned sql_mask(const char *sql)
{
    assert_int_equal(strncmp(sql, "ARRAY[", 6), 0);
    unsigned mask = 0;
    const char *p = sql + 6;
    while (*p && *p != ']') {
        const char *q = strchr(p, '\'');
        assert_non_null(q);
        const char *e = strchr(q + 1, '\'');
        assert_non_null(e);
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(e - q - 1), q + 1);
        sfp_permit_status st = sfp_permit_status_of(name);
        if (st == SFP_PST_OTHER || strcmp(sfp_permit_status_name(st), name))
            fail_msg("'%s' in %s is not a canonical status", name, sql);
        if (mask & SFP_PST_BIT(st)) fail_msg("'%s' twice in %s", name, sql);
        mask |= SFP_PST_BIT(st);
        p = e + 1;
        while (*p == ',' || *p == ' ') p++;
    }
    assert_string_equal(p, "]");
    return mask;
}

static void test_sql_forms_match_the_masks(void **state)
{
    (void)state;
    assert_int_equal(sql_mask(SFP_PERMITS_ON_CLOCK_SQL), SFP_PERMITS_ON_CLOCK);
    assert_int_equal(sql_mask(SFP_PERMITS_CARD_ROUTING_SQL), SFP_PERMITS_CARD_ROUTING);
    assert_int_equal(sql_mask(SFP_PERMITS_OPEN_SQL), SFP_PERMITS_OPEN);
    /* every class with a spelling round-trips */
    for (int s = SFP_PST_FILED; s < SFP_PST_COUNT; s++) {
        const char *n = sfp_permit_status_name((sfp_permit_status)s);
        if (*n) assert_int_equal(sfp_permit_status_of(n), s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permit_sets),
        cmocka_unit_test(test_sql_forms_match_the_masks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
