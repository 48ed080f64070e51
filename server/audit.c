/*
 * The ledger audit of audit.h. Three cursors walk blocks (by height), txs (by leaf index) and
 * merkle_nodes (in the order the append frontier completes them: by the last leaf a node
 * covers, then by level) side by side; a Merkle frontier rebuilt from the leaves is the
 * reference every stored hash, root and checkpoint is compared with. The first disagreement
 * ends the walk with one precise line. A clean ledger is followed by the audit log: its rows in
 * id order, merged with the ledger's audit.anchor txs (whose head ids only grow).
 */
#include "audit.h"
#include "auditlog.h"
#include "nodes.h"

#include "../chain/jcs.h"
#include "../chain/merkle.h"
#include "../chain/note.h"
#include "../chain/tx.h"
#include "../modules/module.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_EVERY 1000 /* a progress line every this many blocks */
#define NOT_A_LEAF     UINT64_MAX

enum {
    AU_OK = 0,
    AU_BAD = 1, /* an inconsistency was reported */
    AU_DB = -1, /* the database failed; reported */
};

/* One server-side cursor, read in batches. */
struct cursor {
    const char *fetch; /* "FETCH n FROM name" */
    PGresult *res;     /* the current batch (owned) */
    int row;           /* next row of res to hand out */
    int done;          /* the cursor is exhausted */
    int held;          /* the current row was looked at and given back: hand it out again */
};

/* Tables whose rows the modules' apply hooks write from the ledger's txs alone (sql/ says
 * "derived from the ledger"). The audit rebuilds them by replaying every tx through the same
 * check, lx_authorise and apply code the sequencer ran, into temporary tables of the same
 * names (pg_temp comes first in the search path, so the modules' statements write there), and
 * compares them with the stored ones row by row. The other tables (users, sessions, cases,
 * documents ...) are not derived from the ledger and cannot be checked against it. */
static const struct derived {
    const char *table; /* as created in sql/ */
    const char *key;   /* the column that names a row in a report */
    const char *label; /* how the report calls that column */
} derived[] = {
    {"principals", "id", "id"},
    {"keys", "pubkey", "pubkey"},
    {"freezes", "target", "target"},
    {"audit_anchors", "head_id", "head_id"},
    {"edu_anchors", "credential_id", "credential_id"},
    {"evidence_ledger_items", "item_id", "item_id"},
    {"evidence_events", "leaf_index", "leaf"},
    {"evidence_anchors", "leaf_index", "leaf"},
};

#define N_DERIVED (sizeof(derived) / sizeof(derived[0]))

struct audit {
    PGconn *c;                                              /* borrowed */
    FILE *out;                                              /* borrowed */
    char origin[CHAIN_NOTE_NAME_MAX + 1];                   /* chain_meta origin, "" if none */
    struct chain_note_verifier known[CHAIN_NOTE_MAX_KNOWN]; /* validators from genesis */
    size_t n_known;                                         /* entries of known */
    struct chain_merkle_frontier f;                         /* rebuilt from the leaves */
    struct cursor blocks, txs, nodes;                       /* the three walks */
    uint64_t height;                                        /* block being checked */
    uint64_t leaf;                                          /* leaf being checked, or NOT_A_LEAF */
    int status;                                             /* AU_OK, or how the walk ended */
    char real[N_DERIVED][160]; /* schema-qualified derived tables, by index of derived[] */
    const char *missing;       /* a derived table that does not exist, or NULL */
    int shadow;                /* the temporary twins and the modules' statements are ready */
};

/* Writes the inconsistency line for the current block/leaf and returns AU_BAD. */
__attribute__((format(printf, 2, 3))) static int bad(struct audit *a, const char *fmt, ...)
{
    va_list ap;

    if (a->leaf != NOT_A_LEAF)
        fprintf(a->out, "audit: INCONSISTENT at block %" PRIu64 ", leaf %" PRIu64 ": ", a->height,
                a->leaf);
    else
        fprintf(a->out, "audit: INCONSISTENT at block %" PRIu64 ": ", a->height);
    va_start(ap, fmt);
    vfprintf(a->out, fmt, ap);
    va_end(ap);
    fputc('\n', a->out);
    a->status = AU_BAD;
    return AU_BAD;
}

/* Reports a failed query and returns AU_DB. */
static int db_fail(struct audit *a, const char *what)
{
    fprintf(a->out, "audit: database error (%s): %s", what, PQerrorMessage(a->c));
    a->status = AU_DB;
    return AU_DB;
}

/* Runs a fixed statement (no parameters) and checks its result status. Returns the result (PQclear
 * it) or NULL after reporting. */
static PGresult *exec(struct audit *a, const char *sql, ExecStatusType want)
{
    PGresult *res = PQexec(a->c, sql);

    if (PQresultStatus(res) != want) {
        PQclear(res);
        db_fail(a, sql);
        return NULL;
    }
    return res;
}

/* Runs statements that return no rows (cursor declarations) in order. AU_OK or AU_DB. */
static int exec_all(struct audit *a, const char *const *sql, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        PGresult *res = exec(a, sql[i], PGRES_COMMAND_OK);

        if (res == NULL)
            return AU_DB;
        PQclear(res);
    }
    return AU_OK;
}

/* Moves cu to its next row. Returns 1 (row available: cu->res, cu->row), 0 at the end, or AU_DB. */
static int cursor_next(struct audit *a, struct cursor *cu)
{
    if (cu->held) {
        cu->held = 0;
        return 1;
    }
    if (cu->res != NULL && cu->row + 1 < PQntuples(cu->res)) {
        cu->row++;
        return 1;
    }
    PQclear(cu->res);
    cu->res = NULL;
    if (cu->done)
        return 0;
    cu->res = exec(a, cu->fetch, PGRES_TUPLES_OK);
    if (cu->res == NULL)
        return AU_DB;
    cu->row = 0;
    if (PQntuples(cu->res) == 0) {
        cu->done = 1;
        PQclear(cu->res);
        cu->res = NULL;
        return 0;
    }
    return 1;
}

