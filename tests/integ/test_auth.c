/*
 * Signing in and what guards it, through a real lianxind: the session cookie's attributes and
 * the CSRF token, one message for every failed sign-in, the lockout after five failures and its
 * expiry, CSRF refusals, idle and absolute session expiry, logout, password change, and API
 * tokens (shown once, stored hashed, scoped to one org and role, revoked, expired).
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW "admin-password-for-tests"
#define PW       "right-password-1"

static struct lx_server srv;

/* The accounts every test may use; each test works with its own so that they stay apart. */
static void add_users(struct lx_server *s)
{
    static const char *const plain[] = {"bob",       "carol",       "dave",  "eve",
                                        "lock.user", "lock.second", "frank", NULL};

    lx_org_add(s, "orga", "university");
    lx_org_add(s, "orgb", "court");
    lx_user_add(s->dbname, "alice", PW, NULL);
    lx_role_grant(s->dbname, "alice", "orga", "org_admin");
    for (size_t i = 0; plain[i] != NULL; i++)
        lx_user_add(s->dbname, plain[i], PW, NULL);
    lx_role_grant(s->dbname, "bob", "orga", "member");
    lx_role_grant(s->dbname, "frank", "orga", "org_admin");
}

static void start(void)
{
    memset(&srv, 0, sizeof(srv));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1); /* the child inherits it */
    lx_server_start(&srv, NULL);
    add_users(&srv);
}

static void stop(void)
{
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

static json_t *parse(const struct lx_resp *r)
{
    json_t *doc = json_loads(r->body, 0, NULL);

    ck_assert_msg(doc != NULL, "not JSON (%ld): %s", r->status, r->body);
    return doc;
}

/* The error code of an error answer, as a new string. */
static char *error_code(const struct lx_resp *r)
{
    json_t *doc = parse(r);
    const char *c = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
    char *out = strdup(c ? c : "");

    json_decref(doc);
    return out;
}

/* Asserts that the request answered status with error code code. */
static void expect_error(const struct lx_resp *r, long status, const char *code, const char *what)
{
    char *got = error_code(r);

    ck_assert_msg(r->status == status && strcmp(got, code) == 0, "%s: want %ld %s, got %ld %s",
                  what, status, code, r->status, r->body);
    free(got);
}

static size_t keep_body(char *data, size_t size, size_t n, void *ud)
{
    struct lx_resp *r = ud;
    char *nb = realloc(r->body, r->len + size * n + 1);

    if (nb == NULL)
        return 0;
    r->body = nb;
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

/* POST /api/auth/login from the local address ip ("127.0.0.x"), or the usual one when NULL. */
static void login_from(struct lx_server *s, const char *ip, const char *user, const char *pw,
                       struct lx_resp *out)
{
    json_t *body = json_pack("{s:s, s:s}", "username", user, "password", pw);
    char *text = json_dumps(body, JSON_COMPACT), url[128];
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *c;

    if (ip == NULL) {
        static const char *const h[] = {"Content-Type: application/json", NULL};

        lx_http(s, "POST", "/api/auth/login", text, strlen(text), h, out);
        goto out;
    }
    /* lx_http always comes from 127.0.0.1; the limiter counts per (user, address). */
    memset(out, 0, sizeof(*out));
    out->body = calloc(1, 1);
    c = curl_easy_init();
    snprintf(url, sizeof(url), "%s/api/auth/login", s->url);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_INTERFACE, ip);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
out:
    curl_slist_free_all(hl);
    free(text);
    json_decref(body);
}

/* GET /api/auth/me as who; returns the status. */
static long me(const struct lx_cred *who)
{
    struct lx_resp r;
    long status;

    lx_http_as(&srv, who, "GET", "/api/auth/me", NULL, &r);
    status = r.status;
    lx_resp_free(&r);
    return status;
}

/* Rows of sessions for who's cookie (0 or 1). */
static int session_rows(const struct lx_cred *who)
{
    const char *params[1] = {who->cookie};
    char *n = lx_db_value(srv.dbname,
                          "SELECT count(*) FROM sessions "
                          "WHERE id_hash = sha256(convert_to($1, 'UTF8'))",
                          1, params);
    int rows = atoi(n);

    free(n);
    return rows;
}

/* Runs sql with who's cookie as $1 (its session row is "id_hash = sha256($1)"). */
static void session_sql(const struct lx_cred *who, const char *sql)
{
    const char *params[1] = {who->cookie};

    ck_assert_int_eq(lx_db_exec_params(srv.dbname, sql, 1, params), 0);
}

START_TEST(login_success)
{
    struct lx_resp r;
    char cookie[256], buf[64];
    json_t *doc;
    struct lx_cred alice, admin;

    login_from(&srv, NULL, "alice", PW, &r);
    ck_assert_msg(r.status == 200, "login: %ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(lx_header(&r, "Set-Cookie", cookie, sizeof(cookie)));
    ck_assert_msg(strncmp(cookie, "lx_session=", 11) == 0, "cookie: %s", cookie);
    ck_assert_msg(strstr(cookie, "; HttpOnly") != NULL, "cookie: %s", cookie);
    ck_assert_msg(strstr(cookie, "; SameSite=Strict") != NULL, "cookie: %s", cookie);
    ck_assert_msg(strstr(cookie, "; Path=/") != NULL, "cookie: %s", cookie);
    ck_assert_ptr_nonnull(lx_set_cookie(&r, "lx_session", buf, sizeof(buf)));
    ck_assert_int_ge(strlen(buf), 43); /* 32 random bytes */
    doc = parse(&r);
    ck_assert_int_ge(strlen(json_string_value(json_object_get(doc, "csrf"))), 43);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "username")), "alice");
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(doc, "roles"), 0), "role")),
                     "org_admin");
    json_decref(doc);
    lx_resp_free(&r);
    /* the cookie works, and only its hash is stored */
    ck_assert_int_eq(lx_login(&srv, "alice", PW, &alice), 200);
    ck_assert_int_eq(me(&alice), 200);
    ck_assert_int_eq(session_rows(&alice), 1);
    {
        const char *params[1] = {alice.cookie};
        char *n = lx_db_value(
            srv.dbname, "SELECT count(*) FROM sessions s WHERE strpos(s::text, $1) > 0", 1, params);

        ck_assert_str_eq(n, "0");
        free(n);
    }
    /* the admin account has the password LIANXIN_ADMIN_PASSWORD gave it */
    ck_assert_int_eq(lx_login(&srv, "admin", ADMIN_PW, &admin), 200);
    lx_http_as(&srv, &admin, "GET", "/api/auth/me", NULL, &r);
    doc = parse(&r);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "node_role")), "admin");
    json_decref(doc);
    lx_resp_free(&r);
}
END_TEST

