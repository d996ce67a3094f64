/* Pure rules of the brief (services/brief/brief_rules.h, brief_auth.h) and the gateway's
 * ?lookback parser: lookback range, inspection outcome, Table B, station label, pipeline health
 * checks, pipeline_stats average, address keys, property-health cards (v2 vs severity v1,
 * hold / enforcement upgrades, the expired-permit downgrade), summary counts as
 * section lengths, bearer parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "brief_auth.h"
#include "sha256.h"
#include "brief_rules.h"
#include "pbjson.h"
#include "brief_sections.h"
#include "handlers.h"

#include "brief_enum_names.h"

static int32_t T; /* 2026-01-01 */

static void test_lookback(void **state)
{
    (void)state;
    /* want: the effective lookback, or -1 when out of range (INVALID_ARGUMENT, never clamped) */
    static const struct {
        const char *in;
        int32_t want;
    } cases[] = {{NULL, 1},  {"", 1},    {"abc", 1}, {"7", 7},    {" 7 ", 7},
                 {"+7", 7},  {"-3", -1}, {"0", 1},   {"1", 1},    {"90", 90},
                 {"91", -1}, {"7d", 1},  {"1.5", 1}, {"0x10", 1}, {"99999999999999999999999", -1},
                 {"030", 30}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t a = -1, g = -1;
        if (!sfp_brief_lookback_ok(sfp_brief_parse_lookback(cases[i].in), &a)) a = -1;
        if (!sfp_brief_lookback_ok(gw_brief_lookback(cases[i].in), &g)) g = -1;
        if (a != cases[i].want || g != cases[i].want)
            fail_msg("lookback '%s': service %d gateway %d want %d", cases[i].in ? cases[i].in : "(null)", a, g,
                     cases[i].want);
    }
    int32_t eff = 0;
    assert_true(sfp_brief_lookback_ok(0, &eff));
    assert_int_equal(eff, 1);
    assert_true(sfp_brief_lookback_ok(45, &eff));
    assert_int_equal(eff, 45);
    assert_true(sfp_brief_lookback_ok(90, &eff));
    assert_false(sfp_brief_lookback_ok(-100, &eff));
    assert_false(sfp_brief_lookback_ok(91, &eff));
    assert_false(sfp_brief_lookback_ok(INT64_MAX, &eff));
    assert_int_equal(gw_brief_lookback("500"), 500); /* passed on, the service refuses it */
}

static void test_inspection_outcome(void **state)
{
    (void)state;
    const char *pass[] = {"PASSED", "passed", "Approved", "OK", "pass"};
    const char *fail[] = {"FAILED", "DISAPPROVED", "fail", "Not Approved"};
    const char *neither[] = {"", "CANCELLED", "PARTIAL", "not  approved"};
    for (size_t i = 0; i < 5; i++)
        assert_true(sfp_brief_inspection_is_pass(pass[i]) && !sfp_brief_inspection_is_fail(pass[i]));
    for (size_t i = 0; i < 4; i++)
        assert_true(sfp_brief_inspection_is_fail(fail[i]) && !sfp_brief_inspection_is_pass(fail[i]));
    for (size_t i = 0; i < 4; i++)
        assert_true(!sfp_brief_inspection_is_fail(neither[i]) && !sfp_brief_inspection_is_pass(neither[i]));
    assert_false(sfp_brief_inspection_is_pass(NULL));
}

static void test_table_b(void **state)
{
    (void)state;
    assert_int_equal(sfp_brief_validity_days("DEMOLITIONS", true, 9e6, 9e6), 180);
    assert_int_equal(sfp_brief_validity_days("new construction", true, 3e6, 10), 1440);
    assert_int_equal(sfp_brief_validity_days("x", true, 0, 200000), 1080); /* revised 0 → estimated */
    assert_int_equal(sfp_brief_validity_days("x", false, 0, 100001), 1080);
    assert_int_equal(sfp_brief_validity_days("x", false, 0, 100000), 360);
    assert_int_equal(sfp_brief_validity_days(NULL, false, 0, 0), 360);
}

static void test_station_label(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(sfp_brief_station_label(false, 0, b, sizeof b), "unknown");
    assert_string_equal(sfp_brief_station_label(true, 0.5, b, sizeof b), "same day");
    assert_string_equal(sfp_brief_station_label(true, 3.4, b, sizeof b), "~3 days");
    assert_string_equal(sfp_brief_station_label(true, 14, b, sizeof b), "~2 weeks");
    assert_string_equal(sfp_brief_station_label(true, 45, b, sizeof b), "~1.5 months");
}

static void test_health_mapping(void **state)
{
    (void)state;
    assert_string_equal(sfp_brief_health_for_tier("CRITICAL"), "at_risk");
    assert_string_equal(sfp_brief_health_for_tier("HIGH"), "behind");
    assert_string_equal(sfp_brief_health_for_tier("MEDIUM"), "slower");
    assert_string_equal(sfp_brief_health_for_tier("LOW"), "on_track");
    assert_string_equal(sfp_brief_health_for_tier("GREEN"), "on_track");
    assert_true(sfp_brief_health_rank("high_risk") > sfp_brief_health_rank("at_risk"));
    assert_true(sfp_brief_health_rank("at_risk") > sfp_brief_health_rank("behind"));
    assert_true(sfp_brief_health_rank("behind") > sfp_brief_health_rank("slower"));
    assert_true(sfp_brief_health_rank("slower") > sfp_brief_health_rank("on_track"));
}

static const Sfpermits__V1__PipelineCheck *find_check(const Sfpermits__V1__PipelineHealth *h, const char *name)
{
    for (size_t i = 0; i < h->n_checks; i++)
        if (!strcmp(h->checks[i]->name, name)) return h->checks[i];
    fail_msg("no check %s", name);
    return NULL;
}

