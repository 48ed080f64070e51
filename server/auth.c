/* Identification and authorisation; see auth.h. */
#define _GNU_SOURCE
#include "auth.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "server.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STR_(x)  #x
#define TOSTR(x) STR_(x)

static const char *const role_names[] = {"org_admin",    "issuer",  "clerk",           "registrar",
                                         "fund_manager", "auditor", "market_operator", "member"};

unsigned srv_role_bit(const char *name)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
        if (strcmp(name, role_names[i]) == 0)
            return 1u << i;
    return 0;
}

/* ---- secrets and passwords ----------------------------------------------------------------- */

void srv_secret_hash(const char *secret, uint8_t hash[32])
{
    crypto_hash_sha256(hash, (const unsigned char *)secret, strlen(secret));
}

void srv_secret_new(char *out, size_t cap, uint8_t hash[32])
{
    uint8_t raw[32];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, cap, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    srv_secret_hash(out, hash);
}

int srv_password_hash(const char *password, char *out)
{
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    char pw[44];
    uint8_t h[32];

    srv_secret_new(pw, sizeof(pw), h);
    if (srv_password_hash(pw, dummy_hash) != 0)
        dummy_hash[0] = '\0';
    sodium_memzero(pw, sizeof(pw));
}

int srv_password_check(const char *hash, const char *password)
{
    if (hash == NULL) {
        /* The same work as a real check, so timing does not tell that the user is unknown. */
        pthread_once(&dummy_once, make_dummy_hash);
        if (crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
            return 0; /* a match with a random password: still no such user */
        return 0;
    }
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* ---- login limiter ------------------------------------------------------------------------- */

#define LIMIT_SLOTS  1024
#define LIMIT_FAILS  5
#define LIMIT_WINDOW 60 /* seconds, unless LIANXIN_LOGIN_WINDOW_S says otherwise */

struct limit_slot {
    uint64_t key;              /* hash of (user, address); 0 = free */
    time_t fails[LIMIT_FAILS]; /* times of the last failures, oldest first */
    unsigned n;                /* failures recorded */
};

static struct limit_slot limits[LIMIT_SLOTS];
static pthread_mutex_t limits_mu = PTHREAD_MUTEX_INITIALIZER;

/* Keyed hash so that a client cannot aim its failures at another pair's slot. */
static uint8_t limit_hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t limit_once = PTHREAD_ONCE_INIT;

/* The window in seconds: LIANXIN_LOGIN_WINDOW_S (1 to 3600), read once, else LIMIT_WINDOW.
 * Tests shorten it to see a lockout expire without waiting a minute. */
static time_t limit_window = LIMIT_WINDOW;

static void limit_key_init(void)
{
    const char *w = getenv("LIANXIN_LOGIN_WINDOW_S");
    char *end;
    unsigned long v;

    randombytes_buf(limit_hash_key, sizeof(limit_hash_key));
    if (w != NULL && *w != '\0') {
        v = strtoul(w, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 3600)
            limit_window = (time_t)v;
    }
}

static uint64_t limit_key(const char *user, const char *ip)
{
    char buf[512];
    uint64_t h;

    pthread_once(&limit_once, limit_key_init);
    snprintf(buf, sizeof(buf), "%s\n%s", user, ip);
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)buf, strlen(buf), limit_hash_key);
    return h | 1; /* never 0, which marks a free slot */
}

/* The slot for key; when it has none and take is set, a free or stale one taken for it, else
 * NULL. Only a failure takes a slot: a lookup must never evict another pair's failures.
 * Caller holds limits_mu. */
static struct limit_slot *limit_slot(uint64_t key, time_t now, int take)
{
    struct limit_slot *free_slot = NULL;
    size_t start = (size_t)(key % LIMIT_SLOTS);

    for (size_t i = 0; i < 16; i++) {
        struct limit_slot *s = &limits[(start + i) % LIMIT_SLOTS];

        if (s->key == key)
            return s;
        if (free_slot == NULL &&
            (s->key == 0 || s->n == 0 || now - s->fails[s->n - 1] > limit_window))
            free_slot = s;
    }
    if (!take)
        return NULL;
    if (free_slot == NULL)
        free_slot = &limits[start]; /* table full of fresh failures: evict */
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->key = key;
    return free_slot;
}

