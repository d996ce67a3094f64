/* sfp-migrate — applies the embedded db/migrations to DATABASE_URL.
 *
 *   sfp-migrate            apply what is missing; stdout: {"applied":N,"version":V}
 *   sfp-migrate --status   stdout: the applied schema version (a bare integer)
 *
 * Exit 0 on success, 1 on any error (message on stderr as a JSON log line), 2 on bad usage.
 * Safe to run from several replicas at once: sfp_migrate() serialises on an advisory lock. */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db_url.h"
#include "log.h"
#include "migrations.h"

static void usage(FILE *f)
{
    fputs("usage: sfp-migrate [--help] [--print-config] [--status]\n", f);
}

/* connect_timeout is listed before the URL so a value inside DATABASE_URL wins. */
static PGconn *connect_db(const char *url)
{
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "sfp-migrate", url, NULL};
    return PQconnectdbParams(keys, vals, 1);
}

static int run_status(PGconn *conn)
{
    int v = sfp_schema_version(conn);
    if (v < 0) {
        sfp_log(SFP_ERROR, "cannot read schema version", SFP_S("error", PQerrorMessage(conn)));
        return 1;
    }
    printf("%d\n", v);
    return 0;
}

static int run_migrate(PGconn *conn)
{
    int applied = 0;
    sfp_err err = {0};
    if (sfp_migrate(conn, &applied, &err) < 0) {
        sfp_log(SFP_ERROR, "migration failed", SFP_S("error", err.msg), SFP_I("applied", applied));
        return 1;
    }
    int v = sfp_schema_version(conn);
    int latest = sfp_migrations_count ? sfp_migrations[sfp_migrations_count - 1].version : 0;
    if (v > latest)
        sfp_log(SFP_WARN, "database schema is newer than this binary", SFP_I("version", v), SFP_I("known", latest));
    sfp_log(SFP_INFO, "migrations done", SFP_I("applied", applied), SFP_I("version", v));
    printf("{\"applied\":%d,\"version\":%d}\n", applied, v);
    return 0;
}

int main(int argc, char **argv)
{
    sfp_db_config_init(); /* DATABASE_URL redacted as libpq reads it */
    int early = sfp_config_start(SFP_B_MIGRATE, "[--status]",
                                 "sfp-migrate: applies the embedded migrations once, under an advisory lock.\n"
                                 "  --status        print the applied schema version and exit",
                                 argc, argv);
    if (early >= 0) return early;
    bool status = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--status")) {
            status = true;
        } else {
            fprintf(stderr, "sfp-migrate: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    sfp_log_init("sfp-migrate");
    const char *url = NULL;
    sfp_err err = {0};
    sfp_cfg_text("DATABASE_URL", &url, &err); /* checked by sfp_config_start */
    PGconn *conn = connect_db(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        msg[strcspn(msg, "\n")] = '\0';
        sfp_log(SFP_ERROR, "cannot connect to DATABASE_URL", SFP_S("error", msg));
        PQfinish(conn);
        return 1;
    }
    int rc = status ? run_status(conn) : run_migrate(conn);
    PQfinish(conn);
    return rc;
}
