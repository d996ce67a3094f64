/* cron_signals.c — RunSignals: the 12 signal detectors as set-based SQL over all parcels, then
 * permit_signals / property_signals / property_health and the severity v1 scores of watched
 * permits (common/severity.h) into severity_cache — all in ONE transaction:
 *
 *   BEGIN (statement_timeout = time left)
 *   upsert the 13-entry signal_types catalogue (ON CONFLICT DO UPDATE; never deleted, so the
 *     foreign keys of the child tables hold on every run — deleting it first would break them)
 *   CREATE TEMP TABLE cron_sig / cron_cand (ON COMMIT DROP)
 *   12 × (SAVEPOINT; INSERT INTO cron_sig SELECT <detector>; RELEASE) — a failing detector is
 *     rolled back to its savepoint and reported as −1, the others still count
 *   permit_signals, property_signals, property_health brought to the new sets by difference
 *     (k_write; tiers in SQL, the same rules as sfp_cron_tier)
 *   watched permits → sfp_severity_score → one INSERT … ON CONFLICT into severity_cache
 *   COMMIT
 *
 * Readers never see empty tables: until COMMIT they see the previous rows (MVCC; DELETE takes
 * no table lock that blocks readers, unlike TRUNCATE), afterwards the new ones. Running it twice
 * gives the same rows. work_mem is raised for the transaction (CRON_WORK_MEM). Dates are TEXT
 * 'YYYY-MM-DD...' and are compared on their first 10 characters against dates computed from $1
 * (today). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cron_internal.h"
#include "cron_jobs.h"
#include "log.h"
#include "severity.h"

/* today as a date (parameter $1, from sfp_cron_today_param) */
/* clang-format off */ /* SQL assembled from macros: kept as written */
#define TODAY "$1::date"
#define D(n) "(" TODAY " - " #n ")::text"
#define BLOCK_LOT(p) \
    "CASE WHEN coalesce(" p ".block, '') <> '' AND coalesce(" p ".lot, '') <> '' THEN " p ".block || '/' || " p \
    ".lot ELSE '' END"
#define OPEN_VIOLATION(v) "lower(" v ".status) NOT IN ('closed', 'complied', 'abated')"
#define REAL_RESULT "result IN ('PASSED', 'FAILED', 'DISAPPROVED')"

typedef struct detector {
    const char *name;
    const char *sql; /* INSERT INTO cron_sig (signal_type, permit_number, block_lot, detail) ... ; $1 = today */
} detector;