int srv_login_locked(const char *user, const char *ip, unsigned *retry_after_s)
{
    time_t now = time(NULL);
    uint64_t key = limit_key(user, ip); /* first: it reads the window */
    int locked = 0;
    struct limit_slot *s;

    pthread_mutex_lock(&limits_mu);
    s = limit_slot(key, now, 0);
    if (s != NULL && s->n == LIMIT_FAILS && now - s->fails[0] < limit_window) {
        locked = 1;
        *retry_after_s = (unsigned)(limit_window - (now - s->fails[0]));
    }
    pthread_mutex_unlock(&limits_mu);
    return locked;
}

void srv_login_failed(const char *user, const char *ip)
{
    time_t now = time(NULL);
    uint64_t key = limit_key(user, ip);
    struct limit_slot *s;

    pthread_mutex_lock(&limits_mu);
    s = limit_slot(key, now, 1);
    if (s->n == LIMIT_FAILS) {
        memmove(s->fails, s->fails + 1, (LIMIT_FAILS - 1) * sizeof(s->fails[0]));
        s->n--;
    }
    s->fails[s->n++] = now;
    pthread_mutex_unlock(&limits_mu);
}

void srv_login_succeeded(const char *user, const char *ip)
{
    uint64_t key = limit_key(user, ip);
    struct limit_slot *s;

    pthread_mutex_lock(&limits_mu);
    s = limit_slot(key, time(NULL), 0);
    if (s != NULL)
        s->n = 0;
    pthread_mutex_unlock(&limits_mu);
}

void srv_req_client(struct srv_req *r, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    snprintf(out, cap, "-");
    if (ci != NULL && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  out, (socklen_t)cap);
}

/* ---- identification ------------------------------------------------------------------------ */

const struct db_stmt srv_auth_stmts[] = {
    /* A token lives only while its maker could still make it (admin, or org_admin of its
     * org): taking org_admin away from someone also ends the tokens they made. */
    {"auth_token", "SELECT t.user_id, u.username, t.org, t.role FROM api_tokens t "
                   "JOIN users u ON u.id = t.user_id WHERE t.token_hash = decode($1, 'hex') "
                   "AND t.revoked_at IS NULL AND t.expires_at > now() AND NOT u.disabled "
                   "AND (u.node_role = 'admin' OR EXISTS (SELECT 1 FROM roles r WHERE "
                   "r.user_id = t.user_id AND r.org = t.org AND r.role = 'org_admin'))"},
    {"auth_session",
     "SELECT s.user_id, u.username, coalesce(u.node_role, ''), coalesce(u.principal, ''), "
     "(now() - s.last_seen > interval '" TOSTR(
         SRV_IDLE_MINUTES) " minutes' OR "
                           "now() - s.created_at > interval '" TOSTR(
                               SRV_SESSION_HOURS) " hours') AS expired "
                                                  "FROM sessions s JOIN users u ON u.id = "
                                                  "s.user_id "
                                                  "WHERE s.id_hash = decode($1, 'hex') AND NOT "
                                                  "u.disabled"},
    {"auth_session_end", "DELETE FROM sessions WHERE id_hash = decode($1, 'hex')"},
    {"auth_session_touch", "UPDATE sessions SET last_seen = now() "
                           "WHERE id_hash = decode($1, 'hex')"},
    {"auth_roles", "SELECT role FROM roles WHERE user_id = $1 AND org = $2"},
};
const size_t srv_n_auth_stmts = sizeof(srv_auth_stmts) / sizeof(srv_auth_stmts[0]);

