/* civil_date.c — see civil_date.h. The conversions are Howard Hinnant's public-domain
 * days_from_civil / civil_from_days algorithms (400-year eras, March-based years). */
#include "civil_date.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int32_t sfp_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2u) / 5u + (unsigned)d - 1u;
    const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void sfp_civil_from_days(int32_t day, int *y, int *m, int *d)
{
    const int z = day + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sfp_parse_iso_day(const char *s, int32_t *day)
{
    if (!s) return -1;
    for (int i = 0; i < 10; i++) {
        if (!s[i]) return -1;
        if (i == 4 || i == 7) {
            if (s[i] != '-') return -1;
        } else if (!isdigit((unsigned char)s[i])) {
            return -1;
        }
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return -1;
    if (d > mdays[m - 1] + (m == 2 && leap(y))) return -1;
    *day = sfp_days_from_civil(y, m, d);
    return 0;
}

void sfp_format_iso_day(int32_t day, char out[11])
{
    int y, m, d;
    sfp_civil_from_days(day, &y, &m, &d);
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", ((y % 10000) + 10000) % 10000, m, d);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

int32_t sfp_today_days(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return sfp_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
