/* promcheck.h — strict Prometheus text-format (0.0.4) checker for tests: metric/label name
 * syntax, quoted and escaped label values, values (floats, NaN, ±Inf), one HELP/TYPE per
 * family before its samples, contiguous families, no duplicate series, non-negative
 * counters, histogram invariants (le increasing, cumulative buckets, +Inf == _count, _sum
 * present), body ending in a newline. */
#ifndef SFP_PROMCHECK_H
#define SFP_PROMCHECK_H

#include <stddef.h>

/* 0 when valid; -1 with "line N: reason" in err. */
int sfp_prom_check(const char *text, char *err, size_t errn);
/* Value of the first sample `name` whose label block contains label_substr (NULL: any);
 * NAN when absent. */
double sfp_prom_value(const char *text, const char *name, const char *label_substr);
/* GET http://127.0.0.1:port/metrics, require 200 + text/plain; version=0.0.4, run the checker.
 * Returns the body (caller frees) or NULL with the reason in err. */
char *sfp_prom_scrape(int port, char *err, size_t errn);

#endif
