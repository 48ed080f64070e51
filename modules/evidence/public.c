/*
 * What needs no case: public verification of a hash (when, by which institution, under which
 * certificate number — nothing of the case), and machine anchoring (up to 10,000 hashes with
 * short labels in one request, each its own anchor tx, all handed to the sequencer at once).
 */
#define _GNU_SOURCE
#include "../../chain/tx.h"
#include "../../server/custody.h"
#include "../../server/par.h"
#include "../../server/server.h"
#include "evidence_int.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANCHORS_PER_CHUNK 16 /* anchors a thread of par_for builds and checks at a time */

/* Lowercases a 64-hex-digit hash into out (65 bytes). Returns 1 when in was one. */
static int hash_norm(const char *in, char out[65])
{
    if (in == NULL || strlen(in) != 64)
        return 0;
    for (size_t i = 0; i < 64; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[64] = '\0';
    return ev_hex64(out);
}

/* POST /api/evidence/verify {"sha256"} → {"found", "sha256", "records":[…]} */
unsigned ev_verify(struct srv_req *r)
{
    char hex[65];
    const char *p[1] = {hex};
    PGconn *c;
    PGresult *res;
    json_t *records, *doc;

    r->reads_only = 1; /* a public question: nothing changes, so no audit row */
    if (!hash_norm(json_string_value(json_object_get(r->json, "sha256")), hex))
        return srv_reply_error(r, 422, "invalid_body", "sha256 must be 64 hex digits", "sha256");
    if ((c = db_acquire(r->srv->pool, 2000, NULL)) == NULL)
        return ev_db_down(r);
    res = PQexecPrepared(c, "ev_verify", 1, p, NULL, NULL, 0);
    db_release(r->srv->pool, c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return ev_db_down(r);
    }
    records = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        char number[40];

        ev_cert_number(PQgetvalue(res, i, 2), number);
        json_array_append_new(
            records,
            json_pack("{s:s, s:I, s:I, s:{s:s, s:s}, s:s, s:s}", "type", PQgetvalue(res, i, 5),
                      "preserved_ms", (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10),
                      "height", (json_int_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), "institution",
                      "id", PQgetvalue(res, i, 3), "name", PQgetvalue(res, i, 4),
                      "certificate_number", number, "tx_id", PQgetvalue(res, i, 2)));
    }
    PQclear(res);
    doc = json_pack("{s:b, s:s}", "found", json_array_size(records) > 0, "sha256", hex);
    if (json_array_size(records) > 0) { /* the earliest, for a one-line answer */
        const json_t *first = json_array_get(records, 0);

        json_object_set(doc, "preserved_ms", json_object_get(first, "preserved_ms"));
        json_object_set(doc, "height", json_object_get(first, "height"));
        json_object_set(doc, "institution", json_object_get(first, "institution"));
        json_object_set(doc, "certificate_number", json_object_get(first, "certificate_number"));
        json_object_set(doc, "tx_id", json_object_get(first, "tx_id"));
    }
    json_object_set_new(doc, "records", records);
    return srv_reply_json(r, 200, doc);
}

/* ---- machine anchoring ---------------------------------------------------------------------- */

struct anchors {
    char org[72];
    size_t n;
    char (*hash)[65];
    char (*label)[EV_MAX_LABEL + 1];
    struct seq_item *items;
};

static void anchors_free(void *p)
{
    struct anchors *a = p;

    if (a == NULL)
        return;
    for (size_t i = 0; a->items != NULL && i < a->n; i++)
        chain_tx_free(a->items[i].tx);
    free(a->items);
    free(a->hash);
    free(a->label);
    free(a);
}

/* What building an anchor needs: one per request, shared by the threads of par_for. */
struct signer {
    struct srv *s;
    struct anchors *a;
    const unsigned char *sk;
    int64_t now;
};

/* Builds, signs and checks anchor i. */
static void sign_one(void *arg, size_t i)
{
    struct signer *w = arg;
    struct seq_item *it = &w->a->items[i];
    json_t *env = chain_tx_build(
        w->s->cfg.origin, "evidence", EV_TX_ANCHOR, w->a->org, w->sk + crypto_sign_SEEDBYTES,
        w->now, json_pack("{s:s, s:s}", "sha256", w->a->hash[i], "label", w->a->label[i]));

    if (env == NULL || chain_tx_sign(env, w->sk) != 0 || chain_tx_from_json(env, &it->tx) != 0)
        seq_item_refuse(it, 503, "busy", "the tx could not be built", NULL);
    else
        srv_tx_check(w->s, it);
    json_decref(env);
}

