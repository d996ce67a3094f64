/* rpc_async.h — asynchronous unary gRPC calls: one completion queue shared by every call of the
 * process, polled by one thread. No thread waits for a reply: a call is started from any thread
 * and its `done` callback runs on the queue's thread when the reply (or the deadline, or a
 * cancellation) arrives.
 *
 *   sfp_rpc_cq *q = sfp_rpc_cq_start();
 *   sfp_rpc_call_async(q, ch, "/pkg.Svc/Method", &req.base, timeout_ms, md, nmd, done, user);
 *   ...  done(user, &st, bytes, len) runs once, on q's thread
 *   sfp_rpc_cq_stop(q);   cancels what is still in flight, waits for every done, joins
 *
 * `done` must be quick (hand the result over and return): every reply of the process passes
 * through the one thread. Ownership: sfp_rpc_call_async copies the request (packed), the
 * metadata and the path; `bytes` handed to done (malloc'd, NULL unless st->code is OK) belongs
 * to done's callee; st is only valid during the callback. */
#ifndef SFP_RPC_ASYNC_H
#define SFP_RPC_ASYNC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include "rpc.h"

typedef struct sfp_rpc_cq sfp_rpc_cq;

/* Called exactly once per started call: on the queue's thread, or inline from
 * sfp_rpc_call_async when the call cannot be started (st = INTERNAL). */
typedef void (*sfp_rpc_async_done)(void *user, const sfp_rpc_status *st, uint8_t *bytes, size_t len);

/* Creates the completion queue and its polling thread. Never NULL (aborts on failure). */
sfp_rpc_cq *sfp_rpc_cq_start(void);
/* Starts a unary call with a deadline of timeout_ms (> 0). Returns 0; -1 when it could not be
 * started (done has then already run, inline). */
int sfp_rpc_call_async(sfp_rpc_cq *q, sfp_rpc_channel *ch, const char *path, const ProtobufCMessage *req,
                       int64_t timeout_ms, const sfp_rpc_md *md, size_t nmd, sfp_rpc_async_done done, void *user);
/* Cancels every call still in flight (their done runs with CANCELLED). */
void sfp_rpc_cq_cancel_all(sfp_rpc_cq *q);
/* Calls in flight right now. */
int sfp_rpc_cq_in_flight(sfp_rpc_cq *q);
/* Cancels what is in flight, waits for every done, stops the thread, frees q. NULL-safe. */
void sfp_rpc_cq_stop(sfp_rpc_cq *q);

#endif
