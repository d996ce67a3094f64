/* sfp-soda-test-server in Postgres mode: rows of complaints / violations / tax_rolls are served
 * as Socrata would (every non-null value a JSON string, closed_roll_year = tax_year, ordered and
 * limited per request), read through the real SODA client; the nightly's datasets (permits,
 * contacts by source) with `field > 'x'` $where, $order=:id paging (continued by key),
 * count(*), and the truncate fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soda_client.h"
#include "testhttp.h"
#include "testsupport.h"

static const char *str_field(const cJSON *row, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, k);
    if (!v) return NULL;
    if (!cJSON_IsString(v)) fail_msg("field %s is not a JSON string", k);
    return v->valuestring;
}

static void test_serves_seeded_rows(void **st)
{
    (void)st;
    char *url = sfp_test_migrated_db("sfp_test_soda_pg");
    assert_int_equal(
        sfp_test_sql(
            url,
            "INSERT INTO complaints (complaint_number, date_filed, block, lot, status, complaint_description) VALUES"
            " ('201900001', '2019-03-01T00:00:00.000', '3512', '001', 'ACTIVE', 'Work without permit'),"
            " ('202300002', '2023-07-15T00:00:00.000', '3512', '001', NULL, 'Unsafe building'),"
            " ('202100003', '2021-01-02T00:00:00.000', '3512', '001', 'NOT ACTIVE', 'O''Brien''s complaint'),"
            " ('202200004', '2022-01-02T00:00:00.000', '3512', '002', 'ACTIVE', 'other lot')"),
        0);
    assert_int_equal(
        sfp_test_sql(
            url,
            "INSERT INTO violations (complaint_number, item_sequence_number, date_filed, block, lot, status) VALUES"
            " ('201900001', '1', '2019-03-05T00:00:00.000', '3512', '001', 'open'),"
            " ('201900001', '2', '2019-03-05T00:00:00.000', '3512', '001', 'closed')"),
        0);
    assert_int_equal(
        sfp_test_sql(
            url,
            "INSERT INTO tax_rolls (block, lot, tax_year, property_location, number_of_units, assessed_land_value) VALUES"
            " ('3512', '001', '2022', '0000 0100 MAIN ST0000', 4, 500000),"
            " ('3512', '001', '2024', '0000 0100 MAIN ST0000', 4, 512000.5),"
            " ('3512', '001', '2023', '0000 0100 MAIN ST0000', 4, 506000)"),
        0);

    char env_db[1100];
    snprintf(env_db, sizeof env_db, "DATABASE_URL=%s", url);
    const char *env[] = {env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    sfp_proc p;
    assert_int_equal(sfp_proc_start(&p, "sfp-soda-test-server", env), 0);

    sfp_soda_config c;
    sfp_soda_config_defaults(&c);
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/resource", p.port);
    c.base_url = base;
    sfp_err e = {0};
    sfp_soda *s = sfp_soda_create(&c, &e);
    assert_non_null(s);
    sfp_soda_result r[3];
    assert_int_equal(sfp_soda_parcel_fetch(s, "3512", "001", sfp_soda_report_specs, 3, 5000, r, &e), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(r[i].source, SFP_SODA_LIVE);

    const cJSON *cm = sfp_soda_rows_json(r[SFP_SODA_COMPLAINTS].rows);
    assert_int_equal(cJSON_GetArraySize(cm), 3);
    assert_string_equal(str_field(cJSON_GetArrayItem(cm, 0), "complaint_number"), "202300002"); /* date_filed DESC */
    assert_null(str_field(cJSON_GetArrayItem(cm, 0), "status"));                                /* NULL omitted */
    assert_string_equal(str_field(cJSON_GetArrayItem(cm, 1), "complaint_description"), "O'Brien's complaint");
    assert_string_equal(str_field(cJSON_GetArrayItem(cm, 2), "complaint_number"), "201900001");
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cm, 0), "id")); /* our surrogate key is not exposed */

    assert_int_equal(sfp_soda_rows_count(r[SFP_SODA_VIOLATIONS].rows), 2);

    const cJSON *tax = sfp_soda_rows_json(r[SFP_SODA_TAX_ROLL].rows);
    assert_int_equal(cJSON_GetArraySize(tax), 3);
    const cJSON *t0 = cJSON_GetArrayItem(tax, 0);
    assert_string_equal(str_field(t0, "closed_roll_year"), "2024");
    assert_string_equal(str_field(t0, "number_of_units"), "4");
    assert_string_equal(str_field(t0, "assessed_land_value"), "512000.5");
    assert_string_equal(str_field(cJSON_GetArrayItem(tax, 2), "closed_roll_year"), "2022");
    sfp_soda_results_clear(r, 3);

    /* an unknown parcel is an empty 200, and paging works */
    assert_int_equal(sfp_soda_parcel_fetch(s, "9999", "999", sfp_soda_report_specs, 3, 5000, r, &e), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].source, SFP_SODA_LIVE);
        assert_int_equal(sfp_soda_rows_count(r[i].rows), 0);
    }
    sfp_soda_results_clear(r, 3);
    sfp_soda_query q = {.dataset = "gm2e-bten",
                        .where = "block='3512' AND lot='001'",
                        .order = "date_filed ASC",
                        .limit = 2,
                        .offset = 1};
    sfp_soda_response resp;
    assert_int_equal(sfp_soda_query_run(s, &q, 5000, &resp), 0);
    assert_int_equal(sfp_soda_rows_count(resp.rows), 2);
    const cJSON *first = cJSON_GetArrayItem(sfp_soda_rows_json(resp.rows), 0);
    assert_string_equal(str_field(first, "complaint_number"), "202100003");
    sfp_soda_response_clear(&resp);

    sfp_soda_destroy(s);
    assert_int_equal(sfp_proc_stop(&p, 5000), 0);
    free(url);
}

