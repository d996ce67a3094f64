/* db_error.c — see db_error.h. */
#include "db_error.h"

#include <string.h>

sfp_db_class sfp_db_classify(const char *sqlstate, bool connection_ok)
{
    static const sfp_db_class lost = {SFP_UNAVAILABLE, "database connection lost", false};
    static const sfp_db_class timeout = {SFP_DEADLINE_EXCEEDED, "database query timed out", true};
    static const sfp_db_class other = {SFP_INTERNAL, "database error", false};
    const char *s = sqlstate ? sqlstate : "";
    if (!connection_ok || !strncmp(s, "08", 2) || !strcmp(s, "57P01") || !strcmp(s, "57P02") || !strcmp(s, "57P03") ||
        !strcmp(s, "53300"))
        return lost;
    if (!strcmp(s, "57014") || !strcmp(s, "55P03")) return timeout;
    return other;
}
