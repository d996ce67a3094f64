#include "db_url.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "config.h"

/* The text form of sfp_db_url_redact: the password of a URI's user info and a "password=" value
 * replaced. Enough for the usual strings; sfp_db_url_redact checks the result with libpq. */
static void redact_db_url_text(const char *s, char *out, size_t n)
{
    snprintf(out, n, "%s", s);
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *at = strchr(scheme + 3, '@'), *colon = strchr(scheme + 3, ':');
        if (at && colon && colon < at) {
            char rest[1024];
            snprintf(rest, sizeof rest, "%s", at);
            snprintf(colon, n - (size_t)(colon - out), ":redacted%s", rest);
        }
    }
    char *pw = strstr(out, "password=");
    if (pw) {
        char *val = pw + 9, *end = val;
        while (*end && *end != ' ' && *end != '&') end++;
        char rest[1024];
        snprintf(rest, sizeof rest, "%s", end);
        snprintf(val, n - (size_t)(val - out), "redacted%s", rest);
    }
}

/* True when every secret option (libpq marks them with dispchar '*': password, sslpassword)
 * of the parsed string is unset or "redacted". */
static bool secrets_redacted(const PQconninfoOption *o)
{
    for (; o && o->keyword; o++)
        if (o->dispchar && strchr(o->dispchar, '*') && o->val && *o->val && strcmp(o->val, "redacted")) return false;
    return true;
}

static PQconninfoOption *conninfo_parse(const char *s)
{
    char *err = NULL;
    PQconninfoOption *o = PQconninfoParse(s, &err);
    PQfreemem(err);
    return o;
}

/* A libpq URI or key=value string as --print-config shows it: its secrets (as libpq reads
 * them: quoted values, spaces around '=', query parameters, repeated keywords) replaced by
 * "redacted". When the plain text replacement does not achieve that, the string is shown as
 * libpq's key=value form of its options; a string libpq cannot read is not shown. */
void sfp_db_url_redact(const char *s, char *out, size_t n)
{
    PQconninfoOption *orig = conninfo_parse(s);
    if (!orig) {
        snprintf(out, n, "(redacted: not a valid connection string)");
        return;
    }
    redact_db_url_text(s, out, n);
    PQconninfoOption *shown = conninfo_parse(out);
    bool ok = shown && secrets_redacted(shown);
    PQconninfoFree(shown);
    if (!ok) {
        sfp_buf b;
        sfp_buf_init(&b);
        for (PQconninfoOption *o = orig; o->keyword; o++) {
            if (!o->val || !*o->val) continue;
            bool secret = o->dispchar && strchr(o->dispchar, '*');
            sfp_buf_printf(&b, "%s%s='", b.len ? " " : "", o->keyword);
            for (const char *v = secret ? "redacted" : o->val; *v; v++) {
                if (*v == '\\' || *v == '\'') sfp_buf_putc(&b, '\\');
                sfp_buf_putc(&b, *v);
            }
            sfp_buf_putc(&b, '\'');
        }
        if (b.len < n) snprintf(out, n, "%s", b.len ? b.data : "");
        else snprintf(out, n, "(redacted: too long to show)");
        sfp_buf_free(&b);
    }
    PQconninfoFree(orig);
}

void sfp_db_config_init(void)
{
    sfp_config_set_db_url_redactor(sfp_db_url_redact);
}
