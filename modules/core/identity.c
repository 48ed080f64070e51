/*
 * Identities on the ledger (docs/LEDGER.md §3): who a key belongs to, from which leaf on, and
 * until which. check holds the stateless rules of each core tx body; apply the stateful ones
 * and the writes to principals/keys; lx_authorise the rule every tx of every module obeys.
 */
#include "../../chain/chain.h"
#include "../../chain/tx.h"
#include "../../server/db.h"
#include "../../server/err.h"
#include "../../server/http.h"
#include "../../server/server.h"
#include "../module.h"
#include "core_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const org_types[] = {"university", "court",   "notary",  "law_firm",
                                        "publisher",  "charity", "auditor", "market_operator",
                                        "regulator",  NULL};
static const char *const person_types[] = {"student", "donor",  "prosumer",
                                           "author",  "lawyer", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* ^[a-z0-9][a-z0-9._-]{0,63}$, written out: no regex engine for twelve lines. */
int core_id_valid(const char *id)
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

/* The body must have exactly these string members. Returns the first problem, or NULL. */
static const char *body_shape(const json_t *body, const char *const *fields)
{
    size_t want = 0;

    for (; fields[want]; want++)
        if (!json_is_string(json_object_get(body, fields[want])))
            return fields[want];
    return json_object_size(body) == want ? NULL : "body";
}

static const char *str(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

static int key_field(const json_t *body, uint8_t out[32])
{
    const char *k = str(body, "key");

    return chain_b64_decode_public(k, strlen(k), out, 32);
}

static int bad(struct lx_reject *why, const char *field, const char *what)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "body field '%s' %s", field, what);
    return lx_reject(why, 422, "invalid_body", msg);
}

int core_check(const struct chain_tx *tx, struct lx_reject *why)
{
    static const char *const reg[] = {"id", "name", "type", "key", NULL};
    static const char *const self[] = {"id", "type", "key", NULL};
    static const char *const keyop[] = {"principal", "key", NULL};
    const json_t *b = tx->body;
    const char *f;
    uint8_t key[32];

    if (core_oversight_type(tx->type))
        return core_oversight_check(tx, why);
    if (strcmp(tx->type, "org.register") == 0) {
        if ((f = body_shape(b, reg)) != NULL)
            return bad(why, f, "is missing, not a string, or not expected");
        if (!core_id_valid(str(b, "id")) || strcmp(str(b, "id"), "admin") == 0)
            return bad(why, "id", "must match [a-z0-9][a-z0-9._-]{0,63} and not be admin");
        if (strlen(str(b, "name")) == 0 || strlen(str(b, "name")) > 200)
            return bad(why, "name", "must have 1 to 200 bytes");
        if (!in_list(str(b, "type"), org_types))
            return bad(why, "type", "is not an organisation type");
        if (key_field(b, key) != 0)
            return bad(why, "key", "must be base64 of a 32-byte Ed25519 key");
        return 0;
    }
    if (strcmp(tx->type, "principal.register") == 0) {
        if ((f = body_shape(b, self)) != NULL)
            return bad(why, f, "is missing, not a string, or not expected");
        if (!core_id_valid(str(b, "id")) || strcmp(str(b, "id"), "admin") == 0)
            return bad(why, "id", "must match [a-z0-9][a-z0-9._-]{0,63} and not be admin");
        if (!in_list(str(b, "type"), person_types))
            return bad(why, "type", "is not a kind of individual");
        if (key_field(b, key) != 0 || memcmp(key, tx->signer, 32) != 0)
            return bad(why, "key", "must be the signer's own key");
        if (strcmp(tx->org, str(b, "id")) != 0)
            return lx_reject(why, 422, "invalid_body", "org must be the id being registered");
        return 0;
    }
    if (strcmp(tx->type, "key.add") == 0 || strcmp(tx->type, "key.revoke") == 0) {
        if ((f = body_shape(b, keyop)) != NULL)
            return bad(why, f, "is missing, not a string, or not expected");
        if (!core_id_valid(str(b, "principal")))
            return bad(why, "principal", "is not a valid id");
        if (key_field(b, key) != 0)
            return bad(why, "key", "must be base64 of a 32-byte Ed25519 key");
        return 0;
    }
    if (strcmp(tx->type, "genesis") == 0)
        return lx_reject(why, 422, "reserved_type", "genesis is made by the node itself");
    return lx_reject(why, 422, "unknown_type", "core has no such tx type");
}

/* ---- stateful rules ------------------------------------------------------------------------ */

