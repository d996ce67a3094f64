/* property_profile: number formatting tables, the profile from a SODA tax-roll
 * record (real field names + fallbacks) or from parcel_summary, and the property facts the
 * rules read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "report_profile.h"
#include "report_text.h"

static void test_number_formats(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *commas, *money;
    } t[] = {
        {0, "0", "$0"},
        {7, "7", "$7"},
        {999, "999", "$999"},
        {1000, "1,000", "$1,000"},
        {1234567.89, "1,234,567", "$1,234,567"},
        {-1234.5, "-1,234", "-$1,234"},
        {1e12, "1,000,000,000,000", "$1,000,000,000,000"},
        {NAN, "0", "$0"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char buf[64];
        sfp_rpt_fmt_commas(t[i].v, buf, sizeof buf);
        if (strcmp(buf, t[i].commas)) fail_msg("commas row %zu: '%s' != '%s'", i, buf, t[i].commas);
        sfp_rpt_fmt_money(t[i].v, buf, sizeof buf);
        if (strcmp(buf, t[i].money)) fail_msg("money row %zu: '%s' != '%s'", i, buf, t[i].money);
    }
    sfp_arena *a = sfp_arena_new();
    static const struct {
        const char *in, *out;
    } area[] = {{"2500", "2,500 sq ft"}, {"1234.9", "1,234 sq ft"}, {"0", ""}, {"", ""}, {"abc", ""}, {NULL, ""},
                {" 987 ", "987 sq ft"}};
    for (size_t i = 0; i < sizeof area / sizeof area[0]; i++)
        if (strcmp(sfp_rpt_fmt_area(a, area[i].in), area[i].out)) fail_msg("area row %zu", i);
    sfp_arena_free(a);
}

#define NF 14
typedef struct profile_case {
    const char *name;
    bool summary; /* use the parcel_summary row below */
    bool has_tax_value;
    double tax_value;
    const char *ps_zoning, *ps_use, *ps_hood;
    const char *k[NF], *v[NF]; /* tax-roll record 0 (k[0] NULL = no record) */
    /* expected */
    bool present;
    const char *source, *assessed;
    bool has_raw;
    double raw;
    const char *zoning, *klass, *use, *hood, *year, *area, *lot_area, *tax_year;
} profile_case;

static const profile_case CASES[] = {
    {.name = "no data",
     .present = false,
     .source = "",
     .assessed = "",
     .zoning = "",
     .klass = "",
     .use = "",
     .hood = "",
     .year = "",
     .area = "",
     .lot_area = "",
     .tax_year = ""},
    {.name = "tax roll record with the real field names",
     .k = {"closed_roll_year", "zoning_code", "property_class_code_definition", "use_definition",
           "analysis_neighborhood", "year_property_built", "property_area", "lot_area", "assessed_land_value",
           "assessed_improvement_value"},
     .v = {"2024", "RH-1(D)", "Dwelling", "Single Family Residential", "Inner Sunset", "1925", "1850", "2500.0",
           "800000.5", "434567.9"},
     .present = true,
     .source = "tax_roll",
     .assessed = "$1,234,568",
     .has_raw = true,
     .raw = 1234568.4,
     .zoning = "RH-1(D)",
     .klass = "Dwelling",
     .use = "Single Family Residential",
     .hood = "Inner Sunset",
     .year = "1925",
     .area = "1,850 sq ft",
     .lot_area = "2,500 sq ft",
     .tax_year = "2024"},
    {.name = "neighborhood_code_definition wins over fallbacks; tax_year fallback; zero value → null",
     .k = {"tax_year", "analysis_neighborhood", "neighborhood_code_definition", "neighborhood", "assessed_land_value",
           "assessed_improvement_value"},
     .v = {"2023", "Y", "Outer Mission", "X", "0", "0"},
     .present = true,
     .source = "tax_roll",
     .assessed = "",
     .has_raw = false,
     .zoning = "",
     .klass = "",
     .use = "",
     .hood = "Outer Mission",
     .year = "",
     .area = "",
     .lot_area = "",
     .tax_year = "2023"},
    {.name = "parcel_summary wins (tax roll not consulted)",
     .summary = true,
     .has_tax_value = true,
     .tax_value = 987654.3,
     .ps_zoning = " RH-2 ",
     .ps_use = "Apartments",
     .ps_hood = "Tenderloin",
     .k = {"zoning_code"},
     .v = {"RH-1"},
     .present = true,
     .source = "parcel_summary",
     .assessed = "$987,654",
     .has_raw = true,
     .raw = 987654.3,
     .zoning = "RH-2",
     .klass = "",
     .use = "Apartments",
     .hood = "Tenderloin",
     .year = "",
     .area = "",
     .lot_area = "",
     .tax_year = ""},
    {.name = "parcel_summary without tax value",
     .summary = true,
     .ps_zoning = "",
     .ps_use = "",
     .ps_hood = "",
     .present = true,
     .source = "parcel_summary",
     .assessed = "",
     .zoning = "",
     .klass = "",
     .use = "",
     .hood = "",
     .year = "",
     .area = "",
     .lot_area = "",
     .tax_year = ""},
};

