/* test_cli_verify.c — offline bundle verification (cli/verify.c) on bundles built here with
 * chain/: a small log with a genesis, an org, a key added and a key revoked, a signed
 * checkpoint, inclusion proofs. Each tampering must fail at the check a user would expect, a
 * revocation must void only what was signed after it, and mangled bundles must give ✗, never a
 * crash. Also the verifier key list parser (cli/keys.c). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../../chain/merkle.h"
#include "../../chain/note.h"
#include "../../chain/tx.h"
#include "../../cli/keys.h"
#include "../../cli/verify.h"

#define ORIGIN   "lianxin.local/dev"
#define T0       1795000000000LL
#define N_LEAVES 8

/* The log every test starts from (built once per test by setup):
 *   0 genesis (admin)            4 key.revoke of the pku key (admin)
 *   1 org.register pku (admin)   5 credential signed by the revoked pku key
 *   2 credential by the pku key  6 credential signed by pku's second key
 *   3 key.add pku key2 (pku key) 7 credential by pku key2 (padding: size 8 is not 2^k - 1) */
static struct {
    uint8_t admin_pk[32], admin_sk[64];
    uint8_t node_pk[32], node_sk[64];
    uint8_t org_pk[32], org_sk[64];
    uint8_t org2_pk[32], org2_sk[64];
    struct chain_note_verifier node; /* the validator key */
    json_t *tx[N_LEAVES];            /* the txs */
    uint8_t leaf[N_LEAVES][32];      /* their leaf hashes */
    char id[N_LEAVES][65];           /* their tx ids */
    char *note;                      /* the signed checkpoint of size N_LEAVES */
} g;

static char *b64(const uint8_t *p, size_t n)
{
    static char buf[4][200];
    static int k;
    char *out = buf[k++ % 4];

    ck_assert_int_eq(chain_b64_encode(p, n, out, 200), 0);
    return out;
}

static json_t *make_tx(const uint8_t *pk, const uint8_t *sk, const char *module, const char *type,
                       const char *org, json_t *body, int i)
{
    json_t *env = chain_tx_build(ORIGIN, module, type, org, pk, T0 + i, body);

    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(chain_tx_sign(env, sk), 0);
    return env;
}

/* The inclusion proof of leaf i in the tree of all N_LEAVES leaves, as bundle JSON. */
static json_t *proof_json(uint64_t i)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][32], path[CHAIN_MERKLE_MAX_PATH][32];
    size_t n_ids = 0, path_len = 0;
    json_t *arr = json_array();

    ck_assert_int_eq(chain_merkle_inclusion_plan(i, N_LEAVES, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids),
                     0);
    for (size_t k = 0; k < n_ids; k++) {
        uint64_t first = ids[k].index << ids[k].level, count = UINT64_C(1) << ids[k].level;

        ck_assert_int_eq(chain_merkle_root((const uint8_t(*)[32])g.leaf + first, count, hashes[k]),
                         0);
    }
    ck_assert_int_eq(chain_merkle_inclusion_build(i, N_LEAVES, (const uint8_t(*)[32])hashes, n_ids,
                                                  path, CHAIN_MERKLE_MAX_PATH, &path_len),
                     0);
    for (size_t k = 0; k < path_len; k++)
        json_array_append_new(arr, json_string(b64(path[k], 32)));
    return json_pack("{s:I,s:I,s:s,s:o}", "leaf_index", (json_int_t)i, "tree_size",
                     (json_int_t)N_LEAVES, "leaf_hash", b64(g.leaf[i], 32), "path", arr);
}

