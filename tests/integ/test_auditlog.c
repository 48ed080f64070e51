/*
 * The audit log, its anchors on the ledger, and regulator freezes, through a real lianxind:
 * each write becomes a row with its user, route and status while reads do not; the rows chain
 * and their head is anchored by audit.anchor txs; `lianxind audit` names an edited row, and a
 * rewrite that recomputes every hash is still caught by the anchors; filters, paging and CSV;
 * freezing an organisation makes its txs fail with 423 and the reason, by the admin and by a
 * regulator signing with its organisation's key; who may not use these endpoints.
 */
#define _DEFAULT_SOURCE
#include "harness.h"
#include "../../server/auditlog.h"

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ADMIN_PW "admin-password-for-tests"
#define REG_PW   "regulator-password-1"

static struct lx_server srv;
static struct chain_note_signer admin_key;

/* A signed-in user: the cookie header and the CSRF token. */
struct sess {
    char cookie[128];
    char csrf[64];
};

static void start(void)
{
    memset(&srv, 0, sizeof(srv));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1);
    setenv("LIANXIN_AUDIT_ANCHOR_MS", "300", 1);
    lx_server_start(&srv, NULL);
    lx_admin_key(&srv, &admin_key);
}

static void stop(void)
{
    if (srv.pid > 0)
        ck_assert_int_eq(lx_server_stop(&srv), 0);
}

static json_t *parse(const struct lx_resp *r)
{
    json_t *doc = json_loads(r->body, 0, NULL);

    ck_assert_msg(doc != NULL, "not JSON (%ld): %s", r->status, r->body);
    return doc;
}

static const char *error_code(const json_t *doc)
{
    return json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
}

/* One value of a query on the server's database, as a new string (free()). */
static char *sql_value(const char *sql)
{
    char ci[512];
    PGconn *c;
    PGresult *r;
    char *v;

    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"),
             srv.dbname);
    c = PQconnectdb(ci);
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    v = strdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
    return v;
}

static long long sql_int(const char *sql)
{
    char *v = sql_value(sql);
    long long n = atoll(v);

    free(v);
    return n;
}

/* method path with the session's cookie and CSRF token (sess may be NULL: anonymous). */
static void call(const char *method, const char *path, const char *body, const struct sess *s,
                 struct lx_resp *out)
{
    char cookie[160], csrf[100];
    const char *h[4] = {"Content-Type: application/json", NULL, NULL, NULL};

    if (s != NULL) {
        snprintf(cookie, sizeof(cookie), "Cookie: %s", s->cookie);
        snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", s->csrf);
        h[1] = cookie;
        h[2] = csrf;
    }
    lx_http(&srv, method, path, body, body ? strlen(body) : 0, h, out);
}

static long login(const char *user, const char *pw, struct sess *s)
{
    char body[256], setc[512];
    struct lx_resp r;
    json_t *doc;
    long status;

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    call("POST", "/api/auth/login", body, NULL, &r);
    status = r.status;
    if (status == 200) {
        ck_assert_ptr_nonnull(lx_header(&r, "Set-Cookie", setc, sizeof(setc)));
        setc[strcspn(setc, ";")] = '\0';
        ck_assert_uint_lt(strlen(setc), sizeof(s->cookie));
        memcpy(s->cookie, setc, strlen(setc) + 1);
        doc = parse(&r);
        snprintf(s->csrf, sizeof(s->csrf), "%s", json_string_value(json_object_get(doc, "csrf")));
        json_decref(doc);
    }
    lx_resp_free(&r);
    return status;
}

#define SHA_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

/* Waits until the audit log holds n rows (the writer is asynchronous). */
static void wait_rows(long long n)
{
    long long until = lx_now_ms() + 10000, have = 0;

    while (lx_now_ms() < until) {
        have = sql_int("SELECT count(*) FROM audit_log");
        if (have >= n)
            return;
        usleep(20000);
    }
    ck_abort_msg("the audit log holds %lld rows, expected %lld", have, n);
}

/* GET /api/audit<query> as s; returns the rows array (a new reference). */
static json_t *audit_rows(const struct sess *s, const char *query, json_t **next_before)
{
    char path[512];
    struct lx_resp r;
    json_t *doc, *rows;

    snprintf(path, sizeof(path), "/api/audit%s", query);
    call("GET", path, NULL, s, &r);
    ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
    doc = parse(&r);
    rows = json_incref(json_object_get(doc, "rows"));
    ck_assert(json_is_array(rows));
    if (next_before != NULL)
        *next_before = json_incref(json_object_get(doc, "next_before"));
    json_decref(doc);
    lx_resp_free(&r);
    return rows;
}

