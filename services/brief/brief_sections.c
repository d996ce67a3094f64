/* brief_sections.c — see brief_sections.h. Every statement is parameterised: $1 = user_id,
 * $2 = since (ISO date), $3 = today (ISO date) where used. */
#include "brief_sections.h"

#include <grpc/status.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brief_rules.h"
#include "civil_date.h"
#include "clock.h"
#include "db_error.h"
#include "db_prep.h"
#include "log.h"
#include "permit_status.h"
#include "pbjson.h"

/* clang-format off */ /* SQL assembled from macros: kept as written */
#define TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The caller's active watches; street names upper-cased once for the address joins. */
#define W_CTE                                                                                                       \
    "w AS (SELECT watch_id, watch_type, permit_number, street_number, upper(street_name) AS street_name, block, "  \
    "lot, neighborhood, coalesce(label, '') AS label FROM watch_items WHERE user_id = $1 AND is_active)"
/* Permit watches, one row per permit number (lowest watch_id wins the label). */
#define WP_CTE                                                                                                      \
    "wp AS (SELECT DISTINCT ON (permit_number) permit_number, coalesce(label, '') AS label FROM watch_items "     \
    "WHERE user_id = $1 AND is_active AND watch_type = 'permit' AND permit_number IS NOT NULL "                   \
    "ORDER BY permit_number, watch_id)"

static const char SQL_WATCHES[] = "SELECT count(*) FROM watch_items WHERE user_id = $1 AND is_active";

#define PC_COLS                                                                                                     \
    "w.watch_id, w.label, pc.change_id, pc.permit_number, pc.change_date, pc.old_status, pc.new_status, "         \
    "pc.change_type, pc.permit_type, pc.street_number, pc.street_name, pc.neighborhood, pc.block, pc.lot"

/* changes: permit, address, parcel and neighborhood (≤20) watches; dedup (permit, date,
 * new_status) keeping the most specific watch; newest first, ≤100. */
static const char SQL_CHANGES[] =
    "WITH " W_CTE ", m AS ("
    " SELECT 1 AS ord, 'permit'::text AS wt, " PC_COLS " FROM w JOIN permit_changes pc ON pc.permit_number = w.permit_number"
    "  WHERE w.watch_type = 'permit' AND pc.change_date >= $2::date AND NOT pc.is_new_permit"
    " UNION ALL"
    " SELECT 2, 'address', " PC_COLS " FROM w JOIN permit_changes pc ON pc.street_number = w.street_number"
    "  AND upper(pc.street_name) = w.street_name"
    "  WHERE w.watch_type = 'address' AND pc.change_date >= $2::date AND NOT pc.is_new_permit"
    " UNION ALL"
    " SELECT 3, 'parcel', " PC_COLS " FROM w JOIN permit_changes pc ON pc.block = w.block AND pc.lot = w.lot"
    "  WHERE w.watch_type = 'parcel' AND pc.change_date >= $2::date AND NOT pc.is_new_permit"
    " UNION ALL"
    " (SELECT 4, 'neighborhood', " PC_COLS " FROM w JOIN permit_changes pc ON pc.neighborhood = w.neighborhood"
    "  WHERE w.watch_type = 'neighborhood' AND pc.change_date >= $2::date AND NOT pc.is_new_permit"
    "  ORDER BY pc.change_date DESC, pc.change_id DESC LIMIT 20)"
    "), d AS (SELECT DISTINCT ON (permit_number, change_date, new_status) * FROM m"
    " ORDER BY permit_number, change_date, new_status, ord, watch_id)"
    " SELECT permit_number, change_date::text, old_status, new_status, change_type, permit_type, street_number,"
    " street_name, neighborhood, block, lot, label, wt FROM d"
    " ORDER BY change_date DESC, ord, permit_number, change_id DESC LIMIT 100";

/* new_filings: is_new_permit rows at watched addresses, parcels, neighborhoods (≤20). */
static const char SQL_NEW_FILINGS[] =
    "WITH " W_CTE ", m AS ("
    " SELECT 1 AS ord, 'address'::text AS wt, " PC_COLS " FROM w JOIN permit_changes pc ON pc.street_number = w.street_number"
    "  AND upper(pc.street_name) = w.street_name"
    "  WHERE w.watch_type = 'address' AND pc.change_date >= $2::date AND pc.is_new_permit"
    " UNION ALL"
    " SELECT 2, 'parcel', " PC_COLS " FROM w JOIN permit_changes pc ON pc.block = w.block AND pc.lot = w.lot"
    "  WHERE w.watch_type = 'parcel' AND pc.change_date >= $2::date AND pc.is_new_permit"
    " UNION ALL"
    " (SELECT 3, 'neighborhood', " PC_COLS " FROM w JOIN permit_changes pc ON pc.neighborhood = w.neighborhood"
    "  WHERE w.watch_type = 'neighborhood' AND pc.change_date >= $2::date AND pc.is_new_permit"
    "  ORDER BY pc.change_date DESC, pc.change_id DESC LIMIT 20)"
    "), d AS (SELECT DISTINCT ON (permit_number, change_date) * FROM m ORDER BY permit_number, change_date, ord, watch_id)"
    " SELECT permit_number, change_date::text, new_status, permit_type, street_number, street_name, neighborhood,"
    " label, wt FROM d ORDER BY change_date DESC, ord, permit_number LIMIT 50";

#define AC_COLS                                                                                                     \
    "w.watch_id, w.label, ac.change_id, ac.application_number, ac.change_date, ac.station, ac.plan_checked_by, "  \
    "ac.new_review_results, ac.hold_description, ac.change_type, ac.department, ac.finish_date, ac.permit_type, " \
    "ac.street_number, ac.street_name, ac.neighborhood"
#define LATEST_ADDENDA(app)                                                                                         \
    "a.application_number = " app " AND a.addenda_number IS NOT DISTINCT FROM (SELECT max(a2.addenda_number) "    \
    "FROM addenda a2 WHERE a2.application_number = " app ")"

/* plan_reviews: addenda_changes on watched permits (≤50), addresses (≤30), parcels (≤30);
 * dedup (permit, station, date); routing progress of the permit's latest addenda round,
 * the station's v1 median label, the most likely next station and v2 p50 estimates. */
static const char SQL_PLAN_REVIEWS_1[] =
    "WITH " W_CTE ", m AS ("
    " (SELECT 1 AS ord, 'permit'::text AS wt, " AC_COLS " FROM w JOIN addenda_changes ac"
    "  ON ac.application_number = w.permit_number WHERE w.watch_type = 'permit' AND ac.change_date >= $2::date"
    "  ORDER BY ac.change_date DESC, ac.change_id DESC LIMIT 50)"
    " UNION ALL"
    " (SELECT 2, 'address', " AC_COLS " FROM w JOIN addenda_changes ac ON ac.street_number = w.street_number"
    "  AND upper(ac.street_name) = w.street_name WHERE w.watch_type = 'address' AND ac.change_date >= $2::date"
    "  ORDER BY ac.change_date DESC, ac.change_id DESC LIMIT 30)"
    " UNION ALL"
    " (SELECT 3, 'parcel', " AC_COLS " FROM w JOIN addenda_changes ac ON ac.block = w.block AND ac.lot = w.lot"
    "  WHERE w.watch_type = 'parcel' AND ac.change_date >= $2::date"
    "  ORDER BY ac.change_date DESC, ac.change_id DESC LIMIT 30)"
    ")";
/* (one statement in two literals: C compilers need only support 4095-character literals) */
static const char SQL_PLAN_REVIEWS_2[] =
    ", d AS (SELECT DISTINCT ON (application_number, station, change_date) * FROM m"
    " ORDER BY application_number, station, change_date, ord, watch_id),"
    " apps AS (SELECT DISTINCT application_number FROM d),"
    " rp AS (SELECT x.application_number, r.total, r.completed, r.pending FROM apps x CROSS JOIN LATERAL ("
    "  SELECT count(*) AS total, count(*) FILTER (WHERE coalesce(a.finish_date, '') <> '') AS completed,"
    "  string_agg(a.station, E'\\x1f' ORDER BY a.step, a.station) FILTER (WHERE coalesce(a.finish_date, '') = '') AS pending"
    "  FROM addenda a WHERE " LATEST_ADDENDA("x.application_number") ") r),"
    " sv AS (SELECT DISTINCT ON (station) station, median_days FROM station_velocity"
    "  WHERE station IN (SELECT station FROM d) ORDER BY station, baseline_date DESC),"
    " nx AS (SELECT DISTINCT ON (from_station) from_station, to_station FROM station_transitions"
    "  WHERE permit_type_bucket = 'all' AND from_station IN (SELECT station FROM d)"
    "  ORDER BY from_station, probability DESC NULLS LAST, transition_count DESC NULLS LAST, to_station),"
    " v2 AS (SELECT DISTINCT ON (station) station, p50_days FROM station_velocity_v2"
    "  WHERE metric_type = 'initial' AND period IN ('current', 'baseline') AND p50_days IS NOT NULL"
    "  ORDER BY station, (period = 'current') DESC),"
    " rem AS (SELECT x.application_number, sum(v2.p50_days) AS days FROM apps x"
    "  JOIN addenda a ON " LATEST_ADDENDA("x.application_number") " AND coalesce(a.finish_date, '') = ''"
    "  JOIN v2 ON v2.station = a.station GROUP BY x.application_number)"
    " SELECT d.application_number, d.change_date::text, d.station, d.plan_checked_by, d.new_review_results,"
    " left(d.hold_description, 120), d.change_type, d.department, d.finish_date, d.permit_type, d.street_number,"
    " d.street_name, d.neighborhood, d.label, d.wt, rp.total, rp.completed, sv.median_days::float8, nx.to_station,"
    " v2n.p50_days, rem.days, rp.pending"
    " FROM d LEFT JOIN rp ON rp.application_number = d.application_number"
    " LEFT JOIN sv ON sv.station = d.station LEFT JOIN nx ON nx.from_station = d.station"
    " LEFT JOIN v2 v2n ON v2n.station = nx.to_station LEFT JOIN rem ON rem.application_number = d.application_number"
    " ORDER BY d.change_date DESC, d.ord, d.application_number, d.station LIMIT 110";

/* inspections on watched permits since `since`, newest first, ≤50. */
static const char SQL_INSPECTIONS[] =
    "WITH " WP_CTE " SELECT i.reference_number, i.scheduled_date, i.result, i.inspection_description, i.inspector,"
    " wp.label FROM wp JOIN inspections i ON i.reference_number = wp.permit_number"
    " WHERE i.scheduled_date >= $2 ORDER BY i.scheduled_date DESC, i.id DESC LIMIT 50";