static const char *val(const struct cursor *cu, int col)
{
    return PQgetvalue(cu->res, cu->row, col);
}

static uint64_t val_u64(const struct cursor *cu, int col)
{
    return strtoull(val(cu, col), NULL, 10);
}

/* Decodes a text-form bytea ("\x" + hex) of exactly n bytes. Returns 0 or -1. */
static int val_bytes(const struct cursor *cu, int col, uint8_t *out, size_t n)
{
    const char *v = val(cu, col);
    size_t len = strlen(v);

    if (len < 2 || v[0] != '\\' || v[1] != 'x')
        return -1;
    return chain_hex_decode(v + 2, len - 2, out, n) == 0 ? 0 : -1;
}

/* Decodes a text-form bytea of any length into a new buffer (free()), NUL-terminated. Returns
 * 0, -1 for malformed text, or -2 when out of memory. */
static int val_blob(const struct cursor *cu, int col, char **out, size_t *out_len)
{
    const char *v = val(cu, col);
    size_t len = strlen(v), n;

    if (len < 2 || v[0] != '\\' || v[1] != 'x' || len % 2 != 0)
        return -1;
    n = (len - 2) / 2;
    *out = malloc(n + 1);
    if (*out == NULL)
        return -2;
    if (chain_hex_decode(v + 2, len - 2, (uint8_t *)*out, n) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    (*out)[n] = '\0';
    *out_len = n;
    return 0;
}

static void b64(const uint8_t h[CHAIN_HASH_LEN], char out[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1])
{
    if (chain_b64_encode(h, CHAIN_HASH_LEN, out, CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1) != 0)
        out[0] = '\0';
}

/* ---- set-up: origin and validator keys -------------------------------------------------- */

/* Reports an inconsistency that no block or leaf locates (the audit log, chain_meta, the
 * ledger-derived tables) and returns AU_BAD. */
__attribute__((format(printf, 2, 3))) static int bad_log(struct audit *a, const char *fmt, ...)
{
    va_list ap;

    fprintf(a->out, "audit: INCONSISTENT: ");
    va_start(ap, fmt);
    vfprintf(a->out, fmt, ap);
    va_end(ap);
    fputc('\n', a->out);
    a->status = AU_BAD;
    return AU_BAD;
}

/* Reads chain_meta's origin (may be absent: reported later if blocks exist). lianxind writes no
 * other key there, so any other row is reported. */
static int load_origin(struct audit *a)
{
    PGresult *res = exec(a, "SELECT key, value FROM chain_meta ORDER BY key", PGRES_TUPLES_OK);
    int rc = AU_OK;

    if (res == NULL)
        return AU_DB;
    for (int i = 0; i < PQntuples(res) && rc == AU_OK; i++) {
        if (strcmp(PQgetvalue(res, i, 0), "origin") == 0)
            snprintf(a->origin, sizeof(a->origin), "%s", PQgetvalue(res, i, 1));
        else
            rc = bad_log(a, "chain_meta key '%s': lianxind writes no such row",
                         PQgetvalue(res, i, 0));
    }
    PQclear(res);
    return rc;
}

/* Takes the validator keys from the body of the genesis tx (leaf 0). A genesis that does not
 * parse leaves the list empty: the walk then reports leaf 0 precisely, before any checkpoint
 * needs the keys. Returns AU_OK, AU_BAD (reported) or AU_DB. */
static int load_validators(struct audit *a)
{
    struct cursor cu = {0};
    struct chain_tx *tx = NULL;
    const json_t *vals;
    char *leaf = NULL;
    size_t len = 0;
    int rc = AU_OK;

    cu.res = exec(a, "SELECT leaf FROM txs WHERE leaf_index = 0", PGRES_TUPLES_OK);
    if (cu.res == NULL)
        return AU_DB;
    if (PQntuples(cu.res) == 0 || val_blob(&cu, 0, &leaf, &len) != 0 ||
        chain_tx_parse(leaf, len, &tx) != 0)
        goto out; /* the walk will say what is wrong with leaf 0 */
    vals = json_object_get(tx->body, "validators");
    a->height = 0;
    a->leaf = 0;
    if (strcmp(tx->module, "core") != 0 || strcmp(tx->type, "genesis") != 0) {
        rc = bad(a, "txs.leaf is a %s/%s tx, not the core/genesis tx", tx->module, tx->type);
        goto out;
    }
    if (!json_is_array(vals) || json_array_size(vals) == 0 ||
        json_array_size(vals) > CHAIN_NOTE_MAX_KNOWN) {
        rc = bad(a, "the genesis tx does not list between 1 and %d validator keys",
                 CHAIN_NOTE_MAX_KNOWN);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(vals); i++) {
        const char *k = json_string_value(json_array_get(vals, i));

        if (k == NULL || chain_note_verifier_parse(k, &a->known[a->n_known]) != 0) {
            rc = bad(a, "validator key %zu of the genesis tx is malformed", i);
            goto out;
        }
        a->n_known++;
    }
    a->leaf = NOT_A_LEAF;
out:
    chain_tx_free(tx);
    free(leaf);
    PQclear(cu.res);
    return rc;
}

/* ---- Merkle nodes ----------------------------------------------------------------------- */

/* Frontier callback: the node (level, index) was just completed with hash. merkle_nodes stores
 * the nodes of level LX_NODES_STORED_LEVEL and up (server/nodes.h), so the next stored row must
 * be exactly this node with this hash; a lower node is stored only by databases from before
 * that layout, and is then checked the same way when present. */
static int check_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CHAIN_HASH_LEN])
{
    struct audit *a = ctx;
    uint8_t stored[CHAIN_HASH_LEN];
    char want[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1], got[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1];
    uint64_t s_level, s_idx;
    int rc = cursor_next(a, &a->nodes);

    if (rc < 0)
        return AU_DB;
    if (rc == 0 && level < LX_NODES_STORED_LEVEL)
        return AU_OK;
    if (rc == 0)
        return bad(a, "merkle_nodes has no row (level %u, idx %" PRIu64 ")", level, index);
    s_level = val_u64(&a->nodes, 0);
    s_idx = val_u64(&a->nodes, 1);
    if ((s_level != level || s_idx != index) && level < LX_NODES_STORED_LEVEL) {
        a->nodes.held = 1; /* not stored: it is recomputed from the leaves when needed */
        return AU_OK;
    }
    if (s_level != level || s_idx != index)
        return bad(a,
                   "merkle_nodes row (level %u, idx %" PRIu64 ") is missing; the next stored "
                   "node is (level %" PRIu64 ", idx %" PRIu64 ")",
                   level, index, s_level, s_idx);
    b64(hash, want);
    if (val_bytes(&a->nodes, 2, stored, sizeof(stored)) != 0)
        return bad(a, "merkle_nodes (level %u, idx %" PRIu64 ") holds no 32-byte hash", level,
                   index);
    if (memcmp(stored, hash, CHAIN_HASH_LEN) != 0) {
        b64(stored, got);
        if (level == 0)
            return bad(a,
                       "merkle_nodes (level 0, idx %" PRIu64 ") is %s but the leaf hash of "
                       "txs.leaf is %s: this is not the leaf the log committed to here",
                       index, got, want);
        return bad(a, "merkle_nodes (level %u, idx %" PRIu64 ") is %s, recomputed %s", level, index,
                   got, want);
    }
    return AU_OK;
}