static const char *field(const json_t *row, const char *k)
{
    return json_string_value(json_object_get(row, k));
}

/* The one row of rows for target with status; fails the test when there is not exactly one. */
static const json_t *find_row(const json_t *rows, const char *target, long status)
{
    const json_t *found = NULL;

    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);

        if (strcmp(field(row, "target"), target) == 0 &&
            json_integer_value(json_object_get(row, "status")) == status) {
            ck_assert_msg(found == NULL, "two rows for %s %ld", target, status);
            found = row;
        }
    }
    ck_assert_msg(found != NULL, "no row for %s %ld", target, status);
    return found;
}

/* Registers org id of the given type with a key the test holds (admin-signed tx). */
static void register_org(const char *id, const char *type, const struct chain_note_signer *k)
{
    char pub[64];
    struct lx_resp r;
    json_t *tx;

    lx_pub_b64(k, pub, sizeof(pub));
    tx = lx_tx(
        &admin_key, "core", "org.register", "admin",
        json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", "Test org", "type", type, "key", pub));
    lx_submit(&srv, tx, &r);
    ck_assert_msg(r.status == 200, "org.register %s: %ld %s", id, r.status, r.body);
    lx_resp_free(&r);
    json_decref(tx);
}

/* A tx signed by org's key k: adds a fresh key to org. Returns the status, the answer in doc. */
static long org_tx(const char *org, const struct chain_note_signer *k, json_t **doc)
{
    struct chain_note_signer nk;
    char pub[64];
    struct lx_resp r;
    json_t *tx;
    long status;

    lx_keygen("extra", &nk);
    lx_pub_b64(&nk, pub, sizeof(pub));
    tx = lx_tx(k, "core", "key.add", org, json_pack("{s:s, s:s}", "principal", org, "key", pub));
    lx_submit(&srv, tx, &r);
    status = r.status;
    *doc = parse(&r);
    lx_resp_free(&r);
    json_decref(tx);
    return status;
}

/* Runs `lianxind audit` on the server's database; output into out. */
static int run_audit(char *out, size_t cap)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd), "%s audit --db '%s' 2>&1", lx_env("LIANXIN_TEST_BIN"), srv.conninfo);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Makes user name with node_role (NULL for none) and password pw straight in the database. */
static void make_user(const char *name, const char *node_role, const char *pw)
{
    char hash[crypto_pwhash_STRBYTES], sql[512];

    ck_assert_int_eq(crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE),
                     0);
    snprintf(sql, sizeof(sql),
             "INSERT INTO users (username, password_hash, node_role) VALUES ('%s', '%s', %s%s%s)",
             name, hash, node_role ? "'" : "", node_role ? node_role : "NULL",
             node_role ? "'" : "");
    ck_assert_int_eq(lx_db_exec(srv.dbname, sql), 0);
}

/* ---- rows ---------------------------------------------------------------------------------- */

/* The writer stores a batch with one COPY (server/auditlog.c): a backslash in a target must
 * arrive as itself, so the stored rows still hash to their chain and `lianxind audit` is clean. */
START_TEST(batched_rows_keep_their_bytes)
{
    struct sess admin;
    struct lx_resp r;
    long long base = sql_int("SELECT count(*) FROM audit_log");
    char out[8192];

    ck_assert_int_eq(login("admin", ADMIN_PW, &admin), 200);
    for (int i = 0; i < 20; i++) {
        call("POST", "/api/a\\b\\\\x00", "{}", &admin, &r);
        lx_resp_free(&r);
    }
    wait_rows(base + 21);
    ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE target = '/api/a\\b\\\\x00'"),
                     20);
    ck_assert_msg(run_audit(out, sizeof(out)) == 0, "audit: %s", out);
}
END_TEST

/* The writer lets a batch fill for LIANXIN_AUDIT_GATHER_MS before one transaction writes it
 * (auditlog.c, gather): with a window of 3 s, thirty requests 20 ms apart land in one or two
 * transactions (rows of one transaction share their xmin), where a writer that wrote each row
 * as it came would need about one each. A stop in the middle of a window writes what it holds. */
