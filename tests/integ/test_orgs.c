/*
 * Organisations, people and roles through a real lianxind (server/admin_api.c): admission puts
 * the org and its custodial key on the ledger; after a key rotation what the old key signed
 * still verifies (bundle evidence, /api/chain/authorised) while the old key is refused; people
 * sign up with a custodial key or their own; org admins invite and grant in their own org only;
 * admin-only endpoints refuse everyone else; a refused admission leaves no key behind; and a
 * pg_dump of the database holds no password, token or private key.
 */
#define _GNU_SOURCE /* memmem */
#include "harness.h"

#include "../../chain/jcs.h"
#include "../../chain/merkle.h"

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADMIN_PW "admin-password-for-the-tests"
#define USER_PW  "user-password-42"

static struct lx_server srv;
static struct lx_cred admin;

/* ---- helpers ------------------------------------------------------------------------------- */

/* Check runs each test in a child process: what the last test must search (every answer, every
 * secret handed out) is kept in files of the server's folder. */
static void append(const char *file, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", srv.dir, file);
    f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", text);
    fclose(f);
}

static void remember(const char *secret)
{
    append("secrets.txt", secret);
}

/* One request as who (NULL: anonymous) with body (stolen, may be NULL); returns the parsed
 * answer (json_decref it) and its status in *status. */
static long long num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    ck_assert_msg(json_is_integer(v), "no integer %s", key);
    return json_integer_value(v);
}

static void login(const char *user, const char *pw, struct lx_cred *out)
{
    long status = lx_login(&srv, user, pw, out);

    ck_assert_msg(status == 200, "login %s: %ld", user, status);
}

/* Admits an org as the admin; returns the answer (json_decref it). */
static json_t *admit(const char *id, const char *name, const char *type)
{
    json_t *doc =
        lx_expect(&srv, &admin, "POST", "/api/orgs",
                  json_pack("{s:s, s:s, s:s}", "id", id, "name", name, "type", type), 201);

    ck_assert_str_eq(lx_str(doc, "id"), id);
    return doc;
}

/* The admin makes username with role in org and the password pw; signs them in. */
static void person(const char *org, const char *username, const char *role, const char *pw,
                   struct lx_cred *out)
{
    char path[128];
    long status;
    json_t *doc;

    snprintf(path, sizeof(path), "/api/orgs/%s/users", org);
    doc = lx_call(&srv, &admin, "POST", path,
                  json_pack("{s:s, s:s, s:s, s:s}", "username", username, "display_name", username,
                            "role", role, "password", pw),
                  &status);
    ck_assert_msg(status == 201 || status == 200, "invite %s: %ld", username, status);
    ck_assert_ptr_null(json_object_get(doc, "temporary_password")); /* it chose one */
    json_decref(doc);
    remember(pw);
    login(username, pw, out);
}

static char *db_value(const char *sql, const char *param)
{
    const char *params[1] = {param};

    return lx_db_value(srv.dbname, sql, param ? 1 : 0, params);
}

static long long db_count(const char *sql, const char *param)
{
    char *v = db_value(sql, param);
    long long n;

    ck_assert_ptr_nonnull(v);
    n = atoll(v);
    free(v);
    return n;
}

/* ---- custodial keys, unsealed the way custody.c seals them --------------------------------- */

struct ckey {
    uint8_t pk[32];     /* public key */
    uint8_t seed[32];   /* Ed25519 seed */
    uint8_t sk[64];     /* libsodium secret key (seed || pk) */
    int retired;        /* retired_at is set */
    char principal[72]; /* owner */
};

