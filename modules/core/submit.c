/*
 * POST /api/chain/tx: one client-signed tx or a JSON array of up to 10,000. The stateless
 * checks (parse, chain, time, signature, the module's check) run here on the HTTP worker, a
 * batch's checks shared with the idle cores (server/par.h); the request is then suspended until
 * the sequencer has committed the block, and answered with {"tx_id","leaf_index","height"} — an
 * array for an array.
 */
#include "../../chain/tx.h"
#include "../../server/custody.h"
#include "../../server/db.h"
#include "../../server/http.h"
#include "../../server/seq.h"
#include "../../server/server.h"
#include "../module.h"
#include "core_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 10000

struct submission {
    struct seq_sub sub;  /* first: the sequencer calls back with &sub */
    struct srv_req *req; /* suspended until done */
    int is_array;        /* answer with an array */
};

static void free_submission(void *p)
{
    struct submission *s = p;

    for (size_t i = 0; i < s->sub.n; i++)
        chain_tx_free(s->sub.items[i].tx);
    free(s->sub.items);
    free(s);
}

/* An item's answer when it was refused: {"error":{…},"tx_id"}. New; NULL on OOM. */
static json_t *refusal_json(const struct seq_item *it)
{
    json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", it->code, "message", it->message);

    if (o != NULL && it->detail[0])
        json_object_set_new(json_object_get(o, "error"), "detail", json_string(it->detail));
    if (o != NULL && it->tx != NULL)
        json_object_set_new(o, "tx_id", json_string(it->tx->id_hex));
    return o;
}

/* A committed item's answer, {"tx_id","leaf_index","height"}, written directly into line:
 * building and dumping a Jansson object for each of a thousand txs cost the sequencer 7-12 µs a
 * tx, on the path every block waits for. Returns its length. */
#define COMMITTED_MAX 160
static size_t committed_text(char line[COMMITTED_MAX], const struct seq_item *it)
{
    int n = snprintf(line, COMMITTED_MAX,
                     "{\"tx_id\":\"%s\",\"leaf_index\":%" PRIu64 ",\"height\":%" PRIu64 "}",
                     it->tx->id_hex, it->leaf_index, it->height);

    return n > 0 && n < COMMITTED_MAX ? (size_t)n : 0;
}

/* Appends an item's answer to b. Refusals, rare and with free text to escape, go through
 * Jansson. */
static void put_item(struct db_buf *b, const struct seq_item *it)
{
    char line[COMMITTED_MAX];
    json_t *o;
    char *text;

    if (it->status == 200) {
        db_buf_put(b, line, committed_text(line, it));
        return;
    }
    o = refusal_json(it);
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text == NULL)
        b->failed = 1;
    else
        db_buf_puts(b, text);
    free(text);
}

/* Answers an array with an array of the items' answers, in order. */
static void answer_array(struct srv_req *req, const struct seq_sub *sub)
{
    struct db_buf b = {0};

    db_buf_put(&b, "[", 1);
    for (size_t i = 0; i < sub->n; i++) {
        if (i > 0)
            db_buf_put(&b, ",", 1);
        put_item(&b, &sub->items[i]);
    }
    db_buf_put(&b, "]", 1);
    if (b.failed)
        srv_reply_error(req, 500, "internal", "out of memory", NULL);
    else
        srv_reply_text(req, 200, "application/json", b.p, b.len);
    free(b.p);
}

/* Answers the request from the decided items; the last thing done with it. */
static void answer(struct seq_sub *sub)
{
    struct submission *s = (struct submission *)sub;
    struct srv_req *req = s->req;
    struct seq_item *first = &sub->items[0];
    char line[COMMITTED_MAX];

    if (s->is_array) {
        answer_array(req, sub);
    } else if (first->status == 200) {
        snprintf(req->tx_id, sizeof(req->tx_id), "%s", first->tx->id_hex); /* audit log */
        srv_reply_text(req, 200, "application/json", line, committed_text(line, first));
    } else {
        srv_reply_error(req, first->status, first->code, first->message,
                        first->detail[0] ? first->detail : NULL);
    }
    /* Freed when the request ends, on the HTTP worker that parsed the txs: the sequencer, which
     * calls this, then neither spends its time on a thousand trees of small blocks nor takes the
     * lock of the worker's malloc arena to give them back. */
    req->user = s;
    req->user_free = free_submission;
    if (req->suspended)
        srv_req_resume(req); /* req belongs to libmicrohttpd again from here */
}

