/* gw_html_search.h — the landing page at / : one search box (address, block/lot or permit
 * number) and, after a search, its results as links to the property reports. Pure. */
#ifndef GW_HTML_SEARCH_H
#define GW_HTML_SEARCH_H

#include <stddef.h>

struct Sfpermits__V1__SearchParcelsResponse;

/* The page (malloc'd, caller frees; *len its length). q: the query to prefill (NULL = none);
 * res: the search result to list (NULL = no search made); error: a message shown instead of
 * results (NULL = none). */
char *gw_html_search_page(const char *q, const struct Sfpermits__V1__SearchParcelsResponse *res, const char *error,
                          size_t *len);

#endif
