/* config.h — environment configuration with validation. Every getter names the variable in
 * its error so a service can refuse to start with a clear message. Pure parsers are exposed
 * for unit tests. */
#ifndef SFP_CONFIG_H
#define SFP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "sfp_err.h"

/* Pure parsers: return 0 and set *out, or -1 (err names `name`). */
int sfp_parse_long(const char *name, const char *s, long min, long max, long *out, sfp_err *err);
int sfp_parse_bool(const char *name, const char *s, bool *out,
                   sfp_err *err); /* 1/true/yes/on, 0/false/no/off; case-insensitive */
/* Listen/peer address: "host:port" (port 0..65535, host may be [v6]) or "unix:/abs/path". */
int sfp_parse_addr(const char *name, const char *s, sfp_err *err);
/* gRPC dial target: an address as above, or "dns:///host:port" / "dns://dns-server[:port]/host:port"
 * — a name the client resolves itself, so it sees every address behind it (every pod of a
 * Kubernetes headless Service) and spreads calls over them round-robin. */
int sfp_parse_target(const char *name, const char *s, sfp_err *err);

/* Kinds of configuration values (config_vars.h). */
typedef enum sfp_cfg_kind {
    SFP_CFG_INT,        /* integer in [min, max] */
    SFP_CFG_BOOL,       /* 1/true/yes/on, 0/false/no/off */
    SFP_CFG_TEXT,       /* any text without line breaks */
    SFP_CFG_SECRET,     /* text, redacted in --print-config */
    SFP_CFG_DB_URL,     /* libpq URI or key=value string; its password redacted in --print-config */
    SFP_CFG_ADDR,       /* host:port, [v6]:port or unix:/path */
    SFP_CFG_ADDR_OFF,   /* an address or "off" */
    SFP_CFG_DURATION,   /* ms: 30000, 500ms, 30s, 2min (at most 24 h) */
    SFP_CFG_PG_SIZE,    /* Postgres memory size: digits + kB|MB|GB */
    SFP_CFG_LOG_LEVEL,  /* debug, info, warn, error */
    SFP_CFG_TZ,         /* a zone in /usr/share/zoneinfo, or a POSIX TZ string */
    SFP_CFG_HTTP_URL,   /* http:// or https:// URL */
    SFP_CFG_IP_LIST,    /* comma-separated IPv4/IPv6 addresses */
    SFP_CFG_TARGET,     /* a gRPC dial target: an address or dns:[//server]/host:port */
    SFP_CFG_TARGET_OFF, /* a dial target or "off" */
} sfp_cfg_kind;

/* The binaries (BINARIES and REQUIRED_IN masks of config_vars.h). */
typedef enum sfp_binary {
    SFP_B_GATEWAY = 1 << 0,
    SFP_B_REPORT = 1 << 1,
    SFP_B_BRIEF = 1 << 2,
    SFP_B_CRON = 1 << 3,
    SFP_B_HEALTH = 1 << 4,
    SFP_B_CRONCTL = 1 << 5,
    SFP_B_MIGRATE = 1 << 6,
    SFP_B_SEED = 1 << 7,
    SFP_B_SODA_TEST = 1 << 8,
} sfp_binary;
const char *sfp_binary_name(sfp_binary b); /* "sfp-report", ... */

/* Table-driven getters (config_vars.h): unset or empty → the table's default; a bad value →
 * -1 with err naming the variable. A name missing from the table is a programming error:
 * the process aborts with a message saying so. */
int sfp_cfg_int(const char *name, int *out, sfp_err *err);
int sfp_cfg_long(const char *name, long *out, sfp_err *err);
int sfp_cfg_bool(const char *name, bool *out, sfp_err *err);
/* Text kinds (text, secret, URLs, addresses, sizes, ...): *out = the value, the default, or
 * NULL when neither; checked by kind. *out points into the environment or the table. */
int sfp_cfg_text(const char *name, const char **out, sfp_err *err);
/* SFP_CFG_DURATION in milliseconds. */
int sfp_cfg_duration_ms(const char *name, int *out, sfp_err *err);
/* LISTEN_ADDR of a service binary (its own default when unset). */
int sfp_cfg_listen_addr(sfp_binary b, const char **out, sfp_err *err);

/* --print-config shows a SFP_CFG_DB_URL value through this function (value → out, at most n
 * bytes with the NUL), installed by the database library (db_url.h: sfp_db_config_init) so
 * that this module needs no libpq; without one the whole value is shown as "(redacted)". */
typedef void (*sfp_cfg_redact_fn)(const char *value, char *out, size_t n);
void sfp_config_set_db_url_redactor(sfp_cfg_redact_fn fn);

/* What every main calls first. Handles --help (usage + the binary's variables on stdout)
 * and --print-config (the effective configuration as JSON, secrets redacted), then checks
 * every variable of the binary (a required one missing or any bad value refuses start-up).
 * `args` is the usage of the binary's own arguments ("" when it takes none: then any other
 * argument is a usage error). Returns -1 to go on, or the exit code to exit with: 0 after
 * --help/--print-config, 2 on a usage or configuration error (printed, naming the variable). */
int sfp_config_start(sfp_binary b, const char *args, const char *summary, int argc, char **argv);
/* Checks every variable of b without printing; 0 or -1 with err. */
int sfp_config_check(sfp_binary b, sfp_err *err);

/* Whole-table documents (sfp-config-doc): the README's environment table (markdown) and a
 * JSON schema (the k8s validator reads it). */
void sfp_config_write_markdown(FILE *f);
void sfp_config_write_schema(FILE *f);

/* Default addresses of the services (also in config_vars.h). */
#define SFP_DEFAULT_REPORT_ADDR "127.0.0.1:50051"
#define SFP_DEFAULT_BRIEF_ADDR "127.0.0.1:50052"
#define SFP_DEFAULT_CRON_ADDR "127.0.0.1:50053"
#define SFP_DEFAULT_HEALTH_ADDR "127.0.0.1:50054"
#define SFP_DEFAULT_GATEWAY_ADDR "127.0.0.1:8080"

#ifndef SFP_VERSION /* the build defines it from project(VERSION) of CMakeLists.txt, and only there */
#error "SFP_VERSION is not defined: build with CMake (project(VERSION))"
#endif

/* The env every gRPC service reads: LISTEN_ADDR (default per service), RPC_WORKERS (8, 1..256:
 * concurrent calls), SHUTDOWN_GRACE_MS (10000: how long SIGTERM waits for in-flight calls). */
typedef struct sfp_service_env {
    const char *listen_addr;
    int workers;
    int drain_ms;
} sfp_service_env;
int sfp_service_env_load(sfp_service_env *e, sfp_binary b, sfp_err *err);

#endif
