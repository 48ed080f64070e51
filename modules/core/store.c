/*
 * Identity state for the core rules, fast. Within a block the sequencer hands core every tx
 * first (core_block_begin): the keys and principals they name are fetched in two queries into
 * an in-memory view, the rules then run against that view, and their inserts are buffered and
 * written with COPY once (core_block_end) — instead of four or five round trips per tx.
 *
 * Correctness rules: every key or principal the block registers enters the view, so a miss in
 * the view is a miss in the database too (then the database is asked); before any tx whose
 * code may read these tables itself (another module, a freeze), the buffers are flushed
 * (core_store_before), and a freeze or unfreeze makes the view ask the database from then on.
 * Without block state (ctx->state NULL) every call goes straight to the database.
 */
#define _GNU_SOURCE
#include "../../chain/chain.h"
#include "../../chain/tx.h"
#include "../../server/db.h"
#include "../../server/err.h"
#include "../module.h"
#include "core_int.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key table holds only the key and where its row is: a block of 1,000 txs looks up 2,000
 * keys at random, and slots carrying the whole row (330 bytes) made the table a fresh megabyte
 * per block, faulted in page by page. */
struct key_slot {
    uint8_t pk[32];
    uint32_t row; /* 1 + index into rows; 0 while the slot is free */
};

struct id_slot {
    char id[72];
    int used;
    int exists;
};

struct core_state {
    struct key_slot *keys; /* open addressing; cap a power of two, at most half full */
    size_t key_cap;
    struct key_row *rows; /* one per key in the table, in the order they came */
    size_t n_rows;
    struct id_slot *ids;
    size_t id_cap;
    int view_valid;           /* 0 after a freeze/unfreeze: ask the database */
    struct db_buf principals; /* rows not yet written, in COPY's binary format */
    struct db_buf keyrows;
    char (*revoked)[2][65]; /* (pubkey hex, leaf) pairs to write */
    size_t n_revoked, revoked_cap;
};

/* ---- the database path ------------------------------------------------------------------ */

