/* static_pages.h — HTML pages embedded at build time from gateway/static/NAME.html
 * (embed_static.cmake generates the table). All data is static and read-only. */
#ifndef GW_STATIC_PAGES_H
#define GW_STATIC_PAGES_H

#include <stddef.h>

typedef struct gw_static_page {
    const char *path;         /* "/methodology" (file name without .html) */
    const char *content_type; /* "text/html; charset=utf-8" */
    const char *data;         /* NUL-terminated */
    size_t len;
    const char *etag; /* "\"<16 hex of sha256>\"" */
} gw_static_page;

extern const gw_static_page gw_static_pages[];
extern const size_t gw_static_pages_count;

/* Page for a URL path, or NULL. */
const gw_static_page *gw_static_page_find(const char *path);

/* Cache-Control of every static page. */
#define GW_STATIC_CACHE_CONTROL "public, max-age=3600, stale-while-revalidate=86400"

#endif
