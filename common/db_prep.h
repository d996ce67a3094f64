/* db_prep.h — named prepared statements on pooled connections, prepared lazily once per
 * connection. Parsing and planning the brief's CTE queries costs more than running them
 * (several ms of parse + bind for a sub-ms execution), so every hot or complex statement goes
 * through here: the first use on a connection sends PREPARE, later uses only Bind/Execute, and
 * Postgres's plan cache may switch to a generic plan after five executions.
 *
 * Which names a connection has prepared is kept in libpq instance data attached to the PGconn
 * (PQregisterEventProc): it dies with the connection (PGEVT_CONNDESTROY) and is cleared on a
 * reset, so a replaced connection starts empty. A connection is used by one thread at a time
 * (the pool), so no locking. PREPARE inside an aborted transaction would fail; callers run
 * statements in autocommit or in a healthy transaction/savepoint (as sfp_db_query).
 *
 * Errors are classified like sfp_db_query: connection lost → UNAVAILABLE, statement timeout
 * (57014) or lock timeout (55P03) → DEADLINE_EXCEEDED, else INTERNAL; the server text is logged
 * (at `quiet_level` for callers that expect failures, e.g. a cache table that may be missing),
 * never returned. */
#ifndef SFP_DB_PREP_H
#define SFP_DB_PREP_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "db_pool.h"
#include "log.h"
#include "sfp_err.h"

typedef struct sfp_db_stmt {
    const char *name; /* unique per SQL text, e.g. "page_cache_read" (static storage) */
    const char *sql;  /* static storage */
    int nparams;
} sfp_db_stmt;

/* Executes stmt with text or binary params (lengths/formats may be NULL = all text) and
 * result_format 0 (text) or 1 (binary). Returns the result on TUPLES_OK/COMMAND_OK (caller
 * PQclears), else NULL with err; *sqlstate (if non-NULL, char[6]) gets the SQLSTATE or "". */
PGresult *sfp_db_prepared(sfp_conn *c, const sfp_db_stmt *stmt, const char *const *params, const int *lengths,
                          const int *formats, int result_format, sfp_log_level fail_level, char *sqlstate,
                          sfp_err *err);

/* For callers that queue statements themselves (libpq pipeline mode, where sfp_db_prepared's
 * synchronous calls are not allowed), one statement at a time: whether `name` is prepared on
 * this connection (READY), must be prepared first (NEEDED: queue a Parse, then
 * sfp_db_prep_mark once it succeeded), or cannot be tracked (UNTRACKED: send the SQL as an
 * unnamed statement). The batch calls below (sfp_db_prep_missing/_result) are these two over
 * an array of sfp_db_stmt; both read and write the one registry. */
typedef enum { SFP_DB_PREP_READY, SFP_DB_PREP_NEEDED, SFP_DB_PREP_UNTRACKED } sfp_db_prep_state;
sfp_db_prep_state sfp_db_prep_lookup(sfp_conn *c, const char *name);
void sfp_db_prep_mark(sfp_conn *c, const char *name);

/* Number of statements prepared on this connection so far (tests). */
int sfp_db_prepared_count(sfp_conn *c);

/* ---- callers in libpq pipeline mode ----
 * A pipelined caller learns a statement's fate only at the Sync, so it cannot prepare on first
 * use like sfp_db_prepared. It asks the registry which statements the connection lacks, queues
 * a Parse for each (sfp_db_prep_send) ahead of their first Bind/Execute in the same pipeline,
 * and hands every Parse result back (sfp_db_prep_result), which records the successful ones.
 * The registry is the same one sfp_db_prepared uses, so a statement is prepared once per
 * connection whichever path runs it first. A Parse is not transactional: a statement prepared
 * in a transaction that later rolls back stays prepared, as recorded. */

/* Sets missing[i] for each stmts[i] the connection has not prepared; returns how many are
 * missing, or -1 when the connection cannot be tracked (no instance data, or the registry is
 * full): the caller must then send its SQL unnamed (PQsendQueryParams). */
int sfp_db_prep_missing(sfp_conn *c, const sfp_db_stmt *stmts, int n, bool *missing);

/* Queues a Parse of stmt (PQsendPrepare, parameter types inferred by the server) on a
 * connection in pipeline mode. Returns libpq's 1 (queued) or 0. */
int sfp_db_prep_send(sfp_conn *c, const sfp_db_stmt *stmt);

/* The result of stmt's queued Parse: records stmt as prepared when r is COMMAND_OK. Returns
 * whether it is. */
bool sfp_db_prep_result(sfp_conn *c, const sfp_db_stmt *stmt, const PGresult *r);

/* The session lost its statements (a Bind failed with 26000, e.g. after DEALLOCATE ALL or
 * DISCARD ALL): forget every recorded name, so the next use prepares again. */
void sfp_db_prep_forget(sfp_conn *c);

#endif
