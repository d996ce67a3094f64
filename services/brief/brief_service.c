/* brief_service.c — see brief_service.h. */
#include "brief_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brief_auth.h"
#include "brief_rules.h"
#include "brief_sections.h"
#include "civil_date.h"
#include "clock.h"
#include "db_error.h"
#include "config.h"
#include "log.h"
#include "pool_stats_pb.h"
#include "sha256.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/common.pb-c.h"
#include "sfpermits/v1/introspection.pb-c.h"

#define DEADLINE_MARGIN_MS 20 /* left to pack and send the reply */

void sfp_brief_config_defaults(sfp_brief_config *c)
{
    c->cache_ttl_minutes = 30;
    c->degraded_ttl_minutes = 1;
    c->refresh_interval_s = 300;
    c->statement_timeout_ms = 10000;
    c->auth_cache_ms = 5000;
    c->memory_cache_entries = 256;
}

int sfp_brief_config_from_env(sfp_brief_config *c, sfp_err *err)
{
    sfp_brief_config_defaults(c);
    if (sfp_cfg_int("BRIEF_CACHE_TTL_MINUTES", &c->cache_ttl_minutes, err) ||
        sfp_cfg_int("BRIEF_AUTH_CACHE_MS", &c->auth_cache_ms, err) ||
        sfp_cfg_int("BRIEF_MEMORY_CACHE_ENTRIES", &c->memory_cache_entries, err) ||
        sfp_cfg_int("BRIEF_DEGRADED_TTL_MINUTES", &c->degraded_ttl_minutes, err) ||
        sfp_cfg_int("BRIEF_REFRESH_INTERVAL_S", &c->refresh_interval_s, err) ||
        sfp_cfg_int("BRIEF_STATEMENT_TIMEOUT_MS", &c->statement_timeout_ms, err))
        return -1;
    if (sfp_cfg_text("CRON_SECRET", &c->service_secret, err)) return -1;
    return 0;
}

static int32_t today_days(const sfp_brief_service *svc)
{
    return svc->fixed_today ? svc->fixed_today : sfp_today_days();
}

/* Absolute monotonic deadline (ms) for the call's work: its gRPC deadline minus a margin,
 * never later than now + statement_timeout_ms. */
static int64_t work_deadline(const sfp_brief_service *svc, sfp_rpc_ctx *ctx)
{
    int64_t now = sfp_mono_ms();
    int64_t cap = now + svc->cfg.statement_timeout_ms;
    int64_t left = sfp_rpc_deadline_left_ms(ctx);
    if (left == INT64_MAX) return cap;
    int64_t d = now + left - DEADLINE_MARGIN_MS;
    return d < cap ? d : cap;
}

static grpc_status_code fail(sfp_rpc_ctx *ctx, const sfp_err *err)
{
    sfp_rpc_set_message(ctx, "%s", err->msg[0] ? err->msg : "brief failed");
    if (err->code == SFP_UNAVAILABLE) sfp_rpc_retry_later(ctx, SFP_REASON_DATABASE_UNAVAILABLE, SFP_DB_RETRY_MS);
    return sfp_rpc_status_of(err->code);
}

static int acquire_timeout(int64_t deadline_ms)
{
    int64_t left = deadline_ms - sfp_mono_ms();
    if (left < 1) left = 1;
    return left > 600000 ? 600000 : (int)left;
}

