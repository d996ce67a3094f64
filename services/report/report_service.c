#include "report_service.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "civil_date.h"
#include "clock.h"
#include "db_error.h"
#include "config.h"
#include "log.h"
#include "pool_stats_pb.h"
#include "soda_stats_pb.h"
#include "report_assemble.h"
#include "report_cache.h"
#include "report_consultant.h"
#include "report_db.h"
#include "report_missing.h"
#include "report_profile.h"
#include "report_risk.h"
#include "report_status.h"
#include "report_text.h"
#include "report_watch.h"
#include "sfpermits/v1/introspection.pb-c.h"
#include "sfpermits/v1/common.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"
#include "soda_client.h"

#define DEADLINE_MARGIN_MS 50       /* leave time to assemble and send the reply */
#define SODA_DEADLINE_MARGIN_MS 300 /* SODA's budget ends at least this long before the deadline */

void sfp_report_config_defaults(sfp_report_config *c)
{
    c->nearby_limit = 10;
    c->statement_timeout_ms = 10000;
    c->soda_budget_ms = SFP_REPORT_SODA_BUDGET_DEFAULT_MS;
    c->acquire_timeout_ms = 5000;
}

int sfp_report_config_from_env(sfp_report_config *c, sfp_err *err)
{
    sfp_report_config_defaults(c);
    if (sfp_cfg_int("REPORT_NEARBY_LIMIT", &c->nearby_limit, err) ||
        sfp_cfg_int("REPORT_STATEMENT_TIMEOUT_MS", &c->statement_timeout_ms, err) ||
        sfp_cfg_int("REPORT_SODA_BUDGET_MS", &c->soda_budget_ms, err))
        return -1;
    return 0;
}

static int32_t today_days(const sfp_report_service *svc)
{
    return svc->fixed_today ? svc->fixed_today : sfp_today_days();
}

