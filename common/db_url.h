/* db_url.h — how --print-config shows a libpq connection string (DATABASE_URL): its secrets
 * replaced by "redacted", as libpq itself reads them. Part of the database library, so the
 * configuration module (config.c) needs no libpq. */
#ifndef SFP_DB_URL_H
#define SFP_DB_URL_H

#include <stddef.h>

/* A libpq URI or key=value string with its secrets (as libpq reads them: quoted values, spaces
 * around '=', query parameters, repeated keywords) replaced by "redacted", into out (n bytes).
 * When the plain text replacement does not achieve that, out is libpq's key=value form of the
 * options; a string libpq cannot read is not shown. */
void sfp_db_url_redact(const char *s, char *out, size_t n);

/* Installs sfp_db_url_redact as the configuration's DATABASE_URL redactor. Every binary that
 * reads DATABASE_URL calls it before sfp_config_start. */
void sfp_db_config_init(void);

#endif