static void parse_error(struct seq_item *it, int rc, const char *detail)
{
    seq_item_refuse(it, (unsigned)chain_err_http_status(rc), chain_err_code(rc), chain_strerror(rc),
                    detail);
}

/* ---- batches ------------------------------------------------------------------------------ */

/* Where one element of the array body starts and ends. */
struct slice {
    size_t off, len;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The index of the quote that closes the string whose first byte is b[i], or len. A quote is
 * escaped when an odd run of backslashes leads up to it; memchr finds the candidates, so the
 * strings that make up most of a tx are crossed at memchr's speed, not a byte at a time. */
static size_t string_end(const char *b, size_t len, size_t i)
{
    for (;;) {
        const char *q = memchr(b + i, '"', len - i);
        size_t at, k;

        if (q == NULL)
            return len;
        at = (size_t)(q - b);
        for (k = at; k > i && b[k - 1] == '\\'; k--)
            ;
        if ((at - k) % 2 == 0)
            return at;
        i = at + 1;
    }
}

/* Skips one JSON value starting at b[i] (not validated: chain_tx_parse does that for objects,
 * Jansson for anything else); returns the index just past it, or len when it never ends. Only
 * strings and the nesting of brackets matter for finding the end. */
static size_t skip_value(const char *b, size_t len, size_t i)
{
    size_t depth = 0;

    for (; i < len; i++) {
        char c = b[i];

        if (c == '"') {
            i = string_end(b, len, i + 1);
            if (i >= len)
                return len;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; /* the array's own bracket: the value was a bare scalar */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || is_ws(c))) {
            return i;
        }
    }
    return len;
}

/* Splits an array body into its elements without building a JSON tree of it: each tx is then
 * parsed once, by chain_tx_parse, from its own bytes. Returns the number of elements (stored
 * into *out, which the caller frees), or -1 when the body is not an array of that shape (the
 * caller lets Jansson say precisely what is wrong). */
static long split_array(const char *b, size_t len, struct slice **out)
{
    size_t i = 0, n = 0, cap = 64;
    struct slice *v = malloc(cap * sizeof(*v));

    if (v == NULL)
        return -1;
    while (i < len && is_ws(b[i]))
        i++;
    if (i == len || b[i++] != '[')
        goto bad;
    while (i < len && is_ws(b[i]))
        i++;
    if (i < len && b[i] == ']') {
        i++;
        goto end;
    }
    for (;;) {
        size_t start = i, stop = skip_value(b, len, i);

        if (stop == start || stop >= len)
            goto bad;
        if (n == MAX_BATCH) { /* one too many: the caller refuses the batch for its size */
            *out = v;
            return MAX_BATCH + 1;
        }
        if (n == cap) {
            struct slice *nv = realloc(v, (cap *= 2) * sizeof(*v));

            if (nv == NULL)
                goto bad;
            v = nv;
        }
        v[n++] = (struct slice){start, stop - start};
        for (i = stop; i < len && is_ws(b[i]); i++)
            ;
        if (i < len && b[i] == ',') {
            for (i++; i < len && is_ws(b[i]); i++)
                ;
            continue;
        }
        if (i < len && b[i] == ']') {
            i++;
            break;
        }
        goto bad;
    }
end:
    while (i < len && is_ws(b[i]))
        i++;
    if (i != len)
        goto bad;
    *out = v;
    return (long)n;
bad:
    free(v);
    return -1;
}

/* Jansson's verdict on the whole body, for a body split_array or an element found broken:
 * 0 when it is one valid JSON document after all, else 400 with Jansson's message. */
