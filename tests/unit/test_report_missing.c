/* whats_missing: a table of cases with the expected "severity:type" sequence
 * (moderate first) and evidence checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "report_missing.h"
#include "report_text.h"

typedef struct permit_spec {
    const char *pn, *filed, *existing_use, *description, *type_def;
} permit_spec;

typedef struct missing_case {
    const char *name;
    permit_spec permits[6];       /* any order: the rules sort by filed_date themselves */
    const char *assessor_use;     /* NULL = no property data */
    const char *complaints[4][2]; /* number, date_filed */
    const char *expect[8];
    const char *evidence[8]; /* "key=value" expected in item i (NULL = no check) */
} missing_case;

static const missing_case CASES[] = {
    {.name = "nothing", .expect = {NULL}},
    {.name = "use changes with no explaining permit → drift",
     .permits = {{"P2", "2015-06-01", "2 family dwelling", "kitchen remodel and bath"},
                 {"P1", "2010-01-01", "1 family dwelling", "reroof"}},
     .expect = {"moderate:classification_drift", "low:missing_companion"},
     .evidence = {"from_use=1 family dwelling", "permit_number=P2"}},
    {.name = "use change explained by a legalization permit in between",
     .permits = {{"P1", "2010-01-01", "1 family dwelling", "reroof"},
                 {"PX", "2012-01-01", "", "Legalize unit at ground floor"},
                 {"P2", "2015-06-01", "2 family dwelling", "windows"}},
     .expect = {NULL}},
    {.name = "use change explained by the later permit itself (ADU word); case-only change is no change",
     .permits = {{"P1", "2010-01-01", "Apartments", "reroof"},
                 {"P2", "2012-01-01", "apartments ", "windows"},
                 {"P3", "2015-06-01", "1 family dwelling", "ADU addition"}},
     .expect = {NULL}},
    {.name = "use change explained by a change-of-use permit type in between",
     .permits = {{"P1", "2010-01-01", "1 family dwelling", "reroof"},
                 {"PX", "2012-01-01", "", "ground floor", "Change of Use"},
                 {"P2", "2015-06-01", "2 family dwelling", "windows"}},
     .expect = {NULL}},
    {.name = "same filed date: the list's order decides which came first",
     .permits = {{"P2", "2015-01-01", "retail sales", "x"}, {"P1", "2015-01-01", "office", "y"}},
     .expect = {"moderate:classification_drift"},
     .evidence = {"from_permit=P2"}},
    {.name = "two unexplained changes → two items, oldest first",
     .permits = {{"P1", "2010-01-01", "office", "x"},
                 {"P2", "2012-01-01", "retail sales", "y"},
                 {"P3", "2014-01-01", "office", "z"}},
     .expect = {"moderate:classification_drift", "moderate:classification_drift"},
     .evidence = {"to_permit=P2", "to_permit=P3"}},
    {.name = "assessor single family vs newest permit 1 family dwelling → equivalent",
     .permits = {{"P1", "2020-01-01", "1 family dwelling", "x"}},
     .assessor_use = "Single Family Residential",
     .expect = {NULL}},
    {.name = "assessor multi-family vs newest permit 1 family dwelling → mismatch (newest permit wins)",
     .permits = {{"P1", "2010-01-01", "apartments", "x"}, {"P2", "2020-01-01", "1 family dwelling", "convert"}},
     .assessor_use = "Multi-Family Residential",
     .expect = {"low:assessor_mismatch"},
     .evidence = {"permit_number=P2"}},
    {.name = "unknown assessor class is not compared",
     .permits = {{"P1", "2020-01-01", "1 family dwelling", "x"}},
     .assessor_use = "Mixed Use",
     .expect = {NULL}},
    {.name = "permit filed 0..30 days after a complaint; closest complaint reported",
     .permits = {{"P1", "2024-01-15", "", "x"},
                 {"P2", "2024-01-31T00:00:00.000", "", "y"},
                 {"P3", "2023-12-31", "", "z"},
                 {"P4", "2024-02-15", "", "w"}},
     .complaints = {{"C1", "2024-01-01T00:00:00.000"}, {"C2", "2024-01-10"}},
     .expect = {"low:complaint_to_permit_timing", "low:complaint_to_permit_timing"},
     .evidence = {"complaint_number=C2", "days=21"}},
    {.name = "same-day and exactly 30 days count; 31 does not",
     .permits = {{"P1", "2024-01-01", "", "x"}, {"P2", "2024-01-31", "", "y"}, {"P3", "2024-02-01", "", "z"}},
     .complaints = {{"C1", "2024-01-01"}},
     .expect = {"low:complaint_to_permit_timing", "low:complaint_to_permit_timing"},
     .evidence = {"days=0", "days=30"}},
    {.name = "kitchen with a plumbing permit on file → nothing; elevator without → item",
     .permits = {{"P1", "2020-01-01", "", "Kitchen remodel", "additions alterations or repairs"},
                 {"P2", "2020-02-01", "", "new fixtures", "Plumbing Permit"},
                 {"P3", "2021-01-01", "", "Install elevator", "additions alterations or repairs"}},
     .expect = {"low:missing_companion"},
     .evidence = {"keyword=elevator"}},
    {.name = "one finding per triggering permit, on the phrases; 'kitchen' alone does not trigger",
     .permits = {{"P1", "2020-01-01", "", "Kitchen Remodel", "additions alterations or repairs"},
                 {"P2", "2020-02-01", "", "new kitchen at 2nd floor", "additions alterations or repairs"},
                 {"P3", "2020-03-01", "", "kitchen renovation", "otc alterations permit"},
                 {"P4", "2020-04-01", "", "replace kitchen cabinets", "otc alterations permit"},
                 {"P5", "2020-05-01", "", "reroof", "otc alterations permit"}},
     .expect = {"low:missing_companion", "low:missing_companion", "low:missing_companion"},
     .evidence = {"permit_number=P1", "permit_number=P2", "keyword=kitchen renovation"}},
    {.name = "'new gas line to kitchen range' is itself the gas work: no trigger, and it is the "
             "companion of a kitchen remodel",
     .permits = {{"P1", "2020-01-01", "", "new gas line to kitchen range", "otc alterations permit"},
                 {"P2", "2020-02-01", "", "kitchen remodel", "additions alterations or repairs"}},
     .expect = {NULL}},
    {.name = "a permit is never its own companion",
     .permits = {{"P1", "2020-01-01", "", "commercial kitchen with new plumbing", "plumbing"}},
     .expect = {"low:missing_companion"},
     .evidence = {"keyword=commercial kitchen"}},
    {.name = "companion found in another permit's type definition; lift installation needs an elevator permit",
     .permits = {{"P1", "2020-01-01", "", "commercial kitchen with new plumbing", "additions alterations or repairs"},
                 {"P2", "2020-02-01", "", "lift installation", "additions alterations or repairs"},
                 {"P3", "2020-03-01", "", "misc", "Mechanical Permit"}},
     .expect = {"low:missing_companion"},
     .evidence = {"permit_number=P2"}},
    {.name = "two elevator permits are each other's companion",
     .permits = {{"P1", "2020-01-01", "", "elevator modernization", ""},
                 {"P2", "2020-02-01", "", "new elevator cab", ""}},
     .expect = {NULL}},
    {.name = "one permit triggering both kinds gets one finding per kind",
     .permits = {{"P1", "2020-01-01", "", "new kitchen and elevator", ""}},
     .expect = {"low:missing_companion", "low:missing_companion"},
     .evidence = {"keyword=new kitchen", "keyword=elevator"}},
};