static unsigned anchor_job(struct srv_job *j, PGconn *c)
{
    struct anchors *a = j->data;
    struct srv_req *r = j->r;
    size_t accepted = 0;
    char err[160];
    unsigned char *sk = srv_custody_unseal(r->srv, c, a->org, err, sizeof(err));
    struct signer w = {r->srv, a, sk, ev_now_ms()};
    json_t *list;

    if (sk == NULL) {
        return srv_reply_error(r, 503, "no_key", "the organisation's key cannot sign", err);
    }
    par_for(r->srv->par, a->n, ANCHORS_PER_CHUNK, sign_one, &w);
    sodium_free(sk);
    srv_ledger_run(r->srv, a->items, a->n, 1);
    list = json_array();
    for (size_t i = 0; i < a->n; i++) {
        const struct seq_item *it = &a->items[i];

        if (it->status == 200) {
            accepted++;
            json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I}", "sha256", a->hash[i],
                                                  "tx_id", it->tx->id_hex, "leaf_index",
                                                  (json_int_t)it->leaf_index, "height",
                                                  (json_int_t)it->height));
        } else {
            json_array_append_new(list, json_pack("{s:s, s:i, s:s, s:s}", "sha256", a->hash[i],
                                                  "status", (int)it->status, "code", it->code,
                                                  "message", it->message));
        }
    }
    if (accepted > 0 && a->items[0].tx != NULL)
        snprintf(r->tx_id, sizeof(r->tx_id), "%s", a->items[0].tx->id_hex);
    return srv_reply_json(r,
                          accepted == a->n ? 201
                          : accepted > 0   ? 207
                                           : 409,
                          json_pack("{s:s, s:I, s:I, s:o}", "org", a->org, "count",
                                    (json_int_t)a->n, "accepted", (json_int_t)accepted, "anchors",
                                    list));
}

/* POST /api/evidence/anchors {"org","anchors":[{"sha256","label"?}…]} (an API token of org, or
 * a member's session) → 201 {"org","count","accepted","anchors":[{"sha256","tx_id",…}]}. */
unsigned ev_anchor(struct srv_req *r)
{
    const json_t *list = json_object_get(r->json, "anchors");
    struct anchors *a;
    size_t n = json_array_size(list);

    if (!json_is_array(list) || n == 0)
        return srv_reply_error(r, 422, "invalid_body", "anchors is a list of {sha256, label}",
                               "anchors");
    if (n > EV_MAX_ANCHORS)
        return srv_reply_error(r, 413, "batch_too_large", "at most 10,000 anchors in one request",
                               "anchors");
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    a->n = n;
    a->hash = calloc(n, sizeof(*a->hash));
    a->label = calloc(n, sizeof(*a->label));
    a->items = calloc(n, sizeof(*a->items));
    if (a->hash == NULL || a->label == NULL || a->items == NULL) {
        anchors_free(a);
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    }
    snprintf(a->org, sizeof(a->org), "%s", r->who.acting_org);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(list, i);
        const json_t *lv = json_object_get(e, "label");
        const char *label = lv ? json_string_value(lv) : "";
        char detail[48];

        snprintf(detail, sizeof(detail), "anchors[%zu]", i);
        if (!hash_norm(json_string_value(json_object_get(e, "sha256")), a->hash[i])) {
            anchors_free(a);
            return srv_reply_error(r, 422, "invalid_body", "sha256 must be 64 hex digits", detail);
        }
        if (label == NULL || !ev_text_ok(label, EV_MAX_LABEL, 1) || strchr(label, '\n') ||
            strchr(label, '\t')) {
            anchors_free(a);
            return srv_reply_error(r, 422, "invalid_body",
                                   "label is text of at most 64 bytes on one line", detail);
        }
        snprintf(a->label[i], sizeof(a->label[i]), "%s", label);
    }
    return srv_job_start(r, anchor_job, a, anchors_free);
}
