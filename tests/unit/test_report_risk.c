/* Risk assessment: a table of cases over the nine rules, each case listing the
 * exact "severity:risk_type" sequence expected (which also pins the stable high → moderate →
 * low order) and optional title/link checks. Today is injected: 2026-02-12. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_risk.h"
#include "report_text.h"

#define MAXN 8

typedef struct rec_spec {
    const char *k[6], *v[6];
} rec_spec;

typedef struct contact_spec {
    const char *role, *name;
} contact_spec;

typedef struct permit_spec {
    const char *pn, *status, *type_def, *filed, *issued, *completed;
    double est, rev; /* 0 = NULL */
    int units;       /* 0 = NULL */
    contact_spec contacts[MAXN];
} permit_spec;

typedef struct watch_spec {
    const char *title, *status, *impact, *url;
    const char *concepts[4];
} watch_spec;

typedef struct risk_case {
    const char *name;
    rec_spec complaints[MAXN];
    rec_spec violations[MAXN];
    permit_spec permits[MAXN];
    const char *zoning; /* NULL = no property data */
    watch_spec watch[MAXN];
    const char *expect[16];    /* "sev:type" in order */
    const char *title_has[16]; /* substring expected in the title of item i (NULL = no check) */
    const char *link_is[16];   /* exact link of item i (NULL = no check) */
} risk_case;

#define C(status, desc)                                                        \
    {                                                                          \
        {"complaint_number", "status", "complaint_description", "date_filed"}, \
        {                                                                      \
            "202401015555", status, desc, "2024-01-01T00:00:00.000"            \
        }                                                                      \
    }