START_TEST(login_failure_says_the_same)
{
    struct lx_resp unknown, wrong;

    login_from(&srv, NULL, "nobody.here", PW, &unknown);
    login_from(&srv, NULL, "bob", "wrong-password-1", &wrong);
    expect_error(&unknown, 401, "invalid_credentials", "unknown user");
    expect_error(&wrong, 401, "invalid_credentials", "wrong password");
    ck_assert_str_eq(unknown.body, wrong.body); /* nothing tells whether the user exists */
    ck_assert_ptr_null(strstr(unknown.headers, "Set-Cookie"));
    lx_resp_free(&unknown);
    lx_resp_free(&wrong);
}
END_TEST

/* Five failures for user from 127.0.0.1; then asserts the lockout; returns Retry-After. */
static long lock_out(struct lx_server *s, const char *user, long window)
{
    struct lx_resp r;
    char ra[32];
    long retry;

    for (int i = 0; i < 5; i++) {
        login_from(s, NULL, user, "wrong-password-1", &r);
        expect_error(&r, 401, "invalid_credentials", "failure before the lockout");
        lx_resp_free(&r);
    }
    /* the 6th, with the right password: still locked, and nothing says it was right */
    login_from(s, NULL, user, PW, &r);
    expect_error(&r, 429, "too_many_attempts", "right password while locked");
    ck_assert_ptr_nonnull(lx_header(&r, "Retry-After", ra, sizeof(ra)));
    retry = atol(ra);
    ck_assert_msg(retry >= 1 && retry <= window, "Retry-After: %s", ra);
    ck_assert_ptr_null(strstr(r.headers, "Set-Cookie"));
    lx_resp_free(&r);
    login_from(s, NULL, user, "wrong-password-1", &r);
    expect_error(&r, 429, "too_many_attempts", "7th attempt");
    lx_resp_free(&r);
    return retry;
}

