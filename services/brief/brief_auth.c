/* brief_auth.c — see brief_auth.h. */
#include "brief_auth.h"

#include <ctype.h>
#include <grpc/status.h>
#include <pthread.h>
#include <time.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bearer.h"
#include "sha256.h"
#include "clock.h"
#include "db_prep.h"
#include "log.h"

const char *sfp_brief_bearer_token(const char *v, size_t *len)
{
    size_t n = 0;
    const char *tok = sfp_bearer_token(v, &n); /* the shared RFC 7235 parser */
    if (!tok || n > SFP_BRIEF_TOKEN_MAX) return NULL;
    *len = n;
    return tok;
}

/* Lookup + at-most-once-a-minute last_used_at, one statement (the data-modifying CTE always
 * runs; it updates nothing unless the token is valid and was last used over a minute ago). */
static const char SQL_AUTH[] =
    "WITH t AS (SELECT token_id, user_id, token_sha256, last_used_at FROM api_tokens "
    "           WHERE token_sha256 = decode($1, 'hex') AND revoked_at IS NULL), "
    "u AS (UPDATE api_tokens a SET last_used_at = now() FROM t WHERE a.token_id = t.token_id "
    "      AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') RETURNING a.token_id) "
    "SELECT t.user_id, encode(t.token_sha256, 'hex'), (SELECT count(*) FROM u) "
    "FROM t JOIN users us ON us.user_id = t.user_id AND us.is_active";

int sfp_brief_authenticate(sfp_conn *c, const char *authorization, int32_t *user_id, int *queries, sfp_err *err)
{
    size_t len = 0;
    const char *tok = sfp_brief_bearer_token(authorization, &len);
    if (!tok) return sfp_err_set(err, GRPC_STATUS_UNAUTHENTICATED, "a valid bearer token is required");
    char hex[65];
    if (sfp_sha256_hex(tok, len, hex) != 0) return sfp_err_set(err, GRPC_STATUS_INTERNAL, "hashing failed");
    const char *p[1] = {hex};
    (*queries)++;
    static const sfp_db_stmt st = {"brief_auth", SQL_AUTH, 1};
    PGresult *r = sfp_db_prepared(c, &st, p, NULL, NULL, 0, SFP_ERROR, NULL, err);
    if (!r) return -1;
    bool ok = PQntuples(r) == 1 && PQgetlength(r, 0, 1) == 64 && CRYPTO_memcmp(PQgetvalue(r, 0, 1), hex, 64) == 0;
    if (ok) *user_id = (int32_t)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (!ok) return sfp_err_set(err, GRPC_STATUS_UNAUTHENTICATED, "a valid bearer token is required");
    return 0;
}

int sfp_brief_authenticate_service(sfp_conn *c, const char *authorization, const char *user_id_value,
                                   const char *secret, int32_t *user_id, int *queries, sfp_err *err)
{
    size_t len = 0;
    const char *tok = sfp_brief_bearer_token(authorization, &len);
    char got[65], want[65];
    if (!secret || !*secret || !tok || sfp_sha256_hex(tok, len, got) != 0 ||
        sfp_sha256_hex(secret, strlen(secret), want) != 0 || CRYPTO_memcmp(got, want, 64) != 0)
        return sfp_err_set(err, GRPC_STATUS_UNAUTHENTICATED, "a valid bearer token is required");
    size_t n = user_id_value ? strlen(user_id_value) : 0;
    if (n == 0 || n > 9 || strspn(user_id_value, "0123456789") != n)
        return sfp_err_set(err, GRPC_STATUS_UNAUTHENTICATED, "a valid bearer token is required");
    const char *p[1] = {user_id_value};
    (*queries)++;
    static const sfp_db_stmt st = {"brief_auth_service",
                                   "SELECT user_id FROM users WHERE user_id = $1::int AND is_active", 1};
    PGresult *r = sfp_db_prepared(c, &st, p, NULL, NULL, 0, SFP_ERROR, NULL, err);
    if (!r) return -1;
    bool ok = PQntuples(r) == 1;
    if (ok) *user_id = (int32_t)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (!ok) return sfp_err_set(err, GRPC_STATUS_UNAUTHENTICATED, "a valid bearer token is required");
    return 0;
}

/* ---------- positive-result cache ---------- */

#define AUTH_CACHE_SLOTS 4096

typedef struct auth_slot {
    unsigned char hash[32]; /* SHA-256 of the token */
    int32_t user_id;
    int64_t expires_ms; /* 0 = empty */
} auth_slot;

struct sfp_brief_auth_cache {
    int ttl_ms;
    sfp_clock_fn clock;
    void *clock_arg;
    pthread_mutex_t mu;
    auth_slot slots[AUTH_CACHE_SLOTS];
};

static int64_t now_ms(const sfp_brief_auth_cache *c)
{
    return (int64_t)(c->clock(c->clock_arg) * 1000.0);
}

void sfp_brief_auth_cache_set_clock(sfp_brief_auth_cache *c, sfp_clock_fn clock, void *arg)
{
    c->clock = clock ? clock : sfp_mono_clock;
    c->clock_arg = arg;
}

sfp_brief_auth_cache *sfp_brief_auth_cache_new(int ttl_ms)
{
    sfp_brief_auth_cache *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->ttl_ms = ttl_ms;
    c->clock = sfp_mono_clock;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void sfp_brief_auth_cache_free(sfp_brief_auth_cache *c)
{
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static bool token_hash(const char *authorization, unsigned char out[32])
{
    size_t len = 0;
    const char *tok = sfp_brief_bearer_token(authorization, &len);
    return tok && sfp_sha256(tok, len, out) == 0;
}

static size_t slot_of(const unsigned char h[32])
{
    size_t v;
    memcpy(&v, h, sizeof v); /* SHA-256 output: any 8 bytes are uniformly distributed */
    return v % AUTH_CACHE_SLOTS;
}

bool sfp_brief_auth_cache_lookup(sfp_brief_auth_cache *c, const char *authorization, int32_t *user_id)
{
    unsigned char h[32];
    if (!c || c->ttl_ms <= 0 || !token_hash(authorization, h)) return false;
    bool hit = false;
    pthread_mutex_lock(&c->mu);
    auth_slot *s = &c->slots[slot_of(h)];
    if (s->expires_ms > now_ms(c) && CRYPTO_memcmp(s->hash, h, 32) == 0) {
        *user_id = s->user_id;
        hit = true;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void sfp_brief_auth_cache_store(sfp_brief_auth_cache *c, const char *authorization, int32_t user_id)
{
    unsigned char h[32];
    if (!c || c->ttl_ms <= 0 || !token_hash(authorization, h)) return;
    pthread_mutex_lock(&c->mu);
    auth_slot *s = &c->slots[slot_of(h)];
    memcpy(s->hash, h, 32);
    s->user_id = user_id;
    s->expires_ms = now_ms(c) + c->ttl_ms;
    pthread_mutex_unlock(&c->mu);
}
