/* report_soda.h — the report's view of its three SODA datasets (complaints gm2e-bten,
 * violations nbtm-fbw5, tax roll wv5m-vpq2), behind a small interface so the service can be
 * tested with a fake and runs in production on the shared client (common/soda_client.h: cache,
 * breaker, coalescing, concurrent transfers).
 *
 * The interface is asynchronous so SODA overlaps the SQL work: begin() returns at once (cache
 * hits are resolved in the calling thread; misses run in the background, bounded by
 * budget_ms) and end() waits and converts the rows into the request arena. */
#ifndef SFP_REPORT_SODA_H
#define SFP_REPORT_SODA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "report_types.h"
#include "soda_source.h"

typedef enum {
    SFP_RPT_DS_COMPLAINTS = 0,
    SFP_RPT_DS_VIOLATIONS = 1,
    SFP_RPT_DS_TAX_ROLL = 2,
    SFP_RPT_DS_N = 3
} sfp_rpt_dataset;
#define SFP_RPT_DS_BIT(d) (1u << (d))
const char *sfp_rpt_dataset_id(sfp_rpt_dataset d); /* "gm2e-bten" | "nbtm-fbw5" | "wv5m-vpq2" */

/* One dataset as served to this report. */
typedef struct sfp_rpt_soda_result {
    sfp_soda_source state; /* soda_source.h */
    const char *reason;    /* stale/unavailable: "breaker_open" | "timeout" | "http_5xx" | "http_429" |
                              * "error" | "not_needed"; "" otherwise */
    bool has_age;          /* false for unavailable */
    double age_seconds;    /* 0 for live */
    bool has_ttl;          /* live/cached only */
    double ttl_remaining_seconds;
    sfp_rpt_rec *records; /* request arena */
    size_t n_records;
    int upstream_requests; /* HTTP requests this report caused for the dataset (0 or 1) */
} sfp_rpt_soda_result;

typedef struct sfp_rpt_soda {
    /* Starts fetching the datasets in mask (SFP_RPT_DS_BIT) of a validated parcel; must not
     * wait for the network. Returns a job handle, or NULL when nothing could be started (the
     * datasets are then reported unavailable, reason "error"). */
    void *(*begin)(void *user, const char *block, const char *lot, unsigned mask, int64_t budget_ms);
    /* Waits for the job (bounded by its budget) and fills out[d] for each d in its mask with
     * records copied into a; a == NULL releases the job without waiting. Called exactly once
     * per job. */
    void (*end)(void *user, void *job, sfp_rpt_soda_result out[SFP_RPT_DS_N], sfp_arena *a);
    /* Optional (NULL: the service waits in end). Registers fn(arg) to run once, on another
     * thread, when the job's results are in (end then returns at once); returns false without
     * registering when they are in already. This is what lets a report wait for SODA without
     * holding an RPC worker. */
    bool (*notify)(void *user, void *job, void (*fn)(void *arg), void *arg);
    void *user;
} sfp_rpt_soda;

/* Marks out as unavailable with reason (static string), no records. */
void sfp_rpt_soda_unavailable(sfp_rpt_soda_result *out, const char *reason);

/* Cache-Control max-age of a report from its sources (SODA cache TTL 900 s): the smallest
 * ttl_remaining of the live/cached sources among `needed` (SFP_RPT_DS_BIT mask), floored,
 * clamped to 0..900; 0 when any needed source is stale or unavailable (a degraded report must
 * not be cached) or none is live/cached. */
int32_t sfp_rpt_sources_max_age(const sfp_rpt_soda_result res[SFP_RPT_DS_N], unsigned needed);

/* Production binding on the shared client (common/soda_client.h); `client` is a sfp_soda *
 * owned by the caller and must outlive every job. */
struct sfp_soda;
sfp_rpt_soda sfp_rpt_soda_from_client(struct sfp_soda *client);

#endif
