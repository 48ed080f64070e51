/* test_chain_merkle.c — the RFC 6962/9162 Merkle log: the reference vectors of
 * transparency-dev/merkle (proof/verify_test.go, rfc6962/rfc6962_test.go), and a differential
 * test against a naive recursive implementation of the RFC written here, for every tree size up
 * to 1000, with proofs built only from perfect-subtree hashes that the frontier emitted. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../chain/merkle.h"
#include "../../chain/sha256.h"

typedef uint8_t hash_t[32];

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;

    ck_assert_int_eq(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL), 0);
    ck_assert_uint_eq(got, n);
}

/* ---- reference vectors (transparency-dev/merkle proof/verify_test.go) ---- */

static const char *const ref_leaves[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

/* roots of the trees of sizes 0..8 over ref_leaves */
static const char *const ref_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct ref_proof {
    uint64_t a, b;       /* inclusion: leaf index, size; consistency: old, new size */
    size_t n;            /* path length */
    const char *path[3]; /* hex, bottom-up */
};

/* the Go vectors number leaves from 1; here they are 0-based leaf indices */
static const struct ref_proof ref_inclusion[] = {
    {0, 1, 0, {NULL}},
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct ref_proof ref_consistency[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

/* ---- a node store filled by the frontier's emit callback ---- */

#define MAXN   1000
#define LEVELS 11

struct store {
    hash_t *lvl[LEVELS]; /* lvl[L][i] = hash of node (L, i) */
    uint64_t n[LEVELS];  /* nodes stored per level */
};

static int store_emit(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
    struct store *s = ctx;

    ck_assert_uint_lt(level, LEVELS);
    ck_assert_uint_eq(index, s->n[level]); /* each node once, in order */
    memcpy(s->lvl[level][index], hash, 32);
    s->n[level]++;
    return 0;
}

static void store_init(struct store *s, uint64_t max)
{
    unsigned l;

    memset(s, 0, sizeof *s);
    for (l = 0; l < LEVELS; l++)
        s->lvl[l] = calloc((max >> l) + 1, sizeof(hash_t));
}

static void store_free(struct store *s)
{
    unsigned l;

    for (l = 0; l < LEVELS; l++)
        free(s->lvl[l]);
}

/* Fetches the planned nodes, checking each is a stored perfect node inside [0, size). */
static void fetch(const struct store *s, const struct chain_merkle_node_id *ids, size_t n,
                  uint64_t size, hash_t *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        ck_assert_uint_lt(ids[i].level, LEVELS);
        ck_assert_uint_le((ids[i].index + 1) << ids[i].level, size);
        ck_assert_uint_lt(ids[i].index, s->n[ids[i].level]);
        memcpy(out[i], s->lvl[ids[i].level][ids[i].index], 32);
    }
}

/* ---- naive RFC 6962 / 9162, straight from the recursive definitions ---- */

static hash_t leaves[MAXN];

static uint64_t split_of(uint64_t n)
{
    uint64_t k = 1;

    while (k << 1 < n)
        k <<= 1;
    return k;
}

static void node(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
    uint8_t buf[65];

    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    crypto_hash_sha256(out, buf, sizeof buf);
}

static void mth(uint64_t lo, uint64_t hi, uint8_t *out)
{
    hash_t l, r;
    uint64_t k;

    if (hi - lo == 1) {
        memcpy(out, leaves[lo], 32);
        return;
    }
    k = split_of(hi - lo);
    mth(lo, lo + k, l);
    mth(lo + k, hi, r);
    node(l, r, out);
}

static void naive_path(uint64_t m, uint64_t lo, uint64_t hi, hash_t *out, size_t *n)
{
    uint64_t k;

    if (hi - lo <= 1)
        return;
    k = split_of(hi - lo);
    if (m < lo + k) {
        naive_path(m, lo, lo + k, out, n);
        mth(lo + k, hi, out[(*n)++]);
    } else {
        naive_path(m, lo + k, hi, out, n);
        mth(lo, lo + k, out[(*n)++]);
    }
}

static void naive_subproof(uint64_t m, uint64_t lo, uint64_t hi, int b, hash_t *out, size_t *n)
{
    uint64_t k;

    if (m == hi) {
        if (!b)
            mth(lo, hi, out[(*n)++]);
        return;
    }
    k = split_of(hi - lo);
    if (m <= lo + k) {
        naive_subproof(m, lo, lo + k, b, out, n);
        mth(lo + k, hi, out[(*n)++]);
    } else {
        naive_subproof(m, lo + k, hi, 0, out, n);
        mth(lo, lo + k, out[(*n)++]);
    }
}

/* Reference verifiers: rebuild the root(s) by walking the same recursion and consuming the path
 * deepest-first; accept only if the path is used up exactly and the roots match. */
static int recon_incl(uint64_t m, uint64_t lo, uint64_t hi, const uint8_t *leaf, const hash_t *path,
                      size_t len, size_t *i, uint8_t *out)
{
    hash_t sub;
    uint64_t k;

    if (hi - lo == 1) {
        memcpy(out, leaf, 32);
        return 1;
    }
    k = split_of(hi - lo);
    if (!recon_incl(m, m < lo + k ? lo : lo + k, m < lo + k ? lo + k : hi, leaf, path, len, i,
                    sub) ||
        *i >= len)
        return 0;
    if (m < lo + k)
        node(sub, path[(*i)++], out);
    else
        node(path[(*i)++], sub, out);
    return 1;
}

static int ref_verify_incl(uint64_t m, uint64_t n, const uint8_t *leaf, const hash_t *path,
                           size_t len, const uint8_t *root)
{
    hash_t r;
    size_t i = 0;

    if (m >= n || !recon_incl(m, 0, n, leaf, path, len, &i, r))
        return 0;
    return i == len && memcmp(r, root, 32) == 0;
}

static int recon_cons(uint64_t m, uint64_t lo, uint64_t hi, int b, const uint8_t *old_root,
                      const hash_t *path, size_t len, size_t *i, uint8_t *o, uint8_t *nw)
{
    hash_t so, sn;
    uint64_t k;

    if (m == hi) {
        if (b) {
            memcpy(o, old_root, 32);
        } else {
            if (*i >= len)
                return 0;
            memcpy(o, path[(*i)++], 32);
        }
        memcpy(nw, o, 32);
        return 1;
    }
    k = split_of(hi - lo);
    if (m <= lo + k) {
        if (!recon_cons(m, lo, lo + k, b, old_root, path, len, i, so, sn) || *i >= len)
            return 0;
        memcpy(o, so, 32);
        node(sn, path[(*i)++], nw);
        return 1;
    }
    if (!recon_cons(m, lo + k, hi, 0, old_root, path, len, i, so, sn) || *i >= len)
        return 0;
    node(path[*i], so, o);
    node(path[(*i)++], sn, nw);
    return 1;
}

static int ref_verify_cons(uint64_t m, uint64_t n, const uint8_t *r1, const uint8_t *r2,
                           const hash_t *path, size_t len)
{
    hash_t o, nw;
    size_t i = 0;

    if (m > n)
        return 0;
    if (m == n)
        return len == 0 && memcmp(r1, r2, 32) == 0;
    if (m == 0)
        return len == 0;
    if (!recon_cons(m, 0, n, 1, r1, path, len, &i, o, nw))
        return 0;
    return i == len && memcmp(o, r1, 32) == 0 && memcmp(nw, r2, 32) == 0;
}

/* ---- tests ---- */

START_TEST(hash_vectors)
{
    hash_t h, want;

    chain_merkle_empty_root(h);
    unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
    ck_assert_mem_eq(h, want, 32);
    chain_merkle_leaf_hash(NULL, 0, h);
    unhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", want, 32);
    ck_assert_mem_eq(h, want, 32);
    chain_merkle_leaf_hash((const uint8_t *)"L123456", 7, h);
    unhex("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56", want, 32);
    ck_assert_mem_eq(h, want, 32);
}
END_TEST

static void ref_leaf_hashes(hash_t *out)
{
    uint8_t buf[16];
    size_t i;

    for (i = 0; i < 8; i++) {
        size_t n = strlen(ref_leaves[i]) / 2;

        unhex(ref_leaves[i], buf, n);
        chain_merkle_leaf_hash(buf, n, out[i]);
    }
}

START_TEST(reference_roots)
{
    hash_t lh[8], root, want;
    struct chain_merkle_frontier f;
    uint64_t n;

    ref_leaf_hashes(lh);
    chain_merkle_frontier_init(&f);
    for (n = 0; n <= 8; n++) {
        unhex(ref_roots[n], want, 32);
        ck_assert_int_eq(chain_merkle_root((const hash_t *)lh, n, root), 0);
        ck_assert_mem_eq(root, want, 32);
        chain_merkle_frontier_root(&f, root);
        ck_assert_mem_eq(root, want, 32);
        if (n < 8)
            ck_assert_int_eq(chain_merkle_frontier_append(&f, lh[n], NULL, NULL), 0);
    }
}
END_TEST

static void load_ref(const struct ref_proof *p, hash_t *path)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        unhex(p->path[i], path[i], 32);
}

/* Builds the proof from a node store over the 8 reference leaves. */
static struct store ref_store(void)
{
    struct store s;
    struct chain_merkle_frontier f;
    hash_t lh[8];
    int i;

    store_init(&s, 8);
    ref_leaf_hashes(lh);
    chain_merkle_frontier_init(&f);
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(chain_merkle_frontier_append(&f, lh[i], store_emit, &s), 0);
    return s;
}

static int incl_ok(uint64_t m, uint64_t n, const uint8_t *leaf, const hash_t *path, size_t len,
                   const uint8_t *root)
{
    return chain_merkle_inclusion_verify(m, n, leaf, path, len, root) == 0;
}

START_TEST(reference_inclusion)
{
    struct store s = ref_store();
    size_t v, i, n_ids, len;
    hash_t lh[8], want[3], got[64], hashes[CHAIN_MERKLE_PLAN_MAX], root, bad[5], some;
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];

    unhex("abacaba000000000000000000000000000000000000000000060061e00123456", some, 32);
    ref_leaf_hashes(lh);
    for (v = 0; v < sizeof ref_inclusion / sizeof ref_inclusion[0]; v++) {
        const struct ref_proof *p = &ref_inclusion[v];
        uint64_t m = p->a, n = p->b;

        load_ref(p, want);
        unhex(ref_roots[n], root, 32);
        ck_assert_int_eq(chain_merkle_inclusion_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids), 0);
        fetch(&s, ids, n_ids, n, hashes);
        ck_assert_int_eq(
            chain_merkle_inclusion_build(m, n, (const hash_t *)hashes, n_ids, got, 64, &len), 0);
        ck_assert_uint_eq(len, p->n);
        ck_assert_mem_eq(got, want, 32 * len);
        ck_assert(incl_ok(m, n, lh[m], (const hash_t *)want, len, root));
        /* the probes of corruptInclusionProof in verify_test.go */
        ck_assert(!incl_ok(m - 1, n, lh[m], (const hash_t *)want, len, root));
        ck_assert(!incl_ok(m + 1, n, lh[m], (const hash_t *)want, len, root));
        ck_assert(!incl_ok(m ^ 2, n, lh[m], (const hash_t *)want, len, root));
        ck_assert(!incl_ok(m, n * 2, lh[m], (const hash_t *)want, len, root));
        ck_assert(!incl_ok(m, n / 2, lh[m], (const hash_t *)want, len, root));
        ck_assert(!incl_ok(m, n, some, (const hash_t *)want, len, root));
        unhex(ref_roots[0], bad[0], 32);
        ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)want, len, bad[0]));
        ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)want, len, some));
        memcpy(bad, want, 32 * len);
        memset(bad[len], 0, 32);
        ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)bad, len + 1, root));
        memcpy(bad[len], root, 32);
        ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)bad, len + 1, root));
        memset(bad[0], 0, 32);
        memcpy(bad + 1, want, 32 * len);
        ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)bad, len + 1, root));
        memcpy(bad[0], root, 32);
        ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)bad, len + 1, root));
        for (i = 0; i < len; i++) {
            memcpy(bad, want, 32 * len);
            bad[i][0] ^= 8;
            ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)bad, len, root));
        }
        if (len > 0)
            ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)want, len - 1, root));
        if (len > 1) {
            memcpy(bad[0], want[0], 32);
            memcpy(bad[1], some, 32);
            memcpy(bad + 2, want + 1, 32 * (len - 1));
            ck_assert(!incl_ok(m, n, lh[m], (const hash_t *)bad, len + 1, root));
        }
    }
    store_free(&s);
}
END_TEST

