/* report_search.c — see report_search.h. */
#include "report_search.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_prep.h"
#include "log.h"
#include "pbjson.h"
#include "sfpermits/v1/report.pb-c.h"

/* ------------------------------------------------------------------ parsing (pure) */

static const char *const k_suffixes[] = {
    "ST",    "STREET", "AV",     "AVE",  "AVENUE",   "BL",   "BLVD",  "BOULEVARD", "DR",    "DRIVE",  "WY",
    "WAY",   "TER",    "TERR",   "TR",   "TERRACE",  "PL",   "PLACE", "CT",        "COURT", "LN",     "LANE",
    "RD",    "ROAD",   "HWY",    "HY",   "HIGHWAY",  "ALY",  "AL",    "ALLEY",     "CIR",   "CIRCLE", "PLZ",
    "PLAZA", "SQ",     "SQUARE", "STWY", "STAIRWAY", "WALK", "WK",    "PARKWAY",   "PKWY",  "ROW",    NULL};

static const char *const k_ordinal_words[] = {
    "FIRST",     "SECOND",    "THIRD",       "FOURTH",     "FIFTH",      "SIXTH",      "SEVENTH",
    "EIGHTH",    "NINTH",     "TENTH",       "ELEVENTH",   "TWELFTH",    "THIRTEENTH", "FOURTEENTH",
    "FIFTEENTH", "SIXTEENTH", "SEVENTEENTH", "EIGHTEENTH", "NINETEENTH", "TWENTIETH",  NULL};

static bool in_list(const char *t, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(t, list[i])) return true;
    return false;
}

static bool all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

const char *sfp_search_kind_name(sfp_search_kind k)
{
    switch (k) {
    case SFP_SEARCH_BLOCK_LOT: return "block_lot";
    case SFP_SEARCH_PERMIT: return "permit";
    case SFP_SEARCH_ADDRESS: return "address";
    case SFP_SEARCH_STREET: return "street";
    default: return "";
    }
}

/* "3512/001", "3512 001", "3512-001", "3512001", letters allowed after the digits. */
static bool parse_block_lot(const char *s, sfp_search_query *out)
{
    const char *p = s;
    char block[8] = {0}, lot[8] = {0};
    for (int i = 0; i < 4; i++, p++) {
        if (!isdigit((unsigned char)*p)) return false;
        block[i] = *p;
    }
    if (isalpha((unsigned char)*p)) block[4] = (char)toupper((unsigned char)*p++);
    while (*p == ' ') p++;
    if (*p == '/' || *p == '-') p++;
    while (*p == ' ') p++;
    for (int i = 0; i < 3; i++, p++) {
        if (!isdigit((unsigned char)*p)) return false;
        lot[i] = *p;
    }
    if (isalpha((unsigned char)*p)) lot[3] = (char)toupper((unsigned char)*p++);
    if (*p) return false;
    out->kind = SFP_SEARCH_BLOCK_LOT;
    snprintf(out->block, sizeof out->block, "%s", block);
    snprintf(out->lot, sizeof out->lot, "%s", lot);
    snprintf(out->normalized, sizeof out->normalized, "%s/%s", block, lot);
    return true;
}

/* 12+ digits, or 1–2 letters and 6+ digits (trade permits). */
static bool parse_permit(const char *s, sfp_search_query *out)
{
    size_t n = strlen(s), letters = 0;
    while (letters < n && isalpha((unsigned char)s[letters])) letters++;
    if (letters > 2 || n >= sizeof out->permit || !all_digits(s + letters)) return false;
    size_t digits = n - letters;
    if (letters ? digits < 6 : digits < 12) return false;
    out->kind = SFP_SEARCH_PERMIT;
    for (size_t i = 0; i <= n; i++) out->permit[i] = (char)toupper((unsigned char)s[i]);
    snprintf(out->normalized, sizeof out->normalized, "%s", out->permit);
    return true;
}

/* A numbered street as the data writes it: "8", "8TH", "08TH", "EIGHTH" → "08TH". 0 when t is
 * not one. */
static int ordinal_value(const char *t)
{
    for (int i = 0; k_ordinal_words[i]; i++)
        if (!strcmp(t, k_ordinal_words[i])) return i + 1;
    char *end;
    long v = strtol(t, &end, 10);
    if (end == t || v < 1 || v > 99) return 0;
    if (*end && strcmp(end, "ST") && strcmp(end, "ND") && strcmp(end, "RD") && strcmp(end, "TH")) return 0;
    return (int)v;
}