/* Resolves the caller. A missing or malformed header never touches the database. */
static int authenticate(sfp_brief_service *svc, sfp_rpc_ctx *ctx, int64_t deadline_ms, int32_t *uid, int *queries,
                        sfp_err *err)
{
    const char *authz = sfp_rpc_metadata(ctx, "authorization");
    const char *as_user = sfp_rpc_metadata(ctx, "x-sfp-user-id"); /* cron warm-up only */
    size_t len;
    /* Identity headers must be unique: a repeated one is ambiguous (which value did a proxy
     * check?), so it is refused before anything else. */
    if (sfp_rpc_metadata_count(ctx, "authorization") > 1 || sfp_rpc_metadata_count(ctx, "x-sfp-user-id") > 1)
        return sfp_err_set(err, SFP_UNAUTHENTICATED, "authorization and x-sfp-user-id must not be repeated");
    if (!sfp_brief_bearer_token(authz, &len) || (as_user && (!svc->cfg.service_secret || !*svc->cfg.service_secret)))
        return sfp_err_set(err, SFP_UNAUTHENTICATED, "a valid bearer token is required");
    if (!as_user && sfp_brief_auth_cache_lookup(svc->auth_cache, authz, uid)) return 0;
    sfp_conn *c = sfp_pool_acquire(svc->pool, acquire_timeout(deadline_ms), err);
    if (!c) return -1;
    int rc = as_user ? sfp_brief_authenticate_service(c, authz, as_user, svc->cfg.service_secret, uid, queries, err)
                     : sfp_brief_authenticate(c, authz, uid, queries, err);
    sfp_pool_release(svc->pool, c);
    if (rc == 0 && !as_user) sfp_brief_auth_cache_store(svc->auth_cache, authz, *uid);
    return rc;
}

/* ---------- GetBrief ---------- */

/* The page_cache key of a user's brief at a lookback (RefreshBrief invalidates "brief:<uid>:%"). */
#define BRIEF_KEY_MAX 48
static void brief_key(char key[BRIEF_KEY_MAX], int32_t user_id, int lookback)
{
    snprintf(key, BRIEF_KEY_MAX, "brief:%d:%d:v%d", (int)user_id, lookback, SFP_BRIEF_PAGE_VERSION);
}

typedef struct compute_ctx {
    sfp_brief_service *svc;
    int32_t user_id, lookback, today;
    int64_t deadline_ms;
    bool ran;
    int queries, statements;
    bool degraded;
} compute_ctx;

static int compute_brief(sfp_conn *conn, void *user, uint8_t **payload, size_t *len, int *ttl_minutes, sfp_err *err)
{
    compute_ctx *cc = user;
    cc->ran = true;
    sfp_arena *a = sfp_arena_new();
    Sfpermits__V1__Brief *r = sfp_arena_msg(a, &sfpermits__v1__brief__descriptor);
    sfp_brief_build_ctx b = {.pool = cc->svc->pool,
                             .deadline_ms = cc->deadline_ms,
                             .user_id = cc->user_id,
                             .lookback_days = cc->lookback,
                             .today = cc->today};
    int rc = sfp_brief_build(conn, &b, r, a, err);
    cc->queries = b.queries;
    cc->statements = b.statements;
    atomic_store(&cc->svc->counters.compute_queries_last, b.queries);
    atomic_store(&cc->svc->counters.compute_lanes_last, b.lanes);
    if (rc == 0 && b.timed_out && sfp_mono_ms() >= cc->deadline_ms)
        rc = sfp_err_set(err, SFP_DEADLINE_EXCEEDED, "brief timed out");
    if (rc != 0) {
        sfp_arena_free(a);
        return -1;
    }
    if (r->n_warnings) {
        cc->degraded = true;
        if (*ttl_minutes > cc->svc->cfg.degraded_ttl_minutes) *ttl_minutes = cc->svc->cfg.degraded_ttl_minutes;
    }
    size_t n = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) abort();
    protobuf_c_message_pack(&r->base, buf);
    sfp_arena_free(a);
    *payload = buf;
    *len = n;
    return 0;
}

