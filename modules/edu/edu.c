/*
 * The edu module: verifiable credentials of universities (README.md). This file holds the module
 * table — routes and prepared statements — and the ledger rules of its two txs:
 *
 *   credential.issue  {"credential_id","hash","kind"}    by a university
 *   credential.revoke {"credential_id","hash","reason"}  by the university that issued it
 *
 * Neither carries personal data: the credential itself stays with the student and, until it is
 * erased, in edu_credentials.
 */
#include "../../chain/chain.h"
#include "../../chain/tx.h"
#include "../../server/db.h"
#include "../../server/err.h"
#include "../module.h"
#include "edu_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct srv_route routes[] = {
    {"POST", "/api/edu/credentials", edu_issue_one, SRV_AUTH_ORG, SRV_BODY_JSON,
     SRV_ROLE_ISSUER | SRV_ROLE_REGISTRAR},
    {"POST", "/api/edu/credentials/batch", edu_issue_batch, SRV_AUTH_ORG, SRV_BODY_CSV,
     SRV_ROLE_ISSUER | SRV_ROLE_REGISTRAR},
    {"GET", "/api/edu/credentials", edu_list, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"GET", "/api/edu/credentials/:id", edu_get, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"GET", "/api/edu/credentials/:id/bundle", edu_get_bundle, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"GET", "/api/edu/credentials/:id/status", edu_status, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"POST", "/api/edu/credentials/:id/revoke", edu_revoke, SRV_AUTH_ORG, SRV_BODY_JSON,
     SRV_ROLE_ISSUER | SRV_ROLE_REGISTRAR},
    {"POST", "/api/edu/credentials/:id/erase", edu_erase, SRV_AUTH_ORG, SRV_BODY_JSON,
     SRV_ROLE_ISSUER | SRV_ROLE_REGISTRAR | SRV_ROLE_ORG_ADMIN},
    {"POST", "/api/edu/credentials/:id/shares", edu_share_create, SRV_AUTH_USER, SRV_BODY_JSON, 0},
    {"GET", "/api/edu/credentials/:id/shares", edu_share_list, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"DELETE", "/api/edu/credentials/:id/shares/:share", edu_share_delete, SRV_AUTH_USER,
     SRV_BODY_NONE, 0},
    {"GET", "/api/edu/share/:token", edu_share_view, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"POST", "/api/edu/verify", edu_verify, SRV_AUTH_PUBLIC, SRV_BODY_JSON, 0},
};

/* The state a credential is in, from its anchor (SQL, for lists and filters). */
#define EDU_STATE_SQL                                                                              \
    "CASE WHEN a.credential_id IS NULL THEN 'pending' WHEN a.revoked_ms IS NOT NULL "              \
    "THEN 'revoked' ELSE 'valid' END"

