/* backoff.h — exponential back-off with jitter for reconnecting to a dependency that is down
 * (the Postgres pool and the LISTEN connection use it), with an injectable clock and random
 * source so its schedule is unit-tested without sleeping.
 *
 * Schedule: the k-th consecutive failure (k = 1, 2, ...) allows the next attempt after a delay
 * drawn uniformly from [step/2, step], step = min_ms * 2^(k-1) capped at max_ms ("equal
 * jitter": never zero, so a fleet restarted together spreads out, and never above max_ms, so
 * recovery is noticed within max_ms). A success resets it.
 *
 * Not thread-safe: the owner serialises calls (the pool holds its mutex). */
#ifndef SFP_BACKOFF_H
#define SFP_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>
#include "clock.h"

/* Uniform 32-bit random numbers (tests pass a fake). */
typedef uint32_t (*sfp_rand_fn)(void *arg);

typedef struct sfp_backoff_config {
    int min_ms;         /* first step, >= 1 */
    int max_ms;         /* cap, >= min_ms */
    sfp_clock_fn clock; /* NULL = sfp_mono_clock */
    void *clock_arg;
    sfp_rand_fn rnd; /* NULL = an internal xorshift seeded from the clock and the address */
    void *rnd_arg;
} sfp_backoff_config;

typedef struct sfp_backoff {
    sfp_backoff_config cfg;
    int failures;     /* consecutive */
    double next_at_s; /* clock time from which the next attempt may start */
    uint64_t rng;     /* state of the internal generator */
} sfp_backoff;

void sfp_backoff_init(sfp_backoff *b, const sfp_backoff_config *c);
/* Records a failed attempt; returns the delay (ms) before the next one may start. */
int sfp_backoff_fail(sfp_backoff *b);
/* Records a success: the next failure starts again at min_ms. */
void sfp_backoff_reset(sfp_backoff *b);
/* Milliseconds until the next attempt may start (0 = now). */
int64_t sfp_backoff_wait_ms(const sfp_backoff *b);
double sfp_backoff_now(const sfp_backoff *b); /* the configured clock, seconds */

#endif
