/* arena_pb.h — protobuf-c messages in an sfp_arena (arena.h): the arena as a ProtobufCAllocator
 * and message allocation. Part of sfp_pb, so the arena itself needs no protobuf-c. */
#ifndef SFP_ARENA_PB_H
#define SFP_ARENA_PB_H

#include <protobuf-c/protobuf-c.h>
#include "arena.h"

/* A ProtobufCAllocator whose frees are no-ops (memory goes with the arena). */
ProtobufCAllocator sfp_arena_pb_allocator(sfp_arena *a);
/* Allocates and initialises a message of type desc in the arena (owned by the arena). */
void *sfp_arena_msg(sfp_arena *a, const ProtobufCMessageDescriptor *desc);

#endif
