/* ReportService.GetPropertyReport over real gRPC against a real Postgres, with a fake SODA
 * behind the report's SODA interface (and one test with the real shared client against
 * sfp-soda-test-server; and one on the sfp-seed demo dataset).
 *
 * Contacts / inspections batches grouped by permit, an empty
 * permit list makes no batch query, an unknown permit is absent (empty list), role order
 * (applicant first). Plus: SQL round trips equal for a 1-permit and a 54-permit parcel,
 * historical lots merged, truncation at 50 with the total, NOT_FOUND, INVALID_ARGUMENT for
 * hostile input (and no SQL for it), UNAVAILABLE, DEADLINE_EXCEEDED (statement timeout and call
 * deadline), sources / max_age, Introspection counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pbjson.h"
#include "db_listen.h"
#include "db_prep.h"
#include "log.h"
#include "report_cache.h"
#include "report_db.h"
#include "report_sample.h"
#include "report_service.h"
#include "report_text.h"
#include "report_watch.h"
#include "sfpermits/v1/introspection.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"
#include "soda_client.h"
#include "testsupport.h"

/* The REST JSON name of an enum field's value ("active_complaint"), to compare with text. */
#define ENAME(v)                                                                                          \
    SFP_PBJSON_ENUM_NAME(_Generic((v), Sfpermits__V1__RiskType                                            \
                                  : &sfpermits__v1__risk_type__descriptor, Sfpermits__V1__MissingItemType \
                                  : &sfpermits__v1__missing_item_type__descriptor),                       \
                         (v))

extern char **environ;

/* ------------------------------------------------------------------ fixture data */

static const char *const FIXTURE_SQL[] = {
    "INSERT INTO entities(entity_id, canonical_name, canonical_firm, permit_count) VALUES"
    " (1, 'ALICE APPLICANT', 'A FIRM', 12), (2, 'BOB BUILDER', 'BUILDER CO', 340);",
    /* 1386/025: three permits (PA-003 has no contacts and no inspections) */
    "INSERT INTO permits(permit_number, permit_type, permit_type_definition, status, filed_date, issued_date,"
    " estimated_cost, existing_use, existing_units, street_number, street_name, street_suffix, neighborhood, block,"
    " lot, description) VALUES"
    " ('PA-001', '3', 'additions alterations or repairs', 'filed', '2025-11-01T00:00:00.000', NULL, 750000,"
    "  '1 family dwelling', 1, '146', 'LAKE', 'ST', 'Inner Richmond', '1386', '025', 'kitchen remodel'),"
    " ('PA-002', '8', 'otc alterations permit', 'complete', '2019-05-01T00:00:00.000', '2019-05-02T00:00:00.000',"
    "  20000, '1 family dwelling', 1, '146', 'LAKE', 'ST', 'Inner Richmond', '1386', '025', 'reroof'),"
    " ('PA-003', '8', 'otc alterations permit', 'complete', '2015-01-01T00:00:00.000', '2015-01-02T00:00:00.000',"
    "  5000, '1 family dwelling', 1, '146', 'LAKE', 'ST', 'Inner Richmond', '1386', '025', 'windows');",
    /* contractor inserted before the applicant: the order must come from the role rank */
    "INSERT INTO contacts(permit_number, role, name, firm_name, entity_id, is_applicant) VALUES"
    " ('PA-001', 'contractor', 'Bob Builder', 'Builder Co', 2, 'N'),"
    " ('PA-001', 'applicant', 'Alice Applicant', 'A Firm', 1, 'N'),"
    " ('PA-002', 'engineer', 'Eve Engineer', NULL, NULL, 'N'),"
    " ('PA-002', 'architect', 'Zed Architect', NULL, NULL, 'N'),"
    " ('PA-002', 'agent', 'Alice Applicant', 'A Firm', 1, 'Y');",
    "INSERT INTO inspections(reference_number, reference_number_type, scheduled_date, inspector, result,"
    " inspection_description) VALUES"
    " ('PA-001', 'permit', '2025-12-01T00:00:00.000', 'Ines', 'PASSED', 'rough framing'),"
    " ('PA-001', 'permit', '2025-12-15T00:00:00.000', 'Ines', 'FAILED', 'final'),"
    " ('PA-001', 'complaint', '2025-12-20T00:00:00.000', 'X', 'N/A', 'complaint inspection, not a permit one'),"
    " ('PA-002', 'permit', '2019-06-01T00:00:00.000', 'Ian', 'PASSED', 'final');",
    /* routing: PA-001 revision 0 (superseded) and 1 (latest); PA-002 is complete → no routing */
    "INSERT INTO addenda(application_number, addenda_number, step, station, arrive, finish_date, review_results,"
    " hold_description) VALUES"
    " ('PA-001', 0, 1, 'OLD', '2025-11-01', NULL, NULL, NULL),"
    " ('PA-001', 1, 1, 'INTAKE', '2025-11-01', '2025-11-02T00:00:00.000', 'Approved', NULL),"
    " ('PA-001', 1, 2, 'BLDG', '2025-11-03', NULL, NULL, NULL),"
    " ('PA-001', 1, 3, 'SFFD', '2025-11-03', NULL, NULL, 'waiting on sprinkler drawings'),"
    " ('PA-002', 0, 1, 'BLDG', '2019-05-01', '2019-05-01', 'Approved', NULL);",
    "INSERT INTO parcel_summary(block, lot, canonical_address, neighborhood, tax_value, zoning_code, use_definition)"
    " VALUES ('1386', '025', '146 LAKE ST', 'Inner Richmond', 1500000, 'RH-1', 'Single Family Residential');",
    "INSERT INTO regulatory_watch(title, source_type, source_id, status, impact_level, semantic_concepts, url) VALUES"
    " ('Permit expiration reform', 'ordinance', 'BOS-1', 'monitoring', 'high', '[\"permit_expiration\"]',"
    "  'https://sfbos.org/x'),"
    " ('Archived thing', 'ordinance', 'BOS-2', 'archived', 'high', '[\"permit_expiration\"]', 'https://sfbos.org/y');",
    /* nearby: 12 permits on other parcels of Inner Richmond */
    "INSERT INTO permits(permit_number, status, filed_date, neighborhood, block, lot, street_number, street_name)"
    " SELECT 'NB-' || i, 'issued', to_char(date '2025-01-01' + i, 'YYYY-MM-DD') || 'T00:00:00.000',"
    "  'Inner Richmond', '1386', '0' || (30 + i), (200 + i)::text, 'LAKE' FROM generate_series(1, 12) i;",
    /* 3507/004: one permit, no parcel_summary (tax roll comes from SODA) */
    "INSERT INTO permits(permit_number, permit_type_definition, status, filed_date, estimated_cost, street_number,"
    " street_name, street_suffix, neighborhood, block, lot) VALUES ('P-3507', 'additions alterations or repairs',"
    " 'filed', '2026-01-05T00:00:00.000', 20000, '1455', 'MARKET', 'ST', 'South of Market', '3507', '004');",
    /* 3512/001: 44 permits; 3512/002 shares the address (street name in another case): 10 more;
     * 3512/003 has another address: never merged */
    "INSERT INTO permits(permit_number, permit_type_definition, status, filed_date, estimated_cost, street_number,"
    " street_name, street_suffix, neighborhood, block, lot, description)"
    " SELECT '3512001' || lpad(i::text, 5, '0'), 'additions alterations or repairs',"
    "  CASE i % 4 WHEN 0 THEN 'issued' WHEN 1 THEN 'filed' ELSE 'complete' END,"
    "  to_char(date '2015-01-01' + i * 30, 'YYYY-MM-DD') || 'T00:00:00.000', i * 20000, '100', 'MAIN', 'ST',"
    "  'Mission', '3512', '001', 'work ' || i FROM generate_series(1, 44) i;",
    "INSERT INTO permits(permit_number, status, filed_date, street_number, street_name, street_suffix,"
    " neighborhood, block, lot)"
    " SELECT '3512002' || lpad(i::text, 5, '0'), 'complete',"
    "  to_char(date '2015-01-15' + i * 120, 'YYYY-MM-DD') || 'T00:00:00.000', '100', 'Main', 'ST', 'Mission',"
    "  '3512', '002' FROM generate_series(1, 10) i;",
    "INSERT INTO permits(permit_number, status, filed_date, street_number, street_name, neighborhood, block, lot)"
    " SELECT '3512003' || lpad(i::text, 5, '0'), 'complete', '2030-01-01T00:00:00.000', '200', 'MAIN', 'Mission',"
    "  '3512', '003' FROM generate_series(1, 5) i;",
    "INSERT INTO contacts(permit_number, role, name)"
    " SELECT permit_number, 'contractor', 'Contractor ' || (length(permit_number) + ascii(right(permit_number, 1))) % 7"
    " FROM permits WHERE block = '3512';",
    "INSERT INTO inspections(reference_number, reference_number_type, scheduled_date, result)"
    " SELECT permit_number, 'permit', filed_date, 'PASSED' FROM permits WHERE block = '3512'"
    " UNION ALL SELECT permit_number, 'permit', filed_date, 'FAILED' FROM permits WHERE block = '3512';",
    "INSERT INTO addenda(application_number, addenda_number, step, station, arrive, finish_date)"
    " SELECT permit_number, 0, 1, 'INTAKE', filed_date, filed_date FROM permits WHERE block = '3512';",
    /* 4000/001: one permit per status, each with one routing station; routing is shown only for
     * filed, plancheck, issued and reinstated */
    "INSERT INTO permits(permit_number, status, filed_date, street_number, street_name, neighborhood, block, lot)"
    " SELECT 'RT-' || s, s, '2025-06-01T00:00:00.000', '9', 'ROUTE', 'Routing Test', '4000', '001'"
    " FROM unnest(ARRAY['filed', 'plancheck', 'approved', 'issued', 'reinstated', 'complete', 'expired']) s;",
    "INSERT INTO addenda(application_number, addenda_number, step, station, arrive, finish_date)"
    " SELECT permit_number, 0, 1, 'BLDG', '2025-06-01', NULL FROM permits WHERE block = '4000';",
    /* an inspection of PA-001 filed under another lot: listed with its permit all the same */
    "UPDATE inspections SET block = '1386', lot = '099' WHERE reference_number = 'PA-001'"
    " AND inspection_description = 'final';",
    /* the columns the report reads children by (the permit's parcel, the contact's entity), as
     * sfp-seed writes them and the nightly keeps them */
    "UPDATE contacts c SET permit_block = p.block, permit_lot = p.lot FROM permits p"
    " WHERE p.permit_number = c.permit_number;",
    "UPDATE contacts c SET entity_name = e.canonical_name, entity_firm = e.canonical_firm,"
    " entity_permit_count = e.permit_count FROM entities e WHERE e.entity_id = c.entity_id;",
    "UPDATE inspections i SET permit_block = p.block, permit_lot = p.lot FROM permits p"
    " WHERE p.permit_number = i.reference_number AND i.reference_number_type = 'permit';",
    "UPDATE addenda a SET permit_block = p.block, permit_lot = p.lot FROM permits p"
    " WHERE p.permit_number = a.application_number;",
    NULL,
};