static void test_pipeline_health(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    sfp_brief_pipeline_input in = {
        .has_last_success = true, .hours_since_success = 6.04, .has_addenda_as_of = true, .addenda_as_of_day = T - 1};
    Sfpermits__V1__PipelineHealth *h = sfp_brief_pipeline_health(&in, T, a);
    assert_string_equal(ENAME(h->status), "ok");
    assert_int_equal(h->n_checks, 4);
    assert_int_equal(h->n_issues, 0);
    assert_string_equal(find_check(h, "cron_nightly")->message, "Last successful nightly run was 6.0h ago");

    in.hours_since_success = 30.26;
    in.addenda_as_of_day = T - 7;
    in.recent_failures = 1;
    h = sfp_brief_pipeline_health(&in, T, a);
    assert_string_equal(ENAME(h->status), "warn");
    assert_string_equal(find_check(h, "cron_nightly")->message,
                        "Last successful nightly run was 30.3h ago (>26.0h threshold)");
    assert_string_equal(find_check(h, "data_freshness")->message, "Stale data detected: addenda (7d old)");
    assert_string_equal(ENAME(find_check(h, "recent_failures")->status), "warn");
    assert_int_equal(h->n_issues, 3);

    in.hours_since_success = 51;
    in.recent_failures = 3;
    in.stuck_jobs = 2;
    in.has_addenda_as_of = false;
    h = sfp_brief_pipeline_health(&in, T, a);
    assert_string_equal(ENAME(h->status), "critical");
    assert_string_equal(ENAME(find_check(h, "cron_nightly")->status), "critical");
    assert_string_equal(ENAME(find_check(h, "recent_failures")->status), "critical");
    assert_string_equal(find_check(h, "stuck_jobs")->message, "2 job(s) stuck in 'running' state for >120min");
    assert_string_equal(find_check(h, "data_freshness")->message, "Stale data detected: addenda (no data_as_of found)");
    assert_int_equal(h->n_issues, 4);

    in = (sfp_brief_pipeline_input){.has_addenda_as_of = true, .addenda_as_of_day = T - 5}; /* 5 d is not stale */
    h = sfp_brief_pipeline_health(&in, T, a);
    assert_string_equal(ENAME(find_check(h, "cron_nightly")->status), "critical"); /* never ran */
    assert_string_equal(ENAME(find_check(h, "data_freshness")->status), "ok");
    sfp_arena_free(a);
}

static Sfpermits__V1__PipelineJob job(const char *status, bool has, double el)
{
    Sfpermits__V1__PipelineJob j = SFPERMITS__V1__PIPELINE_JOB__INIT;
    j.status = (Sfpermits__V1__JobStatus)sfp_pbjson_enum_value(&sfpermits__v1__job_status__descriptor, status,
                                                               SFPERMITS__V1__JOB_STATUS__JOB_STATUS_UNSPECIFIED);
    j.optional_elapsed_seconds_case = (has) ? SFPERMITS__V1__PIPELINE_JOB__OPTIONAL_ELAPSED_SECONDS_ELAPSED_SECONDS
                                            : SFPERMITS__V1__PIPELINE_JOB__OPTIONAL_ELAPSED_SECONDS__NOT_SET;
    j.elapsed_seconds = el;
    return j;
}

static void test_pipeline_average(void **state)
{
    (void)state;
    Sfpermits__V1__PipelineJob j[5] = {job("success", true, 252), job("success", true, 395), job("failed", true, 480),
                                       job("success", true, 241), job("running", false, 0)};
    Sfpermits__V1__PipelineJob *p[5] = {&j[0], &j[1], &j[2], &j[3], &j[4]};
    double avg = -1;
    assert_true(sfp_brief_avg_success_duration(p, 5, &avg));
    assert_true(fabs(avg - 296.0) < 1e-9);
    j[0] = job("success", true, 100.123);
    j[1] = job("success", true, 100.124);
    assert_true(sfp_brief_avg_success_duration(p, 2, &avg));
    assert_true(fabs(avg - 100.12) < 1e-9);
    j[0] = job("success", true, -3); /* clock skew: ignored */
    j[1] = job("failed", true, 10);
    assert_false(sfp_brief_avg_success_duration(p, 2, &avg));
    assert_false(sfp_brief_avg_success_duration(p, 0, &avg));
}

static void test_address_key_and_title(void **state)
{
    (void)state;
    char k[128], t[128];
    sfp_brief_address_key("1455", "Market", "st", "3507", "004", k, sizeof k);
    assert_string_equal(k, "1455 MARKET ST");
    sfp_brief_address_key("125", "MASON ST", "ST", "0312", "005", k, sizeof k);
    assert_string_equal(k, "125 MASON ST");
    sfp_brief_address_key("", "", "", "3512", "001", k, sizeof k);
    assert_string_equal(k, "3512/001");
    sfp_brief_address_key(NULL, NULL, NULL, "3512", "001", k, sizeof k);
    assert_string_equal(k, "3512/001");
    sfp_brief_address_key("  12 ", " Main ", " st ", "1", "2", k, sizeof k); /* each part trimmed */
    assert_string_equal(k, "12 MAIN ST");
    sfp_brief_address_key("", "Main", "", "1", "2", k, sizeof k); /* no number: the name alone */
    assert_string_equal(k, "MAIN");
    sfp_brief_address_key("1455", "Market", "st", "3507", "004", k, 6); /* cut to the buffer */
    assert_string_equal(k, "1455 ");
    sfp_brief_address_key("", "", "", NULL, "001", k, sizeof k);
    assert_string_equal(k, "/001");
    sfp_brief_title_case("1281 8TH AVE", t, sizeof t);
    assert_string_equal(t, "1281 8th Ave");
    sfp_brief_title_case("40 O'FARRELL ST", t, sizeof t);
    assert_string_equal(t, "40 O'Farrell St");
}

