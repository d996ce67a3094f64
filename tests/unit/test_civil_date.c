/* civil_date: day numbers, ISO text and their round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "civil_date.h"

static void test_known_days(void **state)
{
    (void)state;
    assert_int_equal(sfp_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(sfp_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(sfp_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(sfp_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(sfp_days_from_civil(2026, 12, 4), 20791);
    int y, m, d;
    sfp_civil_from_days(19782, &y, &m, &d);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    sfp_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
}

static void test_round_trip(void **state)
{
    (void)state;
    /* every day from 1600 to 2400, through both directions and through text */
    for (int32_t day = sfp_days_from_civil(1600, 1, 1); day <= sfp_days_from_civil(2400, 12, 31); day++) {
        int y, m, d;
        sfp_civil_from_days(day, &y, &m, &d);
        assert_int_equal(sfp_days_from_civil(y, m, d), day);
        char iso[11];
        sfp_format_iso_day(day, iso);
        int32_t back = 0;
        assert_int_equal(sfp_parse_iso_day(iso, &back), 0);
        assert_int_equal(back, day);
    }
}

static void test_parse(void **state)
{
    (void)state;
    int32_t day = 0;
    assert_int_equal(sfp_parse_iso_day("2024-03-05T00:00:00.000", &day), 0);
    assert_int_equal(day, sfp_days_from_civil(2024, 3, 5));
    assert_int_equal(sfp_parse_iso_day("2000-02-29", &day), 0);     /* divisible by 400 */
    assert_int_equal(sfp_parse_iso_day("1900-02-29", &day), -1);    /* by 100, not 400 */
    assert_int_equal(sfp_parse_iso_day("2023-02-29", &day), -1);
    assert_int_equal(sfp_parse_iso_day("2024-04-31", &day), -1);
    assert_int_equal(sfp_parse_iso_day("2024-13-01", &day), -1);
    assert_int_equal(sfp_parse_iso_day("2024-00-10", &day), -1);
    assert_int_equal(sfp_parse_iso_day("2024-01-00", &day), -1);
    assert_int_equal(sfp_parse_iso_day("2024-1-01", &day), -1);
    assert_int_equal(sfp_parse_iso_day("2024-01-0", &day), -1);     /* short */
    assert_int_equal(sfp_parse_iso_day("2024/01/01", &day), -1);
    assert_int_equal(sfp_parse_iso_day("", &day), -1);
    assert_int_equal(sfp_parse_iso_day(NULL, &day), -1);
    char iso[11];
    sfp_format_iso_day(sfp_days_from_civil(987, 6, 5), iso);
    assert_string_equal(iso, "0987-06-05");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_days),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