static void setup(void)
{
    struct chain_checkpoint cp;
    char vkey[CHAIN_NOTE_VKEY_MAX], *body = NULL;
    json_t *b;

    memset(&g, 0, sizeof(g));
    crypto_sign_keypair(g.admin_pk, g.admin_sk);
    crypto_sign_keypair(g.node_pk, g.node_sk);
    crypto_sign_keypair(g.org_pk, g.org_sk);
    crypto_sign_keypair(g.org2_pk, g.org2_sk);
    ck_assert_int_eq(chain_note_verifier_from_pk(ORIGIN, g.node_pk, &g.node), 0);
    ck_assert_int_eq(chain_note_verifier_format(&g.node, vkey, sizeof(vkey)), 0);

    b = json_pack("{s:s,s:[s]}", "admin_key", b64(g.admin_pk, 32), "validators", vkey);
    g.tx[0] = make_tx(g.admin_pk, g.admin_sk, "core", "genesis", "admin", b, 0);
    b = json_pack("{s:s,s:s,s:s,s:s}", "id", "pku", "name", "Peking University", "type",
                  "university", "key", b64(g.org_pk, 32));
    g.tx[1] = make_tx(g.admin_pk, g.admin_sk, "core", "org.register", "admin", b, 1);
    b = json_pack("{s:s,s:s}", "student", "s-001", "degree", "BSc");
    g.tx[2] = make_tx(g.org_pk, g.org_sk, "edu", "credential.issue", "pku", b, 2);
    b = json_pack("{s:s,s:s}", "principal", "pku", "key", b64(g.org2_pk, 32));
    g.tx[3] = make_tx(g.org_pk, g.org_sk, "core", "key.add", "pku", b, 3);
    b = json_pack("{s:s,s:s}", "principal", "pku", "key", b64(g.org_pk, 32));
    g.tx[4] = make_tx(g.admin_pk, g.admin_sk, "core", "key.revoke", "admin", b, 4);
    b = json_pack("{s:s}", "student", "s-002");
    g.tx[5] = make_tx(g.org_pk, g.org_sk, "edu", "credential.issue", "pku", b, 5);
    b = json_pack("{s:s}", "student", "s-003");
    g.tx[6] = make_tx(g.org2_pk, g.org2_sk, "edu", "credential.issue", "pku", b, 6);
    b = json_pack("{s:s}", "student", "s-004");
    g.tx[7] = make_tx(g.org2_pk, g.org2_sk, "edu", "credential.issue", "pku", b, 7);
    for (int i = 0; i < N_LEAVES; i++) {
        struct chain_tx *t = NULL;

        ck_assert_int_eq(chain_tx_from_json(g.tx[i], &t), 0);
        memcpy(g.leaf[i], t->leaf_hash, 32);
        memcpy(g.id[i], t->id_hex, 65);
        chain_tx_free(t);
    }

    memset(&cp, 0, sizeof(cp));
    strcpy(cp.origin, ORIGIN);
    cp.size = N_LEAVES;
    ck_assert_int_eq(chain_merkle_root((const uint8_t(*)[32])g.leaf, N_LEAVES, cp.root), 0);
    cp.height = 3;
    cp.time_ms = T0 + 100;
    ck_assert_int_eq(chain_checkpoint_format(&cp, &body), 0);
    ck_assert_int_eq(chain_note_sign(body, ORIGIN, g.node_sk, &g.note), 0);
    free(body);
}

static void teardown(void)
{
    for (int i = 0; i < N_LEAVES; i++)
        json_decref(g.tx[i]);
    free(g.note);
}

/* The bundle of leaf i with the key evidence of the leaves ev[0..n_ev). */
static json_t *bundle(int i, const int *ev, size_t n_ev)
{
    json_t *evidence = json_array();

    for (size_t k = 0; k < n_ev; k++)
        json_array_append_new(
            evidence, json_pack("{s:s,s:i,s:o,s:o}", "tx_id", g.id[ev[k]], "leaf_index", ev[k],
                                "tx", json_deep_copy(g.tx[ev[k]]), "proof", proof_json(ev[k])));
    return json_pack("{s:s,s:i,s:i,s:o,s:s,s:o,s:o}", "tx_id", g.id[i], "leaf_index", i, "height",
                     3, "tx", json_deep_copy(g.tx[i]), "checkpoint", g.note, "proof", proof_json(i),
                     "key_evidence", evidence);
}

