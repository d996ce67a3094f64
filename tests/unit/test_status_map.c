/* gRPC → HTTP mapping of the gateway (gateway/status_map.h, ARCHITECTURE.md): the full table,
 * codes outside 0..16, HTTP-only errors, Retry-After / WWW-Authenticate decisions, client-safe
 * messages, and the JSON error body (parsed back with cJSON), also as built by gw_resp_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <grpc/status.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gw_http.h"
#include "rpc.h"
#include "status_map.h"

static void test_full_table(void **state)
{
    (void)state;
    static const struct {
        int code;
        int http;
        const char *name;
    } t[] = {
        {0, 200, "OK"},
        {1, 499, "CANCELLED"},
        {2, 500, "UNKNOWN"},
        {3, 400, "INVALID_ARGUMENT"},
        {4, 504, "DEADLINE_EXCEEDED"},
        {5, 404, "NOT_FOUND"},
        {6, 409, "ALREADY_EXISTS"},
        {7, 403, "PERMISSION_DENIED"},
        {8, 429, "RESOURCE_EXHAUSTED"},
        {9, 400, "FAILED_PRECONDITION"},
        {10, 409, "ABORTED"},
        {11, 400, "OUT_OF_RANGE"},
        {12, 501, "UNIMPLEMENTED"},
        {13, 500, "INTERNAL"},
        {14, 503, "UNAVAILABLE"},
        {15, 500, "DATA_LOSS"},
        {16, 401, "UNAUTHENTICATED"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(gw_http_status_for_grpc(t[i].code), t[i].http);
        assert_string_equal(gw_grpc_code_name(t[i].code), t[i].name);
    }
    /* the enum constants agree with the numbers above */
    assert_int_equal(gw_http_status_for_grpc(GRPC_STATUS_FAILED_PRECONDITION), 400);
    assert_int_equal(gw_http_status_for_grpc(GRPC_STATUS_UNAUTHENTICATED), 401);
    /* custom codes above 16, and nonsense below 0 → 500 */
    const int odd[] = {17, 20, 99, 1000, -1};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        assert_int_equal(gw_http_status_for_grpc(odd[i]), 500);
        assert_string_equal(gw_grpc_code_name(odd[i]), "UNKNOWN");
    }
}

