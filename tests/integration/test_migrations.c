/* test_migrations.c — common/migrations.c against a real Postgres: a fresh database gets every
 * migration once, a second run is a no-op, two concurrent runners serialise on the advisory
 * lock, every expected table exists (and every table is expected), permits keeps the
 * reference's 26-column order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations.h"
#include "testsupport.h"

static void quiet(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

static PGconn *connect_url(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) fail_msg("connect: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

static int latest_version(void)
{
    return sfp_migrations[sfp_migrations_count - 1].version;
}

static void test_embedded_migrations(void **state)
{
    (void)state;
    assert_true(sfp_migrations_count >= 4);
    for (size_t i = 0; i < sfp_migrations_count; i++) {
        assert_true(sfp_migrations[i].version > 0);
        assert_true(strlen(sfp_migrations[i].sql) > 0);
        assert_int_equal(atoi(sfp_migrations[i].name), sfp_migrations[i].version); /* NNNN_name */
        if (i) assert_true(sfp_migrations[i].version > sfp_migrations[i - 1].version);
    }
}

static void test_fresh_then_noop(void **state)
{
    (void)state;
    char *url = sfp_test_create_db("sfp_it_migrations");
    PGconn *c = connect_url(url);
    assert_int_equal(sfp_schema_version(c), 0);
    sfp_err err = {0};
    int applied = -1;
    assert_int_equal(sfp_migrate(c, &applied, &err), 0);
    assert_int_equal(applied, (int)sfp_migrations_count);
    assert_int_equal(sfp_schema_version(c), latest_version());
    applied = -1;
    assert_int_equal(sfp_migrate(c, &applied, &err), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(sfp_schema_version(c), latest_version());
    /* the session lock is released on return */
    PGresult *r = PQexec(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    PQfinish(c);
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM schema_migrations"), (long)sfp_migrations_count);
    free(url);
}

typedef struct runner {
    const char *url;
    int rc, applied;
    sfp_err err;
} runner;

static void *run_migrate(void *arg)
{
    runner *r = arg;
    PGconn *c = PQconnectdb(r->url);
    PQsetNoticeProcessor(c, quiet, NULL);
    r->rc = sfp_migrate(c, &r->applied, &r->err);
    PQfinish(c);
    return NULL;
}

static void test_concurrent_runners(void **state)
{
    (void)state;
    char *url = sfp_test_create_db("sfp_it_migrations_conc");
    runner a = {.url = url}, b = {.url = url};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, run_migrate, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, run_migrate, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    if (a.rc) fail_msg("runner a: %s", a.err.msg);
    if (b.rc) fail_msg("runner b: %s", b.err.msg);
    assert_int_equal(a.applied + b.applied, (int)sfp_migrations_count);
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM schema_migrations"), (long)sfp_migrations_count);
    free(url);
}

static void test_expected_tables(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("sfp_it_migrations_tables");
    char sql[256];
    size_t n = 0;
    for (const char *const *t = sfp_expected_tables; *t; t++, n++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '%s'",
                 *t);
        if (sfp_test_sql_long(url, sql) != 1) fail_msg("expected table %s is missing", *t);
    }
    /* and nothing the migrations create is missing from the list */
    assert_int_equal(sfp_test_sql_long(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), (long)n);
    free(url);
}

static void test_permits_column_order(void **state)
{
    (void)state;
    static const char *const cols[] = {"permit_number",
                                       "permit_type",
                                       "permit_type_definition",
                                       "status",
                                       "status_date",
                                       "description",
                                       "filed_date",
                                       "issued_date",
                                       "approved_date",
                                       "completed_date",
                                       "estimated_cost",
                                       "revised_cost",
                                       "existing_use",
                                       "proposed_use",
                                       "existing_units",
                                       "proposed_units",
                                       "street_number",
                                       "street_name",
                                       "street_suffix",
                                       "zipcode",
                                       "neighborhood",
                                       "supervisor_district",
                                       "block",
                                       "lot",
                                       "adu",
                                       "data_as_of"};
    char *url = sfp_test_migrated_db("sfp_it_migrations_cols");
    PGconn *c = connect_url(url);
    PGresult *r = PQexec(c, "SELECT attname FROM pg_attribute WHERE attrelid = 'permits'::regclass"
                            " AND attnum > 0 AND NOT attisdropped ORDER BY attnum");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 26);
    for (int i = 0; i < 26; i++) assert_string_equal(PQgetvalue(r, i, 0), cols[i]);
    PQclear(r);
    PQfinish(c);
    free(url);
}

static void test_bad_connection(void **state)
{
    (void)state;
    sfp_err err = {0};
    int applied = 7;
    assert_int_equal(sfp_migrate(NULL, &applied, &err), -1);
    assert_int_equal(applied, 0);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(sfp_schema_version(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_migrations),  cmocka_unit_test(test_fresh_then_noop),
        cmocka_unit_test(test_concurrent_runners),   cmocka_unit_test(test_expected_tables),
        cmocka_unit_test(test_permits_column_order), cmocka_unit_test(test_bad_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