static int load_fixture(const char *url)
{
    for (size_t i = 0; FIXTURE_SQL[i]; i++)
        if (sfp_test_sql(url, FIXTURE_SQL[i])) return -1;
    return 0;
}

/* ------------------------------------------------------------------ fake SODA */

typedef struct fake_row {
    const char *block, *lot;
    int ds;
    const char *k[8], *v[8];
} fake_row;

static const fake_row FAKE_ROWS[] = {
    {"1386",
     "025",
     SFP_RPT_DS_COMPLAINTS,
     {"complaint_number", "status", "complaint_description", "date_filed"},
     {"C100", "ACTIVE", "Work without permit", "2025-10-20T00:00:00.000"}},
    {"1386",
     "025",
     SFP_RPT_DS_COMPLAINTS,
     {"complaint_number", "status", "complaint_description", "date_filed"},
     {"C101", "NOT ACTIVE", "Noise", "2020-01-01T00:00:00.000"}},
    {"1386",
     "025",
     SFP_RPT_DS_VIOLATIONS,
     {"complaint_number", "status", "nov_category_description", "date_filed"},
     {"C100", "open", "building section", "2025-10-25T00:00:00.000"}},
    {"1386", "025", SFP_RPT_DS_TAX_ROLL, {"closed_roll_year", "zoning_code"}, {"2024", "NC-1"}},
    {"3507",
     "004",
     SFP_RPT_DS_TAX_ROLL,
     {"closed_roll_year", "zoning_code", "assessed_land_value", "assessed_improvement_value", "property_area",
      "lot_area", "use_definition", "year_property_built"},
     {"2024", "C-3-G", "100000", "250000.7", "1200", "2500", "Commercial Office", "1910"}},
    {"0312", "005", SFP_RPT_DS_COMPLAINTS, {"complaint_number", "status"}, {"C555", "active"}},
};

typedef struct fake_soda {
    pthread_mutex_t mu;
    int begins;
    unsigned masks; /* OR of every begin mask */
    int tax_begins;
    int bad_budgets;   /* begin() calls with a non-positive budget (must stay 0) */
    int delay_ms;      /* end() sleeps this long (a slow upstream) */
    int64_t budget[2]; /* the last begin()'s budget: [0] complaints + violations, [1] tax roll */
    double *clock;     /* when set, each begin() moves this fake clock 0.4 s on */
    sfp_soda_source state[SFP_RPT_DS_N];
    double age[SFP_RPT_DS_N], ttl[SFP_RPT_DS_N];
} fake_soda;

static fake_soda FAKE = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void fake_reset(void)
{
    pthread_mutex_lock(&FAKE.mu);
    FAKE.begins = FAKE.tax_begins = FAKE.bad_budgets = FAKE.delay_ms = 0;
    FAKE.masks = 0;
    FAKE.budget[0] = FAKE.budget[1] = 0;
    FAKE.clock = NULL;
    for (int d = 0; d < SFP_RPT_DS_N; d++) {
        FAKE.state[d] = SFP_SODA_LIVE;
        FAKE.age[d] = 0;
        FAKE.ttl[d] = 900;
    }
    pthread_mutex_unlock(&FAKE.mu);
}

typedef struct fake_job {
    char block[8], lot[8];
    unsigned mask;
} fake_job;

static void *fake_begin(void *user, const char *block, const char *lot, unsigned mask, int64_t budget_ms)
{
    fake_soda *f = user;
    pthread_mutex_lock(&f->mu);
    f->begins++;
    if (budget_ms <= 0) f->bad_budgets++;
    f->masks |= mask;
    if (mask & SFP_RPT_DS_BIT(SFP_RPT_DS_TAX_ROLL)) f->tax_begins++;
    f->budget[(mask & SFP_RPT_DS_BIT(SFP_RPT_DS_TAX_ROLL)) ? 1 : 0] = budget_ms;
    if (f->clock) *f->clock += 0.4;
    pthread_mutex_unlock(&f->mu);
    fake_job *j = calloc(1, sizeof *j);
    snprintf(j->block, sizeof j->block, "%s", block);
    snprintf(j->lot, sizeof j->lot, "%s", lot);
    j->mask = mask;
    return j;
}

static void fake_end(void *user, void *job, sfp_rpt_soda_result out[SFP_RPT_DS_N], sfp_arena *a)
{
    fake_soda *f = user;
    fake_job *j = job;
    if (f->delay_ms && a) usleep((useconds_t)f->delay_ms * 1000);
    for (int d = 0; a && d < SFP_RPT_DS_N; d++) {
        if (!(j->mask & SFP_RPT_DS_BIT(d))) continue;
        sfp_rpt_soda_result *o = &out[d];
        memset(o, 0, sizeof *o);
        o->state = f->state[d];
        o->reason = o->state == SFP_SODA_STALE ? "http_5xx" : o->state == SFP_SODA_UNAVAILABLE ? "timeout" : "";
        o->has_age = o->state != SFP_SODA_UNAVAILABLE;
        o->age_seconds = f->age[d];
        o->has_ttl = o->state == SFP_SODA_LIVE || o->state == SFP_SODA_CACHED;
        o->ttl_remaining_seconds = o->has_ttl ? f->ttl[d] : 0;
        o->upstream_requests = o->state == SFP_SODA_CACHED ? 0 : 1;
        if (o->state == SFP_SODA_UNAVAILABLE) continue;
        o->records = sfp_arena_alloc(a, sizeof(sfp_rpt_rec) * 8);
        for (size_t i = 0; i < sizeof FAKE_ROWS / sizeof FAKE_ROWS[0]; i++) {
            const fake_row *r = &FAKE_ROWS[i];
            if (r->ds != d || strcmp(r->block, j->block) || strcmp(r->lot, j->lot)) continue;
            sfp_rpt_rec *rec = &o->records[o->n_records++];
            rec->keys = (const char **)r->k;
            rec->vals = (const char **)r->v;
            while (rec->n < 8 && r->k[rec->n]) rec->n++;
        }
    }
    free(j);
}

static sfp_rpt_soda fake_interface(void)
{
    return (sfp_rpt_soda){.begin = fake_begin, .end = fake_end, .user = &FAKE};
}

/* ------------------------------------------------------------------ harness */

typedef struct harness {
    sfp_pool *pool;
    sfp_report_service svc;
    sfp_rpc_server *srv;
    pthread_t th;
    sfp_rpc_channel *ch;
} harness;

static void start(harness *h, const char *url, sfp_rpt_soda soda, struct sfp_soda *client)
{
    memset(h, 0, sizeof *h);
    sfp_pool_config cfg = {.conninfo = url,
                           .min = 1,
                           .max = 4,
                           .connect_timeout_s = 2,
                           .statement_timeout_ms = 10000,
                           .acquire_timeout_ms = 1000,
                           .idle_check_s = 30,
                           .application_name = "sfp-report-test"};
    sfp_err err = {0};
    h->pool = sfp_pool_create(&cfg, &err);
    assert_non_null(h->pool);
    h->svc.pool = h->pool;
    h->svc.soda = soda;
    h->svc.soda_client = client;
    sfp_report_config_defaults(&h->svc.cfg);
    h->svc.cfg.acquire_timeout_ms = 1000;
    h->svc.fixed_today = sfp_days_from_civil(2026, 2, 12);
    sfp_rpc_method m[] = {sfp_report_service_method(&h->svc)};
    static const char *const names[] = {SFP_REPORT_SERVICE_NAME, NULL};
    sfp_rpc_server_config sc = {.service = "report",
                                .addr = "127.0.0.1:0",
                                .workers = 4,
                                .service_names = names,
                                .ready = sfp_pool_ready_cb,
                                .ready_user = h->pool,
                                .stats = sfp_report_service_stats,
                                .stats_user = &h->svc};
    sfp_test_rpc_start(&sc, m, 1, &h->srv, &h->th, &h->ch);
}

