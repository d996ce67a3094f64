#include "backoff.h"

#include <math.h>

double sfp_backoff_now(const sfp_backoff *b)
{
    return b->cfg.clock ? b->cfg.clock(b->cfg.clock_arg) : sfp_mono_s();
}

void sfp_backoff_init(sfp_backoff *b, const sfp_backoff_config *c)
{
    b->cfg = *c;
    if (b->cfg.min_ms < 1) b->cfg.min_ms = 1;
    if (b->cfg.max_ms < b->cfg.min_ms) b->cfg.max_ms = b->cfg.min_ms;
    b->failures = 0;
    b->next_at_s = 0;
    b->rng = (uint64_t)sfp_mono_ns() ^ ((uint64_t)(uintptr_t)b << 17) ^ 0x9e3779b97f4a7c15ull;
    if (!b->rng) b->rng = 1;
}

static uint32_t next_rand(sfp_backoff *b)
{
    if (b->cfg.rnd) return b->cfg.rnd(b->cfg.rnd_arg);
    uint64_t x = b->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    b->rng = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

int sfp_backoff_fail(sfp_backoff *b)
{
    int64_t step = b->cfg.min_ms;
    for (int i = 0; i < b->failures && step < b->cfg.max_ms; i++) step *= 2;
    if (step > b->cfg.max_ms) step = b->cfg.max_ms;
    b->failures++;
    int64_t half = step / 2;
    int64_t delay = half + (int64_t)(next_rand(b) % (uint32_t)(step - half + 1));
    b->next_at_s = sfp_backoff_now(b) + (double)delay / 1000.0;
    return (int)delay;
}

void sfp_backoff_reset(sfp_backoff *b)
{
    b->failures = 0;
    b->next_at_s = 0;
}

int64_t sfp_backoff_wait_ms(const sfp_backoff *b)
{
    double left = b->next_at_s - sfp_backoff_now(b);
    double ms = ceil(left * 1000.0 - 1e-6); /* no rounding noise of the float clock */
    return ms <= 0 ? 0 : (int64_t)ms;
}
