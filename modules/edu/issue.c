/*
 * Issuing: POST /api/edu/credentials (one, JSON) and POST /api/edu/credentials/batch (CSV, up to
 * 10,000 rows). Both end in issue_all on a job thread: load the university and unseal its
 * custodial key once, build and sign every credential and its credential.issue tx, store the
 * documents (one COPY), hand all txs to the sequencer as one submission, wait for the blocks,
 * drop the documents of refused txs, answer.
 */
#define _GNU_SOURCE
#include "../../chain/jcs.h"
#include "../../chain/tx.h"
#include "../../chain/vc.h"
#include "../../server/custody.h"
#include "../../server/server.h"
#include "csv.h"
#include "../../server/db.h"
#include "../../server/par.h"
#include "edu_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_ERRORS     1000 /* errors listed in one answer (the count is always complete) */
#define ROWS_PER_CHUNK 16   /* rows a thread of par_for builds and checks at a time */
#define DOC_KEY_ID     1    /* crypto_kdf subkey id of the document key */
#define DOC_KEY_CTX    "edu_docs"

/* The rows to issue, validated, and what became of them. */
struct batch {
    char org[72];             /* the university (authorised for the request) */
    char user[64];            /* who issues */
    int single;               /* POST /api/edu/credentials: answer as one credential */
    int valid_only;           /* issue the valid rows even when others are not */
    int dry_run;              /* validate only */
    size_t n;                 /* rows */
    size_t *lines;            /* CSV line of each row (0 for JSON) */
    struct edu_subject *subs; /* the rows (owned) */
    char *bad;                /* bad[i]: row i is invalid */
    json_t *errors;           /* [{"line","field","message"}] (owned) */
    size_t n_errors;          /* all of them, also those not listed */
};

static void batch_free(void *p)
{
    struct batch *b = p;

    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++)
        edu_subject_clear(&b->subs[i]);
    free(b->subs);
    free(b->lines);
    free(b->bad);
    json_decref(b->errors);
    free(b);
}

static struct batch *batch_new(size_t n)
{
    struct batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->subs = calloc(n ? n : 1, sizeof(*b->subs));
    b->lines = calloc(n ? n : 1, sizeof(*b->lines));
    b->bad = calloc(n ? n : 1, 1);
    b->errors = json_array();
    if (b->subs == NULL || b->lines == NULL || b->bad == NULL || b->errors == NULL) {
        batch_free(b);
        return NULL;
    }
    return b;
}

static void add_error(struct batch *b, size_t row, const char *field, const char *msg)
{
    if (row < b->n) {
        if (b->bad[row])
            return; /* one error per row: the first */
        b->bad[row] = 1;
    }
    b->n_errors++;
    if (json_array_size(b->errors) < MAX_ERRORS)
        json_array_append_new(b->errors, json_pack("{s:I, s:s, s:s}", "line",
                                                   (json_int_t)(row < b->n ? b->lines[row] : 1),
                                                   "field", field, "message", msg));
}

/* ---- the issuer ------------------------------------------------------------------------------ */

/* Loads the university's name, unseals its key (*sk, sodium_free it) and fills *is. Returns 0 or
 * the status of the answer given. */
static unsigned issuer_open(struct srv_req *r, PGconn *c, const char *org, struct edu_issuer *is,
                            unsigned char **sk)
{
    const char *params[1] = {org};
    PGresult *res = PQexecPrepared(c, "edu_university", 1, params, NULL, NULL, 0);
    char err[160];

    *sk = NULL;
    memset(is, 0, sizeof(*is));
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return edu_db_down(r);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return srv_reply_error(r, 422, "not_a_university",
                               "credentials are issued by an admitted university", "org");
    }
    snprintf(is->org, sizeof(is->org), "%s", org);
    snprintf(is->name, sizeof(is->name), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    *sk = srv_custody_unseal(r->srv, c, org, err, sizeof(err));
    if (*sk == NULL)
        return srv_reply_error(r, 409, "no_custodial_key",
                               "the university holds no custodial key on this node", err);
    memcpy(is->pk, *sk + crypto_sign_SEEDBYTES, 32);
    if (chain_didkey_encode(is->pk, is->did, sizeof(is->did)) != 0) {
        sodium_free(*sk);
        *sk = NULL;
        return srv_reply_error(r, 500, "internal", "cannot encode the key", NULL);
    }
    edu_now_iso(is->now_iso);
    edu_base_url(r->srv, is->base_url, sizeof(is->base_url));
    return 0;
}

