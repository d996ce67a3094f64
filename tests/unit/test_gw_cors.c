/* Unit: CORS from the GATEWAY_CORS_ORIGINS allowlist (gw_cors.h): validation of the list,
 * exact origin matching, headers of a normal response (Vary: Origin appended), and every
 * preflight answer (204 / 403 unlisted origin / 405 method / 404 path). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "gw_cors.h"
#include "route_match.h"

#define LIST "https://app.example.org, http://localhost:3000"

static void test_validate(void **state)
{
    (void)state;
    sfp_err err = {0};
    assert_int_equal(gw_cors_validate("", &err), 0);
    assert_int_equal(gw_cors_validate(NULL, &err), 0);
    assert_int_equal(gw_cors_validate(LIST, &err), 0);
    assert_int_equal(gw_cors_validate(" https://a.b ,, ", &err), 0);
    const char *bad[] = {"*",           "app.example.org",        "https://app.example.org/",
                         "ftp://x.org", "https://x.org:99999",    "https://x.org:",
                         "https://:80", "https://a.b, http://c d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (gw_cors_validate(bad[i], &err) != -1) fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err.msg, "GATEWAY_CORS_ORIGINS"));
    }
}

static void test_allowed_and_apply(void **state)
{
    (void)state;
    assert_true(gw_cors_allowed(LIST, "http://localhost:3000"));
    assert_true(gw_cors_allowed(LIST, "https://app.example.org"));
    assert_false(gw_cors_allowed(LIST, "https://app.example.org.evil"));
    assert_false(gw_cors_allowed(LIST, "http://localhost:300"));
    assert_false(gw_cors_allowed(LIST, NULL));
    assert_false(gw_cors_allowed("", "http://localhost:3000"));

    gw_response r;
    gw_resp_init(&r);
    gw_resp_header(&r, "Vary", "Accept");
    gw_cors_apply(LIST, "http://localhost:3000", &r);
    assert_string_equal(gw_resp_get_header(&r, "Access-Control-Allow-Origin"), "http://localhost:3000");
    assert_string_equal(gw_resp_get_header(&r, "Vary"), "Accept, Origin");
    assert_non_null(strstr(gw_resp_get_header(&r, "Access-Control-Expose-Headers"), "ETag"));
    assert_null(gw_resp_get_header(&r, "Access-Control-Allow-Credentials"));
    gw_resp_free(&r);

    gw_resp_init(&r);
    gw_cors_apply(LIST, "https://evil.example", &r);
    gw_cors_apply("", "http://localhost:3000", &r);
    assert_int_equal(r.nheaders, 0);
    gw_resp_free(&r);
}

static void test_preflight(void **state)
{
    (void)state;
    gw_response r;
    gw_resp_init(&r);
    gw_cors_preflight(LIST, "https://app.example.org", "GET", GW_M_GET, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(gw_resp_get_header(&r, "Access-Control-Allow-Origin"), "https://app.example.org");
    assert_string_equal(gw_resp_get_header(&r, "Access-Control-Allow-Methods"), "GET, HEAD");
    assert_non_null(strstr(gw_resp_get_header(&r, "Access-Control-Allow-Headers"), "Authorization"));
    assert_string_equal(gw_resp_get_header(&r, "Vary"), "Origin");
    gw_resp_free(&r);

    gw_resp_init(&r);
    gw_cors_preflight(LIST, "https://evil.example", "GET", GW_M_GET, &r);
    assert_int_equal(r.status, 403);
    assert_null(gw_resp_get_header(&r, "Access-Control-Allow-Origin"));
    gw_resp_free(&r);

    gw_resp_init(&r);
    gw_cors_preflight(LIST, "https://app.example.org", "DELETE", GW_M_POST, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(gw_resp_get_header(&r, "Allow"), "POST");
    gw_resp_free(&r);

    gw_resp_init(&r);
    gw_cors_preflight(LIST, "https://app.example.org", "GET", 0, &r);
    assert_int_equal(r.status, 404);
    gw_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_allowed_and_apply),
        cmocka_unit_test(test_preflight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
