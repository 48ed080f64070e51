/*
 * POST /api/chain/tx: one client-signed tx or a JSON array of up to 10,000. The stateless
 * checks (parse, chain, time, signature, the module's check) run here on the HTTP worker, in
 * parallel with other workers; the request is then suspended until the sequencer has committed
 * the block, and answered with {"tx_id","leaf_index","height"} — an array for an array.
 */
#include "../../chain/tx.h"
#include "../../server/custody.h"
#include "../../server/http.h"
#include "../../server/seq.h"
#include "../../server/server.h"
#include "../module.h"
#include "core_int.h"

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

static void free_submission(struct submission *s)
{
    for (size_t i = 0; i < s->sub.n; i++)
        chain_tx_free(s->sub.items[i].tx);
    free(s->sub.items);
    free(s);
}

static json_t *item_json(const struct seq_item *it)
{
    json_t *o;

    if (it->status == 200)
        return json_pack("{s:s, s:I, s:I}", "tx_id", it->tx->id_hex, "leaf_index",
                         (json_int_t)it->leaf_index, "height", (json_int_t)it->height);
    o = json_pack("{s:{s:s, s:s}}", "error", "code", it->code, "message", it->message);
    if (o != NULL && it->detail[0])
        json_object_set_new(json_object_get(o, "error"), "detail", json_string(it->detail));
    if (o != NULL && it->tx != NULL)
        json_object_set_new(o, "tx_id", json_string(it->tx->id_hex));
    return o;
}

/* Answers the request from the decided items; the last thing done with it. */
static void answer(struct seq_sub *sub)
{
    struct submission *s = (struct submission *)sub;
    struct srv_req *req = s->req;
    struct seq_item *first = &sub->items[0];

    if (s->is_array) {
        json_t *arr = json_array();

        for (size_t i = 0; i < sub->n; i++)
            json_array_append_new(arr, item_json(&sub->items[i]));
        srv_reply_json(req, 200, arr);
    } else if (first->status == 200) {
        snprintf(req->tx_id, sizeof(req->tx_id), "%s", first->tx->id_hex); /* audit log */
        srv_reply_json(req, 200, item_json(first));
    } else {
        srv_reply_error(req, first->status, first->code, first->message,
                        first->detail[0] ? first->detail : NULL);
    }
    free_submission(s);
    if (req->suspended)
        srv_req_resume(req); /* req belongs to libmicrohttpd again from here */
}

static void parse_error(struct seq_item *it, int rc, const char *detail)
{
    seq_item_refuse(it, (unsigned)chain_err_http_status(rc), chain_err_code(rc), chain_strerror(rc),
                    detail);
}

/* Fills s with the txs of an array body; returns 0 or an HTTP status already replied. */
static unsigned parse_array(struct srv_req *r, struct submission *s)
{
    json_error_t jerr;
    json_t *arr = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    size_t n;

    if (arr == NULL || !json_is_array(arr)) {
        json_decref(arr);
        return srv_reply_error(r, 400, "malformed_json", "request body is not valid JSON",
                               arr ? "expected an array" : jerr.text);
    }
    n = json_array_size(arr);
    if (n == 0 || n > MAX_BATCH) {
        json_decref(arr);
        return n == 0 ? srv_reply_error(r, 400, "empty_batch", "the array holds no tx", NULL)
                      : srv_reply_error(r, 413, "batch_too_large", "at most 10000 txs per request",
                                        NULL);
    }
    s->sub.items = calloc(n, sizeof(*s->sub.items));
    if (s->sub.items == NULL) {
        json_decref(arr);
        return srv_reply_error(r, 503, "busy", "out of memory; send fewer txs", NULL);
    }
    s->sub.n = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *el = json_array_get(arr, i);
        int rc =
            json_is_object(el) ? chain_tx_from_json(el, &s->sub.items[i].tx) : CHAIN_E_MALFORMED;

        if (rc != 0)
            parse_error(&s->sub.items[i], rc, json_is_object(el) ? NULL : "not an object");
    }
    json_decref(arr);
    return 0;
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
    for (size_t i = 0; i < s->sub.n; i++) {
        if (s->sub.items[i].status == 0)
            srv_tx_check(r->srv, &s->sub.items[i]);
        pending += s->sub.items[i].status == 0;
    }
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
