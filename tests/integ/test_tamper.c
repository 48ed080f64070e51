/*
 * Tampering with every ledger and audit table: a real lianxind builds a realistic ledger over
 * HTTP (organisations admitted with custodial keys, a key rotation, a self-registered student,
 * edu credentials issued and one revoked, an evidence case with items, custody events and
 * machine anchors, freezes and an unfreeze, audit-log rows anchored on the ledger, many
 * blocks), then stops. Each case copies that database (CREATE DATABASE ... TEMPLATE: fast, and
 * the original stays untouched), edits, deletes or reorders rows of one table in one
 * transaction straight through libpq, and runs `lianxind audit` on the copy: it must exit 1 and
 * name the table and the row ("block 7", "leaf 17", "merkle_nodes (level 6, idx 1)",
 * "audit_log row 12", "keys pubkey <hex>" ...). The untouched original audits clean before and
 * after. Prints "tamper: N cases, all named".
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ADMIN_PW "tamper-admin-password"
#define USER_PW  "tamper-user-password"

static struct lx_server srv;
static struct lx_cred admin;

/* ---- building the ledger -------------------------------------------------------------------- */

static void admit(const char *id, const char *type)
{
    json_decref(lx_expect(&srv, &admin, "POST", "/api/orgs",
                          json_pack("{s:s, s:s, s:s}", "id", id, "name", id, "type", type), 201));
}

static void person(const char *org, const char *username, const char *role, struct lx_cred *out)
{
    char path[128];
    long status;

    snprintf(path, sizeof(path), "/api/orgs/%s/users", org);
    json_decref(lx_call(&srv, &admin, "POST", path,
                        json_pack("{s:s, s:s, s:s, s:s}", "username", username, "display_name",
                                  username, "role", role, "password", USER_PW),
                        &status));
    ck_assert_msg(status == 201 || status == 200, "invite %s: %ld", username, status);
    ck_assert_int_eq(lx_login(&srv, username, USER_PW, out), 200);
}

/* A diploma of t-univ; its id (37 bytes) and issuing tx id (65 bytes) into id and tx. */
static void issue(const struct lx_cred *registrar, const char *name, char *id, char *tx)
{
    json_t *doc =
        lx_expect(&srv, registrar, "POST", "/api/edu/credentials",
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "org", "t-univ", "kind",
                            "diploma", "name", name, "student_number", "2022010001", "degree",
                            "Bachelor of Law", "major", "Law", "end_date", "2026-07-01"),
                  201);

    snprintf(id, 37, "%s", lx_str(doc, "id"));
    snprintf(tx, 65, "%s", lx_str(doc, "tx_id"));
    json_decref(doc);
}

/* Preserves a file of text in case_id; the item id into id (37 bytes). */
static void preserve(const struct lx_cred *clerk, const char *case_id, const char *text, char *id)
{
    unsigned char h[32];
    char hex[65];
    json_t *doc;

    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    doc = lx_expect(&srv, clerk, "POST", "/api/evidence/items",
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "case", case_id, "sha256", hex,
                              "title", text, "kind", "chat_log", "original_name", "chat.txt",
                              "size", (json_int_t)strlen(text), "mime", "text/plain"),
                    201);
    snprintf(id, 37, "%s", lx_str(doc, "id"));
    json_decref(doc);
}

static void custody(const struct lx_cred *who, const char *item, json_t *body)
{
    char path[160];

    snprintf(path, sizeof(path), "/api/evidence/items/%s/custody", item);
    json_decref(lx_expect(&srv, who, "POST", path, body, 201));
}

static void oversight(const char *what, const char *target, const char *reason)
{
    char path[64];

    snprintf(path, sizeof(path), "/api/oversight/%s", what);
    json_decref(lx_expect(&srv, &admin, "POST", path,
                          json_pack("{s:s, s:s}", "target", target, "reason", reason), 200));
}

