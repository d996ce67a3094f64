/* seed_demo.c — demo users, watch lists, tokens, change feeds and job history (seed_demo.h).
 * Every statement is parameterised; the whole demo part is one transaction. */
#include "seed_demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed_load.h"
#include "sha256.h"

enum { SEED_ERR = 1, MAX_WATCHES = 6 };

static const seed_demo_user users[] = {
    {"alice@example.com", "Alice Nguyen", "homeowner", "demo-token-alice", "1455", "MARKET"},
    {"bob@example.com", "Bob Ramirez", "expediter", "demo-token-bob", "146", "LAKE"},
    {"carol@example.com", "Carol Chen", "architect", "demo-token-carol", NULL, NULL},
};
#define N_USERS (sizeof users / sizeof users[0])

size_t seed_demo_user_count(void)
{
    return N_USERS;
}
const seed_demo_user *seed_demo_user_get(size_t i)
{
    return i < N_USERS ? &users[i] : NULL;
}

typedef struct demo_watch {
    const char *type;        /* permit | address | parcel | neighborhood | entity */
    const char *block, *lot; /* parcel watches, and the parcel a permit watch is taken from */
    const char *street_number, *street_name, *neighborhood, *label;
} demo_watch;

/* Watch lists over the hand-placed parcels (seed_gen.h specials), one row per user. */
static const demo_watch watches[N_USERS][MAX_WATCHES] = {
    {{"parcel", "3512", "001", NULL, NULL, NULL, "1600 Mission St (HQ)"},
     {"permit", "3512", "001", NULL, NULL, NULL, "HQ tenant improvement"},
     {"address", NULL, NULL, "1455", "MARKET", NULL, "1455 Market St"},
     {"neighborhood", NULL, NULL, NULL, NULL, "Tenderloin", "Tenderloin"}},
    {{"address", NULL, NULL, "146", "LAKE", NULL, "146 Lake St"},
     {"parcel", "1386", "025", NULL, NULL, NULL, "146 Lake St parcel"},
     {"permit", "0585", "003", NULL, NULL, NULL, "Jackson St remodel"},
     {"parcel", "1742", "014", NULL, NULL, NULL, "1281 8th Ave"}},
    {{"parcel", "0312", "005", NULL, NULL, NULL, "125 Mason St"},
     {"parcel", "0585", "003", NULL, NULL, NULL, "2220 Jackson St"},
     {"neighborhood", NULL, NULL, NULL, NULL, "South of Market", "SoMa"},
     {"entity", NULL, NULL, NULL, NULL, NULL, "Busiest contractor"},
     {"permit", "3507", "004", NULL, NULL, NULL, "1455 Market permit"}},
};

/* Tables emptied by the seed: its own demo rows, and everything derived from the bulk data. */
static const char *const k_truncate =
    "TRUNCATE users, api_tokens, watch_items, brief_refresh, permit_changes, addenda_changes, cron_log,"
    " page_cache, regulatory_watch, severity_cache, permit_signals, property_signals, property_health,"
    " station_velocity, station_velocity_v2, station_transitions, station_congestion"
    " RESTART IDENTITY CASCADE";

/* Parameterised statement; returns its result (tuples or command) or NULL with err set. */
static PGresult *run(PGconn *conn, const char *sql, int n, const char *const *params, const char *what, sfp_err *err)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return res;
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    sfp_err_set(err, SEED_ERR, "%s: %s", what, msg ? msg : "failed");
    PQclear(res);
    return NULL;
}

static int run_cmd(PGconn *conn, const char *sql, int n, const char *const *params, const char *what, sfp_err *err)
{
    PGresult *res = run(conn, sql, n, params, what, err);
    if (!res) return -1;
    PQclear(res);
    return 0;
}

