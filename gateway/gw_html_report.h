/* gw_html_report.h — the property report as an HTML page: everything GET /report's JSON
 * carries (profile, risk assessment, consultant signal, what's missing, complaints and
 * violations, permit history with contacts, inspections and routing progress, nearby
 * activity, each data source with its freshness). A SODA section whose source is
 * "unavailable" is shown as unavailable, never as an empty list. Pure. */
#ifndef GW_HTML_REPORT_H
#define GW_HTML_REPORT_H

#include <stddef.h>

struct Sfpermits__V1__PropertyReport;

/* The page (malloc'd, caller frees; *len its length). Source ages are shown as the time the
 * data was fetched relative to generated_at, so the page changes only when the report does. */
char *gw_html_report_page(const struct Sfpermits__V1__PropertyReport *r, size_t *len);

#endif