static long long count(const char *sql)
{
    char *v = lx_db_value(srv.dbname, sql, 0, NULL);
    long long n = v ? atoll(v) : -1;

    free(v);
    return n;
}

static void build_ledger(void)
{
    struct lx_cred registrar, clerk, lawyer, student;
    char cred[4][37], tx[4][65], case_id[37], item[2][37], target[80], path[160];
    json_t *doc, *list;
    long long until;

    ck_assert_int_eq(lx_login(&srv, "admin", ADMIN_PW, &admin), 200);
    admit("t-univ", "university");
    admit("t-court", "court");
    admit("t-firm", "law_firm");
    admit("t-spare", "charity");
    admit("t-other", "charity");
    person("t-univ", "t.registrar", "registrar", &registrar);
    person("t-court", "t.clerk", "clerk", &clerk);
    person("t-firm", "t.lawyer", "member", &lawyer);
    json_decref(lx_expect(&srv, NULL, "POST", "/api/auth/signup",
                          json_pack("{s:s, s:s, s:s}", "username", "t.student", "password", USER_PW,
                                    "type", "student"),
                          201));
    ck_assert_int_eq(lx_login(&srv, "t.student", USER_PW, &student), 200);

    /* edu: three diplomas, a key rotation, one more, one revoked */
    issue(&registrar, "Zhang San", cred[0], tx[0]);
    issue(&registrar, "Li Si", cred[1], tx[1]);
    issue(&registrar, "Wang Wu", cred[2], tx[2]);
    json_decref(lx_expect(&srv, &admin, "POST", "/api/orgs/t-univ/keys/rotate", NULL, 200));
    issue(&registrar, "Zhao Liu", cred[3], tx[3]);
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/revoke", cred[1]);
    json_decref(lx_expect(&srv, &registrar, "POST", path,
                          json_pack("{s:s, s:s}", "org", "t-univ", "reason", "degree withdrawn"),
                          200));

    /* evidence: a case, two items, their custody, machine anchors */
    doc = lx_expect(&srv, &clerk, "POST", "/api/evidence/cases",
                    json_pack("{s:s, s:s, s:s, s:[s, s]}", "org", "t-court", "number",
                              "(2026)T0105-1", "title", "Zhang v. Li", "parties", "Zhang San",
                              "Li Si"),
                    201);
    snprintf(case_id, sizeof(case_id), "%s", lx_str(doc, "id"));
    json_decref(doc);
    snprintf(path, sizeof(path), "/api/evidence/cases/%s/grants", case_id);
    json_decref(lx_expect(&srv, &clerk, "POST", path,
                          json_pack("{s:s, s:s}", "username", "t.lawyer", "party", "Zhang San"),
                          201));
    preserve(&clerk, case_id, "first chat log", item[0]);
    preserve(&lawyer, case_id, "second chat log", item[1]);
    custody(&clerk, item[0], json_pack("{s:s}", "event", "collected"));
    custody(&clerk, item[0], json_pack("{s:s}", "event", "sealed"));
    custody(&lawyer, item[0],
            json_pack("{s:s, s:s, s:s}", "event", "transferred", "from", "evidence room", "to",
                      "forensic lab"));
    custody(&clerk, item[1], json_pack("{s:s}", "event", "collected"));
    /* machine anchors: enough leaves for stored Merkle nodes (level 6 and up: 64 leaves) */
    list = json_array();
    for (int i = 0; i < 260; i++) {
        char hex[65], label[32];

        snprintf(hex, sizeof(hex), "%064x", i + 1);
        snprintf(label, sizeof(label), "meter %d", i);
        json_array_append_new(list, json_pack("{s:s, s:s}", "sha256", hex, "label", label));
    }
    json_decref(lx_expect(&srv, &clerk, "POST", "/api/evidence/anchors",
                          json_pack("{s:s, s:o}", "org", "t-court", "anchors", list), 201));

    /* oversight: two freezes stay, one is lifted */
    oversight("freeze", "org:t-other", "inquiry");
    oversight("unfreeze", "org:t-other", "inquiry closed");
    oversight("freeze", "org:t-spare", "licence suspended");
    snprintf(target, sizeof(target), "tx:%s", tx[2]);
    oversight("freeze", target, "disputed diploma");

    /* the audit log's head anchored on the ledger, more than once */
    until = lx_now_ms() + 10000;
    while (lx_now_ms() < until && (count("SELECT count(*) FROM audit_anchors") < 2 ||
                                   count("SELECT max(head_id) FROM audit_anchors") <
                                       count("SELECT count(*) FROM audit_log")))
        usleep(50000);
}

