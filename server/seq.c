/*
 * The sequencer of seq.h. State that only the sequencer thread touches (connection, frontier,
 * head) needs no lock; the queue has one mutex, held only to link or unlink items.
 *
 * Crash safety comes from PostgreSQL: a block's module state, txs, Merkle nodes and block row
 * are one transaction. After any database error the in-memory head is thrown away and reloaded
 * from what was actually committed, since a COMMIT whose answer was lost may have happened.
 */
#define _GNU_SOURCE
#include "seq.h"
#include "db.h"
#include "err.h"
#include "idwindow.h"
#include "keys.h"
#include "leafstore.h"
#include "nodes.h"
#include "server.h"
#include "srv.h"
#include "../chain/merkle.h"
#include "../chain/note.h"
#include "../chain/tx.h"
#include "../modules/module.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_SPARE 4 /* a block's row buffers: txs, nodes, stored, leaves */

struct seq {
    struct srv *srv; /* borrowed */
    pthread_t thread;
    int started;                   /* thread running */
    pthread_mutex_t mu;            /* guards the queue fields below */
    pthread_cond_t wake;           /* queue grew, or stop */
    struct seq_item *first, *last; /* the mempool, FIFO */
    size_t count;                  /* items queued */
    uint64_t first_arrival_us;     /* when the oldest queued item came */
    int stopping;

    /* sequencer thread only */
    PGconn *db;                         /* dedicated connection; NULL when lost */
    int need_reload;                    /* head must be re-read before the next block */
    struct chain_merkle_frontier tree;  /* the log's right edge */
    uint64_t height;                    /* last block's height */
    int empty;                          /* no block yet */
    int64_t last_time_ms;               /* last block's time */
    uint8_t prev[CHAIN_HASH_LEN];       /* SHA-256 of the last checkpoint body */
    struct chain_note_signer *node_key; /* guarded memory */
    struct chain_note_signer *admin_key;
    struct seq_item **batch;      /* block_txs slots */
    struct db_buf spare[N_SPARE]; /* the last block's row buffers, emptied, until idle */
    uint64_t analyze_at;          /* tree size at which to refresh the statistics; 0 = no more */
    pthread_t analyzer;           /* the thread running that ANALYZE */
    int analyzer_started;         /* it was started and not yet joined */

    _Atomic uint64_t pub_height, pub_size; /* head as of the last commit, for readers */
    struct lx_nodecache *nodes;            /* stored Merkle nodes, published with the head */
    struct lx_leafstore *leaves;           /* the leaf copy for proofs; NULL without one */
    struct lx_idwindow window;             /* the newest blocks' ids (the duplicate check) */
    pthread_mutex_t note_mu;               /* guards note */
    char *note;                            /* the last committed checkpoint, for readers */
    uint64_t note_size;                    /* its tree size */
};

static const struct db_stmt seq_stmts[] = {
    {"seq_head", "SELECT height, tree_size, time_ms, checkpoint FROM blocks "
                 "ORDER BY height DESC LIMIT 1"},
    {"seq_dups", "SELECT encode(tx_id, 'hex') FROM txs WHERE tx_id = ANY "
                 "(SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)"},
    {"seq_origin", "SELECT value FROM chain_meta WHERE key = 'origin'"},
    {"seq_set_origin", "INSERT INTO chain_meta (key, value) VALUES ('origin', $1)"},
};

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void seq_item_refuse(struct seq_item *it, unsigned status, const char *code, const char *message,
                     const char *detail)
{
    it->status = status;
    snprintf(it->code, sizeof(it->code), "%s", code);
    snprintf(it->message, sizeof(it->message), "%s", message);
    snprintf(it->detail, sizeof(it->detail), "%s", detail ? detail : "");
}

/* Counts one item decided; the last one calls the submission back. */
static void item_decided(struct seq_item *it)
{
    struct seq_sub *sub = it->sub;

    if (atomic_fetch_sub(&sub->pending, 1) == 1)
        sub->done(sub);
}

/* ---- the database connection -------------------------------------------------------------- */

static int prepare_all(PGconn *c, char *err, size_t errlen)
{
    size_t n;
    const struct db_stmt *mod = srv_stmts(&n);

    for (int pass = 0; pass < 2; pass++) {
        const struct db_stmt *list = pass ? mod : seq_stmts;
        size_t count = pass ? n : sizeof(seq_stmts) / sizeof(seq_stmts[0]);

        for (size_t i = 0; i < count; i++) {
            PGresult *r = PQprepare(c, list[i].name, list[i].sql, 0, NULL);
            int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

            if (!ok)
                snprintf(err, errlen, "cannot prepare %s: %s", list[i].name,
                         PQresultErrorMessage(r));
            PQclear(r);
            if (!ok)
                return SRV_EDB;
        }
    }
    return 0;
}

static int ensure_db(struct seq *q, char *err, size_t errlen)
{
    /* a pipeline cut short leaves its connection in pipeline mode: start afresh */
    if (q->db != NULL && PQstatus(q->db) == CONNECTION_OK &&
        PQpipelineStatus(q->db) == PQ_PIPELINE_OFF)
        return 0;
    PQfinish(q->db);
    q->db = db_connect(q->srv->cfg.db, err, errlen);
    if (q->db == NULL)
        return SRV_EDB;
    if (prepare_all(q->db, err, errlen) != 0) {
        PQfinish(q->db);
        q->db = NULL;
        return SRV_EDB;
    }
    q->need_reload = 1;
    return 0;
}

