/* cron_entities.c — what the nightly derives from the ingested tables, inside the same
 * transaction as the merges (see cron_ingest.h):
 *
 *   contact resolution  every contact gets the entity id of its resolution key: 'L:' license
 *                       number, else 'P:' PTS agent id, else 'N:' upper-cased, space-normalised
 *                       name | firm. entity_keys remembers each key's id forever, so the same
 *                       person or firm keeps its entity_id across runs; new keys draw from
 *                       entity_id_seq. The first run adopts the ids already in contacts (e.g.
 *                       from sfp-seed): each key takes the smallest id its contacts carried.
 *   entities            one row per entity id with contacts: most frequent name / firm / role,
 *                       identifiers, contact and permit counts, source datasets, and a method:
 *                       license_number / pts_agent_id (high), name_match (medium, >1 contact),
 *                       singleton (low). Entities left without contacts are deleted (their id
 *                       stays reserved in entity_keys).
 *   parcel_summary      per (block, lot) seen in permits, tax rolls, complaints or violations:
 *                       address, neighborhood and district of the newest permit (else the roll),
 *                       permit / open permit (filed, plancheck, approved, issued,
 *                       reinstated) / complaint /
 *                       violation / inspection counts, latest roll's value, zoning, use and
 *                       units, last filing date. health_tier (the signals job) and
 *                       boiler_permit_count are kept as they are.
 *   timeline_stats      issued permits filed in the last 5 years: review path (otc for permit
 *                       type 8), cost bracket, filed/issued/completed days and durations.
 *
 * Incremental runs recompute only what the staged rows touch (new or changed contacts, the
 * parcels (block, lot) of the staged rows of every dataset that has them, the staged permits, plus timeline rows aged out of the 5-year window); a full
 * run recomputes everything. Rows are only written when their content changes. When every
 * dataset was fetched in full, parcel_summary and timeline_stats are instead rebuilt beside the
 * live tables and swapped in with the ingest tables (sfp_ingest_swap_derived): the same rows and
 * counts, without an index insertion per row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cron_ingest.h"
#include "log.h"
#include "permit_status.h"

/* clang-format off */
#define KEY_SQL(c)                                                                                            \
    "CASE WHEN nullif(btrim(" c ".license_number), '') IS NOT NULL THEN 'L:' || upper(btrim(" c ".license_number)) " \
    "WHEN nullif(btrim(" c ".pts_agent_id), '') IS NOT NULL THEN 'P:' || btrim(" c ".pts_agent_id) "          \
    "WHEN coalesce(nullif(btrim(" c ".name), ''), nullif(btrim(" c ".firm_name), '')) IS NOT NULL THEN 'N:' || " \
    "upper(regexp_replace(btrim(coalesce(" c ".name, '')), '\\s+', ' ', 'g')) || '|' || "                     \
    "upper(regexp_replace(btrim(coalesce(" c ".firm_name, '')), '\\s+', ' ', 'g')) END"

static const char k_bootstrap_keys[] =
    "INSERT INTO entity_keys (resolution_key, entity_id) "
    "SELECT k, min(entity_id) FROM (SELECT " KEY_SQL("c") " AS k, c.entity_id FROM contacts c "
    "  WHERE c.entity_id IS NOT NULL) x WHERE k IS NOT NULL GROUP BY k ON CONFLICT DO NOTHING";

static const char k_sync_seq[] =
    "SELECT setval('entity_id_seq', greatest((SELECT max(entity_id) FROM entity_keys), "
    "(SELECT max(entity_id) FROM entities), (SELECT last_value FROM entity_id_seq), 1))";

/* $1 = full */
static const char k_contact_keys[] =
    "CREATE TEMP TABLE nightly_contact_keys ON COMMIT DROP AS SELECT c.id, " KEY_SQL("c") " AS k, "
    "c.entity_id AS old FROM contacts c WHERE $1::bool OR c.entity_id IS NULL";

