/*
 * /api/auth/…: signing in and out, who am I, password change, and API tokens for machines.
 * The session cookie is HttpOnly and SameSite=Strict; its CSRF token is handed over in the
 * login answer and must come back in X-CSRF-Token on every cookie-authenticated write.
 */
#define _GNU_SOURCE
#include "auth.h"
#include "db.h"
#include "http.h"
#include "server.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_PASSWORD   10
#define MAX_TOKEN_DAYS 366

static const char *body_str(struct srv_req *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

/* {"org","role"} of every role the user holds, as a new array. */
static json_t *roles_of(PGconn *c, int64_t user_id)
{
    char uid[24];
    const char *params[1] = {uid};
    PGresult *res;
    json_t *arr = json_array();

    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    res = PQexecPrepared(c, "auth_user_roles", 1, params, NULL, NULL, 0);
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s}", "org", PQgetvalue(res, i, 0), "role",
                                        PQgetvalue(res, i, 1), "org_name", PQgetvalue(res, i, 2)));
    PQclear(res);
    return arr;
}

static unsigned refuse_login(struct srv_req *r, const char *user, const char *ip)
{
    srv_login_failed(user, ip);
    return srv_reply_error(r, 401, "invalid_credentials", "invalid username or password", NULL);
}

/* POST /api/auth/login {"username","password"} */
static unsigned login(struct srv_req *r)
{
    const char *user = body_str(r, "username"), *pw = body_str(r, "password");
    char ip[64], cookie[44], hash_hex[65], csrf[SRV_CSRF_LEN + 1];
    uint8_t hash[32];
    const char *params[2] = {hash_hex, NULL};
    unsigned retry;
    PGconn *c;
    PGresult *res = NULL, *ins = NULL;
    unsigned status;
    int ok;

    if (user == NULL || pw == NULL || strlen(user) > 64 || strlen(pw) > 1024)
        return srv_reply_error(r, 400, "bad_parameter", "send username and password", NULL);
    srv_req_client(r, ip, sizeof(ip));
    if (srv_login_locked(user, ip, &retry)) {
        char secs[16];

        snprintf(secs, sizeof(secs), "%u", retry ? retry : 1);
        status = srv_reply_error(r, 429, "too_many_attempts",
                                 "too many failed sign-ins; wait a minute", NULL);
        MHD_add_response_header(r->resp, "Retry-After", secs);
        return status;
    }
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    res = PQexecPrepared(c, "auth_user_by_name", 1, &user, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        status = srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
        goto out;
    }
    ok = srv_password_check(PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : NULL, pw);
    if (!ok) {
        status = refuse_login(r, user, ip);
        goto out;
    }
    srv_login_succeeded(user, ip);
    srv_secret_new(cookie, sizeof(cookie), hash);
    sodium_bin2hex(hash_hex, sizeof(hash_hex), hash, sizeof(hash));
    srv_csrf_of(cookie, csrf);
    params[1] = PQgetvalue(res, 0, 0);
    ins = PQexecPrepared(c, "auth_session_new", 2, params, NULL, NULL, 0);
    if (PQresultStatus(ins) != PGRES_COMMAND_OK) {
        status = srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
        goto out;
    }
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             SRV_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d", cookie,
             SRV_SESSION_HOURS * 3600);
    snprintf(r->who.username, sizeof(r->who.username), "%s", user); /* for the audit log */
    status = srv_reply_json(r, 200,
                            json_pack("{s:s, s:s, s:s, s:s, s:o}", "username", user, "node_role",
                                      PQgetvalue(res, 0, 2), "principal", PQgetvalue(res, 0, 3),
                                      "csrf", csrf, "roles",
                                      roles_of(c, strtoll(PQgetvalue(res, 0, 0), NULL, 10))));
out:
    sodium_memzero(cookie, sizeof(cookie));
    sodium_memzero(csrf, sizeof(csrf));
    PQclear(ins);
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* POST /api/auth/logout */
static unsigned logout(struct srv_req *r)
{
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SRV_SESSION_COOKIE);
    char hex[65];
    uint8_t hash[32];
    const char *params[1] = {hex};
    PGconn *c;

    if (cookie != NULL && (c = db_acquire(r->srv->pool, 1000, NULL)) != NULL) {
        srv_secret_hash(cookie, hash);
        sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
        PQclear(PQexecPrepared(c, "auth_session_end", 1, params, NULL, NULL, 0));
        db_release(r->srv->pool, c);
    }
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             SRV_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return srv_reply_json(r, 200, json_pack("{s:b}", "signed_out", 1));
}

