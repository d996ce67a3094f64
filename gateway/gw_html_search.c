/* gw_html_search.c — see gw_html_search.h. */
#include "gw_html_search.h"

#include <string.h>

#include "gw_html_common.h"
#include "sfpermits/v1/report.pb-c.h"

static const char *kind_label(Sfpermits__V1__SearchKind kind)
{
    switch (kind) {
    case SFPERMITS__V1__SEARCH_KIND__SEARCH_KIND_BLOCK_LOT: return "block/lot";
    case SFPERMITS__V1__SEARCH_KIND__SEARCH_KIND_PERMIT: return "permit number";
    case SFPERMITS__V1__SEARCH_KIND__SEARCH_KIND_ADDRESS: return "address";
    case SFPERMITS__V1__SEARCH_KIND__SEARCH_KIND_STREET: return "street";
    default: return "";
    }
}

char *gw_html_search_page(const char *q, const Sfpermits__V1__SearchParcelsResponse *res, const char *error,
                          size_t *len)
{
    sfp_buf b;
    sfp_buf_init(&b);
    gw_html_open(&b, q && *q ? "Search results" : "Search San Francisco permits", "/");
    sfp_buf_puts(&b, "<h1>Look up a San Francisco property</h1>\n"
                     "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">\n"
                     "<label for=\"q\">Address, block/lot or permit number</label>\n<div class=\"row\">"
                     "<input id=\"q\" name=\"q\" type=\"search\" required maxlength=\"200\" "
                     "autocomplete=\"street-address\" placeholder=\"1600 Mission St\" value=\"");
    gw_html_esc(&b, q);
    sfp_buf_puts(&b, "\"><button type=\"submit\">Search</button></div>\n"
                     "<p class=\"hint\">For example <a href=\"/?q=1600%20Mission%20St\">1600 Mission St</a>, "
                     "<a href=\"/?q=3512%2F001\">3512/001</a> or a 12-digit permit number.</p>\n</form>\n");
    if (error) {
        sfp_buf_puts(&b, "<p class=\"notice error\" role=\"alert\">");
        gw_html_esc(&b, error);
        sfp_buf_puts(&b, "</p>\n");
    } else if (res) {
        sfp_buf_puts(&b, "<section aria-labelledby=\"results-h\">\n<h2 id=\"results-h\">");
        if (!res->n_hits) {
            sfp_buf_puts(&b, "No matching property</h2>\n<p>Nothing matched ");
            gw_html_esc(&b, kind_label(res->kind));
            sfp_buf_puts(&b, " <strong>");
            gw_html_esc(&b, res->normalized);
            sfp_buf_puts(&b, "</strong>. Check the number and street, or try the block and lot "
                             "(e.g. 3512/001).</p>\n");
        } else {
            sfp_buf_printf(&b, "%zu %s for ", res->n_hits, res->n_hits == 1 ? "property" : "properties");
            gw_html_esc(&b, kind_label(res->kind));
            sfp_buf_puts(&b, " \xe2\x80\x9c");
            gw_html_esc(&b, res->normalized);
            sfp_buf_puts(&b, "\xe2\x80\x9d</h2>\n<ol class=\"hits\">\n");
            for (size_t i = 0; i < res->n_hits; i++) {
                const Sfpermits__V1__ParcelHit *h = res->hits[i];
                sfp_buf_puts(&b, "<li><a class=\"hit\" href=\"");
                gw_html_esc(&b, h->report_path);
                if (h->permit_number && *h->permit_number) {
                    sfp_buf_puts(&b, "#permit-");
                    gw_html_esc(&b, h->permit_number);
                }
                sfp_buf_puts(&b, "\"><span class=\"addr\">");
                if (h->address && *h->address) gw_html_esc(&b, h->address);
                else sfp_buf_puts(&b, "Address unknown");
                sfp_buf_puts(&b, "</span> <span class=\"bl\">Block ");
                gw_html_esc(&b, h->block);
                sfp_buf_puts(&b, ", lot ");
                gw_html_esc(&b, h->lot);
                sfp_buf_puts(&b, "</span></a> <span class=\"meta\">");
                if (h->neighborhood && *h->neighborhood) {
                    gw_html_esc(&b, h->neighborhood);
                    sfp_buf_puts(&b, " \xc2\xb7 ");
                }
                sfp_buf_printf(&b, "%d permit%s", h->permit_count, h->permit_count == 1 ? "" : "s");
                if (h->permit_number && *h->permit_number) {
                    sfp_buf_puts(&b, " \xc2\xb7 permit ");
                    gw_html_esc(&b, h->permit_number);
                }
                sfp_buf_puts(&b, "</span></li>\n");
            }
            sfp_buf_puts(&b, "</ol>\n");
        }
        sfp_buf_puts(&b, "</section>\n");
    } else {
        sfp_buf_puts(&b, "<section aria-labelledby=\"what-h\"><h2 id=\"what-h\">What you get</h2>\n"
                         "<p>A property report: the permit history with contacts, inspections and plan-review "
                         "progress, complaints and violations, a risk assessment and the neighborhood's recent "
                         "activity. Signed-in users get a <a href=\"/brief\">morning brief</a> of the properties "
                         "they watch.</p></section>\n");
    }
    gw_html_close(&b);
    return sfp_buf_steal(&b, len);
}
