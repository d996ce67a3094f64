/* metrics.h — Prometheus text exposition (format 0.0.4) for every process.
 *
 * A process registers collectors (callbacks that append their metric families to a buffer at
 * scrape time, reading live counters — nothing is copied between scrapes) and serves them on
 * METRICS_ADDR ("host:port", default 127.0.0.1:0 = any free port, logged as
 * {"msg":"metrics listening","port":N}; "off" disables; in Kubernetes 0.0.0.0:9464) at
 * GET /metrics. Process metrics (start time, RSS, open fds) are always included.
 *
 * Writers enforce the format: one # HELP and # TYPE per family before its samples, label
 * values escaped (\\, \", \n), histograms with cumulative le buckets in seconds, +Inf equal to
 * _count, _sum and _count; the body ends with a newline.
 *
 * Ownership: the registry copies nothing but pointers: collector `user` data must outlive the
 * registry (sfp_metrics_stop before freeing them). */
#ifndef SFP_METRICS_H
#define SFP_METRICS_H

#include <stdint.h>
#include "buf.h"
#include "histogram.h"
#include "sfp_err.h"

typedef void (*sfp_metrics_collect_fn)(sfp_buf *out, void *user);

typedef struct sfp_metrics sfp_metrics;

/* Reads METRICS_ADDR and starts serving (NULL + err on a bad address or bind failure; a
 * non-NULL registry that serves nothing when METRICS_ADDR=off). `svc` labels process metrics. */
sfp_metrics *sfp_metrics_start_from_env(const char *svc, sfp_err *err);
/* Adds a collector; call before traffic starts (collectors are read under a lock at scrape). */
void sfp_metrics_add(sfp_metrics *m, sfp_metrics_collect_fn fn, void *user);
int sfp_metrics_port(const sfp_metrics *m); /* 0 when off */
void sfp_metrics_stop(sfp_metrics *m);      /* stops serving and frees; NULL-safe */
/* The full exposition body (what GET /metrics returns), for tests. Caller frees. */
char *sfp_metrics_render(sfp_metrics *m, size_t *len);

/* ---- writers for collectors ---- */
/* type: "counter" | "gauge" | "histogram" */
void sfp_metrics_family(sfp_buf *out, const char *name, const char *type, const char *help);
/* labels: preformatted `k="v",k2="v2"` (values escaped with sfp_metrics_label) or NULL. */
void sfp_metrics_sample(sfp_buf *out, const char *name, const char *labels, double value);
/* Appends `key="escaped value"` (with a leading comma when `out` already ends a label). */
void sfp_metrics_label(sfp_buf *out, const char *key, const char *value);
/* Buckets, _sum and _count of an sfp_hist (milliseconds) exported in seconds. */
void sfp_metrics_histogram(sfp_buf *out, const char *name, const char *labels, const sfp_hist *h);

#endif
