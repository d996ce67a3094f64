/* rpc_channel.h — the channel struct shared by the blocking (rpc_client.c) and asynchronous
 * (rpc_async.c) clients. Internal to common/rpc_*.c: callers use the opaque sfp_rpc_channel. */
#ifndef SFP_RPC_CHANNEL_H
#define SFP_RPC_CHANNEL_H

#include <grpc/grpc.h>

struct sfp_rpc_channel {
    grpc_channel *ch; /* owned */
};

#endif
