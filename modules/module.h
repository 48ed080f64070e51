/*
 * The module interface. A module is data: a name (also the "module" field of its txs), its
 * routes, its prepared statements, and two hooks the ledger calls for each of its txs:
 *   check  stateless rules (schema, bounds), on the HTTP worker that received the tx;
 *   apply  stateful rules and state changes, on the sequencer thread, inside the block's
 *          database transaction, in ledger order.
 * A module registers with one line in modules/registry.c.
 */
#ifndef LX_MODULES_MODULE_H
#define LX_MODULES_MODULE_H

#include "../server/db.h"
#include "../server/router.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct chain_tx;

/* Why a tx was refused: the HTTP status, a stable code and a sentence for the client. */
struct lx_reject {
    unsigned status;   /* 409 for a broken rule, 422 for a semantically invalid body */
    char code[48];     /* e.g. "key_revoked" */
    char message[200]; /* short lowercase sentence */
};

/* What apply sees of the block being built. */
struct lx_apply_ctx {
    PGconn *db;            /* inside the block's transaction. apply checks every rule before it
                              writes: a statement that fails aborts the whole block */
    uint64_t leaf_index;   /* the position this tx will take if accepted */
    uint64_t height;       /* the block it goes into */
    int64_t block_time_ms; /* the block's timestamp */
    void *state;           /* the block state of the module being called (block_begin) */
    /* block_begin: the block's transaction has not begun. Its statements must only read (they
     * see what a statement inside would: the sequencer is the ledger's only writer); a module
     * may send BEGIN in the same round trip ahead of them and clear this. */
    int begin_pending;
    /* block_end (commit = 1), when not NULL: COPYs may be added here (db_chain_add, in the
     * order they must run) instead of run; they run after every module's block_end, with the
     * block's own rows and its COMMIT, a round trip each instead of two. */
    struct db_chain *chain;
};

struct lx_module {
    const char *name;               /* module name, as in txs and /api/<name>/ */
    const struct srv_route *routes; /* its endpoints (borrowed, static) */
    size_t n_routes;
    const struct db_stmt *stmts; /* prepared on every pool connection */
    size_t n_stmts;
    /* Returns 0 to accept, or -1 with *why filled. NULL accepts everything. */
    int (*check)(const struct chain_tx *tx, struct lx_reject *why);
    /* Returns 0 when applied, -1 with *why filled when a rule refuses the tx, or SRV_EDB when
     * the database failed (the block is abandoned and nothing in it is acknowledged). */
    int (*apply)(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why);
    /* Optional, for speed: called once per block before any apply with every tx of the block
     * (all modules), so the module can load what its rules will read in a few queries and keep
     * it in *state (handed back in ctx->state to apply); then once after the last apply, with
     * commit = 1 to write what it buffered (inside the block's transaction) or 0 to discard.
     * Returns 0 or SRV_EDB/SRV_ENOMEM (the block is abandoned). */
    int (*block_begin)(struct lx_apply_ctx *ctx, void **state, const struct chain_tx *const *txs,
                       size_t n);
    int (*block_end)(struct lx_apply_ctx *ctx, void *state, int commit);
    /* Optional: called by the sequencer's thread after a second without work, to give back
     * what the module keeps for its next block. */
    void (*idle)(void);
};

extern const struct lx_module *const lx_modules[]; /* registry.c */
extern const size_t lx_n_modules;

/* Returns the module named name, or NULL. */
const struct lx_module *lx_module_find(const char *name);

/* Is the tx's signer authorised for its org at ctx->leaf_index? Called by the sequencer for
 * every tx before its module's apply; implemented by the core module, which owns identities.
 * Returns 0, -1 with *why, or SRV_EDB. */
int lx_authorise(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why);

/* Is target ("org:<id>" or "tx:<64 hex>") frozen by a regulator? Returns 1 (and, when reason
 * is not NULL, the freeze's reason in reason[0..cap)), 0, or SRV_EDB. Works on the block's
 * connection in apply and on pool connections alike. A module's apply refuses a tx that
 * touches a frozen record (lx_refuse_frozen does both steps). */
int lx_frozen(PGconn *c, const char *target, char *reason, size_t cap);

/* For apply: 0 when target is not frozen; -1 with *why = 423 "frozen" (the message names the
 * reason) when it is; SRV_EDB. */
int lx_refuse_frozen(PGconn *c, const char *target, struct lx_reject *why);

/* Fills *why and returns -1, for one-line refusals in check/apply. */
int lx_reject(struct lx_reject *why, unsigned status, const char *code, const char *message);

#endif
