/* test_seed_gen.c — unit tests for tools/seed (sfp_seed_lib): determinism, the heavy tail,
 * value formats of the reference (sec. 8.2), column counts, dates never after as_of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed_gen.h"

#define AS_OF_TEXT "2026-02-11"

/* ---------------------------------------------------------------- helpers */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static int collect(void *ud, const char *data, size_t len)
{
    text *t = ud;
    if (t->len + len + 1 > t->cap) {
        t->cap = (t->len + len + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s) return -1;
    }
    memcpy(t->s + t->len, data, len);
    t->len += len;
    t->s[t->len] = '\0';
    return 0;
}

static sfp_seed_world *demo_world(uint64_t seed)
{
    sfp_seed_opts o = {SFP_SEED_DEMO, seed, 0};
    assert_int_equal(sfp_seed_parse_day(AS_OF_TEXT, &o.as_of), 0);
    sfp_seed_world *w = sfp_seed_world_new(&o);
    assert_non_null(w);
    return w;
}

static text table_text(const sfp_seed_world *w, sfp_seed_table t, int64_t *rows)
{
    text out = {0};
    int64_t n = sfp_seed_generate(w, t, collect, &out);
    assert_true(n >= 0);
    if (rows) *rows = n;
    if (!out.s) out.s = calloc(1, 1);
    return out;
}

/* Splits one line (modified in place) on tabs; returns the field count. */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line;;) {
        if (n < max) f[n] = p;
        n++;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int count_columns(sfp_seed_table t)
{
    int n = 1;
    for (const char *c = sfp_seed_table_columns(t); *c; c++) n += *c == ',';
    return n;
}

static void assert_match(const char *re, const char *s)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&rx, s, 0, NULL, 0);
    regfree(&rx);
    if (rc != 0) fail_msg("'%s' does not match %s", s, re);
}

#define DATE_RE "^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.000|\\\\N)$"

/* ---------------------------------------------------------------- tests */
static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    sfp_seed_world *a = demo_world(42), *b = demo_world(42);
    for (int t = 0; t < SFP_SEED_TABLE_COUNT; t++) {
        int64_t na, nb;
        text ta = table_text(a, (sfp_seed_table)t, &na), tb = table_text(b, (sfp_seed_table)t, &nb);
        assert_int_equal(na, nb);
        assert_int_equal(ta.len, tb.len);
        if (memcmp(ta.s, tb.s, ta.len) != 0) fail_msg("table %s differs between runs", sfp_seed_table_name(t));
        free(ta.s);
        free(tb.s);
    }
    sfp_seed_world_free(a);
    sfp_seed_world_free(b);
}

static void test_generation_order_does_not_matter(void **state)
{
    (void)state;
    sfp_seed_world *a = demo_world(7), *b = demo_world(7);
    text first = table_text(a, SFP_SEED_ADDENDA, NULL);
    for (int t = 0; t < SFP_SEED_TABLE_COUNT; t++) free(table_text(b, (sfp_seed_table)t, NULL).s);
    text later = table_text(b, SFP_SEED_ADDENDA, NULL);
    assert_int_equal(first.len, later.len);
    assert_memory_equal(first.s, later.s, first.len);
    free(first.s);
    free(later.s);
    sfp_seed_world_free(a);
    sfp_seed_world_free(b);
}

static void test_other_seed_other_data(void **state)
{
    (void)state;
    sfp_seed_world *a = demo_world(1), *b = demo_world(2);
    text ta = table_text(a, SFP_SEED_PERMITS, NULL), tb = table_text(b, SFP_SEED_PERMITS, NULL);
    assert_true(ta.len != tb.len || memcmp(ta.s, tb.s, ta.len) != 0);
    free(ta.s);
    free(tb.s);
    sfp_seed_world_free(a);
    sfp_seed_world_free(b);
}

/* permits of block/lot, and the largest count of any parcel */
static int parcel_permits(const text *permits, const char *block, const char *lot, int *max_count)
{
    char *copy = strdup(permits->s);
    char key[32];
    int n = 0, best = 0, run = 0;
    char prev[16] = "";
    snprintf(key, sizeof key, "%s/%s", block, lot);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[32];
        split_fields(line, f, 32);
        char bl[16];
        snprintf(bl, sizeof bl, "%s/%s", f[22], f[23]);
        n += !strcmp(bl, key);
        run = strcmp(bl, prev) ? 1 : run + 1; /* rows are grouped by parcel */
        if (run > best) best = run;
        snprintf(prev, sizeof prev, "%s", bl);
    }
    free(copy);
    if (max_count) *max_count = best;
    return n;
}

