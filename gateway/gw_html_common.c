/* gw_html_common.c — see gw_html_common.h. */
#include "gw_html_common.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gw_html_esc(sfp_buf *b, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        sfp_buf_append(b, run, (size_t)(p - run));
        sfp_buf_puts(b, rep);
        run = p + 1;
    }
    sfp_buf_puts(b, run);
}

void gw_html_url_q(sfp_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            sfp_buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sfp_buf_append(b, e, 3);
        }
    }
}

void gw_html_text_or_dash(sfp_buf *b, const char *s)
{
    bool blank = true;
    for (const char *p = s ? s : ""; *p; p++)
        if (!isspace((unsigned char)*p)) blank = false;
    if (blank) sfp_buf_puts(b, "<span class=\"muted\">\xe2\x80\x94</span>");
    else gw_html_esc(b, s);
}

static void nav_link(sfp_buf *b, const char *href, const char *label, const char *current)
{
    bool cur = current && !strcmp(current, href);
    sfp_buf_printf(b, "<li><a href=\"%s\"%s>%s</a></li>", href, cur ? " aria-current=\"page\"" : "", label);
}

void gw_html_open(sfp_buf *b, const char *title, const char *current)
{
    sfp_buf_puts(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    gw_html_esc(b, title);
    sfp_buf_puts(b, " \xe2\x80\x94 SF Permits</title>\n"
                    "<link rel=\"stylesheet\" href=\"/app.css\">\n"
                    "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n"
                    "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
                    "<header class=\"site\"><a class=\"brand\" href=\"/\">SF Permits</a>\n"
                    "<nav aria-label=\"Main\"><ul>");
    nav_link(b, "/", "Search", current);
    nav_link(b, "/brief", "Morning brief", current);
    nav_link(b, "/methodology", "Methodology", current);
    nav_link(b, "/about-data", "About the data", current);
    sfp_buf_puts(b, "</ul></nav></header>\n<main id=\"main\">\n");
}

void gw_html_close(sfp_buf *b)
{
    sfp_buf_puts(b, "</main>\n<footer class=\"site\"><p>Data: San Francisco Department of Building Inspection "
                    "and the Assessor (DataSF). <a href=\"/about-data\">About the data</a> \xc2\xb7 "
                    "<a href=\"/openapi.json\">API description</a></p></footer>\n</body>\n</html>\n");
}

/* q of one media range's parameters (";q=0.8"); 1 when absent, 0 when malformed. */
static double range_q(const char *params, size_t n)
{
    const char *p = params, *end = params + n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) break;
        p = semi + 1;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char tmp[16];
            size_t len = 0;
            for (const char *v = p + 2; v < end && *v != ';' && len + 1 < sizeof tmp; v++) tmp[len++] = *v;
            tmp[len] = '\0';
            char *e;
            double q = strtod(tmp, &e);
            if (e == tmp || q < 0 || q > 1) return 0;
            return q;
        }
    }
    return 1;
}

bool gw_accept_prefers_html(const char *accept)
{
    if (!accept) return false;
    double html = -1, json = -1, app_any = -1, any = -1;
    const char *p = accept;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *s = p;
        while (n && (*s == ' ' || *s == '\t')) s++, n--;
        size_t tn = 0;
        while (tn < n && s[tn] != ';' && s[tn] != ' ' && s[tn] != '\t') tn++;
        double q = range_q(s + tn, n - tn);
#define IS(lit) (tn == sizeof(lit) - 1 && !strncasecmp(s, lit, tn))
        if (IS("text/html") || IS("application/xhtml+xml")) html = q > html ? q : html;
        else if (IS("application/json")) json = q > json ? q : json;
        else if (IS("application/*")) app_any = q > app_any ? q : app_any;
        else if (IS("*/*")) any = q > any ? q : any;
#undef IS
        if (!comma) break;
        p = comma + 1;
    }
    double j = json >= 0 ? json : app_any >= 0 ? app_any : any;
    return html > 0 && html > j;
}

void gw_html_money(sfp_buf *b, double v)
{
    if (!isfinite(v)) {
        sfp_buf_puts(b, "\xe2\x80\x94");
        return;
    }
    bool neg = v < 0;
    unsigned long long u = (unsigned long long)llround(fabs(v));
    char digits[32], out[48];
    int n = snprintf(digits, sizeof digits, "%llu", u), j = 0;
    if (neg) out[j++] = '-';
    out[j++] = '$';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) out[j++] = ',';
        out[j++] = digits[i];
    }
    out[j] = '\0';
    sfp_buf_puts(b, out);
}
