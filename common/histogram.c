#include "histogram.h"

const double sfp_hist_bounds_ms[SFP_HIST_NBUCKETS - 1] = {0.1, 0.25, 0.5, 1,   2.5,  5,    10,   25,
                                                          50,  100,  250, 500, 1000, 2500, 5000, 10000};

void sfp_hist_observe(sfp_hist *h, double ms)
{
    int i = 0;
    while (i < SFP_HIST_NBUCKETS - 1 && ms > sfp_hist_bounds_ms[i]) i++;
    h->counts[i]++;
    h->count++;
    h->sum_ms += ms;
    if (ms > h->max_ms) h->max_ms = ms;
}

double sfp_hist_quantile(const sfp_hist *h, double q)
{
    if (!h->count) return 0;
    double rank = q * (double)h->count;
    uint64_t seen = 0;
    for (int i = 0; i < SFP_HIST_NBUCKETS; i++) {
        if (!h->counts[i]) continue;
        if ((double)(seen + h->counts[i]) >= rank) {
            double lo = i ? sfp_hist_bounds_ms[i - 1] : 0;
            double hi = i < SFP_HIST_NBUCKETS - 1 ? sfp_hist_bounds_ms[i] : h->max_ms;
            if (hi > h->max_ms) hi = h->max_ms;
            if (lo > hi) lo = hi;
            double frac = (rank - (double)seen) / (double)h->counts[i];
            return lo + (hi - lo) * frac;
        }
        seen += h->counts[i];
    }
    return h->max_ms;
}