static int cons_ok(uint64_t m, uint64_t n, const uint8_t *r1, const uint8_t *r2, const hash_t *path,
                   size_t len)
{
    return chain_merkle_consistency_verify(m, n, r1, r2, path, len) == 0;
}

START_TEST(reference_consistency)
{
    struct store s = ref_store();
    size_t v, i, n_ids, len;
    hash_t want[3], got[64], hashes[CHAIN_MERKLE_PLAN_MAX], r1, r2, bad[5], some;
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];

    unhex("abacaba000000000000000000000000000000000000000000060061e00123456", some, 32);
    for (v = 0; v < sizeof ref_consistency / sizeof ref_consistency[0]; v++) {
        const struct ref_proof *p = &ref_consistency[v];
        uint64_t m = p->a, n = p->b;

        load_ref(p, want);
        unhex(ref_roots[m], r1, 32);
        unhex(ref_roots[n], r2, 32);
        ck_assert_int_eq(chain_merkle_consistency_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids),
                         0);
        fetch(&s, ids, n_ids, n, hashes);
        ck_assert_int_eq(
            chain_merkle_consistency_build(m, n, (const hash_t *)hashes, n_ids, got, 64, &len), 0);
        ck_assert_uint_eq(len, p->n);
        ck_assert_mem_eq(got, want, 32 * len);
        ck_assert(cons_ok(m, n, r1, r2, (const hash_t *)want, len));
        if (len == 0)
            continue;
        /* the probes of corruptConsistencyProof in verify_test.go */
        ck_assert(!cons_ok(m - 1, n, r1, r2, (const hash_t *)want, len));
        ck_assert(!cons_ok(m + 1, n, r1, r2, (const hash_t *)want, len));
        ck_assert(!cons_ok(m ^ 2, n, r1, r2, (const hash_t *)want, len));
        ck_assert(!cons_ok(m, n * 2, r1, r2, (const hash_t *)want, len));
        ck_assert(!cons_ok(m, n / 2, r1, r2, (const hash_t *)want, len));
        ck_assert(!cons_ok(m, n, some, r2, (const hash_t *)want, len));
        ck_assert(!cons_ok(m, n, r1, some, (const hash_t *)want, len));
        ck_assert(!cons_ok(m, n, r2, r1, (const hash_t *)want, len));
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)want, 0));
        memcpy(bad, want, 32 * len);
        memset(bad[len], 0, 32);
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len + 1));
        memcpy(bad[len], r1, 32);
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len + 1));
        memcpy(bad[len], r2, 32);
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len + 1));
        memcpy(bad + 1, want, 32 * len);
        memset(bad[0], 0, 32);
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len + 1));
        memcpy(bad[0], r1, 32);
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len + 1));
        memcpy(bad[0], r2, 32);
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len + 1));
        memcpy(bad[0], want[0], 32);
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len + 1));
        ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)want, len - 1));
        for (i = 0; i < len; i++) {
            memcpy(bad, want, 32 * len);
            bad[i][0] ^= 16;
            ck_assert(!cons_ok(m, n, r1, r2, (const hash_t *)bad, len));
        }
    }
    store_free(&s);
}
END_TEST