static void run_case(const missing_case *c)
{
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_permit permits[6];
    size_t np = 0;
    for (; np < 6 && c->permits[np].pn; np++) {
        const permit_spec *s = &c->permits[np];
        memset(&permits[np], 0, sizeof permits[np]);
        permits[np].permit_number = s->pn;
        permits[np].filed_date = sfp_rpt_str(s->filed);
        permits[np].existing_use = sfp_rpt_str(s->existing_use);
        permits[np].description = sfp_rpt_str(s->description);
        permits[np].permit_type_definition = sfp_rpt_str(s->type_def);
        permits[np].permit_type = "";
    }
    sfp_rpt_rec comp[4];
    const char *keys[] = {"complaint_number", "date_filed"};
    size_t nc = 0;
    for (; nc < 4 && c->complaints[nc][0]; nc++) comp[nc] = (sfp_rpt_rec){2, keys, (const char **)c->complaints[nc]};
    sfp_rpt_property prop = {
        .present = c->assessor_use != NULL, .zoning_code = "", .use_definition = sfp_rpt_str(c->assessor_use)};
    sfp_rpt_missing_input in = {permits, np, &prop, comp, nc};
    sfp_rpt_missing *items;
    size_t n = sfp_rpt_missing_compute(&in, a, &items);
    size_t want = 0;
    while (c->expect[want]) want++;
    char got[512] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s:%s ", sfp_rpt_severity_name(items[i].severity),
                 items[i].type);
    if (n != want) fail_msg("case '%s': %zu items, want %zu: %s", c->name, n, want, got);
    for (size_t i = 0; i < n; i++) {
        char sig[96];
        snprintf(sig, sizeof sig, "%s:%s", sfp_rpt_severity_name(items[i].severity), items[i].type);
        if (strcmp(sig, c->expect[i])) fail_msg("case '%s': item %zu %s != %s", c->name, i, sig, c->expect[i]);
        if (!*items[i].title || !*items[i].description || !*items[i].section_ref)
            fail_msg("case '%s': item %zu lacks text", c->name, i);
        if (!c->evidence[i]) continue;
        bool found = false;
        for (size_t e = 0; e < items[i].n_evidence && !found; e++) {
            char kv[256];
            snprintf(kv, sizeof kv, "%s=%s", items[i].evidence[e].key, items[i].evidence[e].value);
            found = !strcmp(kv, c->evidence[i]);
        }
        if (!found) fail_msg("case '%s': item %zu lacks evidence %s", c->name, i, c->evidence[i]);
    }
    sfp_arena_free(a);
}

static void test_missing_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
}

static void test_use_classes(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool same;
    } t[] = {
        {"1 family dwelling", "Single Family Residential", true},
        {"2 family dwelling", "duplex", true},
        {"apartments", "Multi-Family Residential", true},
        {"office", "Commercial Office", true},
        {"retail sales", "Commercial Retail", true},
        {"1 family dwelling", "apartments", false},
        {"office", "retail sales", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int ca = sfp_rpt_use_class(t[i].a), cb = sfp_rpt_use_class(t[i].b);
        assert_true(ca && cb);
        if ((ca == cb) != t[i].same) fail_msg("use classes of '%s' / '%s'", t[i].a, t[i].b);
    }
    assert_int_equal(sfp_rpt_use_class("Mixed Use"), 0);
    assert_int_equal(sfp_rpt_use_class(""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_missing_table), cmocka_unit_test(test_use_classes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