static void fixture_up(void)
{
    long long t0 = lx_now_ms();

    memset(&srv, 0, sizeof(srv));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1);
    setenv("LIANXIN_AUDIT_ANCHOR_MS", "200", 1);
    lx_server_start(&srv, NULL);
    build_ledger();
    ck_assert_int_eq(lx_server_stop(&srv), 0); /* a template database may have no sessions */
    fprintf(stderr, "tamper: ledger built in %lld ms\n", lx_now_ms() - t0);
}

static void fixture_down(void)
{
    if (srv.pid > 0)
        lx_server_stop(&srv);
}

/* ---- running the audit ---------------------------------------------------------------------- */

/* `lianxind audit` on database db; its exit status, its output in out. */
static int audit(const char *db, char *out, size_t cap)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd), "%s audit --db 'host=%s dbname=%s user=lianxin' 2>&1",
             lx_env("LIANXIN_TEST_BIN"), lx_env("LIANXIN_TEST_PGHOST"), db);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the cases ------------------------------------------------------------------------------ */

/* One tampering: pick (run on the pristine database) returns up to three values that replace
 * {1}, {2}, {3} in sql (run on a copy, in one transaction) and in the strings the report must
 * hold. */
struct tamper {
    const char *table;
    const char *kind; /* edit, delete, reorder, insert */
    const char *pick; /* NULL: no values */
    const char *sql;
    const char *expect[2]; /* NULL when unused */
    const char *also;      /* another table sql changes, or NULL */
};

/* Swapping a primary-key value between rows {1} and {2} takes three steps through -1. */
#define SWAP(tbl, col, extra)                                                                      \
    "UPDATE " tbl " SET " col " = -1 WHERE " col " = {1}" extra ";"                                \
    "UPDATE " tbl " SET " col " = {1} WHERE " col " = {2}" extra ";"                               \
    "UPDATE " tbl " SET " col " = {2} WHERE " col " = -1" extra

/* Swapping column col between the rows whose key column is '{1}' and '{2}' as text. */
#define SWAP_COL(tbl, key, col) SWAP_EXPR(tbl, "x." key "::text", "y." key "::text", col)
#define SWAP_EXPR(tbl, xkey, ykey, col)                                                            \
    "UPDATE " tbl " x SET " col " = y." col " FROM " tbl " y WHERE (" xkey ", " ykey               \
    ") IN (('{1}', '{2}'), ('{2}', '{1}'))"

/* Leaf 10, the first leaf two blocks later, and the height of leaf 10. */
#define TXS_PICK                                                                                   \
    "SELECT a.leaf_index, (SELECT min(leaf_index) FROM txs WHERE height > a.height + 1), "         \
    "a.height FROM txs a WHERE a.leaf_index = 10"

/* The two lowest keys of a table, as text. */
#define TWO(tbl, key, where)                                                                       \
    "SELECT min(k), max(k) FROM (SELECT " key " AS k FROM " tbl " " where " ORDER BY 1 LIMIT 2) s"