static void master_key(const struct lx_server *s, uint8_t key[32])
{
    char path[512], *text;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/data/master.key", s->dir);
    text = lx_read_file(path);
    ck_assert_msg(text != NULL, "no master key at %s", path);
    ck_assert_int_eq(sodium_base642bin(key, 32, text, strlen(text), "\n", &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    ck_assert_uint_eq(n, 32);
    sodium_memzero(text, strlen(text));
    free(text);
}

/* Unseals the custodial keys of principal ("" for all), oldest first; returns how many. */
static size_t custody(const struct lx_server *s, const char *principal, struct ckey *out,
                      size_t cap)
{
    char ci[512];
    const char *params[1] = {principal};
    uint8_t key[32], sealed[256];
    PGconn *c;
    PGresult *r;
    size_t n = 0;

    master_key(s, key);
    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"),
             s->dbname);
    c = PQconnectdb(ci);
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    r = PQexecParams(c,
                     "SELECT encode(pubkey, 'hex'), encode(sealed, 'hex'), principal, "
                     "retired_at IS NOT NULL FROM custody_keys WHERE $1 = '' OR principal = $1 "
                     "ORDER BY created_at, pubkey",
                     1, NULL, params, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(r) && n < cap; i++, n++) {
        struct ckey *k = &out[n];
        uint8_t pk[32];
        size_t len = 0;

        ck_assert_int_eq(sodium_hex2bin(k->pk, 32, PQgetvalue(r, i, 0), 64, NULL, NULL, NULL), 0);
        ck_assert_int_eq(sodium_hex2bin(sealed, sizeof(sealed), PQgetvalue(r, i, 1),
                                        strlen(PQgetvalue(r, i, 1)), NULL, &len, NULL),
                         0);
        ck_assert_uint_eq(len, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 32);
        ck_assert_int_eq(crypto_secretbox_open_easy(k->seed, sealed + crypto_secretbox_NONCEBYTES,
                                                    len - crypto_secretbox_NONCEBYTES, sealed, key),
                         0);
        crypto_sign_seed_keypair(pk, k->sk, k->seed);
        ck_assert_mem_eq(pk, k->pk, 32); /* the row's public key is the sealed seed's */
        k->retired = strcmp(PQgetvalue(r, i, 3), "t") == 0;
        snprintf(k->principal, sizeof(k->principal), "%s", PQgetvalue(r, i, 2));
    }
    PQclear(r);
    PQfinish(c);
    sodium_memzero(key, sizeof(key));
    return n;
}

static void b64(const uint8_t *bin, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

/* ---- verifying a bundle (docs/LEDGER.md §7) ------------------------------------------------ */

static void hash_b64(const json_t *v, uint8_t out[CHAIN_HASH_LEN])
{
    const char *s = json_string_value(v);

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(chain_b64_decode_exact(s, strlen(s), out, CHAIN_HASH_LEN), 0);
}

static void open_checkpoint(const char *note, struct chain_checkpoint *cp)
{
    struct chain_note_verifier known[8];
    struct chain_note_opened op;
    struct lx_resp r;
    size_t n = 0;

    lx_http(&srv, "GET", "/api/chain/keys", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    for (char *line = strtok(r.body, "\n"); line != NULL && n < 8; line = strtok(NULL, "\n"))
        ck_assert_int_eq(chain_note_verifier_parse(line, &known[n++]), 0);
    lx_resp_free(&r);
    ck_assert_int_eq(chain_note_open(note, strlen(note), known, n, &op), 0);
    ck_assert_uint_ge(op.n_valid, 1);
    ck_assert_int_eq(chain_checkpoint_parse(op.text, op.text_len, cp), 0);
}

/* Checks that tx (an envelope) hashes to the proof's leaf, is signed by its signer, and is leaf
 * proof.leaf_index of the tree cp commits to. */
static void check_included(const json_t *tx, const json_t *proof, const struct chain_checkpoint *cp)
{
    uint8_t leaf_hash[CHAIN_HASH_LEN], mine[CHAIN_HASH_LEN];
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    const json_t *arr = json_object_get(proof, "path");
    struct chain_tx *parsed = NULL;
    size_t len;
    char *jcs;

    ck_assert_int_eq(chain_tx_from_json(tx, &parsed), 0);
    ck_assert_int_eq(chain_tx_verify_sig(parsed), 0);
    chain_tx_free(parsed);
    ck_assert_int_eq((uint64_t)num(proof, "tree_size"), cp->size);
    hash_b64(json_object_get(proof, "leaf_hash"), leaf_hash);
    ck_assert_int_eq(chain_jcs_dump(tx, &jcs, &len), 0);
    chain_merkle_leaf_hash((const uint8_t *)jcs, len, mine);
    free(jcs);
    ck_assert_mem_eq(mine, leaf_hash, CHAIN_HASH_LEN);
    ck_assert_uint_le(json_array_size(arr), CHAIN_MERKLE_MAX_PATH);
    for (size_t i = 0; i < json_array_size(arr); i++)
        hash_b64(json_array_get(arr, i), path[i]);
    ck_assert_int_eq(chain_merkle_inclusion_verify(
                         (uint64_t)num(proof, "leaf_index"), cp->size, leaf_hash,
                         (const uint8_t(*)[CHAIN_HASH_LEN])path, json_array_size(arr), cp->root),
                     0);
}

/* GET /api/chain/authorised for key pk (base64), principal p, leaf at: 1 or 0. */
static int authorised(const char *pk, const char *p, long long at)
{
    char path[256], enc[128];
    long status;
    json_t *doc;
    int yes;
    CURL *curl = curl_easy_init();
    char *esc = curl_easy_escape(curl, pk, 0);

    snprintf(enc, sizeof(enc), "%s", esc);
    curl_free(esc);
    curl_easy_cleanup(curl);
    snprintf(path, sizeof(path), "/api/chain/authorised?key=%s&principal=%s&at=%lld", enc, p, at);
    doc = lx_call(&srv, NULL, "GET", path, NULL, &status);
    ck_assert_int_eq(status, 200);
    yes = json_is_true(json_object_get(doc, "authorised"));
    json_decref(doc);
    return yes;
}

static json_t *key_op(const struct chain_note_signer *signer, const char *org, const char *type,
                      const char *key_b64)
{
    return lx_tx(signer, "core", type, org,
                 json_pack("{s:s, s:s}", "principal", org, "key", key_b64));
}

/* Submits tx (stolen); returns the answer (json_decref it) and the status. */
static json_t *submit(json_t *tx, long *status)
{
    struct lx_resp r;
    json_t *doc;

    lx_submit(&srv, tx, &r);
    *status = r.status;
    doc = json_loads(r.body, 0, NULL);
    ck_assert_msg(doc != NULL, "not JSON: %s", r.body);
    lx_resp_free(&r);
    json_decref(tx);
    return doc;
}

/* ---- fixture ------------------------------------------------------------------------------- */

static void start(void)
{
    memset(&srv, 0, sizeof(srv));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1); /* lianxind inherits it */
    lx_server_start(&srv, NULL);
    snprintf(lx_answers_file, sizeof(lx_answers_file), "%s/answers.txt", srv.dir);
    login("admin", ADMIN_PW, &admin);
    remember(ADMIN_PW);
}

static void stop(void)
{
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

/* ---- the tests ----------------------------------------------------------------------------- */

START_TEST(admission_on_ledger)
{
    json_t *doc = admit("uni-a", "示范大学甲", "university"), *list, *org, *o;
    char path[160], *key;
    size_t found = 0;

    ck_assert_str_eq(lx_str(doc, "name"), "示范大学甲");
    ck_assert_str_eq(lx_str(doc, "type"), "university");
    ck_assert_int_eq(strlen(lx_str(doc, "tx_id")), 64);
    ck_assert_int_ge(num(doc, "height"), 1);
    /* the key is the org's on the ledger, and it is custodial */
    key = db_value("SELECT encode(pubkey, 'base64') FROM keys WHERE principal = $1", "uni-a");
    ck_assert_str_eq(key, lx_str(doc, "public_key"));
    free(key);
    ck_assert_int_eq(db_count("SELECT count(*) FROM custody_keys WHERE principal = $1 "
                              "AND retired_at IS NULL",
                              "uni-a"),
                     1);
    snprintf(path, sizeof(path), "/api/chain/tx/%s", lx_str(doc, "tx_id"));
    o = lx_expect(&srv, NULL, "GET", path, NULL, 200);
    ck_assert_int_eq(num(o, "leaf_index"), num(doc, "leaf_index"));
    json_decref(o);
    /* the block writes principals in COPY's binary format: a name with what the text format
     * escapes (tab, newline, backslash) arrives as it was sent */
    json_decref(admit("law-b", "Tab\tNew\nBack\\slash 律所", "law_firm"));
    key = db_value("SELECT name FROM principals WHERE id = $1", "law-b");
    ck_assert_str_eq(key, "Tab\tNew\nBack\\slash 律所");
    free(key);
    /* the lists */
    list = lx_expect(&srv, &admin, "GET", "/api/orgs", NULL, 200);
    for (size_t i = 0; i < json_array_size(json_object_get(list, "orgs")); i++) {
        o = json_array_get(json_object_get(list, "orgs"), i);
        if (strcmp(lx_str(o, "id"), "uni-a") == 0) {
            found++;
            ck_assert_int_eq(num(o, "active_keys"), 1);
            ck_assert_int_eq(num(o, "leaf_index"), num(doc, "leaf_index"));
        }
    }
    ck_assert_uint_eq(found, 1);
    org = lx_expect(&srv, &admin, "GET", "/api/orgs/uni-a", NULL, 200);
    o = json_array_get(json_object_get(org, "keys"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(org, "keys")), 1);
    ck_assert_str_eq(lx_str(o, "key"), lx_str(doc, "public_key"));
    ck_assert_str_eq(lx_str(o, "added_tx"), lx_str(doc, "tx_id"));
    ck_assert(json_is_true(json_object_get(o, "custodial")));
    ck_assert(json_is_true(json_object_get(o, "active")));
    ck_assert(json_is_null(json_object_get(o, "revoked_leaf")));
    json_decref(org);
    json_decref(list);
    /* refusals, and none of them changed anything */
    lx_expect_error(&srv, &admin, "POST", "/api/orgs",
                    json_pack("{s:s, s:s, s:s}", "id", "uni-a", "name", "Again", "type", "court"),
                    409, "principal_exists");
    lx_expect_error(&srv, &admin, "POST", "/api/orgs",
                    json_pack("{s:s, s:s, s:s}", "id", "bakery-a", "name", "B", "type", "bakery"),
                    422, "invalid_body");
    lx_expect_error(&srv, &admin, "POST", "/api/orgs",
                    json_pack("{s:s, s:s, s:s}", "id", "Bad Id", "name", "B", "type", "court"), 422,
                    "invalid_body");
    lx_expect_error(&srv, &admin, "POST", "/api/orgs",
                    json_pack("{s:s, s:s, s:s}", "id", "admin", "name", "B", "type", "court"), 422,
                    "invalid_body");
    lx_expect_error(&srv, &admin, "POST", "/api/orgs",
                    json_pack("{s:s, s:s}", "id", "x-a", "name", "X"), 400, "bad_parameter");
    lx_expect_error(&srv, &admin, "GET", "/api/orgs/no-such-org", NULL, 404, "not_found");
    ck_assert_int_eq(db_count("SELECT count(*) FROM custody_keys WHERE principal = $1", "uni-a"),
                     1);
    ck_assert_int_eq(db_count("SELECT count(*) FROM principals WHERE id IN ('bakery-a', 'x-a') "
                              "OR id = $1",
                              "Bad Id"),
                     0);
    json_decref(doc);
}
END_TEST

START_TEST(rotation_keeps_old_records)
{
    json_t *doc = admit("court-a", "示范法院甲", "court"), *rot, *bundle, *ev, *org, *o;
    struct chain_note_signer org_key, extra;
    struct lx_cred ca, cb;
    struct chain_checkpoint cp;
    struct ckey k[4];
    char old_pub[64], extra_pub[64], tx_id[65], path[160], new_pub[64];
    long long leaf, revoke_leaf, status_leaf;
    int saw_register = 0, saw_revoke = 0;
    long status;

    snprintf(old_pub, sizeof(old_pub), "%s", lx_str(doc, "public_key"));
    json_decref(doc);
    /* a record the org signs with its custodial key before the rotation */
    ck_assert_uint_eq(custody(&srv, "court-a", k, 4), 1);
    ck_assert_int_eq(chain_note_signer_from_sk("court-a", k[0].sk, &org_key), 0);
    lx_keygen("extra", &extra);
    lx_pub_b64(&extra, extra_pub, sizeof(extra_pub));
    doc = submit(key_op(&org_key, "court-a", "key.add", extra_pub), &status);
    ck_assert_msg(status == 200, "signed by the org: %ld", status);
    leaf = num(doc, "leaf_index");
    snprintf(tx_id, sizeof(tx_id), "%s", lx_str(doc, "tx_id"));
    json_decref(doc);

    /* the org's admin rotates; another org's admin may not */
    person("court-a", "court.admin", "org_admin", USER_PW, &ca);
    json_decref(admit("court-b", "示范法院乙", "court"));
    person("court-b", "courtb.admin", "org_admin", USER_PW, &cb);
    lx_expect_error(&srv, &cb, "POST", "/api/orgs/court-a/keys/rotate", NULL, 403, "forbidden");
    rot = lx_expect(&srv, &ca, "POST", "/api/orgs/court-a/keys/rotate", NULL, 200);
    ck_assert_str_eq(lx_str(rot, "old_key"), old_pub);
    ck_assert_str_ne(lx_str(rot, "new_key"), old_pub);
    snprintf(new_pub, sizeof(new_pub), "%s", lx_str(rot, "new_key"));
    ck_assert_int_gt(num(rot, "add_leaf_index"), leaf);
    ck_assert_int_gt(num(rot, "revoke_leaf_index"), num(rot, "add_leaf_index"));
    revoke_leaf = num(rot, "revoke_leaf_index");

    /* the earlier record still verifies offline: its bundle proves the old key was added
     * before it and revoked only after it */
    snprintf(path, sizeof(path), "/api/chain/bundle/%s", tx_id);
    bundle = lx_expect(&srv, NULL, "GET", path, NULL, 200);
    open_checkpoint(lx_str(bundle, "checkpoint"), &cp);
    check_included(json_object_get(bundle, "tx"), json_object_get(bundle, "proof"), &cp);
    ev = json_object_get(bundle, "key_evidence");
    for (size_t i = 0; i < json_array_size(ev); i++) {
        json_t *e = json_array_get(ev, i), *tx = json_object_get(e, "tx");
        json_t *body = json_object_get(tx, "body");
        const char *type = lx_str(tx, "type");
        const char *key = json_string_value(json_object_get(body, "key"));

        check_included(tx, json_object_get(e, "proof"), &cp);
        if (strcmp(type, "org.register") == 0 && key && strcmp(key, old_pub) == 0) {
            saw_register = 1;
            ck_assert_int_lt(num(e, "leaf_index"), leaf);
        }
        if (strcmp(type, "key.revoke") == 0 && key && strcmp(key, old_pub) == 0) {
            saw_revoke = 1;
            ck_assert_int_eq(num(e, "leaf_index"), revoke_leaf);
            ck_assert_str_eq(lx_str(e, "tx_id"), lx_str(rot, "revoke_tx_id"));
        }
    }
    ck_assert_msg(saw_register && saw_revoke, "evidence lacks the old key's history: %s",
                  json_dumps(ev, JSON_COMPACT));
    json_decref(bundle);
    ck_assert_int_eq(authorised(old_pub, "court-a", leaf), 1);
    ck_assert_int_eq(authorised(old_pub, "court-a", revoke_leaf + 1), 0);
    ck_assert_int_eq(authorised(new_pub, "court-a", revoke_leaf + 1), 1);

    /* the old key signs no more */
    lx_keygen("late", &extra);
    lx_pub_b64(&extra, extra_pub, sizeof(extra_pub));
    doc = submit(key_op(&org_key, "court-a", "key.add", extra_pub), &status);
    ck_assert_int_eq(status, 409);
    ck_assert_str_eq(lx_err_code(doc), "key_revoked");
    json_decref(doc);

    /* custody: the old key retired, the new one signs */
    ck_assert_uint_eq(custody(&srv, "court-a", k, 4), 2);
    ck_assert(k[0].retired && !k[1].retired);
    org = lx_expect(&srv, &admin, "GET", "/api/orgs/court-a", NULL, 200);
    for (size_t i = 0; i < json_array_size(json_object_get(org, "keys")); i++) {
        o = json_array_get(json_object_get(org, "keys"), i);
        if (strcmp(lx_str(o, "key"), old_pub) == 0) {
            ck_assert(json_is_false(json_object_get(o, "active")));
            ck_assert_str_eq(lx_str(o, "revoked_tx"), lx_str(rot, "revoke_tx_id"));
        }
        if (strcmp(lx_str(o, "key"), new_pub) == 0) {
            ck_assert(json_is_true(json_object_get(o, "active")));
            ck_assert(json_is_true(json_object_get(o, "custodial")));
            ck_assert_str_eq(lx_str(o, "added_tx"), lx_str(rot, "add_tx_id"));
        }
    }
    json_decref(org);
    json_decref(rot);

    /* and a second rotation starts from the new key */
    rot = lx_expect(&srv, &admin, "POST", "/api/orgs/court-a/keys/rotate", NULL, 200);
    ck_assert_str_eq(lx_str(rot, "old_key"), new_pub);
    status_leaf = num(rot, "revoke_leaf_index");
    ck_assert_int_eq(authorised(new_pub, "court-a", status_leaf), 1);
    ck_assert_int_eq(authorised(new_pub, "court-a", status_leaf + 1), 0);
    json_decref(rot);
    /* an org whose keys are not custodial has nothing to rotate */
    lx_org_add(&srv, "own-keys", "notary");
    lx_expect_error(&srv, &admin, "POST", "/api/orgs/own-keys/keys/rotate", NULL, 409,
                    "no_custodial_key");
    lx_expect_error(&srv, &admin, "POST", "/api/orgs/nobody/keys/rotate", NULL, 404, "not_found");
}
END_TEST

/* Signs up username (principal id) with a key of its own; returns the tx it must sign. */
static json_t *signup_pending(const char *username, const char *id, const char *pub)
{
    json_t *doc = lx_expect(&srv, NULL, "POST", "/api/auth/signup",
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "username", username, "password",
                                      USER_PW, "type", "donor", "id", id, "public_key", pub),
                            201);
    json_t *tx = json_deep_copy(json_object_get(doc, "tx"));

    ck_assert_str_eq(lx_str(doc, "status"), "pending");
    json_decref(doc);
    return tx;
}

/* The principal username's account is linked to, "" when none. */
static void expect_linked(const char *username, const char *principal)
{
    struct lx_cred who;
    json_t *me;

    login(username, USER_PW, &who);
    me = lx_expect(&srv, &who, "GET", "/api/auth/me", NULL, 200);
    ck_assert_str_eq(lx_str(me, "principal"), principal);
    json_decref(me);
}

/* Two accounts wait on one block: the one whose own key registers its id is linked; the other,
 * whose id someone else registers first with another key, stays unlinked. The link is made
 * once per statement over the block's new keys (032_keys_link_per_statement.sql), so both
 * conditions of its join are held here with several keys in one statement. */
static void link_in_one_block(void)
{
    struct chain_note_signer zhao, qian, squatter;
    char zpub[64], qpub[64], spub[64];
    json_t *ztx, *qtx, *batch;
    struct lx_resp r;

    lx_keygen("zhao", &zhao);
    lx_keygen("qian", &qian);
    lx_keygen("squatter", &squatter);
    lx_pub_b64(&zhao, zpub, sizeof(zpub));
    lx_pub_b64(&qian, qpub, sizeof(qpub));
    lx_pub_b64(&squatter, spub, sizeof(spub));
    ztx = signup_pending("zhao.lei", "zhao-lei", zpub);
    qtx = signup_pending("qian.fang", "qian-fang", qpub);
    ck_assert_int_eq(chain_tx_sign(ztx, zhao.sk), 0);
    /* the squatter takes qian's tx and puts its own key in */
    json_object_set_new(qtx, "signer", json_string(spub));
    json_object_set_new(json_object_get(qtx, "body"), "key", json_string(spub));
    ck_assert_int_eq(chain_tx_sign(qtx, squatter.sk), 0);
    batch = json_pack("[o, o]", ztx, qtx);
    lx_submit(&srv, batch, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    lx_resp_free(&r);
    json_decref(batch);
    /* both registrations committed, in one block */
    ck_assert_int_eq(db_count("SELECT count(*) * 10 + count(DISTINCT t.height) FROM keys k "
                              "JOIN txs t ON t.leaf_index = k.added_leaf "
                              "WHERE k.principal IN ($1, 'qian-fang')",
                              "zhao-lei"),
                     21);
    expect_linked("zhao.lei", "zhao-lei");
    expect_linked("qian.fang", "");
}

/* The database holds no key without its principal (033_keys_principal_check.sql): writes that
 * would leave one fail as a foreign key would, with SQLSTATE 23503, and change nothing. */
static void expect_sqlstate(const char *sql, const char *want)
{
    char state[6];

    lx_db_sqlstate(srv.dbname, sql, state);
    ck_assert_msg(strcmp(state, want) == 0, "%s: SQLSTATE '%s', expected '%s'", sql, state, want);
}

static void keys_need_principals(void)
{
    long long keys = db_count("SELECT count(*) FROM keys WHERE $1 <> ''", "x");

    expect_sqlstate("INSERT INTO keys (pubkey, principal, added_leaf) VALUES "
                    "(decode(repeat('ab', 32), 'hex'), 'zhao-lei', 1), "
                    "(decode(repeat('cd', 32), 'hex'), 'nobody-here', 1)",
                    "23503");
    ck_assert_int_eq(db_count("SELECT count(*) FROM keys WHERE $1 <> ''", "x"), keys);
    expect_sqlstate("UPDATE keys SET principal = 'nobody-here' WHERE principal = 'zhao-lei'",
                    "23503");
    expect_sqlstate("DELETE FROM principals WHERE id = 'zhao-lei'", "23503");
    expect_sqlstate("UPDATE principals SET id = 'zhao-lei-2' WHERE id = 'zhao-lei'", "23503");
    ck_assert_int_eq(db_count("SELECT count(*) FROM keys WHERE principal = $1", "zhao-lei"), 1);
    /* a principal no key names may go, and a key may name a principal added with it */
    expect_sqlstate("BEGIN; "
                    "INSERT INTO principals (id, kind, type, leaf_index) "
                    "VALUES ('lonely', 'individual', 'student', 1), "
                    "('paired', 'individual', 'student', 1); "
                    "INSERT INTO keys (pubkey, principal, added_leaf) "
                    "VALUES (decode(repeat('ef', 32), 'hex'), 'paired', 1); "
                    "DELETE FROM principals WHERE id = 'lonely'; ROLLBACK",
                    "");
}

START_TEST(individuals_sign_up)
{
    struct chain_note_signer mine;
    struct lx_cred li, han;
    struct ckey k[2];
    char path[160], pub[64];
    json_t *doc, *tx, *me;
    long status;

    /* custodial: the principal is on the ledger at once */
    doc = lx_expect(
        &srv, NULL, "POST", "/api/auth/signup",
        json_pack("{s:s, s:s, s:s}", "username", "li.lei", "password", USER_PW, "type", "student"),
        201);
    remember(USER_PW);
    ck_assert_str_eq(lx_str(doc, "principal"), "li.lei");
    ck_assert_str_eq(lx_str(doc, "status"), "registered");
    snprintf(path, sizeof(path), "/api/chain/tx/%s", lx_str(doc, "tx_id"));
    ck_assert_uint_eq(custody(&srv, "li.lei", k, 2), 1);
    b64(k[0].pk, 32, pub, sizeof(pub));
    ck_assert_str_eq(lx_str(doc, "public_key"), pub);
    json_decref(doc);
    doc = lx_expect(&srv, NULL, "GET", path, NULL, 200);
    tx = json_object_get(doc, "tx");
    ck_assert_str_eq(lx_str(tx, "type"), "principal.register");
    ck_assert_str_eq(lx_str(tx, "signer"), pub);
    json_decref(doc);
    ck_assert_int_eq(db_count("SELECT count(*) FROM principals WHERE id = $1 "
                              "AND kind = 'individual' AND type = 'student'",
                              "li.lei"),
                     1);
    login("li.lei", USER_PW, &li);
    me = lx_expect(&srv, &li, "GET", "/api/auth/me", NULL, 200);
    ck_assert_str_eq(lx_str(me, "principal"), "li.lei");
    json_decref(me);

    /* own key: pending until the self-signed registration commits */
    lx_keygen("han", &mine);
    lx_pub_b64(&mine, pub, sizeof(pub));
    doc = lx_expect(&srv, NULL, "POST", "/api/auth/signup",
                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "username", "han.mei", "password",
                              USER_PW, "type", "author", "id", "han-mei", "public_key", pub),
                    201);
    ck_assert_str_eq(lx_str(doc, "status"), "pending");
    ck_assert_str_eq(lx_str(doc, "principal"), "han-mei");
    login("han.mei", USER_PW, &han);
    me = lx_expect(&srv, &han, "GET", "/api/auth/me", NULL, 200);
    ck_assert_str_eq(lx_str(me, "principal"), "");
    json_decref(me);
    tx = json_deep_copy(json_object_get(doc, "tx"));
    json_decref(doc);
    ck_assert_str_eq(lx_str(tx, "signer"), pub);
    ck_assert_str_eq(lx_str(json_object_get(tx, "body"), "key"), pub);
    ck_assert_int_eq(chain_tx_sign(tx, mine.sk), 0);
    doc = submit(tx, &status);
    ck_assert_int_eq(status, 200);
    json_decref(doc);
    me = lx_expect(&srv, &han, "GET", "/api/auth/me", NULL, 200);
    ck_assert_str_eq(lx_str(me, "principal"), "han-mei");
    json_decref(me);
    ck_assert_uint_eq(custody(&srv, "han-mei", k, 2), 0); /* we never held that key */
    link_in_one_block();
    keys_need_principals();

    /* refusals change nothing */
    lx_expect_error(
        &srv, NULL, "POST", "/api/auth/signup",
        json_pack("{s:s, s:s, s:s}", "username", "Li", "password", USER_PW, "type", "student"), 422,
        "invalid_username");
    lx_expect_error(
        &srv, NULL, "POST", "/api/auth/signup",
        json_pack("{s:s, s:s, s:s}", "username", "ab", "password", USER_PW, "type", "student"), 422,
        "invalid_username");
    lx_expect_error(
        &srv, NULL, "POST", "/api/auth/signup",
        json_pack("{s:s, s:s, s:s}", "username", "wang.wu", "password", "short", "type", "student"),
        422, "weak_password");
    lx_expect_error(
        &srv, NULL, "POST", "/api/auth/signup",
        json_pack("{s:s, s:s, s:s}", "username", "wang.wu", "password", USER_PW, "type", "judge"),
        422, "invalid_body");
    lx_expect_error(&srv, NULL, "POST", "/api/auth/signup",
                    json_pack("{s:s, s:s, s:s, s:s}", "username", "wang.wu", "password", USER_PW,
                              "type", "donor", "public_key", "bm90IGEga2V5"),
                    422, "invalid_body");
    lx_expect_error(&srv, NULL, "POST", "/api/auth/signup",
                    json_pack("{s:s, s:s}", "username", "wang.wu", "type", "donor"), 400,
                    "bad_parameter");
    lx_expect_error(
        &srv, NULL, "POST", "/api/auth/signup",
        json_pack("{s:s, s:s, s:s}", "username", "li.lei", "password", USER_PW, "type", "donor"),
        409, "username_taken");
    lx_expect_error(&srv, NULL, "POST", "/api/auth/signup",
                    json_pack("{s:s, s:s, s:s, s:s}", "username", "wang.wu", "password", USER_PW,
                              "type", "donor", "id", "li.lei"),
                    409, "principal_exists");
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE username = $1", "wang.wu"), 0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM custody_keys WHERE principal = $1", "wang.wu"),
                     0);
}
END_TEST

