/* rpc_details.c — see rpc_details.h. */
#include "rpc_details.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

#define TYPE_PREFIX "type.googleapis.com/"

static const char *const k_reasons[] = {"",
#define SFP_REASON_STR_(name, doc) #name,
                                        SFP_ERR_REASONS(SFP_REASON_STR_)
#undef SFP_REASON_STR_
};

const char *sfp_reason_name(sfp_reason r)
{
    return (unsigned)r < SFP_REASON_COUNT_ ? k_reasons[r] : "";
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void sfp_rpc_details_init(sfp_rpc_details *d)
{
    memset(d, 0, sizeof *d);
    d->retry_delay_ms = -1;
}

bool sfp_rpc_details_empty(const sfp_rpc_details *d)
{
    return !d || (!d->reason[0] && !d->nviolations && d->retry_delay_ms < 0);
}

void sfp_rpc_details_set_reason(sfp_rpc_details *d, sfp_reason r)
{
    copy(d->reason, sizeof d->reason, sfp_reason_name(r));
    copy(d->domain, sizeof d->domain, SFP_ERR_DOMAIN);
}

void sfp_rpc_details_add_meta(sfp_rpc_details *d, const char *key, const char *fmt, ...)
{
    if (d->nmeta >= SFP_DETAILS_MAX_META) return;
    copy(d->meta[d->nmeta].key, sizeof d->meta[0].key, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->meta[d->nmeta].value, sizeof d->meta[0].value, fmt, ap);
    va_end(ap);
    d->nmeta++;
}

void sfp_rpc_details_add_violation(sfp_rpc_details *d, const char *field, const char *fmt, ...)
{
    if (d->nviolations >= SFP_DETAILS_MAX_VIOLATIONS) return;
    copy(d->violations[d->nviolations].field, sizeof d->violations[0].field, field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->violations[d->nviolations].description, sizeof d->violations[0].description, fmt, ap);
    va_end(ap);
    d->nviolations++;
}

void sfp_rpc_details_set_retry_ms(sfp_rpc_details *d, int64_t ms)
{
    d->retry_delay_ms = ms < 0 ? 0 : ms;
}

int sfp_rpc_details_retry_after_s(const sfp_rpc_details *d)
{
    if (!d || d->retry_delay_ms < 0) return 0;
    int64_t s = (d->retry_delay_ms + 999) / 1000;
    return s > 86400 ? 86400 : (int)s;
}

/* Packs m into any (type_url and value malloc'd: freed by free_any). */
static void pack_any(Google__Protobuf__Any *any, const ProtobufCMessage *m)
{
    google__protobuf__any__init(any);
    size_t n = strlen(TYPE_PREFIX) + strlen(m->descriptor->name) + 1;
    any->type_url = malloc(n);
    if (!any->type_url) abort();
    snprintf(any->type_url, n, "%s%s", TYPE_PREFIX, m->descriptor->name);
    any->value.len = protobuf_c_message_get_packed_size(m);
    any->value.data = malloc(any->value.len ? any->value.len : 1);
    if (!any->value.data) abort();
    protobuf_c_message_pack(m, any->value.data);
}

static void free_any(Google__Protobuf__Any *any)
{
    free(any->type_url);
    free(any->value.data);
}

size_t sfp_rpc_details_encode(int code, const char *message, const sfp_rpc_details *d,
                              const ProtobufCMessage *const *extra, size_t nextra, uint8_t **out)
{
    Google__Protobuf__Any anys[3 + 8];
    Google__Protobuf__Any *ptrs[3 + 8];
    size_t n = 0;
    if (nextra > 8) nextra = 8;

    if (d && d->reason[0]) {
        Google__Rpc__ErrorInfo ei = GOOGLE__RPC__ERROR_INFO__INIT;
        Google__Rpc__ErrorInfo__MetadataEntry ent[SFP_DETAILS_MAX_META], *pent[SFP_DETAILS_MAX_META];
        ei.reason = (char *)d->reason;
        ei.domain = (char *)d->domain;
        for (size_t i = 0; i < d->nmeta && i < SFP_DETAILS_MAX_META; i++) {
            google__rpc__error_info__metadata_entry__init(&ent[i]);
            ent[i].key = (char *)d->meta[i].key;
            ent[i].value = (char *)d->meta[i].value;
            pent[i] = &ent[i];
        }
        ei.n_metadata = d->nmeta;
        ei.metadata = d->nmeta ? pent : NULL;
        pack_any(&anys[n++], &ei.base);
    }
    if (d && d->nviolations) {
        Google__Rpc__BadRequest br = GOOGLE__RPC__BAD_REQUEST__INIT;
        Google__Rpc__BadRequest__FieldViolation fv[SFP_DETAILS_MAX_VIOLATIONS], *pfv[SFP_DETAILS_MAX_VIOLATIONS];
        for (size_t i = 0; i < d->nviolations && i < SFP_DETAILS_MAX_VIOLATIONS; i++) {
            google__rpc__bad_request__field_violation__init(&fv[i]);
            fv[i].field = (char *)d->violations[i].field;
            fv[i].description = (char *)d->violations[i].description;
            pfv[i] = &fv[i];
        }
        br.n_field_violations = d->nviolations;
        br.field_violations = pfv;
        pack_any(&anys[n++], &br.base);
    }
    if (d && d->retry_delay_ms >= 0) {
        Google__Protobuf__Duration dur = GOOGLE__PROTOBUF__DURATION__INIT;
        dur.seconds = d->retry_delay_ms / 1000;
        dur.nanos = (int32_t)(d->retry_delay_ms % 1000) * 1000000;
        Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
        ri.retry_delay = &dur;
        pack_any(&anys[n++], &ri.base);
    }
    for (size_t i = 0; i < nextra; i++)
        if (extra[i]) pack_any(&anys[n++], extra[i]);

    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = code;
    st.message = (char *)(message ? message : "");
    for (size_t i = 0; i < n; i++) ptrs[i] = &anys[i];
    st.n_details = n;
    st.details = n ? ptrs : NULL;
    size_t len = google__rpc__status__get_packed_size(&st);
    *out = malloc(len ? len : 1);
    if (!*out) abort();
    google__rpc__status__pack(&st, *out);
    for (size_t i = 0; i < n; i++) free_any(&anys[i]);
    return len;
}

/* The message name of an Any's type URL (after the last '/'). */
static const char *type_name(const Google__Protobuf__Any *any)
{
    const char *u = any->type_url ? any->type_url : "";
    const char *slash = strrchr(u, '/');
    return slash ? slash + 1 : u;
}

static void decode_one(const Google__Protobuf__Any *any, sfp_rpc_details *d)
{
    const char *t = type_name(any);
    if (!strcmp(t, google__rpc__error_info__descriptor.name)) {
        Google__Rpc__ErrorInfo *ei = google__rpc__error_info__unpack(NULL, any->value.len, any->value.data);
        if (!ei) return;
        copy(d->reason, sizeof d->reason, ei->reason);
        copy(d->domain, sizeof d->domain, ei->domain);
        d->nmeta = 0;
        for (size_t i = 0; i < ei->n_metadata && d->nmeta < SFP_DETAILS_MAX_META; i++) {
            copy(d->meta[d->nmeta].key, sizeof d->meta[0].key, ei->metadata[i]->key);
            copy(d->meta[d->nmeta].value, sizeof d->meta[0].value, ei->metadata[i]->value);
            d->nmeta++;
        }
        google__rpc__error_info__free_unpacked(ei, NULL);
    } else if (!strcmp(t, google__rpc__bad_request__descriptor.name)) {
        Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(NULL, any->value.len, any->value.data);
        if (!br) return;
        for (size_t i = 0; i < br->n_field_violations && d->nviolations < SFP_DETAILS_MAX_VIOLATIONS; i++) {
            copy(d->violations[d->nviolations].field, sizeof d->violations[0].field, br->field_violations[i]->field);
            copy(d->violations[d->nviolations].description, sizeof d->violations[0].description,
                 br->field_violations[i]->description);
            d->nviolations++;
        }
        google__rpc__bad_request__free_unpacked(br, NULL);
    } else if (!strcmp(t, google__rpc__retry_info__descriptor.name)) {
        Google__Rpc__RetryInfo *ri = google__rpc__retry_info__unpack(NULL, any->value.len, any->value.data);
        if (!ri) return;
        int64_t ms = 0;
        if (ri->retry_delay) {
            int64_t s = ri->retry_delay->seconds;
            if (s > 86400) s = 86400;
            ms = s * 1000 + ri->retry_delay->nanos / 1000000;
        }
        d->retry_delay_ms = ms < 0 ? 0 : ms;
        google__rpc__retry_info__free_unpacked(ri, NULL);
    }
}

int sfp_rpc_details_decode(const uint8_t *bin, size_t len, sfp_rpc_details *d, int *code)
{
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, bin);
    if (!st) return -1;
    if (code) *code = st->code;
    for (size_t i = 0; i < st->n_details; i++) decode_one(st->details[i], d);
    google__rpc__status__free_unpacked(st, NULL);
    return 0;
}

ProtobufCMessage *sfp_rpc_details_find(const uint8_t *bin, size_t len, const ProtobufCMessageDescriptor *desc)
{
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, bin);
    if (!st) return NULL;
    ProtobufCMessage *m = NULL;
    for (size_t i = 0; i < st->n_details && !m; i++)
        if (!strcmp(type_name(st->details[i]), desc->name))
            m = protobuf_c_message_unpack(desc, NULL, st->details[i]->value.len, st->details[i]->value.data);
    google__rpc__status__free_unpacked(st, NULL);
    return m;
}
