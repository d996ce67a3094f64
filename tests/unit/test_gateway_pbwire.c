/* gateway/gw_pbwire.c: the top-level wire scan GET /report uses for its ETag and for unpacking
 * only the volatile fields (16–18) of a PropertyReport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"
#include "gw_pbwire.h"
#include "report_sample.h"
#include "sfpermits/v1/report.pb-c.h"

/* The old ETag input: the report packed with sources/debug/generated_at cleared. */
static uint64_t cleared_hash(Sfpermits__V1__PropertyReport *r, size_t *len)
{
    uint8_t *b = sfp_test_pack_content(r, len);
    uint64_t h = gw_fnv1a64(GW_FNV1A64_INIT, b, *len);
    free(b);
    return h;
}

static void test_split_report(void **state)
{
    (void)state;
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    size_t n;
    uint8_t *w = sfp_test_pack(&s.r.base, &n);
    gw_pbwire_split sp;
    assert_int_equal(gw_pbwire_split_fields(w, n, 16, 18, &sp), 0);
    size_t clen;
    assert_true(sp.hash == cleared_hash(&s.r, &clen));
    assert_int_equal(sp.content_len, clen);
    assert_int_equal(sp.nspans, 3); /* sources, debug, generated_at, in that order, at the end */
    assert_int_equal(sp.content_len + sp.spans_len, n);
    assert_int_equal(sp.spans[0].off, clen);
    assert_int_equal(w[sp.spans[0].off], 0x82); /* key 16 << 3 | 2 = 130 = varint 0x82 0x01 */
    assert_int_equal(w[sp.spans[0].off + 1], 0x01);
    assert_int_equal(w[sp.spans[1].off], 0x8a); /* 17 << 3 | 2 = 138 */
    assert_int_equal(w[sp.spans[2].off], 0x92); /* 18 << 3 | 2 = 146 */
    assert_int_equal(sp.spans[2].off + sp.spans[2].len, n);
    /* the spans alone unpack to exactly the volatile fields */
    uint8_t *t = malloc(sp.spans_len);
    size_t off = 0;
    for (size_t i = 0; i < sp.nspans; i++) {
        memcpy(t + off, w + sp.spans[i].off, sp.spans[i].len);
        off += sp.spans[i].len;
    }
    Sfpermits__V1__PropertyReport *u = (Sfpermits__V1__PropertyReport *)protobuf_c_message_unpack(
        &sfpermits__v1__property_report__descriptor, NULL, off, t);
    assert_non_null(u);
    assert_string_equal(u->block, "");
    assert_int_equal(u->n_permits, 0);
    assert_null(u->links);
    assert_int_equal(u->sources->max_age_seconds, 600);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__source_state__descriptor, u->sources->complaints->state),
                        "live");
    assert_int_equal(u->debug->sql_queries, 10);
    assert_string_equal(u->generated_at, "2026-01-08T10:00:00.000Z");
    protobuf_c_message_free_unpacked(&u->base, NULL);
    free(t);
    free(w);

    /* the volatile fields do not move the hash; content does */
    uint64_t h0 = sp.hash;
    s.r.generated_at = "2026-01-09T00:00:00.000Z";
    s.dbg.sql_queries = 1;
    s.src.max_age_seconds = 5;
    w = sfp_test_pack(&s.r.base, &n);
    assert_int_equal(gw_pbwire_split_fields(w, n, 16, 18, &sp), 0);
    assert_true(sp.hash == h0);
    free(w);
    s.c.name = "Ann Builder Jr";
    w = sfp_test_pack(&s.r.base, &n);
    assert_int_equal(gw_pbwire_split_fields(w, n, 16, 18, &sp), 0);
    assert_true(sp.hash != h0);
    assert_true(sp.hash == cleared_hash(&s.r, &clen));
    free(w);

    /* no volatile fields at all; an empty message */
    s.r.sources = NULL;
    s.r.debug = NULL;
    s.r.generated_at = "";
    w = sfp_test_pack(&s.r.base, &n);
    assert_int_equal(gw_pbwire_split_fields(w, n, 16, 18, &sp), 0);
    assert_int_equal(sp.nspans, 0);
    assert_int_equal(sp.content_len, n);
    free(w);
    assert_int_equal(gw_pbwire_split_fields((const uint8_t *)"", 0, 16, 18, &sp), 0);
    assert_true(sp.hash == GW_FNV1A64_INIT);
    assert_int_equal(sp.nspans + sp.content_len, 0);
}