START_TEST(a_burst_is_one_transaction)
{
    struct lx_resp r;
    long long base;

    stop();
    setenv("LIANXIN_AUDIT_GATHER_MS", "3000", 1);
    lx_server_start(&srv, NULL);
    base = sql_int("SELECT count(*) FROM audit_log");
    for (int i = 0; i < 30; i++) {
        call("POST", "/api/burst", "{}", NULL, &r);
        ck_assert_int_eq(r.status, 404);
        lx_resp_free(&r);
        usleep(20000); /* far apart enough for a writer without the window to write each alone */
    }
    wait_rows(base + 30);
    ck_assert_int_le(sql_int("SELECT count(DISTINCT xmin::text) FROM audit_log "
                             "WHERE target = '/api/burst'"),
                     2);
    for (int i = 0; i < 5; i++) {
        call("POST", "/api/burst/stop", "{}", NULL, &r);
        lx_resp_free(&r);
    }
    ck_assert_int_eq(lx_server_stop(&srv), 0);
    ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE target = '/api/burst/stop'"), 5);
}
END_TEST

START_TEST(writes_are_logged_reads_are_not)
{
    struct sess admin, bad = {"", ""};
    struct lx_resp r;
    json_t *rows;
    const json_t *row;
    struct chain_note_signer k;
    char *csv;
    long long base = sql_int("SELECT count(*) FROM audit_log");

    ck_assert_int_eq(login("admin", "wrong password!", &bad), 401);
    ck_assert_int_eq(login("admin", ADMIN_PW, &admin), 200);
    call("GET", "/api/auth/me", NULL, &admin, &r); /* a read: no row */
    ck_assert_int_eq(r.status, 200);
    lx_resp_free(&r);
    /* the public verifications are POSTs that change nothing: no row either */
    call("POST", "/api/evidence/verify", "{\"sha256\":\"" SHA_ZERO "\"}", &bad, &r);
    ck_assert_int_eq(r.status, 200);
    lx_resp_free(&r);
    call("POST", "/api/edu/verify", "{}", &bad, &r);
    ck_assert_int_eq(r.status, 200);
    lx_resp_free(&r);
    lx_keygen("logged", &k);
    register_org("logged", "university", &k); /* anonymous POST /api/chain/tx */
    call("POST", "/api/no/such/thing", "{}", &admin, &r);
    ck_assert_int_eq(r.status, 404);
    lx_resp_free(&r);
    wait_rows(base + 4);

    /* rows are in the order requests completed, which is not always the order their answers
     * reached this client: look them up by what they are */
    rows = audit_rows(&admin, "?limit=4", NULL);
    ck_assert_int_eq(json_array_size(rows), 4);
    row = find_row(rows, "/api/no/such/thing", 404);
    ck_assert_str_eq(field(row, "method"), "POST");
    ck_assert_str_eq(field(row, "route"), "unmatched");
    ck_assert_str_eq(field(row, "username"), ""); /* no route: the caller is not looked up */
    row = find_row(rows, "/api/chain/tx", 200);
    ck_assert_str_eq(field(row, "route"), "/api/chain/tx");
    ck_assert_str_eq(field(row, "username"), "");
    ck_assert_str_eq(field(row, "client"), "127.0.0.1");
    row = find_row(rows, "/api/auth/login", 200);
    ck_assert_str_eq(field(row, "route"), "/api/auth/login");
    ck_assert_str_eq(field(row, "username"), "admin");
    ck_assert_str_eq(field(row, "role"), "");
    row = find_row(rows, "/api/auth/login", 401);
    ck_assert_str_eq(field(row, "username"), ""); /* a failed sign-in names nobody */
    /* ids are contiguous and each row links to the one before */
    for (size_t i = 0; i + 1 < json_array_size(rows); i++) {
        const json_t *a = json_array_get(rows, i), *b = json_array_get(rows, i + 1);

        ck_assert_int_eq(json_integer_value(json_object_get(a, "id")),
                         json_integer_value(json_object_get(b, "id")) + 1);
        ck_assert_str_eq(field(a, "prev_hash"), field(b, "hash"));
    }
    json_decref(rows);
    /* no GET was recorded, no verification, and no secret */
    ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE method IN ('GET', 'HEAD')"), 0);
    ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE route LIKE '%/verify'"), 0);
    csv = sql_value("SELECT string_agg(audit_log::text, E'\\n') FROM audit_log");
    ck_assert_ptr_null(strstr(csv, ADMIN_PW));
    ck_assert_ptr_null(strstr(csv, "wrong password"));
    ck_assert_ptr_null(strstr(csv, admin.cookie + strlen("lx_session=")));
    free(csv);
}
END_TEST