START_TEST(invite_and_roles)
{
    struct lx_cred pa, editor, pa2, reg;
    json_t *doc, *users;
    const char *temp;
    char temp_pw[64];
    int found = 0;

    json_decref(admit("pub-a", "示范出版社甲", "publisher"));
    json_decref(admit("pub-b", "示范出版社乙", "publisher"));
    /* the admin invites an org admin: a temporary password, shown once */
    doc = lx_expect(&srv, &admin, "POST", "/api/orgs/pub-a/users",
                    json_pack("{s:s, s:s, s:s}", "username", "pa.admin", "display_name", "甲管理员",
                              "role", "org_admin"),
                    201);
    temp = lx_str(doc, "temporary_password");
    ck_assert_uint_ge(strlen(temp), 20);
    snprintf(temp_pw, sizeof(temp_pw), "%s", temp);
    remember(temp_pw);
    json_decref(doc);
    login("pa.admin", temp_pw, &pa);

    /* who acts in their own org: invites, grants, lists */
    doc = lx_expect(&srv, &pa, "POST", "/api/orgs/pub-a/users",
                    json_pack("{s:s, s:s, s:s}", "username", "pa.editor", "display_name", "编辑",
                              "role", "issuer"),
                    201);
    snprintf(temp_pw, sizeof(temp_pw), "%s", lx_str(doc, "temporary_password"));
    remember(temp_pw);
    json_decref(doc);
    login("pa.editor", temp_pw, &editor);
    doc = lx_expect(&srv, &pa, "POST", "/api/orgs/pub-a/roles",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "member"), 201);
    json_decref(doc);
    doc = lx_expect(&srv, &pa, "POST", "/api/orgs/pub-a/roles",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "member"), 200);
    ck_assert(json_is_false(json_object_get(doc, "granted")));
    json_decref(doc);
    users = lx_expect(&srv, &pa, "GET", "/api/orgs/pub-a/users", NULL, 200);
    for (size_t i = 0; i < json_array_size(json_object_get(users, "users")); i++) {
        json_t *u = json_array_get(json_object_get(users, "users"), i);

        if (strcmp(lx_str(u, "username"), "pa.editor") == 0) {
            found = 1;
            ck_assert_uint_eq(json_array_size(json_object_get(u, "roles")), 2);
            ck_assert_str_eq(json_string_value(json_array_get(json_object_get(u, "roles"), 0)),
                             "issuer");
        }
    }
    ck_assert(found);
    json_decref(users);
    doc = lx_expect(&srv, &editor, "GET", "/api/auth/me", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "roles")), 2);
    json_decref(doc);

    /* an invited org admin can sign in with the temporary password and act */
    doc = lx_expect(&srv, &pa, "POST", "/api/orgs/pub-a/users",
                    json_pack("{s:s, s:s, s:s}", "username", "pa.admin2", "display_name", "",
                              "role", "org_admin"),
                    201);
    snprintf(temp_pw, sizeof(temp_pw), "%s", lx_str(doc, "temporary_password"));
    remember(temp_pw);
    json_decref(doc);
    login("pa.admin2", temp_pw, &pa2);
    json_decref(lx_expect(&srv, &pa2, "POST", "/api/orgs/pub-a/roles",
                          json_pack("{s:s, s:s}", "username", "pa.editor", "role", "auditor"),
                          201));
    json_decref(lx_expect(&srv, &pa2, "POST", "/api/orgs/pub-a/keys/rotate", NULL, 200));

    /* ... but only in their own org */
    lx_expect_error(&srv, &pa, "POST", "/api/orgs/pub-b/roles",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "org_admin"), 403,
                    "forbidden");
    lx_expect_error(&srv, &pa, "POST", "/api/orgs/pub-b/users",
                    json_pack("{s:s, s:s}", "username", "pb.someone", "role", "member"), 403,
                    "forbidden");
    lx_expect_error(&srv, &pa, "DELETE", "/api/orgs/pub-b/roles?username=pa.editor&role=member",
                    NULL, 403, "forbidden");
    lx_expect_error(&srv, &pa, "GET", "/api/orgs/pub-b/users", NULL, 403, "forbidden");
    /* a body naming another org than the path is refused before anything happens */
    lx_expect_error(
        &srv, &pa, "POST", "/api/orgs/pub-a/roles",
        json_pack("{s:s, s:s, s:s}", "org", "pub-b", "username", "pa.editor", "role", "org_admin"),
        400, "bad_parameter");
    ck_assert_int_eq(db_count("SELECT count(*) FROM roles WHERE org = 'pub-b' AND user_id = "
                              "(SELECT id FROM users WHERE username = $1)",
                              "pa.editor"),
                     0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE username = $1", "pb.someone"), 0);
    /* an issuer is no org admin; only the administrator chooses passwords */
    lx_expect_error(&srv, &editor, "POST", "/api/orgs/pub-a/roles",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "org_admin"), 403,
                    "forbidden");
    lx_expect_error(&srv, &pa, "POST", "/api/orgs/pub-a/users",
                    json_pack("{s:s, s:s, s:s}", "username", "pa.chosen", "role", "member",
                              "password", "chosen-by-an-org-admin"),
                    403, "forbidden");
    lx_expect_error(&srv, &pa, "POST", "/api/orgs/pub-a/roles",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "emperor"), 422,
                    "invalid_body");
    lx_expect_error(&srv, &pa, "POST", "/api/orgs/pub-a/roles",
                    json_pack("{s:s, s:s}", "username", "nobody.here", "role", "member"), 404,
                    "unknown_user");

    /* revoking */
    json_decref(lx_expect(&srv, &pa, "DELETE",
                          "/api/orgs/pub-a/roles?username=pa.editor&role=member", NULL, 200));
    lx_expect_error(&srv, &pa, "DELETE", "/api/orgs/pub-a/roles?username=pa.editor&role=member",
                    NULL, 404, "not_found");
    json_decref(lx_expect(&srv, &pa, "DELETE",
                          "/api/orgs/pub-a/roles?username=pa.admin2&role=org_admin", NULL, 200));
    lx_expect_error(&srv, &pa, "DELETE", "/api/orgs/pub-a/roles?username=pa.admin&role=org_admin",
                    NULL, 409, "last_org_admin");
    lx_expect_error(&srv, &pa2, "POST", "/api/orgs/pub-a/roles",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "member"), 403,
                    "forbidden");

    /* the admin invites an existing user into another org: a role, no new account */
    doc = lx_expect(&srv, &admin, "POST", "/api/orgs/pub-b/users",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "member"), 200);
    ck_assert(json_is_false(json_object_get(doc, "created")));
    ck_assert_ptr_null(json_object_get(doc, "temporary_password"));
    json_decref(doc);

    /* a regulator: made by the admin, reads any org's people, changes nothing */
    doc = lx_expect(&srv, &admin, "POST", "/api/users",
                    json_pack("{s:s, s:s, s:s}", "username", "reg.one", "node_role", "regulator",
                              "display_name", "监管员"),
                    201);
    snprintf(temp_pw, sizeof(temp_pw), "%s", lx_str(doc, "temporary_password"));
    remember(temp_pw);
    json_decref(doc);
    login("reg.one", temp_pw, &reg);
    json_decref(lx_expect(&srv, &reg, "GET", "/api/orgs/pub-a/users", NULL, 200));
    lx_expect_error(&srv, &reg, "POST", "/api/orgs/pub-a/roles",
                    json_pack("{s:s, s:s}", "username", "pa.editor", "role", "member"), 403,
                    "forbidden");
    lx_expect_error(&srv, &admin, "POST", "/api/users",
                    json_pack("{s:s, s:s}", "username", "reg.one", "node_role", "regulator"), 409,
                    "username_taken");
    lx_expect_error(&srv, &admin, "POST", "/api/users",
                    json_pack("{s:s, s:s}", "username", "root.two", "node_role", "admin"), 422,
                    "invalid_body");
    users = lx_expect(&srv, &admin, "GET", "/api/users", NULL, 200);
    found = 0;
    for (size_t i = 0; i < json_array_size(json_object_get(users, "users")); i++) {
        json_t *u = json_array_get(json_object_get(users, "users"), i);

        if (strcmp(lx_str(u, "username"), "reg.one") == 0)
            found = strcmp(lx_str(u, "node_role"), "regulator") == 0;
        ck_assert_ptr_null(json_object_get(u, "password_hash"));
    }
    ck_assert(found);
    json_decref(users);
}
END_TEST