static const char k_new_keys[] =
    "WITH n AS (INSERT INTO entity_keys (resolution_key, entity_id) "
    "  SELECT k, nextval('entity_id_seq') FROM (SELECT DISTINCT k FROM nightly_contact_keys ck WHERE k IS NOT NULL "
    "  AND NOT EXISTS (SELECT 1 FROM entity_keys ek WHERE ek.resolution_key = ck.k) ORDER BY k) x RETURNING 1) "
    "SELECT count(*) FROM n";

static const char k_assign[] =
    "WITH u AS (UPDATE contacts c SET entity_id = ek.entity_id FROM nightly_contact_keys ck "
    "  JOIN entity_keys ek ON ek.resolution_key = ck.k "
    "  WHERE c.id = ck.id AND ck.old IS DISTINCT FROM ek.entity_id RETURNING c.entity_id AS new_id, ck.old), "
    "a AS (INSERT INTO nightly_affected_entities SELECT new_id FROM u UNION SELECT old FROM u WHERE old IS NOT NULL "
    "  RETURNING 1) "
    "SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM a)";

#define ENTITY_COLS                                                                                             \
    "entity_id, canonical_name, canonical_firm, entity_type, pts_agent_id, license_number, sf_business_license, " \
    "resolution_method, resolution_confidence, contact_count, permit_count, source_datasets"

/* Entities of nightly_affected_entities. Returns (written, deleted). */
static const char k_entities[] =
    "WITH agg AS (SELECT c.entity_id, mode() WITHIN GROUP (ORDER BY c.name) AS canonical_name, "
    "  mode() WITHIN GROUP (ORDER BY c.firm_name) AS canonical_firm, mode() WITHIN GROUP (ORDER BY c.role) AS "
    "  entity_type, max(c.pts_agent_id) AS pts_agent_id, max(c.license_number) AS license_number, "
    "  max(c.sf_business_license) AS sf_business_license, count(*)::int AS contact_count, "
    "  count(DISTINCT c.permit_number)::int AS permit_count, "
    "  string_agg(DISTINCT c.source, ',' ORDER BY c.source) AS source_datasets "
    "  FROM contacts c WHERE c.entity_id IN (SELECT entity_id FROM nightly_affected_entities) GROUP BY c.entity_id), "
    "new AS (SELECT entity_id, canonical_name, canonical_firm, entity_type, pts_agent_id, license_number, "
    "  sf_business_license, CASE WHEN license_number IS NOT NULL THEN 'license_number' "
    "  WHEN pts_agent_id IS NOT NULL THEN 'pts_agent_id' WHEN contact_count > 1 THEN 'name_match' ELSE 'singleton' END "
    "  AS resolution_method, CASE WHEN license_number IS NOT NULL OR pts_agent_id IS NOT NULL THEN 'high' "
    "  WHEN contact_count > 1 THEN 'medium' ELSE 'low' END AS resolution_confidence, contact_count, permit_count, "
    "  source_datasets FROM agg), "
    "up AS (INSERT INTO entities AS e (" ENTITY_COLS ") SELECT " ENTITY_COLS " FROM new "
    "  ON CONFLICT (entity_id) DO UPDATE SET canonical_name = EXCLUDED.canonical_name, "
    "  canonical_firm = EXCLUDED.canonical_firm, entity_type = EXCLUDED.entity_type, "
    "  pts_agent_id = EXCLUDED.pts_agent_id, license_number = EXCLUDED.license_number, "
    "  sf_business_license = EXCLUDED.sf_business_license, resolution_method = EXCLUDED.resolution_method, "
    "  resolution_confidence = EXCLUDED.resolution_confidence, contact_count = EXCLUDED.contact_count, "
    "  permit_count = EXCLUDED.permit_count, source_datasets = EXCLUDED.source_datasets "
    "  WHERE ROW(e.*) IS DISTINCT FROM ROW(EXCLUDED.*) RETURNING 1), "
    "del AS (DELETE FROM entities e WHERE e.entity_id IN (SELECT entity_id FROM nightly_affected_entities) "
    "  AND NOT EXISTS (SELECT 1 FROM new WHERE new.entity_id = e.entity_id) RETURNING 1) "
    "SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM del)";

