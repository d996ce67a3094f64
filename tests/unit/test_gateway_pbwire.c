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

#include "gw_pbwire.h"
#include "sfpermits/v1/report.pb-c.h"

static uint8_t *pack(const ProtobufCMessage *m, size_t *n)
{
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*n ? *n : 1);
    assert_non_null(b);
    protobuf_c_message_pack(m, b);
    return b;
}

/* A report with content and volatile fields, including a permit with a contact. */
typedef struct sample {
    Sfpermits__V1__PropertyReport r;
    Sfpermits__V1__ReportPermit p;
    Sfpermits__V1__ReportPermit *pp;
    Sfpermits__V1__PermitContact c;
    Sfpermits__V1__PermitContact *cp;
    Sfpermits__V1__ReportSources src;
    Sfpermits__V1__SourceStatus st;
    Sfpermits__V1__ReportDebug dbg;
    Sfpermits__V1__ReportLinks links;
    char *lots[2];
} sample;

static void sample_init(sample *s)
{
    Sfpermits__V1__PropertyReport r = SFPERMITS__V1__PROPERTY_REPORT__INIT;
    Sfpermits__V1__ReportPermit p = SFPERMITS__V1__REPORT_PERMIT__INIT;
    Sfpermits__V1__PermitContact c = SFPERMITS__V1__PERMIT_CONTACT__INIT;
    Sfpermits__V1__ReportSources src = SFPERMITS__V1__REPORT_SOURCES__INIT;
    Sfpermits__V1__SourceStatus st = SFPERMITS__V1__SOURCE_STATUS__INIT;
    Sfpermits__V1__ReportDebug dbg = SFPERMITS__V1__REPORT_DEBUG__INIT;
    Sfpermits__V1__ReportLinks links = SFPERMITS__V1__REPORT_LINKS__INIT;
    s->r = r;
    s->p = p;
    s->c = c;
    s->src = src;
    s->st = st;
    s->dbg = dbg;
    s->links = links;
    s->c.role = "contractor";
    s->c.name = "Ann Builder";
    s->c.has_entity_id = true;
    s->c.entity_id = 1234567890123LL;
    s->cp = &s->c;
    s->p.permit_number = "202401010001";
    s->p.has_estimated_cost = true;
    s->p.estimated_cost = 125000.5;
    s->p.contacts = &s->cp;
    s->p.n_contacts = 1;
    s->pp = &s->p;
    s->lots[0] = "001";
    s->lots[1] = "002";
    s->r.block = "3512";
    s->r.lot = "001";
    s->r.address = "100 MAIN ST";
    s->r.historical_lots = s->lots;
    s->r.n_historical_lots = 2;
    s->r.permits = &s->pp;
    s->r.n_permits = 1;
    s->r.total_permits = 1;
    s->r.links = &s->links;
    s->st.state = "live";
    s->src.complaints = &s->st;
    s->src.max_age_seconds = 600;
    s->r.sources = &s->src;
    s->dbg.sql_queries = 10;
    s->dbg.elapsed_ms = 12.5;
    s->r.debug = &s->dbg;
    s->r.generated_at = "2026-01-08T10:00:00.000Z";
}

/* The old ETag input: the report packed with sources/debug/generated_at cleared. */
static uint64_t cleared_hash(Sfpermits__V1__PropertyReport *r, size_t *len)
{
    Sfpermits__V1__PropertyReport c = *r;
    c.sources = NULL;
    c.debug = NULL;
    c.generated_at = "";
    uint8_t *b = pack(&c.base, len);
    uint64_t h = gw_fnv1a64(GW_FNV1A64_INIT, b, *len);
    free(b);
    return h;
}

static void test_split_report(void **state)
{
    (void)state;
    sample s;
    sample_init(&s);
    size_t n;
    uint8_t *w = pack(&s.r.base, &n);
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
    assert_string_equal(u->sources->complaints->state, "live");
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
    w = pack(&s.r.base, &n);
    assert_int_equal(gw_pbwire_split_fields(w, n, 16, 18, &sp), 0);
    assert_true(sp.hash == h0);
    free(w);
    s.c.name = "Ann Builder Jr";
    w = pack(&s.r.base, &n);
    assert_int_equal(gw_pbwire_split_fields(w, n, 16, 18, &sp), 0);
    assert_true(sp.hash != h0);
    assert_true(sp.hash == cleared_hash(&s.r, &clen));
    free(w);

    /* no volatile fields at all; an empty message */
    s.r.sources = NULL;
    s.r.debug = NULL;
    s.r.generated_at = "";
    w = pack(&s.r.base, &n);
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
