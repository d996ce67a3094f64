/* soda_breaker.c — see soda_breaker.h for the state machine. */
#include "soda_breaker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pbjson.h"

#define RETRY_AFTER_CAP_S 3600

struct sfp_breaker {
    pthread_mutex_t mu;
    sfp_breaker_config cfg;
    sfp_breaker_state state;
    uint64_t generation;
    int consecutive;
    int probes_in_flight;
    double probe_since;       /* when the oldest outstanding probe was granted */
    double open_until;        /* valid while open */
    double retry_after_until; /* lower bound for the next/current open period (0 = none) */
    int64_t opens, rejected, successes, failures, ignored, transitions;
};

/* A transition recorded under the lock and logged after it is released. */
typedef struct transition {
    sfp_breaker_state from, to;
    const char *reason;
    int consecutive;
} transition;

typedef struct pending_log {
    transition t[3];
    int n;
} pending_log;

static double now_of(const sfp_breaker *b)
{
    return b->cfg.clock(b->cfg.clock_arg);
}

const char *sfp_breaker_state_name(sfp_breaker_state s)
{
    switch (s) {
    case SFP_BREAKER_CLOSED: return "closed";
    case SFP_BREAKER_OPEN: return "open";
    default: return "half_open";
    }
}

void sfp_breaker_config_defaults(sfp_breaker_config *c)
{
    memset(c, 0, sizeof *c);
    c->threshold = 5;
    c->open_s = 60;
    c->half_open_probes = 3;
    c->half_open_max_wait_s = 30;
    c->name = "soda";
}