static int exec_simple(PGconn *c, const char *sql)
{
    char err[256];

    return db_exec(c, sql, err, sizeof(err));
}

/* ---- loading the head ----------------------------------------------------------------------- */

/* Body of a signed note: up to and including the line before the blank line. */
static size_t note_body_len(const char *note)
{
    const char *blank = strstr(note, "\n\n");

    return blank ? (size_t)(blank - note) + 1 : 0;
}

static int load_frontier(struct seq *q, uint64_t size, char *err, size_t errlen)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][CHAIN_HASH_LEN];
    size_t n = 0;
    int rc;

    if (chain_merkle_frontier_plan(size, ids, CHAIN_MERKLE_PLAN_MAX, &n) != 0) {
        snprintf(err, errlen, "cannot plan the frontier of size %" PRIu64, size);
        return SRV_EINVAL;
    }
    rc = lx_nodes_fetch(q->db, NULL, NULL, 0, ids, n, hashes);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the frontier of size %" PRIu64 " (%s)", size,
                 rc == LX_NODES_DB ? PQerrorMessage(q->db) : "nodes or leaves missing");
        return SRV_EDB;
    }
    if (chain_merkle_frontier_from_plan(&q->tree, size, (const uint8_t(*)[CHAIN_HASH_LEN])hashes,
                                        n) != 0)
        return SRV_EDB;
    return 0;
}

/* Makes note (stolen), of a tree of size size, the checkpoint readers get from seq_checkpoint. */
static void publish_note(struct seq *q, char *note, uint64_t size)
{
    char *old;

    pthread_mutex_lock(&q->note_mu);
    old = q->note;
    q->note = note;
    q->note_size = size;
    pthread_mutex_unlock(&q->note_mu);
    free(old);
}

/* Reads the last block and rebuilds the in-memory head from it. */
static int load_head(struct seq *q, char *err, size_t errlen)
{
    PGresult *r = PQexecPrepared(q->db, "seq_head", 0, NULL, NULL, NULL, 0);
    int rc = SRV_EDB;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read the chain head: %s", PQresultErrorMessage(r));
        goto out;
    }
    chain_merkle_frontier_init(&q->tree);
    lx_idwindow_clear(&q->window); /* it must end at the head */
    memset(q->prev, 0, sizeof(q->prev));
    q->empty = PQntuples(r) == 0;
    q->height = 0;
    q->last_time_ms = 0;
    if (!q->empty) {
        const char *note = PQgetvalue(r, 0, 3);

        q->height = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        q->last_time_ms = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        chain_checkpoint_body_hash(note, note_body_len(note), q->prev);
        if (load_frontier(q, strtoull(PQgetvalue(r, 0, 1), NULL, 10), err, errlen) != 0 ||
            lx_nodecache_load(q->nodes, q->db, q->tree.size, err, errlen) != 0)
            goto out;
        publish_note(q, strdup(note), q->tree.size);
    }
    atomic_store(&q->pub_height, q->height);
    atomic_store(&q->pub_size, q->tree.size);
    q->need_reload = 0;
    rc = 0;
out:
    PQclear(r);
    return rc;
}

/* ---- building a block --------------------------------------------------------------------- */

struct block {
    uint64_t height;                   /* this block */
    uint64_t first_leaf;               /* its first leaf */
    int64_t time_ms;                   /* its time */
    struct chain_merkle_frontier tree; /* the frontier as the block grows */
    struct db_buf txs;                 /* COPY rows for txs */
    struct db_buf nodes;               /* COPY rows for merkle_nodes */
    struct db_buf stored;              /* the same nodes as struct stored_node, for the cache */
    struct db_buf leaves;              /* the leaf hashes, for the leaf copy */
    size_t accepted;                   /* txs in the block */
    void *states[16];      /* each module's block state (block_begin), by registry index */
    int began;             /* block_begin was called */
    int in_tx;             /* BEGIN has been sent */
    struct db_chain chain; /* the modules' closing COPYs, then the block's own (write_block) */
    int by_copy;           /* the leaf copy said which ids are new (the duplicate check) */
    uint64_t copy_gen;     /* the generation of the copy's view it used */
};

/* A stored node of the block, kept for the node cache until the block commits. */
struct stored_node {
    unsigned level;
    uint64_t index;
    uint8_t hash[CHAIN_HASH_LEN];
};

/* Nodes below the stored level are not written: they are hashed again from the leaves. */
static int emit_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CHAIN_HASH_LEN])
{
    struct block *b = ctx;
    struct stored_node sn = {level, index, {0}};
    char num[48];

    if (level < LX_NODES_STORED_LEVEL)
        return 0;
    memcpy(sn.hash, hash, CHAIN_HASH_LEN);
    db_buf_put(&b->stored, (const char *)&sn, sizeof(sn));

    snprintf(num, sizeof(num), "%u\t%" PRIu64 "\t", level, index);
    db_buf_puts(&b->nodes, num);
    db_buf_bytea(&b->nodes, hash, CHAIN_HASH_LEN);
    db_buf_put(&b->nodes, "\n", 1);
    return b->nodes.failed ? -1 : 0;
}