/* GET /api/auth/me */
static unsigned me(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 1000, NULL);
    json_t *body;

    if (c == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    body = json_pack("{s:s, s:s, s:s, s:b, s:o}", "username", r->who.username, "node_role",
                     r->who.node_role, "principal", r->who.principal, "via_token", r->who.via_token,
                     "roles", roles_of(c, r->who.user_id));
    if (body != NULL && !r->who.via_token)
        json_object_set_new(body, "csrf", json_string(r->who.csrf));
    if (body != NULL && r->who.via_token)
        json_object_set_new(
            body, "token_scope",
            json_pack("{s:s, s:s}", "org", r->who.token_org, "role", r->who.token_role));
    db_release(r->srv->pool, c);
    return srv_reply_json(r, 200, body);
}

/* POST /api/auth/password {"old","new"}: other sessions of the user end. */
static unsigned password(struct srv_req *r)
{
    const char *old = body_str(r, "old"), *new = body_str(r, "new");
    char uid[24], hash[crypto_pwhash_STRBYTES];
    const char *params[2] = {uid, hash};
    PGconn *c;
    PGresult *res;
    unsigned status;

    if (r->who.via_token)
        return srv_reply_error(r, 403, "forbidden", "tokens cannot change passwords", NULL);
    if (old == NULL || new == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "send old and new", NULL);
    if (strlen(new) < MIN_PASSWORD || strlen(new) > 1024)
        return srv_reply_error(r, 422, "weak_password", "use at least 10 characters", "new");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    params[0] = r->who.username;
    res = PQexecPrepared(c, "auth_user_by_name", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
        !srv_password_check(PQgetvalue(res, 0, 1), old)) {
        status = srv_reply_error(r, 403, "wrong_password", "the current password is wrong", "old");
        goto out;
    }
    snprintf(uid, sizeof(uid), "%" PRId64, r->who.user_id);
    params[0] = uid; /* it held the username for the lookup above */
    if (srv_password_hash(new, hash) != 0) {
        status = srv_reply_error(r, 503, "busy", "out of memory", NULL);
        goto out;
    }
    PQclear(res);
    res = PQexecPrepared(c, "auth_password_set", 2, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        /* someone who learnt the old password is signed out everywhere else */
        const char *cookie =
            MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SRV_SESSION_COOKIE);
        uint8_t h[32];

        srv_secret_hash(cookie ? cookie : "", h);
        sodium_bin2hex(hash, sizeof(hash), h, sizeof(h));
        PQclear(res);
        res = PQexecPrepared(c, "auth_sessions_end_others", 2, params, NULL, NULL, 0);
    }
    status = PQresultStatus(res) == PGRES_COMMAND_OK
                 ? srv_reply_json(r, 200, json_pack("{s:b}", "changed", 1))
                 : srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
out:
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* POST /api/auth/tokens {"name","org","role","expires"}: expires is Unix ms. The token is in
 * this answer and nowhere else. */
static unsigned token_create(struct srv_req *r)
{
    const char *name = body_str(r, "name"), *role = body_str(r, "role");
    json_t *exp = json_object_get(r->json, "expires");
    int64_t now = (int64_t)time(NULL) * 1000, expires;
    char token[48], hex[65], uid[24], exps[32];
    uint8_t hash[32];
    const char *params[6] = {hex, name, uid, r->who.acting_org, role, exps};
    PGconn *c;
    PGresult *res;
    unsigned status;

    if (name == NULL || *name == '\0' || strlen(name) > 100)
        return srv_reply_error(r, 400, "bad_parameter", "name the token", "name");
    if (role == NULL || srv_role_bit(role) == 0)
        return srv_reply_error(r, 422, "invalid_body", "role is not an organisation role", "role");
    if (!json_is_integer(exp) || (expires = json_integer_value(exp)) <= now ||
        expires > now + (int64_t)MAX_TOKEN_DAYS * 86400000)
        return srv_reply_error(r, 422, "invalid_body",
                               "expires must be a future Unix time in ms, within a year",
                               "expires");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    srv_secret_new(token + 4, sizeof(token) - 4, hash);
    memcpy(token, "lxt_", 4);
    srv_secret_hash(token, hash);
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    snprintf(uid, sizeof(uid), "%" PRId64, r->who.user_id);
    snprintf(exps, sizeof(exps), "%.3f", (double)expires / 1000.0);
    res = PQexecPrepared(c, "auth_token_new", 6, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        status = srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
    else
        status = srv_reply_json(r, 201,
                                json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "id",
                                          (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10),
                                          "token", token, "name", name, "org", r->who.acting_org,
                                          "role", role, "expires", (json_int_t)expires));
    sodium_memzero(token, sizeof(token));
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

/* GET /api/auth/tokens?org= : without the secrets, which we do not have. */
static unsigned token_list(struct srv_req *r)
{
    const char *params[1] = {r->who.acting_org};
    PGconn *c = db_acquire(r->srv->pool, 1000, NULL);
    PGresult *res;
    json_t *arr;

    if (c == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    res = PQexecPrepared(c, "auth_token_list", 1, params, NULL, NULL, 0);
    arr = json_array();
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++)
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:b}", "id",
                           (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10), "name",
                           PQgetvalue(res, i, 1), "role", PQgetvalue(res, i, 2), "created_by",
                           PQgetvalue(res, i, 3), "expires",
                           (json_int_t)strtoll(PQgetvalue(res, i, 4), NULL, 10), "created",
                           (json_int_t)strtoll(PQgetvalue(res, i, 5), NULL, 10), "revoked",
                           strcmp(PQgetvalue(res, i, 6), "t") == 0));
    PQclear(res);
    db_release(r->srv->pool, c);
    return srv_reply_json(r, 200, json_pack("{s:s, s:o}", "org", r->who.acting_org, "tokens", arr));
}

