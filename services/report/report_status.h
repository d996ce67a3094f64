/* report_status.h — pure classifiers of the report domain: permit status classes,
 * complaint/violation "is active", and block/lot validation.
 *
 * Permit statuses (SODA sends lowercase: filed, plancheck, approved, issued, reinstated,
 * complete, expired, cancelled, withdrawn, revoked, disapproved, suspend, ...):
 *   in review = filed, plancheck
 *   active    = in review + approved + issued + reinstated
 * The reference used three slightly different ad-hoc sets (routing {filed, plancheck, issued,
 * reinstated}; rules 4/6 {filed, approved, issued, reinstated}; consultant {filed, plancheck});
 * here every rule uses the one `active` class (a permit in plan check is active; an approved
 * permit still has routing), and the consultant's routing factors use `in review`.
 *
 * Complaint / violation status: classified by words, never by substring, so "NOT ACTIVE",
 * "inactive", "closed", "complied", "abated" are NOT active (reference §9.4 counted "NOT
 * ACTIVE" as active). Active words: active, open, reopened, pending; for violations also "nov"
 * (e.g. "NOV issued"). Any negation or closing word wins over an active word. Unknown statuses
 * are not active. */
#ifndef SFP_REPORT_STATUS_H
#define SFP_REPORT_STATUS_H

#include <stdbool.h>

typedef enum {
    SFP_PERMIT_OTHER = 0, /* unknown / suspend / blank */
    SFP_PERMIT_IN_REVIEW, /* filed, plancheck */
    SFP_PERMIT_APPROVED,  /* approved */
    SFP_PERMIT_ISSUED,    /* issued, reinstated */
    SFP_PERMIT_COMPLETE,  /* complete(d) */
    SFP_PERMIT_CLOSED,    /* expired, cancelled, withdrawn, revoked, disapproved, denied */
} sfp_permit_class;

sfp_permit_class sfp_rpt_permit_class(const char *status);
bool sfp_rpt_permit_is_active(const char *status);
bool sfp_rpt_permit_in_review(const char *status);

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
