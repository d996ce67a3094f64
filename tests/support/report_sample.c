#include "report_sample.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

uint8_t *sfp_test_pack(const ProtobufCMessage *m, size_t *n)
{
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*n ? *n : 1);
    assert_non_null(b);
    protobuf_c_message_pack(m, b);
    return b;
}

void sfp_test_report_sample_init(sfp_test_report_sample *s)
{
    memset(s, 0, sizeof *s);
    Sfpermits__V1__PropertyReport r = SFPERMITS__V1__PROPERTY_REPORT__INIT;
    Sfpermits__V1__ReportPermit p = SFPERMITS__V1__REPORT_PERMIT__INIT;
    Sfpermits__V1__PermitContact c = SFPERMITS__V1__PERMIT_CONTACT__INIT;
    Sfpermits__V1__PermitInspection i = SFPERMITS__V1__PERMIT_INSPECTION__INIT;
    Sfpermits__V1__SodaRecord rec = SFPERMITS__V1__SODA_RECORD__INIT;
    Sfpermits__V1__SodaRecord__FieldsEntry f = SFPERMITS__V1__SODA_RECORD__FIELDS_ENTRY__INIT;
    Sfpermits__V1__GetPropertyReportResponse resp = SFPERMITS__V1__GET_PROPERTY_REPORT_RESPONSE__INIT;
    Sfpermits__V1__ReadMetadata md = SFPERMITS__V1__READ_METADATA__INIT;
    Sfpermits__V1__ReadMetadata__SourcesEntry src = SFPERMITS__V1__READ_METADATA__SOURCES_ENTRY__INIT;
    Sfpermits__V1__SourceStatus st = SFPERMITS__V1__SOURCE_STATUS__INIT;
    Sfpermits__V1__ReadDebug dbg = SFPERMITS__V1__READ_DEBUG__INIT;
    Sfpermits__V1__ReportLinks links = SFPERMITS__V1__REPORT_LINKS__INIT;
    s->r = r, s->p = p, s->c = c, s->i = i, s->rec = rec, s->f[0] = f, s->f[1] = f;
    s->resp = resp, s->md = md, s->src = src, s->st = st, s->dbg = dbg, s->links = links;
    s->c.role = "contractor";
    s->c.name = "Ann Builder";
    s->c.optional_entity_id_case = SFPERMITS__V1__PERMIT_CONTACT__OPTIONAL_ENTITY_ID_ENTITY_ID;
    s->c.entity_id = 1234567890123LL; /* a multi-byte varint */
    s->cp = &s->c;
    s->i.scheduled_date = "2025-03-01";
    s->i.result = "PASSED";
    s->ip = &s->i;
    s->p.permit_number = "202401010001";
    s->p.description = "replace windows, \"sources\": none";
    s->p.optional_estimated_cost_case = SFPERMITS__V1__REPORT_PERMIT__OPTIONAL_ESTIMATED_COST_ESTIMATED_COST;
    s->p.estimated_cost = 125000.5;
    s->p.contacts = &s->cp;
    s->p.n_contacts = 1;
    s->p.inspections = &s->ip;
    s->p.n_inspections = 1;
    s->pp = &s->p;
    s->f[0].key = "complaint_number";
    s->f[0].value = "C1";
    s->f[1].key = "sources";
    s->f[1].value = ",\"sources\":{}";
    s->fp[0] = &s->f[0];
    s->fp[1] = &s->f[1];
    s->rec.fields = s->fp;
    s->rec.n_fields = 2;
    s->recp = &s->rec;
    s->lots[0] = "001";
    s->lots[1] = "002";
    s->r.block = "3512";
    s->r.lot = "001";
    s->r.address = "he said ,\"sources\":1 here";
    s->r.historical_lots = s->lots;
    s->r.n_historical_lots = 2;
    s->r.permits = &s->pp;
    s->r.n_permits = 1;
    s->r.total_permits = 1;
    s->r.complaints = &s->recp;
    s->r.n_complaints = 1;
    s->links.parcel = "https://sfplanninggis.org/pim/?search=3512%2F001";
    s->r.links = &s->links;
    s->st.state = SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_LIVE;
    s->st.dataset = "gm2e-bten";
    s->src.key = "complaints";
    s->src.value = &s->st;
    s->srcp = &s->src;
    s->md.etag = "0123456789abcdef0123456789abcdef";
    s->md.max_age_seconds = 600;
    s->md.generated_at = "2026-01-08T10:00:00.000Z";
    s->md.sources = &s->srcp;
    s->md.n_sources = 1;
    s->dbg.sql_queries = 10;
    s->dbg.elapsed_ms = 12.5;
    s->md.debug = &s->dbg;
    s->resp.report = &s->r;
    s->resp.metadata = &s->md;
}
