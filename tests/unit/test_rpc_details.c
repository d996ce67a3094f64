/* test_rpc_details.c — google.rpc.Status encode/decode (common/rpc_details.c): the bytes are the
 * standard wire form (checked against hand-assembled protobuf), every standard detail
 * round-trips, limits truncate instead of overflowing, garbage is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc_details.h"
#include "sfpermits/v1/cron.pb-c.h"

static void test_wire_form_matches_protobuf(void **st)
{
    (void)st;
    sfp_rpc_details d;
    sfp_rpc_details_init(&d);
    sfp_rpc_details_set_retry_ms(&d, 2000);
    uint8_t *bin = NULL;
    size_t len = sfp_rpc_details_encode(8, "x", &d, NULL, 0, &bin);
    /* Status{code: 8, message: "x", details: [Any{type_url, value: RetryInfo{Duration{2 s}}}]} */
    static const char url[] = "type.googleapis.com/google.rpc.RetryInfo";
    uint8_t want[128];
    size_t n = 0;
    want[n++] = 0x08, want[n++] = 8;                  /* code */
    want[n++] = 0x12, want[n++] = 1, want[n++] = 'x'; /* message */
    want[n++] = 0x1a, want[n++] = (uint8_t)(2 + 40 + 2 + 4);
    want[n++] = 0x0a, want[n++] = 40;
    memcpy(want + n, url, 40), n += 40;
    want[n++] = 0x12, want[n++] = 4;
    want[n++] = 0x0a, want[n++] = 2, want[n++] = 0x08, want[n++] = 2;
    assert_int_equal(strlen(url), 40);
    assert_int_equal(len, n);
    assert_memory_equal(bin, want, n);
    free(bin);
}

static void test_round_trip_all_details(void **st)
{
    (void)st;
    sfp_rpc_details d;
    sfp_rpc_details_init(&d);
    assert_true(sfp_rpc_details_empty(&d));
    sfp_rpc_details_set_reason(&d, SFP_REASON_ARGUMENT_OUT_OF_RANGE);
    sfp_rpc_details_add_meta(&d, "max", "%d", 90);
    sfp_rpc_details_add_violation(&d, "lookback_days", "must be 1..90, got %d", 500);
    sfp_rpc_details_add_violation(&d, "concurrency", "must be 1..32");
    sfp_rpc_details_set_retry_ms(&d, 1500);
    assert_false(sfp_rpc_details_empty(&d));
    Sfpermits__V1__NightlyResult res = SFPERMITS__V1__NIGHTLY_RESULT__INIT;
    res.ok = false;
    res.status = SFPERMITS__V1__JOB_STATUS__JOB_STATUS_FAILED;
    res.error = "SODA unavailable";
    res.log_id = 42;
    const ProtobufCMessage *extra[] = {&res.base};
    uint8_t *bin = NULL;
    size_t len = sfp_rpc_details_encode(3, "bad", &d, extra, 1, &bin);

    sfp_rpc_details out;
    sfp_rpc_details_init(&out);
    int code = -1;
    assert_int_equal(sfp_rpc_details_decode(bin, len, &out, &code), 0);
    assert_int_equal(code, 3);
    assert_string_equal(out.reason, "ARGUMENT_OUT_OF_RANGE");
    assert_string_equal(out.domain, SFP_ERR_DOMAIN);
    assert_int_equal(out.nmeta, 1);
    assert_string_equal(out.meta[0].key, "max");
    assert_string_equal(out.meta[0].value, "90");
    assert_int_equal(out.nviolations, 2);
    assert_string_equal(out.violations[0].field, "lookback_days");
    assert_string_equal(out.violations[0].description, "must be 1..90, got 500");
    assert_string_equal(out.violations[1].field, "concurrency");
    assert_int_equal(out.retry_delay_ms, 1500);
    assert_int_equal(sfp_rpc_details_retry_after_s(&out), 2); /* rounded up */

    Sfpermits__V1__NightlyResult *back =
        (void *)sfp_rpc_details_find(bin, len, &sfpermits__v1__nightly_result__descriptor);
    assert_non_null(back);
    assert_string_equal(back->error, "SODA unavailable");
    assert_int_equal(back->log_id, 42);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    assert_null(sfp_rpc_details_find(bin, len, &sfpermits__v1__signals_result__descriptor));
    free(bin);
}

static void test_limits_truncate(void **st)
{
    (void)st;
    sfp_rpc_details d;
    sfp_rpc_details_init(&d);
    for (int i = 0; i < SFP_DETAILS_MAX_VIOLATIONS + 3; i++) sfp_rpc_details_add_violation(&d, "f", "%d", i);
    for (int i = 0; i < SFP_DETAILS_MAX_META + 3; i++) sfp_rpc_details_add_meta(&d, "k", "%d", i);
    assert_int_equal(d.nviolations, SFP_DETAILS_MAX_VIOLATIONS);
    assert_int_equal(d.nmeta, SFP_DETAILS_MAX_META);
    char longs[600];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    sfp_rpc_details e;
    sfp_rpc_details_init(&e);
    sfp_rpc_details_add_violation(&e, longs, "%s", longs);
    assert_int_equal(strlen(e.violations[0].field), sizeof e.violations[0].field - 1);
    assert_int_equal(strlen(e.violations[0].description), sizeof e.violations[0].description - 1);
}

static void test_garbage_and_empty(void **st)
{
    (void)st;
    sfp_rpc_details d;
    sfp_rpc_details_init(&d);
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(sfp_rpc_details_decode(junk, sizeof junk, &d, NULL), -1);
    assert_true(sfp_rpc_details_empty(&d));
    assert_int_equal(d.retry_delay_ms, -1);
    assert_int_equal(sfp_rpc_details_retry_after_s(&d), 0);
    /* a Status with no details: decodes, nothing set */
    uint8_t *bin = NULL;
    size_t len = sfp_rpc_details_encode(13, "boom", NULL, NULL, 0, &bin);
    int code = 0;
    assert_int_equal(sfp_rpc_details_decode(bin, len, &d, &code), 0);
    assert_int_equal(code, 13);
    assert_true(sfp_rpc_details_empty(&d));
    free(bin);
}

static void test_reason_names(void **st)
{
    (void)st;
    assert_string_equal(sfp_reason_name(SFP_REASON_NONE), "");
    assert_string_equal(sfp_reason_name(SFP_REASON_RATE_LIMITED), "RATE_LIMITED");
    assert_string_equal(sfp_reason_name(SFP_REASON_CRON_JOB_FAILED), "CRON_JOB_FAILED");
    assert_string_equal(sfp_reason_name((sfp_reason)999), "");
    /* every reason is UPPER_SNAKE, at most 63 characters */
    for (int r = 1; r < SFP_REASON_COUNT_; r++) {
        const char *s = sfp_reason_name((sfp_reason)r);
        assert_true(strlen(s) > 0 && strlen(s) <= 63);
        for (const char *p = s; *p; p++) assert_true((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_form_matches_protobuf),
        cmocka_unit_test(test_round_trip_all_details),
        cmocka_unit_test(test_limits_truncate),
        cmocka_unit_test(test_garbage_and_empty),
        cmocka_unit_test(test_reason_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
