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
#include "rpc.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"

static uint8_t *pack(const ProtobufCMessage *m, size_t *n)
{
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*n ? *n : 1);
    assert_non_null(b);
    protobuf_c_message_pack(m, b);
    return b;
}

/* The ETag as the gateway always defined it: FNV-1a 64 of the report packed with
 * sources/debug/generated_at cleared. */
static void old_etag(const Sfpermits__V1__PropertyReport *r, char *out, size_t n)
{
    Sfpermits__V1__PropertyReport c = *r;
    c.sources = NULL;
    c.debug = NULL;
    c.generated_at = "";
    size_t len;
    uint8_t *b = pack(&c.base, &len);
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
    uint8_t *w = pack(&m->base, &n);
    check_wire(w, n, m, want_hit, true);
    free(w);
}

typedef struct sample {
    Sfpermits__V1__PropertyReport r;
    Sfpermits__V1__ReportPermit p, *pp;
    Sfpermits__V1__PermitContact c, *cp;
    Sfpermits__V1__PermitInspection i, *ip;
    Sfpermits__V1__SodaRecord rec, *recp;
    Sfpermits__V1__SodaRecord__FieldsEntry f[2], *fp[2];
    Sfpermits__V1__ReportSources src;
    Sfpermits__V1__SourceStatus st;
    Sfpermits__V1__ReportDebug dbg;
    Sfpermits__V1__ReportLinks links;
} sample;

static void sample_init(sample *s)
{
    memset(s, 0, sizeof *s);
    Sfpermits__V1__PropertyReport r = SFPERMITS__V1__PROPERTY_REPORT__INIT;
    Sfpermits__V1__ReportPermit p = SFPERMITS__V1__REPORT_PERMIT__INIT;
    Sfpermits__V1__PermitContact c = SFPERMITS__V1__PERMIT_CONTACT__INIT;
    Sfpermits__V1__PermitInspection i = SFPERMITS__V1__PERMIT_INSPECTION__INIT;
    Sfpermits__V1__SodaRecord rec = SFPERMITS__V1__SODA_RECORD__INIT;
    Sfpermits__V1__SodaRecord__FieldsEntry f = SFPERMITS__V1__SODA_RECORD__FIELDS_ENTRY__INIT;
    Sfpermits__V1__ReportSources src = SFPERMITS__V1__REPORT_SOURCES__INIT;
    Sfpermits__V1__SourceStatus st = SFPERMITS__V1__SOURCE_STATUS__INIT;
    Sfpermits__V1__ReportDebug dbg = SFPERMITS__V1__REPORT_DEBUG__INIT;
    Sfpermits__V1__ReportLinks links = SFPERMITS__V1__REPORT_LINKS__INIT;
    s->r = r, s->p = p, s->c = c, s->i = i, s->rec = rec, s->f[0] = f, s->f[1] = f;
    s->src = src, s->st = st, s->dbg = dbg, s->links = links;
    s->c.role = "contractor";
    s->c.name = "Ann Builder";
    s->c.has_entity_id = true;
    s->c.entity_id = 42;
    s->cp = &s->c;
    s->i.scheduled_date = "2025-03-01";
    s->i.result = "PASSED";
    s->ip = &s->i;
    s->p.permit_number = "202401010001";
    s->p.description = "replace windows, \"sources\": none"; /* look-alike inside a string */
    s->p.has_estimated_cost = true;
    s->p.estimated_cost = 125000.5;
    s->p.contacts = &s->cp;
    s->p.n_contacts = 1;
    s->p.inspections = &s->ip;
    s->p.n_inspections = 1;
    s->pp = &s->p;
    /* a complaint record whose map has a key "sources": the exact bytes `,"sources":` appear
     * in the content, before the real tail */
    s->f[0].key = "complaint_number";
    s->f[0].value = "C1";
    s->f[1].key = "sources";
    s->f[1].value = ",\"sources\":{}";
    s->fp[0] = &s->f[0];
    s->fp[1] = &s->f[1];
    s->rec.fields = s->fp;
    s->rec.n_fields = 2;
    s->recp = &s->rec;
    s->r.block = "3512";
    s->r.lot = "001";
    s->r.address = "he said ,\"sources\":1 here";
    s->r.permits = &s->pp;
    s->r.n_permits = 1;
    s->r.total_permits = 1;
    s->r.complaints = &s->recp;
    s->r.n_complaints = 1;
    s->links.parcel = "https://sfplanninggis.org/pim/?search=3512%2F001";
    s->r.links = &s->links;
    s->st.state = "live";
    s->st.dataset = "gm2e-bten";
    s->src.complaints = &s->st;
    s->src.max_age_seconds = 600;
    s->r.sources = &s->src;
    s->dbg.sql_queries = 10;
    s->dbg.elapsed_ms = 12.5;
    s->r.debug = &s->dbg;
    s->r.generated_at = "2026-01-08T10:00:00.000Z";
}

static void test_memo_same_bytes(void **state)
{
    (void)state;
    gw_report_memo_clear();
    sample s;
    sample_init(&s);
    {
        size_t n;
        char *j = sfp_pbjson_encode(&s.r.base, &n);
        assert_non_null(strstr(j, "\"complaint_number\":\"C1\",\"sources\":")); /* the look-alike is real */
        free(j);
    }
    check_same_as_encoder(&s.r, false); /* first: full unpack + encoding, memoised */
    s.st.state = "cached";
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
    sample s;
    sample_init(&s);
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
    sample s;
    sample_init(&s);
    s.r.generated_at = "";
    size_t n;
    uint8_t *w0 = pack(&s.r.base, &n);
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
