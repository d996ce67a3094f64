/* cron_rules.c — see cron_rules.h. */
#include "bearer.h"
#include "cron_rules.h"

#include <math.h>
#include <string.h>

#include "severity.h"

typedef struct job_info {
    sfp_cron_job job;
    const char *type, *cli, *rpc;
} job_info;

static const job_info k_jobs[] = {
    {SFP_CRON_JOB_SIGNALS, "signals", "signals", "/sfpermits.v1.CronService/RunSignals"},
    {SFP_CRON_JOB_VELOCITY, "velocity_refresh", "velocity-refresh", "/sfpermits.v1.CronService/RunVelocityRefresh"},
    {SFP_CRON_JOB_COMPUTE_CACHES, "compute_caches", "compute-caches", "/sfpermits.v1.CronService/RunComputeCaches"},
    {SFP_CRON_JOB_NIGHTLY, "nightly", "nightly", "/sfpermits.v1.CronService/RunNightly"},
    {SFP_CRON_JOB_HEARTBEAT, "heartbeat", "heartbeat", "/sfpermits.v1.CronService/RunHeartbeat"},
    {SFP_CRON_JOB_STATUS, "status", "status", "/sfpermits.v1.CronService/GetStatus"},
};
#define NJOBS (sizeof k_jobs / sizeof k_jobs[0])

static const job_info *job_find(sfp_cron_job j)
{
    for (size_t i = 0; i < NJOBS; i++)
        if (k_jobs[i].job == j) return &k_jobs[i];
    return NULL;
}

const char *sfp_cron_job_type(sfp_cron_job j)
{
    const job_info *i = job_find(j);
    return i ? i->type : "unknown";
}

const char *sfp_cron_job_cli_name(sfp_cron_job j)
{
    const job_info *i = job_find(j);
    return i ? i->cli : "unknown";
}

const char *sfp_cron_job_rpc_path(sfp_cron_job j)
{
    const job_info *i = job_find(j);
    return i ? i->rpc : NULL;
}

sfp_cron_job sfp_cron_job_from_cli(const char *name)
{
    if (!name) return 0;
    for (size_t i = 0; i < NJOBS; i++)
        if (!strcmp(k_jobs[i].cli, name)) return k_jobs[i].job;
    return 0;
}

