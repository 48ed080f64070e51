/* The integration harness of harness.h. */
#define _DEFAULT_SOURCE
#include "harness.h"
#include "../../server/auth.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* For scripts/secrets-check (the end of this file). */
static void record_answer(const char *method, const char *path, const char *body, size_t len,
                          const struct lx_resp *r);
static void record_data_keys(const struct lx_server *s);
static void record_custody(const struct lx_server *s);

const char *lx_env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        fprintf(stderr, "%s is not set: run the integration tests through make test\n", name);
        exit(2);
    }
    return v;
}

long long lx_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static PGconn *connect_db(const char *dbname)
{
    char ci[512];
    PGconn *c;

    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"),
             dbname);
    c = PQconnectdb(ci);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to %s: %s", dbname,
                  PQerrorMessage(c));
    return c;
}

int lx_db_exec(const char *dbname, const char *sql)
{
    PGconn *c = connect_db(dbname);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

    if (!ok)
        fprintf(stderr, "lx_db_exec: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

void lx_db_sqlstate(const char *dbname, const char *sql, char state[6])
{
    PGconn *c = connect_db(dbname);
    PGresult *r = PQexec(c, sql);
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    snprintf(state, 6, "%s", code != NULL ? code : "");
    PQclear(r);
    PQfinish(c);
}

void lx_db_create(char *out, size_t cap)
{
    static unsigned counter;
    char sql[128];

    snprintf(out, cap, "lxt_%d_%u_%ld", (int)getpid(), counter++, (long)(lx_now_ms() % 100000));
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", out);
    ck_assert_int_eq(lx_db_exec("postgres", sql), 0);
}

static void make_web(const char *dir)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof(p), "%s/web", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/web/index.html", dir);
    f = fopen(p, "w");
    fputs("<!doctype html><title>test</title>", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/web/app.js", dir);
    f = fopen(p, "w");
    fputs("export const x = 1;\n", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/web/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/web/sub/index.html", dir);
    f = fopen(p, "w");
    fputs("sub", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/secret.txt", dir);
    f = fopen(p, "w");
    fputs("do not serve", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/web/leak.txt", dir);
    ck_assert_int_eq(symlink("../secret.txt", p), 0);
}

static void spawn(struct lx_server *s, const char *const *extra)
{
    char port_file[400], listen_flag[] = "127.0.0.1:0", data[400], web[400];
    const char *argv[40];
    int n = 0;

    snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
    snprintf(data, sizeof(data), "%s/data", s->dir);
    snprintf(web, sizeof(web), "%s/web", s->dir);
    unlink(port_file);
    argv[n++] = lx_env("LIANXIN_TEST_BIN");
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = listen_flag;
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    argv[n++] = "--data";
    argv[n++] = data;
    argv[n++] = "--web";
    argv[n++] = web;
    argv[n++] = "--db";
    argv[n++] = s->conninfo;
    argv[n++] = "--log";
    argv[n++] = s->log;
    for (; extra != NULL && *extra != NULL && n < 38; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        if (freopen(s->err, "a", stderr) == NULL)
            _exit(126);
        /* Audit anchors are txs: off unless a test asks, so that leaf counts stay as written. */
        setenv("LIANXIN_AUDIT_ANCHOR_MS", "0", 0);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
}

void lx_server_start(struct lx_server *s, const char *const *extra)
{
    char tmpl[300], port_file[400];
    long long until;

    if (s->dir[0] == '\0') {
        snprintf(tmpl, sizeof(tmpl), "%s/srv-XXXXXX", lx_env("LIANXIN_TEST_TMP"));
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        snprintf(s->dir, sizeof(s->dir), "%s", tmpl);
        make_web(s->dir);
    }
    if (s->dbname[0] == '\0')
        lx_db_create(s->dbname, sizeof(s->dbname));
    snprintf(s->conninfo, sizeof(s->conninfo), "host=%s dbname=%s user=lianxin",
             lx_env("LIANXIN_TEST_PGHOST"), s->dbname);
    snprintf(s->log, sizeof(s->log), "%s/access.log", s->dir);
    snprintf(s->err, sizeof(s->err), "%s/stderr.log", s->dir);
    snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
    spawn(s, extra);
    until = lx_now_ms() + 15000;
    while (lx_now_ms() < until) {
        char *text = lx_read_file(port_file);
        int status;

        if (text != NULL) {
            s->port = (unsigned)atoi(text);
            free(text);
            snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", s->port);
            record_data_keys(s);
            return;
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            char *err = lx_read_file(s->err);

            s->pid = 0;
            ck_abort_msg("lianxind exited during start-up: %s", err ? err : "?");
        }
        usleep(20000);
    }
    ck_abort_msg("lianxind did not listen within 15 s");
}

int lx_server_stop(struct lx_server *s)
{
    long long until = lx_now_ms() + 20000;
    int status;

    if (s->pid <= 0)
        return -1;
    record_custody(s);
    kill(s->pid, SIGTERM);
    while (lx_now_ms() < until) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            return -WTERMSIG(status);
        }
        usleep(10000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return -1000;
}

char *lx_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
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

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct lx_resp *r = ud;
    size_t have = strlen(r->headers), add = size * n;

    if (have + add < sizeof(r->headers)) {
        memcpy(r->headers + have, data, add);
        r->headers[have + add] = '\0';
    }
    return size * n;
}

void lx_http(struct lx_server *s, const char *method, const char *path, const char *body,
             size_t len, const char *const *headers, struct lx_resp *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    char url[4096];

    memset(out, 0, sizeof(*out));
    out->body = calloc(1, 1);
    snprintf(url, sizeof(url), "%s%s", s->url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    for (; headers != NULL && *headers != NULL; headers++)
        hl = curl_slist_append(hl, *headers);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    record_answer(method, path, body, len, out);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

void lx_resp_free(struct lx_resp *r)
{
    free(r->body);
    r->body = NULL;
}

const char *lx_header(const struct lx_resp *r, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name);

    for (const char *line = r->headers; *line;) {
        const char *end = strstr(line, "\r\n");
        size_t llen = end ? (size_t)(end - line) : strlen(line);

        if (llen > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            size_t vlen;

            while (*v == ' ')
                v++;
            vlen = llen - (size_t)(v - line);
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return buf;
        }
        line += llen + (end ? 2 : 0);
    }
    return NULL;
}

/* ---- ledger helpers -------------------------------------------------------------------- */

void lx_admin_key(const struct lx_server *s, struct chain_note_signer *out)
{
    char path[512];
    char *text;

    snprintf(path, sizeof(path), "%s/data/admin.key", s->dir);
    text = lx_read_file(path);
    ck_assert_msg(text != NULL, "no admin key at %s", path);
    text[strcspn(text, "\n")] = '\0';
    ck_assert_int_eq(chain_note_signer_parse(text, out), 0);
    free(text);
}

json_t *lx_tx(const struct chain_note_signer *k, const char *module, const char *type,
              const char *org, json_t *body)
{
    struct timespec ts;
    int64_t now;
    json_t *env;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    env = chain_tx_build(LX_TEST_ORIGIN, module, type, org, k->sk + 32, now, body);
    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(chain_tx_sign(env, k->sk), 0);
    return env;
}

void lx_submit(struct lx_server *s, const json_t *doc, struct lx_resp *out)
{
    static const char *const h[] = {"Content-Type: application/json", NULL};
    char *text = json_dumps(doc, JSON_COMPACT);

    ck_assert_ptr_nonnull(text);
    lx_http(s, "POST", "/api/chain/tx", text, strlen(text), h, out);
    free(text);
}

void lx_keygen(const char *name, struct chain_note_signer *out)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(chain_note_signer_from_sk(name, sk, out), 0);
    sodium_memzero(sk, sizeof(sk));
}

void lx_pub_b64(const struct chain_note_signer *k, char *out, size_t cap)
{
    ck_assert_int_eq(chain_b64_encode(k->sk + 32, 32, out, cap), 0);
}

/* ---- auth helpers ---------------------------------------------------------------------- */

int lx_db_exec_params(const char *dbname, const char *sql, int n, const char *const *params)
{
    PGconn *c = connect_db(dbname);
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

    if (!ok)
        fprintf(stderr, "lx_db_exec_params: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

char *lx_db_value(const char *dbname, const char *sql, int n, const char *const *params)
{
    PGconn *c = connect_db(dbname);
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    char *v = NULL;

    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    if (PQntuples(r) > 0)
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return v;
}

void lx_user_add(const char *dbname, const char *username, const char *password,
                 const char *node_role)
{
    char hash[crypto_pwhash_STRBYTES];
    const char *params[3] = {username, hash, node_role};

    lx_secret("password", username, password);
    ck_assert_int_eq(crypto_pwhash_str(hash, password, strlen(password),
                                       crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE),
                     0);
    ck_assert_int_eq(lx_db_exec_params(dbname,
                                       "INSERT INTO users (username, password_hash, node_role) "
                                       "VALUES ($1, $2, $3)",
                                       3, params),
                     0);
}

void lx_role_grant(const char *dbname, const char *username, const char *org, const char *role)
{
    const char *params[3] = {username, org, role};
    char *id = lx_db_value(dbname,
                           "INSERT INTO roles (user_id, org, role) SELECT id, $2, $3 FROM users "
                           "WHERE username = $1 RETURNING user_id",
                           3, params);

    ck_assert_msg(id != NULL, "no user %s to grant %s in %s", username, role, org);
    free(id);
}

void lx_org_add(struct lx_server *s, const char *id, const char *type)
{
    struct chain_note_signer admin, key;
    struct lx_resp r;
    char pub[64];
    json_t *tx;

    lx_admin_key(s, &admin);
    lx_keygen(id, &key);
    lx_pub_b64(&key, pub, sizeof(pub));
    tx = lx_tx(&admin, "core", "org.register", "admin",
               json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", id, "type", type, "key", pub));
    lx_submit(s, tx, &r);
    ck_assert_msg(r.status == 200, "org.register %s: %ld %s", id, r.status, r.body);
    lx_resp_free(&r);
    json_decref(tx);
    sodium_memzero(&admin, sizeof(admin));
    sodium_memzero(&key, sizeof(key));
}

const char *lx_set_cookie(const struct lx_resp *r, const char *name, char *buf, size_t cap)
{
    static const char hdr[] = "Set-Cookie:";
    size_t nlen = strlen(name);

    for (const char *line = r->headers; *line;) {
        const char *end = strstr(line, "\r\n");
        size_t llen = end ? (size_t)(end - line) : strlen(line);

        if (llen > sizeof(hdr) - 1 && strncasecmp(line, hdr, sizeof(hdr) - 1) == 0) {
            const char *v = line + sizeof(hdr) - 1;

            while (*v == ' ')
                v++;
            if (strncmp(v, name, nlen) == 0 && v[nlen] == '=') {
                size_t vlen = strcspn(v + nlen + 1, ";\r\n");

                if (vlen >= cap)
                    vlen = cap - 1;
                memcpy(buf, v + nlen + 1, vlen);
                buf[vlen] = '\0';
                return buf;
            }
        }
        line += llen + (end ? 2 : 0);
    }
    return NULL;
}

long lx_login(struct lx_server *s, const char *user, const char *password, struct lx_cred *out)
{
    static const char *const h[] = {"Content-Type: application/json", NULL};
    json_t *body = json_pack("{s:s, s:s}", "username", user, "password", password), *doc;
    char *text = json_dumps(body, JSON_COMPACT);
    struct lx_resp r;
    long status;

    memset(out, 0, sizeof(*out));
    snprintf(out->user, sizeof(out->user), "%s", user);
    lx_http(s, "POST", "/api/auth/login", text, strlen(text), h, &r);
    status = r.status;
    if (status == 200) {
        ck_assert_msg(lx_set_cookie(&r, "lx_session", out->cookie, sizeof(out->cookie)) != NULL,
                      "login %s: no session cookie in %s", user, r.headers);
        doc = json_loads(r.body, 0, NULL);
        ck_assert_msg(json_is_string(json_object_get(doc, "csrf")), "login %s: %s", user, r.body);
        snprintf(out->csrf, sizeof(out->csrf), "%s",
                 json_string_value(json_object_get(doc, "csrf")));
        json_decref(doc);
    }
    lx_resp_free(&r);
    free(text);
    json_decref(body);
    return status;
}

void lx_session_insert(const char *dbname, const char *username, struct lx_cred *out)
{
    uint8_t raw[32], hash[32];
    char hex[65];
    const char *params[2] = {hex, username};
    char *id;

    memset(out, 0, sizeof(*out));
    snprintf(out->user, sizeof(out->user), "%s", username);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out->cookie, sizeof(out->cookie), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    srv_csrf_of(out->cookie, out->csrf); /* as the server derives it */
    lx_secret("session-cookie", username, out->cookie);
    lx_secret("csrf", username, out->csrf);
    crypto_hash_sha256(hash, (const unsigned char *)out->cookie, strlen(out->cookie));
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    id = lx_db_value(dbname,
                     "INSERT INTO sessions (id_hash, user_id) SELECT decode($1, 'hex'), id "
                     "FROM users WHERE username = $2 RETURNING user_id",
                     2, params);
    ck_assert_msg(id != NULL, "no user %s for a session", username);
    free(id);
}

void lx_http_as(struct lx_server *s, const struct lx_cred *who, const char *method,
                const char *path, const char *json, struct lx_resp *out)
{
    char cookie[128], csrf[128], bearer[200];
    const char *h[5];
    int n = 0, write = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;

    if (json != NULL)
        h[n++] = "Content-Type: application/json";
    if (who != NULL && who->bearer[0] != '\0') {
        snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", who->bearer);
        h[n++] = bearer;
    } else if (who != NULL && who->cookie[0] != '\0') {
        snprintf(cookie, sizeof(cookie), "Cookie: lx_session=%s", who->cookie);
        h[n++] = cookie;
        if (write) {
            snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", who->csrf);
            h[n++] = csrf;
        }
    }
    h[n] = NULL;
    lx_http(s, method, path, json, json ? strlen(json) : 0, h, out);
}

/* ---- JSON calls as a caller -------------------------------------------------------------- */

char lx_answers_file[512];

json_t *lx_call(struct lx_server *s, const struct lx_cred *who, const char *method,
                const char *path, json_t *body, long *status)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct lx_resp r;
    json_t *doc;

    lx_http_as(s, who, method, path, text, &r);
    if (lx_answers_file[0]) {
        FILE *f = fopen(lx_answers_file, "a");

        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s\n", r.body);
        fclose(f);
    }
    *status = r.status;
    doc = json_loads(r.body, 0, NULL);
    ck_assert_msg(doc != NULL, "%s %s: %ld, not JSON: %.300s", method, path, r.status, r.body);
    lx_resp_free(&r);
    free(text);
    json_decref(body);
    return doc;
}

json_t *lx_expect(struct lx_server *s, const struct lx_cred *who, const char *method,
                  const char *path, json_t *body, long want)
{
    long status;
    json_t *doc = lx_call(s, who, method, path, body, &status);

    if (status != want) {
        char *text = json_dumps(doc, JSON_COMPACT);

        ck_abort_msg("%s %s as %s: %ld, wanted %ld: %.500s", method, path,
                     who ? who->user : "anonymous", status, want, text);
    }
    return doc;
}

const char *lx_err_code(const json_t *doc)
{
    const char *c = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));

    return c ? c : "(no error code)";
}

void lx_expect_error(struct lx_server *s, const struct lx_cred *who, const char *method,
                     const char *path, json_t *body, long want, const char *code)
{
    json_t *doc = lx_expect(s, who, method, path, body, want);

    ck_assert_msg(strcmp(lx_err_code(doc), code) == 0, "%s %s: code %s, wanted %s", method, path,
                  lx_err_code(doc), code);
    json_decref(doc);
}

const char *lx_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    ck_assert_msg(v != NULL, "no string %s", key);
    return v;
}

/* ---- secrets, for scripts/secrets-check --------------------------------------------------- */

/* Every secret a test makes or is handed goes to $LIANXIN_TEST_TMP/secrets.list ("label<TAB>
 * value", binary values as "hex:<hex>"), and every HTTP answer (headers and body) to
 * answers.log; after all suites scripts/secrets-check searches the database dump, the logs and
 * the answers for them. An answer that hands a secret out (a login's cookie, a new token) says
 * so in its entry's first line, and is excused for exactly that secret. */

#define ANSWER_BODY_MAX (1u << 20) /* bytes of a body kept (downloads of large files) */

static void secrets_append(const char *file, const char *text, size_t len)
{
    const char *dir = getenv("LIANXIN_TEST_TMP");
    char path[512];
    FILE *f;

    if (dir == NULL || *dir == '\0')
        return;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((f = fopen(path, "a")) == NULL)
        return;
    fwrite(text, 1, len, f);
    fclose(f);
}

/* Records value under a label made of kind, context and a counter; returns the label in out
 * (cap >= 160). Values shorter than 8 bytes are too common to search for and are skipped
 * (out gets ""). */
static void secret_record(const char *kind, const char *context, const char *value, char *out,
                          size_t cap)
{
    static unsigned counter;
    char line[1024];
    int n;

    out[0] = '\0';
    if (value == NULL || strlen(value) < 8 || strchr(value, '\n') != NULL)
        return;
    snprintf(out, cap, "%s(%.60s)#%d.%u", kind, context, (int)getpid(), counter++);
    for (char *p = out; *p; p++)
        if (*p == ' ' || *p == ',' || *p == '\t')
            *p = '_';
    n = snprintf(line, sizeof(line), "%s\t%s\n", out, value);
    if (n > 0 && (size_t)n < sizeof(line))
        secrets_append("secrets.list", line, (size_t)n);
}

void lx_secret(const char *kind, const char *context, const char *value)
{
    char label[160];

    secret_record(kind, context, value, label, sizeof(label));
}

void lx_secret_bin(const char *kind, const char *context, const uint8_t *bin, size_t n)
{
    char hex[2 * 64 + 5];

    if (n > 64)
        return;
    memcpy(hex, "hex:", 4);
    sodium_bin2hex(hex + 4, sizeof(hex) - 4, bin, n);
    lx_secret(kind, context, hex);
}

/* Adds label to the comma-separated list handout (cap bytes). */
static void handout_add(char *handout, size_t cap, const char *label)
{
    size_t have = strlen(handout);

    if (label[0] != '\0')
        snprintf(handout + have, cap - have, "%s%s", have ? "," : "", label);
}

/* One answer into answers.log; the secrets its request carried and it handed out into
 * secrets.list. */
static void record_answer(const char *method, const char *path, const char *body, size_t len,
                          const struct lx_resp *r)
{
    static const char *const sent[] = {"password", "old", "new", NULL};
    static const char *const handed[] = {"csrf", "token", "temporary_password", NULL};
    char handout[2048] = "", label[160], cookie[256], head[2300];
    json_t *doc;
    int n;

    /* a password the server accepted (a hostile test's junk in a refused request is none) */
    if (r->status >= 200 && r->status < 300 && body != NULL && len > 0 && len < ANSWER_BODY_MAX &&
        body[0] == '{' && (doc = json_loadb(body, len, 0, NULL)) != NULL) {
        for (const char *const *k = sent; *k; k++)
            lx_secret("password", path, json_string_value(json_object_get(doc, *k)));
        json_decref(doc);
    }
    if (lx_set_cookie(r, "lx_session", cookie, sizeof(cookie)) != NULL) {
        secret_record("session-cookie", path, cookie, label, sizeof(label));
        handout_add(handout, sizeof(handout), label);
    }
    if (r->body != NULL && r->len < ANSWER_BODY_MAX && r->body[0] == '{' &&
        (doc = json_loadb(r->body, r->len, 0, NULL)) != NULL) {
        for (const char *const *k = handed; *k; k++) {
            secret_record(*k, path, json_string_value(json_object_get(doc, *k)), label,
                          sizeof(label));
            handout_add(handout, sizeof(handout), label);
        }
        json_decref(doc);
    }
    n = snprintf(head, sizeof(head), "\n@@lxanswer@@ %s %.200s %ld handout=%s\n", method, path,
                 r->status, handout);
    if (n > 0 && (size_t)n < sizeof(head))
        secrets_append("answers.log", head, (size_t)n);
    secrets_append("answers.log", r->headers, strlen(r->headers));
    if (r->body != NULL)
        secrets_append("answers.log", r->body, r->len < ANSWER_BODY_MAX ? r->len : ANSWER_BODY_MAX);
}

/* The private keys lianxind keeps in its data folder: each file whole, and the key bytes. */
static void record_data_keys(const struct lx_server *s)
{
    static const char *const files[] = {"node.key", "admin.key", "master.key"};
    uint8_t bin[64];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512], *text, *b64;
        size_t n = 0;

        snprintf(path, sizeof(path), "%s/data/%s", s->dir, files[i]);
        if ((text = lx_read_file(path)) == NULL)
            continue;
        text[strcspn(text, "\n")] = '\0';
        lx_secret("key-file", files[i], text);
        b64 = strrchr(text, '+') ? strrchr(text, '+') + 1 : text; /* PRIVATE+KEY+name+hash+b64 */
        if (sodium_base642bin(bin, sizeof(bin), b64, strlen(b64), NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            n >= 32)
            lx_secret_bin("key-bytes", files[i], bin + (n - 32), 32); /* the seed */
        sodium_memzero(text, strlen(text));
        free(text);
    }
    sodium_memzero(bin, sizeof(bin));
}

/* The custodial keys of s's database, unsealed with its master key (when both are reachable). */
static void record_custody(const struct lx_server *s)
{
    char path[512], ci[512], *text;
    uint8_t key[32], sealed[256], seed[32], pk[32], sk[64];
    size_t n = 0;
    PGconn *c;
    PGresult *r;

    snprintf(path, sizeof(path), "%s/data/master.key", s->dir);
    if ((text = lx_read_file(path)) == NULL)
        return;
    if (sodium_base642bin(key, sizeof(key), text, strlen(text), "\n", &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != 32) {
        free(text);
        return;
    }
    free(text);
    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin connect_timeout=2",
             getenv("LIANXIN_TEST_PGHOST") ? getenv("LIANXIN_TEST_PGHOST") : "", s->dbname);
    c = PQconnectdb(ci);
    r = PQstatus(c) == CONNECTION_OK
            ? PQexec(c, "SELECT encode(sealed, 'hex'), principal FROM custody_keys")
            : NULL;
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
        const char *hex = PQgetvalue(r, i, 0);

        if (sodium_hex2bin(sealed, sizeof(sealed), hex, strlen(hex), NULL, &n, NULL) != 0 ||
            n != crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 32 ||
            crypto_secretbox_open_easy(seed, sealed + crypto_secretbox_NONCEBYTES,
                                       n - crypto_secretbox_NONCEBYTES, sealed, key) != 0)
            continue;
        crypto_sign_seed_keypair(pk, sk, seed);
        lx_secret_bin("custodial-seed", PQgetvalue(r, i, 1), seed, 32);
        lx_secret_bin("custodial-sk", PQgetvalue(r, i, 1), sk, 64);
    }
    PQclear(r);
    PQfinish(c);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
}