/* expiring candidates: watched permits issued and not completed/closed (Table B in C). */
static const char SQL_EXPIRING[] =
    "WITH " WP_CTE " SELECT p.permit_number, p.issued_date, p.status, p.permit_type_definition, p.street_number,"
    " p.street_name, p.neighborhood, wp.label, p.estimated_cost, p.revised_cost"
    " FROM wp JOIN permits p ON p.permit_number = wp.permit_number"
    " WHERE coalesce(p.issued_date, '') <> '' AND coalesce(p.completed_date, '') = ''"
    " AND lower(coalesce(p.status, '')) NOT IN ('complete', 'completed', 'expired', 'cancelled', 'withdrawn')"
    " ORDER BY p.issued_date, p.permit_number LIMIT 500";

/* the permit columns a card reads (the rows are sorted twice: the narrower the cheaper) */
#define CARD_COLS                                                                                                   \
    "p.permit_number, p.status, p.status_date, p.filed_date, p.issued_date, p.completed_date, p.description, "     \
    "p.permit_type_definition, p.estimated_cost, p.revised_cost, p.street_number, p.street_name, p.street_suffix, " \
    "p.block, p.lot, p.neighborhood, p.permit_type"
/* The permits a watch brings in (w: W_CTE, p: permits): per watch type, the join condition and the
 * type filter, shared by the card rows and their parcels' facts so both read the same permits. */
#define ON_PERMIT_WATCH "p.permit_number = w.permit_number WHERE w.watch_type = 'permit'"
#define ON_PARCEL_WATCH "p.block = w.block AND p.lot = w.lot WHERE w.watch_type = 'parcel'"
#define ON_ADDRESS_WATCH                                                                                            \
    "p.street_number = w.street_number AND upper(p.street_name) = w.street_name WHERE w.watch_type = 'address'"
/* property cards: every permit at a watched parcel / address plus watched permits (≤500,
 * newest status first) with inspection counts of the active ones (the severity v1 input) and
 * the routing of filed permits (latest addenda round, pending stations with arrival, hold and
 * v1 median). Their parcels' facts come from SQL_PROPERTY_PARCELS, run on the other lane. */
static const char SQL_PROPERTY[] =
    "WITH " W_CTE ", t0 AS ("
    " SELECT 3 AS ord, w.watch_id, w.label AS wlabel, " CARD_COLS " FROM w JOIN permits p ON " ON_PERMIT_WATCH
    " UNION ALL SELECT 2, w.watch_id, w.label, " CARD_COLS " FROM w JOIN permits p ON " ON_PARCEL_WATCH
    " UNION ALL SELECT 1, w.watch_id, w.label, " CARD_COLS " FROM w JOIN permits p ON " ON_ADDRESS_WATCH
    "), t1 AS (SELECT DISTINCT ON (permit_number) * FROM t0 ORDER BY permit_number, ord, watch_id),"
    " t AS (SELECT * FROM t1 ORDER BY status_date DESC NULLS LAST, permit_number LIMIT 500)"
    " SELECT t.permit_number, t.status, t.status_date, t.filed_date, t.issued_date, t.completed_date, t.description,"
    " t.permit_type_definition, t.estimated_cost, t.revised_cost, t.street_number, t.street_name, t.street_suffix,"
    " t.block, t.lot, t.neighborhood, t.wlabel, t.ord,"
    " CASE WHEN lower(coalesce(t.status, '')) = ANY (" SFP_PERMITS_ON_CLOCK_SQL ") THEN"
    "  (SELECT count(*) FROM inspections i WHERE i.reference_number = t.permit_number) ELSE 0 END," /* severity input */
    " CASE WHEN lower(coalesce(t.status, '')) = ANY (" SFP_PERMITS_CARD_ROUTING_SQL ") THEN" /* only read for those */
    " (SELECT json_build_object('total', count(*),"
    "   'completed', count(*) FILTER (WHERE coalesce(a.finish_date, '') <> ''),"
    "   'pending', coalesce(json_agg(json_build_object('station', a.station, 'arrive', a.arrive,"
    "     'hold', coalesce(btrim(a.hold_description), '') <> '', 'median', sv.median_days::float8) ORDER BY a.step, a.station)"
    "     FILTER (WHERE coalesce(a.finish_date, '') = ''), '[]'::json))::text"
    "  FROM addenda a LEFT JOIN LATERAL (SELECT s.median_days FROM station_velocity s WHERE s.station = a.station"
    "   ORDER BY s.baseline_date DESC LIMIT 1) sv ON true"
    "  WHERE " LATEST_ADDENDA("t.permit_number") ") END,"
    " t.permit_type"
    " FROM t ORDER BY t.status_date DESC NULLS LAST, t.permit_number";
/* the cards' parcel facts: open violations and complaints and property_health of every parcel
 * a card row can come from (watched parcels, the parcels of watched permits and of the permits
 * at watched addresses — a superset of the cards' parcels, read by parcel, not per permit row) */
static const char SQL_PROPERTY_PARCELS[] =
    "WITH " W_CTE ", pa AS ("
    " SELECT block, lot FROM w WHERE watch_type = 'parcel' AND block IS NOT NULL AND lot IS NOT NULL"
    " UNION SELECT p.block, p.lot FROM w JOIN permits p ON " ON_PERMIT_WATCH " AND p.block IS NOT NULL AND p.lot IS NOT NULL"
    " UNION SELECT p.block, p.lot FROM w JOIN permits p ON " ON_ADDRESS_WATCH " AND p.block IS NOT NULL AND p.lot IS NOT NULL)"
    " SELECT pa.block, pa.lot,"
    " (SELECT count(*) FROM violations v WHERE v.block = pa.block AND v.lot = pa.lot AND lower(v.status) = 'open'),"
    " (SELECT count(*) FROM complaints c WHERE c.block = pa.block AND c.lot = pa.lot AND lower(c.status) = 'open'),"
    " ph.tier, coalesce(ph.signal_count, 0), coalesce(ph.at_risk_count, 0), ph.signals_json::text"
    " FROM pa LEFT JOIN property_health ph ON ph.block_lot = pa.block || '/' || pa.lot";

/* last_refresh: the latest successful nightly run (its start time) + permit changes detected
 * in 24 h. */
static const char SQL_LAST_REFRESH[] =
    "SELECT " TS("started_at") ","
    " round((EXTRACT(EPOCH FROM now() - started_at) / 3600.0)::numeric, 1)::float8,"
    " was_catchup, inspections_updated,"
    " (SELECT count(*) FROM permit_changes WHERE detected_at >= now() - interval '24 hours'),"
    " to_char(started_at AT TIME ZONE 'UTC', 'Mon DD')"
    " FROM cron_log WHERE job_type = 'nightly' AND status = 'success' ORDER BY started_at DESC LIMIT 1";

/* pipeline_health: the inputs of the four checks in one round trip. */
static const char SQL_PIPELINE_HEALTH[] =
    "SELECT (SELECT EXTRACT(EPOCH FROM now() - max(started_at)) / 3600.0 FROM cron_log"
    "        WHERE job_type = 'nightly' AND status = 'success'),"
    " (SELECT left(max(data_as_of), 10) FROM addenda),"
    " (SELECT count(*) FROM cron_log WHERE status = 'running' AND started_at < now() - interval '120 minutes'),"
    " (SELECT count(*) FROM cron_log WHERE status = 'failed' AND started_at > now() - interval '48 hours')";

/* pipeline_stats: last 5 nightly rows (any status) + 24 h counts over every job type. */
static const char SQL_PIPELINE_STATS[] =
    "WITH r AS (SELECT log_id, job_type, status, started_at, completed_at FROM cron_log WHERE job_type = 'nightly'"
    "  ORDER BY started_at DESC, log_id DESC LIMIT 5),"
    " c AS (SELECT count(*) FILTER (WHERE status = 'success') AS s, count(*) FILTER (WHERE status = 'failed') AS f,"
    "  count(*) AS n FROM cron_log WHERE started_at >= now() - interval '24 hours')"
    " SELECT c.s, c.f, c.n, r.log_id, r.job_type, r.status, " TS("r.started_at") ", " TS("r.completed_at") ","
    " round(EXTRACT(EPOCH FROM r.completed_at - r.started_at)::numeric, 2)::float8"
    " FROM c LEFT JOIN r ON true ORDER BY r.started_at DESC NULLS LAST, r.log_id DESC";
/* health (predictability): watched active permits against days_to_issuance of comparable
 * permits issued in the 365 days before today ($2), widening until >= 10 samples. The
 * UNION ALL under LIMIT 1 runs its branches in order and stops at the first that returns a
 * row, so the wider (costlier) comparables are only read when the narrower ones are too few. */
#define TS_BASE                                                                                                     \
    "FROM timeline_stats t WHERE NOT (SELECT ok FROM pre) AND t.review_path = p.path AND t.issued > $2::date - 365 AND t.issued <= $2::date"    \
    " AND t.days_to_issuance IS NOT NULL"
/* trade permits (electrical, plumbing, mechanical) are no comparables: tested once on the
 * permit's own type where the comparables share it, per row where they do not */
#define TS_TRADE(col) " AND " col " !~* '(electrical|plumbing|mechanical)'"
#define TS_PCT "count(*), percentile_disc(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY t.days_to_issuance)"
/* The same benchmarks precomputed for the day (brief_benchmarks: the nightly fills it for its
 * day after rebuilding timeline_stats, in the same transaction, sfp-seed after its load; any
 * other write to timeline_stats empties it): one primary-key probe per level instead of the
 * comparables' percentiles. Used only when rows exist for today ($2); otherwise the live
 * branches below compute the same groups. lvl: 1 neighborhood+cost+type, 2 cost+type, 3 type,
 * 4 review_path; a key a level does not use is ''. Trade types are never stored at levels 1-3,
 * so a trade permit only finds level 4, as live. */
#define BM_BASE(lvl) "FROM brief_benchmarks m WHERE (SELECT ok FROM pre) AND m.day = $2::date AND m.review_path = p.path" \
    " AND m.lvl = " lvl
/* (p is MATERIALIZED: each permit's cost bracket and review path are computed once, not once
 * per comparable the index scan reads) */
