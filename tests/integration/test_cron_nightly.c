/* RunNightly end to end: a source database seeded by `sfp-seed --scale demo` served by the real
 * sfp-soda-test-server (every dataset, $where/$order/$limit/$offset paging, count(*), fault
 * injection), the real SODA client and breaker, an in-process CronService over real gRPC, and a
 * separate, freshly migrated target database that the nightly fills.
 *
 * Covers: a first (full) run reproduces the seeded base tables row for row and rebuilds
 * entities, parcel_summary and timeline_stats; a second run changes nothing; an incremental run
 * after changed source rows changes exactly those rows (and records permit_changes, resolves the
 * new contact to a new entity while every existing contact keeps its entity id, fires
 * sfp_data_changed); --full keeps entity ids and deletes rows gone from the source; a persisting
 * 500, a hung request, a malformed body, a truncated page and an open breaker each fail the run
 * and leave every table and watermark as it was; the next run completes; a transient 500 is
 * retried; dry_run writes nothing; one cron_log row per run with per-dataset counts.
 * Full runs rebuild each table beside the live one and swap it in: the swap keeps what depends
 * on the table working (a view keeps its OID and sees the new rows, a grant, a prepared
 * statement of another session, the indexes by name, the notify trigger, the identity
 * sequence); a failure after the swap (at COMMIT) or during the fetch of a full run leaves the
 * old tables (same OIDs, same rows); a table referenced by a foreign key is merged in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cron_harness.h"
#include "pbjson.h"
#include "cron_service.h"
#include "sfpermits/v1/cron.pb-c.h"
#include "soda_client.h"
#include "testhttp.h"
#include "testsupport.h"

#define SECRET "nightly-secret"

/* Base tables compared between source and target, with the columns the nightly owns. */
static const struct {
    const char *table, *cols;
} k_base[] = {
    {"permits", "*"},
    {"addenda", "primary_key, application_number, addenda_number, step, station, arrive, assign_date, start_date, "
                "finish_date, approved_date, plan_checked_by, review_results, hold_description, addenda_status, "
                "department, title, data_as_of"},
    {"inspections", "reference_number, reference_number_type, inspector, scheduled_date, result, "
                    "inspection_description, block, lot, street_number, street_name, street_suffix, neighborhood, "
                    "supervisor_district, zipcode, data_as_of, source"},
    {"complaints", "complaint_number, date_filed, date_abated, block, lot, parcel_number, street_number, street_name, "
                   "street_suffix, unit, zip_code, complaint_description, status, nov_type, receiving_division, "
                   "assigned_division, data_as_of"},
    {"violations", "complaint_number, item_sequence_number, date_filed, block, lot, street_number, street_name, "
                   "street_suffix, unit, status, receiving_division, assigned_division, nov_category_description, "
                   "item, nov_item_description, neighborhood, supervisor_district, zipcode, data_as_of"},
    {"contacts", "source, permit_number, role, name, first_name, last_name, firm_name, pts_agent_id, license_number, "
                 "sf_business_license, phone, address, city, state, zipcode, is_applicant, from_date, data_as_of"},
    {"tax_rolls", "*"},
    /* the brief's datasets (their surrogate id is the target's own) */
    {"boiler_permits", "permit_number, block, lot, status, boiler_type, boiler_serial_number, model, description, "
                       "application_date, expiration_date, street_number, street_name, street_suffix, zip_code, "
                       "neighborhood, supervisor_district, data_as_of"},
    {"street_use_permits", "permit_number, permit_type, permit_purpose, status, agent, agent_phone, contact, "
                           "street_name, cross_street_1, cross_street_2, plan_checker, approved_date, "
                           "expiration_date, neighborhood, supervisor_district, latitude, longitude, cnn, data_as_of"},
    {"planning_records", "record_id, record_type, record_status, block, lot, address, project_name, description, "
                         "applicant, applicant_org, assigned_planner, open_date, environmental_doc_type, is_project, "
                         "units_existing, units_proposed, units_net, affordable_units, child_id, parent_id, "
                         "data_as_of"},
    {"development_pipeline", "record_id, bpa_no, case_no, name_address, current_status, description_dbi, "
                             "description_planning, contact, sponsor, planner, proposed_units, existing_units, "
                             "net_pipeline_units, affordable_units, zoning_district, height_district, neighborhood, "
                             "planning_district, approved_date_planning, block_lot, latitude, longitude, data_as_of"},
};
#define NBASE (sizeof k_base / sizeof *k_base)

typedef struct harness {
    char *src, *dst;
    sfp_proc soda_proc;
    sfp_soda *soda;
    sfp_test_cron cron;
} harness;

static harness *g_running; /* a started harness, stopped by teardown if a test fails */

static void seed(const char *url)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("DATABASE_URL", url, 1);
        setenv("LOG_LEVEL", "warn", 1);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
        execl(SFP_BIN_DIR "/sfp-seed", "sfp-seed", "--scale", "demo", "--jobs", "1", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("sfp-seed failed (status %d)", st);
}

