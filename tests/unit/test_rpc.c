/* rpc framework over real loopback gRPC: dispatch, metadata, errors + trailers, deadlines,
 * health Check semantics, Introspection counters, drain on stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpc.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "sfpermits/v1/introspection.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"

static sfp_rpc_server *g_srv;
static pthread_t g_thread;
static sfp_rpc_channel *g_ch;
static volatile bool g_ready = true;
static int g_run_rc = -1;

#define ECHO "/sfpermits.v1.HealthService/GetHealth"

/* Echo: version <- x-request-id metadata; full=true → RESOURCE_EXHAUSTED with rich details
 * (ErrorInfo RATE_LIMITED, a field violation, RetryInfo 6.2 s, the request packed as Any);
 * backend <- "slow" makes it sleep 300 ms. */
/* Deferred calls (x-defer): the handler parks its ctx here and returns SFP_RPC_PENDING; the
 * test completes them later from its own thread. */
#define MAX_PARKED 32
static pthread_mutex_t g_park_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_park_cv = PTHREAD_COND_INITIALIZER;
static sfp_rpc_ctx *g_parked[MAX_PARKED];
static int g_nparked;

static void complete_echo(sfp_rpc_ctx *ctx, const char *tag)
{
    Sfpermits__V1__GetHealthResponse *out =
        sfp_arena_msg(sfp_rpc_arena(ctx), &sfpermits__v1__get_health_response__descriptor);
    const char *rid = sfp_rpc_metadata(ctx, "x-request-id");
    out->version = rid ? (char *)rid : "none";
    out->backend = (char *)tag;
    sfp_rpc_complete(ctx, GRPC_STATUS_OK, &out->base);
}

/* sfp_rpc_on_end: the reply's bytes live in a buffer freed only when the call ends. */
static pthread_mutex_t g_end_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_ended;

static void on_end_free(void *p)
{
    free(p);
    pthread_mutex_lock(&g_end_mu);
    g_ended++;
    pthread_mutex_unlock(&g_end_mu);
}

static grpc_status_code echo(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    (void)user;
    if (sfp_rpc_metadata(ctx, "x-on-end")) { /* the reply points into a buffer the call owns */
        Sfpermits__V1__GetHealthResponse *out =
            sfp_arena_msg(sfp_rpc_arena(ctx), &sfpermits__v1__get_health_response__descriptor);
        char *status = strdup("borrowed");
        out->backend = status;
        sfp_rpc_on_end(ctx, on_end_free, status);
        *resp = &out->base;
        return GRPC_STATUS_OK;
    }
    if (sfp_rpc_metadata(ctx, "x-defer")) {
        pthread_mutex_lock(&g_park_mu);
        if (g_nparked == MAX_PARKED) {
            pthread_mutex_unlock(&g_park_mu);
            return GRPC_STATUS_RESOURCE_EXHAUSTED;
        }
        g_parked[g_nparked++] = ctx;
        pthread_cond_broadcast(&g_park_cv);
        pthread_mutex_unlock(&g_park_mu);
        return SFP_RPC_PENDING;
    }
    if (sfp_rpc_metadata(ctx, "x-defer-inline")) { /* completed before the handler returns */
        complete_echo(ctx, "inline");
        return SFP_RPC_PENDING;
    }
    const Sfpermits__V1__GetHealthRequest *in = (const void *)req;
    if (in->full) {
        sfp_rpc_set_message(ctx, "nope: %d", 42);
        sfp_rpc_details *d = sfp_rpc_details_of(ctx);
        sfp_rpc_details_set_reason(d, SFP_REASON_RATE_LIMITED);
        sfp_rpc_details_add_meta(d, "user_id", "%d", 7);
        sfp_rpc_details_add_violation(d, "full", "must be false %s", "here");
        sfp_rpc_details_set_retry_ms(d, 6200);
        sfp_rpc_add_detail(ctx, req);
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
    *resp = &out->base;
    return GRPC_STATUS_OK;
}

#define PARCEL "/test.Parcel/Echo"
/* Echoes block + lot back in a PropertyReport (the framework's string checks happen first). */
static grpc_status_code parcel(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    (void)user;
    const Sfpermits__V1__GetPropertyReportRequest *in = (const void *)req;
    Sfpermits__V1__PropertyReport *out = sfp_arena_msg(sfp_rpc_arena(ctx), &sfpermits__v1__property_report__descriptor);
    out->block = in->block;
    out->lot = in->lot;
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
                           &sfpermits__v1__get_health_response__descriptor, echo, NULL},
                          {PARCEL, &sfpermits__v1__get_property_report_request__descriptor,
                           &sfpermits__v1__property_report__descriptor, parcel, NULL}};
    static const char *const names[] = {"sfpermits.v1.HealthService", NULL};
    sfp_rpc_server_config cfg = {.service = "test",
                                 .addr = "127.0.0.1:0",
                                 .workers = 4,
                                 .drain_timeout_ms = 2000,
                                 .service_names = names,
                                 .ready = ready_cb};
    sfp_err err = {0};
    g_srv = sfp_rpc_server_create(&cfg, m, 2, &err);
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

