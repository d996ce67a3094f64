/* config_vars.h — THE table of every environment variable the suite reads: one row each,
 * with its kind, default, range, the binaries that read it and a one-line meaning.
 *
 * Everything else comes from this table: each binary's start-up validation and refusal
 * (exit 2 naming the variable), `--help`, `--print-config` (JSON, secrets redacted), the
 * typed getters in config.h (a getter for a name missing here aborts), the README's
 * environment table (`sfp-config-doc --markdown`, checked by ctest) and the schema the k8s
 * validator reads (`sfp-config-doc --json`).
 *
 * X(NAME, KIND, DEFAULT_TEXT, DEFAULT_NUMBER, MIN, MAX, BINARIES, REQUIRED_IN, DOC)
 *   KIND            SFP_CFG_* (config.h): how the value is parsed and checked
 *   DEFAULT_TEXT    default of a text kind (NULL: unset); NULL for numbers and booleans
 *   DEFAULT_NUMBER  default of SFP_CFG_INT (and of SFP_CFG_BOOL: 0/1)
 *   MIN, MAX        inclusive range of SFP_CFG_INT
 *   BINARIES        SFP_B_* mask of the binaries that read it
 *   REQUIRED_IN     SFP_B_* mask of the binaries that refuse to start without it
 * Adding a variable: one row here, then read it with the getter of its kind. */
#ifndef SFP_CONFIG_VARS_H
#define SFP_CONFIG_VARS_H

/* clang-format off */
#define SFP_SERVICES (SFP_B_REPORT | SFP_B_BRIEF | SFP_B_CRON | SFP_B_HEALTH)
#define SFP_SERVERS (SFP_SERVICES | SFP_B_GATEWAY)
#define SFP_DB_USERS (SFP_SERVICES | SFP_B_MIGRATE | SFP_B_SEED)
#define SFP_ALL_BINARIES (SFP_SERVERS | SFP_B_CRONCTL | SFP_B_MIGRATE | SFP_B_SEED | SFP_B_SODA_TEST)
#define SFP_SODA_USERS (SFP_B_REPORT | SFP_B_CRON)

