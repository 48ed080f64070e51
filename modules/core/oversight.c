/*
 * Oversight on the ledger (docs/LEDGER.md §3): the audit log's anchors and the regulator's
 * freezes (穿透式监管). audit.anchor records the head of the node's audit log so that a rewrite
 * of the log is caught by `lianxind audit`; freeze and unfreeze put an organisation, a person
 * or a single record out of reach of new txs, with a reason, until unfrozen. The rules here
 * read only ledger-derived tables (principals, txs, audit_anchors, freezes), so every node
 * replaying the log reaches the same decisions.
 */
#include "../../chain/chain.h"
#include "../../chain/tx.h"
#include "../../server/db.h"
#include "../../server/err.h"
#include "../module.h"
#include "core_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_MAX 160 /* bytes; the reason must fit into a refusal's message */

static const char *str(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

static int bad(struct lx_reject *why, const char *field, const char *what)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "body field '%s' %s", field, what);
    return lx_reject(why, 422, "invalid_body", msg);
}

int core_oversight_type(const char *type)
{
    return strcmp(type, "audit.anchor") == 0 || strcmp(type, "freeze") == 0 ||
           strcmp(type, "unfreeze") == 0;
}

/* "org:<id>" (not the admin, who must always be able to unfreeze) or "tx:<64 lowercase hex>". */
static int target_valid(const char *t)
{
    uint8_t id[32];

    if (strncmp(t, "org:", 4) == 0)
        return core_id_valid(t + 4) && strcmp(t + 4, "admin") != 0;
    if (strncmp(t, "tx:", 3) == 0)
        return chain_hex_decode(t + 3, strlen(t + 3), id, sizeof(id)) == 0;
    return 0;
}

