/* permit_status.c — see permit_status.h. */
#include "permit_status.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* Lowercase, letters/digits only ("Plan Check" → "plancheck"). */
static void squash(const char *s, char *out, size_t n)
{
    size_t j = 0;
    for (s = s ? s : ""; *s && j + 1 < n; s++)
        if (isalnum((unsigned char)*s)) out[j++] = (char)tolower((unsigned char)*s);
    out[j] = '\0';
}

sfp_permit_status sfp_permit_status_of(const char *status)
{
    char s[32];
    squash(status, s, sizeof s);
    static const struct {
        const char *name;
        sfp_permit_status st;
    } map[] = {
        {"filed", SFP_PST_FILED},        {"plancheck", SFP_PST_PLANCHECK},   {"approved", SFP_PST_APPROVED},
        {"issued", SFP_PST_ISSUED},      {"reinstated", SFP_PST_REINSTATED}, {"complete", SFP_PST_COMPLETE},
        {"completed", SFP_PST_COMPLETE}, {"expired", SFP_PST_CLOSED},        {"cancelled", SFP_PST_CLOSED},
        {"canceled", SFP_PST_CLOSED},    {"withdrawn", SFP_PST_CLOSED},      {"revoked", SFP_PST_CLOSED},
        {"disapproved", SFP_PST_CLOSED}, {"denied", SFP_PST_CLOSED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(s, map[i].name)) return map[i].st;
    return SFP_PST_OTHER;
}

bool sfp_permit_in(const char *status, unsigned set)
{
    return (SFP_PST_BIT(sfp_permit_status_of(status)) & set) != 0;
}

const char *sfp_permit_status_name(sfp_permit_status s)
{
    switch (s) {
    case SFP_PST_FILED: return "filed";
    case SFP_PST_PLANCHECK: return "plancheck";
    case SFP_PST_APPROVED: return "approved";
    case SFP_PST_ISSUED: return "issued";
    case SFP_PST_REINSTATED: return "reinstated";
    case SFP_PST_COMPLETE: return "complete";
    default: return "";
    }
}