static const char *ordinal_suffix(int v)
{
    if (v % 100 >= 11 && v % 100 <= 13) return "TH";
    switch (v % 10) {
    case 1: return "ST";
    case 2: return "ND";
    case 3: return "RD";
    default: return "TH";
    }
}

#define MAX_TOKENS 16

int sfp_search_parse(const char *q, sfp_search_query *out)
{
    memset(out, 0, sizeof *out);
    if (!q) return -1;
    while (isspace((unsigned char)*q)) q++;
    size_t n = strlen(q);
    while (n && isspace((unsigned char)q[n - 1])) n--;
    if (!n || n > SFP_SEARCH_Q_MAX) return -1;
    char s[SFP_SEARCH_Q_MAX + 1];
    memcpy(s, q, n);
    s[n] = '\0';
    if (parse_block_lot(s, out) || parse_permit(s, out)) return 0;

    /* address / street */
    char *comma = strchr(s, ',');
    if (comma) *comma = '\0';
    char buf[SFP_SEARCH_Q_MAX + 1];
    size_t j = 0;
    for (char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '#') { /* a unit: the rest is not the street */
            break;
        }
        buf[j++] = isalnum(c) ? (char)toupper(c) : ' ';
    }
    buf[j] = '\0';
    char *tok[MAX_TOKENS];
    int nt = 0;
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && nt < MAX_TOKENS; t = strtok_r(NULL, " ", &save))
        tok[nt++] = t;
    for (int i = 0; i < nt; i++) /* a unit designator ends the street */
        if (i > 0 &&
            (!strcmp(tok[i], "APT") || !strcmp(tok[i], "UNIT") || !strcmp(tok[i], "STE") || !strcmp(tok[i], "SUITE"))) {
            nt = i;
            break;
        }
    /* trailing zip, state and city */
    for (bool changed = true; changed && nt > 1;) {
        changed = false;
        if (strlen(tok[nt - 1]) == 5 && all_digits(tok[nt - 1])) nt--, changed = true;
        else if (!strcmp(tok[nt - 1], "CA") || !strcmp(tok[nt - 1], "CALIFORNIA") || !strcmp(tok[nt - 1], "SF"))
            nt--, changed = true;
        else if (nt > 2 && !strcmp(tok[nt - 2], "SAN") && !strcmp(tok[nt - 1], "FRANCISCO")) nt -= 2, changed = true;
    }
    int first = 0;
    if (nt && all_digits(tok[0]) && strlen(tok[0]) < sizeof out->number &&
        (nt > 1 || strlen(tok[0]) <= 6)) { /* a house number (a lone number is one too) */
        snprintf(out->number, sizeof out->number, "%s", tok[0]);
        first = 1;
    }
    if (nt - first > 1 && in_list(tok[nt - 1], k_suffixes)) nt--;
    out->street[0] = '\0';
    size_t len = 0;
    for (int i = first; i < nt; i++) {
        const char *t = tok[i];
        char ord[8];
        int v = nt - first == 1 ? ordinal_value(t) : 0;
        if (v) {
            snprintf(ord, sizeof ord, "%02d%s", v, ordinal_suffix(v));
            t = ord;
        }
        int w = snprintf(out->street + len, sizeof out->street - len, "%s%s", len ? " " : "", t);
        if (w < 0 || (size_t)w >= sizeof out->street - len) break;
        len += (size_t)w;
    }
    if (!len && !out->number[0]) return -1; /* punctuation only */
    out->kind = out->number[0] ? SFP_SEARCH_ADDRESS : SFP_SEARCH_STREET;
    snprintf(out->normalized, sizeof out->normalized, "%s%s%s", out->number, out->number[0] && len ? " " : "",
             out->street);
    return 0;
}

/* ------------------------------------------------------------------ SQL */

/* Every statement yields (block, lot, permit_number) rows in `m` ordered by relevance; the
 * common tail adds the parcel's newest permit's address and neighborhood and its permit count. */
#define HIT_TAIL                                                                                                 \
    " SELECT m.block, m.lot, coalesce(a.addr, ''), coalesce(a.neighborhood, ps.neighborhood, ''),"               \
    "        (SELECT count(*) FROM permits c WHERE c.block = m.block AND c.lot = m.lot), m.pn"                   \
    " FROM m"                                                                                                    \
    " LEFT JOIN LATERAL (SELECT concat_ws(' ', nullif(btrim(p.street_number), ''),"                              \
    "                                     nullif(btrim(p.street_name), ''), nullif(btrim(p.street_suffix), ''))" \
    "                           AS addr, p.neighborhood"                                                         \
    "                    FROM permits p WHERE p.block = m.block AND p.lot = m.lot"                               \
    "                    ORDER BY p.filed_date DESC NULLS LAST, p.permit_number DESC LIMIT 1) a ON true"         \
    " LEFT JOIN parcel_summary ps ON ps.block = m.block AND ps.lot = m.lot"                                      \
    " ORDER BY m.rank, 5 DESC, m.block, m.lot"