/* ---- one leaf --------------------------------------------------------------------------- */

/* Checks leaf i (already positioned: a->leaf = i) of the block in a->height, whose txs row is
 * the cursor's current row, and appends it to the frontier. */
static int check_leaf(struct audit *a)
{
    const struct cursor *cu = &a->txs;
    uint8_t tx_id[CHAIN_HASH_LEN];
    char stored_hex[2 * CHAIN_HASH_LEN + 1];
    struct chain_tx *tx = NULL;
    char *leaf = NULL;
    size_t len = 0;
    int rc = AU_OK, prc;

    if (val_u64(cu, 2) != a->height) {
        rc = bad(a, "txs.height is %s but the leaf lies in block %" PRIu64, val(cu, 2), a->height);
        goto out;
    }
    prc = val_blob(cu, 3, &leaf, &len);
    if (prc == -2) {
        fprintf(a->out, "audit: out of memory\n");
        rc = a->status = AU_DB;
        goto out;
    }
    if (prc != 0) {
        rc = bad(a, "txs.leaf is not readable bytea");
        goto out;
    }
    prc = chain_tx_parse(leaf, len, &tx);
    if (prc != 0) {
        rc = bad(a, "txs.leaf does not parse as a tx: %s", chain_strerror(prc));
        goto out;
    }
    if (tx->leaf_len != len || memcmp(tx->leaf, leaf, len) != 0) {
        rc = bad(a, "txs.leaf is not in canonical (JCS) form");
        goto out;
    }
    if (val_bytes(cu, 1, tx_id, sizeof(tx_id)) != 0) {
        rc = bad(a, "txs.tx_id is not 32 bytes");
        goto out;
    }
    if (memcmp(tx_id, tx->leaf_hash, CHAIN_HASH_LEN) != 0) {
        chain_hex_encode(tx_id, sizeof(tx_id), stored_hex);
        rc = bad(a, "txs.tx_id is %s but the leaf hash of txs.leaf is %s", stored_hex, tx->id_hex);
        goto out;
    }
    if (a->origin[0] != '\0' && strcmp(tx->chain, a->origin) != 0) {
        rc = bad(a, "the tx names chain \"%s\" but chain_meta's origin is \"%s\"", tx->chain,
                 a->origin);
        goto out;
    }
    if (chain_tx_verify_sig(tx) != 0) {
        rc = bad(a, "the signature of tx %s does not verify", tx->id_hex);
        goto out;
    }
    if (a->leaf == 0 && (strcmp(tx->module, "core") != 0 || strcmp(tx->type, "genesis") != 0)) {
        rc = bad(a, "leaf 0 is a %s/%s tx, not the core/genesis tx", tx->module, tx->type);
        goto out;
    }
    if (a->leaf != 0 && strcmp(tx->module, "core") == 0 && strcmp(tx->type, "genesis") == 0) {
        rc = bad(a, "a second genesis tx");
        goto out;
    }
    prc = chain_merkle_frontier_append(&a->f, tx->leaf_hash, check_node, a);
    if (prc != 0)
        rc =
            a->status != AU_OK ? a->status : bad(a, "the log cannot grow: %s", chain_strerror(prc));
out:
    chain_tx_free(tx);
    free(leaf);
    return rc;
}

/* ---- one block -------------------------------------------------------------------------- */

/* Compares the block row (current row of the blocks cursor) with the recomputed root and checks
 * its checkpoint; prev holds SHA-256 of the previous checkpoint body and is advanced. */
