/*
 * The ledger read endpoints of DESIGN §3.3 (shapes in docs/LEDGER.md §6): checkpoints, verifier
 * keys, txs, inclusion and consistency proofs, blocks and the offline bundle. Every answer is
 * built from PostgreSQL alone, through the named statements of CORE_LEDGER_STMTS (core_int.h);
 * a proof is one query for the perfect-subtree hashes that chain/merkle.h plans. Reads race
 * with the sequencer harmlessly: the log is append-only, so a tx is always read before the
 * block it is proved against, and that block holds it.
 */
#include "core_int.h"
#include "bundle.h"

#include "../../chain/jcs.h"
#include "../../chain/merkle.h"
#include "../../chain/tx.h"
#include "../../chain/note.h"
#include "../../server/leafstore.h"
#include "../../server/nodes.h"
#include "../../server/seq.h"
#include "../../server/server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_PLAIN     "text/plain; charset=utf-8"
#define BLOCKS_DEFAULT 20  /* blocks per page when no limit is given */
#define BLOCKS_MAX     100 /* most blocks per page */
#define DIGITS_MAX     19  /* decimal digits of the largest bigint */

/* Internal results of the helpers below (never sent to clients as such). */
enum {
    LA_OK = 0,
    LA_DB = -1,      /* a query failed */
    LA_DATA = -2,    /* the database lacks or garbles rows a committed block implies */
    LA_NOMEM = -3,   /* out of memory */
    LA_NOTFOUND = 1, /* no such row */
};

/* ---- small parsers ---------------------------------------------------------------------- */

/* Parses a plain decimal number (digits only, at most DIGITS_MAX of them, at most INT64_MAX)
 * into *out. Returns 0, or -1 for anything else (NULL, empty, a sign, a space, overflow). */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; s[n] != '\0'; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= DIGITS_MAX)
            return -1;
        v = v * 10 + (uint64_t)(s[n] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = v;
    return 0;
}

/* Reads column col of row as a non-negative integer (bigint/int text). */
static uint64_t col_u64(const PGresult *res, int row, int col)
{
    return strtoull(PQgetvalue(res, row, col), NULL, 10);
}

/* Decodes a bytea column in text form ("\x" + hex) that must hold exactly n bytes into out.
 * Returns 0 or LA_DATA. */
static int col_bytes(const PGresult *res, int row, int col, uint8_t *out, size_t n)
{
    const char *v = PQgetvalue(res, row, col);
    size_t len = (size_t)PQgetlength(res, row, col);

    if (len < 2 || v[0] != '\\' || v[1] != 'x' || chain_hex_decode(v + 2, len - 2, out, n) != 0)
        return LA_DATA;
    return LA_OK;
}

/* Decodes a bytea column holding a JCS leaf and parses it back to JSON. On success *out is a
 * new reference (json_decref it). Returns 0, LA_DATA (not hex, not JSON) or LA_NOMEM. */
static int col_leaf_json(const PGresult *res, int row, int col, json_t **out)
{
    const char *v = PQgetvalue(res, row, col);
    size_t len = (size_t)PQgetlength(res, row, col), n;
    uint8_t *buf;
    int rc;

    if (len < 2 || v[0] != '\\' || v[1] != 'x' || len % 2 != 0)
        return LA_DATA;
    n = (len - 2) / 2;
    buf = malloc(n + 1);
    if (buf == NULL)
        return LA_NOMEM;
    rc = chain_hex_decode(v + 2, len - 2, buf, n) == 0 ? LA_OK : LA_DATA;
    if (rc == LA_OK && chain_jcs_parse((const char *)buf, n, out) != 0)
        rc = LA_DATA;
    free(buf);
    return rc;
}

/* A new JSON string holding the base64 of hash. NULL when out of memory. */
static json_t *b64_json(const uint8_t hash[CHAIN_HASH_LEN])
{
    char b64[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1];

    if (chain_b64_encode(hash, CHAIN_HASH_LEN, b64, sizeof(b64)) != 0)
        return NULL;
    return json_string(b64);
}

/* Runs a named statement with text parameters and text results. Returns the result (PQclear
 * it) when it produced rows, else clears it and returns NULL. */