static const detector k_detectors[] = {
    {"hold_comments",
     "INSERT INTO cron_sig SELECT 'hold_comments', a.application_number, " BLOCK_LOT("p") ", "
     "'Issued Comments at station ' || coalesce(a.station, '?') "
     "FROM (SELECT application_number, station, review_results, row_number() OVER ("
     "  PARTITION BY application_number, station ORDER BY coalesce(finish_date, '9999-12-31') DESC, "
     "  coalesce(start_date, '9999-12-31') DESC, id DESC) AS rn "
     "  FROM addenda WHERE review_results IS NOT NULL AND review_results <> '') a "
     "LEFT JOIN permits p ON p.permit_number = a.application_number "
     "WHERE a.rn = 1 AND a.review_results = 'Issued Comments'"},
    {"hold_stalled_planning",
     "INSERT INTO cron_sig SELECT DISTINCT ON (a.application_number, a.station) 'hold_stalled_planning', "
     "a.application_number, " BLOCK_LOT("p") ", "
     "'Planning review at ' || a.station || ' open since ' || left(a.start_date, 10) "
     "FROM addenda a LEFT JOIN permits p ON p.permit_number = a.application_number "
     "WHERE a.station IN ('PPC', 'CP-ZOC', 'CPB') AND a.finish_date IS NULL "
     "AND coalesce(a.review_results, '') = '' AND a.start_date < " D(365) " "
     "ORDER BY a.application_number, a.station, a.start_date"},
    {"hold_stalled",
     "INSERT INTO cron_sig SELECT DISTINCT ON (a.application_number, a.station) 'hold_stalled', "
     "a.application_number, " BLOCK_LOT("p") ", "
     "'Review at ' || a.station || ' open since ' || left(a.start_date, 10) "
     "FROM addenda a LEFT JOIN permits p ON p.permit_number = a.application_number "
     "WHERE a.station IS NOT NULL AND a.station NOT IN ('PPC', 'CP-ZOC', 'CPB') AND a.finish_date IS NULL "
     "AND coalesce(a.review_results, '') = '' AND a.start_date >= " D(365) " "
     "AND a.start_date < " D(30) " AND a.start_date >= '2020-01-01' "
     "ORDER BY a.application_number, a.station, a.start_date"},
    {"nov",
     "INSERT INTO cron_sig SELECT 'nov', NULL, v.block || '/' || v.lot, count(*) || ' open notice(s) of violation' "
     "FROM violations v WHERE coalesce(v.block, '') <> '' AND coalesce(v.lot, '') <> '' AND " OPEN_VIOLATION("v") " "
     "GROUP BY v.block, v.lot"},
    {"abatement",
     "INSERT INTO cron_sig SELECT 'abatement', NULL, v.block || '/' || v.lot, "
     "count(*) || ' open abatement/hearing item(s)' "
     "FROM violations v WHERE coalesce(v.block, '') <> '' AND coalesce(v.lot, '') <> '' AND " OPEN_VIOLATION("v") " "
     "AND (lower(v.nov_category_description) LIKE '%abatement%' OR lower(v.nov_category_description) LIKE '%hearing%' "
     "OR lower(v.nov_category_description) LIKE '%director%')"
     "GROUP BY v.block, v.lot"},
    {"expired_uninspected",
     "INSERT INTO cron_sig SELECT 'expired_uninspected', permit_number, block_lot, "
     "'Expired after ' || real_n || ' inspections without a final' FROM cron_cand "
     "WHERE status = 'expired' AND real_n >= 4 AND final_n = 0"},
    {"stale_with_activity",
     "INSERT INTO cron_sig SELECT 'stale_with_activity', permit_number, block_lot, "
     "'Issued ' || issued || ', last inspection ' || last_real FROM cron_cand "
     "WHERE status = 'issued' AND issued < " D(730) " AND real_n >= 2 AND last_real >= " D(1825)},
    {"expired_minor_activity",
     "INSERT INTO cron_sig SELECT 'expired_minor_activity', permit_number, block_lot, "
     "'Expired with ' || real_n || ' inspection(s)' FROM cron_cand "
     "WHERE status = 'expired' AND real_n BETWEEN 1 AND 3"},
    {"expired_inconclusive",
     "INSERT INTO cron_sig SELECT 'expired_inconclusive', permit_number, block_lot, 'Expired without inspections' "
     "FROM cron_cand WHERE status = 'expired' AND coalesce(permit_type, '') <> '8' AND real_n = 0"},
    {"complaint",
     "INSERT INTO cron_sig SELECT 'complaint', NULL, c.block || '/' || c.lot, count(*) || ' open complaint(s)' "
     "FROM complaints c WHERE coalesce(c.block, '') <> '' AND coalesce(c.lot, '') <> '' "
     "AND lower(c.status) NOT IN ('closed', 'abated') "
     "AND NOT EXISTS (SELECT 1 FROM violations v WHERE v.block = c.block AND v.lot = c.lot AND " OPEN_VIOLATION("v")
     ") GROUP BY c.block, c.lot"},
    {"expired_otc",
     "INSERT INTO cron_sig SELECT 'expired_otc', permit_number, block_lot, 'Expired over-the-counter permit' "
     "FROM cron_cand WHERE status = 'expired' AND permit_type = '8' AND real_n = 0"},
    {"stale_no_activity",
     "INSERT INTO cron_sig SELECT 'stale_no_activity', permit_number, block_lot, "
     "'Issued ' || issued || ', no recent inspections' FROM cron_cand "
     "WHERE status = 'issued' AND issued < " D(730) " "
     "AND NOT (real_n >= 2 AND coalesce(last_real, '') >= " D(1825) ")"},
};
#define NDETECTORS (sizeof k_detectors / sizeof k_detectors[0])