static int check_checkpoint(struct audit *a, uint8_t prev[CHAIN_HASH_LEN])
{
    const struct cursor *cu = &a->blocks;
    const char *note = val(cu, 6);
    struct chain_note_opened op;
    struct chain_checkpoint cp;
    uint8_t root[CHAIN_HASH_LEN], stored[CHAIN_HASH_LEN];
    char want[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1], got[CHAIN_B64_LEN(CHAIN_HASH_LEN) + 1];
    uint64_t size = val_u64(cu, 3);
    int rc;

    chain_merkle_frontier_root(&a->f, root);
    b64(root, want);
    if (val_bytes(cu, 4, stored, sizeof(stored)) != 0)
        return bad(a, "blocks.root is not 32 bytes");
    if (memcmp(stored, root, CHAIN_HASH_LEN) != 0) {
        b64(stored, got);
        return bad(a,
                   "blocks.root is %s but the root recomputed from leaves [0, %" PRIu64 ") is %s",
                   got, size, want);
    }
    if (a->n_known == 0)
        return bad(a, "no validator key to check the checkpoint with (genesis tx unusable)");
    rc = chain_note_open(note, strlen(note), a->known, a->n_known, &op);
    if (rc == CHAIN_E_BAD_SIG)
        return bad(a, "the signature on blocks.checkpoint does not verify");
    if (rc == CHAIN_E_UNKNOWN_KEY)
        return bad(a, "blocks.checkpoint is signed by no validator key of the genesis tx");
    if (rc != 0)
        return bad(a, "blocks.checkpoint is not a well-formed signed note: %s", chain_strerror(rc));
    if (chain_checkpoint_parse(op.text, op.text_len, &cp) != 0)
        return bad(a, "the body of blocks.checkpoint is not a checkpoint");
    if (a->origin[0] == '\0')
        return bad(a, "chain_meta has no origin");
    if (strcmp(cp.origin, a->origin) != 0)
        return bad(a, "blocks.checkpoint names origin \"%s\", chain_meta says \"%s\"", cp.origin,
                   a->origin);
    if (cp.size != size)
        return bad(a, "blocks.checkpoint says tree size %" PRIu64 ", blocks.tree_size is %" PRIu64,
                   cp.size, size);
    if (memcmp(cp.root, root, CHAIN_HASH_LEN) != 0) {
        b64(cp.root, got);
        return bad(a, "blocks.checkpoint says root %s, recomputed %s", got, want);
    }
    if (cp.height != a->height)
        return bad(a, "blocks.checkpoint says height %" PRIu64, cp.height);
    if (cp.time_ms != strtoll(val(cu, 5), NULL, 10))
        return bad(a, "blocks.checkpoint says time %" PRId64 ", blocks.time_ms is %s", cp.time_ms,
                   val(cu, 5));
    if (memcmp(cp.prev, prev, CHAIN_HASH_LEN) != 0) {
        b64(cp.prev, got);
        b64(prev, want);
        return bad(a,
                   "blocks.checkpoint says prev %s but the previous checkpoint body hashes to %s",
                   got, want);
    }
    chain_checkpoint_body_hash(op.text, op.text_len, prev);
    return AU_OK;
}

/* Checks the block in the current row of the blocks cursor: its place in the sequence, every
 * leaf it covers, its root and checkpoint. *next_leaf is the first leaf it must cover and is
 * advanced past it. */
static int check_block(struct audit *a, uint64_t *next_leaf, uint8_t prev[CHAIN_HASH_LEN])
{
    const struct cursor *cu = &a->blocks;
    uint64_t height = val_u64(cu, 0), first = val_u64(cu, 1), n = val_u64(cu, 2);
    uint64_t size = val_u64(cu, 3);
    int rc;

    a->leaf = NOT_A_LEAF;
    if (height != a->height)
        return bad(a, "blocks has no row for height %" PRIu64 " (next row is height %" PRIu64 ")",
                   a->height, height);
    if (first != *next_leaf)
        return bad(a, "blocks.first_leaf is %" PRIu64 " but the previous block ended at %" PRIu64,
                   first, *next_leaf);
    if (size != first + n)
        return bad(a, "blocks.tree_size %" PRIu64 " is not first_leaf + n_txs", size);
    for (uint64_t i = first; i < size; i++) {
        a->leaf = i;
        rc = cursor_next(a, &a->txs);
        if (rc < 0)
            return AU_DB;
        if (rc == 0)
            return bad(a, "txs has no row for this leaf (no more rows)");
        if (val_u64(&a->txs, 0) != i)
            return bad(a, "txs has no row for this leaf (next row is leaf %s)", val(&a->txs, 0));
        rc = check_leaf(a);
        if (rc != AU_OK)
            return rc;
    }
    a->leaf = NOT_A_LEAF;
    rc = check_checkpoint(a, prev);
    if (rc != AU_OK)
        return rc;
    *next_leaf = size;
    return AU_OK;
}

/* After the last block: nothing may be left in txs or merkle_nodes. */
static int check_leftovers(struct audit *a, uint64_t size)
{
    int rc = cursor_next(a, &a->txs);

    if (rc < 0)
        return AU_DB;
    if (rc == 1) {
        a->leaf = val_u64(&a->txs, 0);
        return bad(a, "txs has a row beyond the last block's tree size %" PRIu64, size);
    }
    rc = cursor_next(a, &a->nodes);
    if (rc < 0)
        return AU_DB;
    if (rc == 1)
        return bad(a,
                   "merkle_nodes has a row (level %s, idx %s) beyond the last block's tree size "
                   "%" PRIu64,
                   val(&a->nodes, 0), val(&a->nodes, 1), size);
    return AU_OK;
}

/* ---- the audit log ---------------------------------------------------------------------- */

/* The next audit.anchor tx on the ledger (rows of the anchors cursor: leaf_index, leaf). */
struct anchor {
    int have;         /* 1 while an anchor is loaded */
    int64_t head_id;  /* the row it names */
    uint8_t hash[32]; /* the hash it states */
    uint64_t leaf;    /* its leaf index */
    char tx_id[65];   /* its id */
};

/* Loads the next anchor into an. The ledger walk verified every leaf, and the ledger's rules
 * admitted only well-formed anchors, so a leaf that does not read as one is reported. */
