/* cron_benchmarks.h — the brief's predictability benchmarks (brief_benchmarks, migration 0070),
 * rebuilt by the nightly for its day after the derived tables, in its apply transaction. */
#ifndef SFP_CRON_BENCHMARKS_H
#define SFP_CRON_BENCHMARKS_H

#include "cron_internal.h"

/* Inside the nightly's transaction, after timeline_stats is final (its rebuild swapped in):
 * drops every stored benchmark and fills those of the run's today (sfp_cron_today_param) with
 * sfp_brief_benchmarks_fill. On a dry run the transaction is rolled back with the rest.
 * 0, or -1 with the run failed (sfp_cron_fail_db). */
int sfp_cron_brief_benchmarks(sfp_cron_run *r, sfp_conn *c);

#endif
