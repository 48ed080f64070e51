/*
 * The ledger read endpoints and `lianxind audit` against a real lianxind and a real PostgreSQL:
 * txs submitted through POST /api/chain/tx are looked up, proved (latest and older checkpoints),
 * checked for consistency, listed by block and bundled with their key evidence, every proof
 * verified with chain/ against a checkpoint verified with the keys the server lists. Then the
 * audit passes a clean database and names the spot of each kind of tampering.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include "../../chain/jcs.h"
#include "../../chain/merkle.h"
#include "../../server/nodes.h"

#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* One tx this test put on the ledger. */
struct rec {
    char id[CHAIN_TX_ID_HEX_LEN + 1]; /* tx id */
    uint64_t leaf;                    /* leaf index */
    uint64_t height;                  /* block */
    json_t *tx;                       /* the envelope submitted (owned) */
};

/* What populate() made: leaves 1..8 (leaf 0 is genesis).
 *   1 org.register pku (key kp, by admin)      2 org.register thu (by admin)
 *   3 principal.register alice (self-signed)   4-6 org.register a1..a3 (one array, one block)
 *   7 key.add pku kp2 (signed by kp)           8 key.revoke pku kp (signed by kp2) */
#define N_RECS 9
struct ledger {
    struct rec r[N_RECS]; /* r[1..8] */
};

static struct lx_server srv;
static struct ledger led;

/* ---- helpers ---------------------------------------------------------------------------- */

/* GETs path, asserts the status, returns the parsed JSON body (json_decref it). */
static json_t *get_json(struct lx_server *s, const char *path, long status)
{
    struct lx_resp r;
    json_t *doc;

    lx_http(s, "GET", path, NULL, 0, NULL, &r);
    ck_assert_msg(r.status == status, "GET %s: %ld, wanted %ld: %s", path, r.status, status,
                  r.body);
    doc = json_loads(r.body, 0, NULL);
    ck_assert_msg(doc != NULL, "GET %s: not JSON: %s", path, r.body);
    lx_resp_free(&r);
    return doc;
}

/* Asserts that GET path answers a DESIGN §3.4 error with this status and code. */
static void assert_error(struct lx_server *s, const char *path, long status, const char *code)
{
    json_t *doc = get_json(s, path, status);
    const char *got = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));

    ck_assert_msg(got != NULL && strcmp(got, code) == 0, "GET %s: code %s, wanted %s", path,
                  got ? got : "(none)", code);
    json_decref(doc);
}

static uint64_t u64(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
    return (uint64_t)json_integer_value(v);
}

static void hash_b64(const json_t *v, uint8_t out[CHAIN_HASH_LEN])
{
    const char *s = json_string_value(v);

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(chain_b64_decode_exact(s, strlen(s), out, CHAIN_HASH_LEN), 0);
}

/* Decodes a JSON array of base64 hashes into path; returns its length. */
static size_t path_of(const json_t *arr, uint8_t (*path)[CHAIN_HASH_LEN])
{
    ck_assert(json_is_array(arr));
    ck_assert_uint_le(json_array_size(arr), CHAIN_MERKLE_MAX_PATH);
    for (size_t i = 0; i < json_array_size(arr); i++)
        hash_b64(json_array_get(arr, i), path[i]);
    return json_array_size(arr);
}

/* Verifies note with the keys of GET /api/chain/keys and parses its checkpoint into *cp. */
static void open_checkpoint(struct lx_server *s, const char *note, struct chain_checkpoint *cp)
{
    struct chain_note_verifier known[8];
    struct chain_note_opened op;
    struct lx_resp r;
    char ct[128];
    size_t n = 0;

    lx_http(s, "GET", "/api/chain/keys", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lx_header(&r, "Content-Type", ct, sizeof(ct)), "text/plain; charset=utf-8");
    for (char *line = strtok(r.body, "\n"); line != NULL && n < 8; line = strtok(NULL, "\n"))
        ck_assert_int_eq(chain_note_verifier_parse(line, &known[n++]), 0);
    ck_assert_uint_ge(n, 1);
    lx_resp_free(&r);
    ck_assert_int_eq(chain_note_open(note, strlen(note), known, n, &op), 0);
    ck_assert_uint_ge(op.n_valid, 1);
    ck_assert_int_eq(chain_checkpoint_parse(op.text, op.text_len, cp), 0);
}

/* Verifies a {"leaf_index","tree_size","leaf_hash","path"} object for tx (the envelope) against
 * root, and that it proves leaf `leaf` in a tree of size `size`. */
static void check_proof(const json_t *proof, const json_t *tx, uint64_t leaf, uint64_t size,
                        const uint8_t root[CHAIN_HASH_LEN])
{
    uint8_t leaf_hash[CHAIN_HASH_LEN], mine[CHAIN_HASH_LEN];
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    size_t n, len;
    char *jcs;

    ck_assert_uint_eq(u64(proof, "leaf_index"), leaf);
    ck_assert_uint_eq(u64(proof, "tree_size"), size);
    hash_b64(json_object_get(proof, "leaf_hash"), leaf_hash);
    ck_assert_int_eq(chain_jcs_dump(tx, &jcs, &len), 0);
    chain_merkle_leaf_hash((const uint8_t *)jcs, len, mine);
    free(jcs);
    ck_assert_mem_eq(mine, leaf_hash, CHAIN_HASH_LEN);
    n = path_of(json_object_get(proof, "path"), path);
    ck_assert_int_eq(chain_merkle_inclusion_verify(leaf, size, leaf_hash,
                                                   (const uint8_t(*)[CHAIN_HASH_LEN])path, n, root),
                     0);
}

/* Submits doc (one tx or an array) and returns the answer (json_decref it). */
static json_t *submit(struct lx_server *s, const json_t *doc)
{
    struct lx_resp r;
    json_t *ans;

    lx_submit(s, doc, &r);
    ck_assert_msg(r.status == 200, "submit: %ld %s", r.status, r.body);
    ans = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(ans);
    lx_resp_free(&r);
    return ans;
}

/* Records the tx tx (stolen) with its submission answer ans (borrowed) as l->r[i]. */
static void record(struct ledger *l, size_t i, json_t *tx, const json_t *ans)
{
    const char *id = json_string_value(json_object_get(ans, "tx_id"));

    ck_assert_ptr_nonnull(id);
    ck_assert_uint_eq(strlen(id), CHAIN_TX_ID_HEX_LEN);
    memcpy(l->r[i].id, id, CHAIN_TX_ID_HEX_LEN + 1);
    l->r[i].leaf = u64(ans, "leaf_index");
    l->r[i].height = u64(ans, "height");
    l->r[i].tx = tx;
    ck_assert_uint_eq(l->r[i].leaf, i);
}

