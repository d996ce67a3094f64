#include "health_service.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "migrations.h"
#include "page_cache.h"
#include "pool_stats_pb.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "sfpermits/v1/introspection.pb-c.h"

/* Estimated rows from the planner's statistics (cheap), or exact counts with one statement
 * that counts every table through query_to_xml (names come from pg_class, never from input). */
static const char SQL_TABLES_ESTIMATED[] = "SELECT c.relname, GREATEST(c.reltuples, 0)::bigint FROM pg_class c "
                                           "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                           "WHERE n.nspname = 'public' AND c.relkind IN ('r','p') ORDER BY c.relname";
static const char SQL_TABLES_EXACT[] =
    "SELECT c.relname, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM public.%I', "
    "c.relname), false, true, '')))[1]::text::bigint FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r','p') ORDER BY c.relname";
static void add_reason(Sfpermits__V1__GetHealthResponse *r, sfp_arena *a, const char *why)
{
    char **n = sfp_arena_alloc(a, sizeof(char *) * (r->n_degraded_reasons + 1));
    if (r->n_degraded_reasons) memcpy(n, r->degraded_reasons, sizeof(char *) * r->n_degraded_reasons);
    n[r->n_degraded_reasons++] = sfp_arena_strdup(a, why);
    r->degraded_reasons = n;
}

static void fill_db(sfp_health_service *svc, Sfpermits__V1__GetHealthResponse *r, bool full, sfp_arena *a)
{
    sfp_err err = {0};
    sfp_conn *c = sfp_pool_acquire(svc->pool, 2000, &err);
    if (!c) {
        r->db_connected = false;
        r->db_error = sfp_arena_strdup(a, err.msg);
        add_reason(r, a, "database unreachable");
        return;
    }
    r->db_connected = true;
    r->row_counts = full ? SFPERMITS__V1__ROW_COUNT_MODE__ROW_COUNT_MODE_EXACT
                         : SFPERMITS__V1__ROW_COUNT_MODE__ROW_COUNT_MODE_ESTIMATED;
    PGresult *res = sfp_db_query(c, full ? SQL_TABLES_EXACT : SQL_TABLES_ESTIMATED, 0, NULL, &err);
    if (res) {
        int n = PQntuples(res);
        r->tables = sfp_arena_alloc(a, sizeof(*r->tables) * (size_t)(n ? n : 1));
        for (int i = 0; i < n; i++) {
            Sfpermits__V1__TableCount *t = sfp_arena_msg(a, &sfpermits__v1__table_count__descriptor);
            t->name = sfp_arena_strdup(a, PQgetvalue(res, i, 0));
            t->rows = PQgetisnull(res, i, 1) ? 0 : strtoll(PQgetvalue(res, i, 1), NULL, 10);
            r->tables[r->n_tables++] = t;
        }
        r->table_count = n;
        size_t nexp = 0;
        while (sfp_expected_tables[nexp]) nexp++;
        r->missing_expected_tables = sfp_arena_alloc(a, sizeof(char *) * (nexp ? nexp : 1));
        for (size_t e = 0; e < nexp; e++) {
            bool found = false;
            for (int i = 0; i < n && !found; i++) found = !strcmp(PQgetvalue(res, i, 0), sfp_expected_tables[e]);
            if (!found) r->missing_expected_tables[r->n_missing_expected_tables++] = (char *)sfp_expected_tables[e];
        }
        if (r->n_missing_expected_tables) add_reason(r, a, "expected tables missing");
        PQclear(res);
    } else {
        add_reason(r, a, "table listing failed");
    }
    Sfpermits__V1__CacheStats *cs = sfp_arena_msg(a, &sfpermits__v1__cache_stats__descriptor);
    cs->backend = "postgres";
    r->cache_stats = cs;
    bool has_page_cache = true;
    for (size_t i = 0; i < r->n_missing_expected_tables; i++)
        if (!strcmp(r->missing_expected_tables[i], "page_cache")) has_page_cache = false;
    sfp_page_cache_rows rows;
    if (has_page_cache && sfp_page_cache_row_stats(c, &rows, &err) == 0) {
        cs->row_count = rows.live;
        cs->expired_rows = rows.expired;
        cs->optional_oldest_entry_age_minutes_case =
            (rows.has_oldest) ? SFPERMITS__V1__CACHE_STATS__OPTIONAL_OLDEST_ENTRY_AGE_MINUTES_OLDEST_ENTRY_AGE_MINUTES
                              : SFPERMITS__V1__CACHE_STATS__OPTIONAL_OLDEST_ENTRY_AGE_MINUTES__NOT_SET;
        cs->oldest_entry_age_minutes = rows.oldest_live_age_minutes;
    }
    int v = sfp_schema_version(sfp_conn_pg(c));
    r->schema_version = v > 0 ? v : 0;
    sfp_pool_release(svc->pool, c);
}