#define IN_SCOPE(t) "(" t ".block, " t ".lot) IN (SELECT block, lot FROM nightly_parcels)"
#define PS_COLS                                                                                                 \
    "block, lot, canonical_address, neighborhood, supervisor_district, permit_count, open_permit_count, "        \
    "complaint_count, violation_count, boiler_permit_count, inspection_count, tax_value, zoning_code, "          \
    "use_definition, number_of_units, health_tier, last_permit_date"

/* The parcel_summary rows computed for the parcels SCOPE(alias) selects, with health_tier and
 * boiler_permit_count from the table OLD (kept as they are). */
#define PS_NEW(SCOPE, OLD) \
    "WITH p AS (SELECT block, lot, count(*)::int AS n, count(*) FILTER (WHERE lower(status) = ANY (" SFP_PERMITS_OPEN_SQL "))::int " \
    "  AS open, max(filed_date) AS last_filed FROM permits pm " \
    "  WHERE block IS NOT NULL AND lot IS NOT NULL AND " SCOPE("pm") " GROUP BY block, lot), " \
    "a AS (SELECT DISTINCT ON (block, lot) block, lot, concat_ws(' ', street_number, street_name, " \
    "  nullif(street_suffix, '')) AS address, neighborhood, supervisor_district FROM permits pm " \
    "  WHERE block IS NOT NULL AND lot IS NOT NULL AND " SCOPE("pm") \
    "  ORDER BY block, lot, filed_date DESC NULLS LAST, permit_number DESC), " \
    "cm AS (SELECT block, lot, count(*)::int AS n FROM complaints x WHERE block IS NOT NULL AND lot IS NOT NULL " \
    "  AND " SCOPE("x") " GROUP BY block, lot), " \
    "vi AS (SELECT block, lot, count(*)::int AS n FROM violations x WHERE block IS NOT NULL AND lot IS NOT NULL " \
    "  AND " SCOPE("x") " GROUP BY block, lot), " \
    "ip AS (SELECT block, lot, count(*)::int AS n FROM inspections x WHERE block IS NOT NULL AND lot IS NOT NULL " \
    "  AND " SCOPE("x") " GROUP BY block, lot), " \
    "tx AS (SELECT DISTINCT ON (block, lot) block, lot, assessed_land_value, assessed_improvement_value, zoning_code, " \
    "  use_definition, number_of_units, neighborhood, supervisor_district FROM tax_rolls x WHERE " SCOPE("x") \
    "  ORDER BY block, lot, tax_year DESC), " \
    "k AS (SELECT block, lot FROM p UNION SELECT block, lot FROM tx UNION SELECT block, lot FROM cm " \
    "  UNION SELECT block, lot FROM vi), " \
    "new AS (SELECT k.block, k.lot, a.address AS canonical_address, coalesce(a.neighborhood, tx.neighborhood) AS " \
    "  neighborhood, coalesce(a.supervisor_district, tx.supervisor_district) AS supervisor_district, " \
    "  coalesce(p.n, 0) AS permit_count, coalesce(p.open, 0) AS open_permit_count, coalesce(cm.n, 0) AS " \
    "  complaint_count, coalesce(vi.n, 0) AS violation_count, coalesce(o.boiler_permit_count, 0) AS " \
    "  boiler_permit_count, coalesce(ip.n, 0) AS inspection_count, " \
    "  tx.assessed_land_value + tx.assessed_improvement_value AS tax_value, tx.zoning_code, tx.use_definition, " \
    "  tx.number_of_units, o.health_tier, p.last_filed AS last_permit_date " \
    "  FROM k LEFT JOIN p USING (block, lot) LEFT JOIN a USING (block, lot) LEFT JOIN cm USING (block, lot) " \
    "  LEFT JOIN vi USING (block, lot) LEFT JOIN ip USING (block, lot) LEFT JOIN tx USING (block, lot) " \
    "  LEFT JOIN " OLD " o ON o.block = k.block AND o.lot = k.lot), "

