/*
 * Changing what was issued: revocation (a credential.revoke tx signed with the university's
 * custodial key), erasure of the stored personal data (no tx: the ledger never held any), and
 * the share links a student hands to an employer.
 */
#define _GNU_SOURCE
#include "../../server/auth.h"
#include "../../server/custody.h"
#include "../../server/server.h"
#include "../module.h"
#include "edu_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_DAYS_DEFAULT 30
#define SHARE_DAYS_MAX     365
#define SHARE_TOKEN_MAX    64

/* Loads the route's credential for a write by the acting org: it must be that org's. Returns
 * 0, or the status answered. */
static unsigned load_own(struct srv_req *r, PGconn *c, struct edu_record *rec)
{
    int rc = edu_record_load(c, srv_req_param(r, "id"), rec);

    if (rc < 0)
        return edu_db_down(r);
    if (rc == 0)
        return srv_reply_error(r, 404, "not_found", "no such credential", NULL);
    if (strcmp(rec->org, r->who.acting_org) != 0)
        return srv_reply_error(r, 403, "not_issuer",
                               "only the issuing university may change this credential", "org");
    return 0;
}

static int reason_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > EDU_MAX_REASON)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ---- POST /api/edu/credentials/:id/revoke {"org","reason"} -------------------------------- */

unsigned edu_revoke(struct srv_req *r)
{
    const char *reason = json_string_value(json_object_get(r->json, "reason"));
    struct edu_record rec;
    char urn[EDU_URN_LEN + 1], err[160];
    PGconn *c;
    json_t *env;
    unsigned status;

    if (!reason_ok(reason))
        return srv_reply_error(r, 422, "invalid_body",
                               "give a reason of 1 to 200 bytes without control characters",
                               "reason");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return edu_db_down(r);
    if ((status = load_own(r, c, &rec)) != 0)
        goto out;
    if (!rec.anchored) {
        status =
            srv_reply_error(r, 409, "not_anchored", "the credential is not on the ledger", NULL);
        goto out;
    }
    if (rec.revoked) {
        status =
            srv_reply_error(r, 409, "already_revoked", "the credential is revoked already", NULL);
        goto out;
    }
    snprintf(urn, sizeof(urn), "urn:uuid:%s", rec.id);
    env = srv_custody_sign(
        r->srv, c, rec.org, "edu", EDU_TX_REVOKE,
        json_pack("{s:s, s:s, s:s}", "credential_id", urn, "hash", rec.hash_b64, "reason", reason),
        err, sizeof(err));
    db_release(r->srv->pool, c);
    if (env == NULL)
        return srv_reply_error(r, 409, "no_custodial_key",
                               "the university holds no custodial key on this node", err);
    return srv_ledger_submit_reply(
        r, env, 200, json_pack("{s:s, s:b, s:s}", "id", rec.id, "revoked", 1, "reason", reason));
out:
    db_release(r->srv->pool, c);
    return status;
}

/* ---- POST /api/edu/credentials/:id/erase {"org"} ------------------------------------------ */

unsigned edu_erase(struct srv_req *r)
{
    struct edu_record rec;
    char now[24], target[80];
    const char *params[2] = {NULL, now};
    PGconn *c;
    PGresult *res;
    unsigned status;
    int frozen;

    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return edu_db_down(r);
    if ((status = load_own(r, c, &rec)) != 0)
        goto out;
    if (rec.erased) {
        status = srv_reply_json(r, 200, json_pack("{s:s, s:b}", "id", rec.id, "erased", 1));
        goto out;
    }
    /* a regulator's freeze preserves the record as it is */
    snprintf(target, sizeof(target), "tx:%s", rec.tx_id);
    frozen = rec.anchored ? lx_frozen(c, target, NULL, 0) : 0;
    if (frozen == 0) {
        snprintf(target, sizeof(target), "org:%s", rec.org);
        frozen = lx_frozen(c, target, NULL, 0);
    }
    if (frozen != 0) {
        status = frozen < 0 ? edu_db_down(r)
                            : srv_reply_error(r, 423, "frozen",
                                              "the record is frozen by a regulator", NULL);
        goto out;
    }
    params[0] = rec.id;
    snprintf(now, sizeof(now), "%" PRId64, edu_now_ms());
    res = PQexecPrepared(c, "edu_erase", 2, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        PQclear(res);
        status = edu_db_down(r);
        goto out;
    }
    PQclear(res);
    /* links to a document that is gone would only disappoint */
    PQclear(PQexecPrepared(c, "edu_share_withdraw_all", 2, params, NULL, NULL, 0));
    status = srv_reply_json(r, 200, json_pack("{s:s, s:b}", "id", rec.id, "erased", 1));
out:
    db_release(r->srv->pool, c);
    return status;
}

/* ---- share links ------------------------------------------------------------------------------
 */

/* May the caller hand out links to rec: the student, the issuing org's members, the admin. */
static int may_share(struct srv_req *r, PGconn *c, const struct edu_record *rec)
{
    const struct srv_who *w = &r->who;

    if (strcmp(w->node_role, "admin") == 0)
        return 1;
    if (w->principal[0] && rec->student[0] && strcmp(w->principal, rec->student) == 0)
        return 1;
    if (w->via_token)
        return strcmp(w->token_org, rec->org) == 0;
    return srv_auth_has_role(c, w->user_id, rec->org, SRV_ROLE_ANY);
}

