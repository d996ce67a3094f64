/* sfp-soda-test-server — local SODA stand-in for tests and benchmarks (see soda_test_server.h).
 * Env: SODA_TEST_ADDR (default 127.0.0.1:0), DATABASE_URL (optional: serve rows from Postgres),
 * LOG_LEVEL. Logs {"msg":"listening",...,"port":N} once bound; SIGTERM/SIGINT stop it promptly
 * (hung and delayed requests are released). */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "db_url.h"
#include "log.h"
#include "soda_test_server.h"

int main(int argc, char **argv)
{
    sfp_db_config_init(); /* DATABASE_URL redacted as libpq reads it */
    int early = sfp_config_start(
        SFP_B_SODA_TEST, "",
        "sfp-soda-test-server: a local stand-in for the SODA API (tests, benchmarks, offline dev).", argc, argv);
    if (early >= 0) return early;
    /* Pages of a full-scale ingest are a few MB each: keep freed memory for the next one instead
     * of trimming it back to the kernel and faulting it in again (see services/cron/main.c). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    sfp_log_init("soda-test-server");
    /* Signals are taken synchronously by this thread; every other thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    sfp_err err = {0};
    const char *addr = NULL, *db_url = NULL;
    sfp_cfg_text("SODA_TEST_ADDR", &addr, &err); /* both checked by sfp_config_start */
    sfp_cfg_text("DATABASE_URL", &db_url, &err);
    sts_data *data = sts_data_open(db_url, &err);
    if (!data) {
        sfp_log(SFP_ERROR, "startup failed", SFP_S("error", err.msg));
        return 1;
    }
    sts_server *srv = sts_server_start(addr, data, &err);
    if (!srv) {
        sfp_log(SFP_ERROR, "startup failed", SFP_S("error", err.msg));
        sts_data_close(data);
        return 1;
    }
    sfp_log(SFP_INFO, "listening", SFP_S("addr", addr), SFP_S("data", sts_data_kind(data)),
            SFP_I("port", sts_server_port(srv)));
    int sig = 0;
    sigwait(&set, &sig);
    sfp_log(SFP_INFO, "stopping", SFP_I("signal", sig));
    sts_server_stop(srv);
    sts_data_close(data);
    sfp_log_msg(SFP_INFO, "stopped");
    return 0;
}