/* Permits the expiry/staleness detectors look at, with their inspection aggregates. */
static const char k_candidates[] =
    "CREATE TEMP TABLE cron_cand ON COMMIT DROP AS "
    "SELECT p.permit_number, p.status, p.permit_type, p.issued, p.block_lot, coalesce(i.real_n, 0) AS real_n, "
    "coalesce(i.final_n, 0) AS final_n, i.last_real "
    "FROM (SELECT permit_number, lower(status) AS status, permit_type, left(issued_date, 10) AS issued, "
    "  " BLOCK_LOT("permits") " AS block_lot FROM permits WHERE lower(status) IN ('expired', 'issued')) p "
    "LEFT JOIN (SELECT reference_number, count(*) FILTER (WHERE " REAL_RESULT ") AS real_n, "
    "  count(*) FILTER (WHERE inspection_description ILIKE '%final%') AS final_n, "
    "  max(left(scheduled_date, 10)) FILTER (WHERE " REAL_RESULT ") AS last_real "
    "  FROM inspections WHERE reference_number IS NOT NULL GROUP BY reference_number) i "
    "ON i.reference_number = p.permit_number";

/* Bring the three tables to the new signal set (same transaction: readers keep the old rows
 * until COMMIT). Rows are replaced by difference, not wholesale: a signal present before and
 * after keeps its row (and its detected_at = first detection), only vanished signals are
 * deleted and new ones inserted, and a property_health row is rewritten only when its content
 * changed (computed_at = when it last changed). A nightly re-run thus touches a few rows
 * instead of ~800k, with their index and foreign-key work. The new sets hold distinct rows
 * (every detector emits one signal per permit/station/parcel), so a set difference is exact. */
