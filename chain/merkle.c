/* merkle.c — RFC 6962/9162 Merkle hashing, proofs over stored perfect subtrees, and the append
 * frontier. Proofs are described as lists of leaf ranges [lo, hi) — the subtrees of the RFC's
 * recursion whose MTH makes each proof element — so the plan and the build of a proof walk the
 * very same list and cannot drift apart. */
#include "merkle.h"
#include "sha256.h"

#include <string.h>

#include <sodium.h>

/* A range of leaves [lo, hi) whose MTH is one proof element (or a root). */
struct range {
    uint64_t lo; /* first leaf */
    uint64_t hi; /* one past the last leaf */
};

/* Ranges per proof: one per tree level plus the consistency proof's own subtree. */
#define MAX_RANGES (CHAIN_MERKLE_MAX_PATH + 1)

void chain_merkle_leaf_hash(const uint8_t *d, size_t n, uint8_t out[CHAIN_HASH_LEN])
{
    chain_sha256_prefixed(0x00, d, n, NULL, 0, out);
}

void chain_merkle_node_hash(const uint8_t l[CHAIN_HASH_LEN], const uint8_t r[CHAIN_HASH_LEN],
                            uint8_t out[CHAIN_HASH_LEN])
{
    chain_sha256_prefixed(0x01, l, CHAIN_HASH_LEN, r, CHAIN_HASH_LEN, out);
}

void chain_merkle_empty_root(uint8_t out[CHAIN_HASH_LEN])
{
    crypto_hash_sha256(out, NULL, 0);
}

