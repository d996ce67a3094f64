/* migrations.h — schema migrations embedded at build time from db/migrations/NNNN_name.sql,
 * and the runner used by sfp-migrate and tests. */
#ifndef SFP_MIGRATIONS_H
#define SFP_MIGRATIONS_H

#include <stddef.h>
#include <libpq-fe.h>
#include "sfp_err.h"

typedef struct sfp_migration {
    int version;      /* NNNN prefix */
    const char *name; /* file name without .sql */
    const char *sql;
} sfp_migration;

extern const sfp_migration sfp_migrations[];
extern const size_t sfp_migrations_count;

/* Applies, in version order and each in its own transaction, every migration not yet recorded
 * in schema_migrations, holding a session advisory lock so concurrent runners serialise.
 * *applied receives how many were applied now. */
int sfp_migrate(PGconn *conn, int *applied, sfp_err *err);
/* Highest applied version, 0 if none, -1 on error. */
int sfp_schema_version(PGconn *conn);

/* Tables every healthy deployment has (used by sfp-health's missing_expected_tables). */
extern const char *const sfp_expected_tables[];

#endif