/* ---- anchors and lianxind audit ------------------------------------------------------------ */

/* Rewrites audit_log from row `from` on with recomputed hashes after changing its username: a
 * forger with database access who knows the hash rule. */
static void forge_from(long long from)
{
    char ci[512], sql[256], hex[65], prev_hex[65];
    PGconn *c;
    PGresult *res;
    struct srv_auditlog_row row;
    uint8_t prev[32];

    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"),
             srv.dbname);
    c = PQconnectdb(ci);
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    snprintf(sql, sizeof(sql),
             "SELECT id, at_ms, username, org, role, method, route, target, status, tx_id, "
             "client, encode(prev_hash, 'hex') FROM audit_log WHERE id >= %lld ORDER BY id",
             from);
    res = PQexec(c, sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    ck_assert_int_gt(PQntuples(res), 0);
    ck_assert_int_eq(chain_hex_decode(PQgetvalue(res, 0, 11), 64, prev, 32), 0);
    for (int i = 0; i < PQntuples(res); i++) {
        const char *params[4];
        PGresult *u;

        memset(&row, 0, sizeof(row));
        row.id = atoll(PQgetvalue(res, i, 0));
        row.at_ms = atoll(PQgetvalue(res, i, 1));
        snprintf(row.username, sizeof(row.username), "%s",
                 i == 0 ? "mallory" : PQgetvalue(res, i, 2));
        snprintf(row.org, sizeof(row.org), "%s", PQgetvalue(res, i, 3));
        snprintf(row.role, sizeof(row.role), "%s", PQgetvalue(res, i, 4));
        snprintf(row.method, sizeof(row.method), "%s", PQgetvalue(res, i, 5));
        snprintf(row.route, sizeof(row.route), "%s", PQgetvalue(res, i, 6));
        snprintf(row.target, sizeof(row.target), "%s", PQgetvalue(res, i, 7));
        row.status = (unsigned)atoi(PQgetvalue(res, i, 8));
        snprintf(row.tx_id, sizeof(row.tx_id), "%s", PQgetvalue(res, i, 9));
        snprintf(row.client, sizeof(row.client), "%s", PQgetvalue(res, i, 10));
        memcpy(row.prev_hash, prev, 32);
        ck_assert_int_eq(srv_auditlog_row_hash(&row), 0);
        memcpy(prev, row.hash, 32);
        chain_hex_encode(row.prev_hash, 32, prev_hex);
        chain_hex_encode(row.hash, 32, hex);
        params[0] = PQgetvalue(res, i, 0);
        params[1] = row.username;
        params[2] = prev_hex;
        params[3] = hex;
        u = PQexecParams(c,
                         "UPDATE audit_log SET username = $2, prev_hash = decode($3, 'hex'), "
                         "hash = decode($4, 'hex') WHERE id = $1",
                         4, NULL, params, NULL, NULL, 0);
        ck_assert_int_eq(PQresultStatus(u), PGRES_COMMAND_OK);
        PQclear(u);
    }
    PQclear(res);
    PQfinish(c);
}

