/* bearer.h — the one parser of an `authorization: Bearer <token>` value, shared by every
 * service that checks one (brief, cron). RFC 7235: the auth scheme is case-insensitive
 * ("Bearer", "bearer", "BEARER"), followed by one or more blanks; the token is visible ASCII
 * (0x21..0x7e) with no blanks inside; blanks around the whole value are ignored. */
#ifndef SFP_BEARER_H
#define SFP_BEARER_H

#include <stddef.h>

/* The token inside authorization (a pointer into it, *len its length), or NULL when the value
 * is not a well-formed Bearer credential (NULL, other scheme, empty or malformed token). */
const char *sfp_bearer_token(const char *authorization, size_t *len);

#endif
