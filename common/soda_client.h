/* soda_client.h — the shared SODA (Socrata, data.sfgov.org) client: libcurl transfers, one
 * process-wide circuit breaker (common/soda_breaker) and one response cache
 * (common/ttl_cache), used by the report service now and by cron later.
 *
 * One sfp_soda per process: create it at service start with sfp_soda_create_from_env and
 * destroy it at exit (after every request using it has finished). Every function below is
 * thread-safe and may be called by many request threads at once.
 *
 * Three layers:
 *   1. pure SoQL helpers (validation, quoting, URL building) — unit-testable, no I/O;
 *   2. sfp_soda_query_run / sfp_soda_query_many — uncached queries through the breaker, the
 *      many-variant running N transfers concurrently (curl multi) bounded by one deadline;
 *   3. sfp_soda_parcel_fetch (+ begin/end) — the report's "{dataset}:{block}:{lot}" queries
 *      through the cache: fresh hit → CACHED (no HTTP); else breaker-permitted, coalesced fetch
 *      → LIVE; on failure or open breaker → STALE (expired entry within SODA_CACHE_STALE_MAX)
 *      or UNAVAILABLE with a reason. Only real HTTP 200 results are cached (empty ones too).
 *
 * Rows: a response body is parsed once with cJSON into an immutable array of objects (values
 * are strings, as Socrata sends them). The parsed tree is shared by reference between the
 * cache and every reader — never copied. Read it with sfp_soda_rows_json(); it stays valid
 * until the reference you hold is released (sfp_soda_result_clear / sfp_soda_response_clear).
 * Do not modify it (cJSON reads are safe from many threads; writes are not).
 *
 * Connections: the parcel path runs on one event-loop thread with one curl multi handle
 * (its connection cache keeps SODA connections alive between reports); sfp_soda_query_* use a
 * pool of curl multi handles (each with its own connection cache); a CURLSH shares DNS and TLS
 * sessions. (libcurl documents that sharing the connection cache itself through CURLSH is not
 * thread-safe, so it is not shared that way.)
 *
 * Environment (validated by sfp_soda_config_from_env; errors name the variable):
 *   SODA_BASE_URL            https://data.sfgov.org/resource  (http:// or https://)
 *   SODA_APP_TOKEN           unset → no X-App-Token header (never logged)
 *   SODA_TIMEOUT_MS          10000 (100..600000) whole-transfer timeout per request
 *   SODA_CONNECT_TIMEOUT_MS  3000  (50..60000)
 *   SODA_MAX_RESPONSE_BYTES  33554432 (1024..1073741824), after gzip decoding
 *   SODA_CB_THRESHOLD 5, SODA_CB_TIMEOUT 60, SODA_CB_HALF_OPEN_PROBES 3,
 *   SODA_CB_HALF_OPEN_MAX_WAIT 30                          (see soda_breaker.h)
 *   SODA_CACHE_TTL 900, SODA_CACHE_MAX_ENTRIES 10000, SODA_CACHE_STALE_MAX 86400 (ttl_cache.h)
 *
 * Breaker outcome of a request (sfp_soda_classify):
 *   SUCCESS  2xx with a JSON array body
 *   FAILURE  connect/DNS/TLS/send/recv errors, timeouts, HTTP 5xx, 408, 429 (its Retry-After
 *            is a lower bound of the open period), 2xx with a non-array/garbage body
 *   IGNORED  other 4xx (logged as errors: our query is wrong), response over the size limit,
 *            and a timeout caused by a caller budget shorter than min(SODA_TIMEOUT_MS, 1000 ms)
 *            (a caller in a hurry is not evidence that SODA is down)
 */
#ifndef SFP_SODA_CLIENT_H
#define SFP_SODA_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sfp_err.h"
#include "soda_breaker.h"
#include "soda_ids.h"
#include "soda_source.h"
#include "ttl_cache.h"