static const struct tamper cases[] = {
    /* chain_meta: one row, the origin */
    {"chain_meta",
     "edit",
     NULL,
     "UPDATE chain_meta SET value = 'lianxin.local/forged' WHERE key = 'origin'",
     {"block 0, leaf 0:", "chain_meta's origin is \"lianxin.local/forged\""},
     NULL},
    {"chain_meta",
     "delete",
     NULL,
     "DELETE FROM chain_meta WHERE key = 'origin'",
     {"block 0:", "chain_meta has no origin"},
     NULL},
    {"chain_meta",
     "reorder",
     NULL,
     "UPDATE chain_meta SET key = value, value = key",
     {"chain_meta key 'lianxin.local/dev'", NULL},
     NULL},
    {"chain_meta",
     "insert",
     NULL,
     "INSERT INTO chain_meta VALUES ('genesis_ms', '0')",
     {"chain_meta key 'genesis_ms'", NULL},
     NULL},

    /* blocks: a block in the middle */
    {"blocks",
     "edit",
     "SELECT height, height + 1 FROM blocks ORDER BY height LIMIT 1 OFFSET 6",
     "UPDATE blocks SET time_ms = time_ms + 1 WHERE height = {1}",
     {"at block {1}:", "blocks.checkpoint says time"},
     NULL},
    {"blocks",
     "delete",
     "SELECT height FROM blocks ORDER BY height LIMIT 1 OFFSET 6",
     "DELETE FROM blocks WHERE height = {1}",
     {"at block {1}:", "blocks has no row for height {1}"},
     NULL},
    {"blocks",
     "reorder",
     "SELECT height, height + 1 FROM blocks ORDER BY height LIMIT 1 OFFSET 6",
     SWAP("blocks", "height", ""),
     {"at block {1}:", "blocks."},
     NULL},

    /* txs: leaf 10, and the first leaf two blocks later */
    {"txs",
     "edit",
     TXS_PICK,
     "UPDATE txs SET leaf = overlay(leaf PLACING '\\x41'::bytea FROM length(leaf) - 3 FOR 1) "
     "WHERE leaf_index = {1}",
     {"block {3}, leaf {1}:", "txs."},
     NULL},
    {"txs",
     "delete",
     TXS_PICK,
     "DELETE FROM txs WHERE leaf_index = {1}",
     {"block {3}, leaf {1}:", "txs has no row"},
     NULL},
    {"txs", "reorder", TXS_PICK, SWAP("txs", "leaf_index", ""), {"leaf {1}:", "txs."}, NULL},
    /* two leaves of one block swapped: only the block's root (or a stored node) can tell */
    {"txs",
     "reorder in a block",
     "SELECT first_leaf + 1, first_leaf + 2, height FROM blocks ORDER BY n_txs DESC LIMIT 1",
     SWAP("txs", "leaf_index", ""),
     {"block {3}", "recomputed"},
     NULL},

    /* merkle_nodes (stored from level 6 up): the second level-6 node and the next */
    {"merkle_nodes",
     "edit",
     "SELECT 1, 2",
     "UPDATE merkle_nodes SET hash = sha256(hash) WHERE level = 6 AND idx = {1}",
     {"merkle_nodes (level 6, idx {1})", NULL},
     NULL},
    {"merkle_nodes",
     "delete",
     "SELECT 1, 2",
     "DELETE FROM merkle_nodes WHERE level = 6 AND idx = {1}",
     {"merkle_nodes row (level 6, idx {1}) is missing", NULL},
     NULL},
    {"merkle_nodes",
     "reorder",
     "SELECT 1, 2",
     SWAP("merkle_nodes", "idx", " AND level = 6"),
     {"merkle_nodes (level 6, idx {1})", NULL},
     NULL},

    /* audit_log: a row in the middle */
    {"audit_log",
     "edit",
     "SELECT max(id) / 2, max(id) / 2 + 1 FROM audit_log",
     "UPDATE audit_log SET username = 'mallory' WHERE id = {1}",
     {"audit_log row {1}: hash differs", NULL},
     NULL},
    {"audit_log",
     "delete",
     "SELECT max(id) / 2 FROM audit_log",
     "DELETE FROM audit_log WHERE id = {1}",
     {"audit_log row {1}: missing", NULL},
     NULL},
    {"audit_log",
     "reorder",
     "SELECT max(id) / 2, max(id) / 2 + 1 FROM audit_log",
     SWAP("audit_log", "id", ""),
     {"audit_log row {1}: prev_hash differs", NULL},
     NULL},

    /* principals (derived from org.register / principal.register) */
    {"principals",
     "edit",
     NULL,
     "UPDATE principals SET name = 'Forged U' WHERE id = 't-univ'",
     {"principals id t-univ: name is Forged U", NULL},
     NULL},
    {"principals",
     "delete",
     NULL,
     "DELETE FROM keys WHERE principal = 't-spare'; DELETE FROM principals WHERE id = 't-spare'",
     {"principals id t-spare: missing", NULL},
     "keys"},
    {"principals",
     "reorder",
     TWO("principals", "id", "WHERE kind = 'org'"),
     SWAP_COL("principals", "id", "leaf_index"),
     {"principals id {1}: leaf_index is", NULL},
     NULL},

    /* keys (key.add / key.revoke): un-revoke, drop, swap, forge */
    {"keys",
     "edit",
     "SELECT encode(pubkey, 'hex') FROM keys WHERE revoked_leaf IS NOT NULL ORDER BY 1 LIMIT 1",
     "UPDATE keys SET revoked_leaf = NULL WHERE pubkey = decode('{1}', 'hex')",
     {"keys pubkey {1}: revoked_leaf is NULL", NULL},
     NULL},
    {"keys",
     "delete",
     "SELECT encode(pubkey, 'hex') FROM keys WHERE revoked_leaf IS NOT NULL ORDER BY 1 LIMIT 1",
     "DELETE FROM keys WHERE pubkey = decode('{1}', 'hex')",
     {"keys pubkey {1}: missing", NULL},
     NULL},
    {"keys",
     "reorder",
     TWO("keys", "encode(pubkey, 'hex')", ""),
     SWAP_EXPR("keys", "encode(x.pubkey, 'hex')", "encode(y.pubkey, 'hex')", "added_leaf"),
     {"keys pubkey {1}: added_leaf is", NULL},
     NULL},
    {"keys",
     "insert",
     "SELECT encode(sha256('forged'::bytea), 'hex')",
     "INSERT INTO keys (pubkey, principal, added_leaf) VALUES (decode('{1}', 'hex'), 't-univ', 1)",
     {"keys pubkey {1}: the table has this row but no tx", NULL},
     NULL},

    /* freezes (freeze / unfreeze): the regulator's freeze quietly lifted, and so on */
    {"freezes",
     "edit",
     TWO("freezes", "target", ""),
     "UPDATE freezes SET reason = 'nothing' WHERE target = '{1}'",
     {"freezes target {1}: reason is nothing", NULL},
     NULL},
    {"freezes",
     "delete",
     TWO("freezes", "target", ""),
     "DELETE FROM freezes WHERE target = '{1}'",
     {"freezes target {1}: missing", NULL},
     NULL},
    {"freezes",
     "reorder",
     TWO("freezes", "target", ""),
     SWAP_COL("freezes", "target", "frozen_leaf"),
     {"freezes target {1}: frozen_leaf is", NULL},
     NULL},

    /* audit_anchors (audit.anchor) */
    {"audit_anchors",
     "edit",
     TWO("audit_anchors", "head_id", ""),
     "UPDATE audit_anchors SET head_hash = sha256(head_hash) WHERE head_id = {1}",
     {"audit_anchors head_id {1}: head_hash is", NULL},
     NULL},
    {"audit_anchors",
     "delete",
     TWO("audit_anchors", "head_id", ""),
     "DELETE FROM audit_anchors WHERE head_id = {1}",
     {"audit_anchors head_id {1}: missing", NULL},
     NULL},
    {"audit_anchors",
     "reorder",
     TWO("audit_anchors", "head_id", ""),
     SWAP_COL("audit_anchors", "head_id", "leaf_index"),
     {"audit_anchors head_id {1}: leaf_index is", NULL},
     NULL},

    /* edu_anchors (credential.issue / credential.revoke): un-revoke, drop, swap, forge */
    {"edu_anchors",
     "edit",
     "SELECT credential_id FROM edu_anchors WHERE revoked_ms IS NOT NULL ORDER BY 1 LIMIT 1",
     "UPDATE edu_anchors SET revoked_ms = NULL, revoke_reason = NULL, revoke_tx_id = NULL, "
     "revoke_leaf = NULL WHERE credential_id = '{1}'",
     {"edu_anchors credential_id {1}: revoked_ms is NULL", NULL},
     NULL},
    {"edu_anchors",
     "delete",
     "SELECT credential_id FROM edu_anchors WHERE revoked_ms IS NOT NULL ORDER BY 1 LIMIT 1",
     "DELETE FROM edu_anchors WHERE credential_id = '{1}'",
     {"edu_anchors credential_id {1}: missing", NULL},
     NULL},
    {"edu_anchors",
     "reorder",
     TWO("edu_anchors", "credential_id", ""),
     SWAP_COL("edu_anchors", "credential_id", "leaf_index") ";" SWAP_COL("edu_anchors",
                                                                         "credential_id", "tx_id"),
     {"edu_anchors credential_id {1}: tx_id is", NULL},
     NULL},
    {"edu_anchors",
     "insert",
     NULL,
     "INSERT INTO edu_anchors (credential_id, hash, org, kind, tx_id, leaf_index, issued_ms) "
     "VALUES ('urn:uuid:00000000-0000-4000-8000-000000000000', sha256('fake'::bytea), 't-univ', "
     "'diploma', sha256('tx'::bytea), 5, 0)",
     {"edu_anchors credential_id urn:uuid:00000000-0000-4000-8000-000000000000: the table has",
      NULL},
     NULL},

    /* evidence_ledger_items (item.preserve, moved by custody txs) */
    {"evidence_ledger_items",
     "edit",
     TWO("evidence_ledger_items", "item_id", ""),
     "UPDATE evidence_ledger_items SET state = 'returned' WHERE item_id = '{1}'",
     {"evidence_ledger_items item_id {1}: state is returned", NULL},
     NULL},
    {"evidence_ledger_items",
     "delete",
     TWO("evidence_ledger_items", "item_id", ""),
     "DELETE FROM evidence_events WHERE item_id = '{1}'; "
     "DELETE FROM evidence_ledger_items WHERE item_id = '{1}'",
     {"evidence_ledger_items item_id {1}: missing", NULL},
     "evidence_events"},
    {"evidence_ledger_items",
     "reorder",
     TWO("evidence_ledger_items", "item_id", ""),
     SWAP_COL("evidence_ledger_items", "item_id", "sha256"),
     {"evidence_ledger_items item_id {1}: sha256 is", NULL},
     NULL},

    /* evidence_events (custody txs) */
    {"evidence_events",
     "edit",
     TWO("evidence_events", "leaf_index", ""),
     "UPDATE evidence_events SET event = 'destroyed' WHERE leaf_index = {1}",
     {"evidence_events leaf {1}: event is destroyed", NULL},
     NULL},
    {"evidence_events",
     "delete",
     TWO("evidence_events", "leaf_index", ""),
     "DELETE FROM evidence_events WHERE leaf_index = {1}",
     {"evidence_events leaf {1}: missing", NULL},
     NULL},
    {"evidence_events",
     "reorder",
     TWO("evidence_events", "leaf_index", ""),
     SWAP("evidence_events", "leaf_index", ""),
     {"evidence_events leaf {1}:", NULL},
     NULL},

    /* evidence_anchors (anchor txs) */
    {"evidence_anchors",
     "edit",
     TWO("evidence_anchors", "leaf_index", ""),
     "UPDATE evidence_anchors SET label = 'meter 9' WHERE leaf_index = {1}",
     {"evidence_anchors leaf {1}: label is meter 9", NULL},
     NULL},
    {"evidence_anchors",
     "delete",
     TWO("evidence_anchors", "leaf_index", ""),
     "DELETE FROM evidence_anchors WHERE leaf_index = {1}",
     {"evidence_anchors leaf {1}: missing", NULL},
     NULL},
    {"evidence_anchors",
     "reorder",
     TWO("evidence_anchors", "leaf_index", ""),
     SWAP_COL("evidence_anchors", "leaf_index", "sha256"),
     {"evidence_anchors leaf {1}: sha256 is", NULL},
     NULL},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Replaces {1}, {2}, {3} in fmt by v[0..2] into out. */
static void subst(const char *fmt, char v[3][160], char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = fmt; *p && n + 1 < cap; p++) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '3' && p[2] == '}') {
            n += (size_t)snprintf(out + n, cap - n, "%s", v[p[1] - '1']);
            if (n >= cap)
                n = cap - 1;
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* One connection to the working copy for picking, tampering and undoing. */
static PGconn *work;

static void work_open(const char *db)
{
    char ci[512];

    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"), db);
    work = PQconnectdb(ci);
    ck_assert_msg(PQstatus(work) == CONNECTION_OK, "%s", PQerrorMessage(work));
}

/* Runs sql (one or more statements) on the working copy; returns 0 if it succeeded. */
static int work_exec(const char *sql)
{
    PGresult *r = PQexec(work, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

    if (!ok)
        fprintf(stderr, "tamper: %s: %s", sql, PQerrorMessage(work));
    PQclear(r);
    return ok ? 0 : -1;
}

/* The pick's values on the (untampered) working copy into v (missing ones ""). */
static void pick(const struct tamper *t, char v[3][160])
{
    PGresult *r;

    memset(v, 0, 3 * 160);
    if (t->pick == NULL)
        return;
    r = PQexec(work, t->pick);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s %s: %s: %s",
                  t->table, t->kind, t->pick, PQerrorMessage(work));
    for (int i = 0; i < PQnfields(r) && i < 3; i++) {
        ck_assert_msg(!PQgetisnull(r, 0, i), "%s %s: the pick found no row", t->table, t->kind);
        snprintf(v[i], 160, "%s", PQgetvalue(r, 0, i));
    }
    PQclear(r);
}

/* Keeps table's rows in tamper_bak_<table> (restore puts them back). */
static void backup(const char *table)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "CREATE TABLE tamper_bak_%s AS SELECT * FROM %s", table, table);
    ck_assert_int_eq(work_exec(sql), 0);
}

