/* gw_front.h — the gateway's front door: the listening socket, the connection caps and the
 * request-head deadline, in front of libmicrohttpd.
 *
 * One thread accepts every connection and watches it (epoll, edge-triggered) until the first
 * request head has fully arrived; it reads nothing — it only peeks, so libmicrohttpd later reads
 * the same bytes — and runs the strict head check (gw_head.h) on what it sees. Then:
 *   - more than max_connections connections open      → 503 JSON at once, connection closed
 *   - more than max_per_client from one peer address  → 429 JSON at once, connection closed
 *     (peers listed in GATEWAY_TRUSTED_PROXIES are exempt: many clients share them)
 *   - a malformed head (gw_head.h)                    → 400/414/431/501/505 JSON at once,
 *     connection closed — as soon as the offending byte arrives, so garbage is never held
 *   - no complete head within head_timeout_ms of the accept → connection closed
 *   - a complete, valid head                          → handed to libmicrohttpd (handoff)
 * So a client dripping a request head (slowloris) holds a file descriptor and ~100 bytes,
 * never an HTTP worker, and loses the connection at the head deadline.
 *
 * After the handoff libmicrohttpd owns the connection; the server reports its life through
 * the gw_front_conn_* hooks (from libmicrohttpd's threads), and the front's thread closes a
 * connection (shutdown(2); libmicrohttpd then sees EOF and cleans up) when a keep-alive request
 * misses its deadlines: its request line must arrive within idle_timeout_ms of the previous
 * response (absolute — dripping bytes does not extend it), and the rest of its head within
 * head_timeout_ms of its request line.
 *
 * Refused connections get their answer, a write shutdown and up to 1 s to close their side
 * (so the answer is not lost to a reset); at most 1024 of those are kept, beyond that they are
 * closed at once. A summary line is logged at most every 10 s while refusals happen (never one
 * line per refused connection).
 *
 * Ownership: gw_front owns the listening socket, its thread, every record and every socket it
 * has not handed over; libmicrohttpd owns (and closes) handed-over sockets. Records of
 * handed-over connections are freed by gw_front_conn_closed. Thread-safe (one mutex). */
#ifndef GW_FRONT_H
#define GW_FRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "gw_head.h"
#include "sfp_err.h"

typedef struct gw_front gw_front;
typedef struct gw_conn gw_conn;

typedef struct gw_front_config {
    const char *host; /* listen address (numeric or name) */
    int port;         /* 0 = any free port */
    int max_connections;
    int max_per_client; /* 0 = no per-client cap */
    int head_timeout_ms;
    int idle_timeout_ms;
    gw_head_limits limits;
    const char *trusted_proxies; /* comma-separated IPs, "" = none */
} gw_front_config;

/* Hands a connection with a complete head to the HTTP layer; 0 on success. On failure the
 * callee has closed fd. */
typedef int (*gw_front_handoff_fn)(void *user, int fd, const struct sockaddr *sa, socklen_t salen);

/* Binds and listens (backlog 4096); raises RLIMIT_NOFILE's soft limit towards what
 * max_connections needs (lowering the effective cap, with a warning, when the hard limit is too
 * low). NULL + err (exit 1) when the address cannot be bound. */
gw_front *gw_front_create(const gw_front_config *cfg, sfp_err *err);
int gw_front_port(const gw_front *f);
int gw_front_effective_cap(const gw_front *f);
/* Starts the accept thread. */
int gw_front_start(gw_front *f, gw_front_handoff_fn handoff, void *user);
/* Stops accepting: the listening socket is closed (the port is free at once) and connections
 * whose head has not arrived are closed. Idempotent. */
void gw_front_stop_accepting(gw_front *f);
/* Frees everything; the HTTP layer must have been stopped (every handed-over connection closed). */
void gw_front_destroy(gw_front *f);

/* Connections open now (waiting for a head + handed over). */
int gw_front_connections(gw_front *f);

/* ---- hooks called by the HTTP layer (any of its threads) ---- */
/* A handed-over connection started (fd from libmicrohttpd); returns its record or NULL. */
gw_conn *gw_front_conn_started(gw_front *f, int fd);
/* It is about to be closed (its socket is still open); frees the record. NULL-safe. */
void gw_front_conn_closed(gw_front *f, gw_conn *c);
void gw_front_conn_request_line(gw_front *f, gw_conn *c); /* a request line was parsed */
void gw_front_conn_head_done(gw_front *f, gw_conn *c);    /* its head is complete */
void gw_front_conn_request_done(gw_front *f, gw_conn *c); /* its response was sent */

/* Counters since start (for logs and tests). */
typedef struct gw_front_stats {
    uint64_t accepted, refused_total_cap, refused_client_cap, bad_heads, head_timeouts, keepalive_timeouts;
} gw_front_stats;
void gw_front_get_stats(gw_front *f, gw_front_stats *out);

/* Canned error response of the front (also used for tests): writes at most cap bytes of
 * "HTTP/1.1 <status> ...\r\n...\r\n\r\n<json>" with Connection: close into out and returns the
 * length (0 when it does not fit). */
size_t gw_front_error_response(int status, const char *reason, const char *request_id, double ms, char *out,
                               size_t cap);

#endif
