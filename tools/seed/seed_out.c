/* seed_out.c — COPY text-format writer (tab separated, \N for NULL, backslash escapes) with
 * hand-rolled integer and date formatting (this is the hot path of a 9M-row load), plus the
 * calendar helpers. The writer owns its buffer between out_init and out_finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed_internal.h"

#define OUT_FLUSH_AT (1u << 20)
#define OUT_SLACK (64u << 10)

int out_init(seed_out *o, sfp_seed_sink_fn sink, void *ud)
{
    memset(o, 0, sizeof *o);
    o->cap = OUT_FLUSH_AT + OUT_SLACK;
    o->buf = malloc(o->cap);
    o->sink = sink;
    o->ud = ud;
    return o->buf ? 0 : -1;
}

static void out_flush(seed_out *o)
{
    if (o->len && !o->failed && o->sink(o->ud, o->buf, o->len) != 0) o->failed = 1;
    o->len = 0;
}

int64_t out_finish(seed_out *o)
{
    out_flush(o);
    free(o->buf);
    o->buf = NULL;
    return o->failed ? -1 : o->rows;
}

/* Makes room for n more bytes (rows are far below the slack, so this rarely grows). */
static char *out_room(seed_out *o, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = o->cap * 2 + n;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->failed = 1;
            o->len = 0;
            if (n > o->cap) abort(); /* cannot even hold one field: programming error */
            return o->buf;
        }
        o->buf = b;
        o->cap = cap;
    }
    return o->buf + o->len;
}

void out_str(seed_out *o, const char *s)
{
    if (!s) {
        out_null(o);
        return;
    }
    size_t n = strlen(s);
    char *p = out_room(o, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        switch (c) {
        case '\\':
            *p++ = '\\';
            *p++ = '\\';
            break;
        case '\t':
            *p++ = '\\';
            *p++ = 't';
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        case '\r':
            *p++ = '\\';
            *p++ = 'r';
            break;
        default: *p++ = c;
        }
    }
    *p++ = '\t';
    o->len = (size_t)(p - o->buf);
}

void out_null(seed_out *o)
{
    char *p = out_room(o, 3);
    p[0] = '\\';
    p[1] = 'N';
    p[2] = '\t';
    o->len += 3;
}

static char *put_uint(char *p, unsigned long long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

void out_int(seed_out *o, long long v)
{
    char *p = out_room(o, 24);
    if (v < 0) {
        *p++ = '-';
        p = put_uint(p, (unsigned long long)(-(v + 1)) + 1);
    } else {
        p = put_uint(p, (unsigned long long)v);
    }
    *p++ = '\t';
    o->len = (size_t)(p - o->buf);
}

void out_money(seed_out *o, double v)
{
    if (v < 0) out_null(o);
    else out_int(o, (long long)(v + 0.5));
}

void out_dec1(seed_out *o, double v)
{
    long long t = (long long)(v * 10.0 + (v < 0 ? -0.5 : 0.5));
    char *p = out_room(o, 28);
    if (t < 0) {
        *p++ = '-';
        t = -t;
    }
    p = put_uint(p, (unsigned long long)(t / 10));
    *p++ = '.';
    *p++ = (char)('0' + t % 10);
    *p++ = '\t';
    o->len = (size_t)(p - o->buf);
}

/* Days since 1970-01-01 -> civil date (H. Hinnant's algorithm). */
static void civil(int32_t days, int *y, int *m, int *d)
{
    long z = (long)days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

static inline char *put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

static char *put_ymd(char *p, int32_t day)
{
    int y, m, d;
    civil(day, &y, &m, &d);
    p = put2(p, (y / 100) % 100);
    p = put2(p, y % 100);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    return put2(p, d);
}

static char *put_hms(char *p, int secs, char sep)
{
    *p++ = sep;
    p = put2(p, secs / 3600);
    *p++ = ':';
    p = put2(p, secs / 60 % 60);
    *p++ = ':';
    return put2(p, secs % 60);
}

void out_datetime(seed_out *o, int32_t day, int secs)
{
    if (day == SEED_NO_DAY) {
        out_null(o);
        return;
    }
    char *p = out_room(o, 32);
    p = put_ymd(p, day);
    p = put_hms(p, secs, 'T');
    memcpy(p, ".000\t", 5);
    o->len = (size_t)(p + 5 - o->buf);
}

void out_date(seed_out *o, int32_t day)
{
    out_datetime(o, day, 0);
}

void out_day(seed_out *o, int32_t day)
{
    if (day == SEED_NO_DAY) {
        out_null(o);
        return;
    }
    char *p = out_room(o, 16);
    p = put_ymd(p, day);
    *p++ = '\t';
    o->len = (size_t)(p - o->buf);
}

void out_tstz(seed_out *o, int32_t day, int secs)
{
    char *p = out_room(o, 32);
    p = put_ymd(p, day);
    p = put_hms(p, secs, ' ');
    memcpy(p, "+00\t", 4);
    o->len = (size_t)(p + 4 - o->buf);
}

void out_end_row(seed_out *o)
{
    if (o->len && o->buf[o->len - 1] == '\t') o->buf[o->len - 1] = '\n';
    o->rows++;
    if (o->len >= OUT_FLUSH_AT) out_flush(o);
}

void sfp_seed_format_day(int32_t day, char out[11])
{
    char *p = put_ymd(out, day);
    *p = '\0';
}

int sfp_seed_parse_day(const char *s, int32_t *day)
{
    int y, m, d;
    char tail;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return -1;
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31) return -1;
    int32_t v = days_from_civil(y, m, d);
    int yy, mm, dd;
    civil(v, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d) return -1; /* e.g. 2025-02-30 */
    *day = v;
    return 0;
}

void out_dec6(seed_out *o, double v)
{
    char t[48];
    snprintf(t, sizeof t, "%.6f", v);
    out_str(o, t);
}