/* The key evidence the node would send for a pku tx: genesis, org.register, the revocation. */
static const int ev_pku[] = {0, 1, 4};
static const int ev_pku2[] = {0, 1, 3, 4};

/* The report of one verification. */
struct rep {
    int rc; /* cli_verify_bundle's result */
    int n;  /* lines */
    char line[8][600];
};

static void run_keys(const json_t *b, const struct chain_note_verifier *keys, size_t n_keys,
                     struct rep *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    char *save = NULL;

    ck_assert_ptr_nonnull(f);
    r->rc = cli_verify_bundle(b, keys, n_keys, f);
    fclose(f);
    r->n = 0;
    for (char *l = strtok_r(buf, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        ck_assert_int_lt(r->n, 8);
        snprintf(r->line[r->n++], sizeof(r->line[0]), "%s", l);
    }
    free(buf);
}

static void run(const json_t *b, struct rep *r)
{
    run_keys(b, &g.node, 1, r);
}

/* Asserts the report has the five checks in order with these results ('+' ✓, '-' ✗, '?' any). */
static void expect(const struct rep *r, const char *marks)
{
    static const char *const what[5] = {CLI_CHECK_LEAF, CLI_CHECK_SIG, CLI_CHECK_CHECKPOINT,
                                        CLI_CHECK_INCLUSION, CLI_CHECK_KEYS};
    int all_ok = 1;

    ck_assert_int_eq(r->n, 5);
    for (int i = 0; i < 5; i++) {
        char want[64];

        if (marks[i] == '?') {
            ck_assert_msg(strstr(r->line[i], what[i]) != NULL, "line %d: %s", i, r->line[i]);
            all_ok = 0;
            continue;
        }
        snprintf(want, sizeof(want), "%s %s: ", marks[i] == '+' ? CLI_MARK_OK : CLI_MARK_FAIL,
                 what[i]);
        ck_assert_msg(strncmp(r->line[i], want, strlen(want)) == 0, "line %d is \"%s\", want %s…",
                      i + 1, r->line[i], want);
        all_ok &= marks[i] == '+';
    }
    if (strchr(marks, '?') == NULL)
        ck_assert_int_eq(r->rc, all_ok ? 0 : 1);
}

START_TEST(valid_bundle)
{
    json_t *b = bundle(2, ev_pku, 3);
    struct rep r;

    run(b, &r);
    expect(&r, "+++++");
    ck_assert_int_eq(r.rc, 0);
    ck_assert_ptr_nonnull(strstr(r.line[0], g.id[2]));
    ck_assert_ptr_nonnull(strstr(r.line[3], "leaf 2 of the tree of size 8"));
    /* the later revocation is mentioned and does not void the tx */
    ck_assert_ptr_nonnull(strstr(r.line[4], "revoked later, at leaf 4"));
    json_decref(b);
}
END_TEST

START_TEST(every_leaf_with_full_evidence)
{
    static const int all[] = {0, 1, 3, 4};

    /* 0..4 are admin or pku-key txs before the revocation; 6 and 7 use pku's second key */
    for (int i = 0; i < N_LEAVES; i++) {
        json_t *b = bundle(i, all, 4);
        struct rep r;

        run(b, &r);
        expect(&r, i == 5 ? "++++-" : "+++++");
        json_decref(b);
    }
}
END_TEST

START_TEST(changed_byte_in_tx)
{
    json_t *b = bundle(2, ev_pku, 3);
    struct rep r;

    json_object_set_new(json_object_get(json_object_get(b, "tx"), "body"), "student",
                        json_string("s-901")); /* one byte of "s-001" */
    run(b, &r);
    expect(&r, "--+++");
    ck_assert_ptr_nonnull(strstr(r.line[0], "not the proof's leaf_hash"));
    json_decref(b);
}
END_TEST

START_TEST(changed_tx_id)
{
    json_t *b = bundle(2, ev_pku, 3);
    char id[65];
    struct rep r;

    strcpy(id, g.id[2]);
    id[10] = id[10] == 'a' ? 'b' : 'a';
    json_object_set_new(b, "tx_id", json_string(id));
    run(b, &r);
    expect(&r, "-++++");
    ck_assert_ptr_nonnull(strstr(r.line[0], "not the tx_id"));
    json_decref(b);
}
END_TEST

START_TEST(changed_signature_in_tx)
{
    json_t *b = bundle(2, ev_pku, 3);
    json_t *tx = json_object_get(b, "tx");
    uint8_t sig[64];
    struct chain_tx *t = NULL;
    struct rep r;

    ck_assert_int_eq(
        chain_b64_decode_exact(json_string_value(json_object_get(tx, "sig")), 88, sig, 64), 0);
    sig[5] ^= 0x01;
    json_object_set_new(tx, "sig", json_string(b64(sig, 64)));
    /* a consistent bundle for the forged tx: its own leaf hash and id, but the real proof */
    ck_assert_int_eq(chain_tx_from_json(tx, &t), 0);
    json_object_set_new(b, "tx_id", json_string(t->id_hex));
    json_object_set_new(json_object_get(b, "proof"), "leaf_hash",
                        json_string(b64(t->leaf_hash, 32)));
    chain_tx_free(t);
    run(b, &r);
    expect(&r, "+-+-+");
    json_decref(b);
}
END_TEST

START_TEST(changed_byte_in_path)
{
    json_t *b = bundle(2, ev_pku, 3);
    json_t *path = json_object_get(json_object_get(b, "proof"), "path");
    uint8_t h[32];
    struct rep r;

    ck_assert_int_ge(json_array_size(path), 2);
    ck_assert_int_eq(chain_b64_decode_exact(json_string_value(json_array_get(path, 1)), 44, h, 32),
                     0);
    h[31] ^= 0x80;
    json_array_set_new(path, 1, json_string(b64(h, 32)));
    run(b, &r);
    expect(&r, "+++-+");
    ck_assert_ptr_nonnull(strstr(r.line[3], "does not lead"));
    json_decref(b);
}
END_TEST

/* Replaces the checkpoint note of b with text (a copy). */
static void set_note(json_t *b, const char *text)
{
    json_object_set_new(b, "checkpoint", json_string(text));
}

START_TEST(changed_byte_in_root)
{
    json_t *b = bundle(2, ev_pku, 3);
    char *note = strdup(g.note), *line3 = note;
    uint8_t root[32];
    struct rep r;

    for (int i = 0; i < 2; i++)
        line3 = strchr(line3, '\n') + 1;
    ck_assert_int_eq(chain_b64_decode_exact(line3, 44, root, 32), 0);
    root[0] ^= 0x01;
    memcpy(line3, b64(root, 32), 44);
    set_note(b, note);
    run(b, &r);
    expect(&r, "++---");
    ck_assert_ptr_nonnull(strstr(r.line[2], "does not verify"));
    free(note);
    json_decref(b);
}
END_TEST

START_TEST(changed_byte_in_checkpoint_signature)
{
    json_t *b = bundle(2, ev_pku, 3);
    char *note = strdup(g.note), *sig = strrchr(note, ' ') + 1;
    uint8_t raw[68];
    struct rep r;

    ck_assert_int_eq(chain_b64_decode_exact(sig, strcspn(sig, "\n"), raw, 68), 0);
    raw[40] ^= 0x04; /* inside the Ed25519 signature, after the 4-byte key hash */
    memcpy(sig, b64(raw, 68), strlen(b64(raw, 68)));
    set_note(b, note);
    run(b, &r);
    expect(&r, "++-++");
    ck_assert_ptr_nonnull(strstr(r.line[2], "does not verify"));

    /* the key hash bytes: now no known key signed */
    free(note);
    note = strdup(g.note);
    sig = strrchr(note, ' ') + 1;
    ck_assert_int_eq(chain_b64_decode_exact(sig, strcspn(sig, "\n"), raw, 68), 0);
    raw[0] ^= 0x01;
    memcpy(sig, b64(raw, 68), strlen(b64(raw, 68)));
    set_note(b, note);
    run(b, &r);
    expect(&r, "++-++");
    ck_assert_ptr_nonnull(strstr(r.line[2], "not signed by any"));
    free(note);
    json_decref(b);
}
END_TEST

START_TEST(unknown_validator)
{
    json_t *b = bundle(2, ev_pku, 3);
    struct chain_note_verifier other;
    uint8_t pk[32], sk[64];
    struct rep r;

    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(chain_note_verifier_from_pk(ORIGIN, pk, &other), 0);
    run_keys(b, &other, 1, &r);
    expect(&r, "++-++");
    run_keys(b, NULL, 0, &r);
    expect(&r, "++-++");
    json_decref(b);
}
END_TEST

START_TEST(missing_key_evidence)
{
    json_t *b = bundle(2, NULL, 0);
    static const int no_genesis[] = {1, 4};
    struct rep r;

    run(b, &r);
    expect(&r, "++++-");
    ck_assert_ptr_nonnull(strstr(r.line[4], "not registered"));
    json_object_del(b, "key_evidence");
    run(b, &r);
    expect(&r, "++++-");
    json_decref(b);

    b = bundle(2, no_genesis, 2);
    run(b, &r);
    expect(&r, "++++-");
    ck_assert_ptr_nonnull(strstr(r.line[4], "genesis"));
    json_decref(b);
}
END_TEST

START_TEST(signed_after_revocation)
{
    json_t *b = bundle(5, ev_pku, 3);
    struct rep r;

    run(b, &r);
    expect(&r, "++++-");
    ck_assert_ptr_nonnull(strstr(r.line[4], "revoked at leaf 4"));
    json_decref(b);
}
END_TEST

START_TEST(signed_before_later_revocation)
{
    json_t *b = bundle(2, ev_pku, 3);
    struct rep r;

    run(b, &r);
    expect(&r, "+++++");
    json_decref(b);

    /* and the second key, added by the first before its revocation, stays valid */
    b = bundle(6, ev_pku2, 4);
    run(b, &r);
    expect(&r, "+++++");
    json_decref(b);
}
END_TEST

START_TEST(second_key_needs_its_key_add)
{
    json_t *b = bundle(6, ev_pku, 3); /* key.add at leaf 3 left out */
    struct rep r;

    run(b, &r);
    expect(&r, "++++-");
    json_decref(b);
}
END_TEST

START_TEST(tampered_evidence)
{
    json_t *b = bundle(2, ev_pku, 3), *ev, *copy;
    struct rep r;

    /* an evidence tx changed: its leaf hash no longer matches */
    ev = json_array_get(json_object_get(b, "key_evidence"), 1);
    json_object_set_new(json_object_get(json_object_get(ev, "tx"), "body"), "name",
                        json_string("Peking Universitx"));
    run(b, &r);
    expect(&r, "++++-");
    ck_assert_ptr_nonnull(strstr(r.line[4], "#1 (leaf 1)"));
    json_decref(b);

    /* evidence out of leaf order */
    b = bundle(2, ev_pku, 3);
    ev = json_object_get(b, "key_evidence");
    copy = json_deep_copy(json_array_get(ev, 0));
    json_array_remove(ev, 0);
    json_array_append_new(ev, copy);
    run(b, &r);
    expect(&r, "++++-");
    json_decref(b);

    /* an evidence proof against another tree size */
    b = bundle(2, ev_pku, 3);
    ev = json_array_get(json_object_get(b, "key_evidence"), 0);
    json_object_set_new(json_object_get(ev, "proof"), "tree_size", json_integer(7));
    run(b, &r);
    expect(&r, "++++-");
    json_decref(b);
}
END_TEST

START_TEST(wrong_signer_for_org)
{
    /* a tx for "admin" signed by the pku key */
    static const int ev[] = {0, 1};
    json_t *b;
    struct rep r;

    json_decref(g.tx[5]);
    g.tx[5] = make_tx(g.org_pk, g.org_sk, "core", "key.add", "admin",
                      json_pack("{s:s,s:s}", "principal", "admin", "key", b64(g.org2_pk, 32)), 5);
    /* the log changed: rebuild leaf 5 and the checkpoint */
    {
        struct chain_tx *t = NULL;
        struct chain_checkpoint cp;
        char *body = NULL;

        ck_assert_int_eq(chain_tx_from_json(g.tx[5], &t), 0);
        memcpy(g.leaf[5], t->leaf_hash, 32);
        memcpy(g.id[5], t->id_hex, 65);
        chain_tx_free(t);
        memset(&cp, 0, sizeof(cp));
        strcpy(cp.origin, ORIGIN);
        cp.size = N_LEAVES;
        ck_assert_int_eq(chain_merkle_root((const uint8_t(*)[32])g.leaf, N_LEAVES, cp.root), 0);
        cp.height = 3;
        ck_assert_int_eq(chain_checkpoint_format(&cp, &body), 0);
        free(g.note);
        ck_assert_int_eq(chain_note_sign(body, ORIGIN, g.node_sk, &g.note), 0);
        free(body);
    }
    b = bundle(5, ev, 2);
    run(b, &r);
    expect(&r, "++++-");
    ck_assert_ptr_nonnull(strstr(r.line[4], "belongs to pku, not to admin"));
    json_decref(b);
}
END_TEST

START_TEST(mangled_bundles)
{
    const char *texts[] = {
        "null",
        "[]",
        "\"x\"",
        "{}",
        "{\"tx\":1,\"proof\":[],\"checkpoint\":5,\"key_evidence\":{}}",
        "{\"tx\":{},\"proof\":{\"leaf_index\":-1,\"tree_size\":0,\"leaf_hash\":\"\",\"path\":[1]}}",
        "{\"proof\":{\"leaf_index\":1,\"tree_size\":1,\"leaf_hash\":\"AAAA\",\"path\":[]},"
        "\"checkpoint\":\"\\n\\n\"}",
        "{\"checkpoint\":\"a\\n\\n\\n\\n\\u2014 x AAAA\\n\",\"key_evidence\":[null,1,{}]}",
    };
    struct rep r;

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_t *b = json_loads(texts[i], JSON_DECODE_ANY, NULL);

        ck_assert_ptr_nonnull(b);
        run(b, &r);
        expect(&r, "-----");
        json_decref(b);
    }
}
END_TEST