static const risk_case CASES[] = {
    {.name = "empty parcel", .expect = {NULL}},
    {.name = "active complaint uses complaint_description and links to its number",
     .complaints = {C("ACTIVE", "Work without permit")},
     .expect = {"high:active_complaint"},
     .title_has = {"Active DBI complaint — Work without permit"},
     .link_is = {"/?q=202401015555"}},
    {.name = "NOT ACTIVE / not active / inactive / closed complaints are not active (ref bug 9.4)",
     .complaints = {C("NOT ACTIVE", "x"), C("not active", "x"), C("Inactive", "x"), C("closed", "x")},
     .expect = {NULL}},
    {.name = "complaint without description falls back to complaint_type, then 'complaint on file'",
     .complaints = {{{"status", "complaint_type"}, {"open", "Noise"}}, {{"status"}, {"Open"}}},
     .expect = {"high:active_complaint", "high:active_complaint"},
     .title_has = {"— Noise", "— complaint on file"},
     .link_is = {"", ""}},
    {.name = "violations: NOV/open/active are active, closed/complied/abated are not; real field names",
     .violations = {{{"complaint_number", "status", "nov_category_description"}, {"201", "NOV issued", "fire section"}},
                    {{"status", "nov_item_description"}, {"open", "Unsafe stairs"}},
                    {{"status"}, {"closed"}},
                    {{"status"}, {"complied"}},
                    {{"status"}, {"CLOSED - NOV ABATED"}},
                    {{"status"}, {"not active"}}},
     .expect = {"high:active_violation", "high:active_violation"},
     .title_has = {"— fire section", "— Unsafe stairs"},
     .link_is = {"", ""}},
    {.name = "cost thresholds are strict: >500K moderate, >100K low, 100K and NULL nothing",
     .permits = {{.pn = "P1", .status = "complete", .est = 600000},
                 {.pn = "P2", .status = "complete", .est = 150000},
                 {.pn = "P3", .status = "complete", .est = 100000},
                 {.pn = "P4", .status = "complete", .est = 500000},
                 {.pn = "P5", .status = "complete"}},
     .expect = {"moderate:high_cost_project", "low:moderate_cost_project", "low:moderate_cost_project"},
     .title_has = {"$600,000", "$150,000", "$500,000"},
     .link_is = {"/?q=P1", "/?q=P2", "/?q=P4"}},
    {.name = "more than one active permit: filed, approved, issued, reinstated count",
     .permits = {{.pn = "P1", .status = "filed"},
                 {.pn = "P2", .status = "approved"},
                 {.pn = "P3", .status = "issued"},
                 {.pn = "P4", .status = "reinstated"},
                 {.pn = "P5", .status = "complete"}},
     .expect = {"low:multiple_active_permits"},
     .title_has = {"4 active permits"}},
    {.name = "one plancheck and one issued permit: plan check is not active → no item",
     .permits = {{.pn = "P1", .status = "plancheck"}, {.pn = "P2", .status = "issued"}},
     .expect = {NULL}},
    {.name = "plancheck is not counted: 3 on the clock + 2 in plan check → 3 active permits",
     .permits = {{.pn = "P1", .status = "plancheck"},
                 {.pn = "P2", .status = "filed"},
                 {.pn = "P3", .status = "Plan Check"},
                 {.pn = "P4", .status = "approved"},
                 {.pn = "P5", .status = "issued"}},
     .expect = {"low:multiple_active_permits"},
     .title_has = {"3 active permits"}},
    {.name = "an old plancheck permit is not dormant nor aging; an old approved one is",
     .permits = {{.pn = "P1", .status = "plancheck", .filed = "2020-01-01"},
                 {.pn = "P2", .status = "plancheck", .filed = "2025-04-18"},
                 {.pn = "P3", .status = "approved", .filed = "2020-01-01"}},
     .expect = {"moderate:dormant_permit"},
     .title_has = {"P3"}},
    {.name = "one active permit is not multiple",
     .permits = {{.pn = "P1", .status = "filed"}, {.pn = "P2", .status = "expired"}},
     .expect = {NULL}},
    {.name = "restrictive zoning, trimmed and case-insensitive",
     .zoning = " rh-1(d) ",
     .expect = {"low:restrictive_zoning"},
     .title_has = {"RH-1(D)"}},
    {.name = "RH-2 is not restrictive", .zoning = "RH-2", .expect = {NULL}},
    {.name = "Table B: issued 400 days ago, 360-day validity → dormant",
     .permits = {{.pn = "P1", .status = "issued", .issued = "2025-01-08T00:00:00.000", .est = 50000}},
     .expect = {"moderate:dormant_permit"},
     .title_has = {"P1"}},
    {.name = "Table B: 300 days of 360 → aging with 60 days left",
     .permits = {{.pn = "P1", .status = "issued", .issued = "2025-04-18", .est = 50000}},
     .expect = {"low:aging_permit"},
     .title_has = {"(60 days left)"}},
    {.name = "Table B: 200 days of 360 → nothing; completed_date set → nothing; complete status → nothing",
     .permits = {{.pn = "P1", .status = "issued", .issued = "2025-07-27", .est = 50000},
                 {.pn = "P2", .status = "issued", .issued = "2020-01-01", .completed = "2021-01-01"},
                 {.pn = "P3", .status = "complete", .issued = "2020-01-01"}},
     .expect = {"low:multiple_active_permits"}},
    {.name = "Table B: demolition is 180 days whatever the cost",
     .permits = {{.pn = "P1", .status = "issued", .type_def = "demolitions", .issued = "2025-07-27", .est = 5000000}},
     .expect = {"moderate:high_cost_project", "moderate:dormant_permit"}},
    {.name = "Table B: revised cost 3M → 1440 days; 1400 days old → aging 40 days left",
     .permits = {{.pn = "P1", .status = "issued", .issued = "2022-04-14", .est = 1000, .rev = 3000000}},
     .expect = {"low:aging_permit"},
     .title_has = {"(40 days left)"}},
    {.name = "Table B: 100,001 → 1080 days; filed date used when never issued",
     .permits = {{.pn = "P1", .status = "filed", .filed = "2023-05-19", .est = 100001}},
     .expect = {"low:moderate_cost_project", "low:aging_permit"},
     .title_has = {"$100,001", "(80 days left)"}},
    {.name = "Table B: unparseable date is skipped",
     .permits = {{.pn = "P1", .status = "issued", .issued = "garbage"}},
     .expect = {NULL}},
    {.name = "unit ambiguity lists sorted distinct positive counts",
     .permits = {{.pn = "P1", .status = "complete", .units = 2},
                 {.pn = "P2", .status = "complete", .units = 1},
                 {.pn = "P3", .status = "complete", .units = 2}},
     .expect = {"moderate:unit_count_ambiguity"},
     .title_has = {"(1, 2)"}},
    {.name = "same unit count everywhere is not ambiguous",
     .permits = {{.pn = "P1", .status = "complete", .units = 3}, {.pn = "P2", .status = "complete", .units = 3}},
     .expect = {NULL}},
    {.name = "five distinct contractor/agent names (case/space-insensitive) → turnover",
     .permits =
         {{.pn = "P1",
           .status = "complete",
           .contacts = {{"contractor", "Acme"}, {"contractor", " ACME "}, {"agent", "Bolt"}, {"Contractor", "Cobalt"}}},
          {.pn = "P2", .status = "complete", .contacts = {{"contractor", "Delta"}, {"agent", "Echo"}}}},
     .expect = {"low:high_contractor_turnover"},
     .title_has = {"5 different"}},
    {.name = "four contractors plus architects/owners is not turnover",
     .permits = {{.pn = "P1",
                  .status = "complete",
                  .contacts = {{"contractor", "A"},
                               {"contractor", "B"},
                               {"agent", "C"},
                               {"contractor", "D"},
                               {"architect", "E"},
                               {"owner", "F"}}}},
     .expect = {NULL}},
    {.name = "pending regulation: concept match, impact high → moderate, low otherwise; archived ignored",
     .permits = {{.pn = "P1", .status = "complete", .type_def = "additions alterations or repairs"}},
     .watch = {{"Expiration reform", "monitoring", "high", "https://x/1", {"permit_expiration"}},
               {"ADU rules", "monitoring", "high", "https://x/2", {"permit_requirements"}},
               {"Old bill", "archived", "high", "https://x/3", {"permit_expiration"}},
               {"Passed bill", "passed", "moderate", "https://x/4", {"enforcement", "permit_expiration"}}},
     .expect = {"moderate:pending_regulation", "low:pending_regulation"},
     .title_has = {"Expiration reform", "Passed bill"},
     .link_is = {"https://x/1", "https://x/4"}},
    {.name = "pending regulation: ADU word in the permit type maps to permit_requirements",
     .permits = {{.pn = "P1", .status = "complete", .type_def = "ADU new unit"}},
     .watch = {{"ADU rules", "monitoring", "low", "", {"permit_requirements"}}},
     .expect = {"low:pending_regulation"}},
    {.name = "stable sort: high, then moderate, then low, each in emission order",
     .complaints = {C("active", "first")},
     .violations = {{{"status"}, {"open"}}},
     .permits = {{.pn = "P1", .status = "issued", .issued = "2022-01-01", .est = 150000, .units = 1},
                 {.pn = "P2", .status = "filed", .filed = "2026-01-01", .est = 900000, .units = 4}},
     .zoning = "RH-1",
     .expect = {"high:active_complaint", "high:active_violation", "moderate:high_cost_project",
                "moderate:dormant_permit", "moderate:unit_count_ambiguity", "low:moderate_cost_project",
                "low:multiple_active_permits", "low:restrictive_zoning"}},
};

