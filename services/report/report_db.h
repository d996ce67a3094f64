/* report_db.h — the SQL side of one property report: a constant number of round trips on
 * ONE pooled connection inside one read-only transaction, whatever the permit count.
 *
 *   1  BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL statement_timeout = N;
 *      SELECT count(*) FROM pg_prepared_statements ... (one simple-protocol round trip;
 *      N = min(deadline left, configured) in ms). Steps 2–8 are named prepared statements of
 *      the connection; on a connection's first report they are PREPAREd in ONE extra round
 *      trip (so a fresh connection's first report counts one more).
 *   2  parcel_summary row
 *   3  historical lots (same address on the block) + the 50 newest permits over them
 *      + their total count (one CTE; count(*) OVER () before LIMIT)
 *   4  contacts of all those permits joined to entities, = ANY($1::text[]), role-ranked
 *   5  inspections of all those permits, = ANY($1::text[]), newest first
 *   6  routing: every addenda row of the latest revision (rank() over addenda_number) of all
 *      permits whose routing the report shows (SFP_PERMITS_ROUTED: filed, plancheck, issued,
 *      reinstated) — serves the report's routing progress AND the consultant's routing
 *      factors, whose permits in review are a subset (no per-permit round trips)
 *   7  regulatory_watch rows in monitoring/passed
 *   8  nearby activity in the neighborhood (other parcels), LIMIT n
 *   9  COMMIT
 * Steps 4–7 are skipped when the parcel has no permits, step 8 when there is no
 * neighborhood. Every round trip increments sfp_rpt_db.queries.
 *
 * Errors: -1 with err.code a gRPC status (UNAVAILABLE: connection lost; DEADLINE_EXCEEDED:
 * statement_timeout; INTERNAL: anything else) and a safe message. After an error the
 * transaction is aborted; release the connection (the pool rolls back). */
#ifndef SFP_REPORT_DB_H
#define SFP_REPORT_DB_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "db_pool.h"
#include "report_types.h"

#define SFP_RPT_PERMIT_LIMIT 50

typedef struct sfp_rpt_db {
    sfp_conn *conn; /* borrowed for the whole report */
    sfp_arena *a;   /* every string read is copied here */
    int queries;    /* SQL round trips made so far */
    sfp_err err;
} sfp_rpt_db;

int sfp_rpt_db_begin(sfp_rpt_db *db, int statement_timeout_ms);
int sfp_rpt_db_commit(sfp_rpt_db *db);

int sfp_rpt_db_parcel_summary(sfp_rpt_db *db, const char *block, const char *lot, sfp_rpt_parcel_summary *out);

typedef struct sfp_rpt_permit_set {
    const char **lots; /* historical lots incl. the requested one, sorted */
    size_t n_lots;
    sfp_rpt_permit *permits; /* newest filed_date first, ≤ SFP_RPT_PERMIT_LIMIT */
    size_t n_permits;
    int32_t total; /* all permits over lots */
} sfp_rpt_permit_set;
int sfp_rpt_db_permits(sfp_rpt_db *db, const char *block, const char *lot, sfp_rpt_permit_set *out);

/* Batched enrichment: attach contacts / inspections to each permit (no query for n == 0). */
int sfp_rpt_db_contacts(sfp_rpt_db *db, sfp_rpt_permit *permits, size_t n);
int sfp_rpt_db_inspections(sfp_rpt_db *db, sfp_rpt_permit *permits, size_t n);
/* Routing progress of the permits in SFP_PERMITS_ROUTED (report_status.h), computed with today. */
int sfp_rpt_db_routing(sfp_rpt_db *db, sfp_rpt_permit *permits, size_t n, int32_t today);

int sfp_rpt_db_reg_watch(sfp_rpt_db *db, sfp_rpt_reg_watch **out, size_t *n);
int sfp_rpt_db_nearby(sfp_rpt_db *db, const char *neighborhood, const char *block, const char *const *lots,
                      size_t n_lots, int limit, sfp_rpt_nearby **out, size_t *n);

/* Postgres text[] literal helpers (exposed for unit tests). build: {"a","b"} with " and \
 * escaped; parse: the text output of a text[] (quoted or bare elements; NULL elements are
 * skipped). Both allocate in a. */
char *sfp_rpt_pg_array(sfp_arena *a, const char *const *vals, size_t n);
size_t sfp_rpt_pg_array_parse(sfp_arena *a, const char *lit, const char ***out);
/* semantic_concepts: a JSON array of strings, or else a comma-separated list. */
size_t sfp_rpt_parse_concepts(sfp_arena *a, const char *text, const char ***out);

#endif