static int next_anchor(struct audit *a, struct cursor *cu, struct anchor *an)
{
    struct chain_tx *tx = NULL;
    const char *h;
    char *leaf = NULL;
    size_t len = 0;
    int rc = cursor_next(a, cu);

    an->have = 0;
    if (rc <= 0)
        return rc < 0 ? AU_DB : AU_OK;
    an->leaf = val_u64(cu, 0);
    if (val_blob(cu, 1, &leaf, &len) != 0 || chain_tx_parse(leaf, len, &tx) != 0) {
        free(leaf);
        return bad_log(a, "the audit.anchor tx at leaf %" PRIu64 " does not parse", an->leaf);
    }
    h = json_string_value(json_object_get(tx->body, "head_hash"));
    an->head_id = (int64_t)json_integer_value(json_object_get(tx->body, "head_id"));
    snprintf(an->tx_id, sizeof(an->tx_id), "%s", tx->id_hex);
    rc = h != NULL && an->head_id > 0 &&
         chain_b64_decode_exact(h, strlen(h), an->hash, sizeof(an->hash)) == 0;
    chain_tx_free(tx);
    free(leaf);
    if (!rc)
        return bad_log(a, "the audit.anchor tx at leaf %" PRIu64 " names no head", an->leaf);
    an->have = 1;
    return AU_OK;
}

/* Copies a text column into a row field; a value too long for it cannot be a row the writer
 * made, and is reported by the hash check (the cut value hashes differently). */
static void row_text(const struct cursor *cu, int col, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s", val(cu, col));
}

/* Checks audit_log row by row (ids 1, 2, … without a gap; each prev_hash the previous row's
 * hash; each hash recomputed) and, alongside, every audit.anchor tx of the ledger against the
 * row it names. */
static int walk_log(struct audit *a, struct cursor *rows, struct cursor *anchors, uint64_t *n_rows,
                    uint64_t *n_anchors)
{
    struct srv_auditlog_row row;
    struct anchor an;
    uint8_t prev[32] = {0}, stored[32];
    char want[CHAIN_B64_LEN(32) + 1], got[CHAIN_B64_LEN(32) + 1];
    int64_t id = 0;
    int rc;

    if ((rc = next_anchor(a, anchors, &an)) != AU_OK)
        return rc;
    for (;;) {
        rc = cursor_next(a, rows);
        if (rc < 0)
            return AU_DB;
        if (rc == 0)
            break;
        id++;
        memset(&row, 0, sizeof(row));
        row.id = strtoll(val(rows, 0), NULL, 10);
        if (row.id != id)
            return bad_log(a, "audit_log row %" PRId64 ": missing (the next row is %s)", id,
                           val(rows, 0));
        row.at_ms = strtoll(val(rows, 1), NULL, 10);
        row_text(rows, 2, row.username, sizeof(row.username));
        row_text(rows, 3, row.org, sizeof(row.org));
        row_text(rows, 4, row.role, sizeof(row.role));
        row_text(rows, 5, row.method, sizeof(row.method));
        row_text(rows, 6, row.route, sizeof(row.route));
        row_text(rows, 7, row.target, sizeof(row.target));
        row.status = (unsigned)strtoul(val(rows, 8), NULL, 10);
        row_text(rows, 9, row.tx_id, sizeof(row.tx_id));
        row_text(rows, 10, row.client, sizeof(row.client));
        if (val_bytes(rows, 11, row.prev_hash, 32) != 0 || val_bytes(rows, 12, stored, 32) != 0)
            return bad_log(a, "audit_log row %" PRId64 ": prev_hash or hash is not 32 bytes", id);
        if (memcmp(row.prev_hash, prev, 32) != 0)
            return bad_log(a,
                           "audit_log row %" PRId64 ": prev_hash differs from the hash of row "
                           "%" PRId64,
                           id, id - 1);
        if (srv_auditlog_row_hash(&row) != 0)
            return bad_log(a, "audit_log row %" PRId64 ": a field is not valid UTF-8", id);
        if (memcmp(row.hash, stored, 32) != 0) {
            b64(stored, got);
            b64(row.hash, want);
            return bad_log(a, "audit_log row %" PRId64 ": hash differs (stored %s, recomputed %s)",
                           id, got, want);
        }
        for (; an.have && an.head_id <= id; (*n_anchors)++) {
            if (an.head_id < id)
                return bad_log(a,
                               "the audit.anchor tx at leaf %" PRIu64 " names row %" PRId64
                               " after a later row was anchored",
                               an.leaf, an.head_id);
            if (memcmp(an.hash, stored, 32) != 0) {
                b64(an.hash, want);
                return bad_log(a,
                               "audit_log row %" PRId64 ": hash differs from the one anchored "
                               "on the ledger (%s, tx %s at leaf %" PRIu64 "): the log was "
                               "rewritten up to here",
                               id, want, an.tx_id, an.leaf);
            }
            if ((rc = next_anchor(a, anchors, &an)) != AU_OK)
                return rc;
        }
        memcpy(prev, stored, 32);
    }
    *n_rows = (uint64_t)id;
    if (an.have)
        return bad_log(a,
                       "audit_log row %" PRId64 ": missing, but the ledger anchors it (tx %s "
                       "at leaf %" PRIu64 ")",
                       an.head_id, an.tx_id, an.leaf);
    return AU_OK;
}