static void test_bearer(void **state)
{
    (void)state;
    size_t n = 0;
    const char *t = sfp_brief_bearer_token("Bearer demo-token-alice", &n);
    assert_non_null(t);
    assert_int_equal(n, strlen("demo-token-alice"));
    assert_memory_equal(t, "demo-token-alice", n);
    assert_non_null(sfp_brief_bearer_token("bearer   abc  ", &n));
    assert_int_equal(n, 3);
    assert_null(sfp_brief_bearer_token(NULL, &n));
    assert_null(sfp_brief_bearer_token("", &n));
    assert_null(sfp_brief_bearer_token("Bearer", &n));
    assert_null(sfp_brief_bearer_token("Bearer ", &n));
    assert_null(sfp_brief_bearer_token("Bearerabc", &n));
    assert_null(sfp_brief_bearer_token("Basic YWxpY2U6eA==", &n));
    assert_null(sfp_brief_bearer_token("Bearer a b", &n));
    char big[1100];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'x', 1025);
    big[7 + 1025] = '\0';
    assert_null(sfp_brief_bearer_token(big, &n));
    big[7 + 1024] = '\0';
    assert_non_null(sfp_brief_bearer_token(big, &n));
    char hex[65];
    assert_int_equal(sfp_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* ---- cards ---- */

static char g_day[8][11];

static const char *day_ago(int slot, int days)
{
    sfp_format_iso_day(T - days, g_day[slot]);
    return g_day[slot];
}

static sfp_brief_permit_row row(const char *permit, const char *status)
{
    sfp_brief_permit_row r = {.permit_number = permit,
                              .status = status,
                              .status_date = "",
                              .filed_date = "",
                              .issued_date = "",
                              .completed_date = "",
                              .description = "paint",
                              .permit_type_definition = "otc alterations permit",
                              .street_number = "1455",
                              .street_name = "MARKET",
                              .street_suffix = "ST",
                              .block = "3507",
                              .lot = "004",
                              .neighborhood = "South of Market",
                              .label = "",
                              .label_rank = 3,
                              .routing_json = "",
                              .permit_type = "8",
                              .ph_tier = "",
                              .ph_signals_json = ""};
    return r;
}

static Sfpermits__V1__BriefPropertyHealth *card_at(Sfpermits__V1__BriefPropertyHealth **c, size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i]->address, addr)) return c[i];
    fail_msg("no card %s", addr);
    return NULL;
}

static void test_cards_grouping_labels_enforcement(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    sfp_brief_permit_row r[4];
    r[0] = row("P1", "complete");
    r[0].status_date = day_ago(0, 3);
    r[0].label = "permit watch";
    r[0].open_violations = 2; /* parcel 3507/004: repeated on each of its rows */
    r[1] = row("P2", "filed");
    r[1].status_date = day_ago(1, 10);
    r[1].label = "1455 Market St";
    r[1].label_rank = 1;
    r[1].open_violations = 2;
    r[2] = row("P3", "issued"); /* same address, another lot */
    r[2].lot = "005";
    r[2].open_violations = 1;
    r[2].open_complaints = 1;
    r[3] = row("P4", "complete"); /* a parcel without address */
    r[3].street_number = r[3].street_name = r[3].street_suffix = "";
    r[3].block = "3512";
    r[3].lot = "001";
    Sfpermits__V1__BriefPropertyHealth **c;
    size_t n;
    sfp_brief_build_cards(r, 4, T, 1, a, &c, &n);
    assert_int_equal(n, 2);
    Sfpermits__V1__BriefPropertyHealth *m = card_at(c, n, "1455 Market St");
    assert_int_equal(m->total_permits, 3);
    assert_int_equal(m->active_permits, 2);
    assert_string_equal(m->label, "1455 Market St"); /* the address watch wins over the permit watch */
    assert_int_equal(m->open_violations, 3);         /* 2 (once for 3507/004) + 1 (3507/005) */
    assert_int_equal(m->open_complaints, 1);
    assert_int_equal(m->enforcement_total, 4);
    assert_string_equal(ENAME(m->health), "at_risk"); /* open enforcement upgrade */
    assert_string_equal(m->health_reason, "Open enforcement: 3 violations, 1 complaint");
    assert_string_equal(m->latest_permit, "P1");
    assert_string_equal(m->latest_activity, g_day[0]);
    assert_true(m->optional_days_since_activity_case);
    assert_int_equal(m->days_since_activity, 3);
    assert_string_equal(m->search_url, "/?q=1455+MARKET+ST");
    assert_string_equal(m->latest_permit_type, "otc alterations permit");
    assert_string_equal(m->parcels_display, "3507/004, 3507/005");
    assert_null(m->routing); /* P2 is filed but has no addenda */
    assert_string_equal(m->health_source, "severity_v1");
    assert_true(m->optional_severity_score_case);
    m = card_at(c, n, "3512/001");
    assert_string_equal(ENAME(m->health), "on_track");
    assert_string_equal(m->health_reason, ""); /* empty when on track */
    assert_false(m->optional_severity_score_case);
    assert_false(m->optional_days_since_activity_case);
    assert_string_equal(c[0]->address, "1455 Market St"); /* worst first */
    sfp_arena_free(a);
}

