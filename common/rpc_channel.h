/* rpc_channel.h — the channel struct shared by the blocking (rpc_client.c) and asynchronous
 * (rpc_async.c) clients. Internal to common/rpc_*.c: callers use the opaque sfp_rpc_channel. */
#ifndef SFP_RPC_CHANNEL_H
#define SFP_RPC_CHANNEL_H

#include <grpc/grpc.h>

struct sfp_rpc_channel {
    grpc_channel *ch; /* owned */
};

struct sfp_rpc_status;
/* Reads a call's trailing metadata into st: grpc-status-details-bin → st->details,
 * st->details_bin and st->retry_after (from RetryInfo). Call after st->code is set. */
void sfp_rpc_status_read_trailers(struct sfp_rpc_status *st, const grpc_metadata_array *md);

#endif
