/* report_risk.h — the risk assessment of a property report: nine rules over
 * complaints, violations, permits (with their contacts), zoning and regulatory_watch rows,
 * stable-sorted high → moderate → low. Pure: no I/O; today is a parameter.
 *
 * Rules, in emission order:
 *  1 active_complaint (high)       each complaint whose status is active (report_status.h)
 *  2 active_violation (high)       each violation whose status is active (incl. "NOV ...")
 *  3 high_cost_project (moderate)  per permit, estimated_cost > 500,000;
 *    moderate_cost_project (low)   else > 100,000
 *  4 multiple_active_permits (low) more than one permit on the validity clock (filed,
 *                                  approved, issued, reinstated; SFP_PERMITS_ON_CLOCK —
 *                                  a permit in plan check does not count)
 *  5 restrictive_zoning (low)      zoning RH-1, RH-1(D), RH-1(S), RH-1D, RH-1S
 *  6 dormant_permit (moderate) /   a permit on the validity clock without completed_date whose
 *                                  age since
 *    aging_permit (low)            issued_date (else filed_date) exceeds its Table B validity
 *                                  (SFBC 106A.4.4) / is within 90 days of it
 *  7 unit_count_ambiguity (moderate) ≥ 2 distinct existing_units > 0 across permits
 *  8 high_contractor_turnover (low) ≥ 5 distinct contractor/agent names
 *  9 pending_regulation (moderate if impact high, else low) regulatory_watch rows (monitoring or
 *                                  passed) sharing a concept with the parcel's permit types */
#ifndef SFP_REPORT_RISK_H
#define SFP_REPORT_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "report_types.h"

typedef struct sfp_rpt_risk_input {
    const sfp_rpt_rec *complaints;
    size_t n_complaints;
    const sfp_rpt_rec *violations;
    size_t n_violations;
    const sfp_rpt_permit *permits; /* with contacts; newest first */
    size_t n_permits;
    const sfp_rpt_property *property; /* NULL or !present: no zoning facts */
    const sfp_rpt_reg_watch *watch;
    size_t n_watch;
    int32_t today; /* days since 1970-01-01 */
} sfp_rpt_risk_input;

/* Fills *out (arena array) and returns the number of items. */
size_t sfp_rpt_risk_compute(const sfp_rpt_risk_input *in, sfp_arena *a, sfp_rpt_risk **out);

/* Table B validity in days: demolition (in permit_type_definition) 180; else by cost
 * (revised_cost if non-zero, else estimated_cost): ≥ 2,500,000 → 1440, ≥ 100,001 → 1080,
 * else 360. */
int32_t sfp_rpt_validity_days(const sfp_rpt_permit *p);
/* Explanation paragraph when zoning (trimmed, case-insensitive) is a restrictive RH-1 district,
 * else NULL. Shared with the consultant signal. */
const char *sfp_rpt_restrictive_zoning(const char *zoning);

/* Regulatory concepts of a permit type: bit set of SFP_RPT_CONCEPT_*. */
enum { SFP_RPT_CONCEPT_EXPIRATION = 1, SFP_RPT_CONCEPT_ENFORCEMENT = 2, SFP_RPT_CONCEPT_REQUIREMENTS = 4 };
unsigned sfp_rpt_permit_concepts(const char *permit_type_definition);

#endif
