/* openapi_schemas — prints, as one JSON object {name: JSON Schema}, the schemas of the REST
 * responses the gateway encodes from protobuf messages (the generic encoder's rules, pbjson.h:
 * proto field names, zero values present, unset sub-messages null, int64 as a JSON number,
 * NaN/Inf doubles null, maps as objects, oneof members only when set (a single-member oneof: a
 * nullable member, always present), enums as their lower-case
 * names, the member of a single-member oneof as one nullable, always-present `<name>`), plus every message they
 * reach. The read routes (/report, /brief) send their content message with the per-request
 * members the gateway renders from the reply's ReadMetadata added at the top level (handlers.h:
 * gw_report_json_tail, gw_brief_json_tail); their schemas are the content's plus those members
 * (see k_rest), under the names the REST description has always used. tests/openapi/sync.mjs
 * compares them with (or writes them into)
 * components.schemas of gateway/static/openapi.json, so the description follows the protos. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "pbjson.h"
#include "sfpermits/v1/brief.pb-c.h"
#include "sfpermits/v1/cron.pb-c.h"
#include "sfpermits/v1/health_service.pb-c.h"
#include "sfpermits/v1/report.pb-c.h"

#define MAX_MSGS 256
static const ProtobufCMessageDescriptor *g_msgs[MAX_MSGS];
static size_t g_n;

static const char *short_name(const ProtobufCMessageDescriptor *d)
{
    const char *dot = strrchr(d->name, '.');
    return dot ? dot + 1 : d->name;
}

/* protoc's map entry: nested directly in its owner, name ending in "Entry", fields key/value */
static bool is_map_entry(const ProtobufCMessageDescriptor *owner, const ProtobufCMessageDescriptor *d)
{
    size_t on = strlen(owner->name), n = strlen(d->name);
    return d->n_fields == 2 && n > on + 6 && !strncmp(d->name, owner->name, on) && d->name[on] == '.' &&
           !strcmp(d->name + n - 5, "Entry") && !strchr(d->name + on + 1, '.');
}

static void add(const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < g_n; i++)
        if (g_msgs[i] == d) return;
    if (g_n == MAX_MSGS) return;
    g_msgs[g_n++] = d;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        const ProtobufCMessageDescriptor *sub = f->descriptor;
        if (is_map_entry(d, sub)) {
            const ProtobufCFieldDescriptor *v = &sub->fields[1];
            if (v->type == PROTOBUF_C_TYPE_MESSAGE) add(v->descriptor);
        } else {
            add(sub);
        }
    }
}

static void scalar(sfp_buf *b, const ProtobufCFieldDescriptor *f, bool in_array)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES: sfp_buf_puts(b, "{\"type\":\"string\"}"); break;
    case PROTOBUF_C_TYPE_BOOL: sfp_buf_puts(b, "{\"type\":\"boolean\"}"); break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: sfp_buf_puts(b, "{\"type\":\"integer\"}"); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: sfp_buf_puts(b, "{\"type\":\"integer\"}"); break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: sfp_buf_puts(b, "{\"type\":[\"number\",\"null\"]}"); break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        sfp_buf_puts(b, "{\"type\":\"string\",\"enum\":[");
        for (unsigned i = 0; i < ed->n_values; i++) {
            char name[64];
            if (i) sfp_buf_putc(b, ',');
            sfp_buf_json_str(b, sfp_pbjson_enum_name(ed, ed->values[i].value, name, sizeof name));
        }
        sfp_buf_puts(b, "]}");
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        if (in_array)
            sfp_buf_printf(b, "{\"$ref\":\"#/components/schemas/%s\"}",
                           short_name((const ProtobufCMessageDescriptor *)f->descriptor));
        else
            sfp_buf_printf(b, "{\"anyOf\":[{\"$ref\":\"#/components/schemas/%s\"},{\"type\":\"null\"}]}",
                           short_name((const ProtobufCMessageDescriptor *)f->descriptor));
        break;
    }
}

/* A read route's REST schema: the content message `d` under `name`, with extra members. */
typedef struct rest_schema {
    const ProtobufCMessageDescriptor *d;
    const char *name;
    const char *props;    /* JSON members appended to "properties" */
    const char *required; /* JSON strings appended to "required" */
} rest_schema;

static const rest_schema k_rest[] = {
    {&sfpermits__v1__property_report__descriptor, "PropertyReport",
     "\"sources\":{\"anyOf\":[{\"$ref\":\"#/components/schemas/ReportSources\"},{\"type\":\"null\"}]},"
     "\"debug\":{\"anyOf\":[{\"$ref\":\"#/components/schemas/ReportDebug\"},{\"type\":\"null\"}]},"
     "\"generated_at\":{\"type\":\"string\"}",
     "\"sources\",\"debug\",\"generated_at\""},
    {&sfpermits__v1__brief__descriptor, "GetBriefResponse",
     "\"cached\":{\"type\":\"boolean\"},\"cached_at\":{\"type\":\"string\"},\"computed_at\":{\"type\":\"string\"},"
     "\"ttl_seconds_remaining\":{\"type\":\"integer\"},\"etag\":{\"type\":\"string\"},"
     "\"sql_queries\":{\"type\":\"integer\"}",
     "\"cached\",\"cached_at\",\"computed_at\",\"ttl_seconds_remaining\",\"etag\",\"sql_queries\""},
};

