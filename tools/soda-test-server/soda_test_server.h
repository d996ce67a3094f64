/* soda_test_server.h — sfp-soda-test-server: a local stand-in for data.sfgov.org's SODA API,
 * used by tests and benchmarks. Two modules:
 *
 *   sts_data_*   row source. With DATABASE_URL: rows are read from Postgres per request
 *                (complaints → gm2e-bten, violations → nbtm-fbw5, tax_rolls → wv5m-vpq2 with
 *                closed_roll_year = tax_year; every non-null column as a JSON string, like
 *                Socrata), using one libpq connection per server thread. Reading per request
 *                instead of loading everything at start keeps a --scale full dataset (≈1.4M
 *                rows) out of memory. Without DATABASE_URL: a deterministic generator keyed by
 *                (dataset, block, lot):
 *                  lot "000"            → no rows in any dataset (an "empty parcel")
 *                  3512/001             → 60 complaints, 55 violations, 7 tax-roll years
 *                  otherwise            → 1..6 complaints, 0..3 violations, 3..7 roll years
 *   sts_server_* HTTP (libmicrohttpd, one thread per connection):
 *                  GET  /resource/{dataset}.json?$where=block='B' AND lot='L'&$order=col [ASC|DESC]
 *                       &$limit=N&$offset=M   (any other $where → 400 like Socrata; unknown
 *                       dataset → 404)
 *                  POST /__control?mode=ok|delay|garbage|hang|failNNN[&delay_ms=N][&retry_after=S]
 *                       [&dataset=ID][&count=K]  (or the same keys in a JSON body). failNNN answers
 *                       HTTP NNN (400..599; 429/503 carry Retry-After: S, default 1). delay_ms
 *                       delays every affected response; dataset limits the mode to one dataset;
 *                       count makes the mode apply to the next K affected requests only.
 *                  GET  /__stats  {"requests":N,"by_dataset":{...},"mode":"..","in_flight":n,
 *                       "last":{"dataset","where","order","limit","offset","app_token",
 *                       "accept_encoding"}}
 *                  POST /__reset  counters to zero, mode ok, hung requests released.
 * All memory returned by these functions is owned by the caller unless stated otherwise. */
#ifndef SFP_SODA_TEST_SERVER_H
#define SFP_SODA_TEST_SERVER_H

#include <stdbool.h>
#include "sfp_err.h"

/* ---- data ---- */
typedef struct sts_data sts_data;

/* database_url NULL/"" → generator. Checks the connection and tables at start. */
sts_data *sts_data_open(const char *database_url, sfp_err *err);
void sts_data_close(sts_data *d);
const char *sts_data_kind(const sts_data *d); /* "postgres" | "generator" */
bool sts_dataset_known(const char *dataset);
/* Rows of (dataset, block, lot) ordered by order_col (NULL = unordered) as a JSON array text
 * (malloc'd, caller frees) or NULL + err on a database error. */
char *sts_data_query(sts_data *d, const char *dataset, const char *block, const char *lot, const char *order_col,
                     bool desc, long limit, long offset, sfp_err *err);

/* ---- server ---- */
typedef struct sts_server sts_server;

/* Binds addr ("host:port", port 0 = any) and starts serving. */
sts_server *sts_server_start(const char *addr, sts_data *d, sfp_err *err);
int sts_server_port(const sts_server *s);
/* Releases hung/delayed requests, stops the daemon and frees the server. */
void sts_server_stop(sts_server *s);

#endif
