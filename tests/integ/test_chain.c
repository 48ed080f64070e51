/*
 * Submitting to the ledger through a real lianxind: single and batch txs, refusals with their
 * codes, key revocation (earlier txs stay valid, later ones are refused), durability across a
 * restart, and the 400/415 answers of the submit endpoint.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lx_server srv;
static struct chain_note_signer admin;

static void start(void)
{
    memset(&srv, 0, sizeof(srv));
    lx_server_start(&srv, NULL);
    lx_admin_key(&srv, &admin);
}

static void stop(void)
{
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

static json_t *parse(const struct lx_resp *r)
{
    json_t *doc = json_loads(r->body, 0, NULL);

    ck_assert_msg(doc != NULL, "not JSON: %s", r->body);
    return doc;
}

static const char *error_code(const json_t *doc)
{
    return json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
}

/* Submits one tx; returns the parsed answer (decref it) and the status in *status. */
static json_t *submit(json_t *tx, long *status)
{
    struct lx_resp r;
    json_t *doc;

    lx_submit(&srv, tx, &r);
    *status = r.status;
    doc = parse(&r);
    lx_resp_free(&r);
    json_decref(tx);
    return doc;
}

/* Submits one tx that must be refused with status want and error code code. */
static void refused(json_t *tx, long want, const char *code)
{
    long status;
    json_t *doc = submit(tx, &status);

    ck_assert_msg(status == want, "status %ld, not %ld", status, want);
    ck_assert_str_eq(error_code(doc), code);
    json_decref(doc);
}

static json_t *org_register(const char *id, const struct chain_note_signer *key)
{
    char pub[64];

    lx_pub_b64(key, pub, sizeof(pub));
    return lx_tx(&admin, "core", "org.register", "admin",
                 json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", "Peking University", "type",
                           "university", "key", pub));
}

static json_t *key_op(const struct chain_note_signer *signer, const char *org, const char *type,
                      const char *principal, const struct chain_note_signer *key)
{
    char pub[64];

    lx_pub_b64(key, pub, sizeof(pub));
    return lx_tx(signer, "core", type, org,
                 json_pack("{s:s, s:s}", "principal", principal, "key", pub));
}

START_TEST(single_tx_committed)
{
    struct chain_note_signer k;
    long status;
    json_t *doc;

    lx_keygen("pku", &k);
    doc = submit(org_register("pku", &k), &status);
    ck_assert_msg(status == 200, "status %ld: %s", status, json_dumps(doc, 0));
    ck_assert_int_eq(strlen(json_string_value(json_object_get(doc, "tx_id"))), 64);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "leaf_index")), 1); /* after genesis */
    ck_assert_int_ge(json_integer_value(json_object_get(doc, "height")), 1);
    json_decref(doc);
    ck_assert_int_eq(lx_db_exec(srv.dbname, "SELECT 1 FROM principals WHERE id = 'pku'"), 0);
}
END_TEST

START_TEST(batch_with_one_bad_tx)
{
    json_t *arr = json_array(), *doc;
    struct chain_note_signer keys[3];
    struct lx_resp r;

    for (int i = 0; i < 3; i++) {
        char id[16];

        snprintf(id, sizeof(id), "uni%d", i);
        lx_keygen(id, &keys[i]);
        json_array_append_new(arr, org_register(id, &keys[i]));
    }
    /* the same org again: refused with 409, the others go in */
    json_array_append_new(arr, org_register("uni0", &keys[1]));
    lx_submit(&srv, arr, &r);
    ck_assert_int_eq(r.status, 200);
    doc = parse(&r);
    ck_assert_int_eq(json_array_size(doc), 4);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(json_object_get(json_array_get(doc, i), "leaf_index") != NULL, "item %d: %s",
                      i, r.body);
    ck_assert_str_eq(error_code(json_array_get(doc, 3)), "principal_exists");
    json_decref(doc);
    json_decref(arr);
    lx_resp_free(&r);
}
END_TEST

/* Posts text as the body of POST /api/chain/tx; returns the answer (free it). */
static void post_raw(const char *text, struct lx_resp *r)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};

    lx_http(&srv, "POST", "/api/chain/tx", text, strlen(text), json, r);
}

/* A batch is split into its txs without a JSON tree of the whole body (modules/core/submit.c):
 * elements that are not txs are refused alone, a syntax error anywhere refuses everything. */
