/* report_db.h — the SQL side of one property report: TWO round trips on ONE pooled connection
 * inside one read-only REPEATABLE READ transaction, whatever the permit count. Statements are
 * sent in libpq pipeline mode, so each round trip carries several of them, and round trip 2 is
 * sent while round trip 1's last statements still run (so Postgres never waits for us between
 * them):
 *
 *   round trip 1 (sfp_rpt_db_start, which returns once the permits are read)
 *      BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY
 *      statement_timeout = N ms for the transaction (N = min(deadline left, configured)) and
 *      generic plans for every statement (they are all index lookups whose plan does not
 *      depend on the values; re-planning cost more than running them)
 *      parcel_summary row
 *      historical lots (same address on the block) + the 50 newest permits over them + their
 *      total count (one CTE; count(*) OVER () before LIMIT)
 *      Flush: the server sends what it has, so the permits arrive while the rest runs
 *      contacts and inspections of the REQUESTED lot's permits (below) — sent before the
 *      permits say which lots the parcel's history covers; for a parcel without historical
 *      lots (nearly all) that is the answer
 *   round trip 2 (sfp_rpt_db_finish) — queued as soon as the permits are read
 *      contacts and inspections again over all the lots, only when there are historical lots
 *      routing: the rows of the permits whose routing the report shows (SFP_PERMITS_ROUTED:
 *        filed, plancheck, issued, reinstated), newest revision first; the stations of each
 *        one's latest revision are kept — serves the report's routing progress AND the
 *        consultant's routing factors, whose permits in review are a subset
 *      regulatory_watch rows in monitoring/passed (only when the caller has no fresh copy)
 *      nearby activity in the neighborhood (other parcels), LIMIT n
 *      COMMIT
 * The child tables are read by the PERMIT's parcel kept on each row (permit_block, permit_lot:
 * one index descent per lot, not one per permit): contacts with their entity's name, firm and
 * permit count (kept on the contact row), role-ranked; inspections whatever lot the inspection
 * itself names, newest first; rows of permits the list does not show (past
 * SFP_RPT_PERMIT_LIMIT) are skipped. Routing and regulatory_watch are skipped when the parcel has
 * no permits (contacts and inspections then are two empty index probes), nearby when there is no
 * neighborhood. Every statement is a named prepared statement of the connection, kept in the
 * shared registry (common/db_prep.h): round trip 1 of a connection that lacks some (its first
 * report) also carries their Parse messages, after BEGIN and settings (sent unnamed then), so a
 * fresh connection's first report also makes 2 round trips. When the session lost statements
 * the registry recorded (DEALLOCATE, DISCARD: round trip 1 fails with "prepared statement does
 * not exist"), one more round trip rolls back, drops what is left and prepares them all again.
 * A connection the registry cannot track runs the same SQL unnamed. sfp_rpt_db.queries counts
 * round trips (Syncs).
 *
 * Errors: -1 with err.code a gRPC status (UNAVAILABLE: connection lost; DEADLINE_EXCEEDED:
 * statement_timeout; INTERNAL: anything else) and a safe message. After an error the
 * transaction is aborted. Always call sfp_rpt_db_end before releasing the connection, whatever
 * happened (it reads what is still on the way, frees the results and leaves pipeline mode; the
 * pool then rolls back what is left). */
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
    int statements; /* statements executed so far (preparing them not counted) */
    bool unnamed;   /* the statement registry cannot track this connection: SQL sent unnamed */
    sfp_err err;
    struct sfp_rpt_pipe *pipe; /* from sfp_rpt_db_start until the end: commands sent, results read */
} sfp_rpt_db;

typedef struct sfp_rpt_permit_set {
    const char **lots; /* historical lots incl. the requested one, sorted */
    size_t n_lots;
    sfp_rpt_permit *permits; /* newest filed_date first, ≤ SFP_RPT_PERMIT_LIMIT */
    size_t n_permits;
    int32_t total; /* all permits over lots */
} sfp_rpt_permit_set;

/* Round trip 1: begins the transaction and reads the parcel_summary row and the permits
 * (contacts and inspections of the lot are still on their way: sfp_rpt_db_finish reads them). */
int sfp_rpt_db_start(sfp_rpt_db *db, int statement_timeout_ms, const char *block, const char *lot,
                     sfp_rpt_parcel_summary *ps, sfp_rpt_permit_set *set);

typedef struct sfp_rpt_db_rest {
    /* in */
    const char *block;
    const char *neighborhood; /* nearby activity: "" = none */
    int nearby_limit;         /* 0 = none */
    int32_t today;            /* for routing progress */
    bool reg_watch;           /* read regulatory_watch (only when the parcel has permits) */
    /* out (arena) */
    sfp_rpt_reg_watch *watch;
    size_t n_watch;
    sfp_rpt_nearby *nearby;
    size_t n_nearby;
} sfp_rpt_db_rest;

/* Round trip 2: attaches contacts, inspections and routing progress (SFP_PERMITS_ROUTED) to
 * set's permits, reads regulatory_watch and nearby activity as asked, and commits. Only after a
 * successful sfp_rpt_db_start. */
int sfp_rpt_db_finish(sfp_rpt_db *db, sfp_rpt_permit_set *set, sfp_rpt_db_rest *rest);

/* Leaves pipeline mode (after success or error); NULL connection is fine. */
void sfp_rpt_db_end(sfp_rpt_db *db);

/* Postgres text[] literal helpers (exposed for unit tests). build: {"a","b"} with " and \
 * escaped; parse: the text output of a text[] (quoted or bare elements; NULL elements are
 * skipped). Both allocate in a. */
char *sfp_rpt_pg_array(sfp_arena *a, const char *const *vals, size_t n);
size_t sfp_rpt_pg_array_parse(sfp_arena *a, const char *lit, const char ***out);
/* semantic_concepts: a JSON array of strings, or else a comma-separated list. */
size_t sfp_rpt_parse_concepts(sfp_arena *a, const char *text, const char ***out);

#endif