static sfp_rpt_rec *build_recs(sfp_arena *a, const rec_spec *specs, size_t *n)
{
    sfp_rpt_rec *out = sfp_arena_alloc(a, sizeof *out * MAXN);
    *n = 0;
    for (size_t i = 0; i < MAXN && specs[i].k[0]; i++) {
        sfp_rpt_rec *r = &out[(*n)++];
        r->keys = sfp_arena_alloc(a, sizeof(char *) * 6);
        r->vals = sfp_arena_alloc(a, sizeof(char *) * 6);
        for (size_t k = 0; k < 6 && specs[i].k[k]; k++) {
            r->keys[r->n] = specs[i].k[k];
            r->vals[r->n++] = specs[i].v[k];
        }
    }
    return out;
}

static sfp_rpt_permit *build_permits(sfp_arena *a, const permit_spec *specs, size_t *n)
{
    sfp_rpt_permit *out = sfp_arena_alloc(a, sizeof *out * MAXN);
    *n = 0;
    for (size_t i = 0; i < MAXN && specs[i].pn; i++) {
        const permit_spec *s = &specs[i];
        sfp_rpt_permit *p = &out[(*n)++];
        p->permit_number = s->pn;
        p->status = sfp_rpt_str(s->status);
        p->permit_type_definition = sfp_rpt_str(s->type_def);
        p->filed_date = sfp_rpt_str(s->filed);
        p->issued_date = sfp_rpt_str(s->issued);
        p->completed_date = sfp_rpt_str(s->completed);
        p->has_estimated_cost = s->est != 0;
        p->estimated_cost = s->est;
        p->has_revised_cost = s->rev != 0;
        p->revised_cost = s->rev;
        p->has_existing_units = s->units != 0;
        p->existing_units = s->units;
        p->contacts = sfp_arena_alloc(a, sizeof(sfp_rpt_contact) * MAXN);
        for (size_t k = 0; k < MAXN && s->contacts[k].role; k++)
            p->contacts[p->n_contacts++] = (sfp_rpt_contact){.role = s->contacts[k].role, .name = s->contacts[k].name};
    }
    return out;
}

