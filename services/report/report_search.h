/* report_search.h — ReportService.SearchParcels(q): finds parcels by block/lot, permit number
 * or street address, for the gateway's landing page and GET /search.
 *
 * The query is classified by its shape (sfp_search_parse, pure):
 *   block/lot  "3512/001", "3512 001", "3512-001", "3512001" (letters allowed: "3512A/001B")
 *   permit     12+ digits ("202212017475"), or 1–2 letters then 6+ digits ("E20240101")
 *   address    house number + street: "1600 Mission St", "1600 mission street, San Francisco"
 *   street     a street name without a number: "Mission"
 * Address normalisation: upper case; everything after the first comma, punctuation, a unit
 * ("APT 3", "UNIT 2", "#4"), a trailing zip, "CA"/"CALIFORNIA" and "SF"/"SAN FRANCISCO" are
 * dropped; a trailing street suffix (ST/STREET, AV/AVE/AVENUE, BL/BLVD/BOULEVARD, DR, WAY/WY,
 * TER, PL, CT, LN, RD, HWY, ALY, CIR, PLZ, ...) is ignored; numbered streets are written as the
 * data stores them, zero padded ("8th", "8", "eighth" → "08TH"). The street is matched as a
 * prefix ("1600 miss" finds 1600 MISSION ST).
 *
 * SQL (one statement, parameterised, a named prepared statement of each pooled connection):
 *   address  permits (street_number, upper(street_name) LIKE 'PREFIX%'): index
 *            permits_street_upper_idx (db/migrations/0005_brief.sql)
 *   street   permits (upper(street_name) LIKE 'PREFIX%'), first 500 rows in index order:
 *            index permits_search_street_idx (db/migrations/0025_search_indexes.sql)
 *   block/lot permits (block, lot) and parcel_summary
 *   permit   permits primary key
 * Hits are parcels (block/lot) with the address and neighborhood of the parcel's newest
 * permit and its permit count, most permits first.
 *
 * Status codes: INVALID_ARGUMENT (blank or over-long query), UNAVAILABLE (no database
 * connection), DEADLINE_EXCEEDED (statement timeout), INTERNAL (other SQL errors). */
#ifndef SFP_REPORT_SEARCH_H
#define SFP_REPORT_SEARCH_H

#include <stddef.h>

#include "report_service.h"

#define SFP_REPORT_SEARCH_METHOD_PATH "/sfpermits.v1.ReportService/SearchParcels"
#define SFP_SEARCH_Q_MAX 200 /* longer queries are rejected */
#define SFP_SEARCH_LIMIT_DEFAULT 10
#define SFP_SEARCH_LIMIT_MAX 50

typedef enum sfp_search_kind {
    SFP_SEARCH_NONE = 0, /* blank */
    SFP_SEARCH_BLOCK_LOT,
    SFP_SEARCH_PERMIT,
    SFP_SEARCH_ADDRESS,
    SFP_SEARCH_STREET,
} sfp_search_kind;

typedef struct sfp_search_query {
    sfp_search_kind kind;
    char block[8], lot[8]; /* block/lot */
    char permit[32];       /* permit, upper case */
    char number[16];       /* address: house number ("" for street) */
    char street[96];       /* address/street: normalised street name prefix, e.g. "08TH" */
    char normalized[128];  /* what is searched, for the response */
} sfp_search_query;

/* Pure: classifies and normalises q. Returns 0, or -1 for a blank or over-long q (kind NONE). */
int sfp_search_parse(const char *q, sfp_search_query *out);
/* Name of a kind as the response spells it ("block_lot", "permit", "address", "street"). */
const char *sfp_search_kind_name(sfp_search_kind k);

/* Method table entry for SearchParcels bound to svc (its pool and statement timeout). */
sfp_rpc_method sfp_report_search_method(sfp_report_service *svc);

#endif
