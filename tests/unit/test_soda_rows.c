/* The SODA response parser (sfp_soda_rows_parse): one JSON array of objects, nothing after it.
 * Regressions found by the fuzz target tests/fuzz/fuzz_soda.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "soda_client.h"

static sfp_soda_rows *parse(const char *s)
{
    return sfp_soda_rows_parse(s, strlen(s));
}

static void test_rows_accepted(void **state)
{
    (void)state;
    sfp_soda_rows *r = parse(" [{\"a\":\"1\"},{\"b\":null,\"c\":[1]}]\r\n");
    assert_non_null(r);
    assert_int_equal(sfp_soda_rows_count(r), 2);
    assert_true(cJSON_IsArray(sfp_soda_rows_json(r)));
    sfp_soda_rows_unref(r);
    r = parse("[]");
    assert_non_null(r);
    assert_int_equal(sfp_soda_rows_count(r), 0);
    sfp_soda_rows_unref(r);
}

/* cJSON stops after the first value: "[...]garbage" and two concatenated pages were rows */
static void test_trailing_bytes_refused(void **state)
{
    (void)state;
    assert_null(parse("[{\"a\":\"1\"}] trailing"));
    assert_null(parse("[{\"a\":\"1\"}][{\"a\":\"2\"}]"));
    assert_null(sfp_soda_rows_parse("[]\0x", 4));
}

/* SODA answers an array of objects; an error object or an array of scalars is not a page */
static void test_non_rows_refused(void **state)
{
    (void)state;
    assert_null(parse("{\"error\":true,\"message\":\"no such column\"}"));
    assert_null(parse("[1,2]"));
    assert_null(parse("[{\"a\":\"1\"},\"x\"]"));
    assert_null(parse("[{\"a\":\"1\""));
    assert_null(parse(""));
    assert_null(sfp_soda_rows_parse(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_accepted),
        cmocka_unit_test(test_trailing_bytes_refused),
        cmocka_unit_test(test_non_rows_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