static void run_case(const profile_case *c)
{
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_parcel_summary ps = {.present = c->summary,
                                 .has_tax_value = c->has_tax_value,
                                 .tax_value = c->tax_value,
                                 .zoning_code = sfp_rpt_str(c->ps_zoning),
                                 .use_definition = sfp_rpt_str(c->ps_use),
                                 .neighborhood = sfp_rpt_str(c->ps_hood)};
    sfp_rpt_rec rec = {0, (const char **)c->k, (const char **)c->v};
    while (rec.n < NF && c->k[rec.n]) rec.n++;
    sfp_rpt_profile p;
    sfp_rpt_profile_compute(&ps, rec.n ? &rec : NULL, rec.n ? 1 : 0, a, &p);
    if (p.present != c->present) fail_msg("case '%s': present", c->name);
    const char *got[] = {p.source,       p.assessed_value, p.zoning,        p.property_class, p.use_code,
                         p.neighborhood, p.year_built,     p.building_area, p.lot_area,       p.tax_year};
    const char *want[] = {c->source, c->assessed, c->zoning, c->klass,    c->use,
                          c->hood,   c->year,     c->area,   c->lot_area, c->tax_year};
    const char *names[] = {"source", "assessed", "zoning", "class",    "use",
                           "hood",   "year",     "area",   "lot_area", "tax_year"};
    for (size_t i = 0; i < 10; i++)
        if (strcmp(got[i], want[i])) fail_msg("case '%s': %s '%s' != '%s'", c->name, names[i], got[i], want[i]);
    if (p.has_assessed_value_raw != c->has_raw) fail_msg("case '%s': has_raw", c->name);
    if (c->has_raw && fabs(p.assessed_value_raw - c->raw) > 0.01)
        fail_msg("case '%s': raw %f", c->name, p.assessed_value_raw);

    sfp_rpt_property prop;
    sfp_rpt_property_from(&ps, rec.n ? &rec : NULL, rec.n ? 1 : 0, &prop);
    if (prop.present != c->present) fail_msg("case '%s': property present", c->name);
    sfp_arena_free(a);
}

static void test_profile_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
}

static void test_property_facts_source(void **state)
{
    (void)state;
    const char *k[] = {"zoning_code", "use_definition"};
    const char *v[] = {"RH-1", "Single Family Residential"};
    sfp_rpt_rec rec = {2, k, v};
    sfp_rpt_parcel_summary none = {0};
    sfp_rpt_property p;
    sfp_rpt_property_from(&none, &rec, 1, &p);
    assert_true(p.present);
    assert_string_equal(p.zoning_code, "RH-1");
    assert_string_equal(p.use_definition, "Single Family Residential");
    sfp_rpt_parcel_summary ps = {.present = true, .zoning_code = "RM-1", .use_definition = "Apartments"};
    sfp_rpt_property_from(&ps, &rec, 1, &p);
    assert_string_equal(p.zoning_code, "RM-1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_formats),
        cmocka_unit_test(test_profile_table),
        cmocka_unit_test(test_property_facts_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