static int db_get_key(PGconn *db, const uint8_t key[32], struct key_row *out)
{
    char hex[65];
    const char *params[1] = {hex};
    PGresult *r;

    chain_hex_encode(key, 32, hex);
    r = PQexecPrepared(db, "core_key_get", 1, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return SRV_EDB;
    }
    memset(out, 0, sizeof(*out));
    out->found = PQntuples(r) == 1;
    if (out->found) {
        snprintf(out->principal, sizeof(out->principal), "%s", PQgetvalue(r, 0, 0));
        out->revoked = !PQgetisnull(r, 0, 2);
        out->frozen = !PQgetisnull(r, 0, 3);
        snprintf(out->reason, sizeof(out->reason), "%s", PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    return 0;
}

static int db_has_principal(PGconn *db, const char *id, int *exists)
{
    const char *params[1] = {id};
    PGresult *r = PQexecPrepared(db, "core_principal_get", 1, params, NULL, NULL, 0);

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return SRV_EDB;
    }
    *exists = PQntuples(r) == 1;
    PQclear(r);
    return 0;
}

static int run(PGconn *db, const char *stmt, int n, const char *const *params)
{
    PGresult *r = PQexecPrepared(db, stmt, n, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    PQclear(r);
    return ok ? 0 : SRV_EDB;
}

/* ---- the view --------------------------------------------------------------------------- */

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* The row of key pk; with add, a new empty row when pk is not there yet. NULL when absent, or
 * when the table is half full (every key a block names is entered by core_block_begin, which
 * sizes the table for them, so that means a bug, refused rather than looped on). */
static struct key_row *key_slot(struct core_state *st, const uint8_t pk[32], int add)
{
    size_t i = (size_t)fnv(pk, 32) & (st->key_cap - 1);

    for (;; i = (i + 1) & (st->key_cap - 1)) {
        struct key_slot *s = &st->keys[i];

        if (s->row != 0 && memcmp(s->pk, pk, 32) == 0)
            return &st->rows[s->row - 1];
        if (s->row == 0) {
            if (!add || st->n_rows >= st->key_cap / 2)
                return NULL;
            memcpy(s->pk, pk, 32);
            s->row = (uint32_t)++st->n_rows;
            memset(&st->rows[s->row - 1], 0, sizeof(st->rows[0])); /* tables are reused */
            return &st->rows[s->row - 1];
        }
    }
}

static struct id_slot *id_slot(struct core_state *st, const char *id, int add)
{
    size_t i = (size_t)fnv(id, strlen(id)) & (st->id_cap - 1);

    for (;; i = (i + 1) & (st->id_cap - 1)) {
        struct id_slot *s = &st->ids[i];

        if (s->used && strcmp(s->id, id) == 0)
            return s;
        if (!s->used) {
            if (!add)
                return NULL;
            s->used = 1;
            snprintf(s->id, sizeof(s->id), "%s", id);
            return s;
        }
    }
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 64;

    while (c < n)
        c <<= 1;
    return c;
}

/* The view's tables outlive their block. Allocated afresh for each block (a megabyte for 1,000
 * txs), they came as new pages that the look-ups first read, which maps the shared zero page,
 * and then wrote, which copies it and interrupts the other core to flush its TLB: 3 % of
 * lianxind in batches (docs/BENCHMARKS.md, eleventh round). One set is kept for the next block
 * when it is no more than four times the size that block needs, and freed when the sequencer
 * has been idle for a second (core_idle); the lock only matters if a process ever runs two
 * sequencers. */
struct tables {
    struct key_slot *keys;
    struct key_row *rows;
    struct id_slot *ids;
    size_t cap; /* of keys and of ids; rows has cap / 2 */
};

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tables spare;

static void tables_free(struct tables *t)
{
    free(t->keys);
    free(t->rows);
    free(t->ids);
    *t = (struct tables){0};
}

/* Tables for a block of n txs into st: the spare set, cleared, or new ones. */
static int tables_take(struct core_state *st, size_t n)
{
    size_t cap = pow2_at_least(4 * n + 16);
    struct tables t = {0};

    pthread_mutex_lock(&spare_lock);
    if (spare.cap >= cap && spare.cap <= 4 * cap) {
        t = spare;
        spare = (struct tables){0};
    }
    pthread_mutex_unlock(&spare_lock);
    if (t.keys != NULL) {
        memset(t.keys, 0, t.cap * sizeof(*t.keys));
        memset(t.ids, 0, t.cap * sizeof(*t.ids));
    } else {
        t.cap = cap;
        t.keys = calloc(cap, sizeof(*t.keys));
        t.rows = calloc(cap / 2, sizeof(*t.rows));
        t.ids = calloc(cap, sizeof(*t.ids));
        if (t.keys == NULL || t.rows == NULL || t.ids == NULL) {
            tables_free(&t);
            return SRV_ENOMEM;
        }
    }
    st->keys = t.keys;
    st->rows = t.rows;
    st->ids = t.ids;
    st->key_cap = st->id_cap = t.cap;
    return 0;
}

void core_idle(void)
{
    pthread_mutex_lock(&spare_lock);
    tables_free(&spare);
    pthread_mutex_unlock(&spare_lock);
}

/* Hands st's tables back as the spare set (the one they replace is freed). */
static void tables_give(struct core_state *st)
{
    struct tables t = {st->keys, st->rows, st->ids, st->key_cap};

    if (t.keys == NULL)
        return;
    pthread_mutex_lock(&spare_lock);
    tables_free(&spare);
    spare = t;
    pthread_mutex_unlock(&spare_lock);
}

/* What a block's look-ups ask for: the keys and the principal ids it names, each a binary
 * array parameter (db_bin_array), and how many of each. */
struct wanted {
    struct db_buf keys, ids;
    uint32_t n_keys, n_ids;
};

/* Enters key pk into the view as absent and names it in the look-up array, once per block:
 * a batch of 1,000 diplomas has one signer, and each self-registration is signed by the key it
 * registers. */
static void want_key(struct core_state *st, const uint8_t pk[32], struct wanted *w)
{
    size_t before = st->n_rows;

    if (key_slot(st, pk, 1) == NULL || st->n_rows == before)
        return;
    db_bin_bytes(&w->keys, pk, 32);
    w->n_keys++;
}

/* The same for principal id; only valid ids. */
static void want_id(struct core_state *st, const char *id, struct wanted *w)
{
    if (!core_id_valid(id) || id_slot(st, id, 0) != NULL)
        return;
    id_slot(st, id, 1);
    db_bin_bytes(&w->ids, id, strlen(id));
    w->n_ids++;
}

/* Names worth fetching for one tx: its signer; for core identity txs the body's key and id.
 * Each enters the view as absent; the queries then mark what exists. */
static void collect(struct core_state *st, const struct chain_tx *tx, struct wanted *w)
{
    const char *k, *id;
    uint8_t pk[32];

    want_key(st, tx->signer, w);
    if (strcmp(tx->module, "core") != 0)
        return;
    k = json_string_value(json_object_get(tx->body, "key"));
    if (k != NULL && chain_b64_decode_public(k, strlen(k), pk, 32) == 0)
        want_key(st, pk, w);
    id = json_string_value(json_object_get(tx->body, "id"));
    if (id == NULL)
        id = json_string_value(json_object_get(tx->body, "principal"));
    if (id != NULL)
        want_id(st, id, w);
}

static int load_keys(struct core_state *st, const PGresult *r)
{
    for (int i = 0; i < PQntuples(r); i++) {
        uint8_t pk[32];
        struct key_row *k;

        if (chain_hex_decode(PQgetvalue(r, i, 0), 64, pk, 32) != 0)
            continue;
        if ((k = key_slot(st, pk, 1)) == NULL)
            return SRV_ENOMEM;
        k->found = 1;
        snprintf(k->principal, sizeof(k->principal), "%s", PQgetvalue(r, i, 1));
        k->revoked = strcmp(PQgetvalue(r, i, 2), "t") == 0;
        k->frozen = !PQgetisnull(r, i, 3);
        snprintf(k->reason, sizeof(k->reason), "%s", PQgetvalue(r, i, 3));
    }
    return 0;
}

static void load_ids(struct core_state *st, const PGresult *r)
{
    for (int i = 0; i < PQntuples(r); i++)
        id_slot(st, PQgetvalue(r, i, 0), 1)->exists = 1;
}

/* The keys and the principals a block names, both queries in one round trip; with the block's
 * BEGIN ahead of them when it is still to be sent (saving the sequencer a round trip). */
static int load_view(struct core_state *st, struct lx_apply_ctx *ctx, const struct wanted *w)
{
    const char *kp[1] = {w->keys.p}, *ip[1] = {w->ids.p};
    const int klen[1] = {(int)w->keys.len}, ilen[1] = {(int)w->ids.len}, binary[1] = {1};
    const struct db_call calls[3] = {{NULL, "BEGIN", 0, NULL, NULL, NULL},
                                     {"core_keys_many", NULL, 1, kp, klen, binary},
                                     {"core_principals_many", NULL, 1, ip, ilen, binary}};
    size_t skip = ctx->begin_pending ? 0 : 1;
    PGresult *res[3] = {NULL, NULL, NULL};
    int rc = db_pipeline(ctx->db, calls + skip, 3 - skip, res + skip);

    if (rc == 0) {
        ctx->begin_pending = 0;
        rc = load_keys(st, res[1]);
        load_ids(st, res[2]);
    }
    for (int i = 0; i < 3; i++)
        PQclear(res[i]);
    return rc;
}

int core_block_begin(struct lx_apply_ctx *ctx, void **state, const struct chain_tx *const *txs,
                     size_t n)
{
    struct core_state *st = calloc(1, sizeof(*st));
    struct wanted w = {0};
    int rc = SRV_ENOMEM;

    if (st == NULL)
        return SRV_ENOMEM;
    if (tables_take(st, n) != 0)
        goto out;
    db_bin_array(&w.keys, DB_OID_BYTEA);
    db_bin_array(&w.ids, DB_OID_TEXT);
    for (size_t i = 0; i < n; i++)
        collect(st, txs[i], &w);
    db_bin_array_end(&w.keys, w.n_keys);
    db_bin_array_end(&w.ids, w.n_ids);
    if (w.keys.failed || w.ids.failed || w.keys.len > INT_MAX || w.ids.len > INT_MAX ||
        (rc = load_view(st, ctx, &w)) != 0)
        goto out;
    st->view_valid = 1;
    rc = 0;
out:
    free(w.keys.p);
    free(w.ids.p);
    if (rc != 0) {
        core_block_end(ctx, st, 0);
        st = NULL;
    }
    *state = st;
    return rc;
}

static const char *const copies[2] = {
    "COPY principals (id, kind, type, name, leaf_index) FROM STDIN (FORMAT binary)",
    "COPY keys (pubkey, principal, added_leaf) FROM STDIN (FORMAT binary)"};

/* Writes the buffered rows: principals before the keys that reference them, then revocations
 * (a key added and revoked in the same block exists by then). */
static int flush(struct core_state *st, PGconn *db)
{
    struct db_buf *bufs[2] = {&st->principals, &st->keyrows};

    for (int t = 0; t < 2; t++) {
        int rc = db_copy_in_bin(db, copies[t], bufs[t]);

        if (rc != 0)
            return rc;
        bufs[t]->len = 0;
    }
    for (size_t i = 0; i < st->n_revoked; i++) {
        const char *params[2] = {st->revoked[i][0], st->revoked[i][1]};

        if (run(db, "core_key_revoke", 2, params) != 0)
            return SRV_EDB;
    }
    st->n_revoked = 0;
    return 0;
}

int core_block_end(struct lx_apply_ctx *ctx, void *state, int commit)
{
    struct core_state *st = state;
    int rc = 0;

    if (st == NULL)
        return 0;
    if (commit && ctx->chain != NULL && st->n_revoked == 0) { /* the rows join the block's COPYs */
        db_chain_add(ctx->chain, copies[0], &st->principals, 1, 1);
        db_chain_add(ctx->chain, copies[1], &st->keyrows, 1, 1);
    } else if (commit) {
        rc = flush(st, ctx->db);
    }
    tables_give(st);
    free(st->principals.p);
    free(st->keyrows.p);
    free(st->revoked);
    free(st);
    return rc;
}

/* The identity txs whose reads and writes all go through this file. */
static int served_by_view(const struct chain_tx *tx)
{
    static const char *const types[] = {
        "org.register", "principal.register", "key.add", "key.revoke", "anchor", NULL};

    if (strcmp(tx->module, "core") != 0)
        return 0;
    for (const char *const *t = types; *t; t++)
        if (strcmp(tx->type, *t) == 0)
            return 1;
    return 0;
}

int core_store_before(struct lx_apply_ctx *ctx, const struct chain_tx *tx)
{
    struct core_state *st = ctx->state;
    int rc;

    if (st == NULL || served_by_view(tx))
        return 0;
    if ((rc = flush(st, ctx->db)) != 0)
        return rc;
    if (strcmp(tx->module, "core") == 0 && core_oversight_type(tx->type))
        st->view_valid = 0; /* a freeze changes what keys may do: ask the database from now on */
    return 0;
}

/* ---- the calls the rules make ------------------------------------------------------------ */

int core_store_get_key(struct lx_apply_ctx *ctx, const uint8_t key[32], struct key_row *out)
{
    struct core_state *st = ctx->state;
    struct key_row *k;

    if (st == NULL || !st->view_valid)
        return db_get_key(ctx->db, key, out);
    k = key_slot(st, key, 0);
    if (k == NULL) /* not named by the block's txs: the database knows (nothing buffered) */
        return db_get_key(ctx->db, key, out);
    *out = *k;
    return 0;
}

int core_store_has_principal(struct lx_apply_ctx *ctx, const char *id, int *exists)
{
    struct core_state *st = ctx->state;
    struct id_slot *s;

    if (st == NULL || !st->view_valid)
        return db_has_principal(ctx->db, id, exists);
    s = id_slot(st, id, 0);
    if (s == NULL)
        return db_has_principal(ctx->db, id, exists);
    *exists = s->exists;
    return 0;
}

int core_store_add_principal(struct lx_apply_ctx *ctx, const char *id, const char *kind,
                             const char *type, const char *name)
{
    struct core_state *st = ctx->state;
    struct db_buf *b;

    if (st == NULL || !st->view_valid) { /* one INSERT, with text parameters */
        char leaf[24];
        const char *params[5] = {id, kind, type, name, leaf};

        snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
        return run(ctx->db, "core_principal_add", 5, params);
    }
    b = &st->principals;
    db_bin_row(b, 5);
    db_bin_bytes(b, id, strlen(id));
    db_bin_bytes(b, kind, strlen(kind));
    db_bin_bytes(b, type, strlen(type));
    db_bin_bytes(b, name, strlen(name));
    db_bin_int8(b, (int64_t)ctx->leaf_index);
    id_slot(st, id, 1)->exists = 1;
    return b->failed ? SRV_ENOMEM : 0;
}

int core_store_add_key(struct lx_apply_ctx *ctx, const uint8_t key[32], const char *principal)
{
    struct core_state *st = ctx->state;
    struct key_row *k;
    struct db_buf *b;

    if (st == NULL || !st->view_valid) { /* one INSERT, with text parameters */
        char hex[65], leaf[24];
        const char *params[3] = {hex, principal, leaf};

        chain_hex_encode(key, 32, hex);
        snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
        return run(ctx->db, "core_key_add", 3, params);
    }
    if ((k = key_slot(st, key, 1)) == NULL)
        return SRV_ENOMEM;
    memset(k, 0, sizeof(*k));
    k->found = 1;
    snprintf(k->principal, sizeof(k->principal), "%s", principal);
    b = &st->keyrows;
    db_bin_row(b, 3);
    db_bin_bytes(b, key, 32);
    db_bin_bytes(b, principal, strlen(principal));
    db_bin_int8(b, (int64_t)ctx->leaf_index);
    return b->failed ? SRV_ENOMEM : 0;
}

int core_store_revoke(struct lx_apply_ctx *ctx, const uint8_t key[32])
{
    struct core_state *st = ctx->state;
    char hex[65], leaf[24];
    struct key_row *k;

    chain_hex_encode(key, 32, hex);
    snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
    if (st == NULL || !st->view_valid) {
        const char *params[2] = {hex, leaf};

        return run(ctx->db, "core_key_revoke", 2, params);
    }
    if (st->n_revoked == st->revoked_cap) {
        size_t c = st->revoked_cap ? st->revoked_cap * 2 : 16;
        void *nr = realloc(st->revoked, c * sizeof(*st->revoked));

        if (nr == NULL)
            return SRV_ENOMEM;
        st->revoked = nr;
        st->revoked_cap = c;
    }
    memcpy(st->revoked[st->n_revoked][0], hex, 65);
    memcpy(st->revoked[st->n_revoked][1], leaf, sizeof(leaf));
    st->n_revoked++;
    if ((k = key_slot(st, key, 0)) != NULL)
        k->revoked = 1;
    return 0;
}