/* Parcels of nightly_parcels. Returns (written, deleted). */
static const char *const k_parcel_summary[] = {
    PS_NEW(IN_SCOPE, "parcel_summary"),
    "up AS (INSERT INTO parcel_summary AS s (" PS_COLS ") SELECT " PS_COLS " FROM new "
    "  ON CONFLICT (block, lot) DO UPDATE SET canonical_address = EXCLUDED.canonical_address, "
    "  neighborhood = EXCLUDED.neighborhood, supervisor_district = EXCLUDED.supervisor_district, "
    "  permit_count = EXCLUDED.permit_count, open_permit_count = EXCLUDED.open_permit_count, "
    "  complaint_count = EXCLUDED.complaint_count, violation_count = EXCLUDED.violation_count, "
    "  inspection_count = EXCLUDED.inspection_count, tax_value = EXCLUDED.tax_value, "
    "  zoning_code = EXCLUDED.zoning_code, use_definition = EXCLUDED.use_definition, "
    "  number_of_units = EXCLUDED.number_of_units, last_permit_date = EXCLUDED.last_permit_date, refreshed_at = now() "
    "  WHERE (s.canonical_address, s.neighborhood, s.supervisor_district, s.permit_count, s.open_permit_count, "
    "  s.complaint_count, s.violation_count, s.inspection_count, s.tax_value, s.zoning_code, s.use_definition, "
    "  s.number_of_units, s.last_permit_date) IS DISTINCT FROM (EXCLUDED.canonical_address, EXCLUDED.neighborhood, "
    "  EXCLUDED.supervisor_district, EXCLUDED.permit_count, EXCLUDED.open_permit_count, EXCLUDED.complaint_count, "
    "  EXCLUDED.violation_count, EXCLUDED.inspection_count, EXCLUDED.tax_value, EXCLUDED.zoning_code, "
    "  EXCLUDED.use_definition, EXCLUDED.number_of_units, EXCLUDED.last_permit_date) RETURNING 1), "
    "del AS (DELETE FROM parcel_summary s WHERE " IN_SCOPE("s")
    "  AND NOT EXISTS (SELECT 1 FROM new WHERE new.block = s.block AND new.lot = s.lot) RETURNING 1) "
    "SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM del)",
    NULL};

#define DAY(x) "CASE WHEN " x " ~ '^(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]' THEN left(" x ", 10)::date END"
#define TS_COLS                                                                                                 \
    "permit_number, permit_type_definition, review_path, neighborhood, estimated_cost, revised_cost, "          \
    "cost_bracket, filed, issued, completed, days_to_issuance, days_to_completion, supervisor_district"

/* The staged permits (all of them in a full run); $1 = full (rows of permits gone are deleted),
 * $2 = today (sfp_cron_today_param, never NULL). Returns (written, deleted). */
/* The timeline_stats rows of the permits FILTER (on alias pm) selects; TODAY = the parameter
 * holding today. */
#define TL_NEW(FILTER, TODAY)                                                                                   \
    "WITH d AS (SELECT pm.*, " DAY("pm.filed_date") " AS f, " DAY("pm.issued_date") " AS i, "                 \
    "  " DAY("pm.completed_date") " AS c FROM permits pm " FILTER "), "                                          \
    "new AS (SELECT permit_number, permit_type_definition, CASE WHEN permit_type = '8' THEN 'otc' ELSE 'in_house' END " \
    "  AS review_path, neighborhood, estimated_cost, revised_cost, CASE WHEN coalesce(estimated_cost, 0) < 50000 " \
    "  THEN 'under_50k' WHEN estimated_cost < 150000 THEN '50k_150k' WHEN estimated_cost < 500000 THEN '150k_500k' " \
    "  ELSE 'over_500k' END AS cost_bracket, f AS filed, i AS issued, c AS completed, i - f AS days_to_issuance, " \
    "  c - f AS days_to_completion, supervisor_district FROM d WHERE f IS NOT NULL AND i IS NOT NULL "        \
    "  AND f >= " TODAY "::date - 1825), "