static json_t *org_register(const struct chain_note_signer *admin, const char *id,
                            const struct chain_note_signer *key)
{
    char pub[64];

    lx_pub_b64(key, pub, sizeof(pub));
    return lx_tx(
        admin, "core", "org.register", "admin",
        json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", id, "type", "university", "key", pub));
}

/* Submits one tx, records it as l->r[i]. */
static void put(struct lx_server *s, struct ledger *l, size_t i, json_t *tx)
{
    json_t *ans = submit(s, tx);

    record(l, i, tx, ans);
    json_decref(ans);
}

/* Puts the txs described at struct ledger on s's fresh chain. */
static void populate(struct lx_server *s, struct ledger *l)
{
    struct chain_note_signer admin, kp, kp2, kt, ka, k1, k2, k3;
    json_t *arr, *ans;
    char pub[64];

    memset(l, 0, sizeof(*l));
    lx_admin_key(s, &admin);
    lx_keygen("pku", &kp);
    lx_keygen("pku2", &kp2);
    lx_keygen("thu", &kt);
    lx_keygen("alice", &ka);
    lx_keygen("a1", &k1);
    lx_keygen("a2", &k2);
    lx_keygen("a3", &k3);
    put(s, l, 1, org_register(&admin, "pku", &kp));
    put(s, l, 2, org_register(&admin, "thu", &kt));
    lx_pub_b64(&ka, pub, sizeof(pub));
    put(s, l, 3,
        lx_tx(&ka, "core", "principal.register", "alice",
              json_pack("{s:s, s:s, s:s}", "id", "alice", "type", "student", "key", pub)));
    arr = json_pack("[o, o, o]", org_register(&admin, "a1", &k1), org_register(&admin, "a2", &k2),
                    org_register(&admin, "a3", &k3));
    ans = submit(s, arr);
    ck_assert_uint_eq(json_array_size(ans), 3);
    for (size_t i = 0; i < 3; i++)
        record(l, 4 + i, json_incref(json_array_get(arr, i)), json_array_get(ans, i));
    json_decref(ans);
    json_decref(arr);
    ck_assert_uint_eq(l->r[4].height, l->r[6].height); /* one submission, one block */
    lx_pub_b64(&kp2, pub, sizeof(pub));
    put(s, l, 7,
        lx_tx(&kp, "core", "key.add", "pku",
              json_pack("{s:s, s:s}", "principal", "pku", "key", pub)));
    lx_pub_b64(&kp, pub, sizeof(pub));
    put(s, l, 8,
        lx_tx(&kp2, "core", "key.revoke", "pku",
              json_pack("{s:s, s:s}", "principal", "pku", "key", pub)));
    sodium_memzero(&admin, sizeof(admin));
}

static void ledger_free(struct ledger *l)
{
    for (size_t i = 0; i < N_RECS; i++)
        json_decref(l->r[i].tx);
    memset(l, 0, sizeof(*l));
}

/* The latest checkpoint, verified: fills *cp. */
static void latest(struct lx_server *s, struct chain_checkpoint *cp)
{
    struct lx_resp r;
    char ct[128];

    lx_http(s, "GET", "/api/chain/checkpoint", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lx_header(&r, "Content-Type", ct, sizeof(ct)), "text/plain; charset=utf-8");
    open_checkpoint(s, r.body, cp);
    lx_resp_free(&r);
}

/* ---- the read endpoints ----------------------------------------------------------------- */

static void api_start(void)
{
    memset(&srv, 0, sizeof(srv));
    lx_server_start(&srv, NULL);
    populate(&srv, &led);
}

static void api_stop(void)
{
    ledger_free(&led);
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

START_TEST(checkpoint_signed_by_listed_keys)
{
    struct chain_checkpoint cp;

    latest(&srv, &cp);
    ck_assert_str_eq(cp.origin, LX_TEST_ORIGIN);
    ck_assert_uint_eq(cp.size, 9);
    ck_assert_uint_eq(cp.height, led.r[8].height);
}
END_TEST

START_TEST(tx_lookup)
{
    for (size_t i = 1; i < N_RECS; i++) {
        char path[128];
        json_t *doc;

        snprintf(path, sizeof(path), "/api/chain/tx/%s", led.r[i].id);
        doc = get_json(&srv, path, 200);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "tx_id")), led.r[i].id);
        ck_assert_uint_eq(u64(doc, "leaf_index"), led.r[i].leaf);
        ck_assert_uint_eq(u64(doc, "height"), led.r[i].height);
        ck_assert_msg(json_equal(json_object_get(doc, "tx"), led.r[i].tx), "tx %zu differs", i);
        json_decref(doc);
    }
}
END_TEST

START_TEST(proof_against_latest_checkpoint)
{
    for (size_t i = 1; i < N_RECS; i++) {
        struct chain_checkpoint cp;
        char path[128];
        json_t *doc;

        snprintf(path, sizeof(path), "/api/chain/proof/%s", led.r[i].id);
        doc = get_json(&srv, path, 200);
        open_checkpoint(&srv, json_string_value(json_object_get(doc, "checkpoint")), &cp);
        ck_assert_uint_eq(cp.size, 9);
        check_proof(doc, led.r[i].tx, led.r[i].leaf, cp.size, cp.root);
        json_decref(doc);
    }
}
END_TEST

START_TEST(proof_against_older_checkpoint)
{
    /* Leaf 1 proved in the tree of the block that holds leaf 3 (size 4). */
    struct chain_checkpoint cp;
    uint8_t root[CHAIN_HASH_LEN];
    char path[160];
    json_t *block, *doc;

    snprintf(path, sizeof(path), "/api/chain/blocks/%llu", (unsigned long long)led.r[3].height);
    block = get_json(&srv, path, 200);
    ck_assert_uint_eq(u64(block, "tree_size"), 4);
    hash_b64(json_object_get(block, "root"), root);
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=4", led.r[1].id);
    doc = get_json(&srv, path, 200);
    ck_assert_uint_eq(u64(doc, "tree_size"), 4);
    open_checkpoint(&srv, json_string_value(json_object_get(doc, "checkpoint")), &cp);
    ck_assert_uint_eq(cp.size, 4);
    ck_assert_uint_eq(cp.height, led.r[3].height);
    ck_assert_mem_eq(cp.root, root, CHAIN_HASH_LEN);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "checkpoint")),
                     json_string_value(json_object_get(block, "checkpoint")));
    check_proof(doc, led.r[1].tx, 1, 4, root);
    json_decref(doc);
    json_decref(block);
}
END_TEST

/* Root and size of the block at height h. */
static uint64_t block_root(uint64_t h, uint8_t root[CHAIN_HASH_LEN])
{
    char path[96];
    json_t *b;
    uint64_t size;

    snprintf(path, sizeof(path), "/api/chain/blocks/%llu", (unsigned long long)h);
    b = get_json(&srv, path, 200);
    hash_b64(json_object_get(b, "root"), root);
    size = u64(b, "tree_size");
    json_decref(b);
    return size;
}