/* The did:key of every linked student's active key; rows naming an unknown student become
 * errors. dids[i] is "" when row i has no student (or a student without a key). */
static int students_resolve(PGconn *c, struct batch *b, char (*dids)[96])
{
    struct db_buf arr = {0};
    const char *params[1];
    PGresult *res;
    int any = 0, rc = 0;

    db_buf_put(&arr, "{", 1);
    for (size_t i = 0; i < b->n; i++) {
        if (b->bad[i] || b->subs[i].student[0] == '\0')
            continue;
        if (any)
            db_buf_put(&arr, ",", 1);
        db_buf_puts(&arr, b->subs[i].student); /* ids are [a-z0-9._-]: nothing to quote */
        any = 1;
    }
    db_buf_put(&arr, "}", 1);
    if (arr.failed) {
        free(arr.p);
        return -1;
    }
    if (!any) {
        free(arr.p);
        return 0;
    }
    params[0] = arr.p;
    res = PQexecPrepared(c, "edu_students", 1, params, NULL, NULL, 0);
    free(arr.p);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        int found = 0;

        if (b->bad[i] || b->subs[i].student[0] == '\0')
            continue;
        for (int k = 0; k < PQntuples(res) && !found; k++) {
            uint8_t pk[32];

            if (strcmp(PQgetvalue(res, k, 0), b->subs[i].student) != 0)
                continue;
            found = 1;
            if (!PQgetisnull(res, k, 1) &&
                chain_hex_decode(PQgetvalue(res, k, 1), 64, pk, sizeof(pk)) == 0 &&
                chain_didkey_encode(pk, dids[i], 96) != 0)
                dids[i][0] = '\0';
        }
        if (!found)
            add_error(b, i, "student", "no student account has this id");
    }
    PQclear(res);
    return rc;
}

/* ---- building ------------------------------------------------------------------------------- */

/* What was built for one row. */
struct built {
    char id[EDU_ID_LEN + 1]; /* bare uuid */
    char *doc_hex;           /* the sealed document, hex (owned) */
};

/* nonce || secretbox(text) under the document key, as hex (new, free()), or NULL. */
static char *seal_hex(const unsigned char *key, const char *text, size_t len)
{
    size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *sealed = malloc(n);
    char *hex = malloc(2 * n + 1);

    if (sealed == NULL || hex == NULL) {
        free(sealed);
        free(hex);
        return NULL;
    }
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, (const unsigned char *)text, len,
                          sealed, key);
    chain_hex_encode(sealed, n, hex);
    free(sealed);
    return hex;
}

/* Builds row i: the signed credential (sealed into out->doc_hex) and its signed tx (into
 * it->tx). Returns 0 or -1. */
