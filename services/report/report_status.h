/* report_status.h — pure classifiers of the report domain: permit status sets, complaint /
 * violation "is active", and block/lot validation.
 *
 * Permit statuses (SODA sends lowercase: filed, plancheck, approved, issued, reinstated,
 * complete, expired, cancelled, withdrawn, revoked, disapproved, suspend, ...) are compared
 * ignoring case, spaces and punctuation ("Plan Check" = plancheck). Three named sets, each
 * defined once here and used by exactly the rules that need it. They differ on purpose:
 *
 *   SFP_PERMITS_ON_CLOCK  filed, approved, issued, reinstated
 *       A permit whose validity clock runs (Table B, SFBC 106A.4.4): counted by
 *       multiple_active_permits and checked by dormant_permit / aging_permit. A permit still
 *       in plan check is not counted.
 *   SFP_PERMITS_ROUTED    filed, plancheck, issued, reinstated
 *       A permit whose plan-review routing progress the report shows. An approved permit
 *       shows none.
 *   SFP_PERMITS_IN_REVIEW filed, plancheck
 *       A permit in plan review: the consultant signal's routing factors (stalled station,
 *       revision cycles) look only at these. A subset of SFP_PERMITS_ROUTED, so the routing
 *       fetched for the report serves the consultant too.
 *
 * Complaint / violation status: classified by words, never by substring, so "NOT ACTIVE",
 * "inactive", "closed", "complied", "abated" are NOT active (a substring test would count
 * "NOT ACTIVE" as active). Active words: active, open, reopened, pending; for violations also
 * "nov" (e.g. "NOV issued"). Any negation or closing word wins over an active word. Unknown
 * statuses are not active. */
#ifndef SFP_REPORT_STATUS_H
#define SFP_REPORT_STATUS_H

#include <stdbool.h>

typedef enum {
    SFP_PST_OTHER = 0, /* unknown / suspend / blank */
    SFP_PST_FILED,
    SFP_PST_PLANCHECK,
    SFP_PST_APPROVED,
    SFP_PST_ISSUED,
    SFP_PST_REINSTATED,
    SFP_PST_COMPLETE, /* complete(d) */
    SFP_PST_CLOSED,   /* expired, cancelled, withdrawn, revoked, disapproved, denied */
} sfp_permit_status;

#define SFP_PST_BIT(s) (1u << (unsigned)(s))
#define SFP_PERMITS_ON_CLOCK                                                                    \
    (SFP_PST_BIT(SFP_PST_FILED) | SFP_PST_BIT(SFP_PST_APPROVED) | SFP_PST_BIT(SFP_PST_ISSUED) | \
     SFP_PST_BIT(SFP_PST_REINSTATED))
#define SFP_PERMITS_ROUTED                                                                       \
    (SFP_PST_BIT(SFP_PST_FILED) | SFP_PST_BIT(SFP_PST_PLANCHECK) | SFP_PST_BIT(SFP_PST_ISSUED) | \
     SFP_PST_BIT(SFP_PST_REINSTATED))
#define SFP_PERMITS_IN_REVIEW (SFP_PST_BIT(SFP_PST_FILED) | SFP_PST_BIT(SFP_PST_PLANCHECK))

sfp_permit_status sfp_rpt_permit_status(const char *status);
/* status ∈ set (a mask of SFP_PST_BIT). */
bool sfp_rpt_permit_in(const char *status, unsigned set);

typedef enum { SFP_ENF_UNKNOWN = 0, SFP_ENF_ACTIVE, SFP_ENF_INACTIVE } sfp_enf_class;
/* nov_active: the word "nov" marks an active status (violations). */
sfp_enf_class sfp_rpt_enforcement_class(const char *status, bool nov_active);
bool sfp_rpt_is_active_complaint(const char *status);
bool sfp_rpt_is_active_violation(const char *status);

/* Block ^[0-9]{4}[A-Z]?$ / lot ^[0-9]{3}[A-Z]?$ after trimming ASCII whitespace. On success
 * writes the trimmed value to out (size ≥ 6) and returns 0; else -1. */
int sfp_rpt_normalize_block(const char *in, char out[6]);
int sfp_rpt_normalize_lot(const char *in, char out[6]);

#endif