/* TestVerifyConsistency's table of edge cases (verify_test.go). */
START_TEST(consistency_edge_cases)
{
    hash_t empty, r1, r2, p2[1];

    unhex(ref_roots[0], empty, 32);
    memset(r1, 1, 32);
    memset(r2, 2, 32);
    memcpy(p2[0], empty, 32);
    ck_assert(!cons_ok(0, 0, r1, r2, NULL, 0));
    ck_assert(!cons_ok(1, 1, r1, r2, NULL, 0));
    ck_assert(cons_ok(0, 0, r1, r1, NULL, 0));
    ck_assert(cons_ok(0, 1, r1, r2, NULL, 0));
    ck_assert(cons_ok(1, 1, r2, r2, NULL, 0));
    ck_assert(!cons_ok(1, 0, r1, r2, NULL, 0));
    ck_assert(!cons_ok(2, 1, r1, r2, NULL, 0));
    ck_assert(!cons_ok(1, 2, r1, r2, NULL, 0));
    ck_assert(!cons_ok(0, 0, empty, r2, NULL, 0));
    ck_assert(!cons_ok(1, 1, empty, r2, NULL, 0));
    ck_assert(!cons_ok(0, 0, empty, empty, (const hash_t *)p2, 1));
    ck_assert(!cons_ok(0, 1, empty, empty, (const hash_t *)p2, 1));
    ck_assert(!cons_ok(1, 1, empty, empty, (const hash_t *)p2, 1));
}
END_TEST