static const struct db_stmt stmts[] = {
    /* ledger rules (sequencer connection, inside the block) */
    {"edu_issue",
     "INSERT INTO edu_anchors (credential_id, hash, org, kind, tx_id, leaf_index, issued_ms) "
     "SELECT $1, decode($2, 'base64'), $3, $4, decode($5, 'hex'), $6, $7 WHERE EXISTS "
     "(SELECT 1 FROM principals WHERE id = $3 AND kind = 'org' AND type = 'university') "
     "ON CONFLICT DO NOTHING"},
    {"edu_issue_why", "SELECT (SELECT type FROM principals WHERE id = $1 AND kind = 'org'), "
                      "EXISTS (SELECT 1 FROM edu_anchors WHERE credential_id = $2), "
                      "EXISTS (SELECT 1 FROM edu_anchors WHERE hash = decode($3, 'base64'))"},
    {"edu_anchor_get", "SELECT org, encode(hash, 'base64'), encode(tx_id, 'hex'), "
                       "revoked_ms IS NOT NULL FROM edu_anchors WHERE credential_id = $1"},
    {"edu_anchor_revoke",
     "UPDATE edu_anchors SET revoked_ms = $2, revoke_reason = $3, revoke_tx_id = decode($4, "
     "'hex'), revoke_leaf = $5 WHERE credential_id = $1 AND revoked_ms IS NULL"},
    /* issuing */
    {"edu_university",
     "SELECT name FROM principals WHERE id = $1 AND kind = 'org' AND type = 'university'"},
    {"edu_students",
     "SELECT p.id, (SELECT encode(k.pubkey, 'hex') FROM keys k WHERE k.principal = p.id AND "
     "k.revoked_leaf IS NULL ORDER BY k.added_leaf DESC LIMIT 1) FROM principals p "
     "WHERE p.id = ANY ($1::text[]) AND p.kind = 'individual' AND p.type = 'student'"},
    {"edu_doc_add",
     "INSERT INTO edu_credentials (id, org, kind, student, subject_name, student_number, "
     "document, issued_by, created_ms) VALUES ($1::uuid, $2, $3, nullif($4, ''), $5, $6, "
     "decode($7, 'hex'), $8, $9)"},
    {"edu_doc_drop", "DELETE FROM edu_credentials WHERE id = ANY ($1::uuid[])"},
    /* reading */
    {"edu_record",
     "SELECT c.org, c.kind, coalesce(c.student, ''), c.erased_ms IS NOT NULL, "
     "a.credential_id IS NOT NULL, coalesce(encode(a.tx_id, 'hex'), ''), "
     "a.revoked_ms IS NOT NULL, coalesce(a.revoked_ms, 0), coalesce(a.revoke_reason, ''), "
     "coalesce(encode(a.hash, 'base64'), '') FROM edu_credentials c LEFT JOIN edu_anchors a "
     "ON a.credential_id = 'urn:uuid:' || c.id WHERE c.id = $1::uuid"},
    {"edu_document", "SELECT document FROM edu_credentials WHERE id = $1::uuid AND "
                     "erased_ms IS NULL AND document IS NOT NULL"},
    {"edu_list",
     "SELECT c.seq, c.id, c.org, c.kind, coalesce(c.subject_name, ''), "
     "coalesce(c.student_number, ''), coalesce(c.student, ''), c.created_ms, "
     "c.erased_ms IS NOT NULL, " EDU_STATE_SQL ", coalesce(encode(a.tx_id, 'hex'), ''), "
     "coalesce(a.leaf_index, -1), coalesce(a.issued_ms, 0), coalesce(a.revoked_ms, 0), "
     "coalesce(a.revoke_reason, ''), coalesce(p.name, '') "
     "FROM edu_credentials c LEFT JOIN edu_anchors a ON a.credential_id = 'urn:uuid:' || c.id "
     "LEFT JOIN principals p ON p.id = c.org WHERE c.seq < $8 AND ($1 = 'all' OR "
     "($1 = 'student' AND c.student = $3) OR ($1 = 'orgs' AND c.org IN "
     "(SELECT org FROM roles WHERE user_id = $2::bigint))) AND ($4 = '' OR c.org = $4) AND "
     "($5 = '' OR c.subject_name ILIKE '%' || $5 || '%' OR c.student_number = $6 OR "
     "c.id::text = lower($6)) AND ($7 = '' OR c.kind = $7) AND ($9 = '' OR " EDU_STATE_SQL
     " = $9) ORDER BY c.seq DESC LIMIT $10"},
    {"edu_status",
     "SELECT a.org, a.kind, encode(a.tx_id, 'hex'), a.leaf_index, a.issued_ms, a.revoked_ms, "
     "coalesce(a.revoke_reason, ''), coalesce(encode(a.revoke_tx_id, 'hex'), ''), "
     "coalesce(p.name, '') FROM edu_anchors a LEFT JOIN principals p ON p.id = a.org "
     "WHERE a.credential_id = $1"},
    /* what a verification reads, in one round trip (verify.c: enum fact) */
    {"edu_verify_facts",
     "SELECT k.principal, k.added_leaf, k.revoked_leaf, p.kind, p.type, p.name, "
     "a.revoked_ms, coalesce(a.revoke_reason, ''), coalesce(encode(a.revoke_tx_id, 'hex'), ''), "
     "k.pubkey IS NOT NULL, p.id IS NOT NULL, a.credential_id IS NOT NULL "
     "FROM (VALUES (1)) AS one (x) LEFT JOIN keys k ON k.pubkey = decode($1, 'hex') "
     "LEFT JOIN principals p ON p.id = $2 LEFT JOIN edu_anchors a ON a.credential_id = $3"},
    /* managing */
    {"edu_erase",
     "UPDATE edu_credentials SET subject_name = NULL, student_number = NULL, document = NULL, "
     "erased_ms = $2 WHERE id = $1::uuid AND erased_ms IS NULL"},
    {"edu_share_add",
     "INSERT INTO edu_shares (token_hash, credential_id, created_by, created_ms, expires_ms) "
     "VALUES (decode($1, 'hex'), $2::uuid, $3, $4, $5) RETURNING id"},
    {"edu_share_list",
     "SELECT s.id, s.created_ms, s.expires_ms, coalesce(s.withdrawn_ms, 0), u.username "
     "FROM edu_shares s JOIN users u ON u.id = s.created_by WHERE s.credential_id = $1::uuid "
     "ORDER BY s.id DESC"},
    {"edu_share_withdraw", "UPDATE edu_shares SET withdrawn_ms = $3 WHERE id = $1::bigint AND "
                           "credential_id = $2::uuid AND withdrawn_ms IS NULL"},
    {"edu_share_withdraw_all",
     "UPDATE edu_shares SET withdrawn_ms = $2 WHERE credential_id = $1::uuid AND "
     "withdrawn_ms IS NULL"},
    {"edu_share_get", "SELECT credential_id, expires_ms, coalesce(withdrawn_ms, 0) FROM "
                      "edu_shares WHERE token_hash = decode($1, 'hex')"},
};

