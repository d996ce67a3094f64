#include "bearer.h"

#include <strings.h>

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *sfp_bearer_token(const char *v, size_t *len)
{
    if (!v) return NULL;
    while (blank(*v)) v++;
    if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t')) return NULL;
    v += 6;
    while (*v == ' ' || *v == '\t') v++;
    size_t n = 0;
    while (v[n] && v[n] > 0x20 && v[n] < 0x7f) n++;
    size_t end = n;
    while (blank(v[end])) end++;
    if (n == 0 || v[end] != '\0') return NULL;
    *len = n;
    return v;
}