/* The REST objects of the report's metadata members (gw_report_json_tail). */
static const char k_report_meta[] =
    "\"ReportSources\":{\"type\":\"object\",\"properties\":{"
    "\"complaints\":{\"anyOf\":[{\"$ref\":\"#/components/schemas/SourceStatus\"},{\"type\":\"null\"}]},"
    "\"violations\":{\"anyOf\":[{\"$ref\":\"#/components/schemas/SourceStatus\"},{\"type\":\"null\"}]},"
    "\"tax_roll\":{\"anyOf\":[{\"$ref\":\"#/components/schemas/SourceStatus\"},{\"type\":\"null\"}]},"
    "\"max_age_seconds\":{\"type\":\"integer\"}},"
    "\"required\":[\"complaints\",\"violations\",\"tax_roll\",\"max_age_seconds\"],\"additionalProperties\":false},"
    "\"ReportDebug\":{\"type\":\"object\",\"properties\":{\"sql_queries\":{\"type\":\"integer\"},"
    "\"soda_requests\":{\"type\":\"integer\"},\"elapsed_ms\":{\"type\":[\"number\",\"null\"]},"
    "\"report_cache_hit\":{\"type\":\"boolean\"}},"
    "\"required\":[\"sql_queries\",\"soda_requests\",\"elapsed_ms\",\"report_cache_hit\"],"
    "\"additionalProperties\":false}";

static const rest_schema *rest_of(const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < sizeof k_rest / sizeof k_rest[0]; i++)
        if (k_rest[i].d == d) return &k_rest[i];
    return NULL;
}

static void message(sfp_buf *b, const ProtobufCMessageDescriptor *d)
{
    const rest_schema *rest = rest_of(d);
    sfp_buf_puts(b, "{\"type\":\"object\",\"properties\":{");
    bool first = true;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        sfp_pbjson_presence pr = sfp_pbjson_field_presence(d, i);
        if (!first) sfp_buf_putc(b, ',');
        first = false;
        sfp_buf_json_str(b, f->name);
        sfp_buf_putc(b, ':');
        if (pr == SFP_PBJSON_PRESENCE_NULLABLE &&
            (f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_FLOAT)) {
            scalar(b, f, false); /* already number or null */
        } else if (pr == SFP_PBJSON_PRESENCE_NULLABLE && f->type != PROTOBUF_C_TYPE_MESSAGE &&
                   f->type != PROTOBUF_C_TYPE_ENUM && f->type != PROTOBUF_C_TYPE_STRING &&
                   f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_BOOL) {
            sfp_buf_puts(b, "{\"type\":[\"integer\",\"null\"]}");
        } else if (pr == SFP_PBJSON_PRESENCE_NULLABLE) {
            sfp_buf_puts(b, "{\"anyOf\":[");
            scalar(b, f, true);
            sfp_buf_puts(b, ",{\"type\":\"null\"}]}");
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(d, f->descriptor)) {
            const ProtobufCMessageDescriptor *e = f->descriptor;
            sfp_buf_puts(b, "{\"type\":\"object\",\"additionalProperties\":");
            scalar(b, &e->fields[1], true);
            sfp_buf_putc(b, '}');
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            sfp_buf_puts(b, "{\"type\":\"array\",\"items\":");
            scalar(b, f, true);
            sfp_buf_putc(b, '}');
        } else {
            scalar(b, f, false);
        }
    }
    if (rest) sfp_buf_printf(b, ",%s", rest->props);
    sfp_buf_puts(b, "},\"required\":[");
    first = true;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        sfp_pbjson_presence pr = sfp_pbjson_field_presence(d, i);
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && pr != SFP_PBJSON_PRESENCE_NULLABLE) continue;
        if (!first) sfp_buf_putc(b, ',');
        first = false;
        sfp_buf_json_str(b, f->name);
    }
    if (rest) sfp_buf_printf(b, ",%s", rest->required);
    sfp_buf_puts(b, "],\"additionalProperties\":false}");
}

int main(void)
{
    const ProtobufCMessageDescriptor *roots[] = {
        &sfpermits__v1__property_report__descriptor,
        &sfpermits__v1__search_parcels_response__descriptor,
        &sfpermits__v1__brief__descriptor,
        &sfpermits__v1__refresh_brief_response__descriptor,
        &sfpermits__v1__get_health_response__descriptor,
        &sfpermits__v1__signals_result__descriptor,
        &sfpermits__v1__velocity_refresh_result__descriptor,
        &sfpermits__v1__compute_caches_result__descriptor,
        &sfpermits__v1__nightly_result__descriptor,
        &sfpermits__v1__heartbeat_result__descriptor,
        &sfpermits__v1__get_status_response__descriptor,
        &sfpermits__v1__source_status__descriptor,
    };
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) add(roots[i]);
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_putc(&b, '{');
    for (size_t i = 0; i < g_n; i++) {
        if (i) sfp_buf_putc(&b, ',');
        const rest_schema *rest = rest_of(g_msgs[i]);
        sfp_buf_json_str(&b, rest ? rest->name : short_name(g_msgs[i]));
        sfp_buf_putc(&b, ':');
        message(&b, g_msgs[i]);
    }
    sfp_buf_printf(&b, ",%s", k_report_meta);
    sfp_buf_puts(&b, "}\n");
    fwrite(b.data, 1, b.len, stdout);
    sfp_buf_free(&b);
    return 0;
}
