/* The nightly's page converter (sfp_ingest_page_copy, services/cron/cron_ingest.c): a SODA page
 * body straight into COPY text. It must refuse exactly the bodies the SODA client's parser
 * (sfp_soda_rows_parse, cJSON) refuses — a truncated or malformed page fails the run instead of
 * staging part of it — and read each field as the parsed tree would give it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron_ingest.h"
#include "soda_client.h"

/* Both parsers on the same bytes: same verdict, same row count. */
static void assert_same_verdict(const sfp_ingest_dataset *ds, const char *body, size_t len)
{
    sfp_soda_rows *ref = sfp_soda_rows_parse(body, len);
    long rows = -1;
    char *copy = sfp_ingest_page_copy(ds, body, len, &rows);
    if ((ref != NULL) != (copy != NULL))
        fail_msg("verdicts differ for %zu bytes \"%.*s\": cJSON %s, converter %s", len, (int)(len > 200 ? 200 : len),
                 body, ref ? "accepts" : "refuses", copy ? "accepts" : "refuses");
    if (ref) assert_int_equal(rows, sfp_soda_rows_count(ref));
    sfp_soda_rows_unref(ref);
    free(copy);
}

static const char k_page[] =
    "[{\"permit_number\":\"P1\",\"role\":\" Contractor \",\"first_name\":\"Ann\",\"last_name\":\"Lee\","
    "\"license1\":\"L\\u00e9 9\",\"phone\":\"a\\tb\\\\c\\nd\",\"zipcode\":\"\",\"firm_address\":\"1 MAIN\","
    "\"extra\":{\"x\":[1,{\"y\":null}],\"z\":\"\\ud83d\\ude00\"},\"permit_number\":\"DUP\"},\n"
    " {\"permit_number\":\"P2\",\"name\":\"X\\ud83d\\ude00Y\",\"role\":\"lessee\",\"phone\":12.5,\"city\":true,"
    "\"state\":false,\"address\":\"ab\\u0000cd\",\"from_date\":null,\"name\":\"second\"}]";

static void test_rows_as_copy_text(void **state)
{
    (void)state;
    const sfp_ingest_dataset *ds = sfp_ingest_find("contacts_building");
    assert_non_null(ds);
    long rows = 0;
    char *copy = sfp_ingest_page_copy(ds, k_page, strlen(k_page), &rows);
    assert_non_null(copy);
    assert_int_equal(rows, 2);
    /* columns: source permit_number role name first_name last_name firm_name pts_agent_id
     * license_number sf_business_license phone address city state zipcode is_applicant
     * from_date data_as_of */
    assert_string_equal(copy, "building\tP1\tcontractor\tAnn Lee\tAnn\tLee\t\\N\t\\N\tL\xc3\xa9 9\t\\N\t"
                              "a\\tb\\\\c\\nd\t1 MAIN\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
                              "building\tP2\towner\tX\xf0\x9f\x98\x80Y\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t"
                              "12.5\tab\ttrue\tfalse\t\\N\t\\N\t\\N\t\\N\n");
    free(copy);
    copy = sfp_ingest_page_copy(ds, " [ ] \r\n", 7, &rows);
    assert_non_null(copy);
    assert_int_equal(rows, 0);
    assert_string_equal(copy, "");
    free(copy);
}

/* A page cut anywhere (the "truncate" fault, a dropped connection) is refused, like cJSON does. */
static void test_every_truncation_refused(void **state)
{
    (void)state;
    const sfp_ingest_dataset *ds = sfp_ingest_find("contacts_building");
    size_t n = strlen(k_page);
    for (size_t len = 0; len < n; len++) {
        long rows;
        char *copy = sfp_ingest_page_copy(ds, k_page, len, &rows);
        if (copy) fail_msg("a page cut after %zu of %zu bytes was accepted", len, n);
        assert_same_verdict(ds, k_page, len);
    }
    assert_same_verdict(ds, k_page, n);
}

