/* cron_rules.h — the cron service's pure rules (no I/O; unit-tested in
 * tests/unit/test_cron_rules.c): the job catalogue and its advisory-lock keys, the bearer
 * check, property-health tiers, the signal catalogue, the velocity-refresh rules that the SQL
 * of cron_velocity.c implements set-based (percentile_cont, rounding, transition probability,
 * congestion baseline and label — the tests compare the SQL's rows with these), the nightly
 * window (catch-up capped at 30 days), retry back-off, time budgets and sfp-cronctl's exit codes.
 *
 * Ownership: every string returned is static; inputs are borrowed. */
#ifndef SFP_CRON_RULES_H
#define SFP_CRON_RULES_H

#include <grpc/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- jobs ---- */
typedef enum {
    SFP_CRON_JOB_SIGNALS = 1,
    SFP_CRON_JOB_VELOCITY = 2,
    SFP_CRON_JOB_COMPUTE_CACHES = 3,
    SFP_CRON_JOB_NIGHTLY = 4,
    SFP_CRON_JOB_HEARTBEAT = 5,
    SFP_CRON_JOB_STATUS = 6, /* not a job: GetStatus (no lock, no secret) */
} sfp_cron_job;

/* Advisory locks: pg_try_advisory_lock(SFP_CRON_LOCK_NS, job) — the two-int key space, so no
 * collision with the page cache ('PGCA') or anything using the bigint form. */
#define SFP_CRON_LOCK_NS 0x5F50

/* cron_log.job_type: "signals", "velocity_refresh", "compute_caches", "nightly", "heartbeat". */
const char *sfp_cron_job_type(sfp_cron_job j);
/* CLI / URL name: "signals", "velocity-refresh", "compute-caches", "nightly", "heartbeat",
 * "status". */
const char *sfp_cron_job_cli_name(sfp_cron_job j);
/* CLI / URL name → job; 0 when unknown. */
sfp_cron_job sfp_cron_job_from_cli(const char *name);
/* "/sfpermits.v1.CronService/RunSignals", ... */
const char *sfp_cron_job_rpc_path(sfp_cron_job j);

/* ---- auth ---- */
/* True iff secret (surrounding blanks ignored) is non-empty and authorization is a Bearer
 * credential (common/bearer.h: scheme case-insensitive per RFC 7235, blanks around) whose token
 * is exactly the secret. The comparison time does not depend on where the strings differ (nor
 * on the secret's content). NULL authorization/secret → false. */
bool sfp_cron_auth_ok(const char *authorization, const char *secret);

/* ---- signals ---- */
typedef struct sfp_cron_signal_type {
    const char *type, *severity, *source, *actionable, *description;
    bool has_detector; /* station_slow: catalogue only */
} sfp_cron_signal_type;
/* The 13-entry catalogue (12 detectors + station_slow), in detector order. */
const sfp_cron_signal_type *sfp_cron_signal_catalog(size_t *n);
/* hold_comments, hold_stalled_planning, nov, abatement, expired_uninspected, stale_with_activity */
bool sfp_cron_signal_compounding(const char *type);

/* Tier of a property from its signals (type[i] with severity[i]): ≥ 2 distinct compounding
 * types at severity at_risk → "high_risk"; else any at_risk → "at_risk"; any behind →
 * "behind"; any slower → "slower"; else "on_track". */
const char *sfp_cron_tier(const char *const *types, const char *const *severities, size_t n);

/* ---- velocity refresh ---- */
#define SFP_CRON_VEL_MIN_SAMPLES 10
#define SFP_CRON_VEL_MIN_CURRENT 30
#define SFP_CRON_TRANSITION_MIN 5
/* percentile_cont over sorted[0..n) (ascending), 0 <= p <= 1, linear interpolation between
 * the closest ranks, as Postgres computes it. n == 0 → NAN. */
double sfp_cron_percentile_cont(const double *sorted, size_t n, double p);
/* The percentiles' rounding: 1 decimal with the one rounding rule of common/severity.h
 * (sfp_round_half_even = Python's round: exact binary value, ties to even): 21.25 → 21.2,
 * 0.15 → 0.1. */
double sfp_cron_round1(double x);

/* Probability of the transition from → to that was seen `count` times, given the counts of
 * every transition out of `from` (from_counts[0..n), `count` among them): only pairs seen at
 * least SFP_CRON_TRANSITION_MIN times are kept, and the denominator is the sum over the KEPT
 * pairs only (6 to BLDG + 2 to CPB → BLDG 1.0, CPB not kept). Rounded to 4 decimals half away
 * from zero on the exact quotient (numeric round(count::numeric / total, 4), as the replaced
 * system computes it in SQL). NAN when the pair itself is not kept. */
double sfp_cron_transition_probability(long count, const long *from_counts, size_t n);

/* Baseline queue of a station from its queues (arrived, not finished) at the four snapshots
 * today − 3/6/9/12 months: the mean over the snapshots in which the station HAD a queue
 * (5, 0, 0, 0 → 5); NAN when it had none in any (no baseline: ratio and baseline are NULL). */
double sfp_cron_congestion_baseline(const long snapshot_queue[4]);

/* queue < 3 → "normal"; no baseline (ratio NAN) → "normal"; ratio > 1.5 "congested";
 * > 1.15 "busy"; < 0.7 "clearing"; else "normal". A station with no current queue gets no
 * row at all. */
const char *sfp_cron_congestion_label(long queue, double ratio);

/* ---- nightly ---- */
#define SFP_CRON_NIGHTLY_MAX_CATCHUP 30
/* The ingest window in days. override_days > 0: clamped to 1..90, no catch-up. Else: 1 day,
 * widened to min(days_since_success + 1, 30) (was_catchup) when the last successful run
 * started more than 1 day ago; no successful run at all → 1 day. */
int sfp_cron_nightly_lookback(int override_days, bool has_last_success, double days_since_success, bool *catchup);
/* Delay before retry number `retry` (1-based): base_ms × 2^(retry−1) (2 s, 4 s, 8 s with
 * base 2000), capped at 60 s; at least retry_after_s × 1000 when the server sent one. */
int64_t sfp_cron_backoff_ms(int retry, int base_ms, int retry_after_s);

/* ---- time ---- */
/* Milliseconds a job may run: min(deadline_left_ms − margin_ms, limit_s × 1000); may be
 * <= 0 (no time). deadline_left_ms INT64_MAX = no deadline. */
int64_t sfp_cron_budget_ms(int64_t deadline_left_ms, int limit_s, int margin_ms);

/* ---- sfp-cronctl ---- */
enum {
    SFP_CRONCTL_OK = 0,          /* job succeeded (or status read) */
    SFP_CRONCTL_FAILED = 1,      /* job ran and failed (INTERNAL...), or another server error */
    SFP_CRONCTL_USAGE = 2,       /* bad arguments or configuration: do not retry */
    SFP_CRONCTL_BUSY = 3,        /* already running (ABORTED) */
    SFP_CRONCTL_TIMEOUT = 4,     /* DEADLINE_EXCEEDED (client timeout or job limit) */
    SFP_CRONCTL_UNAVAILABLE = 5, /* service, its database or SODA unreachable (also a job that failed so) */
    SFP_CRONCTL_UNAUTH = 6,      /* wrong or missing CRON_SECRET (UNAUTHENTICATED/PERMISSION_DENIED) */
};
/* Exit code of a call that returned `code`: a job that ran and failed is a non-OK status. */
int sfp_cronctl_exit_code(grpc_status_code code);

#endif
