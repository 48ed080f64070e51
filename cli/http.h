/* http.h — the few HTTP requests the lianxin tool makes, over libcurl: GET a text resource and
 * POST a JSON body. Only http:// and https:// URLs are followed; redirects are not. The caller
 * calls curl_global_init once before the first request. */
#ifndef LX_CLI_HTTP_H
#define LX_CLI_HTTP_H

#include <stddef.h>

#include "cli.h"

#define CLI_HTTP_GET_TIMEOUT  60L  /* seconds for a whole GET */
#define CLI_HTTP_POST_TIMEOUT 600L /* seconds for a POST (a batch waits for its block commit) */

/* An HTTP answer. */
struct cli_http_resp {
    long status;   /* HTTP status; 0 when no answer arrived */
    char *body;    /* the body, NUL-terminated (owned; free with cli_http_resp_free) */
    size_t len;    /* bytes of body without the NUL */
    char err[256]; /* why no answer arrived (transport error), else "" */
};

/* GETs url. Returns 0 when an answer arrived (whatever its status), -1 when none did (out->err
 * says why). out is always initialised: free it with cli_http_resp_free. Borrows url. */
int cli_http_get(const char *url, struct cli_http_resp *out) CLI_WUR;

/* POSTs body[0..len) with Content-Type application/json. Results as cli_http_get. */
int cli_http_post_json(const char *url, const char *body, size_t len,
                       struct cli_http_resp *out) CLI_WUR;

/* Frees what r owns; r may be reused afterwards. */
void cli_http_resp_free(struct cli_http_resp *r);

/* Returns base with any trailing '/' removed, followed by path (which starts with '/'), as a new
 * string (free with free()), or NULL when out of memory. Borrows both. */
char *cli_url_join(const char *base, const char *path);

#endif
