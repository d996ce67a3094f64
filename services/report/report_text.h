/* report_text.h — pure text helpers of the report domain: ISO dates as day numbers,
 * number formatting ("$1,234,567", "1,234 sq ft"), case-insensitive matching and URL
 * encoding. No I/O, no allocation except into caller buffers or the given arena. */
#ifndef SFP_REPORT_TEXT_H
#define SFP_REPORT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "civil_date.h" /* sfp_parse_iso_day, sfp_days_from_civil */

/* Year of a day number. */
int sfp_rpt_day_year(int32_t day);
/* Plausible record date (addenda contain years such as 1721 and 2205): 1990 ≤ year ≤ the year
 * of `today` + 1. */
bool sfp_rpt_day_plausible(int32_t day, int32_t today);

/* Integer part of v (truncated toward zero) with thousands commas: 1234567.9 → "1,234,567".
 * NaN/inf → "0". Writes at most n bytes (n ≥ 32 always suffices). */
void sfp_rpt_fmt_commas(double v, char *out, size_t n);
/* "$" + sfp_rpt_fmt_commas ("-$5" for negatives). */
void sfp_rpt_fmt_money(double v, char *out, size_t n);
/* Parses a decimal number as SODA sends it ("1234.5", " 12 "); false on NULL/empty/garbage. */
bool sfp_rpt_parse_double(const char *s, double *out);

/* NULL → "". */
static inline const char *sfp_rpt_str(const char *s)
{
    return s ? s : "";
}
/* True for NULL, "" or only whitespace. */
bool sfp_rpt_blank(const char *s);
/* ASCII case-insensitive substring test (NULL haystack → false). */
bool sfp_rpt_contains_ci(const char *hay, const char *needle);
/* Case-insensitive whole-word test: needle bounded by non-alphanumerics ("adu" matches
 * "new ADU unit", not "graduate"). */
bool sfp_rpt_has_word_ci(const char *hay, const char *needle);
/* Case-insensitive equality after trimming surrounding whitespace of both sides. */
bool sfp_rpt_eq_ci_trim(const char *a, const char *b);
/* Trimmed, lowercased copy into out (truncated to n-1 bytes). */
void sfp_rpt_lower_trim(const char *s, char *out, size_t n);
/* Trimmed, uppercased copy into out. */
void sfp_rpt_upper_trim(const char *s, char *out, size_t n);
/* Trimmed copy in the arena (NULL → ""). */
char *sfp_rpt_trim_dup(sfp_arena *a, const char *s);

/* application/x-www-form-urlencoded value (space → '+', unreserved kept, rest %XX), in a. */
char *sfp_rpt_urlencode_plus(sfp_arena *a, const char *s);

#endif