/* A txs row, in COPY's binary format. */
static void add_tx_row(struct block *b, const struct chain_tx *tx, uint64_t leaf)
{
    db_bin_row(&b->txs, 9);
    db_bin_int8(&b->txs, (int64_t)leaf);
    db_bin_bytes(&b->txs, tx->leaf_hash, CHAIN_HASH_LEN);
    db_bin_int8(&b->txs, (int64_t)b->height);
    db_bin_bytes(&b->txs, tx->module, strlen(tx->module));
    db_bin_bytes(&b->txs, tx->type, strlen(tx->type));
    db_bin_bytes(&b->txs, tx->org, strlen(tx->org));
    db_bin_bytes(&b->txs, tx->signer, sizeof(tx->signer));
    db_bin_int8(&b->txs, tx->time_ms);
    db_bin_bytes(&b->txs, tx->leaf, tx->leaf_len);
    db_buf_put(&b->leaves, (const char *)tx->leaf_hash, CHAIN_HASH_LEN);
}

/* ---- the duplicate check ----------------------------------------------------------------- */

/* A tx already in the log is refused (409 duplicate_tx). The unique index on txs.tx_id would
 * catch it too, but only by failing the whole block, so each block's ids are looked up first.
 * Asking PostgreSQL about every id cost a tenth of the machine's time per tx in batches
 * (docs/BENCHMARKS.md, sixth round). The leaf copy (server/leafstore.h) indexes every leaf hash,
 * which is the tx id, so it answers first: an id it does not hold is not in the log, and only
 * ids it may hold are asked about. It trails the log by a block or two, so the sequencer keeps
 * the ids of its newest blocks itself (server/idwindow.h). Without the copy, or when it trails
 * by more than the window holds, every id is asked about as before. The unique index stays the
 * last word: a block whose COPY it refuses fails, and the copy is dropped and read again. */

static void refuse_duplicate(struct seq_item *it)
{
    seq_item_refuse(it, 409, "duplicate_tx", "this tx is already in the log", NULL);
}

/* 1 when id may be in the log and PostgreSQL must say; 0 when it is not; -1 when it is (a tx of
 * the window). by_copy 0: every id is asked about. */
static int may_be_known(struct seq *q, int by_copy, uint64_t size, const uint8_t *id)
{
    uint64_t at;

    if (!by_copy)
        return 1;
    if (lx_idwindow_has(&q->window, id))
        return -1;
    return lx_leafstore_find(q->leaves, id, size, &at);
}

/* Refuses the txs already in the log; the ids PostgreSQL must be asked about go in one query,
 * sent with the block's BEGIN in one round trip. When there are none (the leaf copy answered
 * for all), the BEGIN waits for the modules' look-ups (blocks_begin): under load each round
 * trip waits for a core, a fraction of a millisecond. */
static int refuse_known(struct seq *q, struct block *b, struct seq_item **items, size_t n)
{
    struct db_buf arr = {0};
    const char *params[1];
    struct db_call calls[2] = {{NULL, "BEGIN", 0, NULL, NULL, NULL},
                               {"seq_dups", NULL, 1, params, NULL, NULL}};
    PGresult *res[2], *r;
    uint64_t size = 0;
    size_t asked = 0;
    int rc;

    if (q->leaves != NULL) {
        lx_leafstore_view(q->leaves, &size, &b->copy_gen);
        b->by_copy = lx_idwindow_covers(&q->window, size, q->tree.size);
    }
    db_buf_put(&arr, "{", 1);
    for (size_t i = 0; i < n; i++) {
        int known =
            items[i]->status == 0 ? may_be_known(q, b->by_copy, size, items[i]->tx->leaf_hash) : 0;

        if (known == -1)
            refuse_duplicate(items[i]);
        if (known != 1)
            continue;
        if (asked++)
            db_buf_put(&arr, ",", 1);
        db_buf_puts(&arr, items[i]->tx->id_hex);
    }
    db_buf_put(&arr, "}", 1);
    if (arr.failed) {
        free(arr.p);
        return SRV_ENOMEM;
    }
    params[0] = arr.p;
    /* nothing to ask: the BEGIN goes with the modules' look-ups (blocks_begin) */
    rc = asked > 0 ? db_pipeline(q->db, calls, 2, res) : 0;
    free(arr.p);
    if (rc != 0 || asked == 0)
        return rc;
    b->in_tx = 1;
    PQclear(res[0]);
    r = res[1];
    for (int row = 0; row < PQntuples(r); row++)
        for (size_t i = 0; i < n; i++)
            if (items[i]->status == 0 && strcmp(items[i]->tx->id_hex, PQgetvalue(r, row, 0)) == 0)
                refuse_duplicate(items[i]);
    PQclear(r);
    return 0;
}

/* A tx repeated inside the same batch: every copy after the first is refused. Sorting
 * (id, position) pairs puts equal ids side by side, first position first. */
struct id_pos {
    const uint8_t *id;
    size_t pos;
};

