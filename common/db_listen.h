/* db_listen.h — a background LISTEN on one Postgres channel, over a dedicated connection
 * opened with a pool's settings (sfp_pool_connect_dedicated) but never part of the pool.
 *
 * The callback runs on the listener's own thread:
 *   SFP_LISTEN_UP      connected and LISTEN succeeded (first time and after every reconnect);
 *   SFP_LISTEN_NOTIFY  one notification on the channel (payload, never NULL);
 *   SFP_LISTEN_DOWN    the connection was lost (or could not be made): notifications sent
 *                      until the next UP are missed, so whoever caches must stop trusting
 *                      its cache until then.
 * Reconnects with the pool's back-off (DB_RECONNECT_MIN_MS doubling to DB_RECONNECT_MAX_MS, with
 * jitter; one log line when lost, one when back). A silently dead TCP peer is caught by the
 * pool's keepalives plus a `SELECT 1` after 30 s without traffic.
 *
 * Ownership: the caller owns the listener (sfp_db_listen_stop joins the thread and closes the
 * connection); the pool must outlive it. */
#ifndef SFP_DB_LISTEN_H
#define SFP_DB_LISTEN_H

#include "db_pool.h"

typedef enum { SFP_LISTEN_UP = 0, SFP_LISTEN_NOTIFY, SFP_LISTEN_DOWN } sfp_listen_event;
typedef void (*sfp_listen_fn)(void *user, sfp_listen_event ev, const char *payload);

typedef struct sfp_db_listener sfp_db_listener;

/* channel: a plain identifier ([a-z_][a-z0-9_]*); role names the connection in
 * pg_stat_activity: application_name "<the pool's application_name>-<role>" (NULL = "listen").
 * Returns NULL only for a bad channel name. Never blocks on the database. */
sfp_db_listener *sfp_db_listen_start(sfp_pool *pool, const char *channel, const char *role, sfp_listen_fn fn,
                                     void *user);
void sfp_db_listen_stop(sfp_db_listener *l); /* NULL-safe */

#endif