static int build_one(struct srv *s, const struct edu_issuer *is, const unsigned char *sk,
                     const unsigned char *doc_key, const struct edu_subject *sub,
                     const char *student_did, struct built *out, struct seq_item *it)
{
    char urn[EDU_URN_LEN + 1], b64[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1], *text = NULL;
    uint8_t hash[CHAIN_HASH_LEN];
    json_t *vc = edu_vc_make(sub, is, student_did, sk, out->id), *env = NULL;
    size_t len = 0;
    int rc = -1;

    if (vc == NULL || chain_jcs_dump(vc, &text, &len) != 0)
        goto out;
    crypto_hash_sha256(hash, (const unsigned char *)text, len); /* = chain_vc_anchor_hash */
    if (chain_b64_encode(hash, sizeof(hash), b64, sizeof(b64)) != 0)
        goto out;
    snprintf(urn, sizeof(urn), "urn:uuid:%s", out->id);
    env = chain_tx_build(
        s->cfg.origin, "edu", EDU_TX_ISSUE, is->org, is->pk, edu_now_ms(),
        json_pack("{s:s, s:s, s:s}", "credential_id", urn, "hash", b64, "kind", sub->kind));
    if (env == NULL || chain_tx_sign(env, sk) != 0 || chain_tx_from_json(env, &it->tx) != 0)
        goto out;
    if ((out->doc_hex = seal_hex(doc_key, text, len)) == NULL)
        goto out;
    rc = 0;
out:
    json_decref(env);
    json_decref(vc);
    free(text);
    return rc;
}

void edu_doc_key(struct srv *s, unsigned char key[32])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, DOC_KEY_ID, DOC_KEY_CTX,
                               s->master_key);
}

/* Stores the documents of the rows that were built (built[i].doc_hex set). */
static int docs_store(PGconn *c, const struct batch *b, const struct built *built,
                      const int64_t now)
{
    struct db_buf rows = {0};
    char num[32];
    int rc;

    for (size_t i = 0; i < b->n; i++) {
        if (built[i].doc_hex == NULL)
            continue;
        db_buf_puts(&rows, built[i].id);
        db_buf_put(&rows, "\t", 1);
        db_buf_text(&rows, b->org);
        db_buf_put(&rows, "\t", 1);
        db_buf_text(&rows, b->subs[i].kind);
        db_buf_put(&rows, "\t", 1);
        db_buf_text(&rows, b->subs[i].student[0] ? b->subs[i].student : NULL);
        db_buf_put(&rows, "\t", 1);
        db_buf_text(&rows, b->subs[i].name);
        db_buf_put(&rows, "\t", 1);
        db_buf_text(&rows, b->subs[i].number);
        db_buf_put(&rows, "\t\\\\x", 4);
        db_buf_puts(&rows, built[i].doc_hex);
        db_buf_put(&rows, "\t", 1);
        db_buf_text(&rows, b->user);
        snprintf(num, sizeof(num), "\t%" PRId64 "\n", now);
        db_buf_puts(&rows, num);
    }
    rc = rows.failed ? -1
                     : (db_copy_in(c,
                                   "COPY edu_credentials (id, org, kind, student, subject_name, "
                                   "student_number, document, issued_by, created_ms) FROM STDIN",
                                   rows.p, rows.len) == 0
                            ? 0
                            : -1);
    free(rows.p);
    return rc;
}

/* Deletes the documents of rows whose tx was refused. */
static void docs_drop(PGconn *c, const struct batch *b, const struct built *built,
                      const struct seq_item *items)
{
    struct db_buf arr = {0};
    const char *params[1];
    int any = 0;

    db_buf_put(&arr, "{", 1);
    for (size_t i = 0; i < b->n; i++) {
        if (built[i].doc_hex == NULL || items[i].status == 200)
            continue;
        if (any)
            db_buf_put(&arr, ",", 1);
        db_buf_puts(&arr, built[i].id);
        any = 1;
    }
    db_buf_put(&arr, "}", 1);
    params[0] = arr.p;
    if (any && !arr.failed)
        PQclear(PQexecPrepared(c, "edu_doc_drop", 1, params, NULL, NULL, 0));
    free(arr.p);
}

/* What building a row needs: one per batch, shared by the threads of par_for. */
struct builder {
    struct srv *s;
    const struct batch *b;
    const struct edu_issuer *is;
    const unsigned char *sk, *dk;
    char (*dids)[96];
    struct built *built;
    struct seq_item *items;
    atomic_int failed; /* a row could not be built: the rest are left */
};