static void test_heavy_tail(void **state)
{
    (void)state;
    sfp_seed_world *w = demo_world(SFP_SEED_DEFAULT_SEED);
    text p = table_text(w, SFP_SEED_PERMITS, NULL);
    int max = 0;
    assert_int_equal(parcel_permits(&p, "3512", "001", &max), 44);
    assert_int_equal(max, 44); /* the heaviest parcel */
    assert_int_equal(parcel_permits(&p, "0585", "003", NULL), 20);
    assert_int_equal(parcel_permits(&p, "3507", "004", NULL), 2);
    for (size_t i = 0; i < sfp_seed_special_count(); i++) {
        const sfp_seed_special *s = sfp_seed_special_get(i);
        assert_int_equal(parcel_permits(&p, s->block, s->lot, NULL), s->n_permits);
    }
    free(p.s);
    sfp_seed_world_free(w);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_permit_row(char **f)
{
    assert_match("^[0-9]{12}$", f[0]);
    assert_match("^[1-8]$", f[1]);
    assert_match("^(filed|plancheck|approved|issued|complete|expired|cancelled|withdrawn|reinstated|suspend)$", f[3]);
    for (int i = 4; i <= 9; i++)
        if (i != 5) assert_match(DATE_RE, f[i]);
    /* YYYYMMDD of the permit number is the filing date */
    char ymd[9] = {f[6][0], f[6][1], f[6][2], f[6][3], f[6][5], f[6][6], f[6][8], f[6][9], 0};
    assert_memory_equal(f[0], ymd, 8);
    assert_match("^([0-9]+|\\\\N)$", f[10]);
    assert_match("^[0-9]+$", f[16]);
    assert_match("^941[0-9]{2}$", f[19]);
    assert_true(strlen(f[20]) > 3);
    assert_match("^([1-9]|1[01])$", f[21]);
    assert_match("^[0-9]{4}$", f[22]);
    assert_match("^[0-9]{3}[A-Z]?$", f[23]);
    for (int i = 4; i <= 9; i++)
        if (i != 5 && strcmp(f[i], "\\N")) assert_true(strncmp(f[i], AS_OF_TEXT, 10) <= 0);
}

static void test_permit_formats(void **state)
{
    (void)state;
    sfp_seed_world *w = demo_world(SFP_SEED_DEFAULT_SEED);
    int64_t rows;
    text p = table_text(w, SFP_SEED_PERMITS, &rows);
    assert_int_equal((size_t)rows, sfp_seed_world_permits(w));
    char **numbers = calloc((size_t)rows, sizeof *numbers);
    int64_t k = 0;
    for (char *save = NULL, *line = strtok_r(p.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[32];
        assert_int_equal(split_fields(line, f, 32), 26);
        check_permit_row(f);
        numbers[k++] = f[0];
    }
    assert_int_equal(k, rows);
    qsort(numbers, (size_t)rows, sizeof *numbers, cmp_str);
    for (int64_t i = 1; i < rows; i++) assert_string_not_equal(numbers[i - 1], numbers[i]);
    free(numbers);
    free(p.s);
    sfp_seed_world_free(w);
}

static void test_column_counts(void **state)
{
    (void)state;
    sfp_seed_world *w = demo_world(SFP_SEED_DEFAULT_SEED);
    for (int t = 0; t < SFP_SEED_TABLE_COUNT; t++) {
        int64_t rows;
        text x = table_text(w, (sfp_seed_table)t, &rows);
        int want = count_columns((sfp_seed_table)t), seen = 0;
        for (char *save = NULL, *line = strtok_r(x.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *f[64];
            int n = split_fields(line, f, 64);
            if (n != want) fail_msg("%s: row with %d fields, want %d", sfp_seed_table_name(t), n, want);
            seen++;
        }
        assert_int_equal(seen, rows);
        assert_true(rows > 0);
        free(x.s);
    }
    sfp_seed_world_free(w);
}

/* Field `col` of every row of table t must match re. */
static void check_column(const sfp_seed_world *w, sfp_seed_table t, int col, const char *re)
{
    text x = table_text(w, t, NULL);
    for (char *save = NULL, *line = strtok_r(x.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[64];
        split_fields(line, f, 64);
        assert_match(re, f[col]);
    }
    free(x.s);
}

static void test_value_sets(void **state)
{
    (void)state;
    sfp_seed_world *w = demo_world(SFP_SEED_DEFAULT_SEED);
    check_column(w, SFP_SEED_CONTACTS, 2, "^(contractor|agent|architect|engineer|owner|other|consultant|designer)$");
    check_column(w, SFP_SEED_CONTACTS, 15, "^[YN]$");
    check_column(w, SFP_SEED_INSPECTIONS, 0, "^[0-9]{12}$");
    check_column(w, SFP_SEED_INSPECTIONS, 3, DATE_RE);
    check_column(w, SFP_SEED_INSPECTIONS, 4, "^(PASSED|FAILED|DISAPPROVED|CANCELLED|NOT READY|PARTIAL APPROVAL|N/A)$");
    check_column(w, SFP_SEED_ADDENDA, 1, "^[0-9]{12}$");
    check_column(w, SFP_SEED_ADDENDA, 2, "^[0-9]+$");
    check_column(w, SFP_SEED_ADDENDA, 4, "^[A-Z-]+$");
    check_column(w, SFP_SEED_ADDENDA, 5, DATE_RE);
    check_column(w, SFP_SEED_COMPLAINTS, 0, "^[0-9]{9,10}$");
    check_column(w, SFP_SEED_COMPLAINTS, 12, "^(open|closed|abated)$");
    check_column(w, SFP_SEED_VIOLATIONS, 9, "^(open|closed|complied|abated)$");
    check_column(w, SFP_SEED_TAX_ROLLS, 2, "^202[234]$");
    check_column(w, SFP_SEED_TAX_ROLLS, 0, "^[0-9]{4}$");
    check_column(w, SFP_SEED_PARCEL_SUMMARY, 1, "^[0-9]{3}[A-Z]?$");
    check_column(w, SFP_SEED_PERMIT_CHANGES, 1, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
    sfp_seed_world_free(w);
}

static void test_special_parcel_lookups(void **state)
{
    (void)state;
    sfp_seed_world *w = demo_world(SFP_SEED_DEFAULT_SEED);
    char num[13];
    assert_int_equal(sfp_seed_parcel_permit(w, "3512", "001", false, num), 0);
    assert_int_equal(strlen(num), 12);
    assert_int_equal(sfp_seed_parcel_permit(w, "9999", "999", false, num), -1);
    assert_true(sfp_seed_top_contractor(w) > 0);
    sfp_seed_world_free(w);
}

static void test_full_scale_volumes(void **state)
{
    (void)state;
    sfp_seed_opts o = {SFP_SEED_FULL, SFP_SEED_DEFAULT_SEED, 0};
    assert_int_equal(sfp_seed_parse_day(AS_OF_TEXT, &o.as_of), 0);
    sfp_seed_world *w = sfp_seed_world_new(&o);
    assert_non_null(w);
    assert_true(sfp_seed_world_parcels(w) >= 190000 && sfp_seed_world_parcels(w) <= 200000);
    assert_true(sfp_seed_world_permits(w) >= 1200000 && sfp_seed_world_permits(w) <= 1350000);
    char num[13];
    for (size_t i = 0; i < sfp_seed_special_count(); i++) {
        const sfp_seed_special *s = sfp_seed_special_get(i);
        assert_int_equal(sfp_seed_parcel_permit(w, s->block, s->lot, false, num), 0);
    }
    sfp_seed_world_free(w);
}

static void test_calendar(void **state)
{
    (void)state;
    int32_t d;
    char out[11];
    assert_int_equal(sfp_seed_parse_day("1970-01-01", &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(sfp_seed_parse_day("2024-02-29", &d), 0);
    sfp_seed_format_day(d, out);
    assert_string_equal(out, "2024-02-29");
    sfp_seed_format_day(d + 1, out);
    assert_string_equal(out, "2024-03-01");
    assert_int_equal(sfp_seed_parse_day("2025-02-29", &d), -1);
    assert_int_equal(sfp_seed_parse_day("2025-13-01", &d), -1);
    assert_int_equal(sfp_seed_parse_day("2025-1-01", &d), -1);
    assert_int_equal(sfp_seed_parse_day("yesterday", &d), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_generation_order_does_not_matter),
        cmocka_unit_test(test_other_seed_other_data),
        cmocka_unit_test(test_heavy_tail),
        cmocka_unit_test(test_permit_formats),
        cmocka_unit_test(test_column_counts),
        cmocka_unit_test(test_value_sets),
        cmocka_unit_test(test_special_parcel_lookups),
        cmocka_unit_test(test_full_scale_volumes),
        cmocka_unit_test(test_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
