/* submit.c — `lianxin submit`: posts signed txs to a node's POST /api/chain/tx. The file holds
 * one tx (any JSON layout), a JSON array of txs, or JSON lines (one tx per line). Lines are sent
 * in arrays of at most CLI_SUBMIT_BATCH txs and CLI_SUBMIT_BYTES bytes per request, as their
 * original bytes (the node canonicalizes; we do not re-encode what the user signed).
 *
 * Output: one compact JSON object per tx, in input order: the node's answer
 * {"tx_id","leaf_index","height"} or {"error":{…}}, with "line" added in JSON-lines mode. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "http.h"

#define CLI_SUBMIT_BATCH 10000 /* most txs per request (the node's limit) */
#define CLI_SUBMIT_BYTES                                                                           \
    (8u * 1024 * 1024) /* most body bytes per request, under the node's 16 MiB */

/* One tx to send: where its text is, and the line it came from (0 in single mode). */
struct item {
    const char *text; /* borrowed from the file buffer or owned by the list (see owned) */
    size_t len;       /* bytes of text */
    size_t line;      /* 1-based input line, or 0 when the file is one tx or an array */
    int owned;        /* text was malloc'd for this item (array mode) */
};

struct tally {
    size_t ok;      /* accepted txs */
    size_t refused; /* txs the node (or our own parse) refused */
    int transport;  /* a request got no answer */
};

static void submit_usage(FILE *f)
{
    fputs("usage: lianxin submit --url URL FILE\n"
          "\n"
          "Posts the signed txs in FILE ('-' for standard input) to URL/api/chain/tx. FILE holds\n"
          "one tx, a JSON array of txs, or JSON lines (one tx per line). Prints one JSON object\n"
          "per tx: {\"tx_id\",\"leaf_index\",\"height\"} or {\"error\":…} (with \"line\" for JSON\n"
          "lines). Exit 0 when every tx was accepted, 1 when some were refused, 2 when the node\n"
          "could not be reached.\n",
          f);
}

/* Prints one result: res (borrowed; an object) with "line" first when line > 0. */
static void print_result(size_t line, json_t *res)
{
    json_t *o = json_object();
    char *s;

    if (o == NULL)
        return;
    if (line > 0)
        json_object_set_new(o, "line", json_integer((json_int_t)line));
    json_object_update(o, res);
    s = json_dumps(o, JSON_COMPACT);
    if (s != NULL)
        printf("%s\n", s);
    free(s);
    json_decref(o);
}

/* Prints an error result with code and message for item it. */
static void print_error(const struct item *it, const char *code, const char *message,
                        struct tally *t)
{
    json_t *res = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);

    if (res != NULL)
        print_result(it->line, res);
    json_decref(res);
    t->refused++;
}

/* Reports the node's answer to one tx: accepted when it carries a tx_id. */
static void report_one(const struct item *it, json_t *res, struct tally *t)
{
    if (json_is_object(res) && json_is_string(json_object_get(res, "tx_id")) &&
        json_object_get(res, "error") == NULL) {
        print_result(it->line, res);
        t->ok++;
    } else if (json_is_object(res) && json_is_object(json_object_get(res, "error"))) {
        print_result(it->line, res);
        t->refused++;
    } else {
        print_error(it, "bad_answer", "the node's answer for this tx is not understood", t);
    }
}

/* Sends items[0..n) in one request: a bare object when as_array is 0 (n == 1), else an array.
 * Prints one result per item. */
static void send_batch(const char *url, const struct item *items, size_t n, int as_array,
                       struct tally *t)
{
    struct cli_http_resp resp = {0};
    json_t *doc = NULL;
    char *body = NULL, msg[400];
    size_t len = 0, pos = 0;

    for (size_t i = 0; i < n; i++)
        len += items[i].len + 1;
    body = malloc(len + 3);
    if (body == NULL) {
        for (size_t i = 0; i < n; i++)
            print_error(&items[i], "no_memory", "out of memory", t);
        return;
    }
    if (as_array)
        body[pos++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            body[pos++] = ',';
        memcpy(body + pos, items[i].text, items[i].len);
        pos += items[i].len;
    }
    if (as_array)
        body[pos++] = ']';
    body[pos] = '\0';

    if (cli_http_post_json(url, body, pos, &resp) != 0) {
        snprintf(msg, sizeof(msg),
                 "no answer from %s: %s (the tx may or may not have been accepted; sending it "
                 "again is safe)",
                 url, resp.err);
        for (size_t i = 0; i < n; i++)
            print_error(&items[i], "no_answer", msg, t);
        t->transport = 1;
        goto out;
    }
    doc = json_loadb(resp.body, resp.len, 0, NULL);
    if (as_array && json_is_array(doc) && json_array_size(doc) == n) {
        for (size_t i = 0; i < n; i++)
            report_one(&items[i], json_array_get(doc, i), t);
    } else if (!as_array && resp.status == 200 && json_is_object(doc)) {
        report_one(&items[0], doc, t);
    } else if (json_is_object(doc) && json_is_object(json_object_get(doc, "error"))) {
        /* one error for the whole request */
        for (size_t i = 0; i < n; i++)
            report_one(&items[i], doc, t);
    } else {
        snprintf(msg, sizeof(msg), "HTTP %ld with an answer that is not understood", resp.status);
        for (size_t i = 0; i < n; i++)
            print_error(&items[i], "bad_answer", msg, t);
    }

out:
    json_decref(doc);
    cli_http_resp_free(&resp);
    free(body);
}