START_TEST(consistency_between_blocks)
{
    /* Every pair of block sizes (old <= new) proves consistent; a wrong old root does not. */
    uint64_t top = led.r[8].height;

    for (uint64_t a = 0; a <= top; a++) {
        for (uint64_t b = a; b <= top; b++) {
            uint8_t ra[CHAIN_HASH_LEN], rb[CHAIN_HASH_LEN];
            uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
            uint64_t sa = block_root(a, ra), sb = block_root(b, rb);
            char q[128];
            json_t *doc;
            size_t n;

            snprintf(q, sizeof(q), "/api/chain/consistency?from=%llu&to=%llu",
                     (unsigned long long)sa, (unsigned long long)sb);
            doc = get_json(&srv, q, 200);
            ck_assert_uint_eq(u64(doc, "from"), sa);
            ck_assert_uint_eq(u64(doc, "to"), sb);
            n = path_of(json_object_get(doc, "path"), path);
            ck_assert_msg(chain_merkle_consistency_verify(
                              sa, sb, ra, rb, (const uint8_t(*)[CHAIN_HASH_LEN])path, n) == 0,
                          "consistency %llu -> %llu does not verify", (unsigned long long)sa,
                          (unsigned long long)sb);
            if (sa < sb && sa > 1) {
                ra[0] ^= 1;
                ck_assert_int_ne(chain_merkle_consistency_verify(
                                     sa, sb, ra, rb, (const uint8_t(*)[CHAIN_HASH_LEN])path, n),
                                 0);
            }
            json_decref(doc);
        }
    }
}
END_TEST

START_TEST(blocks_pagination)
{
    uint64_t top = led.r[8].height, expect = top, next_leaf_end = 9;
    char path[128];
    int pages = 0;

    snprintf(path, sizeof(path), "/api/chain/blocks?limit=2");
    for (;;) {
        json_t *doc = get_json(&srv, path, 200), *list = json_object_get(doc, "blocks");
        json_t *next = json_object_get(doc, "next_before");

        pages++;
        ck_assert(json_is_array(list));
        ck_assert_uint_le(json_array_size(list), 2);
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *b = json_array_get(list, i);
            uint8_t root[CHAIN_HASH_LEN];

            ck_assert_uint_eq(u64(b, "height"), expect);
            ck_assert_uint_eq(u64(b, "tree_size"), next_leaf_end);
            ck_assert_uint_eq(u64(b, "first_leaf") + u64(b, "n_txs"), next_leaf_end);
            ck_assert(json_is_integer(json_object_get(b, "time_ms")));
            hash_b64(json_object_get(b, "root"), root);
            next_leaf_end = u64(b, "first_leaf");
            expect--;
        }
        if (json_is_null(next)) {
            json_decref(doc);
            break;
        }
        ck_assert_uint_eq((uint64_t)json_integer_value(next), expect + 1);
        snprintf(path, sizeof(path), "/api/chain/blocks?limit=2&before=%lld",
                 (long long)json_integer_value(next));
        json_decref(doc);
    }
    ck_assert_uint_eq(expect, (uint64_t)-1); /* all the way down to genesis */
    ck_assert_uint_eq(next_leaf_end, 0);
    ck_assert_int_eq(pages, (int)((top + 2) / 2));
}
END_TEST

START_TEST(blocks_default_and_max_limit)
{
    json_t *doc = get_json(&srv, "/api/chain/blocks", 200);

    ck_assert_uint_eq(json_array_size(json_object_get(doc, "blocks")), led.r[8].height + 1);
    ck_assert(json_is_null(json_object_get(doc, "next_before")));
    json_decref(doc);
    doc = get_json(&srv, "/api/chain/blocks?limit=1000", 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "blocks")), led.r[8].height + 1);
    json_decref(doc);
}
END_TEST

START_TEST(block_detail_lists_tx_ids)
{
    struct chain_checkpoint cp;
    char path[96];
    json_t *doc, *ids;

    snprintf(path, sizeof(path), "/api/chain/blocks/%llu", (unsigned long long)led.r[4].height);
    doc = get_json(&srv, path, 200);
    ids = json_object_get(doc, "tx_ids");
    ck_assert_uint_eq(u64(doc, "height"), led.r[4].height);
    ck_assert_uint_eq(u64(doc, "first_leaf"), 4);
    ck_assert_uint_eq(u64(doc, "n_txs"), 3);
    ck_assert_uint_eq(u64(doc, "tree_size"), 7);
    ck_assert_uint_eq(json_array_size(ids), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(json_string_value(json_array_get(ids, i)), led.r[4 + i].id);
    open_checkpoint(&srv, json_string_value(json_object_get(doc, "checkpoint")), &cp);
    ck_assert_uint_eq(cp.size, 7);
    ck_assert_uint_eq(cp.height, led.r[4].height);
    json_decref(doc);
}
END_TEST

/* Checks a bundle for r: tx, proof and every evidence proof against the bundle's checkpoint, and
 * that the evidence is exactly the leaves want[0..n) in order. */
static void check_bundle(const struct rec *r, const uint64_t *want, size_t n)
{
    struct chain_checkpoint cp;
    char path[128];
    json_t *doc, *ev;

    snprintf(path, sizeof(path), "/api/chain/bundle/%s", r->id);
    doc = get_json(&srv, path, 200);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "tx_id")), r->id);
    ck_assert_uint_eq(u64(doc, "leaf_index"), r->leaf);
    ck_assert_uint_eq(u64(doc, "height"), r->height);
    ck_assert(json_equal(json_object_get(doc, "tx"), r->tx));
    open_checkpoint(&srv, json_string_value(json_object_get(doc, "checkpoint")), &cp);
    check_proof(json_object_get(doc, "proof"), r->tx, r->leaf, cp.size, cp.root);
    ev = json_object_get(doc, "key_evidence");
    ck_assert_msg(json_array_size(ev) == n, "%zu evidence entries, wanted %zu: %s",
                  json_array_size(ev), n, json_dumps(ev, JSON_COMPACT));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(ev, i), *tx = json_object_get(e, "tx");
        struct chain_tx *parsed = NULL;

        ck_assert_uint_eq(u64(e, "leaf_index"), want[i]);
        ck_assert_int_eq(chain_tx_from_json(tx, &parsed), 0);
        ck_assert_str_eq(json_string_value(json_object_get(e, "tx_id")), parsed->id_hex);
        ck_assert_int_eq(chain_tx_verify_sig(parsed), 0);
        if (want[i] == 0)
            ck_assert_str_eq(parsed->type, "genesis");
        else
            ck_assert(json_equal(tx, led.r[want[i]].tx));
        chain_tx_free(parsed);
        check_proof(json_object_get(e, "proof"), tx, want[i], cp.size, cp.root);
    }
    json_decref(doc);
}