START_TEST(anchored_and_audited)
{
    struct sess admin;
    struct chain_note_signer k;
    char out[8192], want[160];
    long long until, rows, anchored;
    char *hash_row, *hash_anchor;

    ck_assert_int_eq(login("admin", ADMIN_PW, &admin), 200);
    lx_keygen("anch", &k);
    register_org("anch", "court", &k);
    wait_rows(2);
    /* the writer anchors the head within the interval (300 ms here) */
    until = lx_now_ms() + 10000;
    while (lx_now_ms() < until && sql_int("SELECT coalesce(max(head_id), 0) FROM audit_anchors "
                                          "WHERE head_id >= 2") == 0)
        usleep(50000);
    anchored = sql_int("SELECT max(head_id) FROM audit_anchors");
    ck_assert_int_ge(anchored, 2);
    ck_assert_int_eq(sql_int("SELECT count(*) FROM txs WHERE module = 'core' AND type = "
                             "'audit.anchor' AND org = 'admin'"),
                     sql_int("SELECT count(*) FROM audit_anchors"));
    hash_row = sql_value("SELECT encode(l.hash, 'base64') FROM audit_log l JOIN audit_anchors a "
                         "ON a.head_id = l.id ORDER BY a.head_id DESC LIMIT 1");
    hash_anchor = sql_value("SELECT convert_from(leaf, 'UTF8')::jsonb -> 'body' ->> 'head_hash' "
                            "FROM txs WHERE type = 'audit.anchor' ORDER BY leaf_index DESC "
                            "LIMIT 1");
    ck_assert_str_eq(hash_row, hash_anchor);
    free(hash_row);
    free(hash_anchor);
    /* a clean stop anchors the final head */
    ck_assert_int_eq(lx_server_stop(&srv), 0);
    rows = sql_int("SELECT count(*) FROM audit_log");
    ck_assert_int_eq(sql_int("SELECT max(head_id) FROM audit_anchors"), rows);
    ck_assert_msg(run_audit(out, sizeof(out)) == 0, "audit: %s", out);
    snprintf(want, sizeof(want), "audit_log clean (%lld rows", rows);
    ck_assert_msg(strstr(out, want) != NULL, "audit said: %s", out);

    /* one edited field: that row's hash no longer matches */
    ck_assert_int_eq(lx_db_exec(srv.dbname, "UPDATE audit_log SET username = 'mallory' "
                                            "WHERE id = 2"),
                     0);
    ck_assert_int_eq(run_audit(out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "audit_log row 2: hash differs") != NULL, "audit said: %s", out);

    /* a rewrite that recomputes every hash: the chain holds, the ledger's anchor does not */
    forge_from(2);
    ck_assert_int_eq(run_audit(out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "hash differs from the one anchored on the ledger") != NULL,
                  "audit said: %s", out);

    /* a row removed from the middle */
    ck_assert_int_eq(lx_db_exec(srv.dbname, "DELETE FROM audit_log WHERE id = 1"), 0);
    ck_assert_int_eq(run_audit(out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "audit_log row 1: missing") != NULL, "audit said: %s", out);
}
END_TEST

START_TEST(anchored_tail_cut_off)
{
    struct sess admin;
    char out[8192], want[96];
    long long rows;

    ck_assert_int_eq(login("admin", ADMIN_PW, &admin), 200);
    wait_rows(1);
    ck_assert_int_eq(lx_server_stop(&srv), 0);
    rows = sql_int("SELECT count(*) FROM audit_log");
    ck_assert_int_eq(sql_int("SELECT max(head_id) FROM audit_anchors"), rows);
    /* the last rows deleted: the anchor names a row that is gone */
    ck_assert_int_eq(lx_db_exec(srv.dbname, "DELETE FROM audit_log WHERE id = "
                                            "(SELECT max(id) FROM audit_log)"),
                     0);
    ck_assert_int_eq(run_audit(out, sizeof(out)), 1);
    snprintf(want, sizeof(want), "audit_log row %lld: missing, but the ledger anchors it", rows);
    ck_assert_msg(strstr(out, want) != NULL, "audit said: %s", out);
}
END_TEST

/* ---- filters and CSV ----------------------------------------------------------------------- */

