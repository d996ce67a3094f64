/* static_pages.c — lookup over the generated table. */
#include "static_pages.h"

#include <string.h>

const gw_static_page *gw_static_page_find(const char *path)
{
    if (!path) return NULL;
    for (size_t i = 0; i < gw_static_pages_count; i++)
        if (!strcmp(gw_static_pages[i].path, path)) return &gw_static_pages[i];
    return NULL;
}
