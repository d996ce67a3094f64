/* gw_html_report.h — the property report as an HTML page: everything GET /report's JSON
 * carries (profile, risk assessment, consultant signal, what's missing, complaints and
 * violations, permit history with contacts, inspections and routing progress, nearby
 * activity, each data source with its freshness). A SODA section whose source is
 * "unavailable" is shown as unavailable, never as an empty list. Pure. */
#ifndef GW_HTML_REPORT_H
#define GW_HTML_REPORT_H

#include <stddef.h>

struct Sfpermits__V1__PropertyReport;
struct Sfpermits__V1__ReadMetadata;

/* The page of report r with its response metadata md (sources, generated_at, cache state;
 * NULL: shown as unknown). malloc'd, caller frees; *len its length. */
char *gw_html_report_page(const struct Sfpermits__V1__PropertyReport *r, const struct Sfpermits__V1__ReadMetadata *md,
                          size_t *len);

#endif
