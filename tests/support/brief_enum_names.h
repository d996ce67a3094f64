/* brief_enum_names.h — ENAME(v): the REST JSON name ("at_risk") of a brief enum field's value,
 * for tests that compare it with text. Header-only (a test including it links the protos and
 * sfp_pb by its own includes). */
#ifndef SFP_TEST_BRIEF_ENUM_NAMES_H
#define SFP_TEST_BRIEF_ENUM_NAMES_H

#include "pbjson.h"
#include "sfpermits/v1/brief.pb-c.h"

#define ENAME(v)                                                                                                       \
    SFP_PBJSON_ENUM_NAME(_Generic((v), Sfpermits__V1__CardHealth                                                       \
                                  : &sfpermits__v1__card_health__descriptor, Sfpermits__V1__SeverityTier               \
                                  : &sfpermits__v1__severity_tier__descriptor, Sfpermits__V1__PipelineStatus           \
                                  : &sfpermits__v1__pipeline_status__descriptor, Sfpermits__V1__PredictabilityStatus   \
                                  : &sfpermits__v1__predictability_status__descriptor, Sfpermits__V1__RegulatoryStatus \
                                  : &sfpermits__v1__regulatory_status__descriptor, Sfpermits__V1__DataQualityStatus    \
                                  : &sfpermits__v1__data_quality_status__descriptor),                                  \
                         (v))

#endif
