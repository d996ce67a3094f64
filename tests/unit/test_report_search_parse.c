/* Unit: the parcel search's query classification and address normalisation
 * (sfp_search_parse, report_search.h): block/lot shapes, permit numbers, addresses with
 * suffixes, units, city/state/zip, ordinals written any way, street-only queries, blanks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "report_search.h"

static sfp_search_query parse(const char *q)
{
    sfp_search_query s;
    assert_int_equal(sfp_search_parse(q, &s), 0);
    return s;
}

static void test_block_lot(void **state)
{
    (void)state;
    const char *forms[] = {"3512/001", " 3512 001 ", "3512-001", "3512001", "3512 / 001"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        sfp_search_query s = parse(forms[i]);
        assert_int_equal(s.kind, SFP_SEARCH_BLOCK_LOT);
        assert_string_equal(s.block, "3512");
        assert_string_equal(s.lot, "001");
        assert_string_equal(s.normalized, "3512/001");
    }
    sfp_search_query s = parse("3512a/001b");
    assert_string_equal(s.block, "3512A");
    assert_string_equal(s.lot, "001B");
}

static void test_permit(void **state)
{
    (void)state;
    sfp_search_query s = parse("202212017475");
    assert_int_equal(s.kind, SFP_SEARCH_PERMIT);
    assert_string_equal(s.permit, "202212017475");
    s = parse("e20240101");
    assert_int_equal(s.kind, SFP_SEARCH_PERMIT);
    assert_string_equal(s.permit, "E20240101");
    assert_string_equal(sfp_search_kind_name(s.kind), "permit");
}

static void test_address(void **state)
{
    (void)state;
    const char *forms[] = {"1600 Mission St",
                           "1600 MISSION STREET",
                           "1600 mission",
                           "1600 Mission St, San Francisco, CA 94103",
                           "1600 Mission St San Francisco CA 94103",
                           "1600 Mission St. Apt 4",
                           "1600 Mission #4"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        sfp_search_query s = parse(forms[i]);
        assert_int_equal(s.kind, SFP_SEARCH_ADDRESS);
        assert_string_equal(s.number, "1600");
        if (strcmp(s.street, "MISSION")) fail_msg("'%s' → street '%s'", forms[i], s.street);
        assert_string_equal(s.normalized, "1600 MISSION");
    }
    const char *eighth[] = {"1281 8th Ave", "1281 8 Avenue", "1281 08th av", "1281 Eighth Avenue"};
    for (size_t i = 0; i < sizeof eighth / sizeof eighth[0]; i++) {
        sfp_search_query s = parse(eighth[i]);
        if (strcmp(s.street, "08TH")) fail_msg("'%s' → street '%s'", eighth[i], s.street);
    }
    assert_string_equal(parse("100 1st St").street, "01ST");
    assert_string_equal(parse("100 22nd St").street, "22ND");
    assert_string_equal(parse("100 3 St").street, "03RD");
    assert_string_equal(parse("100 11 St").street, "11TH");
    assert_string_equal(parse("50 San Jose Ave").street, "SAN JOSE");
    assert_string_equal(parse("10 Golden Gate Ave").street, "GOLDEN GATE");
    assert_string_equal(parse("1 Way").street, "WAY"); /* a suffix alone is the name */
}

static void test_street_and_blank(void **state)
{
    (void)state;
    sfp_search_query s = parse("mission st");
    assert_int_equal(s.kind, SFP_SEARCH_STREET);
    assert_string_equal(s.number, "");
    assert_string_equal(s.street, "MISSION");
    s = parse("Miss");
    assert_string_equal(s.street, "MISS");
    assert_int_equal(sfp_search_parse("   ", &s), -1);
    assert_int_equal(sfp_search_parse("", &s), -1);
    assert_int_equal(sfp_search_parse(NULL, &s), -1);
    assert_int_equal(sfp_search_parse("!!!", &s), -1);
    char long_q[SFP_SEARCH_Q_MAX + 2];
    memset(long_q, 'a', sizeof long_q - 1);
    long_q[sizeof long_q - 1] = '\0';
    assert_int_equal(sfp_search_parse(long_q, &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_lot),
        cmocka_unit_test(test_permit),
        cmocka_unit_test(test_address),
        cmocka_unit_test(test_street_and_blank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