static unsigned check_whole(struct srv_req *r)
{
    json_error_t jerr;
    json_t *doc = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);

    if (doc != NULL && json_is_array(doc)) {
        json_decref(doc);
        return 0;
    }
    json_decref(doc);
    if (doc == NULL && strstr(jerr.text, "depth") != NULL) /* as a single tx would say */
        return srv_reply_error(r, (unsigned)chain_err_http_status(CHAIN_E_TOO_DEEP),
                               chain_err_code(CHAIN_E_TOO_DEEP), chain_strerror(CHAIN_E_TOO_DEEP),
                               NULL);
    return srv_reply_error(r, 400, "malformed_json", "request body is not valid JSON",
                           doc ? "expected an array" : jerr.text);
}

/* Fills s with the txs of an array body; returns 0 or an HTTP status already replied. A syntax
 * error anywhere refuses the whole request, as one JSON document should; otherwise each tx is
 * refused or kept on its own. */
static unsigned parse_array(struct srv_req *r, struct submission *s)
{
    struct slice *el = NULL;
    long n = split_array(r->body, r->body_len, &el);
    int suspect = 0;

    if (n < 0) { /* Jansson finds the mistake and words it; it cannot find none */
        unsigned status = check_whole(r);

        return status ? status
                      : srv_reply_error(r, 400, "malformed_json", "request body is not valid JSON",
                                        "expected an array");
    }
    if (n == 0 || n > MAX_BATCH) {
        free(el);
        return n == 0 ? srv_reply_error(r, 400, "empty_batch", "the array holds no tx", NULL)
                      : srv_reply_error(r, 413, "batch_too_large", "at most 10000 txs per request",
                                        NULL);
    }
    s->sub.items = calloc((size_t)n, sizeof(*s->sub.items));
    if (s->sub.items == NULL) {
        free(el);
        return srv_reply_error(r, 503, "busy", "out of memory; send fewer txs", NULL);
    }
    s->sub.n = (size_t)n;
    for (long i = 0; i < n; i++) {
        struct seq_item *it = &s->sub.items[i];
        const char *p = r->body + el[i].off;
        char detail[120];
        int rc = *p == '{' ? chain_tx_parse_ex(p, el[i].len, &it->tx, detail, sizeof(detail))
                           : CHAIN_E_MALFORMED;

        if (*p != '{')
            snprintf(detail, sizeof(detail), "not an object");
        if (rc == CHAIN_E_MALFORMED || rc == CHAIN_E_DUPLICATE_KEY)
            suspect = 1;
        if (rc != 0)
            parse_error(it, rc, detail[0] ? detail : NULL);
    }
    free(el);
    return suspect ? check_whole(r) : 0;
}

static unsigned parse_single(struct srv_req *r, struct submission *s)
{
    char detail[120];
    int rc;

    s->sub.items = calloc(1, sizeof(*s->sub.items));
    if (s->sub.items == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    s->sub.n = 1;
    rc = chain_tx_parse_ex(r->body ? r->body : "", r->body_len, &s->sub.items[0].tx, detail,
                           sizeof(detail));
    if (rc != 0)
        return srv_reply_error(r, (unsigned)chain_err_http_status(rc), chain_err_code(rc),
                               chain_strerror(rc), detail[0] ? detail : NULL);
    return 0;
}

unsigned core_submit(struct srv_req *r)
{
    struct submission *s = calloc(1, sizeof(*s));
    const char *p = r->body ? r->body : "";
    size_t pending = 0;
    unsigned status;

    if (s == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    s->req = r;
    s->is_array = *p == '[';
    s->sub.done = answer;
    status = s->is_array ? parse_array(r, s) : parse_single(r, s);
    if (status != 0) {
        free_submission(s);
        return status;
    }
    srv_tx_check_all(r->srv, s->sub.items, s->sub.n);
    for (size_t i = 0; i < s->sub.n; i++)
        pending += s->sub.items[i].status == 0;
    if (pending == 0 || r->srv->seq == NULL) {
        if (pending > 0) /* no sequencer in this process */
            for (size_t i = 0; i < s->sub.n; i++)
                if (s->sub.items[i].status == 0)
                    seq_item_refuse(&s->sub.items[i], 503, "no_ledger", "no ledger here", NULL);
        answer(&s->sub); /* replies without suspending */
        return r->status;
    }
    srv_req_suspend(r);
    seq_enqueue(r->srv->seq, &s->sub);
    return SRV_ASYNC;
}