const struct lx_module mod_edu = {
    .name = "edu",
    .routes = routes,
    .n_routes = sizeof(routes) / sizeof(routes[0]),
    .stmts = stmts,
    .n_stmts = sizeof(stmts) / sizeof(stmts[0]),
    .check = edu_check,
    .apply = edu_apply,
};

/* ---- stateless rules ------------------------------------------------------------------------ */

static const char *str(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

/* The body has exactly these string members. Returns the first one missing, or NULL. */
static const char *shape(const json_t *body, const char *const *fields)
{
    size_t want = 0;

    for (; fields[want]; want++)
        if (!json_is_string(json_object_get(body, fields[want])))
            return fields[want];
    return json_object_size(body) == want ? NULL : "body";
}

static int bad(struct lx_reject *why, const char *field, const char *what)
{
    char msg[160];

    snprintf(msg, sizeof(msg), "body field '%s' %s", field, what);
    return lx_reject(why, 422, "invalid_body", msg);
}

/* "urn:uuid:" + a lowercase uuid. */
static int urn_valid(const char *s)
{
    return s != NULL && strncmp(s, "urn:uuid:", 9) == 0 && edu_uuid_valid(s + 9);
}

static int hash_valid(const char *b64)
{
    uint8_t h[CHAIN_HASH_LEN];

    return b64 != NULL && chain_b64_decode_exact(b64, strlen(b64), h, sizeof(h)) == 0;
}

/* 1..EDU_MAX_REASON bytes (the envelope is UTF-8 already) without control characters. */
static int reason_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > EDU_MAX_REASON)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

int edu_check(const struct chain_tx *tx, struct lx_reject *why)
{
    static const char *const issue[] = {"credential_id", "hash", "kind", NULL};
    static const char *const revoke[] = {"credential_id", "hash", "reason", NULL};
    const json_t *b = tx->body;
    const char *f;

    if (strcmp(tx->type, EDU_TX_ISSUE) == 0) {
        if ((f = shape(b, issue)) != NULL)
            return bad(why, f, "is missing, not a string, or not expected");
        if (edu_kind_type(str(b, "kind")) == NULL)
            return bad(why, "kind", "must be diploma, degree, transcript or completion");
    } else if (strcmp(tx->type, EDU_TX_REVOKE) == 0) {
        if ((f = shape(b, revoke)) != NULL)
            return bad(why, f, "is missing, not a string, or not expected");
        if (!reason_valid(str(b, "reason")))
            return bad(why, "reason", "must have 1 to 200 bytes and no control characters");
    } else {
        return lx_reject(why, 422, "unknown_type", "edu has no such tx type");
    }
    if (!urn_valid(str(b, "credential_id")))
        return bad(why, "credential_id", "must be urn:uuid: and a lowercase uuid");
    if (!hash_valid(str(b, "hash")))
        return bad(why, "hash", "must be base64 of a 32-byte SHA-256");
    return 0;
}