static void test_on_end_runs_after_the_reply(void **state)
{
    (void)state;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    sfp_rpc_md md[] = {{"x-on-end", "1"}};
    pthread_mutex_lock(&g_end_mu);
    int before = g_ended;
    pthread_mutex_unlock(&g_end_mu);
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 2000, md, 1, &st),
        GRPC_STATUS_OK);
    assert_string_equal(((Sfpermits__V1__GetHealthResponse *)resp)->backend, "borrowed");
    protobuf_c_message_free_unpacked(resp, NULL);
    /* the call ends on the server shortly after the client has the reply: poll, bounded */
    bool ended = false;
    for (int i = 0; i < 1000 && !ended; i++) {
        pthread_mutex_lock(&g_end_mu);
        ended = g_ended == before + 1;
        pthread_mutex_unlock(&g_end_mu);
        if (!ended) nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    assert_true(ended);
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
    /* RetryInfo 6.2 s → Retry-After rounded up */
    assert_string_equal(st.retry_after, "7");
    assert_int_equal(st.details.retry_delay_ms, 6200);
    assert_string_equal(st.details.reason, "RATE_LIMITED");
    assert_string_equal(st.details.domain, "sfpermits.dev");
    assert_int_equal(st.details.nmeta, 1);
    assert_string_equal(st.details.meta[0].key, "user_id");
    assert_string_equal(st.details.meta[0].value, "7");
    assert_int_equal(st.details.nviolations, 1);
    assert_string_equal(st.details.violations[0].field, "full");
    assert_string_equal(st.details.violations[0].description, "must be false here");
    assert_true(st.details_len > 0);
    Sfpermits__V1__GetHealthRequest *back =
        (void *)sfp_rpc_details_find(st.details_bin, st.details_len, &sfpermits__v1__get_health_request__descriptor);
    assert_non_null(back);
    assert_true(back->full);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

/* An error without details has none on the client: no stale reason or retry. */
static void test_error_without_details(void **state)
{
    (void)state;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    memset(&st, 0x55, sizeof st);
    sfp_rpc_md md[] = {{"x-slow", "1"}};
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 50, md, 1, &st),
        GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_true(sfp_rpc_details_empty(&st.details));
    assert_int_equal(st.details_len, 0);
    assert_string_equal(st.retry_after, "");
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

typedef struct dcall {
    char rid[16];
    grpc_status_code code;
    char backend[16], version[16];
} dcall;

static void *deferred_client(void *arg)
{
    dcall *d = arg;
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    sfp_rpc_md md[] = {{"x-request-id", d->rid}, {"x-defer", "1"}};
    d->code =
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 30000, md, 2, &st);
    if (d->code == GRPC_STATUS_OK) {
        Sfpermits__V1__GetHealthResponse *r = (void *)resp;
        snprintf(d->backend, sizeof d->backend, "%s", r->backend);
        snprintf(d->version, sizeof d->version, "%s", r->version);
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return NULL;
}

/* Pending calls hold no worker: 12 of them on 4 workers, and a plain call is still served;
 * each is then completed from this (non-worker) thread and its client gets its own reply. */
static void test_deferred_completion_frees_workers(void **state)
{
    (void)state;
    enum { N = 12 };
    dcall d[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        memset(&d[i], 0, sizeof d[i]);
        snprintf(d[i].rid, sizeof d[i].rid, "d-%d", i);
        pthread_create(&th[i], NULL, deferred_client, &d[i]);
    }
    pthread_mutex_lock(&g_park_mu);
    while (g_nparked < N) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 20;
        if (pthread_cond_timedwait(&g_park_cv, &g_park_mu, &ts) != 0) break;
    }
    int parked = g_nparked;
    pthread_mutex_unlock(&g_park_mu);
    assert_int_equal(parked, N); /* all 12 reached the handler with 4 workers */

    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    sfp_rpc_md md[] = {{"x-request-id", "plain"}};
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 10000, md, 1, &st),
        GRPC_STATUS_OK);
    protobuf_c_message_free_unpacked(resp, NULL);

    pthread_mutex_lock(&g_park_mu);
    for (int i = 0; i < g_nparked; i++) complete_echo(g_parked[i], "deferred");
    g_nparked = 0;
    pthread_mutex_unlock(&g_park_mu);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(d[i].code, GRPC_STATUS_OK);
        assert_string_equal(d[i].backend, "deferred");
        assert_string_equal(d[i].version, d[i].rid); /* each reply went to its own call */
    }
    /* completed before the handler even returned */
    sfp_rpc_md md2[] = {{"x-request-id", "in-1"}, {"x-defer-inline", "1"}};
    assert_int_equal(
        sfp_rpc_call(g_ch, ECHO, &req.base, &sfpermits__v1__get_health_response__descriptor, &resp, 10000, md2, 2, &st),
        GRPC_STATUS_OK);
    Sfpermits__V1__GetHealthResponse *r = (void *)resp;
    assert_string_equal(r->backend, "inline");
    assert_string_equal(r->version, "in-1");
    protobuf_c_message_free_unpacked(resp, NULL);
}