START_TEST(lockout_after_five_failures)
{
    struct lx_resp r;

    lock_out(&srv, "lock.user", 60);
    /* the same for a user that does not exist: the answers do not tell them apart */
    lock_out(&srv, "lock.nobody", 60);
    /* another user from the same address is not affected */
    login_from(&srv, NULL, "lock.second", PW, &r);
    ck_assert_msg(r.status == 200, "other user: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    /* nor the same user from another address */
    login_from(&srv, "127.0.0.2", "lock.user", PW, &r);
    ck_assert_msg(r.status == 200, "other address: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    /* and the pair stays locked */
    login_from(&srv, NULL, "lock.user", PW, &r);
    ck_assert_int_eq(r.status, 429);
    lx_resp_free(&r);
}
END_TEST

START_TEST(lockout_expires)
{
    /* A server of this test's own, with a 2 s window (LIANXIN_LOGIN_WINDOW_S). */
    struct lx_server s2;
    struct lx_resp r;
    long retry;

    memset(&s2, 0, sizeof(s2));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1);
    setenv("LIANXIN_LOGIN_WINDOW_S", "2", 1);
    lx_server_start(&s2, NULL);
    unsetenv("LIANXIN_LOGIN_WINDOW_S");
    lx_user_add(s2.dbname, "lock.user", PW, NULL);
    /* The limiter counts whole seconds: start just after one begins, so that the five failures
     * (about 0.7 s of Argon2id) surely fall within the 2 s. */
    {
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        usleep((useconds_t)((1000000000L - now.tv_nsec) / 1000 + 20000));
    }
    retry = lock_out(&s2, "lock.user", 2);
    sleep((unsigned)retry + 1);
    login_from(&s2, NULL, "lock.user", PW, &r);
    ck_assert_msg(r.status == 200, "after the window: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    ck_assert_int_eq(lx_server_stop(&s2), 0);
}
END_TEST

/* A token request body for org and role, expiring in an hour, as a new string. */
static char *token_body(const char *name, const char *org, const char *role)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:I}", "name", name, "org", org, "role", role, "expires",
                          (json_int_t)(time(NULL) + 3600) * 1000);
    char *text = json_dumps(b, JSON_COMPACT);

    json_decref(b);
    return text;
}

START_TEST(csrf_on_cookie_writes)
{
    static const char *const bad[] = {NULL, "not-the-token", ""};
    struct lx_cred alice;
    struct lx_resp r;
    char *body = token_body("csrf-test", "orga", "member");
    char cookie[128], csrf[128], *n;

    ck_assert_int_eq(lx_login(&srv, "alice", PW, &alice), 200);
    snprintf(cookie, sizeof(cookie), "Cookie: lx_session=%s", alice.cookie);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h[4] = {"Content-Type: application/json", cookie, NULL, NULL};

        if (bad[i] != NULL) {
            snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", bad[i]);
            h[2] = csrf;
        }
        lx_http(&srv, "POST", "/api/auth/tokens", body, strlen(body), h, &r);
        expect_error(&r, 403, "csrf", bad[i] ? "wrong X-CSRF-Token" : "no X-CSRF-Token");
        lx_resp_free(&r);
    }
    /* another session's token is wrong too */
    {
        struct lx_cred other;
        const char *h[4] = {"Content-Type: application/json", cookie, csrf, NULL};

        ck_assert_int_eq(lx_login(&srv, "alice", PW, &other), 200);
        snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", other.csrf);
        lx_http(&srv, "POST", "/api/auth/tokens", body, strlen(body), h, &r);
        expect_error(&r, 403, "csrf", "another session's token");
        lx_resp_free(&r);
    }
    n = lx_db_value(srv.dbname, "SELECT count(*) FROM api_tokens WHERE name = 'csrf-test'", 0,
                    NULL);
    ck_assert_str_eq(n, "0"); /* none of the refused requests made one */
    free(n);
    /* the right one */
    lx_http_as(&srv, &alice, "POST", "/api/auth/tokens", body, &r);
    ck_assert_msg(r.status == 201, "right token: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    /* reads need none */
    ck_assert_int_eq(me(&alice), 200);
    free(body);
}
END_TEST