static void start(harness *h, const char *name, int breaker_threshold)
{
    memset(h, 0, sizeof *h);
    char db[64];
    snprintf(db, sizeof db, "%s_src", name);
    h->src = sfp_test_migrated_db(db);
    seed(h->src);
    snprintf(db, sizeof db, "%s_dst", name);
    h->dst = sfp_test_migrated_db(db);

    char env_db[1100];
    snprintf(env_db, sizeof env_db, "DATABASE_URL=%s", h->src);
    const char *env[] = {env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    assert_int_equal(sfp_proc_start(&h->soda_proc, "sfp-soda-test-server", env), 0);

    sfp_test_cron_init(&h->cron, h->dst, "sfp-cron-nightly-test", 4, SECRET);
    static char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/resource", h->soda_proc.port);
    sfp_soda_config sc;
    sfp_soda_config_defaults(&sc);
    sc.base_url = base;
    sc.timeout_ms = 1500;
    sc.breaker.threshold = breaker_threshold;
    sc.breaker.open_s = 60;
    sfp_err err = {0};
    h->soda = sfp_soda_create(&sc, &err);
    assert_non_null(h->soda);
    h->cron.svc.cfg.nightly_page_size = 500; /* several pages per big dataset */
    h->cron.svc.cfg.nightly_retries = 2;
    h->cron.svc.cfg.nightly_retry_base_ms = 20;
    h->cron.svc.soda = h->soda;
    sfp_test_cron_serve(&h->cron, 4);
    g_running = h;
}

static void stop(harness *h)
{
    g_running = NULL;
    sfp_test_cron_stop(&h->cron);
    sfp_soda_destroy(h->soda);
    assert_int_equal(sfp_proc_stop(&h->soda_proc, 5000), 0);
    free(h->src);
    free(h->dst);
}

static Sfpermits__V1__NightlyResult *nightly(harness *h, bool full, bool dry_run)
{
    Sfpermits__V1__RunNightlyRequest req = SFPERMITS__V1__RUN_NIGHTLY_REQUEST__INIT;
    req.full = full;
    req.dry_run = dry_run;
    sfp_rpc_md md[1] = {{"authorization", "Bearer " SECRET}};
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    grpc_status_code c = sfp_rpc_call(h->cron.ch, "/sfpermits.v1.CronService/RunNightly", &req.base,
                                      &sfpermits__v1__nightly_result__descriptor, &resp, 120000, md, 1, &st);
    return sfp_test_cron_job_result(c, resp, &st, &sfpermits__v1__nightly_result__descriptor, "RunNightly");
}

static void control(harness *h, const char *query)
{
    char path[256];
    snprintf(path, sizeof path, "/__control?%s", query);
    sfp_http_resp r;
    assert_int_equal(sfp_http(NULL, h->soda_proc.port, "POST", path, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    sfp_http_resp_free(&r);
}

static long q(const char *url, const char *sql)
{
    return sfp_test_sql_long(url, sql);
}

static const Sfpermits__V1__NightlyDatasetStats *ds(const Sfpermits__V1__NightlyResult *r, const char *name)
{
    for (size_t i = 0; i < r->n_datasets; i++)
        if (!strcmp(r->datasets[i]->name, name)) return r->datasets[i];
    fail_msg("dataset %s missing from the result", name);
    return NULL;
}

/* md5 of a table's rows (the compared columns), order-independent. */
static char *table_digest(const char *url, const char *table, const char *cols)
{
    char sql[1400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) || ':' || coalesce(md5(string_agg(h, ',' ORDER BY h)), '') FROM "
             "(SELECT md5(ROW(%s)::text) AS h FROM (SELECT %s FROM %s) x) y",
             !strcmp(cols, "*") ? "x.*" : cols, cols, table);
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("digest %s: %s", table, PQerrorMessage(c));
    char *out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return out;
}

static void assert_same_base(harness *h)
{
    for (size_t i = 0; i < NBASE; i++) {
        char *a = table_digest(h->src, k_base[i].table, k_base[i].cols);
        char *b = table_digest(h->dst, k_base[i].table, k_base[i].cols);
        if (strcmp(a, b)) fail_msg("%s differs: source %s, target %s", k_base[i].table, a, b);
        free(a);
        free(b);
    }
}

/* Copies of every table the nightly writes, to diff against after a run. */
static void snapshot(harness *h)
{
    static const char *const t[] = {"permits",
                                    "addenda",
                                    "inspections",
                                    "complaints",
                                    "violations",
                                    "contacts",
                                    "tax_rolls",
                                    "entities",
                                    "parcel_summary",
                                    "timeline_stats",
                                    "nightly_watermarks",
                                    "permit_changes",
                                    "boiler_permits",
                                    "street_use_permits",
                                    "planning_records",
                                    "development_pipeline"};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS snap_%s; CREATE TABLE snap_%s AS SELECT * FROM %s", t[i], t[i],
                 t[i]);
        assert_int_equal(sfp_test_sql(h->dst, sql), 0);
    }
}

/* Rows of table that are not in its snapshot (changed or new). */
static long changed(harness *h, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM snap_%s) x", table,
             table);
    return q(h->dst, sql);
}