START_TEST(batch_shapes)
{
    struct chain_note_signer k1, k2;
    char *t1, *t2, body[8192];
    json_t *tx1, *tx2, *doc;
    struct lx_resp r;

    lx_keygen("shape1", &k1);
    lx_keygen("shape2", &k2);
    tx1 = org_register("shape1", &k1);
    tx2 = org_register("shape2", &k2);
    t1 = json_dumps(tx1, JSON_COMPACT);
    t2 = json_dumps(tx2, JSON_COMPACT);
    static const char *const broken[] = {
        "[%s, {\"a\":}]",          "[%s", "[%s] x", "[%s %s]", "[%s,, %s]", "[%s, tru]",
        "[%s, {\"v\":1, \"v\":1}]"};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        snprintf(body, sizeof(body), broken[i], t1, t2);
        post_raw(body, &r);
        ck_assert_msg(r.status == 400 && strstr(r.body, "malformed_json"), "%s: %ld %s", broken[i],
                      r.status, r.body);
        lx_resp_free(&r);
    }
    {
        char deep[30002];

        memset(deep, '[', 15000);
        memset(deep + 15000, ']', 15000);
        deep[30000] = '\0';
        post_raw(deep, &r); /* too deep for one document, as for a single tx */
        ck_assert_int_eq(r.status, 400);
        ck_assert_ptr_nonnull(strstr(r.body, "too_deep"));
        lx_resp_free(&r);
    }
    post_raw(" [ ] ", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "empty_batch"));
    lx_resp_free(&r);
    /* none of the broken bodies committed anything */
    ck_assert_int_ne(lx_db_exec(srv.dbname, "SELECT 1/count(*) FROM principals WHERE id LIKE "
                                            "'shape%'"),
                     0);
    /* scalars, arrays and strings holding brackets, escaped quotes or a last backslash are
     * refused alone */
    snprintf(body, sizeof(body),
             "\n[ \"a]{\\\"\", \"q\\\\\", \"\\\\\\\"]\", %s , [1, {\"b\": \"]\"}], 7 ,%s\t]", t1,
             t2);
    post_raw(body, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    doc = parse(&r);
    ck_assert_int_eq(json_array_size(doc), 7);
    for (size_t i = 0; i < 7; i++)
        if (i == 3 || i == 6)
            ck_assert_ptr_nonnull(json_object_get(json_array_get(doc, i), "leaf_index"));
        else
            ck_assert_str_eq(error_code(json_array_get(doc, i)), "malformed_json");
    json_decref(doc);
    lx_resp_free(&r);
    free(t1);
    free(t2);
    json_decref(tx1);
    json_decref(tx2);
}
END_TEST

/* More than 10,000 elements: 413 before any tx is parsed. */
START_TEST(batch_too_large)
{
    size_t n = 10001, len = 0;
    char *body = malloc(n * 3 + 2);
    struct lx_resp r;

    body[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        body[len++] = '1';
        body[len++] = i + 1 < n ? ',' : ']';
    }
    body[len] = '\0';
    post_raw(body, &r);
    ck_assert_int_eq(r.status, 413);
    ck_assert_ptr_nonnull(strstr(r.body, "batch_too_large"));
    lx_resp_free(&r);
    free(body);
}
END_TEST

START_TEST(replay_refused)
{
    struct chain_note_signer k;
    json_t *tx, *doc;
    long status;

    lx_keygen("replay", &k);
    tx = org_register("replayed", &k);
    json_incref(tx);
    doc = submit(tx, &status);
    ck_assert_int_eq(status, 200);
    json_decref(doc);
    refused(tx, 409, "duplicate_tx");
}
END_TEST