static const char SQL_HEALTH[] =
    "WITH " WP_CTE ", pre AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM brief_benchmarks WHERE day = $2::date) AS ok),"
    " p AS MATERIALIZED (SELECT wp.label, p.permit_number, p.status, left(p.filed_date, 10) AS filed,"
    "  coalesce(p.permit_type_definition, '') AS ptype, p.street_number, p.street_name, p.neighborhood,"
    "  CASE WHEN coalesce(p.estimated_cost, 0) < 50000 THEN 'under_50k' WHEN p.estimated_cost < 150000 THEN '50k_150k'"
    "   WHEN p.estimated_cost < 500000 THEN '150k_500k' ELSE 'over_500k' END AS bracket,"
    "  CASE WHEN p.permit_type_definition ILIKE '%otc%' THEN 'otc' ELSE 'in_house' END AS path"
    "  FROM wp JOIN permits p ON p.permit_number = wp.permit_number"
    "  WHERE lower(coalesce(p.status, '')) = ANY (" SFP_PERMITS_ON_CLOCK_SQL ")"
    "  AND p.filed_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}')"
    " SELECT p.permit_number, p.status, p.filed, p.ptype, p.street_number, p.street_name, p.label, p.bracket,"
    " b.lvl, b.n, b.pc[1], b.pc[2], b.pc[3] FROM p CROSS JOIN LATERAL ("
    "  (SELECT 'neighborhood+cost+type' AS lvl, m.n, m.pc " BM_BASE("1") " AND m.permit_type_definition = p.ptype"
    "   AND m.cost_bracket = p.bracket AND m.neighborhood = p.neighborhood)"
    "  UNION ALL (SELECT 'cost+type', m.n, m.pc " BM_BASE("2") " AND m.permit_type_definition = p.ptype"
    "   AND m.cost_bracket = p.bracket AND m.neighborhood = '')"
    "  UNION ALL (SELECT 'type', m.n, m.pc " BM_BASE("3") " AND m.permit_type_definition = p.ptype"
    "   AND m.cost_bracket = '' AND m.neighborhood = '')"
    "  UNION ALL (SELECT 'review_path', m.n, m.pc " BM_BASE("4") " AND m.permit_type_definition = ''"
    "   AND m.cost_bracket = '' AND m.neighborhood = '')"
    "  UNION ALL (SELECT 'neighborhood+cost+type' AS lvl, " TS_PCT " " TS_BASE TS_TRADE("p.ptype") " AND t.neighborhood = p.neighborhood"
    "   AND t.cost_bracket = p.bracket AND t.permit_type_definition = p.ptype HAVING count(*) >= 10)"
    "  UNION ALL (SELECT 'cost+type', " TS_PCT " " TS_BASE TS_TRADE("p.ptype") " AND t.cost_bracket = p.bracket"
    "   AND t.permit_type_definition = p.ptype HAVING count(*) >= 10)"
    "  UNION ALL (SELECT 'type', " TS_PCT " " TS_BASE TS_TRADE("p.ptype") " AND t.permit_type_definition = p.ptype"
    "   HAVING count(*) >= 10)"
    "  UNION ALL (SELECT 'review_path', " TS_PCT " " TS_BASE TS_TRADE("coalesce(t.permit_type_definition, '')")
    "   HAVING count(*) >= 10)"
    "  LIMIT 1) b(lvl, n, pc)"
    " ORDER BY p.permit_number LIMIT 50";

/* team_activity: permits filed since `since` with a contact resolved to a watched entity. The
 * contacts carry their permit's filing date (migration 0095), so (entity_id, permit_filed_date)
 * reads only a busy contractor's recent contacts, not its thousands; the permits row stays the
 * authority on the date. */
static const char SQL_TEAM[] =
    "WITH we AS (SELECT DISTINCT ON (entity_id) entity_id, coalesce(label, '') AS label FROM watch_items"
    "  WHERE user_id = $1 AND is_active AND watch_type = 'entity' AND entity_id IS NOT NULL ORDER BY entity_id, watch_id),"
    " hits AS (SELECT c.permit_number, c.entity_id, c.role FROM we JOIN contacts c ON c.entity_id = we.entity_id"
    "  AND c.permit_filed_date >= $2),"
    " m AS (SELECT DISTINCT ON (p.permit_number, we.entity_id) p.permit_number, p.permit_type_definition, p.status,"
    "  p.filed_date, p.street_number, p.street_name, p.neighborhood, h.role,"
    "  coalesce(e.canonical_name, e.canonical_firm, '') AS ename, we.label"
    "  FROM hits h JOIN we ON we.entity_id = h.entity_id JOIN permits p ON p.permit_number = h.permit_number"
    "  LEFT JOIN entities e ON e.entity_id = we.entity_id WHERE p.filed_date >= $2"
    "  ORDER BY p.permit_number, we.entity_id, h.role)"
    " SELECT permit_number, permit_type_definition, status, filed_date, street_number, street_name, neighborhood,"
    " role, ename, label FROM m ORDER BY filed_date DESC, permit_number, ename LIMIT 30";

/* regulatory_alerts: every regulatory_watch row being monitored or passed (not per user). */
static const char SQL_REGULATORY[] =
    "SELECT watch_id, title, description, source_type, source_id, status, impact_level, affected_sections, url,"
    " filed_date, effective_date FROM regulatory_watch WHERE status IN ('monitoring', 'passed')"
    " ORDER BY watch_id LIMIT 50";

/* property_synopsis: permits at the user's primary address; the street matches by name, name
 * without its suffix, name + the permit's suffix, or ignoring blanks. */
static const char SQL_SYNOPSIS[] = /* the address normalised once (MATERIALIZED), not per permit */
    "WITH u AS MATERIALIZED (SELECT btrim(primary_street_number) AS num, btrim(primary_street_name) AS raw,"
    "  upper(regexp_replace(btrim(primary_street_name), '\\s+', ' ', 'g')) AS name FROM users"
    "  WHERE user_id = $1 AND coalesce(btrim(primary_street_number), '') <> ''"
    "  AND coalesce(btrim(primary_street_name), '') <> ''),"
    " u2 AS MATERIALIZED (SELECT num, raw, name,"
    "  regexp_replace(name, ' (ST|AVE|AV|BLVD|BL|DR|WAY|WY|PL|CT|TER|LN|RD|HWY|CIR|AL)$', '') AS base FROM u)"
    " SELECT u2.num, u2.raw, p.permit_number, p.permit_type_definition, p.status, p.filed_date, p.description,"
    " p.neighborhood, p.block, p.lot FROM u2 JOIN permits p ON p.street_number = u2.num"
    " AND (upper(p.street_name) IN (u2.name, u2.base) OR upper(p.street_name || ' ' || coalesce(p.street_suffix, '')) = u2.name"
    "  OR replace(upper(p.street_name), ' ', '') = replace(u2.name, ' ', ''))"
    " ORDER BY p.filed_date DESC NULLS LAST, p.permit_number LIMIT 1000";

/* planning_context: watched parcels (most recently watched first) with their latest tax roll's
 * zoning code and their open planning records (status not starting with closed/withdrawn),
 * newest open_date first, ≤10 per parcel; one row per (parcel, record), a parcel without
 * records once; parcels with neither are left out. */
#define PARCEL_WATCHES                                                                                              \
    "w AS (SELECT DISTINCT ON (block, lot) watch_id, block, lot, coalesce(label, '') AS label FROM watch_items"     \
    "  WHERE user_id = $1 AND is_active AND watch_type = 'parcel' AND block IS NOT NULL AND lot IS NOT NULL"       \
    "  ORDER BY block, lot, watch_id)"
static const char SQL_PLANNING[] =
    "WITH " PARCEL_WATCHES ","
    " z AS (SELECT w.*, (SELECT t.zoning_code FROM tax_rolls t WHERE t.block = w.block AND t.lot = w.lot"
    "  ORDER BY t.tax_year DESC LIMIT 1) AS zoning_code FROM w)"
    " SELECT z.block, z.lot, z.label, coalesce(btrim(z.zoning_code), ''), pr.record_id, pr.record_type,"
    " left(pr.description, 120), left(pr.open_date, 10), pr.record_status"
    " FROM z LEFT JOIN LATERAL (SELECT p.record_id, p.record_type, p.description, p.open_date, p.record_status"
    "  FROM planning_records p WHERE p.block = z.block AND p.lot = z.lot"
    "  AND lower(coalesce(p.record_status, '')) !~ '^ *(closed|withdrawn)'"
    "  ORDER BY p.open_date DESC NULLS LAST, p.record_id LIMIT 10) pr ON true"
    " WHERE coalesce(btrim(z.zoning_code), '') <> '' OR pr.record_id IS NOT NULL"
    " ORDER BY z.watch_id DESC, pr.open_date DESC NULLS LAST, pr.record_id LIMIT 500";

/* compliance_calendar ($2 = today): boiler permits of watched parcels whose expiration date is
 * within [today − 365, today + 90] (the date compared as its ISO text prefix, on the
 * (block, lot, expiration_date) index). */
static const char SQL_COMPLIANCE[] =
    "WITH " PARCEL_WATCHES
    " SELECT b.permit_number, b.boiler_type, left(b.expiration_date, 10), b.block, b.lot, w.label, b.status"
    " FROM w JOIN boiler_permits b ON b.block = w.block AND b.lot = w.lot"
    " AND b.expiration_date >= to_char($2::date - 365, 'YYYY-MM-DD')"
    " AND b.expiration_date < to_char($2::date + 91, 'YYYY-MM-DD')"
    " ORDER BY b.expiration_date, b.permit_number LIMIT 200";

/* data_quality: for planning records, tax rolls and boiler permits, how many of the dataset's
 * 200 newest rows have a permit on their block + lot. The definition is the view
 * sfp_brief_data_quality_live (migration 0085); its rows are stored in brief_data_quality by the
 * nightly and sfp-seed and emptied by any write to the tables it reads, so they are read when
 * present (three rows) and the view (600 index probes) only when not. */
static const char SQL_DATA_QUALITY[] =
    "WITH pre AS MATERIALIZED (SELECT ord, dataset, sampled, matched FROM brief_data_quality)"
    " SELECT dataset, sampled, matched FROM (SELECT * FROM pre UNION ALL SELECT ord, dataset, sampled, matched"
    " FROM sfp_brief_data_quality_live WHERE NOT EXISTS (SELECT 1 FROM pre)) x ORDER BY ord";

/* street_use_activity: street-use permits approved since $2 on the street of an address watch;
 * streets compared upper-case, blanks collapsed, without a trailing suffix (the expression of
 * the street_use_permits_street_idx index, verbatim). */