static int check_log(struct audit *a)
{
    static const char *const setup[] = {
        "DECLARE audit_log_rows NO SCROLL CURSOR FOR SELECT id, at_ms, username, org, role, "
        "method, route, target, status, tx_id, client, prev_hash, hash FROM audit_log ORDER BY id",
        "DECLARE audit_anchor_txs NO SCROLL CURSOR FOR SELECT leaf_index, leaf FROM txs "
        "WHERE module = 'core' AND type = 'audit.anchor' ORDER BY leaf_index",
    };
    struct cursor rows = {.fetch = "FETCH 2000 FROM audit_log_rows"};
    struct cursor anchors = {.fetch = "FETCH 500 FROM audit_anchor_txs"};
    uint64_t n_rows = 0, n_anchors = 0;
    PGresult *res = exec(a, "SELECT to_regclass('audit_log') IS NOT NULL", PGRES_TUPLES_OK);
    int rc = AU_OK;

    if (res == NULL)
        return AU_DB;
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        PQclear(res);
        fprintf(a->out, "audit: no audit_log table (a database from before the audit log)\n");
        return AU_OK;
    }
    PQclear(res);
    rc = exec_all(a, setup, sizeof(setup) / sizeof(setup[0]));
    if (rc == AU_OK)
        rc = walk_log(a, &rows, &anchors, &n_rows, &n_anchors);
    PQclear(rows.res);
    PQclear(anchors.res);
    if (rc == AU_OK)
        fprintf(a->out,
                "audit: audit_log clean (%" PRIu64 " rows, %" PRIu64 " anchored on the "
                "ledger)\n",
                n_rows, n_anchors);
    return rc;
}

/* ---- the ledger-derived tables ---------------------------------------------------------- */

/* Before the audit's transaction (a read-only one may write temporary tables but not create
 * them): finds each derived table, makes an empty temporary twin of it, and prepares the
 * modules' statements, which then resolve to the twins. Returns AU_OK with a->shadow set,
 * AU_OK with it unset after saying why the derived tables cannot be checked (a hot standby,
 * no TEMP privilege), or AU_DB. A missing table is left for check_derived to report. */
static int shadow_setup(struct audit *a)
{
    static const char find[] = "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
                               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE c.oid = to_regclass($1)";
    char sql[512];
    PGresult *res;
    int made = 1;

    /* One transaction, and no need to wait for its commit to reach the disk: the twins last
     * only as long as this session. */
    if ((res = exec(a, "BEGIN; SET LOCAL synchronous_commit = off", PGRES_COMMAND_OK)) == NULL)
        return AU_DB;
    PQclear(res);
    for (size_t i = 0; i < N_DERIVED && made; i++) {
        const char *name = derived[i].table;

        res = PQexecParams(a->c, find, 1, NULL, &name, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            PQclear(res);
            return db_fail(a, "finding the ledger-derived tables");
        }
        a->real[i][0] = '\0';
        if (PQntuples(res) == 1)
            snprintf(a->real[i], sizeof(a->real[i]), "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (a->real[i][0] == '\0') {
            a->missing = derived[i].table; /* reported by check_derived, after the ledger */
            made = 0;
            break;
        }
        /* Identifiers from the catalog through quote_ident and our own constants: nothing a
         * caller typed reaches this statement. */
        snprintf(sql, sizeof(sql),
                 "CREATE TEMPORARY TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                 "INCLUDING INDEXES)",
                 derived[i].table, a->real[i]);
        res = PQexec(a->c, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(a->out, "audit: the ledger-derived tables are not checked: %s",
                    PQerrorMessage(a->c));
            made = 0;
        }
        PQclear(res);
    }
    res = exec(a, made ? "COMMIT" : "ROLLBACK", PGRES_COMMAND_OK);
    if (res == NULL)
        return AU_DB;
    PQclear(res);
    if (!made)
        return AU_OK;
    for (size_t m = 0; m < lx_n_modules; m++)
        for (size_t i = 0; i < lx_modules[m]->n_stmts; i++) {
            const struct db_stmt *st = &lx_modules[m]->stmts[i];

            res = PQprepare(a->c, st->name, st->sql, 0, NULL);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                PQclear(res);
                return db_fail(a, st->name);
            }
            PQclear(res);
        }
    a->shadow = 1;
    return AU_OK;
}

/* Replays the txs of one block (leaves first .. first + n - 1, parsed in txs) the way the
 * sequencer applied them: every module's block_begin, then per tx its module's check,
 * lx_authorise and apply, then every block_end. A tx the rules refuse now is reported. */
static int replay_block(struct audit *a, uint64_t first, int64_t time_ms, struct chain_tx **txs,
                        size_t n)
{
    struct lx_apply_ctx ctx = {
        .db = a->c, .leaf_index = first, .height = a->height, .block_time_ms = time_ms};
    void **states = calloc(lx_n_modules, sizeof(*states));
    const struct lx_module *core = lx_module_find("core");
    size_t core_i = 0;
    int rc = AU_OK;

    if (states == NULL) {
        fprintf(a->out, "audit: out of memory\n");
        return a->status = AU_DB;
    }
    for (size_t m = 0; m < lx_n_modules; m++)
        if (lx_modules[m] == core)
            core_i = m;
    for (size_t m = 0; m < lx_n_modules && rc == AU_OK; m++)
        if (lx_modules[m]->block_begin != NULL &&
            lx_modules[m]->block_begin(&ctx, &states[m], (const struct chain_tx *const *)txs, n) !=
                0)
            rc = db_fail(a, "replaying the ledger (block_begin)");
    for (size_t i = 0; i < n && rc == AU_OK; i++) {
        const struct lx_module *mod = lx_module_find(txs[i]->module);
        struct lx_reject why = {0};
        size_t mi = 0;
        int r = 0;

        a->leaf = first + i;
        ctx.leaf_index = first + i;
        if (mod == NULL) {
            rc = bad(a, "replaying the ledger: no module \"%s\" in this lianxind", txs[i]->module);
            break;
        }
        while (lx_modules[mi] != mod)
            mi++;
        /* The node makes the genesis tx itself, past the check that guards the submit
         * endpoint (which refuses a genesis); the walk proved it is leaf 0 and only there. */
        if (mod->check != NULL && ctx.leaf_index != 0)
            r = mod->check(txs[i], &why);
        ctx.state = states[core_i];
        if (r == 0)
            r = lx_authorise(&ctx, txs[i], &why);
        ctx.state = states[mi];
        if (r == 0 && mod->apply != NULL)
            r = mod->apply(&ctx, txs[i], &why);
        if (r == -1)
            rc = bad(a, "replaying the ledger, the rules refuse this %s/%s tx: %s (%s)",
                     txs[i]->module, txs[i]->type, why.message, why.code);
        else if (r != 0)
            rc = db_fail(a, "replaying the ledger");
    }
    a->leaf = NOT_A_LEAF;
    for (size_t m = 0; m < lx_n_modules; m++) {
        ctx.state = NULL;
        if (lx_modules[m]->block_end != NULL &&
            lx_modules[m]->block_end(&ctx, states[m], rc == AU_OK) != 0 && rc == AU_OK)
            rc = db_fail(a, "replaying the ledger (block_end)");
    }
    free(states);
    return rc;
}