typedef struct sfp_soda sfp_soda;
/* Parsed rows: a refcounted cache value whose data is the cJSON array. */
typedef sfp_cache_val sfp_soda_rows;

/* ---------------- configuration / lifecycle ---------------- */

typedef struct sfp_soda_config {
    const char *base_url;  /* no trailing slash needed; copied by create */
    const char *app_token; /* NULL or "" = none; copied by create */
    int timeout_ms;
    int connect_timeout_ms;
    long max_response_bytes;
    sfp_breaker_config breaker;
    sfp_ttl_cache_config cache;
} sfp_soda_config;

void sfp_soda_config_defaults(sfp_soda_config *c);
/* Defaults + environment. Strings point into the environment. -1 + err on a bad value. */
int sfp_soda_config_from_env(sfp_soda_config *c, sfp_err *err);

/* Calls curl_global_init once per process (thread-safe). Returns NULL + err on failure.
 * The caller owns the context; sfp_soda_destroy (NULL-safe) frees it. */
sfp_soda *sfp_soda_create(const sfp_soda_config *c, sfp_err *err);
sfp_soda *sfp_soda_create_from_env(sfp_err *err);
void sfp_soda_destroy(sfp_soda *s);

/* Borrowed pointers (owned by s) for stats/Introspection: sfp_breaker_stats_pb(),
 * sfp_ttl_cache_stats_pb(). */
sfp_breaker *sfp_soda_breaker(sfp_soda *s);
sfp_ttl_cache *sfp_soda_cache(sfp_soda *s);

typedef struct sfp_soda_counters {
    int64_t requests;         /* HTTP requests started */
    int64_t ok;               /* 2xx with a usable body */
    int64_t errors;           /* everything else that reached the network */
    int64_t breaker_rejected; /* queries refused by the breaker (no HTTP) */
    int64_t bytes;            /* decoded body bytes received */
} sfp_soda_counters;
void sfp_soda_get_counters(sfp_soda *s, sfp_soda_counters *out);

/* ---------------- SoQL helpers (pure) ---------------- */

/* sfp_soda_valid_block/lot/dataset: soda_ids.h (included above). */
/* Writes 'v' with every ' doubled into out; -1 if it does not fit. */
int sfp_soda_soql_quote(const char *v, char *out, size_t outsz);
/* "block='B' AND lot='L'" after validating both; -1 + err (code 3 = INVALID_ARGUMENT). */
int sfp_soda_where_parcel(const char *block, const char *lot, char *out, size_t outsz, sfp_err *err);
/* "{dataset}:{block}:{lot}" */
void sfp_soda_cache_key(const char *dataset, const char *block, const char *lot, char *out, size_t outsz);

typedef struct sfp_soda_query {
    const char *dataset; /* 4x4 id, e.g. "gm2e-bten" */
    const char *select;  /* SoQL or NULL */
    const char *where;   /* SoQL or NULL (build values with sfp_soda_soql_quote) */
    const char *order;   /* SoQL or NULL; always set one when paging */
    long limit;          /* 1..50000 */
    long offset;         /* >= 0 */
    /* Optional: reads a 2xx body instead of sfp_soda_rows_parse (NULL = that one). It must
     * refuse (NULL) every body sfp_soda_rows_parse refuses; the rows it returns may hold any
     * data (count = the number of rows). Called on the requesting thread with parse_ctx. */
    sfp_soda_rows *(*parse)(const char *body, size_t len, void *parse_ctx);
    void *parse_ctx;
} sfp_soda_query;

/* "{base}/{dataset}.json?$select=..&$where=..&$order=..&$limit=N&$offset=M" with every value
 * URL-encoded (curl_easy_escape); absent parts omitted, $limit/$offset always present.
 * Returns malloc'd string (caller frees) or NULL + err for an invalid query. */
char *sfp_soda_build_url(const char *base, const sfp_soda_query *q, sfp_err *err);