static const char *const k_write[] = {
    "CREATE TEMP TABLE cron_ps ON COMMIT DROP AS SELECT DISTINCT s.permit_number, s.signal_type, "
    "t.default_severity AS severity, coalesce(s.detail, '') AS detail FROM cron_sig s "
    "JOIN signal_types t USING (signal_type) WHERE coalesce(s.permit_number, '') <> '' "
    "AND length(s.permit_number) <= 30",
    "CREATE TEMP TABLE cron_pps ON COMMIT DROP AS SELECT DISTINCT s.block_lot, s.signal_type, "
    "t.default_severity AS severity, coalesce(s.detail, '') AS detail, coalesce(s.permit_number, '') AS permit "
    "FROM cron_sig s JOIN signal_types t USING (signal_type) WHERE coalesce(s.block_lot, '') <> '' "
    "AND length(s.block_lot) <= 20 AND length(coalesce(s.permit_number, '')) <= 30",
    "CREATE TEMP TABLE cron_ph ON COMMIT DROP AS SELECT block_lot, CASE "
    "WHEN count(DISTINCT signal_type) FILTER (WHERE severity = 'at_risk' AND signal_type IN ("
    "'hold_comments', 'hold_stalled_planning', 'nov', 'abatement', 'expired_uninspected', "
    "'stale_with_activity')) >= 2 THEN 'high_risk' "
    "WHEN bool_or(severity = 'at_risk') THEN 'at_risk' WHEN bool_or(severity = 'behind') THEN 'behind' "
    "WHEN bool_or(severity = 'slower') THEN 'slower' ELSE 'on_track' END AS tier, "
    "count(*)::int AS signal_count, (count(*) FILTER (WHERE severity = 'at_risk'))::int AS at_risk_count, "
    "jsonb_agg(jsonb_build_object('type', signal_type, 'severity', severity, 'permit', nullif(permit, ''), "
    "'detail', nullif(detail, '')) ORDER BY CASE severity WHEN 'at_risk' THEN 0 WHEN 'behind' THEN 1 "
    "WHEN 'slower' THEN 2 ELSE 3 END, signal_type, permit, detail) AS signals_json "
    "FROM cron_pps GROUP BY block_lot",
    "ANALYZE cron_ps, cron_pps, cron_ph",
    "DELETE FROM permit_signals p WHERE NOT EXISTS (SELECT 1 FROM cron_ps n WHERE n.permit_number = p.permit_number "
    "AND n.signal_type = p.signal_type AND n.severity = p.severity AND n.detail = coalesce(p.detail, ''))",
    "INSERT INTO permit_signals (permit_number, signal_type, severity, detail) "
    "SELECT n.permit_number, n.signal_type, n.severity, nullif(n.detail, '') FROM cron_ps n "
    "WHERE NOT EXISTS (SELECT 1 FROM permit_signals p WHERE n.permit_number = p.permit_number "
    "AND n.signal_type = p.signal_type AND n.severity = p.severity AND n.detail = coalesce(p.detail, '')) "
    "ORDER BY n.permit_number, n.signal_type, n.detail",
    "DELETE FROM property_signals p WHERE NOT EXISTS (SELECT 1 FROM cron_pps n WHERE n.block_lot = p.block_lot "
    "AND n.signal_type = p.signal_type AND n.severity = p.severity AND n.detail = coalesce(p.detail, '') "
    "AND n.permit = coalesce(p.source_permit, ''))",
    "INSERT INTO property_signals (block_lot, signal_type, severity, detail, source_permit) "
    "SELECT n.block_lot, n.signal_type, n.severity, nullif(n.detail, ''), nullif(n.permit, '') FROM cron_pps n "
    "WHERE NOT EXISTS (SELECT 1 FROM property_signals p WHERE n.block_lot = p.block_lot "
    "AND n.signal_type = p.signal_type AND n.severity = p.severity AND n.detail = coalesce(p.detail, '') "
    "AND n.permit = coalesce(p.source_permit, '')) ORDER BY n.block_lot, n.signal_type, n.permit, n.detail",
    "DELETE FROM property_health h WHERE NOT EXISTS (SELECT 1 FROM cron_ph n WHERE n.block_lot = h.block_lot)",
    "INSERT INTO property_health AS h (block_lot, tier, signal_count, at_risk_count, signals_json, computed_at) "
    "SELECT block_lot, tier, signal_count, at_risk_count, signals_json, now() FROM cron_ph ORDER BY block_lot "
    "ON CONFLICT (block_lot) DO UPDATE SET tier = EXCLUDED.tier, signal_count = EXCLUDED.signal_count, "
    "at_risk_count = EXCLUDED.at_risk_count, signals_json = EXCLUDED.signals_json, computed_at = now() "
    "WHERE (h.tier, h.signal_count, h.at_risk_count, h.signals_json) IS DISTINCT FROM "
    "(EXCLUDED.tier, EXCLUDED.signal_count, EXCLUDED.at_risk_count, EXCLUDED.signals_json)",
};
#define NWRITE (sizeof k_write / sizeof k_write[0])

static const char k_stats[] =
    "SELECT (SELECT count(*) FROM cron_sig), (SELECT count(*) FROM permit_signals), "
    "(SELECT count(*) FROM property_signals), (SELECT count(*) FROM property_health), "
    "(SELECT count(*) FROM signal_types)";

/* Watched permits of active users (permit, parcel and address watches) with inspection counts. */
static const char k_watched[] =
    "WITH w AS (SELECT w.* FROM watch_items w JOIN users u ON u.user_id = w.user_id "
    "  WHERE w.is_active AND u.is_active), "
    "wp AS (SELECT p.permit_number FROM w JOIN permits p ON w.watch_type = 'permit' AND p.permit_number = w.permit_number "
    "  UNION SELECT p.permit_number FROM w JOIN permits p ON w.watch_type = 'parcel' AND p.block = w.block "
    "    AND p.lot = w.lot "
    "  UNION SELECT p.permit_number FROM w JOIN permits p ON w.watch_type = 'address' "
    "    AND p.street_number = w.street_number AND upper(p.street_name) = upper(w.street_name)) "
    "SELECT p.permit_number, p.status, p.permit_type_definition, p.description, p.filed_date, p.issued_date, "
    "  p.completed_date, p.status_date, p.estimated_cost, p.revised_cost, "
    "  (SELECT count(*) FROM inspections i WHERE i.reference_number = p.permit_number), "
    "  (" TODAY ")::text "
    "FROM wp JOIN permits p USING (permit_number) WHERE length(p.permit_number) <= 30 ORDER BY p.permit_number";

