/* cron_job.c — the run context every job shares (cron_internal.h): time budget, failure
 * recording, transactions bounded by the time left, pooled connections, "today". The lowest
 * layer of the service's own code: it calls nothing in the dispatcher or the jobs. */
#include <stdarg.h>
#include <stdio.h>

#include "clock.h"
#include "cron_internal.h"

int64_t sfp_cron_left_ms(const sfp_cron_run *r)
{
    return r->deadline_ms - sfp_mono_ms();
}

int sfp_cron_fail(sfp_cron_run *r, sfp_code code, const char *fmt, ...)
{
    if (r->code) return -1;
    r->code = code ? code : SFP_INTERNAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    return -1;
}

int sfp_cron_fail_db(sfp_cron_run *r, const char *what, const sfp_err *err)
{
    if (err->code == SFP_DEADLINE_EXCEEDED || sfp_cron_left_ms(r) <= 50)
        return sfp_cron_fail(r, SFP_DEADLINE_EXCEEDED,
                             "%s: time budget exhausted (job limit %d s or the caller's deadline)", what, r->limit_s);
    return sfp_cron_fail(r, err->code == SFP_UNAVAILABLE ? SFP_UNAVAILABLE : SFP_INTERNAL, "%s: %s", what,
                         err->msg[0] ? err->msg : "database error");
}

int sfp_cron_tick(sfp_cron_run *r, sfp_conn *c, sfp_err *err)
{
    int64_t left = sfp_cron_left_ms(r);
    if (left <= 0) return sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "no time left");
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", (long long)left);
    const char *p[1] = {ms};
    /* statement_timeout also bounds lock waits, so one setting covers both */
    return sfp_db_exec(c, "SELECT set_config('statement_timeout', $1, true)", 1, p, err);
}

int sfp_cron_begin(sfp_cron_run *r, sfp_conn *c, sfp_err *err)
{
    if (sfp_cron_left_ms(r) <= 0) return sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "no time left");
    if (sfp_db_exec(c, "BEGIN", 0, NULL, err)) return -1;
    const char *wm[1] = {r->svc->cfg.work_mem && *r->svc->cfg.work_mem ? r->svc->cfg.work_mem : "128MB"};
    if (sfp_db_exec(c, "SELECT set_config('work_mem', $1, true)", 1, wm, err) || sfp_cron_tick(r, c, err)) {
        sfp_cron_rollback(c);
        return -1;
    }
    return 0;
}

void sfp_cron_rollback(sfp_conn *c)
{
    sfp_err e = {0};
    sfp_db_exec(c, "ROLLBACK", 0, NULL, &e);
}

sfp_conn *sfp_cron_acquire(sfp_cron_run *r, sfp_err *err)
{
    int64_t left = sfp_cron_left_ms(r);
    if (left <= 0) {
        sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "no time left");
        return NULL;
    }
    return sfp_pool_acquire(r->svc->pool, left < 5000 ? (int)left : -1, err);
}

const char *sfp_cron_today_param(const sfp_cron_run *r)
{
    return r->today;
}
