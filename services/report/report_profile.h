/* report_profile.h — the property_profile section and the property facts the
 * rules read (zoning, use), from the newest SODA tax-roll record (wv5m-vpq2) or the local
 * parcel_summary row. Pure: no I/O.
 *
 * From a tax-roll record: assessed_value = "$1,234,567" of assessed land + improvement value
 * ("" and no raw value when the total is 0 or unknown); zoning = zoning_code; property_class =
 * property_class_code_definition; use_code = use_definition; neighborhood =
 * neighborhood_code_definition, else analysis_neighborhood, assessor_neighborhood, neighborhood
 * (the first alone is not in the dataset); year_built =
 * year_property_built; building_area / lot_area = "N,NNN sq ft" of property_area / lot_area
 * ("" when 0 or unknown); tax_year = closed_roll_year (else tax_year); source "tax_roll".
 * From parcel_summary: assessed value from tax_value, zoning, use_code, neighborhood; the other
 * fields ""; source "parcel_summary". Empty strings stay "" (null). Numbers are truncated to
 * integers with thousands commas. */
#ifndef SFP_REPORT_PROFILE_H
#define SFP_REPORT_PROFILE_H

#include "arena.h"
#include "report_types.h"

/* parcel_summary wins when present (the tax roll is then not fetched); else the first tax-roll
 * record (newest closed_roll_year); else out->present = false. */
void sfp_rpt_profile_compute(const sfp_rpt_parcel_summary *ps, const sfp_rpt_rec *tax, size_t n_tax, sfp_arena *a,
                             sfp_rpt_profile *out);
/* The same choice for the rules' property facts. */
void sfp_rpt_property_from(const sfp_rpt_parcel_summary *ps, const sfp_rpt_rec *tax, size_t n_tax,
                           sfp_rpt_property *out);
/* "1,234 sq ft" of a SODA number string, "" when empty, unparseable or ≤ 0. */
const char *sfp_rpt_fmt_area(sfp_arena *a, const char *value);

#endif