static int is_read(const struct srv_req *r)
{
    return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static void hash_hex(const char *secret, char hex[65])
{
    uint8_t h[32];

    srv_secret_hash(secret, h);
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

static unsigned by_token(struct srv_req *r, PGconn *c, const char *token)
{
    char hex[65];
    const char *params[1] = {hex};
    PGresult *res;
    unsigned status = 0;

    hash_hex(token, hex);
    res = PQexecPrepared(c, "auth_token", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        status = srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
    else if (PQntuples(res) != 1)
        status = srv_reply_error(r, 401, "invalid_token",
                                 "the API token is unknown, expired or "
                                 "revoked",
                                 NULL);
    else {
        r->who.user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(r->who.username, sizeof(r->who.username), "%s", PQgetvalue(res, 0, 1));
        snprintf(r->who.token_org, sizeof(r->who.token_org), "%s", PQgetvalue(res, 0, 2));
        snprintf(r->who.token_role, sizeof(r->who.token_role), "%s", PQgetvalue(res, 0, 3));
        r->who.via_token = 1;
    }
    PQclear(res);
    return status;
}

static unsigned by_session(struct srv_req *r, PGconn *c, const char *cookie)
{
    char hex[65];
    const char *params[1] = {hex};
    PGresult *res;
    unsigned status = 0;

    hash_hex(cookie, hex);
    res = PQexecPrepared(c, "auth_session", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        status = srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
    } else if (PQntuples(res) != 1) {
        status = srv_reply_error(r, 401, "session_expired", "sign in again", NULL);
    } else if (strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
        PGresult *d = PQexecPrepared(c, "auth_session_end", 1, params, NULL, NULL, 0);

        PQclear(d);
        status = srv_reply_error(r, 401, "session_expired", "sign in again", NULL);
    } else {
        PGresult *t = PQexecPrepared(c, "auth_session_touch", 1, params, NULL, NULL, 0);

        PQclear(t);
        r->who.user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(r->who.username, sizeof(r->who.username), "%s", PQgetvalue(res, 0, 1));
        snprintf(r->who.node_role, sizeof(r->who.node_role), "%s", PQgetvalue(res, 0, 2));
        snprintf(r->who.principal, sizeof(r->who.principal), "%s", PQgetvalue(res, 0, 3));
        srv_csrf_of(cookie, r->who.csrf);
    }
    PQclear(res);
    return status;
}

void srv_csrf_of(const char *cookie, char out[SRV_CSRF_LEN + 1])
{
    static const char tag[] = "lianxin-csrf-v1\n";
    crypto_hash_sha256_state st;
    uint8_t h[32];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)tag, sizeof(tag) - 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)cookie, strlen(cookie));
    crypto_hash_sha256_final(&st, h);
    sodium_bin2base64(out, SRV_CSRF_LEN + 1, h, sizeof(h),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Cookie writes must carry the session's CSRF token; tokens are not sent by browsers on their
 * own, so bearer requests need none. */
static unsigned check_csrf(struct srv_req *r)
{
    const char *got = srv_req_header(r, "X-CSRF-Token");
    size_t n = strlen(r->who.csrf);

    if (r->who.via_token || r->who.user_id == 0 || is_read(r))
        return 0;
    if (got == NULL || strlen(got) != n || n == 0 || sodium_memcmp(got, r->who.csrf, n) != 0)
        return srv_reply_error(r, 403, "csrf", "missing or wrong X-CSRF-Token", NULL);
    return 0;
}

unsigned srv_auth_identify(struct srv_req *r)
{
    const char *authz = srv_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SRV_SESSION_COOKIE);
    PGconn *c;
    unsigned status = 0;

    memset(&r->who, 0, sizeof(r->who));
    if (r->match.route == NULL || r->match.route->auth == SRV_AUTH_PUBLIC)
        return 0;
    if (authz == NULL && cookie == NULL)
        return 0;
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0)
        status = by_token(r, c, authz + 7);
    else if (authz != NULL)
        status =
            srv_reply_error(r, 401, "invalid_token", "use Authorization: Bearer <token>", NULL);
    else
        status = by_session(r, c, cookie);
    db_release(r->srv->pool, c);
    return status ? status : check_csrf(r);
}

/* ---- authorisation ------------------------------------------------------------------------- */

int srv_auth_has_role(PGconn *c, int64_t user_id, const char *org, unsigned roles)
{
    char uid[24];
    const char *params[2] = {uid, org};
    PGresult *res;
    int found = 0;

    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    res = PQexecPrepared(c, "auth_roles", 2, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res) && !found; i++)
        found = (srv_role_bit(PQgetvalue(res, i, 0)) & roles) != 0;
    PQclear(res);
    return found;
}

/* The org a request names: route parameter, query parameter, or JSON body member "org". When
 * more than one names an org they must agree, or *conflict is set: a handler reading the body's
 * org must never act in another org than the one that was authorised. */
static const char *named_org(struct srv_req *r, int *conflict)
{
    const char *from[3] = {srv_req_param(r, "org"), srv_req_query(r, "org"), NULL};
    const char *org = NULL;

    if (json_is_object(r->json) && json_object_get(r->json, "org") != NULL) {
        from[2] = json_string_value(json_object_get(r->json, "org"));
        if (from[2] == NULL)
            from[2] = ""; /* not a string: names no org, and agrees with none */
    }
    *conflict = 0;
    for (size_t i = 0; i < 3; i++) {
        if (from[i] == NULL)
            continue;
        if (org == NULL)
            org = from[i];
        else if (strcmp(org, from[i]) != 0)
            *conflict = 1;
    }
    return org;
}

