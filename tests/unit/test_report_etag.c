/* test_report_etag.c — the report's etag: the 128-bit XXH3 hash of the packed content as 32
 * lower-case hex digits, big-endian (the reference values are `xxhsum -H2` of the same bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "report_assemble.h"

static const char *etag_of(const char *s, char out[SFP_RPT_ETAG_LEN + 1])
{
    memset(out, 'x', SFP_RPT_ETAG_LEN + 1);
    sfp_rpt_content_etag((const uint8_t *)s, strlen(s), out);
    return out;
}

static void test_known_values(void **state)
{
    (void)state;
    char e[SFP_RPT_ETAG_LEN + 1];
    assert_string_equal(etag_of("", e), "99aa06d3014798d86001c324468d497f");
    assert_string_equal(etag_of("abc", e), "06b05ab6733a618578af5f94892f3950");
    assert_string_equal(etag_of("sfpermits", e), "f1aaec31afa4601abfb5234d99cccc06");
    sfp_rpt_content_etag(NULL, 0, e); /* an empty report: no bytes at all */
    assert_string_equal(e, "99aa06d3014798d86001c324468d497f");
}

static void test_one_byte_changes_it(void **state)
{
    (void)state;
    char a[SFP_RPT_ETAG_LEN + 1], b[SFP_RPT_ETAG_LEN + 1];
    assert_string_not_equal(etag_of("permit 202401010001 issued", a), etag_of("permit 202401010001 issueD", b));
    assert_int_equal(strlen(a), SFP_RPT_ETAG_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), SFP_RPT_ETAG_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_one_byte_changes_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