static const char k_timeline[] =
    TL_NEW("WHERE pm.permit_number IN (SELECT permit_number FROM nightly_stage_permits)", "$2")
    "up AS (INSERT INTO timeline_stats AS t (" TS_COLS ") SELECT " TS_COLS " FROM new "
    "  ON CONFLICT (permit_number) DO UPDATE SET permit_type_definition = EXCLUDED.permit_type_definition, "
    "  review_path = EXCLUDED.review_path, neighborhood = EXCLUDED.neighborhood, "
    "  estimated_cost = EXCLUDED.estimated_cost, revised_cost = EXCLUDED.revised_cost, "
    "  cost_bracket = EXCLUDED.cost_bracket, filed = EXCLUDED.filed, issued = EXCLUDED.issued, "
    "  completed = EXCLUDED.completed, days_to_issuance = EXCLUDED.days_to_issuance, "
    "  days_to_completion = EXCLUDED.days_to_completion, supervisor_district = EXCLUDED.supervisor_district "
    "  WHERE ROW(t.*) IS DISTINCT FROM ROW(EXCLUDED.*) RETURNING 1), "
    "del AS (DELETE FROM timeline_stats t WHERE (($1::bool OR t.permit_number IN "
    "  (SELECT permit_number FROM nightly_stage_permits)) AND NOT EXISTS (SELECT 1 FROM new "
    "  WHERE new.permit_number = t.permit_number)) OR t.filed < $2::date - 1825 RETURNING 1) "
    "SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM del)";

/* A run with every dataset full rebuilds parcel_summary and timeline_stats beside the live
 * tables (sfp_ingest_swap_derived): every row is written once into the empty, unindexed copy
 * (its indexes are built after, by sorting), the live rows serve only for the counts and for
 * what is kept (health_tier, boiler_permit_count, refreshed_at of unchanged parcels). @LIVE@
 * stands for the live table. Same results and counts as the upserts above when every row is
 * in scope; a parcel no dataset mentions any more is dropped. Returns (written, deleted). */
#define ALL_PARCELS(t) "true"
static const char k_parcel_summary_rebuild[] =
    PS_NEW(ALL_PARCELS, "@LIVE@")
    "cmp AS (SELECT n.*, o.refreshed_at AS old_refreshed_at, o.block IS NULL OR (o.canonical_address, "
    "  o.neighborhood, o.supervisor_district, o.permit_count, o.open_permit_count, o.complaint_count, "
    "  o.violation_count, o.inspection_count, o.tax_value, o.zoning_code, o.use_definition, o.number_of_units, "
    "  o.last_permit_date) IS DISTINCT FROM (n.canonical_address, n.neighborhood, n.supervisor_district, "
    "  n.permit_count, n.open_permit_count, n.complaint_count, n.violation_count, n.inspection_count, n.tax_value, "
    "  n.zoning_code, n.use_definition, n.number_of_units, n.last_permit_date) AS changed "
    "  FROM new n LEFT JOIN @LIVE@ o ON o.block = n.block AND o.lot = n.lot), "
    "ins AS (INSERT INTO " SFP_INGEST_NEW_SCHEMA ".parcel_summary (" PS_COLS ", refreshed_at) SELECT " PS_COLS ", "
    "  CASE WHEN changed THEN now() ELSE old_refreshed_at END FROM cmp) "
    "SELECT (SELECT count(*) FROM cmp WHERE changed), (SELECT count(*) FROM @LIVE@ o "
    "  WHERE NOT EXISTS (SELECT 1 FROM new WHERE new.block = o.block AND new.lot = o.lot))";

/* $1 = today. */
static const char k_timeline_rebuild[] =
    TL_NEW("", "$1")
    "cmp AS (SELECT n.*, o.permit_number IS NULL OR (o.permit_type_definition, o.review_path, o.neighborhood, "
    "  o.estimated_cost, o.revised_cost, o.cost_bracket, o.filed, o.issued, o.completed, o.days_to_issuance, "
    "  o.days_to_completion, o.supervisor_district) IS DISTINCT FROM (n.permit_type_definition, n.review_path, "
    "  n.neighborhood, n.estimated_cost, n.revised_cost, n.cost_bracket, n.filed, n.issued, n.completed, "
    "  n.days_to_issuance, n.days_to_completion, n.supervisor_district) AS changed "
    "  FROM new n LEFT JOIN @LIVE@ o ON o.permit_number = n.permit_number), "
    "ins AS (INSERT INTO " SFP_INGEST_NEW_SCHEMA ".timeline_stats (" TS_COLS ") SELECT " TS_COLS " FROM cmp) "
    "SELECT (SELECT count(*) FROM cmp WHERE changed), (SELECT count(*) FROM @LIVE@ o "
    "  WHERE NOT EXISTS (SELECT 1 FROM new WHERE new.permit_number = o.permit_number))";
