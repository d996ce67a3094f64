/* gw_read.h — the gateway's side of the read envelope: replies of ReportService/
 * GetPropertyReport and BriefService/GetBrief, which carry a content message (the report, the
 * brief) and a ReadMetadata (etag, max-age, generated_at, sources, debug).
 *
 * A reply is received through the wire-identical PackedReadResponse view (common.proto): the
 * metadata is decoded, the content stays packed bytes. The content is decoded only when
 * something needs its fields (an HTML page, or JSON not yet in the server's JSON cache). The
 * REST JSON of a read route is the content's JSON (cached by etag, gw_json_cache.h) with the
 * route's per-request members (rendered from the metadata) added before its closing brace.
 *
 * Ownership: a gw_read_reply owns the view and the decoded content; gw_read_free frees both. */
#ifndef GW_READ_H
#define GW_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "gw_json_cache.h"
#include "gw_rpc.h"
#include "sfpermits/v1/common.pb-c.h"

typedef struct gw_read_reply {
    gw_backend_id be;
    const char *rpc_path;
    Sfpermits__V1__PackedReadResponse *view; /* owned */
    const Sfpermits__V1__ReadMetadata *md;   /* the view's metadata, or an empty one: never NULL */
    const Sfpermits__V1__ReadDebug *debug;   /* md->debug, or an empty one: never NULL */
    ProtobufCMessage *content;               /* in content_arena once gw_read_content decoded it, else NULL */
    sfp_arena *content_arena;                /* owned: holds content (one free instead of one per field) */
} gw_read_reply;

/* Decodes an OK reply's view (not its content). -1 when it does not decode: st = INTERNAL,
 * logged like any undecodable reply. */
int gw_read_parse(gw_read_reply *r, const gw_rpc_reply *reply, sfp_rpc_status *st);
/* The same from packed bytes (tests). */
int gw_read_parse_bytes(gw_read_reply *r, gw_backend_id be, const char *rpc_path, const uint8_t *bytes, size_t len,
                        sfp_rpc_status *st);
/* The content decoded as desc (once; kept in r). NULL when it does not decode: st = INTERNAL. */
const ProtobufCMessage *gw_read_content(gw_read_reply *r, const ProtobufCMessageDescriptor *desc, sfp_rpc_status *st);
void gw_read_free(gw_read_reply *r); /* NULL-safe members */

/* The metadata's source named `name`, or NULL. */
const Sfpermits__V1__SourceStatus *gw_read_source(const Sfpermits__V1__ReadMetadata *md, const char *name);

/* The 200 JSON body (malloc'd, *len its length): the content's JSON — from cache under
 * "<kind>:<etag>" when there, else the generic encoding of the decoded content (then stored) —
 * with tail[0..tail_len) (members, each starting with a comma) inserted before its closing
 * brace. No etag → rendered and not stored. NULL when the content does not decode (st set).
 * *hit tells whether the content's JSON came from the cache. */
char *gw_read_json(gw_json_cache *cache, const char *kind, gw_read_reply *r, const ProtobufCMessageDescriptor *desc,
                   const char *tail, size_t tail_len, size_t *len, bool *hit, sfp_rpc_status *st);

/* gw_read_json's body set on resp as 200 JSON without copying the content's JSON: resp
 * borrows the cache entry (gw_resp_set_shared) and owns only the small tail. -1 when the
 * content does not decode (st set; resp untouched). */
int gw_read_respond(gw_json_cache *cache, const char *kind, gw_read_reply *r, const ProtobufCMessageDescriptor *desc,
                    const char *tail, size_t tail_len, gw_response *resp, bool *hit, sfp_rpc_status *st);

/* Sets the reply's ETag on resp — strong "etag", or weak W/"etag" for per-user content — and
 * returns true when if_none_match (the request's header, may be NULL) matches it: resp is then
 * a 304 without a body and the caller is done. No etag in the metadata → no header, false. */
bool gw_read_etag(const gw_read_reply *r, bool weak, const char *if_none_match, gw_response *resp);
/* A JSON number as the generic encoder writes a double (shortest round trip; null for NaN/Inf). */
void gw_json_double(sfp_buf *b, double v);

#endif