static grpc_status_code get_brief(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    sfp_brief_service *svc = user;
    const Sfpermits__V1__GetBriefRequest *in = (const void *)req;
    sfp_brief_counters *k = &svc->counters;
    atomic_fetch_add(&k->requests, 1);
    sfp_err err = {0};
    int64_t deadline = work_deadline(svc, ctx);
    int queries = 0;
    int32_t uid = 0;
    int32_t lookback;
    if (!sfp_brief_lookback_ok(in->lookback_days, &lookback)) {
        atomic_fetch_add(&k->failed, 1);
        return sfp_rpc_bad_argument(ctx, "lookback_days", "must be %d..%d (0 = %d), got %d", SFP_BRIEF_LOOKBACK_MIN,
                                    SFP_BRIEF_LOOKBACK_MAX, SFP_BRIEF_LOOKBACK_MIN, (int)in->lookback_days);
    }
    if (authenticate(svc, ctx, deadline, &uid, &queries, &err) != 0) {
        atomic_fetch_add(err.code == SFP_UNAUTHENTICATED ? &k->unauthenticated : &k->failed, 1);
        return fail(ctx, &err);
    }
    compute_ctx cc = {
        .svc = svc, .user_id = uid, .lookback = lookback, .today = today_days(svc), .deadline_ms = deadline};
    char key[BRIEF_KEY_MAX];
    brief_key(key, uid, cc.lookback);
    sfp_page_result pr;
    /* A warm-up (service identity, from compute-caches right after the nightly's invalidation)
     * must see the shared table, not a copy its notification has not dropped yet. */
    int (*get)(sfp_page_cache *, const char *, int, int64_t, sfp_page_compute_fn, void *, sfp_page_result *,
               sfp_err *) = sfp_rpc_metadata(ctx, "x-sfp-user-id") ? sfp_page_cache_get_shared : sfp_page_cache_get;
    if (get(svc->cache, key, svc->cfg.cache_ttl_minutes, deadline, compute_brief, &cc, &pr, &err) != 0) {
        atomic_fetch_add(&k->failed, 1);
        sfp_log(SFP_WARN, "brief failed", SFP_I("user_id", uid), SFP_S("error", err.msg));
        return fail(ctx, &err);
    }
    /* The stored page goes out verbatim as GetBriefResponse.brief (PackedReadResponse view): it
     * is never unpacked here. It is immutable for a given computed_at (ms), so key +
     * computed_at names it: the etag is derived from them, not from hashing the payload. */
    sfp_arena *a = sfp_rpc_arena(ctx);
    Sfpermits__V1__ReadMetadata *md = sfp_arena_msg(a, &sfpermits__v1__read_metadata__descriptor);
    Sfpermits__V1__ReadDebug *dbg = sfp_arena_msg(a, &sfpermits__v1__read_debug__descriptor);
    md->debug = dbg;
    char tag[96], hex[65];
    int tl = snprintf(tag, sizeof tag, "%s|%s", key, pr.computed_at);
    if (sfp_sha256_hex(tag, (size_t)tl, hex) == 0) {
        hex[32] = '\0';
        md->etag = sfp_arena_strdup(a, hex);
    }
    md->generated_at = sfp_arena_strdup(a, pr.computed_at);
    md->max_age_seconds = pr.ttl_seconds_remaining;
    dbg->cached = pr.cached;
    int total = queries + pr.queries + (cc.ran && !pr.cached ? cc.statements : 0);
    dbg->sql_queries = total;
    atomic_fetch_add(&k->sql_total, total);
    atomic_store(&k->sql_last, total);
    atomic_fetch_add(pr.cached ? &k->cached : &k->computed, 1);
    if (cc.degraded) atomic_fetch_add(&k->degraded, 1);
    Sfpermits__V1__PackedReadResponse *out = sfp_arena_msg(a, &sfpermits__v1__packed_read_response__descriptor);
    out->content.len = pr.len;
    out->content.data = pr.payload; /* handed to the call: released when it ends, not copied */
    void *owner = NULL;
    sfp_page_release_fn release = sfp_page_result_take(&pr, &owner);
    if (release) sfp_rpc_on_end(ctx, release, owner);
    out->metadata = md;
    sfp_page_result_clear(&pr);
    *resp = &out->base;
    return GRPC_STATUS_OK;
}

/* ---------- RefreshBrief ---------- */

