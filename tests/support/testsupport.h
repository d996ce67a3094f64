/* testsupport.h — helpers shared by integration and e2e tests.
 * The Postgres cluster comes from the ctest fixture `pg` (scripts/pgtmp start build/testpg),
 * or from DATABASE_URL when set. Each test creates its own database so tests can run in
 * parallel without seeing each other's rows. */
#ifndef SFP_TESTSUPPORT_H
#define SFP_TESTSUPPORT_H

#include <stdbool.h>
#include <sys/types.h>

/* URL of the cluster's maintenance database ("postgres"); aborts the test run if none. */
const char *sfp_test_admin_url(void);
/* Drops and creates database `name`; returns its URL (malloc'd; caller frees). */
char *sfp_test_create_db(const char *name);
/* sfp_test_create_db + all migrations applied. */
char *sfp_test_migrated_db(const char *name);
/* Runs one SQL statement on url; returns 0 on success (aborts the test on connection failure). */
int sfp_test_sql(const char *url, const char *sql);
/* First column of the first row of a query, as a long (-1 on error/no row). */
long sfp_test_sql_long(const char *url, const char *sql);

/* ---- in-process rpc servers (integration) ---- */
#include <pthread.h>
#include "rpc.h"
/* Creates the server from cfg on cfg->addr (use "127.0.0.1:0"), runs it on a new thread and
 * opens a channel to it; aborts the test run if the server cannot be created. */
void sfp_test_rpc_start(const sfp_rpc_server_config *cfg, const sfp_rpc_method *m, size_t n, sfp_rpc_server **srv,
                        pthread_t *th, sfp_rpc_channel **ch);
/* Closes the channel, stops and joins the server, destroys it. */
void sfp_test_rpc_stop(sfp_rpc_server *srv, pthread_t th, sfp_rpc_channel *ch);
/* Introspection/GetStats of the server behind ch; aborts the test run when the call fails.
 * The caller frees it with protobuf_c_message_free_unpacked(&st->base, NULL). */
#include "sfpermits/v1/introspection.pb-c.h"
Sfpermits__V1__ServiceStats *sfp_test_stats(sfp_rpc_channel *ch);
/* Value of the named counter in st, or -1 when absent. */
double sfp_test_stats_counter(const Sfpermits__V1__ServiceStats *st, const char *name);

/* ---- processes (e2e) ---- */
/* Fails the current test (never skips) when SFP_BIN_DIR/<binary> is missing or not executable:
 * a test that cannot run its real parts must not pass. */
void sfp_test_require_bin(const char *binary);

typedef struct sfp_proc {
    pid_t pid;
    int port;           /* parsed from its "listening" log line (field "port") */
    char log_path[256]; /* its stderr, for post-mortems */
} sfp_proc;

/* Starts SFP_BIN_DIR/<binary> with extra env entries ("K=V", NULL-terminated) added to the
 * current environment; waits up to 10 s for a log line {"msg":"listening",...,"port":N}.
 * Returns 0 on success. */
int sfp_proc_start(sfp_proc *p, const char *binary, const char *const *env);
/* Port from the first log line of p with "msg":"<msg>" and a "port" field (e.g.
 * "metrics listening"); -1 when absent. */
int sfp_proc_log_port(const sfp_proc *p, const char *msg);
/* SIGTERM, wait up to timeout_ms; returns the exit status (or -1 on timeout, after SIGKILL). */
int sfp_proc_stop(sfp_proc *p, int timeout_ms);
/* Polls (every 10 ms, up to timeout_ms) until the file at path contains needle. */
bool sfp_test_file_wait(const char *path, const char *needle, int timeout_ms);
/* True while the process exists. */
bool sfp_proc_alive(const sfp_proc *p);

/* A free TCP port on 127.0.0.1 outside the kernel's ephemeral range, proven free by binding
 * it (then released, for a process that must be started on a known port). */
int sfp_test_free_port(void);
/* An address where nothing listens: port 1 is privileged and unused, so a connect is refused
 * at once (no race with other processes, unlike a port that was free a moment ago). */
#define SFP_TEST_DEAD_ADDR "127.0.0.1:1"
/* A Postgres URL that can never connect: its socket directory does not exist. */
#define SFP_TEST_DEAD_PG_URL "postgresql://postgres@/postgres?host=/nonexistent/sfp-test&connect_timeout=1"

#endif