static void test_same_verdict_as_cjson(void **state)
{
    (void)state;
    const sfp_ingest_dataset *ds = sfp_ingest_find("tax_rolls");
    assert_non_null(ds);
    static const char *const bodies[] = {
        "[]",
        " \t[\n]\r\n",
        "[{}]",
        "[{},{}]",
        "[{\"a\":\"1\"}]x",
        "[{\"a\":\"1\"}][{\"a\":\"2\"}]",
        "[{\"a\":\"1\"},]",
        "[{\"a\":\"1\",}]",
        "[{\"a\" \"1\"}]",
        "[{\"a\":\"\\x\"}]",
        "[{\"a\":\"\\ud800\"}]",
        "[{\"a\":\"\\ud800\\u0041\"}]",
        "[{\"a\":\"\\udc00\"}]",
        "[{\"a\":\"\\u12G4\"}]",
        "[{\"a\":\"\\u12\"}]",
        "[{\"a\":tru}]",
        "[{\"a\":nul}]",
        "[{\"a\":-}]",
        "[{\"a\":1e5,\"b\":-0.5E-3,\"c\":[true,false,null]}]",
        "[1]",
        "[{\"a\":1},2]",
        "{}",
        "",
        " ",
        "[{\"a\":[1,2,{\"b\":[]}]}]",
        "[{\"a\":{\"b\":}}]",
        "[{\"a\":[1,]}]",
        "[{1:\"a\"}]",
        "[{\"a\":\"1\"}",
        "\xEF\xBB\xBF[{\"a\":\"1\"}]",
        "[{\"a\":\"line\nbreak\"}]",
        "[{\"a\":\"1\"}]\v",
        "[{\"a\":+1}]",
        "[{\"lot\":\"001\",\"block\":\"3512\",\"closed_roll_year\":\"2024\",\"number_of_units\":\" 4.0 \"}]"};
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) assert_same_verdict(ds, bodies[i], strlen(bodies[i]));
    assert_same_verdict(ds, "[]\0x", 4);
    assert_same_verdict(ds, "[{\"a\":\"1\"}]\0", 12);
    /* nesting around cJSON's limit of 1000 levels */
    for (int levels = 997; levels <= 1003; levels++) {
        char *b = malloc((size_t)levels * 2 + 16);
        size_t o = 0;
        o += (size_t)sprintf(b + o, "[{\"a\":");
        for (int i = 2; i < levels; i++) b[o++] = '[';
        for (int i = 2; i < levels; i++) b[o++] = ']';
        o += (size_t)sprintf(b + o, "}]");
        assert_same_verdict(ds, b, o);
        free(b);
    }
}

/* numbers of 'i' / 'f' columns and alternative field names, as the descriptors say */
static void test_numbers_and_alternatives(void **state)
{
    (void)state;
    const sfp_ingest_dataset *ds = sfp_ingest_find("inspections");
    assert_non_null(ds);
    static const char page[] = "[{\"reference_number\":\"R1\",\"neighborhoods_analysis_boundaries\":\"Mission\"},"
                               "{\"reference_number\":\"R2\",\"reference_number_type\":\"complaint\","
                               "\"neighborhood\":\"Castro\",\"neighborhoods_analysis_boundaries\":\"x\"}]";
    long rows;
    char *copy = sfp_ingest_page_copy(ds, page, strlen(page), &rows);
    assert_non_null(copy);
    assert_string_equal(
        copy, "R1\tpermit\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tMission\t\\N\t\\N\t\\N\tbuilding\n"
              "R2\tcomplaint\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tCastro\t\\N\t\\N\t\\N\tbuilding\n");
    free(copy);
    ds = sfp_ingest_find("tax_rolls");
    static const char tax[] = "[{\"block\":\"1\",\"lot\":\"2\",\"tax_year\":\"2023\",\"number_of_stories\":\" 2.50 \","
                              "\"number_of_units\":\"4.00\",\"number_of_rooms\":\"4.5\",\"number_of_bedrooms\":3,"
                              "\"lot_area\":\"-12\",\"property_area\":\"1e3\"}]";
    copy = sfp_ingest_page_copy(ds, tax, strlen(tax), &rows);
    assert_non_null(copy);
    /* block lot tax_year property_location parcel_number zoning_code use_code use_definition
     * property_class_code property_class_code_definition number_of_stories number_of_units
     * number_of_rooms number_of_bedrooms number_of_bathrooms lot_area property_area ... */
    assert_non_null(strstr(copy, "1\t2\t2023\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t2.50\t4\t\\N\t3\t\\N\t-12\t\\N\t"));
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_as_copy_text),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_same_verdict_as_cjson),
        cmocka_unit_test(test_numbers_and_alternatives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
