/* report_sample.h — a PropertyReport built in plain structs for tests of the report's wire
 * and JSON handling, and the packing helpers those tests compare against. */
#ifndef SFP_TEST_REPORT_SAMPLE_H
#define SFP_TEST_REPORT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "sfpermits/v1/report.pb-c.h"

/* Content (two historical lots, one permit with a contact and an inspection, one complaint
 * record) and the volatile fields (sources, debug, generated_at). The content holds two
 * look-alikes of the JSON tail marker `,"sources":`: inside a string (address, description)
 * and as real bytes, from a complaint field named "sources". Every pointer points into s. */
typedef struct sfp_test_report_sample {
    Sfpermits__V1__PropertyReport r;
    Sfpermits__V1__ReportPermit p, *pp;
    Sfpermits__V1__PermitContact c, *cp;
    Sfpermits__V1__PermitInspection i, *ip;
    Sfpermits__V1__SodaRecord rec, *recp;
    Sfpermits__V1__SodaRecord__FieldsEntry f[2], *fp[2];
    Sfpermits__V1__ReportSources src;
    Sfpermits__V1__SourceStatus st;
    Sfpermits__V1__ReportDebug dbg;
    Sfpermits__V1__ReportLinks links;
    char *lots[2];
} sfp_test_report_sample;

void sfp_test_report_sample_init(sfp_test_report_sample *s);

/* m packed (malloc'd; the caller frees). */
uint8_t *sfp_test_pack(const ProtobufCMessage *m, size_t *n);
/* The report's content: r packed with sources, debug and generated_at cleared (malloc'd). */
uint8_t *sfp_test_pack_content(const Sfpermits__V1__PropertyReport *r, size_t *n);

#endif