#define SFP_CONFIG_VARS(X) \
    X(DATABASE_URL, SFP_CFG_DB_URL, NULL, 0, 0, 0, SFP_DB_USERS | SFP_B_SODA_TEST, SFP_DB_USERS, \
      "libpq URI or key=value string (its password is redacted in --print-config); sfp-soda-test-server serves generated data without it") \
    X(DB_POOL_MIN, SFP_CFG_INT, NULL, 2, 0, 1000, SFP_SERVICES, 0, "connections kept open per process") \
    X(DB_POOL_MAX, SFP_CFG_INT, NULL, 20, 1, 1000, SFP_SERVICES, 0, \
      "connections per process at most. Raise it for more than ~50 concurrent users, and keep DB_POOL_MAX x replicas below Postgres max_connections (or put PgBouncer in front)") \
    X(DB_CONNECT_TIMEOUT, SFP_CFG_INT, NULL, 10, 1, 300, SFP_SERVICES, 0, "seconds to open a connection") \
    X(DB_STATEMENT_TIMEOUT, SFP_CFG_DURATION, "30s", 0, 0, 0, SFP_SERVICES, 0, "per statement (30000, 30s, 500ms, 2min)") \
    X(DB_ACQUIRE_TIMEOUT, SFP_CFG_INT, NULL, 5000, 1, 600000, SFP_SERVICES, 0, "ms to wait for a free connection before UNAVAILABLE") \
    X(DB_IDLE_CHECK, SFP_CFG_INT, NULL, 30, 0, 86400, SFP_SERVICES, 0, "a connection idle longer than this (s) is checked with SELECT 1 on checkout") \
    X(DB_RECONNECT_MIN_MS, SFP_CFG_INT, NULL, 50, 1, 10000, SFP_SERVICES, 0, "Postgres outage back-off: first retry delay (ms), doubling with jitter (a delay is drawn from [step/2, step]) up to DB_RECONNECT_MAX_MS; meanwhile requests without an idle connection fail at once (UNAVAILABLE) and only one probe at a time connects") \
    X(DB_RECONNECT_MAX_MS, SFP_CFG_INT, NULL, 800, 1, 60000, SFP_SERVICES, 0, "cap of that back-off (ms, at least DB_RECONNECT_MIN_MS): it bounds the probe rate (about 2.5 connects/s per process) and how late recovery is noticed, so 200s are back within 1 s of Postgres accepting connections") \
    X(LISTEN_ADDR, SFP_CFG_ADDR, NULL, 0, 0, 0, SFP_SERVICES, 0, \
      "host:port or unix:/path the service listens on; default per service: report 127.0.0.1:50051, brief :50052, cron :50053, health :50054; port 0 picks a free port (logged)") \
    X(RPC_WORKERS, SFP_CFG_INT, NULL, 8, 1, 256, SFP_SERVICES, 0, "concurrent calls per process") \
    X(RPC_MAX_STREAMS, SFP_CFG_INT, NULL, 100, 1, 10000, SFP_SERVICES, 0, "open streaming calls per process at most (grpc.health.v1 Health/Watch watchers and server reflection streams; they hold no worker); one more is refused with RESOURCE_EXHAUSTED. SIGTERM ends them: watchers get NOT_SERVING, then OK") \
    X(SHUTDOWN_GRACE_MS, SFP_CFG_INT, NULL, 10000, 0, 600000, SFP_SERVERS, 0, "SIGTERM drain: in-flight calls and requests get this long; then a service cancels its in-flight SODA transfers and SQL statements (PQcancel) with the calls and is gone within grace + 500 ms (exit 0 after a clean drain, 1 when calls had to be cancelled)") \
    X(METRICS_ADDR, SFP_CFG_ADDR_OFF, "127.0.0.1:0", 0, 0, 0, SFP_SERVERS, 0, \
      "Prometheus /metrics listener (host:port; port 0 = any free port, logged as metrics listening; off disables; Kubernetes uses 0.0.0.0:9464)") \
    X(LOG_LEVEL, SFP_CFG_LOG_LEVEL, "info", 0, 0, 0, SFP_ALL_BINARIES, 0, "debug, info, warn, error") \
    X(TZ, SFP_CFG_TZ, NULL, 0, 0, 0, SFP_SERVICES | SFP_B_SEED, 0, \
      "time zone of \"today\" (permit expiry, brief lookbacks, the nightly's days); set America/Los_Angeles in production; unset = the system's") \
    X(REPORT_SVC_ADDR, SFP_CFG_TARGET_OFF, "127.0.0.1:50051", 0, 0, 0, SFP_B_GATEWAY | SFP_B_HEALTH, 0, \
      "where sfp-report is: host:port, or dns:///name:port to spread calls round-robin over every address of name (a Kubernetes headless Service); in sfp-health, off = not checked (the gateway needs an address)") \
    X(BRIEF_SVC_ADDR, SFP_CFG_TARGET_OFF, "127.0.0.1:50052", 0, 0, 0, SFP_B_GATEWAY | SFP_B_CRON | SFP_B_HEALTH, 0, \
      "where sfp-brief is (host:port or dns:///name:port, round-robin over its addresses); in sfp-cron (compute-caches warms through it) and sfp-health, off = none (the gateway needs an address)") \
    X(CRON_SVC_ADDR, SFP_CFG_TARGET_OFF, "127.0.0.1:50053", 0, 0, 0, SFP_B_GATEWAY | SFP_B_CRONCTL | SFP_B_HEALTH, 0, \
      "where sfp-cron is (host:port or dns:///name:port, round-robin over its addresses); in sfp-health, off = not checked (the gateway and sfp-cronctl need an address)") \
    X(HEALTH_SVC_ADDR, SFP_CFG_TARGET, "127.0.0.1:50054", 0, 0, 0, SFP_B_GATEWAY, 0, "where sfp-health is (host:port or dns:///name:port)") \
    X(HEALTH_PEER_TIMEOUT_MS, SFP_CFG_INT, NULL, 500, 10, 10000, SFP_B_HEALTH, 0, "deadline for each peer's Introspection call") \
    X(BRIEF_CACHE_TTL_MINUTES, SFP_CFG_INT, NULL, 30, 0, 1440, SFP_B_BRIEF, 0, "page_cache TTL of a brief (brief:{user_id}:{lookback}); 0 = no caching") \
    X(BRIEF_DEGRADED_TTL_MINUTES, SFP_CFG_INT, NULL, 1, 0, 1440, SFP_B_BRIEF, 0, "TTL of a brief with degraded sections (warnings), capped by BRIEF_CACHE_TTL_MINUTES") \
    X(BRIEF_REFRESH_INTERVAL_S, SFP_CFG_INT, NULL, 300, 0, 86400, SFP_B_BRIEF, 0, "at most one POST /brief/refresh per user per interval (state in Postgres)") \
    X(BRIEF_STATEMENT_TIMEOUT_MS, SFP_CFG_INT, NULL, 10000, 100, 600000, SFP_B_BRIEF, 0, "longest a brief computation may run when the call's deadline is later") \
    X(BRIEF_MEMORY_CACHE_ENTRIES, SFP_CFG_INT, NULL, 256, 0, 100000, SFP_B_BRIEF, 0, \
      "briefs (~100 KB each) also kept in sfp-brief's memory and served without a query while their page_cache row is live; dropped on any replica's invalidation (LISTEN sfp_page_cache); 0 = every cached brief is read from Postgres") \
    X(BRIEF_AUTH_CACHE_MS, SFP_CFG_INT, NULL, 5000, 0, 60000, SFP_B_BRIEF, 0, \
      "a verified bearer token is remembered this long in memory; a revoked token is refused at most this late; 0 = Postgres on every call") \
    X(CRON_SECRET, SFP_CFG_SECRET, NULL, 0, 0, 0, SFP_B_BRIEF | SFP_B_CRON | SFP_B_CRONCTL, 0, \
      "bearer secret of every cron job call (constant-time compare; unset/empty = every job call is refused); in sfp-brief it lets compute-caches warm a user's brief (authorization + x-sfp-user-id, never forwarded by the gateway)") \
    X(CRON_STUCK_MINUTES, SFP_CFG_INT, NULL, 60, 1, 10080, SFP_B_CRON, 0, "cron_log rows still running after this long are marked failed at the start of any job") \
    X(CRON_JOB_TIMEOUT_S, SFP_CFG_INT, NULL, 300, 1, 3600, SFP_B_CRON, 0, "run limit of signals, velocity-refresh, compute-caches; the call's deadline (minus 1 s) lowers it") \
    X(CRON_NIGHTLY_TIMEOUT_S, SFP_CFG_INT, NULL, 480, 1, 3600, SFP_B_CRON, 0, "run limit of nightly; the call's deadline (minus 1 s) lowers it") \
    X(CRON_CACHES_CONCURRENCY, SFP_CFG_INT, NULL, 4, 1, 32, SFP_B_CRON, 0, "parallel brief computations of compute-caches") \
    X(CRON_BRIEF_TIMEOUT_MS, SFP_CFG_INT, NULL, 30000, 100, 300000, SFP_B_CRON, 0, "deadline of each per-user GetBrief call of compute-caches") \
    X(CRON_PURGE_GRACE_MINUTES, SFP_CFG_INT, NULL, 0, 0, 10080, SFP_B_CRON, 0, "compute-caches deletes page_cache rows dead (expired or invalidated) for longer than this") \
    X(CRON_WORK_MEM, SFP_CFG_PG_SIZE, "128MB", 0, 0, 0, SFP_B_CRON, 0, "work_mem of the jobs' transactions (a Postgres size: kB, MB, GB)") \
    X(CRON_NIGHTLY_PAGE_SIZE, SFP_CFG_INT, NULL, 10000, 1, 50000, SFP_B_CRON, 0, "SODA $limit of the nightly ingest") \
    X(CRON_NIGHTLY_RETRIES, SFP_CFG_INT, NULL, 3, 0, 10, SFP_B_CRON, 0, "retries of a failed SODA page") \
    X(CRON_NIGHTLY_RETRY_BASE_MS, SFP_CFG_INT, NULL, 2000, 0, 60000, SFP_B_CRON, 0, "back-off base of those retries (2 s, 4 s, 8 s; at least the server's Retry-After)") \
    X(POD_NAME, SFP_CFG_TEXT, NULL, 0, 0, 0, SFP_B_CRON, 0, "name recorded as the worker of cron_log rows (Kubernetes sets it; else HOSTNAME)") \
    X(HOSTNAME, SFP_CFG_TEXT, NULL, 0, 0, 0, SFP_B_CRON, 0, "fallback worker name of cron_log rows") \
    X(REPORT_NEARBY_LIMIT, SFP_CFG_INT, NULL, 10, 0, 50, SFP_B_REPORT, 0, "nearby-activity rows (0 = none)") \
    X(REPORT_STATEMENT_TIMEOUT_MS, SFP_CFG_INT, NULL, 10000, 100, 600000, SFP_B_REPORT, 0, "longest the report's SQL may run when the call's deadline is later") \
    X(REPORT_SODA_BUDGET_MS, SFP_CFG_INT, NULL, 2500, 100, 600000, SFP_B_REPORT, 0, "longest the report waits for SODA; it always ends at least 300 ms before the call's deadline. 2.5 s because the report is a web page: an answer at ~3 s with one section marked unavailable beats one at 10 s, and a healthy SODA answers a parcel query well under a second. The wait holds no RPC worker (the SODA client's thread completes the call), so a hung SODA delays only the reports that need it") \
    X(REPORT_CACHE_TTL_S, SFP_CFG_INT, NULL, 300, 0, 86400, SFP_B_REPORT, 0, \
      "assembled-report cache: longest life of an entry (0 = off); an entry also ends when its SODA sources' entries would expire, at midnight, and on any write to a table the report reads (NOTIFY sfp_data_changed on one extra connection per process); while that connection is down the cache is bypassed") \
    X(REPORT_CACHE_MAX_ENTRIES, SFP_CFG_INT, NULL, 512, 1, 100000, SFP_B_REPORT, 0, "LRU bound of that cache (~10 KB per typical parcel, ~80 KB for a 50-permit one)") \
    X(SODA_BASE_URL, SFP_CFG_HTTP_URL, "https://data.sfgov.org/resource", 0, 0, 0, SFP_SODA_USERS, 0, "Socrata endpoint root (http or https)") \
    X(SODA_APP_TOKEN, SFP_CFG_SECRET, NULL, 0, 0, 0, SFP_SODA_USERS, 0, "sent as X-App-Token, never logged") \
    X(SODA_TIMEOUT_MS, SFP_CFG_INT, NULL, 10000, 100, 600000, SFP_SODA_USERS, 0, "per-request limit") \
    X(SODA_CONNECT_TIMEOUT_MS, SFP_CFG_INT, NULL, 3000, 50, 60000, SFP_SODA_USERS, 0, "connect limit") \
    X(SODA_MAX_RESPONSE_BYTES, SFP_CFG_INT, NULL, 33554432, 1024, 1073741824, SFP_SODA_USERS, 0, "larger responses are refused") \
    X(SODA_CB_THRESHOLD, SFP_CFG_INT, NULL, 5, 1, 1000, SFP_SODA_USERS, 0, "the breaker opens after this many consecutive counted failures (timeouts, connect errors, 5xx, 429)") \
    X(SODA_CB_TIMEOUT, SFP_CFG_INT, NULL, 60, 1, 86400, SFP_SODA_USERS, 0, "seconds the breaker stays open") \
    X(SODA_CB_HALF_OPEN_PROBES, SFP_CFG_INT, NULL, 3, 1, 100, SFP_SODA_USERS, 0, "concurrent probe calls when half-open") \
    X(SODA_CB_HALF_OPEN_MAX_WAIT, SFP_CFG_INT, NULL, 30, 1, 86400, SFP_SODA_USERS, 0, "a probe that never reports is dropped after this many seconds") \
    X(SODA_CACHE_TTL, SFP_CFG_INT, NULL, 900, 0, 86400, SFP_SODA_USERS, 0, "response cache freshness (s)") \
    X(SODA_CACHE_MAX_ENTRIES, SFP_CFG_INT, NULL, 10000, 1, 10000000, SFP_SODA_USERS, 0, "response cache size (LRU)") \
    X(SODA_CACHE_STALE_MAX, SFP_CFG_INT, NULL, 86400, 0, 2592000, SFP_SODA_USERS, 0, "how long past expiry an entry may be served as stale when SODA fails (s)") \
    X(SODA_TEST_ADDR, SFP_CFG_ADDR, "127.0.0.1:0", 0, 0, 0, SFP_B_SODA_TEST, 0, "where sfp-soda-test-server listens") \
    X(GATEWAY_ADDR, SFP_CFG_ADDR, "127.0.0.1:8080", 0, 0, 0, SFP_B_GATEWAY, 0, "host:port or [v6]:port the gateway listens on; port 0 picks a free port (logged)") \
    X(CRON_WORKER, SFP_CFG_BOOL, NULL, 0, 0, 1, SFP_B_GATEWAY, 0, "serve POST /cron/* on this gateway (1/true/yes/on, 0/false/no/off)") \
    X(GATEWAY_MAX_URL, SFP_CFG_INT, NULL, 2048, 64, 65536, SFP_B_GATEWAY, 0, "longest request target (path + query) in bytes; longer = 414") \
    X(GATEWAY_MAX_HEADER_BYTES, SFP_CFG_INT, NULL, 4096, 1024, 1048576, SFP_B_GATEWAY, 0, \
      "request line + all header lines in bytes; more = 431. Also sizes each connection's memory pool (this + 2 KiB), committed for every keep-alive connection") \
    X(GATEWAY_MAX_BODY, SFP_CFG_INT, NULL, 65536, 0, 16777216, SFP_B_GATEWAY, 0, "request body bytes; more = 413") \
    X(GATEWAY_MAX_CONNECTIONS, SFP_CFG_INT, NULL, 10000, 1, 1000000, SFP_B_GATEWAY, 0, \
      "open connections in all; beyond it 503 JSON and closed (the soft RLIMIT_NOFILE is raised as far as allowed, else the cap is lowered with a warning)") \
    X(GATEWAY_MAX_CONNECTIONS_PER_CLIENT, SFP_CFG_INT, NULL, 256, 0, 1000000, SFP_B_GATEWAY, 0, \
      "open connections per client address (0 = no cap); beyond it 429 JSON and closed; GATEWAY_TRUSTED_PROXIES are exempt") \
    X(GATEWAY_HEAD_TIMEOUT_MS, SFP_CFG_INT, NULL, 10000, 100, 600000, SFP_B_GATEWAY, 0, \
      "a request head must be complete within this of the connection opening (first request) or of its request line (later ones), else the connection is closed; dripping bytes does not extend it") \
    X(GATEWAY_THREADS, SFP_CFG_INT, NULL, 0, 0, 64, SFP_B_GATEWAY, 0, "HTTP worker threads (epoll thread pool); 0 = one per CPU, at least 2; handlers never block") \
    X(GATEWAY_TIMEOUT_MS, SFP_CFG_INT, NULL, 5000, 1, 30000, SFP_B_GATEWAY, 0, "default gRPC deadline of a route that sets none") \
    X(GATEWAY_IDLE_TIMEOUT, SFP_CFG_INT, NULL, 60, 1, 3600, SFP_B_GATEWAY, 0, "seconds an idle keep-alive connection is kept; its next request line must arrive within this of the previous response") \
    X(GATEWAY_REPORT_RATE_LIMIT, SFP_CFG_INT, NULL, 10, 0, 100000, SFP_B_GATEWAY, 0, "/report requests per client per window (0 disables)") \
    X(GATEWAY_REPORT_RATE_WINDOW, SFP_CFG_INT, NULL, 60, 1, 86400, SFP_B_GATEWAY, 0, "that window in seconds") \
    X(GATEWAY_JSON_CACHE_ENTRIES, SFP_CFG_INT, NULL, 256, 0, 100000, SFP_B_GATEWAY, 0, \
      "rendered report/brief JSON kept by ETag (LRU; 0 disables: every response is encoded afresh)") \
    X(GATEWAY_JSON_CACHE_MB, SFP_CFG_INT, NULL, 64, 1, 4096, SFP_B_GATEWAY, 0, \
      "bound of that cache in MiB; a JSON larger than a quarter of it is not kept") \
    X(GATEWAY_TRUSTED_PROXIES, SFP_CFG_IP_LIST, "", 0, 0, 0, SFP_B_GATEWAY, 0, \
      "comma-separated proxy IP addresses whose X-Forwarded-For is believed for the client address (empty: none)") \
    X(GATEWAY_CORS_ORIGINS, SFP_CFG_TEXT, "", 0, 0, 0, SFP_B_GATEWAY, 0, \
      "comma-separated origins (http(s)://host[:port], exact) allowed cross-origin requests; empty: CORS off")
/* clang-format on */

#endif
