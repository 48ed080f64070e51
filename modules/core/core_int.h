/*
 * Shared inside the core module: the ledger read endpoints (ledger_api.c), the submit
 * endpoint and identity rules (core.c). The route table lives in core.c.
 */
#ifndef LX_MODULES_CORE_INT_H
#define LX_MODULES_CORE_INT_H

#include "../../server/http.h"
#include "../../server/nodes.h"

#include <stddef.h>
#include <stdint.h>

/* GET /api/chain/checkpoint, /api/chain/keys, /api/chain/tx/:id, /api/chain/proof/:id,
 * /api/chain/consistency, /api/chain/blocks, /api/chain/blocks/:height,
 * /api/chain/bundle/:id (ledger_api.c) */
unsigned core_get_checkpoint(struct srv_req *r);
unsigned core_get_keys(struct srv_req *r);
unsigned core_get_tx(struct srv_req *r);
unsigned core_get_proof(struct srv_req *r);
unsigned core_get_consistency(struct srv_req *r);
unsigned core_get_blocks(struct srv_req *r);
unsigned core_get_block(struct srv_req *r);
unsigned core_get_bundle(struct srv_req *r);

/* The named statements of the ledger read endpoints, as an initializer list for the core
 * module's stmts[] table (core.c). Parameters and results are text; bytea comes back as
 * "\x" + hex. core_ledger_key_evidence walks keys/principals from the signer of leaf $1 back to
 * genesis: for each tx reached, the registration and revocation of its signer's key and the
 * registration of that key's principal, plus genesis and the registration of the tx's org; the tx
 * itself is left out. */
/* clang-format off */
#define CORE_LEDGER_STMTS \
    {"core_ledger_head", \
     "SELECT height, tree_size, checkpoint FROM blocks ORDER BY height DESC LIMIT 1"}, \
    {"core_ledger_leaf", "SELECT leaf_index, leaf FROM txs WHERE leaf_index = $1"}, \
    {"core_ledger_tx", \
     "SELECT leaf_index, height, leaf FROM txs WHERE tx_id = decode($1, 'hex')"}, \
    LX_NODES_STMTS, \
    /* ORDER BY … LIMIT 64 (callers drop leaves of the next tile) keeps the planner on an \
     * index-only scan of the primary key whatever it guesses about the range */ \
    {"core_proof_leaves", \
     "SELECT t.leaf_index, t.tx_id FROM txs x CROSS JOIN LATERAL" \
     " (SELECT leaf_index, tx_id FROM txs WHERE leaf_index >= x.leaf_index / 64 * 64" \
     "  ORDER BY leaf_index LIMIT 64) t WHERE x.tx_id = decode($1, 'hex')" \
     " UNION ALL (SELECT leaf_index, tx_id FROM txs WHERE leaf_index >= $2 AND leaf_index < $3" \
     "  ORDER BY leaf_index LIMIT 64)"}, \
    {"core_ledger_block_at_size", \
     "SELECT b.height, b.tree_size, b.checkpoint FROM txs t" \
     " JOIN blocks b ON b.height = t.height WHERE t.leaf_index = $1"}, \
    {"core_ledger_blocks", \
     "SELECT height, first_leaf, n_txs, tree_size, root, time_ms FROM blocks" \
     " WHERE height < $1 ORDER BY height DESC LIMIT $2"}, \
    {"core_ledger_block", \
     "SELECT height, first_leaf, n_txs, tree_size, root, time_ms, checkpoint FROM blocks" \
     " WHERE height = $1"}, \
    {"core_ledger_block_txids", \
     "SELECT encode(tx_id, 'hex') FROM txs WHERE leaf_index >= $1 AND leaf_index < $2" \
     " ORDER BY leaf_index"}, \
    {"core_ledger_key_evidence", \
     "WITH RECURSIVE ev(leaf) AS (" \
     " SELECT 0::bigint" \
     " UNION SELECT $1::bigint" \
     " UNION SELECT p.leaf_index FROM txs t JOIN principals p ON p.id = t.org" \
     "  WHERE t.leaf_index = $1::bigint" \
     " UNION SELECT x.leaf FROM ev JOIN txs t ON t.leaf_index = ev.leaf" \
     "  JOIN keys k ON k.pubkey = t.signer JOIN principals p ON p.id = k.principal" \
     "  CROSS JOIN LATERAL (VALUES (k.added_leaf), (k.revoked_leaf), (p.leaf_index)) AS x(leaf)" \
     "  WHERE x.leaf IS NOT NULL" \
     ") SELECT t.leaf_index, t.tx_id, t.leaf FROM ev JOIN txs t ON t.leaf_index = ev.leaf" \
     " WHERE ev.leaf <> $1::bigint ORDER BY t.leaf_index"}