START_TEST(filters_paging_csv)
{
    static const char header[] = "id,at_ms,time_utc,username,org,role,method,route,target,status,"
                                 "tx_id,client,prev_hash,hash\r\n";
    struct sess admin, reg;
    struct chain_note_signer k;
    struct lx_resp r;
    json_t *rows, *next = NULL;
    char q[256], ct[128], cd[128];
    long long total, at;

    make_user("reg.filter", "regulator", REG_PW);
    ck_assert_int_eq(login("admin", ADMIN_PW, &admin), 200);
    ck_assert_int_eq(login("reg.filter", REG_PW, &reg), 200);
    lx_keygen("filt", &k);
    register_org("filt", "charity", &k);
    /* an org named in a body lands in the org column; this one would be a formula */
    call("POST", "/api/auth/tokens",
         "{\"name\":\"t\",\"org\":\"=1+2\",\"role\":\"member\",\"expires\":1}", &admin, &r);
    lx_resp_free(&r);
    call("POST", "/api/x,y", "{}", &admin, &r); /* a comma in the target */
    lx_resp_free(&r);
    wait_rows(5);
    total = sql_int("SELECT count(*) FROM audit_log");

    /* user */
    rows = audit_rows(&reg, "?user=reg.filter", NULL);
    ck_assert_int_eq(json_array_size(rows), 1);
    ck_assert_str_eq(field(json_array_get(rows, 0), "route"), "/api/auth/login");
    json_decref(rows);
    /* module: the first path segment after /api/ */
    rows = audit_rows(&admin, "?module=chain", NULL);
    ck_assert_int_eq(json_array_size(rows), 1);
    ck_assert_str_eq(field(json_array_get(rows, 0), "target"), "/api/chain/tx");
    json_decref(rows);
    rows = audit_rows(&admin, "?module=auth", NULL);
    ck_assert_int_eq(json_array_size(rows), 3);
    json_decref(rows);
    /* org */
    rows = audit_rows(&admin, "?org=%3D1%2B2", NULL);
    ck_assert_int_eq(json_array_size(rows), 1);
    ck_assert_str_eq(field(json_array_get(rows, 0), "route"), "/api/auth/tokens");
    json_decref(rows);
    /* time: from is inclusive, to exclusive (Unix ms) */
    at = sql_int("SELECT at_ms FROM audit_log WHERE route = '/api/chain/tx'");
    snprintf(q, sizeof(q), "?from=%lld&to=%lld", at, at + 1);
    rows = audit_rows(&admin, q, NULL);
    ck_assert_int_ge(json_array_size(rows), 1);
    for (size_t i = 0; i < json_array_size(rows); i++)
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, i), "at_ms")), at);
    json_decref(rows);
    snprintf(q, sizeof(q), "?to=%lld", sql_int("SELECT min(at_ms) FROM audit_log"));
    rows = audit_rows(&admin, q, NULL);
    ck_assert_int_eq(json_array_size(rows), 0);
    json_decref(rows);
    /* paging: limit 2, then before */
    rows = audit_rows(&admin, "?limit=2", &next);
    ck_assert_int_eq(json_array_size(rows), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "id")), total);
    ck_assert_int_eq(json_integer_value(next), total - 1);
    json_decref(rows);
    snprintf(q, sizeof(q), "?limit=2&before=%lld", (long long)json_integer_value(next));
    json_decref(next);
    rows = audit_rows(&admin, q, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "id")), total - 2);
    json_decref(rows);
    call("GET", "/api/audit?limit=0", NULL, &admin, &r);
    ck_assert_int_eq(r.status, 400);
    lx_resp_free(&r);
    call("GET", "/api/audit?from=yesterday", NULL, &admin, &r);
    ck_assert_int_eq(r.status, 400);
    lx_resp_free(&r);

    /* CSV: a header row, one line per row, RFC 4180 quoting, formulas defused */
    call("GET", "/api/audit.csv", NULL, &reg, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(lx_header(&r, "Content-Type", ct, sizeof(ct)));
    ck_assert_ptr_nonnull(strstr(ct, "text/csv"));
    ck_assert_ptr_nonnull(lx_header(&r, "Content-Disposition", cd, sizeof(cd)));
    ck_assert_msg(strncmp(r.body, header, strlen(header)) == 0, "%s", r.body);
    {
        long long lines = 0;

        for (const char *p = r.body; (p = strstr(p, "\r\n")) != NULL; p += 2)
            lines++;
        ck_assert_int_eq(lines, total + 1);
    }
    ck_assert_msg(strstr(r.body, ",'=1+2,") != NULL, "no defused formula: %s", r.body);
    ck_assert_ptr_null(strstr(r.body, ",=1+2,"));
    ck_assert_msg(strstr(r.body, ",\"/api/x,y\",") != NULL, "comma not quoted: %s", r.body);
    lx_resp_free(&r);
    call("GET", "/api/audit.csv?user=reg.filter", NULL, &admin, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, ",reg.filter,"));
    ck_assert_ptr_null(strstr(r.body, ",admin,"));
    lx_resp_free(&r);
}
END_TEST

/* ---- freezes ------------------------------------------------------------------------------- */

static long freeze_call(const struct sess *s, const char *what, const char *target,
                        const char *reason, json_t **doc)
{
    char path[64], *body;
    json_t *b = json_pack("{s:s, s:s}", "target", target, "reason", reason);
    struct lx_resp r;
    long status;

    body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    snprintf(path, sizeof(path), "/api/oversight/%s", what);
    call("POST", path, body, s, &r);
    free(body);
    status = r.status;
    *doc = parse(&r);
    lx_resp_free(&r);
    return status;
}

