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
 * synchronous calls are not allowed): whether `name` is prepared on this connection (READY),
 * must be prepared first (NEEDED: queue a Parse, then sfp_db_prep_mark once it succeeded), or
 * cannot be tracked (UNTRACKED: send the SQL as an unnamed statement). sfp_db_prep_reset
 * forgets every name (after SQLSTATE 26000: the session lost its statements). */
typedef enum { SFP_DB_PREP_READY, SFP_DB_PREP_NEEDED, SFP_DB_PREP_UNTRACKED } sfp_db_prep_state;
sfp_db_prep_state sfp_db_prep_lookup(sfp_conn *c, const char *name);
void sfp_db_prep_mark(sfp_conn *c, const char *name);
void sfp_db_prep_reset(sfp_conn *c);

/* Number of statements prepared on this connection so far (tests). */
int sfp_db_prepared_count(sfp_conn *c);

#endif
