/* report_sample.h — a GetPropertyReportResponse (report + metadata) built in plain structs for
 * tests of the report's wire, JSON and HTML handling, and a packing helper. */
#ifndef SFP_TEST_REPORT_SAMPLE_H
#define SFP_TEST_REPORT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "sfpermits/v1/report.pb-c.h"

/* Content r (two historical lots, one permit with a contact and an inspection, one complaint
 * record) and metadata md (etag, max-age 600, generated_at, source "complaints" = st, debug),
 * both in resp. The content holds look-alikes of the REST JSON's per-request members
 * (`,"sources":` inside strings and as a complaint field named "sources"). Every pointer
 * points into s. */
typedef struct sfp_test_report_sample {
    Sfpermits__V1__GetPropertyReportResponse resp;
    Sfpermits__V1__PropertyReport r;
    Sfpermits__V1__ReadMetadata md;
    Sfpermits__V1__ReportPermit p, *pp;
    Sfpermits__V1__PermitContact c, *cp;
    Sfpermits__V1__PermitInspection i, *ip;
    Sfpermits__V1__SodaRecord rec, *recp;
    Sfpermits__V1__SodaRecord__FieldsEntry f[2], *fp[2];
    Sfpermits__V1__ReadMetadata__SourcesEntry src, *srcp;
    Sfpermits__V1__SourceStatus st;
    Sfpermits__V1__ReadDebug dbg;
    Sfpermits__V1__ReportLinks links;
    char *lots[2];
} sfp_test_report_sample;

void sfp_test_report_sample_init(sfp_test_report_sample *s);

/* m packed (malloc'd; the caller frees). */
uint8_t *sfp_test_pack(const ProtobufCMessage *m, size_t *n);

#endif
