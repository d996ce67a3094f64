#include "clock.h"

#include <time.h>

int64_t sfp_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sfp_mono_ms(void)
{
    return sfp_mono_ns() / 1000000;
}

double sfp_mono_s(void)
{
    return (double)sfp_mono_ns() / 1e9;
}

double sfp_mono_clock(void *arg)
{
    (void)arg;
    return sfp_mono_s();
}