static long page_count(sfp_soda *s, const char *dataset, const char *where, long limit, long offset, char *first,
                       size_t n)
{
    sfp_soda_query q = {.dataset = dataset, .where = where, .order = ":id", .limit = limit, .offset = offset};
    sfp_soda_response resp;
    if (sfp_soda_query_run(s, &q, 5000, &resp)) return -1;
    long got = sfp_soda_rows_count(resp.rows);
    const cJSON *row = cJSON_GetArrayItem(sfp_soda_rows_json(resp.rows), 0);
    snprintf(first, n, "%s", row ? str_field(row, "permit_number") : "");
    sfp_soda_response_clear(&resp);
    return got;
}

static void test_nightly_datasets_paging_count_truncate(void **st)
{
    (void)st;
    char *url = sfp_test_migrated_db("sfp_test_soda_pg_nightly");
    assert_int_equal(sfp_test_sql(url, "INSERT INTO permits (permit_number, status, neighborhood, data_as_of) "
                                       "SELECT 'P' || lpad(g::text, 4, '0'), 'filed', 'Mission', "
                                       "CASE WHEN g % 2 = 0 THEN '2026-01-02T00:00:00.000' "
                                       "ELSE '2026-01-01T00:00:00.000' END FROM generate_series(1, 25) g;"
                                       "INSERT INTO contacts (source, permit_number, name) VALUES "
                                       "('building', 'P0001', 'A'), ('electrical', 'P0001', 'B'), "
                                       "('electrical', 'P0002', 'C')"),
                     0);
    char env_db[1100];
    snprintf(env_db, sizeof env_db, "DATABASE_URL=%s", url);
    const char *env[] = {env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    sfp_proc p;
    assert_int_equal(sfp_proc_start(&p, "sfp-soda-test-server", env), 0);
    sfp_soda_config c;
    sfp_soda_config_defaults(&c);
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/resource", p.port);
    c.base_url = base;
    c.breaker.threshold = 100;
    sfp_err e = {0};
    sfp_soda *s = sfp_soda_create(&c, &e);
    assert_non_null(s);

    /* paging through the even rows with $order=:id: pages 5, 5, 2, in key order */
    const char *where = "data_as_of > '2026-01-01T00:00:00.000'";
    char first[32];
    assert_int_equal(page_count(s, "i98e-djp9", where, 5, 0, first, sizeof first), 5);
    assert_string_equal(first, "P0002");
    assert_int_equal(page_count(s, "i98e-djp9", where, 5, 5, first, sizeof first), 5);
    assert_string_equal(first, "P0012");
    assert_int_equal(page_count(s, "i98e-djp9", where, 5, 10, first, sizeof first), 2);
    assert_string_equal(first, "P0022");
    /* an offset without a preceding page is served by skipping rows */
    assert_int_equal(page_count(s, "i98e-djp9", where, 5, 7, first, sizeof first), 5);
    assert_string_equal(first, "P0016");

    /* the neighborhood goes out under its SODA name; contacts per source */
    sfp_soda_query q1 = {.dataset = "i98e-djp9", .where = "permit_number = 'P0003'", .limit = 1};
    sfp_soda_response resp;
    assert_int_equal(sfp_soda_query_run(s, &q1, 5000, &resp), 0);
    const cJSON *row = cJSON_GetArrayItem(sfp_soda_rows_json(resp.rows), 0);
    assert_string_equal(str_field(row, "neighborhoods_analysis_boundaries"), "Mission");
    sfp_soda_response_clear(&resp);
    sfp_soda_query q2 = {.dataset = "fdm7-jqqf", .select = "count(*) AS n", .limit = 1};
    assert_int_equal(sfp_soda_query_run(s, &q2, 5000, &resp), 0);
    assert_string_equal(str_field(cJSON_GetArrayItem(sfp_soda_rows_json(resp.rows), 0), "n"), "2");
    sfp_soda_response_clear(&resp);
    sfp_soda_query q3 = {.dataset = "3pee-9qhc", .limit = 10};
    assert_int_equal(sfp_soda_query_run(s, &q3, 5000, &resp), 0);
    assert_int_equal(sfp_soda_rows_count(resp.rows), 1);
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(sfp_soda_rows_json(resp.rows), 0), "entity_id"));
    sfp_soda_response_clear(&resp);
    /* unknown field → 400 */
    sfp_soda_query bad = {.dataset = "i98e-djp9", .where = "nope > '1'", .limit = 1};
    assert_int_equal(sfp_soda_query_run(s, &bad, 5000, &resp), -1);
    assert_int_equal(resp.http_status, 400);
    sfp_soda_response_clear(&resp);

    /* truncate: a 200 whose body stops half way → malformed JSON */
    sfp_http_resp hr;
    assert_int_equal(sfp_http(NULL, p.port, "POST", "/__control?mode=truncate&dataset=i98e-djp9", NULL, NULL, 0, &hr),
                     0);
    sfp_http_resp_free(&hr);
    assert_int_equal(page_count(s, "i98e-djp9", where, 5, 0, first, sizeof first), -1);
    assert_int_equal(page_count(s, "i98e-djp9", where, 5, 0, first, sizeof first), -1);

    sfp_soda_destroy(s);
    assert_int_equal(sfp_proc_stop(&p, 5000), 0);
    free(url);
}

static void test_refuses_database_without_tables(void **st)
{
    (void)st;
    char *url = sfp_test_create_db("sfp_test_soda_pg_empty");
    char env_db[1100];
    snprintf(env_db, sizeof env_db, "DATABASE_URL=%s", url);
    const char *env[] = {env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    sfp_proc p;
    assert_int_not_equal(sfp_proc_start(&p, "sfp-soda-test-server", env), 0);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serves_seeded_rows),
        cmocka_unit_test(test_nightly_datasets_paging_count_truncate),
        cmocka_unit_test(test_refuses_database_without_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
