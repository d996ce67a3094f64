/* report_assemble.h — maps the plain report records to sfpermits.v1.PropertyReport. No logic
 * beyond field mapping; everything is allocated in the request arena (strings are shared, not
 * copied: they already live in that arena or are static). */
#ifndef SFP_REPORT_ASSEMBLE_H
#define SFP_REPORT_ASSEMBLE_H

#include "arena_pb.h"
#include "report_soda.h"
#include "report_types.h"
#include "sfpermits/v1/report.pb-c.h"

/* The content of a report: PropertyReport fields 1–15, the same for every request until the
 * data changes (what the report cache keeps, packed). */
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

/* The per-request part: fields 16–18 (sources, debug, generated_at), the message's last
 * fields, so the packed content followed by the packed volatile part is the whole report. */
typedef struct sfp_rpt_volatile {
    const sfp_rpt_soda_result *soda; /* [SFP_RPT_DS_N] */
    unsigned soda_needed;            /* SFP_RPT_DS_BIT mask of the datasets this report needed */
    int32_t sql_queries, soda_requests;
    double elapsed_ms;
    bool report_cache_hit;
    const char *generated_at;
} sfp_rpt_volatile;

/* Fields 1–15 of the report (16–18 left unset). */
Sfpermits__V1__PropertyReport *sfp_rpt_assemble(const sfp_rpt_report *r, sfp_arena *a);
/* Only fields 16–18 set. */
Sfpermits__V1__PropertyReport *sfp_rpt_assemble_volatile(const sfp_rpt_volatile *v, sfp_arena *a);

/* "street_number street_name street_suffix" of the non-blank parts (arena), "" for NULL. */
const char *sfp_rpt_address(const sfp_rpt_permit *p, sfp_arena *a);

#endif