START_TEST(admin_only_endpoints)
{
    static const char *const routes[][2] = {
        {"POST", "/api/orgs"}, {"GET", "/api/users"}, {"POST", "/api/users"}};
    struct lx_cred oa, reg;
    json_t *body;

    json_decref(admit("charity-a", "示范基金会甲", "charity"));
    person("charity-a", "ca.admin", "org_admin", USER_PW, &oa);
    json_decref(lx_expect(&srv, &admin, "POST", "/api/users",
                          json_pack("{s:s, s:s, s:s}", "username", "reg.two", "node_role",
                                    "regulator", "password", USER_PW),
                          201));
    login("reg.two", USER_PW, &reg);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        body = strcmp(routes[i][0], "POST") == 0
                   ? json_pack("{s:s, s:s, s:s, s:s}", "id", "sneaky", "name", "S", "type", "court",
                               "username", "sneaky")
                   : NULL;
        lx_expect_error(&srv, NULL, routes[i][0], routes[i][1], body ? json_incref(body) : NULL,
                        401, "login_required");
        lx_expect_error(&srv, &oa, routes[i][0], routes[i][1], body ? json_incref(body) : NULL, 403,
                        "forbidden");
        lx_expect_error(&srv, &reg, routes[i][0], routes[i][1], body, 403, "forbidden");
    }
    lx_expect_error(&srv, NULL, "GET", "/api/orgs", NULL, 401, "login_required");
    lx_expect_error(&srv, NULL, "GET", "/api/orgs/charity-a", NULL, 401, "login_required");
    lx_expect_error(&srv, NULL, "POST", "/api/orgs/charity-a/keys/rotate", NULL, 401,
                    "login_required");
    lx_expect_error(&srv, &reg, "POST", "/api/orgs/charity-a/keys/rotate", NULL, 403, "forbidden");
    ck_assert_int_eq(db_count("SELECT count(*) FROM principals WHERE id = $1", "sneaky"), 0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE username = $1", "sneaky"), 0);
}
END_TEST

