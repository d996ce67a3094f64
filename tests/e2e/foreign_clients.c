/* E2E driver for the foreign gRPC clients: `foreign_clients python|node|buf`.
 *
 * Starts the real services as processes on ephemeral ports — sfp-report, sfp-brief, sfp-cron
 * and sfp-health on a throwaway database seeded by `sfp-seed --scale demo`, with the SODA test
 * server behind report and cron — then runs one foreign client against them:
 *   python  tests/e2e/clients/grpc_client.py with Debian's /usr/bin/python3 (python3-grpcio)
 *   node    tests/e2e/clients/grpc_client.mjs with @grpc/grpc-js (npm, build tree)
 *   buf     `buf curl --list-methods` through server reflection against every service
 * The python and node clients call every RPC, list services through reflection and Watch the
 * report service's health; once they write "watching" to SFP_WATCH_FILE the driver sends
 * SIGTERM to sfp-report, and both the client (which must see NOT_SERVING and the end of the
 * stream) and sfp-report (a clean drain, exit 0: open watchers do not hold the shutdown up) must
 * succeed. A missing interpreter, module or tool fails the test: nothing is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testsupport.h"

#define CRON_SECRET "e2e-foreign-secret"

static const char *g_kind;
static char *g_db;
static sfp_proc g_soda, g_report, g_brief, g_cron, g_health;
static char g_env_db[1024];
static char g_addr[4][64]; /* report, brief, cron, health */
static char g_tmp[256];

static int run_quiet(const char *const *argv, const char *const *env)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "e2e_foreign_%s", g_kind);
    g_db = sfp_test_migrated_db(name);
    snprintf(g_env_db, sizeof g_env_db, "DATABASE_URL=%s", g_db);
    const char *seed[] = {SFP_BIN_DIR "/sfp-seed", "--scale", "demo", NULL};
    const char *seed_env[] = {g_env_db, "LOG_LEVEL=warn", NULL};
    if (run_quiet(seed, seed_env) != 0) return -1;

    const char *soda_env[] = {g_env_db, "SODA_TEST_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_soda, "sfp-soda-test-server", soda_env)) return -1;
    char soda[128];
    snprintf(soda, sizeof soda, "SODA_BASE_URL=http://127.0.0.1:%d/resource", g_soda.port);
    const char *renv[] = {g_env_db, soda, "LISTEN_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_report, "sfp-report", renv)) return -1;
    const char *benv[] = {g_env_db, "LISTEN_ADDR=127.0.0.1:0", "CRON_SECRET=" CRON_SECRET, NULL};
    if (sfp_proc_start(&g_brief, "sfp-brief", benv)) return -1;
    char brief[96], report[96], cron[96];
    snprintf(brief, sizeof brief, "BRIEF_SVC_ADDR=127.0.0.1:%d", g_brief.port);
    snprintf(report, sizeof report, "REPORT_SVC_ADDR=127.0.0.1:%d", g_report.port);
    const char *cenv[] = {g_env_db, soda, brief, "LISTEN_ADDR=127.0.0.1:0", "CRON_SECRET=" CRON_SECRET, NULL};
    if (sfp_proc_start(&g_cron, "sfp-cron", cenv)) return -1;
    snprintf(cron, sizeof cron, "CRON_SVC_ADDR=127.0.0.1:%d", g_cron.port);
    const char *henv[] = {g_env_db, report, brief, cron, "LISTEN_ADDR=127.0.0.1:0", NULL};
    if (sfp_proc_start(&g_health, "sfp-health", henv)) return -1;
    const sfp_proc *procs[4] = {&g_report, &g_brief, &g_cron, &g_health};
    for (int i = 0; i < 4; i++) snprintf(g_addr[i], sizeof g_addr[i], "127.0.0.1:%d", procs[i]->port);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/sfp-foreign-%s-%d", g_kind, (int)getpid());
    mkdir(g_tmp, 0700);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sfp_proc *procs[5] = {&g_health, &g_cron, &g_brief, &g_report, &g_soda};
    for (int i = 0; i < 5; i++)
        if (procs[i]->pid > 0 && sfp_proc_alive(procs[i])) sfp_proc_stop(procs[i], 15000);
    free(g_db);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) return -1;
    return 0;
}

/* Runs argv with the services' addresses in its environment; returns its pid. */
static pid_t spawn_client(const char *const *argv, const char *watch_file)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("SFP_ADDR_REPORT", g_addr[0], 1);
        setenv("SFP_ADDR_BRIEF", g_addr[1], 1);
        setenv("SFP_ADDR_CRON", g_addr[2], 1);
        setenv("SFP_ADDR_HEALTH", g_addr[3], 1);
        setenv("SFP_CRON_SECRET", CRON_SECRET, 1);
        setenv("SFP_DESCRIPTOR_SET", SFP_DESCRIPTOR_SET, 1);
        setenv("SFP_PROTO_DIRS", SFP_SOURCE_DIR "/proto:" SFP_GRPC_PROTO_DIR, 1);
        setenv("NODE_PATH", SFP_NODE_MODULES, 1);
        if (watch_file) setenv("SFP_WATCH_FILE", watch_file, 1);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "foreign_clients: cannot run %s\n", argv[0]);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void require_file(const char *path, const char *what)
{
    if (access(path, X_OK) != 0 && access(path, R_OK) != 0)
        fail_msg("%s not found at %s: run scripts/bootstrap (and ctest's e2e_npm_ci for npm tools)", what, path);
}