static void test_http_only_errors(void **state)
{
    (void)state;
    static const struct {
        int http, code;
    } t[] = {{400, 3}, {404, 5}, {405, 12}, {413, 3},  {414, 3}, {431, 3},  {401, 16}, {403, 7},  {409, 10},
             {429, 8}, {499, 1}, {501, 12}, {503, 14}, {504, 4}, {500, 13}, {418, 3},  {502, 13}, {200, 0}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) assert_int_equal(gw_grpc_code_for_http(t[i].http), t[i].code);
    assert_string_equal(gw_http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(gw_http_reason(499), "Client Closed Request");
}

static void test_header_decisions(void **state)
{
    (void)state;
    for (int s = 100; s < 600; s++) {
        assert_int_equal(gw_needs_www_authenticate(s), s == 401);
        assert_int_equal(gw_needs_retry_after(s), s == 429 || s == 503);
    }
    /* hint honoured when it is delta-seconds */
    assert_int_equal(gw_retry_after_seconds("30", 429), 30);
    assert_int_equal(gw_retry_after_seconds("0", 503), 0);
    assert_int_equal(gw_retry_after_seconds("120", 503), 120);
    /* clamped */
    assert_int_equal(gw_retry_after_seconds("999999999", 503), GW_RETRY_AFTER_MAX);
    /* defaults for missing / unusable hints */
    const char *bad[] = {NULL, "", "-5", "1.5", "soon", "12a", " 7", "12345678901", "Wed, 21 Oct 2015 07:28:00 GMT"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(gw_retry_after_seconds(bad[i], 429), GW_RETRY_AFTER_429_DEFAULT);
        assert_int_equal(gw_retry_after_seconds(bad[i], 503), GW_RETRY_AFTER_503_DEFAULT);
    }
}

static void test_client_messages(void **state)
{
    (void)state;
    /* deliberate, safe service messages pass */
    const int pass[] = {3, 5, 6, 7, 8, 9, 10, 11, 12, 16};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
        assert_string_equal(gw_client_message(pass[i], "block must be 4 digits"), "block must be 4 digits");
    /* transport / server faults never leak the backend text */
    const char *leak = "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.7:50054";
    const int hide[] = {1, 2, 4, 13, 14, 15, 17, 42};
    for (size_t i = 0; i < sizeof hide / sizeof hide[0]; i++) {
        const char *m = gw_client_message(hide[i], leak);
        assert_non_null(m);
        assert_true(*m);
        assert_null(strstr(m, "10.0.0.7"));
        assert_null(strstr(m, "connect"));
    }
    assert_string_equal(gw_client_message(14, leak), "service unavailable");
    assert_string_equal(gw_client_message(4, leak), "deadline exceeded");
    /* empty or NULL message → a fixed text */
    assert_string_equal(gw_client_message(5, ""), "not found");
    assert_string_equal(gw_client_message(16, NULL), "authentication required");
}

static cJSON *parse_body(const char *s, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(s, n);
    assert_non_null(j);
    assert_true(cJSON_IsObject(j));
    /* code, status, message; plus retry_after_s when a Retry-After header goes with it */
    assert_int_equal(cJSON_GetArraySize(j), 3 + (cJSON_GetObjectItemCaseSensitive(j, "retry_after_s") != NULL));
    return j;
}

static void check_body(const char *s, size_t n, int code, const char *name, const char *msg)
{
    cJSON *j = parse_body(s, n);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    assert_true(cJSON_IsNumber(c));
    assert_int_equal(c->valueint, code);
    assert_true(cJSON_IsString(st));
    assert_string_equal(st->valuestring, name);
    assert_true(cJSON_IsString(m));
    if (msg) assert_string_equal(m->valuestring, msg);
    cJSON_Delete(j);
}

static void test_error_body(void **state)
{
    (void)state;
    sfp_buf b;
    sfp_buf_init(&b);
    gw_error_body(&b, 5, "no such parcel");
    assert_string_equal(b.data, "{\"code\":5,\"status\":\"NOT_FOUND\",\"message\":\"no such parcel\"}");
    sfp_buf_reset(&b);
    /* escaping: quotes, backslash, control characters, UTF-8 */
    gw_error_body(&b, 3, "bad \"block\" \\ \n\t\x01 caf\xc3\xa9");
    check_body(b.data, b.len, 3, "INVALID_ARGUMENT", "bad \"block\" \\ \n\t\x01 caf\xc3\xa9");
    sfp_buf_reset(&b);
    gw_error_body(&b, 42, NULL);
    check_body(b.data, b.len, 42, "UNKNOWN", "");
    sfp_buf_reset(&b);
    /* long messages are cut at 512 bytes without splitting a UTF-8 sequence */
    char big[2000];
    for (size_t i = 0; i + 2 < sizeof big; i += 2) {
        big[i] = (char)0xc3;
        big[i + 1] = (char)0xa9;
    }
    big[sizeof big - 2] = 'x';
    big[sizeof big - 1] = '\0';
    gw_error_body(&b, 13, big);
    cJSON *j = parse_body(b.data, b.len);
    const char *m = cJSON_GetObjectItemCaseSensitive(j, "message")->valuestring;
    assert_true(strlen(m) <= 512);
    assert_true(strlen(m) >= 510);
    assert_int_equal(strlen(m) % 2, 0);
    cJSON_Delete(j);
    sfp_buf_free(&b);
}

static void test_response_builders(void **state)
{
    (void)state;
    gw_response r;
    gw_resp_init(&r);
    gw_resp_header(&r, "Cache-Control", "public, max-age=%d", 900);
    gw_resp_header(&r, "ETag", "\"abc\"");
    gw_resp_http_error(&r, 404, "no route matches this path");
    assert_int_equal(r.status, 404);
    assert_int_equal(r.grpc_code, 5);
    assert_string_equal(r.content_type, "application/json");
    check_body(r.body, r.body_len, 5, "NOT_FOUND", "no route matches this path");
    assert_null(gw_resp_get_header(&r, "Cache-Control")); /* errors are not cacheable */
    assert_null(gw_resp_get_header(&r, "ETag"));
    assert_null(gw_resp_get_header(&r, "Retry-After"));
    assert_null(gw_resp_get_header(&r, "WWW-Authenticate"));
    gw_resp_free(&r);

    const struct {
        int code;
        const char *retry;
        int http;
        const char *ra; /* expected Retry-After or NULL */
        bool www;
    } t[] = {
        {16, "", 401, NULL, true},  {8, "", 429, "10", false},  {8, "42", 429, "42", false}, {14, "", 503, "5", false},
        {14, "7", 503, "7", false}, {14, "x", 503, "5", false}, {4, "", 504, NULL, false},   {1, "", 499, NULL, false},
        {9, "", 400, NULL, false},  {10, "", 409, NULL, false}, {12, "", 501, NULL, false},  {23, "", 500, NULL, false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sfp_rpc_status st;
        memset(&st, 0, sizeof st);
        st.code = (grpc_status_code)t[i].code;
        snprintf(st.message, sizeof st.message, "ipv4:10.1.2.3:50051 said no");
        snprintf(st.retry_after, sizeof st.retry_after, "%s", t[i].retry);
        gw_resp_init(&r);
        gw_resp_rpc_error(&r, &st);
        assert_int_equal(r.status, t[i].http);
        assert_int_equal(r.grpc_code, t[i].code);
        const char *ra = gw_resp_get_header(&r, "Retry-After");
        if (t[i].ra) {
            assert_non_null(ra);
            assert_string_equal(ra, t[i].ra);
        } else {
            assert_null(ra);
        }
        const char *www = gw_resp_get_header(&r, "www-authenticate"); /* case-insensitive lookup */
        if (t[i].www) assert_string_equal(www, "Bearer");
        else assert_null(www);
        check_body(r.body, r.body_len, t[i].code, gw_grpc_code_name(t[i].code), NULL);
        cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
        cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "retry_after_s");
        if (t[i].ra) assert_int_equal(rs->valueint, atoi(t[i].ra)); /* body and header agree */
        else assert_null(rs);
        cJSON_Delete(j);
        gw_resp_free(&r);
    }

    /* rich details: ErrorInfo, BadRequest, RetryInfo rendered; RetryInfo → Retry-After on any status */
    {
        sfp_rpc_status st;
        memset(&st, 0, sizeof st);
        st.code = GRPC_STATUS_ABORTED;
        snprintf(st.message, sizeof st.message, "busy");
        sfp_rpc_details_init(&st.details);
        sfp_rpc_details_set_reason(&st.details, SFP_REASON_CRON_JOB_FAILED);
        sfp_rpc_details_add_meta(&st.details, "job_type", "nightly");
        sfp_rpc_details_add_violation(&st.details, "lookback_days", "must be \"1..90\"");
        sfp_rpc_details_set_retry_ms(&st.details, 2500);
        snprintf(st.retry_after, sizeof st.retry_after, "%d", sfp_rpc_details_retry_after_s(&st.details));
        gw_resp_init(&r);
        gw_resp_rpc_error_result(&r, &st, "{\"ok\":false}");
        assert_int_equal(r.status, 409);
        assert_string_equal(gw_resp_get_header(&r, "Retry-After"), "3");
        assert_string_equal(r.body, "{\"code\":10,\"status\":\"ABORTED\",\"message\":\"busy\","
                                    "\"reason\":\"CRON_JOB_FAILED\",\"domain\":\"sfpermits.dev\","
                                    "\"metadata\":{\"job_type\":\"nightly\"},"
                                    "\"field_violations\":[{\"field\":\"lookback_days\","
                                    "\"description\":\"must be \\\"1..90\\\"\"}],"
                                    "\"retry_after_s\":3,\"result\":{\"ok\":false}}");
        gw_resp_free(&r);
    }

    /* header table: replace, remove, CR/LF neutralised, overflow refused */
    gw_resp_init(&r);
    assert_int_equal(gw_resp_header(&r, "X-A", "1"), 0);
    assert_int_equal(gw_resp_header(&r, "x-a", "2"), 0);
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(gw_resp_get_header(&r, "X-A"), "2");
    assert_int_equal(gw_resp_header(&r, "X-B", "a\r\nSet-Cookie: x"), 0);
    assert_null(strchr(gw_resp_get_header(&r, "X-B"), '\n'));
    gw_resp_remove_header(&r, "X-A");
    assert_null(gw_resp_get_header(&r, "X-A"));
    assert_string_equal(gw_resp_get_header(&r, "X-B"), "a  Set-Cookie: x");
    char longv[400];
    memset(longv, 'v', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_int_equal(gw_resp_header(&r, "X-Long", "%s", longv), -1);
    static const char *const names[] = {"H0", "H1", "H2", "H3",  "H4",  "H5", "H6",
                                        "H7", "H8", "H9", "H10", "H11", "H12"};
    int fails = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) fails += gw_resp_header(&r, names[i], "x") != 0;
    assert_int_equal(r.nheaders, GW_MAX_RESP_HEADERS);
    assert_int_equal(fails, 2); /* X-B + 11 fit */
    /* static body is not freed; owned body is */
    static const char sb[] = "{}";
    gw_resp_set_static(&r, 200, NULL, sb, 2);
    char *owned = strdup("{\"a\":1}");
    gw_resp_set_body(&r, 201, "application/json", owned, strlen(owned));
    assert_null(r.static_body);
    assert_ptr_equal(r.body, owned);
    gw_resp_free(&r);
    assert_null(r.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_table),       cmocka_unit_test(test_http_only_errors),
        cmocka_unit_test(test_header_decisions), cmocka_unit_test(test_client_messages),
        cmocka_unit_test(test_error_body),       cmocka_unit_test(test_response_builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
