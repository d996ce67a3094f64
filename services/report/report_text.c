#include "report_text.h"

#include "civil_date.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sfp_rpt_day_year(int32_t day)
{
    int y, m, d;
    sfp_civil_from_days(day, &y, &m, &d);
    return y;
}

bool sfp_rpt_day_plausible(int32_t day, int32_t today)
{
    int y = sfp_rpt_day_year(day);
    return y >= 1990 && y <= sfp_rpt_day_year(today) + 1;
}

void sfp_rpt_fmt_commas(double v, char *out, size_t n)
{
    if (!n) return;
    if (!isfinite(v)) v = 0;
    double t = trunc(v);
    if (t > 9.2e18) t = 9.2e18;
    if (t < -9.2e18) t = -9.2e18;
    long long x = (long long)t;
    bool neg = x < 0;
    unsigned long long u = neg ? (unsigned long long)(-(x + 1)) + 1u : (unsigned long long)x;
    char rev[40];
    size_t k = 0;
    int digits = 0;
    do {
        if (digits && digits % 3 == 0) rev[k++] = ',';
        rev[k++] = (char)('0' + u % 10);
        u /= 10;
        digits++;
    } while (u);
    if (neg) rev[k++] = '-';
    size_t j = 0;
    while (k && j + 1 < n) out[j++] = rev[--k];
    out[j] = '\0';
}

void sfp_rpt_fmt_money(double v, char *out, size_t n)
{
    char num[40];
    bool neg = isfinite(v) && trunc(v) < 0;
    sfp_rpt_fmt_commas(neg ? -v : v, num, sizeof num);
    snprintf(out, n, "%s$%s", neg ? "-" : "", num);
}

bool sfp_rpt_parse_double(const char *s, double *out)
{
    if (!s) return false;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return false;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return false;
    while (isspace((unsigned char)*end)) end++;
    if (*end || !isfinite(v)) return false;
    *out = v;
    return true;
}

bool sfp_rpt_blank(const char *s)
{
    if (!s) return true;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return false;
    return true;
}

/* ASCII case folding: the services never call setlocale, so tolower() is this in the C locale,
 * without a call per byte. */
static inline unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static const char *find_ci(const char *hay, const char *needle)
{
    const unsigned char *n = (const unsigned char *)needle;
    if (!*n) return hay;
    unsigned char first = fold(n[0]);
    for (const unsigned char *h = (const unsigned char *)hay; *h; h++) {
        if (fold(*h) != first) continue;
        size_t i = 1;
        while (n[i] && fold(h[i]) == fold(n[i])) i++;
        if (!n[i]) return (const char *)h;
    }
    return NULL;
}

bool sfp_rpt_contains_ci(const char *hay, const char *needle)
{
    return hay && needle && find_ci(hay, needle) != NULL;
}

bool sfp_rpt_has_word_ci(const char *hay, const char *needle)
{
    if (!hay || !needle || !*needle) return false;
    size_t nl = strlen(needle);
    for (const char *p = hay; (p = find_ci(p, needle)); p++) {
        bool left = p == hay || !isalnum((unsigned char)p[-1]);
        bool right = !isalnum((unsigned char)p[nl]);
        if (left && right) return true;
    }
    return false;
}

static void trim_span(const char *s, const char **b, size_t *len)
{
    s = sfp_rpt_str(s);
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    *b = s;
    *len = n;
}

bool sfp_rpt_eq_ci_trim(const char *a, const char *b)
{
    const char *pa, *pb;
    size_t la, lb;
    trim_span(a, &pa, &la);
    trim_span(b, &pb, &lb);
    if (la != lb) return false;
    for (size_t i = 0; i < la; i++)
        if (tolower((unsigned char)pa[i]) != tolower((unsigned char)pb[i])) return false;
    return true;
}

static void case_trim(const char *s, char *out, size_t n, int (*conv)(int))
{
    if (!n) return;
    const char *p;
    size_t len;
    trim_span(s, &p, &len);
    if (len > n - 1) len = n - 1;
    for (size_t i = 0; i < len; i++) out[i] = (char)conv((unsigned char)p[i]);
    out[len] = '\0';
}

void sfp_rpt_lower_trim(const char *s, char *out, size_t n)
{
    case_trim(s, out, n, tolower);
}
void sfp_rpt_upper_trim(const char *s, char *out, size_t n)
{
    case_trim(s, out, n, toupper);
}

char *sfp_rpt_trim_dup(sfp_arena *a, const char *s)
{
    const char *p;
    size_t len;
    trim_span(s, &p, &len);
    return sfp_arena_strndup(a, p, len);
}

char *sfp_rpt_urlencode_plus(sfp_arena *a, const char *s)
{
    s = sfp_rpt_str(s);
    size_t n = strlen(s);
    char *out = sfp_arena_alloc(a, n * 3 + 1);
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out[j++] = (char)c;
        } else if (c == ' ') {
            out[j++] = '+';
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
    return out;
}
