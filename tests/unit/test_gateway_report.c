/* The gateway's GET /report reply handling (gateway/handlers_report.c): the packed report as
 * received is scanned for the content ETag and the volatile fields (sources, debug,
 * generated_at); the body — from the memo (content JSON keyed by parcel + content hash, plus a
 * freshly encoded tail) or from a full unpack — is always exactly the generic encoder's output
 * for the whole report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_pbwire.h"
#include "handlers.h"
#include "pbjson.h"
#include "report_sample.h"
#include "rpc.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"

/* The ETag as the gateway always defined it: FNV-1a 64 of the report packed with
 * sources/debug/generated_at cleared. */
static void old_etag(const Sfpermits__V1__PropertyReport *r, char *out, size_t n)
{
    size_t len;
    uint8_t *b = sfp_test_pack_content(r, &len);
    snprintf(out, n, "\"%016llx\"", (unsigned long long)gw_fnv1a64(GW_FNV1A64_INIT, b, len));
    free(b);
}

/* wire → parse → body, compared with sfp_pbjson_encode of `expect` (the report as the
 * gateway would unpack it); the ETag with the old definition. */
static void check_wire(const uint8_t *w, size_t n, const Sfpermits__V1__PropertyReport *expect, bool want_hit,
                       bool want_scanned)
{
    gw_report_reply r;
    sfp_rpc_status st;
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_report_reply_parse(&r, w, n, &st), 0);
    assert_true((r.tail != NULL) == want_scanned);
    char etag[40];
    old_etag(expect, etag, sizeof etag);
    assert_string_equal(r.etag, etag);
    int ma = expect->sources ? expect->sources->max_age_seconds : 0;
    assert_int_equal(r.max_age, ma < 0 ? 0 : ma > 900 ? 900 : ma);
    size_t n1 = 0, n2 = 0;
    bool hit = !want_hit;
    char *a = gw_report_reply_json(&r, expect->block, expect->lot, &n1, &hit, &st);
    assert_non_null(a);
    char *b = sfp_pbjson_encode(&expect->base, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_int_equal(a[n1], '\0');
    assert_true(hit == want_hit);
    assert_true((r.full != NULL) == !want_hit); /* a hit never unpacks the whole report */
    gw_report_reply_free(&r);
    free(a);
    free(b);
}

static void check_same_as_encoder(const Sfpermits__V1__PropertyReport *m, bool want_hit)
{
    size_t n;
    uint8_t *w = sfp_test_pack(&m->base, &n);
    check_wire(w, n, m, want_hit, true);
    free(w);
}

static void test_memo_same_bytes(void **state)
{
    (void)state;
    gw_report_memo_clear();
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    {
        size_t n;
        char *j = sfp_pbjson_encode(&s.r.base, &n);
        assert_non_null(strstr(j, "\"complaint_number\":\"C1\",\"sources\":")); /* the look-alike is real */
        free(j);
    }
    check_same_as_encoder(&s.r, false); /* first: full unpack + encoding, memoised */
    s.st.state = SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_CACHED;
    s.src.max_age_seconds = 1200; /* capped at 900 */
    s.dbg.sql_queries = 1;
    s.dbg.elapsed_ms = 0.25;
    s.r.generated_at = "2026-01-08T10:00:05.000Z";
    check_same_as_encoder(&s.r, true); /* hit: content from the memo + this request's tail */
    /* volatile fields absent: null sub-messages in the tail, still a hit */
    s.r.sources = NULL;
    s.r.debug = NULL;
    s.r.generated_at = "";
    check_same_as_encoder(&s.r, true);
    s.r.sources = &s.src;
    s.r.debug = &s.dbg;
    /* changed content → new etag → miss, then hit */
    s.c.name = "Ann Builder Jr";
    check_same_as_encoder(&s.r, false);
    check_same_as_encoder(&s.r, true);
    /* another parcel never gets this one's entry */
    s.r.lot = "002";
    check_same_as_encoder(&s.r, false);
    check_same_as_encoder(&s.r, true);
    /* the brief's memo is a separate instance */
    gw_brief_memo_clear();
    check_same_as_encoder(&s.r, true);
    gw_report_memo_clear();
    check_same_as_encoder(&s.r, false);
    gw_report_memo_clear();
}

static void test_memo_bounded_lru(void **state)
{
    (void)state;
    gw_report_memo_clear();
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    for (int i = 0; i < 100; i++) { /* more contents than entries */
        s.r.total_permits = i;
        check_same_as_encoder(&s.r, false);
    }
    s.r.total_permits = 99; /* recent: still there */
    check_same_as_encoder(&s.r, true);
    s.r.total_permits = 0; /* oldest: evicted */
    check_same_as_encoder(&s.r, false);
    gw_report_memo_clear();
}

/* A reply the scan gives up on (field 18 repeated past GW_PBWIRE_MAX_SPANS — legal protobuf,
 * last one wins) is unpacked whole: same ETag and bytes, no memo. */
static void test_fallback_full_unpack(void **state)
{
    (void)state;
    gw_report_memo_clear();
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    s.r.generated_at = "";
    size_t n;
    uint8_t *w0 = sfp_test_pack(&s.r.base, &n);
    size_t extra = (GW_PBWIRE_MAX_SPANS + 1) * 4;
    uint8_t *w = malloc(n + extra);
    memcpy(w, w0, n);
    for (size_t i = 0; i < GW_PBWIRE_MAX_SPANS + 1; i++) {
        uint8_t *f = w + n + 4 * i;
        f[0] = 0x92, f[1] = 0x01, f[2] = 0x01, f[3] = (uint8_t)('a' + i % 26); /* generated_at = "x" */
    }
    s.r.generated_at = "q"; /* the last one: 'a' + 16 */
    check_wire(w, n + extra, &s.r, false, false);
    check_wire(w, n + extra, &s.r, false, false); /* never memoised */
    free(w);
    free(w0);
    gw_report_memo_clear();
}

static void test_undecodable(void **state)
{
    (void)state;
    gw_report_memo_clear();
    gw_report_reply r;
    sfp_rpc_status st;
    /* malformed at the top level: scan and full unpack both fail */
    const uint8_t bad[] = {0x0a, 0x05, '3', '5'};
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_report_reply_parse(&r, bad, sizeof bad, &st), -1);
    assert_int_equal(st.code, GRPC_STATUS_INTERNAL);
    assert_string_equal(st.message, "response could not be decoded");
    /* the volatile fields do not decode: scan ok, their unpack fails, so does the full one */
    const uint8_t bad_tail[] = {0x0a, 0x01, '3', 0x82, 0x01, 0x02, 0x0a, 0x05};
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_report_reply_parse(&r, bad_tail, sizeof bad_tail, &st), -1);
    assert_int_equal(st.code, GRPC_STATUS_INTERNAL);
    /* the content does not decode: parse fine, the body (a memo miss) fails */
    const uint8_t bad_content[] = {0x0a, 0x01, '3', 0x32, 0x02, 0x0a, 0x05, 0x92, 0x01, 0x01, 'x'};
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_report_reply_parse(&r, bad_content, sizeof bad_content, &st), 0);
    size_t len = 0;
    bool hit = true;
    assert_null(gw_report_reply_json(&r, "3512", "001", &len, &hit, &st));
    assert_false(hit);
    assert_int_equal(st.code, GRPC_STATUS_INTERNAL);
    gw_report_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_same_bytes),
        cmocka_unit_test(test_memo_bounded_lru),
        cmocka_unit_test(test_fallback_full_unpack),
        cmocka_unit_test(test_undecodable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
