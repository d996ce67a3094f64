/* rpc_async.c — asynchronous unary gRPC client on one shared completion queue (see rpc_async.h). */
#include "rpc_async.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_channel.h"

#define MAX_MD 16

typedef struct acall {
    struct acall *prev, *next; /* in-flight list */
    grpc_call *call;
    sfp_rpc_async_done done;
    void *user;
    grpc_byte_buffer *send;
    grpc_metadata md[MAX_MD];
    size_t nmd;
    grpc_metadata_array initial_md, trailing_md;
    grpc_byte_buffer *recv;
    grpc_status_code code;
    grpc_slice details;
} acall;

struct sfp_rpc_cq {
    grpc_completion_queue *cq;
    pthread_t thread;
    pthread_mutex_t mu;
    acall *head; /* in flight */
    int n;
};

static void set_status(sfp_rpc_status *st, grpc_status_code code, const char *msg, size_t len)
{
    sfp_rpc_details_init(&st->details);
    st->code = code;
    if (len >= sizeof st->message) len = sizeof st->message - 1;
    memcpy(st->message, msg, len);
    st->message[len] = '\0';
}

static void list_remove(sfp_rpc_cq *q, acall *c)
{
    pthread_mutex_lock(&q->mu);
    if (c->prev) c->prev->next = c->next;
    else q->head = c->next;
    if (c->next) c->next->prev = c->prev;
    q->n--;
    pthread_mutex_unlock(&q->mu);
}

static void acall_free(acall *c)
{
    if (c->recv) grpc_byte_buffer_destroy(c->recv);
    if (c->send) grpc_byte_buffer_destroy(c->send);
    grpc_slice_unref(c->details);
    for (size_t i = 0; i < c->nmd; i++) {
        grpc_slice_unref(c->md[i].key);
        grpc_slice_unref(c->md[i].value);
    }
    grpc_metadata_array_destroy(&c->initial_md);
    grpc_metadata_array_destroy(&c->trailing_md);
    if (c->call) grpc_call_unref(c->call);
    free(c);
}

/* The call's batch finished: status, trailers and message into st/bytes, then done. */
static void complete(acall *c, bool ok)
{
    sfp_rpc_status st;
    memset(&st, 0, sizeof st);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!ok) set_status(&st, GRPC_STATUS_INTERNAL, "call failed", 11);
    else set_status(&st, c->code, (const char *)GRPC_SLICE_START_PTR(c->details), GRPC_SLICE_LENGTH(c->details));
    if (ok) sfp_rpc_status_read_trailers(&st, &c->trailing_md);
    if (st.code == GRPC_STATUS_OK) {
        grpc_byte_buffer_reader rd;
        if (c->recv && grpc_byte_buffer_reader_init(&rd, c->recv)) {
            /* one copy, slice by slice, into the buffer handed to the continuation (readall
             * would first join the slices into a copy of its own) */
            size_t cap = grpc_byte_buffer_length(c->recv), off = 0; /* exact unless compressed */
            bytes = malloc(cap ? cap : 1);
            if (!bytes) abort();
            grpc_slice sl;
            while (grpc_byte_buffer_reader_next(&rd, &sl)) {
                size_t n = GRPC_SLICE_LENGTH(sl);
                if (off + n > cap) {
                    cap = (off + n) * 2;
                    bytes = realloc(bytes, cap);
                    if (!bytes) abort();
                }
                memcpy(bytes + off, GRPC_SLICE_START_PTR(sl), n);
                off += n;
                grpc_slice_unref(sl);
            }
            len = off;
            grpc_byte_buffer_reader_destroy(&rd);
        } else {
            set_status(&st, GRPC_STATUS_INTERNAL, c->recv ? "response could not be decoded" : "empty response",
                       c->recv ? 29 : 14);
        }
    }
    sfp_rpc_async_done done = c->done;
    void *user = c->user;
    acall_free(c);
    done(user, &st, bytes, len);
}