static int cmp_id_pos(const void *a, const void *b)
{
    const struct id_pos *x = a, *y = b;
    int c = memcmp(x->id, y->id, CHAIN_HASH_LEN);

    if (c != 0)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int refuse_repeats(struct seq_item **items, size_t n)
{
    struct id_pos *v = malloc(n * sizeof(*v));

    if (v == NULL)
        return SRV_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = (struct id_pos){items[i]->tx->leaf_hash, i};
    qsort(v, n, sizeof(*v), cmp_id_pos);
    for (size_t i = 1; i < n; i++)
        if (memcmp(v[i - 1].id, v[i].id, CHAIN_HASH_LEN) == 0 && items[v[i].pos]->status == 0)
            refuse_duplicate(items[v[i].pos]);
    free(v);
    return 0;
}

static size_t module_index(const struct lx_module *m)
{
    for (size_t i = 0; i < lx_n_modules; i++)
        if (lx_modules[i] == m)
            return i;
    return 0;
}

/* Lets every module load, in a few queries, what its rules will read in this block; the first
 * to ask sends the block's BEGIN with them, if it is still to be sent, else it is sent here. */
static int blocks_begin(struct seq *q, struct block *b, struct seq_item **items, size_t n)
{
    const struct chain_tx **txs = malloc((n ? n : 1) * sizeof(*txs));
    struct lx_apply_ctx ctx = {.db = q->db,
                               .leaf_index = b->first_leaf,
                               .height = b->height,
                               .block_time_ms = b->time_ms,
                               .begin_pending = !b->in_tx};
    size_t k = 0;
    int rc = 0;

    if (txs == NULL)
        return SRV_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (items[i]->status == 0)
            txs[k++] = items[i]->tx;
    b->began = 1;
    for (size_t m = 0; m < lx_n_modules && m < 16 && rc == 0; m++)
        if (lx_modules[m]->block_begin != NULL)
            rc = lx_modules[m]->block_begin(&ctx, &b->states[m], txs, k);
    free(txs);
    if (rc == 0 && ctx.begin_pending && exec_simple(q->db, "BEGIN") != 0)
        rc = SRV_EDB;
    if (rc == 0 && PQtransactionStatus(q->db) != PQTRANS_INTRANS) {
        srv_log_error("sequencer: a module's block_begin left no transaction open");
        rc = SRV_EDB; /* it cleared begin_pending without sending BEGIN */
    }
    b->in_tx = 1;
    return rc;
}

/* commit = 1: modules write what they buffered (inside the block's transaction), or add it to
 * the block's chain of COPYs; 0: discard. */
static int blocks_end(struct seq *q, struct block *b, int commit)
{
    struct lx_apply_ctx ctx = {.db = q->db,
                               .leaf_index = b->first_leaf + b->accepted,
                               .height = b->height,
                               .block_time_ms = b->time_ms,
                               .chain = commit ? &b->chain : NULL};
    int rc = 0;

    if (!b->began)
        return 0;
    for (size_t m = 0; m < lx_n_modules && m < 16; m++) {
        int r = 0;

        if (lx_modules[m]->block_end != NULL)
            r = lx_modules[m]->block_end(&ctx, b->states[m], commit && rc == 0);
        b->states[m] = NULL;
        if (r != 0 && rc == 0)
            rc = r;
    }
    b->began = 0;
    return rc;
}

/* Runs the rules of one tx. Returns 0 (accepted or refused, see it->status) or SRV_EDB. */
static int apply_one(struct seq *q, struct block *b, struct seq_item *it)
{
    static size_t core = (size_t)-1;
    struct lx_apply_ctx ctx = {.db = q->db,
                               .leaf_index = b->first_leaf + b->accepted,
                               .height = b->height,
                               .block_time_ms = b->time_ms};
    struct lx_reject why = {0};
    int rc;

    if (core == (size_t)-1)
        core = module_index(lx_module_find("core"));
    ctx.state = b->states[core]; /* identities belong to core */
    rc = lx_authorise(&ctx, it->tx, &why);
    ctx.state = b->states[module_index(it->mod)];
    if (rc == 0 && it->mod->apply != NULL)
        rc = it->mod->apply(&ctx, it->tx, &why);
    if (rc == -1) {
        seq_item_refuse(it, why.status ? why.status : 409, why.code, why.message, NULL);
        return 0;
    }
    if (rc != 0)
        return SRV_EDB;
    if (chain_merkle_frontier_append(&b->tree, it->tx->leaf_hash, emit_node, b) != 0)
        return SRV_ENOMEM;
    add_tx_row(b, it->tx, ctx.leaf_index);
    it->status = 200;
    it->leaf_index = ctx.leaf_index;
    it->height = b->height;
    b->accepted++;
    return 0;
}

static int sign_checkpoint(struct seq *q, struct block *b, uint8_t root[CHAIN_HASH_LEN],
                           char **note)
{
    struct chain_checkpoint cp;
    char *body = NULL;
    int rc;

    memset(&cp, 0, sizeof(cp));
    snprintf(cp.origin, sizeof(cp.origin), "%s", q->srv->cfg.origin);
    cp.size = b->tree.size;
    memcpy(cp.root, root, CHAIN_HASH_LEN);
    cp.height = b->height;
    memcpy(cp.prev, q->prev, CHAIN_HASH_LEN);
    cp.time_ms = b->time_ms;
    rc = chain_checkpoint_format(&cp, &body);
    if (rc == 0)
        rc = chain_note_sign(body, q->node_key->name, q->node_key->sk, note);
    free(body);
    return rc == 0 ? 0 : SRV_ECRYPTO;
}

/* The block row, in COPY's text format. */
static void block_row(struct db_buf *row, const struct block *b, const uint8_t root[CHAIN_HASH_LEN],
                      const char *note)
{
    char nums[128];

    snprintf(nums, sizeof(nums), "%" PRIu64 "\t%" PRIu64 "\t%zu\t%" PRIu64 "\t", b->height,
             b->first_leaf, b->accepted, b->tree.size);
    db_buf_puts(row, nums);
    db_buf_bytea(row, root, CHAIN_HASH_LEN);
    snprintf(nums, sizeof(nums), "\t%" PRId64 "\t", b->time_ms);
    db_buf_puts(row, nums);
    db_buf_text(row, note);
    db_buf_put(row, "\n", 1);
}

/* Writes the block: the modules' COPYs (blocks_end), then its txs, nodes and block row, and the
 * COMMIT, all in one chain of COPYs. */
static int write_block(struct seq *q, struct block *b, const uint8_t root[CHAIN_HASH_LEN],
                       const char *note)
{
    struct db_buf row = {0};
    size_t txs_at = b->chain.n, failed;
    int rc;

    if (b->nodes.failed || b->stored.failed)
        return SRV_ENOMEM;
    block_row(&row, b, root, note);
    db_chain_add(&b->chain,
                 "COPY txs (leaf_index, tx_id, height, module, type, org, signer, time_ms, leaf) "
                 "FROM STDIN (FORMAT binary)",
                 &b->txs, 1, 0);
    db_chain_add(&b->chain, "COPY merkle_nodes (level, idx, hash) FROM STDIN", &b->nodes, 0, 0);
    db_chain_add(&b->chain,
                 "COPY blocks (height, first_leaf, n_txs, tree_size, root, time_ms, checkpoint) "
                 "FROM STDIN",
                 &row, 0, 1);
    rc = db_chain_run(q->db, &b->chain, "COMMIT", &failed);
    if (rc == SRV_ECONFLICT && failed == txs_at && b->by_copy) {
        /* an id the copy did not hold is in the log */
        srv_log_error("sequencer: the leaf copy missed a tx id already in the log; reading it "
                      "again");
        lx_leafstore_damaged(q->leaves, b->copy_gen);
    }
    return rc;
}

/* Hands the committed block's stored nodes to the node cache; if that fails (out of memory),
 * the cache is rebuilt from merkle_nodes before the next block. */
static void publish_stored(struct seq *q, struct block *b)
{
    const struct stored_node *sn = (const struct stored_node *)(void *)b->stored.p;
    size_t n = b->stored.len / sizeof(*sn);

    for (size_t i = 0; i < n; i++)
        if (lx_nodecache_add(q->nodes, sn[i].level, sn[i].index, sn[i].hash) != 0) {
            q->need_reload = 1;
            return;
        }
    lx_nodecache_publish(q->nodes, b->tree.size);
}

/* ---- statistics of a young ledger --------------------------------------------------------- */

/* The sequencer's look-ups (the duplicate check, the keys and principals a block names) are
 * prepared once per connection, and after a few runs PostgreSQL keeps a generic plan made with
 * the statistics of that moment. On a new ledger the tables hold a few rows, so the plan is a
 * sequential scan, and it stays until autovacuum gets round to the tables, a minute or more
 * later: on a fresh node under one tx per request the duplicate check took 6.4 ms a block
 * instead of 0.22. So while the log is young, each time it grows fourfold (from ANALYZE_FIRST
 * leaves to ANALYZE_LAST) a helper thread runs ANALYZE on its own connection, which also makes
 * every backend plan those statements again. Past that, autovacuum's thresholds keep up: once
 * the statistics describe a table of some size, the planner scales them to the table's current
 * size, and the look-ups stay on their indexes. Marks past 65,536 leaves only cost: an ANALYZE
 * at 240,000 leaves took a second of the database's time, in the middle of a load.
 *
 * These statistics only have to steer the planner to the indexes, so they are taken from a
 * tenth of the usual sample (statistics target 10 for this session): at 65,536 leaves an
 * ANALYZE took about 0.6 s of a core with the default, which a batch load paid at every mark.
 * Autovacuum's own ANALYZE later replaces them with full ones. */
#define ANALYZE_FIRST 1024u
#define ANALYZE_LAST  (64u * 1024u)
#define ANALYZE_STEP  4u

static void *analyze_main(void *arg)
{
    struct seq *q = arg;
    char err[256];
    PGconn *c = db_connect(q->srv->cfg.db, err, sizeof(err));

    if (c != NULL) {
        /* two statements, not one string: a string of several runs as one transaction, and
         * ANALYZE would then publish the statistics of every table only at its very end */
        PGresult *r = PQexec(c, "SET default_statistics_target = 10");

        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            PQclear(r);
            r = PQexec(c, "ANALYZE");
        }
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            snprintf(err, sizeof(err), "%s", PQresultErrorMessage(r));
        else
            err[0] = '\0';
        PQclear(r);
        PQfinish(c);
    }
    if (err[0] != '\0') { /* the next doubling tries again */
        err[strcspn(err, "\n")] = '\0';
        srv_log_error("sequencer: ANALYZE of the young ledger failed: %s", err);
    }
    return NULL;
}