/* ---------------- uncached queries ---------------- */

typedef enum {
    SFP_SODA_OK = 0,
    SFP_SODA_E_BREAKER_OPEN, /* refused by the breaker; no HTTP request made */
    SFP_SODA_E_TIMEOUT,      /* SODA_TIMEOUT_MS or connect timeout */
    SFP_SODA_E_DEADLINE,     /* the caller's budget ran out first */
    SFP_SODA_E_NETWORK,      /* connect/DNS/TLS/send/recv */
    SFP_SODA_E_HTTP,         /* non-2xx status (http_status) */
    SFP_SODA_E_BAD_BODY,     /* 2xx but not a JSON array */
    SFP_SODA_E_TOO_LARGE,    /* over SODA_MAX_RESPONSE_BYTES */
    SFP_SODA_E_INVALID,      /* invalid query/arguments; no HTTP request made */
    SFP_SODA_E_INTERNAL,
} sfp_soda_status;

typedef struct sfp_soda_response {
    sfp_soda_status status;
    long http_status;  /* 0 when no HTTP status was received */
    int retry_after_s; /* from Retry-After on 429/503, else 0 */
    double elapsed_ms;
    char reason[32];     /* "" when OK; else "breaker_open", "timeout", "deadline",
                           * "network", "http_503", "bad_json", "too_large", "invalid_query" */
    sfp_soda_rows *rows; /* OK: a reference (possibly 0 rows); otherwise NULL */
} sfp_soda_response;

/* One query through the breaker, bounded by budget_ms (INT64_MAX = SODA_TIMEOUT_MS only).
 * Returns 0 when OK, -1 otherwise (details in *out). Release with sfp_soda_response_clear.
 * An open breaker gives status BREAKER_OPEN with rows NULL — never an empty "page", so a
 * pager cannot mistake it for the end of data. */
int sfp_soda_query_run(sfp_soda *s, const sfp_soda_query *q, int64_t budget_ms, sfp_soda_response *out);
/* n queries at once (one curl multi), all bounded by budget_ms; outs[i] for qs[i]. */
void sfp_soda_query_many(sfp_soda *s, const sfp_soda_query *qs, size_t n, int64_t budget_ms, sfp_soda_response *outs);
void sfp_soda_response_clear(sfp_soda_response *r); /* drops rows; NULL-safe */

/* Breaker classification of a finished transfer (pure): curl_code is a CURLcode. */
sfp_breaker_outcome sfp_soda_classify(int curl_code, long http_status, bool body_ok);

/* ---------------- rows ---------------- */

/* A 2xx response body as rows: exactly one JSON array whose elements are all objects, with
 * nothing but whitespace around it; anything else (garbage, a truncated or concatenated body,
 * a bare object, an array of non-objects) → NULL. The caller owns the one reference returned. */
sfp_soda_rows *sfp_soda_rows_parse(const char *body, size_t len);

const cJSON *sfp_soda_rows_json(const sfp_soda_rows *r); /* the array, or NULL for NULL */
long sfp_soda_rows_count(const sfp_soda_rows *r);        /* 0 for NULL */
sfp_soda_rows *sfp_soda_rows_ref(sfp_soda_rows *r);
void sfp_soda_rows_unref(sfp_soda_rows *r);

/* ---------------- cached parcel queries (the report) ---------------- */

/* sfp_soda_source (soda_source.h): live, cached, stale, unavailable. */

typedef struct sfp_soda_parcel_spec {
    const char *dataset; /* must outlive the call */
    const char *order;
    long limit;
} sfp_soda_parcel_spec;

/* The report's datasets: complaints gm2e-bten (date_filed DESC, 50), violations nbtm-fbw5
 * (date_filed DESC, 50), tax roll wv5m-vpq2 (closed_roll_year DESC, 5); $offset=0. */
