/* sfp-seed — loads the deterministic synthetic dataset into DATABASE_URL.
 *
 *   sfp-seed --scale demo|full [--seed N] [--as-of YYYY-MM-DD] [--jobs N]
 *
 * Needs a migrated database (sfp-migrate). Re-running replaces the data (idempotent).
 * stdout: one JSON line {"scale","seed","as_of","elapsed_s","generate_s","rows":{...},"tokens":{...}};
 * logs on stderr. Exit 0 ok, 1 runtime error, 2 bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db_url.h"
#include "log.h"
#include "clock.h"
#include "migrations.h"
#include "seed_demo.h"
#include "seed_gen.h"
#include "seed_load.h"

typedef struct seed_cli {
    sfp_seed_opts opts;
    int jobs;
    const char *scale_name;
} seed_cli;

static void usage(FILE *f)
{
    fputs("usage: sfp-seed --scale demo|full [--seed N] [--as-of YYYY-MM-DD] [--jobs N]\n"
          "  DATABASE_URL (required)  Postgres URL of a migrated database (run sfp-migrate first)\n"
          "  --scale demo             ~200 parcels, a few thousand rows, loads in seconds\n"
          "  --scale full             ~1.28M permits, 3.9M addenda, ... (reference volumes)\n"
          "  --seed N                 PRNG seed (default 20260212); same inputs give identical data\n"
          "  --as-of YYYY-MM-DD       the data's 'today' (default: yesterday, UTC)\n"
          "  --jobs N                 parallel loader connections, 1..8 (default 2)\n",
          f);
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int bad_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "sfp-seed: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    usage(stderr);
    return 2;
}

/* Returns 0 ok, 1 when --help was printed, 2 on bad usage. */
static int parse_args(int argc, char **argv, seed_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    cli->opts.seed = SFP_SEED_DEFAULT_SEED;
    cli->opts.as_of = (int32_t)(time(NULL) / 86400) - 1;
    cli->jobs = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--scale") && v) {
            if (strcmp(v, "demo") && strcmp(v, "full")) return bad_usage("--scale must be demo or full, got", v);
            cli->scale_name = v;
            cli->opts.scale = strcmp(v, "full") ? SFP_SEED_DEMO : SFP_SEED_FULL;
        } else if (!strcmp(a, "--seed") && v) {
            if (parse_u64(v, &cli->opts.seed) < 0) return bad_usage("--seed must be a non-negative integer, got", v);
        } else if (!strcmp(a, "--as-of") && v) {
            if (sfp_seed_parse_day(v, &cli->opts.as_of) < 0) return bad_usage("--as-of must be YYYY-MM-DD, got", v);
        } else if (!strcmp(a, "--jobs") && v) {
            if (parse_u64(v, &n) < 0 || n < 1 || n > 8) return bad_usage("--jobs must be 1..8, got", v);
            cli->jobs = (int)n;
        } else {
            return bad_usage("unknown or incomplete argument", a);
        }
        i++;
    }
    if (!cli->scale_name) return bad_usage("--scale is required", NULL);
    return 0;
}

/* The seed writes into the migrated schema; refuse early with a clear message otherwise. */
static int check_schema(PGconn *conn, sfp_err *err)
{
    int have = sfp_schema_version(conn);
    int need = sfp_migrations_count ? sfp_migrations[sfp_migrations_count - 1].version : 0;
    if (have < 0) return sfp_err_set(err, SFP_FAILED_PRECONDITION, "cannot read schema version");
    if (have < need)
        return sfp_err_set(err, SFP_FAILED_PRECONDITION,
                           "database schema is at version %d, need %d: run sfp-migrate first", have, need);
    return 0;
}

