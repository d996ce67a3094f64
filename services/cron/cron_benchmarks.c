/* cron_benchmarks.c — see cron_benchmarks.h. The groups and percentiles are computed by the SQL
 * function sfp_brief_benchmarks_fill (migration 0070), which sfp-seed calls too, so both writers
 * store exactly what the brief's live query would compute for the day.
 *
 * Consistency: timeline_stats is written only by the nightly (in this same transaction, before
 * this step) and by sfp-seed; any write to it empties brief_benchmarks (a statement trigger), so
 * a row read by the brief always matches the timeline_stats it sees. Both count "today" in their
 * process's time zone; a brief of another day than the last fill (after midnight, before the
 * next nightly) finds no row and computes live. */
#include "cron_benchmarks.h"

#include "cron_ingest.h"
#include "log.h"

int sfp_cron_brief_benchmarks(sfp_cron_run *r, sfp_conn *c)
{
    sfp_err err = {0};
    const char *day = sfp_cron_today_param(r);
    if (sfp_cron_tick(r, c, &err)) return sfp_cron_fail_db(r, "nightly: brief benchmarks", &err);
    double t0 = sfp_ingest_now_s();
    if (sfp_db_exec(c, "DELETE FROM brief_benchmarks", 0, NULL, &err))
        return sfp_cron_fail_db(r, "nightly: brief benchmarks", &err);
    PGresult *res = sfp_db_query(c, "SELECT sfp_brief_benchmarks_fill($1::date)", 1, &day, &err);
    if (!res) return sfp_cron_fail_db(r, "nightly: brief benchmarks", &err);
    long long groups = PQntuples(res) == 1 ? sfp_cron_ll(res, 0, 0) : 0;
    PQclear(res);
    sfp_log(SFP_INFO, "nightly derived step", SFP_S("step", "nightly: brief benchmarks"), SFP_S("day", day),
            SFP_I("groups", groups), SFP_D("seconds", sfp_ingest_now_s() - t0));
    return 0;
}

int sfp_cron_brief_data_quality(sfp_cron_run *r, sfp_conn *c)
{
    sfp_err err = {0};
    if (sfp_cron_tick(r, c, &err)) return sfp_cron_fail_db(r, "nightly: brief data quality", &err);
    double t0 = sfp_ingest_now_s();
    PGresult *res = sfp_db_query(c, "SELECT sfp_brief_data_quality_fill()", 0, NULL, &err);
    if (!res) return sfp_cron_fail_db(r, "nightly: brief data quality", &err);
    PQclear(res);
    sfp_log(SFP_INFO, "nightly derived step", SFP_S("step", "nightly: brief data quality"),
            SFP_D("seconds", sfp_ingest_now_s() - t0));
    return 0;
}
