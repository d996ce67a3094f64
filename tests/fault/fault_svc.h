/* fault_svc.h — helpers shared by the service-side fault tests (test_fault_soda_*,
 * test_fault_pg_*, test_fault_shutdown): seeded databases, the SODA test server's control
 * endpoint, the SODA fault rig, direct GetPropertyReport calls, log scanning and small statistics. Header-only so
 * each test stays one file. */
#ifndef SFP_FAULT_SVC_H
#define SFP_FAULT_SVC_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "pbjson.h"
#include "rpc.h"
#include "sfpermits/v1/report.pb-c.h"
#include "testhttp.h"
#include "testsupport.h"

static inline double fault_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline void fault_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs sfp-seed --scale demo against url ("DATABASE_URL=..."); 0 on success. */
static inline int fault_seed_demo(const char *env_db)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "env '%s' %s/sfp-seed --scale demo >/dev/null 2>&1", env_db, SFP_BIN_DIR);
    int rc = system(cmd);
    return WIFEXITED(rc) && WEXITSTATUS(rc) == 0 ? 0 : -1;
}

/* POST /__control?query to the SODA test server; returns the HTTP status. */
static inline long fault_soda_control(int port, const char *query)
{
    char path[256];
    snprintf(path, sizeof path, "/__control?%s", query);
    sfp_http_resp r;
    if (sfp_http(NULL, port, "POST", path, NULL, "", 0, &r) != 0) return -1;
    long st = r.status;
    sfp_http_resp_free(&r);
    return st;
}

static inline long fault_soda_reset(int port)
{
    sfp_http_resp r;
    if (sfp_http(NULL, port, "POST", "/__reset", NULL, "", 0, &r) != 0) return -1;
    long st = r.status;
    sfp_http_resp_free(&r);
    return st;
}

/* Up to max distinct parcels that have permits, as "BBBB" / "LLL" pairs. Returns the count. */
static inline int fault_parcels(const char *url, char (*blocks)[8], char (*lots)[8], int max)
{
    PGconn *pg = PQconnectdb(url);
    int n = 0;
    if (PQstatus(pg) == CONNECTION_OK) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT block, lot FROM permits GROUP BY 1, 2 ORDER BY 1, 2 LIMIT %d", max);
        PGresult *r = PQexec(pg, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            for (int i = 0; i < PQntuples(r) && n < max; i++, n++) {
                snprintf(blocks[n], 8, "%s", PQgetvalue(r, i, 0));
                snprintf(lots[n], 8, "%s", PQgetvalue(r, i, 1));
            }
        PQclear(r);
    }
    PQfinish(pg);
    return n;
}

typedef struct fault_report {
    grpc_status_code code;
    double ms; /* client-side latency */
    char complaints_state[16], complaints_reason[32];
    bool cache_hit;
    double server_ms; /* debug.elapsed_ms: from the handler's start to assembly */
} fault_report;

/* One GetPropertyReport straight to sfp-report. */
static inline void fault_report_call(sfp_rpc_channel *ch, const char *block, const char *lot, int64_t timeout_ms,
                                     fault_report *out)
{
    memset(out, 0, sizeof *out);
    Sfpermits__V1__GetPropertyReportRequest req = SFPERMITS__V1__GET_PROPERTY_REPORT_REQUEST__INIT;
    req.block = (char *)block;
    req.lot = (char *)lot;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    double t0 = fault_now_ms();
    out->code = sfp_rpc_call(ch, "/sfpermits.v1.ReportService/GetPropertyReport", &req.base,
                             &sfpermits__v1__get_property_report_response__descriptor, &resp, timeout_ms, NULL, 0, &st);
    out->ms = fault_now_ms() - t0;
    if (out->code != GRPC_STATUS_OK) return;
    const Sfpermits__V1__GetPropertyReportResponse *r = (void *)resp;
    const Sfpermits__V1__ReadMetadata *md = r->metadata;
    for (size_t i = 0; md && i < md->n_sources; i++) {
        const Sfpermits__V1__SourceStatus *s = md->sources[i]->value;
        if (strcmp(md->sources[i]->key, "complaints") || !s) continue;
        snprintf(out->complaints_state, sizeof out->complaints_state, "%s",
                 SFP_PBJSON_ENUM_NAME(&sfpermits__v1__source_state__descriptor, s->state));
        snprintf(out->complaints_reason, sizeof out->complaints_reason, "%s", s->reason);
    }
    out->cache_hit = md && md->debug && md->debug->cached;
    out->server_ms = md && md->debug ? md->debug->elapsed_ms : 0;
    protobuf_c_message_free_unpacked(resp, NULL);
}