#define STREET_KEY(x) "regexp_replace(upper(" x "), ' (ST|AVE|AV|BLVD|BL|DR|WAY|WY|PL|CT|TER|LN|RD|HWY|CIR|AL)$', '')"
static const char SQL_STREET_USE[] =
    "WITH w AS (SELECT DISTINCT ON (k) k, label FROM (SELECT " STREET_KEY("regexp_replace(btrim(street_name), '\\s+', ' ', 'g')")
    "  AS k, coalesce(label, '') AS label, watch_id FROM watch_items WHERE user_id = $1 AND is_active"
    "  AND watch_type = 'address' AND coalesce(btrim(street_name), '') <> '') x ORDER BY k, watch_id)"
    " SELECT s.permit_number, s.permit_type, left(s.permit_purpose, 120), s.status, s.agent, s.street_name,"
    " s.cross_street_1, s.cross_street_2, left(s.approved_date, 10), left(s.expiration_date, 10), w.label"
    " FROM w CROSS JOIN LATERAL (SELECT * FROM street_use_permits s WHERE " STREET_KEY("s.street_name") " = w.k"
    "  AND s.approved_date >= $2 ORDER BY s.approved_date DESC LIMIT 50) s"
    " ORDER BY s.approved_date DESC, s.permit_number LIMIT 50";

/* nearby_development: pipeline projects whose block_lot starts with a watched parcel's block
 * (left(block_lot, 4), indexed), each project once (its own parcel's watch first). */
static const char SQL_NEARBY[] =
    "WITH " PARCEL_WATCHES ","
    " m AS (SELECT DISTINCT ON (d.record_id) d.record_id, d.name_address, d.current_status,"
    "  d.description_planning, d.description_dbi, d.proposed_units, d.net_pipeline_units, d.affordable_units,"
    "  d.block_lot, d.bpa_no, d.case_no, w.block, w.label, d.block_lot = w.block || w.lot AS same, w.watch_id"
    "  FROM w JOIN development_pipeline d ON left(d.block_lot, 4) = w.block"
    "  ORDER BY d.record_id, (d.block_lot = w.block || w.lot) DESC, w.watch_id)"
    " SELECT record_id, name_address, current_status, description_planning, description_dbi, proposed_units,"
    " net_pipeline_units, affordable_units, block_lot, bpa_no, case_no, block, label, same FROM m"
    " ORDER BY same DESC, watch_id, block_lot, record_id LIMIT 30";

/* change_velocity: permit_changes detected since `since` ($1), by change_type. */
static const char SQL_VELOCITY[] =
    "SELECT change_type, count(*) FROM permit_changes WHERE detected_at >= $1::date GROUP BY change_type"
    " ORDER BY change_type";
/* clang-format on */

/* ---------- helpers ---------- */

typedef struct sec {
    sfp_conn *c;
    PGconn *pg;
    sfp_brief_build_ctx *ctx;
    Sfpermits__V1__Brief *r;
    sfp_arena *a;
    bool lost;
    bool timed_out;
    int32_t total_watches;
    PGresult *prop; /* the property-cards result, kept until the cards and property activity are built */
    sfp_brief_permit_row *prop_rows;
    size_t n_prop_rows;
} sec;

static void warn(sec *s, const char *section, const char *msg)
{
    Sfpermits__V1__Brief *r = s->r;
    Sfpermits__V1__BriefWarning *w = sfp_arena_msg(s->a, &sfpermits__v1__brief_warning__descriptor);
    w->section = (char *)section;
    w->message = (char *)msg;
    Sfpermits__V1__BriefWarning **n = sfp_arena_alloc(s->a, (r->n_warnings + 1) * sizeof *n);
    if (r->n_warnings) memcpy(n, r->warnings, r->n_warnings * sizeof *n);
    n[r->n_warnings++] = w;
    r->warnings = n;
    s->ctx->failed_sections++;
}

/* ---------- the pipeline ---------- */

/* One section: its statement, which parameters it takes and which connection runs it. */
typedef enum { P_NONE, P_USER_SINCE, P_USER_TODAY, P_SINCE } sec_params;
typedef struct sec_def {
    const char *section; /* as named in warnings */
    const char *stmt;    /* prepared statement name */
    const char *sql;
    int nparams;
    sec_params params;
    bool custom;                          /* planned for its parameters on every call (an unnamed statement) */
    int lane;                             /* LANE_MAIN, LANE_SPARE or LANE_SPARE_FIRST (see lanes_start) */
    void (*process)(sec *s, PGresult *r); /* fills its part of the brief from its result (NULL: failed) */
} sec_def;
#define LANE_MAIN 0
#define LANE_SPARE 1
#define LANE_SPARE_FIRST 2 /* on the spare, ahead of its other sections (in section order otherwise) */

/* The commands of one section's group, in the order they are queued. */
typedef enum { C_BEGIN, C_ROLLBACK, C_SAVEPOINT, C_SETTINGS, C_PARSE, C_EXEC } cmd_kind;
#define MAX_GROUP 6

static const char SQL_BEGIN[] = "BEGIN READ ONLY";
static const char SQL_SAVEPOINT[] = "SAVEPOINT brief_section";
static const char SQL_ROLLBACK[] = "ROLLBACK TO SAVEPOINT brief_section";
/* generic plans, planned once per connection (transaction-local) */
static const char SQL_SETTINGS[] = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";
/* the same on a lane in its own transaction, with the statement timeout of the call's deadline */
static const char SQL_SETTINGS_TIMEOUT[] = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
                                           "set_config('statement_timeout', $1, true)";

typedef struct group {
    cmd_kind cmd[MAX_GROUP];
    int n;
} group;

/* One connection's share of the sections: they run in order, each under its own savepoint, in
 * one libpq pipeline (one group of commands per section, each ended by a Sync). */
typedef struct lane {
    sec *s;
    sfp_conn *c;
    PGconn *pg;
    const sec_def *defs;              /* every section (indexed by section) */
    const char *const *const *params; /* indexed by section */
    PGresult **res;                   /* indexed by section: its result, NULL when it failed */
    const char **failed;              /* indexed by section: its warning when it failed */
    int *idx;                         /* this lane's sections, in run order */
    int n;
    group *groups;       /* indexed by position in idx */
    bool own;            /* runs in a transaction of its own (else in the caller's) */
    const char *timeout; /* its own transaction's statement_timeout (ms; NULL: the session's) */
    bool begun;          /* its own transaction was begun */
    int next;            /* the first position not yet run */
    int first, sent;     /* the positions queued and not read yet: [first, sent) */
    bool rollback;       /* the transaction must be rolled back to the savepoint before going on */
    bool lost;
} lane;

static bool send_cmd(lane *l, group *g, cmd_kind k, const sec_def *d, const char *const *p)
{
    PGconn *pg = l->pg;
    const char *timeout[1] = {l->timeout};
    int ok;
    switch (k) {
    case C_BEGIN: ok = PQsendQueryParams(pg, SQL_BEGIN, 0, NULL, NULL, NULL, NULL, 0); break;
    case C_ROLLBACK: ok = PQsendQueryParams(pg, SQL_ROLLBACK, 0, NULL, NULL, NULL, NULL, 0); break;
    case C_SAVEPOINT: ok = PQsendQueryParams(pg, SQL_SAVEPOINT, 0, NULL, NULL, NULL, NULL, 0); break;
    case C_SETTINGS:
        ok = l->timeout ? PQsendQueryParams(pg, SQL_SETTINGS_TIMEOUT, 1, NULL, timeout, NULL, NULL, 0)
                        : PQsendQueryParams(pg, SQL_SETTINGS, 0, NULL, NULL, NULL, NULL, 0);
        break;
    case C_PARSE: ok = PQsendPrepare(pg, d->stmt, d->sql, d->nparams, NULL); break;
    default: {
        sfp_db_prep_state st = d->custom ? SFP_DB_PREP_UNTRACKED : sfp_db_prep_lookup(l->c, d->stmt);
        ok = st == SFP_DB_PREP_UNTRACKED ? PQsendQueryParams(pg, d->sql, d->nparams, NULL, p, NULL, NULL, 0)
                                         : PQsendQueryPrepared(pg, d->stmt, d->nparams, p, NULL, NULL, 0);
    }
    }
    g->cmd[g->n++] = k;
    return ok;
}

/* The section at position i gets warning msg (the first one stays). */
static void lane_fail(lane *l, int i, const char *msg)
{
    const char **f = &l->failed[l->idx[i]];
    if (!*f) *f = msg;
}

/* The section at position i failed: its warning (the first error decides timeout vs database
 * error). */
static void section_failed(lane *l, int i, const PGresult *err)
{
    const sec_def *d = &l->defs[l->idx[i]];
    const char *state = err ? PQresultErrorField(err, PG_DIAG_SQLSTATE) : NULL;
    bool conn_ok = PQstatus(l->pg) == CONNECTION_OK;
    sfp_db_class k = sfp_db_classify(state, conn_ok);
    if (!conn_ok) l->lost = true;
    if (k.timeout) l->s->timed_out = true;
    if (state && !strcmp(state, "26000")) sfp_db_prep_forget(l->c); /* the session lost its statements */
    char msg[240];
    snprintf(msg, sizeof msg, "%s", err ? PQresultErrorMessage(err) : PQerrorMessage(l->pg));
    msg[strcspn(msg, "\n")] = '\0';
    sfp_log(SFP_WARN, "brief section failed", SFP_S("section", d->section), SFP_S("sqlstate", state ? state : ""),
            SFP_S("error", msg));
    lane_fail(l, i, k.timeout ? "section timed out" : "section unavailable: database error");
}

/* Queues the sections from position l->next on, after a rollback to the savepoint when the
 * previous queue failed part-way (its transaction is aborted). */
static void lane_queue(lane *l)
{
    int first = l->next, sent = first;
    bool with_rollback = l->rollback;
    l->rollback = false;
    for (; sent < l->n; sent++) {
        group *g = &l->groups[sent];
        const sec_def *d = &l->defs[l->idx[sent]];
        *g = (group){0};
        bool ok = !(sent == first && with_rollback) || send_cmd(l, g, C_ROLLBACK, d, NULL);
        if (ok && l->own && !l->begun) {
            l->begun = true;
            ok = send_cmd(l, g, C_BEGIN, d, NULL);
        }
        ok = ok && send_cmd(l, g, C_SAVEPOINT, d, NULL);
        ok = ok && (sent != first || send_cmd(l, g, C_SETTINGS, d, NULL));
        if (ok && !d->custom && sfp_db_prep_lookup(l->c, d->stmt) == SFP_DB_PREP_NEEDED)
            ok = send_cmd(l, g, C_PARSE, d, NULL);
        ok = ok && send_cmd(l, g, C_EXEC, d, l->params[l->idx[sent]]);
        if (!ok || !PQpipelineSync(l->pg)) { /* the connection failed while queueing */
            l->lost = true;
            section_failed(l, sent, NULL);
            l->next = first; /* the ones queued before it have no result either */
            return;
        }
    }
    l->first = first;
    l->sent = sent;
}

