#include "report_profile.h"

#include <string.h>

#include "report_text.h"

static const char *const ZONING_KEYS[] = {"zoning_code", NULL};
static const char *const USE_KEYS[] = {"use_definition", NULL};
static const char *const CLASS_KEYS[] = {"property_class_code_definition", NULL};
static const char *const NEIGHBORHOOD_KEYS[] = {"neighborhood_code_definition", "analysis_neighborhood",
                                                "assessor_neighborhood", "neighborhood", NULL};
static const char *const YEAR_BUILT_KEYS[] = {"year_property_built", NULL};
static const char *const AREA_KEYS[] = {"property_area", NULL};
static const char *const LOT_AREA_KEYS[] = {"lot_area", NULL};
static const char *const TAX_YEAR_KEYS[] = {"closed_roll_year", "tax_year", NULL};
static const char *const LAND_KEYS[] = {"assessed_land_value", NULL};
static const char *const IMPROVEMENT_KEYS[] = {"assessed_improvement_value", NULL};

const char *sfp_rpt_fmt_area(sfp_arena *a, const char *value)
{
    double v;
    if (!sfp_rpt_parse_double(value, &v) || v < 1) return "";
    char num[40];
    sfp_rpt_fmt_commas(v, num, sizeof num);
    return sfp_arena_printf(a, "%s sq ft", num);
}

static void set_value(sfp_arena *a, sfp_rpt_profile *out, bool known, double total)
{
    out->assessed_value = "";
    if (!known || total == 0) return;
    char money[48];
    sfp_rpt_fmt_money(total, money, sizeof money);
    out->assessed_value = sfp_arena_strdup(a, money);
    out->has_assessed_value_raw = true;
    out->assessed_value_raw = total;
}

void sfp_rpt_profile_compute(const sfp_rpt_parcel_summary *ps, const sfp_rpt_rec *tax, size_t n_tax, sfp_arena *a,
                             sfp_rpt_profile *out)
{
    memset(out, 0, sizeof *out);
    out->assessed_value = out->zoning = out->property_class = out->use_code = out->neighborhood = "";
    out->year_built = out->building_area = out->lot_area = out->tax_year = out->source = "";
    if (ps && ps->present) {
        out->present = true;
        out->source = "parcel_summary";
        set_value(a, out, ps->has_tax_value, ps->tax_value);
        out->zoning = sfp_rpt_trim_dup(a, ps->zoning_code);
        out->use_code = sfp_rpt_trim_dup(a, ps->use_definition);
        out->neighborhood = sfp_rpt_trim_dup(a, ps->neighborhood);
        return;
    }
    if (!tax || !n_tax) return;
    const sfp_rpt_rec *r = &tax[0];
    out->present = true;
    out->source = "tax_roll";
    double land = 0, impr = 0;
    bool has_land = sfp_rpt_parse_double(sfp_rpt_rec_first(r, LAND_KEYS), &land);
    bool has_impr = sfp_rpt_parse_double(sfp_rpt_rec_first(r, IMPROVEMENT_KEYS), &impr);
    set_value(a, out, has_land || has_impr, land + impr);
    out->zoning = sfp_rpt_trim_dup(a, sfp_rpt_rec_first(r, ZONING_KEYS));
    out->property_class = sfp_rpt_trim_dup(a, sfp_rpt_rec_first(r, CLASS_KEYS));
    out->use_code = sfp_rpt_trim_dup(a, sfp_rpt_rec_first(r, USE_KEYS));
    out->neighborhood = sfp_rpt_trim_dup(a, sfp_rpt_rec_first(r, NEIGHBORHOOD_KEYS));
    out->year_built = sfp_rpt_trim_dup(a, sfp_rpt_rec_first(r, YEAR_BUILT_KEYS));
    out->building_area = sfp_rpt_fmt_area(a, sfp_rpt_rec_first(r, AREA_KEYS));
    out->lot_area = sfp_rpt_fmt_area(a, sfp_rpt_rec_first(r, LOT_AREA_KEYS));
    out->tax_year = sfp_rpt_trim_dup(a, sfp_rpt_rec_first(r, TAX_YEAR_KEYS));
}

void sfp_rpt_property_from(const sfp_rpt_parcel_summary *ps, const sfp_rpt_rec *tax, size_t n_tax,
                           sfp_rpt_property *out)
{
    memset(out, 0, sizeof *out);
    out->zoning_code = out->use_definition = "";
    if (ps && ps->present) {
        out->present = true;
        out->zoning_code = sfp_rpt_str(ps->zoning_code);
        out->use_definition = sfp_rpt_str(ps->use_definition);
    } else if (tax && n_tax) {
        out->present = true;
        out->zoning_code = sfp_rpt_rec_first(&tax[0], ZONING_KEYS);
        out->use_definition = sfp_rpt_rec_first(&tax[0], USE_KEYS);
    }
}
