/* soda_breaker.h — circuit breaker for the SODA HTTP client: a pure, thread-safe state
 * machine with an injectable clock (no sleeping in tests).
 *
 * ONE breaker per process, shared by every request (the reference made one per request, so it
 * never tripped). The soda client (common/soda_client) owns it; services read it through
 * sfp_soda_breaker() / sfp_breaker_get_stats().
 *
 * States and rules:
 *   closed    every call allowed. A SUCCESS resets the consecutive-failure count; a FAILURE
 *             increments it; at `threshold` consecutive counted failures → open.
 *   open      every call refused (counted in `rejected`) until `open_s` seconds have passed
 *             (or longer if an upstream 429 sent a larger Retry-After, capped at 1 h); the first
 *             allow() after that moves to half_open (lazily, no timer thread).
 *   half_open at most `half_open_probes` calls in flight at once (default 3: one property
 *             report fans out to 3 concurrent SODA queries, so one whole report can probe and,
 *             if SODA is back, come out complete instead of 1 live + 2 stale; a still-down
 *             SODA sees 3 requests per open period instead of 1). Other calls are refused.
 *             The first probe SUCCESS → closed (counts reset); a probe FAILURE → open (timer
 *             restarts); an IGNORED outcome releases the probe permit without counting. If no
 *             probe has reported within `half_open_max_wait_s` of the oldest outstanding probe
 *             being granted, the outstanding probes are dropped and the state returns to open
 *             (its open period counted from that moment), so the breaker can never get stuck
 *             half-open behind a hung call or a caller that forgot to call done().
 *
 * Two-step API: sfp_breaker_allow(&ticket) → call → sfp_breaker_done(ticket, outcome). The
 * ticket carries the state generation; every state change bumps the generation, and outcomes
 * of calls started in an earlier generation are ignored for state purposes (they still count in
 * the successes/failures/ignored totals).
 *
 * Every state change logs exactly one JSON line:
 *   {"msg":"soda breaker state change","breaker":name,"from":..,"to":..,"reason":..,
 *    "consecutive_failures":n,"threshold":t}
 * reasons: "failure_threshold", "open_timeout_elapsed", "probe_succeeded", "probe_failed",
 * "half_open_max_wait".
 */
#ifndef SFP_SODA_BREAKER_H
#define SFP_SODA_BREAKER_H

#include <stdbool.h>
#include <stdint.h>
#include "clock.h"
#include "arena.h"
#include "sfp_err.h"

typedef enum { SFP_BREAKER_CLOSED = 0, SFP_BREAKER_OPEN, SFP_BREAKER_HALF_OPEN } sfp_breaker_state;

typedef enum {
    SFP_BREAKER_SUCCESS = 0, /* 2xx with a usable body */
    SFP_BREAKER_FAILURE,     /* counted: connect/DNS errors, timeouts, HTTP 5xx, 408, 429, garbage body */
    SFP_BREAKER_IGNORED,     /* not counted: other 4xx (our bug), our own limits, cancelled calls */
} sfp_breaker_outcome;

typedef struct sfp_breaker_config {
    int threshold;            /* SODA_CB_THRESHOLD, default 5, 1..1000 */
    int open_s;               /* SODA_CB_TIMEOUT, default 60, 1..86400 */
    int half_open_probes;     /* SODA_CB_HALF_OPEN_PROBES, default 3, 1..100 */
    int half_open_max_wait_s; /* SODA_CB_HALF_OPEN_MAX_WAIT, default 30, 1..86400 */
    const char *name;         /* for logs; default "soda"; must outlive the breaker */
    sfp_clock_fn clock;       /* NULL = CLOCK_MONOTONIC */
    void *clock_arg;
} sfp_breaker_config;

/* A permit to make one call. Plain value; pass it back to sfp_breaker_done exactly once. */
typedef struct sfp_breaker_ticket {
    uint64_t generation;
    bool probe; /* true when taken in half_open (holds a probe permit) */
} sfp_breaker_ticket;

typedef struct sfp_breaker_stats {
    const char *state; /* "closed" | "open" | "half_open" (static string) */
    int consecutive_failures;
    int threshold;
    int open_seconds;     /* configured open period (SODA_CB_TIMEOUT) */
    int half_open_probes; /* configured */
    int probes_in_flight;
    int64_t opens;                  /* transitions to open */
    int64_t rejected;               /* calls refused while open / half_open full */
    int64_t successes;              /* all reported SUCCESS outcomes */
    int64_t failures;               /* all reported FAILURE outcomes (counted failures) */
    int64_t ignored;                /* all reported IGNORED outcomes */
    int64_t transitions;            /* state changes (= log lines written) */
    double seconds_until_half_open; /* > 0 only while open */
} sfp_breaker_stats;

typedef struct sfp_breaker sfp_breaker;

/* Defaults above; then SODA_CB_* env overrides (unset/empty → default). Returns -1 with err
 * naming the variable on a bad value. Does not touch name/clock. */
void sfp_breaker_config_defaults(sfp_breaker_config *c);
int sfp_breaker_config_from_env(sfp_breaker_config *c, sfp_err *err);

/* Copies the config (name pointer kept). Values out of range are clamped to the limits above.
 * Caller owns the breaker; free with sfp_breaker_free (NULL-safe). */
sfp_breaker *sfp_breaker_new(const sfp_breaker_config *c);
void sfp_breaker_free(sfp_breaker *b);

/* Returns true and fills *t when the call may proceed; false (counted as rejected) when the
 * breaker is open or half-open with all probe permits taken. */
bool sfp_breaker_allow(sfp_breaker *b, sfp_breaker_ticket *t);
/* Reports the outcome of an allowed call. retry_after_s > 0 (from a 429/503 Retry-After)
 * makes any open period that starts or is running in this generation last at least that long
 * (capped at 3600 s). */
void sfp_breaker_done(sfp_breaker *b, const sfp_breaker_ticket *t, sfp_breaker_outcome o, int retry_after_s);

/* Current state (applies the lazy half_open max-wait expiry, but never open→half_open). */
sfp_breaker_state sfp_breaker_state_now(sfp_breaker *b);
void sfp_breaker_get_stats(sfp_breaker *b, sfp_breaker_stats *s);
const char *sfp_breaker_state_name(sfp_breaker_state s);

#endif
