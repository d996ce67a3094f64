/* pbjson.h — generic protobuf-c message → JSON encoder driven by descriptors.
 * Rules (ARCHITECTURE.md): proto field names as keys, zero values emitted, repeated → arrays,
 * nested → objects, maps → objects, enums → their name, bytes → base64, int64/uint64 as
 * numbers when |v| <= 2^53 else as strings, doubles with shortest round-trip precision,
 * NaN/Inf → null, oneof members only when set, unset sub-messages → null. */
#ifndef SFP_PBJSON_H
#define SFP_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include "buf.h"

void sfp_pbjson_append(sfp_buf *out, const ProtobufCMessage *msg);
/* malloc'd, NUL-terminated; caller frees. */
char *sfp_pbjson_encode(const ProtobufCMessage *msg, size_t *len);

#endif
