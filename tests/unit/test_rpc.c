/* rpc framework over real loopback gRPC: dispatch, metadata, errors + trailers, deadlines,
 * health Check semantics, Introspection counters, drain on stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rpc.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "sfpermits/v1/introspection.pb-c.h"

static sfp_rpc_server *g_srv;
static pthread_t g_thread;
static sfp_rpc_channel *g_ch;
static volatile bool g_ready = true;
static int g_run_rc = -1;

#define ECHO "/sfpermits.v1.HealthService/GetHealth"

/* Echo: version <- x-request-id metadata; full=true → FAILED_PRECONDITION with retry-after;
 * backend <- "slow" makes it sleep 300 ms. */
static grpc_status_code echo(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    (void)user;
    const Sfpermits__V1__GetHealthRequest *in = (const void *)req;
    if (in->full) {
        sfp_rpc_set_message(ctx, "nope: %d", 42);
        sfp_rpc_add_trailer(ctx, "retry-after", "7");
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    const char *slow = sfp_rpc_metadata(ctx, "x-slow");
    if (slow) {
        struct timespec ts = {0, 300 * 1000000L};
        nanosleep(&ts, NULL);
    }
    Sfpermits__V1__GetHealthResponse *out =
        sfp_arena_msg(sfp_rpc_arena(ctx), &sfpermits__v1__get_health_response__descriptor);
    const char *rid = sfp_rpc_metadata(ctx, "x-request-id");
    out->version = rid ? (char *)rid : "none";
    int64_t left = sfp_rpc_deadline_left_ms(ctx);
    out->table_count = left == INT64_MAX ? -1 : (int)left;
    if (sfp_rpc_metadata(ctx, "x-prefix")) { /* status/backend pre-packed, sent before *resp */
        Sfpermits__V1__GetHealthResponse pre = SFPERMITS__V1__GET_HEALTH_RESPONSE__INIT;
        pre.status = "degraded";
        pre.backend = "packed-prefix";
        size_t n = protobuf_c_message_get_packed_size(&pre.base);
        uint8_t *bytes = sfp_arena_alloc(sfp_rpc_arena(ctx), n);
        protobuf_c_message_pack(&pre.base, bytes);
        sfp_rpc_set_packed_prefix(ctx, bytes, n);
    }
    *resp = &out->base;
    return GRPC_STATUS_OK;
}

static bool ready_cb(void *u)
{
    (void)u;
    return g_ready;
}

static void *run_server(void *arg)
{
    (void)arg;
    g_run_rc = sfp_rpc_server_run(g_srv);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    sfp_rpc_method m[] = {{ECHO, &sfpermits__v1__get_health_request__descriptor,
                           &sfpermits__v1__get_health_response__descriptor, echo, NULL}};
    static const char *const names[] = {"sfpermits.v1.HealthService", NULL};
    sfp_rpc_server_config cfg = {.service = "test",
                                 .addr = "127.0.0.1:0",
                                 .workers = 4,
                                 .drain_timeout_ms = 2000,
                                 .service_names = names,
                                 .ready = ready_cb};
    sfp_err err = {0};
    g_srv = sfp_rpc_server_create(&cfg, m, 1, &err);
    if (!g_srv) return -1;
    pthread_create(&g_thread, NULL, run_server, NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", sfp_rpc_server_port(g_srv));
    g_ch = sfp_rpc_channel_create(addr);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sfp_rpc_channel_destroy(g_ch);
    sfp_rpc_server_stop(g_srv);
    pthread_join(g_thread, NULL);
    sfp_rpc_server_destroy(g_srv);
    return g_run_rc == 0 ? 0 : -1;
}

static void test_port_bound(void **state)
{
    (void)state;
    assert_true(sfp_rpc_server_port(g_srv) > 0);
}

static void test_echo_metadata_and_deadline(void **state)
{
    (void)state;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    sfp_rpc_md md[] = {{"x-request-id", "abc-123"}};
    /* The handler sees the caller's deadline: some of the 60 s left, never "none" (-1). How much
     * is left depends on the machine (a new channel's first call connects), so only bounds are
     * asserted; the grpc-timeout header rounds up, so the server may see a few ms more. */
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 60000, md, 1, &st),
        GRPC_STATUS_OK);
    Sfpermits__V1__GetHealthResponse *r = (void *)resp;
    assert_string_equal(r->version, "abc-123");
    if (!(r->table_count > 0 && r->table_count <= 61000)) fail_msg("deadline left %d", (int)r->table_count);
    protobuf_c_message_free_unpacked(resp, NULL);
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 5000, md, 1, &st),
        GRPC_STATUS_OK);
    r = (void *)resp;
    if (!(r->table_count > 0 && r->table_count <= 6000)) /* the shorter deadline is seen as such */
        fail_msg("deadline left %d", (int)r->table_count);
    protobuf_c_message_free_unpacked(resp, NULL);
}

