/* Unit: the gateway's HTML pages and their pure helpers (no server):
 *   escaping, URL query encoding, money; Accept negotiation (browser vs curl vs JSON clients);
 *   Cookie and form parsing; the CSRF same-origin rule;
 *   the report page (everything escaped, one row per permit, a degraded SODA source shown as
 *   unavailable and never as "no complaints"); the search page; the brief page (tabs with the
 *   current one marked, refresh and sign-out forms, no token anywhere); the sign-in form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "gw_html_brief.h"
#include "gw_html_common.h"
#include "gw_html_report.h"
#include "gw_html_search.h"
#include "gw_pages.h"
#include "report_sample.h"
#include "sfpermits/v1/brief.pb-c.h"

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static char *esc(const char *s)
{
    sfp_buf b;
    sfp_buf_init(&b);
    gw_html_esc(&b, s);
    size_t n;
    return sfp_buf_steal(&b, &n);
}

static void test_escape_and_encode(void **state)
{
    (void)state;
    char *e = esc("<a href=\"x\">Tom's & co</a>");
    assert_string_equal(e, "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; co&lt;/a&gt;");
    free(e);
    sfp_buf b;
    sfp_buf_init(&b);
    gw_html_url_q(&b, "1600 Mission St/#&");
    gw_html_money(&b, 1106500.4);
    size_t n;
    char *s = sfp_buf_steal(&b, &n);
    assert_string_equal(s, "1600%20Mission%20St%2F%23%26$1,106,500");
    free(s);
}

static void test_accept(void **state)
{
    (void)state;
    assert_true(gw_accept_prefers_html(
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"));
    assert_true(gw_accept_prefers_html("text/html"));
    assert_true(gw_accept_prefers_html("application/json;q=0.5, text/html"));
    assert_false(gw_accept_prefers_html(NULL));
    assert_false(gw_accept_prefers_html("*/*"));
    assert_false(gw_accept_prefers_html("application/json"));
    assert_false(gw_accept_prefers_html("text/html, application/json")); /* a tie keeps JSON */
    assert_false(gw_accept_prefers_html("text/html;q=0.5, */*"));
    assert_false(gw_accept_prefers_html("text/html;q=0"));
    assert_false(gw_accept_prefers_html("text/htmlx, */*;q=0.1"));
}

static void test_cookie_form_origin(void **state)
{
    (void)state;
    char v[64];
    assert_true(gw_cookie_value("a=1; sfp_session=demo-token-alice; b=2", "sfp_session", v, sizeof v));
    assert_string_equal(v, "demo-token-alice");
    assert_true(gw_cookie_value("sfp_session=x", "sfp_session", v, sizeof v));
    assert_string_equal(v, "x");
    assert_false(gw_cookie_value("xsfp_session=1; other=2", "sfp_session", v, sizeof v));
    assert_false(gw_cookie_value("sfp_session=0123456789", "sfp_session", v, 4)); /* too long: refused */

    const char *body = "lookback=7&token=demo%2Dtoken+x%26y&empty=";
    assert_true(gw_form_value(body, strlen(body), "token", v, sizeof v));
    assert_string_equal(v, "demo-token x&y");
    assert_true(gw_form_value(body, strlen(body), "lookback", v, sizeof v));
    assert_string_equal(v, "7");
    assert_true(gw_form_value(body, strlen(body), "empty", v, sizeof v));
    assert_string_equal(v, "");
    assert_false(gw_form_value(body, strlen(body), "tok", v, sizeof v));
    assert_false(gw_form_value("a=%00", 5, "a", v, sizeof v)); /* an encoded NUL is refused */

    assert_true(gw_same_origin("127.0.0.1:8080", "http://127.0.0.1:8080", NULL));
    assert_true(gw_same_origin("example.org", "https://example.org", NULL));
    assert_true(gw_same_origin("example.org", NULL, "https://example.org/brief?lookback=7"));
    assert_false(gw_same_origin("example.org", "https://evil.example", NULL));
    assert_false(gw_same_origin("example.org", "https://example.org.evil.example", NULL));
    assert_false(gw_same_origin("example.org", "null", NULL));
    assert_false(gw_same_origin("example.org", NULL, "https://example.organic/x"));
    assert_false(gw_same_origin("example.org", NULL, NULL)); /* neither header: refused */
    assert_false(gw_same_origin(NULL, "https://example.org", NULL));
}