static void test_wire_types(void **state)
{
    (void)state;
    /* field 1 varint 300 (multi-byte), field 2 fixed64, field 16 fixed32, field 3 len 2 */
    const uint8_t m[] = {0x08, 0xac, 0x02, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x85, 0x01, 9, 9, 9, 9, 0x1a, 2, 'h', 'i'};
    gw_pbwire_split sp;
    assert_int_equal(gw_pbwire_split_fields(m, sizeof m, 16, 18, &sp), 0);
    assert_int_equal(sp.nspans, 1);
    assert_int_equal(sp.spans[0].off, 12);
    assert_int_equal(sp.spans[0].len, 6);
    assert_int_equal(sp.content_len, sizeof m - 6);
    uint64_t h = gw_fnv1a64(GW_FNV1A64_INIT, m, 12);
    h = gw_fnv1a64(h, m + 18, 4);
    assert_true(sp.hash == h);
    /* a 10-byte varint value is fine */
    const uint8_t big[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(gw_pbwire_split_fields(big, sizeof big, 16, 18, &sp), 0);
}

static void test_malformed(void **state)
{
    (void)state;
    gw_pbwire_split sp;
    static const struct {
        const char *what;
        uint8_t b[16];
        size_t n;
    } bad[] = {
        {"truncated key varint", {0x82}, 1},
        {"truncated value varint", {0x08, 0x80, 0x80}, 3},
        {"over-long varint (11 bytes)", {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 12},
        {"varint over 64 bits", {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 11},
        {"length past end", {0x1a, 0x05, 'a', 'b'}, 4},
        {"huge length", {0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 11},
        {"truncated length", {0x1a}, 1},
        {"fixed64 past end", {0x11, 1, 2, 3}, 4},
        {"fixed32 past end", {0x15, 1, 2}, 3},
        {"wire type 3 (start group)", {0x0b, 0x0c}, 2},
        {"wire type 4 (end group)", {0x0c}, 1},
        {"wire type 6", {0x0e, 0}, 2},
        {"wire type 7", {0x0f, 0}, 2},
        {"field number 0", {0x02, 0x00}, 2},
        {"good field then garbage", {0x08, 0x01, 0x1a, 0x03, 'x'}, 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = gw_pbwire_split_fields(bad[i].b, bad[i].n, 16, 18, &sp);
        if (rc != -1) fail_msg("%s: %d", bad[i].what, rc);
    }
}

static void test_too_many_spans(void **state)
{
    (void)state;
    /* field 18 (a string) repeated more often than GW_PBWIRE_MAX_SPANS: legal, but the scan
     * gives up with -2 so the caller unpacks the whole message instead */
    uint8_t m[3 * (GW_PBWIRE_MAX_SPANS + 1)];
    for (size_t i = 0; i < GW_PBWIRE_MAX_SPANS + 1; i++) {
        m[3 * i] = 0x92;
        m[3 * i + 1] = 0x01;
        m[3 * i + 2] = 0x00;
    }
    gw_pbwire_split sp;
    assert_int_equal(gw_pbwire_split_fields(m, sizeof m - 3, 16, 18, &sp), 0);
    assert_int_equal(sp.nspans, GW_PBWIRE_MAX_SPANS);
    assert_int_equal(gw_pbwire_split_fields(m, sizeof m, 16, 18, &sp), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_report),
        cmocka_unit_test(test_wire_types),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_too_many_spans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