static unsigned allow(struct srv_req *r, const char *org, const char *role)
{
    snprintf(r->who.acting_org, sizeof(r->who.acting_org), "%s", org);
    snprintf(r->who.acting_role, sizeof(r->who.acting_role), "%s", role);
    return 0;
}

static unsigned forbid(struct srv_req *r)
{
    return srv_reply_error(r, 403, "forbidden", "your roles do not allow this", NULL);
}

static unsigned authorise_org(struct srv_req *r, unsigned roles)
{
    int conflict;
    const char *org = named_org(r, &conflict);
    PGconn *c;
    int has;

    if (conflict)
        return srv_reply_error(r, 400, "bad_parameter",
                               "the path, query and body name different organisations", "org");
    if (org == NULL || *org == '\0' || strlen(org) >= sizeof(r->who.acting_org))
        return srv_reply_error(r, 400, "bad_parameter", "name the organisation", "org");
    if (strcmp(r->who.node_role, "admin") == 0)
        return allow(r, org, "admin");
    if (strcmp(r->who.node_role, "regulator") == 0 && is_read(r))
        return allow(r, org, "regulator");
    if (r->who.via_token) {
        if (strcmp(r->who.token_org, org) == 0 && (srv_role_bit(r->who.token_role) & roles))
            return allow(r, org, r->who.token_role);
        return forbid(r);
    }
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    has = srv_auth_has_role(c, r->who.user_id, org, roles);
    db_release(r->srv->pool, c);
    if (has < 0)
        return srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
    return has ? allow(r, org, "member of org") : forbid(r);
}

unsigned srv_auth_authorise(struct srv_req *r)
{
    const struct srv_route *rt = r->match.route;
    int admin = strcmp(r->who.node_role, "admin") == 0;

    switch (rt->auth) {
    case SRV_AUTH_PUBLIC:
        return 0;
    case SRV_AUTH_UNSET:
        return forbid(r); /* cannot happen: the router refuses such routes */
    default:
        break;
    }
    if (r->who.user_id == 0)
        return srv_reply_error(r, 401, "login_required", "sign in to do this", NULL);
    switch (rt->auth) {
    case SRV_AUTH_USER:
        return allow(r, r->who.token_org, r->who.via_token ? r->who.token_role : "user");
    case SRV_AUTH_ADMIN:
        return admin ? allow(r, "", "admin") : forbid(r);
    case SRV_AUTH_OVERSIGHT:
        if (admin || strcmp(r->who.node_role, "regulator") == 0)
            return allow(r, "", r->who.node_role);
        return forbid(r);
    case SRV_AUTH_ORG:
        return authorise_org(r, rt->roles);
    default:
        return forbid(r);
    }
}

/* ---- first start ------------------------------------------------------------------------ */

int srv_auth_bootstrap(PGconn *c, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, "SELECT 1 FROM users WHERE node_role = 'admin' LIMIT 1");
    const char *given = getenv("LIANXIN_ADMIN_PASSWORD");
    char pw[64], hash[crypto_pwhash_STRBYTES];
    const char *params[2] = {"admin", hash};
    uint8_t unused[32];
    int rc = -1;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read users: %s", PQresultErrorMessage(res));
        goto out;
    }
    if (PQntuples(res) == 1) {
        rc = 0;
        goto out;
    }
    if (given != NULL && *given != '\0')
        snprintf(pw, sizeof(pw), "%s", given);
    else
        srv_secret_new(pw, sizeof(pw), unused);
    if (strlen(pw) < 10 || srv_password_hash(pw, hash) != 0) {
        snprintf(err, errlen, "LIANXIN_ADMIN_PASSWORD must have at least 10 characters");
        goto out;
    }
    PQclear(res);
    res = PQexecParams(c,
                       "INSERT INTO users (username, password_hash, node_role, display_name) "
                       "VALUES ($1, $2, 'admin', 'Administrator')",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "cannot create the admin account: %s", PQresultErrorMessage(res));
        goto out;
    }
    if (given == NULL || *given == '\0')
        fprintf(stderr,
                "\n  Administrator account created — user: admin   password: %s\n"
                "  (shown once; set LIANXIN_ADMIN_PASSWORD to choose it)\n\n",
                pw);
    rc = 0;
out:
    sodium_memzero(pw, sizeof(pw));
    PQclear(res);
    return rc;
}