static void stop(harness *h)
{
    sfp_test_rpc_stop(h->srv, h->th, h->ch);
    sfp_pool_destroy(h->pool);
}

static grpc_status_code call(harness *h, const char *block, const char *lot, int64_t timeout_ms,
                             Sfpermits__V1__GetPropertyReportResponse **out, sfp_rpc_status *st)
{
    Sfpermits__V1__GetPropertyReportRequest req = SFPERMITS__V1__GET_PROPERTY_REPORT_REQUEST__INIT;
    req.block = (char *)block;
    req.lot = (char *)lot;
    ProtobufCMessage *resp = NULL;
    grpc_status_code rc =
        sfp_rpc_call(h->ch, SFP_REPORT_METHOD_PATH, &req.base, &sfpermits__v1__get_property_report_response__descriptor,
                     &resp, timeout_ms, NULL, 0, st);
    *out = (Sfpermits__V1__GetPropertyReportResponse *)resp;
    return rc;
}

static Sfpermits__V1__GetPropertyReportResponse *get_ok(harness *h, const char *block, const char *lot)
{
    Sfpermits__V1__GetPropertyReportResponse *r = NULL;
    sfp_rpc_status st;
    grpc_status_code rc = call(h, block, lot, 10000, &r, &st);
    if (rc != GRPC_STATUS_OK) fail_msg("report %s/%s: %s %s", block, lot, sfp_rpc_code_name(rc), st.message);
    return r;
}

/* The response's metadata source `name` (complaints, violations, tax_roll); fails when absent. */
static const Sfpermits__V1__SourceStatus *src(const Sfpermits__V1__GetPropertyReportResponse *r, const char *name)
{
    assert_non_null(r->metadata);
    for (size_t i = 0; i < r->metadata->n_sources; i++)
        if (!strcmp(r->metadata->sources[i]->key, name)) return r->metadata->sources[i]->value;
    fail_msg("no source %s", name);
    return NULL;
}

/* The lower-case name of source `name`'s SourceState ("live", "cached", ...). */
#define SRC_STATE(r, name) SFP_PBJSON_ENUM_NAME(&sfpermits__v1__source_state__descriptor, src((r), (name))->state)

static const Sfpermits__V1__ReportPermit *find_permit(const Sfpermits__V1__GetPropertyReportResponse *r, const char *pn)
{
    for (size_t i = 0; i < r->report->n_permits; i++)
        if (!strcmp(r->report->permits[i]->permit_number, pn)) return r->report->permits[i];
    return NULL;
}

static double stat_counter(harness *h, const char *name)
{
    Sfpermits__V1__ServiceStats *s = sfp_test_stats(h->ch);
    double v = sfp_test_stats_counter(s, name);
    assert_non_null(s->pool);
    protobuf_c_message_free_unpacked(&s->base, NULL);
    return v;
}

static char *g_url; /* the fixture database, created once */

static int group_setup(void **state)
{
    (void)state;
    g_url = sfp_test_migrated_db("it_report");
    if (load_fixture(g_url)) return -1;
    fake_reset();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(g_url);
    return 0;
}

/* ------------------------------------------------------------------ tests */

/* batches grouped by permit; unknown permit has empty lists; role order. */
static void test_contacts_and_inspections_grouped_and_ranked(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "1386", "025");
    assert_int_equal(r->report->n_permits, 3);
    assert_string_equal(r->report->address, "146 LAKE ST");
    const Sfpermits__V1__ReportPermit *p1 = find_permit(r, "PA-001"), *p2 = find_permit(r, "PA-002"),
                                      *p3 = find_permit(r, "PA-003");
    assert_non_null(p1);
    assert_non_null(p2);
    assert_non_null(p3);
    /* PA-001: applicant before contractor although inserted after; entity fields joined */
    assert_int_equal(p1->n_contacts, 2);
    assert_string_equal(p1->contacts[0]->role, "applicant");
    assert_string_equal(p1->contacts[0]->name, "Alice Applicant");
    assert_string_equal(p1->contacts[0]->canonical_name, "ALICE APPLICANT");
    assert_true(p1->contacts[0]->optional_permit_count_case);
    assert_int_equal(p1->contacts[0]->permit_count, 12);
    assert_true(p1->contacts[0]->optional_entity_id_case);
    assert_int_equal(p1->contacts[0]->entity_id, 1);
    assert_string_equal(p1->contacts[1]->role, "contractor");
    assert_string_equal(p1->contacts[1]->canonical_firm, "BUILDER CO");
    assert_int_equal(p1->contacts[1]->permit_count, 340);
    /* PA-002: the applicant flag (normalised role "agent") ranks first, then architect, engineer */
    assert_int_equal(p2->n_contacts, 3);
    assert_string_equal(p2->contacts[0]->role, "agent");
    assert_string_equal(p2->contacts[1]->role, "architect");
    assert_string_equal(p2->contacts[2]->role, "engineer");
    assert_false(p2->contacts[1]->optional_entity_id_case);
    assert_false(p2->contacts[1]->optional_permit_count_case);
    /* inspections: 2 / 1 / 0, newest first, complaint inspections excluded, description renamed */
    assert_int_equal(p1->n_inspections, 2);
    assert_string_equal(p1->inspections[0]->result, "FAILED");
    assert_string_equal(p1->inspections[0]->description, "final");
    assert_string_equal(p1->inspections[1]->result, "PASSED");
    assert_string_equal(p1->inspections[1]->inspector, "Ines");
    assert_int_equal(p2->n_inspections, 1);
    assert_int_equal(p3->n_contacts, 0);
    assert_int_equal(p3->n_inspections, 0);
    assert_string_equal(p1->link, "/?q=PA-001");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

static int db_report(sfp_conn *conn, const char *block, const char *lot, size_t *n_permits, size_t *n_contacts,
                     size_t *n_inspections, int *statements);

/* No permits → no statement that needs the permits' answer; statements per kind of parcel. */
static void test_empty_batches_make_no_query(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    /* On the SQL side directly: a parcel without permits and without a neighborhood runs no
     * routing, regulatory_watch or nearby statement. Contacts and inspections of the requested
     * lot go out with round trip 1, before the permits are known (two empty index probes). */
    sfp_err err = {0};
    sfp_conn *conn = sfp_pool_acquire(h.pool, 1000, &err);
    assert_non_null(conn);
    for (int pass = 0; pass < 2; pass++) { /* the first pass prepares the statements */
        sfp_arena *a = sfp_arena_new();
        sfp_rpt_db db = {.conn = conn, .a = a};
        sfp_rpt_parcel_summary ps;
        sfp_rpt_permit_set set;
        assert_int_equal(sfp_rpt_db_start(&db, 5000, "0312", "005", &ps, &set), 0);
        assert_int_equal(set.n_permits, 0);
        sfp_rpt_db_rest rest = {
            .block = "0312", .neighborhood = "", .nearby_limit = 10, .today = 20000, .reg_watch = true};
        assert_int_equal(sfp_rpt_db_finish(&db, &set, &rest), 0);
        sfp_rpt_db_end(&db);
        assert_int_equal(rest.n_watch, 0);
        assert_int_equal(rest.n_nearby, 0);
        if (pass == 1) {
            /* BEGIN, settings, parcel_summary, permits, contacts, inspections | COMMIT */
            assert_int_equal(db.statements, 7);
            assert_int_equal(db.queries, 2);
        }
        sfp_arena_free(a);
    }
    /* Contacts and inspections sent with round trip 1 (for the requested lot) are what the
     * report uses when the parcel has no historical lots; with historical lots round trip 2
     * reads them again over all the lots (test_historical_lots_and_truncation checks them). */
    size_t np, nc, ni;
    int statements;
    /* BEGIN, settings, parcel_summary, permits, contacts, inspections | routing, COMMIT */
    assert_int_equal(db_report(conn, "4000", "001", &np, &nc, &ni, &statements), 2);
    assert_int_equal(statements, 8);
    /* ... | contacts and inspections over {001, 002}, routing, COMMIT */
    assert_int_equal(db_report(conn, "3512", "001", &np, &nc, &ni, &statements), 2);
    assert_int_equal(statements, 10);
    assert_int_equal(nc, 50); /* one contact per listed permit, those of lot 002 included */
    sfp_pool_release(h.pool, conn);

    /* Through the service: the same two round trips as any parcel. */
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "0312", "005"); /* warm-up: prepares statements */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = get_ok(&h, "0312", "005");
    assert_int_equal(r->report->n_permits, 0);
    assert_int_equal(r->report->total_permits, 0);
    assert_false(r->report->truncated);
    assert_int_equal(r->report->n_complaints, 1);
    assert_int_equal(r->metadata->debug->sql_queries, 2);
    assert_int_equal(r->report->n_historical_lots, 1);
    assert_string_equal(r->report->historical_lots[0], "005");
    assert_string_equal(r->report->address, "");
    /* the complaint (status "active") is a high risk and +3 on the signal */
    assert_int_equal(r->report->n_risk_assessment, 1);
    assert_string_equal(ENAME(r->report->risk_assessment[0]->risk_type), "active_complaint");
    assert_int_equal(r->report->consultant_signal->score, 3);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