/* clang-format on */

/* GET /api/chain/authorised?key=&principal=&at= (identity.c) */
unsigned core_get_authorised(struct srv_req *r);

/* GET /api/chain/principals/:id (identity.c) */
unsigned core_get_principal(struct srv_req *r);

/* POST /api/chain/tx (submit.c) */
unsigned core_submit(struct srv_req *r);

/* Identity rules (identity.c): the core module's check and apply, and the id syntax. */
struct chain_tx;
struct lx_reject;
struct lx_apply_ctx;
int core_check(const struct chain_tx *tx, struct lx_reject *why);
int core_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why);
int core_id_valid(const char *id);

/* Oversight txs (oversight.c): audit.anchor, freeze, unfreeze. core_check and core_apply hand
 * them over when core_oversight_type says so. core_frozen_reject fills *why with 423 "frozen"
 * and "<what> is frozen: <reason>" (cut on a character boundary) and returns -1. */
int core_oversight_type(const char *type);
int core_oversight_check(const struct chain_tx *tx, struct lx_reject *why);
int core_oversight_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx,
                         struct lx_reject *why);
int core_frozen_reject(struct lx_reject *why, const char *what, const char *reason);

/* The statements of oversight.c, for the core module's stmts[] table (core.c). */
/* clang-format off */
#define CORE_OVERSIGHT_STMTS \
    {"core_anchor_max", "SELECT coalesce(max(head_id), 0) FROM audit_anchors"}, \
    {"core_anchor_add", "INSERT INTO audit_anchors (head_id, head_hash, leaf_index)" \
     " VALUES ($1, decode($2, 'base64'), $3)"}, \
    {"core_tx_exists", "SELECT 1 FROM txs WHERE tx_id = decode($1, 'hex')"}, \
    {"core_frozen_get", "SELECT reason FROM freezes WHERE target = $1"}, \
    {"core_freeze_add", "INSERT INTO freezes (target, reason, frozen_by, frozen_leaf," \
     " frozen_at_ms) VALUES ($1, $2, $3, $4, $5)"}, \
    {"core_freeze_del", "DELETE FROM freezes WHERE target = $1"}
/* clang-format on */

/* Identity state (store.c): an in-memory view per block, or the database without one. */
struct key_row {
    int found;
    char principal[80];
    int revoked;
    int frozen;       /* the principal is frozen (freezes row "org:<principal>") */
    char reason[200]; /* why */
};
int core_block_begin(struct lx_apply_ctx *ctx, void **state, const struct chain_tx *const *txs,
                     size_t n);
int core_block_end(struct lx_apply_ctx *ctx, void *state, int commit);
void core_idle(void); /* frees the view's tables kept for the next block */
int core_store_before(struct lx_apply_ctx *ctx, const struct chain_tx *tx);
int core_store_get_key(struct lx_apply_ctx *ctx, const uint8_t key[32], struct key_row *out);
int core_store_has_principal(struct lx_apply_ctx *ctx, const char *id, int *exists);
int core_store_add_principal(struct lx_apply_ctx *ctx, const char *id, const char *kind,
                             const char *type, const char *name);
int core_store_add_key(struct lx_apply_ctx *ctx, const uint8_t key[32], const char *principal);
int core_store_revoke(struct lx_apply_ctx *ctx, const uint8_t key[32]);

#endif
