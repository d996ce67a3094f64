#include "log.h"
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static char g_svc[64] = "sfp";
static _Atomic int g_level = SFP_INFO;
static _Thread_local char t_request_id[129];

static const char *level_name(sfp_log_level l)
{
    switch (l) {
    case SFP_DEBUG: return "debug";
    case SFP_INFO: return "info";
    case SFP_WARN: return "warn";
    default: return "error";
    }
}

void sfp_log_init(const char *svc)
{
    snprintf(g_svc, sizeof g_svc, "%s", svc ? svc : "sfp");
    const char *lv = NULL;
    sfp_err err = {0};
    if (sfp_cfg_text("LOG_LEVEL", &lv, &err) == 0 && lv) { /* invalid: refused by sfp_config_start */
        if (!strcasecmp(lv, "debug")) g_level = SFP_DEBUG;
        else if (!strcasecmp(lv, "info")) g_level = SFP_INFO;
        else if (!strcasecmp(lv, "warn") || !strcasecmp(lv, "warning")) g_level = SFP_WARN;
        else if (!strcasecmp(lv, "error")) g_level = SFP_ERROR;
    }
}

void sfp_log_set_level(sfp_log_level lvl)
{
    g_level = (int)lvl;
}

bool sfp_log_enabled(sfp_log_level lvl)
{
    return (int)lvl >= g_level;
}

void sfp_log_set_request_id(const char *id)
{
    snprintf(t_request_id, sizeof t_request_id, "%s", id ? id : "");
}

const char *sfp_log_request_id(void)
{
    return t_request_id[0] ? t_request_id : NULL;
}

void sfp_log_kv(sfp_log_level lvl, const char *msg, const sfp_kv *fields)
{
    if (!sfp_log_enabled(lvl)) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tbuf[40];
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);

    sfp_buf b;
    sfp_buf_init(&b);
    sfp_buf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"svc\":", tbuf, ts.tv_nsec / 1000000L, level_name(lvl));
    sfp_buf_json_str(&b, g_svc);
    sfp_buf_puts(&b, ",\"msg\":");
    sfp_buf_json_str(&b, msg);
    for (const sfp_kv *f = fields; f && f->k; f++) {
        sfp_buf_putc(&b, ',');
        sfp_buf_json_str(&b, f->k);
        sfp_buf_putc(&b, ':');
        switch (f->type) {
        case 1: f->s ? sfp_buf_json_str(&b, f->s) : sfp_buf_puts(&b, "null"); break;
        case 2: sfp_buf_printf(&b, "%lld", f->i); break;
        case 3:
            if (isfinite(f->d)) sfp_buf_printf(&b, "%.6g", f->d);
            else sfp_buf_puts(&b, "null");
            break;
        default: sfp_buf_puts(&b, f->i ? "true" : "false");
        }
    }
    if (t_request_id[0]) {
        sfp_buf_puts(&b, ",\"request_id\":");
        sfp_buf_json_str(&b, t_request_id);
    }
    sfp_buf_puts(&b, "}\n");
    /* One write(2) per line keeps lines whole across threads and processes. */
    ssize_t off = 0;
    while ((size_t)off < b.len) {
        ssize_t w = write(STDERR_FILENO, b.data + off, b.len - (size_t)off);
        if (w <= 0) break;
        off += w;
    }
    sfp_buf_free(&b);
}
