/* handlers_static.c — embedded HTML pages (see handlers.h, static_pages.h). */
#include "handlers.h"

#include "gw_limits.h"
#include "static_pages.h"

void gw_handle_static(gw_request *req, gw_response *resp)
{
    const gw_static_page *p = gw_static_page_find(req->route->pattern);
    if (!p) {
        gw_resp_http_error(resp, 404, "page not found");
        return;
    }
    gw_resp_header(resp, "Cache-Control", "%s", GW_STATIC_CACHE_CONTROL);
    gw_resp_header(resp, "ETag", "%s", p->etag);
    if (gw_etag_matches(gw_req_header(req, "If-None-Match"), p->etag)) {
        gw_resp_set_static(resp, 304, p->content_type, NULL, 0);
        return;
    }
    gw_resp_header(resp, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
                   "form-action 'none'; frame-ancestors 'none'");
    gw_resp_header(resp, "X-Frame-Options", "DENY");
    gw_resp_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
    gw_resp_set_static(resp, 200, p->content_type, p->data, p->len);
}