/* A new principal with its first key: org.register and principal.register. */
static int register_principal(struct lx_apply_ctx *ctx, const json_t *b, const char *kind,
                              struct lx_reject *why)
{
    struct key_row k;
    uint8_t key[32];
    int exists, rc;

    if (key_field(b, key) != 0)
        return lx_reject(why, 422, "invalid_body", "body field 'key' is not a key");
    if ((rc = core_store_has_principal(ctx, str(b, "id"), &exists)) != 0 ||
        (rc = core_store_get_key(ctx, key, &k)) != 0)
        return rc;
    if (exists)
        return lx_reject(why, 409, "principal_exists", "this id is already registered");
    if (k.found)
        return lx_reject(why, 409, "key_exists", "this key is already registered");
    if ((rc = core_store_add_principal(ctx, str(b, "id"), kind, str(b, "type"),
                                       str(b, "name") ? str(b, "name") : "")) != 0)
        return rc;
    return core_store_add_key(ctx, key, str(b, "id"));
}

static int key_op(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    const json_t *b = tx->body;
    const char *principal = str(b, "principal");
    struct key_row k;
    uint8_t key[32];
    int exists, rc;

    if (strcmp(tx->org, principal) != 0 && strcmp(tx->org, "admin") != 0)
        return lx_reject(why, 403, "not_your_principal",
                         "only the principal itself or the admin may change its keys");
    if (key_field(b, key) != 0)
        return lx_reject(why, 422, "invalid_body", "body field 'key' is not a key");
    if ((rc = core_store_has_principal(ctx, principal, &exists)) != 0 ||
        (rc = core_store_get_key(ctx, key, &k)) != 0)
        return rc;
    if (!exists)
        return lx_reject(why, 409, "unknown_principal", "no such principal");
    if (strcmp(tx->type, "key.add") == 0) {
        if (k.found)
            return lx_reject(why, 409, "key_exists", "this key is already registered");
        return core_store_add_key(ctx, key, principal);
    }
    if (!k.found || strcmp(k.principal, principal) != 0 || k.revoked)
        return lx_reject(why, 409, "key_not_active", "the principal has no such active key");
    return core_store_revoke(ctx, key);
}

static int genesis(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    int rc;

    if (ctx->leaf_index != 0)
        return lx_reject(why, 409, "genesis_exists", "the chain has its genesis already");
    if ((rc = core_store_add_principal(ctx, "admin", "admin", "admin", "consortium admin")) != 0)
        return rc;
    return core_store_add_key(ctx, tx->signer, "admin");
}

int core_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    if (core_oversight_type(tx->type))
        return core_oversight_apply(ctx, tx, why);
    if (strcmp(tx->type, "genesis") == 0)
        return genesis(ctx, tx, why);
    if (strcmp(tx->type, "org.register") == 0) {
        if (strcmp(tx->org, "admin") != 0)
            return lx_reject(why, 403, "admin_only",
                             "only the consortium admin admits organisations");
        return register_principal(ctx, tx->body, "org", why);
    }
    if (strcmp(tx->type, "principal.register") == 0)
        return register_principal(ctx, tx->body, "individual", why);
    return key_op(ctx, tx, why);
}

int lx_authorise(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    struct key_row k;
    int rc;

    /* Buffered identity writes reach the database before code that may read it runs. */
    if ((rc = core_store_before(ctx, tx)) != 0)
        return rc;
    /* The two txs that introduce their own signer: genesis (checked by core_apply to be leaf
     * 0) and a self-registration (core_check made sure the key is the signer's). */
    if (strcmp(tx->module, "core") == 0 &&
        (strcmp(tx->type, "genesis") == 0 || strcmp(tx->type, "principal.register") == 0))
        return 0;
    if ((rc = core_store_get_key(ctx, tx->signer, &k)) != 0)
        return rc;
    if (!k.found)
        return lx_reject(why, 409, "unknown_key", "the signing key is not registered");
    if (strcmp(k.principal, tx->org) != 0)
        return lx_reject(why, 409, "key_not_authorised", "the signing key does not belong to org");
    if (k.revoked)
        return lx_reject(why, 409, "key_revoked", "the signing key was revoked");
    if (k.frozen) /* a regulator's freeze of the org (oversight.c) */
        return core_frozen_reject(why, "the organisation", k.reason);
    return 0;
}

/* ---- GET /api/chain/authorised?key=<base64|hex>&principal=P&at=<leaf index> ---------------- */

static int parse_key_param(const char *s, uint8_t out[32])
{
    if (s == NULL)
        return -1;
    if (strlen(s) == 64)
        return chain_hex_decode(s, 64, out, 32) == 0 ? 0 : -1;
    return chain_b64_decode_exact(s, strlen(s), out, 32) == 0 ? 0 : -1;
}

