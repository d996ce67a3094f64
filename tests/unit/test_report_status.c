/* Report classifiers and helpers: complaint/violation "active" (a
 * substring test would count "NOT ACTIVE" as active), block/lot validation, ISO day parsing, text
 * matching, URL encoding, Postgres text[] literals and semantic_concepts parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "report_db.h"
#include "report_status.h"
#include "report_text.h"

static void test_enforcement_status(void **state)
{
    (void)state;
    static const struct {
        const char *status;
        bool complaint_active, violation_active;
    } t[] = {
        {"ACTIVE", true, true},       {"active", true, true},
        {"Open", true, true},         {"NOT ACTIVE", false, false},
        {"not active", false, false}, {"Inactive", false, false},
        {"closed", false, false},     {"Closed - Abated", false, false},
        {"complied", false, false},   {"NOV", false, true},
        {"NOV issued", false, true},  {"closed nov", false, false},
        {"non-active", false, false}, {"reopened", true, true},
        {"", false, false},           {NULL, false, false},
        {"Referred", false, false},   {"ACTIVE - REFERRED", true, true},
        {"novel", false, false},      {"pending", true, true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *s = t[i].status ? t[i].status : "NULL";
        if (sfp_rpt_is_active_complaint(t[i].status) != t[i].complaint_active) fail_msg("complaint '%s'", s);
        if (sfp_rpt_is_active_violation(t[i].status) != t[i].violation_active) fail_msg("violation '%s'", s);
    }
}

static void test_block_lot_validation(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *block, *lot; /* normalized, or NULL = invalid */
    } t[] = {
        {"3512", "3512", NULL},
        {" 3512 ", "3512", NULL},
        {"3512A", "3512A", NULL},
        {"3512a", NULL, NULL},
        {"351", NULL, "351"},
        {"001", NULL, "001"},
        {"001B", NULL, "001B"},
        {"35123", NULL, NULL},
        {"'; DROP", NULL, NULL},
        {"../", NULL, NULL},
        {"", NULL, NULL},
        {"   ", NULL, NULL},
        {"3512AB", NULL, NULL},
        {"00001", NULL, NULL},
        {"35 12", NULL, NULL},
        {"3512\n", "3512", NULL},
        {"0000000000000000000000000000000000000000", NULL, NULL},
        {"-001", NULL, NULL},
        {"3512%00", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[6];
        int rb = sfp_rpt_normalize_block(t[i].in, out);
        if ((rb == 0) != (t[i].block != NULL)) fail_msg("block '%s'", t[i].in);
        if (!rb && strcmp(out, t[i].block)) fail_msg("block '%s' → '%s'", t[i].in, out);
        int rl = sfp_rpt_normalize_lot(t[i].in, out);
        if ((rl == 0) != (t[i].lot != NULL)) fail_msg("lot '%s'", t[i].in);
        if (!rl && strcmp(out, t[i].lot)) fail_msg("lot '%s' → '%s'", t[i].in, out);
    }
    char out[6];
    assert_int_equal(sfp_rpt_normalize_block(NULL, out), -1);
    assert_int_equal(sfp_rpt_normalize_lot(NULL, out), -1);
}

static void test_days(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int ok;
        int32_t day;
    } t[] = {
        {"1970-01-01", 0, 0},
        {"2026-02-12T00:00:00.000", 0, 20496},
        {"2024-02-29", 0, 19782},
        {"2023-02-29", -1, 0},
        {"2024-13-01", -1, 0},
        {"2024-1-01", -1, 0},
        {"garbage", -1, 0},
        {"", -1, 0},
        {NULL, -1, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int32_t d = -1;
        int rc = sfp_parse_iso_day(t[i].s, &d);
        if (rc != t[i].ok || (rc == 0 && d != t[i].day)) fail_msg("parse_day row %zu: rc %d day %d", i, rc, (int)d);
    }
    int32_t today = sfp_days_from_civil(2026, 2, 12);
    assert_int_equal(sfp_rpt_day_year(today), 2026);
    assert_int_equal(sfp_rpt_day_year(sfp_days_from_civil(1721, 6, 1)), 1721);
    assert_true(sfp_rpt_day_plausible(sfp_days_from_civil(2027, 12, 31), today));
    assert_false(sfp_rpt_day_plausible(sfp_days_from_civil(2028, 1, 1), today));
    assert_false(sfp_rpt_day_plausible(sfp_days_from_civil(1989, 12, 31), today));
}

static void test_text_helpers(void **state)
{
    (void)state;
    assert_true(sfp_rpt_contains_ci("Issued Comments", "comment"));
    assert_false(sfp_rpt_contains_ci(NULL, "x"));
    assert_true(sfp_rpt_has_word_ci("new ADU unit", "adu"));
    assert_false(sfp_rpt_has_word_ci("graduate", "adu"));
    assert_true(sfp_rpt_has_word_ci("adu", "adu"));
    assert_true(sfp_rpt_eq_ci_trim(" Contractor ", "contractor"));
    assert_false(sfp_rpt_eq_ci_trim("contractors", "contractor"));
    assert_true(sfp_rpt_blank(" \t"));
    assert_false(sfp_rpt_blank(" x "));
    sfp_arena *a = sfp_arena_new();
    assert_string_equal(sfp_rpt_urlencode_plus(a, "202401 01/A&b"), "202401+01%2FA%26b");
    assert_string_equal(sfp_rpt_urlencode_plus(a, NULL), "");
    sfp_arena_free(a);
}

static void test_pg_arrays(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    const char *vals[] = {"202401010001", "a\"b", "c\\d", "x,y", ""};
    char *lit = sfp_rpt_pg_array(a, vals, 5);
    assert_string_equal(lit, "{\"202401010001\",\"a\\\"b\",\"c\\\\d\",\"x,y\",\"\"}");
    const char **back;
    size_t n = sfp_rpt_pg_array_parse(a, lit, &back);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < 5; i++) assert_string_equal(back[i], vals[i]);
    assert_string_equal(sfp_rpt_pg_array(a, NULL, 0), "{}");
    assert_int_equal(sfp_rpt_pg_array_parse(a, "{}", &back), 0);
    n = sfp_rpt_pg_array_parse(a, "{001,002,NULL,\"003 A\"}", &back);
    assert_int_equal(n, 3);
    assert_string_equal(back[0], "001");
    assert_string_equal(back[2], "003 A");
    assert_int_equal(sfp_rpt_pg_array_parse(a, NULL, &back), 0);
    assert_int_equal(sfp_rpt_pg_array_parse(a, "garbage", &back), 0);
    sfp_arena_free(a);
}

static void test_concepts_parsing(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    const char **v;
    assert_int_equal(sfp_rpt_parse_concepts(a, "[\"permit_expiration\", \"enforcement\"]", &v), 2);
    assert_string_equal(v[1], "enforcement");
    assert_int_equal(sfp_rpt_parse_concepts(a, "permit_requirements, enforcement", &v), 2);
    assert_string_equal(v[0], "permit_requirements");
    assert_int_equal(sfp_rpt_parse_concepts(a, "['permit_expiration']", &v), 1);
    assert_string_equal(v[0], "permit_expiration");
    assert_int_equal(sfp_rpt_parse_concepts(a, "", &v), 0);
    assert_int_equal(sfp_rpt_parse_concepts(a, NULL, &v), 0);
    assert_int_equal(sfp_rpt_parse_concepts(a, "[1, \"x\"]", &v), 1);
    sfp_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enforcement_status),
        cmocka_unit_test(test_block_lot_validation),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_pg_arrays),
        cmocka_unit_test(test_concepts_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