START_TEST(mangled_fields_of_valid_bundle)
{
    /* every field of a valid bundle replaced by values of the wrong type or range */
    const char *fields[] = {"tx_id", "leaf_index", "tx", "checkpoint", "proof", "key_evidence"};
    json_t *bad[] = {json_null(),    json_integer(-1), json_integer(INT64_MAX), json_string(""),
                     json_real(1.5), json_array(),     json_object(),           json_true()};
    struct rep r;

    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        for (size_t v = 0; v < sizeof(bad) / sizeof(bad[0]); v++) {
            json_t *b = bundle(2, ev_pku, 3);

            json_object_set(b, fields[f], bad[v]);
            run(b, &r);
            ck_assert_int_eq(r.rc, 1);
            ck_assert_int_eq(r.n, 5);
            json_decref(b);
        }
    }
    /* the same inside the proof and the first evidence entry */
    for (size_t v = 0; v < sizeof(bad) / sizeof(bad[0]); v++) {
        const char *pf[] = {"leaf_index", "tree_size", "leaf_hash", "path"};

        for (size_t f = 0; f < 4; f++) {
            json_t *b = bundle(2, ev_pku, 3);
            json_t *ev = json_array_get(json_object_get(b, "key_evidence"), 0);

            json_object_set(json_object_get(b, "proof"), pf[f], bad[v]);
            json_object_set(json_object_get(ev, "proof"), pf[f], bad[v]);
            json_object_set(ev, "tx", bad[v]);
            run(b, &r);
            ck_assert_int_eq(r.rc, 1);
            ck_assert_int_eq(r.n, 5);
            json_decref(b);
        }
    }
    for (size_t v = 0; v < sizeof(bad) / sizeof(bad[0]); v++)
        json_decref(bad[v]);
}
END_TEST