START_TEST(bundle_key_evidence)
{
    /* key.add signed by pku's first key: genesis, pku's registration (which added that key)
     * and the later revocation of that key (LEDGER.md §6: every revocation of those keys). */
    static const uint64_t for7[] = {0, 1, 8};
    /* key.revoke signed by the added key: also the key.add that added it (signed by the
     * first key, whose revocation is this very tx). */
    static const uint64_t for8[] = {0, 1, 7};
    /* Admin-signed registration: genesis only. */
    static const uint64_t for2[] = {0};

    check_bundle(&led.r[7], for7, 3);
    check_bundle(&led.r[8], for8, 3);
    check_bundle(&led.r[2], for2, 1);
}
END_TEST

START_TEST(bundle_self_registered)
{
    /* principal.register is its own authority: only genesis is needed besides it. */
    static const uint64_t for3[] = {0};

    check_bundle(&led.r[3], for3, 1);
}
END_TEST

START_TEST(client_errors)
{
    char path[256], upper[CHAIN_TX_ID_HEX_LEN + 1];
    const char *unknown = "00000000000000000000000000000000000000000000000000000000000000ff";

    for (size_t i = 0; i <= CHAIN_TX_ID_HEX_LEN; i++)
        upper[i] = (char)(led.r[1].id[i] >= 'a' && led.r[1].id[i] <= 'f' ? led.r[1].id[i] - 32
                                                                         : led.r[1].id[i]);
    assert_error(&srv, "/api/chain/tx/abc", 400, "bad_tx_id");
    snprintf(path, sizeof(path), "/api/chain/tx/%s", upper);
    if (strcmp(upper, led.r[1].id) != 0)
        assert_error(&srv, path, 400, "bad_tx_id");
    snprintf(path, sizeof(path), "/api/chain/tx/%s0", led.r[1].id);
    assert_error(&srv, path, 400, "bad_tx_id");
    snprintf(path, sizeof(path), "/api/chain/tx/%s", unknown);
    assert_error(&srv, path, 404, "not_found");
    snprintf(path, sizeof(path), "/api/chain/proof/%s", unknown);
    assert_error(&srv, path, 404, "not_found");
    assert_error(&srv, "/api/chain/proof/xyz", 400, "bad_tx_id");
    snprintf(path, sizeof(path), "/api/chain/bundle/%s", unknown);
    assert_error(&srv, path, 404, "not_found");
    assert_error(&srv, "/api/chain/bundle/xyz", 400, "bad_tx_id");

    /* tree_size: not above the leaf, not a number, not a block's size. */
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=3", led.r[3].id);
    assert_error(&srv, path, 422, "bad_tree_size");
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=0", led.r[1].id);
    assert_error(&srv, path, 422, "bad_tree_size");
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=abc", led.r[1].id);
    assert_error(&srv, path, 400, "bad_parameter");
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=-1", led.r[1].id);
    assert_error(&srv, path, 400, "bad_parameter");
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=99999999999999999999", led.r[1].id);
    assert_error(&srv, path, 400, "bad_parameter");
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=5", led.r[1].id); /* mid-block */
    assert_error(&srv, path, 404, "not_found");
    snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=1000", led.r[1].id);
    assert_error(&srv, path, 404, "not_found");

    /* consistency ranges */
    assert_error(&srv, "/api/chain/consistency?from=0&to=5", 422, "bad_range");
    assert_error(&srv, "/api/chain/consistency?from=6&to=5", 422, "bad_range");
    assert_error(&srv, "/api/chain/consistency?from=1&to=10", 422, "bad_range");
    assert_error(&srv, "/api/chain/consistency?from=1", 400, "bad_parameter");
    assert_error(&srv, "/api/chain/consistency?to=3", 400, "bad_parameter");
    assert_error(&srv, "/api/chain/consistency?from=a&to=3", 400, "bad_parameter");
    assert_error(&srv, "/api/chain/consistency?from=1&to=3x", 400, "bad_parameter");

    /* blocks */
    assert_error(&srv, "/api/chain/blocks/abc", 400, "bad_parameter");
    assert_error(&srv, "/api/chain/blocks/-1", 400, "bad_parameter");
    assert_error(&srv, "/api/chain/blocks/99999", 404, "not_found");
    assert_error(&srv, "/api/chain/blocks?limit=0", 400, "bad_parameter");
    assert_error(&srv, "/api/chain/blocks?limit=x", 400, "bad_parameter");
    assert_error(&srv, "/api/chain/blocks?before=x", 400, "bad_parameter");
}
END_TEST

/* ---- lianxind audit --------------------------------------------------------------------- */

/* Runs `lianxind audit --db conninfo`; returns its exit status, its output in out. */
static int audit(const char *conninfo, char *out, size_t cap)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd), "%s audit --db '%s' 2>&1", lx_env("LIANXIN_TEST_BIN"), conninfo);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A populated database with its server stopped, ready for tampering. */
static void audit_fixture(struct lx_server *s, struct ledger *l)
{
    memset(s, 0, sizeof(*s));
    lx_db_create(s->dbname, sizeof(s->dbname));
    lx_server_start(s, NULL);
    populate(s, l);
    ck_assert_int_eq(lx_server_stop(s), 0);
}

START_TEST(audit_clean)
{
    struct lx_server s;
    struct ledger l;
    char out[8192];

    audit_fixture(&s, &l);
    ck_assert_msg(audit(s.conninfo, out, sizeof(out)) == 0, "audit: %s", out);
    ck_assert_msg(strstr(out, "audit: clean (") != NULL, "audit said: %s", out);
    ck_assert_msg(strstr(out, " 9 txs)") != NULL, "audit said: %s", out);
    /* The server comes back on the same database and the chain goes on. */
    lx_server_start(&s, NULL);
    {
        struct chain_note_signer admin, k;
        json_t *tx, *ans;

        lx_admin_key(&s, &admin);
        lx_keygen("later", &k);
        tx = org_register(&admin, "later", &k);
        ans = submit(&s, tx);
        ck_assert_uint_eq(u64(ans, "leaf_index"), 9);
        json_decref(ans);
        json_decref(tx);
    }
    ck_assert_int_eq(lx_server_stop(&s), 0);
    ck_assert_msg(audit(s.conninfo, out, sizeof(out)) == 0, "audit: %s", out);
    ck_assert_msg(strstr(out, " 10 txs)") != NULL, "audit said: %s", out);
    ledger_free(&l);
}
END_TEST

/* One way to tamper: SQL with %llu placeholders filled from the ledger, and what the report
 * must name. */
