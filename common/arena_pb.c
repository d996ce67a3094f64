#include "arena_pb.h"

static void *pb_alloc(void *data, size_t size)
{
    return sfp_arena_alloc(data, size);
}
static void pb_free(void *data, void *p)
{
    (void)data, (void)p;
}

ProtobufCAllocator sfp_arena_pb_allocator(sfp_arena *a)
{
    return (ProtobufCAllocator){.alloc = pb_alloc, .free = pb_free, .allocator_data = a};
}

void *sfp_arena_msg(sfp_arena *a, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = sfp_arena_alloc(a, desc->sizeof_message);
    protobuf_c_message_init(desc, m);
    return m;
}
