/* Streaming calls of the rpc framework over real loopback gRPC, driven by a raw C-core client:
 * grpc.health.v1 Watch (current status at once, readiness flips, SERVICE_UNKNOWN, the
 * RPC_MAX_STREAMS cap, NOT_SERVING + OK on drain with a clean, quick drain), server reflection
 * as a bidi stream (v1 and v1alpha), and sfp_reflection_answer on the embedded descriptor set
 * (every kind of lookup, NOT_FOUND and INVALID_ARGUMENT error responses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "reflection.h"
#include "rpc.h"
#include "sfpermits/v1/health_service.pb-c.h"

#define SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define NOT_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
#define SERVICE_UNKNOWN GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN

static atomic_bool g_ready = true;
static bool ready_cb(void *user)
{
    (void)user;
    return atomic_load(&g_ready);
}

static grpc_status_code noop(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    (void)ctx, (void)req, (void)resp, (void)user;
    return GRPC_STATUS_OK;
}

typedef struct server {
    sfp_rpc_server *srv;
    pthread_t th;
    int rc;
    grpc_channel *ch;
} server;

static void *run(void *arg)
{
    server *s = arg;
    s->rc = sfp_rpc_server_run(s->srv);
    return NULL;
}

static void server_start(server *s, int max_streams)
{
    sfp_rpc_method m[] = {{"/sfpermits.v1.HealthService/GetHealth", &sfpermits__v1__get_health_request__descriptor,
                           &sfpermits__v1__get_health_response__descriptor, noop, NULL}};
    static const char *const names[] = {"sfpermits.v1.HealthService", NULL};
    sfp_rpc_server_config cfg = {.service = "test",
                                 .addr = "127.0.0.1:0",
                                 .workers = 2,
                                 .drain_timeout_ms = 20000,
                                 .service_names = names,
                                 .ready = ready_cb,
                                 .max_streams = max_streams};
    sfp_err err = {0};
    s->srv = sfp_rpc_server_create(&cfg, m, 1, &err);
    assert_non_null(s->srv);
    pthread_create(&s->th, NULL, run, s);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", sfp_rpc_server_port(s->srv));
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    s->ch = grpc_channel_create(addr, creds, NULL);
    grpc_channel_credentials_release(creds);
}

/* Stops the server (SIGTERM path) and returns sfp_rpc_server_run's result. */
static int server_stop(server *s)
{
    sfp_rpc_server_stop(s->srv);
    pthread_join(s->th, NULL);
    grpc_channel_destroy(s->ch);
    sfp_rpc_server_destroy(s->srv);
    return s->rc;
}

/* ---------- a raw streaming client ---------- */

typedef struct stream {
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array init_md, trail_md;
    grpc_status_code status;
    grpc_slice details;
    int tag_status;
} stream;

static void pluck(stream *s, void *tag)
{
    grpc_event ev = grpc_completion_queue_pluck(s->cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    grpc_slice sl = grpc_slice_malloc(len);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(sl));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return bb;
}

/* Opens a stream to path with a 20 s deadline; the status op is started at once. */
static void stream_open(stream *s, grpc_channel *ch, const char *path)
{
    memset(s, 0, sizeof *s);
    s->cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_seconds(20, GPR_TIMESPAN));
    s->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, s->cq, grpc_slice_from_static_string(path),
                                       NULL, deadline, NULL);
    grpc_metadata_array_init(&s->init_md);
    grpc_metadata_array_init(&s->trail_md);
    grpc_op ops[3] = {{.op = GRPC_OP_SEND_INITIAL_METADATA},
                      {.op = GRPC_OP_RECV_INITIAL_METADATA},
                      {.op = GRPC_OP_RECV_STATUS_ON_CLIENT}};
    ops[1].data.recv_initial_metadata.recv_initial_metadata = &s->init_md;
    ops[2].data.recv_status_on_client.trailing_metadata = &s->trail_md;
    ops[2].data.recv_status_on_client.status = &s->status;
    ops[2].data.recv_status_on_client.status_details = &s->details;
    assert_int_equal(grpc_call_start_batch(s->call, ops, 3, &s->tag_status, NULL), GRPC_CALL_OK);
}

