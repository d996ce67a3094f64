/* test_db_error.c — the one SQLSTATE → code classifier (common/db_error.c), table-tested. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_error.h"

typedef struct row {
    const char *sqlstate;
    bool connection_ok;
    sfp_code code;
    bool timeout;
} row;

static const row k_rows[] = {
    /* the connection is gone: whatever the state says */
    {NULL, false, SFP_UNAVAILABLE, false},
    {"", false, SFP_UNAVAILABLE, false},
    {"57014", false, SFP_UNAVAILABLE, false},
    {"42P01", false, SFP_UNAVAILABLE, false},
    /* connection exceptions and a server going away or full */
    {"08000", true, SFP_UNAVAILABLE, false},
    {"08006", true, SFP_UNAVAILABLE, false},
    {"08P01", true, SFP_UNAVAILABLE, false},
    {"57P01", true, SFP_UNAVAILABLE, false},
    {"57P02", true, SFP_UNAVAILABLE, false},
    {"57P03", true, SFP_UNAVAILABLE, false},
    {"53300", true, SFP_UNAVAILABLE, false},
    /* statement timeout and lock timeout are both "took too long" */
    {"57014", true, SFP_DEADLINE_EXCEEDED, true},
    {"55P03", true, SFP_DEADLINE_EXCEEDED, true},
    /* everything else is a server-side error */
    {NULL, true, SFP_INTERNAL, false},
    {"", true, SFP_INTERNAL, false},
    {"42P01", true, SFP_INTERNAL, false}, /* undefined_table */
    {"23505", true, SFP_INTERNAL, false}, /* unique_violation */
    {"40001", true, SFP_INTERNAL, false}, /* serialization_failure */
    {"26000", true, SFP_INTERNAL, false}, /* invalid statement name */
    {"57P04", true, SFP_INTERNAL, false}, /* database_dropped: not a shutdown */
    {"5", true, SFP_INTERNAL, false},
};

static void test_table(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof k_rows / sizeof k_rows[0]; i++) {
        const row *r = &k_rows[i];
        sfp_db_class k = sfp_db_classify(r->sqlstate, r->connection_ok);
        if (k.code != r->code || k.timeout != r->timeout)
            fail_msg("row %zu (%s, %d): got %s timeout=%d, want %s timeout=%d", i, r->sqlstate ? r->sqlstate : "NULL",
                     r->connection_ok, sfp_code_name(k.code), k.timeout, sfp_code_name(r->code), r->timeout);
        assert_non_null(k.msg);
    }
}

static void test_messages_are_safe_and_fixed(void **st)
{
    (void)st;
    assert_string_equal(sfp_db_classify("57014", true).msg, "database query timed out");
    assert_string_equal(sfp_db_classify(NULL, false).msg, "database connection lost");
    assert_string_equal(sfp_db_classify("42601", true).msg, "database error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_messages_are_safe_and_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
