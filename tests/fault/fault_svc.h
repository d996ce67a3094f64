/* fault_svc.h — helpers shared by the service-side fault tests (test_fault_soda_*,
 * test_fault_pg_*, test_fault_shutdown): seeded databases, the SODA test server's control
 * endpoint, direct GetPropertyReport calls, log scanning and small statistics. Header-only so
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
                             &sfpermits__v1__property_report__descriptor, &resp, timeout_ms, NULL, 0, &st);
    out->ms = fault_now_ms() - t0;
    if (out->code != GRPC_STATUS_OK) return;
    Sfpermits__V1__PropertyReport *r = (void *)resp;
    if (r->sources && r->sources->complaints) {
        snprintf(out->complaints_state, sizeof out->complaints_state, "%s",
                 SFP_PBJSON_ENUM_NAME(&sfpermits__v1__source_state__descriptor, r->sources->complaints->state));
        snprintf(out->complaints_reason, sizeof out->complaints_reason, "%s", r->sources->complaints->reason);
    }
    out->cache_hit = r->debug && r->debug->report_cache_hit;
    out->server_ms = r->debug ? r->debug->elapsed_ms : 0;
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

#endif