START_TEST(inclusion_edge_cases)
{
    hash_t h, some, empty;
    struct chain_merkle_node_id ids[4];
    size_t n = 0;

    chain_merkle_leaf_hash((const uint8_t *)"data", 4, h);
    unhex(ref_roots[0], empty, 32);
    memset(some, 0xab, 32);
    /* a one-leaf tree: root = leaf hash, empty proof */
    ck_assert(incl_ok(0, 1, h, NULL, 0, h));
    ck_assert(!incl_ok(0, 1, some, NULL, 0, h));
    ck_assert(!incl_ok(0, 0, some, NULL, 0, empty));
    ck_assert(!incl_ok(1, 0, some, NULL, 0, empty));
    ck_assert(!incl_ok(2, 1, some, NULL, 0, some));
    /* plans refuse what has no proof */
    ck_assert_int_eq(chain_merkle_inclusion_plan(5, 5, ids, 4, &n), CHAIN_E_INVAL);
    ck_assert_int_eq(chain_merkle_consistency_plan(6, 5, ids, 4, &n), CHAIN_E_INVAL);
    ck_assert_int_eq(chain_merkle_inclusion_plan(0, 1000, ids, 4, &n), CHAIN_E_BUFFER);
    ck_assert_int_eq(chain_merkle_consistency_plan(0, 9, ids, 4, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(chain_merkle_consistency_plan(9, 9, ids, 4, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(chain_merkle_root_plan(0, ids, 4, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(chain_merkle_root_build(0, NULL, 0, h), 0);
    ck_assert_mem_eq(h, empty, 32);
    ck_assert_int_eq(chain_merkle_root_build(3, NULL, 0, h), CHAIN_E_INVAL);
}
END_TEST

static int failing_emit(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
    (void)hash;
    (void)index;
    return level == *(unsigned *)ctx ? -99 : 0;
}

START_TEST(frontier_emit_abort)
{
    struct chain_merkle_frontier f, before;
    hash_t lh[8];
    unsigned fail_level = 2;
    int i;

    ref_leaf_hashes(lh);
    chain_merkle_frontier_init(&f);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(chain_merkle_frontier_append(&f, lh[i], failing_emit, &fail_level), 0);
    before = f;
    /* the 4th leaf completes a level-2 node: the callback refuses it, nothing changes */
    ck_assert_int_eq(chain_merkle_frontier_append(&f, lh[3], failing_emit, &fail_level), -99);
    ck_assert_mem_eq(&f, &before, sizeof f);
    ck_assert_int_eq(chain_merkle_frontier_append(&f, lh[3], NULL, NULL), 0);
    ck_assert_uint_eq(f.size, 4);
}
END_TEST

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* Proof of leaf m in the tree of size n from plan + store equals the naive PATH; verify agrees
 * with the reference verifier on the proof and on wrong indices and sizes, and rejects any
 * flipped byte. */
static void check_inclusion(const struct store *s, uint64_t m, uint64_t n, const uint8_t *root)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    hash_t hashes[CHAIN_MERKLE_PLAN_MAX], got[64], want[64];
    size_t n_ids = 0, len = 0, wlen = 0, i;
    const uint64_t probes[][2] = {{m + 1, n}, {m - 1, n}, {m ^ 2, n}, {m, n + 1},
                                  {m, n - 1}, {m, n * 2}, {m, n / 2}, {m + 1, n + 1}};

    ck_assert_int_eq(chain_merkle_inclusion_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids), 0);
    fetch(s, ids, n_ids, n, hashes);
    ck_assert_int_eq(
        chain_merkle_inclusion_build(m, n, (const hash_t *)hashes, n_ids, got, 64, &len), 0);
    naive_path(m, 0, n, want, &wlen);
    ck_assert_uint_eq(len, wlen);
    ck_assert_mem_eq(got, want, 32 * len);
    ck_assert(incl_ok(m, n, leaves[m], (const hash_t *)got, len, root));
    ck_assert(ref_verify_incl(m, n, leaves[m], (const hash_t *)got, len, root));
    for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        uint64_t pm = probes[i][0], pn = probes[i][1];

        ck_assert_int_eq(incl_ok(pm, pn, leaves[m], (const hash_t *)got, len, root),
                         ref_verify_incl(pm, pn, leaves[m], (const hash_t *)got, len, root));
        if (pm < pn && pm < MAXN && pm != m) /* another leaf's hash never verifies here */
            ck_assert(!incl_ok(pm, n, leaves[pm], (const hash_t *)got, len, root));
    }
    for (i = 0; i < len; i++) {
        size_t byte = rnd() % 32;

        got[i][byte] ^= (uint8_t)(1u << (rnd() % 8));
        ck_assert(!incl_ok(m, n, leaves[m], (const hash_t *)got, len, root));
        got[i][byte] = want[i][byte];
    }
    if (len > 0)
        ck_assert(!incl_ok(m, n, leaves[m], (const hash_t *)got, len - 1, root));
}

static void check_consistency(const struct store *s, uint64_t m, uint64_t n, const hash_t *roots)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    hash_t hashes[CHAIN_MERKLE_PLAN_MAX], got[65], want[65];
    size_t n_ids = 0, len = 0, wlen = 0, i;
    const uint64_t probes[][2] = {{m + 1, n}, {m - 1, n}, {m ^ 2, n},     {m, n + 1},    {m, n - 1},
                                  {m, n * 2}, {m, n / 2}, {m + 1, n + 1}, {m - 1, n - 1}};

    ck_assert_int_eq(chain_merkle_consistency_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids), 0);
    fetch(s, ids, n_ids, n, hashes);
    ck_assert_int_eq(
        chain_merkle_consistency_build(m, n, (const hash_t *)hashes, n_ids, got, 65, &len), 0);
    if (m > 0 && m < n)
        naive_subproof(m, 0, n, 1, want, &wlen);
    ck_assert_uint_eq(len, wlen);
    ck_assert_mem_eq(got, want, 32 * len);
    ck_assert(cons_ok(m, n, roots[m], roots[n], (const hash_t *)got, len));
    ck_assert(ref_verify_cons(m, n, roots[m], roots[n], (const hash_t *)got, len));
    for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        uint64_t pm = probes[i][0], pn = probes[i][1];

        ck_assert_int_eq(cons_ok(pm, pn, roots[m], roots[n], (const hash_t *)got, len),
                         ref_verify_cons(pm, pn, roots[m], roots[n], (const hash_t *)got, len));
        if (pm <= MAXN && pn <= MAXN && (pm != m || pn != n) && len > 0)
            ck_assert(!cons_ok(pm, pn, roots[pm], roots[pn], (const hash_t *)got, len));
    }
    for (i = 0; i < len; i++) {
        size_t byte = rnd() % 32;

        got[i][byte] ^= (uint8_t)(1u << (rnd() % 8));
        ck_assert(!cons_ok(m, n, roots[m], roots[n], (const hash_t *)got, len));
        got[i][byte] = want[i][byte];
    }
    if (len > 0) {
        ck_assert(!cons_ok(m, n, roots[m], roots[n], (const hash_t *)got, len - 1));
        ck_assert(!cons_ok(m, n, roots[n], roots[m], (const hash_t *)got, len));
    }
}