static const char SQL_BLOCK_LOT[] =
    "WITH m AS (SELECT $1::text AS block, $2::text AS lot, ''::text AS pn, 0 AS rank"
    "           WHERE EXISTS (SELECT 1 FROM permits WHERE block = $1 AND lot = $2)"
    "              OR EXISTS (SELECT 1 FROM parcel_summary WHERE block = $1 AND lot = $2))" HIT_TAIL;

static const char SQL_PERMIT[] =
    "WITH m AS (SELECT block, lot, permit_number AS pn, 0 AS rank FROM permits"
    "           WHERE permit_number = $1 AND block IS NOT NULL AND lot IS NOT NULL)" HIT_TAIL;

/* An exact street name ranks before longer names with the same prefix ("MISSION" before
 * "MISSION BAY"). */
static const char SQL_ADDRESS[] =
    "WITH m AS (SELECT block, lot, ''::text AS pn, min(CASE WHEN upper(street_name) = $3 THEN 0 ELSE 1 END) AS rank"
    "           FROM permits WHERE street_number = $1 AND upper(street_name) LIKE $2"
    "             AND block IS NOT NULL AND lot IS NOT NULL"
    "           GROUP BY block, lot ORDER BY rank, count(*) DESC, block, lot LIMIT $4::int)" HIT_TAIL;

static const char SQL_STREET[] =
    "WITH r AS (SELECT block, lot, street_name FROM permits WHERE upper(street_name) LIKE $1"
    "             AND block IS NOT NULL AND lot IS NOT NULL"
    "           ORDER BY upper(street_name), street_number LIMIT 500),"
    " m AS (SELECT block, lot, ''::text AS pn, min(CASE WHEN upper(street_name) = $2 THEN 0 ELSE 1 END) AS rank"
    "       FROM r GROUP BY block, lot ORDER BY rank, count(*) DESC, block, lot LIMIT $3::int)" HIT_TAIL;

/* "MISS" → "MISS%" with LIKE's metacharacters escaped (the default escape is '\'). */
static void like_prefix(const char *s, char *out, size_t n)
{
    size_t j = 0;
    for (; *s && j + 3 < n; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') out[j++] = '\\';
        out[j++] = *s;
    }
    out[j++] = '%';
    out[j] = '\0';
}

/* Each search shape is a named prepared statement of the pooled connection (common/db_prep.h):
 * prepared on its first use there, then only bound and executed (no parse and plan per search). */
static const sfp_db_stmt ST_BLOCK_LOT = {"sfp_search_block_lot", SQL_BLOCK_LOT, 2};
static const sfp_db_stmt ST_PERMIT = {"sfp_search_permit", SQL_PERMIT, 1};
static const sfp_db_stmt ST_ADDRESS = {"sfp_search_address", SQL_ADDRESS, 4};
static const sfp_db_stmt ST_STREET = {"sfp_search_street", SQL_STREET, 3};