/* Builds row i and runs the stateless checks of its tx (signature, chain, time, the module's
 * check): the CPU work of a batch, spread over the cores by par_for. */
static void build_row(void *arg, size_t i)
{
    struct builder *w = arg;

    if (atomic_load(&w->failed))
        return;
    if (w->b->bad[i]) {
        seq_item_refuse(&w->items[i], 422, "invalid_row", "the row is invalid", NULL);
        return;
    }
    if (build_one(w->s, w->is, w->sk, w->dk, &w->b->subs[i], w->dids[i][0] ? w->dids[i] : NULL,
                  &w->built[i], &w->items[i]) != 0)
        atomic_store(&w->failed, 1);
    else
        srv_tx_check(w->s, &w->items[i]);
}

/* Builds every valid row. Returns 0 or -1. */
static int build_all(struct srv *s, const struct batch *b, const struct edu_issuer *is,
                     const unsigned char *sk, const unsigned char *dk, char (*dids)[96],
                     struct built *built, struct seq_item *items)
{
    struct builder w = {s, b, is, sk, dk, dids, built, items, 0};

    par_for(s->par, b->n, ROWS_PER_CHUNK, build_row, &w);
    return atomic_load(&w.failed) ? -1 : 0;
}

static json_t *errors_body(const struct batch *b, const char *code, const char *message)
{
    return json_pack("{s:{s:s, s:s}, s:I, s:I, s:O}", "error", "code", code, "message", message,
                     "rows", (json_int_t)b->n, "errors_total", (json_int_t)b->n_errors, "errors",
                     b->errors);
}

