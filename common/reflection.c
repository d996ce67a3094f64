/* reflection.c — server reflection from the embedded FileDescriptorSet (see reflection.h).
 *
 * The set is read with a small wire-format walker rather than generated descriptor.proto code:
 * only names, packages, imports and extension numbers are needed. The index (files, symbols,
 * extensions) is built once and owned by this module for the life of the process; every name
 * in it is a malloc'd copy, every file body points into sfp_descriptor_set. */
#include "reflection.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rfile {
    char *name;
    const uint8_t *bytes; /* the FileDescriptorProto, inside sfp_descriptor_set */
    size_t len;
    char **deps; /* imported file names */
    size_t ndeps;
} rfile;

typedef struct rsym {
    char *name; /* package-qualified, no leading dot */
    size_t file;
} rsym;

typedef struct rext {
    char *extendee; /* message type extended, no leading dot */
    int32_t number;
    size_t file;
} rext;

static struct {
    rfile *files;
    size_t nfiles;
    rsym *syms;
    size_t nsyms, capsyms;
    rext *exts;
    size_t nexts, capexts;
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* ---------- wire walker ---------- */

typedef struct wfield {
    uint32_t num;
    int wt;
    uint64_t v;       /* varint value */
    const uint8_t *p; /* length-delimited payload */
    size_t len;
} wfield;

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* Next field of a message; false at its end or on malformed input. */
static bool next_field(const uint8_t **p, const uint8_t *end, wfield *f)
{
    uint64_t tag;
    if (*p >= end || !varint(p, end, &tag)) return false;
    f->num = (uint32_t)(tag >> 3);
    f->wt = (int)(tag & 7);
    f->v = 0;
    f->p = NULL;
    f->len = 0;
    switch (f->wt) {
    case 0: return varint(p, end, &f->v);
    case 1:
        if (end - *p < 8) return false;
        *p += 8;
        return true;
    case 5:
        if (end - *p < 4) return false;
        *p += 4;
        return true;
    case 2:
        if (!varint(p, end, &f->v) || f->v > (uint64_t)(end - *p)) return false;
        f->p = *p;
        f->len = (size_t)f->v;
        *p += f->len;
        return true;
    default: return false;
    }
}

/* First length-delimited field `num` as a malloc'd string ("" when absent). */
static char *get_string(const uint8_t *p, size_t n, uint32_t num)
{
    const uint8_t *end = p + n;
    wfield f;
    while (next_field(&p, end, &f))
        if (f.num == num && f.wt == 2) return strndup((const char *)f.p, f.len);
    return strdup("");
}

static char *join(const char *scope, const char *name)
{
    char *out;
    if (asprintf(&out, "%s%s%s", scope, *scope ? "." : "", name) < 0) abort();
    return out;
}

static void add_sym(char *name, size_t file)
{
    if (g.nsyms == g.capsyms) {
        g.capsyms = g.capsyms ? g.capsyms * 2 : 256;
        g.syms = realloc(g.syms, g.capsyms * sizeof *g.syms);
        if (!g.syms) abort();
    }
    g.syms[g.nsyms++] = (rsym){name, file};
}

/* FieldDescriptorProto of an extension: name 1, extendee 2, number 3. */
static void walk_extension(const uint8_t *p, size_t n, const char *scope, size_t file)
{
    char *name = get_string(p, n, 1);
    add_sym(join(scope, name), file);
    free(name);
    char *extendee = get_string(p, n, 2);
    int32_t number = 0;
    const uint8_t *end = p + n;
    wfield f;
    while (next_field(&p, end, &f))
        if (f.num == 3 && f.wt == 0) number = (int32_t)f.v;
    if (g.nexts == g.capexts) {
        g.capexts = g.capexts ? g.capexts * 2 : 16;
        g.exts = realloc(g.exts, g.capexts * sizeof *g.exts);
        if (!g.exts) abort();
    }
    char *e = strdup(extendee[0] == '.' ? extendee + 1 : extendee);
    free(extendee);
    g.exts[g.nexts++] = (rext){e, number, file};
}

/* EnumDescriptorProto: name 1, value 2 (EnumValueDescriptorProto: name 1). As in protobuf's
 * own scoping, the values are siblings of the enum, not its children. */
static void walk_enum(const uint8_t *p, size_t n, const char *scope, size_t file)
{
    char *name = get_string(p, n, 1);
    add_sym(join(scope, name), file);
    free(name);
    const uint8_t *end = p + n;
    wfield f;
    while (next_field(&p, end, &f)) {
        if (f.num != 2 || f.wt != 2) continue;
        char *v = get_string(f.p, f.len, 1);
        add_sym(join(scope, v), file);
        free(v);
    }
}

/* DescriptorProto: name 1, field 2, nested_type 3, enum_type 4, extension 6. */
static void walk_message(const uint8_t *p, size_t n, const char *scope, size_t file, int depth)
{
    char *name = get_string(p, n, 1);
    char *full = join(scope, name);
    free(name);
    add_sym(full, file);
    const uint8_t *end = p + n;
    wfield f;
    while (next_field(&p, end, &f)) {
        if (f.wt != 2) continue;
        if (f.num == 2) {
            char *field = get_string(f.p, f.len, 1);
            add_sym(join(full, field), file);
            free(field);
        } else if (f.num == 3 && depth < 32) {
            walk_message(f.p, f.len, full, file, depth + 1);
        } else if (f.num == 4) {
            walk_enum(f.p, f.len, full, file);
        } else if (f.num == 6) {
            walk_extension(f.p, f.len, full, file);
        }
    }
}

/* ServiceDescriptorProto: name 1, method 2 (MethodDescriptorProto: name 1). */
static void walk_service(const uint8_t *p, size_t n, const char *scope, size_t file)
{
    char *name = get_string(p, n, 1);
    char *full = join(scope, name);
    free(name);
    add_sym(full, file);
    const uint8_t *end = p + n;
    wfield f;
    while (next_field(&p, end, &f)) {
        if (f.num != 2 || f.wt != 2) continue;
        char *m = get_string(f.p, f.len, 1);
        add_sym(join(full, m), file);
        free(m);
    }
}

/* FileDescriptorProto: name 1, package 2, dependency 3, message_type 4, enum_type 5,
 * service 6, extension 7. */
static void index_file(size_t fi)
{
    rfile *rf = &g.files[fi];
    rf->name = get_string(rf->bytes, rf->len, 1);
    char *pkg = get_string(rf->bytes, rf->len, 2);
    const uint8_t *p = rf->bytes, *end = rf->bytes + rf->len;
    wfield f;
    while (next_field(&p, end, &f)) {
        if (f.wt != 2) continue;
        switch (f.num) {
        case 3:
            rf->deps = realloc(rf->deps, (rf->ndeps + 1) * sizeof *rf->deps);
            if (!rf->deps) abort();
            rf->deps[rf->ndeps++] = strndup((const char *)f.p, f.len);
            break;
        case 4: walk_message(f.p, f.len, pkg, fi, 0); break;
        case 5: walk_enum(f.p, f.len, pkg, fi); break;
        case 6: walk_service(f.p, f.len, pkg, fi); break;
        case 7: walk_extension(f.p, f.len, pkg, fi); break;
        default: break;
        }
    }
    free(pkg);
}

/* FileDescriptorSet: file 1 (repeated). */
static void build_index(void)
{
    const uint8_t *p = sfp_descriptor_set, *end = sfp_descriptor_set + sfp_descriptor_set_len;
    wfield f;
    while (next_field(&p, end, &f)) {
        if (f.num != 1 || f.wt != 2) continue;
        g.files = realloc(g.files, (g.nfiles + 1) * sizeof *g.files);
        if (!g.files) abort();
        g.files[g.nfiles] = (rfile){.bytes = f.p, .len = f.len};
        index_file(g.nfiles++);
    }
}

static void ensure_index(void)
{
    pthread_once(&g_once, build_index);
}

/* ---------- lookups ---------- */

static long find_file(const char *name)
{
    for (size_t i = 0; i < g.nfiles; i++)
        if (!strcmp(g.files[i].name, name)) return (long)i;
    return -1;
}

static long find_symbol(const char *name)
{
    if (name[0] == '.') name++;
    for (size_t i = 0; i < g.nsyms; i++)
        if (!strcmp(g.syms[i].name, name)) return (long)g.syms[i].file;
    return -1;
}

bool sfp_reflection_has_file(const char *name)
{
    ensure_index();
    return find_file(name) >= 0;
}

/* The file first, then every file it imports, each once. */
static void add_closure(size_t fi, bool *seen, ProtobufCBinaryData *out, size_t *n)
{
    if (seen[fi]) return;
    seen[fi] = true;
    out[(*n)++] = (ProtobufCBinaryData){.len = g.files[fi].len, .data = (uint8_t *)g.files[fi].bytes};
    for (size_t d = 0; d < g.files[fi].ndeps; d++) {
        long di = find_file(g.files[fi].deps[d]);
        if (di >= 0) add_closure((size_t)di, seen, out, n);
    }
}

static void set_error(Grpc__Reflection__V1__ServerReflectionResponse *r, sfp_arena *a, grpc_status_code code,
                      const char *msg)
{
    Grpc__Reflection__V1__ErrorResponse *e = sfp_arena_msg(a, &grpc__reflection__v1__error_response__descriptor);
    e->error_code = (int32_t)code;
    e->error_message = sfp_arena_strdup(a, msg);
    r->message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    r->error_response = e;
}

static void set_files(Grpc__Reflection__V1__ServerReflectionResponse *r, sfp_arena *a, size_t fi)
{
    Grpc__Reflection__V1__FileDescriptorResponse *fd =
        sfp_arena_msg(a, &grpc__reflection__v1__file_descriptor_response__descriptor);
    bool *seen = sfp_arena_alloc(a, g.nfiles * sizeof *seen);
    fd->file_descriptor_proto = sfp_arena_alloc(a, g.nfiles * sizeof *fd->file_descriptor_proto);
    add_closure(fi, seen, fd->file_descriptor_proto, &fd->n_file_descriptor_proto);
    r->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    r->file_descriptor_response = fd;
}

Grpc__Reflection__V1__ServerReflectionResponse *
sfp_reflection_answer(const Grpc__Reflection__V1__ServerReflectionRequest *req, const char *const *services,
                      sfp_arena *a)
{
    ensure_index();
    Grpc__Reflection__V1__ServerReflectionResponse *r =
        sfp_arena_msg(a, &grpc__reflection__v1__server_reflection_response__descriptor);
    r->valid_host = req->host;
    r->original_request = (Grpc__Reflection__V1__ServerReflectionRequest *)req;
    long fi;
    switch (req->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES: {
        Grpc__Reflection__V1__ListServiceResponse *ls =
            sfp_arena_msg(a, &grpc__reflection__v1__list_service_response__descriptor);
        size_t n = 0;
        while (services && services[n]) n++;
        ls->service = sfp_arena_alloc(a, (n ? n : 1) * sizeof *ls->service);
        for (size_t i = 0; i < n; i++) {
            Grpc__Reflection__V1__ServiceResponse *sr =
                sfp_arena_msg(a, &grpc__reflection__v1__service_response__descriptor);
            sr->name = (char *)services[i];
            ls->service[ls->n_service++] = sr;
        }
        r->message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
        r->list_services_response = ls;
        break;
    }
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        fi = find_file(req->file_by_filename);
        if (fi < 0) set_error(r, a, GRPC_STATUS_NOT_FOUND, "file not found");
        else set_files(r, a, (size_t)fi);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        fi = find_symbol(req->file_containing_symbol);
        if (fi < 0) set_error(r, a, GRPC_STATUS_NOT_FOUND, "symbol not found");
        else set_files(r, a, (size_t)fi);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION: {
        const Grpc__Reflection__V1__ExtensionRequest *er = req->file_containing_extension;
        const char *type = er && er->containing_type ? er->containing_type : "";
        if (type[0] == '.') type++;
        if (find_symbol(type) < 0) {
            set_error(r, a, GRPC_STATUS_NOT_FOUND, "type not found");
            break;
        }
        fi = -1;
        for (size_t i = 0; i < g.nexts && fi < 0; i++)
            if (!strcmp(g.exts[i].extendee, type) && g.exts[i].number == er->extension_number)
                fi = (long)g.exts[i].file;
        if (fi < 0) set_error(r, a, GRPC_STATUS_NOT_FOUND, "extension not found");
        else set_files(r, a, (size_t)fi);
        break;
    }
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE: {
        const char *type = req->all_extension_numbers_of_type;
        if (type[0] == '.') type++;
        if (find_symbol(type) < 0) {
            set_error(r, a, GRPC_STATUS_NOT_FOUND, "type not found");
            break;
        }
        Grpc__Reflection__V1__ExtensionNumberResponse *en =
            sfp_arena_msg(a, &grpc__reflection__v1__extension_number_response__descriptor);
        en->base_type_name = sfp_arena_strdup(a, type);
        en->extension_number = sfp_arena_alloc(a, (g.nexts ? g.nexts : 1) * sizeof *en->extension_number);
        for (size_t i = 0; i < g.nexts; i++)
            if (!strcmp(g.exts[i].extendee, type)) en->extension_number[en->n_extension_number++] = g.exts[i].number;
        r->message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        r->all_extension_numbers_response = en;
        break;
    }
    default: set_error(r, a, GRPC_STATUS_INVALID_ARGUMENT, "the request names nothing to look up"); break;
    }
    return r;
}

grpc_status_code sfp_reflection_stream(sfp_rpc_stream *st, sfp_rpc_stream_event ev, const ProtobufCMessage *req,
                                       void *user)
{
    switch (ev) {
    case SFP_RPC_STREAM_MESSAGE: {
        const Grpc__Reflection__V1__ServerReflectionRequest *r = (const void *)req;
        if (!sfp_rpc_stream_send(st, &sfp_reflection_answer(r, user, sfp_rpc_stream_arena(st))->base)) {
            sfp_rpc_stream_set_message(st, "too many unread responses");
            return GRPC_STATUS_RESOURCE_EXHAUSTED;
        }
        return SFP_RPC_PENDING;
    }
    case SFP_RPC_STREAM_HALF_CLOSE: return GRPC_STATUS_OK;
    case SFP_RPC_STREAM_DRAIN:
        sfp_rpc_stream_set_message(st, "server is shutting down");
        return GRPC_STATUS_UNAVAILABLE;
    default: return SFP_RPC_PENDING;
    }
}
