/* gw_pages.h — the browser side of the gateway's routes: content negotiation, the session
 * cookie of the morning brief, and the handlers of the HTML-only routes.
 *
 *   GET  /               landing page with one search box; ?q= renders the results
 *   GET  /search?q=      ReportService/SearchParcels → JSON (?limit=1..50, default 10)
 *   POST /brief/sign-in  form field `token`: checked with BriefService/GetBrief; accepted →
 *                        Set-Cookie sfp_session (HttpOnly, SameSite=Strict, Path=/brief,
 *                        Secure when the request came over TLS: X-Forwarded-Proto: https)
 *                        and 303 to /brief; refused → the form again (401)
 *   POST /brief/sign-out clears the cookie, 303 to /brief
 * and the HTML variants of GET /report/{block}/{lot}, GET /brief and POST /brief/refresh
 * (handlers_report.c, handlers_brief.c call in here).
 *
 * The session cookie holds the bearer token itself (HttpOnly: no script can read it; it is
 * never put in a URL or a page); a request without an Authorization header but with the
 * cookie is forwarded as "Authorization: Bearer <token>". State-changing POSTs that rely on
 * the cookie must come from the gateway's own pages: SameSite=Strict keeps the cookie off
 * cross-site requests, and the Origin (or, without one, Referer) must name the Host the
 * request was sent to (403 otherwise). */
#ifndef GW_PAGES_H
#define GW_PAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "gw_http.h"

#define GW_SESSION_COOKIE "sfp_session"
#define GW_SESSION_MAX_AGE 2592000 /* 30 days */
#define GW_SEARCH_TIMEOUT_MS 5000

struct gw_read_reply;

/* Accept asks for HTML (gw_accept_prefers_html). */
bool gw_req_wants_html(const gw_request *req);
/* Security headers of every HTML page: CSP (GW_PAGE_CSP), X-Frame-Options, Referrer-Policy. */
void gw_page_headers(gw_response *resp);
/* Sets resp to an HTML page (takes ownership of page). */
void gw_page_set(gw_response *resp, int status, char *page, size_t len);

/* The session token from the Cookie header into out (NUL-terminated); false when absent or
 * not a plausible token ([A-Za-z0-9._~+/=-], 1..200 characters). Pure apart from the lookup. */
bool gw_session_token(const gw_request *req, char *out, size_t n);
/* Cookie header parsing (pure): value of `name` in a Cookie header, copied into out. */
bool gw_cookie_value(const char *cookie_header, const char *name, char *out, size_t n);
/* Form body parsing (pure): the decoded value of `name` in an
 * application/x-www-form-urlencoded body. */
bool gw_form_value(const char *body, size_t len, const char *name, char *out, size_t n);
/* CSRF rule (pure): origin (or, when NULL, referer) must be http(s)://<host> exactly (a
 * Referer may continue with a path). Both absent → false. */
bool gw_same_origin(const char *host, const char *origin, const char *referer);

/* When the request has no Authorization header and carries a session cookie, makes later
 * backend calls of this request send "Bearer <token>" (req->authorization). Returns true
 * when a cookie was used. */
bool gw_use_session(gw_request *req);

void gw_handle_home(gw_request *req, gw_response *resp);
void gw_handle_search(gw_request *req, gw_response *resp);
void gw_handle_brief_signin(gw_request *req, gw_response *resp);
void gw_handle_brief_signout(gw_request *req, gw_response *resp);

/* GET /report as HTML from a parsed reply (the ETag and Cache-Control are set here, per
 * representation: the content's etag plus the state of each source). */
void gw_report_html(gw_request *req, gw_response *resp, struct gw_read_reply *r);
/* GET /brief for a browser: the brief page, or the sign-in form without a valid session. */
void gw_brief_html(gw_request *req, gw_response *resp);
/* POST /brief/refresh authenticated by the session cookie (Origin checked): 303 back to the
 * brief, or a friendly 429 page. Returns false (nothing done) when the request carries an
 * Authorization header or no session cookie — the JSON route then answers. */
bool gw_brief_refresh_session(gw_request *req, gw_response *resp);

#endif
