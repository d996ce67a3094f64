/* HealthService.GetHealth over real gRPC against a real Postgres: ok/degraded, tables,
 * missing tables, pool and page-cache stats, peers reported but not fatal, DB down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"
#include "health_service.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "testsupport.h"

typedef struct harness {
    sfp_pool *pool;
    sfp_health_service svc;
    sfp_health_peer peers[2];
    sfp_rpc_server *srv;
    pthread_t th;
    sfp_rpc_channel *ch;
} harness;

/* peer_addr: NULL for none; "self" for the health server itself. */
static void start(harness *h, const char *url, const char *peer_addr)
{
    memset(h, 0, sizeof *h);
    sfp_pool_config cfg = {.conninfo = url,
                           .min = 1,
                           .max = 4,
                           .connect_timeout_s = 2,
                           .statement_timeout_ms = 10000,
                           .acquire_timeout_ms = 2000,
                           .idle_check_s = 30,
                           .application_name = "sfp-health-test"};
    sfp_err err = {0};
    h->pool = sfp_pool_create(&cfg, &err);
    assert_non_null(h->pool);
    h->svc = (sfp_health_service){.pool = h->pool, .peers = h->peers, .npeers = 0, .peer_timeout_ms = 500};
    sfp_rpc_method m[] = {sfp_health_service_method(&h->svc)};
    sfp_rpc_server_config sc = {.service = "health",
                                .addr = "127.0.0.1:0",
                                .workers = 2,
                                .ready = sfp_pool_ready_cb,
                                .ready_user = h->pool,
                                .stats = sfp_health_service_stats,
                                .stats_user = &h->svc};
    sfp_test_rpc_start(&sc, m, 1, &h->srv, &h->th, &h->ch);
    static char self[64];
    snprintf(self, sizeof self, "127.0.0.1:%d", sfp_rpc_server_port(h->srv));
    if (peer_addr) {
        const char *a = strcmp(peer_addr, "self") ? peer_addr : self;
        h->peers[0] = (sfp_health_peer){"report", a, sfp_rpc_channel_create(a)};
        h->svc.npeers = 1;
    }
}

static void stop(harness *h)
{
    sfp_test_rpc_stop(h->srv, h->th, h->ch);
    if (h->svc.npeers) sfp_rpc_channel_destroy(h->peers[0].ch);
    sfp_pool_destroy(h->pool);
}

static Sfpermits__V1__GetHealthResponse *get(harness *h, bool full)
{
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    req.full = full;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_call(h->ch, "/sfpermits.v1.HealthService/GetHealth", &req.base,
                                  &sfpermits__v1__get_health_response__descriptor, &resp, 5000, NULL, 0, &st),
                     GRPC_STATUS_OK);
    return (void *)resp;
}

static long table_rows(const Sfpermits__V1__GetHealthResponse *r, const char *name)
{
    for (size_t i = 0; i < r->n_tables; i++)
        if (!strcmp(r->tables[i]->name, name)) return (long)r->tables[i]->rows;
    return -1;
}

static void test_ok_with_tables_pool_and_cache_stats(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("it_health_ok");
    assert_int_equal(sfp_test_sql(url, "INSERT INTO page_cache(cache_key, payload, computed_at, ttl_minutes) VALUES "
                                       "('a', '\\x00', now() - interval '10 minutes', 30),"
                                       "('b', '\\x00', now() - interval '2 hours', 30),"
                                       "('c', '\\x00', now(), 30)"),
                     0);
    assert_int_equal(sfp_test_sql(url, "UPDATE page_cache SET invalidated_at = now() WHERE cache_key = 'c'"), 0);
    assert_int_equal(sfp_test_sql(url, "INSERT INTO users(email) VALUES ('x@example.com'), ('y@example.com')"), 0);
    harness h;
    start(&h, url, NULL);
    Sfpermits__V1__GetHealthResponse *r = get(&h, true);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__suite_status__descriptor, r->status), "ok");
    assert_true(r->db_connected);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__row_count_mode__descriptor, r->row_counts), "exact");
    assert_int_equal(r->n_missing_expected_tables, 0);
    assert_true(r->table_count >= 25);
    assert_int_equal(table_rows(r, "users"), 2);
    assert_int_equal(table_rows(r, "page_cache"), 3);
    assert_non_null(r->cache_stats);
    assert_int_equal(r->cache_stats->row_count, 1);    /* 'a' only */
    assert_int_equal(r->cache_stats->expired_rows, 2); /* 'b' expired, 'c' invalidated */
    assert_true(r->cache_stats->optional_oldest_entry_age_minutes_case);
    assert_true(r->cache_stats->oldest_entry_age_minutes > 9.9 && r->cache_stats->oldest_entry_age_minutes < 11);
    assert_non_null(r->pool_stats);
    assert_int_equal(r->pool_stats->max, 4);
    assert_true(r->pool_stats->acquires >= 1);
    assert_int_equal(r->pool_stats->size, r->pool_stats->idle + r->pool_stats->in_use);
    assert_true(r->schema_version >= 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = get(&h, false);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__row_count_mode__descriptor, r->row_counts), "estimated");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    free(url);
}

static void test_missing_table_degrades(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("it_health_missing");
    assert_int_equal(sfp_test_sql(url, "DROP TABLE page_cache"), 0);
    harness h;
    start(&h, url, NULL);
    Sfpermits__V1__GetHealthResponse *r = get(&h, false);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__suite_status__descriptor, r->status), "degraded");
    assert_int_equal(r->n_missing_expected_tables, 1);
    assert_string_equal(r->missing_expected_tables[0], "page_cache");
    assert_int_equal(r->cache_stats->row_count, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    free(url);
}

static void test_peers_reported_not_fatal(void **state)
{
    (void)state;
    char *url = sfp_test_migrated_db("it_health_peers");
    const char *dead = SFP_TEST_DEAD_ADDR;
    harness h;
    start(&h, url, dead);
    Sfpermits__V1__GetHealthResponse *r = get(&h, false);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__suite_status__descriptor, r->status), "ok");
    assert_int_equal(r->n_services, 1);
    assert_false(r->services[0]->reachable);
    assert_non_null(strstr(r->services[0]->error, "UNAVAILABLE"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);

    start(&h, url, "self");
    r = get(&h, false);
    assert_int_equal(r->n_services, 1);
    assert_true(r->services[0]->reachable);
    assert_string_equal(r->services[0]->stats->service, "health");
    assert_non_null(r->services[0]->stats->pool);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    stop(&h);
    free(url);
}

static void test_db_down_degraded_not_ready(void **state)
{
    (void)state;
    const char *url = SFP_TEST_DEAD_PG_URL;
    harness h;
    start(&h, url, NULL);
    Sfpermits__V1__GetHealthResponse *r = get(&h, false);
    assert_string_equal(SFP_PBJSON_ENUM_NAME(&sfpermits__v1__suite_status__descriptor, r->status), "degraded");
    assert_false(r->db_connected);
    assert_string_equal(r->db_error, "database unavailable");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_health_check(h.ch, "", 1000, &st), 1);          /* alive */
    assert_int_equal(sfp_rpc_health_check(h.ch, "readiness", 3000, &st), 2); /* not ready */
    stop(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_with_tables_pool_and_cache_stats),
        cmocka_unit_test(test_missing_table_degrades),
        cmocka_unit_test(test_peers_reported_not_fatal),
        cmocka_unit_test(test_db_down_degraded_not_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