struct tamper {
    const char *name;
    const char *sql;    /* may use %1$llu: the leaf, %2$llu: the other leaf */
    size_t leaf, other; /* indexes into struct ledger */
    const char *where;  /* "leaf": expect "block H, leaf I"; "block": expect "block H:" */
    const char *what;   /* another substring the report must hold */
};

static const struct tamper tampers[] = {
    {"one leaf byte",
     "UPDATE txs SET leaf = overlay(leaf PLACING '\\x41'::bytea FROM length(leaf) - 3 FOR 1) "
     "WHERE leaf_index = %llu",
     5, 0, "leaf", "txs."},
    {"deleted row", "DELETE FROM txs WHERE leaf_index = %llu", 5, 0, "leaf", "no row"},
    {"leaf hash", "UPDATE txs SET tx_id = sha256(tx_id) WHERE leaf_index = %llu", 3, 0, "leaf",
     "txs."},
    /* Each row still holds a leaf and its own hash, so only the block's root shows it (the
     * lower Merkle nodes are not stored: server/nodes.h). */
    {"swapped leaves",
     "CREATE TEMP TABLE sw AS SELECT leaf_index, tx_id, leaf FROM txs "
     "WHERE leaf_index IN (%1$llu, %2$llu);"
     "UPDATE txs SET tx_id = '\\x00'::bytea || tx_id WHERE leaf_index IN (%1$llu, %2$llu);"
     "UPDATE txs t SET tx_id = s.tx_id, leaf = s.leaf FROM sw s "
     "WHERE t.leaf_index IN (%1$llu, %2$llu) AND s.leaf_index = %1$llu + %2$llu - t.leaf_index",
     4, 6, "block", "root"},
    {"checkpoint line",
     "UPDATE blocks SET checkpoint = regexp_replace(checkpoint, E'\\ntime ([0-9])', E'\\ntime 9') "
     "WHERE height = %llu",
     2, 0, "block", "checkpoint"},
};

START_TEST(audit_catches_tampering)
{
    const struct tamper *t = &tampers[_i];
    struct lx_server s;
    struct ledger l;
    char out[8192], sql[1024], where[96];
    unsigned long long leaf, other, height;

    audit_fixture(&s, &l);
    leaf = t->leaf;
    other = t->other;
    height = l.r[t->leaf].height;
    if (strcmp(t->where, "leaf") == 0) {
        snprintf(where, sizeof(where), "block %llu, leaf %llu:", height, leaf);
    } else {
        height = l.r[t->leaf].height;
        snprintf(where, sizeof(where), "block %llu:", height);
    }
    if (strcmp(t->name, "checkpoint line") == 0)
        snprintf(sql, sizeof(sql), t->sql, height);
    else
        snprintf(sql, sizeof(sql), t->sql, leaf, other);
    ck_assert_msg(lx_db_exec(s.dbname, sql) == 0, "%s: %s", t->name, sql);
    ck_assert_msg(audit(s.conninfo, out, sizeof(out)) == 1, "%s: audit did not fail: %s", t->name,
                  out);
    ck_assert_msg(strstr(out, "INCONSISTENT") != NULL, "%s: %s", t->name, out);
    ck_assert_msg(strstr(out, where) != NULL, "%s: report does not name '%s': %s", t->name, where,
                  out);
    ck_assert_msg(strstr(out, t->what) != NULL, "%s: report does not mention '%s': %s", t->name,
                  t->what, out);
    ledger_free(&l);
}
END_TEST

/* A stored Merkle node (level 6 and up: 64 leaves) changed: named at the leaf that completes
 * it. */
START_TEST(audit_catches_stored_node)
{
    struct chain_note_signer admin, keys[64];
    struct lx_server s;
    struct ledger l;
    json_t *batch = json_array(), *ans;
    char out[8192], where[96], *height;

    memset(&s, 0, sizeof(s));
    lx_db_create(s.dbname, sizeof(s.dbname));
    lx_server_start(&s, NULL);
    populate(&s, &l);
    lx_admin_key(&s, &admin);
    for (int i = 0; i < 64; i++) {
        char id[16];

        snprintf(id, sizeof(id), "many%d", i);
        lx_keygen(id, &keys[i]);
        json_array_append_new(batch, org_register(&admin, id, &keys[i]));
    }
    ans = submit(&s, batch);
    ck_assert_int_eq(json_array_size(ans), 64);
    json_decref(ans);
    json_decref(batch);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    ck_assert_int_eq(audit(s.conninfo, out, sizeof(out)), 0);
    height = lx_db_value(s.dbname, "SELECT height FROM txs WHERE leaf_index = 63", 0, NULL);
    ck_assert_int_eq(lx_db_exec(s.dbname, "UPDATE merkle_nodes SET hash = sha256(hash) "
                                          "WHERE level = 6 AND idx = 0"),
                     0);
    ck_assert_int_eq(audit(s.conninfo, out, sizeof(out)), 1);
    snprintf(where, sizeof(where), "block %s, leaf 63:", height);
    ck_assert_msg(strstr(out, where) != NULL && strstr(out, "merkle_nodes (level 6, idx 0)"),
                  "report does not name '%s' and the node: %s", where, out);
    free(height);
    ledger_free(&l);
}
END_TEST

/* ---- a log of several tiles ------------------------------------------------------------ */

/* merkle_nodes stores only nodes of level 6 and up and the server keeps them in memory
 * (server/nodes.h): every proof of a log that spans several 64-leaf tiles, in blocks that start
 * and end inside tiles, must still verify — at the head, at every older block, across a
 * restart that reloads the cache, and between every pair of blocks. */
#define BIG_BATCHES 8
static const int big_batch[BIG_BATCHES] = {1, 62, 1, 64, 70, 130, 5, 2};

struct big_tx {
    char id[CHAIN_TX_ID_HEX_LEN + 1];
    json_t *tx;
    uint64_t leaf;
};

/* Registers `count` organisations named prefix<first>, prefix<first + 1>, ... in one batch and
 * records each tx in out[]; returns how many were answered. */
static size_t register_batch(struct lx_server *s, const struct chain_note_signer *admin,
                             const char *prefix, int count, struct big_tx *out, size_t first)
{
    json_t *batch = json_array(), *ans;
    size_t n;

    for (int i = 0; i < count; i++) {
        struct chain_note_signer k;
        char id[24];

        snprintf(id, sizeof(id), "%s%zu", prefix, first + (size_t)i);
        lx_keygen(id, &k);
        json_array_append_new(batch, org_register(admin, id, &k));
    }
    ans = submit(s, batch);
    for (n = 0; n < json_array_size(ans); n++) {
        json_t *a = json_array_get(ans, n);

        snprintf(out[n].id, sizeof(out[n].id), "%s",
                 json_string_value(json_object_get(a, "tx_id")));
        out[n].leaf = u64(a, "leaf_index");
        out[n].tx = json_incref(json_array_get(batch, n));
    }
    json_decref(ans);
    json_decref(batch);
    return n;
}