/* The frontier loaded from stored nodes has the right root and keeps appending correctly. */
static void check_frontier_reload(const struct store *s, const struct chain_merkle_frontier *live,
                                  uint64_t n)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    hash_t hashes[CHAIN_MERKLE_PLAN_MAX], a, b;
    struct chain_merkle_frontier f;
    size_t n_ids = 0;

    ck_assert_int_eq(chain_merkle_frontier_plan(n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids), 0);
    fetch(s, ids, n_ids, n, hashes);
    ck_assert_int_eq(chain_merkle_frontier_from_plan(&f, n, (const hash_t *)hashes, n_ids), 0);
    ck_assert_int_eq(chain_merkle_frontier_from_plan(&f, n, (const hash_t *)hashes, n_ids + 1),
                     CHAIN_E_INVAL);
    chain_merkle_frontier_root(&f, a);
    chain_merkle_frontier_root(live, b);
    ck_assert_mem_eq(a, b, 32);
    ck_assert_int_eq(chain_merkle_root_build(n, (const hash_t *)hashes, n_ids, a), 0);
    ck_assert_mem_eq(a, b, 32);
    if (n < MAXN) {
        struct chain_merkle_frontier g = *live;

        ck_assert_int_eq(chain_merkle_frontier_append(&f, leaves[n], NULL, NULL), 0);
        ck_assert_int_eq(chain_merkle_frontier_append(&g, leaves[n], NULL, NULL), 0);
        chain_merkle_frontier_root(&f, a);
        chain_merkle_frontier_root(&g, b);
        ck_assert_mem_eq(a, b, 32);
    }
}

