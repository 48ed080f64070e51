/* http.c — libcurl requests for the lianxin tool (see http.h). Answers are capped at
 * CLI_FILE_MAX so a hostile server cannot exhaust memory. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct cli_http_resp *r = ud;
    size_t add = size * n;
    char *nb;

    if (add > CLI_FILE_MAX || r->len > CLI_FILE_MAX - add) {
        snprintf(r->err, sizeof(r->err), "answer larger than %u bytes", CLI_FILE_MAX);
        return 0;
    }
    nb = realloc(r->body, r->len + add + 1);
    if (nb == NULL) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return 0;
    }
    r->body = nb;
    memcpy(r->body + r->len, data, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* One request: POST when body is non-NULL, else GET. */
static int request(const char *url, const char *body, size_t len, long timeout,
                   struct cli_http_resp *out)
{
    CURL *c = NULL;
    struct curl_slist *hl = NULL;
    CURLcode cc;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->body = calloc(1, 1);
    if (out->body == NULL) {
        snprintf(out->err, sizeof(out->err), "out of memory");
        goto out;
    }
    if (!cli_is_url(url)) {
        snprintf(out->err, sizeof(out->err), "not an http:// or https:// URL");
        goto out;
    }
    c = curl_easy_init();
    if (c == NULL) {
        snprintf(out->err, sizeof(out->err), "cannot start libcurl");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lianxin/" LX_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (body != NULL) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
        if (hl == NULL) {
            snprintf(out->err, sizeof(out->err), "out of memory");
            goto out;
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (out->err[0] == '\0')
            snprintf(out->err, sizeof(out->err), "%s", curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    rc = 0;

out:
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc;
}

int cli_http_get(const char *url, struct cli_http_resp *out)
{
    return request(url, NULL, 0, CLI_HTTP_GET_TIMEOUT, out);
}

int cli_http_post_json(const char *url, const char *body, size_t len, struct cli_http_resp *out)
{
    return request(url, body, len, CLI_HTTP_POST_TIMEOUT, out);
}

void cli_http_resp_free(struct cli_http_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

char *cli_url_join(const char *base, const char *path)
{
    size_t blen = strlen(base), plen = strlen(path);
    char *s;

    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    s = malloc(blen + plen + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, base, blen);
    memcpy(s + blen, path, plen + 1);
    return s;
}
