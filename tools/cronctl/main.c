/* sfp-cronctl — trigger one CronService job (or read the status) and exit with its outcome.
 *
 *   sfp-cronctl JOB [--timeout S] [--lookback N] [--dry-run] [--full] [--concurrency N]
 *   JOB: signals | velocity-refresh | compute-caches | nightly | heartbeat | status
 *
 * Environment: CRON_SVC_ADDR (default 127.0.0.1:50053), CRON_SECRET (required for every JOB
 * but status; sent as `authorization: Bearer <secret>`), LOG_LEVEL.
 * --timeout S   deadline of the call in seconds (1..3600); default: the service's job limit plus
 *               a margin — nightly 490, heartbeat 35, status 10, others 310.
 * --lookback N  nightly: ingest window in days (1..90) instead of "since the last success".
 * --dry-run     nightly: fetch and detect, write nothing.
 * --full        nightly: fetch every dataset in full and replace its rows (rows gone from SODA
 *               are deleted) instead of the rows changed since each dataset's watermark.
 * --concurrency N  compute-caches: parallel brief computations (1..32).
 *
 * stdout: the result as JSON (proto field names), or on an RPC error
 * {"code": <grpc code>, "status": "<NAME>", "message": "...", "reason": "...",
 *  "field_violations": [...], "retry_after_s": N, "result": {...}} (keys after message only when
 * the status details carry them; "result" is the job's result, ok=false, when the job ran and
 * failed); stderr: one line on failure.
 *
 * Exit codes (cron_rules.h), from the call's status alone:
 *   0  success (job ok, or status read)
 *   1  the job ran and failed (INTERNAL, FAILED_PRECONDITION), or another server error
 *   2  usage or configuration error (bad arguments, CRON_SECRET/CRON_SVC_ADDR invalid): do not retry
 *   3  already running (ABORTED: another trigger holds the job's lock)
 *   4  timeout (DEADLINE_EXCEEDED: --timeout or the job's own limit)
 *   5  unavailable (service or its database unreachable, or the job failed because SODA or
 *      Postgres was unavailable)
 *   6  unauthenticated (CRON_SECRET wrong, or the service has none)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "cron_rules.h"
#include "log.h"
#include "pbjson.h"
#include "rpc.h"
#include "sfpermits/v1/cron.pb-c.h"

static int usage(const char *msg)
{
    if (msg) fprintf(stderr, "sfp-cronctl: %s\n", msg);
    fprintf(stderr, "usage: sfp-cronctl JOB [--timeout S] [--lookback N] [--dry-run] [--full] [--concurrency N]\n"
                    "  JOB: signals | velocity-refresh | compute-caches | nightly | heartbeat | status\n"
                    "  env: CRON_SVC_ADDR (127.0.0.1:50053), CRON_SECRET (required except for status)\n"
                    "  exit: 0 ok, 1 job failed, 2 usage/config, 3 already running, 4 timeout, 5 unavailable,\n"
                    "        6 unauthenticated\n");
    return SFP_CRONCTL_USAGE;
}

static int parse_num(const char *name, const char *v, long min, long max, long *out)
{
    sfp_err err = {0};
    if (!v) {
        fprintf(stderr, "sfp-cronctl: %s needs a value\n", name);
        return -1;
    }
    if (sfp_parse_long(name, v, min, max, out, &err)) {
        fprintf(stderr, "sfp-cronctl: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static const ProtobufCMessageDescriptor *result_desc(sfp_cron_job j)
{
    switch (j) {
    case SFP_CRON_JOB_SIGNALS: return &sfpermits__v1__signals_result__descriptor;
    case SFP_CRON_JOB_VELOCITY: return &sfpermits__v1__velocity_refresh_result__descriptor;
    case SFP_CRON_JOB_COMPUTE_CACHES: return &sfpermits__v1__compute_caches_result__descriptor;
    case SFP_CRON_JOB_NIGHTLY: return &sfpermits__v1__nightly_result__descriptor;
    case SFP_CRON_JOB_HEARTBEAT: return &sfpermits__v1__heartbeat_result__descriptor;
    default: return &sfpermits__v1__get_status_response__descriptor;
    }
}

static long default_timeout_s(sfp_cron_job j)
{
    switch (j) {
    case SFP_CRON_JOB_NIGHTLY: return 490;
    case SFP_CRON_JOB_HEARTBEAT: return 35;
    case SFP_CRON_JOB_STATUS: return 10;
    default: return 310;
    }
}

int main(int argc, char **argv)
{
    int early =
        sfp_config_start(SFP_B_CRONCTL, "JOB [--timeout S] [--lookback N] [--dry-run] [--concurrency N]",
                         "sfp-cronctl: runs one sfpermits.v1.CronService job and prints its JSON result.\n"
                         "  JOB: signals | velocity-refresh | compute-caches | nightly | heartbeat | status\n"
                         "  exit: 0 ok, 1 job failed, 2 usage/config, 3 already running, 4 timeout, 5 unavailable,\n"
                         "        6 unauthenticated",
                         argc, argv);
    if (early >= 0) return early;
    sfp_log_init("cronctl");
    if (argc < 2) return usage("missing JOB");
    sfp_cron_job job = sfp_cron_job_from_cli(argv[1]);
    if (!job) return usage("unknown JOB");
    long timeout_s = default_timeout_s(job), lookback = 0, concurrency = 0;
    bool dry_run = false, full = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--timeout")) {
            if (parse_num("--timeout", next, 1, 3600, &timeout_s)) return usage(NULL);
            i++;
        } else if (!strcmp(a, "--lookback") && job == SFP_CRON_JOB_NIGHTLY) {
            if (parse_num("--lookback", next, 1, 90, &lookback)) return usage(NULL);
            i++;
        } else if (!strcmp(a, "--dry-run") && job == SFP_CRON_JOB_NIGHTLY) {
            dry_run = true;
        } else if (!strcmp(a, "--full") && job == SFP_CRON_JOB_NIGHTLY) {
            full = true;
        } else if (!strcmp(a, "--concurrency") && job == SFP_CRON_JOB_COMPUTE_CACHES) {
            if (parse_num("--concurrency", next, 1, 32, &concurrency)) return usage(NULL);
            i++;
        } else {
            fprintf(stderr, "sfp-cronctl: unexpected argument '%s' for %s\n", a, argv[1]);
            return usage(NULL);
        }
    }

    sfp_err err = {0};
    const char *addr;
    if (sfp_cfg_text("CRON_SVC_ADDR", &addr, &err) ||
        (!strcmp(addr, "off") &&
         sfp_err_set(&err, SFP_INVALID_ARGUMENT, "CRON_SVC_ADDR: sfp-cronctl needs an address, not off"))) {
        fprintf(stderr, "sfp-cronctl: %s\n", err.msg);
        return SFP_CRONCTL_USAGE;
    }
    const char *secret;
    if (sfp_cfg_text("CRON_SECRET", &secret, &err)) {
        fprintf(stderr, "sfp-cronctl: %s\n", err.msg);
        return SFP_CRONCTL_USAGE;
    }
    if (!secret) secret = "";
    if (job != SFP_CRON_JOB_STATUS && (!secret || !*secret)) {
        fprintf(stderr, "sfp-cronctl: CRON_SECRET is not set (required for %s)\n", argv[1]);
        return SFP_CRONCTL_USAGE;
    }

    Sfpermits__V1__RunNightlyRequest nightly = SFPERMITS__V1__RUN_NIGHTLY_REQUEST__INIT;
    Sfpermits__V1__RunComputeCachesRequest caches = SFPERMITS__V1__RUN_COMPUTE_CACHES_REQUEST__INIT;
    Sfpermits__V1__RunSignalsRequest empty = SFPERMITS__V1__RUN_SIGNALS_REQUEST__INIT;
    const ProtobufCMessage *req = &empty.base; /* every other request is empty: same wire form */
    if (job == SFP_CRON_JOB_NIGHTLY) {
        nightly.lookback_days = (int32_t)lookback;
        nightly.dry_run = dry_run;
        nightly.full = full;
        req = &nightly.base;
    } else if (job == SFP_CRON_JOB_COMPUTE_CACHES) {
        caches.concurrency = (int32_t)concurrency;
        req = &caches.base;
    }

    char auth[1100], rid[64];
    snprintf(auth, sizeof auth, "Bearer %s", secret ? secret : "");
    snprintf(rid, sizeof rid, "cronctl-%s-%lld-%d", argv[1], (long long)time(NULL), (int)getpid());
    sfp_rpc_md md[2] = {{"x-request-id", rid}, {"authorization", auth}};
    size_t nmd = (job == SFP_CRON_JOB_STATUS && !*secret) ? 1 : 2;

    sfp_rpc_init();
    sfp_rpc_channel *ch = sfp_rpc_channel_create(addr);
    ProtobufCMessage *resp = NULL;
    sfp_rpc_status st;
    memset(&st, 0, sizeof st);
    grpc_status_code code =
        sfp_rpc_call(ch, sfp_cron_job_rpc_path(job), req, result_desc(job), &resp, timeout_s * 1000, md, nmd, &st);
    /* A job that ran and failed is a non-OK status whose details hold its result. */
    ProtobufCMessage *failed = code != GRPC_STATUS_OK && st.details_len
                                   ? sfp_rpc_details_find(st.details_bin, st.details_len, result_desc(job))
                                   : NULL;
    if (code == GRPC_STATUS_OK) {
        char *json = sfp_pbjson_encode(resp, NULL);
        printf("%s\n", json);
        free(json);
        protobuf_c_message_free_unpacked(resp, NULL);
    } else {
        sfp_buf b;
        sfp_buf_init(&b);
        sfp_buf_printf(&b, "{\"code\":%d,\"status\":", (int)code);
        sfp_buf_json_str(&b, sfp_rpc_code_name(code));
        sfp_buf_puts(&b, ",\"message\":");
        sfp_buf_json_str(&b, st.message);
        if (st.details.reason[0]) {
            sfp_buf_puts(&b, ",\"reason\":");
            sfp_buf_json_str(&b, st.details.reason);
        }
        for (size_t i = 0; i < st.details.nviolations; i++) {
            sfp_buf_puts(&b, i ? ",{\"field\":" : ",\"field_violations\":[{\"field\":");
            sfp_buf_json_str(&b, st.details.violations[i].field);
            sfp_buf_puts(&b, ",\"description\":");
            sfp_buf_json_str(&b, st.details.violations[i].description);
            sfp_buf_puts(&b, i + 1 == st.details.nviolations ? "}]" : "}");
        }
        if (st.retry_after[0]) sfp_buf_printf(&b, ",\"retry_after_s\":%s", st.retry_after);
        if (failed) {
            char *json = sfp_pbjson_encode(failed, NULL);
            sfp_buf_puts(&b, ",\"result\":");
            sfp_buf_puts(&b, json);
            free(json);
        }
        sfp_buf_putc(&b, '}');
        printf("%s\n", b.data);
        sfp_buf_free(&b);
        fprintf(stderr, "sfp-cronctl: %s: %s %s\n", argv[1], sfp_rpc_code_name(code), st.message);
    }
    if (failed) protobuf_c_message_free_unpacked(failed, NULL);
    fflush(stdout);
    sfp_rpc_channel_destroy(ch);
    sfp_rpc_shutdown();
    return sfp_cronctl_exit_code(code);
}
