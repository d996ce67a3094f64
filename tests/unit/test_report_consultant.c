/* Consultant signal: a table of cases with the expected score, tier and
 * factor substrings; plus the tier boundaries. The routing factors read the routing already
 * attached to the permits (no I/O). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "report_consultant.h"
#include "report_text.h"

typedef struct permit_spec {
    const char *pn, *status;
    double est, rev;  /* 0 = NULL */
    int stalled_days; /* > 0: routing with one stalled station of that age */
    int addenda;      /* routing addenda_number (needs routing: set stalled_days -1 for none stalled) */
} permit_spec;

typedef struct signal_case {
    const char *name;
    const char *complaint_status[4];
    const char *violation_status[4];
    permit_spec permits[6];
    const char *zoning;
    int score;
    const char *tier;
    const char *factor_has[8]; /* each must appear in some factor, in this order */
} signal_case;

static const signal_case CASES[] = {
    {.name = "nothing → cold", .score = 0, .tier = "cold"},
    {.name = "active complaint +3",
     .complaint_status = {"ACTIVE"},
     .score = 3,
     .tier = "recommended",
     .factor_has = {"Active DBI complaint"}},
    {.name = "NOT ACTIVE complaint is not active",
     .complaint_status = {"NOT ACTIVE", "closed"},
     .score = 0,
     .tier = "cold"},
    {.name = "two active complaints still +3 once",
     .complaint_status = {"open", "active"},
     .score = 3,
     .tier = "recommended"},
    {.name = "NOV +2",
     .violation_status = {"NOV issued"},
     .score = 2,
     .tier = "warm",
     .factor_has = {"notices of violation"}},
    {.name = "violation 'not active' +0", .violation_status = {"not active"}, .score = 0, .tier = "cold"},
    {.name = "max cost > 500K +2",
     .permits = {{"P1", "complete", 600000}, {"P2", "complete", 1000}},
     .score = 2,
     .tier = "warm",
     .factor_has = {"$500K ($600,000)"}},
    {.name = "max cost > 100K +1",
     .permits = {{"P1", "complete", 150000}},
     .score = 1,
     .tier = "warm",
     .factor_has = {"$100K"}},
    {.name = "cost exactly 100K +0", .permits = {{"P1", "complete", 100000}}, .score = 0, .tier = "cold"},
    {.name = "cost revision > 50% +2 (first match only)",
     .permits = {{"P1", "complete", 50000, 80000}, {"P2", "complete", 60000, 200000}},
     .score = 2,
     .tier = "warm",
     .factor_has = {"P1"}},
    {.name = "cost revision of exactly 50% or with est 0 does not count",
     .permits = {{"P1", "complete", 50000, 75000}, {"P2", "complete", 0, 90000}},
     .score = 0,
     .tier = "cold"},
    {.name = "restrictive zoning +1", .zoning = "RH-1(S)", .score = 1, .tier = "warm", .factor_has = {"RH-1(S)"}},
    {.name = "stalled station on a filed permit +2",
     .permits = {{"P1", "filed", 0, 0, 45, 0}},
     .score = 2,
     .tier = "warm",
     .factor_has = {"45 days"}},
    {.name = "stalled station on an issued permit does not count (not in review)",
     .permits = {{"P1", "issued", 0, 0, 45, 0}},
     .score = 0,
     .tier = "cold"},
    {.name = "addenda #3 on a plancheck permit +1; #2 does not count",
     .permits = {{"P1", "plancheck", 0, 0, -1, 2}, {"P2", "plancheck", 0, 0, -1, 3}},
     .score = 1,
     .tier = "warm",
     .factor_has = {"addenda #3"}},
    {.name = "strongly recommended (5): complaint + NOV",
     .complaint_status = {"open"},
     .violation_status = {"open"},
     .score = 5,
     .tier = "strongly_recommended"},
    {.name = "essential (≥ 8): everything",
     .complaint_status = {"open"},
     .violation_status = {"NOV"},
     .zoning = "RH-1",
     .permits = {{"P1", "filed", 900000, 2000000, 40, 4}},
     .score = 13,
     .tier = "essential",
     .factor_has = {"complaint", "violation", "$500K", "Cost revision", "zoning", "Stalled", "addenda #4"}},
};