/* The job: everything after the syntax checks. */
static unsigned issue_all(struct srv_job *j, PGconn *c)
{
    struct batch *b = j->data;
    struct srv_req *r = j->r;
    struct edu_issuer is;
    unsigned char *sk = NULL, dk[crypto_secretbox_KEYBYTES];
    char(*dids)[96] = NULL;
    struct built *built = NULL;
    struct seq_item *items = NULL;
    json_t *list = NULL, *refused = NULL, *body = NULL;
    size_t n_ok = 0, issued = 0;
    unsigned status;

    if ((status = issuer_open(r, c, b->org, &is, &sk)) != 0)
        goto out;
    dids = calloc(b->n ? b->n : 1, sizeof(*dids));
    built = calloc(b->n ? b->n : 1, sizeof(*built));
    items = calloc(b->n ? b->n : 1, sizeof(*items));
    if (dids == NULL || built == NULL || items == NULL) {
        status = srv_reply_error(r, 503, "busy", "out of memory", NULL);
        goto out;
    }
    if (students_resolve(c, b, dids) != 0) {
        status = edu_db_down(r);
        goto out;
    }
    for (size_t i = 0; i < b->n; i++)
        n_ok += !b->bad[i];
    if (b->single && b->n_errors > 0) {
        const json_t *e = json_array_get(b->errors, 0);

        status = srv_reply_error(r, 422, "invalid_body",
                                 json_string_value(json_object_get(e, "message")),
                                 json_string_value(json_object_get(e, "field")));
        goto out;
    }
    if (b->dry_run || (b->n_errors > 0 && !b->valid_only) || n_ok == 0) {
        body = errors_body(b, b->n_errors ? "invalid_rows" : "ok",
                           b->n_errors ? "some rows are invalid; nothing was issued"
                                       : "every row is valid; nothing was issued (dry run)");
        json_object_set_new(body, "valid", json_integer((json_int_t)n_ok));
        if (b->n_errors == 0)
            json_object_del(body, "error");
        status = srv_reply_json(r, b->n_errors && !b->dry_run ? 422 : 200, body);
        body = NULL;
        goto out;
    }
    edu_doc_key(r->srv, dk);
    if (build_all(r->srv, b, &is, sk, dk, dids, built, items) != 0) {
        status = srv_reply_error(r, 503, "busy", "cannot build the credentials", NULL);
        goto out;
    }
    sodium_free(sk); /* every signature is made */
    sk = NULL;
    sodium_memzero(dk, sizeof(dk));
    if (docs_store(c, b, built, edu_now_ms()) != 0) {
        status = edu_db_down(r);
        goto out;
    }
    srv_ledger_run(r->srv, items, b->n, 1);
    docs_drop(c, b, built, items);
    list = json_array();
    refused = json_array();
    for (size_t i = 0; i < b->n; i++) {
        const struct seq_item *it = &items[i];

        if (b->bad[i])
            continue;
        if (it->status == 200) {
            issued++;
            json_array_append_new(
                list, json_pack("{s:I, s:s, s:s, s:I, s:I}", "line", (json_int_t)b->lines[i], "id",
                                built[i].id, "tx_id", it->tx->id_hex, "leaf_index",
                                (json_int_t)it->leaf_index, "height", (json_int_t)it->height));
        } else {
            json_array_append_new(refused,
                                  json_pack("{s:I, s:I, s:s, s:s}", "line", (json_int_t)b->lines[i],
                                            "status", (json_int_t)it->status, "code", it->code,
                                            "message", it->message));
        }
    }
    if (b->single) {
        const struct seq_item *it = &items[0];
        char url[128];

        if (it->status != 200) {
            status = srv_reply_error(r, it->status, it->code, it->message,
                                     it->detail[0] ? it->detail : NULL);
            goto out;
        }
        snprintf(r->tx_id, sizeof(r->tx_id), "%s", it->tx->id_hex);
        snprintf(url, sizeof(url), "/api/edu/credentials/%s/bundle", built[0].id);
        status = srv_reply_json(r, 201,
                                json_pack("{s:s, s:s+, s:s, s:I, s:I, s:s}", "id", built[0].id,
                                          "credential_id", "urn:uuid:", built[0].id, "tx_id",
                                          it->tx->id_hex, "leaf_index", (json_int_t)it->leaf_index,
                                          "height", (json_int_t)it->height, "bundle_url", url));
        goto out;
    }
    if (issued > 0)
        snprintf(r->tx_id, sizeof(r->tx_id), "%s", items[0].tx ? items[0].tx->id_hex : "");
    body = json_pack("{s:I, s:I, s:O, s:I, s:O, s:O}", "rows", (json_int_t)b->n, "issued",
                     (json_int_t)issued, "credentials", list, "errors_total",
                     (json_int_t)b->n_errors, "errors", b->errors, "refused", refused);
    status = srv_reply_json(r, issued > 0 ? 201 : 409, body);
    body = NULL;
out:
    sodium_memzero(dk, sizeof(dk));
    sodium_free(sk);
    for (size_t i = 0; built != NULL && i < b->n; i++)
        free(built[i].doc_hex);
    free(built);
    free(dids);
    srv_items_free(items, b->n);
    json_decref(list);
    json_decref(refused);
    json_decref(body);
    return status;
}

/* ---- POST /api/edu/credentials ----------------------------------------------------------- */

static int student_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
    }
    return 1;
}

/* Validates row i of b from the flat object in. */
static void row_parse(struct batch *b, size_t i, const json_t *in)
{
    char field[64], msg[160];

    if (edu_subject_parse(in, &b->subs[i], field, msg) != 0) {
        add_error(b, i, field, msg);
        return;
    }
    if (b->subs[i].student[0] && !student_id_valid(b->subs[i].student))
        add_error(b, i, "student", "must be the id of a student's account");
}

