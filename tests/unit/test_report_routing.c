/* Routing progress from the addenda rows of a permit's latest revision: a
 * table of cases with today injected (2026-02-12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "report_routing.h"
#include "report_text.h"

typedef struct row_spec {
    const char *station, *result, *finish, *arrive, *hold;
    int addenda;
} row_spec;

typedef struct routing_case {
    const char *name;
    row_spec rows[8];
    bool null_expected;
    int total, completed, approved, comments, pending, pct;
    bool all_clear;
    int addenda;
    const char *pending_list; /* "A,B" */
    const char *stalled_list; /* "A:45,B:31" */
    const char *held_list;
    const char *latest; /* "station|result|date" or NULL for none */
} routing_case;

static const routing_case CASES[] = {
    {.name = "no addenda rows → no routing", .null_expected = true},
    {.name = "all stations finished → all clear, latest by finish_date",
     .rows = {{"INTAKE", "Administrative", "2025-01-02T00:00:00.000", "2025-01-01"},
              {"BLDG", "Approved", "2025-03-01T00:00:00.000", "2025-01-05"},
              {"CP-ZOC", "Approved-Stipulated", "2025-02-01T00:00:00.000", "2025-01-05"}},
     .total = 3,
     .completed = 3,
     .approved = 2,
     .pending = 0,
     .pct = 100,
     .all_clear = true,
     .pending_list = "",
     .stalled_list = "",
     .held_list = "",
     .latest = "BLDG|Approved|2025-03-01T00:00:00.000"},
    {.name = "mixed: approved, comments, stalled 45 days, held",
     .rows = {{"INTAKE", "APPROVED", "2025-12-01", "2025-11-30", NULL, 2},
              {"BLDG", "Issued Comments", "2025-12-15", "2025-12-01", NULL, 2},
              {"SFFD", NULL, NULL, "2025-12-29", NULL, 2},
              {"DPW-BSM", NULL, NULL, "2025-10-01", "awaiting revision", 2}},
     .total = 4,
     .completed = 2,
     .approved = 1,
     .comments = 1,
     .pending = 2,
     .pct = 50,
     .addenda = 2,
     .pending_list = "SFFD,DPW-BSM",
     .stalled_list = "SFFD:45",
     .held_list = "DPW-BSM",
     .latest = "BLDG|Issued Comments|2025-12-15"},
    {.name = "stalled is strictly more than 30 days",
     .rows = {{"A", NULL, NULL, "2026-01-13"}, {"B", NULL, NULL, "2026-01-12"}, {"C", NULL, NULL, "2026-02-12"}},
     .total = 3,
     .pending = 3,
     .pct = 0,
     .pending_list = "A,B,C",
     .stalled_list = "B:31",
     .held_list = ""},
    {.name = "blank hold and blank finish are not set; garbage years neither stall nor become latest",
     .rows = {{"A", NULL, "  ", "1721-01-01", "  "},
              {"B", "approval", "2205-01-01", "2020-01-01"},
              {"C", "Approved", "2024-06-01", "2024-01-01"},
              {"D", NULL, NULL, "not a date"}},
     .total = 4,
     .completed = 2,
     .approved = 2,
     .pending = 2,
     .pct = 50,
     .pending_list = "A,D",
     .stalled_list = "",
     .held_list = "",
     .latest = "C|Approved|2024-06-01"},
    {.name = "pct truncates; latest tie keeps the first; revision number reported",
     .rows = {{"A", "Approved", "2025-05-05", "2025-05-01", NULL, 3},
              {"B", "Approved", "2025-05-05", "2025-05-01", NULL, 3},
              {"C", NULL, NULL, "2026-02-01", NULL, 3}},
     .total = 3,
     .completed = 2,
     .approved = 2,
     .pending = 1,
     .pct = 66,
     .addenda = 3,
     .pending_list = "C",
     .stalled_list = "",
     .held_list = "",
     .latest = "A|Approved|2025-05-05"},
    {.name = "only pending: no latest",
     .rows = {{"A", NULL, NULL, "2026-02-10"}},
     .total = 1,
     .pending = 1,
     .pct = 0,
     .pending_list = "A",
     .stalled_list = "",
     .held_list = "",
     .latest = NULL},
};

static void join(char *out, size_t n, const char *const *v, size_t k)
{
    out[0] = '\0';
    for (size_t i = 0; i < k; i++) snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", v[i]);
}

static void run_case(const routing_case *c)
{
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_addenda_row rows[8];
    size_t n = 0;
    for (; n < 8 && c->rows[n].station; n++) {
        const row_spec *s = &c->rows[n];
        rows[n] = (sfp_rpt_addenda_row){.station = s->station,
                                        .review_results = sfp_rpt_str(s->result),
                                        .finish_date = sfp_rpt_str(s->finish),
                                        .arrive = sfp_rpt_str(s->arrive),
                                        .hold_description = sfp_rpt_str(s->hold),
                                        .has_addenda_number = true,
                                        .addenda_number = s->addenda};
    }
    const sfp_rpt_routing *r = sfp_rpt_routing_compute(rows, n, sfp_days_from_civil(2026, 2, 12), a);
    if (c->null_expected) {
        if (r) fail_msg("case '%s': expected no routing", c->name);
        sfp_arena_free(a);
        return;
    }
    if (!r) fail_msg("case '%s': routing missing", c->name);
    if (r->total != c->total || r->completed != c->completed || r->approved != c->approved ||
        r->comments != c->comments || r->pending != c->pending || r->pct != c->pct || r->is_all_clear != c->all_clear ||
        r->addenda_number != c->addenda)
        fail_msg("case '%s': counts total=%d completed=%d approved=%d comments=%d pending=%d pct=%d clear=%d rev=%d",
                 c->name, r->total, r->completed, r->approved, r->comments, r->pending, r->pct, r->is_all_clear,
                 r->addenda_number);
    char buf[256];
    join(buf, sizeof buf, r->pending_stations, r->n_pending_stations);
    if (strcmp(buf, c->pending_list)) fail_msg("case '%s': pending '%s' != '%s'", c->name, buf, c->pending_list);
    join(buf, sizeof buf, r->held_stations, r->n_held_stations);
    if (strcmp(buf, c->held_list)) fail_msg("case '%s': held '%s' != '%s'", c->name, buf, c->held_list);
    buf[0] = '\0';
    for (size_t i = 0; i < r->n_stalled; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s:%d", i ? "," : "", r->stalled[i].station,
                 (int)r->stalled[i].days);
    if (strcmp(buf, c->stalled_list)) fail_msg("case '%s': stalled '%s' != '%s'", c->name, buf, c->stalled_list);
    if (c->latest) {
        if (!r->has_latest) fail_msg("case '%s': latest missing", c->name);
        snprintf(buf, sizeof buf, "%s|%s|%s", r->latest_station, r->latest_result, r->latest_date);
        if (strcmp(buf, c->latest)) fail_msg("case '%s': latest '%s' != '%s'", c->name, buf, c->latest);
    } else if (r->has_latest) {
        fail_msg("case '%s': unexpected latest %s", c->name, r->latest_station);
    }
    sfp_arena_free(a);
}

static void test_routing_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_routing_table)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