/* Sends items[0..n) in batches of at most CLI_SUBMIT_BATCH txs and CLI_SUBMIT_BYTES bytes,
 * stopping after a request that got no answer. */
static void send_all(const char *url, const struct item *items, size_t n, struct tally *t)
{
    size_t start = 0;

    while (start < n && !t->transport) {
        size_t end = start, bytes = 2;

        while (end < n && end - start < CLI_SUBMIT_BATCH &&
               (end == start || bytes + items[end].len + 1 <= CLI_SUBMIT_BYTES)) {
            bytes += items[end].len + 1;
            end++;
        }
        send_batch(url, items + start, end - start, 1, t);
        start = end;
    }
    for (; start < n; start++)
        print_error(&items[start], "not_sent", "not sent: an earlier request got no answer", t);
}

int cli_cmd_submit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tally t = {0};
    struct item *items = NULL;
    size_t n = 0, cap = 0, len = 0, pos = 0, lineno = 0;
    const char *base = NULL;
    char *text = NULL, *url = NULL;
    json_t *whole = NULL;
    int c, nomem = 0, rc = CLI_EXIT_USAGE;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            base = optarg;
            break;
        case 'h':
            submit_usage(stdout);
            return CLI_EXIT_OK;
        default:
            submit_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (base == NULL || optind != argc - 1) {
        submit_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!cli_is_url(base)) {
        fprintf(stderr, "lianxin: --url wants http://… or https://…, not %s\n", base);
        return CLI_EXIT_USAGE;
    }
    url = cli_url_join(base, "/api/chain/tx");
    text = cli_read_file(argv[optind], &len);
    if (text == NULL)
        goto out;
    nomem = 1; /* until the txs are sent, a failure below is an allocation failure */
    if (url == NULL)
        goto out;

    whole = json_loadb(text, len, 0, NULL);
    if (json_is_object(whole)) {
        struct item one = {text, len, 0, 0};

        send_batch(url, &one, 1, 0, &t);
    } else if (json_is_array(whole)) {
        n = json_array_size(whole);
        items = calloc(n ? n : 1, sizeof(*items));
        if (items == NULL)
            goto out;
        for (size_t i = 0; i < n; i++) {
            char *s = json_dumps(json_array_get(whole, i), JSON_COMPACT | JSON_ENCODE_ANY);

            if (s == NULL)
                goto out;
            items[i] = (struct item){s, strlen(s), 0, 1};
        }
        send_all(url, items, n, &t);
    } else {
        /* JSON lines: each non-blank line is one tx */
        struct item *good = NULL;
        size_t n_good = 0;

        while (pos < len) {
            const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
            size_t llen = nl ? (size_t)(nl - start) : len - pos;
            json_t *one;

            pos += llen + (nl ? 1 : 0);
            lineno++;
            if (strspn(start, " \t\r") >= llen)
                continue;
            if (n == cap) {
                struct item *ni = realloc(items, (cap = cap ? cap * 2 : 1024) * sizeof(*items));

                if (ni == NULL)
                    goto out;
                items = ni;
            }
            items[n++] = (struct item){start, llen, lineno, 0};
            one = json_loadb(start, llen, 0, NULL);
            if (!json_is_object(one))
                items[n - 1].owned = -1; /* marks a line that is not a JSON object */
            json_decref(one);
        }
        if (n == 0) {
            fprintf(stderr, "lianxin: %s holds no tx\n", argv[optind]);
            nomem = 0;
            goto out;
        }
        /* send the well-formed lines; report the others in place, in input order */
        good = calloc(n, sizeof(*good));
        if (good == NULL)
            goto out;
        for (size_t i = 0; i < n; i++) {
            if (items[i].owned == -1) {
                send_all(url, good, n_good, &t);
                n_good = 0;
                print_error(&items[i], "malformed", "this line is not a JSON object", &t);
                items[i].owned = 0;
            } else {
                good[n_good++] = items[i];
            }
        }
        send_all(url, good, n_good, &t);
        free(good);
    }
    nomem = 0;
    fflush(stdout);
    fprintf(stderr, "lianxin: %zu accepted, %zu refused\n", t.ok, t.refused);
    rc = t.transport ? CLI_EXIT_USAGE : t.refused > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;

out:
    if (nomem)
        fprintf(stderr, "lianxin: out of memory\n");
    for (size_t i = 0; items != NULL && i < n; i++)
        if (items[i].owned == 1)
            free((char *)items[i].text);
    free(items);
    json_decref(whole);
    free(text);
    free(url);
    return rc;
}