START_TEST(byte_flips_never_crash)
{
    /* flip each byte of the bundle text in turn: whatever parses must verify to a clean report;
     * a flip that changes a signed or hashed byte must not verify */
    json_t *b = bundle(6, ev_pku2, 4);
    char *text = json_dumps(b, JSON_COMPACT), *free_zone;
    size_t len = strlen(text), zone_start, zone_end;
    struct rep r;

    /* the only bytes nothing vouches for: the bundle's own "leaf_index" (optional, checked
     * against the proof when present) and "height" (informative) */
    free_zone = strstr(text, "\"leaf_index\":6,\"height\":3,");
    ck_assert_ptr_nonnull(free_zone);
    zone_start = (size_t)(free_zone - text);
    zone_end = zone_start + strlen("\"leaf_index\":6,\"height\":3,");
    for (size_t i = 0; i < len; i++) {
        json_t *m;

        text[i] ^= 0x01;
        m = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        if (m != NULL) {
            run(m, &r);
            ck_assert_int_eq(r.n, 5);
            ck_assert_msg(r.rc == 1 || (i >= zone_start && i < zone_end),
                          "a flip at byte %zu still verifies", i);
            json_decref(m);
        }
        text[i] ^= 0x01;
    }
    free(text);
    json_decref(b);
}
END_TEST