static double now_s(const sfp_report_service *svc)
{
    return svc->clock ? svc->clock(svc->clock_arg) : sfp_mono_s();
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Time left for work that must end before the call's deadline (INT64_MAX: none). */
static int64_t budget(sfp_rpc_ctx *ctx, int64_t cap)
{
    int64_t left = sfp_rpc_deadline_left_ms(ctx);
    if (left == INT64_MAX) return cap;
    left -= DEADLINE_MARGIN_MS;
    return left < 1 ? 1 : min64(left, cap);
}

/* Everything the SQL side produces for one report. */
typedef struct sql_part {
    sfp_rpt_parcel_summary ps;
    sfp_rpt_permit_set set;
    sfp_rpt_reg_watch *watch;
    size_t n_watch;
    sfp_rpt_nearby *nearby;
    size_t n_nearby;
} sql_part;

typedef struct soda_jobs {
    void *job[2]; /* [0] complaints + violations, [1] tax roll */
    unsigned mask[2];
    double t0; /* when the call reached the service (now_s): the SODA budget runs from here */
} soda_jobs;

/* What is left of SODA's budget for a fetch starting now: REPORT_SODA_BUDGET_MS counted from
 * the call's arrival (j->t0), not from the fetch's start — time the call spent before (waiting
 * for the same parcel's assembly, a connection, the first SQL round trip that decides whether
 * the tax roll is needed) is taken from the budget instead of added to it. It always ends at
 * least SODA_DEADLINE_MARGIN_MS before the call's deadline, so a degraded report still arrives
 * in time. At least 1 ms: a fetch whose budget is spent ends at once as a timeout. */
static int64_t soda_budget(sfp_report_service *svc, sfp_rpc_ctx *ctx, const soda_jobs *j)
{
    int64_t left = svc->cfg.soda_budget_ms - llround((now_s(svc) - j->t0) * 1e3);
    int64_t deadline_left = sfp_rpc_deadline_left_ms(ctx);
    if (deadline_left != INT64_MAX) left = min64(left, deadline_left - SODA_DEADLINE_MARGIN_MS);
    return left < 1 ? 1 : left;
}

static void soda_start(sfp_report_service *svc, sfp_rpc_ctx *ctx, soda_jobs *j, int k, const char *block,
                       const char *lot, unsigned mask)
{
    j->mask[k] = mask;
    j->job[k] = svc->soda.begin ? svc->soda.begin(svc->soda.user, block, lot, mask, soda_budget(svc, ctx, j)) : NULL;
}

/* Runs the SQL plan (report_db.h: two round trips) on one connection. While it runs, SODA
 * fetches proceed in the background; the tax roll is started as soon as parcel_summary says it
 * is needed. */
static int run_sql(sfp_report_service *svc, sfp_rpc_ctx *ctx, sfp_rpt_db *db, const char *block, const char *lot,
                   int32_t today, soda_jobs *jobs, sql_part *out)
{
    if (sfp_rpt_db_start(db, (int)budget(ctx, svc->cfg.statement_timeout_ms), block, lot, &out->ps, &out->set))
        return -1;
    if (!out->ps.present) soda_start(svc, ctx, jobs, 1, block, lot, SFP_RPT_DS_BIT(SFP_RPT_DS_TAX_ROLL));
    sfp_rpt_permit *p = out->set.permits;
    size_t n = out->set.n_permits;
    /* regulatory_watch: the in-process copy when it is servable, else read in round trip 2 */
    uint64_t watch_gen = 0;
    bool watch_held = n && sfp_rpt_watch_get(svc->watch, db->a, &out->watch, &out->n_watch, &watch_gen);
    sfp_rpt_db_rest rest = {
        .block = block,
        .neighborhood = n && !sfp_rpt_blank(p[0].neighborhood) ? p[0].neighborhood : out->ps.neighborhood,
        .nearby_limit = svc->cfg.nearby_limit,
        .today = today,
        .reg_watch = n > 0 && !watch_held,
    };
    if (sfp_rpt_db_finish(db, &out->set, &rest)) return -1;
    if (rest.reg_watch) {
        out->watch = rest.watch;
        out->n_watch = rest.n_watch;
        sfp_rpt_watch_put(svc->watch, watch_gen, rest.watch, rest.n_watch);
    }
    out->nearby = rest.nearby;
    out->n_nearby = rest.n_nearby;
    return 0;
}

static void soda_finish(sfp_report_service *svc, soda_jobs *j, sfp_rpt_soda_result res[SFP_RPT_DS_N], sfp_arena *a)
{
    for (int k = 0; k < 2; k++) {
        if (!j->mask[k]) continue;
        if (j->job[k]) {
            if (a)
                for (int d = 0; d < SFP_RPT_DS_N; d++)
                    if (j->mask[k] & SFP_RPT_DS_BIT(d)) sfp_rpt_soda_unavailable(&res[d], "error");
            svc->soda.end(svc->soda.user, j->job[k], res, a);
        } else if (a) {
            for (int d = 0; d < SFP_RPT_DS_N; d++)
                if (j->mask[k] & SFP_RPT_DS_BIT(d)) sfp_rpt_soda_unavailable(&res[d], "error");
        }
    }
}

/* The report's one mapping of its errors to a status (and its counters and details). */
static grpc_status_code fail(sfp_report_service *svc, sfp_rpc_ctx *ctx, sfp_code code, const char *msg)
{
    atomic_llong *c = code == SFP_UNAVAILABLE         ? &svc->counters.unavailable
                      : code == SFP_DEADLINE_EXCEEDED ? &svc->counters.deadline
                      : code == SFP_INVALID_ARGUMENT  ? &svc->counters.invalid
                      : code == SFP_NOT_FOUND         ? &svc->counters.not_found
                                                      : &svc->counters.failed;
    atomic_fetch_add(c, 1);
    sfp_rpc_set_message(ctx, "%s", msg);
    if (code == SFP_UNAVAILABLE) sfp_rpc_retry_later(ctx, SFP_REASON_DATABASE_UNAVAILABLE, SFP_DB_RETRY_MS);
    return sfp_rpc_status_of(code);
}

/* INVALID_ARGUMENT naming the malformed request field (BadRequest + ErrorInfo). */
static grpc_status_code bad_field(sfp_report_service *svc, sfp_rpc_ctx *ctx, const char *field, const char *msg)
{
    sfp_rpc_details *d = sfp_rpc_details_of(ctx);
    sfp_rpc_details_set_reason(d, SFP_REASON_ARGUMENT_MALFORMED);
    sfp_rpc_details_add_violation(d, field, "%s", msg);
    return fail(svc, ctx, SFP_INVALID_ARGUMENT, msg);
}

/* The reply: the packed report embedded verbatim as GetPropertyReportResponse.report, through
 * the wire-identical PackedReadResponse view (content must stay valid until the call ends). */
static void respond(sfp_rpc_ctx *ctx, const uint8_t *content, size_t len, const sfp_rpt_meta *v,
                    ProtobufCMessage **resp)
{
    sfp_arena *a = sfp_rpc_arena(ctx);
    Sfpermits__V1__PackedReadResponse *out = sfp_arena_msg(a, &sfpermits__v1__packed_read_response__descriptor);
    out->content.data = (uint8_t *)content;
    out->content.len = len;
    out->metadata = sfp_rpt_assemble_metadata(v, a);
    *resp = &out->base;
}

static void drop_cached(void *val)
{
    sfp_cache_val_unref(val);
}

/* A cached report: the stored content and etag, sources aged by the time since it was
 * assembled. The reply points into the entry (no copy); the call keeps our reference until it
 * ends (sfp_rpc_on_end). */
static grpc_status_code serve_cached(sfp_report_service *svc, sfp_rpc_ctx *ctx, sfp_cache_val *hit, double t0,
                                     ProtobufCMessage **resp)
{
    const sfp_rpt_cached *e = sfp_cache_val_data(hit);
    sfp_rpc_on_end(ctx, drop_cached, hit);
    sfp_rpt_soda_result src[SFP_RPT_DS_N];
    sfp_rpt_cached_sources(e, sfp_rpt_cache_now(svc->cache), src);
    sfp_rpt_meta v = {
        .etag = e->etag, .soda = src, .soda_needed = e->soda_needed, .cached = true, .generated_at = e->generated_at};
    v.elapsed_ms = (now_s(svc) - t0) * 1e3;
    respond(ctx, e->content, e->len, &v, resp);
    atomic_fetch_add(&svc->counters.ok, 1);
    return GRPC_STATUS_OK;
}

/* One report between its SQL work and its reply: lives in the call's arena, so it survives a
 * deferred completion. */
typedef struct report_job {
    sfp_report_service *svc;
    sfp_rpc_ctx *ctx;
    char block[6], lot[6];
    int32_t today;
    double t0;
    sfp_rpt_cache_ticket ticket;
    soda_jobs jobs;
    sql_part sql;
    int queries;
    atomic_int outstanding; /* SODA jobs still running + 1 while the handler registers */
} report_job;

/* SODA is in: derive, assemble, store, reply. The report cache ticket ends here. */
static grpc_status_code finish_report(report_job *rj, ProtobufCMessage **resp)
{
    sfp_report_service *svc = rj->svc;
    sfp_rpc_ctx *ctx = rj->ctx;
    sfp_arena *a = sfp_rpc_arena(ctx);
    sql_part *sqlp = &rj->sql;
    sql_part sql = *sqlp;
    const char *block = rj->block, *lot = rj->lot;
    int32_t today = rj->today;

    sfp_rpt_soda_result soda[SFP_RPT_DS_N];
    memset(soda, 0, sizeof soda);
    if (sql.ps.present) sfp_rpt_soda_unavailable(&soda[SFP_RPT_DS_TAX_ROLL], "not_needed");
    soda_finish(svc, &rj->jobs, soda, a);
    unsigned needed = rj->jobs.mask[0] | rj->jobs.mask[1];
    int soda_requests = 0;
    for (int d = 0; d < SFP_RPT_DS_N; d++) {
        soda_requests += soda[d].upstream_requests;
        if (!(needed & SFP_RPT_DS_BIT(d))) continue;
        if (soda[d].state == SFP_SODA_STALE) atomic_fetch_add(&svc->counters.stale, 1);
        if (soda[d].state == SFP_SODA_UNAVAILABLE) atomic_fetch_add(&svc->counters.unavailable_sources, 1);
    }
    atomic_fetch_add(&svc->counters.soda_requests, soda_requests);
    const sfp_rpt_soda_result *cs = &soda[SFP_RPT_DS_COMPLAINTS], *vs = &soda[SFP_RPT_DS_VIOLATIONS],
                              *ts = &soda[SFP_RPT_DS_TAX_ROLL];

    /* Derived sections: pure functions. */
    sfp_rpt_profile profile;
    sfp_rpt_profile_compute(&sql.ps, ts->records, ts->n_records, a, &profile);
    if (!sql.set.n_permits && !cs->n_records && !vs->n_records && !profile.present)
        return fail(svc, ctx, SFP_NOT_FOUND, "no data found for this block and lot");
    sfp_rpt_property property;
    sfp_rpt_property_from(&sql.ps, ts->records, ts->n_records, &property);

    sfp_rpt_risk_input ri = {cs->records,       cs->n_records, vs->records, vs->n_records, sql.set.permits,
                             sql.set.n_permits, &property,     sql.watch,   sql.n_watch,   today};
    sfp_rpt_risk *risks;
    size_t n_risks = sfp_rpt_risk_compute(&ri, a, &risks);
    sfp_rpt_signal_input si = {cs->records,     cs->n_records,     vs->records, vs->n_records,
                               sql.set.permits, sql.set.n_permits, &property};
    sfp_rpt_signal signal;
    sfp_rpt_signal_compute(&si, a, &signal);
    sfp_rpt_missing_input mi = {sql.set.permits, sql.set.n_permits, &property, cs->records, cs->n_records};
    sfp_rpt_missing *missing;
    size_t n_missing = sfp_rpt_missing_compute(&mi, a, &missing);

    if (sfp_rpc_deadline_left_ms(ctx) <= 0) return fail(svc, ctx, SFP_DEADLINE_EXCEEDED, "deadline exceeded");

    char ts_buf[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts_buf, sizeof ts_buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    sfp_rpt_report rep = {
        .block = sfp_arena_strdup(a, block),
        .lot = sfp_arena_strdup(a, lot),
        .address = sfp_rpt_address(sql.set.n_permits ? &sql.set.permits[0] : NULL, a),
        .lots = sql.set.lots,
        .n_lots = sql.set.n_lots,
        .profile = &profile,
        .permits = sql.set.permits,
        .n_permits = sql.set.n_permits,
        .total_permits = sql.set.total,
        .soda = soda,
        .risks = risks,
        .n_risks = n_risks,
        .signal = &signal,
        .missing = missing,
        .n_missing = n_missing,
        .nearby = sql.nearby,
        .n_nearby = sql.n_nearby,
    };
    Sfpermits__V1__PropertyReport *content = sfp_rpt_assemble(&rep, a);
    size_t len = protobuf_c_message_get_packed_size(&content->base);
    uint8_t *bytes = sfp_arena_alloc(a, len ? len : 1);
    protobuf_c_message_pack(&content->base, bytes);
    char etag[SFP_RPT_ETAG_LEN + 1];
    sfp_rpt_content_etag(bytes, len, etag); /* once per assembled report; a cache hit reuses it */

    if (rj->ticket.active)
        sfp_rpt_cache_store(
            svc->cache, &rj->ticket,
            sfp_rpt_cached_new(bytes, len, etag, today, soda, needed, ts_buf, sfp_rpt_cache_now(svc->cache)));

    sfp_rpt_meta v = {.etag = sfp_arena_strdup(a, etag),
                      .soda = soda,
                      .soda_needed = needed,
                      .sql_queries = rj->queries,
                      .soda_requests = soda_requests,
                      .generated_at = sfp_arena_strdup(a, ts_buf)};
    v.elapsed_ms = (now_s(rj->svc) - rj->t0) * 1e3;
    respond(ctx, bytes, len, &v, resp);
    sfp_log(SFP_DEBUG, "report", SFP_S("block", block), SFP_S("lot", lot), SFP_I("permits", sql.set.n_permits),
            SFP_I("total_permits", sql.set.total), SFP_I("sql_queries", rj->queries),
            SFP_I("soda_requests", soda_requests), SFP_D("elapsed_ms", v.elapsed_ms));
    atomic_fetch_add(&svc->counters.ok, 1);
    return GRPC_STATUS_OK;
}

/* finish_report + the end of the cache ticket (stored, or abandoned: a no-op when stored). */
static grpc_status_code finish_and_release(report_job *rj, ProtobufCMessage **resp)
{
    grpc_status_code code = finish_report(rj, resp);
    sfp_rpt_cache_abandon(rj->svc->cache, &rj->ticket);
    return code;
}

/* A SODA job of a deferred report is done (on the SODA client's thread): the last one to
 * finish completes the call. */
static void soda_arrived(void *arg)
{
    report_job *rj = arg;
    if (atomic_fetch_sub(&rj->outstanding, 1) != 1) return;
    ProtobufCMessage *resp = NULL;
    grpc_status_code code = finish_and_release(rj, &resp);
    sfp_rpc_complete(rj->ctx, code, resp);
}

/* A report assembled from SQL + SODA; offered to the cache when every needed source is live or
 * cached (a degraded report must be retried, not kept). The SQL runs on the RPC worker; if SODA
 * is still running afterwards, the call is deferred (SFP_RPC_PENDING) and completed by the SODA
 * client when its results arrive or its budget ends, so no worker waits for SODA. */
static grpc_status_code assemble_report(report_job *rj, ProtobufCMessage **resp)
{
    sfp_report_service *svc = rj->svc;
    sfp_rpc_ctx *ctx = rj->ctx;
    sfp_arena *a = sfp_rpc_arena(ctx);
    /* SODA first, so the HTTP calls overlap the SQL work. */
    rj->jobs.t0 = rj->t0;
    soda_start(svc, ctx, &rj->jobs, 0, rj->block, rj->lot,
               SFP_RPT_DS_BIT(SFP_RPT_DS_COMPLAINTS) | SFP_RPT_DS_BIT(SFP_RPT_DS_VIOLATIONS));

    sfp_rpt_db db = {.a = a};
    db.conn = sfp_pool_acquire(svc->pool, (int)budget(ctx, svc->cfg.acquire_timeout_ms), &db.err);
    int rc = db.conn ? run_sql(svc, ctx, &db, rj->block, rj->lot, rj->today, &rj->jobs, &rj->sql) : -1;
    sfp_rpt_db_end(&db);
    sfp_pool_release(svc->pool, db.conn);
    atomic_fetch_add(&svc->counters.sql_queries, db.queries);
    atomic_store(&svc->counters.sql_queries_last, db.queries);
    rj->queries = db.queries;
    if (rc) {
        soda_finish(svc, &rj->jobs, NULL, NULL);
        sfp_rpt_cache_abandon(svc->cache, &rj->ticket);
        if (sfp_rpc_deadline_left_ms(ctx) <= DEADLINE_MARGIN_MS || db.err.code == SFP_DEADLINE_EXCEEDED)
            return fail(svc, ctx, SFP_DEADLINE_EXCEEDED, "deadline exceeded while reading the database");
        if (!db.conn || db.err.code == SFP_UNAVAILABLE) return fail(svc, ctx, SFP_UNAVAILABLE, "database unavailable");
        return fail(svc, ctx, SFP_INTERNAL, "database error");
    }
    if (svc->soda.notify) {
        atomic_init(&rj->outstanding, 1);
        for (int k = 0; k < 2; k++) {
            if (!rj->jobs.job[k]) continue;
            atomic_fetch_add(&rj->outstanding, 1);
            if (!svc->soda.notify(svc->soda.user, rj->jobs.job[k], soda_arrived, rj))
                atomic_fetch_sub(&rj->outstanding, 1); /* already in */
        }
        if (atomic_fetch_sub(&rj->outstanding, 1) != 1) return SFP_RPC_PENDING; /* soda_arrived replies */
    }
    return finish_and_release(rj, resp);
}

static grpc_status_code get_report(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    sfp_report_service *svc = user;
    const Sfpermits__V1__GetPropertyReportRequest *in = (const void *)req;
    double t0 = now_s(svc); /* the call's arrival as the service sees it */
    atomic_fetch_add(&svc->counters.reports, 1);

    char block[6], lot[6];
    if (sfp_rpt_normalize_block(in->block, block))
        return bad_field(svc, ctx, "block",
                         "block must be 4 digits, optionally followed by one capital letter (e.g. 3512)");
    if (sfp_rpt_normalize_lot(in->lot, lot))
        return bad_field(svc, ctx, "lot", "lot must be 3 digits, optionally followed by one capital letter (e.g. 001)");
    if (sfp_rpc_deadline_left_ms(ctx) <= 0) return fail(svc, ctx, SFP_DEADLINE_EXCEEDED, "deadline exceeded");
    int32_t today = today_days(svc);

    sfp_rpt_cache_ticket ticket;
    int64_t wait_ms = budget(ctx, (int64_t)svc->cfg.statement_timeout_ms + svc->cfg.soda_budget_ms);
    sfp_cache_val *hit = sfp_rpt_cache_get(svc->cache, block, lot, today, sfp_mono_ms() + wait_ms, &ticket);
    if (hit) return serve_cached(svc, ctx, hit, t0, resp); /* hit is released when the call ends */
    if (sfp_rpc_deadline_left_ms(ctx) <= 0) {
        sfp_rpt_cache_abandon(svc->cache, &ticket);
        return fail(svc, ctx, SFP_DEADLINE_EXCEEDED, "deadline exceeded");
    }
    report_job *rj = sfp_arena_alloc(sfp_rpc_arena(ctx), sizeof *rj);
    memset(rj, 0, sizeof *rj);
    rj->svc = svc;
    rj->ctx = ctx;
    memcpy(rj->block, block, sizeof rj->block);
    memcpy(rj->lot, lot, sizeof rj->lot);
    rj->today = today;
    rj->t0 = t0;
    rj->ticket = ticket;
    return assemble_report(rj, resp);
}

sfp_rpc_method sfp_report_service_method(sfp_report_service *svc)
{
    return (sfp_rpc_method){SFP_REPORT_METHOD_PATH, &sfpermits__v1__get_property_report_request__descriptor,
                            &sfpermits__v1__packed_read_response__descriptor, get_report, svc};
}

void sfp_report_service_stats(Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user)
{
    sfp_report_service *svc = user;
    if (svc->pool) st->pool = sfp_pool_stats_pb(svc->pool, a);
    if (svc->soda_client) {
        st->breaker = sfp_breaker_stats_pb(sfp_soda_breaker(svc->soda_client), a);
        st->response_cache = sfp_ttl_cache_stats_pb(sfp_soda_cache(svc->soda_client), a);
    }
    const sfp_report_counters *c = &svc->counters;
    sfp_rpt_cache_stats cs;
    sfp_rpt_cache_get_stats(svc->cache, &cs);
    sfp_rpt_watch_stats ws;
    sfp_rpt_watch_get_stats(svc->watch, &ws);
    const struct {
        const char *name;
        long long v;
    } list[] = {
        {"reports_total", atomic_load(&c->reports)},
        {"reports_ok", atomic_load(&c->ok)},
        {"reports_not_found", atomic_load(&c->not_found)},
        {"reports_invalid_argument", atomic_load(&c->invalid)},
        {"reports_unavailable", atomic_load(&c->unavailable)},
        {"reports_deadline_exceeded", atomic_load(&c->deadline)},
        {"reports_failed", atomic_load(&c->failed)},
        {"report_sql_queries_total", atomic_load(&c->sql_queries)},
        {"report_sql_queries_last", atomic_load(&c->sql_queries_last)},
        {"report_soda_requests_total", atomic_load(&c->soda_requests)},
        {"report_sources_stale_total", atomic_load(&c->stale)},
        {"report_sources_unavailable_total", atomic_load(&c->unavailable_sources)},
        {"report_cache_hits_total", cs.hits},
        {"report_cache_misses_total", cs.misses},
        {"report_cache_stores_total", cs.stores},
        {"report_cache_invalidations_total", cs.invalidations},
        {"report_cache_coalesced_total", cs.coalesced},
        {"report_cache_entries", cs.entries},
        {"report_cache_listening", cs.listening},
        {"report_watch_hits_total", ws.hits},
        {"report_watch_misses_total", ws.misses},
        {"report_watch_invalidations_total", ws.invalidations},
    };
    size_t n = sizeof list / sizeof list[0];
    Sfpermits__V1__Counter **arr = sfp_arena_alloc(a, sizeof(*arr) * (st->n_counters + n));
    if (st->n_counters) memcpy(arr, st->counters, sizeof(*arr) * st->n_counters);
    for (size_t i = 0; i < n; i++) {
        Sfpermits__V1__Counter *k = sfp_arena_msg(a, &sfpermits__v1__counter__descriptor);
        k->name = (char *)list[i].name;
        k->value = (double)list[i].v;
        arr[st->n_counters++] = k;
    }
    st->counters = arr;
}