int core_oversight_check(const struct chain_tx *tx, struct lx_reject *why)
{
    const json_t *b = tx->body;
    uint8_t hash[32];

    if (strcmp(tx->type, "audit.anchor") == 0) {
        const json_t *id = json_object_get(b, "head_id");
        const char *h = str(b, "head_hash");

        if (!json_is_integer(id) || json_integer_value(id) < 1)
            return bad(why, "head_id", "must be a positive integer");
        if (h == NULL || chain_b64_decode_exact(h, strlen(h), hash, sizeof(hash)) != 0)
            return bad(why, "head_hash", "must be base64 of a 32-byte hash");
        if (json_object_size(b) != 2)
            return bad(why, "body", "must hold head_id and head_hash only");
        return 0;
    }
    /* freeze, unfreeze */
    if (str(b, "target") == NULL || !target_valid(str(b, "target")))
        return bad(why, "target", "must be org:<id> (not admin) or tx:<64 lowercase hex>");
    if (str(b, "reason") == NULL || strlen(str(b, "reason")) == 0 ||
        strlen(str(b, "reason")) > REASON_MAX)
        return bad(why, "reason", "must have 1 to 160 bytes");
    for (const unsigned char *p = (const unsigned char *)str(b, "reason"); *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return bad(why, "reason", "must not hold control characters");
    if (json_object_size(b) != 2)
        return bad(why, "body", "must hold target and reason only");
    return 0;
}

/* ---- stateful rules ------------------------------------------------------------------------ */

/* Runs a prepared statement; returns its result (PQclear it) or NULL when it failed. */
static PGresult *query(PGconn *db, const char *stmt, int n, const char *const *params,
                       ExecStatusType want)
{
    PGresult *r = PQexecPrepared(db, stmt, n, params, NULL, NULL, 0);

    if (PQresultStatus(r) != want) {
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Sets *found to whether stmt returns a row. Returns 0 or SRV_EDB. */
static int exists(PGconn *db, const char *stmt, const char *param, int *found)
{
    PGresult *r = query(db, stmt, 1, &param, PGRES_TUPLES_OK);

    if (r == NULL)
        return SRV_EDB;
    *found = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

static int anchor(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    char id[24], leaf[24];
    const char *params[3] = {id, str(tx->body, "head_hash"), leaf};
    PGresult *r;
    int64_t max;

    if (strcmp(tx->org, "admin") != 0)
        return lx_reject(why, 403, "admin_only", "only the consortium admin anchors the audit log");
    if ((r = query(ctx->db, "core_anchor_max", 0, NULL, PGRES_TUPLES_OK)) == NULL)
        return SRV_EDB;
    max = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (json_integer_value(json_object_get(tx->body, "head_id")) <= max)
        return lx_reject(why, 409, "anchor_not_increasing",
                         "head_id must be above the last anchored head");
    snprintf(id, sizeof(id), "%" PRId64,
             (int64_t)json_integer_value(json_object_get(tx->body, "head_id")));
    snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
    if ((r = query(ctx->db, "core_anchor_add", 3, params, PGRES_COMMAND_OK)) == NULL)
        return SRV_EDB;
    PQclear(r);
    return 0;
}

/* May org freeze? The admin, or an organisation of type regulator. Returns 1, 0 or SRV_EDB. */
static int is_overseer(PGconn *db, const char *org)
{
    PGresult *r;
    int yes;

    if (strcmp(org, "admin") == 0)
        return 1;
    if ((r = query(db, "core_principal_get", 1, &org, PGRES_TUPLES_OK)) == NULL)
        return SRV_EDB;
    yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "org") == 0 &&
          strcmp(PQgetvalue(r, 0, 1), "regulator") == 0;
    PQclear(r);
    return yes;
}

static int freeze(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    const char *target = str(tx->body, "target");
    char leaf[24], at[24];
    const char *params[5] = {target, str(tx->body, "reason"), tx->org, leaf, at};
    int rc, found, frozen;
    PGresult *r;

    if ((rc = is_overseer(ctx->db, tx->org)) < 0)
        return rc;
    if (rc == 0)
        return lx_reject(why, 403, "not_regulator",
                         "only the admin or a regulator organisation freezes and unfreezes");
    if (strncmp(target, "org:", 4) == 0)
        rc = exists(ctx->db, "core_principal_get", target + 4, &found);
    else
        rc = exists(ctx->db, "core_tx_exists", target + 3, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return lx_reject(why, 404, "unknown_target", "no such organisation or record");
    if ((frozen = lx_frozen(ctx->db, target, NULL, 0)) < 0)
        return frozen;
    if (strcmp(tx->type, "unfreeze") == 0) {
        if (!frozen)
            return lx_reject(why, 409, "not_frozen", "the target is not frozen");
        r = query(ctx->db, "core_freeze_del", 1, &target, PGRES_COMMAND_OK);
    } else {
        if (frozen)
            return lx_reject(why, 409, "already_frozen", "the target is frozen already");
        snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
        snprintf(at, sizeof(at), "%" PRId64, ctx->block_time_ms);
        r = query(ctx->db, "core_freeze_add", 5, params, PGRES_COMMAND_OK);
    }
    if (r == NULL)
        return SRV_EDB;
    PQclear(r);
    return 0;
}

int core_oversight_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    if (strcmp(tx->type, "audit.anchor") == 0)
        return anchor(ctx, tx, why);
    return freeze(ctx, tx, why);
}

/* ---- enforcement --------------------------------------------------------------------------- */

int lx_frozen(PGconn *c, const char *target, char *reason, size_t cap)
{
    PGresult *r = query(c, "core_frozen_get", 1, &target, PGRES_TUPLES_OK);
    int frozen;

    if (r == NULL)
        return SRV_EDB;
    frozen = PQntuples(r) == 1;
    if (frozen && reason != NULL && cap > 0)
        snprintf(reason, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return frozen;
}

int core_frozen_reject(struct lx_reject *why, const char *what, const char *reason)
{
    char msg[sizeof(why->message)];
    size_t n;

    snprintf(msg, sizeof(msg), "%s is frozen: %s", what, reason);
    /* A reason longer than the message (not one core_check lets in) is cut on a character
     * boundary, so the message stays UTF-8 and the JSON error body can carry it. */
    n = strlen(msg);
    if (n == sizeof(msg) - 1) {
        size_t i = n; /* i - 1: the lead byte of the last character */

        while (i > 0 && ((unsigned char)msg[i - 1] & 0xc0) == 0x80)
            i--;
        if (i > 0) {
            unsigned char c = (unsigned char)msg[i - 1];
            size_t want = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

            if (n - (i - 1) < want)
                msg[i - 1] = '\0';
        }
    }
    return lx_reject(why, 423, "frozen", msg);
}

int lx_refuse_frozen(PGconn *c, const char *target, struct lx_reject *why)
{
    char reason[sizeof(why->message)];
    int rc = lx_frozen(c, target, reason, sizeof(reason));

    if (rc <= 0)
        return rc;
    return core_frozen_reject(
        why, strncmp(target, "org:", 4) == 0 ? "the organisation" : "the record", reason);
}
