/* test_seed.c — the sfp-seed binary against a migrated database: two demo runs give identical
 * data, 3512/001 has 44 permits, demo tokens are stored as SHA-256, the bulk tables' indexes
 * survive the drop/re-create around COPY, the summary line matches the database, and the
 * binary refuses an unmigrated database or a missing DATABASE_URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testsupport.h"

#define SEED_CMD SFP_BIN_DIR "/sfp-seed --scale demo --as-of 2026-02-11"

static const char *const counted[] = {
    "permits",    "contacts",   "entities",       "inspections",    "addenda",         "complaints",
    "violations", "tax_rolls",  "parcel_summary", "timeline_stats", "permit_changes",  "addenda_changes",
    "users",      "api_tokens", "watch_items",    "cron_log",       "regulatory_watch"};
#define N_COUNTED (sizeof counted / sizeof counted[0])

/* Runs sfp-seed with DATABASE_URL=url (NULL: unset); returns its exit code and stdout line. */
static int run_seed(const char *url, const char *cmd, char *out, size_t n)
{
    if (url) setenv("DATABASE_URL", url, 1);
    else unsetenv("DATABASE_URL");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    if (!fgets(out, (int)n, p)) out[0] = '\0';
    char sink[256];
    while (fgets(sink, sizeof sink, p)) {
    }
    int st = pclose(p);
    unsetenv("DATABASE_URL");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void table_counts(const char *url, long *counts)
{
    char sql[128];
    for (size_t i = 0; i < N_COUNTED; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", counted[i]);
        counts[i] = sfp_test_sql_long(url, sql);
        assert_true(counts[i] >= 0);
    }
}

static const char *k_index_fingerprint =
    "SELECT hashtext(string_agg(indexdef, ';' ORDER BY indexname)) FROM pg_indexes WHERE schemaname = 'public'";
static const char *k_data_fingerprint =
    "SELECT hashtext(string_agg(permit_number || status || coalesce(issued_date, '') || description, ','"
    " ORDER BY permit_number)) FROM permits";

static void check_summary(const char *line, const char *url)
{
    cJSON *j = cJSON_Parse(line);
    if (!j) fail_msg("summary is not JSON: %s", line);
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
    assert_non_null(rows);
    char sql[128];
    for (size_t i = 0; i < N_COUNTED; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(rows, counted[i]);
        if (!cJSON_IsNumber(v)) fail_msg("summary lacks rows.%s", counted[i]);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", counted[i]);
        assert_int_equal((long)v->valuedouble, sfp_test_sql_long(url, sql));
    }
    cJSON *tokens = cJSON_GetObjectItemCaseSensitive(j, "tokens");
    cJSON *alice = cJSON_GetObjectItemCaseSensitive(tokens, "alice@example.com");
    assert_true(cJSON_IsString(alice));
    assert_string_equal(alice->valuestring, "demo-token-alice");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "elapsed_s")));
    cJSON_Delete(j);
}

static void test_demo_twice_identical(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("sfp_it_seed");
    long indexes_before = sfp_test_sql_long(url, k_index_fingerprint);
    char line[4096];
    assert_int_equal(run_seed(url, SEED_CMD, line, sizeof line), 0);
    check_summary(line, url);
    long first[N_COUNTED];
    table_counts(url, first);
    long data1 = sfp_test_sql_long(url, k_data_fingerprint);

    assert_int_equal(run_seed(url, SEED_CMD, line, sizeof line), 0);
    long second[N_COUNTED];
    table_counts(url, second);
    for (size_t i = 0; i < N_COUNTED; i++) {
        if (first[i] != second[i]) fail_msg("%s: %ld rows, then %ld", counted[i], first[i], second[i]);
        if (first[i] <= 0) fail_msg("%s is empty", counted[i]);
    }
    assert_int_equal(sfp_test_sql_long(url, k_data_fingerprint), data1);
    assert_int_equal(sfp_test_sql_long(url, k_index_fingerprint), indexes_before);

    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM permits WHERE block = '3512' AND lot = '001'"), 44);
    /* contacts carry their permit's filing date (the brief's team_activity reads by it) */
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM contacts c LEFT JOIN permits p USING (permit_number)"
                                            " WHERE c.permit_filed_date IS DISTINCT FROM p.filed_date"),
                     0);
    assert_true(sfp_test_sql_long(url, "SELECT count(*) FROM contacts WHERE permit_filed_date IS NOT NULL") > 0);
    /* the brief's data_quality rows, stored after the load: the view's */
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM brief_data_quality"), 3);
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM (SELECT * FROM brief_data_quality EXCEPT"
                                            " SELECT * FROM sfp_brief_data_quality_live) x"),
                     0);
    assert_int_equal(
        sfp_test_sql_long(url, "SELECT max(c) FROM (SELECT count(*) c FROM permits GROUP BY block, lot) x"), 44);
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM api_tokens t JOIN users u USING (user_id)"
                                            " WHERE u.email = 'alice@example.com'"
                                            " AND t.token_sha256 = sha256('demo-token-alice'::bytea)"),
                     1);
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(DISTINCT user_id) FROM watch_items"), 3);
    /* every permit watch points at a real permit */
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM watch_items w WHERE watch_type = 'permit'"
                                            " AND NOT EXISTS (SELECT 1 FROM permits p"
                                            " WHERE p.permit_number = w.permit_number)"),
                     0);
    free(url);
}

static void test_refuses_unmigrated_db(void **state)
{
    (void)state;
    char *url = sfp_test_create_db("sfp_it_seed_bare");
    char line[4096];
    assert_int_equal(run_seed(url, SEED_CMD " 2>/dev/null", line, sizeof line), 1);
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
    free(url);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char line[4096];
    assert_int_equal(run_seed(NULL, SEED_CMD " 2>/dev/null", line, sizeof line), 2); /* DATABASE_URL missing */
    assert_int_equal(
        run_seed("postgresql:///nowhere", SFP_BIN_DIR "/sfp-seed --scale huge 2>/dev/null", line, sizeof line), 2);
    assert_int_equal(run_seed("postgresql:///nowhere", SFP_BIN_DIR "/sfp-seed 2>/dev/null", line, sizeof line), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_twice_identical),
        cmocka_unit_test(test_refuses_unmigrated_db),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