/* The point of the issue: round trips do not grow with the permit count. */
static void test_query_count_constant(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    /* A fresh connection's first report sends the Parse messages in its first round trip (the
     * statement registry knows they are missing): no extra round trip. */
    Sfpermits__V1__GetPropertyReportResponse *first = get_ok(&h, "3507", "004");
    assert_int_equal(first->metadata->debug->sql_queries, 2);
    protobuf_c_message_free_unpacked(&first->base, NULL);
    double before = stat_counter(&h, "report_sql_queries_total");
    Sfpermits__V1__GetPropertyReportResponse *one = get_ok(&h, "3507", "004");
    Sfpermits__V1__GetPropertyReportResponse *many = get_ok(&h, "3512", "001");
    Sfpermits__V1__GetPropertyReportResponse *three = get_ok(&h, "1386", "025");
    assert_int_equal(one->report->n_permits, 1);
    assert_int_equal(many->report->n_permits, 50);
    assert_int_equal(one->metadata->debug->sql_queries, many->metadata->debug->sql_queries);
    assert_int_equal(three->metadata->debug->sql_queries, many->metadata->debug->sql_queries);
    /* BEGIN, settings, parcel_summary, permits | contacts, inspections, routing,
     * regulatory_watch, nearby, COMMIT */
    assert_int_equal(many->metadata->debug->sql_queries, 2);
    double after = stat_counter(&h, "report_sql_queries_total");
    assert_true(fabs(after - before - 6) < 0.5);
    assert_true(stat_counter(&h, "reports_ok") >= 3);
    assert_true(stat_counter(&h, "report_sql_queries_last") == 2);
    protobuf_c_message_free_unpacked(&one->base, NULL);
    protobuf_c_message_free_unpacked(&many->base, NULL);
    protobuf_c_message_free_unpacked(&three->base, NULL);
    stop(&h);
}

/* One report on conn straight through report_db: round trips (returned), permits, contacts,
 * inspections and statements (when statements is not NULL). */
static int db_report(sfp_conn *conn, const char *block, const char *lot, size_t *n_permits, size_t *n_contacts,
                     size_t *n_inspections, int *statements)
{
    sfp_arena *a = sfp_arena_new();
    sfp_rpt_db db = {.conn = conn, .a = a};
    sfp_rpt_parcel_summary ps;
    sfp_rpt_permit_set set;
    assert_int_equal(sfp_rpt_db_start(&db, 5000, block, lot, &ps, &set), 0);
    sfp_rpt_db_rest rest = {.block = block, .neighborhood = "", .nearby_limit = 10, .today = 20000};
    assert_int_equal(sfp_rpt_db_finish(&db, &set, &rest), 0);
    sfp_rpt_db_end(&db);
    *n_permits = set.n_permits;
    *n_contacts = *n_inspections = 0;
    for (size_t i = 0; i < set.n_permits; i++) {
        *n_contacts += set.permits[i].n_contacts;
        *n_inspections += set.permits[i].n_inspections;
    }
    if (statements) *statements = db.statements;
    sfp_arena_free(a);
    return db.queries;
}

/* The report's statements live in the shared registry (common/db_prep.h): a session that lost
 * them (DEALLOCATE ALL) costs one extra round trip and prepares them again; a connection the
 * registry cannot track (full) runs the same SQL unnamed; results are the same every time. */
static void test_prepared_statements_registry(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    sfp_err err = {0};
    sfp_conn *conn = sfp_pool_acquire(h.pool, 1000, &err);
    assert_non_null(conn);
    size_t np, nc, ni, np2, nc2, ni2;
    int before = sfp_db_prepared_count(conn);
    assert_int_equal(db_report(conn, "3512", "001", &np, &nc, &ni, NULL), 2); /* prepares in round trip 1 */
    assert_int_equal(sfp_db_prepared_count(conn), before + 10);
    assert_int_equal(np, 50);
    assert_true(nc > 0 && ni > 0);
    assert_int_equal(db_report(conn, "3512", "001", &np2, &nc2, &ni2, NULL), 2);
    assert_true(np2 == np && nc2 == nc && ni2 == ni);

    PGresult *r = PQexec(sfp_conn_pg(conn), "DEALLOCATE ALL");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    assert_int_equal(db_report(conn, "3512", "001", &np2, &nc2, &ni2, NULL), 3);
    assert_true(np2 == np && nc2 == nc && ni2 == ni);
    assert_int_equal(sfp_db_prepared_count(conn), 10);
    assert_int_equal(db_report(conn, "3512", "001", &np2, &nc2, &ni2, NULL), 2);

    /* A registry filled with other statements cannot take the report's: it runs unnamed. */
    r = PQexec(sfp_conn_pg(conn), "DEALLOCATE ALL");
    PQclear(r);
    sfp_db_prep_forget(conn);
    static char names[60][24]; /* the registry keeps the name pointers */
    for (int i = 0; i < 60; i++) {
        snprintf(names[i], sizeof names[i], "test_filler_%d", i);
        sfp_db_stmt st = {names[i], "SELECT 1", 0};
        PGresult *x = sfp_db_prepared(conn, &st, NULL, NULL, NULL, 0, SFP_ERROR, NULL, &err);
        assert_non_null(x);
        PQclear(x);
    }
    assert_int_equal(db_report(conn, "3512", "001", &np2, &nc2, &ni2, NULL), 2);
    assert_true(np2 == np && nc2 == nc && ni2 == ni);
    assert_int_equal(sfp_db_prepared_count(conn), 60);
    r = PQexec(sfp_conn_pg(conn), "DEALLOCATE ALL");
    PQclear(r);
    sfp_db_prep_forget(conn);
    sfp_pool_release(h.pool, conn);
    stop(&h);
}

/* Historical lots + the 50 cap with the total count. */
static void test_historical_lots_and_truncation(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "3512", "001");
    assert_int_equal(r->report->n_historical_lots, 2);
    assert_string_equal(r->report->historical_lots[0], "001");
    assert_string_equal(r->report->historical_lots[1], "002");
    assert_int_equal(r->report->total_permits, 54);
    assert_int_equal(r->report->n_permits, 50);
    assert_true(r->report->truncated);
    size_t from_002 = 0;
    for (size_t i = 0; i < r->report->n_permits; i++) {
        const Sfpermits__V1__ReportPermit *p = r->report->permits[i];
        assert_string_not_equal(p->lot, "003");
        from_002 += !strcmp(p->lot, "002");
        if (i) assert_true(strcmp(r->report->permits[i - 1]->filed_date, p->filed_date) >= 0); /* newest first */
        assert_int_equal(p->n_contacts, 1);
        assert_int_equal(p->n_inspections, 2);
    }
    assert_int_equal(from_002, 10);
    /* the 4 oldest of lot 001 are the ones cut */
    assert_null(find_permit(r, "351200100001"));
    assert_non_null(find_permit(r, "351200100005"));
    /* routing only for active permits; each has one INTAKE row, finished */
    const Sfpermits__V1__ReportPermit *filed = find_permit(r, "351200100041"), *done = find_permit(r, "351200100042");
    assert_non_null(filed->routing);
    assert_true(filed->routing->is_all_clear);
    assert_null(done->routing);
    assert_string_equal(r->report->address, "100 MAIN ST"); /* the newest permit's address */
    assert_int_equal(FAKE.bad_budgets, 0);
    /* nearby excludes every historical lot */
    for (size_t i = 0; i < r->report->n_nearby_activity; i++)
        assert_int_equal(strncmp(r->report->nearby_activity[i]->permit_number, "3512003", 7), 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

/* Everything a full report carries, on the richly seeded parcel. */
static void test_full_report_sections(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "1386", "025");
    /* profile from parcel_summary, so the tax roll is never requested */
    assert_non_null(r->report->property_profile);
    assert_string_equal(r->report->property_profile->source, "parcel_summary");
    assert_string_equal(r->report->property_profile->assessed_value, "$1,500,000");
    assert_string_equal(r->report->property_profile->zoning, "RH-1");
    assert_int_equal(FAKE.tax_begins, 0);
    assert_string_equal(SRC_STATE(r, "tax_roll"), "unavailable");
    assert_string_equal(src(r, "tax_roll")->reason, "not_needed");
    assert_string_equal(SRC_STATE(r, "complaints"), "live");
    assert_string_equal(src(r, "complaints")->dataset, "gm2e-bten");
    assert_int_equal(src(r, "complaints")->records, 2);
    assert_int_equal(r->metadata->max_age_seconds, 900);
    assert_int_equal(r->report->n_complaints, 2);
    assert_int_equal(r->report->n_violations, 1);
    /* risks: stable high → moderate → low; "NOT ACTIVE" complaint ignored; archived watch ignored */
    const char *want[] = {"active_complaint", "active_violation", "high_cost_project", "pending_regulation",
                          "restrictive_zoning"};
    assert_int_equal(r->report->n_risk_assessment, 5);
    for (size_t i = 0; i < 5; i++) assert_string_equal(ENAME(r->report->risk_assessment[i]->risk_type), want[i]);
    assert_string_equal(r->report->risk_assessment[0]->title, "Active DBI complaint — Work without permit");
    assert_string_equal(r->report->risk_assessment[3]->link, "https://sfbos.org/x");
    /* routing of PA-001: latest revision only (OLD station of revision 0 excluded) */
    const Sfpermits__V1__ReportPermit *p1 = find_permit(r, "PA-001");
    assert_non_null(p1->routing);
    assert_int_equal(p1->routing->addenda_number, 1);
    assert_int_equal(p1->routing->total, 3);
    assert_int_equal(p1->routing->completed, 1);
    assert_int_equal(p1->routing->approved, 1);
    assert_int_equal(p1->routing->pct, 33);
    assert_int_equal(p1->routing->n_stalled, 1);
    assert_string_equal(p1->routing->stalled[0]->station, "BLDG");
    assert_int_equal(p1->routing->stalled[0]->days, 101);
    assert_int_equal(p1->routing->n_held_stations, 1);
    assert_string_equal(p1->routing->held_stations[0], "SFFD");
    assert_non_null(p1->routing->latest);
    assert_string_equal(p1->routing->latest->station, "INTAKE");
    assert_null(find_permit(r, "PA-002")->routing);
    /* consultant: complaint 3 + NOV 2 + cost 2 + zoning 1 + stalled 2 */
    assert_int_equal(r->report->consultant_signal->score, 10);
    assert_string_equal(
        SFP_PBJSON_ENUM_NAME(&sfpermits__v1__consultant_tier__descriptor, r->report->consultant_signal->signal),
        "essential");
    assert_int_equal(r->report->consultant_signal->n_factors, 5);
    /* whats_missing: permit 12 days after complaint C100; kitchen without plumbing permit */
    assert_int_equal(r->report->n_whats_missing, 2);
    assert_string_equal(ENAME(r->report->whats_missing[0]->type), "complaint_to_permit_timing");
    assert_string_equal(ENAME(r->report->whats_missing[1]->type), "missing_companion");
    /* nearby: 10 newest of the neighborhood, none on this parcel */
    assert_int_equal(r->report->n_nearby_activity, 10);
    assert_string_equal(r->report->nearby_activity[0]->permit_number, "NB-12");
    assert_string_equal(r->report->links->parcel, "https://sfplanninggis.org/pim/?search=1386%2F025");
    assert_int_equal(strlen(r->metadata->generated_at), 20);
    assert_true(r->metadata->debug->elapsed_ms > 0);
    assert_int_equal(r->metadata->debug->soda_requests, 2);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

/* Routing progress is attached to permits in plan review or issued (filed, plancheck, issued,
 * reinstated) and to no other; the active-permit count leaves plancheck out (filed, approved,
 * issued, reinstated). */
static void test_routing_and_active_status_sets(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "4000", "001");
    assert_int_equal(r->report->n_permits, 7);
    static const struct {
        const char *pn;
        bool routed;
    } want[] = {{"RT-filed", true},      {"RT-plancheck", true}, {"RT-approved", false}, {"RT-issued", true},
                {"RT-reinstated", true}, {"RT-complete", false}, {"RT-expired", false}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const Sfpermits__V1__ReportPermit *p = find_permit(r, want[i].pn);
        assert_non_null(p);
        if ((p->routing != NULL) != want[i].routed)
            fail_msg("%s: routing %s", want[i].pn, p->routing ? "set" : "unset");
        if (p->routing) assert_int_equal(p->routing->total, 1);
    }
    bool multiple = false;
    for (size_t i = 0; i < r->report->n_risk_assessment; i++)
        if (!strcmp(ENAME(r->report->risk_assessment[i]->risk_type), "multiple_active_permits")) {
            multiple = true;
            assert_string_equal(r->report->risk_assessment[i]->title, "4 active permits on this parcel");
        }
    assert_true(multiple);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
}

