/* cron_benchmarks.h — what the brief reads precomputed, rebuilt by the nightly in its apply
 * transaction: the predictability benchmarks of its day (brief_benchmarks, migration 0070) and
 * the data_quality rows (brief_data_quality, migration 0085). */
#ifndef SFP_CRON_BENCHMARKS_H
#define SFP_CRON_BENCHMARKS_H

#include "cron_internal.h"

/* Inside the nightly's transaction, after timeline_stats is final (its rebuild swapped in):
 * drops every stored benchmark and fills those of the run's today (sfp_cron_today_param) with
 * sfp_brief_benchmarks_fill. On a dry run the transaction is rolled back with the rest.
 * 0, or -1 with the run failed (sfp_cron_fail_db). */
int sfp_cron_brief_benchmarks(sfp_cron_run *r, sfp_conn *c);

/* Inside the nightly's transaction, after its last write to permits, planning_records,
 * tax_rolls and boiler_permits: stores the brief's data_quality rows (brief_data_quality,
 * migration 0085) with sfp_brief_data_quality_fill. 0, or -1 with the run failed. */
int sfp_cron_brief_data_quality(sfp_cron_run *r, sfp_conn *c);

#endif