static inline int fault_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* q-quantile (nearest rank) of v[0..n); sorts v. */
static inline double fault_quantile(double *v, int n, double q)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, fault_cmp_double);
    int k = (int)(q * n + 0.999999) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    return v[k];
}

/* Lines of a process's log that contain needle. */
static inline int fault_log_count(const sfp_proc *p, const char *needle)
{
    FILE *f = fopen(p->log_path, "r");
    if (!f) return -1;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (!needle || strstr(line, needle)) n++;
    fclose(f);
    return n;
}

/* ---- the SODA fault rig (test_fault_soda_hang, test_fault_soda_drip) ----
 * A migrated database seeded with the demo data, `nparcels` of its parcels, the SODA test
 * server on it, and sfp-report (8 RPC workers, REPORT_SODA_BUDGET_MS=1500, DB_POOL_MIN=8,
 * SODA_CB_THRESHOLD=cb_threshold) with a channel to it. */
#define FAULT_RIG_MAX_PARCELS 32

typedef struct fault_soda_rig {
    sfp_proc soda, report;
    sfp_rpc_channel *ch;
    char env_db[1024], env_soda[128], env_cb[64];
    char blocks[FAULT_RIG_MAX_PARCELS][8], lots[FAULT_RIG_MAX_PARCELS][8];
} fault_soda_rig;

/* 0, or -1 (the reason on stderr). */
static inline int fault_soda_rig_start(fault_soda_rig *r, const char *dbname, int nparcels, int cb_threshold)
{
    memset(r, 0, sizeof *r);
    if (nparcels > FAULT_RIG_MAX_PARCELS) return -1;
    char *url = sfp_test_migrated_db(dbname);
    snprintf(r->env_db, sizeof r->env_db, "DATABASE_URL=%s", url);
    int np = fault_seed_demo(r->env_db) ? 0 : fault_parcels(url, r->blocks, r->lots, nparcels);
    free(url);
    if (np < nparcels) {
        fprintf(stderr, "need %d seeded parcels, got %d\n", nparcels, np);
        return -1;
    }
    const char *soda_env[] = {r->env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&r->soda, "sfp-soda-test-server", soda_env)) return -1;
    snprintf(r->env_soda, sizeof r->env_soda, "SODA_BASE_URL=http://127.0.0.1:%d/resource", r->soda.port);
    snprintf(r->env_cb, sizeof r->env_cb, "SODA_CB_THRESHOLD=%d", cb_threshold);
    const char *rep_env[] = {r->env_db,
                             r->env_soda,
                             "LISTEN_ADDR=127.0.0.1:0",
                             "RPC_WORKERS=8",
                             "REPORT_SODA_BUDGET_MS=1500",
                             r->env_cb,
                             "DB_POOL_MIN=8",
                             NULL};
    if (sfp_proc_start(&r->report, "sfp-report", rep_env)) return -1;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", r->report.port);
    r->ch = sfp_rpc_channel_create(addr);
    return 0;
}

/* Resets the SODA server's mode and stops both processes; 0, or -1 when one did not stop. */
static inline int fault_soda_rig_stop(fault_soda_rig *r)
{
    fault_soda_reset(r->soda.port);
    sfp_rpc_channel_destroy(r->ch);
    int bad = sfp_proc_stop(&r->report, 10000) != 0;
    bad |= sfp_proc_stop(&r->soda, 10000) != 0;
    return bad ? -1 : 0;
}

#endif