static void stream_send(stream *s, const ProtobufCMessage *m, bool last)
{
    grpc_op ops[2] = {{.op = GRPC_OP_SEND_MESSAGE}, {.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT}};
    ops[0].data.send_message.send_message = pack(m);
    int tag;
    assert_int_equal(grpc_call_start_batch(s->call, ops, last ? 2 : 1, &tag, NULL), GRPC_CALL_OK);
    pluck(s, &tag);
    grpc_byte_buffer_destroy(ops[0].data.send_message.send_message);
}

/* Next response (malloc-unpacked; caller frees) or NULL at the end of the stream. */
static ProtobufCMessage *stream_next(stream *s, const ProtobufCMessageDescriptor *d)
{
    grpc_byte_buffer *bb = NULL;
    grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
    op.data.recv_message.recv_message = &bb;
    int tag;
    assert_int_equal(grpc_call_start_batch(s->call, &op, 1, &tag, NULL), GRPC_CALL_OK);
    pluck(s, &tag);
    if (!bb) return NULL;
    grpc_byte_buffer_reader rd;
    grpc_byte_buffer_reader_init(&rd, bb);
    grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    grpc_byte_buffer_reader_destroy(&rd);
    grpc_byte_buffer_destroy(bb);
    assert_non_null(m);
    return m;
}

/* Waits for the status; closes the stream. */
static grpc_status_code stream_close(stream *s)
{
    pluck(s, &s->tag_status);
    grpc_status_code code = s->status;
    grpc_slice_unref(s->details);
    grpc_metadata_array_destroy(&s->init_md);
    grpc_metadata_array_destroy(&s->trail_md);
    grpc_call_unref(s->call);
    grpc_completion_queue_shutdown(s->cq);
    while (grpc_completion_queue_pluck(s->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(s->cq);
    return code;
}

static void cancel_and_close(stream *s)
{
    grpc_call_cancel(s->call, NULL);
    stream_close(s);
}

static void watch_open(stream *s, grpc_channel *ch, const char *service)
{
    stream_open(s, ch, "/grpc.health.v1.Health/Watch");
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    stream_send(s, &req.base, true);
}

static int watch_next(stream *s)
{
    Grpc__Health__V1__HealthCheckResponse *r =
        (void *)stream_next(s, &grpc__health__v1__health_check_response__descriptor);
    if (!r) return -1;
    int st = r->status;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return st;
}

/* ---------- Watch ---------- */

static void test_watch_follows_readiness(void **state)
{
    (void)state;
    server s;
    atomic_store(&g_ready, true);
    server_start(&s, 0);
    stream w, u;
    watch_open(&w, s.ch, "readiness");
    assert_int_equal(watch_next(&w), SERVING); /* at once */
    atomic_store(&g_ready, false);
    assert_int_equal(watch_next(&w), NOT_SERVING); /* the next change, whenever it is seen */
    atomic_store(&g_ready, true);
    assert_int_equal(watch_next(&w), SERVING);
    watch_open(&u, s.ch, "nope.NoSuchService"); /* not an error: SERVICE_UNKNOWN, stream open */
    assert_int_equal(watch_next(&u), SERVICE_UNKNOWN);
    cancel_and_close(&u);
    /* Check still answers alongside */
    watch_open(&u, s.ch, "sfpermits.v1.HealthService");
    assert_int_equal(watch_next(&u), SERVING);
    /* drain: NOT_SERVING, then the end with OK, and the drain is clean (rc 0, not cancelled) */
    sfp_rpc_server_stop(s.srv);
    assert_int_equal(watch_next(&w), NOT_SERVING);
    assert_int_equal(watch_next(&w), -1);
    assert_int_equal(stream_close(&w), GRPC_STATUS_OK);
    assert_int_equal(watch_next(&u), NOT_SERVING);
    assert_int_equal(watch_next(&u), -1);
    assert_int_equal(stream_close(&u), GRPC_STATUS_OK);
    assert_int_equal(server_stop(&s), 0);
}

static void test_watch_cap(void **state)
{
    (void)state;
    server s;
    atomic_store(&g_ready, true);
    server_start(&s, 2);
    stream a, b, c;
    watch_open(&a, s.ch, "");
    assert_int_equal(watch_next(&a), SERVING);
    watch_open(&b, s.ch, "liveness");
    assert_int_equal(watch_next(&b), SERVING);
    watch_open(&c, s.ch, "");
    assert_int_equal(watch_next(&c), -1);
    assert_int_equal(stream_close(&c), GRPC_STATUS_RESOURCE_EXHAUSTED);
    cancel_and_close(&b); /* a slot frees up once the cancelled stream is gone */
    bool admitted = false;
    /* polled within a generous bound: the server learns of the cancellation asynchronously */
    gpr_timespec until = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(20, GPR_TIMESPAN));
    while (!admitted && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), until) < 0) {
        watch_open(&c, s.ch, "");
        admitted = watch_next(&c) == SERVING;
        if (admitted) cancel_and_close(&c);
        else stream_close(&c);
    }
    assert_true(admitted);
    cancel_and_close(&a);
    assert_int_equal(server_stop(&s), 0);
}

