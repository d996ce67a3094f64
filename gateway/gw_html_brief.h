/* gw_html_brief.h — the morning brief as HTML pages: the brief itself (lookback tabs, a
 * refresh button, sign-out, every section of GET /brief's JSON), the sign-in form, and a small
 * message page (e.g. the refresh limit). Pure; every function returns a malloc'd page (caller
 * frees) and its length in *len. */
#ifndef GW_HTML_BRIEF_H
#define GW_HTML_BRIEF_H

#include <stddef.h>

struct Sfpermits__V1__Brief;
struct Sfpermits__V1__ReadMetadata;

/* The lookback tabs offered (days). */
#define GW_BRIEF_TABS \
    {                 \
        1, 7, 30, 90  \
    }

/* The page of brief b with its response metadata md (when computed, whether from cache; NULL:
 * shown as unknown). notice: an informational line shown above the brief (NULL = none). */
char *gw_html_brief_page(const struct Sfpermits__V1__Brief *b, const struct Sfpermits__V1__ReadMetadata *md,
                         const char *notice, size_t *len);
/* The sign-in form (POST /brief/sign-in, a password field for the token); error shown when
 * non-NULL; lookback is carried through a hidden field. */
char *gw_html_brief_signin(const char *error, int lookback, size_t *len);
/* A message page: title as h1, message as a paragraph, a link back (href, label). */
char *gw_html_message_page(const char *title, const char *message, const char *href, const char *label, size_t *len);

#endif
