/*
 * The offline bundle of one tx (docs/LEDGER.md §6), for other modules that hand out evidence
 * of their own txs inside a larger document (the edu module's credential bundle). The same
 * builder answers GET /api/chain/bundle/:id, so both always agree.
 */
#ifndef LX_MODULES_CORE_BUNDLE_H
#define LX_MODULES_CORE_BUNDLE_H

#include <jansson.h>
#include <libpq-fe.h>

/* Builds {"tx_id","leaf_index","height","tx","checkpoint","proof","key_evidence"} for the tx
 * whose id is tx_id_hex (64 lowercase hex digits), proved against the latest checkpoint, on c
 * (a pool connection: it uses the core module's prepared statements). Returns 0 with *out new
 * (json_decref it); 1 when no tx has this id (or the id is not 64 hex digits); -1 when a query
 * failed; -2 when ledger rows are missing or damaged; -3 out of memory. */
int core_bundle_build(PGconn *c, const char *tx_id_hex, json_t **out)
    __attribute__((warn_unused_result));

#endif