/* Loads the route's credential for the share endpoints. Returns 0 or the status answered. */
static unsigned load_shareable(struct srv_req *r, PGconn *c, struct edu_record *rec)
{
    int rc = edu_record_load(c, srv_req_param(r, "id"), rec);

    if (rc == 1)
        rc = may_share(r, c, rec);
    if (rc < 0)
        return edu_db_down(r);
    if (rc == 0)
        return srv_reply_error(r, 404, "not_found", "no such credential", NULL);
    return 0;
}

/* POST /api/edu/credentials/:id/shares {"expires_in_days"?: 1..365} */
unsigned edu_share_create(struct srv_req *r)
{
    const json_t *d = json_object_get(r->json, "expires_in_days");
    struct edu_record rec;
    char token[SHARE_TOKEN_MAX], hex[65], uid[24], now_s[24], exp_s[24], url[160];
    const char *params[5] = {hex, NULL, uid, now_s, exp_s};
    uint8_t hash[32];
    json_int_t days = SHARE_DAYS_DEFAULT;
    int64_t now = edu_now_ms(), expires;
    PGconn *c;
    PGresult *res;
    unsigned status;

    if (d != NULL && !json_is_null(d)) {
        if (!json_is_integer(d) || json_integer_value(d) < 1 ||
            json_integer_value(d) > SHARE_DAYS_MAX)
            return srv_reply_error(r, 422, "invalid_body",
                                   "expires_in_days is a whole number from 1 to 365",
                                   "expires_in_days");
        days = json_integer_value(d);
    }
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return edu_db_down(r);
    if ((status = load_shareable(r, c, &rec)) != 0)
        goto out;
    if (rec.erased || !rec.anchored) {
        status =
            srv_reply_error(r, 409, rec.erased ? "erased" : "not_anchored",
                            "only an anchored credential with its document can be shared", NULL);
        goto out;
    }
    srv_secret_new(token, sizeof(token), hash);
    chain_hex_encode(hash, sizeof(hash), hex);
    expires = now + (int64_t)days * 86400000;
    params[1] = rec.id;
    snprintf(uid, sizeof(uid), "%" PRId64, r->who.user_id);
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    snprintf(exp_s, sizeof(exp_s), "%" PRId64, expires);
    res = PQexecPrepared(c, "edu_share_add", 5, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        PQclear(res);
        status = edu_db_down(r);
        goto out;
    }
    snprintf(url, sizeof(url), "/edu/verify?share=%s", token);
    status = srv_reply_json(r, 201,
                            json_pack("{s:I, s:s, s:s, s:s+, s:I}", "id",
                                      (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10), "token",
                                      token, "url", url, "api_url", "/api/edu/share/", token,
                                      "expires_at_ms", (json_int_t)expires));
    PQclear(res);
out:
    sodium_memzero(token, sizeof(token));
    db_release(r->srv->pool, c);
    return status;
}

/* GET /api/edu/credentials/:id/shares */
unsigned edu_share_list(struct srv_req *r)
{
    struct edu_record rec;
    const char *params[1];
    PGconn *c;
    PGresult *res;
    json_t *list;
    unsigned status;
    int64_t now = edu_now_ms();

    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return edu_db_down(r);
    if ((status = load_shareable(r, c, &rec)) != 0)
        goto out;
    params[0] = rec.id;
    res = PQexecPrepared(c, "edu_share_list", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        status = edu_db_down(r);
        goto out;
    }
    list = json_array();
    for (int i = 0; list != NULL && i < PQntuples(res); i++) {
        int64_t expires = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        int64_t withdrawn = strtoll(PQgetvalue(res, i, 3), NULL, 10);

        json_array_append_new(
            list, json_pack("{s:I, s:I, s:I, s:s, s:s}", "id",
                            (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10), "created_ms",
                            (json_int_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), "expires_at_ms",
                            (json_int_t)expires, "created_by", PQgetvalue(res, i, 4), "state",
                            withdrawn        ? "withdrawn"
                            : expires <= now ? "expired"
                                             : "active"));
    }
    PQclear(res);
    status = srv_reply_json(r, 200, json_pack("{s:o}", "shares", list));
out:
    db_release(r->srv->pool, c);
    return status;
}

/* DELETE /api/edu/credentials/:id/shares/:share */
unsigned edu_share_delete(struct srv_req *r)
{
    const char *share = srv_req_param(r, "share");
    struct edu_record rec;
    char now[24];
    const char *params[3] = {share, NULL, now};
    PGconn *c;
    PGresult *res;
    unsigned status;
    int done;

    if (share == NULL || strspn(share, "0123456789") != strlen(share) || strlen(share) == 0 ||
        strlen(share) > 18)
        return srv_reply_error(r, 400, "bad_parameter", "a share id is a number", "share");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return edu_db_down(r);
    if ((status = load_shareable(r, c, &rec)) != 0)
        goto out;
    params[1] = rec.id;
    snprintf(now, sizeof(now), "%" PRId64, edu_now_ms());
    res = PQexecPrepared(c, "edu_share_withdraw", 3, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        PQclear(res);
        status = edu_db_down(r);
        goto out;
    }
    done = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    status = done ? srv_reply_json(r, 200, json_pack("{s:s, s:b}", "share", share, "withdrawn", 1))
                  : srv_reply_error(r, 404, "not_found", "no active share link with this id", NULL);
out:
    db_release(r->srv->pool, c);
    return status;
}