unsigned edu_issue_one(struct srv_req *r)
{
    struct batch *b = batch_new(1);

    if (b == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    b->n = 1;
    b->single = 1;
    snprintf(b->org, sizeof(b->org), "%s", r->who.acting_org);
    snprintf(b->user, sizeof(b->user), "%s", r->who.username);
    row_parse(b, 0, r->json);
    if (b->n_errors > 0) {
        const json_t *e = json_array_get(b->errors, 0);
        unsigned status = srv_reply_error(r, 422, "invalid_body",
                                          json_string_value(json_object_get(e, "message")),
                                          json_string_value(json_object_get(e, "field")));

        batch_free(b);
        return status;
    }
    return srv_job_start(r, issue_all, b, batch_free);
}

/* ---- POST /api/edu/credentials/batch ----------------------------------------------------- */

/* Header names, English and Chinese. */
static const struct {
    const char *name, *field;
} columns[] = {
    {"kind", "kind"},
    {"name", "name"},
    {"student_number", "student_number"},
    {"degree", "degree"},
    {"major", "major"},
    {"start_date", "start_date"},
    {"end_date", "end_date"},
    {"courses", "courses"},
    {"student", "student"},
    {"valid_until", "valid_until"},
    {"\xe7\xb1\xbb\xe5\x9e\x8b", "kind"},                                /* 类型 */
    {"\xe5\xa7\x93\xe5\x90\x8d", "name"},                                /* 姓名 */
    {"\xe5\xad\xa6\xe5\x8f\xb7", "student_number"},                      /* 学号 */
    {"\xe5\xad\xa6\xe4\xbd\x8d", "degree"},                              /* 学位 */
    {"\xe4\xb8\x93\xe4\xb8\x9a", "major"},                               /* 专业 */
    {"\xe5\x85\xa5\xe5\xad\xa6\xe6\x97\xa5\xe6\x9c\x9f", "start_date"},  /* 入学日期 */
    {"\xe6\xaf\x95\xe4\xb8\x9a\xe6\x97\xa5\xe6\x9c\x9f", "end_date"},    /* 毕业日期 */
    {"\xe8\xaf\xbe\xe7\xa8\x8b", "courses"},                             /* 课程 */
    {"\xe5\xad\xa6\xe7\x94\x9f\xe8\xb4\xa6\xe5\x8f\xb7", "student"},     /* 学生账号 */
    {"\xe6\x9c\x89\xe6\x95\x88\xe6\x9c\x9f\xe8\x87\xb3", "valid_until"}, /* 有效期至 */
};

/* A copy of s without leading and trailing blanks, into out. */
static void trim(const char *s, char *out, size_t cap)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    snprintf(out, cap, "%s", s);
    n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        out[--n] = '\0';
}

/* Maps the header's columns to fields (map[i] = field name or NULL). Returns 0 or -1 with msg. */
static int header_map(const struct edu_csv *csv, const char **map, char *msg, size_t cap)
{
    const struct edu_csv_row *h = &csv->rows[0];
    int have_kind = 0, have_name = 0, have_number = 0;

    if (h->error[0]) {
        snprintf(msg, cap, "%s", h->error);
        return -1;
    }
    for (size_t i = 0; i < h->n; i++) {
        char name[64];
        size_t k = 0;

        trim(edu_csv_cell(csv, h, i), name, sizeof(name));
        while (k < sizeof(columns) / sizeof(columns[0]) && strcasecmp(columns[k].name, name) != 0)
            k++;
        if (k == sizeof(columns) / sizeof(columns[0])) {
            snprintf(msg, cap,
                     "unknown column '%.60s' (known: kind, name, student_number, degree, "
                     "major, start_date, end_date, courses, student, valid_until)",
                     name);
            return -1;
        }
        for (size_t e = 0; e < i; e++) {
            if (map[e] != NULL && strcmp(map[e], columns[k].field) == 0) {
                snprintf(msg, cap, "column %s appears twice", columns[k].field);
                return -1;
            }
        }
        map[i] = columns[k].field;
        have_kind |= strcmp(map[i], "kind") == 0;
        have_name |= strcmp(map[i], "name") == 0;
        have_number |= strcmp(map[i], "student_number") == 0;
    }
    if (!have_kind || !have_name || !have_number) {
        snprintf(msg, cap, "the header needs the columns kind, name and student_number");
        return -1;
    }
    return 0;
}