/* A packed prefix and the handler's message arrive as one merged message. */
static void test_packed_prefix_merges(void **state)
{
    (void)state;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    sfp_rpc_md md[] = {{"x-request-id", "pre-1"}, {"x-prefix", "1"}};
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 2000, md, 2, &st),
        GRPC_STATUS_OK);
    Sfpermits__V1__GetHealthResponse *r = (void *)resp;
    assert_string_equal(r->status, "degraded");
    assert_string_equal(r->backend, "packed-prefix");
    assert_string_equal(r->version, "pre-1");
    assert_true(r->table_count > 0);
    protobuf_c_message_free_unpacked(resp, NULL);
    /* without the prefix, the same call has neither field */
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 2000, md, 1, &st),
        GRPC_STATUS_OK);
    r = (void *)resp;
    assert_string_equal(r->status, "");
    assert_string_equal(r->backend, "");
    protobuf_c_message_free_unpacked(resp, NULL);
}

static void test_error_message_and_trailer(void **state)
{
    (void)state;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    req.full = true;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 2000, NULL, 0, &st),
        GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_null(resp);
    assert_string_equal(st.message, "nope: 42");
    assert_string_equal(st.retry_after, "7");
}

static void test_deadline_exceeded(void **state)
{
    (void)state;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    sfp_rpc_md md[] = {{"x-slow", "1"}};
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 100, md, 1, &st),
        GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_null(resp);
}

static void test_unknown_method(void **state)
{
    (void)state;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_call(g_ch, "/sfpermits.v1.Nope/Nope", &req.base,
                                  &sfpermits__v1__get_health_response__descriptor, &resp, 2000, NULL, 0, &st),
                     GRPC_STATUS_UNIMPLEMENTED);
}

static void test_health_check(void **state)
{
    (void)state;
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_health_check(g_ch, "", 1000, &st), 1);
    assert_int_equal(sfp_rpc_health_check(g_ch, "liveness", 1000, &st), 1);
    assert_int_equal(sfp_rpc_health_check(g_ch, "readiness", 1000, &st), 1);
    g_ready = false;
    assert_int_equal(sfp_rpc_health_check(g_ch, "readiness", 1000, &st), 2);
    assert_int_equal(sfp_rpc_health_check(g_ch, "sfpermits.v1.HealthService", 1000, &st), 2);
    assert_int_equal(sfp_rpc_health_check(g_ch, "", 1000, &st), 1); /* liveness ignores readiness */
    g_ready = true;
    assert_int_equal(sfp_rpc_health_check(g_ch, "sfpermits.v1.HealthService", 1000, &st), 1);
    assert_int_equal(sfp_rpc_health_check(g_ch, "no.such.Service", 1000, &st), -1);
    assert_int_equal(st.code, GRPC_STATUS_NOT_FOUND);
}

static void test_introspection_counts(void **state)
{
    (void)state;
    Sfpermits__V1__GetStatsRequest req = SFPERMITS__V1__GET_STATS_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    assert_int_equal(sfp_rpc_call(g_ch, "/sfpermits.v1.Introspection/GetStats", &req.base,
                                  &sfpermits__v1__service_stats__descriptor, &resp, 2000, NULL, 0, &st),
                     GRPC_STATUS_OK);
    Sfpermits__V1__ServiceStats *s = (void *)resp;
    assert_string_equal(s->service, "test");
    assert_int_equal(s->worker_threads, 4);
    bool found = false;
    for (size_t i = 0; i < s->n_methods; i++) {
        if (!strcmp(s->methods[i]->method, ECHO)) {
            found = true;
            assert_true(s->methods[i]->calls >= 2); /* echo + error; the slow call may still run */
            assert_true(s->methods[i]->errors >= 1);
        }
    }
    assert_true(found);
    protobuf_c_message_free_unpacked(resp, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_bound),           cmocka_unit_test(test_echo_metadata_and_deadline),
        cmocka_unit_test(test_packed_prefix_merges), cmocka_unit_test(test_error_message_and_trailer),
        cmocka_unit_test(test_deadline_exceeded),    cmocka_unit_test(test_unknown_method),
        cmocka_unit_test(test_health_check),         cmocka_unit_test(test_introspection_counts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