/* Puts table's rows back as backup kept them. As the cluster's superuser the test may switch
 * off the foreign-key triggers for it: deleting a referenced row is then allowed for the
 * moment it takes to put it back. */
static void restore(const char *table)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM %1$s; "
             "INSERT INTO %1$s SELECT * FROM tamper_bak_%1$s; DROP TABLE tamper_bak_%1$s; COMMIT",
             table);
    ck_assert_msg(work_exec(sql) == 0, "restoring %s", table);
}

/* Runs one case on db (a copy of the fixture): tampers in one transaction, audits, restores.
 * Returns 1 when the report named the spot (else prints why). */
static int run_case(const char *db, const struct tamper *t)
{
    char v[3][160], sql[4096], body[3500], want[2][300], out[16384];
    int st, ok = 1;

    pick(t, v);
    backup(t->table);
    if (t->also != NULL)
        backup(t->also);
    subst(t->sql, v, body, sizeof(body));
    snprintf(sql, sizeof(sql), "BEGIN; %s; COMMIT", body);
    ck_assert_msg(work_exec(sql) == 0, "%s %s: %s", t->table, t->kind, sql);
    st = audit(db, out, sizeof(out));
    if (st != 1 || strstr(out, "INCONSISTENT") == NULL) {
        fprintf(stderr, "tamper %s %s: audit exited %d:\n%s\n", t->table, t->kind, st, out);
        ok = 0;
    }
    for (int i = 0; i < 2 && ok; i++) {
        if (t->expect[i] == NULL)
            continue;
        subst(t->expect[i], v, want[i], sizeof(want[i]));
        if (strstr(out, want[i]) == NULL) {
            fprintf(stderr, "tamper %s %s: the report does not say \"%s\":\n%s\n", t->table,
                    t->kind, want[i], out);
            ok = 0;
        }
    }
    restore(t->table);
    if (t->also != NULL)
        restore(t->also);
    return ok;
}