static void fill_peers(sfp_health_service *svc, Sfpermits__V1__GetHealthResponse *r, sfp_arena *a)
{
    r->services = sfp_arena_alloc(a, sizeof(*r->services) * (svc->npeers ? svc->npeers : 1));
    for (size_t i = 0; i < svc->npeers; i++) {
        const sfp_health_peer *p = &svc->peers[i];
        Sfpermits__V1__PeerStatus *ps = sfp_arena_msg(a, &sfpermits__v1__peer_status__descriptor);
        ps->service = (char *)p->service;
        ps->address = (char *)p->addr;
        Sfpermits__V1__GetStatsRequest req = SFPERMITS__V1__GET_STATS_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        sfp_rpc_status st;
        const char *rid = sfp_log_request_id();
        sfp_rpc_md md = {"x-request-id", rid ? rid : ""};
        if (sfp_rpc_call(p->ch, "/sfpermits.v1.Introspection/GetStats", &req.base,
                         &sfpermits__v1__service_stats__descriptor, &resp, svc->peer_timeout_ms, &md, rid ? 1 : 0,
                         &st) == GRPC_STATUS_OK) {
            ps->reachable = true;
            /* Re-home the peer's stats in our arena by a pack/unpack round trip. */
            size_t len = protobuf_c_message_get_packed_size(resp);
            uint8_t *buf = sfp_arena_alloc(a, len ? len : 1);
            protobuf_c_message_pack(resp, buf);
            ProtobufCAllocator alloc = sfp_arena_pb_allocator(a);
            ps->stats = (void *)protobuf_c_message_unpack(&sfpermits__v1__service_stats__descriptor, &alloc, len, buf);
            protobuf_c_message_free_unpacked(resp, NULL);
        } else {
            ps->reachable = false;
            ps->error = sfp_arena_printf(a, "%s: %s", sfp_rpc_code_name(st.code), st.message);
        }
        r->services[r->n_services++] = ps;
    }
}

static grpc_status_code get_health(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    sfp_health_service *svc = user;
    const Sfpermits__V1__GetHealthRequest *in = (const void *)req;
    sfp_arena *a = sfp_rpc_arena(ctx);
    Sfpermits__V1__GetHealthResponse *r = sfp_arena_msg(a, &sfpermits__v1__get_health_response__descriptor);
    r->backend = "postgres";
    r->version = SFP_VERSION;
    r->uptime_seconds = sfp_mono_s() - svc->started_mono;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    r->checked_at = sfp_arena_strdup(a, ts);
    fill_db(svc, r, in->full, a);
    r->pool_stats = sfp_pool_stats_pb(svc->pool, a);
    fill_peers(svc, r, a);
    r->status = r->n_degraded_reasons ? SFPERMITS__V1__SUITE_STATUS__SUITE_STATUS_DEGRADED
                                      : SFPERMITS__V1__SUITE_STATUS__SUITE_STATUS_OK;
    *resp = &r->base;
    return GRPC_STATUS_OK;
}

sfp_rpc_method sfp_health_service_method(sfp_health_service *svc)
{
    if (!svc->started_mono) svc->started_mono = sfp_mono_s();
    return (sfp_rpc_method){"/sfpermits.v1.HealthService/GetHealth", &sfpermits__v1__get_health_request__descriptor,
                            &sfpermits__v1__get_health_response__descriptor, get_health, svc};
}

void sfp_health_service_stats(Sfpermits__V1__ServiceStats *st, sfp_arena *a, void *user)
{
    sfp_health_service *svc = user;
    st->pool = sfp_pool_stats_pb(svc->pool, a);
}