static long removed(harness *h, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT * FROM snap_%s EXCEPT ALL SELECT * FROM %s) x", table,
             table);
    return q(h->dst, sql);
}

static void assert_unchanged(harness *h)
{
    static const char *const t[] = {"permits",
                                    "addenda",
                                    "inspections",
                                    "complaints",
                                    "violations",
                                    "contacts",
                                    "tax_rolls",
                                    "entities",
                                    "parcel_summary",
                                    "timeline_stats",
                                    "nightly_watermarks",
                                    "permit_changes",
                                    "boiler_permits",
                                    "street_use_permits",
                                    "planning_records",
                                    "development_pipeline"};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        long a = changed(h, t[i]), b = removed(h, t[i]);
        if (a || b) fail_msg("%s changed by a failed run: %ld new/changed, %ld gone", t[i], a, b);
    }
}

/* Source edits of a "day": 2 permits change status, 1 complaint is abated, 1 new electrical
 * contact, 1 boiler permit expires, 1 new planning non-project record. */
static void change_source(harness *h)
{
    assert_int_equal(
        sfp_test_sql(h->src,
                     "UPDATE permits SET status = 'complete', data_as_of = '2099-01-01T00:00:00.000' "
                     "WHERE permit_number IN (SELECT permit_number FROM permits WHERE status = 'issued' "
                     "ORDER BY permit_number LIMIT 2);"
                     "UPDATE complaints SET status = 'NOT ACTIVE', date_abated = '2099-01-01T00:00:00.000', "
                     "data_as_of = '2099-01-01T00:00:00.000' WHERE id = (SELECT min(id) FROM complaints);"
                     "INSERT INTO contacts (source, permit_number, role, name, license_number, data_as_of) VALUES "
                     "('electrical', (SELECT min(permit_number) FROM permits), 'contractor', 'NEW SPARKS', '9990001', "
                     "'2099-01-01T00:00:00.000');"
                     "UPDATE boiler_permits SET status = 'Expired', data_as_of = '2099-01-01T00:00:00.000' "
                     "WHERE id = (SELECT min(id) FROM boiler_permits WHERE status = 'Active');"
                     "INSERT INTO planning_records (record_id, record_type, record_status, block, lot, is_project, "
                     "data_as_of) VALUES ('2099-0000001VAR', 'VAR', 'Open', '3512', '001', false, "
                     "'2099-01-01T00:00:00.000')"),
        0);
}

/* Rows whose report columns (the permit's block and lot on contacts, inspections and addenda; the
 * entity's name, firm and permit count on contacts) differ from what they copy. */
static long report_cols_wrong(harness *h)
{
    return q(h->dst,
             "SELECT (SELECT count(*) FROM contacts c LEFT JOIN permits p ON p.permit_number = c.permit_number "
             "LEFT JOIN entities e ON e.entity_id = c.entity_id WHERE (c.permit_block, c.permit_lot, "
             "c.permit_filed_date, c.entity_name, c.entity_firm, c.entity_permit_count) IS DISTINCT FROM (p.block, "
             "p.lot, p.filed_date, e.canonical_name, e.canonical_firm, e.permit_count)) + (SELECT count(*) "
             "FROM inspections i LEFT JOIN permits p "
             "ON p.permit_number = i.reference_number AND i.reference_number_type = 'permit' "
             "WHERE (i.permit_block, i.permit_lot) IS DISTINCT FROM (p.block, p.lot)) + (SELECT count(*) "
             "FROM addenda a LEFT JOIN permits p ON p.permit_number = a.application_number "
             "WHERE (a.permit_block, a.permit_lot) IS DISTINCT FROM (p.block, p.lot))");
}

/* ------------------------------------------------------------------ tests */

