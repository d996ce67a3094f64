/* brief_auth.h — per-user bearer tokens (table api_tokens, SHA-256 of the token stored).
 *
 * The caller is identified ONLY by the `authorization: Bearer <token>` metadata:
 *  - scheme "Bearer" (any case), one or more blanks, a token of 1..1024 visible ASCII chars;
 *  - SHA-256(token) is looked up through the unique index on token_sha256, the stored hash is
 *    compared with the computed one in constant time (CRYPTO_memcmp), the token must not be
 *    revoked and its user must be active;
 *  - last_used_at is refreshed in the same statement, at most once a minute per token (so the
 *    hot path writes nothing most of the time).
 * Missing, malformed, unknown or revoked → UNAUTHENTICATED with a fixed message (no hint which).
 * One SQL statement per call. */
#ifndef SFP_BRIEF_AUTH_H
#define SFP_BRIEF_AUTH_H

#include "clock.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db_pool.h"
#include "sfp_err.h"

#define SFP_BRIEF_TOKEN_MAX 1024

/* The token inside an Authorization value, or NULL when it is not a well-formed Bearer
 * credential; *len = its length. Pure. */
const char *sfp_brief_bearer_token(const char *authorization, size_t *len);

/* Positive results of token lookups kept in memory for ttl_ms (BRIEF_AUTH_CACHE_MS), so a hot
 * client costs one SQL statement per request instead of two: a revoked token or deactivated
 * user is refused at most ttl_ms later. Failures are never cached. Direct-mapped, fixed size
 * (a colliding token evicts the other). Thread-safe. Owned by its creator. */
typedef struct sfp_brief_auth_cache sfp_brief_auth_cache;
sfp_brief_auth_cache *sfp_brief_auth_cache_new(int ttl_ms);
void sfp_brief_auth_cache_free(sfp_brief_auth_cache *c); /* NULL-safe */
/* Replaces the cache's clock (default sfp_mono_clock; seconds) — tests pass a fake. */
void sfp_brief_auth_cache_set_clock(sfp_brief_auth_cache *c, sfp_clock_fn clock, void *arg);

/* Resolves the Authorization value to a user id. Returns 0 with *user_id, or -1 with err
 * (UNAUTHENTICATED, or the database error's code). *queries is incremented per statement. */
int sfp_brief_authenticate(sfp_conn *c, const char *authorization, int32_t *user_id, int *queries, sfp_err *err);
/* Cache lookup by the token of an Authorization value: true with *user_id on a fresh hit. */
bool sfp_brief_auth_cache_lookup(sfp_brief_auth_cache *cache, const char *authorization, int32_t *user_id);
/* Remembers a successful authenticate() of this Authorization value. */
void sfp_brief_auth_cache_store(sfp_brief_auth_cache *cache, const char *authorization, int32_t user_id);

/* Service identity for the cron warm-up (services/cron/cron_service.h): metadata
 * `authorization: Bearer <CRON_SECRET>` plus `x-sfp-user-id: <user_id>` acts as that user.
 * The secret must be non-empty and matches in constant time (both sides hashed, then
 * CRYPTO_memcmp); the user must exist and be active. The gateway never forwards
 * x-sfp-user-id (its metadata allow-list), so HTTP clients cannot use this path.
 * Returns 0 with *user_id, or -1 with err (UNAUTHENTICATED or the database error). */
int sfp_brief_authenticate_service(sfp_conn *c, const char *authorization, const char *user_id_value,
                                   const char *secret, int32_t *user_id, int *queries, sfp_err *err);

#endif