/* The first mark above size, or 0 when the log is past ANALYZE_LAST. */
static uint64_t next_analyze_mark(uint64_t size)
{
    uint64_t mark = ANALYZE_FIRST;

    while (mark <= size && mark <= ANALYZE_LAST)
        mark *= ANALYZE_STEP;
    return mark <= ANALYZE_LAST ? mark : 0;
}

/* After a commit: starts the helper when the log has reached the next mark. While the last one
 * still runs this waits; the first commit after it ends starts the next. */
static void maybe_analyze(struct seq *q)
{
    if (q->analyze_at == 0 || q->tree.size < q->analyze_at)
        return;
    if (q->analyzer_started && pthread_tryjoin_np(q->analyzer, NULL) != 0)
        return; /* still running */
    q->analyze_at = next_analyze_mark(q->tree.size);
    q->analyzer_started = pthread_create(&q->analyzer, NULL, analyze_main, q) == 0;
}

/* A block's row buffers are kept for the next one while the node is busy: a block of 1,000 txs
 * writes half a megabyte of COPY rows, and a fresh buffer each time was mapped, grown by copying
 * and faulted in page by page. take_batch frees them after a second idle. */
static void block_buffers(struct block *b, struct db_buf *mine[N_SPARE])
{
    mine[0] = &b->txs;
    mine[1] = &b->nodes;
    mine[2] = &b->stored;
    mine[3] = &b->leaves;
}

