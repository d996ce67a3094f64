/* report_routing.h — plan-review routing progress from the addenda rows of a permit's latest
 * revision. Pure: no I/O; today is a parameter.
 *
 * A station is complete ⇔ finish_date is set; approved ⇔ review_results contains "approv";
 * comments ⇔ it contains "comment" (case-insensitive); held ⇔ non-blank hold_description.
 * A pending station's days = today − arrive (first 10 chars); stalled ⇔ pending, not held,
 * days > SFP_RPT_STALLED_DAYS. pct = completed*100/total (integer division). latest = the
 * completed station with the greatest finish_date (first one on ties).
 *
 * On purpose: addenda carry garbage years (1721, 2205), so dates
 * outside 1990..(today's year + 1) never make a station stalled nor "latest". */
#ifndef SFP_REPORT_ROUTING_H
#define SFP_REPORT_ROUTING_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "report_types.h"

#define SFP_RPT_STALLED_DAYS 30

/* rows: the latest revision's stations in step order. NULL when n == 0 (a permit without
 * addenda has no routing). The result and its arrays live in a. */
const sfp_rpt_routing *sfp_rpt_routing_compute(const sfp_rpt_addenda_row *rows, size_t n, int32_t today, sfp_arena *a);

#endif
