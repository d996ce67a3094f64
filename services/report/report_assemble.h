/* report_assemble.h — maps the plain report records to sfpermits.v1.PropertyReport. No logic
 * beyond field mapping; everything is allocated in the request arena (strings are shared, not
 * copied: they already live in that arena or are static). */
#ifndef SFP_REPORT_ASSEMBLE_H
#define SFP_REPORT_ASSEMBLE_H

#include "arena_pb.h"
#include "report_soda.h"
#include "report_types.h"
#include "sfpermits/v1/report.pb-c.h"

/* The content of a report: a PropertyReport, the same for every request until the data
 * changes (what the report cache keeps, packed). */
typedef struct sfp_rpt_report {
    const char *block, *lot, *address;
    const char *const *lots;
    size_t n_lots;
    const sfp_rpt_profile *profile;
    const sfp_rpt_permit *permits;
    size_t n_permits;
    int32_t total_permits;
    const sfp_rpt_soda_result *soda; /* [SFP_RPT_DS_N]: complaints and violations records */
    const sfp_rpt_risk *risks;
    size_t n_risks;
    const sfp_rpt_signal *signal;
    const sfp_rpt_missing *missing;
    size_t n_missing;
    const sfp_rpt_nearby *nearby;
    size_t n_nearby;
} sfp_rpt_report;

/* The per-request part: the response's ReadMetadata (etag, max-age, generated_at, sources,
 * debug). */
typedef struct sfp_rpt_meta {
    const char *etag;                /* sfp_rpt_content_etag of the packed content */
    const sfp_rpt_soda_result *soda; /* [SFP_RPT_DS_N] */
    unsigned soda_needed;            /* SFP_RPT_DS_BIT mask of the datasets this report needed */
    int32_t sql_queries, soda_requests;
    double elapsed_ms;
    bool cached; /* served from the report cache */
    const char *generated_at;
} sfp_rpt_meta;

/* The report's content (every field of PropertyReport). */
Sfpermits__V1__PropertyReport *sfp_rpt_assemble(const sfp_rpt_report *r, sfp_arena *a);
/* The response's metadata; sources in the order complaints, violations, tax_roll. */
Sfpermits__V1__ReadMetadata *sfp_rpt_assemble_metadata(const sfp_rpt_meta *v, sfp_arena *a);

#define SFP_RPT_ETAG_LEN 32
/* The ETag of a packed report: its 128-bit XXH3 hash as 32 lower-case hex digits (out gets them
 * and a NUL). Computed once per assembled report. XXH3 and not a cryptographic digest: the etag
 * only tells one report's content from another's (HTTP revalidation, the gateway's JSON cache),
 * the content is the city's data and not a caller's input, and over 80 KB XXH3 costs ~1/20 of
 * SHA-256 (which was ~5 % of an uncached report's CPU in sfp-report). */
void sfp_rpt_content_etag(const uint8_t *content, size_t len, char out[SFP_RPT_ETAG_LEN + 1]);

/* "street_number street_name street_suffix" of the non-blank parts (arena), "" for NULL. */
const char *sfp_rpt_address(const sfp_rpt_permit *p, sfp_arena *a);

#endif
