/* reflection.h — gRPC server reflection (grpc.reflection.v1 and v1alpha ServerReflectionInfo)
 * answered from one FileDescriptorSet made at build time: protoc --descriptor_set_out
 * --include_imports over every served .proto (proto/ and grpc-proto), embedded in the binaries
 * as sfp_descriptor_set[]. Tools such as grpcurl, grpcui, Postman and `buf curl` can then list
 * and call the services without the .proto files.
 *
 * Answers (each echoes the request in original_request and its host in valid_host):
 *   list_services                  the full names of the services this server serves
 *   file_by_filename               that file, then every file it imports (transitively)
 *   file_containing_symbol         the same for the file declaring a package-qualified service,
 *                                  method, message, field, enum, enum value or extension
 *   file_containing_extension      the file declaring that extension of that message
 *   all_extension_numbers_of_type  the numbers of that message's known extensions (often none)
 * A name that is not known gets error_response NOT_FOUND, an empty request INVALID_ARGUMENT:
 * the stream stays open either way. The index is built once, on first use, and lives as long
 * as the process. */
#ifndef SFP_REFLECTION_H
#define SFP_REFLECTION_H

#include <stddef.h>
#include "arena.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "rpc.h"

extern const unsigned char sfp_descriptor_set[];
extern const size_t sfp_descriptor_set_len;

#define SFP_REFLECTION_V1_PATH "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
#define SFP_REFLECTION_V1ALPHA_PATH "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

/* Answers one request; everything in the reply is allocated from a or points into the embedded
 * set. services: NULL-terminated full service names served (for list_services). */
Grpc__Reflection__V1__ServerReflectionResponse *
sfp_reflection_answer(const Grpc__Reflection__V1__ServerReflectionRequest *req, const char *const *services,
                      sfp_arena *a);

/* The ServerReflectionInfo stream handler (v1 and v1alpha alike: their messages are the same on
 * the wire). user: the NULL-terminated service list, alive as long as the server. Ends with OK
 * when the client half-closes, UNAVAILABLE when the server drains. */
grpc_status_code sfp_reflection_stream(sfp_rpc_stream *st, sfp_rpc_stream_event ev, const ProtobufCMessage *req,
                                       void *user);

/* Whether the embedded set declares a file of that name (tests). */
bool sfp_reflection_has_file(const char *name);

#endif