/* clang-format on */

/* sql with every @LIVE@ replaced by live, into b. */
static void with_live(sfp_buf *b, const char *sql, const char *live)
{
    for (const char *p = sql, *q; *p; p = q + 6) {
        q = strstr(p, "@LIVE@");
        if (!q) {
            sfp_buf_puts(b, p);
            return;
        }
        sfp_buf_append(b, p, (size_t)(q - p));
        sfp_buf_puts(b, live);
    }
}

static int step(sfp_cron_run *r, sfp_conn *c, const char *what, const char *sql, int np, const char *const *p,
                long long *a, long long *b)
{
    sfp_err err = {0};
    if (sfp_cron_tick(r, c, &err)) return sfp_cron_fail_db(r, what, &err);
    double t0 = sfp_ingest_now_s();
    PGresult *res = sfp_db_query(c, sql, np, p, &err);
    if (!res) return sfp_cron_fail_db(r, what, &err);
    sfp_log(SFP_INFO, "nightly derived step", SFP_S("step", what), SFP_D("seconds", sfp_ingest_now_s() - t0));
    if (a) *a = PQntuples(res) > 0 ? sfp_cron_ll(res, 0, 0) : 0;
    if (b) *b = PQntuples(res) > 0 && PQnfields(res) > 1 ? sfp_cron_ll(res, 0, 1) : 0;
    PQclear(res);
    return 0;
}

/* Report columns (migrations 0060, 0095): the permit's block and lot on contacts, inspections
 * and addenda, and the entity's name, firm and permit count and the permit's filing date on
 * contacts. Rows a merge inserts have
 * them NULL; a permit re-ingested may have moved; an entity re-computed may read differently.
 * An incremental run fixes the rows of nightly_report_permits (every permit number a staged
 * row of permits, contacts, inspections or addenda names) and the contacts of
 * nightly_affected_entities; a full run checks every row. Only rows that differ are written.
 * SCOPE(alias) is the incremental scope. Each returns the rows written. */
#define RC_IN_RUN(col) col " IN (SELECT permit_number FROM nightly_report_permits)"
#define RC_CONTACTS(SCOPE)                                                                                             \
    "WITH src AS (SELECT c.id, p.block, p.lot, p.filed_date, e.canonical_name, e.canonical_firm, e.permit_count "      \
    "  FROM contacts c LEFT JOIN permits p ON p.permit_number = c.permit_number "                                      \
    "  LEFT JOIN entities e ON e.entity_id = c.entity_id "                                                             \
    "  WHERE " SCOPE " AND (c.permit_block, c.permit_lot, c.permit_filed_date, c.entity_name, c.entity_firm, "         \
    "  c.entity_permit_count) IS DISTINCT FROM (p.block, p.lot, p.filed_date, e.canonical_name, e.canonical_firm, "    \
    "  e.permit_count)), "                                                                                             \
    "u AS (UPDATE contacts t SET permit_block = src.block, permit_lot = src.lot, permit_filed_date = src.filed_date, " \
    "  entity_name = src.canonical_name, entity_firm = src.canonical_firm, entity_permit_count = src.permit_count "    \
    "  FROM src WHERE t.id = src.id RETURNING 1) SELECT count(*) FROM u"
#define RC_CHILD(TABLE, PN, COND, SCOPE)                                                                            \
    "WITH src AS (SELECT x.id, p.block, p.lot FROM " TABLE " x LEFT JOIN permits p ON p.permit_number = x." PN COND \
    " WHERE " SCOPE " AND (x.permit_block, x.permit_lot) IS DISTINCT FROM (p.block, p.lot)), "                      \
    "u AS (UPDATE " TABLE " t SET permit_block = src.block, permit_lot = src.lot FROM src WHERE t.id = src.id "     \
    "  RETURNING 1) SELECT count(*) FROM u"
#define RC_INSPECTIONS(SCOPE) \
    RC_CHILD("inspections", "reference_number", " AND coalesce(x.reference_number_type, 'permit') = 'permit'", SCOPE)