static double g_fake_now = 1000.0;
static double fake_clock(void *arg)
{
    (void)arg;
    return g_fake_now;
}

/* The SODA budget runs from the call's arrival, not from each fetch's start: the tax roll,
 * started once the first SQL round trip says it is needed (here 0.4 s of fake time after the
 * first fetch began), gets what is left of REPORT_SODA_BUDGET_MS, so the report still ends
 * within the budget. A budget already spent still starts the fetch with 1 ms (it then ends as
 * a timeout), never 0 or less. */
static void test_soda_budget_counts_from_arrival(void **state)
{
    (void)state;
    fake_reset();
    FAKE.clock = &g_fake_now;
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    h.svc.clock = fake_clock;
    h.svc.cfg.soda_budget_ms = 2000;
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "3507", "004");
    assert_int_equal(FAKE.tax_begins, 1);
    assert_int_equal(FAKE.budget[0], 2000);
    assert_int_equal(FAKE.budget[1], 1600);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    h.svc.cfg.soda_budget_ms = 300; /* the tax roll starts 400 ms (fake) after arrival */
    r = get_ok(&h, "3507", "004");
    assert_int_equal(FAKE.tax_begins, 2);
    assert_int_equal(FAKE.budget[0], 300);
    assert_int_equal(FAKE.budget[1], 1);
    assert_int_equal(FAKE.bad_budgets, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    FAKE.clock = NULL;
    stop(&h);
}

/* Tax roll from SODA when parcel_summary has no row; sources and max_age. */
static void test_tax_roll_profile_and_sources(void **state)
{
    (void)state;
    fake_reset();
    FAKE.state[SFP_RPT_DS_COMPLAINTS] = SFP_SODA_CACHED;
    FAKE.age[SFP_RPT_DS_COMPLAINTS] = 300;
    FAKE.ttl[SFP_RPT_DS_COMPLAINTS] = 600.7;
    FAKE.ttl[SFP_RPT_DS_TAX_ROLL] = 899;
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "3507", "004");
    assert_int_equal(FAKE.tax_begins, 1);
    assert_non_null(r->report->property_profile);
    assert_string_equal(r->report->property_profile->source, "tax_roll");
    assert_string_equal(r->report->property_profile->assessed_value, "$350,000");
    assert_string_equal(r->report->property_profile->building_area, "1,200 sq ft");
    assert_string_equal(r->report->property_profile->lot_area, "2,500 sq ft");
    assert_string_equal(r->report->property_profile->tax_year, "2024");
    assert_string_equal(r->report->property_profile->year_built, "1910");
    assert_string_equal(SRC_STATE(r, "complaints"), "cached");
    assert_true(src(r, "complaints")->optional_age_seconds_case);
    assert_true(fabs(src(r, "complaints")->age_seconds - 300) < 0.01);
    assert_string_equal(SRC_STATE(r, "tax_roll"), "live");
    assert_int_equal(src(r, "tax_roll")->records, 1);
    assert_int_equal(r->metadata->max_age_seconds, 600);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* a stale or unavailable source makes the report uncacheable (max_age 0), never an error */
    FAKE.state[SFP_RPT_DS_VIOLATIONS] = SFP_SODA_STALE;
    FAKE.state[SFP_RPT_DS_TAX_ROLL] = SFP_SODA_UNAVAILABLE;
    r = get_ok(&h, "3507", "004");
    assert_string_equal(SRC_STATE(r, "violations"), "stale");
    assert_string_equal(src(r, "violations")->reason, "http_5xx");
    assert_string_equal(SRC_STATE(r, "tax_roll"), "unavailable");
    assert_false(src(r, "tax_roll")->optional_age_seconds_case);
    assert_null(r->report->property_profile);
    assert_int_equal(r->metadata->max_age_seconds, 0);
    assert_int_equal(r->report->n_permits, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_true(stat_counter(&h, "report_sources_stale_total") >= 1);
    assert_true(stat_counter(&h, "report_sources_unavailable_total") >= 1);
    stop(&h);
}