/* The flat object of one CSV row, for edu_subject_parse. NULL with msg when courses is
 * malformed. */
static json_t *row_object(const struct edu_csv *csv, const struct edu_csv_row *row,
                          const char **map, char msg[160])
{
    json_t *o = json_object();
    char cell[EDU_CSV_MAX_CELL + 1];

    for (size_t i = 0; o != NULL && i < row->n; i++) {
        trim(edu_csv_cell(csv, row, i), cell, sizeof(cell));
        if (cell[0] == '\0')
            continue;
        if (strcmp(map[i], "courses") == 0) {
            json_t *c = edu_courses_from_text(cell, msg);

            if (c == NULL) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, "courses", c);
        } else {
            json_object_set_new(o, map[i], json_string(cell));
        }
    }
    return o;
}

static int flag(struct srv_req *r, const char *name)
{
    const char *v = srv_req_query(r, name);

    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

unsigned edu_issue_batch(struct srv_req *r)
{
    struct edu_csv csv;
    const char *map[EDU_CSV_MAX_COLS + 1] = {0};
    struct batch *b = NULL;
    char msg[300], detail[64];
    size_t line = 0;
    const char *type = srv_req_header(r, "Content-Type");
    unsigned status;
    int rc;

    if (type == NULL || strncasecmp(type, "text/csv", 8) != 0 ||
        (type[8] != '\0' && type[8] != ';' && type[8] != ' '))
        return srv_reply_error(r, 415, "unsupported_media_type", "request body must be text/csv",
                               NULL);
    rc = edu_csv_parse(r->body ? r->body : "", r->body_len, EDU_MAX_ROWS, &csv, &line);
    switch (rc) {
    case EDU_CSV_OK:
        break;
    case EDU_CSV_TOO_MANY:
        snprintf(detail, sizeof(detail), "line %zu", line);
        return srv_reply_error(r, 413, "batch_too_large", "at most 10000 rows per batch", detail);
    case EDU_CSV_EMPTY:
        return srv_reply_error(r, 400, "empty_batch", "the CSV has no header row", NULL);
    case EDU_CSV_UNCLOSED:
        snprintf(detail, sizeof(detail), "line %zu", line);
        return srv_reply_error(r, 400, "malformed_csv", "a quoted field is never closed", detail);
    default:
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    }
    if (csv.n_rows < 2) {
        edu_csv_free(&csv);
        return srv_reply_error(r, 400, "empty_batch", "the CSV has a header but no rows", NULL);
    }
    if (header_map(&csv, map, msg, sizeof(msg)) != 0) {
        edu_csv_free(&csv);
        return srv_reply_error(r, 400, "malformed_csv", msg, "line 1");
    }
    if ((b = batch_new(csv.n_rows - 1)) == NULL) {
        edu_csv_free(&csv);
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    }
    b->n = csv.n_rows - 1;
    snprintf(b->org, sizeof(b->org), "%s", r->who.acting_org);
    snprintf(b->user, sizeof(b->user), "%s", r->who.username);
    b->valid_only = flag(r, "valid_only");
    b->dry_run = flag(r, "dry_run");
    for (size_t i = 0; i < b->n; i++) {
        const struct edu_csv_row *row = &csv.rows[i + 1];
        char cmsg[160];
        json_t *o;

        b->lines[i] = row->line;
        if (row->error[0]) {
            add_error(b, i, "line", row->error);
            continue;
        }
        if ((o = row_object(&csv, row, map, cmsg)) == NULL) {
            add_error(b, i, "courses", cmsg);
            continue;
        }
        row_parse(b, i, o);
        json_decref(o);
    }
    edu_csv_free(&csv);
    status = srv_job_start(r, issue_all, b, batch_free);
    return status;
}