START_TEST(stateless_refusals)
{
    struct chain_note_signer k, stranger;
    json_t *tx, *doc;
    long status;

    lx_keygen("k", &k);
    lx_keygen("stranger", &stranger);
    /* bad signature: change the body after signing */
    tx = org_register("sigbad", &k);
    json_object_set_new(json_object_get(tx, "body"), "name", json_string("Forged"));
    refused(tx, 422, "invalid_signature");
    /* another chain */
    tx = org_register("otherchain", &k);
    json_object_set_new(tx, "chain", json_string("elsewhere/chain"));
    ck_assert_int_eq(chain_tx_sign(tx, admin.sk), 0);
    refused(tx, 422, "wrong_chain");
    /* body schema: unknown org type */
    tx = org_register("badtype", &k);
    json_object_set_new(json_object_get(tx, "body"), "type", json_string("bakery"));
    ck_assert_int_eq(chain_tx_sign(tx, admin.sk), 0);
    refused(tx, 422, "invalid_body");
    /* a key nobody registered */
    refused(key_op(&stranger, "pku", "key.add", "pku", &k), 409, "unknown_key");
    /* org.register by someone who is not admin */
    doc = submit(lx_tx(&stranger, "core", "org.register", "stranger",
                       json_pack("{s:s,s:s,s:s,s:s}", "id", "x", "name", "X", "type", "court",
                                 "key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
                 &status);
    ck_assert_int_eq(status, 409);
    json_decref(doc);
    ck_assert_int_ne(lx_db_exec(srv.dbname, "SELECT 1/count(*) FROM principals WHERE id IN "
                                            "('sigbad','otherchain','badtype','x')"),
                     0); /* none of them got in */
}
END_TEST

/* GET /api/chain/authorised for key k, principal p, leaf at: 1, 0, or -1 on error. */
static int authorised(const struct chain_note_signer *k, const char *p, long long at)
{
    char hex[65], path[256];
    struct lx_resp r;
    json_t *doc;
    int yes;

    chain_hex_encode(k->sk + 32, 32, hex);
    snprintf(path, sizeof(path), "/api/chain/authorised?key=%s&principal=%s&at=%lld", hex, p, at);
    lx_http(&srv, "GET", path, NULL, 0, NULL, &r);
    doc = json_loads(r.body, 0, NULL);
    yes = r.status == 200 && doc ? json_is_true(json_object_get(doc, "authorised")) : -1;
    json_decref(doc);
    lx_resp_free(&r);
    return yes;
}

START_TEST(revocation_keeps_earlier_txs)
{
    struct chain_note_signer org, k2, k3;
    long status;
    json_t *doc;
    long long first_leaf, revoked_at;

    lx_keygen("court", &org);
    lx_keygen("k2", &k2);
    lx_keygen("k3", &k3);
    doc = submit(lx_tx(&admin, "core", "org.register", "admin",
                       json_pack("{s:s,s:s,s:s,s:s}", "id", "court1", "name", "Haidian Court",
                                 "type", "court", "key", "")),
                 &status);
    json_decref(doc); /* empty key: refused, proves nothing; register properly below */
    ck_assert_int_eq(status, 422);
    doc = submit(org_register("court1", &org), &status);
    ck_assert_int_eq(status, 200);
    json_decref(doc);
    /* the org signs with its key: adds k2 */
    doc = submit(key_op(&org, "court1", "key.add", "court1", &k2), &status);
    ck_assert_int_eq(status, 200);
    first_leaf = json_integer_value(json_object_get(doc, "leaf_index"));
    json_decref(doc);
    /* k2 signs: revokes the old key (rotation) */
    doc = submit(key_op(&k2, "court1", "key.revoke", "court1", &org), &status);
    ck_assert_int_eq(status, 200);
    revoked_at = json_integer_value(json_object_get(doc, "leaf_index"));
    ck_assert_int_gt(revoked_at, first_leaf);
    json_decref(doc);
    /* the server answers "was this key authorised for court1 at leaf i?" from the log */
    ck_assert_int_eq(authorised(&org, "court1", first_leaf), 1);
    ck_assert_int_eq(authorised(&org, "court1", revoked_at), 1); /* it signed nothing there */
    ck_assert_int_eq(authorised(&org, "court1", revoked_at + 1), 0);
    ck_assert_int_eq(authorised(&k2, "court1", first_leaf), 0); /* not yet added */
    ck_assert_int_eq(authorised(&k2, "court1", first_leaf + 1), 1);
    ck_assert_int_eq(authorised(&k2, "pku", first_leaf + 1), 0); /* another principal */
    {
        /* the public record of the court: its name and both keys, the old one revoked */
        struct lx_resp p;
        json_t *pd;

        lx_http(&srv, "GET", "/api/chain/principals/court1", NULL, 0, NULL, &p);
        ck_assert_int_eq(p.status, 200);
        pd = json_loads(p.body, 0, NULL);
        ck_assert_str_eq(json_string_value(json_object_get(pd, "name")), "Peking University");
        ck_assert_str_eq(json_string_value(json_object_get(pd, "type")), "university");
        ck_assert_int_eq(json_array_size(json_object_get(pd, "keys")), 2);
        ck_assert(json_is_integer(
            json_object_get(json_array_get(json_object_get(pd, "keys"), 0), "revoked_leaf")));
        json_decref(pd);
        lx_resp_free(&p);
        lx_http(&srv, "GET", "/api/chain/principals/nobody-here", NULL, 0, NULL, &p);
        ck_assert_int_eq(p.status, 404);
        lx_resp_free(&p);
    }
    /* the revoked key can no longer sign */
    refused(key_op(&org, "court1", "key.add", "court1", &k3), 409, "key_revoked");
    /* what it signed before stays in the log */
    ck_assert_int_eq(lx_db_exec(srv.dbname, "SELECT 1/count(*) FROM txs WHERE type = 'key.add' "
                                            "AND org = 'court1'"),
                     0);
}
END_TEST

/* A key belongs to one principal, ever: a key already stored (found by the block's look-up of
 * its keys in PostgreSQL) and a key named twice in one batch are refused with key_exists, and
 * neither the principal nor the key row is written. */
START_TEST(key_registered_once)
{
    struct chain_note_signer k1, k3;
    json_t *arr = json_array(), *doc;
    struct lx_resp r;
    long status;

    lx_keygen("once1", &k1);
    lx_keygen("once3", &k3);
    doc = submit(org_register("once1", &k1), &status);
    ck_assert_int_eq(status, 200);
    json_decref(doc);
    refused(org_register("once2", &k1), 409, "key_exists");
    refused(key_op(&k1, "once1", "key.add", "once1", &k1), 409, "key_exists");

    json_array_append_new(arr, org_register("once3", &k3));
    json_array_append_new(arr, org_register("once4", &k3)); /* the same block */
    json_array_append_new(arr, org_register("once5", &k1)); /* stored */
    lx_submit(&srv, arr, &r);
    ck_assert_int_eq(r.status, 200);
    doc = parse(&r);
    ck_assert_msg(json_object_get(json_array_get(doc, 0), "leaf_index") != NULL, "%s", r.body);
    ck_assert_str_eq(error_code(json_array_get(doc, 1)), "key_exists");
    ck_assert_str_eq(error_code(json_array_get(doc, 2)), "key_exists");
    json_decref(doc);
    json_decref(arr);
    lx_resp_free(&r);
    ck_assert_int_eq(lx_db_exec(srv.dbname, "SELECT 1/(count(*) = 2)::int FROM keys WHERE "
                                            "principal IN ('once1', 'once3')"),
                     0);
    ck_assert_int_eq(lx_db_exec(srv.dbname, "SELECT 1/(count(*) = 0)::int FROM principals WHERE "
                                            "id IN ('once2', 'once4', 'once5')"),
                     0);
}
END_TEST

START_TEST(malformed_bodies)
{
    static const char *const h[] = {"Content-Type: application/json", NULL};
    static const char *const bodies[] = {"{", "[]", "42", "{\"v\":1}", "[1,2]", ""};
    static const long want[] = {400, 400, 400, 400, 200, 400};

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct lx_resp r;

        lx_http(&srv, "POST", "/api/chain/tx", bodies[i], strlen(bodies[i]), h, &r);
        ck_assert_msg(r.status == want[i], "'%s' gave %ld: %s", bodies[i], r.status, r.body);
        ck_assert_ptr_nonnull(strstr(r.body, i == 4 ? "\"error\"" : "\"code\""));
        lx_resp_free(&r);
    }
}
END_TEST

START_TEST(wrong_content_type_415)
{
    static const char *const h[] = {"Content-Type: text/plain", NULL};
    struct lx_resp r;

    lx_http(&srv, "POST", "/api/chain/tx", "{}", 2, h, &r);
    ck_assert_int_eq(r.status, 415);
    lx_resp_free(&r);
}
END_TEST

START_TEST(restart_keeps_everything)
{
    /* A server of this test's own: the forked test process can only wait for its children. */
    struct chain_note_signer k;
    struct lx_resp r;
    json_t *doc;
    long status;
    long long size_before;

    start();
    lx_keygen("keep", &k);
    doc = submit(org_register("kept", &k), &status);
    ck_assert_int_eq(status, 200);
    json_decref(doc);
    lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
    doc = parse(&r);
    size_before = json_integer_value(json_object_get(doc, "tree_size"));
    json_decref(doc);
    lx_resp_free(&r);
    ck_assert_int_eq(lx_server_stop(&srv), 0);
    lx_server_start(&srv, NULL); /* same database and data folder */
    lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
    doc = parse(&r);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "tree_size")), size_before);
    json_decref(doc);
    lx_resp_free(&r);
    /* and the log goes on where it was */
    lx_keygen("after", &k);
    doc = submit(org_register("after-restart", &k), &status);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "leaf_index")), size_before);
    json_decref(doc);
    stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chain");
    TCase *tc = tcase_create("submit");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_add_test(tc, single_tx_committed);
    tcase_add_test(tc, batch_with_one_bad_tx);
    tcase_add_test(tc, batch_shapes);
    tcase_add_test(tc, batch_too_large);
    tcase_add_test(tc, replay_refused);
    tcase_add_test(tc, stateless_refusals);
    tcase_add_test(tc, revocation_keeps_earlier_txs);
    tcase_add_test(tc, key_registered_once);
    tcase_add_test(tc, malformed_bodies);
    tcase_add_test(tc, wrong_content_type_415);
    suite_add_tcase(s, tc);
    tc = tcase_create("restart");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, restart_keeps_everything);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
