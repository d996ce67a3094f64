/* civil_date.h — calendar days as integers: days since 1970-01-01 (proleptic Gregorian),
 * ISO "YYYY-MM-DD" text, and "today" in the process's time zone. The one place the suite does
 * date arithmetic; pure except sfp_today_days, which reads the clock and TZ. */
#ifndef SFP_CIVIL_DATE_H
#define SFP_CIVIL_DATE_H

#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1..12), day d (1..31); not validated. */
int32_t sfp_days_from_civil(int y, int m, int d);
/* The inverse: *y, *m (1..12), *d (1..31) of a day number. */
void sfp_civil_from_days(int32_t day, int *y, int *m, int *d);
/* Parses the first 10 characters of s as YYYY-MM-DD (so a SODA floating timestamp
 * "2024-03-05T00:00:00.000" is that day). Returns 0 and *day, or -1 (NULL, short, bad digits,
 * month or day out of range, 29 February of a common year). */
int sfp_parse_iso_day(const char *s, int32_t *day);
/* Writes day as "YYYY-MM-DD" (years outside 0..9999 are cut to four digits). */
void sfp_format_iso_day(int32_t day, char out[11]);
/* Today in the process's local time zone (the TZ variable, else the system's): the one
 * definition of "today" for every service, so a report, a brief and a cron job started at the
 * same moment agree on the date. */
int32_t sfp_today_days(void);

#endif