/* DELETE /api/auth/tokens/:id?org= */
static unsigned token_revoke(struct srv_req *r)
{
    const char *id = srv_req_param(r, "id");
    const char *params[2] = {id, r->who.acting_org};
    PGconn *c;
    PGresult *res;
    unsigned status;

    if (strspn(id, "0123456789") != strlen(id) || strlen(id) > 18)
        return srv_reply_error(r, 400, "bad_parameter", "id must be a number", "id");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    res = PQexecPrepared(c, "auth_token_revoke", 2, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        status = srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        status = srv_reply_error(r, 404, "not_found", "no such active token in this org", NULL);
    else
        status = srv_reply_json(r, 200, json_pack("{s:b}", "revoked", 1));
    PQclear(res);
    db_release(r->srv->pool, c);
    return status;
}

const struct srv_route srv_auth_routes[] = {
    {"POST", "/api/auth/login", login, SRV_AUTH_PUBLIC, SRV_BODY_JSON, 0},
    {"POST", "/api/auth/logout", logout, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"GET", "/api/auth/me", me, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"POST", "/api/auth/password", password, SRV_AUTH_USER, SRV_BODY_JSON, 0},
    {"POST", "/api/auth/tokens", token_create, SRV_AUTH_ORG, SRV_BODY_JSON, SRV_ROLE_ORG_ADMIN},
    {"GET", "/api/auth/tokens", token_list, SRV_AUTH_ORG, SRV_BODY_NONE, SRV_ROLE_ORG_ADMIN},
    {"DELETE", "/api/auth/tokens/:id", token_revoke, SRV_AUTH_ORG, SRV_BODY_NONE,
     SRV_ROLE_ORG_ADMIN},
};
const size_t srv_n_auth_routes = sizeof(srv_auth_routes) / sizeof(srv_auth_routes[0]);

const struct db_stmt srv_auth_api_stmts[] = {
    {"auth_user_by_name",
     "SELECT id, password_hash, coalesce(node_role, ''), "
     "coalesce(principal, '') FROM users WHERE username = $1 AND NOT disabled"},
    {"auth_user_roles", "SELECT r.org, r.role, p.name FROM roles r JOIN principals p "
                        "ON p.id = r.org WHERE r.user_id = $1 ORDER BY r.org, r.role"},
    {"auth_session_new", "INSERT INTO sessions (id_hash, user_id) "
                         "VALUES (decode($1, 'hex'), $2)"},
    {"auth_password_set", "UPDATE users SET password_hash = $2 WHERE id = $1"},
    {"auth_sessions_end_others", "DELETE FROM sessions WHERE user_id = $1 "
                                 "AND id_hash <> decode($2, 'hex')"},
    {"auth_token_new", "INSERT INTO api_tokens (token_hash, name, user_id, org, role, expires_at) "
                       "VALUES (decode($1, 'hex'), $2, $3, $4, $5, to_timestamp($6)) RETURNING id"},
    {"auth_token_list",
     "SELECT t.id, t.name, t.role, u.username, "
     "(extract(epoch FROM t.expires_at) * 1000)::bigint, "
     "(extract(epoch FROM t.created_at) * 1000)::bigint, t.revoked_at IS NOT NULL "
     "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.org = $1 ORDER BY t.id"},
    {"auth_token_revoke", "UPDATE api_tokens SET revoked_at = now() "
                          "WHERE id = $1 AND org = $2 AND revoked_at IS NULL"},
};
const size_t srv_n_auth_api_stmts = sizeof(srv_auth_api_stmts) / sizeof(srv_auth_api_stmts[0]);