#define RC_ADDENDA(SCOPE) RC_CHILD("addenda", "application_number", "", SCOPE)
static const char *const k_report_cols_full[] = {RC_CONTACTS("true"), RC_INSPECTIONS("true"), RC_ADDENDA("true")};
static const char *const k_report_cols_run[] = {
    RC_CONTACTS("c.id IN (SELECT id FROM contacts WHERE " RC_IN_RUN(
        "permit_number") " UNION SELECT id FROM contacts "
                         "WHERE entity_id IN (SELECT entity_id FROM nightly_affected_entities))"),
    RC_INSPECTIONS(RC_IN_RUN("x.reference_number")), RC_ADDENDA(RC_IN_RUN("x.application_number"))};

/* The permit-number column of a dataset's rows that carry report columns, else NULL. */
static const char *report_permit_col(const sfp_ingest_dataset *ds)
{
    if (!strcmp(ds->table, "permits") || !strcmp(ds->table, "contacts")) return "permit_number";
    if (!strcmp(ds->table, "inspections")) return "reference_number";
    if (!strcmp(ds->table, "addenda")) return "application_number";
    return NULL;
}

static int report_columns(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *sts, size_t n, bool full)
{
    static const char *const what[] = {"nightly: report columns (contacts)", "nightly: report columns (inspections)",
                                       "nightly: report columns (addenda)"};
    long long written[3] = {0};
    if (!full) {
        sfp_buf b;
        sfp_buf_init(&b);
        sfp_buf_puts(&b, "CREATE TEMP TABLE nightly_report_permits ON COMMIT DROP AS SELECT NULL::text COLLATE \"C\" "
                         "AS permit_number WHERE false");
        for (size_t i = 0; i < n; i++) {
            const char *col = report_permit_col(sts[i].ds);
            if (col)
                sfp_buf_printf(&b, " UNION SELECT %s FROM nightly_stage_%s WHERE %s IS NOT NULL", col, sts[i].ds->name,
                               col);
        }
        int rc = step(r, c, "nightly: report columns", b.data, 0, NULL, NULL, NULL) ||
                 step(r, c, "nightly: report columns", "ANALYZE nightly_report_permits", 0, NULL, NULL, NULL);
        sfp_buf_free(&b);
        if (rc) return -1;
    }
    for (int i = 0; i < 3; i++)
        if (step(r, c, what[i], full ? k_report_cols_full[i] : k_report_cols_run[i], 0, NULL, &written[i], NULL))
            return -1;
    sfp_log(SFP_INFO, "nightly report columns", SFP_B("full", full), SFP_I("contacts", written[0]),
            SFP_I("inspections", written[1]), SFP_I("addenda", written[2]));
    return 0;
}

int sfp_derived_prepare(sfp_cron_run *r, sfp_conn *c)
{
    long long have = 0;
    if (step(r, c, "nightly: entity keys", "SELECT EXISTS (SELECT 1 FROM entity_keys)::int", 0, NULL, &have, NULL))
        return -1;
    if (have) return 0;
    return step(r, c, "nightly: adopt entity ids", k_bootstrap_keys, 0, NULL, NULL, NULL);
}