static void take_buffers(struct seq *q, struct block *b)
{
    struct db_buf *mine[N_SPARE];

    block_buffers(b, mine);
    for (int i = 0; i < N_SPARE; i++) {
        *mine[i] = q->spare[i];
        memset(&q->spare[i], 0, sizeof(q->spare[i]));
    }
}

static void keep_buffers(struct seq *q, struct block *b)
{
    struct db_buf *mine[N_SPARE];

    block_buffers(b, mine);
    for (int i = 0; i < N_SPARE; i++) {
        if (mine[i]->failed) { /* out of memory once: start small again */
            free(mine[i]->p);
            memset(mine[i], 0, sizeof(*mine[i]));
        }
        q->spare[i] = *mine[i];
        q->spare[i].len = 0;
        if (q->spare[i].p != NULL)
            q->spare[i].p[0] = '\0';
    }
}

static void free_buffers(struct seq *q)
{
    for (int i = 0; i < N_SPARE; i++) {
        free(q->spare[i].p);
        memset(&q->spare[i], 0, sizeof(q->spare[i]));
    }
}

/* Applies, writes and commits one block; decides every item. */
static void build_block(struct seq *q, struct seq_item **items, size_t n)
{
    struct block b;
    uint8_t root[CHAIN_HASH_LEN];
    char *note = NULL, err[256];
    int rc = 0;

    memset(&b, 0, sizeof(b));
    take_buffers(q, &b);
    if (ensure_db(q, err, sizeof(err)) != 0 ||
        (q->need_reload && load_head(q, err, sizeof(err)) != 0)) {
        srv_log_error("sequencer: %s", err);
        rc = SRV_EDB;
        goto out;
    }
    b.height = q->empty ? 0 : q->height + 1;
    b.first_leaf = q->tree.size;
    b.time_ms = wall_ms() > q->last_time_ms ? wall_ms() : q->last_time_ms; /* never backwards */
    b.tree = q->tree;
    if ((rc = refuse_repeats(items, n)) != 0 || (rc = refuse_known(q, &b, items, n)) != 0 ||
        (rc = blocks_begin(q, &b, items, n)) != 0)
        goto out;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (items[i]->status == 0)
            rc = apply_one(q, &b, items[i]);
    if (rc != 0 || b.accepted == 0)
        goto out;
    if ((rc = blocks_end(q, &b, 1)) != 0)
        goto out;
    chain_merkle_frontier_root(&b.tree, root);
    if ((rc = sign_checkpoint(q, &b, root, &note)) != 0 ||
        (rc = write_block(q, &b, root, note)) != 0)
        goto out;
    /* Committed: only now does the head move and does anyone hear of it. */
    lx_leafstore_offer(q->leaves, b.first_leaf,
                       (const uint8_t(*)[CHAIN_HASH_LEN])(const void *)b.leaves.p,
                       b.leaves.failed ? 0 : b.leaves.len / CHAIN_HASH_LEN);
    publish_stored(q, &b);
    if (b.leaves.failed)
        lx_idwindow_clear(&q->window);
    else
        lx_idwindow_add(&q->window, b.first_leaf,
                        (const uint8_t(*)[CHAIN_HASH_LEN])(const void *)b.leaves.p,
                        b.leaves.len / CHAIN_HASH_LEN);
    q->tree = b.tree;
    q->height = b.height;
    q->empty = 0;
    q->last_time_ms = b.time_ms;
    chain_checkpoint_body_hash(note, note_body_len(note), q->prev);
    publish_note(q, note, q->tree.size);
    note = NULL;
    atomic_store(&q->pub_height, q->height);
    atomic_store(&q->pub_size, q->tree.size);
    maybe_analyze(q);
out:
    if (rc != 0 && q->db != NULL) { /* the cause, before the ROLLBACK below replaces it */
        snprintf(err, sizeof(err), "%s", PQerrorMessage(q->db));
        err[strcspn(err, "\n")] = '\0';
    }
    (void)blocks_end(q, &b, 0); /* frees what a failed or empty block left */
    db_chain_free(&b.chain);
    if (q->db != NULL && PQtransactionStatus(q->db) != PQTRANS_IDLE)
        (void)exec_simple(q->db, "ROLLBACK");
    if (rc != 0) {
        if (q->db != NULL)
            srv_log_error("sequencer: block %" PRIu64 " failed: %s", b.height, err);
        q->need_reload = 1; /* what was committed is the truth; re-read it */
    }
    for (size_t i = 0; i < n; i++) {
        if (rc != 0)
            seq_item_refuse(items[i], 503, "db_unavailable",
                            "the ledger could not commit; try again", NULL);
        item_decided(items[i]);
    }
    free(note);
    keep_buffers(q, &b);
}

/* ---- the thread --------------------------------------------------------------------------- */

static uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#define IDLE_TRIM_US 1000000u /* idle this long: give freed memory back */

static void deadline(struct timespec *ts, uint64_t at_us)
{
    ts->tv_sec = (time_t)(at_us / 1000000u);
    ts->tv_nsec = (long)(at_us % 1000000u) * 1000L;
}

/* Waits for a block's worth of txs; returns how many it moved into q->batch (0 = stop). After
 * a second without work it hands the memory freed since the last burst back to the system
 * (once per idle spell): a node that parsed a million txs an hour ago should not still hold
 * the arenas they used, nor the ids of its last blocks (up to 2 MiB, idwindow.h), nor the
 * tables the modules keep for their next block. */