static int parse_leaf(const char *s, uint64_t *out)
{
    char *end;

    if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 18)
        return -1;
    *out = strtoull(s, &end, 10);
    return *end == '\0' ? 0 : -1;
}

/* Answers from the keys table, which is derived from the log: K is authorised for P at leaf i
 * when the tx adding K for P precedes i and no revocation of K precedes i. */
unsigned core_get_authorised(struct srv_req *r)
{
    const char *principal = srv_req_query(r, "principal");
    char hex[65];
    const char *params[1] = {hex};
    uint8_t key[32];
    uint64_t at, added, revoked = 0;
    int has_revoked, ok;
    PGconn *c;
    PGresult *res;
    json_t *body;

    if (parse_key_param(srv_req_query(r, "key"), key) != 0)
        return srv_reply_error(r, 400, "bad_parameter", "key must be base64 or hex of 32 bytes",
                               "key");
    if (principal == NULL || !core_id_valid(principal))
        return srv_reply_error(r, 400, "bad_parameter", "principal must be an id", "principal");
    if (parse_leaf(srv_req_query(r, "at"), &at) != 0)
        return srv_reply_error(r, 400, "bad_parameter", "at must be a leaf index", "at");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    chain_hex_encode(key, 32, hex);
    res = PQexecPrepared(c, "core_key_history", 1, params, NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok || PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), principal) != 0) {
        PQclear(res);
        db_release(r->srv->pool, c);
        if (!ok)
            return srv_reply_error(r, 503, "db_unavailable", "the query failed", NULL);
        body = json_pack("{s:b, s:s}", "authorised", 0, "reason", "the key never belonged to it");
        return srv_reply_json(r, 200, body);
    }
    added = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    has_revoked = !PQgetisnull(res, 0, 2);
    if (has_revoked)
        revoked = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    body = json_pack("{s:b, s:s, s:I, s:s, s:o}", "authorised",
                     added < at && (!has_revoked || revoked >= at), "principal", principal,
                     "added_leaf", (json_int_t)added, "added_tx", PQgetvalue(res, 0, 3),
                     "revoked_leaf", has_revoked ? json_integer((json_int_t)revoked) : json_null());
    if (body != NULL && has_revoked)
        json_object_set_new(body, "revoked_tx", json_string(PQgetvalue(res, 0, 4)));
    PQclear(res);
    db_release(r->srv->pool, c);
    return srv_reply_json(r, 200, body);
}

/* GET /api/chain/principals/:id — who a principal is and which keys it has held, from the
 * tables the core txs maintain. Public: names of organisations are on the ledger already, and
 * individuals have none here. */
unsigned core_get_principal(struct srv_req *r)
{
    const char *id = srv_req_param(r, "id");
    const char *params[1] = {id};
    PGconn *c;
    PGresult *p = NULL, *k = NULL;
    json_t *keys, *body;
    unsigned status;

    if (id == NULL || !core_id_valid(id))
        return srv_reply_error(r, 400, "bad_parameter", "not a principal id", "id");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    p = PQexecPrepared(c, "core_principal_show", 1, params, NULL, NULL, 0);
    k = PQexecPrepared(c, "core_principal_keys", 1, params, NULL, NULL, 0);
    if (PQresultStatus(p) != PGRES_TUPLES_OK || PQresultStatus(k) != PGRES_TUPLES_OK) {
        status = srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
        goto out;
    }
    if (PQntuples(p) != 1) {
        status = srv_reply_error(r, 404, "not_found", "no such principal", NULL);
        goto out;
    }
    keys = json_array();
    for (int i = 0; i < PQntuples(k); i++)
        json_array_append_new(
            keys,
            json_pack("{s:s, s:I, s:o}", "key", PQgetvalue(k, i, 0), "added_leaf",
                      (json_int_t)strtoll(PQgetvalue(k, i, 1), NULL, 10), "revoked_leaf",
                      PQgetisnull(k, i, 2) ? json_null()
                                           : json_integer(strtoll(PQgetvalue(k, i, 2), NULL, 10))));
    body =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "id", PQgetvalue(p, 0, 0), "kind",
                  PQgetvalue(p, 0, 1), "type", PQgetvalue(p, 0, 2), "name", PQgetvalue(p, 0, 3),
                  "leaf_index", (json_int_t)strtoll(PQgetvalue(p, 0, 4), NULL, 10), "keys", keys);
    status = srv_reply_json(r, 200, body);
out:
    PQclear(p);
    PQclear(k);
    db_release(r->srv->pool, c);
    return status;
}