static void test_full_then_incremental(void **state)
{
    (void)state;
    static harness h; /* static: the teardown may need it after a failed assertion */
    start(&h, "it_nightly_inc", 50);
    long seeded_entities = q(h.src, "SELECT count(*) FROM entities");

    /* first run: nothing ingested yet → every dataset in full */
    Sfpermits__V1__NightlyResult *r = nightly(&h, false, false);
    if (!r->ok) fail_msg("first run failed: %s", r->error);
    assert_int_equal(r->n_datasets, 14);
    for (size_t i = 0; i < r->n_datasets; i++) {
        assert_true(r->datasets[i]->full);
        assert_int_equal(r->datasets[i]->fetched, r->datasets[i]->expected);
    }
    assert_true(ds(r, "addenda")->pages > 1); /* 3.5K rows in pages of 500 */
    assert_int_equal(ds(r, "permits")->inserted, q(h.src, "SELECT count(*) FROM permits"));
    assert_int_equal(r->changes_inserted, 0); /* a first ingest is not a feed of "new" permits */
    assert_same_base(&h);
    /* derived tables: same as the seeded ones (tax_value aside: seed rounds it separately) */
    assert_int_equal(q(h.dst, "SELECT count(*) FROM contacts WHERE entity_id IS NULL"), 0);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM entities"), seeded_entities);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM (SELECT DISTINCT entity_id FROM contacts) x"), seeded_entities);
    char *a = table_digest(h.src, "parcel_summary",
                           "block, lot, canonical_address, neighborhood, supervisor_district, permit_count, "
                           "open_permit_count, complaint_count, violation_count, inspection_count, zoning_code, "
                           "use_definition, number_of_units, last_permit_date");
    char *b = table_digest(h.dst, "parcel_summary",
                           "block, lot, canonical_address, neighborhood, supervisor_district, permit_count, "
                           "open_permit_count, complaint_count, violation_count, inspection_count, zoning_code, "
                           "use_definition, number_of_units, last_permit_date");
    assert_string_equal(a, b);
    free(a), free(b);
    a = table_digest(h.src, "timeline_stats", "*");
    b = table_digest(h.dst, "timeline_stats", "*");
    assert_string_equal(a, b);
    free(a), free(b);
    /* the brief's benchmarks: filled for the run's day after timeline_stats, as a fresh fill */
    assert_true(q(h.dst, "SELECT count(*) FROM brief_benchmarks") > 0);
    assert_int_equal(q(h.dst, "SELECT count(DISTINCT day) FROM brief_benchmarks"), 1);
    a = table_digest(h.dst, "brief_benchmarks", "*");
    assert_true(q(h.dst, "SELECT sfp_brief_benchmarks_fill((SELECT max(day) FROM brief_benchmarks))") > 0);
    b = table_digest(h.dst, "brief_benchmarks", "*");
    assert_string_equal(a, b);
    free(a), free(b);
    /* the brief's data_quality rows: stored after the last write, equal to the live view */
    assert_int_equal(q(h.dst, "SELECT count(*) FROM brief_data_quality"), 3);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM (SELECT * FROM brief_data_quality EXCEPT"
                              " SELECT * FROM sfp_brief_data_quality_live) x"),
                     0);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM nightly_watermarks WHERE watermark IS NOT NULL"), 12);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM contacts WHERE permit_block IS NOT NULL"),
                     q(h.dst, "SELECT count(*) FROM contacts"));
    assert_int_equal(report_cols_wrong(&h), 0);
    /* one cron_log row, its stats carrying every dataset's counts */
    assert_int_equal(q(h.dst, "SELECT count(*) FROM cron_log WHERE job_type = 'nightly' AND status = 'success'"), 1);
    assert_int_equal(q(h.dst, "SELECT jsonb_array_length(stats::jsonb -> 'datasets') FROM cron_log"), 14);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* second run: incremental, nothing changed at the source → nothing written */
    snapshot(&h);
    r = nightly(&h, false, false);
    assert_true(r->ok);
    for (size_t i = 0; i < r->n_datasets; i++) {
        assert_false(r->datasets[i]->full && r->datasets[i]->fetched > 0);
        assert_int_equal(r->datasets[i]->inserted + r->datasets[i]->updated + r->datasets[i]->deleted, 0);
    }
    assert_int_equal(r->derived->entities + r->derived->parcel_summary + r->derived->timeline_stats, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(changed(&h, "permits") + changed(&h, "entities") + changed(&h, "parcel_summary"), 0);

    /* a day of changes: exactly those rows change */
    change_source(&h);
    snapshot(&h);
    PGconn *listener = PQconnectdb(h.dst);
    PQclear(PQexec(listener, "LISTEN sfp_data_changed"));
    r = nightly(&h, false, false);
    if (!r->ok) fail_msg("incremental run failed: %s", r->error);
    assert_false(ds(r, "permits")->full);
    assert_true(ds(r, "permits")->since[0] != '\0'); /* the watermark of the first run */
    assert_int_equal(ds(r, "permits")->fetched, 2);
    assert_int_equal(ds(r, "permits")->updated, 2);
    assert_int_equal(ds(r, "permits")->inserted, 0);
    assert_string_equal(ds(r, "permits")->watermark, "2099-01-01T00:00:00.000");
    assert_int_equal(ds(r, "complaints")->updated, 1);
    assert_int_equal(ds(r, "contacts_electrical")->inserted, 1);
    assert_int_equal(ds(r, "addenda")->fetched, 0);
    assert_int_equal(ds(r, "boiler_permits")->updated, 1);
    assert_int_equal(ds(r, "planning_non_projects")->inserted, 1);
    assert_int_equal(ds(r, "planning_projects")->fetched, 0);
    assert_int_equal(ds(r, "street_use_permits")->fetched + ds(r, "development_pipeline")->fetched, 0);
    assert_int_equal(r->status_changes, 2);
    assert_int_equal(r->derived->entities_new, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(changed(&h, "permits"), 2);
    assert_int_equal(removed(&h, "permits"), 2);
    assert_int_equal(changed(&h, "complaints"), 1);
    assert_int_equal(changed(&h, "contacts"), 1); /* the new one; nobody else's entity_id moved */
    assert_int_equal(removed(&h, "contacts"), 0);
    assert_int_equal(
        changed(&h, "addenda") + changed(&h, "inspections") + changed(&h, "violations") + changed(&h, "tax_rolls"), 0);
    assert_int_equal(changed(&h, "entities"), 1);
    assert_int_equal(changed(&h, "boiler_permits"), 1);
    assert_int_equal(changed(&h, "planning_records"), 1);
    assert_int_equal(removed(&h, "planning_records"), 0);
    assert_int_equal(changed(&h, "street_use_permits") + changed(&h, "development_pipeline"), 0);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM permit_changes WHERE change_type = 'status_change' "
                              "AND new_status = 'complete'"),
                     2);
    assert_true(changed(&h, "parcel_summary") >= 1);
    assert_same_base(&h);
    /* the new contact carries its permit's parcel and its new entity */
    assert_int_equal(q(h.dst, "SELECT count(*) FROM contacts WHERE name = 'NEW SPARKS' AND permit_block IS NOT NULL "
                              "AND entity_name = 'NEW SPARKS' AND entity_permit_count = 1"),
                     1);
    assert_int_equal(report_cols_wrong(&h), 0);
    /* the change notification reached a listener */
    bool notified = false;
    for (int i = 0; i < 200 && !notified; i++) {
        PQconsumeInput(listener);
        PGnotify *n = PQnotifies(listener);
        if (n) notified = true, PQfreemem(n);
        else usleep(10000);
    }
    PQfinish(listener);
    assert_true(notified);

    /* --full: same content → nothing rewritten, entity ids stable; a row gone at the source goes */
    assert_int_equal(sfp_test_sql(h.src, "DELETE FROM violations WHERE id = (SELECT min(id) FROM violations)"), 0);
    snapshot(&h);
    long permits_oid = q(h.dst, "SELECT 'permits'::regclass::oid::int8"),
         contacts_oid = q(h.dst, "SELECT 'contacts'::regclass::oid::int8"),
         violations_oid = q(h.dst, "SELECT 'violations'::regclass::oid::int8");
    r = nightly(&h, true, false);
    if (!r->ok) fail_msg("full run failed: %s", r->error);
    assert_true(r->full);
    assert_int_equal(ds(r, "violations")->deleted, 1);
    assert_int_equal(ds(r, "violations")->inserted + ds(r, "violations")->updated, 0);
    /* every other dataset: fetched in full, nothing written */
    for (size_t i = 0; i < r->n_datasets; i++) {
        if (!strcmp(r->datasets[i]->name, "violations")) continue;
        assert_true(r->datasets[i]->full);
        if (r->datasets[i]->inserted + r->datasets[i]->updated + r->datasets[i]->deleted != 0)
            fail_msg("%s: %lld/%lld/%lld rows written by a full run over unchanged data", r->datasets[i]->name,
                     (long long)r->datasets[i]->inserted, (long long)r->datasets[i]->updated,
                     (long long)r->datasets[i]->deleted);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(changed(&h, "contacts") + removed(&h, "contacts") + changed(&h, "entities"), 0);
    static const char *const same[] = {"permits", "addenda", "inspections", "complaints", "tax_rolls", "entities"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        if (changed(&h, same[i]) + removed(&h, same[i]) != 0) fail_msg("%s changed by a full rerun", same[i]);
    /* unchanged tables are kept as they are (not rewritten), the changed one is rebuilt */
    assert_int_equal(q(h.dst, "SELECT 'permits'::regclass::oid::int8"), permits_oid);
    assert_int_equal(q(h.dst, "SELECT 'contacts'::regclass::oid::int8"), contacts_oid);
    assert_true(q(h.dst, "SELECT 'violations'::regclass::oid::int8") != violations_oid);
    assert_int_equal(removed(&h, "violations"), 1);
    assert_same_base(&h);
    assert_int_equal(report_cols_wrong(&h), 0);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM cron_log WHERE job_type = 'nightly'"), 4);
    stop(&h);
}

/* A fault on the last dataset, after every other dataset was fetched: nothing changes. */
static void fault_run(harness *h, const char *mode, const char *expect)
{
    char ctl[160];
    snprintf(ctl, sizeof ctl, "%s&dataset=wv5m-vpq2&after=1", mode);
    control(h, ctl);
    Sfpermits__V1__NightlyResult *r = nightly(h, false, false);
    assert_false(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "failed");
    if (!strstr(r->error, expect)) fail_msg("%s: error '%s' lacks '%s'", mode, r->error, expect);
    assert_int_equal(ds(r, "permits")->fetched, 2); /* fetched, never applied */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_unchanged(h);
    control(h, "mode=ok");
}

static void test_faults_leave_old_data(void **state)
{
    (void)state;
    static harness h; /* static: the teardown may need it after a failed assertion */
    start(&h, "it_nightly_fault", 50);
    Sfpermits__V1__NightlyResult *r = nightly(&h, false, false);
    assert_true(r->ok);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    change_source(&h);
    snapshot(&h);
    fault_run(&h, "mode=fail500", "http_500");
    fault_run(&h, "mode=hang", "timeout");
    fault_run(&h, "mode=garbage", "bad_json");
    fault_run(&h, "mode=truncate", "bad_json");
    assert_int_equal(q(h.dst, "SELECT count(*) FROM cron_log WHERE job_type = 'nightly' AND status = 'failed'"), 4);

    /* a transient 500 is retried; the next run completes with the day's changes */
    control(&h, "mode=fail500&dataset=wv5m-vpq2&after=1&count=1");
    r = nightly(&h, false, false);
    if (!r->ok) fail_msg("run after the faults failed: %s", r->error);
    assert_int_equal(ds(r, "tax_rolls")->retries, 1);
    assert_int_equal(ds(r, "permits")->updated, 2);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(changed(&h, "permits"), 2);
    assert_same_base(&h);
    stop(&h);
}

static void test_open_breaker_fails_the_run(void **state)
{
    (void)state;
    static harness h; /* static: the teardown may need it after a failed assertion */
    start(&h, "it_nightly_breaker", 1);
    Sfpermits__V1__NightlyResult *r = nightly(&h, false, false);
    assert_true(r->ok);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    change_source(&h);
    snapshot(&h);
    /* one 503 opens the breaker (threshold 1): the retries meet an open breaker, never an
     * "empty page" */
    control(&h, "mode=fail503&retry_after=0&dataset=wv5m-vpq2&after=1&count=1");
    /* the failed run is a non-OK status (SODA unavailable → UNAVAILABLE with RetryInfo)
     * carrying ErrorInfo and the run's result */
    Sfpermits__V1__RunNightlyRequest req = SFPERMITS__V1__RUN_NIGHTLY_REQUEST__INIT;
    sfp_rpc_md md[1] = {{"authorization", "Bearer " SECRET}};
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_call(h.cron.ch, "/sfpermits.v1.CronService/RunNightly", &req.base,
                                  &sfpermits__v1__nightly_result__descriptor, &resp, 120000, md, 1, &st),
                     GRPC_STATUS_UNAVAILABLE);
    assert_null(resp);
    assert_string_equal(st.details.reason, "CRON_JOB_FAILED");
    assert_string_equal(st.details.meta[0].value, "nightly");
    assert_true(st.details.retry_delay_ms > 0);
    assert_true(st.retry_after[0]);
    r = sfp_test_cron_job_result(GRPC_STATUS_UNAVAILABLE, NULL, &st, &sfpermits__v1__nightly_result__descriptor,
                                 "RunNightly");
    assert_false(r->ok);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__job_status__descriptor, r->status), "failed");
    if (!strstr(r->error, "breaker_open")) fail_msg("error '%s'", r->error);
    assert_non_null(strstr(st.message, r->error));
    char lid[24];
    snprintf(lid, sizeof lid, "%lld", (long long)r->log_id);
    assert_string_equal(st.details.meta[1].value, lid);
    assert_int_equal(sfp_test_sql_long(h.dst, "SELECT count(*) FROM cron_log WHERE status = 'failed' AND "
                                              "job_type = 'nightly' AND log_id = " /* the row was finished */
                                              "(SELECT max(log_id) FROM cron_log)"),
                     1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_unchanged(&h);
    stop(&h);
}