static void test_cards_property_health_v2(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    sfp_brief_permit_row r[2];
    r[0] = row("P1", "issued");
    r[0].ph_tier = "high_risk";
    r[0].ph_signal_count = 3;
    r[0].ph_at_risk_count = 1;
    r[0].ph_signals_json = "[{\"type\":\"nov\",\"severity\":\"at_risk\",\"permit\":\"\",\"detail\":\"Open NOV\"},"
                           "{\"type\":\"complaint\",\"severity\":\"slower\",\"permit\":null,\"detail\":\"c\"},"
                           "{\"type\":\"stale_no_activity\",\"severity\":\"slower\",\"permit\":\"P1\"}]";
    r[1] = row("P9", "issued"); /* another address, no property_health row */
    r[1].street_number = "146";
    r[1].street_name = "LAKE";
    r[1].block = "1386";
    r[1].lot = "025";
    Sfpermits__V1__BriefPropertyHealth **c;
    size_t n;
    sfp_brief_build_cards(r, 2, T, 1, a, &c, &n);
    assert_int_equal(n, 2);
    Sfpermits__V1__BriefPropertyHealth *m = c[0];
    assert_string_equal(m->address, "1455 Market St");
    assert_string_equal(ENAME(m->health), "high_risk");
    assert_string_equal(m->health_source, "property_health");
    assert_string_equal(m->health_reason, "3 signals, 1 at-risk");
    assert_int_equal(m->n_signals, 3);
    assert_string_equal(m->signals[0]->type, "nov");
    assert_string_equal(m->signals[1]->permit, "");
    assert_string_equal(m->signals[2]->detail, "");
    assert_false(m->optional_severity_score_case);
    /* not scored: no severity tier (REST JSON null), not "unspecified" */
    assert_int_equal(m->optional_severity_tier_case,
                     SFPERMITS__V1__BRIEF_PROPERTY_HEALTH__OPTIONAL_SEVERITY_TIER__NOT_SET);
    assert_string_equal(c[1]->health_source, "severity_v1");
    assert_string_equal(c[1]->address, "146 Lake St");
    sfp_arena_free(a);
}

/* Holds are read only from the routing of the filed permit with the lowest completion;
 * plancheck permits (and filed ones with a higher completion) do not count. */
static void test_cards_hold_only_from_filed(void **state)
{
    (void)state;
    static const char *const held2 =
        "{\"total\":4,\"completed\":1,\"pending\":[{\"station\":\"CPB\",\"arrive\":\"2025-12-20\",\"hold\":true,"
        "\"median\":3},{\"station\":\"SFFD\",\"arrive\":\"2025-12-20\",\"hold\":true,\"median\":null},"
        "{\"station\":\"BLDG\",\"arrive\":\"2025-10-01\",\"hold\":false,\"median\":45}]}";
    static const char *const clear_low =
        "{\"total\":4,\"completed\":0,\"pending\":[{\"station\":\"INTAKE\",\"arrive\":\"2025-12-30\",\"hold\":false,"
        "\"median\":0.5}]}";
    static const struct {
        const char *status1, *routing1, *status2, *routing2;
        const char *health, *reason;
    } cases[] = {
        {"filed", held2, NULL, NULL, "at_risk", "Hold at CPB, SFFD"},
        {"plancheck", held2, NULL, NULL, "on_track", ""},         /* plancheck: not read */
        {"filed", held2, "filed", clear_low, "on_track", ""},     /* lowest completion has no hold */
        {"filed", clear_low, "plancheck", held2, "on_track", ""}, /* the held one is plancheck */
        {"approved", held2, NULL, NULL, "on_track", ""},          /* only filed */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sfp_arena *a = sfp_arena_new();
        sfp_brief_permit_row r[2];
        r[0] = row("P1", cases[i].status1);
        r[0].routing_json = cases[i].routing1;
        r[0].description = "new window";
        size_t nr = 1;
        if (cases[i].status2) {
            r[1] = row("P2", cases[i].status2);
            r[1].routing_json = cases[i].routing2;
            r[1].description = "new window";
            nr = 2;
        }
        Sfpermits__V1__BriefPropertyHealth **c;
        size_t n;
        sfp_brief_build_cards(r, nr, T, 1, a, &c, &n);
        if (strcmp(ENAME(c[0]->health), cases[i].health) || strcmp(c[0]->health_reason, cases[i].reason))
            fail_msg("case %zu: %s / %s", i, c[0]->health, c[0]->health_reason);
        sfp_arena_free(a);
    }
    /* the card carries the routing it read */
    sfp_arena *a = sfp_arena_new();
    sfp_brief_permit_row r = row("P1", "filed");
    r.routing_json = held2;
    Sfpermits__V1__BriefPropertyHealth **c;
    size_t n;
    sfp_brief_build_cards(&r, 1, T, 1, a, &c, &n);
    Sfpermits__V1__BriefRouting *rt = c[0]->routing;
    assert_non_null(rt);
    assert_string_equal(rt->permit_number, "P1");
    assert_int_equal(rt->completion_pct, 25);
    assert_int_equal(rt->total_stations, 4);
    assert_int_equal(rt->completed_stations, 1);
    assert_int_equal(rt->n_pending_station_names, 3);
    assert_int_equal(rt->n_held_stations, 2);
    assert_int_equal(rt->n_stalled_stations, 1); /* BLDG: 92 days, no hold */
    assert_string_equal(rt->stalled_stations[0], "BLDG");
    assert_int_equal(rt->n_velocity, 3);
    assert_string_equal(rt->velocity[0]->typical, "~3 days");
    assert_string_equal(rt->velocity[1]->typical, ""); /* no median */
    assert_string_equal(rt->velocity[2]->typical, "~1.5 months");
    assert_null(sfp_brief_routing_from_json("P", "", T, a));
    assert_null(sfp_brief_routing_from_json("P", "{\"total\":0,\"completed\":0,\"pending\":[]}", T, a));
    assert_null(sfp_brief_routing_from_json("P", "not json", T, a));
    sfp_arena_free(a);
}

