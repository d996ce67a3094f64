/* report_missing.h — "what's missing" findings of a property report, sorted
 * moderate first (stable). Pure: no I/O.
 *
 *  classification_drift (moderate)  walking permits by filed_date (oldest first), the
 *      existing_use changes (case-insensitive) between two consecutive permits that state one,
 *      and no permit from the earlier one to the later one (inclusive) mentions a change of
 *      use, conversion, legalization, ADU or accessory dwelling in its description or type
 *      definition. One item per change.
 *  assessor_mismatch (low)  the assessor's use_definition and the newest permit's existing_use
 *      fall in different use classes (single family ≈ "1 family dwelling", two family ≈
 *      duplex, multi-family ≈ apartments, office, retail, industrial, vacant); a use that fits
 *      no class is not compared (no false alarms on free text).
 *  complaint_to_permit_timing (low)  a permit filed 0–30 days after a complaint's date_filed;
 *      one item per permit (the closest complaint).
 *  missing_companion (low)  one item per triggering permit and kind: a permit whose description
 *      contains "kitchen remodel", "kitchen renovation", "new kitchen" or "commercial kitchen"
 *      while no other permit (another permit number) mentions plumbing, gas or mechanical in
 *      its description or type definition; or whose description contains "elevator" or "lift
 *      installation" while no other permit mentions elevator. Phrases, not the bare word
 *      "kitchen": "new gas line to kitchen range" is itself the gas work. All matching is
 *      case-insensitive substring matching. */
#ifndef SFP_REPORT_MISSING_H
#define SFP_REPORT_MISSING_H

#include <stddef.h>

#include "arena.h"
#include "report_types.h"

typedef struct sfp_rpt_missing_input {
    const sfp_rpt_permit *permits;
    size_t n_permits;
    const sfp_rpt_property *property;
    const sfp_rpt_rec *complaints;
    size_t n_complaints;
} sfp_rpt_missing_input;

size_t sfp_rpt_missing_compute(const sfp_rpt_missing_input *in, sfp_arena *a, sfp_rpt_missing **out);

/* Use class of a free-text use (0 = unknown); equal non-zero classes mean equivalent uses. */
int sfp_rpt_use_class(const char *use);

#endif