/* ---- stateful rules ---------------------------------------------------------------------------
 */

static int issue(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    const json_t *b = tx->body;
    char leaf[24], ms[24];
    const char *p[7] = {
        str(b, "credential_id"), str(b, "hash"), tx->org, str(b, "kind"), tx->id_hex, leaf, ms};
    const char *q[3] = {tx->org, p[0], p[1]};
    PGresult *r;
    int inserted, rc = 0;

    snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
    snprintf(ms, sizeof(ms), "%" PRId64, ctx->block_time_ms);
    /* One statement on the hot path (a batch is thousands of these): it checks the issuer and
     * both uniqueness rules and writes; only a refusal asks why. */
    r = PQexecPrepared(ctx->db, "edu_issue", 7, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        return SRV_EDB;
    }
    inserted = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (inserted)
        return 0;
    r = PQexecPrepared(ctx->db, "edu_issue_why", 3, q, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return SRV_EDB;
    }
    if (PQgetisnull(r, 0, 0) || strcmp(PQgetvalue(r, 0, 0), "university") != 0)
        rc = lx_reject(why, 409, "not_a_university",
                       "only an admitted organisation of type university issues credentials");
    else if (strcmp(PQgetvalue(r, 0, 1), "t") == 0)
        rc = lx_reject(why, 409, "duplicate_credential", "this credential id is anchored already");
    else
        rc = lx_reject(why, 409, "duplicate_credential", "this credential is anchored already");
    PQclear(r);
    return rc;
}

static int revoke(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    const json_t *b = tx->body;
    const char *id = str(b, "credential_id");
    char leaf[24], ms[24], target[80];
    const char *p1[1] = {id};
    const char *p5[5] = {id, ms, str(b, "reason"), tx->id_hex, leaf};
    PGresult *r = PQexecPrepared(ctx->db, "edu_anchor_get", 1, p1, NULL, NULL, 0);
    int rc;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return SRV_EDB;
    }
    if (PQntuples(r) == 0)
        rc = lx_reject(why, 409, "unknown_credential", "no credential with this id is anchored");
    else if (strcmp(PQgetvalue(r, 0, 0), tx->org) != 0)
        rc = lx_reject(why, 403, "not_issuer", "only the issuing university may revoke");
    else if (strcmp(PQgetvalue(r, 0, 1), str(b, "hash")) != 0)
        rc = lx_reject(why, 409, "hash_mismatch", "the hash is not the anchored one");
    else if (strcmp(PQgetvalue(r, 0, 3), "t") == 0)
        rc = lx_reject(why, 409, "already_revoked", "the credential is revoked already");
    else
        rc = 0;
    snprintf(target, sizeof(target), "tx:%s", rc == 0 ? PQgetvalue(r, 0, 2) : "");
    PQclear(r);
    if (rc != 0)
        return rc;
    /* a regulator's freeze of the issuance record stops every change to it */
    if ((rc = lx_refuse_frozen(ctx->db, target, why)) != 0)
        return rc;
    snprintf(leaf, sizeof(leaf), "%" PRIu64, ctx->leaf_index);
    snprintf(ms, sizeof(ms), "%" PRId64, ctx->block_time_ms);
    r = PQexecPrepared(ctx->db, "edu_anchor_revoke", 5, p5, NULL, NULL, 0);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : SRV_EDB;
    PQclear(r);
    return rc;
}

int edu_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why)
{
    if (strcmp(tx->type, EDU_TX_ISSUE) == 0)
        return issue(ctx, tx, why);
    return revoke(ctx, tx, why);
}