static grpc_status_code search(sfp_rpc_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp, void *user)
{
    sfp_report_service *svc = user;
    const Sfpermits__V1__SearchParcelsRequest *in = (const void *)req;
    sfp_search_query sq;
    if (sfp_search_parse(in->q, &sq))
        return sfp_rpc_bad_argument(ctx, "q",
                                    "must be a non-blank address, block/lot or permit number of at most %d characters",
                                    SFP_SEARCH_Q_MAX);
    if (in->limit < 0 || in->limit > SFP_SEARCH_LIMIT_MAX)
        return sfp_rpc_bad_argument(ctx, "limit", "must be 1..%d (0 = %d)", SFP_SEARCH_LIMIT_MAX,
                                    SFP_SEARCH_LIMIT_DEFAULT);
    int limit = in->limit == 0 ? SFP_SEARCH_LIMIT_DEFAULT : in->limit;
    char lim[16], like[sizeof sq.street * 2 + 2];
    snprintf(lim, sizeof lim, "%d", limit);
    like_prefix(sq.street, like, sizeof like);
    const sfp_db_stmt *stmt = NULL;
    const char *params[4];
    int np = 0;
    switch (sq.kind) {
    case SFP_SEARCH_BLOCK_LOT:
        stmt = &ST_BLOCK_LOT;
        params[np++] = sq.block;
        params[np++] = sq.lot;
        break;
    case SFP_SEARCH_PERMIT:
        stmt = &ST_PERMIT;
        params[np++] = sq.permit;
        break;
    case SFP_SEARCH_ADDRESS:
        stmt = &ST_ADDRESS;
        params[np++] = sq.number;
        params[np++] = like;
        params[np++] = sq.street;
        params[np++] = lim;
        break;
    default:
        stmt = &ST_STREET;
        params[np++] = like;
        params[np++] = sq.street;
        params[np++] = lim;
        break;
    }

    sfp_arena *a = sfp_rpc_arena(ctx);
    Sfpermits__V1__SearchParcelsResponse *out = sfp_arena_msg(a, &sfpermits__v1__search_parcels_response__descriptor);
    char trimmed[SFP_SEARCH_Q_MAX + 1];
    const char *q = in->q;
    while (isspace((unsigned char)*q)) q++;
    snprintf(trimmed, sizeof trimmed, "%s", q);
    for (size_t n = strlen(trimmed); n && isspace((unsigned char)trimmed[n - 1]);) trimmed[--n] = '\0';
    out->query = sfp_arena_strdup(a, trimmed);
    out->kind = (Sfpermits__V1__SearchKind)sfp_pbjson_enum_value(&sfpermits__v1__search_kind__descriptor,
                                                                 sfp_search_kind_name(sq.kind),
                                                                 SFPERMITS__V1__SEARCH_KIND__SEARCH_KIND_UNSPECIFIED);
    out->normalized = sfp_arena_strdup(a, sq.normalized);
    /* An address without a street (a lone number) matches nothing: no query. */
    if (sq.kind == SFP_SEARCH_ADDRESS && !sq.street[0]) {
        *resp = &out->base;
        return GRPC_STATUS_OK;
    }

    sfp_err err = {0};
    int64_t left = sfp_rpc_deadline_left_ms(ctx);
    int wait = left == INT64_MAX || left > svc->cfg.acquire_timeout_ms ? svc->cfg.acquire_timeout_ms : (int)left;
    sfp_conn *conn = sfp_pool_acquire(svc->pool, wait < 1 ? 1 : wait, &err);
    if (!conn) {
        sfp_rpc_set_message(ctx, "database unavailable");
        return GRPC_STATUS_UNAVAILABLE;
    }
    PGresult *r = sfp_db_prepared(conn, stmt, params, NULL, NULL, 0, SFP_ERROR, NULL, &err);
    if (!r) {
        sfp_pool_release(svc->pool, conn);
        sfp_rpc_set_message(ctx, "%s", err.msg[0] ? err.msg : "database error");
        return err.code ? (grpc_status_code)err.code : GRPC_STATUS_INTERNAL;
    }
    int rows = PQntuples(r);
    out->n_hits = (size_t)rows;
    out->hits = sfp_arena_alloc(a, sizeof(*out->hits) * (size_t)(rows ? rows : 1));
    for (int i = 0; i < rows; i++) {
        Sfpermits__V1__ParcelHit *h = sfp_arena_msg(a, &sfpermits__v1__parcel_hit__descriptor);
        h->block = sfp_arena_strdup(a, PQgetvalue(r, i, 0));
        h->lot = sfp_arena_strdup(a, PQgetvalue(r, i, 1));
        h->address = sfp_arena_strdup(a, PQgetvalue(r, i, 2));
        h->neighborhood = sfp_arena_strdup(a, PQgetvalue(r, i, 3));
        h->permit_count = (int32_t)strtol(PQgetvalue(r, i, 4), NULL, 10);
        h->permit_number = sfp_arena_strdup(a, PQgetvalue(r, i, 5));
        h->report_path = sfp_arena_printf(a, "/report/%s/%s", h->block, h->lot);
        out->hits[i] = h;
    }
    PQclear(r);
    sfp_pool_release(svc->pool, conn);
    *resp = &out->base;
    return GRPC_STATUS_OK;
}

sfp_rpc_method sfp_report_search_method(sfp_report_service *svc)
{
    return (sfp_rpc_method){SFP_REPORT_SEARCH_METHOD_PATH, &sfpermits__v1__search_parcels_request__descriptor,
                            &sfpermits__v1__search_parcels_response__descriptor, search, svc};
}
