/* gw_read.c — see gw_read.h. */
#include "gw_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena_pb.h"
#include "gw_limits.h"
#include "pbjson.h"

static const Sfpermits__V1__ReadMetadata k_empty_md = SFPERMITS__V1__READ_METADATA__INIT;
static const Sfpermits__V1__ReadDebug k_empty_debug = SFPERMITS__V1__READ_DEBUG__INIT;

int gw_read_parse_bytes(gw_read_reply *r, gw_backend_id be, const char *rpc_path, const uint8_t *bytes, size_t len,
                        sfp_rpc_status *st)
{
    memset(r, 0, sizeof *r);
    r->be = be;
    r->rpc_path = rpc_path;
    ProtobufCMessage *m = NULL;
    if (gw_rpc_decode(be, rpc_path, &sfpermits__v1__packed_read_response__descriptor, bytes, len, &m, st) !=
        GRPC_STATUS_OK)
        return -1;
    r->view = (Sfpermits__V1__PackedReadResponse *)m;
    r->md = r->view->metadata ? r->view->metadata : &k_empty_md;
    r->debug = r->md->debug ? r->md->debug : &k_empty_debug;
    return 0;
}

int gw_read_parse(gw_read_reply *r, const gw_rpc_reply *reply, sfp_rpc_status *st)
{
    return gw_read_parse_bytes(r, reply->be, reply->rpc_path, reply->bytes, reply->len, st);
}

const ProtobufCMessage *gw_read_content(gw_read_reply *r, const ProtobufCMessageDescriptor *desc, sfp_rpc_status *st)
{
    if (r->content) return r->content;
    /* Decoded into an arena: a report's content is thousands of small allocations, which cost
     * more to malloc and free one by one than to encode as JSON. */
    r->content_arena = sfp_arena_new();
    ProtobufCAllocator al = sfp_arena_pb_allocator(r->content_arena);
    r->content = protobuf_c_message_unpack(desc, &al, r->view->content.len, r->view->content.data);
    if (r->content) return r->content;
    sfp_arena_free(r->content_arena);
    r->content_arena = NULL;
    /* It does not decode: the common path sets st and logs it (content stays NULL). */
    if (gw_rpc_decode(r->be, r->rpc_path, desc, r->view->content.data, r->view->content.len, &r->content, st) !=
        GRPC_STATUS_OK)
        r->content = NULL;
    return r->content;
}

void gw_read_free(gw_read_reply *r)
{
    if (r->content_arena) sfp_arena_free(r->content_arena);
    else if (r->content) protobuf_c_message_free_unpacked(r->content, NULL);
    if (r->view) protobuf_c_message_free_unpacked(&r->view->base, NULL);
    r->content = NULL;
    r->content_arena = NULL;
    r->view = NULL;
    r->md = &k_empty_md;
    r->debug = &k_empty_debug;
}

const Sfpermits__V1__SourceStatus *gw_read_source(const Sfpermits__V1__ReadMetadata *md, const char *name)
{
    for (size_t i = 0; md && i < md->n_sources; i++)
        if (md->sources[i] && md->sources[i]->key && !strcmp(md->sources[i]->key, name)) return md->sources[i]->value;
    return NULL;
}

/* The content's JSON entry: from cache under "<kind>:<etag>", else rendered (and stored when
 * there is an etag). A new reference; NULL when the content does not decode (st set). */
static gw_json_entry *content_json(gw_json_cache *cache, const char *kind, gw_read_reply *r,
                                   const ProtobufCMessageDescriptor *desc, bool *hit, sfp_rpc_status *st)
{
    *hit = false;
    char key[GW_JSON_CACHE_KEY_MAX + 1];
    const char *etag = r->md->etag;
    bool keyed = cache && etag && *etag && snprintf(key, sizeof key, "%s:%s", kind, etag) < (int)sizeof key;
    gw_json_entry *e = keyed ? gw_json_cache_get(cache, key) : NULL;
    if (e) {
        *hit = true;
        return e;
    }
    const ProtobufCMessage *m = gw_read_content(r, desc, st);
    if (!m) return NULL;
    size_t n = 0;
    char *json = sfp_pbjson_encode(m, &n);
    return gw_json_cache_put(keyed ? cache : NULL, keyed ? key : NULL, json, n);
}

/* The content JSON's part before its closing brace; the tail loses its leading comma when the
 * object is empty. */
static size_t split(const gw_json_entry *e, const char **head, const char **tail, size_t *tail_len)
{
    size_t clen;
    *head = gw_json_entry_data(e, &clen);
    size_t n = clen ? clen - 1 : 0;
    if (n == 1 && *tail_len && (*tail)[0] == ',') {
        (*tail)++;
        (*tail_len)--;
    }
    return n;
}

char *gw_read_json(gw_json_cache *cache, const char *kind, gw_read_reply *r, const ProtobufCMessageDescriptor *desc,
                   const char *tail, size_t tail_len, size_t *len, bool *hit, sfp_rpc_status *st)
{
    gw_json_entry *e = content_json(cache, kind, r, desc, hit, st);
    if (!e) return NULL;
    const char *head;
    size_t n = split(e, &head, &tail, &tail_len);
    char *body = malloc(n + tail_len + 2);
    if (!body) abort();
    memcpy(body, head, n);
    memcpy(body + n, tail, tail_len);
    body[n + tail_len] = '}';
    body[n + tail_len + 1] = '\0';
    *len = n + tail_len + 1;
    gw_json_entry_unref(e);
    return body;
}

static void release_entry(void *e)
{
    gw_json_entry_unref(e);
}

int gw_read_respond(gw_json_cache *cache, const char *kind, gw_read_reply *r, const ProtobufCMessageDescriptor *desc,
                    const char *tail, size_t tail_len, gw_response *resp, bool *hit, sfp_rpc_status *st)
{
    gw_json_entry *e = content_json(cache, kind, r, desc, hit, st);
    if (!e) return -1;
    const char *head;
    size_t n = split(e, &head, &tail, &tail_len);
    char *t = malloc(tail_len + 2);
    if (!t) abort();
    memcpy(t, tail, tail_len);
    t[tail_len] = '}';
    t[tail_len + 1] = '\0';
    gw_resp_set_shared(resp, 200, GW_CT_JSON, head, n, e, release_entry, t, tail_len + 1);
    return 0;
}

void gw_json_double(sfp_buf *b, double v)
{
    if (!isfinite(v)) {
        sfp_buf_puts(b, "null");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    for (char *s = tmp; *s; s++) /* a locale's decimal comma */
        if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == 'e' || *s == 'E')) *s = '.';
    sfp_buf_puts(b, tmp);
}

bool gw_read_etag(const gw_read_reply *r, bool weak, const char *if_none_match, gw_response *resp)
{
    const char *etag = r->md->etag;
    if (!etag || !*etag) return false;
    char quoted[GW_RESP_HEADER_MAX];
    snprintf(quoted, sizeof quoted, weak ? "W/\"%s\"" : "\"%s\"", etag);
    gw_resp_header(resp, "ETag", "%s", quoted);
    if (!gw_etag_matches(if_none_match, quoted)) return false;
    gw_resp_set_static(resp, 304, GW_CT_JSON, NULL, 0); /* no body, no serialisation */
    return true;
}