START_TEST(admin_freezes_an_org)
{
    static const char reason[] = "涉嫌违规发证 under investigation";
    struct sess admin;
    struct chain_note_signer k;
    struct lx_resp r;
    json_t *doc;
    char target[80], *tx_hex;
    const char *msg;

    ck_assert_int_eq(login("admin", ADMIN_PW, &admin), 200);
    lx_keygen("frz", &k);
    register_org("frz", "university", &k);
    ck_assert_int_eq(org_tx("frz", &k, &doc), 200);
    json_decref(doc);

    ck_assert_int_eq(freeze_call(&admin, "freeze", "org:frz", reason, &doc), 200);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "org")), "admin");
    ck_assert_int_eq(strlen(json_string_value(json_object_get(doc, "tx_id"))), 64);
    json_decref(doc);
    /* the org's own txs are refused with 423 and the reason */
    ck_assert_int_eq(org_tx("frz", &k, &doc), 423);
    ck_assert_str_eq(error_code(doc), "frozen");
    msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    ck_assert_msg(strstr(msg, reason) != NULL, "message: %s", msg);
    json_decref(doc);
    /* listed, and not frozen twice */
    call("GET", "/api/oversight/freezes", NULL, &admin, &r);
    ck_assert_int_eq(r.status, 200);
    doc = parse(&r);
    lx_resp_free(&r);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "freezes")), 1);
    ck_assert_str_eq(field(json_array_get(json_object_get(doc, "freezes"), 0), "target"),
                     "org:frz");
    ck_assert_str_eq(field(json_array_get(json_object_get(doc, "freezes"), 0), "reason"), reason);
    json_decref(doc);
    ck_assert_int_eq(freeze_call(&admin, "freeze", "org:frz", "again", &doc), 409);
    ck_assert_str_eq(error_code(doc), "already_frozen");
    json_decref(doc);
    /* the freeze request is in the audit log with its tx */
    wait_rows(5);
    ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE route = "
                             "'/api/oversight/freeze' AND status = 200 AND length(tx_id) = 64"),
                     1);

    ck_assert_int_eq(freeze_call(&admin, "unfreeze", "org:frz", "cleared", &doc), 200);
    json_decref(doc);
    ck_assert_int_eq(org_tx("frz", &k, &doc), 200);
    json_decref(doc);
    ck_assert_int_eq(freeze_call(&admin, "unfreeze", "org:frz", "again", &doc), 409);
    ck_assert_str_eq(error_code(doc), "not_frozen");
    json_decref(doc);

    /* the rules of the ledger */
    ck_assert_int_eq(freeze_call(&admin, "freeze", "org:nobody", "x", &doc), 404);
    ck_assert_str_eq(error_code(doc), "unknown_target");
    json_decref(doc);
    ck_assert_int_eq(freeze_call(&admin, "freeze", "org:admin", "x", &doc), 422);
    json_decref(doc);
    ck_assert_int_eq(freeze_call(&admin, "freeze", "pku", "x", &doc), 422);
    ck_assert_str_eq(error_code(doc), "invalid_body");
    json_decref(doc);
    ck_assert_int_eq(freeze_call(&admin, "freeze", "org:frz", "", &doc), 422);
    json_decref(doc);
    /* a single record */
    tx_hex = sql_value("SELECT encode(tx_id, 'hex') FROM txs WHERE leaf_index = 1");
    snprintf(target, sizeof(target), "tx:%s", tx_hex);
    free(tx_hex);
    ck_assert_int_eq(freeze_call(&admin, "freeze", target, "disputed record", &doc), 200);
    json_decref(doc);
    ck_assert_int_eq(sql_int("SELECT count(*) FROM freezes WHERE target LIKE 'tx:%'"), 1);
}
END_TEST