static void *cq_thread(void *arg)
{
    sfp_rpc_cq *q = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(q->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        if (ev.type != GRPC_OP_COMPLETE) continue;
        acall *c = ev.tag;
        list_remove(q, c);
        complete(c, ev.success != 0);
    }
    return NULL;
}

sfp_rpc_cq *sfp_rpc_cq_start(void)
{
    sfp_rpc_init();
    sfp_rpc_cq *q = calloc(1, sizeof *q);
    if (!q) abort();
    q->cq = grpc_completion_queue_create_for_next(NULL);
    pthread_mutex_init(&q->mu, NULL);
    if (pthread_create(&q->thread, NULL, cq_thread, q)) abort();
    return q;
}

int sfp_rpc_call_async(sfp_rpc_cq *q, sfp_rpc_channel *ch, const char *path, const ProtobufCMessage *req,
                       int64_t timeout_ms, const sfp_rpc_md *md, size_t nmd, sfp_rpc_async_done done, void *user)
{
    acall *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->done = done;
    c->user = user;
    c->details = grpc_empty_slice();
    grpc_metadata_array_init(&c->initial_md);
    grpc_metadata_array_init(&c->trailing_md);

    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms > 0 ? timeout_ms : 1, GPR_TIMESPAN));
    grpc_slice method = grpc_slice_from_copied_string(path);
    c->call = grpc_channel_create_call(ch->ch, NULL, GRPC_PROPAGATE_DEFAULTS, q->cq, method, NULL, deadline, NULL);
    grpc_slice_unref(method);

    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t stackbuf[1024];
    uint8_t *bytes = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!bytes) abort();
    protobuf_c_message_pack(req, bytes);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)bytes, len);
    if (bytes != stackbuf) free(bytes);
    c->send = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);

    if (nmd > MAX_MD) nmd = MAX_MD;
    for (size_t i = 0; i < nmd; i++) {
        c->md[i].key = grpc_slice_from_copied_string(md[i].key);
        c->md[i].value = grpc_slice_from_copied_string(md[i].value);
    }
    c->nmd = nmd;

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = nmd ? c->md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing_md;
    ops[5].data.recv_status_on_client.status = &c->code;
    ops[5].data.recv_status_on_client.status_details = &c->details;

    /* Listed before the batch starts: the completion may arrive on the queue's thread at once. */
    pthread_mutex_lock(&q->mu);
    c->next = q->head;
    if (q->head) q->head->prev = c;
    q->head = c;
    q->n++;
    pthread_mutex_unlock(&q->mu);
    if (grpc_call_start_batch(c->call, ops, 6, c, NULL) != GRPC_CALL_OK) {
        list_remove(q, c);
        sfp_rpc_status st;
        memset(&st, 0, sizeof st);
        set_status(&st, GRPC_STATUS_INTERNAL, "could not start call", 20);
        acall_free(c);
        done(user, &st, NULL, 0);
        return -1;
    }
    return 0;
}

void sfp_rpc_cq_cancel_all(sfp_rpc_cq *q)
{
    if (!q) return;
    pthread_mutex_lock(&q->mu);
    for (acall *c = q->head; c; c = c->next) grpc_call_cancel(c->call, NULL);
    pthread_mutex_unlock(&q->mu);
}

int sfp_rpc_cq_in_flight(sfp_rpc_cq *q)
{
    pthread_mutex_lock(&q->mu);
    int n = q->n;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void sfp_rpc_cq_stop(sfp_rpc_cq *q)
{
    if (!q) return;
    sfp_rpc_cq_cancel_all(q);
    /* Shutdown is reported only after every pending batch has completed. */
    grpc_completion_queue_shutdown(q->cq);
    pthread_join(q->thread, NULL);
    grpc_completion_queue_destroy(q->cq);
    pthread_mutex_destroy(&q->mu);
    free(q);
    sfp_rpc_shutdown();
}