static void run_case(const signal_case *c)
{
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_rec comp[4], viol[4];
    const char *status_key[] = {"status"};
    size_t nc = 0, nv = 0;
    for (; nc < 4 && c->complaint_status[nc]; nc++)
        comp[nc] = (sfp_rpt_rec){1, status_key, (const char **)&c->complaint_status[nc]};
    for (; nv < 4 && c->violation_status[nv]; nv++)
        viol[nv] = (sfp_rpt_rec){1, status_key, (const char **)&c->violation_status[nv]};
    sfp_rpt_permit permits[6];
    sfp_rpt_routing routing[6];
    sfp_rpt_stalled stalled[6];
    size_t np = 0;
    for (; np < 6 && c->permits[np].pn; np++) {
        const permit_spec *s = &c->permits[np];
        memset(&permits[np], 0, sizeof permits[np]);
        permits[np].permit_number = s->pn;
        permits[np].status = s->status;
        permits[np].has_estimated_cost = s->est != 0;
        permits[np].estimated_cost = s->est;
        permits[np].has_revised_cost = s->rev != 0;
        permits[np].revised_cost = s->rev;
        if (s->stalled_days) {
            memset(&routing[np], 0, sizeof routing[np]);
            routing[np].addenda_number = s->addenda;
            if (s->stalled_days > 0) {
                stalled[np] = (sfp_rpt_stalled){"SFFD", s->stalled_days};
                routing[np].stalled = &stalled[np];
                routing[np].n_stalled = 1;
            }
            permits[np].routing = &routing[np];
        }
    }
    sfp_rpt_property prop = {.present = c->zoning != NULL, .zoning_code = sfp_rpt_str(c->zoning), .use_definition = ""};
    sfp_rpt_signal_input in = {comp, nc, viol, nv, permits, np, &prop};
    sfp_rpt_signal out;
    sfp_rpt_signal_compute(&in, a, &out);
    char all[1024] = "";
    for (size_t i = 0; i < out.n_factors; i++)
        snprintf(all + strlen(all), sizeof all - strlen(all), "[%s]", out.factors[i]);
    if (out.score != c->score || strcmp(out.signal, c->tier))
        fail_msg("case '%s': score %d tier %s, want %d %s; factors %s", c->name, out.score, out.signal, c->score,
                 c->tier, all);
    const char *from = all;
    for (size_t i = 0; i < 8 && c->factor_has[i]; i++) {
        const char *hit = strstr(from, c->factor_has[i]);
        if (!hit) fail_msg("case '%s': factor text '%s' missing (in order) from %s", c->name, c->factor_has[i], all);
        from = hit;
    }
    if (!out.message || !*out.message) fail_msg("case '%s': no message", c->name);
    if (strcmp(out.message, sfp_rpt_signal_message(c->tier))) fail_msg("case '%s': message not the tier's", c->name);
    sfp_arena_free(a);
}

static void test_signal_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
}

static void test_tier_boundaries(void **state)
{
    (void)state;
    static const struct {
        int score;
        const char *tier;
    } t[] = {{0, "cold"},
             {1, "warm"},
             {2, "warm"},
             {3, "recommended"},
             {4, "recommended"},
             {5, "strongly_recommended"},
             {7, "strongly_recommended"},
             {8, "essential"},
             {15, "essential"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(sfp_rpt_signal_tier(t[i].score), t[i].tier)) fail_msg("tier of %d", t[i].score);
    /* every tier has its own sentence */
    const char *tiers[] = {"cold", "warm", "recommended", "strongly_recommended", "essential"};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = i + 1; j < 5; j++)
            assert_string_not_equal(sfp_rpt_signal_message(tiers[i]), sfp_rpt_signal_message(tiers[j]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_signal_table), cmocka_unit_test(test_tier_boundaries)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