static const char k_severity_upsert[] =
    "INSERT INTO severity_cache (permit_number, score, tier, drivers, computed_at) "
    "SELECT x.permit_number, x.score, x.tier, x.drivers, now() FROM jsonb_to_recordset($1::jsonb) "
    "  AS x(permit_number text, score int, tier text, drivers jsonb) "
    "ON CONFLICT (permit_number) DO UPDATE SET score = EXCLUDED.score, tier = EXCLUDED.tier, "
    "  drivers = EXCLUDED.drivers, computed_at = EXCLUDED.computed_at";
/* clang-format on */

static int upsert_catalog(sfp_cron_run *r, sfp_conn *c, sfp_err *err)
{
    size_t n;
    const sfp_cron_signal_type *cat = sfp_cron_signal_catalog(&n);
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) sfp_buf_putc(&b, ',');
        sfp_buf_puts(&b, "{\"signal_type\":");
        sfp_buf_json_str(&b, cat[i].type);
        sfp_buf_puts(&b, ",\"default_severity\":");
        sfp_buf_json_str(&b, cat[i].severity);
        sfp_buf_puts(&b, ",\"source_dataset\":");
        sfp_buf_json_str(&b, cat[i].source);
        sfp_buf_puts(&b, ",\"actionable\":");
        sfp_buf_json_str(&b, cat[i].actionable);
        sfp_buf_puts(&b, ",\"description\":");
        sfp_buf_json_str(&b, cat[i].description);
        sfp_buf_putc(&b, '}');
    }
    sfp_buf_putc(&b, ']');
    const char *p[1] = {b.data};
    int rc = sfp_db_exec(c,
                         "INSERT INTO signal_types (signal_type, default_severity, source_dataset, actionable, "
                         "description) SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(signal_type text, "
                         "default_severity text, source_dataset text, actionable text, description text) "
                         "ON CONFLICT (signal_type) DO UPDATE SET default_severity = EXCLUDED.default_severity, "
                         "source_dataset = EXCLUDED.source_dataset, actionable = EXCLUDED.actionable, "
                         "description = EXCLUDED.description WHERE (signal_types.default_severity, "
                         "signal_types.source_dataset, signal_types.actionable, signal_types.description) "
                         "IS DISTINCT FROM (EXCLUDED.default_severity, EXCLUDED.source_dataset, "
                         "EXCLUDED.actionable, EXCLUDED.description)",
                         1, p, err);
    sfp_buf_free(&b);
    if (rc) return sfp_cron_fail_db(r, "signal_types", err);
    return 0;
}

