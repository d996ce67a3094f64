/* clock.h — the project's one monotonic clock (CLOCK_MONOTONIC): deadlines, ages, timings.
 * Never the wall clock, so NTP steps cannot move a deadline or an age. */
#ifndef SFP_CLOCK_H
#define SFP_CLOCK_H

#include <stdint.h>

int64_t sfp_mono_ms(void);
int64_t sfp_mono_ns(void);
double sfp_mono_s(void); /* seconds with sub-microsecond resolution (timings) */

/* An injectable clock in seconds (tests pass a fake); NULL in a config means sfp_mono_clock. */
typedef double (*sfp_clock_fn)(void *arg);
double sfp_mono_clock(void *arg); /* sfp_mono_s as an sfp_clock_fn (arg unused) */

#endif
