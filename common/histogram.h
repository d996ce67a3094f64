/* histogram.h — fixed-bucket latency histogram (milliseconds), cumulative-exportable for
 * Prometheus and good enough for p50/p99 estimates. Not thread-safe: callers lock. */
#ifndef SFP_HISTOGRAM_H
#define SFP_HISTOGRAM_H

#include <stdint.h>

#define SFP_HIST_NBUCKETS 17 /* last one is +Inf */
extern const double sfp_hist_bounds_ms[SFP_HIST_NBUCKETS - 1];

typedef struct sfp_hist {
    uint64_t counts[SFP_HIST_NBUCKETS]; /* per bucket (not cumulative) */
    uint64_t count;
    double sum_ms;
    double max_ms;
} sfp_hist;

void sfp_hist_observe(sfp_hist *h, double ms);
/* q in [0,1]; linear interpolation inside the bucket; 0 when empty. */
double sfp_hist_quantile(const sfp_hist *h, double q);

#endif