static void test_dry_run_writes_nothing(void **state)
{
    (void)state;
    static harness h; /* static: the teardown may need it after a failed assertion */
    start(&h, "it_nightly_dry", 50);
    Sfpermits__V1__NightlyResult *r = nightly(&h, false, false);
    assert_true(r->ok);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    change_source(&h);
    snapshot(&h);
    r = nightly(&h, false, true);
    assert_true(r->ok);
    assert_true(r->dry_run);
    assert_string_equal(r->job_type, "nightly_dry_run");
    assert_int_equal(r->status_changes, 2); /* what would change */
    assert_int_equal(ds(r, "permits")->upserted, 0);
    assert_null(r->cache_invalidation);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_unchanged(&h);
    stop(&h);
}

static char *q_text(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
    char *out = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
    return out;
}

#define OIDS_SQL                                                                                                   \
    "SELECT string_agg(c.relname || '=' || c.oid, ',' ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = " \
    "'public'::regnamespace AND c.relname IN ('permits', 'addenda', 'inspections', 'complaints', 'violations', "   \
    "'contacts', 'tax_rolls')"
#define INDEXES_SQL                                                                                               \
    "SELECT string_agg(indexname || ':' || indexdef, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = " \
    "'public' AND tablename IN ('permits', 'addenda', 'contacts', 'violations')"