static void run_case(const risk_case *c)
{
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_risk_input in = {.today = sfp_days_from_civil(2026, 2, 12)};
    in.complaints = build_recs(a, c->complaints, &in.n_complaints);
    in.violations = build_recs(a, c->violations, &in.n_violations);
    in.permits = build_permits(a, c->permits, &in.n_permits);
    sfp_rpt_property prop = {.present = c->zoning != NULL, .zoning_code = sfp_rpt_str(c->zoning), .use_definition = ""};
    in.property = &prop;
    sfp_rpt_reg_watch *w = sfp_arena_alloc(a, sizeof *w * MAXN);
    for (size_t i = 0; i < MAXN && c->watch[i].title; i++) {
        w[i] = (sfp_rpt_reg_watch){.title = c->watch[i].title,
                                   .description = "",
                                   .status = c->watch[i].status,
                                   .impact_level = c->watch[i].impact,
                                   .url = c->watch[i].url,
                                   .concepts = (const char **)c->watch[i].concepts};
        while (w[i].n_concepts < 4 && c->watch[i].concepts[w[i].n_concepts]) w[i].n_concepts++;
        in.n_watch++;
    }
    in.watch = w;

    sfp_rpt_risk *items;
    size_t n = sfp_rpt_risk_compute(&in, a, &items);
    size_t expected = 0;
    while (c->expect[expected]) expected++;
    char got[1024] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s:%s ", sfp_rpt_severity_name(items[i].severity),
                 items[i].risk_type);
    if (n != expected) fail_msg("case '%s': expected %zu items, got %zu: %s", c->name, expected, n, got);
    for (size_t i = 0; i < n; i++) {
        char sig[96];
        snprintf(sig, sizeof sig, "%s:%s", sfp_rpt_severity_name(items[i].severity), items[i].risk_type);
        if (strcmp(sig, c->expect[i]))
            fail_msg("case '%s': item %zu is %s, expected %s (all: %s)", c->name, i, sig, c->expect[i], got);
        if (c->title_has[i] && !strstr(items[i].title, c->title_has[i]))
            fail_msg("case '%s': title '%s' lacks '%s'", c->name, items[i].title, c->title_has[i]);
        if (c->link_is[i] && strcmp(items[i].link, c->link_is[i]))
            fail_msg("case '%s': link '%s' != '%s'", c->name, items[i].link, c->link_is[i]);
        assert_non_null(items[i].description);
        assert_non_null(items[i].section_ref);
    }
    sfp_arena_free(a);
}

static void test_risk_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
}

static void test_validity_days_table(void **state)
{
    (void)state;
    static const struct {
        const char *type_def;
        double est, rev;
        int32_t days;
    } t[] = {
        {"additions alterations or repairs", 0, 0, 360},
        {"", 100000, 0, 360},
        {"", 100001, 0, 1080},
        {"", 2499999, 0, 1080},
        {"", 2500000, 0, 1440},
        {"", 50000, 2500000, 1440},
        {"", 3000000, 0, 1440},
        {"Demolitions", 9000000, 0, 180},
        {"", 0, 150000, 1080},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sfp_rpt_permit p = {.permit_type_definition = t[i].type_def,
                            .has_estimated_cost = t[i].est != 0,
                            .estimated_cost = t[i].est,
                            .has_revised_cost = t[i].rev != 0,
                            .revised_cost = t[i].rev};
        if (sfp_rpt_validity_days(&p) != t[i].days)
            fail_msg("validity row %zu: got %d want %d", i, (int)sfp_rpt_validity_days(&p), (int)t[i].days);
    }
}

static void test_concepts_table(void **state)
{
    (void)state;
    static const struct {
        const char *def;
        unsigned bits;
    } t[] = {
        {"additions alterations or repairs", SFP_RPT_CONCEPT_EXPIRATION},
        {"demolitions", SFP_RPT_CONCEPT_EXPIRATION | SFP_RPT_CONCEPT_ENFORCEMENT},
        {"New Construction Wood Frame", SFP_RPT_CONCEPT_EXPIRATION | SFP_RPT_CONCEPT_REQUIREMENTS},
        {"accessory dwelling unit", SFP_RPT_CONCEPT_REQUIREMENTS},
        {"graduate housing sign", 0},
        {"otc alterations permit", SFP_RPT_CONCEPT_EXPIRATION},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (sfp_rpt_permit_concepts(t[i].def) != t[i].bits) fail_msg("concepts of '%s'", t[i].def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_risk_table),
        cmocka_unit_test(test_validity_days_table),
        cmocka_unit_test(test_concepts_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