START_TEST(session_idle_expiry)
{
    struct lx_cred dave;
    struct lx_resp r;
    char *seen;

    ck_assert_int_eq(lx_login(&srv, "dave", PW, &dave), 200);
    /* 29 minutes idle: still alive, and the request counts as activity */
    session_sql(&dave, "UPDATE sessions SET last_seen = now() - interval '29 minutes' "
                       "WHERE id_hash = sha256(convert_to($1, 'UTF8'))");
    ck_assert_int_eq(me(&dave), 200);
    {
        const char *params[1] = {dave.cookie};

        seen = lx_db_value(srv.dbname,
                           "SELECT now() - last_seen < interval '1 minute' FROM sessions "
                           "WHERE id_hash = sha256(convert_to($1, 'UTF8'))",
                           1, params);
        ck_assert_str_eq(seen, "t");
        free(seen);
    }
    /* 31 minutes idle: over */
    session_sql(&dave, "UPDATE sessions SET last_seen = now() - interval '31 minutes' "
                       "WHERE id_hash = sha256(convert_to($1, 'UTF8'))");
    lx_http_as(&srv, &dave, "GET", "/api/auth/me", NULL, &r);
    expect_error(&r, 401, "session_expired", "idle session");
    lx_resp_free(&r);
    ck_assert_int_eq(session_rows(&dave), 0); /* and it is gone */
    ck_assert_int_eq(me(&dave), 401);
}
END_TEST

START_TEST(session_absolute_expiry)
{
    struct lx_cred dave;
    struct lx_resp r;

    ck_assert_int_eq(lx_login(&srv, "dave", PW, &dave), 200);
    session_sql(&dave, "UPDATE sessions SET created_at = now() - interval '11 hours 59 minutes' "
                       "WHERE id_hash = sha256(convert_to($1, 'UTF8'))");
    ck_assert_int_eq(me(&dave), 200);
    /* active all along, but 12 hours old */
    session_sql(&dave, "UPDATE sessions SET created_at = now() - interval '12 hours 1 minute', "
                       "last_seen = now() WHERE id_hash = sha256(convert_to($1, 'UTF8'))");
    lx_http_as(&srv, &dave, "GET", "/api/auth/me", NULL, &r);
    expect_error(&r, 401, "session_expired", "12-hour-old session");
    lx_resp_free(&r);
    ck_assert_int_eq(session_rows(&dave), 0);
}
END_TEST