int sfp_breaker_config_from_env(sfp_breaker_config *c, sfp_err *err)
{
    if (sfp_cfg_int("SODA_CB_THRESHOLD", &c->threshold, err)) return -1;
    if (sfp_cfg_int("SODA_CB_TIMEOUT", &c->open_s, err)) return -1;
    if (sfp_cfg_int("SODA_CB_HALF_OPEN_PROBES", &c->half_open_probes, err)) return -1;
    if (sfp_cfg_int("SODA_CB_HALF_OPEN_MAX_WAIT", &c->half_open_max_wait_s, err)) return -1;
    return 0;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

sfp_breaker *sfp_breaker_new(const sfp_breaker_config *c)
{
    sfp_breaker *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    pthread_mutex_init(&b->mu, NULL);
    b->cfg = *c;
    b->cfg.threshold = clampi(c->threshold, 1, 1000);
    b->cfg.open_s = clampi(c->open_s, 1, 86400);
    b->cfg.half_open_probes = clampi(c->half_open_probes, 1, 100);
    b->cfg.half_open_max_wait_s = clampi(c->half_open_max_wait_s, 1, 86400);
    if (!b->cfg.name) b->cfg.name = "soda";
    if (!b->cfg.clock) b->cfg.clock = sfp_mono_clock;
    b->state = SFP_BREAKER_CLOSED;
    b->generation = 1;
    return b;
}

void sfp_breaker_free(sfp_breaker *b)
{
    if (!b) return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* ---- transitions (called with the lock held) ---- */

static void record(sfp_breaker *b, pending_log *pl, sfp_breaker_state to, const char *reason)
{
    if (pl->n < 3) pl->t[pl->n++] = (transition){b->state, to, reason, b->consecutive};
    b->state = to;
    b->generation++;
    b->transitions++;
    b->probes_in_flight = 0;
}

static void to_open(sfp_breaker *b, pending_log *pl, double now, const char *reason)
{
    double until = now + b->cfg.open_s;
    if (b->retry_after_until > until) until = b->retry_after_until;
    b->open_until = until;
    b->opens++;
    record(b, pl, SFP_BREAKER_OPEN, reason);
}

static void to_half_open(sfp_breaker *b, pending_log *pl)
{
    record(b, pl, SFP_BREAKER_HALF_OPEN, "open_timeout_elapsed");
}

static void to_closed(sfp_breaker *b, pending_log *pl, const char *reason)
{
    b->consecutive = 0;
    b->retry_after_until = 0;
    record(b, pl, SFP_BREAKER_CLOSED, reason);
}

/* Half-open with a probe outstanding for longer than the max wait → open (never stuck). The
 * open period counts from the moment the wait expired, not from when it was noticed. */
static void expire_half_open(sfp_breaker *b, pending_log *pl, double now)
{
    double expired_at = b->probe_since + (double)b->cfg.half_open_max_wait_s;
    if (b->state == SFP_BREAKER_HALF_OPEN && b->probes_in_flight > 0 && now >= expired_at)
        to_open(b, pl, expired_at, "half_open_max_wait");
}

static void flush_log(const sfp_breaker *b, const pending_log *pl)
{
    for (int i = 0; i < pl->n; i++) {
        const transition *t = &pl->t[i];
        sfp_log(t->to == SFP_BREAKER_OPEN ? SFP_WARN : SFP_INFO, "soda breaker state change",
                SFP_S("breaker", b->cfg.name), SFP_S("from", sfp_breaker_state_name(t->from)),
                SFP_S("to", sfp_breaker_state_name(t->to)), SFP_S("reason", t->reason),
                SFP_I("consecutive_failures", t->consecutive), SFP_I("threshold", b->cfg.threshold));
    }
}

bool sfp_breaker_allow(sfp_breaker *b, sfp_breaker_ticket *t)
{
    pending_log pl = {.n = 0};
    bool ok = false;
    pthread_mutex_lock(&b->mu);
    double now = now_of(b);
    expire_half_open(b, &pl, now);
    if (b->state == SFP_BREAKER_OPEN && now >= b->open_until) to_half_open(b, &pl);
    switch (b->state) {
    case SFP_BREAKER_CLOSED:
        ok = true;
        t->probe = false;
        break;
    case SFP_BREAKER_HALF_OPEN:
        if (b->probes_in_flight < b->cfg.half_open_probes) {
            if (b->probes_in_flight == 0) b->probe_since = now;
            b->probes_in_flight++;
            ok = true;
            t->probe = true;
        }
        break;
    case SFP_BREAKER_OPEN: break;
    }
    if (ok) t->generation = b->generation;
    else b->rejected++;
    pthread_mutex_unlock(&b->mu);
    flush_log(b, &pl);
    return ok;
}

void sfp_breaker_done(sfp_breaker *b, const sfp_breaker_ticket *t, sfp_breaker_outcome o, int retry_after_s)
{
    pending_log pl = {.n = 0};
    pthread_mutex_lock(&b->mu);
    double now = now_of(b);
    switch (o) {
    case SFP_BREAKER_SUCCESS: b->successes++; break;
    case SFP_BREAKER_FAILURE: b->failures++; break;
    default: b->ignored++; break;
    }
    if (o == SFP_BREAKER_FAILURE && retry_after_s > 0) {
        double until = now + (retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : retry_after_s);
        if (until > b->retry_after_until) b->retry_after_until = until;
        if (b->state == SFP_BREAKER_OPEN && until > b->open_until) b->open_until = until;
    }
    expire_half_open(b, &pl, now);
    if (t->generation == b->generation) {
        if (b->state == SFP_BREAKER_CLOSED) {
            if (o == SFP_BREAKER_SUCCESS) {
                b->consecutive = 0;
                b->retry_after_until = 0;
            } else if (o == SFP_BREAKER_FAILURE) {
                b->consecutive++;
                if (b->consecutive >= b->cfg.threshold) to_open(b, &pl, now, "failure_threshold");
            }
        } else if (b->state == SFP_BREAKER_HALF_OPEN) {
            if (t->probe && b->probes_in_flight > 0) b->probes_in_flight--;
            if (o == SFP_BREAKER_SUCCESS) {
                to_closed(b, &pl, "probe_succeeded");
            } else if (o == SFP_BREAKER_FAILURE) {
                b->consecutive++;
                to_open(b, &pl, now, "probe_failed");
            }
        }
    }
    pthread_mutex_unlock(&b->mu);
    flush_log(b, &pl);
}

sfp_breaker_state sfp_breaker_state_now(sfp_breaker *b)
{
    pending_log pl = {.n = 0};
    pthread_mutex_lock(&b->mu);
    expire_half_open(b, &pl, now_of(b));
    sfp_breaker_state s = b->state;
    pthread_mutex_unlock(&b->mu);
    flush_log(b, &pl);
    return s;
}

void sfp_breaker_get_stats(sfp_breaker *b, sfp_breaker_stats *s)
{
    pending_log pl = {.n = 0};
    pthread_mutex_lock(&b->mu);
    double now = now_of(b);
    expire_half_open(b, &pl, now);
    s->state = sfp_breaker_state_name(b->state);
    s->consecutive_failures = b->consecutive;
    s->threshold = b->cfg.threshold;
    s->open_seconds = b->cfg.open_s;
    s->half_open_probes = b->cfg.half_open_probes;
    s->probes_in_flight = b->probes_in_flight;
    s->opens = b->opens;
    s->rejected = b->rejected;
    s->successes = b->successes;
    s->failures = b->failures;
    s->ignored = b->ignored;
    s->transitions = b->transitions;
    s->seconds_until_half_open = (b->state == SFP_BREAKER_OPEN && b->open_until > now) ? b->open_until - now : 0.0;
    pthread_mutex_unlock(&b->mu);
    flush_log(b, &pl);
}

Sfpermits__V1__BreakerStats *sfp_breaker_stats_pb(sfp_breaker *b, sfp_arena *a)
{
    sfp_breaker_stats s;
    sfp_breaker_get_stats(b, &s);
    Sfpermits__V1__BreakerStats *o = sfp_arena_msg(a, &sfpermits__v1__breaker_stats__descriptor);
    o->state = (Sfpermits__V1__BreakerState)sfp_pbjson_enum_value(
        &sfpermits__v1__breaker_state__descriptor, s.state, SFPERMITS__V1__BREAKER_STATE__BREAKER_STATE_UNSPECIFIED);
    o->consecutive_failures = s.consecutive_failures;
    o->threshold = s.threshold;
    o->open_seconds = s.open_seconds;
    o->opens = s.opens;
    o->rejected = s.rejected;
    o->successes = s.successes;
    o->failures = s.failures;
    o->seconds_until_half_open = s.seconds_until_half_open;
    o->transitions = s.transitions;
    o->ignored = s.ignored;
    return o;
}