#define DERIVED_OIDS_SQL "SELECT 'parcel_summary'::regclass::oid || ',' || 'timeline_stats'::regclass::oid"
#define DERIVED_INDEXES_SQL                                                                                       \
    "SELECT string_agg(indexname || ':' || indexdef, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = " \
    "'public' AND tablename IN ('parcel_summary', 'timeline_stats')"
#define SWAP_SCHEMAS_EMPTY \
    "SELECT count(*) FROM pg_class WHERE relnamespace IN ('nightly_new'::regnamespace, 'nightly_old'::regnamespace)"

static void test_full_swap(void **state)
{
    (void)state;
    static harness h; /* static: the teardown may need it after a failed assertion */
    start(&h, "it_nightly_swap", 50);
    Sfpermits__V1__NightlyResult *r = nightly(&h, false, false);
    if (!r->ok) fail_msg("first run failed: %s", r->error);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* things that depend on the live tables */
    assert_int_equal(sfp_test_sql(h.dst,
                                  "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                                  "'it_nightly_swap_reader') THEN CREATE ROLE it_nightly_swap_reader; END IF; "
                                  "END $$;"
                                  "GRANT SELECT ON addenda TO it_nightly_swap_reader;"
                                  "CREATE VIEW open_addenda AS SELECT a.application_number, a.station, "
                                  "p.status FROM addenda a JOIN permits p ON p.permit_number = "
                                  "a.application_number WHERE a.finish_date IS NULL;"
                                  "GRANT SELECT ON open_addenda TO it_nightly_swap_reader;"
                                  "CREATE TABLE violation_notes (violation_id bigint REFERENCES violations (id))"),
                     0);
    long view_oid = q(h.dst, "SELECT 'open_addenda'::regclass::oid::int8");
    char *oids = q_text(h.dst, OIDS_SQL), *indexes = q_text(h.dst, INDEXES_SQL);
    long addenda_rows = q(h.dst, "SELECT count(*) FROM addenda");
    PGconn *other = PQconnectdb(h.dst);
    PQclear(PQprepare(other, "n", "SELECT count(*) FROM addenda", 0, NULL));
    PGresult *pr = PQexecPrepared(other, "n", 0, NULL, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(pr), PGRES_TUPLES_OK);
    assert_int_equal(atol(PQgetvalue(pr, 0, 0)), addenda_rows);
    PQclear(pr);

    /* a failure at COMMIT, after the swap: the old tables stay (same OIDs, same rows) */
    change_source(&h);
    assert_int_equal(sfp_test_sql(h.src, "INSERT INTO addenda (primary_key, application_number, station, arrive, "
                                         "data_as_of) SELECT 'SWAP-1', min(permit_number), 'CPB', "
                                         "'2099-01-01T00:00:00.000', '2099-01-01T00:00:00.000' FROM permits"),
                     0);
    snapshot(&h);
    assert_int_equal(sfp_test_sql(h.dst, "CREATE FUNCTION it_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                         "RAISE EXCEPTION 'refused at commit'; END $$;"
                                         "CREATE CONSTRAINT TRIGGER it_refuse AFTER UPDATE ON nightly_watermarks "
                                         "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION it_refuse()"),
                     0);
    r = nightly(&h, true, false);
    assert_false(r->ok);
    if (!strstr(r->error, "commit")) fail_msg("error '%s'", r->error);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(sfp_test_sql(h.dst, "DROP TRIGGER it_refuse ON nightly_watermarks"), 0);
    assert_unchanged(&h);
    char *now = q_text(h.dst, OIDS_SQL);
    assert_string_equal(now, oids);
    free(now);
    assert_int_equal(q(h.dst, SWAP_SCHEMAS_EMPTY), 0);

    /* a failure while fetching a full run: nothing changes either */
    control(&h, "mode=fail500&dataset=wv5m-vpq2&after=1");
    r = nightly(&h, true, false);
    assert_false(r->ok);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    control(&h, "mode=ok");
    assert_unchanged(&h);

    /* the next full run completes and swaps */
    char *derived_oids = q_text(h.dst, DERIVED_OIDS_SQL), *derived_indexes = q_text(h.dst, DERIVED_INDEXES_SQL);
    PGconn *listener = PQconnectdb(h.dst);
    PQclear(PQexec(listener, "LISTEN sfp_data_changed"));
    r = nightly(&h, true, false);
    if (!r->ok) fail_msg("full run failed: %s", r->error);
    assert_int_equal(ds(r, "addenda")->inserted, 1);
    assert_int_equal(ds(r, "permits")->updated, 2);
    assert_int_equal(ds(r, "contacts_electrical")->inserted, 1);
    assert_int_equal(ds(r, "contacts_building")->inserted + ds(r, "contacts_building")->updated, 0);
    /* exactly the changed rows are counted */
    assert_int_equal(ds(r, "addenda")->updated + ds(r, "addenda")->deleted, 0);
    assert_int_equal(ds(r, "permits")->inserted + ds(r, "permits")->deleted, 0);
    assert_int_equal(ds(r, "complaints")->updated, 1);
    assert_int_equal(ds(r, "complaints")->inserted + ds(r, "complaints")->deleted, 0);
    assert_int_equal(ds(r, "contacts_electrical")->updated + ds(r, "contacts_electrical")->deleted, 0);
    assert_int_equal(ds(r, "inspections")->inserted + ds(r, "inspections")->updated + ds(r, "inspections")->deleted, 0);
    assert_int_equal(ds(r, "tax_rolls")->inserted + ds(r, "tax_rolls")->updated + ds(r, "tax_rolls")->deleted, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* the rebuilt contacts: the old rows as they were (ids, entity ids), plus the new one */
    assert_int_equal(removed(&h, "contacts"), 0);
    assert_int_equal(changed(&h, "contacts"), 1);
    assert_same_base(&h);
    assert_int_equal(q(h.dst, SWAP_SCHEMAS_EMPTY), 0);
    /* swapped: new OIDs, except violations (a foreign key points at it: merged in place) */
    assert_int_equal(q(h.dst, "SELECT count(*) FROM snap_addenda s JOIN addenda a USING (id) WHERE "
                              "a.primary_key IS NOT DISTINCT FROM s.primary_key"),
                     addenda_rows); /* unchanged rows keep their ids */
    now = q_text(h.dst, OIDS_SQL);
    assert_string_not_equal(now, oids);
    free(now);
    assert_true(strstr(oids, "violations=") != NULL);
    char vi[64];
    snprintf(vi, sizeof vi, "%s", strstr(oids, "violations="));
    vi[strcspn(vi, ",")] = '\0';
    now = q_text(h.dst, OIDS_SQL);
    if (!strstr(now, vi)) fail_msg("violations was swapped despite its foreign key: %s", now);
    free(now);
    assert_int_equal(sfp_test_sql(h.dst, "INSERT INTO violation_notes SELECT min(id) FROM violations"), 0);
    /* parcel_summary and timeline_stats rebuilt too: new OIDs, same indexes and trigger */
    now = q_text(h.dst, DERIVED_OIDS_SQL);
    assert_string_not_equal(now, derived_oids);
    free(now);
    now = q_text(h.dst, DERIVED_INDEXES_SQL);
    assert_string_equal(now, derived_indexes);
    free(now);
    free(derived_oids);
    free(derived_indexes);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'parcel_summary'::regclass AND "
                              "tgname = 'parcel_summary_notify'"),
                     1);
    /* the view: same OID, reads the new table */
    assert_int_equal(q(h.dst, "SELECT 'open_addenda'::regclass::oid::int8"), view_oid);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM open_addenda WHERE station = 'CPB' AND application_number = "
                              "(SELECT min(permit_number) FROM permits)") > 0,
                     1);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM open_addenda"),
                     q(h.dst, "SELECT count(*) FROM addenda a JOIN permits p ON p.permit_number = "
                              "a.application_number WHERE a.finish_date IS NULL"));
    /* the swapped tables' report columns: the added addenda row carries its permit's parcel */
    assert_int_equal(q(h.dst, "SELECT count(*) FROM addenda WHERE station = 'CPB' AND permit_block IS NOT NULL"),
                     q(h.dst, "SELECT count(*) FROM addenda WHERE station = 'CPB'"));
    assert_int_equal(report_cols_wrong(&h), 0);
    /* grants, indexes by name, trigger, identity sequence */
    assert_int_equal(q(h.dst, "SELECT has_table_privilege('it_nightly_swap_reader', 'addenda', 'SELECT')::int"), 1);
    assert_int_equal(q(h.dst, "SELECT has_table_privilege('it_nightly_swap_reader', 'open_addenda', 'SELECT')::int"),
                     1);
    now = q_text(h.dst, INDEXES_SQL);
    assert_string_equal(now, indexes);
    free(now);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'addenda'::regclass AND contype = "
                              "'p' AND conname = 'addenda_pkey'"),
                     1);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'addenda'::regclass AND tgname = "
                              "'addenda_notify'"),
                     1);
    assert_int_equal(sfp_test_sql(h.dst, "INSERT INTO addenda (application_number) VALUES ('X')"), 0);
    assert_int_equal(q(h.dst, "SELECT count(*) FROM addenda WHERE application_number = 'X' AND id > (SELECT max(id) "
                              "FROM snap_addenda)"),
                     1);
    /* another session's prepared statement is re-planned against the new table */
    pr = PQexecPrepared(other, "n", 0, NULL, NULL, NULL, 0);
    if (PQresultStatus(pr) != PGRES_TUPLES_OK) fail_msg("prepared statement: %s", PQerrorMessage(other));
    assert_int_equal(atol(PQgetvalue(pr, 0, 0)), addenda_rows + 2);
    PQclear(pr);
    PQfinish(other);
    /* the change notification fired */
    bool notified = false;
    for (int i = 0; i < 200 && !notified; i++) {
        PQconsumeInput(listener);
        PGnotify *n = PQnotifies(listener);
        if (n) notified = true, PQfreemem(n);
        else usleep(10000);
    }
    PQfinish(listener);
    assert_true(notified);
    free(oids);
    free(indexes);
    stop(&h);
}

/* After a failed assertion: end the SODA test server (it must not outlive the test) and the
 * in-process server. */
static int teardown(void **state)
{
    (void)state;
    harness *h = g_running;
    if (!h) return 0;
    g_running = NULL;
    sfp_http_resp r;
    if (sfp_http(NULL, h->soda_proc.port, "POST", "/__reset", NULL, NULL, 0, &r) == 0) sfp_http_resp_free(&r);
    sfp_proc_stop(&h->soda_proc, 5000);
    sfp_test_cron_stop(&h->cron);
    sfp_soda_destroy(h->soda);
    free(h->src);
    free(h->dst);
    return 0;
}

int main(void)
{
    sfp_rpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_then_incremental, teardown),
        cmocka_unit_test_teardown(test_faults_leave_old_data, teardown),
        cmocka_unit_test_teardown(test_open_breaker_fails_the_run, teardown),
        cmocka_unit_test_teardown(test_dry_run_writes_nothing, teardown),
        cmocka_unit_test_teardown(test_full_swap, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sfp_rpc_shutdown();
    return rc;
}