START_TEST(logout_ends_the_session)
{
    struct lx_cred eve, other;
    struct lx_resp r;
    char buf[64];

    ck_assert_int_eq(lx_login(&srv, "eve", PW, &eve), 200);
    ck_assert_int_eq(lx_login(&srv, "eve", PW, &other), 200);
    lx_http_as(&srv, &eve, "POST", "/api/auth/logout", NULL, &r);
    ck_assert_msg(r.status == 200, "logout: %ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(lx_set_cookie(&r, "lx_session", buf, sizeof(buf)));
    ck_assert_str_eq(buf, ""); /* the browser forgets it */
    ck_assert_ptr_nonnull(strstr(r.headers, "Max-Age=0"));
    lx_resp_free(&r);
    ck_assert_int_eq(session_rows(&eve), 0);
    lx_http_as(&srv, &eve, "GET", "/api/auth/me", NULL, &r);
    expect_error(&r, 401, "session_expired", "after logout");
    lx_resp_free(&r);
    ck_assert_int_eq(me(&other), 200); /* only that session ended */
}
END_TEST

START_TEST(password_change)
{
    struct lx_cred s1, s2, again;
    struct lx_resp r;

    ck_assert_int_eq(lx_login(&srv, "carol", PW, &s1), 200);
    ck_assert_int_eq(lx_login(&srv, "carol", PW, &s2), 200);
    lx_http_as(&srv, &s1, "POST", "/api/auth/password",
               "{\"old\":\"not-my-password\",\"new\":\"carol-new-password\"}", &r);
    expect_error(&r, 403, "wrong_password", "wrong old password");
    lx_resp_free(&r);
    lx_http_as(&srv, &s1, "POST", "/api/auth/password", "{\"old\":\"" PW "\",\"new\":\"short\"}",
               &r);
    expect_error(&r, 422, "weak_password", "short new password");
    lx_resp_free(&r);
    ck_assert_int_eq(me(&s2), 200); /* refusals end nothing */
    lx_http_as(&srv, &s1, "POST", "/api/auth/password",
               "{\"old\":\"" PW "\",\"new\":\"carol-new-password\"}", &r);
    ck_assert_msg(r.status == 200, "change: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    ck_assert_int_eq(lx_login(&srv, "carol", PW, &again), 401);
    ck_assert_int_eq(lx_login(&srv, "carol", "carol-new-password", &again), 200);
    ck_assert_int_eq(me(&s2), 401); /* the other session ended */
    ck_assert_int_eq(me(&s1), 200); /* this one lives */
    ck_assert_int_eq(me(&again), 200);
}
END_TEST

/* Creates a token as who; returns its id and copies the secret into token. */
static long long token_new(const struct lx_cred *who, const char *name, const char *role,
                           char *token, size_t cap)
{
    char *body = token_body(name, "orga", role);
    struct lx_resp r;
    json_t *doc;
    long long id;

    lx_http_as(&srv, who, "POST", "/api/auth/tokens", body, &r);
    ck_assert_msg(r.status == 201, "token %s: %ld %s", name, r.status, r.body);
    doc = parse(&r);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "role")), role);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "org")), "orga");
    snprintf(token, cap, "%s", json_string_value(json_object_get(doc, "token")));
    ck_assert_int_ge(strlen(token), 40);
    id = json_integer_value(json_object_get(doc, "id"));
    ck_assert_int_gt(id, 0);
    json_decref(doc);
    lx_resp_free(&r);
    free(body);
    return id;
}

/* GET path as a bearer of token; returns the status. */
static long as_token(const char *token, const char *method, const char *path)
{
    struct lx_cred who;
    struct lx_resp r;
    long status;

    memset(&who, 0, sizeof(who));
    snprintf(who.bearer, sizeof(who.bearer), "%s", token);
    lx_http_as(&srv, &who, method, path, NULL, &r);
    status = r.status;
    lx_resp_free(&r);
    return status;
}