START_TEST(differential_all_sizes)
{
    static hash_t roots[MAXN + 1];
    struct chain_merkle_frontier f;
    struct store s;
    uint64_t n, i, j, k;
    uint8_t buf[8];
    hash_t naive;

    for (i = 0; i < MAXN; i++) {
        for (j = 0; j < 8; j++)
            buf[j] = (uint8_t)(i >> (8 * j));
        chain_merkle_leaf_hash(buf, 1 + i % 8, leaves[i]);
    }
    store_init(&s, MAXN);
    chain_merkle_frontier_init(&f);
    chain_merkle_empty_root(roots[0]);
    for (n = 1; n <= MAXN; n++) {
        ck_assert_int_eq(chain_merkle_frontier_append(&f, leaves[n - 1], store_emit, &s), 0);
        chain_merkle_frontier_root(&f, roots[n]);
        mth(0, n, naive);
        ck_assert_mem_eq(roots[n], naive, 32);
        ck_assert_int_eq(chain_merkle_root((const hash_t *)leaves, n, naive), 0);
        ck_assert_mem_eq(roots[n], naive, 32);
        /* the store now holds every node inside [0, n): reload as after a restart */
        check_frontier_reload(&s, &f, n);
    }
    /* every stored node is the MTH of the leaves it covers */
    for (k = 0; k < LEVELS; k++) {
        ck_assert_uint_eq(s.n[k], MAXN >> k);
        for (i = 0; i < s.n[k]; i++) {
            mth(i << k, (i + 1) << k, naive);
            ck_assert_mem_eq(s.lvl[k][i], naive, 32);
        }
    }
    for (n = 1; n <= MAXN; n++) {
        const uint64_t ms[] = {0, n - 1, n / 2, rnd() % n, rnd() % n};
        const uint64_t olds[] = {0, 1, n - 1, n / 2, rnd() % (n + 1), rnd() % (n + 1), n};

        for (i = 0; i < sizeof ms / sizeof ms[0]; i++)
            check_inclusion(&s, ms[i], n, roots[n]);
        for (i = 0; i < sizeof olds / sizeof olds[0]; i++)
            check_consistency(&s, olds[i], n, (const hash_t *)roots);
    }
    store_free(&s);
}
END_TEST