/* ---------- reflection over the wire ---------- */

static void reflection_roundtrip(grpc_channel *ch, const char *path)
{
    stream r;
    stream_open(&r, ch, path);
    Grpc__Reflection__V1__ServerReflectionRequest q1 = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT,
                                                  q2 = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q1.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    q1.list_services = "";
    q2.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    q2.file_containing_symbol = "sfpermits.v1.HealthService.GetHealth";
    stream_send(&r, &q1.base, false);
    Grpc__Reflection__V1__ServerReflectionResponse *a =
        (void *)stream_next(&r, &grpc__reflection__v1__server_reflection_response__descriptor);
    assert_non_null(a);
    assert_int_equal(a->message_response_case,
                     GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE);
    const char *want[] = {"sfpermits.v1.HealthService", "grpc.health.v1.Health", "sfpermits.v1.Introspection",
                          "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"};
    assert_int_equal(a->list_services_response->n_service, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(a->list_services_response->service[i]->name, want[i]);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    stream_send(&r, &q2.base, true);
    a = (void *)stream_next(&r, &grpc__reflection__v1__server_reflection_response__descriptor);
    assert_non_null(a);
    assert_int_equal(a->message_response_case,
                     GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE);
    assert_true(a->file_descriptor_response->n_file_descriptor_proto >= 1);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    assert_null(stream_next(&r, &grpc__reflection__v1__server_reflection_response__descriptor));
    assert_int_equal(stream_close(&r), GRPC_STATUS_OK); /* half-close ends it with OK */
}

static void test_reflection_stream(void **state)
{
    (void)state;
    server s;
    server_start(&s, 0);
    reflection_roundtrip(s.ch, SFP_REFLECTION_V1_PATH);
    reflection_roundtrip(s.ch, SFP_REFLECTION_V1ALPHA_PATH);
    /* an idle reflection stream (one answer received, so the server holds the call) does not
     * hold the drain up: UNAVAILABLE, clean drain */
    stream r;
    stream_open(&r, s.ch, SFP_REFLECTION_V1_PATH);
    Grpc__Reflection__V1__ServerReflectionRequest q = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    q.list_services = "";
    stream_send(&r, &q.base, false);
    ProtobufCMessage *a = stream_next(&r, &grpc__reflection__v1__server_reflection_response__descriptor);
    assert_non_null(a);
    protobuf_c_message_free_unpacked(a, NULL);
    sfp_rpc_server_stop(s.srv);
    assert_int_equal(stream_close(&r), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(server_stop(&s), 0);
}

/* ---------- sfp_reflection_answer ---------- */

typedef Grpc__Reflection__V1__ServerReflectionResponse resp_t;

static resp_t *ask(sfp_arena *a, int kind, const char *name)
{
    Grpc__Reflection__V1__ServerReflectionRequest *q =
        sfp_arena_msg(a, &grpc__reflection__v1__server_reflection_request__descriptor);
    q->host = "h";
    q->message_request_case = kind;
    q->file_by_filename = (char *)name; /* a union: the same slot for every string case */
    static const char *const services[] = {"sfpermits.v1.ReportService", NULL};
    return sfp_reflection_answer(q, services, a);
}

/* Name of the first file in a FileDescriptorResponse (field 1 of the FileDescriptorProto). */
static void assert_first_file(const resp_t *r, const char *name)
{
    assert_int_equal(r->message_response_case,
                     GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE);
    const ProtobufCBinaryData *b = &r->file_descriptor_response->file_descriptor_proto[0];
    size_t n = strlen(name);
    assert_true(b->len > n + 2 && b->data[0] == 0x0a && b->data[1] == n && !memcmp(b->data + 2, name, n));
}

static void assert_error(const resp_t *r, grpc_status_code code)
{
    assert_int_equal(r->message_response_case,
                     GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE);
    assert_int_equal(r->error_response->error_code, code);
}

#define BY_FILE GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME
#define BY_SYMBOL GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL
#define EXT_NUMBERS GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE

static void test_reflection_answers(void **state)
{
    (void)state;
    sfp_arena *a = sfp_arena_new();
    resp_t *r = ask(a, GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES, "");
    assert_string_equal(r->valid_host, "h");
    assert_non_null(r->original_request);
    assert_int_equal(r->list_services_response->n_service, 1);
    assert_string_equal(r->list_services_response->service[0]->name, "sfpermits.v1.ReportService");

    /* a file, then its imports */
    r = ask(a, BY_FILE, "sfpermits/v1/health_service.proto");
    assert_first_file(r, "sfpermits/v1/health_service.proto");
    assert_true(r->file_descriptor_response->n_file_descriptor_proto >= 2);
    assert_true(sfp_reflection_has_file("grpc/reflection/v1alpha/reflection.proto"));
    assert_true(sfp_reflection_has_file("grpc/health/v1/health.proto"));
    /* services, methods, messages, nested messages, fields, enums and enum values */
    assert_first_file(ask(a, BY_SYMBOL, "sfpermits.v1.ReportService"), "sfpermits/v1/report.proto");
    assert_first_file(ask(a, BY_SYMBOL, "sfpermits.v1.ReportService.GetPropertyReport"), "sfpermits/v1/report.proto");
    assert_first_file(ask(a, BY_SYMBOL, "sfpermits.v1.GetPropertyReportRequest.block"), "sfpermits/v1/report.proto");
    assert_first_file(ask(a, BY_SYMBOL, ".grpc.health.v1.HealthCheckResponse.ServingStatus"),
                      "grpc/health/v1/health.proto");
    assert_first_file(ask(a, BY_SYMBOL, "grpc.health.v1.HealthCheckResponse.SERVICE_UNKNOWN"),
                      "grpc/health/v1/health.proto");
    assert_first_file(ask(a, BY_SYMBOL, "grpc.reflection.v1alpha.ServerReflection"),
                      "grpc/reflection/v1alpha/reflection.proto");
    /* unknown names: NOT_FOUND error responses */
    assert_error(ask(a, BY_FILE, "no/such.proto"), GRPC_STATUS_NOT_FOUND);
    assert_error(ask(a, BY_SYMBOL, "sfpermits.v1.NoSuch"), GRPC_STATUS_NOT_FOUND);
    assert_error(ask(a, BY_SYMBOL, "sfpermits.v1"), GRPC_STATUS_NOT_FOUND);
    assert_error(ask(a, EXT_NUMBERS, "sfpermits.v1.NoSuch"), GRPC_STATUS_NOT_FOUND);
    /* a known message without extensions: an empty list */
    r = ask(a, EXT_NUMBERS, "sfpermits.v1.GetPropertyReportRequest");
    assert_int_equal(r->message_response_case,
                     GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE);
    assert_string_equal(r->all_extension_numbers_response->base_type_name, "sfpermits.v1.GetPropertyReportRequest");
    assert_int_equal(r->all_extension_numbers_response->n_extension_number, 0);
    /* file_containing_extension: unknown type, then a known type without that extension */
    Grpc__Reflection__V1__ServerReflectionRequest *q =
        sfp_arena_msg(a, &grpc__reflection__v1__server_reflection_request__descriptor);
    Grpc__Reflection__V1__ExtensionRequest *er = sfp_arena_msg(a, &grpc__reflection__v1__extension_request__descriptor);
    q->message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION;
    q->file_containing_extension = er;
    er->containing_type = "sfpermits.v1.NoSuch";
    er->extension_number = 100;
    assert_error(sfp_reflection_answer(q, NULL, a), GRPC_STATUS_NOT_FOUND);
    er->containing_type = "sfpermits.v1.GetPropertyReportRequest";
    assert_error(sfp_reflection_answer(q, NULL, a), GRPC_STATUS_NOT_FOUND);
    /* a request naming nothing */
    q = sfp_arena_msg(a, &grpc__reflection__v1__server_reflection_request__descriptor);
    assert_error(sfp_reflection_answer(q, NULL, a), GRPC_STATUS_INVALID_ARGUMENT);
    sfp_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reflection_answers),
        cmocka_unit_test(test_reflection_stream),
        cmocka_unit_test(test_watch_follows_readiness),
        cmocka_unit_test(test_watch_cap),
    };
    sfp_rpc_init();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sfp_rpc_shutdown();
    return rc;
}