START_TEST(api_tokens)
{
    struct lx_cred alice;
    struct lx_resp r;
    char admin_tok[128], member_tok[128], path[128];
    long long admin_id, member_id;
    json_t *doc, *list;
    size_t i;
    json_t *item;

    ck_assert_int_eq(lx_login(&srv, "alice", PW, &alice), 200);
    admin_id = token_new(&alice, "ci-admin", "org_admin", admin_tok, sizeof(admin_tok));
    member_id = token_new(&alice, "ci-member", "member", member_tok, sizeof(member_tok));
    /* the list shows them without their secrets */
    lx_http_as(&srv, &alice, "GET", "/api/auth/tokens?org=orga", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, admin_tok));
    ck_assert_ptr_null(strstr(r.body, member_tok));
    doc = parse(&r);
    list = json_object_get(doc, "tokens");
    ck_assert_int_ge(json_array_size(list), 2);
    json_array_foreach(list, i, item)
    {
        ck_assert_ptr_null(json_object_get(item, "token"));
        ck_assert_ptr_null(json_object_get(item, "token_hash"));
    }
    json_decref(doc);
    lx_resp_free(&r);
    /* stored hashed: the secret is nowhere in api_tokens, its SHA-256 is */
    for (int k = 0; k < 2; k++) {
        const char *params[1] = {k ? member_tok : admin_tok};
        char *n = lx_db_value(srv.dbname,
                              "SELECT count(*) FROM api_tokens t WHERE strpos(t::text, $1) > 0 "
                              "OR position(convert_to($1, 'UTF8') IN t.token_hash) > 0",
                              1, params);

        ck_assert_str_eq(n, "0");
        free(n);
        n = lx_db_value(srv.dbname,
                        "SELECT count(*) FROM api_tokens "
                        "WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
                        1, params);
        ck_assert_str_eq(n, "1");
        free(n);
    }
    /* a bearer acts in its org with its role, needs no CSRF token, and nothing more */
    ck_assert_int_eq(as_token(admin_tok, "GET", "/api/auth/tokens?org=orga"), 200);
    ck_assert_int_eq(as_token(admin_tok, "GET", "/api/auth/tokens?org=orgb"), 403);
    ck_assert_int_eq(as_token(member_tok, "GET", "/api/auth/tokens?org=orga"), 403);
    ck_assert_int_eq(as_token(member_tok, "GET", "/api/auth/me"), 200);
    {
        struct lx_cred bearer;

        memset(&bearer, 0, sizeof(bearer));
        snprintf(bearer.bearer, sizeof(bearer.bearer), "%s", admin_tok);
        lx_http_as(&srv, &bearer, "POST", "/api/auth/password",
                   "{\"old\":\"" PW "\",\"new\":\"token-set-password\"}", &r);
        ck_assert_int_eq(r.status, 403); /* a token cannot change its maker's password */
        lx_resp_free(&r);
    }
    ck_assert_int_eq(as_token("lxt_not-a-token", "GET", "/api/auth/me"), 401);
    /* revoke: 401 from then on */
    snprintf(path, sizeof(path), "/api/auth/tokens/%lld?org=orga", admin_id);
    lx_http_as(&srv, &alice, "DELETE", path, NULL, &r);
    ck_assert_msg(r.status == 200, "revoke: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    ck_assert_int_eq(as_token(admin_tok, "GET", "/api/auth/tokens?org=orga"), 401);
    ck_assert_int_eq(as_token(admin_tok, "GET", "/api/auth/me"), 401);
    lx_http_as(&srv, &alice, "DELETE", path, NULL, &r);
    ck_assert_int_eq(r.status, 404); /* already revoked */
    lx_resp_free(&r);
    /* expired: 401 */
    {
        char id[24];
        const char *params[1] = {id};

        snprintf(id, sizeof(id), "%lld", member_id);
        ck_assert_int_eq(
            lx_db_exec_params(srv.dbname,
                              "UPDATE api_tokens SET expires_at = now() - interval '1 second' "
                              "WHERE id = $1",
                              1, params),
            0);
    }
    ck_assert_int_eq(as_token(member_tok, "GET", "/api/auth/me"), 401);
}
END_TEST

START_TEST(token_ends_with_its_makers_role)
{
    struct lx_cred frank;
    char tok[128];

    ck_assert_int_eq(lx_login(&srv, "frank", PW, &frank), 200);
    token_new(&frank, "frank-ci", "org_admin", tok, sizeof(tok));
    ck_assert_int_eq(as_token(tok, "GET", "/api/auth/tokens?org=orga"), 200);
    ck_assert_int_eq(lx_db_exec(srv.dbname, "DELETE FROM roles WHERE user_id = "
                                            "(SELECT id FROM users WHERE username = 'frank')"),
                     0);
    ck_assert_int_eq(as_token(tok, "GET", "/api/auth/me"), 401);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_add_test(tc, login_success);
    tcase_add_test(tc, login_failure_says_the_same);
    tcase_add_test(tc, lockout_after_five_failures);
    tcase_add_test(tc, csrf_on_cookie_writes);
    tcase_add_test(tc, session_idle_expiry);
    tcase_add_test(tc, session_absolute_expiry);
    tcase_add_test(tc, logout_ends_the_session);
    tcase_add_test(tc, password_change);
    tcase_add_test(tc, api_tokens);
    tcase_add_test(tc, token_ends_with_its_makers_role);
    suite_add_tcase(s, tc);
    tc = tcase_create("lockout_expiry");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lockout_expires);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