/* Trees too big to store: make every leaf the same, so every node of a level has the same hash
 * and plans for 64-bit sizes can be served from 64 hashes. */
static hash_t level_hash[64];

static void fetch_uniform(const struct chain_merkle_node_id *ids, size_t n, uint64_t size,
                          hash_t *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        ck_assert_uint_lt(ids[i].level, 64);
        ck_assert_uint_le(ids[i].index, (size >> ids[i].level) - 1); /* inside the tree */
        memcpy(out[i], level_hash[ids[i].level], 32);
    }
}

static void uniform_root(uint64_t size, uint8_t *out)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    hash_t hashes[CHAIN_MERKLE_PLAN_MAX];
    size_t n = 0;

    ck_assert_int_eq(chain_merkle_root_plan(size, ids, CHAIN_MERKLE_PLAN_MAX, &n), 0);
    fetch_uniform(ids, n, size, hashes);
    ck_assert_int_eq(chain_merkle_root_build(size, (const hash_t *)hashes, n, out), 0);
}

START_TEST(huge_trees)
{
    static const uint64_t sizes[] = {(1ULL << 63) + 12345,
                                     UINT64_MAX,
                                     UINT64_MAX - 1,
                                     1ULL << 63,
                                     (1ULL << 63) - 1,
                                     0x5555555555555555ULL,
                                     0xaaaaaaaaaaaaaaabULL,
                                     1ULL << 40,
                                     3};
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    hash_t hashes[CHAIN_MERKLE_PLAN_MAX], path[65], r1, r2;
    size_t a, b, n_ids, len;
    int l;

    chain_merkle_leaf_hash((const uint8_t *)"x", 1, level_hash[0]);
    for (l = 1; l < 64; l++)
        chain_merkle_node_hash(level_hash[l - 1], level_hash[l - 1], level_hash[l]);
    for (a = 0; a < sizeof sizes / sizeof sizes[0]; a++) {
        uint64_t n = sizes[a];
        const uint64_t ms[] = {0, n - 1, n / 3, n / 2 + 1};

        uniform_root(n, r2);
        for (b = 0; b < sizeof ms / sizeof ms[0]; b++) {
            uint64_t m = ms[b];

            ck_assert_int_eq(chain_merkle_inclusion_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids),
                             0);
            fetch_uniform(ids, n_ids, n, hashes);
            ck_assert_int_eq(
                chain_merkle_inclusion_build(m, n, (const hash_t *)hashes, n_ids, path, 65, &len),
                0);
            ck_assert_uint_le(len, CHAIN_MERKLE_MAX_PATH);
            ck_assert(incl_ok(m, n, level_hash[0], (const hash_t *)path, len, r2));
            ck_assert(!incl_ok(m, n, level_hash[1], (const hash_t *)path, len, r2));
            if (m == 0)
                continue;
            ck_assert_int_eq(
                chain_merkle_consistency_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids), 0);
            fetch_uniform(ids, n_ids, n, hashes);
            ck_assert_int_eq(
                chain_merkle_consistency_build(m, n, (const hash_t *)hashes, n_ids, path, 65, &len),
                0);
            uniform_root(m, r1);
            ck_assert(cons_ok(m, n, r1, r2, (const hash_t *)path, len));
            ck_assert(!cons_ok(m, n, r2, r1, (const hash_t *)path, len) || m == n);
        }
    }
}
END_TEST