static size_t take_batch(struct seq *q)
{
    size_t max = q->srv->cfg.block_txs, k = 0;
    struct timespec ts;
    int trimmed = 0;

    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->stopping) {
        deadline(&ts, mono_us() + IDLE_TRIM_US);
        if (pthread_cond_timedwait(&q->wake, &q->mu, &ts) == ETIMEDOUT && !trimmed) {
            pthread_mutex_unlock(&q->mu);
            free_buffers(q);
            for (size_t m = 0; m < lx_n_modules; m++)
                if (lx_modules[m]->idle != NULL)
                    lx_modules[m]->idle();
            /* the next block, if the copy still trails, asks PostgreSQL about its ids */
            lx_idwindow_clear(&q->window);
            malloc_trim(0);
            trimmed = 1;
            pthread_mutex_lock(&q->mu);
        }
    }
    deadline(&ts, q->first_arrival_us + (uint64_t)q->srv->cfg.block_ms * 1000u);
    while (q->count > 0 && q->count < max && !q->stopping)
        if (pthread_cond_timedwait(&q->wake, &q->mu, &ts) == ETIMEDOUT)
            break;
    while (q->first != NULL && k < max) {
        q->batch[k++] = q->first;
        q->first = q->first->next;
    }
    if (q->first == NULL)
        q->last = NULL;
    q->count -= k;
    q->first_arrival_us = mono_us(); /* the rest waited long enough already */
    pthread_mutex_unlock(&q->mu);
    return k;
}

static void *seq_main(void *arg)
{
    struct seq *q = arg;
    size_t k;

    while ((k = take_batch(q)) > 0)
        build_block(q, q->batch, k);
    return NULL;
}

void seq_enqueue(struct seq *q, struct seq_sub *sub)
{
    size_t pending = 0;
    int stopping;

    for (size_t i = 0; i < sub->n; i++) {
        sub->items[i].sub = sub;
        sub->items[i].next = NULL;
        if (sub->items[i].status == 0)
            pending++;
    }
    atomic_store(&sub->pending, pending + 1); /* +1: ours, so done waits for the loop below */
    pthread_mutex_lock(&q->mu);
    stopping = q->stopping;
    for (size_t i = 0; i < sub->n && !stopping; i++) {
        struct seq_item *it = &sub->items[i];

        if (it->status != 0)
            continue;
        if (q->last)
            q->last->next = it;
        else {
            q->first = it;
            q->first_arrival_us = mono_us();
        }
        q->last = it;
        q->count++;
    }
    if (!stopping && pending > 0)
        pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
    if (stopping) {
        for (size_t i = 0; i < sub->n; i++) {
            if (sub->items[i].status != 0)
                continue;
            seq_item_refuse(&sub->items[i], 503, "shutting_down", "the node is shutting down",
                            NULL);
            atomic_fetch_sub(&sub->pending, 1);
        }
    }
    if (atomic_fetch_sub(&sub->pending, 1) == 1)
        sub->done(sub);
}

const struct chain_note_signer *seq_admin_key(struct seq *q)
{
    return q ? q->admin_key : NULL;
}

void seq_head(struct seq *q, uint64_t *height, uint64_t *tree_size)
{
    *height = atomic_load(&q->pub_height);
    *tree_size = atomic_load(&q->pub_size);
}

const struct lx_nodecache *seq_nodes(struct seq *q)
{
    return q ? q->nodes : NULL;
}

char *seq_checkpoint(struct seq *q, uint64_t *tree_size)
{
    char *note = NULL;

    if (q == NULL)
        return NULL;
    pthread_mutex_lock(&q->note_mu);
    if (q->note != NULL)
        note = strdup(q->note);
    *tree_size = q->note_size;
    pthread_mutex_unlock(&q->note_mu);
    return note;
}

/* ---- start-up ----------------------------------------------------------------------------- */

static int check_origin(struct seq *q, char *err, size_t errlen)
{
    const char *params[1] = {q->srv->cfg.origin};
    PGresult *r = PQexecPrepared(q->db, "seq_origin", 0, NULL, NULL, NULL, 0);
    int rc = 0;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read chain_meta: %s", PQresultErrorMessage(r));
        rc = SRV_EDB;
    } else if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), q->srv->cfg.origin) != 0) {
        snprintf(err, errlen, "the database holds chain '%s' but LIANXIN_ORIGIN is '%s'",
                 PQgetvalue(r, 0, 0), q->srv->cfg.origin);
        rc = SRV_EINVAL;
    } else if (PQntuples(r) == 0) {
        PQclear(r);
        r = PQexecPrepared(q->db, "seq_set_origin", 1, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "cannot record the origin: %s", PQresultErrorMessage(r));
            rc = SRV_EDB;
        }
    }
    PQclear(r);
    return rc;
}

static int load_keys(struct seq *q, char *err, size_t errlen)
{
    char path[SRV_PATH_MAX + 16];
    int created = 0;

    snprintf(path, sizeof(path), "%s/node.key", q->srv->cfg.data_dir);
    q->node_key = srv_key_load(path, q->srv->cfg.origin, q->empty, &created, err, errlen);
    if (q->node_key == NULL)
        return SRV_ECRYPTO;
    if (created)
        srv_log_error("created the node key %s", path);
    if (strcmp(q->node_key->name, q->srv->cfg.origin) != 0) {
        snprintf(err, errlen, "%s is named '%s', not the chain origin '%s'", path,
                 q->node_key->name, q->srv->cfg.origin);
        return SRV_ECRYPTO;
    }
    snprintf(path, sizeof(path), "%s/admin.key", q->srv->cfg.data_dir);
    q->admin_key = srv_key_load(path, "admin", q->empty, &created, err, errlen);
    if (q->admin_key == NULL)
        return SRV_ECRYPTO;
    if (created)
        srv_log_error("created the consortium admin key %s", path);
    return 0;
}