START_TEST(regulator_freezes_with_its_org_key)
{
    struct sess admin, reg;
    struct chain_note_signer k;
    struct lx_resp r;
    json_t *doc;
    char path[128], sql[256];
    const char *tx_id;

    ck_assert_int_eq(login("admin", ADMIN_PW, &admin), 200);
    lx_keygen("target", &k);
    register_org("target", "publisher", &k);
    /* a regulator organisation, admitted with a custodial key */
    call("POST", "/api/orgs", "{\"id\":\"csrc\",\"name\":\"Regulator\",\"type\":\"regulator\"}",
         &admin, &r);
    ck_assert_msg(r.status == 201 || r.status == 200, "POST /api/orgs: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    make_user("reg.one", "regulator", REG_PW);
    ck_assert_int_eq(login("reg.one", REG_PW, &reg), 200);

    /* a regulator with no regulator organisation has no key to sign with */
    ck_assert_int_eq(freeze_call(&reg, "freeze", "org:target", "inspection", &doc), 403);
    ck_assert_str_eq(error_code(doc), "no_regulator_org");
    json_decref(doc);
    snprintf(sql, sizeof(sql),
             "INSERT INTO roles (user_id, org, role) SELECT id, 'csrc', 'member' FROM users "
             "WHERE username = 'reg.one'");
    ck_assert_int_eq(lx_db_exec(srv.dbname, sql), 0);

    ck_assert_int_eq(freeze_call(&reg, "freeze", "org:target", "inspection", &doc), 200);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "org")), "csrc");
    tx_id = json_string_value(json_object_get(doc, "tx_id"));
    snprintf(path, sizeof(path), "/api/chain/tx/%s", tx_id);
    json_decref(doc);
    call("GET", path, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    doc = parse(&r);
    lx_resp_free(&r);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "tx"), "org")), "csrc");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "tx"), "type")),
                     "freeze");
    json_decref(doc);
    ck_assert_int_eq(org_tx("target", &k, &doc), 423);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(json_object_get(doc, "error"), "message")),
               "inspection"));
    json_decref(doc);
    ck_assert_int_eq(freeze_call(&reg, "unfreeze", "org:target", "done", &doc), 200);
    json_decref(doc);
    ck_assert_int_eq(org_tx("target", &k, &doc), 200);
    json_decref(doc);

    /* an organisation that is not a regulator may not freeze, even signing itself */
    {
        struct lx_resp r2;
        json_t *tx = lx_tx(&k, "core", "freeze", "target",
                           json_pack("{s:s, s:s}", "target", "org:csrc", "reason", "revenge"));

        lx_submit(&srv, tx, &r2);
        ck_assert_int_eq(r2.status, 403);
        doc = parse(&r2);
        ck_assert_str_eq(error_code(doc), "not_regulator");
        json_decref(doc);
        lx_resp_free(&r2);
        json_decref(tx);
    }
}
END_TEST

START_TEST(who_may_not)
{
    static const char *const reads[] = {"/api/audit", "/api/audit.csv", "/api/oversight/freezes"};
    static const char *const writes[] = {"/api/oversight/freeze", "/api/oversight/unfreeze"};
    static const char body[] = "{\"target\":\"org:admin\",\"reason\":\"x\"}";
    struct sess user;
    struct lx_resp r;

    make_user("plain.user", NULL, REG_PW);
    ck_assert_int_eq(login("plain.user", REG_PW, &user), 200);
    for (size_t i = 0; i < 3; i++) {
        call("GET", reads[i], NULL, NULL, &r);
        ck_assert_msg(r.status == 401, "%s anonymous: %ld", reads[i], r.status);
        lx_resp_free(&r);
        call("GET", reads[i], NULL, &user, &r);
        ck_assert_msg(r.status == 403, "%s user: %ld", reads[i], r.status);
        lx_resp_free(&r);
    }
    for (size_t i = 0; i < 2; i++) {
        call("POST", writes[i], body, NULL, &r);
        ck_assert_msg(r.status == 401, "%s anonymous: %ld", writes[i], r.status);
        lx_resp_free(&r);
        call("POST", writes[i], body, &user, &r);
        ck_assert_msg(r.status == 403, "%s user: %ld", writes[i], r.status);
        lx_resp_free(&r);
    }
    /* refused writes are recorded too */
    wait_rows(5);
    ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE route = "
                             "'/api/oversight/freeze' AND status IN (401, 403)"),
                     2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auditlog");
    TCase *tc = tcase_create("auditlog");
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, start, stop);
    tcase_add_test(tc, batched_rows_keep_their_bytes);
    tcase_add_test(tc, a_burst_is_one_transaction);
    tcase_add_test(tc, writes_are_logged_reads_are_not);
    tcase_add_test(tc, anchored_and_audited);
    tcase_add_test(tc, anchored_tail_cut_off);
    tcase_add_test(tc, filters_paging_csv);
    tcase_add_test(tc, admin_freezes_an_org);
    tcase_add_test(tc, regulator_freezes_with_its_org_key);
    tcase_add_test(tc, who_may_not);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