static void big_check_head(struct lx_server *s, const struct big_tx *t, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step) {
        struct chain_checkpoint cp;
        char path[128];
        json_t *doc;

        snprintf(path, sizeof(path), "/api/chain/proof/%s", t[i].id);
        doc = get_json(s, path, 200);
        open_checkpoint(s, json_string_value(json_object_get(doc, "checkpoint")), &cp);
        check_proof(doc, t[i].tx, t[i].leaf, cp.size, cp.root);
        json_decref(doc);
    }
}

START_TEST(proofs_across_tiles)
{
    struct chain_note_signer admin;
    struct lx_server s;
    struct big_tx *t = calloc(400, sizeof(*t));
    uint64_t sizes[BIG_BATCHES];
    uint8_t roots[BIG_BATCHES][CHAIN_HASH_LEN];
    size_t n = 0;

    memset(&s, 0, sizeof(s));
    lx_server_start(&s, NULL);
    lx_admin_key(&s, &admin);
    for (int b = 0; b < BIG_BATCHES; b++) {
        struct chain_checkpoint cp;

        n += register_batch(&s, &admin, "tile", big_batch[b], t + n, n);
        latest(&s, &cp);
        sizes[b] = cp.size;
        memcpy(roots[b], cp.root, CHAIN_HASH_LEN);
    }
    ck_assert_uint_eq(n, 335);
    big_check_head(&s, t, n, 1);
    /* every leaf of the log proved at every older size that holds it */
    for (int b = 0; b < BIG_BATCHES; b++) {
        for (size_t i = 0; i < n && t[i].leaf < sizes[b]; i += 7) {
            char path[160];
            json_t *doc;

            snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=%llu", t[i].id,
                     (unsigned long long)sizes[b]);
            doc = get_json(&s, path, 200);
            check_proof(doc, t[i].tx, t[i].leaf, sizes[b], roots[b]);
            json_decref(doc);
        }
    }
    for (int a = 0; a < BIG_BATCHES; a++) {
        for (int b = a; b < BIG_BATCHES; b++) {
            uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
            char q[128];
            json_t *doc;

            snprintf(q, sizeof(q), "/api/chain/consistency?from=%llu&to=%llu",
                     (unsigned long long)sizes[a], (unsigned long long)sizes[b]);
            doc = get_json(&s, q, 200);
            ck_assert_msg(
                chain_merkle_consistency_verify(sizes[a], sizes[b], roots[a], roots[b],
                                                (const uint8_t(*)[CHAIN_HASH_LEN])path,
                                                path_of(json_object_get(doc, "path"), path)) == 0,
                "consistency %llu -> %llu", (unsigned long long)sizes[a],
                (unsigned long long)sizes[b]);
            json_decref(doc);
        }
    }
    /* a restart reloads the node cache from merkle_nodes; the chain goes on from there */
    ck_assert_int_eq(lx_server_stop(&s), 0);
    lx_server_start(&s, NULL);
    big_check_head(&s, t, n, 5);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    for (size_t i = 0; i < n; i++)
        json_decref(t[i].tx);
    free(t);
}
END_TEST

/* ---- the leaf copy (server/leafstore.h) ---- */

/* Waits until the leaf copy holds size leaves and leaf `at` reads back as want (when want is not
 * NULL). */
static void wait_copy(const char *bin, uint64_t size, uint64_t at, const uint8_t *want)
{
    long long until = lx_now_ms() + 20000;

    for (;;) {
        struct stat st;
        uint8_t got[CHAIN_HASH_LEN];
        int fd = open(bin, O_RDONLY), ok = 0;

        if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size == size * CHAIN_HASH_LEN)
            ok = want == NULL || (pread(fd, got, sizeof(got), (off_t)(at * CHAIN_HASH_LEN)) ==
                                      (ssize_t)sizeof(got) &&
                                  memcmp(got, want, sizeof(got)) == 0);
        if (fd >= 0)
            close(fd);
        if (ok)
            return;
        ck_assert_msg(lx_now_ms() < until, "the leaf copy %s did not reach %llu leaves", bin,
                      (unsigned long long)size);
        usleep(20000);
    }
}

/* Every tx's proof at the head is byte for byte the proof PostgreSQL gives for the same size. */
static void head_proofs_as_db(struct lx_server *s, const struct big_tx *t, size_t n, uint64_t size)
{
    for (size_t i = 0; i < n; i++) {
        char path[160];
        struct lx_resp a, b;

        snprintf(path, sizeof(path), "/api/chain/proof/%s", t[i].id);
        lx_http(s, "GET", path, NULL, 0, NULL, &a);
        snprintf(path, sizeof(path), "/api/chain/proof/%s?tree_size=%llu", t[i].id,
                 (unsigned long long)size);
        lx_http(s, "GET", path, NULL, 0, NULL, &b);
        ck_assert_int_eq(a.status, 200);
        ck_assert_int_eq(b.status, 200);
        ck_assert_str_eq(a.body, b.body);
        lx_resp_free(&a);
        lx_resp_free(&b);
    }
}

static void damage_leaf(const char *bin, uint64_t at, uint8_t saved[CHAIN_HASH_LEN])
{
    uint8_t junk[CHAIN_HASH_LEN];
    int fd = open(bin, O_RDWR);

    ck_assert_int_ge(fd, 0);
    memset(junk, 0x5a, sizeof(junk));
    ck_assert_int_eq(pread(fd, saved, CHAIN_HASH_LEN, (off_t)(at * CHAIN_HASH_LEN)),
                     CHAIN_HASH_LEN);
    ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), (off_t)(at * CHAIN_HASH_LEN)), CHAIN_HASH_LEN);
    close(fd);
}

static int log_has(const struct lx_server *s, const char *text)
{
    char *log = lx_read_file(s->err);
    int found = log != NULL && strstr(log, text) != NULL;

    free(log);
    return found;
}

/* Proofs at the head are built from the leaf copy in the data folder once it has caught up, and
 * are the same as PostgreSQL's. A copy damaged under a running node is caught by the check
 * against the checkpoint's root: that proof comes from PostgreSQL, and the copy is read again.
 * A copy damaged while the node was down is caught by the check at start. */