struct genesis_wait {
    int done;
};

static void genesis_done(struct seq_sub *sub)
{
    ((struct genesis_wait *)sub->ctx)->done = 1;
}

/* The first block: one core/genesis tx naming the admin key and the validators. */
static int make_genesis(struct seq *q, char *err, size_t errlen)
{
    struct chain_note_verifier v;
    char vkey[CHAIN_NOTE_VKEY_MAX], admin_b64[CHAIN_B64_LEN(32) + 1];
    struct seq_item item;
    struct seq_sub sub;
    struct genesis_wait wait = {0};
    struct seq_item *batch[1] = {&item};
    json_t *body, *env;
    int rc;

    if (chain_note_verifier_from_pk(q->node_key->name, srv_key_pub(q->node_key), &v) != 0 ||
        chain_note_verifier_format(&v, vkey, sizeof(vkey)) != 0 ||
        chain_b64_encode(srv_key_pub(q->admin_key), 32, admin_b64, sizeof(admin_b64)) != 0)
        return SRV_ECRYPTO;
    body = json_pack("{s:s, s:[s]}", "admin_key", admin_b64, "validators", vkey);
    env = chain_tx_build(q->srv->cfg.origin, "core", "genesis", "admin", srv_key_pub(q->admin_key),
                         wall_ms(), body);
    memset(&item, 0, sizeof(item));
    rc = env == NULL || chain_tx_sign(env, q->admin_key->sk) != 0 ||
         chain_tx_from_json(env, &item.tx) != 0;
    json_decref(env);
    if (rc) {
        snprintf(err, errlen, "cannot build the genesis tx");
        return SRV_ECRYPTO;
    }
    item.mod = lx_module_find("core");
    sub = (struct seq_sub){.items = &item, .n = 1, .done = genesis_done, .ctx = &wait};
    item.sub = &sub;
    atomic_store(&sub.pending, 1);
    build_block(q, batch, 1);
    chain_tx_free(item.tx);
    if (item.status != 200) {
        snprintf(err, errlen, "genesis refused: %s %s", item.code, item.message);
        return SRV_EDB;
    }
    srv_log_error("created chain %s: genesis block 0, validator key %s", q->srv->cfg.origin, vkey);
    return 0;
}

/* The leaf copy is an accelerator: without it (a read-only data folder, say) proofs are read
 * from PostgreSQL as before, so a failure here is logged, not fatal. */
static void open_leaves(struct seq *q)
{
    char err[256];

    q->leaves = lx_leafstore_open(q->srv->cfg.data_dir, err, sizeof(err));
    if (q->leaves == NULL) {
        srv_log_error("leaf copy off: %s", err);
        return;
    }
    if (lx_leafstore_follow(q->leaves, q->srv->pool, q->nodes) != 0) {
        srv_log_error("leaf copy off: cannot start its thread");
        lx_leafstore_close(q->leaves);
        q->leaves = NULL;
    }
}

struct lx_leafstore *seq_leaves(struct seq *q)
{
    return q ? q->leaves : NULL;
}

int seq_open(struct srv *s, struct seq **out, char *err, size_t errlen)
{
    struct seq *q = calloc(1, sizeof(*q));
    pthread_condattr_t ca;
    int rc;

    if (q == NULL)
        return SRV_ENOMEM;
    q->srv = s;
    q->batch = calloc(s->cfg.block_txs, sizeof(*q->batch));
    q->nodes = lx_nodecache_new();
    pthread_mutex_init(&q->mu, NULL);
    pthread_mutex_init(&q->note_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (q->batch == NULL || q->nodes == NULL) {
        rc = SRV_ENOMEM;
        goto fail;
    }
    if ((rc = ensure_db(q, err, errlen)) != 0 || (rc = check_origin(q, err, errlen)) != 0 ||
        (rc = load_head(q, err, errlen)) != 0 || (rc = load_keys(q, err, errlen)) != 0)
        goto fail;
    if (q->empty && (rc = make_genesis(q, err, errlen)) != 0)
        goto fail;
    open_leaves(q);
    q->analyze_at = next_analyze_mark(q->tree.size);
    if (pthread_create(&q->thread, NULL, seq_main, q) != 0) {
        snprintf(err, errlen, "cannot start the sequencer thread");
        rc = SRV_EIO;
        goto fail;
    }
    q->started = 1;
    *out = q;
    return 0;
fail:
    seq_close(q);
    return rc;
}

void seq_close(struct seq *q)
{
    if (q == NULL)
        return;
    lx_leafstore_close(q->leaves); /* its follower reads the node cache */
    if (q->started) {
        pthread_mutex_lock(&q->mu);
        q->stopping = 1;
        pthread_cond_signal(&q->wake);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->thread, NULL);
    }
    if (q->analyzer_started)
        pthread_join(q->analyzer, NULL);
    PQfinish(q->db);
    srv_key_free(q->node_key);
    srv_key_free(q->admin_key);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->mu);
    pthread_mutex_destroy(&q->note_mu);
    lx_nodecache_free(q->nodes);
    free(q->note);
    free(q->batch);
    free_buffers(q);
    lx_idwindow_clear(&q->window);
    free(q);
}