/* One statement: take the refresh slot atomically (the WHERE of ON CONFLICT is evaluated on
 * the locked, latest row version, so concurrent replicas cannot both pass) and, when refused,
 * report the seconds left from the same snapshot. */
static const char SQL_REFRESH_SLOT[] =
    "WITH up AS (INSERT INTO brief_refresh (user_id, last_refresh_at) VALUES ($1, now())"
    " ON CONFLICT (user_id) DO UPDATE SET last_refresh_at = EXCLUDED.last_refresh_at"
    " WHERE brief_refresh.last_refresh_at <= now() - make_interval(secs => $2::int) RETURNING 1)"
    " SELECT (SELECT count(*) FROM up),"
    " (SELECT GREATEST(1, ceil(EXTRACT(EPOCH FROM b.last_refresh_at + make_interval(secs => $2::int) - now())))::int"
    "  FROM brief_refresh b WHERE b.user_id = $1),"
    " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

static grpc_status_code refresh_brief(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                      void *user)
{
    (void)req;
    sfp_brief_service *svc = user;
    sfp_brief_counters *k = &svc->counters;
    sfp_err err = {0};
    int64_t deadline = work_deadline(svc, ctx);
    int queries = 0;
    int32_t uid = 0;
    if (authenticate(svc, ctx, deadline, &uid, &queries, &err) != 0) {
        atomic_fetch_add(err.code == SFP_UNAUTHENTICATED ? &k->unauthenticated : &k->failed, 1);
        return fail(ctx, &err);
    }
    sfp_conn *c = sfp_pool_acquire(svc->pool, acquire_timeout(deadline), &err);
    if (!c) {
        atomic_fetch_add(&k->failed, 1);
        return fail(ctx, &err);
    }
    char uid_s[16], ivl[16], tmo[24], pattern[48];
    snprintf(uid_s, sizeof uid_s, "%d", (int)uid);
    snprintf(ivl, sizeof ivl, "%d", svc->cfg.refresh_interval_s);
    snprintf(tmo, sizeof tmo, "%d", acquire_timeout(deadline));
    snprintf(pattern, sizeof pattern, "brief:%d:%%", (int)uid);
    const char *pt[1] = {tmo};
    const char *ps[2] = {uid_s, ivl};
    PGresult *r = NULL;
    grpc_status_code code = GRPC_STATUS_OK;
    if (sfp_db_exec(c, "BEGIN", 0, NULL, &err) ||
        sfp_db_exec(c, "SELECT set_config('statement_timeout', $1, true)", 1, pt, &err) ||
        !(r = sfp_db_query(c, SQL_REFRESH_SLOT, 2, ps, &err))) {
        code = fail(ctx, &err);
        goto out;
    }
    if (strtol(PQgetvalue(r, 0, 0), NULL, 10) != 1) {
        long retry = PQgetisnull(r, 0, 1) ? 1 : strtol(PQgetvalue(r, 0, 1), NULL, 10);
        if (retry < 1) retry = 1;
        sfp_rpc_details *d = sfp_rpc_details_of(ctx);
        sfp_rpc_details_set_reason(d, SFP_REASON_RATE_LIMITED);
        sfp_rpc_details_add_meta(d, "refresh_interval_s", "%d", svc->cfg.refresh_interval_s);
        sfp_rpc_details_set_retry_ms(d, (int64_t)retry * 1000);
        sfp_rpc_set_message(ctx, "the brief can be refreshed once every %d seconds; retry in %ld s",
                            svc->cfg.refresh_interval_s, retry);
        atomic_fetch_add(&k->refresh_limited, 1);
        code = GRPC_STATUS_RESOURCE_EXHAUSTED;
        goto out;
    }
    long long n = sfp_page_cache_invalidate(c, pattern, &err);
    if (n < 0 || sfp_db_exec(c, "COMMIT", 0, NULL, &err)) {
        code = fail(ctx, &err);
        goto out;
    }
    /* Other replicas drop their copies on the notification; this one now, so the caller's
     * next GetBrief is recomputed even if it arrives first. */
    for (int lb = SFP_BRIEF_LOOKBACK_MIN; lb <= SFP_BRIEF_LOOKBACK_MAX; lb++) {
        char key[BRIEF_KEY_MAX];
        brief_key(key, uid, lb);
        sfp_page_cache_forget(svc->cache, key);
    }
    Sfpermits__V1__RefreshBriefResponse *rr =
        sfp_arena_msg(sfp_rpc_arena(ctx), &sfpermits__v1__refresh_brief_response__descriptor);
    rr->invalidated = n;
    rr->retry_after_seconds = svc->cfg.refresh_interval_s;
    rr->refreshed_at = sfp_arena_strdup(sfp_rpc_arena(ctx), PQgetvalue(r, 0, 2));
    *resp = &rr->base;
    atomic_fetch_add(&k->refreshes, 1);
    sfp_log(SFP_INFO, "brief refreshed", SFP_I("user_id", uid), SFP_I("invalidated", n));
out:
    PQclear(r);
    sfp_pool_release(svc->pool, c); /* rolls back an unfinished transaction */
    return code;
}