static void print_summary(const seed_cli *cli, double elapsed, double gen_s, const seed_table_stat *stats,
                          const seed_demo_stat *demo)
{
    char day[11];
    sfp_seed_format_day(cli->opts.as_of, day);
    printf("{\"scale\":\"%s\",\"seed\":%llu,\"as_of\":\"%s\",\"elapsed_s\":%.2f,\"generate_s\":%.2f,\"rows\":{",
           cli->scale_name, (unsigned long long)cli->opts.seed, day, elapsed, gen_s);
    for (int t = 0; t < SFP_SEED_TABLE_COUNT; t++)
        if (sfp_seed_table_is_bulk((sfp_seed_table)t))
            printf("\"%s\":%lld,", sfp_seed_table_name((sfp_seed_table)t), (long long)stats[t].rows);
    printf("\"permit_changes\":%lld,\"addenda_changes\":%lld,\"users\":%lld,\"api_tokens\":%lld,"
           "\"watch_items\":%lld,\"cron_log\":%lld,\"regulatory_watch\":%lld},\"tokens\":{",
           (long long)demo->permit_changes, (long long)demo->addenda_changes, (long long)demo->users,
           (long long)demo->api_tokens, (long long)demo->watch_items, (long long)demo->cron_log,
           (long long)demo->regulatory_watch);
    for (size_t i = 0; i < seed_demo_user_count(); i++)
        printf("%s\"%s\":\"%s\"", i ? "," : "", seed_demo_user_get(i)->email, seed_demo_user_get(i)->token);
    printf("}}\n");
    fflush(stdout);
}

static int run(const seed_cli *cli, const char *url)
{
    double t0 = sfp_mono_s();
    sfp_err err = {0};
    PGconn *conn = seed_connect(url, &err);
    if (!conn || check_schema(conn, &err) < 0 || seed_session_setup(conn, &err) < 0) {
        sfp_log(SFP_ERROR, "seed failed", SFP_S("error", err.msg));
        PQfinish(conn);
        return 1;
    }
    double tw = sfp_mono_s();
    sfp_seed_world *w = sfp_seed_world_new(&cli->opts);
    double gen_s = sfp_mono_s() - tw;
    if (!w) {
        sfp_log(SFP_ERROR, "seed failed", SFP_S("error", "cannot build the dataset (out of memory?)"));
        PQfinish(conn);
        return 1;
    }
    sfp_log(SFP_INFO, "dataset built", SFP_S("scale", cli->scale_name), SFP_I("parcels", sfp_seed_world_parcels(w)),
            SFP_I("permits", sfp_seed_world_permits(w)), SFP_D("seconds", gen_s));
    seed_table_stat stats[SFP_SEED_TABLE_COUNT];
    for (int t = 0; t < SFP_SEED_TABLE_COUNT; t++) stats[t] = (seed_table_stat){-1, 0, 0, 0};
    seed_demo_stat demo;
    int rc = seed_load_bulk(url, w, cli->jobs, stats, &err);
    if (rc == 0) rc = seed_load_demo(conn, w, &demo, &err);
    if (rc == 0) rc = seed_fill_benchmarks(conn, cli->opts.as_of, &err);
    if (rc == 0) {
        double elapsed = sfp_mono_s() - t0;
        sfp_log(SFP_INFO, "seed done", SFP_S("scale", cli->scale_name), SFP_D("elapsed_s", elapsed));
        print_summary(cli, elapsed, gen_s, stats, &demo);
    } else {
        sfp_log(SFP_ERROR, "seed failed", SFP_S("error", err.msg));
    }
    sfp_seed_world_free(w);
    PQfinish(conn);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    sfp_db_config_init(); /* DATABASE_URL redacted as libpq reads it */
    int early = sfp_config_start(SFP_B_SEED, "--scale demo|full [--seed N] [--as-of YYYY-MM-DD] [--jobs N]",
                                 "sfp-seed: replaces the bulk tables and the demo-owned application tables with a\n"
                                 "deterministic synthetic dataset (run it only against a database you mean to reset).",
                                 argc, argv);
    if (early >= 0) return early;
    seed_cli cli;
    int prc = parse_args(argc, argv, &cli);
    if (prc) return prc == 1 ? 0 : 2;
    sfp_log_init("sfp-seed");
    const char *url = NULL;
    sfp_err err = {0};
    sfp_cfg_text("DATABASE_URL", &url, &err); /* checked by sfp_config_start */
    return run(&cli, url);
}
