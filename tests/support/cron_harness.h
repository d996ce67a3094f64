/* cron_harness.h — the in-process CronService the cron integration tests run
 * (test_cron_service, test_cron_velocity, test_cron_nightly): a pool on the test's database,
 * the service with the test defaults, served over real loopback gRPC, and the check of a Run*
 * call's outcome. Header-only (the tests link the cron service; this support library does not).
 *
 * Use: sfp_test_cron_init, then set what the test needs in c->svc (cfg.today, soda, brief, job
 * knobs), then sfp_test_cron_serve; sfp_test_cron_stop at the end. */
#ifndef SFP_TEST_CRON_HARNESS_H
#define SFP_TEST_CRON_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "cron_service.h"
#include "rpc.h"
#include "testsupport.h"

typedef struct sfp_test_cron {
    sfp_pool *pool;
    sfp_cron_service svc;
    sfp_rpc_server *srv;
    pthread_t th;
    sfp_rpc_channel *ch;
} sfp_test_cron;

/* A pool on url (min 1, max pool_max, connect 2 s, acquire 3 s, statement 30 s; its
 * application_name app_name) and the service's defaults with secret and worker "test". */
static inline void sfp_test_cron_init(sfp_test_cron *c, const char *url, const char *app_name, int pool_max,
                                      const char *secret)
{
    memset(c, 0, sizeof *c);
    sfp_pool_config cfg = {.conninfo = url,
                           .min = 1,
                           .max = pool_max,
                           .connect_timeout_s = 2,
                           .statement_timeout_ms = 30000,
                           .acquire_timeout_ms = 3000,
                           .idle_check_s = 30,
                           .application_name = app_name};
    sfp_err err = {0};
    c->pool = sfp_pool_create(&cfg, &err);
    assert_non_null(c->pool);
    sfp_cron_config_defaults(&c->svc.cfg);
    c->svc.cfg.secret = secret;
    c->svc.cfg.worker = "test";
    c->svc.pool = c->pool;
}

/* Serves c->svc on 127.0.0.1 (a free port) with `workers` workers and the service's stats. */
static inline void sfp_test_cron_serve(sfp_test_cron *c, int workers)
{
    sfp_rpc_method m[SFP_CRON_NMETHODS];
    size_t nm = sfp_cron_service_methods(&c->svc, m);
    sfp_rpc_server_config sc = {.service = "cron",
                                .addr = "127.0.0.1:0",
                                .workers = workers,
                                .stats = sfp_cron_service_stats,
                                .stats_user = &c->svc};
    sfp_test_rpc_start(&sc, m, nm, &c->srv, &c->th, &c->ch);
}

static inline void sfp_test_cron_stop(sfp_test_cron *c)
{
    sfp_test_rpc_stop(c->srv, c->th, c->ch);
    sfp_pool_destroy(c->pool);
    c->pool = NULL;
}

/* The result of a Run* call: on OK the reply (ok=true); a job that ran and failed is a non-OK
 * status whose google.rpc.Status details carry ErrorInfo CRON_JOB_FAILED / CRON_JOB_TIMED_OUT
 * (job_type, log_id) and the result (ok=false) packed as Any — checked here, returned like a
 * reply. Anything else fails the test. */
static inline void *sfp_test_cron_job_result(grpc_status_code c, ProtobufCMessage *resp, const sfp_rpc_status *st,
                                             const ProtobufCMessageDescriptor *desc, const char *what)
{
    const ProtobufCFieldDescriptor *okf = protobuf_c_message_descriptor_get_field_by_name(desc, "ok");
    if (c == GRPC_STATUS_OK) {
        assert_true(*(const protobuf_c_boolean *)((const char *)resp + okf->offset));
        return resp;
    }
    ProtobufCMessage *res = st->details_len ? sfp_rpc_details_find(st->details_bin, st->details_len, desc) : NULL;
    if (!res) fail_msg("%s: %s %s (no job result in the details)", what, sfp_rpc_code_name(c), st->message);
    assert_false(*(const protobuf_c_boolean *)((const char *)res + okf->offset));
    assert_true(!strcmp(st->details.reason, "CRON_JOB_FAILED") || !strcmp(st->details.reason, "CRON_JOB_TIMED_OUT"));
    assert_string_equal(st->details.domain, "sfpermits.dev");
    assert_string_equal(st->details.meta[0].key, "job_type");
    assert_string_equal(st->details.meta[1].key, "log_id");
    return res;
}

#endif