/* Reads the results of the queued groups, up to each one's Sync: those before position upto, or
 * all of them (upto >= l->sent, or when a section failed). When a section failed, the groups
 * queued after it failed too (the transaction is aborted): l->next is set to the section after
 * it and l->rollback asks for a rollback to the savepoint before they are queued again. */
static void lane_read(lane *l, int upto)
{
    int failed = -1;
    bool rollback_failed = false;
    sec *s = l->s;
    for (int i = l->first; i < l->sent; i++) {
        if (i == upto && failed < 0) { /* read so far, and every section ran */
            l->first = upto;
            return;
        }
        group *g = &l->groups[i];
        const sec_def *d = &l->defs[l->idx[i]];
        PGresult *err = NULL;
        for (int k = 0; k < g->n && !l->lost; k++) {
            PGresult *r = PQgetResult(l->pg);
            if (!r) {
                l->lost = true;
                break;
            }
            ExecStatusType st = PQresultStatus(r);
            bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
            if (ok && g->cmd[k] == C_PARSE) sfp_db_prep_mark(l->c, d->stmt);
            if (ok && g->cmd[k] != C_PARSE) s->ctx->statements++;
            if (g->cmd[k] == C_EXEC && st != PGRES_PIPELINE_ABORTED) s->ctx->queries++;
            if (ok && g->cmd[k] == C_EXEC && failed < 0) {
                l->res[l->idx[i]] = r;
            } else if (!ok && !err && st != PGRES_PIPELINE_ABORTED) {
                err = r;
                if (g->cmd[k] == C_ROLLBACK) rollback_failed = true;
            } else {
                PQclear(r);
            }
            while ((r = PQgetResult(l->pg))) PQclear(r); /* each command's results end with NULL */
        }
        if (!l->lost) {
            PGresult *r = PQgetResult(l->pg);
            if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC) l->lost = true; /* out of step */
            PQclear(r);
        }
        if (failed < 0 && (err || l->lost)) {
            failed = i;
            section_failed(l, i, err);
        }
        PQclear(err);
        if (l->lost) break;
    }
    l->first = l->sent = 0;
    if (failed < 0) { /* every section ran */
        l->next = l->n;
        return;
    }
    l->next = failed + 1;
    if (rollback_failed) { /* the transaction cannot be recovered: the rest is unavailable */
        for (; l->next < l->n; l->next++) lane_fail(l, l->next, "section unavailable: database error");
        return;
    }
    l->rollback = true;
}

/* Starts a lane: pipeline mode and its first queue. */
static void lane_start(lane *l)
{
    if (PQpipelineStatus(l->pg) == PQ_PIPELINE_OFF && !PQenterPipelineMode(l->pg)) {
        for (; l->next < l->n; l->next++) lane_fail(l, l->next, "section unavailable: database error");
        return;
    }
    lane_queue(l);
}

/* Reads a started lane until the section at position i has its outcome (a result, or a failure
 * in l->failed), queueing again after a failed section as lane_finish does. */
static void lane_wait(lane *l, int i)
{
    while (!l->lost && l->sent > l->first && l->first <= i) {
        lane_read(l, i + 1);
        if (!l->lost && l->rollback && l->next < l->n && l->first == l->sent) lane_queue(l);
    }
}

/* Reads a started lane to its end: a failed section degrades alone (the sections after it are
 * queued again, one more round trip per failed section). The connection leaves pipeline mode
 * unless it was lost; the caller's transaction is left usable; a lane's own transaction ends. */
static void lane_finish(lane *l)
{
    while (!l->lost && l->sent > l->first) {
        lane_read(l, l->sent);
        if (!l->lost && l->rollback && l->next < l->n) lane_queue(l);
    }
    for (; l->next < l->n; l->next++) lane_fail(l, l->next, "section unavailable: database connection lost");
    if (!l->lost && PQpipelineStatus(l->pg) != PQ_PIPELINE_OFF && !PQexitPipelineMode(l->pg)) l->lost = true;
    if (l->rollback && !l->lost) { /* the last section failed: leave the transaction usable */
        PGresult *r = PQexec(l->pg, SQL_ROLLBACK);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) l->s->ctx->statements++;
        else if (PQstatus(l->pg) != CONNECTION_OK) l->lost = true;
        PQclear(r);
    }
    if (l->own && l->begun && !l->lost) { /* read only: nothing to keep, but end it cleanly */
        PGresult *r = PQexec(l->pg, "COMMIT");
        if (PQresultStatus(r) == PGRES_COMMAND_OK) l->s->ctx->statements++;
        PQclear(r);
    }
}

/* The sections' lanes: with a spare connection, the sections marked LANE_SPARE run on it, in a
 * read-only transaction of their own with the same statement timeout, at the same time as the
 * others on the caller's connection, so the two backends use both cores. Each section is one
 * statement and reads its own snapshot either way (the caller's transaction is READ
 * COMMITTED), so the split changes no result. Without a spare every section runs on the
 * caller's connection. */
typedef struct lanes {
    lane l[2];
    int n;
    const char **failed; /* indexed by section */
} lanes;

/* Queues every section on its lane (res[i]: section i's result, once its lane is finished). */
static void lanes_start(lanes *ls, sec *s, sfp_conn *spare, const char *spare_timeout, const sec_def *defs, int n,
                        const char *const *const *params, PGresult **res)
{
    ls->failed = sfp_arena_alloc(s->a, (size_t)n * sizeof *ls->failed);
    ls->n = spare ? 2 : 1;
    for (int k = 0; k < ls->n; k++) {
        lane *l = &ls->l[k];
        *l = (lane){.s = s,
                    .c = k ? spare : s->c,
                    .defs = defs,
                    .params = params,
                    .res = res,
                    .failed = ls->failed,
                    .own = k,
                    .timeout = k ? spare_timeout : NULL};
        l->pg = sfp_conn_pg(l->c);
        l->idx = sfp_arena_alloc(s->a, (size_t)n * sizeof *l->idx);
        l->groups = sfp_arena_alloc(s->a, (size_t)n * sizeof *l->groups);
    }
    for (int i = 0; i < n; i++) {
        res[i] = NULL;
        ls->failed[i] = NULL;
    }
    for (int pass = 0; pass < 2; pass++) /* a spare lane's LANE_SPARE_FIRST sections, then the rest */
        for (int i = 0; i < n; i++) {
            bool on_spare = spare && defs[i].lane != LANE_MAIN;
            if (pass == 0 ? !(on_spare && defs[i].lane == LANE_SPARE_FIRST)
                          : on_spare && defs[i].lane == LANE_SPARE_FIRST)
                continue;
            lane *l = &ls->l[on_spare ? 1 : 0];
            l->idx[l->n++] = i;
        }
    /* the spare lane first: its backend starts while the main lane is queued */
    for (int k = ls->n - 1; k >= 0; k--) lane_start(&ls->l[k]);
}

/* After every lane finished: the failed sections' warnings, in section order whichever lane
 * ran them; s->lost when the caller's connection was lost. */
static void lanes_warn(lanes *ls, sec *s, const sec_def *defs, int n)
{
    s->lost = ls->l[0].lost;
    for (int i = 0; i < n; i++)
        if (ls->failed[i]) warn(s, defs[i].section, ls->failed[i]);
}

static char *S(sec *s, const PGresult *r, int i, int j)
{
    return sfp_arena_strdup(s->a, PQgetvalue(r, i, j));
}
static bool null_at(const PGresult *r, int i, int j)
{
    return PQgetisnull(r, i, j);
}
static double D(const PGresult *r, int i, int j)
{
    return strtod(PQgetvalue(r, i, j), NULL);
}
static long long L(const PGresult *r, int i, int j)
{
    return strtoll(PQgetvalue(r, i, j), NULL, 10);
}

#define ALLOC_LIST(s, ptr, n) (ptr) = sfp_arena_alloc((s)->a, ((n) ? (size_t)(n) : 1) * sizeof *(ptr))

/* "A\x1fB\x1fC" → {"A", "B", "C"} (arena); "" → none. */
static void split_names(sec *s, const char *v, char ***out, size_t *n)
{
    *n = 0;
    *out = NULL;
    if (!*v) return;
    size_t cap = 1;
    for (const char *p = v; *p; p++) cap += *p == '\x1f';
    *out = sfp_arena_alloc(s->a, cap * sizeof **out);
    const char *start = v;
    for (const char *p = v;; p++) {
        if (*p == '\x1f' || !*p) {
            (*out)[(*n)++] = sfp_arena_strndup(s->a, start, (size_t)(p - start));
            if (!*p) break;
            start = p + 1;
        }
    }
}

/* ---------- sections ---------- */

static void section_watches(sec *s, PGresult *r)
{
    if (!r) return;
    s->total_watches = (int32_t)L(r, 0, 0);
    PQclear(r);
}

static void section_changes(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->changes, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefChange *c = sfp_arena_msg(s->a, &sfpermits__v1__brief_change__descriptor);
        c->permit_number = S(s, r, i, 0);
        c->change_date = S(s, r, i, 1);
        c->old_status = S(s, r, i, 2);
        c->new_status = S(s, r, i, 3);
        c->change_type = S(s, r, i, 4);
        c->permit_type = S(s, r, i, 5);
        c->street_number = S(s, r, i, 6);
        c->street_name = S(s, r, i, 7);
        c->neighborhood = S(s, r, i, 8);
        c->block = S(s, r, i, 9);
        c->lot = S(s, r, i, 10);
        c->label = S(s, r, i, 11);
        c->watch_type = S(s, r, i, 12);
        s->r->changes[s->r->n_changes++] = c;
    }
    PQclear(r);
}

static char g_sql_plan_reviews[sizeof SQL_PLAN_REVIEWS_1 + sizeof SQL_PLAN_REVIEWS_2];
static pthread_once_t g_sql_once = PTHREAD_ONCE_INIT;
static void join_sql(void)
{
    snprintf(g_sql_plan_reviews, sizeof g_sql_plan_reviews, "%s%s", SQL_PLAN_REVIEWS_1, SQL_PLAN_REVIEWS_2);
}