START_TEST(frontier_full)
{
    struct chain_merkle_frontier f;
    hash_t h;

    memset(&f, 0, sizeof f);
    f.size = UINT64_MAX;
    memset(h, 7, 32);
    ck_assert_int_eq(chain_merkle_frontier_append(&f, h, NULL, NULL), CHAIN_E_RANGE);
}
END_TEST

/* The SHA extensions' path and libsodium's give the same hash for every length around the
 * block and padding boundaries, split between the two parts at every place. */
START_TEST(sha256_paths_agree)
{
    uint8_t msg[300], want[32], fast[32], slow[32], buf[301];

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 131u + 7u);
    for (size_t n = 0; n <= 200; n++) {
        for (size_t split = 0; split <= n; split += (n < 140 ? 1 : 13)) {
            buf[0] = (uint8_t)n;
            memcpy(buf + 1, msg, n);
            crypto_hash_sha256(want, buf, n + 1);
            chain_sha256_force_portable(0);
            chain_sha256_prefixed((uint8_t)n, msg, split, msg + split, n - split, fast);
            chain_sha256_force_portable(1);
            chain_sha256_prefixed((uint8_t)n, msg, split, msg + split, n - split, slow);
            ck_assert_mem_eq(fast, want, 32);
            ck_assert_mem_eq(slow, want, 32);
        }
    }
    chain_sha256_force_portable(0);
    /* out may be one of the inputs, as chain_merkle_node_hash allows */
    memcpy(fast, msg, 32);
    chain_sha256_prefixed(1, fast, 32, msg + 32, 32, fast);
    buf[0] = 1;
    memcpy(buf + 1, msg, 64);
    crypto_hash_sha256(want, buf, 65);
    ck_assert_mem_eq(fast, want, 32);
    fprintf(stderr, "sha256: SHA extensions %s\n", chain_sha256_accelerated() ? "used" : "absent");
}
END_TEST

static Suite *merkle_suite(void)
{
    Suite *s = suite_create("chain_merkle");
    TCase *tc = tcase_create("vectors");

    tcase_add_test(tc, hash_vectors);
    tcase_add_test(tc, sha256_paths_agree);
    tcase_add_test(tc, reference_roots);
    tcase_add_test(tc, reference_inclusion);
    tcase_add_test(tc, reference_consistency);
    tcase_add_test(tc, consistency_edge_cases);
    tcase_add_test(tc, inclusion_edge_cases);
    tcase_add_test(tc, frontier_emit_abort);
    tcase_add_test(tc, frontier_full);
    suite_add_tcase(s, tc);
    tc = tcase_create("differential");
    tcase_set_timeout(tc, 300); /* sanitizer builds on a small machine */
    tcase_add_test(tc, differential_all_sizes);
    tcase_add_test(tc, huge_trees);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(merkle_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
