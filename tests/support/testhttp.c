#include "testhttp.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sink {
    char **buf;
    size_t *len;
} sink;

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    sink *k = ud;
    size_t add = sz * n;
    char *nb = realloc(*k->buf, *k->len + add + 1);
    if (!nb) return 0;
    memcpy(nb + *k->len, p, add);
    *k->len += add;
    nb[*k->len] = '\0';
    *k->buf = nb;
    return add;
}

int sfp_http(void *handle, int port, const char *method, const char *path, const char *const *headers, const char *body,
             size_t blen, sfp_http_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *h = handle ? handle : curl_easy_init();
    if (!h) return CURLE_FAILED_INIT;
    char url[8192];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (body || !strcmp(method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? blen : 0));
        if (strcmp(method, "POST")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    struct curl_slist *sl = NULL;
    for (const char *const *hh = headers; hh && *hh; hh++) sl = curl_slist_append(sl, *hh);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, sl);
    sink bctx = {&r->body, &r->len}, hctx = {&r->hdrs, &r->hlen};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bctx);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hctx);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->num_connects);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(sl);
    if (!handle) curl_easy_cleanup(h);
    if (!r->body) r->body = calloc(1, 1);
    if (!r->hdrs) r->hdrs = calloc(1, 1);
    return (int)rc;
}

const char *sfp_http_header(const sfp_http_resp *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *line = r->hdrs; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nl && line[nl] == ':' && !strncasecmp(line, name, nl)) {
            const char *v = line + nl + 1;
            while (*v == ' ') v++;
            size_t vl = (size_t)(line + len - v);
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' ')) vl--;
            if (vl >= cap) vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

void sfp_http_resp_free(sfp_http_resp *r)
{
    free(r->body);
    free(r->hdrs);
    memset(r, 0, sizeof *r);
}