static unsigned floor_log2(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

/* RFC 6962 split point: the largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    return (uint64_t)1 << floor_log2(n - 1);
}

/* Perfect decomposition of [lo, hi), leftmost (biggest) first. For the ranges of the RFC
 * recursion lo is aligned to a power of two at least hi - lo, so each step takes the highest
 * set bit of what is left. Writes at most cap ids; returns how many there are in total. */
static size_t decompose(struct range r, struct chain_merkle_node_id *ids, size_t cap)
{
    size_t n = 0;

    while (r.lo < r.hi) {
        unsigned level = floor_log2(r.hi - r.lo);

        if (r.lo != 0 && (unsigned)__builtin_ctzll(r.lo) < level)
            level = (unsigned)__builtin_ctzll(r.lo);
        if (n < cap) {
            ids[n].level = (uint8_t)level;
            ids[n].index = r.lo >> level;
        }
        n++;
        r.lo += (uint64_t)1 << level;
    }
    return n;
}

static size_t decompose_count(struct range r)
{
    return decompose(r, NULL, 0);
}

/* MTH of a range from the hashes of its perfect decomposition: combine right to left. */
static void fold(const uint8_t (*h)[CHAIN_HASH_LEN], size_t n, uint8_t out[CHAIN_HASH_LEN])
{
    uint8_t acc[CHAIN_HASH_LEN];
    size_t i;

    memcpy(acc, h[n - 1], CHAIN_HASH_LEN);
    for (i = n - 1; i > 0; i--)
        chain_merkle_node_hash(h[i - 1], acc, acc);
    memcpy(out, acc, CHAIN_HASH_LEN);
}

static void reverse(struct range *r, size_t n)
{
    size_t i;

    for (i = 0; i < n / 2; i++) {
        struct range t = r[i];

        r[i] = r[n - 1 - i];
        r[n - 1 - i] = t;
    }
}

/* RFC 9162 §2.1.3.1 PATH(m, D[0:n)), as ranges, bottom-up. Requires m < n. */
static size_t inclusion_ranges(uint64_t m, uint64_t n, struct range *out)
{
    struct range cur = {0, n};
    size_t cnt = 0;

    while (cur.hi - cur.lo > 1) {
        uint64_t mid = cur.lo + split_point(cur.hi - cur.lo);

        if (m < mid) {
            out[cnt++] = (struct range){mid, cur.hi};
            cur.hi = mid;
        } else {
            out[cnt++] = (struct range){cur.lo, mid};
            cur.lo = mid;
        }
    }
    reverse(out, cnt);
    return cnt;
}

/* RFC 9162 §2.1.4.1 SUBPROOF(m, D[0:n), true), as ranges, in proof order. Requires 0 < m < n.
 * m stays an absolute leaf count: "m <= k" of the RFC is m <= mid, "m == n" is m == hi. */
static size_t consistency_ranges(uint64_t m, uint64_t n, struct range *out)
{
    struct range cur = {0, n};
    size_t cnt = 0;
    int whole = 1; /* the RFC's b: true while cur still starts at leaf 0 */

    while (m != cur.hi) {
        uint64_t mid = cur.lo + split_point(cur.hi - cur.lo);

        if (m <= mid) {
            out[cnt++] = (struct range){mid, cur.hi};
            cur.hi = mid;
        } else {
            out[cnt++] = (struct range){cur.lo, mid};
            cur.lo = mid;
            whole = 0;
        }
    }
    if (!whole)
        out[cnt++] = cur;
    reverse(out, cnt);
    return cnt;
}

static int plan_ranges(const struct range *r, size_t nr, struct chain_merkle_node_id *ids,
                       size_t cap, size_t *n_ids)
{
    size_t i, n = 0;

    for (i = 0; i < nr; i++)
        n += decompose(r[i], n < cap ? ids + n : NULL, n < cap ? cap - n : 0);
    if (n > cap)
        return CHAIN_E_BUFFER;
    *n_ids = n;
    return CHAIN_OK;
}

static int build_ranges(const struct range *r, size_t nr, const uint8_t (*hashes)[CHAIN_HASH_LEN],
                        size_t n_hashes, uint8_t (*path)[CHAIN_HASH_LEN], size_t cap,
                        size_t *path_len)
{
    size_t i, used = 0;

    if (nr > cap)
        return CHAIN_E_BUFFER;
    for (i = 0; i < nr; i++) {
        size_t cnt = decompose_count(r[i]);

        if (cnt > n_hashes - used)
            return CHAIN_E_INVAL;
        fold(hashes + used, cnt, path[i]);
        used += cnt;
    }
    if (used != n_hashes)
        return CHAIN_E_INVAL;
    *path_len = nr;
    return CHAIN_OK;
}

int chain_merkle_root_plan(uint64_t tree_size, struct chain_merkle_node_id *ids, size_t cap,
                           size_t *n_ids)
{
    struct range whole = {0, tree_size};

    return plan_ranges(&whole, 1, ids, cap, n_ids);
}

int chain_merkle_root_build(uint64_t tree_size, const uint8_t (*hashes)[CHAIN_HASH_LEN],
                            size_t n_hashes, uint8_t out[CHAIN_HASH_LEN])
{
    struct range whole = {0, tree_size};

    if (n_hashes != decompose_count(whole))
        return CHAIN_E_INVAL;
    if (tree_size == 0)
        chain_merkle_empty_root(out);
    else
        fold(hashes, n_hashes, out);
    return CHAIN_OK;
}

int chain_merkle_inclusion_plan(uint64_t leaf_index, uint64_t tree_size,
                                struct chain_merkle_node_id *ids, size_t cap, size_t *n_ids)
{
    struct range r[MAX_RANGES];
    size_t nr;

    if (leaf_index >= tree_size)
        return CHAIN_E_INVAL;
    nr = inclusion_ranges(leaf_index, tree_size, r);
    return plan_ranges(r, nr, ids, cap, n_ids);
}

int chain_merkle_inclusion_build(uint64_t leaf_index, uint64_t tree_size,
                                 const uint8_t (*hashes)[CHAIN_HASH_LEN], size_t n_hashes,
                                 uint8_t (*path)[CHAIN_HASH_LEN], size_t cap, size_t *path_len)
{
    struct range r[MAX_RANGES];
    size_t nr;

    if (leaf_index >= tree_size)
        return CHAIN_E_INVAL;
    nr = inclusion_ranges(leaf_index, tree_size, r);
    return build_ranges(r, nr, hashes, n_hashes, path, cap, path_len);
}

/* Ranges of the consistency proof; an empty list when no proof elements are needed. */
static int consistency_setup(uint64_t old_size, uint64_t new_size, struct range *r, size_t *nr)
{
    if (old_size > new_size)
        return CHAIN_E_INVAL;
    *nr = 0;
    if (old_size != 0 && old_size != new_size)
        *nr = consistency_ranges(old_size, new_size, r);
    return CHAIN_OK;
}

int chain_merkle_consistency_plan(uint64_t old_size, uint64_t new_size,
                                  struct chain_merkle_node_id *ids, size_t cap, size_t *n_ids)
{
    struct range r[MAX_RANGES];
    size_t nr = 0;
    int rc = consistency_setup(old_size, new_size, r, &nr);

    if (rc != CHAIN_OK)
        return rc;
    return plan_ranges(r, nr, ids, cap, n_ids);
}

int chain_merkle_consistency_build(uint64_t old_size, uint64_t new_size,
                                   const uint8_t (*hashes)[CHAIN_HASH_LEN], size_t n_hashes,
                                   uint8_t (*path)[CHAIN_HASH_LEN], size_t cap, size_t *path_len)
{
    struct range r[MAX_RANGES];
    size_t nr = 0;
    int rc = consistency_setup(old_size, new_size, r, &nr);

    if (rc != CHAIN_OK)
        return rc;
    return build_ranges(r, nr, hashes, n_hashes, path, cap, path_len);
}

/* The shift step shared by both verifiers: "right-shift fn and sn equally until LSB(fn) is set
 * or fn is 0". */
static void shift_to_set_bit(uint64_t *fn, uint64_t *sn)
{
    while ((*fn & 1) == 0 && *fn != 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

int chain_merkle_inclusion_verify(uint64_t leaf_index, uint64_t tree_size,
                                  const uint8_t leaf_hash[CHAIN_HASH_LEN],
                                  const uint8_t (*path)[CHAIN_HASH_LEN], size_t path_len,
                                  const uint8_t root[CHAIN_HASH_LEN])
{
    uint8_t r[CHAIN_HASH_LEN];
    uint64_t fn, sn;
    size_t i;

    if (leaf_index >= tree_size)
        return CHAIN_E_BAD_PROOF;
    fn = leaf_index;
    sn = tree_size - 1;
    memcpy(r, leaf_hash, CHAIN_HASH_LEN);
    for (i = 0; i < path_len; i++) {
        if (sn == 0)
            return CHAIN_E_BAD_PROOF;
        if ((fn & 1) || fn == sn) {
            chain_merkle_node_hash(path[i], r, r);
            shift_to_set_bit(&fn, &sn);
        } else {
            chain_merkle_node_hash(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(r, root, CHAIN_HASH_LEN) != 0)
        return CHAIN_E_BAD_PROOF;
    return CHAIN_OK;
}

/* RFC 9162 §2.1.4.2 steps 2-7 for 0 < old_size < new_size and a non-empty path. */
static int consistency_walk(uint64_t old_size, uint64_t new_size, const uint8_t *old_root,
                            const uint8_t *new_root, const uint8_t (*path)[CHAIN_HASH_LEN],
                            size_t path_len)
{
    uint8_t fr[CHAIN_HASH_LEN], sr[CHAIN_HASH_LEN];
    uint64_t fn = old_size - 1, sn = new_size - 1;
    size_t i = 0;

    /* An old size that is a power of two is a node of the new tree: its root starts the walk
     * in place of a first path element (the RFC "prepends first_hash"). */
    if ((old_size & (old_size - 1)) == 0) {
        memcpy(fr, old_root, CHAIN_HASH_LEN);
    } else {
        memcpy(fr, path[0], CHAIN_HASH_LEN);
        i = 1;
    }
    memcpy(sr, fr, CHAIN_HASH_LEN);
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < path_len; i++) {
        if (sn == 0)
            return CHAIN_E_BAD_PROOF;
        if ((fn & 1) || fn == sn) {
            chain_merkle_node_hash(path[i], fr, fr);
            chain_merkle_node_hash(path[i], sr, sr);
            shift_to_set_bit(&fn, &sn);
        } else {
            chain_merkle_node_hash(sr, path[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || memcmp(fr, old_root, CHAIN_HASH_LEN) != 0 ||
        memcmp(sr, new_root, CHAIN_HASH_LEN) != 0)
        return CHAIN_E_BAD_PROOF;
    return CHAIN_OK;
}

int chain_merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
                                    const uint8_t old_root[CHAIN_HASH_LEN],
                                    const uint8_t new_root[CHAIN_HASH_LEN],
                                    const uint8_t (*path)[CHAIN_HASH_LEN], size_t path_len)
{
    if (old_size > new_size)
        return CHAIN_E_BAD_PROOF;
    if (old_size == new_size) {
        if (path_len != 0 || memcmp(old_root, new_root, CHAIN_HASH_LEN) != 0)
            return CHAIN_E_BAD_PROOF;
        return CHAIN_OK;
    }
    if (old_size == 0)
        return path_len == 0 ? CHAIN_OK : CHAIN_E_BAD_PROOF;
    if (path_len == 0)
        return CHAIN_E_BAD_PROOF;
    return consistency_walk(old_size, new_size, old_root, new_root, path, path_len);
}

int chain_merkle_root(const uint8_t (*leaf_hashes)[CHAIN_HASH_LEN], uint64_t n,
                      uint8_t out[CHAIN_HASH_LEN])
{
    struct chain_merkle_frontier f;
    uint64_t i;
    int rc;

    if (leaf_hashes == NULL && n > 0)
        return CHAIN_E_INVAL;
    chain_merkle_frontier_init(&f);
    for (i = 0; i < n; i++) {
        rc = chain_merkle_frontier_append(&f, leaf_hashes[i], NULL, NULL);
        if (rc != CHAIN_OK)
            return rc;
    }
    chain_merkle_frontier_root(&f, out);
    return CHAIN_OK;
}

void chain_merkle_frontier_init(struct chain_merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

/* Emits made[0..levels] (leaf, then each merged parent) for a leaf appended at position pos. */
static int emit_all(chain_merkle_emit_fn emit, void *ctx, uint64_t pos,
                    const uint8_t (*made)[CHAIN_HASH_LEN], unsigned levels)
{
    unsigned j;
    int rc;

    if (emit == NULL)
        return CHAIN_OK;
    for (j = 0; j <= levels; j++) {
        /* the node at level j that ends with leaf pos */
        rc = emit(ctx, j, ((pos + 1) >> j) - 1, made[j]);
        if (rc != 0)
            return rc;
    }
    return CHAIN_OK;
}

int chain_merkle_frontier_append(struct chain_merkle_frontier *f,
                                 const uint8_t leaf_hash[CHAIN_HASH_LEN], chain_merkle_emit_fn emit,
                                 void *ctx)
{
    uint8_t made[65][CHAIN_HASH_LEN];
    uint64_t size = f->size, t;
    unsigned n_front, levels = 0;
    int rc;

    if (size == UINT64_MAX)
        return CHAIN_E_RANGE;
    n_front = (unsigned)__builtin_popcountll(size);
    memcpy(made[0], leaf_hash, CHAIN_HASH_LEN);
    /* Each trailing 1 bit of size is a perfect subtree of that level at the frontier's end,
     * which the new leaf completes into a parent one level up. */
    for (t = size; t & 1; t >>= 1, levels++)
        chain_merkle_node_hash(f->hashes[n_front - 1 - levels], made[levels], made[levels + 1]);
    rc = emit_all(emit, ctx, size, (const uint8_t(*)[CHAIN_HASH_LEN])made, levels);
    if (rc != CHAIN_OK)
        return rc;
    memcpy(f->hashes[n_front - levels], made[levels], CHAIN_HASH_LEN);
    f->size = size + 1;
    return CHAIN_OK;
}

void chain_merkle_frontier_root(const struct chain_merkle_frontier *f, uint8_t out[CHAIN_HASH_LEN])
{
    size_t n = (size_t)__builtin_popcountll(f->size);

    if (n == 0)
        chain_merkle_empty_root(out);
    else
        fold((const uint8_t(*)[CHAIN_HASH_LEN])f->hashes, n, out);
}

int chain_merkle_frontier_plan(uint64_t size, struct chain_merkle_node_id *ids, size_t cap,
                               size_t *n_ids)
{
    return chain_merkle_root_plan(size, ids, cap, n_ids);
}

int chain_merkle_frontier_from_plan(struct chain_merkle_frontier *f, uint64_t size,
                                    const uint8_t (*hashes)[CHAIN_HASH_LEN], size_t n_hashes)
{
    if (n_hashes != (size_t)__builtin_popcountll(size))
        return CHAIN_E_INVAL;
    memset(f, 0, sizeof *f);
    if (n_hashes > 0)
        memcpy(f->hashes, hashes, n_hashes * CHAIN_HASH_LEN);
    f->size = size;
    return CHAIN_OK;
}