/* Reads the n leaves of the block in the current row of the blocks cursor (the ledger walk
 * proved them well formed) and replays them. */
static int replay_next_block(struct audit *a, struct cursor *blocks, struct cursor *txs)
{
    uint64_t first = val_u64(blocks, 1), n = val_u64(blocks, 2);
    int64_t time_ms = strtoll(val(blocks, 3), NULL, 10);
    struct chain_tx **parsed = calloc(n ? n : 1, sizeof(*parsed));
    int rc = AU_OK;

    if (parsed == NULL) {
        fprintf(a->out, "audit: out of memory\n");
        return a->status = AU_DB;
    }
    for (uint64_t i = 0; i < n && rc == AU_OK; i++) {
        char *leaf = NULL;
        size_t len = 0;
        int r = cursor_next(a, txs);

        a->leaf = first + i;
        if (r < 0)
            rc = AU_DB;
        else if (r == 0 || val_blob(txs, 1, &leaf, &len) != 0 ||
                 chain_tx_parse(leaf, len, &parsed[i]) != 0)
            rc = bad(a, "the leaf changed while the audit read it"); /* cannot happen: one
                                                                        snapshot */
        free(leaf);
    }
    a->leaf = NOT_A_LEAF;
    if (rc == AU_OK)
        rc = replay_block(a, first, time_ms, parsed, n);
    for (uint64_t i = 0; i < n; i++)
        chain_tx_free(parsed[i]);
    free(parsed);
    return rc;
}

/* Column col of row of res as the report shows it: NULL, or the text form. */
static const char *shown(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? "NULL" : PQgetvalue(res, row, col);
}

/* Reports the first row (by key) where table i and its replayed twin differ, if any. Both
 * EXCEPT ALLs keep duplicates, so a copied row is caught as well as an edited one. */
static int compare_table(struct audit *a, size_t i, long long *rows)
{
    const struct derived *d = &derived[i];
    char sql[1600], key[160];
    int table_row = -1, replay_row = -1, kcol, rc = AU_OK;
    PGresult *res;

    snprintf(sql, sizeof(sql),
             "WITH t AS (SELECT * FROM %1$s EXCEPT ALL SELECT * FROM pg_temp.%2$s), "
             "r AS (SELECT * FROM pg_temp.%2$s EXCEPT ALL SELECT * FROM %1$s), "
             "k AS (SELECT %3$s AS k FROM t UNION ALL SELECT %3$s FROM r ORDER BY 1 LIMIT 1) "
             "SELECT 't' AS audit_side, t.* FROM t, k WHERE t.%3$s = k.k UNION ALL "
             "SELECT 'r', r.* FROM r, k WHERE r.%3$s = k.k",
             a->real[i], d->table, d->key);
    res = exec(a, sql, PGRES_TUPLES_OK);
    if (res == NULL)
        return AU_DB;
    for (int row = 0; row < PQntuples(res); row++) {
        if (PQgetvalue(res, row, 0)[0] == 't' && table_row < 0)
            table_row = row;
        if (PQgetvalue(res, row, 0)[0] == 'r' && replay_row < 0)
            replay_row = row;
    }
    if (PQntuples(res) > 0) {
        const char *k;

        kcol = PQfnumber(res, d->key);
        k = PQgetvalue(res, 0, kcol);
        snprintf(key, sizeof(key), "%s", strncmp(k, "\\x", 2) == 0 ? k + 2 : k);
        if (replay_row < 0)
            rc = bad_log(a, "%s %s %s: the table has this row but no tx of the ledger makes it",
                         d->table, d->label, key);
        else if (table_row < 0)
            rc = bad_log(a, "%s %s %s: missing, but replaying the ledger makes this row", d->table,
                         d->label, key);
        else {
            int col = 1;

            while (col + 1 < PQnfields(res) &&
                   PQgetisnull(res, table_row, col) == PQgetisnull(res, replay_row, col) &&
                   strcmp(PQgetvalue(res, table_row, col), PQgetvalue(res, replay_row, col)) == 0)
                col++;
            rc = bad_log(a, "%s %s %s: %s is %s, replaying the ledger gives %s", d->table, d->label,
                         key, PQfname(res, col), shown(res, table_row, col),
                         shown(res, replay_row, col));
        }
    }
    PQclear(res);
    if (rc != AU_OK)
        return rc;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_temp.%s", d->table);
    if ((res = exec(a, sql, PGRES_TUPLES_OK)) == NULL)
        return AU_DB;
    *rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return AU_OK;
}

/* Replays the whole ledger into the twins, then compares every derived table. Runs in the
 * audit's snapshot, after the walk proved the ledger itself sound. */