/* A string field carrying "3512\0": refused, never seen by the handler as "3512". The bytes are
 * sent as an unknown field 1 of an empty message (protobuf-c copies its data, length prefix
 * included, as it is), which is exactly the wire form of block = "3512\0". */
static grpc_status_code call_parcel_raw(const char *block, size_t block_len, char *echoed, size_t cap)
{
    Sfpermits__V1__GetHealthRequest req = SFPERMITS__V1__GET_HEALTH_REQUEST__INIT;
    uint8_t data[64];
    data[0] = (uint8_t)block_len; /* < 128: a one-byte varint */
    memcpy(data + 1, block, block_len);
    ProtobufCMessageUnknownField uf = {
        .tag = 1, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, .len = block_len + 1, .data = data};
    req.base.n_unknown_fields = 1;
    req.base.unknown_fields = &uf;
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    grpc_status_code code =
        sfp_rpc_call(g_ch, PARCEL, &req.base, &sfpermits__v1__property_report__descriptor, &resp, 5000, NULL, 0, &st);
    if (code == GRPC_STATUS_OK) {
        snprintf(echoed, cap, "%s", ((Sfpermits__V1__PropertyReport *)resp)->block);
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return code;
}

static void test_nul_in_string_field_refused(void **state)
{
    (void)state;
    char echoed[32] = "";
    assert_int_equal(call_parcel_raw("3512", 4, echoed, sizeof echoed), GRPC_STATUS_OK);
    assert_string_equal(echoed, "3512");
    assert_int_equal(call_parcel_raw("3512\0", 5, echoed, sizeof echoed), GRPC_STATUS_INVALID_ARGUMENT);
    assert_int_equal(call_parcel_raw("35\0"
                                     "12",
                                     5, echoed, sizeof echoed),
                     GRPC_STATUS_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_bound),
        cmocka_unit_test(test_echo_metadata_and_deadline),
        cmocka_unit_test(test_on_end_runs_after_the_reply),
        cmocka_unit_test(test_error_message_and_trailer),
        cmocka_unit_test(test_error_without_details),
        cmocka_unit_test(test_deadline_exceeded),
        cmocka_unit_test(test_unknown_method),
        cmocka_unit_test(test_health_check),
        cmocka_unit_test(test_introspection_counts),
        cmocka_unit_test(test_deferred_completion_frees_workers),
        cmocka_unit_test(test_nul_in_string_field_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
