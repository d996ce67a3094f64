/* report_consultant.h — the consultant signal of a property report. Pure: no
 * I/O. The routing factors read the routing progress already attached to each permit by the
 * report's one batched routing query (no queries per permit).
 *
 * Additive score:
 *   +3 active DBI complaint          any complaint with an active status
 *   +2 prior NOVs                    any violation with an active status (incl. "NOV ...")
 *   +2 permit cost > $500K           max estimated_cost over permits > 500,000
 *   +1 permit cost > $100K           else max > 100,000
 *   +2 cost revision > 50%           first permit with estimated > 0, revised ≠ 0 and
 *                                    |revised − estimated| / estimated > 0.5
 *   +1 restrictive zoning            RH-1 family (report_risk.h)
 *   +2 stalled plan review station   a permit in review (filed/plancheck) with a stalled station
 *   +1 multiple revision cycles      a permit in review whose latest addenda_number ≥ 3
 * Tiers: 0 cold, 1–2 warm, 3–4 recommended, 5–7 strongly_recommended, ≥ 8 essential. */
#ifndef SFP_REPORT_CONSULTANT_H
#define SFP_REPORT_CONSULTANT_H

#include <stddef.h>

#include "arena.h"
#include "report_types.h"

typedef struct sfp_rpt_signal_input {
    const sfp_rpt_rec *complaints;
    size_t n_complaints;
    const sfp_rpt_rec *violations;
    size_t n_violations;
    const sfp_rpt_permit *permits; /* with routing */
    size_t n_permits;
    const sfp_rpt_property *property;
} sfp_rpt_signal_input;

void sfp_rpt_signal_compute(const sfp_rpt_signal_input *in, sfp_arena *a, sfp_rpt_signal *out);
/* Tier name and message of a score. */
const char *sfp_rpt_signal_tier(int score);
const char *sfp_rpt_signal_message(const char *tier);

#endif
