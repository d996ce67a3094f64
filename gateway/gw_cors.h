/* gw_cors.h — cross-origin requests from an allowlist (GATEWAY_CORS_ORIGINS), off by default.
 *
 * GATEWAY_CORS_ORIGINS is a comma-separated list of exact origins, each
 * "http://host[:port]" or "https://host[:port]" (no path, no wildcard); validated at start-up.
 * Empty (the default): no CORS header is ever sent and OPTIONS is routed like any other
 * method (405).
 *
 * With a list:
 *  - a request whose Origin is listed gets Access-Control-Allow-Origin: <that origin>,
 *    Vary: Origin (added to any Vary) and Access-Control-Expose-Headers (ETag, Retry-After,
 *    X-Request-Id, X-Response-Time); other origins get no CORS header;
 *  - a preflight (OPTIONS with Access-Control-Request-Method) on a routed path is answered by
 *    the gateway: 204 with Allow-Origin, Allow-Methods (the path's methods), Allow-Headers
 *    (Authorization, Content-Type, If-None-Match, X-Timeout-Ms, X-Request-Id), Max-Age 600;
 *    an unlisted origin → 403, a method the path does not take → 405, an unknown path → 404.
 * No Access-Control-Allow-Credentials: the session cookie is SameSite=Strict and never crosses
 * origins; cross-origin API clients send Authorization: Bearer.
 * All functions are pure. */
#ifndef GW_CORS_H
#define GW_CORS_H

#include <stdbool.h>

#include "gw_http.h"
#include "sfp_err.h"

/* 0 when list is a valid allowlist (or empty), else -1 + err naming GATEWAY_CORS_ORIGINS. */
int gw_cors_validate(const char *list, sfp_err *err);
/* origin appears exactly in list. */
bool gw_cors_allowed(const char *list, const char *origin);
/* Adds the CORS headers of a normal response (see above); no-op when list is empty, origin
 * NULL or not listed. */
void gw_cors_apply(const char *list, const char *origin, gw_response *resp);
/* Fills resp with the preflight answer. allow: the GW_M_* methods of the path (0 = no route). */
void gw_cors_preflight(const char *list, const char *origin, const char *request_method, unsigned allow,
                       gw_response *resp);

#endif
