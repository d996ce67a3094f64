/* soda_test_server.h — sfp-soda-test-server: a local stand-in for data.sfgov.org's SODA API,
 * used by tests, benchmarks and `scripts/dev up` (offline nightly). Two modules:
 *
 *   sts_data_*   row source. With DATABASE_URL: rows are read from Postgres per request, every
 *                non-null column as a JSON string like Socrata, one libpq connection per server
 *                thread (a --scale full dataset never has to fit in memory). Datasets:
 *                  i98e-djp9 permits (neighborhood sent as neighborhoods_analysis_boundaries)
 *                  87xy-gk8d addenda        vckc-dh2h inspections
 *                  3pee-9qhc / fdm7-jqqf / k6kv-9kix contacts of source building / electrical /
 *                            plumbing (without id, source, entity_id)
 *                  gm2e-bten complaints     nbtm-fbw5 violations
 *                  wv5m-vpq2 tax_rolls (closed_roll_year = tax_year)
 *                  5dp4-gtxk boiler_permits b6tj-gt35 street_use_permits
 *                  qvu5-m3a2 / y673-d69b planning_records that are / are not projects
 *                            (without is_project)
 *                  6jgi-cpb4 development_pipeline (the last four without their surrogate id)
 *                Without DATABASE_URL: a deterministic generator for gm2e-bten, nbtm-fbw5 and
 *                wv5m-vpq2 keyed by (dataset, block, lot), parcel queries only:
 *                  lot "000"            → no rows in any dataset (an "empty parcel")
 *                  3512/001             → 60 complaints, 55 violations, 7 tax-roll years
 *                  otherwise            → 1..6 complaints, 0..3 violations, 3..7 roll years
 *   sts_server_* HTTP (libmicrohttpd, one thread per connection):
 *                  GET  /resource/{dataset}.json?$where=..&$order=..&$limit=N&$offset=M
 *                       [&$select=count(*) [AS alias]]
 *                       $where: `field OP 'literal'` terms joined by AND (OP: = != <> > >= < <=;
 *                       '' escapes a quote); $order: `field [ASC|DESC]` list, `:id` = the
 *                       dataset's row identity (a unique, stable order: page with $order=:id).
 *                       Rows always end with :id as a tie-breaker, so every order is total.
 *                       $limit default 1000, max 50000. A page continuing where the previous
 *                       :id-ordered page of the same query ended is read by key, not by skipping
 *                       $offset rows, so paging through millions of rows stays linear.
 *                       Anything else (unknown field, other syntax) → 400 like Socrata; unknown
 *                       dataset → 404.
 *                  POST /__control?mode=ok|delay|garbage|truncate|hang|drip|failNNN[&delay_ms=N]
 *                       [&retry_after=S][&dataset=ID][&count=K][&after=J]  (or the same keys in a
 *                       JSON body). failNNN answers HTTP NNN (400..599; 429/503 carry Retry-After:
 *                       S, default 1); garbage answers 200 with a body that is not JSON; truncate
 *                       answers 200 with the first half of the real page (malformed JSON); hang
 *                       never answers (released by the next mode change, reset or shutdown);
 *                       drip answers 200 with the real page's Content-Length and sends its body
 *                       one byte every delay_ms (default 200; ended the same way as hang).
 *                       delay_ms delays every other affected response; dataset limits the mode to one
 *                       dataset; after=J lets the next J affected requests through normally
 *                       first; count makes the mode apply to the next K affected requests only.
 *                  GET  /__stats  {"requests":N,"by_dataset":{...},"mode":"..","in_flight":n,
 *                       "last":{"dataset","where","order","limit","offset","select","app_token",
 *                       "accept_encoding"}}
 *                  POST /__reset  counters to zero, mode ok, hung requests released.
 * All memory returned by these functions is owned by the caller unless stated otherwise. */
#ifndef SFP_SODA_TEST_SERVER_H
#define SFP_SODA_TEST_SERVER_H

#include <stdbool.h>
#include "sfp_err.h"

/* ---- data ---- */
typedef struct sts_data sts_data;

#define STS_MAX_TERMS 8
#define STS_MAX_ORDER 8

/* A parsed request. Field names are [A-Za-z_][A-Za-z0-9_]* or ":id". */
typedef struct sts_query {
    const char *dataset;
    int n_terms;
    struct {
        char field[64];
        char op[3]; /* "=", "!=", ">", ">=", "<", "<=" */
        char value[256];
    } terms[STS_MAX_TERMS]; /* AND-ed */
    int n_order;
    struct {
        char field[64];
        bool desc;
    } order[STS_MAX_ORDER];
    bool count;           /* $select=count(*) */
    char count_alias[64]; /* "count" unless AS alias */
    long limit, offset;
} sts_query;

/* database_url NULL/"" → generator. Checks the connection and tables at start. */
sts_data *sts_data_open(const char *database_url, sfp_err *err);
void sts_data_close(sts_data *d);
const char *sts_data_kind(const sts_data *d); /* "postgres" | "generator" */
bool sts_dataset_known(const sts_data *d, const char *dataset);
/* Every dataset id served (static strings); *n = count. */
const char *const *sts_dataset_ids(size_t *n);
/* The page as a JSON array text (malloc'd, caller frees), or NULL + err: err->code 3 = the query
 * is invalid for this dataset (HTTP 400), anything else a server error (HTTP 500). */
char *sts_data_run(sts_data *d, const sts_query *q, sfp_err *err);

/* ---- server ---- */
typedef struct sts_server sts_server;

/* Binds addr ("host:port", port 0 = any) and starts serving. */
sts_server *sts_server_start(const char *addr, sts_data *d, sfp_err *err);
int sts_server_port(const sts_server *s);
/* Releases hung/delayed requests, stops the daemon and frees the server. */
void sts_server_stop(sts_server *s);

#endif