int sfp_derived_rebuild(sfp_cron_run *r, sfp_conn *c, const sfp_ingest_state *sts, size_t n, bool full,
                        sfp_derived_stats *out)
{
    memset(out, 0, sizeof *out);
    const char *pf[2] = {full ? "t" : "f", sfp_cron_today_param(r)};
    long long ignored = 0;
    /* parcels touched by this run: the (block, lot) of every staged row of a dataset that has them */
    sfp_buf ap;
    sfp_buf_init(&ap);
    sfp_buf_puts(&ap, "CREATE TEMP TABLE nightly_parcels ON COMMIT DROP AS SELECT NULL::text COLLATE \"C\" AS block, "
                      "NULL::text COLLATE \"C\" AS lot "
                      "WHERE false");
    for (size_t i = 0; i < n; i++) {
        bool block = false, lot = false;
        for (size_t k = 0; k < sts[i].ds->n_cols; k++) {
            block = block || !strcmp(sts[i].ds->cols[k].name, "block");
            lot = lot || !strcmp(sts[i].ds->cols[k].name, "lot");
        }
        if (block && lot)
            sfp_buf_printf(&ap,
                           " UNION SELECT block, lot FROM nightly_stage_%s WHERE block IS NOT NULL AND lot IS NOT NULL",
                           sts[i].ds->name);
    }
    sfp_buf ps;
    sfp_buf_init(&ps);
    for (const char *const *part = k_parcel_summary; *part; part++) sfp_buf_puts(&ps, *part);
    const char *ps_sql = ps.data;
    /* every dataset fetched in full: parcel_summary and timeline_stats are rebuilt and swapped */
    bool all_full = n > 0;
    for (size_t i = 0; i < n; i++) all_full = all_full && sts[i].full;
    int rc =
        step(r, c, "nightly: entity sequence", k_sync_seq, 0, NULL, NULL, NULL) ||
        step(r, c, "nightly: affected entities",
             "CREATE TEMP TABLE nightly_affected_entities (entity_id integer) ON COMMIT DROP", 0, NULL, NULL, NULL) ||
        step(r, c, "nightly: contact keys", k_contact_keys, 1, pf, NULL, NULL) ||
        step(r, c, "nightly: new entity keys", k_new_keys, 0, NULL, &out->entities_new, NULL) ||
        step(r, c, "nightly: contact resolution", k_assign, 0, NULL, &out->contacts_resolved, &ignored) ||
        (full && step(r, c, "nightly: affected entities",
                      "INSERT INTO nightly_affected_entities SELECT entity_id FROM entities UNION "
                      "SELECT entity_id FROM contacts WHERE entity_id IS NOT NULL",
                      0, NULL, NULL, NULL)) ||
        step(r, c, "nightly: affected entities", "ANALYZE nightly_affected_entities", 0, NULL, NULL, NULL) ||
        step(r, c, "nightly: entities", k_entities, 0, NULL, &out->entities, &out->entities_deleted) ||
        report_columns(r, c, sts, n, full);
    char live[256];
    sfp_buf sql;
    sfp_buf_init(&sql);
    int sw = rc || !all_full ? 0 : sfp_ingest_swap_derived(r, c, "parcel_summary", live, sizeof live);
    if (sw == 1) with_live(&sql, k_parcel_summary_rebuild, live);
    rc = rc || sw < 0 ||
         (sw == 1 ? step(r, c, "nightly: parcel_summary (rebuilt)", sql.data, 0, NULL, &out->parcel_summary,
                         &out->parcel_summary_deleted)
                  : step(r, c, "nightly: affected parcels", ap.data, 0, NULL, NULL, NULL) ||
                        step(r, c, "nightly: affected parcels", "ANALYZE nightly_parcels", 0, NULL, NULL, NULL) ||
                        step(r, c, "nightly: parcel_summary", ps_sql, 0, NULL, &out->parcel_summary,
                             &out->parcel_summary_deleted));
    sw = rc || !all_full ? 0 : sfp_ingest_swap_derived(r, c, "timeline_stats", live, sizeof live);
    sfp_buf_reset(&sql);
    if (sw == 1) with_live(&sql, k_timeline_rebuild, live);
    rc = rc || sw < 0 ||
         (sw == 1 ? step(r, c, "nightly: timeline_stats (rebuilt)", sql.data, 1, pf + 1, &out->timeline_stats,
                         &out->timeline_stats_deleted)
                  : step(r, c, "nightly: timeline_stats", k_timeline, 2, pf, &out->timeline_stats,
                         &out->timeline_stats_deleted));
    sfp_buf_free(&sql);
    sfp_buf_free(&ps);
    sfp_buf_free(&ap);
    if (rc) return -1;
    sfp_log(SFP_INFO, "nightly derived tables", SFP_B("full", full), SFP_I("entities_new", out->entities_new),
            SFP_I("contacts_resolved", out->contacts_resolved), SFP_I("entities", out->entities),
            SFP_I("parcel_summary", out->parcel_summary), SFP_I("timeline_stats", out->timeline_stats));
    return 0;
}