/* Scores every watched permit and upserts severity_cache; returns the rows written or -1. */
static long long score_watched(sfp_cron_run *r, sfp_conn *c, const char *today, sfp_err *err)
{
    const char *p[1] = {today};
    if (sfp_cron_tick(r, c, err)) return sfp_cron_fail_db(r, "severity: watched permits", err);
    PGresult *res = sfp_db_query(c, k_watched, 1, p, err);
    if (!res) return sfp_cron_fail_db(r, "severity: watched permits", err);
    int n = PQntuples(res);
    int32_t day = n ? sfp_sev_parse_day(PQgetvalue(res, 0, 11)) : 0;
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_putc(&b, '[');
    for (int i = 0; i < n; i++) {
        sfp_sev_input in = {
            .permit_number = PQgetvalue(res, i, 0),
            .status = PQgetvalue(res, i, 1),
            .permit_type_definition = PQgetvalue(res, i, 2),
            .description = PQgetvalue(res, i, 3),
            .filed_day = sfp_sev_parse_day(PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4)),
            .issued_day = sfp_sev_parse_day(PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5)),
            .completed_day = sfp_sev_parse_day(PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6)),
            .status_day = sfp_sev_parse_day(PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7)),
            .estimated_cost = PQgetisnull(res, i, 8) ? 0 : strtod(PQgetvalue(res, i, 8), NULL),
            .has_revised_cost = !PQgetisnull(res, i, 9),
            .revised_cost = PQgetisnull(res, i, 9) ? 0 : strtod(PQgetvalue(res, i, 9), NULL),
            .inspection_count = (int)sfp_cron_ll(res, i, 10),
        };
        sfp_sev_result sr;
        sfp_severity_score(&in, day, &sr);
        if (i) sfp_buf_putc(&b, ',');
        sfp_buf_puts(&b, "{\"permit_number\":");
        sfp_buf_json_str(&b, in.permit_number);
        sfp_buf_printf(&b, ",\"score\":%d,\"tier\":", sr.score);
        sfp_buf_json_str(&b, sr.tier);
        sfp_buf_puts(&b, ",\"drivers\":{");
        for (int d = 0; d < SFP_SEV_DIM_COUNT; d++)
            sfp_buf_printf(&b, "%s\"%s\":%.1f", d ? "," : "", sfp_sev_dim_name((sfp_sev_dim)d), sr.dims[d]);
        sfp_buf_puts(&b, ",\"category\":");
        sfp_buf_json_str(&b, sfp_sev_category_name(sr.category));
        sfp_buf_puts(&b, ",\"top_driver\":");
        sfp_buf_json_str(&b, sfp_sev_dim_name(sr.top_driver));
        sfp_buf_puts(&b, ",\"confidence\":");
        sfp_buf_json_str(&b, sr.confidence);
        sfp_buf_puts(&b, "}}");
    }
    sfp_buf_putc(&b, ']');
    PQclear(res);
    /* Always run the statement (also with no rows) so the table is touched the same way. */
    const char *up[1] = {b.data};
    int rc = sfp_cron_tick(r, c, err) ? -1 : sfp_db_exec(c, k_severity_upsert, 1, up, err);
    sfp_buf_free(&b);
    if (rc) return sfp_cron_fail_db(r, "severity_cache", err);
    return n;
}

static Sfpermits__V1__SignalsResult__TierDistributionEntry *tier_entry(sfp_arena *a, const char *k, int64_t v)
{
    Sfpermits__V1__SignalsResult__TierDistributionEntry *e =
        sfp_arena_msg(a, &sfpermits__v1__signals_result__tier_distribution_entry__descriptor);
    e->key = sfp_arena_strdup(a, k);
    e->value = v;
    return e;
}