static int contains(const char *hay, size_t n, const void *needle, size_t len)
{
    return len > 0 && memmem(hay, n, needle, len) != NULL;
}

/* Asserts that none of the usual spellings of secret bytes appears in text. */
static void assert_absent(const char *what, const char *text, size_t n, const uint8_t *bin,
                          size_t len)
{
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    char enc[256];

    ck_assert_msg(!contains(text, n, bin, len), "%s: raw key bytes found", what);
    sodium_bin2hex(enc, sizeof(enc), bin, len);
    ck_assert_msg(!contains(text, n, enc, strlen(enc)), "%s: hex key found", what);
    for (char *p = enc; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
    ck_assert_msg(!contains(text, n, enc, strlen(enc)), "%s: HEX key found", what);
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        sodium_bin2base64(enc, sizeof(enc), bin, len, variants[i]);
        ck_assert_msg(!contains(text, n, enc, strlen(enc)), "%s: base64 key found", what);
    }
}

/* The whole database as pg_dump writes it, as a new string; *n gets its length. */
static char *pg_dump(size_t *n)
{
    char cmd[1024], *buf = NULL;
    size_t cap = 0, got;
    FILE *p;

    snprintf(cmd, sizeof(cmd),
             "\"$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_dump\" -h '%s' "
             "-U lianxin '%s'",
             lx_env("LIANXIN_TEST_PGHOST"), srv.dbname);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    *n = 0;
    do {
        if (*n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        got = fread(buf + *n, 1, 65536, p);
        *n += got;
    } while (got > 0);
    buf[*n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    return buf;
}

START_TEST(no_secret_in_dump)
{
    struct lx_cred va;
    struct ckey keys[64];
    char *dump, *answers, *secrets, path[512], token[128];
    size_t n, n_ans, n_keys;
    long long expires;
    json_t *doc;

    /* more secrets of every kind: an org admin's API token, a temporary password, a
     * sign-up, and a rotation (a retired key) */
    json_decref(admit("vault-org", "示范基金会乙", "charity"));
    person("vault-org", "va.admin", "org_admin", "vault-admin-password", &va);
    expires = ((long long)time(NULL) + 86400) * 1000;
    doc = lx_expect(&srv, &va, "POST", "/api/auth/tokens",
                    json_pack("{s:s, s:s, s:s, s:I}", "name", "ci", "org", "vault-org", "role",
                              "issuer", "expires", (json_int_t)expires),
                    201);
    snprintf(token, sizeof(token), "%s", lx_str(doc, "token"));
    remember(token);
    json_decref(doc);
    doc = lx_expect(&srv, &va, "POST", "/api/orgs/vault-org/users",
                    json_pack("{s:s, s:s}", "username", "va.clerk", "role", "member"), 201);
    remember(lx_str(doc, "temporary_password"));
    json_decref(doc);
    json_decref(lx_expect(&srv, NULL, "POST", "/api/auth/signup",
                          json_pack("{s:s, s:s, s:s}", "username", "zhao.liu", "password",
                                    "zhao-liu-secret-pw", "type", "donor"),
                          201));
    remember("zhao-liu-secret-pw");
    json_decref(lx_expect(&srv, &va, "POST", "/api/orgs/vault-org/keys/rotate", NULL, 200));

    dump = pg_dump(&n);
    ck_assert_ptr_nonnull(strstr(dump, "vault-org"));  /* the dump is the real thing */
    ck_assert_ptr_nonnull(strstr(dump, "$argon2id$")); /* passwords are there, hashed */
    snprintf(path, sizeof(path), "%s/answers.txt", srv.dir);
    answers = lx_read_file(path);
    ck_assert_ptr_nonnull(answers);
    n_ans = strlen(answers);

    /* every password, temporary password and token handed out in any test */
    snprintf(path, sizeof(path), "%s/secrets.txt", srv.dir);
    secrets = lx_read_file(path);
    ck_assert_ptr_nonnull(secrets);
    for (char *line = strtok(secrets, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        ck_assert_uint_ge(strlen(line), 10);
        ck_assert_msg(strstr(dump, line) == NULL, "secret %s is in the dump", line);
        if (strncmp(line, "lxt_", 4) == 0)
            ck_assert_msg(strstr(dump, line + 4) == NULL, "token %s is in the dump", line);
    }

    /* every custodial private key of every test, active or retired: not in the dump, not in
     * any answer */
    n_keys = custody(&srv, "", keys, 64);
    ck_assert_uint_ge(n_keys, 8);
    for (size_t i = 0; i < n_keys; i++) {
        char what[128];

        snprintf(what, sizeof(what), "dump, key of %s", keys[i].principal);
        assert_absent(what, dump, n, keys[i].seed, 32);
        assert_absent(what, dump, n, keys[i].sk, 64);
        snprintf(what, sizeof(what), "answers, key of %s", keys[i].principal);
        assert_absent(what, answers, n_ans, keys[i].seed, 32);
        assert_absent(what, answers, n_ans, keys[i].sk, 64);
    }
    ck_assert_int_ge(
        db_count("SELECT count(*) FROM custody_keys WHERE retired_at IS NOT NULL", NULL), 2);
    sodium_memzero(keys, sizeof(keys));
    free(secrets);
    free(answers);
    free(dump);
}
END_TEST

/* ---- a refused admission leaves no key ----------------------------------------------------- */

#define RACERS 8

struct racer {
    pthread_t t;
    long status;
    char body[512];
};

static void *race(void *arg)
{
    struct racer *me = arg;
    static const char body[] = "{\"id\":\"race-org\",\"name\":\"Race\",\"type\":\"auditor\"}";
    struct lx_resp r;

    lx_http_as(&srv, &admin, "POST", "/api/orgs", body, &r);
    me->status = r.status;
    snprintf(me->body, sizeof(me->body), "%s", r.body ? r.body : "");
    lx_resp_free(&r);
    return NULL;
}

START_TEST(refused_admission_leaves_no_key)
{
    /* A slow block lets every request pass the early duplicate check: all but one are refused
     * by the ledger itself, after their custodial key was made. */
    static const char *const slow[] = {"--block-ms", "400", NULL};
    struct racer racers[RACERS];
    struct ckey k[RACERS];
    int created = 0, by_ledger = 0;
    char *key;

    memset(&srv, 0, sizeof(srv));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1);
    lx_server_start(&srv, slow);
    login("admin", ADMIN_PW, &admin);
    for (int i = 0; i < RACERS; i++)
        ck_assert_int_eq(pthread_create(&racers[i].t, NULL, race, &racers[i]), 0);
    for (int i = 0; i < RACERS; i++) {
        pthread_join(racers[i].t, NULL);
        ck_assert_msg(racers[i].status == 201 || racers[i].status == 409, "%ld: %s",
                      racers[i].status, racers[i].body);
        created += racers[i].status == 201;
        /* the early check names the field; the ledger's refusal does not */
        by_ledger += racers[i].status == 409 && strstr(racers[i].body, "\"detail\"") == NULL;
    }
    ck_assert_int_eq(created, 1);
    ck_assert_int_ge(by_ledger, 1);
    /* one custodial key remains: the one on the ledger */
    ck_assert_uint_eq(custody(&srv, "race-org", k, RACERS), 1);
    key = db_value("SELECT encode(pubkey, 'hex') FROM keys WHERE principal = $1", "race-org");
    ck_assert_ptr_nonnull(key);
    {
        char hex[65];

        sodium_bin2hex(hex, sizeof(hex), k[0].pk, 32);
        ck_assert_str_eq(key, hex);
    }
    free(key);
    sodium_memzero(k, sizeof(k));
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("orgs");
    TCase *tc = tcase_create("api");
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_ALL);
    if (sodium_init() < 0)
        return 1;
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_add_test(tc, admission_on_ledger);
    tcase_add_test(tc, rotation_keeps_old_records);
    tcase_add_test(tc, individuals_sign_up);
    tcase_add_test(tc, invite_and_roles);
    tcase_add_test(tc, admin_only_endpoints);
    tcase_add_test(tc, no_secret_in_dump); /* last: it searches what the others handed out */
    suite_add_tcase(s, tc);
    tc = tcase_create("refusal");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, refused_admission_leaves_no_key);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
