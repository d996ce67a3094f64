/* seed_load.h — the I/O half of sfp-seed: loads generated tables into Postgres with COPY.
 *
 * Bulk tables are reloaded one transaction per table: TRUNCATE, drop the table's secondary
 * indexes and primary/unique constraints (their definitions are read back from the catalog,
 * so db/migrations stays their only definition), COPY ... FREEZE, re-create them, COMMIT,
 * ANALYZE. A failure rolls the table back to what it was. `jobs` connections work through the
 * tables in parallel, largest first. */
#ifndef SFP_SEED_LOAD_H
#define SFP_SEED_LOAD_H

#include <libpq-fe.h>
#include <stdint.h>

#include "seed_gen.h"
#include "sfp_err.h"

typedef struct seed_table_stat {
    int64_t rows;         /* -1 when not loaded */
    double seconds;       /* wall time of the table's transaction + ANALYZE */
    double copy_seconds;  /* of which COPY */
    double index_seconds; /* of which re-creating indexes and constraints */
} seed_table_stat;

/* Connects with connect_timeout 10 and application_name sfp-seed; NULL + err on failure. */
PGconn *seed_connect(const char *url, sfp_err *err);

/* Session settings for loading (no statement timeout, async commit, big maintenance memory). */
int seed_session_setup(PGconn *conn, sfp_err *err);

/* Loads every bulk table of w using `jobs` parallel connections. stats is indexed by table. */
int seed_load_bulk(const char *url, const sfp_seed_world *w, int jobs, seed_table_stat stats[SFP_SEED_TABLE_COUNT],
                   sfp_err *err);

/* COPY one generated table into conn (inside the caller's transaction). */
int seed_copy_table(PGconn *conn, const sfp_seed_world *w, sfp_seed_table t, int freeze, int64_t *rows, sfp_err *err);

/* What the brief reads precomputed: the predictability benchmarks (brief_benchmarks) of the
 * days a freshly seeded database is read on — the data's day (as_of) and the next (the seed's
 * default as_of is yesterday, UTC) — and the data_quality rows (brief_data_quality). Run after
 * every table is loaded: a write to the tables they come from empties them. */
int seed_fill_benchmarks(PGconn *conn, int32_t as_of, sfp_err *err);

/* Runs one statement without parameters; on error fills err with what + the server message. */
int seed_exec(PGconn *conn, const char *sql, const char *what, sfp_err *err);

#endif