static void test_not_found_and_invalid(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *r = NULL;
    sfp_rpc_status st;
    assert_int_equal(call(&h, "9999", "999", 5000, &r, &st), GRPC_STATUS_NOT_FOUND);
    assert_null(strstr(st.message, "SELECT"));
    double q = stat_counter(&h, "report_sql_queries_total");
    int begins = FAKE.begins;
    static const char *const bad[][2] = {
        {"'; DROP", "001"},
        {"3512", "'; DROP TABLE permits; --"},
        {"../", "001"},
        {"3512", "../.."},
        {"35120000000000000000000000000000000000", "001"},
        {"3512", "0010000000000000000"},
        {"", "001"},
        {"3512", ""},
        {"3512a", "001"},
        {"3512", " "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        grpc_status_code rc = call(&h, bad[i][0], bad[i][1], 5000, &r, &st);
        if (rc != GRPC_STATUS_INVALID_ARGUMENT)
            fail_msg("'%s'/'%s' gave %s", bad[i][0], bad[i][1], sfp_rpc_code_name(rc));
        assert_true(strstr(st.message, "block") || strstr(st.message, "lot"));
    }
    /* trimmed input is fine */
    r = get_ok(&h, " 3507 ", "004\n");
    assert_string_equal(r->report->block, "3507");
    assert_string_equal(r->report->lot, "004");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* rejected requests made no SQL and no SODA call */
    assert_true(stat_counter(&h, "report_sql_queries_total") - q == 2);
    assert_int_equal(FAKE.begins, begins + 2);
    assert_true(stat_counter(&h, "reports_invalid_argument") >= 10);
    assert_true(stat_counter(&h, "reports_not_found") >= 1);
    stop(&h);
}

static void test_database_unavailable(void **state)
{
    (void)state;
    fake_reset();
    const char *url = SFP_TEST_DEAD_PG_URL;
    harness h;
    start(&h, url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *r = NULL;
    sfp_rpc_status st;
    assert_int_equal(call(&h, "3512", "001", 5000, &r, &st), GRPC_STATUS_UNAVAILABLE);
    assert_string_equal(st.message, "database unavailable");
    assert_int_equal(sfp_rpc_health_check(h.ch, SFP_REPORT_SERVICE_NAME, 3000, &st), 2); /* NOT_SERVING */
    stop(&h);
}

static void test_deadlines_bound_db_work(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    /* Another session holds an exclusive lock on permits: the report's permit query waits. */
    PGconn *locker = PQconnectdb(g_url);
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    PGresult *res = PQexec(locker, "BEGIN; LOCK TABLE permits IN ACCESS EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);

    sfp_pool_stats ps;
    sfp_pool_get_stats(h.pool, &ps);
    int64_t broken = ps.broken;

    /* 1. the configured statement timeout applies */
    h.svc.cfg.statement_timeout_ms = 200;
    Sfpermits__V1__GetPropertyReportResponse *r = NULL;
    sfp_rpc_status st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(call(&h, "3512", "001", 10000, &r, &st), GRPC_STATUS_DEADLINE_EXCEEDED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 3000);

    /* 2. the call's deadline lowers it further */
    h.svc.cfg.statement_timeout_ms = 60000;
    long long before = atomic_load(&h.svc.counters.deadline);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(call(&h, "3512", "001", 400, &r, &st), GRPC_STATUS_DEADLINE_EXCEEDED);
    for (int i = 0; i < 200 && atomic_load(&h.svc.counters.deadline) == before; i++) usleep(10000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(atomic_load(&h.svc.counters.deadline) > before); /* the handler itself gave up */
    assert_true(ms < 2500);

    res = PQexec(locker, "ROLLBACK");
    PQclear(res);
    PQfinish(locker);
    /* round trip 1 failed in both: what was still on its way was read, so no connection was
     * thrown away */
    sfp_pool_get_stats(h.pool, &ps);
    assert_int_equal(ps.broken, broken);
    /* the pool recovered: the next report works */
    h.svc.cfg.statement_timeout_ms = 10000;
    r = get_ok(&h, "3507", "004");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* 3. the last statement of round trip 1 (inspections) times out after round trip 2 was
     * already sent: the call fails the same way, and the connection comes back clean */
    locker = PQconnectdb(g_url);
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    res = PQexec(locker, "BEGIN; LOCK TABLE inspections IN ACCESS EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    h.svc.cfg.statement_timeout_ms = 200;
    grpc_status_code code = call(&h, "3507", "004", 10000, &r, &st);
    PQclear(PQexec(locker, "ROLLBACK")); /* before any assertion can leave the lock held */
    PQfinish(locker);
    assert_int_equal(code, GRPC_STATUS_DEADLINE_EXCEEDED);
    h.svc.cfg.statement_timeout_ms = 10000;
    for (int i = 0; i < 2; i++) {
        r = get_ok(&h, "3507", "004");
        assert_int_equal(r->report->n_permits, 1);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    sfp_pool_get_stats(h.pool, &ps);
    assert_int_equal(ps.broken, broken); /* no connection was thrown away */
    stop(&h);
}

/* ------------------------------------------------------------------ real client + test server */

/* The caches' clock in these tests (seconds): time passes only when a test moves it, so TTLs
 * expire without sleeping. */
static _Atomic double g_cache_now = 1000;
static double cache_clock(void *arg)
{
    (void)arg;
    return atomic_load(&g_cache_now);
}
static void cache_clock_advance(double s)
{
    atomic_store(&g_cache_now, atomic_load(&g_cache_now) + s);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p, (void)ud;
    return size * n;
}

static int http_post(const char *url)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return rc == CURLE_OK && code / 100 == 2 ? 0 : -1;
}

static void test_real_soda_client_and_test_server(void **state)
{
    (void)state;
    sfp_test_require_bin("sfp-soda-test-server");
    char *url = sfp_test_migrated_db("it_report_soda");
    assert_int_equal(load_fixture(url), 0);
    assert_int_equal(
        sfp_test_sql(url, "INSERT INTO complaints(complaint_number, date_filed, block, lot, complaint_description,"
                          " status) VALUES ('C1', '2025-10-20T00:00:00.000', '1386', '025', 'Work without permit',"
                          " 'active'), ('C2', '2021-01-01T00:00:00.000', '1386', '025', 'Noise', 'not active');"
                          "INSERT INTO violations(complaint_number, date_filed, block, lot, status,"
                          " nov_category_description) VALUES ('C1', '2025-10-25T00:00:00.000', '1386', '025',"
                          " 'open', 'building section');"
                          "INSERT INTO tax_rolls(block, lot, tax_year, zoning_code, assessed_land_value,"
                          " assessed_improvement_value, use_definition) VALUES"
                          " ('3507', '004', '2024', 'RH-1(D)', 100000, 200000, 'Commercial Office'),"
                          " ('3507', '004', '2023', 'RH-2', 1, 1, 'x')"),
        0);
    char dbenv[600];
    snprintf(dbenv, sizeof dbenv, "DATABASE_URL=%s", url);
    const char *env[] = {dbenv, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    sfp_proc srv;
    assert_int_equal(sfp_proc_start(&srv, "sfp-soda-test-server", env), 0);

    sfp_soda_config cfg;
    sfp_soda_config_defaults(&cfg);
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/resource", srv.port);
    cfg.base_url = base;
    cfg.cache.ttl_s = 1; /* expire quickly to exercise stale */
    cfg.cache.clock = cache_clock;
    sfp_err err = {0};
    sfp_soda *client = sfp_soda_create(&cfg, &err);
    assert_non_null(client);
    harness h;
    start(&h, url, sfp_rpt_soda_from_client(client), client);

    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "1386", "025");
    assert_string_equal(SRC_STATE(r, "complaints"), "live");
    assert_string_equal(SRC_STATE(r, "violations"), "live");
    assert_string_equal(src(r, "tax_roll")->reason, "not_needed");
    assert_int_equal(r->report->n_complaints, 2);
    assert_int_equal(r->metadata->debug->soda_requests, 2);
    assert_string_equal(ENAME(r->report->risk_assessment[0]->risk_type), "active_complaint");
    assert_string_equal(r->report->risk_assessment[0]->title, "Active DBI complaint — Work without permit");
    assert_string_equal(ENAME(r->report->risk_assessment[1]->risk_type), "active_violation");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    r = get_ok(&h, "1386", "025"); /* within the TTL: cached, no HTTP */
    assert_string_equal(SRC_STATE(r, "complaints"), "cached");
    assert_int_equal(r->metadata->debug->soda_requests, 0);
    assert_true(r->metadata->max_age_seconds <= 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    r = get_ok(&h, "3507", "004"); /* tax roll fetched: newest closed_roll_year first */
    assert_string_equal(SRC_STATE(r, "tax_roll"), "live");
    assert_non_null(r->report->property_profile);
    assert_string_equal(r->report->property_profile->source, "tax_roll");
    assert_string_equal(r->report->property_profile->zoning, "RH-1(D)");
    assert_string_equal(r->report->property_profile->assessed_value, "$300,000");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* SODA fails after the entry expired → stale data served, report still OK */
    char ctl[160];
    snprintf(ctl, sizeof ctl, "http://127.0.0.1:%d/__control?mode=fail500", srv.port);
    assert_int_equal(http_post(ctl), 0);
    cache_clock_advance(1.3);
    r = get_ok(&h, "1386", "025");
    assert_string_equal(SRC_STATE(r, "complaints"), "stale");
    assert_string_equal(src(r, "complaints")->reason, "http_5xx");
    assert_int_equal(r->report->n_complaints, 2);
    assert_int_equal(r->metadata->max_age_seconds, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    Sfpermits__V1__GetStatsRequest sreq = SFPERMITS__V1__GET_STATS_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_call(h.ch, "/sfpermits.v1.Introspection/GetStats", &sreq.base,
                                  &sfpermits__v1__service_stats__descriptor, &resp, 5000, NULL, 0, &st),
                     GRPC_STATUS_OK);
    Sfpermits__V1__ServiceStats *s = (void *)resp;
    assert_non_null(s->breaker);
    assert_non_null(s->response_cache);
    assert_true(s->response_cache->hits >= 2);
    protobuf_c_message_free_unpacked(resp, NULL);

    stop(&h);
    sfp_soda_destroy(client);
    sfp_proc_stop(&srv, 5000);
    free(url);
}

/* The sfp-report binary itself: env wiring, readiness, a report through the real client. */
static void test_binary_serves_reports(void **state)
{
    (void)state;
    sfp_test_require_bin("sfp-soda-test-server");
    sfp_test_require_bin("sfp-report");
    const char *soda_env[] = {"SODA_TEST_ADDR=127.0.0.1:0", "DATABASE_URL=", NULL}; /* generator data */
    sfp_proc soda;
    assert_int_equal(sfp_proc_start(&soda, "sfp-soda-test-server", soda_env), 0);
    char dbenv[600], base[128];
    snprintf(dbenv, sizeof dbenv, "DATABASE_URL=%s", g_url);
    snprintf(base, sizeof base, "SODA_BASE_URL=http://127.0.0.1:%d/resource", soda.port);
    const char *env[] = {dbenv, base, "LISTEN_ADDR=127.0.0.1:0", "DB_POOL_MIN=1", "REPORT_NEARBY_LIMIT=3", NULL};
    sfp_proc rep;
    assert_int_equal(sfp_proc_start(&rep, "sfp-report", env), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rep.port);
    sfp_rpc_channel *ch = sfp_rpc_channel_create(addr);
    sfp_rpc_status st;
    int serving = -1;
    for (int i = 0; i < 50 && serving != 1; i++) {
        serving = sfp_rpc_health_check(ch, SFP_REPORT_SERVICE_NAME, 2000, &st);
        if (serving != 1) usleep(100000);
    }
    assert_int_equal(serving, 1);
    Sfpermits__V1__GetPropertyReportRequest req = SFPERMITS__V1__GET_PROPERTY_REPORT_REQUEST__INIT;
    req.block = "3512";
    req.lot = "001";
    ProtobufCMessage *resp = NULL;
    assert_int_equal(sfp_rpc_call(ch, SFP_REPORT_METHOD_PATH, &req.base,
                                  &sfpermits__v1__get_property_report_response__descriptor, &resp, 10000, NULL, 0, &st),
                     GRPC_STATUS_OK);
    Sfpermits__V1__GetPropertyReportResponse *r = (void *)resp;
    assert_int_equal(r->report->n_permits, 50);
    assert_int_equal(r->report->n_complaints, 50); /* the generator has 60: $limit=50 */
    assert_int_equal(r->report->n_violations, 50);
    assert_string_equal(SRC_STATE(r, "complaints"), "live");
    assert_true(r->report->n_nearby_activity <= 3);
    protobuf_c_message_free_unpacked(resp, NULL);
    req.block = "'; DROP";
    assert_int_equal(sfp_rpc_call(ch, SFP_REPORT_METHOD_PATH, &req.base,
                                  &sfpermits__v1__get_property_report_response__descriptor, &resp, 10000, NULL, 0, &st),
                     GRPC_STATUS_INVALID_ARGUMENT);
    sfp_rpc_channel_destroy(ch);
    assert_int_equal(sfp_proc_stop(&rep, 10000), 0);
    sfp_proc_stop(&soda, 5000);
}

/* ------------------------------------------------------------------ seeded demo dataset */

static int run_seed(const char *url)
{
    char dbenv[600];
    snprintf(dbenv, sizeof dbenv, "DATABASE_URL=%s", url);
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 2, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "DATABASE_URL=", 13)) env[k++] = environ[i];
    env[k++] = dbenv;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        char *argv[] = {SFP_BIN_DIR "/sfp-seed", "--scale", "demo", "--jobs", "1", NULL};
        execve(argv[0], argv, env);
        _exit(127);
    }
    free(env);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_seeded_demo_parcels(void **state)
{
    (void)state;
    sfp_test_require_bin("sfp-seed");
    char *url = sfp_test_migrated_db("it_report_seed");
    assert_int_equal(run_seed(url), 0);
    fake_reset();
    harness h;
    start(&h, url, fake_interface(), NULL);
    Sfpermits__V1__GetPropertyReportResponse *big = get_ok(&h, "3512", "001"); /* warm-up */
    protobuf_c_message_free_unpacked(&big->base, NULL);
    big = get_ok(&h, "3512", "001");
    assert_true(big->report->total_permits >= 44);
    assert_int_equal(big->report->n_permits, big->report->total_permits > 50 ? 50 : big->report->total_permits);
    static const char *const demo[][2] = {{"0585", "003"}, {"3507", "004"}, {"1386", "025"}, {"0312", "005"}};
    for (size_t i = 0; i < 4; i++) {
        Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, demo[i][0], demo[i][1]);
        assert_true(r->report->n_permits >= 1);
        assert_int_equal(r->metadata->debug->sql_queries, big->metadata->debug->sql_queries);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    protobuf_c_message_free_unpacked(&big->base, NULL);
    stop(&h);
    free(url);
}

/* ------------------------------------------------------------------ report cache */

static int fake_begins(void)
{
    pthread_mutex_lock(&FAKE.mu);
    int n = FAKE.begins;
    pthread_mutex_unlock(&FAKE.mu);
    return n;
}

/* Polls an Introspection counter until it reaches at least want (5 s). */
static double wait_counter(harness *h, const char *name, double want)
{
    double v = 0;
    for (int i = 0; i < 250; i++) {
        v = stat_counter(h, name);
        if (v >= want) break;
        usleep(20000);
    }
    return v;
}

/* Payload of the next notification on c (polled up to 5 s); "" when none came. */
static const char *next_notification(PGconn *c)
{
    static char payload[64];
    payload[0] = '\0';
    for (int i = 0; i < 500; i++) {
        PQconsumeInput(c);
        PGnotify *n = PQnotifies(c);
        if (n) {
            snprintf(payload, sizeof payload, "%s", n->extra);
            PQfreemem(n);
            break;
        }
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        poll(&pfd, 1, 10);
    }
    return payload;
}

typedef struct cached_harness {
    harness h;
    sfp_rpt_cache *cache;
    sfp_db_listener *listener;
} cached_harness;

/* The harness with a report cache and its listener, as sfp-report wires them (main.c). */
static void start_cached(cached_harness *c)
{
    start(&c->h, g_url, fake_interface(), NULL);
    sfp_rpt_cache_config cc;
    sfp_rpt_cache_config_defaults(&cc);
    cc.clock = cache_clock;
    c->cache = sfp_rpt_cache_new(&cc);
    assert_non_null(c->cache);
    c->h.svc.cache = c->cache;
    c->listener =
        sfp_db_listen_start(c->h.pool, SFP_RPT_CACHE_CHANNEL, "listen-test", sfp_rpt_cache_listen_event, c->cache);
    assert_non_null(c->listener);
    assert_true(wait_counter(&c->h, "report_cache_listening", 1) == 1);
}

static void stop_cached(cached_harness *c)
{
    stop(&c->h); /* the server first: no request may still use the cache */
    sfp_db_listen_stop(c->listener);
    sfp_rpt_cache_free(c->cache);
}

/* A hit costs no SQL and no SODA, carries the same content, ages its sources; a write to a
 * table the report reads (from another connection) invalidates through NOTIFY; a write to an
 * unrelated table does not. */
static void test_report_cache_hit_and_notify_invalidation(void **state)
{
    (void)state;
    fake_reset();
    cached_harness c;
    start_cached(&c);
    Sfpermits__V1__GetPropertyReportResponse *miss = get_ok(&c.h, "1386", "025");
    assert_false(miss->metadata->debug->cached);
    assert_true(miss->metadata->debug->sql_queries >= 2);
    assert_string_equal(SRC_STATE(miss, "complaints"), "live");
    assert_int_equal(fake_begins(), 1); /* complaints+violations (the profile is in parcel_summary) */
    cache_clock_advance(0.05);
    Sfpermits__V1__GetPropertyReportResponse *hit = get_ok(&c.h, "1386", "025");
    assert_true(hit->metadata->debug->cached);
    assert_int_equal(hit->metadata->debug->sql_queries, 0);
    assert_int_equal(hit->metadata->debug->soda_requests, 0);
    assert_int_equal(fake_begins(), 1);
    assert_string_equal(SRC_STATE(hit, "complaints"), "cached");
    assert_true(src(hit, "complaints")->age_seconds >= 0.04);
    assert_true(src(hit, "complaints")->ttl_remaining_seconds < 900);
    assert_int_equal(src(hit, "complaints")->records, 2);
    assert_string_equal(SRC_STATE(hit, "tax_roll"), SRC_STATE(miss, "tax_roll"));
    assert_true(hit->metadata->max_age_seconds > 0 && hit->metadata->max_age_seconds <= 900);
    assert_string_equal(hit->metadata->generated_at, miss->metadata->generated_at);
    /* the same content, hence the same etag (computed once, when it was assembled) */
    size_t n1, n2;
    uint8_t *b1 = sfp_test_pack(&miss->report->base, &n1), *b2 = sfp_test_pack(&hit->report->base, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1);
    free(b2);
    assert_int_equal(strlen(hit->metadata->etag), 32);
    assert_string_equal(hit->metadata->etag, miss->metadata->etag);
    assert_int_equal(stat_counter(&c.h, "report_cache_hits_total"), 1);
    assert_int_equal(stat_counter(&c.h, "report_cache_stores_total"), 1);
    protobuf_c_message_free_unpacked(&hit->base, NULL);

    /* a write elsewhere (not read by the report) sends no notification, so the entry stays:
     * notifications arrive in commit order, so the first one a listener sees after that write
     * must be a sentinel sent after it */
    PGconn *watcher = PQconnectdb(g_url);
    PQclear(PQexec(watcher, "LISTEN " SFP_RPT_CACHE_CHANNEL));
    assert_int_equal(sfp_test_sql(g_url, "INSERT INTO cron_log(job_type, status) VALUES ('noop', 'success')"), 0);
    hit = get_ok(&c.h, "1386", "025");
    assert_true(hit->metadata->debug->cached);
    protobuf_c_message_free_unpacked(&hit->base, NULL);
    assert_int_equal(sfp_test_sql(g_url, "NOTIFY " SFP_RPT_CACHE_CHANNEL ", 'sentinel'"), 0);
    assert_string_equal(next_notification(watcher), "sentinel");
    PQfinish(watcher);
    assert_true(wait_counter(&c.h, "report_cache_invalidations_total", 1) >= 1); /* the sentinel's */

    /* the data changes: the next report is assembled again and shows it */
    assert_int_equal(sfp_test_sql(g_url, "UPDATE permits SET description = 'kitchen and bath remodel'"
                                         " WHERE permit_number = 'PA-001'"),
                     0);
    assert_true(wait_counter(&c.h, "report_cache_invalidations_total", 2) >= 2);
    Sfpermits__V1__GetPropertyReportResponse *fresh = get_ok(&c.h, "1386", "025");
    assert_false(fresh->metadata->debug->cached);
    assert_true(fresh->metadata->debug->sql_queries >= 2);
    assert_string_equal(find_permit(fresh, "PA-001")->description, "kitchen and bath remodel");
    assert_string_equal(find_permit(miss, "PA-001")->description, "kitchen remodel");
    protobuf_c_message_free_unpacked(&fresh->base, NULL);
    assert_int_equal(sfp_test_sql(g_url, "UPDATE permits SET description = 'kitchen remodel'"
                                         " WHERE permit_number = 'PA-001'"),
                     0);
    assert_true(wait_counter(&c.h, "report_cache_invalidations_total", 3) >= 3);
    fresh = get_ok(&c.h, "1386", "025");
    assert_false(fresh->metadata->debug->cached);
    assert_string_equal(find_permit(fresh, "PA-001")->description, "kitchen remodel");
    protobuf_c_message_free_unpacked(&fresh->base, NULL);
    protobuf_c_message_free_unpacked(&miss->base, NULL);
    stop_cached(&c);
}

/* Never kept: a degraded report (a needed source stale); kept only as long as its SODA
 * sources' TTL; never served for another day. */
static void test_report_cache_bounds(void **state)
{
    (void)state;
    fake_reset();
    cached_harness c;
    start_cached(&c);
    pthread_mutex_lock(&FAKE.mu);
    FAKE.state[SFP_RPT_DS_VIOLATIONS] = SFP_SODA_STALE;
    pthread_mutex_unlock(&FAKE.mu);
    for (int i = 0; i < 2; i++) {
        Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&c.h, "3507", "004");
        assert_false(r->metadata->debug->cached);
        assert_string_equal(SRC_STATE(r, "violations"), "stale");
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    assert_int_equal(stat_counter(&c.h, "report_cache_stores_total"), 0);

    fake_reset();
    pthread_mutex_lock(&FAKE.mu);
    FAKE.ttl[SFP_RPT_DS_COMPLAINTS] = 1.5; /* the SODA entry expires in 1.5 s (of the cache's clock) */
    pthread_mutex_unlock(&FAKE.mu);
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&c.h, "3507", "004");
    assert_false(r->metadata->debug->cached);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = get_ok(&c.h, "3507", "004");
    assert_true(r->metadata->debug->cached);
    assert_int_equal(r->metadata->max_age_seconds, 1); /* floor of what is left of 1.5 s */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cache_clock_advance(1.6);
    int begins = fake_begins();
    r = get_ok(&c.h, "3507", "004");
    assert_false(r->metadata->debug->cached); /* SODA is asked again */
    assert_true(fake_begins() > begins);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    fake_reset();
    r = get_ok(&c.h, "3507", "004"); /* stored with the default TTLs */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = get_ok(&c.h, "3507", "004");
    assert_true(r->metadata->debug->cached);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    c.h.svc.fixed_today += 1; /* midnight: risk rules count days */
    r = get_ok(&c.h, "3507", "004");
    assert_false(r->metadata->debug->cached);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop_cached(&c);
}

/* The listener's connection is killed: nothing cached before is served again (changes may
 * have been missed meanwhile); once it is back, caching resumes. */
static void test_report_cache_listener_loss(void **state)
{
    (void)state;
    fake_reset();
    cached_harness c;
    start_cached(&c);
    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&c.h, "1386", "025");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = get_ok(&c.h, "1386", "025");
    assert_true(r->metadata->debug->cached);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(sfp_test_sql(g_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                         " WHERE application_name = 'sfp-report-test-listen-test'"),
                     0);
    /* DOWN then UP again (reconnect after 100 ms): the entry is gone either way */
    for (int i = 0; i < 250 && stat_counter(&c.h, "report_cache_entries") > 0; i++) usleep(20000);
    assert_int_equal(stat_counter(&c.h, "report_cache_entries"), 0);
    assert_true(wait_counter(&c.h, "report_cache_listening", 1) == 1);
    r = get_ok(&c.h, "1386", "025");
    assert_false(r->metadata->debug->cached);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = get_ok(&c.h, "1386", "025");
    assert_true(r->metadata->debug->cached);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop_cached(&c);
}

typedef struct cache_caller {
    cached_harness *c;
    grpc_status_code rc;
    bool hit;
} cache_caller;

static void *call_report(void *arg)
{
    cache_caller *k = arg;
    Sfpermits__V1__GetPropertyReportResponse *r = NULL;
    sfp_rpc_status st;
    k->rc = call(&k->c->h, "1386", "025", 10000, &r, &st);
    if (r) {
        k->hit = r->metadata->debug->cached;
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    return NULL;
}

/* Concurrent misses for one parcel: one assembly (one SODA begin pair, one SQL plan). */
static void test_report_cache_coalesces_misses(void **state)
{
    (void)state;
    fake_reset();
    cached_harness c;
    start_cached(&c);
    pthread_mutex_lock(&FAKE.mu);
    FAKE.delay_ms = 300;
    pthread_mutex_unlock(&FAKE.mu);
    double q0 = stat_counter(&c.h, "report_sql_queries_total");
    enum { N = 4 }; /* the harness runs 4 rpc workers */
    cache_caller k[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        k[i] = (cache_caller){.c = &c};
        pthread_create(&th[i], NULL, call_report, &k[i]);
    }
    int hits = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(k[i].rc, GRPC_STATUS_OK);
        hits += k[i].hit;
    }
    assert_int_equal(fake_begins(), 1);
    assert_int_equal(hits, N - 1);
    double q = stat_counter(&c.h, "report_sql_queries_total") - q0;
    assert_true(q >= 2 && q <= 4); /* one plan (4 on a fresh connection) */
    assert_int_equal(stat_counter(&c.h, "report_cache_coalesced_total"), N - 1);
    stop_cached(&c);
}

/* regulatory_watch held in process: the second report reads no regulatory_watch statement (the
 * copy is served), a write to the table drops it through NOTIFY and the next report shows the
 * new row. */
static const char *watch_risk_title(const Sfpermits__V1__GetPropertyReportResponse *r)
{
    for (size_t i = 0; i < r->report->n_risk_assessment; i++)
        if (!strcmp(ENAME(r->report->risk_assessment[i]->risk_type), "pending_regulation"))
            return r->report->risk_assessment[i]->title;
    return "";
}

static void test_reg_watch_held_and_invalidated(void **state)
{
    (void)state;
    fake_reset();
    harness h;
    start(&h, g_url, fake_interface(), NULL);
    sfp_rpt_watch *w = sfp_rpt_watch_new(NULL, NULL);
    h.svc.watch = w;
    sfp_db_listener *l = sfp_db_listen_start(h.pool, "sfp_data_changed", "watch-test", sfp_rpt_watch_listen_event, w);
    assert_non_null(l);
    sfp_rpt_watch_stats ws = {0};
    for (int i = 0; i < 250 && !ws.listening; i++) {
        sfp_rpt_watch_get_stats(w, &ws);
        if (!ws.listening) usleep(20000);
    }
    assert_true(ws.listening);

    Sfpermits__V1__GetPropertyReportResponse *r = get_ok(&h, "1386", "025"); /* reads and keeps the rows */
    assert_string_equal(watch_risk_title(r), "Pending regulation — Permit expiration reform");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    double hits = stat_counter(&h, "report_watch_hits_total");
    r = get_ok(&h, "1386", "025");
    assert_string_equal(watch_risk_title(r), "Pending regulation — Permit expiration reform");
    assert_int_equal(r->metadata->debug->sql_queries, 2);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_true(stat_counter(&h, "report_watch_hits_total") == hits + 1);

    assert_int_equal(sfp_test_sql(g_url, "UPDATE regulatory_watch SET title = 'Permit expiration reform II'"
                                         " WHERE source_id = 'BOS-1'"),
                     0);
    bool seen = false;
    for (int i = 0; i < 250 && !seen; i++) {
        r = get_ok(&h, "1386", "025");
        seen = !strcmp(watch_risk_title(r), "Pending regulation — Permit expiration reform II");
        protobuf_c_message_free_unpacked(&r->base, NULL);
        if (!seen) usleep(20000);
    }
    assert_true(seen);
    assert_true(stat_counter(&h, "report_watch_invalidations_total") >= 1);
    assert_int_equal(sfp_test_sql(g_url, "UPDATE regulatory_watch SET title = 'Permit expiration reform'"
                                         " WHERE source_id = 'BOS-1'"),
                     0);
    stop(&h);
    sfp_db_listen_stop(l);
    sfp_rpt_watch_free(w);
}

int main(void)
{
    sfp_log_init("test-report");
    sfp_log_set_level(SFP_ERROR);
    sfp_rpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contacts_and_inspections_grouped_and_ranked),
        cmocka_unit_test(test_empty_batches_make_no_query),
        cmocka_unit_test(test_query_count_constant),
        cmocka_unit_test(test_prepared_statements_registry),
        cmocka_unit_test(test_historical_lots_and_truncation),
        cmocka_unit_test(test_full_report_sections),
        cmocka_unit_test(test_routing_and_active_status_sets),
        cmocka_unit_test(test_tax_roll_profile_and_sources),
        cmocka_unit_test(test_soda_budget_counts_from_arrival),
        cmocka_unit_test(test_not_found_and_invalid),
        cmocka_unit_test(test_database_unavailable),
        cmocka_unit_test(test_deadlines_bound_db_work),
        cmocka_unit_test(test_real_soda_client_and_test_server),
        cmocka_unit_test(test_binary_serves_reports),
        cmocka_unit_test(test_seeded_demo_parcels),
        cmocka_unit_test(test_report_cache_hit_and_notify_invalidation),
        cmocka_unit_test(test_report_cache_bounds),
        cmocka_unit_test(test_report_cache_listener_loss),
        cmocka_unit_test(test_report_cache_coalesces_misses),
        cmocka_unit_test(test_reg_watch_held_and_invalidated),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    sfp_rpc_shutdown();
    return rc;
}
