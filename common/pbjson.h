/* pbjson.h — generic protobuf-c message → JSON encoder driven by descriptors.
 * Rules (ARCHITECTURE.md): proto field names as keys, zero values emitted, repeated → arrays,
 * nested → objects, maps → objects, enums → their value name without the enum-name prefix in
 * lower case ("on_track"), bytes → base64, int64/uint64 always JSON numbers, doubles with
 * shortest round-trip precision, NaN/Inf → null, oneof members only when set, except the
 * member of a single-member oneof (the contracts' nullable value, `oneof optional_x { T x = N; }`,
 * what proto3 `optional` compiles to): always present, null when its case is not set; an unset
 * optional (proto2) → null; unset sub-messages → null. Details in pbjson.c. */
#ifndef SFP_PBJSON_H
#define SFP_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include "buf.h"

void sfp_pbjson_append(sfp_buf *out, const ProtobufCMessage *msg);
/* malloc'd, NUL-terminated; caller frees. */
char *sfp_pbjson_encode(const ProtobufCMessage *msg, size_t *len);

/* The REST JSON name of enum value v (CARD_HEALTH_ON_TRACK → "on_track"), written into buf
 * (cap bytes, NUL-terminated, truncated if short); returns buf, "" for a value without a name.
 * SFP_PBJSON_ENUM_NAME gives it a buffer that lives until the end of the enclosing block. */
const char *sfp_pbjson_enum_name(const ProtobufCEnumDescriptor *ed, int v, char *buf, size_t cap);
#define SFP_PBJSON_ENUM_NAME(ed, v) sfp_pbjson_enum_name((ed), (int)(v), (char[64]){0}, 64)
/* The value of ed whose REST JSON name is name ("on_track" → CARD_HEALTH_ON_TRACK); def when
 * none (or name is NULL). Lets code that computes a state as text set the enum field without
 * a table of its own. */
/* NULLABLE when field i of d is the only member of a oneof (null in the JSON when its case is not
 * set), else NONE. */
typedef enum {
    SFP_PBJSON_PRESENCE_NONE = 0,
    SFP_PBJSON_PRESENCE_NULLABLE,
} sfp_pbjson_presence;
sfp_pbjson_presence sfp_pbjson_field_presence(const ProtobufCMessageDescriptor *d, unsigned i);

int sfp_pbjson_enum_value(const ProtobufCEnumDescriptor *ed, const char *name, int def);

#endif
