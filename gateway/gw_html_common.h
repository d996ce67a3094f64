/* gw_html_common.h — shared pieces of the gateway's HTML pages (the landing/search page, the
 * property report, the morning brief): escaping, the page frame, content negotiation.
 *
 * Pages use no framework and no external asset: one stylesheet (/app.css) and the favicon,
 * both embedded in the gateway from gateway/static, and no script at all, so the
 * Content-Security-Policy GW_PAGE_CSP forbids every script. Forms post only to the gateway
 * itself (form-action 'self').
 *
 * All functions are pure (no I/O); appended text goes to an sfp_buf owned by the caller. */
#ifndef GW_HTML_COMMON_H
#define GW_HTML_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define GW_CT_HTML "text/html; charset=utf-8"
#define GW_PAGE_CSP                                                                                     \
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; " \
    "frame-ancestors 'none'"

/* HTML-escapes s (& < > " ') — safe in text and in quoted attribute values. NULL → "". */
void gw_html_esc(sfp_buf *b, const char *s);
/* s percent-encoded for a URL query value (unreserved characters kept, space → %20). */
void gw_html_url_q(sfp_buf *b, const char *s);
/* s, or the placeholder "—" when s is NULL/blank. Escaped. */
void gw_html_text_or_dash(sfp_buf *b, const char *s);

/* Page frame: doctype, head (title, viewport, stylesheet, favicon), skip link, site header
 * with the navigation (current = the nav entry to mark: "/", "/brief", or NULL), then <main>.
 * gw_html_close ends <main>, adds the footer and closes the document. */
void gw_html_open(sfp_buf *b, const char *title, const char *current);
void gw_html_close(sfp_buf *b);

/* Content negotiation on an Accept header: true when the client asks for HTML — text/html or
 * application/xhtml+xml listed explicitly with a q above application/json's (explicit, or
 * through the application/ or any-type wildcards). Browsers send "text/html,...,ANY;q=0.8"
 * → true; curl's ANY (the any-type wildcard), "application/json", an absent header, or a tie
 * → false (JSON stays the default). */
bool gw_accept_prefers_html(const char *accept);

/* Money as "$1,234,567" (whole dollars). */
void gw_html_money(sfp_buf *b, double v);

#endif
