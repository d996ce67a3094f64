/* gw_pbwire.h — a scan of the top-level fields of a packed protobuf message, without a
 * descriptor and without unpacking anything. Pure, no I/O, no allocation.
 *
 * GET /report uses it to split a PropertyReport as received from the backend into its content
 * (hashed for the ETag) and its volatile fields (sources, debug, generated_at — unpacked on
 * their own), so a request whose content is memoised never unpacks the whole report.
 *
 * Wire format accepted: each field is a varint key (field number << 3 | wire type, field
 * number 1..2^29-1) followed by a varint (type 0), 8 bytes (type 1), a varint length and that
 * many bytes (type 2) or 4 bytes (type 5). Groups (types 3, 4), types 6/7, truncated or
 * over-long varints and lengths past the end are malformed. */
#ifndef GW_PBWIRE_H
#define GW_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

#define GW_FNV1A64_INIT 1469598103934665603ULL

/* FNV-1a 64 of p[0..n) continuing from h (start with GW_FNV1A64_INIT). */
uint64_t gw_fnv1a64(uint64_t h, const void *p, size_t n);

#define GW_PBWIRE_MAX_SPANS 16

typedef struct gw_pbwire_span {
    size_t off, len; /* one whole field (key included) within the message */
} gw_pbwire_span;

typedef struct gw_pbwire_split {
    uint64_t hash;      /* FNV-1a 64 over the bytes of every field NOT in [lo, hi], in order */
    size_t content_len; /* how many bytes that hash covers */
    size_t nspans;      /* fields in [lo, hi], in order of appearance */
    size_t spans_len;   /* their total length */
    gw_pbwire_span spans[GW_PBWIRE_MAX_SPANS];
} gw_pbwire_split;

/* Scans msg[0..n): fields numbered lo..hi are listed in out->spans, every other field is hashed
 * (so the hash equals FNV-1a 64 of the message packed without those fields, when the sender
 * packs fields in field-number order, as protobuf-c does). Returns 0; -1 when the message is
 * malformed; -2 when more than GW_PBWIRE_MAX_SPANS fields fall in lo..hi (callers fall back
 * to a full unpack). *out is unspecified on error. */
int gw_pbwire_split_fields(const uint8_t *msg, size_t n, uint32_t lo, uint32_t hi, gw_pbwire_split *out);

#endif