START_TEST(keys_parse)
{
    char text[4 * CHAIN_NOTE_VKEY_MAX], vkey[CHAIN_NOTE_VKEY_MAX], why[128];
    struct chain_note_verifier out[4];
    size_t n = 99;

    ck_assert_int_eq(chain_note_verifier_format(&g.node, vkey, sizeof(vkey)), 0);
    snprintf(text, sizeof(text), "# validators\n\n%s\r\n%s\n", vkey, vkey);
    ck_assert_int_eq(cli_keys_parse(text, strlen(text), out, 4, &n, why, sizeof(why)), 0);
    ck_assert_uint_eq(n, 1); /* listed twice, kept once */
    ck_assert_str_eq(out[0].name, ORIGIN);
    ck_assert_mem_eq(out[0].pubkey, g.node_pk, 32);

    snprintf(text, sizeof(text), "%s\nnot-a-key\n", vkey);
    ck_assert_int_eq(cli_keys_parse(text, strlen(text), out, 4, &n, why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "line 2"));
    vkey[strlen(vkey) - 3] ^= 0x01; /* key bytes no longer match the key hash */
    ck_assert_int_eq(cli_keys_parse(vkey, strlen(vkey), out, 4, &n, why, sizeof(why)), -1);
    ck_assert_int_eq(cli_keys_parse("", 0, out, 4, &n, why, sizeof(why)), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *cli_verify_suite(void)
{
    Suite *s = suite_create("cli_verify");
    TCase *tc = tcase_create("bundle");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, valid_bundle);
    tcase_add_test(tc, every_leaf_with_full_evidence);
    tcase_add_test(tc, changed_byte_in_tx);
    tcase_add_test(tc, changed_tx_id);
    tcase_add_test(tc, changed_signature_in_tx);
    tcase_add_test(tc, changed_byte_in_path);
    tcase_add_test(tc, changed_byte_in_root);
    tcase_add_test(tc, changed_byte_in_checkpoint_signature);
    tcase_add_test(tc, unknown_validator);
    tcase_add_test(tc, missing_key_evidence);
    tcase_add_test(tc, signed_after_revocation);
    tcase_add_test(tc, signed_before_later_revocation);
    tcase_add_test(tc, second_key_needs_its_key_add);
    tcase_add_test(tc, tampered_evidence);
    tcase_add_test(tc, wrong_signer_for_org);
    tcase_add_test(tc, mangled_bundles);
    tcase_add_test(tc, mangled_fields_of_valid_bundle);
    tcase_add_test(tc, byte_flips_never_crash);
    tcase_add_test(tc, keys_parse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(cli_verify_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