static void section_plan_reviews(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->plan_reviews, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefPlanReview *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_plan_review__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->change_date = S(s, r, i, 1);
        v->station = S(s, r, i, 2);
        v->reviewer = S(s, r, i, 3);
        v->result = S(s, r, i, 4);
        v->notes = S(s, r, i, 5);
        v->change_type = S(s, r, i, 6);
        v->department = S(s, r, i, 7);
        v->finish_date = S(s, r, i, 8);
        v->permit_type = S(s, r, i, 9);
        v->street_number = S(s, r, i, 10);
        v->street_name = S(s, r, i, 11);
        v->neighborhood = S(s, r, i, 12);
        v->label = S(s, r, i, 13);
        v->watch_type = S(s, r, i, 14);
        long long total = null_at(r, i, 15) ? 0 : L(r, i, 15);
        long long done = null_at(r, i, 16) ? 0 : L(r, i, 16);
        if (total > 0) {
            v->optional_routing_completion_pct_case =
                SFPERMITS__V1__BRIEF_PLAN_REVIEW__OPTIONAL_ROUTING_COMPLETION_PCT_ROUTING_COMPLETION_PCT;
            v->routing_completion_pct = (int32_t)(done * 100 / total);
            v->routing_total_stations = (int32_t)total;
            v->routing_completed_stations = (int32_t)done;
            v->routing_pending_count = (int32_t)(total - done);
        }
        split_names(s, PQgetvalue(r, i, 21), &v->routing_pending_stations, &v->n_routing_pending_stations);
        char label[32] = "";
        if (!null_at(r, i, 17)) sfp_brief_station_label(true, D(r, i, 17), label, sizeof label);
        v->station_typical_label = sfp_arena_strdup(s->a, label);
        v->predicted_next = S(s, r, i, 18);
        if (!null_at(r, i, 19)) {
            v->optional_predicted_next_days_case =
                SFPERMITS__V1__BRIEF_PLAN_REVIEW__OPTIONAL_PREDICTED_NEXT_DAYS_PREDICTED_NEXT_DAYS;
            v->predicted_next_days = rint(D(r, i, 19) * 10) / 10;
        }
        if (!null_at(r, i, 20)) {
            v->optional_predicted_remaining_days_case =
                SFPERMITS__V1__BRIEF_PLAN_REVIEW__OPTIONAL_PREDICTED_REMAINING_DAYS_PREDICTED_REMAINING_DAYS;
            v->predicted_remaining_days = rint(D(r, i, 20) * 10) / 10;
        }
        s->r->plan_reviews[s->r->n_plan_reviews++] = v;
    }
    PQclear(r);
}

static void section_inspections(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->inspections, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefInspection *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_inspection__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->date = S(s, r, i, 1);
        v->result = S(s, r, i, 2);
        v->description = S(s, r, i, 3);
        v->inspector = S(s, r, i, 4);
        v->label = S(s, r, i, 5);
        v->is_pass = sfp_brief_inspection_is_pass(v->result);
        v->is_fail = sfp_brief_inspection_is_fail(v->result);
        s->r->inspections[s->r->n_inspections++] = v;
    }
    PQclear(r);
}

static void section_new_filings(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->new_filings, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefNewFiling *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_new_filing__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->change_date = S(s, r, i, 1);
        v->status = S(s, r, i, 2);
        v->permit_type = S(s, r, i, 3);
        v->street_number = S(s, r, i, 4);
        v->street_name = S(s, r, i, 5);
        v->neighborhood = S(s, r, i, 6);
        v->label = S(s, r, i, 7);
        v->watch_type = S(s, r, i, 8);
        s->r->new_filings[s->r->n_new_filings++] = v;
    }
    PQclear(r);
}

static int cmp_expiring(const void *pa, const void *pb)
{
    const Sfpermits__V1__BriefExpiringPermit *a = *(Sfpermits__V1__BriefExpiringPermit *const *)pa;
    const Sfpermits__V1__BriefExpiringPermit *b = *(Sfpermits__V1__BriefExpiringPermit *const *)pb;
    if (a->expires_in != b->expires_in) return a->expires_in < b->expires_in ? -1 : 1;
    return strcmp(a->permit_number, b->permit_number);
}

static void section_expiring(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->expiring, n);
    for (int i = 0; i < n; i++) {
        int32_t issued = sfp_sev_parse_day(PQgetvalue(r, i, 1));
        if (issued == SFP_SEV_NO_DATE) continue;
        int validity = sfp_brief_validity_days(PQgetvalue(r, i, 3), !null_at(r, i, 9),
                                               null_at(r, i, 9) ? 0 : D(r, i, 9), null_at(r, i, 8) ? 0 : D(r, i, 8));
        int days = s->ctx->today - issued;
        int expires_in = validity - days;
        if (expires_in > SFP_BRIEF_EXPIRING_WARN_DAYS) continue;
        Sfpermits__V1__BriefExpiringPermit *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_expiring_permit__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->issued_date = S(s, r, i, 1);
        v->status = S(s, r, i, 2);
        v->permit_type = S(s, r, i, 3);
        v->street_number = S(s, r, i, 4);
        v->street_name = S(s, r, i, 5);
        v->neighborhood = S(s, r, i, 6);
        v->label = S(s, r, i, 7);
        v->days_since_issued = days;
        v->validity_days = validity;
        v->expires_in = expires_in;
        v->is_expired = expires_in <= 0;
        s->r->expiring[s->r->n_expiring++] = v;
    }
    qsort(s->r->expiring, s->r->n_expiring, sizeof *s->r->expiring, cmp_expiring);
    if (s->r->n_expiring > 50) s->r->n_expiring = 50;
    PQclear(r);
}

/* The card rows, kept in s until their parcels' facts arrive (section_property_parcels, which
 * runs after it on either lane layout). */
static void section_property(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    sfp_brief_permit_row *rows = sfp_arena_alloc(s->a, (n ? (size_t)n : 1) * sizeof *rows);
    for (int i = 0; i < n; i++) {
        sfp_brief_permit_row *x = &rows[i];
        *x = (sfp_brief_permit_row){.ph_tier = "", .ph_signals_json = ""};
        x->permit_number = PQgetvalue(r, i, 0);
        x->status = PQgetvalue(r, i, 1);
        x->status_date = PQgetvalue(r, i, 2);
        x->filed_date = PQgetvalue(r, i, 3);
        x->issued_date = PQgetvalue(r, i, 4);
        x->completed_date = PQgetvalue(r, i, 5);
        x->description = PQgetvalue(r, i, 6);
        x->permit_type_definition = PQgetvalue(r, i, 7);
        x->estimated_cost = null_at(r, i, 8) ? 0 : D(r, i, 8);
        x->has_revised_cost = !null_at(r, i, 9);
        x->revised_cost = x->has_revised_cost ? D(r, i, 9) : 0;
        x->street_number = PQgetvalue(r, i, 10);
        x->street_name = PQgetvalue(r, i, 11);
        x->street_suffix = PQgetvalue(r, i, 12);
        x->block = null_at(r, i, 13) ? NULL : PQgetvalue(r, i, 13);
        x->lot = null_at(r, i, 14) ? NULL : PQgetvalue(r, i, 14);
        x->neighborhood = PQgetvalue(r, i, 15);
        x->label = PQgetvalue(r, i, 16);
        x->label_rank = (int)L(r, i, 17);
        x->inspection_count = (int)L(r, i, 18);
        x->routing_json = PQgetvalue(r, i, 19);
        x->permit_type = PQgetvalue(r, i, 20);
    }
    s->prop = r;
    s->prop_rows = rows;
    s->n_prop_rows = (size_t)n;
}

/* A row of SQL_PROPERTY_PARCELS by its parcel. */
typedef struct parcel {
    const char *block, *lot;
    int row;
} parcel;

static int cmp_parcel(const void *pa, const void *pb)
{
    const parcel *a = pa, *b = pb;
    int c = strcmp(a->block, b->block);
    return c ? c : strcmp(a->lot, b->lot);
}

/* The parcels' facts onto the card rows (a failed statement leaves them at none: the cards are
 * still built, with the section's warning), then the cards and the property-activity rows
 * they add to changes (processed before: an earlier section). */
static void section_property_parcels(sec *s, PGresult *r)
{
    if (!s->prop) {
        PQclear(r);
        return;
    }
    int n = r ? PQntuples(r) : 0;
    parcel *ps = sfp_arena_alloc(s->a, (n ? (size_t)n : 1) * sizeof *ps);
    for (int i = 0; i < n; i++) ps[i] = (parcel){PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), i};
    qsort(ps, (size_t)n, sizeof *ps, cmp_parcel);
    for (size_t i = 0; i < s->n_prop_rows; i++) {
        sfp_brief_permit_row *x = &s->prop_rows[i];
        const parcel key = {x->block, x->lot, 0};
        const parcel *hit = x->block && x->lot ? bsearch(&key, ps, (size_t)n, sizeof *ps, cmp_parcel) : NULL;
        if (!x->block) x->block = "";
        if (!x->lot) x->lot = "";
        if (!hit) continue;
        int k = hit->row;
        x->open_violations = (int)L(r, k, 2);
        x->open_complaints = (int)L(r, k, 3);
        x->ph_tier = PQgetvalue(r, k, 4);
        x->ph_signal_count = (int)L(r, k, 5);
        x->ph_at_risk_count = (int)L(r, k, 6);
        x->ph_signals_json = PQgetvalue(r, k, 7);
    }
    sfp_brief_build_cards(s->prop_rows, s->n_prop_rows, s->ctx->today, s->ctx->lookback_days, s->a,
                          &s->r->property_health, &s->r->n_property_health);
    sfp_brief_add_property_activity(s->r, s->prop_rows, s->n_prop_rows, s->ctx->today - s->ctx->lookback_days,
                                    s->ctx->lookback_days, s->a);
    PQclear(r); /* after the cards are built: the rows point into it */
    PQclear(s->prop);
    s->prop = NULL;
}

static void section_last_refresh(sec *s, PGresult *r)
{
    if (!r) return;
    if (PQntuples(r) == 1) {
        Sfpermits__V1__BriefLastRefresh *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_last_refresh__descriptor);
        v->last_success = S(s, r, 0, 0);
        v->hours_ago = D(r, 0, 1);
        v->is_stale = v->hours_ago > SFP_BRIEF_STALE_HOURS;
        v->was_catchup = PQgetvalue(r, 0, 2)[0] == 't';
        v->optional_inspections_updated_case =
            (!null_at(r, 0, 3)) ? SFPERMITS__V1__BRIEF_LAST_REFRESH__OPTIONAL_INSPECTIONS_UPDATED_INSPECTIONS_UPDATED
                                : SFPERMITS__V1__BRIEF_LAST_REFRESH__OPTIONAL_INSPECTIONS_UPDATED__NOT_SET;
        v->inspections_updated = v->optional_inspections_updated_case ? L(r, 0, 3) : 0;
        v->changes_detected = L(r, 0, 4);
        v->last_success_date = S(s, r, 0, 5);
        s->r->last_refresh = v;
    }
    PQclear(r);
}

