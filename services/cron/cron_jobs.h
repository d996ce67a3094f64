/* cron_jobs.h — the jobs as the dispatcher sees them: one definition per job, exported by the
 * job's own file and listed in cron_run.c's table. A job file depends on cron_internal.h (the
 * run context) and never on the dispatcher, so the calls go one way:
 * cron_run.c → job files → cron_job.c / cron_log.c. Not for use outside services/cron. */
#ifndef SFP_CRON_JOBS_H
#define SFP_CRON_JOBS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "cron_internal.h"

/* Runs the job: fills res's job stats (fields 20+) and returns 0, or -1 after sfp_cron_fail*.
 * req and res are the job's own request / result messages (req_desc / res_desc). */
typedef int (*sfp_cron_job_fn)(sfp_cron_run *r, const ProtobufCMessage *req, ProtobufCMessage *res);

typedef struct sfp_cron_job_def {
    sfp_cron_job job;
    const ProtobufCMessageDescriptor *req_desc, *res_desc;
    sfp_cron_job_fn fn;
    bool lock; /* held under pg_try_advisory_lock(SFP_CRON_LOCK_NS, job) */
} sfp_cron_job_def;

extern const sfp_cron_job_def sfp_cron_signals_def;  /* cron_signals.c */
extern const sfp_cron_job_def sfp_cron_velocity_def; /* cron_velocity.c */
extern const sfp_cron_job_def sfp_cron_caches_def;   /* cron_caches.c */
extern const sfp_cron_job_def sfp_cron_nightly_def;  /* cron_nightly.c */

#endif