void sfp_brief_service_methods(sfp_brief_service *svc, sfp_rpc_method out[2])
{
    out[0] = (sfp_rpc_method){SFP_BRIEF_GET_PATH, &sfpermits__v1__get_brief_request__descriptor,
                              &sfpermits__v1__packed_read_response__descriptor, get_brief, svc};
    out[1] = (sfp_rpc_method){SFP_BRIEF_REFRESH_PATH, &sfpermits__v1__refresh_brief_request__descriptor,
                              &sfpermits__v1__refresh_brief_response__descriptor, refresh_brief, svc};
}

void sfp_brief_service_stats(Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user)
{
    sfp_brief_service *svc = user;
    if (svc->pool) st->pool = sfp_pool_stats_pb(svc->pool, a);
    sfp_page_cache_stats ps = {0};
    if (svc->cache) {
        st->page_cache = sfp_page_cache_stats_pb(svc->cache, a, 200);
        sfp_page_cache_get_stats(svc->cache, &ps);
    }
    const sfp_brief_counters *c = &svc->counters;
    const struct {
        const char *name;
        long long v;
    } list[] = {
        {"brief_requests", atomic_load(&c->requests)},
        {"brief_cached", atomic_load(&c->cached)},
        {"brief_computed", atomic_load(&c->computed)},
        {"brief_unauthenticated", atomic_load(&c->unauthenticated)},
        {"brief_failed", atomic_load(&c->failed)},
        {"brief_degraded", atomic_load(&c->degraded)},
        {"brief_refreshes", atomic_load(&c->refreshes)},
        {"brief_refresh_limited", atomic_load(&c->refresh_limited)},
        {"brief_sql_queries_total", atomic_load(&c->sql_total)},
        {"brief_sql_queries_last", atomic_load(&c->sql_last)},
        {"brief_compute_queries_last", atomic_load(&c->compute_queries_last)},
        {"brief_compute_lanes_last", atomic_load(&c->compute_lanes_last)},
        {"page_cache_memory_hits", ps.memory_hits},
        {"page_cache_coalesced", ps.coalesced},
        {"page_cache_computes", ps.computes},
        {"page_cache_compute_failures", ps.compute_failures},
        {"page_cache_errors", ps.errors},
    };
    size_t n = sizeof list / sizeof list[0];
    Sfpermits__V1__Counter **arr = sfp_arena_alloc(a, sizeof(*arr) * (st->n_counters + n));
    if (st->n_counters) memcpy(arr, st->counters, sizeof(*arr) * st->n_counters);
    for (size_t i = 0; i < n; i++) {
        Sfpermits__V1__Counter *kk = sfp_arena_msg(a, &sfpermits__v1__counter__descriptor);
        kk->name = (char *)list[i].name;
        kk->value = (double)list[i].v;
        arr[st->n_counters++] = kk;
    }
    st->counters = arr;
}
