/*
 * The core module: chain status and, with the ledger, the txs that manage identities
 * (org.register, key.add, key.revoke, principal.register).
 */
#include "../../server/http.h"
#include "../../server/server.h"
#include "../module.h"
#include "core_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* GET /api/health: 200 when the database answers, else 503 naming the failing part. */
static unsigned health(struct srv_req *r)
{
    const char *why = NULL;
    PGconn *c = db_acquire(r->srv->pool, 1000, &why);
    PGresult *res = NULL;
    json_t *body;
    unsigned status;

    if (c != NULL)
        res = PQexecPrepared(c, "core_chain_head", 0, NULL, NULL, NULL, 0);
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        body = json_pack("{s:s, s:s, s:{s:s, s:s}}", "status", "unavailable", "db", "down", "error",
                         "code", "db_down", "message", why ? why : "the database did not answer");
        status = 503;
    } else {
        char marker[SRV_PATH_MAX + 16];

        /* scripts/run leaves this file once it has loaded the demo data; the UI then shows
         * a "demo data" banner, so nobody mistakes demo records for real ones. */
        snprintf(marker, sizeof(marker), "%s/demo-loaded", r->srv->cfg.data_dir);
        body = json_pack("{s:s, s:s, s:I, s:I, s:b}", "status", "ok", "db", "ok", "height",
                         (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10), "tree_size",
                         (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10), "demo",
                         access(marker, F_OK) == 0);
        status = 200;
    }
    PQclear(res);
    db_release(r->srv->pool, c);
    return srv_reply_json(r, status, body);
}

static const struct srv_route routes[] = {
    {"GET", "/api/health", health, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"POST", "/api/chain/tx", core_submit, SRV_AUTH_PUBLIC, SRV_BODY_RAW_JSON, 0},
    {"GET", "/api/chain/authorised", core_get_authorised, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/principals/:id", core_get_principal, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/checkpoint", core_get_checkpoint, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/keys", core_get_keys, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/tx/:id", core_get_tx, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/proof/:id", core_get_proof, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/consistency", core_get_consistency, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/blocks", core_get_blocks, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/blocks/:height", core_get_block, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/bundle/:id", core_get_bundle, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
};

static const struct db_stmt stmts[] = {
    {"core_chain_head",
     "SELECT coalesce(max(height), -1), coalesce(max(tree_size), 0) FROM blocks"},
    /* With the freeze of the key's principal, so lx_authorise needs one round trip. */
    {"core_key_get", "SELECT k.principal, k.added_leaf, k.revoked_leaf, f.reason FROM keys k "
                     "LEFT JOIN freezes f ON f.target = 'org:' || k.principal "
                     "WHERE k.pubkey = decode($1, 'hex')"},
    {"core_key_history",
     "SELECT k.principal, k.added_leaf, k.revoked_leaf, encode(a.tx_id, 'hex'), "
     "encode(r.tx_id, 'hex') FROM keys k JOIN txs a ON a.leaf_index = k.added_leaf "
     "LEFT JOIN txs r ON r.leaf_index = k.revoked_leaf WHERE k.pubkey = decode($1, 'hex')"},
    /* The keys as one bytea[], so that PostgreSQL probes keys_pkey in one index scan over
     * the sorted array rather than in a join that starts an index scan per key: a quarter
     * less of its time for a block of 1,000 new keys (docs/BENCHMARKS.md, tenth round). */
    {"core_keys_many",
     "SELECT encode(k.pubkey, 'hex'), k.principal, k.revoked_leaf IS NOT NULL, f.reason "
     "FROM keys k LEFT JOIN freezes f ON f.target = 'org:' || k.principal "
     "WHERE k.pubkey = ANY ($1::bytea[])"},
    {"core_principals_many", "SELECT id FROM principals WHERE id = ANY ($1::text[])"},
    {"core_principal_show",
     "SELECT id, kind, type, name, leaf_index FROM principals WHERE id = $1"},
    {"core_principal_keys", "SELECT encode(pubkey, 'base64'), added_leaf, revoked_leaf FROM keys "
                            "WHERE principal = $1 ORDER BY added_leaf"},
    {"core_principal_get", "SELECT kind, type FROM principals WHERE id = $1"},
    {"core_principal_add", "INSERT INTO principals (id, kind, type, name, leaf_index) "
                           "VALUES ($1, $2, $3, $4, $5)"},
    {"core_key_add", "INSERT INTO keys (pubkey, principal, added_leaf) "
                     "VALUES (decode($1, 'hex'), $2, $3)"},
    {"core_key_revoke", "UPDATE keys SET revoked_leaf = $2 "
                        "WHERE pubkey = decode($1, 'hex') AND revoked_leaf IS NULL"},
    CORE_LEDGER_STMTS,
    CORE_OVERSIGHT_STMTS,
};

const struct lx_module mod_core = {
    .name = "core",
    .routes = routes,
    .n_routes = sizeof(routes) / sizeof(routes[0]),
    .stmts = stmts,
    .n_stmts = sizeof(stmts) / sizeof(stmts[0]),
    .check = core_check,
    .apply = core_apply,
    .block_begin = core_block_begin,
    .block_end = core_block_end,
    .idle = core_idle,
};
