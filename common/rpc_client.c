/* rpc_client.c — blocking unary gRPC client on the C core (see rpc.h). */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "rpc.h"
#include "rpc_channel.h"

void sfp_rpc_init(void)
{
    grpc_init();
}
void sfp_rpc_shutdown(void)
{
    grpc_shutdown();
}

const char *sfp_rpc_code_name(grpc_status_code code)
{
    static const char *const names[] = {
        "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED"};
    if ((int)code >= 0 && (int)code < (int)(sizeof names / sizeof names[0])) return names[code];
    return "UNKNOWN";
}

/* Every channel balances round-robin over all the addresses its target resolves to. With a plain
 * host:port that is one address and nothing changes; with "dns:///report:50051" naming a
 * Kubernetes headless Service it is every ready pod, so calls spread over the replicas (a
 * ClusterIP would pin each client to one pod for the life of its HTTP/2 connection), and a pod
 * that goes away is skipped as soon as its connection drops. The service config is ours alone:
 * none is taken from DNS TXT records. */
static const char k_service_config[] = "{\"loadBalancingConfig\":[{\"round_robin\":{}}]}";

sfp_rpc_channel *sfp_rpc_channel_create(const char *addr)
{
    sfp_rpc_init();
    sfp_rpc_channel *c = calloc(1, sizeof *c);
    if (!c) abort();
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = 16 << 20},
        /* reconnect quickly after a peer restarts (default backoff grows to 120 s) */
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = 2000},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = 100},
        {.type = GRPC_ARG_STRING, .key = GRPC_ARG_SERVICE_CONFIG, .value.string = (char *)k_service_config},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, .value.integer = 1},
    };
    grpc_channel_args ca = {.num_args = sizeof args / sizeof args[0], .args = args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    c->ch = grpc_channel_create(addr, creds, &ca);
    grpc_channel_credentials_release(creds);
    return c;
}

void sfp_rpc_channel_destroy(sfp_rpc_channel *c)
{
    if (!c) return;
    grpc_channel_destroy(c->ch);
    free(c);
    sfp_rpc_shutdown();
}

static void set_status(sfp_rpc_status *st, grpc_status_code code, const char *msg, size_t len)
{
    st->code = code;
    if (len >= sizeof st->message) len = sizeof st->message - 1;
    memcpy(st->message, msg, len);
    st->message[len] = '\0';
}

grpc_status_code sfp_rpc_call_raw(sfp_rpc_channel *c, const char *path, const ProtobufCMessage *req, uint8_t **resp,
                                  size_t *resp_len, int64_t timeout_ms, const sfp_rpc_md *md, size_t nmd,
                                  sfp_rpc_status *st)
{
    sfp_rpc_status local;
    if (!st) st = &local;
    memset(st, 0, sizeof *st);
    *resp = NULL;
    *resp_len = 0;

    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline =
        timeout_ms > 0 ? gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN))
                       : gpr_inf_future(GPR_CLOCK_MONOTONIC);
    grpc_slice method = grpc_slice_from_static_string(path);
    grpc_call *call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL, deadline, NULL);

    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t stackbuf[1024];
    uint8_t *bytes = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!bytes) abort();
    protobuf_c_message_pack(req, bytes);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)bytes, len);
    if (bytes != stackbuf) free(bytes);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);

    grpc_metadata mds[16];
    if (nmd > 16) nmd = 16;
    for (size_t i = 0; i < nmd; i++) {
        memset(&mds[i], 0, sizeof mds[i]);
        mds[i].key = grpc_slice_from_copied_string(md[i].key);
        mds[i].value = grpc_slice_from_copied_string(md[i].value);
    }

    grpc_metadata_array initial_md, trailing_md;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_byte_buffer *recv = NULL;
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = nmd ? mds : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
    ops[5].data.recv_status_on_client.status = &code;
    ops[5].data.recv_status_on_client.status_details = &details;

    int tag = 0;
    if (grpc_call_start_batch(call, ops, 6, &tag, NULL) == GRPC_CALL_OK) {
        grpc_completion_queue_pluck(cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        set_status(st, code, (const char *)GRPC_SLICE_START_PTR(details), GRPC_SLICE_LENGTH(details));
    } else {
        set_status(st, GRPC_STATUS_INTERNAL, "could not start call", 20);
    }
    for (size_t i = 0; i < trailing_md.count; i++) {
        grpc_metadata *m = &trailing_md.metadata[i];
        if (GRPC_SLICE_LENGTH(m->key) == 11 && !memcmp(GRPC_SLICE_START_PTR(m->key), "retry-after", 11)) {
            size_t vl = GRPC_SLICE_LENGTH(m->value);
            if (vl >= sizeof st->retry_after) vl = sizeof st->retry_after - 1;
            memcpy(st->retry_after, GRPC_SLICE_START_PTR(m->value), vl);
            st->retry_after[vl] = '\0';
        }
    }
    if (st->code == GRPC_STATUS_OK) {
        if (!recv) {
            set_status(st, GRPC_STATUS_INTERNAL, "empty response", 14);
        } else {
            grpc_byte_buffer_reader rd;
            if (grpc_byte_buffer_reader_init(&rd, recv)) {
                grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
                size_t n = GRPC_SLICE_LENGTH(all);
                *resp = malloc(n ? n : 1);
                if (!*resp) abort();
                memcpy(*resp, GRPC_SLICE_START_PTR(all), n);
                *resp_len = n;
                grpc_slice_unref(all);
                grpc_byte_buffer_reader_destroy(&rd);
            }
            if (!*resp) set_status(st, GRPC_STATUS_INTERNAL, "response could not be decoded", 29);
        }
    }
    if (recv) grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_slice_unref(details);
    for (size_t i = 0; i < nmd; i++) {
        grpc_slice_unref(mds[i].key);
        grpc_slice_unref(mds[i].value);
    }
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_completion_queue_destroy(cq);
    return st->code;
}

grpc_status_code sfp_rpc_unpack(const ProtobufCMessageDescriptor *resp_desc, const uint8_t *bytes, size_t len,
                                ProtobufCMessage **resp, sfp_rpc_status *st)
{
    *resp = protobuf_c_message_unpack(resp_desc, NULL, len, bytes);
    if (*resp) st->code = GRPC_STATUS_OK;
    else set_status(st, GRPC_STATUS_INTERNAL, "response could not be decoded", 29);
    return st->code;
}

grpc_status_code sfp_rpc_call(sfp_rpc_channel *c, const char *path, const ProtobufCMessage *req,
                              const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, int64_t timeout_ms,
                              const sfp_rpc_md *md, size_t nmd, sfp_rpc_status *st)
{
    sfp_rpc_status local;
    if (!st) st = &local;
    *resp = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (sfp_rpc_call_raw(c, path, req, &bytes, &len, timeout_ms, md, nmd, st) == GRPC_STATUS_OK)
        sfp_rpc_unpack(resp_desc, bytes, len, resp, st);
    free(bytes);
    return st->code;
}

int sfp_rpc_health_check(sfp_rpc_channel *c, const char *service, int64_t timeout_ms, sfp_rpc_status *st)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    ProtobufCMessage *resp = NULL;
    if (sfp_rpc_call(c, "/grpc.health.v1.Health/Check", &req.base, &grpc__health__v1__health_check_response__descriptor,
                     &resp, timeout_ms, NULL, 0, st) != GRPC_STATUS_OK)
        return -1;
    int status = ((Grpc__Health__V1__HealthCheckResponse *)resp)->status;
    protobuf_c_message_free_unpacked(resp, NULL);
    return status;
}