/* A client that calls everything and Watches: SIGTERM to sfp-report once it watches. */
static void run_watching_client(const char *const *argv)
{
    char watch_file[300];
    snprintf(watch_file, sizeof watch_file, "%s/watching", g_tmp);
    pid_t pid = spawn_client(argv, watch_file);
    assert_true(pid > 0);
    /* generous bound: the client first calls every RPC (cron jobs included) */
    if (!sfp_test_file_wait(watch_file, "watching", 240000)) {
        kill(pid, SIGKILL);
        wait_exit(pid);
        fail_msg("%s never reached its Watch (see its output above)", argv[1]);
    }
    int report_rc = sfp_proc_stop(&g_report, 15000);
    int rc = wait_exit(pid);
    assert_int_equal(rc, 0);
    if (report_rc != 0)
        fail_msg("sfp-report exit %d after SIGTERM with a watcher open (log %s)", report_rc, g_report.log_path);
}

static void test_python(void **state)
{
    (void)state;
    require_file("/usr/bin/python3", "Debian python3");
    const char *probe[] = {"/usr/bin/python3", "-c", "import grpc, google.protobuf", NULL};
    if (run_quiet(probe, NULL) != 0)
        fail_msg("/usr/bin/python3 cannot import grpc: run scripts/bootstrap (python3-grpcio)");
    const char *argv[] = {"/usr/bin/python3", SFP_SOURCE_DIR "/tests/e2e/clients/grpc_client.py", NULL};
    run_watching_client(argv);
}

static void test_node(void **state)
{
    (void)state;
    require_file(SFP_NODE, "node");
    require_file(SFP_NODE_MODULES "/@grpc/grpc-js/package.json", "@grpc/grpc-js");
    const char *argv[] = {SFP_NODE, SFP_SOURCE_DIR "/tests/e2e/clients/grpc_client.mjs", NULL};
    run_watching_client(argv);
}

/* buf curl --list-methods through reflection (v1 and v1alpha): every service of each process and
 * its methods; then one call (GetStats) whose schema buf takes from reflection alone. */
static void test_buf(void **state)
{
    (void)state;
    const char *buf = SFP_SOURCE_DIR "/tools/buf/node_modules/.bin/buf"; /* scripts/bootstrap */
    require_file(buf, "buf (npm @bufbuild/buf, installed by scripts/bootstrap)");
    static const char *const want[4][3] = {
        {"sfpermits.v1.ReportService/GetPropertyReport", "sfpermits.v1.ReportService/SearchParcels", NULL},
        {"sfpermits.v1.BriefService/GetBrief", "sfpermits.v1.BriefService/RefreshBrief", NULL},
        {"sfpermits.v1.CronService/RunNightly", "sfpermits.v1.CronService/GetStatus", NULL},
        {"sfpermits.v1.HealthService/GetHealth", NULL},
    };
    static const char *const common[] = {"grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch",
                                         "sfpermits.v1.Introspection/GetStats",
                                         "grpc.reflection.v1.ServerReflection/ServerReflectionInfo", NULL};
    for (int i = 0; i < 4; i++) {
        for (int v = 0; v < 2; v++) {
            char url[96], out[300], cmd[900];
            snprintf(url, sizeof url, "http://%s", g_addr[i]);
            snprintf(out, sizeof out, "%s/list-%d-%d", g_tmp, i, v);
            snprintf(cmd, sizeof cmd,
                     "'%s' curl --protocol grpc --http2-prior-knowledge --reflect-protocol %s "
                     "--list-methods '%s' > '%s' 2>&1",
                     buf, v ? "grpc-v1alpha" : "grpc-v1", url, out);
            int rc = system(cmd);
            FILE *f = fopen(out, "r");
            assert_non_null(f);
            char text[8192] = "";
            size_t n = fread(text, 1, sizeof text - 1, f);
            text[n] = '\0';
            fclose(f);
            if (rc != 0) fail_msg("buf curl --list-methods %s: exit %d: %s", url, rc, text);
            for (const char *const *m = want[i]; *m; m++)
                if (!strstr(text, *m)) fail_msg("buf curl --list-methods %s: no %s in:\n%s", url, *m, text);
            for (const char *const *m = common; *m; m++)
                if (!strstr(text, *m)) fail_msg("buf curl --list-methods %s: no %s in:\n%s", url, *m, text);
            printf("buf curl --list-methods %s (reflection %s): ok\n", url, v ? "v1alpha" : "v1");
        }
        /* and a call, its schema from reflection alone */
        char out[300], cmd[900];
        snprintf(out, sizeof out, "%s/call-%d", g_tmp, i);
        snprintf(cmd, sizeof cmd,
                 "'%s' curl --protocol grpc --http2-prior-knowledge -d '{}' "
                 "'http://%s/sfpermits.v1.Introspection/GetStats' > '%s' 2>&1",
                 buf, g_addr[i], out);
        int rc = system(cmd);
        FILE *f = fopen(out, "r");
        assert_non_null(f);
        char text[16384] = "";
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        if (rc != 0 || !strstr(text, "\"service\""))
            fail_msg("buf curl GetStats on %s: exit %d: %s", g_addr[i], rc, text);
        printf("buf curl %s/sfpermits.v1.Introspection/GetStats: ok\n", g_addr[i]);
    }
}

int main(int argc, char **argv)
{
    g_kind = argc > 1 ? argv[1] : "";
    struct CMUnitTest t[1];
    if (!strcmp(g_kind, "python")) t[0] = (struct CMUnitTest)cmocka_unit_test(test_python);
    else if (!strcmp(g_kind, "node")) t[0] = (struct CMUnitTest)cmocka_unit_test(test_node);
    else if (!strcmp(g_kind, "buf")) t[0] = (struct CMUnitTest)cmocka_unit_test(test_buf);
    else {
        fprintf(stderr, "usage: foreign_clients python|node|buf\n");
        return 2;
    }
    return cmocka_run_group_tests_name(g_kind, t, setup, teardown);
}