START_TEST(proofs_from_leaf_copy)
{
    struct chain_note_signer admin;
    struct chain_checkpoint cp;
    struct lx_server s;
    struct big_tx t[180];
    uint8_t saved[CHAIN_HASH_LEN];
    char bin[450], path[128];
    size_t n = 0, k = 0;
    json_t *doc;

    memset(&s, 0, sizeof(s));
    lx_server_start(&s, NULL);
    lx_admin_key(&s, &admin);
    for (int b = 0; b < 2; b++)
        n += register_batch(&s, &admin, "copy", 90, t + n, n);
    ck_assert_uint_eq(n, 180);
    latest(&s, &cp);
    snprintf(bin, sizeof(bin), "%s/data/leaves.bin", s.dir);
    wait_copy(bin, cp.size, 0, NULL);
    head_proofs_as_db(&s, t, n, cp.size);

    /* a sibling of t[k]'s leaf, in a whole tile, damaged under the running node */
    while (t[k].leaf < LX_NODES_TILE || t[k].leaf % 2 != 0)
        k++;
    damage_leaf(bin, t[k].leaf + 1, saved);
    snprintf(path, sizeof(path), "/api/chain/proof/%s", t[k].id);
    doc = get_json(&s, path, 200);
    check_proof(doc, t[k].tx, t[k].leaf, cp.size, cp.root);
    json_decref(doc);
    ck_assert(log_has(&s, "did not lead to the checkpoint's root"));
    wait_copy(bin, cp.size, t[k].leaf + 1, saved);
    head_proofs_as_db(&s, t, n, cp.size);

    /* damaged while the node was down: the check at start keeps only what agrees */
    ck_assert_int_eq(lx_server_stop(&s), 0);
    damage_leaf(bin, 3, saved);
    lx_server_start(&s, NULL);
    wait_copy(bin, cp.size, 3, saved);
    ck_assert(log_has(&s, "agree with the ledger"));
    head_proofs_as_db(&s, t, n, cp.size);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    for (size_t i = 0; i < n; i++)
        json_decref(t[i].tx);
}
END_TEST

/* 1 when txs has been analyzed by hand, i.e. by the sequencer (autovacuum's runs set
 * last_autoanalyze instead), else 0. last_analyze is set a moment before that ANALYZE commits
 * and pg_stats shows its statistics. */
static int txs_analyzed(const struct lx_server *s)
{
    char *v = lx_db_value(s->dbname,
                          "SELECT count(*) FROM pg_stat_user_tables "
                          "WHERE relname = 'txs' AND last_analyze IS NOT NULL",
                          0, NULL);
    int yes = v != NULL && strcmp(v, "1") == 0;

    free(v);
    return yes;
}

/* The columns of txs that pg_stats has statistics for, comma-separated ("" for none). */
static char *txs_stats(const struct lx_server *s)
{
    return lx_db_value(s->dbname,
                       "SELECT coalesce(string_agg(attname, ',' ORDER BY attname), '') "
                       "FROM pg_stats WHERE tablename = 'txs'",
                       0, NULL);
}

/* ---- the duplicate check (server/seq.c) ---- */

/* Posts txs as one batch; each item's error code goes to code[i] ("" when it was accepted). */
static void post_codes(struct lx_server *s, json_t *const *txs, size_t n, char (*code)[32])
{
    json_t *batch = json_array(), *ans;

    for (size_t i = 0; i < n; i++)
        json_array_append(batch, txs[i]);
    ans = submit(s, batch);
    ck_assert_uint_eq(json_array_size(ans), n);
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(ans, i);
        const char *c = json_string_value(json_object_get(json_object_get(it, "error"), "code"));

        snprintf(code[i], sizeof(code[i]), "%s", c != NULL ? c : "");
        if (c == NULL)
            (void)u64(it, "leaf_index");
    }
    json_decref(ans);
    json_decref(batch);
}

/* A replay is refused (409 duplicate_tx) whichever part of the check knows it: the copy (once it
 * has caught up), PostgreSQL (a node just started, whose copy is still being checked), or the
 * ids of the sequencer's newest blocks when the copy trails. That last case comes only by
 * timing: the copy's thread usually appends a small block before a client can send the next
 * request, so the window's rules are held by test_idwindow, not here. New txs in the same batch
 * are accepted, and the log grows by exactly them. */
START_TEST(replays_refused)
{
    struct chain_note_signer admin, k;
    struct chain_checkpoint cp;
    struct lx_server s;
    struct big_tx t[60];
    char bin[450], code[3][32], id[32];
    uint64_t size;
    size_t n;
    json_t *mix[3];

    memset(&s, 0, sizeof(s));
    lx_server_start(&s, NULL);
    lx_admin_key(&s, &admin);
    snprintf(bin, sizeof(bin), "%s/data/leaves.bin", s.dir);
    n = register_batch(&s, &admin, "dup", 20, t, 0);
    for (int round = 0; round < 20; round++) {
        /* at once, while the copy may still trail: a replay between two new txs */
        n += register_batch(&s, &admin, "dup", 1, t + n, n);
        snprintf(id, sizeof(id), "dupnew%d", round);
        lx_keygen(id, &k);
        mix[0] = org_register(&admin, id, &k);
        mix[1] = t[n - 1].tx;
        snprintf(id, sizeof(id), "dupnew%db", round);
        lx_keygen(id, &k);
        mix[2] = org_register(&admin, id, &k);
        latest(&s, &cp);
        size = cp.size;
        post_codes(&s, mix, 3, code);
        ck_assert_str_eq(code[0], "");
        ck_assert_str_eq(code[1], "duplicate_tx");
        ck_assert_str_eq(code[2], "");
        latest(&s, &cp);
        ck_assert_uint_eq(cp.size, size + 2);
        json_decref(mix[0]);
        json_decref(mix[2]);
    }
    /* the copy has caught up: it answers, and PostgreSQL confirms */
    latest(&s, &cp);
    wait_copy(bin, cp.size, 0, NULL);
    for (size_t i = 0; i < n; i += 7) {
        post_codes(&s, &t[i].tx, 1, code);
        ck_assert_str_eq(code[0], "duplicate_tx");
    }
    /* just started: the copy is checked again before it answers */
    ck_assert_int_eq(lx_server_stop(&s), 0);
    lx_server_start(&s, NULL);
    post_codes(&s, &t[3].tx, 1, code);
    ck_assert_str_eq(code[0], "duplicate_tx");
    latest(&s, &cp);
    ck_assert_uint_eq(cp.size, size + 2);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    for (size_t i = 0; i < n; i++)
        json_decref(t[i].tx);
}
END_TEST

/* The copy is never trusted: one that no longer holds an id in the log (its index file cut off
 * under the running node) lets a replay through the check, and when the rules accept the tx
 * again (an evidence anchor may be anchored twice) the unique index on txs.tx_id refuses the
 * block. That block fails (503, try again), the copy is read again, and the replay is then
 * refused as such; the log never holds a tx twice. The index file holds only leaves older than
 * the 32,768 kept in memory, hence a log of 34,000. */