static int check_derived(struct audit *a)
{
    static const char *const setup[] = {
        "DECLARE audit_replay_blocks NO SCROLL CURSOR FOR SELECT height, first_leaf, n_txs, "
        "time_ms FROM blocks ORDER BY height",
        "DECLARE audit_replay_txs NO SCROLL CURSOR FOR SELECT leaf_index, leaf FROM txs "
        "ORDER BY leaf_index",
    };
    struct cursor blocks = {.fetch = "FETCH 500 FROM audit_replay_blocks"};
    struct cursor txs = {.fetch = "FETCH 200 FROM audit_replay_txs"};
    long long rows[N_DERIVED] = {0};
    int rc = AU_OK;

    if (a->missing != NULL)
        return bad_log(a, "%s: the ledger-derived table is missing", a->missing);
    if (!a->shadow)
        return AU_OK;
    rc = exec_all(a, setup, sizeof(setup) / sizeof(setup[0]));
    for (a->height = 0; rc == AU_OK; a->height++) {
        int r = cursor_next(a, &blocks);

        if (r <= 0) {
            rc = r < 0 ? AU_DB : AU_OK;
            break;
        }
        rc = replay_next_block(a, &blocks, &txs);
    }
    PQclear(blocks.res);
    PQclear(txs.res);
    for (size_t i = 0; rc == AU_OK && i < N_DERIVED; i++)
        rc = compare_table(a, i, &rows[i]);
    if (rc != AU_OK)
        return rc;
    fprintf(a->out, "audit: ledger-derived tables match a replay of the ledger (");
    for (size_t i = 0; i < N_DERIVED; i++)
        fprintf(a->out, "%s%s %lld", i ? ", " : "", derived[i].table, rows[i]);
    fprintf(a->out, " rows)\n");
    return AU_OK;
}

/* ---- the walk --------------------------------------------------------------------------- */

static int walk(struct audit *a, uint64_t *n_blocks, uint64_t *n_txs)
{
    uint8_t prev[CHAIN_HASH_LEN] = {0};
    uint64_t next_leaf = 0;
    int rc;

    rc = load_origin(a);
    if (rc != AU_OK)
        return rc;
    rc = load_validators(a);
    if (rc != AU_OK)
        return rc;
    fprintf(a->out, "audit: origin \"%s\", %zu validator key%s from the genesis tx\n", a->origin,
            a->n_known, a->n_known == 1 ? "" : "s");
    chain_merkle_frontier_init(&a->f);
    for (a->height = 0;; a->height++) {
        rc = cursor_next(a, &a->blocks);
        if (rc < 0)
            return AU_DB;
        if (rc == 0)
            break;
        rc = check_block(a, &next_leaf, prev);
        if (rc != AU_OK)
            return rc;
        if ((a->height + 1) % PROGRESS_EVERY == 0) {
            fprintf(a->out, "audit: blocks 0..%" PRIu64 " ok (tree size %" PRIu64 ")\n", a->height,
                    next_leaf);
            fflush(a->out);
        }
    }
    a->leaf = NOT_A_LEAF;
    rc = check_leftovers(a, next_leaf);
    if (rc != AU_OK)
        return rc;
    *n_blocks = a->height;
    *n_txs = next_leaf;
    return AU_OK;
}

int srv_audit(PGconn *c, FILE *out)
{
    static const char *const setup[] = {
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "DECLARE audit_blocks NO SCROLL CURSOR FOR SELECT height, first_leaf, n_txs, tree_size, "
        "root, time_ms, checkpoint FROM blocks ORDER BY height",
        "DECLARE audit_txs NO SCROLL CURSOR FOR SELECT leaf_index, tx_id, height, leaf FROM txs "
        "ORDER BY leaf_index",
        /* The order the frontier completes nodes in: by the last leaf covered, then level. */
        "DECLARE audit_nodes NO SCROLL CURSOR FOR SELECT level, idx, hash FROM merkle_nodes "
        "ORDER BY ((idx + 1) << level::int) - 1, level",
    };
    struct audit *a = calloc(1, sizeof(*a));
    uint64_t n_blocks = 0, n_txs = 0;
    int rc = AU_OK;

    if (a == NULL) {
        fprintf(out, "audit: out of memory\n");
        return -1;
    }
    a->c = c;
    a->out = out;
    a->leaf = NOT_A_LEAF;
    /* Batches: a leaf is up to 64 KiB, so few txs at a time; blocks and nodes are small. */
    a->blocks.fetch = "FETCH 500 FROM audit_blocks";
    a->txs.fetch = "FETCH 200 FROM audit_txs";
    a->nodes.fetch = "FETCH 2000 FROM audit_nodes";
    rc = shadow_setup(a); /* before BEGIN: it creates the temporary twins */
    if (rc == AU_OK)
        rc = exec_all(a, setup, sizeof(setup) / sizeof(setup[0]));
    if (rc == AU_OK)
        rc = walk(a, &n_blocks, &n_txs);
    if (rc == AU_OK)
        rc = check_log(a); /* the same snapshot: anchors and rows as of one moment */
    if (rc == AU_OK)
        rc = check_derived(a);
    PQclear(a->blocks.res);
    PQclear(a->txs.res);
    PQclear(a->nodes.res);
    PQclear(PQexec(c, "ROLLBACK")); /* read-only: nothing to keep; closes the cursors */
    if (a->shadow)                  /* the twins and the modules' statements go */
        PQclear(PQexec(c, "BEGIN; SET LOCAL synchronous_commit = off; DISCARD TEMP; "
                          "DEALLOCATE ALL; COMMIT"));
    if (rc == AU_OK)
        fprintf(out, "audit: clean (%" PRIu64 " blocks, %" PRIu64 " txs)\n", n_blocks, n_txs);
    fflush(out);
    free(a);
    return rc == AU_OK ? 0 : rc == AU_BAD ? 1 : -1;
}
