/* db_error.h — the one classification of a failed Postgres statement into an error code and a
 * client-safe message. Every database path (db_pool queries, db_prep prepared statements, the
 * report's pipeline) uses it, so the same failure means the same code everywhere. Pure: no
 * libpq calls, no allocation. */
#ifndef SFP_DB_ERROR_H
#define SFP_DB_ERROR_H

#include <stdbool.h>

#include "sfp_err.h"

/* What a client is told to wait (RetryInfo) when the database is unavailable: just above the
 * pool's default reconnect back-off ceiling (DB_RECONNECT_MAX_MS 800). */
#define SFP_DB_RETRY_MS 1000

typedef struct sfp_db_class {
    sfp_code code;   /* UNAVAILABLE, DEADLINE_EXCEEDED or INTERNAL */
    const char *msg; /* static, safe: "database connection lost", ... */
    bool timeout;    /* a statement or lock timeout (logged as a warning, not an error) */
} sfp_db_class;

/* sqlstate: the result's PG_DIAG_SQLSTATE (NULL or "" when none); connection_ok: PQstatus is
 * CONNECTION_OK after the failure.
 *   connection lost, or class 08 (connection exception), 57P01/57P02/57P03 (server shutting
 *   down / starting up), 53300 (too many connections) → UNAVAILABLE "database connection lost"
 *   57014 (statement timeout / query cancelled), 55P03 (lock not available: lock_timeout)
 *     → DEADLINE_EXCEEDED "database query timed out"
 *   anything else → INTERNAL "database error" */
sfp_db_class sfp_db_classify(const char *sqlstate, bool connection_ok);

#endif