/* ---------------- auth ---------------- */

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char *s, const char **start, size_t *len)
{
    while (*s && blank(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && blank(s[n - 1])) n--;
    *start = s;
    *len = n;
}

bool sfp_cron_auth_ok(const char *authorization, const char *secret)
{
    if (!authorization || !secret) return false;
    const char *sec, *tok;
    size_t sec_len, tok_len = 0;
    trim(secret, &sec, &sec_len);
    if (sec_len == 0) return false;
    tok = sfp_bearer_token(authorization, &tok_len); /* scheme case-insensitive (RFC 7235) */
    if (!tok) return false;
    /* Compare the token against the secret over the token's full length: every byte is
     * touched whatever the outcome, and the loop never reads past either string. */
    volatile unsigned char diff = (unsigned char)(tok_len != sec_len);
    for (size_t i = 0; i < tok_len; i++) {
        unsigned char expect = i < sec_len ? (unsigned char)sec[i] : 0;
        diff |= (unsigned char)((unsigned char)tok[i] ^ expect);
        if (i >= sec_len) diff |= 1;
    }
    return diff == 0;
}

/* ---------------- signals ---------------- */

static const sfp_cron_signal_type k_catalog[] = {
    {"hold_comments", "at_risk", "addenda", "yes", "Plan review issued comments at a station", true},
    {"hold_stalled_planning", "at_risk", "addenda", "yes", "Planning review open for more than a year", true},
    {"hold_stalled", "behind", "addenda", "warning", "Station review open 30-365 days", true},
    {"nov", "at_risk", "violations", "yes", "Open notice of violation on the parcel", true},
    {"abatement", "at_risk", "violations", "yes", "Open abatement order or director's hearing", true},
    {"expired_uninspected", "at_risk", "permits+inspections", "yes", "Expired after inspections without a final", true},
    {"stale_with_activity", "at_risk", "permits+inspections", "yes", "Issued over 2 years ago with recent inspections",
     true},
    {"expired_minor_activity", "behind", "permits+inspections", "warning", "Expired with 1-3 inspections", true},
    {"expired_inconclusive", "behind", "permits", "warning", "Expired without inspections", true},
    {"complaint", "slower", "complaints", "info", "Open complaint without a violation", true},
    {"expired_otc", "slower", "permits", "info", "Expired over-the-counter permit", true},
    {"stale_no_activity", "slower", "permits", "info", "Issued over 2 years ago, no recent inspections", true},
    {"station_slow", "behind", "addenda+velocity", "warning", "Station slower than its typical velocity", false},
};

const sfp_cron_signal_type *sfp_cron_signal_catalog(size_t *n)
{
    *n = sizeof k_catalog / sizeof k_catalog[0];
    return k_catalog;
}

static const char *const k_compounding[] = {"hold_comments", "hold_stalled_planning", "nov",
                                            "abatement",     "expired_uninspected",   "stale_with_activity"};
#define NCOMP (sizeof k_compounding / sizeof k_compounding[0])

bool sfp_cron_signal_compounding(const char *type)
{
    if (!type) return false;
    for (size_t i = 0; i < NCOMP; i++)
        if (!strcmp(type, k_compounding[i])) return true;
    return false;
}

const char *sfp_cron_tier(const char *const *types, const char *const *severities, size_t n)
{
    bool seen[NCOMP] = {false};
    size_t distinct = 0;
    bool at_risk = false, behind = false, slower = false;
    for (size_t i = 0; i < n; i++) {
        const char *sev = severities[i] ? severities[i] : "";
        if (!strcmp(sev, "at_risk")) {
            at_risk = true;
            for (size_t k = 0; k < NCOMP; k++)
                if (types[i] && !strcmp(types[i], k_compounding[k]) && !seen[k]) {
                    seen[k] = true;
                    distinct++;
                }
        } else if (!strcmp(sev, "behind")) {
            behind = true;
        } else if (!strcmp(sev, "slower")) {
            slower = true;
        }
    }
    if (distinct >= 2) return "high_risk";
    if (at_risk) return "at_risk";
    if (behind) return "behind";
    if (slower) return "slower";
    return "on_track";
}

/* ---------------- velocity ---------------- */

double sfp_cron_percentile_cont(const double *sorted, size_t n, double p)
{
    if (n == 0) return NAN;
    if (p <= 0) return sorted[0];
    if (p >= 1) return sorted[n - 1];
    double pos = p * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

double sfp_cron_round1(double x)
{
    return sfp_round_half_even(x, 1);
}

double sfp_cron_transition_probability(long count, const long *from_counts, size_t n)
{
    if (count < SFP_CRON_TRANSITION_MIN) return NAN;
    long long total = 0;
    for (size_t i = 0; i < n; i++)
        if (from_counts[i] >= SFP_CRON_TRANSITION_MIN) total += from_counts[i];
    if (total <= 0) return NAN;
    /* round(count / total, 4) half away from zero, in integers: floor((2·count·10⁴ + total) / (2·total)) */
    long long q = (2LL * count * 10000 + total) / (2 * total);
    return (double)q / 10000.0;
}

double sfp_cron_congestion_baseline(const long snapshot_queue[4])
{
    long sum = 0;
    int with_queue = 0;
    for (int i = 0; i < 4; i++)
        if (snapshot_queue[i] > 0) {
            sum += snapshot_queue[i];
            with_queue++;
        }
    return with_queue ? (double)sum / with_queue : NAN;
}

const char *sfp_cron_congestion_label(long queue, double ratio)
{
    if (queue < 3) return "normal";
    if (isnan(ratio)) return "normal";
    if (ratio > 1.5) return "congested";
    if (ratio > 1.15) return "busy";
    if (ratio < 0.7) return "clearing";
    return "normal";
}

/* ---------------- nightly ---------------- */

int sfp_cron_nightly_lookback(int override_days, bool has_last_success, double days_since_success, bool *catchup)
{
    if (catchup) *catchup = false;
    if (override_days > 0) return override_days > 90 ? 90 : override_days;
    if (!has_last_success || !(days_since_success > 1.0)) return 1;
    double d = ceil(days_since_success) + 1.0;
    if (d > SFP_CRON_NIGHTLY_MAX_CATCHUP) d = SFP_CRON_NIGHTLY_MAX_CATCHUP;
    if (catchup) *catchup = true;
    return (int)d;
}

int64_t sfp_cron_backoff_ms(int retry, int base_ms, int retry_after_s)
{
    if (retry < 1) retry = 1;
    if (base_ms < 0) base_ms = 0;
    int64_t d = base_ms;
    for (int i = 1; i < retry && d < 60000; i++) d *= 2;
    if (d > 60000) d = 60000;
    int64_t ra = (int64_t)(retry_after_s > 0 ? retry_after_s : 0) * 1000;
    if (ra > 60000) ra = 60000;
    return d > ra ? d : ra;
}

/* ---------------- time ---------------- */

int64_t sfp_cron_budget_ms(int64_t deadline_left_ms, int limit_s, int margin_ms)
{
    int64_t limit = (int64_t)limit_s * 1000;
    if (deadline_left_ms == INT64_MAX) return limit;
    int64_t d = deadline_left_ms - margin_ms;
    return d < limit ? d : limit;
}

/* ---------------- cronctl ---------------- */

int sfp_cronctl_exit_code(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_OK: return SFP_CRONCTL_OK;
    case GRPC_STATUS_ABORTED:
    case GRPC_STATUS_ALREADY_EXISTS: return SFP_CRONCTL_BUSY;
    case GRPC_STATUS_DEADLINE_EXCEEDED: return SFP_CRONCTL_TIMEOUT;
    case GRPC_STATUS_UNAVAILABLE: return SFP_CRONCTL_UNAVAILABLE;
    case GRPC_STATUS_UNAUTHENTICATED:
    case GRPC_STATUS_PERMISSION_DENIED: return SFP_CRONCTL_UNAUTH;
    case GRPC_STATUS_INVALID_ARGUMENT: return SFP_CRONCTL_USAGE;
    default: return SFP_CRONCTL_FAILED;
    }
}