START_TEST(copy_missing_an_id)
{
    struct chain_note_signer admin, court;
    struct chain_checkpoint cp;
    struct lx_server s;
    struct big_tx *t = calloc(34000, sizeof(*t));
    char bin[450], idx[450], code[1][32], pub[64];
    long long until;
    uint64_t size;
    size_t n = 0;
    int attempts = 0;
    json_t *anchor;

    memset(&s, 0, sizeof(s));
    lx_server_start(&s, NULL);
    lx_admin_key(&s, &admin);
    lx_keygen("misscourt", &court);
    lx_pub_b64(&court, pub, sizeof(pub));
    anchor = lx_tx(&admin, "core", "org.register", "admin",
                   json_pack("{s:s, s:s, s:s, s:s}", "id", "misscourt", "name", "Court", "type",
                             "court", "key", pub));
    post_codes(&s, &anchor, 1, code);
    ck_assert_str_eq(code[0], "");
    json_decref(anchor);
    anchor = lx_tx(&court, "evidence", "anchor", "misscourt",
                   json_pack("{s:s, s:s}", "sha256",
                             "5f3c0e6ad1b8a2f4c9e7d6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5",
                             "label", "exhibit 1"));
    post_codes(&s, &anchor, 1, code);
    ck_assert_str_eq(code[0], "");
    while (n < 34000)
        n += register_batch(&s, &admin, "miss", 1000, t + n, n);
    latest(&s, &cp);
    size = cp.size;
    snprintf(bin, sizeof(bin), "%s/data/leaves.bin", s.dir);
    snprintf(idx, sizeof(idx), "%s/data/leaves.idx", s.dir);
    wait_copy(bin, size, 0, NULL);
    ck_assert_int_eq(truncate(idx, 0), 0);
    until = lx_now_ms() + 20000;
    do {
        ck_assert_msg(lx_now_ms() < until, "the replay was not refused: %s", code[0]);
        if (attempts++)
            usleep(50000);
        post_codes(&s, &anchor, 1, code);
        ck_assert_msg(strcmp(code[0], "duplicate_tx") == 0 ||
                          strcmp(code[0], "db_unavailable") == 0,
                      "a replay answered %s", code[0][0] ? code[0] : "accepted");
    } while (strcmp(code[0], "duplicate_tx") != 0);
    ck_assert_int_gt(attempts, 1); /* the first went past the copy to the unique index */
    ck_assert(log_has(&s, "missed a tx id already in the log"));
    latest(&s, &cp);
    ck_assert_uint_eq(cp.size, size);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    json_decref(anchor);
    for (size_t i = 0; i < n; i++)
        json_decref(t[i].tx);
    free(t);
}
END_TEST

/* A young ledger's statistics are refreshed each time it doubles from 1,024 leaves (seq.c), so
 * the sequencer's prepared look-ups are not left with the plans of an empty table: no ANALYZE
 * before the first mark, one soon after it; and it skips the leaf's bytes, which no query
 * filters on. */
START_TEST(young_ledger_is_analyzed)
{
    struct chain_note_signer admin;
    struct lx_server s;
    struct big_tx *t = calloc(1200, sizeof(*t));
    long long until;
    size_t n = 0;
    char *v;

    memset(&s, 0, sizeof(s));
    lx_server_start(&s, NULL);
    lx_admin_key(&s, &admin);
    n += register_batch(&s, &admin, "young", 500, t, n);
    ck_assert_uint_eq(n, 500);
    ck_assert_int_eq(txs_analyzed(&s), 0);
    while (n < 1100)
        n += register_batch(&s, &admin, "young", 300, t + n, n);
    until = lx_now_ms() + 20000;
    while (!txs_analyzed(&s)) {
        ck_assert_msg(lx_now_ms() < until, "no ANALYZE after %zu leaves", n);
        usleep(50000);
    }
    /* every column the look-ups filter on has statistics; the leaf's bytes have none
     * (sql/034_txs_leaf_no_statistics.sql); read once that ANALYZE has committed */
    while ((v = txs_stats(&s)) != NULL && strstr(v, "tx_id") == NULL) {
        ck_assert_msg(lx_now_ms() < until, "txs analyzed, yet pg_stats has only \"%s\"", v);
        free(v);
        usleep(20000);
    }
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(strstr(v, "leaf_index"));
    ck_assert_msg(strstr(v, "leaf,") == NULL && strcmp(v + strlen(v) - 5, ",leaf") != 0,
                  "txs.leaf has statistics: %s", v);
    free(v);
    /* taken from the small sample (statistics target 10): a histogram of at most 11 bounds,
     * where the default target gives 101 for these 1,100 distinct leaf indexes */
    v = lx_db_value(s.dbname,
                    "SELECT array_length(histogram_bounds::text::bigint[], 1) FROM pg_stats "
                    "WHERE tablename = 'txs' AND attname = 'leaf_index'",
                    0, NULL);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(atoi(v) >= 2 && atoi(v) <= 11, "leaf_index histogram of %s bounds", v);
    free(v);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    for (size_t i = 0; i < n; i++)
        json_decref(t[i].tx);
    free(t);
}
END_TEST

START_TEST(audit_unreachable_database)
{
    char out[2048];

    /* Not "clean", not a crash: a failure exit with the reason. */
    ck_assert_int_ne(audit("host=/nonexistent dbname=x user=x", out, sizeof(out)), 0);
    ck_assert_ptr_null(strstr(out, "clean"));
    ck_assert_ptr_nonnull(strstr(out, "database"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ledger");
    TCase *api = tcase_create("api"), *aud = tcase_create("audit");
    SRunner *sr;
    int failed;

    tcase_set_timeout(api, 120);
    tcase_add_unchecked_fixture(api, api_start, api_stop);
    tcase_add_test(api, checkpoint_signed_by_listed_keys);
    tcase_add_test(api, tx_lookup);
    tcase_add_test(api, proof_against_latest_checkpoint);
    tcase_add_test(api, proof_against_older_checkpoint);
    tcase_add_test(api, consistency_between_blocks);
    tcase_add_test(api, blocks_pagination);
    tcase_add_test(api, blocks_default_and_max_limit);
    tcase_add_test(api, block_detail_lists_tx_ids);
    tcase_add_test(api, bundle_key_evidence);
    tcase_add_test(api, bundle_self_registered);
    tcase_add_test(api, client_errors);
    suite_add_tcase(s, api);

    tcase_set_timeout(aud, 120);
    tcase_add_test(aud, audit_clean);
    tcase_add_test(aud, audit_catches_stored_node);
    tcase_add_test(aud, proofs_across_tiles);
    tcase_add_test(aud, proofs_from_leaf_copy);
    tcase_add_test(aud, replays_refused);
    tcase_add_test(aud, copy_missing_an_id);
    tcase_add_test(aud, young_ledger_is_analyzed);
    tcase_add_loop_test(aud, audit_catches_tampering, 0, sizeof(tampers) / sizeof(tampers[0]));
    tcase_add_test(aud, audit_unreachable_database);
    suite_add_tcase(s, aud);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