static PGresult *run(PGconn *c, const char *stmt, int n, const char *const *params)
{
    PGresult *res = PQexecPrepared(c, stmt, n, params, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        srv_log_error("%s failed: %s", stmt, PQerrorMessage(c));
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Answers a helper failure: 503 db_down when the connection is gone, else 500. */
static unsigned reply_failure(struct srv_req *r, PGconn *c, int rc)
{
    if (rc == LA_DB && PQstatus(c) != CONNECTION_OK)
        return srv_reply_error(r, 503, "db_down", "the database did not answer", NULL);
    if (rc == LA_NOMEM)
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    if (rc == LA_DATA)
        return srv_reply_error(r, 500, "internal", "ledger data is missing or damaged", NULL);
    return srv_reply_error(r, 500, "internal", "a database query failed", NULL);
}

/* Takes a pool connection or answers 503; the caller returns the status when *c is NULL. */
static unsigned acquire(struct srv_req *r, PGconn **c)
{
    const char *why = NULL;

    *c = db_acquire(r->srv->pool, 1000, &why);
    if (*c == NULL)
        return srv_reply_error(r, 503, "db_down", why ? why : "the database did not answer", NULL);
    return 0;
}

/* ---- shared lookups --------------------------------------------------------------------- */

/* The head of the log: the latest block. */
struct head {
    uint64_t height;    /* block height */
    uint64_t tree_size; /* log size after it */
    char *checkpoint;   /* its signed note (owned, free()) */
};

/* Loads the latest block into *h. Returns 0, LA_NOTFOUND (no block yet), LA_DB or LA_NOMEM. */
static int load_head(PGconn *c, struct head *h)
{
    PGresult *res = run(c, "core_ledger_head", 0, NULL);

    h->checkpoint = NULL;
    if (res == NULL)
        return LA_DB;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return LA_NOTFOUND;
    }
    h->height = col_u64(res, 0, 0);
    h->tree_size = col_u64(res, 0, 1);
    h->checkpoint = strdup(PQgetvalue(res, 0, 2));
    PQclear(res);
    return h->checkpoint ? LA_OK : LA_NOMEM;
}

/* A stored tx. */
struct tx_row {
    uint64_t leaf_index;                  /* position in the log */
    uint64_t height;                      /* its block */
    uint8_t hash[CHAIN_HASH_LEN];         /* leaf hash = tx id */
    char id_hex[CHAIN_TX_ID_HEX_LEN + 1]; /* lowercase hex of hash */
    json_t *tx;                           /* the leaf parsed back (owned) */
};

/* Looks up the tx named by the route's :id. Returns 0 with *t filled (json_decref t->tx), or
 * the status of the answer it already gave (400 bad_tx_id, 404, 5xx). */
static unsigned load_tx(struct srv_req *r, PGconn *c, struct tx_row *t)
{
    const char *id = srv_req_param(r, "id");
    const char *params[1];
    PGresult *res;
    int rc;

    t->tx = NULL;
    if (id == NULL || chain_hex_decode(id, strlen(id), t->hash, CHAIN_HASH_LEN) != 0)
        return srv_reply_error(r, 400, "bad_tx_id", "a tx id is 64 lowercase hex digits", NULL);
    memcpy(t->id_hex, id, CHAIN_TX_ID_HEX_LEN + 1);
    params[0] = id;
    res = run(c, "core_ledger_tx", 1, params);
    if (res == NULL)
        return reply_failure(r, c, LA_DB);
    if (PQntuples(res) == 0) {
        PQclear(res);
        return srv_reply_error(r, 404, "not_found", "no tx has this id", NULL);
    }
    t->leaf_index = col_u64(res, 0, 0);
    t->height = col_u64(res, 0, 1);
    rc = col_leaf_json(res, 0, 2, &t->tx);
    PQclear(res);
    if (rc != LA_OK)
        return reply_failure(r, c, rc);
    return 0;
}

/* Fetches the hashes of the perfect nodes ids[0..n), in plan order, into hashes[0..n): from
 * the node cache nc (may be NULL), the leaves already read (known), or PostgreSQL (nodes.h).
 * Returns 0, LA_DB, or LA_DATA when a node or leaf is missing or malformed. */
static int fetch_nodes(PGconn *c, const struct lx_nodecache *nc, const struct lx_leaves *known,
                       size_t n_known, const struct chain_merkle_node_id *ids, size_t n,
                       uint8_t (*hashes)[CHAIN_HASH_LEN])
{
    int rc = lx_nodes_fetch(c, nc, known, n_known, ids, n, hashes);

    if (rc == LX_NODES_DATA)
        srv_log_error("merkle: stored nodes or leaves of %zu planned nodes are missing", n);
    return rc == 0 ? LA_OK : rc == LX_NODES_DB ? LA_DB : LA_DATA;
}

/* A JSON array of base64 hashes path[0..n), or NULL when out of memory. */
static json_t *path_json(const uint8_t (*path)[CHAIN_HASH_LEN], size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, b64_json(path[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* The audit path of leaf_index in the tree of size tree_size > leaf_index; see lx_nodes_fetch
 * for where the nodes come from (c may be NULL). Returns 0, LA_DB or LA_DATA. */
static int proof_path(PGconn *c, const struct lx_nodecache *nc, const struct lx_leaves *known,
                      size_t n_known, uint64_t leaf_index, uint64_t tree_size,
                      uint8_t (*path)[CHAIN_HASH_LEN], size_t *n_path)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][CHAIN_HASH_LEN];
    size_t n_ids = 0;
    int rc;

    if (chain_merkle_inclusion_plan(leaf_index, tree_size, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids) != 0)
        return LA_DATA;
    rc = fetch_nodes(c, nc, known, n_known, ids, n_ids, hashes);
    if (rc != LA_OK)
        return rc;
    if (chain_merkle_inclusion_build(leaf_index, tree_size,
                                     (const uint8_t(*)[CHAIN_HASH_LEN])hashes, n_ids, path,
                                     CHAIN_MERKLE_MAX_PATH, n_path) != 0)
        return LA_DATA;
    return LA_OK;
}

/* Builds {"leaf_index","tree_size","leaf_hash","path"} for leaf leaf_index (leaf hash
 * leaf_hash): the proof inside a bundle. *out is new (json_decref it). Returns 0, LA_DB, LA_DATA
 * or LA_NOMEM. */
static int proof_object(uint64_t leaf_index, uint64_t tree_size,
                        const uint8_t leaf_hash[CHAIN_HASH_LEN],
                        const uint8_t (*path)[CHAIN_HASH_LEN], size_t n_path, json_t **out)
{
    json_t *p = json_pack("{s:I, s:I, s:o, s:o}", "leaf_index", (json_int_t)leaf_index, "tree_size",
                          (json_int_t)tree_size, "leaf_hash", b64_json(leaf_hash), "path",
                          path_json(path, n_path));

    if (p == NULL)
        return LA_NOMEM;
    *out = p;
    return LA_OK;
}

/* proof_path, then proof_object. */
static int proof_json(PGconn *c, const struct lx_nodecache *nc, const struct lx_leaves *known,
                      size_t n_known, uint64_t leaf_index, uint64_t tree_size,
                      const uint8_t leaf_hash[CHAIN_HASH_LEN], json_t **out)
{
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    size_t n_path = 0;
    int rc = proof_path(c, nc, known, n_known, leaf_index, tree_size, path, &n_path);

    if (rc != LA_OK)
        return rc;
    return proof_object(leaf_index, tree_size, leaf_hash, (const uint8_t(*)[CHAIN_HASH_LEN])path,
                        n_path, out);
}

/* ---- GET /api/chain/checkpoint, /api/chain/keys ----------------------------------------- */

unsigned core_get_checkpoint(struct srv_req *r)
{
    struct head h = {0};
    PGconn *c = NULL;
    uint64_t size;
    char *note = seq_checkpoint(r->srv->seq, &size); /* the sequencer's copy: no query */
    unsigned status;
    int rc;

    if (note != NULL) {
        status = srv_reply_text(r, 200, TEXT_PLAIN, note, strlen(note));
        free(note);
        return status;
    }
    if ((status = acquire(r, &c)) != 0)
        return status;
    rc = load_head(c, &h);
    if (rc == LA_NOTFOUND)
        status = srv_reply_error(r, 404, "not_found", "the chain has no block yet", NULL);
    else if (rc != LA_OK)
        status = reply_failure(r, c, rc);
    else
        status = srv_reply_text(r, 200, TEXT_PLAIN, h.checkpoint, strlen(h.checkpoint));
    free(h.checkpoint);
    db_release(r->srv->pool, c);
    return status;
}

unsigned core_get_keys(struct srv_req *r)
{
    static const char *const zero[1] = {"0"};
    PGconn *c = NULL;
    PGresult *res = NULL;
    json_t *genesis = NULL, *vals;
    char *text = NULL;
    size_t len = 0, cap = 0;
    unsigned status;
    int rc;

    if ((status = acquire(r, &c)) != 0)
        return status;
    res = run(c, "core_ledger_leaf", 1, zero);
    if (res == NULL) {
        status = reply_failure(r, c, LA_DB);
        goto out;
    }
    if (PQntuples(res) == 0) {
        status = srv_reply_error(r, 404, "not_found", "the chain has no genesis yet", NULL);
        goto out;
    }
    rc = col_leaf_json(res, 0, 1, &genesis);
    vals = json_object_get(json_object_get(genesis, "body"), "validators");
    if (rc != LA_OK || !json_is_array(vals)) {
        status = reply_failure(r, c, rc != LA_OK ? rc : LA_DATA);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(vals); i++) {
        const char *k = json_string_value(json_array_get(vals, i));
        size_t kl = k ? strlen(k) : 0;
        char *nt;

        if (k == NULL)
            continue;
        if (len + kl + 2 > cap) {
            cap = (len + kl + 2) * 2;
            nt = realloc(text, cap);
            if (nt == NULL) {
                status = reply_failure(r, c, LA_NOMEM);
                goto out;
            }
            text = nt;
        }
        memcpy(text + len, k, kl);
        len += kl;
        text[len++] = '\n';
    }
    status = srv_reply_text(r, 200, TEXT_PLAIN, text ? text : "", len);
out:
    free(text);
    json_decref(genesis);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* ---- GET /api/chain/tx/:id -------------------------------------------------------------- */

unsigned core_get_tx(struct srv_req *r)
{
    struct tx_row t = {0};
    PGconn *c = NULL;
    json_t *body;
    unsigned status;

    if ((status = acquire(r, &c)) != 0)
        return status;
    if ((status = load_tx(r, c, &t)) != 0)
        goto out;
    body = json_pack("{s:s, s:I, s:I, s:O}", "tx_id", t.id_hex, "leaf_index",
                     (json_int_t)t.leaf_index, "height", (json_int_t)t.height, "tx", t.tx);
    status = body ? srv_reply_json(r, 200, body) : reply_failure(r, c, LA_NOMEM);
out:
    json_decref(t.tx);
    db_release(r->srv->pool, c);
    return status;
}

/* ---- GET /api/chain/proof/:id[?tree_size=N] --------------------------------------------- */

/* The leaves a proof against the head needs below the stored level: those of the tx's own tile
 * and of the last, partial tile. */
struct proof_leaves {
    uint64_t leaf_index;                                 /* the tx's */
    int found;                                           /* the tx is in the log */
    size_t n;                                            /* leaves read */
    uint64_t index[2 * LX_NODES_TILE];                   /* their positions, ascending */
    uint8_t hash[2 * LX_NODES_TILE][CHAIN_HASH_LEN];     /* their hashes */
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN]; /* the proof built from them */
};

static int cmp_leaf(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t bin_u64(const char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

/* Reads, in one query, the tx's tile and the last tile of the tree of size size. */
static int read_proof_leaves(PGconn *c, const char *id_hex, const uint8_t hash[CHAIN_HASH_LEN],
                             uint64_t size, struct proof_leaves *pl)
{
    char from[24], to[24];
    const char *params[3] = {id_hex, from, to};
    struct {
        uint64_t index;
        uint8_t hash[CHAIN_HASH_LEN];
    } row[2 * LX_NODES_TILE];
    PGresult *res;
    int n;

    snprintf(from, sizeof(from), "%" PRIu64, size / LX_NODES_TILE * LX_NODES_TILE);
    snprintf(to, sizeof(to), "%" PRIu64, size);
    res = PQexecPrepared(c, "core_proof_leaves", 3, params, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return LA_DB;
    }
    n = PQntuples(res);
    if (n > 2 * (int)LX_NODES_TILE) {
        PQclear(res);
        return LA_DATA;
    }
    for (int i = 0; i < n; i++) {
        if (PQgetlength(res, i, 0) != 8 || PQgetlength(res, i, 1) != CHAIN_HASH_LEN) {
            PQclear(res);
            return LA_DATA;
        }
        row[i].index = bin_u64(PQgetvalue(res, i, 0));
        memcpy(row[i].hash, PQgetvalue(res, i, 1), CHAIN_HASH_LEN);
    }
    PQclear(res);
    qsort(row, (size_t)n, sizeof(row[0]), cmp_leaf);
    pl->found = 0;
    pl->n = 0;
    for (int i = 0; i < n; i++) {
        if (row[i].index >= size || (pl->n > 0 && pl->index[pl->n - 1] == row[i].index))
            continue; /* committed after the head was read, or both tiles are one */
        if (memcmp(row[i].hash, hash, CHAIN_HASH_LEN) == 0) {
            pl->found = 1;
            pl->leaf_index = row[i].index;
        }
        pl->index[pl->n] = row[i].index;
        memcpy(pl->hash[pl->n++], row[i].hash, CHAIN_HASH_LEN);
    }
    return LA_OK;
}

/* The runs of consecutive leaves in pl as lx_leaves; returns how many (at most cap). */
static size_t leaf_runs(const struct proof_leaves *pl, struct lx_leaves *runs, size_t cap)
{
    size_t k = 0;

    for (size_t i = 0; i < pl->n && k < cap; i++) {
        if (i == 0 || pl->index[i] != pl->index[i - 1] + 1)
            runs[k++] = (struct lx_leaves){pl->index[i], 0, &pl->hash[i]};
        runs[k - 1].n++;
    }
    return k;
}

/* Appends s to p as the inside of a JSON string, as Jansson would write it; p has room for 6
 * bytes per byte of s. Returns the new end. */
static char *json_escape_to(char *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
        } else if (ch == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (ch < 0x20) {
            p += sprintf(p, "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
        } else {
            *p++ = (char)ch;
        }
    }
    return p;
}

/* Answers GET /api/chain/proof with the proof whose path was built with result rc, and its
 * checkpoint note; c (may be NULL) says why a failed rc failed. The answer is written directly:
 * building and dumping a Jansson tree was a sixth of a proof's CPU. */
static unsigned reply_proof(struct srv_req *r, PGconn *c, int rc, uint64_t leaf_index,
                            uint64_t tree_size, const uint8_t leaf_hash[CHAIN_HASH_LEN],
                            const uint8_t (*path)[CHAIN_HASH_LEN], size_t n_path, const char *note)
{
    enum { B64 = CHAIN_B64_LEN(CHAIN_HASH_LEN) };
    size_t cap = 128 + (n_path + 1) * (B64 + 3) + 6 * strlen(note);
    char *text, *p;
    unsigned status;

    if (rc != LA_OK)
        return reply_failure(r, c, rc);
    if ((text = malloc(cap)) == NULL)
        return srv_reply_error(r, 500, "internal", "out of memory", NULL);
    p = text + sprintf(text,
                       "{\"leaf_index\":%" PRIu64 ",\"tree_size\":%" PRIu64 ",\"leaf_hash\":\"",
                       leaf_index, tree_size);
    if (chain_b64_encode(leaf_hash, CHAIN_HASH_LEN, p, B64 + 1) != 0)
        goto fail;
    p += B64;
    p = stpcpy(p, "\",\"path\":[");
    for (size_t i = 0; i < n_path; i++) {
        *p++ = i ? ',' : '"';
        if (i)
            *p++ = '"';
        if (chain_b64_encode(path[i], CHAIN_HASH_LEN, p, B64 + 1) != 0)
            goto fail;
        p += B64;
        *p++ = '"';
    }
    p = stpcpy(p, "],\"checkpoint\":\"");
    p = json_escape_to(p, note);
    p = stpcpy(p, "\"}");
    status = srv_reply_text(r, 200, "application/json", text, (size_t)(p - text));
    free(text);
    return status;
fail:
    free(text);
    return srv_reply_error(r, 500, "internal", "cannot encode a hash", NULL);
}

/* The leaves of the last partial tile of the tree of size, [size - size % 64, size): every proof
 * at the head needs them, so each thread keeps the last it read. */
static int read_tail(struct lx_leafstore *ls, uint64_t size, uint64_t gen,
                     uint8_t (*out)[CHAIN_HASH_LEN])
{
    static _Thread_local struct {
        uint64_t size, gen;
        uint8_t leaves[LX_NODES_TILE][CHAIN_HASH_LEN];
    } memo;
    size_t n = (size_t)(size % LX_NODES_TILE);

    if (memo.size != size || memo.gen != gen) {
        memo.size = 0;
        if (lx_leafstore_read(ls, size - n, n, memo.leaves) != 0)
            return -1;
        memo.size = size;
        memo.gen = gen;
    }
    memcpy(out, memo.leaves, n * CHAIN_HASH_LEN);
    return 0;
}

/* The proof at the head from the leaf copy (leafstore.h) and the node cache, with no query, and
 * checked against the checkpoint's root before it is sent. 0 when the copy cannot answer (it
 * lags the head, does not hold the tx, or fails the check): the caller then asks PostgreSQL. */
static unsigned proof_from_copy(struct srv_req *r, const uint8_t hash[CHAIN_HASH_LEN])
{
    struct lx_leafstore *ls = seq_leaves(r->srv->seq);
    const struct lx_nodecache *nc = seq_nodes(r->srv->seq);
    uint8_t leaves[2 * LX_NODES_TILE][CHAIN_HASH_LEN], path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    struct lx_leaves runs[2];
    struct chain_checkpoint cp;
    uint64_t size = 0, held, gen, idx, first, tail;
    size_t n_runs = 0, n_path = 0, n_tile;
    const char *blank;
    char *note;
    unsigned status = 0;

    if (ls == NULL)
        return 0;
    lx_leafstore_view(ls, &held, &gen);
    note = seq_checkpoint(r->srv->seq, &size);
    blank = note ? strstr(note, "\n\n") : NULL;
    if (blank == NULL || size == 0 || held < size || lx_nodecache_size(nc) < size ||
        chain_checkpoint_parse(note, (size_t)(blank - note) + 1, &cp) != 0 || cp.size != size ||
        lx_leafstore_find(ls, hash, size, &idx) != 1)
        goto out;
    first = idx - idx % LX_NODES_TILE;
    n_tile = size - first < LX_NODES_TILE ? (size_t)(size - first) : LX_NODES_TILE;
    runs[n_runs++] = (struct lx_leaves){first, n_tile, leaves};
    tail = size - size % LX_NODES_TILE; /* the last partial tile, when it is another one */
    if (tail > first && tail < size)
        runs[n_runs++] = (struct lx_leaves){tail, size - tail, &leaves[LX_NODES_TILE]};
    if (lx_leafstore_read(ls, first, runs[0].n, leaves) != 0 ||
        (n_runs > 1 && read_tail(ls, size, gen, &leaves[LX_NODES_TILE]) != 0))
        goto out;
    if (memcmp(leaves[idx - first], hash, CHAIN_HASH_LEN) != 0 ||
        proof_path(NULL, nc, runs, n_runs, idx, size, path, &n_path) != LA_OK)
        goto out;
    if (chain_merkle_inclusion_verify(idx, size, hash, (const uint8_t(*)[CHAIN_HASH_LEN])path,
                                      n_path, cp.root) != 0) {
        lx_leafstore_damaged(ls, gen);
        goto out;
    }
    status = reply_proof(r, NULL, LA_OK, idx, size, hash, (const uint8_t(*)[CHAIN_HASH_LEN])path,
                         n_path, note);
out:
    free(note);
    return status;
}

/* GET /api/chain/proof/:id against the head, from the sequencer's checkpoint and node cache
 * and one query for the leaves of two tiles. Returns the status of the answer, or 0 when this
 * path cannot serve (no sequencer here, or the tx is newer than the checkpoint read) and the
 * general one must. */
static unsigned proof_at_head(struct srv_req *r, PGconn *c, const char *id_hex,
                              const uint8_t hash[CHAIN_HASH_LEN])
{
    struct proof_leaves *pl;
    struct lx_leaves runs[4];
    uint64_t size = 0;
    char *note = seq_checkpoint(r->srv->seq, &size);
    size_t n_path = 0;
    unsigned status = 0;
    int rc;

    if (note == NULL || size == 0 || lx_nodecache_size(seq_nodes(r->srv->seq)) < size ||
        (pl = malloc(sizeof(*pl))) == NULL) {
        free(note);
        return 0;
    }
    rc = read_proof_leaves(c, id_hex, hash, size, pl);
    if (rc == LA_OK && !pl->found) {
        /* absent, or committed after the checkpoint was read: the general path knows which */
        goto out;
    }
    if (rc == LA_OK)
        rc = proof_path(c, seq_nodes(r->srv->seq), runs, leaf_runs(pl, runs, 4), pl->leaf_index,
                        size, pl->path, &n_path);
    status = reply_proof(r, c, rc, pl->leaf_index, size, hash,
                         (const uint8_t(*)[CHAIN_HASH_LEN])pl->path, n_path, note);
out:
    free(pl);
    free(note);
    return status;
}

unsigned core_get_proof(struct srv_req *r)
{
    const char *want = srv_req_query(r, "tree_size"), *id = srv_req_param(r, "id");
    struct tx_row t = {0};
    struct head h = {0};
    PGconn *c = NULL;
    PGresult *res = NULL;
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    size_t n_path = 0;
    uint64_t size = 0;
    unsigned status;
    int rc, at_head;

    if (want != NULL && parse_u64(want, &size) != 0)
        return srv_reply_error(r, 400, "bad_parameter", "tree_size must be a decimal number", NULL);
    at_head = want == NULL && id != NULL && strlen(id) == CHAIN_TX_ID_HEX_LEN &&
              chain_hex_decode(id, CHAIN_TX_ID_HEX_LEN, t.hash, CHAIN_HASH_LEN) == 0;
    if (at_head && (status = proof_from_copy(r, t.hash)) != 0)
        return status;
    if ((status = acquire(r, &c)) != 0)
        return status;
    if (at_head && (status = proof_at_head(r, c, id, t.hash)) != 0)
        goto out;
    if ((status = load_tx(r, c, &t)) != 0)
        goto out;
    if (want == NULL) {
        rc = load_head(c, &h);
        if (rc != LA_OK) {
            status = reply_failure(r, c, rc == LA_NOTFOUND ? LA_DATA : rc);
            goto out;
        }
        size = h.tree_size;
    } else {
        char prev_leaf[24];
        const char *params[1] = {prev_leaf};

        if (size <= t.leaf_index) {
            status = srv_reply_error(r, 422, "bad_tree_size",
                                     "tree_size must be larger than the tx's leaf index", NULL);
            goto out;
        }
        /* The block of size N is the block holding leaf N-1, if that block ends there. */
        snprintf(prev_leaf, sizeof(prev_leaf), "%" PRIu64, size - 1);
        res = run(c, "core_ledger_block_at_size", 1, params);
        if (res == NULL) {
            status = reply_failure(r, c, LA_DB);
            goto out;
        }
        if (PQntuples(res) == 0 || col_u64(res, 0, 1) != size) {
            status = srv_reply_error(r, 404, "not_found", "no checkpoint has this tree size", NULL);
            goto out;
        }
        h.height = col_u64(res, 0, 0);
        h.tree_size = size;
        h.checkpoint = strdup(PQgetvalue(res, 0, 2));
        if (h.checkpoint == NULL) {
            status = reply_failure(r, c, LA_NOMEM);
            goto out;
        }
    }
    rc = proof_path(c, seq_nodes(r->srv->seq), NULL, 0, t.leaf_index, size, path, &n_path);
    status = reply_proof(r, c, rc, t.leaf_index, size, t.hash,
                         (const uint8_t(*)[CHAIN_HASH_LEN])path, n_path, h.checkpoint);
out:
    json_decref(t.tx);
    free(h.checkpoint);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* ---- GET /api/chain/consistency?from=N&to=M --------------------------------------------- */

unsigned core_get_consistency(struct srv_req *r)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][CHAIN_HASH_LEN];
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    size_t n_ids = 0, n_path = 0;
    struct head h = {0};
    uint64_t from, to;
    PGconn *c = NULL;
    json_t *body;
    unsigned status;
    int rc;

    if (parse_u64(srv_req_query(r, "from"), &from) != 0 ||
        parse_u64(srv_req_query(r, "to"), &to) != 0)
        return srv_reply_error(r, 400, "bad_parameter",
                               "from and to must be given as decimal numbers", NULL);
    if ((status = acquire(r, &c)) != 0)
        return status;
    rc = load_head(c, &h);
    if (rc != LA_OK && rc != LA_NOTFOUND) {
        status = reply_failure(r, c, rc);
        goto out;
    }
    if (from < 1 || from > to || rc == LA_NOTFOUND || to > h.tree_size) {
        char detail[96];

        snprintf(detail, sizeof(detail), "tree size is %" PRIu64,
                 rc == LA_NOTFOUND ? 0 : h.tree_size);
        status = srv_reply_error(r, 422, "bad_range",
                                 "need 1 <= from <= to <= the current tree size", detail);
        goto out;
    }
    if (chain_merkle_consistency_plan(from, to, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids) != 0) {
        status = reply_failure(r, c, LA_DATA);
        goto out;
    }
    rc = fetch_nodes(c, seq_nodes(r->srv->seq), NULL, 0, ids, n_ids, hashes);
    if (rc == LA_OK &&
        chain_merkle_consistency_build(from, to, (const uint8_t(*)[CHAIN_HASH_LEN])hashes, n_ids,
                                       path, CHAIN_MERKLE_MAX_PATH, &n_path) != 0)
        rc = LA_DATA;
    if (rc != LA_OK) {
        status = reply_failure(r, c, rc);
        goto out;
    }
    body = json_pack("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to, "path",
                     path_json((const uint8_t(*)[CHAIN_HASH_LEN])path, n_path));
    status = body ? srv_reply_json(r, 200, body) : reply_failure(r, c, LA_NOMEM);
out:
    free(h.checkpoint);
    db_release(r->srv->pool, c);
    return status;
}

/* ---- GET /api/chain/blocks, /api/chain/blocks/:height ----------------------------------- */

/* {"height","first_leaf","n_txs","tree_size","root","time_ms"} of row i of a result whose first
 * six columns are those of blocks. New reference, or NULL (out of memory, damaged root). */
static json_t *block_json(const PGresult *res, int i)
{
    uint8_t root[CHAIN_HASH_LEN];

    if (col_bytes(res, i, 4, root, sizeof(root)) != 0)
        return NULL;
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:I}", "height", (json_int_t)col_u64(res, i, 0),
                     "first_leaf", (json_int_t)col_u64(res, i, 1), "n_txs",
                     (json_int_t)col_u64(res, i, 2), "tree_size", (json_int_t)col_u64(res, i, 3),
                     "root", b64_json(root), "time_ms",
                     (json_int_t)strtoll(PQgetvalue(res, i, 5), NULL, 10));
}

unsigned core_get_blocks(struct srv_req *r)
{
    const char *lq = srv_req_query(r, "limit"), *bq = srv_req_query(r, "before");
    uint64_t limit = BLOCKS_DEFAULT, before = (uint64_t)INT64_MAX;
    char before_s[24], limit_s[24];
    const char *params[2] = {before_s, limit_s};
    PGconn *c = NULL;
    PGresult *res = NULL;
    json_t *list = NULL, *body, *next;
    unsigned status;
    int n;

    if ((lq != NULL && (parse_u64(lq, &limit) != 0 || limit == 0)) ||
        (bq != NULL && parse_u64(bq, &before) != 0))
        return srv_reply_error(r, 400, "bad_parameter",
                               "limit must be a positive number and before a block height", NULL);
    if (limit > BLOCKS_MAX)
        limit = BLOCKS_MAX;
    snprintf(before_s, sizeof(before_s), "%" PRIu64, before);
    snprintf(limit_s, sizeof(limit_s), "%" PRIu64, limit + 1); /* one more: is there a next page */
    if ((status = acquire(r, &c)) != 0)
        return status;
    res = run(c, "core_ledger_blocks", 2, params);
    if (res == NULL) {
        status = reply_failure(r, c, LA_DB);
        goto out;
    }
    n = PQntuples(res);
    list = json_array();
    for (int i = 0; list != NULL && i < n && (uint64_t)i < limit; i++) {
        if (json_array_append_new(list, block_json(res, i)) != 0) {
            status = reply_failure(r, c, LA_DATA);
            goto out;
        }
    }
    next = (uint64_t)n > limit ? json_integer((json_int_t)col_u64(res, (int)limit - 1, 0))
                               : json_null();
    body = json_pack("{s:O, s:o}", "blocks", list, "next_before", next);
    status = body ? srv_reply_json(r, 200, body) : reply_failure(r, c, LA_NOMEM);
out:
    json_decref(list);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

unsigned core_get_block(struct srv_req *r)
{
    char height_s[24], first_s[24], end_s[24];
    const char *p1[1] = {height_s}, *p2[2] = {first_s, end_s};
    PGconn *c = NULL;
    PGresult *res = NULL, *ids = NULL;
    json_t *block = NULL, *list = NULL;
    uint64_t height;
    unsigned status;

    if (parse_u64(srv_req_param(r, "height"), &height) != 0)
        return srv_reply_error(r, 400, "bad_parameter", "a block height is a decimal number", NULL);
    if ((status = acquire(r, &c)) != 0)
        return status;
    snprintf(height_s, sizeof(height_s), "%" PRIu64, height);
    res = run(c, "core_ledger_block", 1, p1);
    if (res == NULL) {
        status = reply_failure(r, c, LA_DB);
        goto out;
    }
    if (PQntuples(res) == 0) {
        status = srv_reply_error(r, 404, "not_found", "no block has this height", NULL);
        goto out;
    }
    snprintf(first_s, sizeof(first_s), "%s", PQgetvalue(res, 0, 1));
    snprintf(end_s, sizeof(end_s), "%s", PQgetvalue(res, 0, 3));
    ids = run(c, "core_ledger_block_txids", 2, p2);
    if (ids == NULL) {
        status = reply_failure(r, c, LA_DB);
        goto out;
    }
    block = block_json(res, 0);
    list = json_array();
    if (block == NULL || list == NULL || json_object_set(block, "tx_ids", list) != 0 ||
        json_object_set_new(block, "checkpoint", json_string(PQgetvalue(res, 0, 6))) != 0) {
        status = reply_failure(r, c, LA_NOMEM);
        goto out;
    }
    for (int i = 0; i < PQntuples(ids); i++) {
        if (json_array_append_new(list, json_string(PQgetvalue(ids, i, 0))) != 0) {
            status = reply_failure(r, c, LA_NOMEM);
            goto out;
        }
    }
    status = srv_reply_json(r, 200, block);
    block = NULL;
out:
    json_decref(list);
    json_decref(block);
    PQclear(ids);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* ---- GET /api/chain/bundle/:id ---------------------------------------------------------- */

/* Appends to list one key_evidence entry per row of ev (leaf_index, tx_id, leaf), each with its
 * proof against tree_size. Returns 0, LA_DB, LA_DATA or LA_NOMEM. */
static int evidence_json(PGconn *c, const PGresult *ev, uint64_t tree_size, json_t *list)
{
    for (int i = 0; i < PQntuples(ev); i++) {
        uint64_t leaf = col_u64(ev, i, 0);
        uint8_t hash[CHAIN_HASH_LEN];
        char hex[CHAIN_TX_ID_HEX_LEN + 1];
        json_t *tx = NULL, *proof = NULL, *e;
        int rc;

        if (leaf >= tree_size)
            continue; /* committed after the head was read; cannot matter to the tx */
        rc = col_bytes(ev, i, 1, hash, sizeof(hash));
        if (rc == LA_OK)
            rc = col_leaf_json(ev, i, 2, &tx);
        if (rc == LA_OK)
            rc = proof_json(c, NULL, NULL, 0, leaf, tree_size, hash, &proof);
        if (rc != LA_OK) {
            json_decref(tx);
            return rc;
        }
        chain_hex_encode(hash, sizeof(hash), hex);
        e = json_pack("{s:s, s:I, s:o, s:o}", "tx_id", hex, "leaf_index", (json_int_t)leaf, "tx",
                      tx, "proof", proof);
        if (json_array_append_new(list, e) != 0)
            return LA_NOMEM;
    }
    return LA_OK;
}

/* Looks up the tx whose id is the hex id (64 lowercase digits, checked by the caller). Returns
 * 0 with *t filled (json_decref t->tx), LA_NOTFOUND, LA_DB, LA_DATA or LA_NOMEM. */
static int load_tx_hex(PGconn *c, const char *id, struct tx_row *t)
{
    const char *params[1] = {id};
    PGresult *res;
    int rc;

    t->tx = NULL;
    if (chain_hex_decode(id, strlen(id), t->hash, CHAIN_HASH_LEN) != 0)
        return LA_NOTFOUND;
    memcpy(t->id_hex, id, CHAIN_TX_ID_HEX_LEN + 1);
    res = run(c, "core_ledger_tx", 1, params);
    if (res == NULL)
        return LA_DB;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return LA_NOTFOUND;
    }
    t->leaf_index = col_u64(res, 0, 0);
    t->height = col_u64(res, 0, 1);
    rc = col_leaf_json(res, 0, 2, &t->tx);
    PQclear(res);
    return rc;
}

int core_bundle_build(PGconn *c, const char *tx_id_hex, json_t **out)
{
    struct tx_row t = {0};
    struct head h = {0};
    char leaf_s[24];
    const char *params[1] = {leaf_s};
    PGresult *ev = NULL;
    json_t *proof = NULL, *evidence = NULL;
    int rc;

    *out = NULL;
    if ((rc = load_tx_hex(c, tx_id_hex, &t)) != LA_OK)
        goto out;
    rc = load_head(c, &h); /* after the tx: the head then holds it */
    if (rc != LA_OK) {
        rc = rc == LA_NOTFOUND ? LA_DATA : rc;
        goto out;
    }
    snprintf(leaf_s, sizeof(leaf_s), "%" PRIu64, t.leaf_index);
    ev = run(c, "core_ledger_key_evidence", 1, params);
    rc = ev == NULL ? LA_DB : LA_OK;
    if (rc == LA_OK)
        rc = proof_json(c, NULL, NULL, 0, t.leaf_index, h.tree_size, t.hash, &proof);
    if (rc == LA_OK && (evidence = json_array()) == NULL)
        rc = LA_NOMEM;
    if (rc == LA_OK)
        rc = evidence_json(c, ev, h.tree_size, evidence);
    if (rc != LA_OK)
        goto out;
    *out = json_pack("{s:s, s:I, s:I, s:O, s:s, s:O, s:O}", "tx_id", t.id_hex, "leaf_index",
                     (json_int_t)t.leaf_index, "height", (json_int_t)t.height, "tx", t.tx,
                     "checkpoint", h.checkpoint, "proof", proof, "key_evidence", evidence);
    rc = *out != NULL ? LA_OK : LA_NOMEM;
out:
    json_decref(evidence);
    json_decref(proof);
    json_decref(t.tx);
    free(h.checkpoint);
    PQclear(ev);
    return rc;
}

unsigned core_get_bundle(struct srv_req *r)
{
    const char *id = srv_req_param(r, "id");
    uint8_t hash[CHAIN_HASH_LEN];
    PGconn *c = NULL;
    json_t *body = NULL;
    unsigned status;
    int rc;

    if (id == NULL || chain_hex_decode(id, strlen(id), hash, CHAIN_HASH_LEN) != 0)
        return srv_reply_error(r, 400, "bad_tx_id", "a tx id is 64 lowercase hex digits", NULL);
    if ((status = acquire(r, &c)) != 0)
        return status;
    rc = core_bundle_build(c, id, &body);
    if (rc == LA_NOTFOUND)
        status = srv_reply_error(r, 404, "not_found", "no tx has this id", NULL);
    else if (rc != LA_OK)
        status = reply_failure(r, c, rc);
    else
        status = srv_reply_json(r, 200, body);
    db_release(r->srv->pool, c);
    return status;
}
