#include "report_status.h"

#include <ctype.h>
#include <string.h>

#include "report_text.h"

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(w, *list)) return true;
    return false;
}

sfp_enf_class sfp_rpt_enforcement_class(const char *status, bool nov_active)
{
    static const char *const closing[] = {"not",       "no",        "non",      "inactive",  "closed",    "close",
                                          "complied",  "abated",    "resolved", "cancelled", "canceled",  "withdrawn",
                                          "dismissed", "completed", "complete", "expired",   "duplicate", NULL};
    static const char *const active[] = {"active", "open", "opened", "reopened", "pending", NULL};
    bool act = false, closed = false;
    const char *p = sfp_rpt_str(status);
    while (*p) {
        while (*p && !isalnum((unsigned char)*p)) p++;
        char w[24];
        size_t n = 0;
        while (*p && isalnum((unsigned char)*p)) {
            if (n + 1 < sizeof w) w[n++] = (char)tolower((unsigned char)*p);
            p++;
        }
        w[n] = '\0';
        if (!n) continue;
        if (in_list(w, closing)) closed = true;
        else if (in_list(w, active) || (nov_active && !strcmp(w, "nov"))) act = true;
    }
    if (closed) return SFP_ENF_INACTIVE;
    return act ? SFP_ENF_ACTIVE : SFP_ENF_UNKNOWN;
}

bool sfp_rpt_is_active_complaint(const char *status)
{
    return sfp_rpt_enforcement_class(status, false) == SFP_ENF_ACTIVE;
}
bool sfp_rpt_is_active_violation(const char *status)
{
    return sfp_rpt_enforcement_class(status, true) == SFP_ENF_ACTIVE;
}

static int normalize(const char *in, int ndigits, char out[6])
{
    if (!in) return -1;
    while (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r' || *in == '\v' || *in == '\f') in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t' || in[n - 1] == '\n' || in[n - 1] == '\r' || in[n - 1] == '\v' ||
                 in[n - 1] == '\f'))
        n--;
    if (n != (size_t)ndigits && n != (size_t)ndigits + 1) return -1;
    for (int i = 0; i < ndigits; i++)
        if (in[i] < '0' || in[i] > '9') return -1;
    if (n == (size_t)ndigits + 1 && (in[ndigits] < 'A' || in[ndigits] > 'Z')) return -1;
    memcpy(out, in, n);
    out[n] = '\0';
    return 0;
}

int sfp_rpt_normalize_block(const char *in, char out[6])
{
    return normalize(in, 4, out);
}
int sfp_rpt_normalize_lot(const char *in, char out[6])
{
    return normalize(in, 3, out);
}
