/* Request hygiene helpers of the gateway (gateway/limits.h): X-Request-Id validation and
 * generation, X-Timeout-Ms, Content-Length, If-None-Match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "gw_limits.h"

static void test_request_id_valid(void **state)
{
    (void)state;
    const char *ok[] = {"a", "demo-1", "ABC.def_123-xyz", "0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) assert_true(gw_request_id_valid(ok[i]));
    char max[GW_REQUEST_ID_MAX + 2];
    memset(max, 'x', GW_REQUEST_ID_MAX);
    max[GW_REQUEST_ID_MAX] = '\0';
    assert_true(gw_request_id_valid(max)); /* exactly 128 */
    max[GW_REQUEST_ID_MAX] = 'x';
    max[GW_REQUEST_ID_MAX + 1] = '\0';
    assert_false(gw_request_id_valid(max)); /* 129 */
    const char *bad[] = {NULL,  "",       "a b",  "a\"b", "id\r\nX-Evil: 1", "caf\xc3\xa9", "a/b",
                         "a:b", "{json}", "a\tb", "%41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_false(gw_request_id_valid(bad[i]));
}

static bool is_hex32(const char *s)
{
    if (strlen(s) != 32) return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return false;
    return true;
}

static void test_request_id_generate(void **state)
{
    (void)state;
    char a[GW_REQUEST_ID_GEN_LEN + 1], b[GW_REQUEST_ID_GEN_LEN + 1];
    gw_request_id_generate(a);
    gw_request_id_generate(b);
    assert_true(is_hex32(a));
    assert_true(is_hex32(b));
    assert_string_not_equal(a, b);
    assert_true(gw_request_id_valid(a)); /* a generated id is itself a valid client id */
    /* 1000 ids, no duplicates (16 random bytes) */
    enum { N = 1000 };
    char(*ids)[GW_REQUEST_ID_GEN_LEN + 1] = malloc(N * sizeof *ids);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) gw_request_id_generate(ids[i]);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) assert_string_not_equal(ids[i], ids[j]);
    free(ids);
}

static void test_request_id_choose(void **state)
{
    (void)state;
    char out[GW_REQUEST_ID_MAX + 1];
    assert_true(gw_request_id_choose("client-abc.1", out));
    assert_string_equal(out, "client-abc.1");
    assert_false(gw_request_id_choose("bad id", out));
    assert_true(is_hex32(out));
    assert_false(gw_request_id_choose(NULL, out));
    assert_true(is_hex32(out));
    char longid[300];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    assert_false(gw_request_id_choose(longid, out));
    assert_true(is_hex32(out));
}

static void test_timeout_ms(void **state)
{
    (void)state;
    int v = 0;
    assert_int_equal(gw_parse_timeout_ms("250", 30000, &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(gw_parse_timeout_ms("1", 30000, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(gw_parse_timeout_ms("30000", 30000, &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(gw_parse_timeout_ms("60000", 30000, &v), 0); /* capped */
    assert_int_equal(v, 30000);
    assert_int_equal(gw_parse_timeout_ms("9999999999", 30000, &v), 0);
    assert_int_equal(v, 30000);
    const char *bad[] = {NULL, "", "0", "-1", "1.5", "5s", " 5", "99999999999", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(gw_parse_timeout_ms(bad[i], 30000, &v), -1);
}

static void test_content_length(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(gw_parse_content_length("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(gw_parse_content_length("65537", &v), 0);
    assert_int_equal(v, 65537);
    assert_int_equal(gw_parse_content_length("9999999999999999999", &v), 0);
    assert_int_equal(gw_parse_content_length("99999999999999999999", &v), -1);
    assert_int_equal(gw_parse_content_length("-1", &v), -1);
    assert_int_equal(gw_parse_content_length("", &v), -1);
    assert_int_equal(gw_parse_content_length("1e3", &v), -1);
}

static void test_etag(void **state)
{
    (void)state;
    const char *e = "\"0123abcd\"";
    assert_true(gw_etag_matches("\"0123abcd\"", e));
    assert_true(gw_etag_matches("W/\"0123abcd\"", e));
    assert_true(gw_etag_matches("\"x\", \"0123abcd\"", e));
    assert_true(gw_etag_matches("\"x\",W/\"0123abcd\" ", e));
    assert_true(gw_etag_matches("*", e));
    assert_false(gw_etag_matches("\"0123abc\"", e));
    assert_false(gw_etag_matches("\"0123abcde\"", e));
    assert_false(gw_etag_matches("0123abcd", e));
    assert_false(gw_etag_matches("", e));
    assert_false(gw_etag_matches(NULL, e));
    assert_false(gw_etag_matches("\"unterminated", e));
    assert_true(gw_etag_matches("\"0123abcd\"", "W/\"0123abcd\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_id_valid),  cmocka_unit_test(test_request_id_generate),
        cmocka_unit_test(test_request_id_choose), cmocka_unit_test(test_timeout_ms),
        cmocka_unit_test(test_content_length),    cmocka_unit_test(test_etag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