static int insert_user(PGconn *conn, const seed_demo_user *u, char user_id[16], sfp_err *err)
{
    const char *p[5] = {u->email, u->display_name, u->role, u->primary_street_number, u->primary_street_name};
    PGresult *res = run(conn,
                        "INSERT INTO users (email, display_name, role, primary_street_number, primary_street_name,"
                        " brief_frequency, email_verified, subscription_tier, onboarding_complete, last_login_at)"
                        " VALUES ($1, $2, $3, $4, $5, 'daily', TRUE, 'pro', TRUE, now() - interval '20 hours')"
                        " RETURNING user_id",
                        5, p, "insert user", err);
    if (!res) return -1;
    snprintf(user_id, 16, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    char hash[65];
    if (sfp_sha256_hex(u->token, strlen(u->token), hash) < 0) return sfp_err_set(err, SEED_ERR, "sha256 failed");
    const char *t[2] = {user_id, hash};
    return run_cmd(conn, "INSERT INTO api_tokens (user_id, token_sha256, label) VALUES ($1, decode($2, 'hex'), 'demo')",
                   2, t, "insert token", err);
}

static int insert_watch(PGconn *conn, const sfp_seed_world *w, const char *user_id, const demo_watch *x, sfp_err *err)
{
    char permit[13] = "", entity[16] = "";
    int is_permit = !strcmp(x->type, "permit");
    if (is_permit && sfp_seed_parcel_permit(w, x->block, x->lot, true, permit) < 0 &&
        sfp_seed_parcel_permit(w, x->block, x->lot, false, permit) < 0)
        return 0; /* parcel without permits at this scale: skip the watch */
    if (!strcmp(x->type, "entity")) {
        int32_t id = sfp_seed_top_contractor(w);
        if (!id) return 0;
        snprintf(entity, sizeof entity, "%d", id);
    }
    const char *p[10] = {user_id,
                         x->type,
                         is_permit ? permit : NULL,
                         x->street_number,
                         x->street_name,
                         is_permit ? NULL : x->block,
                         is_permit ? NULL : x->lot,
                         entity[0] ? entity : NULL,
                         x->neighborhood,
                         x->label};
    return run_cmd(conn,
                   "INSERT INTO watch_items (user_id, watch_type, permit_number, street_number, street_name,"
                   " block, lot, entity_id, neighborhood, label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::int, $9, $10)",
                   10, p, "insert watch", err);
}

static int insert_users(PGconn *conn, const sfp_seed_world *w, seed_demo_stat *st, sfp_err *err)
{
    for (size_t u = 0; u < N_USERS; u++) {
        char user_id[16];
        if (insert_user(conn, &users[u], user_id, err) < 0) return -1;
        st->users++;
        st->api_tokens++;
        for (int k = 0; k < MAX_WATCHES && watches[u][k].type; k++)
            if (insert_watch(conn, w, user_id, &watches[u][k], err) < 0) return -1;
    }
    PGresult *res = run(conn, "SELECT count(*) FROM watch_items", 0, NULL, "count watches", err);
    if (!res) return -1;
    st->watch_items = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* Job history relative to now(): recent nightly successes, one failure, one catch-up run,
 * the signals/velocity steps and hourly heartbeats, so pipeline health and stats have data. */
static int insert_cron_history(PGconn *conn, int32_t as_of, seed_demo_stat *st, sfp_err *err)
{
    char day[11];
    sfp_seed_format_day(as_of, day);
    const char *p[1] = {day};
    if (run_cmd(conn,
                "INSERT INTO cron_log (job_type, started_at, completed_at, status, lookback_days, soda_records,"
                " changes_inserted, inspections_updated, error_message, was_catchup, worker, stats) VALUES"
                " ('nightly', now() - interval '78 hours', now() - interval '78 hours' + interval '241 seconds',"
                "  'success', 1, 1874, 96, 41, NULL, FALSE, 'sfp-seed', NULL),"
                " ('nightly', now() - interval '54 hours', now() - interval '54 hours' + interval '480 seconds',"
                "  'failed', 1, 0, 0, 0, 'SODA request timed out after 3 retries (demo row)', FALSE, 'sfp-seed', NULL),"
                " ('nightly', now() - interval '30 hours', now() - interval '30 hours' + interval '395 seconds',"
                "  'success', 2, 3521, 188, 77, NULL, TRUE, 'sfp-seed', NULL),"
                " ('nightly', now() - interval '6 hours', now() - interval '6 hours' + interval '252 seconds',"
                "  'success', 1, 1932,"
                "  (SELECT count(*) FROM permit_changes WHERE change_date = $1::date),"
                "  (SELECT count(*) FROM addenda_changes WHERE change_date = $1::date), NULL, FALSE, 'sfp-seed', NULL),"
                " ('signals', now() - interval '350 minutes', now() - interval '349 minutes', 'success',"
                "  NULL, NULL, NULL, NULL, NULL, FALSE, 'sfp-seed', '{\"demo\": true}'),"
                " ('velocity_refresh', now() - interval '345 minutes', now() - interval '345 minutes'"
                "  + interval '12 seconds', 'success', NULL, NULL, NULL, NULL, NULL, FALSE, 'sfp-seed', NULL),"
                " ('heartbeat', now() - interval '3 hours', now() - interval '3 hours', 'completed',"
                "  NULL, NULL, NULL, NULL, NULL, FALSE, 'sfp-seed', NULL),"
                " ('heartbeat', now() - interval '2 hours', now() - interval '2 hours', 'completed',"
                "  NULL, NULL, NULL, NULL, NULL, FALSE, 'sfp-seed', NULL),"
                " ('heartbeat', now() - interval '1 hour', now() - interval '1 hour', 'completed',"
                "  NULL, NULL, NULL, NULL, NULL, FALSE, 'sfp-seed', NULL)",
                1, p, "insert cron_log", err) < 0)
        return -1;
    st->cron_log = 9;
    return 0;
}

static int insert_regulatory(PGconn *conn, seed_demo_stat *st, sfp_err *err)
{
    if (run_cmd(conn,
                "INSERT INTO regulatory_watch (title, description, source_type, source_id, status, impact_level,"
                " affected_sections, semantic_concepts, filed_date, effective_date, notes) VALUES"
                " ('Streamlined ADU permitting', 'Shortens plan review for accessory dwelling units added within"
                " existing buildings.', 'ordinance', 'demo-ord-adu', 'passed', 'high', 'Planning Code 207(c)(4)',"
                " '[\"adu\", \"accessory dwelling\"]', '2025-03-04', '2025-06-01', 'Synthetic demo row'),"
                " ('Soft-story retrofit program, final phase', 'Deadlines for the remaining wood-frame soft-story"
                " buildings.', 'building_code', 'demo-sfbc-34b', 'monitoring', 'moderate', 'SFBC Chapter 34B',"
                " '[\"seismic\", \"soft story\"]', '2025-09-15', NULL, 'Synthetic demo row'),"
                " ('Permit shot clock for housing projects', 'State bill setting maximum review times for"
                " post-entitlement permits.', 'state_bill', 'demo-ab-shotclock', 'monitoring', 'moderate',"
                " 'Gov. Code 65913.3', '[\"permit timeline\"]', '2025-02-10', NULL, 'Synthetic demo row')",
                0, NULL, "insert regulatory_watch", err) < 0)
        return -1;
    st->regulatory_watch = 3;
    return 0;
}

static int demo_in_txn(PGconn *conn, const sfp_seed_world *w, seed_demo_stat *st, sfp_err *err)
{
    if (seed_exec(conn, k_truncate, "truncate demo tables", err) < 0) return -1;
    if (seed_copy_table(conn, w, SFP_SEED_PERMIT_CHANGES, 0, &st->permit_changes, err) < 0) return -1;
    if (seed_copy_table(conn, w, SFP_SEED_ADDENDA_CHANGES, 0, &st->addenda_changes, err) < 0) return -1;
    if (insert_users(conn, w, st, err) < 0) return -1;
    if (insert_cron_history(conn, sfp_seed_world_opts(w)->as_of, st, err) < 0) return -1;
    return insert_regulatory(conn, st, err);
}

int seed_load_demo(PGconn *conn, const sfp_seed_world *w, seed_demo_stat *st, sfp_err *err)
{
    memset(st, 0, sizeof *st);
    if (seed_exec(conn, "BEGIN", "begin", err) < 0) return -1;
    if (demo_in_txn(conn, w, st, err) < 0 || seed_exec(conn, "COMMIT", "commit", err) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return -1;
    }
    return seed_exec(conn, "ANALYZE users, api_tokens, watch_items, permit_changes, addenda_changes, cron_log",
                     "analyze demo tables", err);
}