static void section_pipeline_health(sec *s, PGresult *r)
{
    if (!r) {
        Sfpermits__V1__PipelineHealth *h = sfp_arena_msg(s->a, &sfpermits__v1__pipeline_health__descriptor);
        h->status = SFPERMITS__V1__PIPELINE_STATUS__PIPELINE_STATUS_UNKNOWN;
        h->issues = sfp_arena_alloc(s->a, sizeof *h->issues);
        h->issues[h->n_issues++] = "pipeline health checks unavailable";
        s->r->pipeline_health = h;
        return;
    }
    sfp_brief_pipeline_input in = {0};
    in.has_last_success = !null_at(r, 0, 0);
    in.hours_since_success = in.has_last_success ? D(r, 0, 0) : 0;
    in.addenda_as_of_day = sfp_sev_parse_day(PQgetvalue(r, 0, 1));
    in.has_addenda_as_of = in.addenda_as_of_day != SFP_SEV_NO_DATE;
    in.stuck_jobs = (long)L(r, 0, 2);
    in.recent_failures = (long)L(r, 0, 3);
    s->r->pipeline_health = sfp_brief_pipeline_health(&in, s->ctx->today, s->a);
    PQclear(r);
}

static void section_pipeline_stats(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    Sfpermits__V1__PipelineStats *st = sfp_arena_msg(s->a, &sfpermits__v1__pipeline_stats__descriptor);
    ALLOC_LIST(s, st->recent_jobs, n);
    for (int i = 0; i < n; i++) {
        if (i == 0) {
            st->last_24h_success = L(r, 0, 0);
            st->last_24h_failed = L(r, 0, 1);
            st->last_24h_jobs = L(r, 0, 2);
        }
        if (null_at(r, i, 3)) continue; /* no nightly rows: the LEFT JOIN's empty side */
        Sfpermits__V1__PipelineJob *j = sfp_arena_msg(s->a, &sfpermits__v1__pipeline_job__descriptor);
        j->log_id = L(r, i, 3);
        j->job_type = S(s, r, i, 4);
        j->status =
            (Sfpermits__V1__JobStatus)sfp_pbjson_enum_value(&sfpermits__v1__job_status__descriptor, PQgetvalue(r, i, 5),
                                                            SFPERMITS__V1__JOB_STATUS__JOB_STATUS_UNSPECIFIED);
        j->started_at = S(s, r, i, 6);
        j->completed_at = S(s, r, i, 7);
        j->optional_elapsed_seconds_case = (!null_at(r, i, 8))
                                               ? SFPERMITS__V1__PIPELINE_JOB__OPTIONAL_ELAPSED_SECONDS_ELAPSED_SECONDS
                                               : SFPERMITS__V1__PIPELINE_JOB__OPTIONAL_ELAPSED_SECONDS__NOT_SET;
        j->elapsed_seconds = j->optional_elapsed_seconds_case ? D(r, i, 8) : 0;
        st->recent_jobs[st->n_recent_jobs++] = j;
    }
    st->optional_avg_duration_seconds_case =
        (sfp_brief_avg_success_duration(st->recent_jobs, st->n_recent_jobs, &st->avg_duration_seconds))
            ? SFPERMITS__V1__PIPELINE_STATS__OPTIONAL_AVG_DURATION_SECONDS_AVG_DURATION_SECONDS
            : SFPERMITS__V1__PIPELINE_STATS__OPTIONAL_AVG_DURATION_SECONDS__NOT_SET;
    s->r->pipeline_stats = st;
    PQclear(r);
}

static void section_health(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->health, n);
    for (int i = 0; i < n; i++) {
        int32_t filed = sfp_sev_parse_day(PQgetvalue(r, i, 2));
        if (filed == SFP_SEV_NO_DATE) continue;
        Sfpermits__V1__BriefPredictability *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_predictability__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->permit_status = S(s, r, i, 1);
        v->permit_type = S(s, r, i, 3);
        v->street_number = S(s, r, i, 4);
        v->street_name = S(s, r, i, 5);
        v->label = S(s, r, i, 6);
        v->cost_bracket = S(s, r, i, 7);
        v->benchmark = S(s, r, i, 8);
        v->sample_size = (int32_t)L(r, i, 9);
        v->p50 = (int32_t)L(r, i, 10);
        v->p75 = (int32_t)L(r, i, 11);
        v->p90 = (int32_t)L(r, i, 12);
        v->elapsed_days = s->ctx->today - filed;
        v->status = (Sfpermits__V1__PredictabilityStatus)sfp_pbjson_enum_value(
            &sfpermits__v1__predictability_status__descriptor,
            sfp_brief_predictability_status(v->elapsed_days, v->p50, v->p75, v->p90),
            SFPERMITS__V1__PREDICTABILITY_STATUS__PREDICTABILITY_STATUS_UNSPECIFIED);
        v->pct_of_typical = sfp_brief_pct_of_typical(v->elapsed_days, v->p50);
        s->r->health[s->r->n_health++] = v;
    }
    sfp_brief_sort_predictability(s->r->health, s->r->n_health);
    PQclear(r);
}

static void section_team(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->team_activity, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefTeamActivity *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_team_activity__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->permit_type = S(s, r, i, 1);
        v->status = S(s, r, i, 2);
        v->filed_date = S(s, r, i, 3);
        v->street_number = S(s, r, i, 4);
        v->street_name = S(s, r, i, 5);
        v->neighborhood = S(s, r, i, 6);
        v->role = S(s, r, i, 7);
        v->entity_name = S(s, r, i, 8);
        v->label = S(s, r, i, 9);
        s->r->team_activity[s->r->n_team_activity++] = v;
    }
    PQclear(r);
}

static void section_regulatory(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->regulatory_alerts, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefRegulatoryAlert *v =
            sfp_arena_msg(s->a, &sfpermits__v1__brief_regulatory_alert__descriptor);
        v->watch_id = (int32_t)L(r, i, 0);
        v->title = S(s, r, i, 1);
        v->description = S(s, r, i, 2);
        v->source_type = S(s, r, i, 3);
        v->source_id = S(s, r, i, 4);
        v->status = (Sfpermits__V1__RegulatoryStatus)sfp_pbjson_enum_value(
            &sfpermits__v1__regulatory_status__descriptor, PQgetvalue(r, i, 5),
            SFPERMITS__V1__REGULATORY_STATUS__REGULATORY_STATUS_UNSPECIFIED);
        v->impact_level = S(s, r, i, 6);
        v->affected_sections = S(s, r, i, 7);
        v->url = S(s, r, i, 8);
        v->filed_date = S(s, r, i, 9);
        v->effective_date = S(s, r, i, 10);
        s->r->regulatory_alerts[s->r->n_regulatory_alerts++] = v;
    }
    PQclear(r);
}

static void section_synopsis(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    sfp_brief_synopsis_row *rows = sfp_arena_alloc(s->a, (n ? (size_t)n : 1) * sizeof *rows);
    for (int i = 0; i < n; i++) {
        rows[i] = (sfp_brief_synopsis_row){.permit_number = PQgetvalue(r, i, 2),
                                           .permit_type_definition = PQgetvalue(r, i, 3),
                                           .status = PQgetvalue(r, i, 4),
                                           .filed_date = PQgetvalue(r, i, 5),
                                           .description = PQgetvalue(r, i, 6),
                                           .neighborhood = PQgetvalue(r, i, 7),
                                           .block = PQgetvalue(r, i, 8),
                                           .lot = PQgetvalue(r, i, 9)};
    }
    if (n)
        s->r->property_synopsis =
            sfp_brief_build_synopsis(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), rows, (size_t)n, s->a);
    PQclear(r);
}

static void section_planning(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->planning_context, n);
    Sfpermits__V1__BriefPlanningContext *v = NULL;
    for (int i = 0; i < n; i++) {
        if (!v || strcmp(v->block, PQgetvalue(r, i, 0)) || strcmp(v->lot, PQgetvalue(r, i, 1))) {
            if (s->r->n_planning_context == 50) break;
            v = sfp_arena_msg(s->a, &sfpermits__v1__brief_planning_context__descriptor);
            v->block = S(s, r, i, 0);
            v->lot = S(s, r, i, 1);
            v->block_lot = sfp_arena_printf(s->a, "%s-%s", v->block, v->lot);
            v->label = S(s, r, i, 2);
            v->zoning_code = S(s, r, i, 3);
            v->planning_records = sfp_arena_alloc(s->a, 10 * sizeof *v->planning_records);
            s->r->planning_context[s->r->n_planning_context++] = v;
        }
        if (null_at(r, i, 4) || v->n_planning_records == 10) continue;
        Sfpermits__V1__BriefPlanningRecord *x = sfp_arena_msg(s->a, &sfpermits__v1__brief_planning_record__descriptor);
        x->record_id = S(s, r, i, 4);
        x->record_type = S(s, r, i, 5);
        x->description = S(s, r, i, 6);
        x->open_date = S(s, r, i, 7);
        x->status = S(s, r, i, 8);
        v->planning_records[v->n_planning_records++] = x;
    }
    PQclear(r);
}

static void section_compliance(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->compliance_calendar, n);
    for (int i = 0; i < n; i++) {
        int32_t days;
        if (!sfp_brief_days_until(PQgetvalue(r, i, 2), s->ctx->today, &days) || !sfp_brief_compliance_in_window(days))
            continue;
        Sfpermits__V1__BriefComplianceItem *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_compliance_item__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->boiler_type = S(s, r, i, 1);
        v->expiration_date = S(s, r, i, 2);
        v->days_until = days;
        v->is_expired = days < 0;
        v->block = S(s, r, i, 3);
        v->lot = S(s, r, i, 4);
        v->label = S(s, r, i, 5);
        v->status = S(s, r, i, 6);
        s->r->compliance_calendar[s->r->n_compliance_calendar++] = v;
    }
    sfp_brief_sort_compliance(s->r->compliance_calendar, s->r->n_compliance_calendar);
    if (s->r->n_compliance_calendar > SFP_BRIEF_MAX_COMPLIANCE) s->r->n_compliance_calendar = SFP_BRIEF_MAX_COMPLIANCE;
    PQclear(r);
}

static void section_data_quality(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->data_quality, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefDataQuality *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_data_quality__descriptor);
        v->dataset = S(s, r, i, 0);
        v->sampled = (int32_t)L(r, i, 1);
        v->matched = (int32_t)L(r, i, 2);
        sfp_brief_data_quality_rate(v);
        s->r->data_quality[s->r->n_data_quality++] = v;
    }
    PQclear(r);
}

