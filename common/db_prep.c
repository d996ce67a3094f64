/* db_prep.c — see db_prep.h. */
#include "db_prep.h"
#include "db_error.h"

#include <libpq-events.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PREPARED 64

typedef struct prep_set {
    int n;
    const char *names[MAX_PREPARED]; /* static strings: compared by strcmp */
} prep_set;

static int prep_event(PGEventId id, void *info, void *pass)
{
    (void)pass;
    if (id == PGEVT_CONNDESTROY) {
        PGEventConnDestroy *e = info;
        free(PQinstanceData(e->conn, prep_event));
    } else if (id == PGEVT_CONNRESET) {
        PGEventConnReset *e = info;
        prep_set *s = PQinstanceData(e->conn, prep_event);
        if (s) s->n = 0; /* a reset connection is a new session */
    }
    return 1;
}

static prep_set *set_of(PGconn *pg)
{
    prep_set *s = PQinstanceData(pg, prep_event);
    if (s) return s;
    if (!PQregisterEventProc(pg, prep_event, "sfp_db_prep", NULL)) return NULL;
    s = calloc(1, sizeof *s);
    if (!s) abort();
    if (!PQsetInstanceData(pg, prep_event, s)) {
        free(s);
        return NULL;
    }
    return s;
}

static bool has(const prep_set *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name)) return true;
    return false;
}

static void fail(PGconn *pg, PGresult *r, const sfp_db_stmt *st, sfp_log_level lvl, char *sqlstate, sfp_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (sqlstate) snprintf(sqlstate, 6, "%s", state ? state : "");
    char msg[240];
    snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(pg));
    msg[strcspn(msg, "\n")] = '\0';
    bool conn_ok = PQstatus(pg) == CONNECTION_OK;
    sfp_db_class k = sfp_db_classify(state, conn_ok);
    if (!conn_ok) sfp_log(SFP_WARN, "db connection lost during query", SFP_S("stmt", st->name), SFP_S("error", msg));
    else if (k.timeout) sfp_log(SFP_WARN, "db statement timed out", SFP_S("stmt", st->name), SFP_S("sqlstate", state));
    else
        sfp_log(lvl, "db query failed", SFP_S("stmt", st->name), SFP_S("sqlstate", state ? state : ""),
                SFP_S("error", msg));
    sfp_err_set(err, k.code, "%s", k.msg);
}

PGresult *sfp_db_prepared(sfp_conn *c, const sfp_db_stmt *st, const char *const *params, const int *lengths,
                          const int *formats, int result_format, sfp_log_level fail_level, char *sqlstate, sfp_err *err)
{
    PGconn *pg = sfp_conn_pg(c);
    if (sqlstate) sqlstate[0] = '\0';
    prep_set *s = set_of(pg);
    if (!s || s->n >= MAX_PREPARED) { /* cannot track: plain extended protocol */
        PGresult *r = PQexecParams(pg, st->sql, st->nparams, NULL, params, lengths, formats, result_format);
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK) return r;
        fail(pg, r, st, fail_level, sqlstate, err);
        PQclear(r);
        return NULL;
    }
    if (!has(s, st->name)) {
        PGresult *p = PQprepare(pg, st->name, st->sql, st->nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            fail(pg, p, st, fail_level, sqlstate, err);
            PQclear(p);
            return NULL;
        }
        PQclear(p);
        s->names[s->n++] = st->name;
    }
    PGresult *r = PQexecPrepared(pg, st->name, st->nparams, params, lengths, formats, result_format);
    ExecStatusType t = PQresultStatus(r);
    if (t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK) return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && !strcmp(state, "26000")) s->n = 0; /* the session lost its statements (DISCARD ALL?) */
    fail(pg, r, st, fail_level, sqlstate, err);
    PQclear(r);
    return NULL;
}

sfp_db_prep_state sfp_db_prep_lookup(sfp_conn *c, const char *name)
{
    prep_set *s = set_of(sfp_conn_pg(c));
    if (!s) return SFP_DB_PREP_UNTRACKED;
    if (has(s, name)) return SFP_DB_PREP_READY;
    return s->n < MAX_PREPARED ? SFP_DB_PREP_NEEDED : SFP_DB_PREP_UNTRACKED;
}

void sfp_db_prep_mark(sfp_conn *c, const char *name)
{
    prep_set *s = set_of(sfp_conn_pg(c));
    if (s && s->n < MAX_PREPARED && !has(s, name)) s->names[s->n++] = name;
}

int sfp_db_prep_missing(sfp_conn *c, const sfp_db_stmt *stmts, int n, bool *missing)
{
    prep_set *s = set_of(sfp_conn_pg(c));
    if (!s) return -1;
    int k = 0;
    for (int i = 0; i < n; i++) k += missing[i] = sfp_db_prep_lookup(c, stmts[i].name) != SFP_DB_PREP_READY;
    return s->n + k > MAX_PREPARED ? -1 : k;
}

int sfp_db_prep_send(sfp_conn *c, const sfp_db_stmt *st)
{
    return PQsendPrepare(sfp_conn_pg(c), st->name, st->sql, st->nparams, NULL);
}

bool sfp_db_prep_result(sfp_conn *c, const sfp_db_stmt *st, const PGresult *r)
{
    if (PQresultStatus(r) != PGRES_COMMAND_OK) return false;
    sfp_db_prep_mark(c, st->name);
    return true;
}

void sfp_db_prep_forget(sfp_conn *c)
{
    prep_set *s = PQinstanceData(sfp_conn_pg(c), prep_event);
    if (s) s->n = 0;
}

int sfp_db_prepared_count(sfp_conn *c)
{
    prep_set *s = PQinstanceData(sfp_conn_pg(c), prep_event);
    return s ? s->n : 0;
}