static int signals_job(sfp_cron_run *r, const Sfpermits__V1__RunSignalsRequest *req, Sfpermits__V1__SignalsResult *res)
{
    (void)req;
    sfp_err err = {0};
    sfp_conn *c = sfp_cron_acquire(r, &err);
    if (!c) return sfp_cron_fail_db(r, "signals", &err);
    const char *today = sfp_cron_today_param(r);
    const char *p1[1] = {today};
    if (sfp_cron_begin(r, c, &err)) {
        sfp_pool_release(r->svc->pool, c);
        return sfp_cron_fail_db(r, "signals", &err);
    }
    if (upsert_catalog(r, c, &err)) goto fail;
    if (sfp_db_exec(c,
                    "CREATE TEMP TABLE cron_sig (signal_type text NOT NULL, permit_number text, block_lot text, "
                    "detail text) ON COMMIT DROP",
                    0, NULL, &err) ||
        sfp_cron_tick(r, c, &err) || sfp_db_exec(c, k_candidates, 0, NULL, &err)) {
        sfp_cron_fail_db(r, "signals: candidates", &err);
        goto fail;
    }
    /* detectors */
    res->n_detectors = NDETECTORS;
    res->detectors = sfp_arena_alloc(r->arena, sizeof(*res->detectors) * NDETECTORS);
    for (size_t i = 0; i < NDETECTORS; i++) {
        Sfpermits__V1__SignalsResult__DetectorsEntry *e =
            sfp_arena_msg(r->arena, &sfpermits__v1__signals_result__detectors_entry__descriptor);
        e->key = (char *)k_detectors[i].name;
        res->detectors[i] = e;
        if (sfp_db_exec(c, "SAVEPOINT detector", 0, NULL, &err)) {
            sfp_cron_fail_db(r, "signals", &err);
            goto fail;
        }
        if (sfp_cron_tick(r, c, &err)) {
            sfp_cron_fail_db(r, k_detectors[i].name, &err);
            goto fail;
        }
        bool uses_today = strstr(k_detectors[i].sql, "$1") != NULL;
        PGresult *dr = sfp_db_query(c, k_detectors[i].sql, uses_today ? 1 : 0, uses_today ? p1 : NULL, &err);
        if (dr) {
            e->value = strtoll(PQcmdTuples(dr), NULL, 10);
            PQclear(dr);
            if (sfp_db_exec(c, "RELEASE SAVEPOINT detector", 0, NULL, &err)) {
                sfp_cron_fail_db(r, "signals", &err);
                goto fail;
            }
        } else {
            if (err.code == SFP_DEADLINE_EXCEEDED || err.code == SFP_UNAVAILABLE) {
                sfp_cron_fail_db(r, k_detectors[i].name, &err);
                goto fail;
            }
            e->value = -1;
            sfp_log(SFP_WARN, "signal detector failed; continuing", SFP_S("detector", k_detectors[i].name),
                    SFP_S("error", err.msg));
            if (sfp_db_exec(c, "ROLLBACK TO SAVEPOINT detector", 0, NULL, &err)) {
                sfp_cron_fail_db(r, "signals", &err);
                goto fail;
            }
        }
    }
    for (size_t i = 0; i < NWRITE; i++)
        if (sfp_cron_tick(r, c, &err) || sfp_db_exec(c, k_write[i], 0, NULL, &err)) {
            sfp_cron_fail_db(r, "signals: write", &err);
            goto fail;
        }
    PGresult *st = sfp_db_query(c, k_stats, 0, NULL, &err);
    if (!st) {
        sfp_cron_fail_db(r, "signals: stats", &err);
        goto fail;
    }
    res->total_signals = sfp_cron_ll(st, 0, 0);
    res->permit_signals = sfp_cron_ll(st, 0, 1);
    res->property_signals = sfp_cron_ll(st, 0, 2);
    res->property_health = sfp_cron_ll(st, 0, 3);
    res->signal_types = sfp_cron_ll(st, 0, 4);
    PQclear(st);
    PGresult *tiers =
        sfp_db_query(c, "SELECT tier, count(*) FROM property_health GROUP BY tier ORDER BY tier", 0, NULL, &err);
    if (!tiers) {
        sfp_cron_fail_db(r, "signals: tiers", &err);
        goto fail;
    }
    /* every tier is present (0 when none), so distributions compare key by key */
    static const char *const k_tiers[] = {"high_risk", "at_risk", "behind", "slower", "on_track"};
    res->n_tier_distribution = 5;
    res->tier_distribution = sfp_arena_alloc(r->arena, sizeof(*res->tier_distribution) * 5);
    for (size_t t = 0; t < 5; t++) {
        int64_t v = 0;
        for (int i = 0; i < PQntuples(tiers); i++)
            if (!strcmp(PQgetvalue(tiers, i, 0), k_tiers[t])) v = sfp_cron_ll(tiers, i, 1);
        res->tier_distribution[t] = tier_entry(r->arena, k_tiers[t], v);
    }
    PQclear(tiers);
    long long scored = score_watched(r, c, today, &err);
    if (scored < 0) goto fail;
    res->severity_cache = scored;
    if (sfp_db_exec(c, "COMMIT", 0, NULL, &err)) {
        sfp_cron_fail_db(r, "signals: commit", &err);
        goto fail;
    }
    sfp_pool_release(r->svc->pool, c);
    return 0;
fail:
    sfp_cron_rollback(c);
    sfp_pool_release(r->svc->pool, c);
    return -1;
}

static int signals_fn(sfp_cron_run *r, const ProtobufCMessage *req, ProtobufCMessage *res)
{
    return signals_job(r, (const Sfpermits__V1__RunSignalsRequest *)req, (Sfpermits__V1__SignalsResult *)res);
}

const sfp_cron_job_def sfp_cron_signals_def = {SFP_CRON_JOB_SIGNALS, &sfpermits__v1__run_signals_request__descriptor,
                                               &sfpermits__v1__signals_result__descriptor, signals_fn, true};