static void test_report_page(void **state)
{
    (void)state;
    sfp_test_report_sample s;
    sfp_test_report_sample_init(&s);
    s.r.address = "1600 <MISSION> ST";
    size_t len = 0;
    char *page = gw_html_report_page(&s.r, &s.md, &len);
    assert_int_equal(strlen(page), len);
    assert_non_null(strstr(page, "<h1>1600 &lt;MISSION&gt; ST</h1>"));
    assert_null(strstr(page, "<MISSION>"));
    assert_int_equal(count(page, "<tr class=\"permit\""), (int)s.r.n_permits);
    assert_non_null(strstr(page, "id=\"permit-202401010001\""));
    assert_non_null(strstr(page, "<section id=\"complaints\""));
    assert_null(strstr(page, "class=\"notice warn degraded\""));
    assert_non_null(strstr(page, "<th scope=\"col\">"));
    assert_non_null(strstr(page, "<html lang=\"en\">"));
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "style=")); /* no inline style: the CSP forbids it */
    free(page);

    /* SODA down: the section says so and never "No complaints on record" */
    s.st.state = SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_UNAVAILABLE;
    s.st.reason = "breaker_open";
    s.r.n_complaints = 0;
    page = gw_html_report_page(&s.r, &s.md, &len);
    assert_non_null(strstr(page, "Complaints are unavailable right now"));
    assert_non_null(strstr(page, "does not mean there are no complaints"));
    assert_null(strstr(page, "No complaints on record"));
    free(page);

    /* up and empty: "No complaints on record" */
    s.st.state = SFPERMITS__V1__SOURCE_STATE__SOURCE_STATE_LIVE;
    s.st.reason = "";
    page = gw_html_report_page(&s.r, &s.md, &len);
    assert_non_null(strstr(page, "No complaints on record"));
    free(page);
}

static void test_search_page(void **state)
{
    (void)state;
    Sfpermits__V1__ParcelHit h = SFPERMITS__V1__PARCEL_HIT__INIT, *hp = &h;
    h.block = "3512";
    h.lot = "001";
    h.address = "1600 MISSION ST";
    h.neighborhood = "South of Market";
    h.permit_count = 44;
    h.permit_number = "";
    h.report_path = "/report/3512/001";
    Sfpermits__V1__SearchParcelsResponse res = SFPERMITS__V1__SEARCH_PARCELS_RESPONSE__INIT;
    res.query = "1600 mission";
    res.kind = SFPERMITS__V1__SEARCH_KIND__SEARCH_KIND_ADDRESS;
    res.normalized = "1600 MISSION";
    res.n_hits = 1;
    res.hits = &hp;
    size_t len;
    char *page = gw_html_search_page("1600 \"mission\"", &res, NULL, &len);
    assert_non_null(strstr(page, "value=\"1600 &quot;mission&quot;\""));
    assert_non_null(strstr(page, "<label for=\"q\">"));
    assert_non_null(strstr(page, "href=\"/report/3512/001\""));
    assert_non_null(strstr(page, "44 permits"));
    free(page);
    res.n_hits = 0;
    page = gw_html_search_page("nowhere", &res, NULL, &len);
    assert_non_null(strstr(page, "No matching property"));
    free(page);
    page = gw_html_search_page(NULL, NULL, NULL, &len);
    assert_non_null(strstr(page, "value=\"\""));
    assert_null(strstr(page, "results-h"));
    free(page);
}

static void test_brief_pages(void **state)
{
    (void)state;
    Sfpermits__V1__Brief b = SFPERMITS__V1__BRIEF__INIT;
    Sfpermits__V1__BriefSummary sum = SFPERMITS__V1__BRIEF_SUMMARY__INIT;
    Sfpermits__V1__BriefChange ch = SFPERMITS__V1__BRIEF_CHANGE__INIT, *chp = &ch;
    ch.permit_number = "202401010001";
    ch.new_status = "issued";
    ch.street_name = "<b>MISSION</b>";
    b.lookback_days = 30;
    b.summary = &sum;
    b.changes = &chp;
    b.n_changes = 1;
    b.since = "2026-11-04";
    Sfpermits__V1__ReadMetadata md = SFPERMITS__V1__READ_METADATA__INIT;
    md.generated_at = "2026-12-04T08:00:00Z";
    size_t len;
    char *page = gw_html_brief_page(&b, &md, "Refreshed", &len);
    assert_non_null(strstr(page, "<a href=\"/brief?lookback=30\" aria-current=\"page\">30 days</a>"));
    assert_non_null(strstr(page, "<a href=\"/brief?lookback=1\">Today</a>"));
    assert_non_null(strstr(page, "action=\"/brief/refresh\""));
    assert_non_null(strstr(page, "name=\"lookback\" value=\"30\""));
    assert_non_null(strstr(page, "action=\"/brief/sign-out\""));
    assert_non_null(strstr(page, "href=\"/?q=202401010001\""));
    assert_non_null(strstr(page, "&lt;b&gt;MISSION&lt;/b&gt;"));
    assert_null(strstr(page, "<script"));
    free(page);
    page = gw_html_brief_signin("That token was not accepted.", 7, &len);
    assert_non_null(strstr(page, "type=\"password\""));
    assert_non_null(strstr(page, "method=\"post\" action=\"/brief/sign-in\""));
    assert_non_null(strstr(page, "role=\"alert\">That token was not accepted."));
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_and_encode),  cmocka_unit_test(test_accept),
        cmocka_unit_test(test_cookie_form_origin), cmocka_unit_test(test_report_page),
        cmocka_unit_test(test_search_page),        cmocka_unit_test(test_brief_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