/* Cards active within the lookback come first, then worst health. */
static void test_cards_order_recent_first(void **state)
{
    (void)state;
    static const char *const nums[] = {"1", "2", "3", NULL};
    /* card 1: quiet (40 days), at_risk (open complaint); card 2: active (2 days), on_track;
     * card 3: active (5 days), at_risk */
    static const struct {
        int lookback;
        const char *order[3];
    } cases[] = {
        {7, {"3 Market St", "2 Market St", "1 Market St"}},
        {1, {"3 Market St", "1 Market St", "2 Market St"}},  /* nobody active in 1 day: worst first */
        {90, {"3 Market St", "1 Market St", "2 Market St"}}, /* everybody active: worst first */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sfp_arena *a = sfp_arena_new();
        sfp_brief_permit_row r[3];
        int ago[3] = {40, 2, 5};
        for (int i = 0; nums[i]; i++) {
            r[i] = row("P", "complete");
            r[i].street_number = nums[i];
            r[i].block = nums[i];
            r[i].status_date = day_ago(i, ago[i]);
        }
        r[0].open_complaints = 1;
        r[2].open_violations = 1;
        Sfpermits__V1__BriefPropertyHealth **c;
        size_t n;
        sfp_brief_build_cards(r, 3, T, cases[k].lookback, a, &c, &n);
        for (int i = 0; i < 3; i++)
            if (strcmp(c[i]->address, cases[k].order[i]))
                fail_msg("lookback %d, position %d: %s", cases[k].lookback, i, c[i]->address);
        sfp_arena_free(a);
    }
}