enum { SFP_SODA_COMPLAINTS = 0, SFP_SODA_VIOLATIONS = 1, SFP_SODA_TAX_ROLL = 2, SFP_SODA_REPORT_N = 3 };
extern const sfp_soda_parcel_spec sfp_soda_report_specs[SFP_SODA_REPORT_N];

typedef struct sfp_soda_result {
    sfp_soda_source source;
    double age_s;        /* CACHED/STALE: age of the entry; LIVE: 0 */
    double fresh_for_s;  /* LIVE/CACHED: seconds until the entry expires (Cache-Control); else 0 */
    bool breaker_open;   /* the breaker refused the live call (no HTTP request was made) */
    bool coalesced;      /* LIVE via another request's in-flight fetch */
    long http_status;    /* status of the failed live call, 0 if none */
    char reason[32];     /* STALE/UNAVAILABLE: why the live fetch failed ("breaker_open",
                          * "timeout", "deadline", "network", "http_503", "bad_json", ...) */
    sfp_soda_rows *rows; /* LIVE/CACHED/STALE: a reference; UNAVAILABLE: NULL */
} sfp_soda_result;

/* Runs specs[0..n) for one parcel concurrently, bounded by budget_ms, through cache + breaker.
 * Validates block/lot first: invalid → -1 + err (code 3 INVALID_ARGUMENT), no request made,
 * out untouched. Otherwise 0 and out[i] filled for every i (a per-dataset failure is an
 * UNAVAILABLE/STALE result, not an error). Release with sfp_soda_results_clear(out, n). */
int sfp_soda_parcel_fetch(sfp_soda *s, const char *block, const char *lot, const sfp_soda_parcel_spec *specs, size_t n,
                          int64_t budget_ms, sfp_soda_result *out, sfp_err *err);
void sfp_soda_result_clear(sfp_soda_result *r);
void sfp_soda_results_clear(sfp_soda_result *r, size_t n);

/* Asynchronous form, event-driven: begin does the cache lookups in the calling thread and
 * hands every miss to the client's one event-loop thread (one curl multi for all parcel
 * fetches of the process), so no caller thread waits for the network. A job is done when each
 * dataset has a result or its budget ends (then the missing ones are STALE/UNAVAILABLE with
 * reason "deadline"); concurrent jobs for the same key share one transfer (coalesced).
 *   begin:   NULL + err for invalid block/lot (no request made). specs must outlive the job.
 *   notify:  registers fn(arg), run once on the loop thread when the job is done; returns
 *            false (fn not registered) when it is done already. fn may call end.
 *   done:    true once the results are in (end will not block).
 *   end:     waits for the job if needed (the budget still applies), moves the results into
 *            out[0..n) (out NULL: drops them) and frees the handle.
 *   release: gives the handle up without waiting (a caller that no longer needs the results);
 *            the loop frees it when done.
 * Exactly one of end / release for every non-NULL begin. */
typedef struct sfp_soda_pending sfp_soda_pending;
typedef void (*sfp_soda_done_fn)(void *arg);
sfp_soda_pending *sfp_soda_parcel_begin(sfp_soda *s, const char *block, const char *lot,
                                        const sfp_soda_parcel_spec *specs, size_t n, int64_t budget_ms, sfp_err *err);
bool sfp_soda_parcel_notify(sfp_soda_pending *p, sfp_soda_done_fn fn, void *arg);
bool sfp_soda_parcel_done(sfp_soda_pending *p);
void sfp_soda_parcel_end(sfp_soda_pending *p, sfp_soda_result *out);
void sfp_soda_parcel_release(sfp_soda_pending *p);

/* Shutdown: ends every running transfer now (parcel jobs and sfp_soda_query_* calls alike)
 * and refuses new ones; results say reason "cancelled" (not counted by the breaker).
 * Thread-safe, idempotent. NULL-safe. */
void sfp_soda_cancel_all(sfp_soda *s);

#endif