/* ---- the test ------------------------------------------------------------------------------- */

START_TEST(every_table_every_kind)
{
    static const char *const derived[] = {"principals",      "keys",
                                          "freezes",         "audit_anchors",
                                          "edu_anchors",     "evidence_ledger_items",
                                          "evidence_events", "evidence_anchors"};
    char out[16384], sql[256], copy[96];
    size_t named = 0;
    long long t0;

    /* the fixture is what the cases need: a clean audit, two rows or more everywhere */
    ck_assert_msg(audit(srv.dbname, out, sizeof(out)) == 0, "the untouched ledger: %s", out);
    ck_assert_msg(strstr(out, "ledger-derived tables match") != NULL, "%s", out);
    ck_assert_int_ge(count("SELECT count(*) FROM blocks"), 12);
    ck_assert_int_ge(count("SELECT count(*) FROM txs"), 24);
    ck_assert_int_ge(count("SELECT count(*) FROM audit_log"), 10);
    ck_assert_int_eq(count("SELECT count(*) FROM edu_anchors WHERE revoked_ms IS NOT NULL"), 1);
    ck_assert_int_ge(count("SELECT count(*) FROM keys WHERE revoked_leaf IS NOT NULL"), 1);
    for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", derived[i]);
        ck_assert_msg(count(sql) >= 2, "%s has fewer than two rows", derived[i]);
    }

    /* the cases work on one copy, each undoing itself; the original stays as built */
    snprintf(copy, sizeof(copy), "%s_work", srv.dbname);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %s", copy, srv.dbname);
    ck_assert_int_eq(lx_db_exec("postgres", sql), 0);
    t0 = lx_now_ms();
    work_open(copy);
    /* nobody waits for these commits to reach the disk: the copy is thrown away */
    ck_assert_int_eq(work_exec("SET synchronous_commit = off"), 0);
    for (size_t i = 0; i < N_CASES; i++)
        named += (size_t)run_case(copy, &cases[i]);
    PQfinish(work);
    fprintf(stderr, "tamper: %zu cases in %lld ms\n", (size_t)N_CASES, lx_now_ms() - t0);

    /* every undo was complete: the copy audits clean again */
    ck_assert_msg(audit(copy, out, sizeof(out)) == 0, "after the cases were undone: %s", out);
    snprintf(sql, sizeof(sql), "DROP DATABASE %s", copy);
    ck_assert_int_eq(lx_db_exec("postgres", sql), 0);
    ck_assert_msg(named == N_CASES, "tamper: %zu of %zu cases named (see above)", named,
                  (size_t)N_CASES);
    printf("tamper: %zu cases, all named\n", (size_t)N_CASES);
    fflush(stdout);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tamper");
    TCase *tc = tcase_create("tamper");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, fixture_up, fixture_down);
    tcase_add_test(tc, every_table_every_kind);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