static void section_street_use(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->street_use_activity, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefStreetUse *v = sfp_arena_msg(s->a, &sfpermits__v1__brief_street_use__descriptor);
        v->permit_number = S(s, r, i, 0);
        v->permit_type = S(s, r, i, 1);
        v->purpose = S(s, r, i, 2);
        v->status = S(s, r, i, 3);
        v->agent = S(s, r, i, 4);
        v->street_name = S(s, r, i, 5);
        v->cross_street_1 = S(s, r, i, 6);
        v->cross_street_2 = S(s, r, i, 7);
        v->approved_date = S(s, r, i, 8);
        v->expiration_date = S(s, r, i, 9);
        v->label = S(s, r, i, 10);
        s->r->street_use_activity[s->r->n_street_use_activity++] = v;
    }
    PQclear(r);
}

static void section_nearby(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->nearby_development, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__BriefNearbyDevelopment *v =
            sfp_arena_msg(s->a, &sfpermits__v1__brief_nearby_development__descriptor);
        v->record_id = S(s, r, i, 0);
        v->name_address = S(s, r, i, 1);
        v->current_status = S(s, r, i, 2);
        v->description = sfp_brief_pipeline_description(PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), s->a);
        v->proposed_units = (int32_t)L(r, i, 5);
        v->net_pipeline_units = (int32_t)L(r, i, 6);
        v->affordable_units = (int32_t)L(r, i, 7);
        v->block_lot = S(s, r, i, 8);
        v->bpa_no = S(s, r, i, 9);
        v->case_no = S(s, r, i, 10);
        v->block = S(s, r, i, 11);
        v->label = S(s, r, i, 12);
        v->same_parcel = PQgetvalue(r, i, 13)[0] == 't';
        s->r->nearby_development[s->r->n_nearby_development++] = v;
    }
    PQclear(r);
}

static void section_velocity(sec *s, PGresult *r)
{
    if (!r) return;
    int n = PQntuples(r);
    ALLOC_LIST(s, s->r->change_velocity, n);
    for (int i = 0; i < n; i++) {
        Sfpermits__V1__Brief__ChangeVelocityEntry *e =
            sfp_arena_msg(s->a, &sfpermits__v1__brief__change_velocity_entry__descriptor);
        e->key = S(s, r, i, 0);
        e->value = L(r, i, 1);
        s->r->change_velocity[s->r->n_change_velocity++] = e;
    }
    PQclear(r);
}

/* The sections in the order they run (and are warned about). */
enum {
    S_WATCHES,
    S_CHANGES,
    S_PLAN_REVIEWS,
    S_INSPECTIONS,
    S_NEW_FILINGS,
    S_EXPIRING,
    S_PROPERTY,
    S_PROPERTY_PARCELS,
    S_HEALTH,
    S_TEAM,
    S_REGULATORY,
    S_SYNOPSIS,
    S_PLANNING,
    S_COMPLIANCE,
    S_DATA_QUALITY,
    S_STREET_USE,
    S_NEARBY,
    S_VELOCITY,
    S_LAST_REFRESH,
    S_PIPELINE_HEALTH,
    S_PIPELINE_STATS,
    S_N
};
_Static_assert(S_N == SFP_BRIEF_SECTION_QUERIES, "one statement per section");

/* Lanes: the card rows (the costliest statement) with plan reviews and the small ones on the main
 * lane; their parcels' facts (first) and the other sections, of about the same Postgres CPU in
 * all, on the spare. Processing order: the main lane's sections, then the spare's, each in its
 * run order (one lane: section order), so changes is always turned into the brief before the
 * cards add their property-activity rows to it, and the card rows before their parcels' facts. */
static const sec_def SECTIONS[S_N] = {
    [S_WATCHES] = {"summary", "brief_summary", SQL_WATCHES, 1, P_USER_SINCE, false, LANE_MAIN, section_watches},
    [S_CHANGES] = {"changes", "brief_changes", SQL_CHANGES, 2, P_USER_SINCE, false, LANE_MAIN, section_changes},
    [S_PLAN_REVIEWS] = {"plan_reviews", "brief_plan_reviews", g_sql_plan_reviews, 2, P_USER_SINCE, false, LANE_MAIN,
                        section_plan_reviews},
    [S_INSPECTIONS] = {"inspections", "brief_inspections", SQL_INSPECTIONS, 2, P_USER_SINCE, false, LANE_SPARE,
                       section_inspections},
    [S_NEW_FILINGS] = {"new_filings", "brief_new_filings", SQL_NEW_FILINGS, 2, P_USER_SINCE, false, LANE_SPARE,
                       section_new_filings},
    [S_EXPIRING] = {"expiring", "brief_expiring", SQL_EXPIRING, 1, P_USER_SINCE, false, LANE_SPARE, section_expiring},
    [S_PROPERTY] = {"property_health", "brief_property_health", SQL_PROPERTY, 1, P_USER_SINCE, false, LANE_MAIN,
                    section_property},
    [S_PROPERTY_PARCELS] = {"property_health", "brief_property_parcels", SQL_PROPERTY_PARCELS, 1, P_USER_SINCE, false,
                            LANE_SPARE_FIRST, section_property_parcels},
    [S_HEALTH] = {"health", "brief_health", SQL_HEALTH, 2, P_USER_TODAY, false, LANE_SPARE, section_health},
    [S_TEAM] = {"team_activity", "brief_team_activity", SQL_TEAM, 2, P_USER_SINCE, false, LANE_SPARE, section_team},
    [S_REGULATORY] = {"regulatory_alerts", "brief_regulatory_alerts", SQL_REGULATORY, 0, P_NONE, false, LANE_MAIN,
                      section_regulatory},
    [S_SYNOPSIS] = {"property_synopsis", "brief_property_synopsis", SQL_SYNOPSIS, 1, P_USER_SINCE, false, LANE_SPARE,
                    section_synopsis},
    [S_PLANNING] = {"planning_context", "brief_planning_context", SQL_PLANNING, 1, P_USER_SINCE, false, LANE_SPARE,
                    section_planning},
    [S_COMPLIANCE] = {"compliance_calendar", "brief_compliance_calendar", SQL_COMPLIANCE, 2, P_USER_TODAY, false,
                      LANE_SPARE, section_compliance},
    [S_DATA_QUALITY] = {"data_quality", "brief_data_quality", SQL_DATA_QUALITY, 0, P_NONE, false, LANE_SPARE,
                        section_data_quality},
    [S_STREET_USE] = {"street_use_activity", "brief_street_use_activity", SQL_STREET_USE, 2, P_USER_SINCE, false,
                      LANE_SPARE, section_street_use},
    [S_NEARBY] = {"nearby_development", "brief_nearby_development", SQL_NEARBY, 1, P_USER_SINCE, false, LANE_SPARE,
                  section_nearby},
    /* its best plan depends on the date's selectivity: planned for it on every call */
    [S_VELOCITY] = {"change_velocity", "brief_change_velocity", SQL_VELOCITY, 1, P_SINCE, true, LANE_SPARE,
                    section_velocity},
    [S_LAST_REFRESH] = {"last_refresh", "brief_last_refresh", SQL_LAST_REFRESH, 0, P_NONE, false, LANE_SPARE,
                        section_last_refresh},
    [S_PIPELINE_HEALTH] = {"pipeline_health", "brief_pipeline_health", SQL_PIPELINE_HEALTH, 0, P_NONE, false,
                           LANE_SPARE, section_pipeline_health},
    [S_PIPELINE_STATS] = {"pipeline_stats", "brief_pipeline_stats", SQL_PIPELINE_STATS, 0, P_NONE, false, LANE_SPARE,
                          section_pipeline_stats},
};

int sfp_brief_build(sfp_conn *c, sfp_brief_build_ctx *ctx, Sfpermits__V1__Brief *r, sfp_arena *a, sfp_err *err)
{
    pthread_once(&g_sql_once, join_sql);
    sec s = {.c = c, .pg = sfp_conn_pg(c), .ctx = ctx, .r = r, .a = a};
    char uid[16], since[11], today[11];
    snprintf(uid, sizeof uid, "%d", (int)ctx->user_id);
    sfp_format_iso_day(ctx->today - ctx->lookback_days, since);
    sfp_format_iso_day(ctx->today, today);
    const char *p[2] = {uid, since};
    const char *pt[2] = {uid, today};
    const char *ps[1] = {since};
    const char *const *params[S_N];
    for (int i = 0; i < S_N; i++) {
        sec_params k = SECTIONS[i].params;
        params[i] = k == P_USER_SINCE ? p : k == P_USER_TODAY ? pt : k == P_SINCE ? ps : NULL;
    }
    r->lookback_days = ctx->lookback_days;
    r->since = sfp_arena_strdup(a, since);

    /* a spare connection for the LANE_SPARE sections, when the pool has one at once and the
     * deadline leaves time: its statement timeout is what is left of the deadline (with no
     * deadline, the session's DB_STATEMENT_TIMEOUT as on the caller's connection) */
    sfp_conn *spare = NULL;
    char spare_timeout[24] = "";
    bool deadline = ctx->deadline_ms != INT64_MAX;
    int64_t left = deadline ? ctx->deadline_ms - sfp_mono_ms() : INT32_MAX;
    if (left > INT32_MAX) left = INT32_MAX;
    if (ctx->pool && left > 0) {
        sfp_err e = {0};
        spare = sfp_pool_acquire_spare(ctx->pool, (int)left, &e);
        left = deadline ? ctx->deadline_ms - sfp_mono_ms() : left; /* a new connection took some of it */
        if (spare && left < 1) {                                   /* nothing left for a second lane */
            sfp_pool_release(ctx->pool, spare);
            spare = NULL;
        }
        snprintf(spare_timeout, sizeof spare_timeout, "%lld", (long long)left);
    }
    PGresult *res[S_N];
    lanes ls;
    lanes_start(&ls, &s, spare, deadline ? spare_timeout : NULL, SECTIONS, S_N, params, res);
    ctx->lanes = ls.n == 2 && ls.l[1].n ? 2 : 1; /* connections that ran sections */
    /* each section is turned into the brief as soon as its result is read, the main lane's
     * first: later statements of the spare lane still run on its backend meanwhile */
    for (int k = 0; k < ls.n; k++) {
        for (int j = 0; j < ls.l[k].n; j++) {
            lane_wait(&ls.l[k], j);
            SECTIONS[ls.l[k].idx[j]].process(&s, res[ls.l[k].idx[j]]);
        }
        lane_finish(&ls.l[k]);
    }
    sfp_pool_release(ctx->pool, spare);
    lanes_warn(&ls, &s, SECTIONS, S_N);
    sfp_brief_fill_summary(r, s.total_watches, a);

    ctx->timed_out = s.timed_out;
    if (s.lost) return sfp_err_set(err, SFP_UNAVAILABLE, "database connection lost");
    return 0;
}