static void test_address_norm(void **state)
{
    (void)state;
    static const struct {
        const char *num, *name, *want;
    } cases[] = {
        {"1455", "MARKET", "1455 MARKET"},
        {"1455", "Market St", "1455 MARKET"},
        {"1455", " market  st ", "1455 MARKET"},
        {"146", "LAKE", "146 LAKE"},
        {"1281", "8th Ave", "1281 8TH"},
        {"10", "ST FRANCIS", "10 ST FRANCIS"},
        {"5", "ST", "5 ST"},
        {"", "", ""},
        {"88", "BROADWAY", "88 BROADWAY"},
        {"701", "Van Ness Blvd", "701 VAN NESS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        sfp_brief_address_norm(cases[i].num, cases[i].name, out, sizeof out);
        if (strcmp(out, cases[i].want)) fail_msg("%s %s → %s", cases[i].num, cases[i].name, out);
    }
}

static Sfpermits__V1__BriefChange *mk_change(const char *permit, const char *date, const char *num, const char *name)
{
    static Sfpermits__V1__BriefChange c[8];
    static int k;
    Sfpermits__V1__BriefChange *x = &c[k++ % 8];
    sfpermits__v1__brief_change__init(x);
    x->permit_number = (char *)permit;
    x->change_date = (char *)date;
    x->street_number = (char *)num;
    x->street_name = (char *)name;
    x->new_status = "issued";
    x->watch_type = "permit";
    return x;
}

/* changes carries property-activity rows of cards active within the lookback; a card whose
 * address a change already has adds nothing, whatever the suffix. */
static void test_property_activity(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    sfp_brief_permit_row r[4];
    r[0] = row("P1", "issued"); /* 1455 MARKET ST, active 2 days ago */
    r[0].status_date = day_ago(0, 2);
    r[0].label = "1455 Market St";
    r[1] = row("P2", "filed"); /* same card, 20 days ago: before since */
    r[1].status_date = day_ago(1, 20);
    r[2] = row("P3", "complete"); /* 146 LAKE, active 3 days ago */
    r[2].street_number = "146";
    r[2].street_name = "LAKE";
    r[2].street_suffix = "";
    r[2].block = "1386";
    r[2].lot = "025";
    r[2].status_date = day_ago(2, 3);
    r[3] = row("P4", "complete"); /* 9 OAK: quiet for 60 days → no row */
    r[3].street_number = "9";
    r[3].street_name = "OAK";
    r[3].block = "0001";
    r[3].status_date = day_ago(3, 60);
    Sfpermits__V1__Brief resp = SFPERMITS__V1__BRIEF__INIT;
    sfp_brief_build_cards(r, 4, T, 7, a, &resp.property_health, &resp.n_property_health);
    assert_int_equal(resp.n_property_health, 3);

    /* no changes: both active cards add their rows */
    sfp_brief_add_property_activity(&resp, r, 4, T - 7, 7, a);
    assert_int_equal(resp.n_changes, 2);
    bool market = false, lake = false;
    for (size_t i = 0; i < resp.n_changes; i++) {
        Sfpermits__V1__BriefChange *c = resp.changes[i];
        assert_string_equal(c->watch_type, "property");
        assert_string_equal(c->change_type, "status");
        /* the card's figures are on "activity" rows only: no health here (REST JSON null) */
        assert_int_equal(c->optional_health_case, SFPERMITS__V1__BRIEF_CHANGE__OPTIONAL_HEALTH__NOT_SET);
        if (!strcmp(c->permit_number, "P1")) {
            market = true;
            assert_string_equal(c->new_status, "ISSUED");
            assert_string_equal(c->change_date, g_day[0]);
            assert_string_equal(c->label, "1455 Market St");
            assert_string_equal(c->permit_type, "8");
            assert_string_equal(c->old_status, "");
        }
        if (!strcmp(c->permit_number, "P3")) lake = true;
    }
    assert_true(market && lake);

    /* a change at "1455 MARKET" (no suffix) represents the card "1455 Market St": no duplicate */
    Sfpermits__V1__BriefChange *ch[1] = {mk_change("P9", g_day[0], "1455", "MARKET")};
    resp.changes = ch;
    resp.n_changes = 1;
    sfp_brief_add_property_activity(&resp, r, 4, T - 7, 7, a);
    assert_int_equal(resp.n_changes, 2); /* P9 + the 146 Lake row */
    assert_string_equal(resp.changes[1]->permit_number, "P3");

    /* a card active within the lookback but without a permit since `since`: one activity row */
    Sfpermits__V1__BriefChange *ch2[1] = {mk_change("P9", g_day[0], "1455", "MARKET")};
    resp.changes = ch2;
    resp.n_changes = 1;
    sfp_brief_add_property_activity(&resp, r, 4, T - 2, 7, a); /* since = 2 days ago: P3 (3 days) is older */
    assert_int_equal(resp.n_changes, 2);
    Sfpermits__V1__BriefChange *g = resp.changes[1];
    assert_string_equal(g->change_type, "activity");
    assert_string_equal(g->new_status, "activity");
    assert_string_equal(g->permit_number, "P3");
    assert_string_equal(g->latest_permit_status, "complete");
    assert_int_equal(g->total_permits, 1);
    assert_true(g->optional_days_since_activity_case);
    assert_int_equal(g->days_since_activity, 3);
    assert_int_equal(g->optional_health_case, SFPERMITS__V1__BRIEF_CHANGE__OPTIONAL_HEALTH_HEALTH);
    assert_string_equal(ENAME(g->health), "on_track");

    /* the same permit and date already listed (another address spelling) is not repeated */
    Sfpermits__V1__BriefChange *ch3[1] = {mk_change("P3", g_day[2], "146", "LAKE AVE")};
    resp.changes = ch3;
    resp.n_changes = 1;
    sfp_brief_add_property_activity(&resp, r, 4, T - 7, 7, a);
    for (size_t i = 1; i < resp.n_changes; i++) assert_string_not_equal(resp.changes[i]->permit_number, "P3");
    sfp_arena_free(a);
}

static void test_predictability_rules(void **state)
{
    (void)state;
    static const struct {
        int elapsed, p50, p75, p90;
        const char *status;
        int pct;
    } cases[] = {
        {10, 30, 60, 90, "on_track", 33}, {30, 30, 60, 90, "on_track", 100}, {31, 30, 60, 90, "slower", 103},
        {60, 30, 60, 90, "slower", 200},  {61, 30, 60, 90, "behind", 203},   {90, 30, 60, 90, "behind", 300},
        {91, 30, 60, 90, "at_risk", 303}, {5, 0, 0, 0, "at_risk", 0},        {0, 0, 0, 0, "on_track", 0},
        {1, 3, 4, 5, "on_track", 33},     {2, 3, 4, 5, "on_track", 67},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *st = sfp_brief_predictability_status(cases[i].elapsed, cases[i].p50, cases[i].p75, cases[i].p90);
        if (strcmp(st, cases[i].status)) fail_msg("case %zu: %s", i, st);
        assert_int_equal(sfp_brief_pct_of_typical(cases[i].elapsed, cases[i].p50), cases[i].pct);
    }
    assert_string_equal(sfp_brief_cost_bracket(0), "under_50k");
    assert_string_equal(sfp_brief_cost_bracket(49999.99), "under_50k");
    assert_string_equal(sfp_brief_cost_bracket(50000), "50k_150k");
    assert_string_equal(sfp_brief_cost_bracket(150000), "150k_500k");
    assert_string_equal(sfp_brief_cost_bracket(500000), "over_500k");
    assert_string_equal(sfp_brief_review_path("otc alterations permit"), "otc");
    assert_string_equal(sfp_brief_review_path("OTC Alterations Permit"), "otc");
    assert_string_equal(sfp_brief_review_path("additions alterations or repairs"), "in_house");
    /* sort: at_risk, behind, slower, on_track */
    Sfpermits__V1__BriefPredictability it[4], *pp[4];
    const char *st[4] = {"on_track", "behind", "at_risk", "slower"};
    for (int i = 0; i < 4; i++) {
        sfpermits__v1__brief_predictability__init(&it[i]);
        it[i].status = (Sfpermits__V1__PredictabilityStatus)sfp_pbjson_enum_value(
            &sfpermits__v1__predictability_status__descriptor, st[i], 0);
        it[i].permit_number = "P";
        pp[i] = &it[i];
    }
    sfp_brief_sort_predictability(pp, 4);
    assert_string_equal(ENAME(pp[0]->status), "at_risk");
    assert_string_equal(ENAME(pp[1]->status), "behind");
    assert_string_equal(ENAME(pp[2]->status), "slower");
    assert_string_equal(ENAME(pp[3]->status), "on_track");
}

static void test_synopsis(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    assert_null(sfp_brief_build_synopsis("1455", "MARKET", NULL, 0, a));
    sfp_brief_synopsis_row r[4] = {
        {"P1", "otc alterations permit", "complete", "2019-05-01T00:00:00.000", "paint", "SoMa", "3507", "004"},
        {"P2", "otc alterations permit", "issued", "2024-02-01T00:00:00.000", "kitchen", "SoMa", "3507", "004"},
        {"P3", "additions alterations or repairs", "filed", "2025-11-03T00:00:00.000",
         "a very long description that goes on and on and on and on and on and on and on and on and on and on and "
         "on and on and beyond the limit",
         "South of Market", "3507", "004"},
        {"P4", "sign - erect", "completed", "", "sign", "SoMa", "3507", "004"},
    };
    Sfpermits__V1__BriefPropertySynopsis *s = sfp_brief_build_synopsis("1455", "MARKET", r, 4, a);
    assert_string_equal(s->address, "1455 Market");
    assert_int_equal(s->total_permits, 4);
    assert_int_equal(s->active_count, 2);
    assert_int_equal(s->completed_count, 2);
    assert_string_equal(s->latest_permit->permit_number, "P3");
    assert_string_equal(s->latest_permit->filed_date, "2025-11-03");
    assert_int_equal(strlen(s->latest_permit->description), 120);
    assert_string_equal(s->neighborhood, "South of Market");
    assert_string_equal(s->earliest_date, "2019-05-01");
    assert_string_equal(s->latest_date, "2025-11-03");
    assert_int_equal(s->n_top_types, 3);
    assert_string_equal(s->top_types[0]->name, "otc alterations permit");
    assert_int_equal(s->top_types[0]->count, 2);
    assert_int_equal(s->n_status_counts, 4);
    sfp_arena_free(a);
}

/* An at_risk that comes from an expired permit becomes behind " (active site)" when
 * the site had activity within 30 days; decided on the severity result, so it fires. */
static void test_cards_expired_downgrade(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    /* new construction, $3M (validity 1440), issued 1500 d ago (expired 60 d), filed 1100 d ago,
     * 0 inspections: 15 + 18.84 + 20 + 15 + 12 = 80.84 → 81 CRITICAL, top driver expiration. */
    sfp_brief_permit_row r = row("P1", "issued");
    r.description = "new construction";
    r.has_revised_cost = true;
    r.revised_cost = 3000000;
    r.issued_date = day_ago(0, 1500);
    r.filed_date = day_ago(1, 1100);
    r.status_date = day_ago(2, 5);
    Sfpermits__V1__BriefPropertyHealth **c;
    size_t n;
    sfp_brief_build_cards(&r, 1, T, 1, a, &c, &n);
    assert_int_equal(c[0]->severity_score, 81);
    assert_int_equal(c[0]->optional_severity_tier_case,
                     SFPERMITS__V1__BRIEF_PROPERTY_HEALTH__OPTIONAL_SEVERITY_TIER_SEVERITY_TIER);
    assert_string_equal(ENAME(c[0]->severity_tier), "critical");
    assert_string_equal(ENAME(c[0]->health), "behind");
    assert_non_null(strstr(c[0]->health_reason, "Permit expired 60 days ago (active site)"));

    r.status_date = day_ago(2, 40); /* quiet site: stays at_risk */
    sfp_brief_build_cards(&r, 1, T, 1, a, &c, &n);
    assert_string_equal(ENAME(c[0]->health), "at_risk");
    assert_null(strstr(c[0]->health_reason, "active site"));
    sfp_arena_free(a);
}

static void test_cards_bounded(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    sfp_brief_permit_row r[60];
    char nums[60][8];
    for (int i = 0; i < 60; i++) {
        snprintf(nums[i], sizeof nums[i], "%d", 100 + i);
        r[i] = row("P", "complete");
        r[i].street_number = nums[i];
    }
    Sfpermits__V1__BriefPropertyHealth **c;
    size_t n;
    sfp_brief_build_cards(r, 60, T, 1, a, &c, &n);
    assert_int_equal(n, SFP_BRIEF_MAX_CARDS);
    sfp_brief_build_cards(r, 0, T, 1, a, &c, &n);
    assert_int_equal(n, 0);
    sfp_arena_free(a);
}

/* Every *_count is its own section's length; at_risk_count counts the predictability
 * (`health`) items that are behind or at_risk, not the cards. */
static void test_summary_counts(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    Sfpermits__V1__Brief r = SFPERMITS__V1__BRIEF__INIT;
    Sfpermits__V1__BriefPropertyHealth p[3];
    Sfpermits__V1__BriefPropertyHealth *pp[3] = {&p[0], &p[1], &p[2]};
    for (int i = 0; i < 3; i++) sfpermits__v1__brief_property_health__init(&p[i]);
    p[0].health = SFPERMITS__V1__CARD_HEALTH__CARD_HEALTH_HIGH_RISK;
    p[1].health = SFPERMITS__V1__CARD_HEALTH__CARD_HEALTH_AT_RISK;
    p[1].enforcement_total = 2;
    p[2].health = SFPERMITS__V1__CARD_HEALTH__CARD_HEALTH_BEHIND;
    r.property_health = pp;
    r.n_property_health = 3;
    Sfpermits__V1__BriefPredictability h[4], *hp[4] = {&h[0], &h[1], &h[2], &h[3]};
    const char *hs[4] = {"at_risk", "behind", "slower", "on_track"};
    for (int i = 0; i < 4; i++) {
        sfpermits__v1__brief_predictability__init(&h[i]);
        h[i].status = (Sfpermits__V1__PredictabilityStatus)sfp_pbjson_enum_value(
            &sfpermits__v1__predictability_status__descriptor, hs[i], 0);
    }
    r.health = hp;
    r.n_health = 4;
    r.n_changes = 7;
    r.n_plan_reviews = 2;
    r.n_inspections = 11;
    r.n_new_filings = 1;
    r.n_expiring = 4;
    r.n_team_activity = 5;
    r.n_regulatory_alerts = 3;
    r.n_planning_context = 2;
    r.n_compliance_calendar = 6;
    r.n_street_use_activity = 8;
    r.n_nearby_development = 9;
    sfp_brief_fill_summary(&r, 13, a);
    assert_int_equal(r.summary->total_watches, 13);
    assert_int_equal(r.summary->total_properties, 3);
    assert_int_equal(r.summary->changes_count, 7);
    assert_int_equal(r.summary->plan_reviews_count, 2);
    assert_int_equal(r.summary->inspections_count, 11);
    assert_int_equal(r.summary->new_filings_count, 1);
    assert_int_equal(r.summary->expiring_count, 4);
    assert_int_equal(r.summary->at_risk_count, 2); /* at_risk + behind of `health` */
    assert_int_equal(r.summary->enforcement_count, 1);
    assert_int_equal(r.summary->team_count, 5);
    assert_int_equal(r.summary->regulatory_count, 3);
    assert_int_equal(r.summary->planning_context_count, 2);
    assert_int_equal(r.summary->compliance_calendar_count, 6);
    assert_int_equal(r.summary->street_use_count, 8);
    assert_int_equal(r.summary->nearby_development_count, 9);
    r.n_health = 0; /* cards at risk do not count */
    sfp_brief_fill_summary(&r, 13, a);
    assert_int_equal(r.summary->at_risk_count, 0);
    sfp_arena_free(a);
}

/* compliance_calendar: days until expiration, the window (expired within 365 days, expiring
 * within 90), soonest first. */
static void test_compliance_rules(void **state)
{
    (void)state;
    static const struct {
        const char *date;
        bool ok;
        int32_t days;
        bool in_window;
    } cases[] = {
        {"2026-01-01T00:00:00.000", true, 0, true},
        {"2026-04-01", true, 90, true},
        {"2026-04-02T00:00:00.000", true, 91, false},
        {"2025-01-01T00:00:00.000", true, -365, true},
        {"2024-12-31T00:00:00.000", true, -366, false},
        {"2025-12-31", true, -1, true},
        {"", false, 0, false},
        {NULL, false, 0, false},
        {"not a date", false, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t d = 12345;
        bool ok = sfp_brief_days_until(cases[i].date, T, &d);
        if (ok != cases[i].ok) fail_msg("days_until(%s): ok %d", cases[i].date ? cases[i].date : "(null)", ok);
        if (!ok) continue;
        if (d != cases[i].days) fail_msg("days_until(%s) = %d, want %d", cases[i].date, d, cases[i].days);
        if (sfp_brief_compliance_in_window(d) != cases[i].in_window) fail_msg("window(%d)", d);
    }
    Sfpermits__V1__BriefComplianceItem a = SFPERMITS__V1__BRIEF_COMPLIANCE_ITEM__INIT, b = a, c = a, d = a;
    a.permit_number = "BP3", a.days_until = 29;
    b.permit_number = "BP2", b.days_until = -21;
    c.permit_number = "BP1", c.days_until = 29;
    d.permit_number = "BP9", d.days_until = -336;
    Sfpermits__V1__BriefComplianceItem *v[] = {&a, &b, &c, &d};
    sfp_brief_sort_compliance(v, 4);
    assert_string_equal(v[0]->permit_number, "BP9");
    assert_string_equal(v[1]->permit_number, "BP2");
    assert_string_equal(v[2]->permit_number, "BP1"); /* ties by permit number */
    assert_string_equal(v[3]->permit_number, "BP3");
}

/* data_quality: rate to one decimal, warn under 5.0 %, unknown without rows. */
static void test_data_quality_rate(void **state)
{
    (void)state;
    static const struct {
        int32_t sampled, matched;
        double pct;
        const char *status;
    } cases[] = {
        {0, 0, 0.0, "unknown"}, {500, 0, 0.0, "warn"}, {500, 24, 4.8, "warn"}, {1000, 49, 4.9, "warn"},
        {1000, 50, 5.0, "ok"},  {3, 1, 33.3, "ok"},    {3, 2, 66.7, "ok"},     {500, 500, 100.0, "ok"},
        {2000, 99, 5.0, "ok"}, /* 4.95 rounds to 5.0: the shown figure decides */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Sfpermits__V1__BriefDataQuality dq = SFPERMITS__V1__BRIEF_DATA_QUALITY__INIT;
        dq.sampled = cases[i].sampled;
        dq.matched = cases[i].matched;
        sfp_brief_data_quality_rate(&dq);
        if (fabs(dq.match_rate_pct - cases[i].pct) > 1e-9 || strcmp(ENAME(dq.status), cases[i].status))
            fail_msg("%d/%d: %.2f %s, want %.1f %s", cases[i].matched, cases[i].sampled, dq.match_rate_pct, dq.status,
                     cases[i].pct, cases[i].status);
    }
}

/* planning_context: a record is open unless closed or withdrawn; nearby_development's
 * description. */
static void test_planning_and_pipeline_rules(void **state)
{
    (void)state;
    static const struct {
        const char *status;
        bool open;
    } cases[] = {{"Open", true},
                 {"Under Review", true},
                 {"Accepted", true},
                 {NULL, true},
                 {"", true},
                 {"Closed", false},
                 {"CLOSED", false},
                 {" closed", false},
                 {"Closed - CEQA Cleared", false},
                 {"Withdrawn", false},
                 {"WITHDRAWN", false},
                 {"Clos", true},
                 {"Reopened", true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sfp_brief_planning_is_open(cases[i].status) != cases[i].open)
            fail_msg("planning status '%s': want open=%d", cases[i].status ? cases[i].status : "(null)", cases[i].open);
    sfp_arena *a = sfp_arena_new();
    assert_string_equal(sfp_brief_pipeline_description("New building", "DBI text", a), "New building");
    assert_string_equal(sfp_brief_pipeline_description("", "DBI text", a), "DBI text");
    assert_string_equal(sfp_brief_pipeline_description(NULL, NULL, a), "");
    char longtext[300];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    assert_int_equal(strlen(sfp_brief_pipeline_description(longtext, NULL, a)), 120);
    sfp_arena_free(a);
}

int main(void)
{
    T = sfp_days_from_civil(2026, 1, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookback),
        cmocka_unit_test(test_inspection_outcome),
        cmocka_unit_test(test_table_b),
        cmocka_unit_test(test_station_label),
        cmocka_unit_test(test_health_mapping),
        cmocka_unit_test(test_pipeline_health),
        cmocka_unit_test(test_pipeline_average),
        cmocka_unit_test(test_address_key_and_title),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_cards_grouping_labels_enforcement),
        cmocka_unit_test(test_cards_property_health_v2),
        cmocka_unit_test(test_cards_hold_only_from_filed),
        cmocka_unit_test(test_cards_order_recent_first),
        cmocka_unit_test(test_address_norm),
        cmocka_unit_test(test_property_activity),
        cmocka_unit_test(test_predictability_rules),
        cmocka_unit_test(test_synopsis),
        cmocka_unit_test(test_cards_expired_downgrade),
        cmocka_unit_test(test_cards_bounded),
        cmocka_unit_test(test_summary_counts),
        cmocka_unit_test(test_compliance_rules),
        cmocka_unit_test(test_data_quality_rate),
        cmocka_unit_test(test_planning_and_pipeline_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
