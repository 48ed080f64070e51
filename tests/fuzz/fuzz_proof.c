/* fuzz_proof.c — Merkle proof verification (chain/merkle.c). Part one hands the verifiers sizes,
 * indexes, paths and roots taken straight from the input (the path in a heap block of exactly its
 * length, so that ASan sees any read past it): they must never crash and never accept a proof
 * for an index outside the tree. Part two builds a real tree of up to 200 leaves chosen by the
 * input and checks the properties that matter: the proofs the server would build from its stored
 * nodes verify against the root, a proof with one flipped bit does not, and the sequencer's
 * frontier gives the same roots. */
#include "fuzz.h"

#include "../../chain/merkle.h"

#define MAX_LEAVES 200

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_sodium();
    return 0;
}

/* Reads the input front to back; zeros once it runs out. */
struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t rd_u8(struct reader *r)
{
    uint8_t b = 0;

    if (r->n > 0) {
        b = *r->p++;
        r->n--;
    }
    return b;
}

/* A tree size or index: small most of the time, any 64-bit value when the tag says so. */
static uint64_t rd_size(struct reader *r)
{
    uint8_t tag = rd_u8(r);
    uint64_t v = 0;

    if (!(tag & 0x80))
        return tag;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | rd_u8(r);
    return (tag & 0x40) ? v : v >> (tag & 0x3f);
}

static void rd_hash(struct reader *r, uint8_t out[CHAIN_HASH_LEN])
{
    for (size_t i = 0; i < CHAIN_HASH_LEN; i++)
        out[i] = rd_u8(r);
}

static void raw_verify(struct reader *r)
{
    uint64_t index = rd_size(r), size = rd_size(r), old = rd_size(r), new_size = rd_size(r);
    size_t path_len = rd_u8(r) % (CHAIN_MERKLE_MAX_PATH + 4);
    uint8_t leaf[CHAIN_HASH_LEN], root1[CHAIN_HASH_LEN], root2[CHAIN_HASH_LEN];
    uint8_t(*path)[CHAIN_HASH_LEN] = malloc(path_len ? path_len * CHAIN_HASH_LEN : 1);
    int rc;

    FUZZ_ASSERT(path != NULL);
    for (size_t i = 0; i < path_len; i++)
        rd_hash(r, path[i]);
    rd_hash(r, leaf);
    rd_hash(r, root1);
    rd_hash(r, root2);
    rc = chain_merkle_inclusion_verify(index, size, leaf, path, path_len, root1);
    FUZZ_ASSERT(rc == 0 || rc == CHAIN_E_BAD_PROOF);
    if (index >= size)
        FUZZ_ASSERT(rc == CHAIN_E_BAD_PROOF);
    rc = chain_merkle_consistency_verify(old, new_size, root1, root2, path, path_len);
    FUZZ_ASSERT(rc == 0 || rc == CHAIN_E_BAD_PROOF);
    if (old > new_size)
        FUZZ_ASSERT(rc == CHAIN_E_BAD_PROOF);
    free(path);
}

/* Hashes of the planned perfect nodes, as the server reads them from its node table. */
static void node_hashes(const uint8_t (*leaves)[CHAIN_HASH_LEN],
                        const struct chain_merkle_node_id *ids, size_t n,
                        uint8_t (*out)[CHAIN_HASH_LEN])
{
    for (size_t i = 0; i < n; i++) {
        uint64_t first = ids[i].index << ids[i].level, count = (uint64_t)1 << ids[i].level;

        FUZZ_ASSERT(first + count <= MAX_LEAVES);
        FUZZ_ASSERT(chain_merkle_root(leaves + first, count, out[i]) == 0);
    }
}

static void check_inclusion(const uint8_t (*leaves)[CHAIN_HASH_LEN], uint64_t n, uint64_t m,
                            const uint8_t root[CHAIN_HASH_LEN], uint8_t flip)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][CHAIN_HASH_LEN];
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    size_t n_ids, path_len;

    FUZZ_ASSERT(chain_merkle_inclusion_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids) == 0);
    node_hashes(leaves, ids, n_ids, hashes);
    FUZZ_ASSERT(chain_merkle_inclusion_build(m, n, (const uint8_t(*)[CHAIN_HASH_LEN])hashes, n_ids,
                                             path, CHAIN_MERKLE_MAX_PATH, &path_len) == 0);
    FUZZ_ASSERT(chain_merkle_inclusion_verify(
                    m, n, leaves[m], (const uint8_t(*)[CHAIN_HASH_LEN])path, path_len, root) == 0);
    if (path_len == 0)
        return;
    path[flip % path_len][(flip / 8) % CHAIN_HASH_LEN] ^= (uint8_t)(1u << (flip % 8));
    FUZZ_ASSERT(chain_merkle_inclusion_verify(m, n, leaves[m],
                                              (const uint8_t(*)[CHAIN_HASH_LEN])path, path_len,
                                              root) == CHAIN_E_BAD_PROOF);
}

static void check_consistency(const uint8_t (*leaves)[CHAIN_HASH_LEN], uint64_t n, uint64_t old,
                              const uint8_t root[CHAIN_HASH_LEN], uint8_t flip)
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][CHAIN_HASH_LEN];
    uint8_t path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN], old_root[CHAIN_HASH_LEN];
    size_t n_ids, path_len;

    FUZZ_ASSERT(chain_merkle_root(leaves, old, old_root) == 0);
    FUZZ_ASSERT(chain_merkle_consistency_plan(old, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids) == 0);
    node_hashes(leaves, ids, n_ids, hashes);
    FUZZ_ASSERT(chain_merkle_consistency_build(old, n, (const uint8_t(*)[CHAIN_HASH_LEN])hashes,
                                               n_ids, path, CHAIN_MERKLE_MAX_PATH, &path_len) == 0);
    FUZZ_ASSERT(chain_merkle_consistency_verify(
                    old, n, old_root, root, (const uint8_t(*)[CHAIN_HASH_LEN])path, path_len) == 0);
    if (path_len == 0)
        return;
    path[flip % path_len][(flip / 8) % CHAIN_HASH_LEN] ^= (uint8_t)(1u << (flip % 8));
    FUZZ_ASSERT(chain_merkle_consistency_verify(old, n, old_root, root,
                                                (const uint8_t(*)[CHAIN_HASH_LEN])path,
                                                path_len) == CHAIN_E_BAD_PROOF);
}

/* The frontier, appended leaf by leaf and reloaded from its plan, has the tree's root. */
static void check_frontier(const uint8_t (*leaves)[CHAIN_HASH_LEN], uint64_t n,
                           const uint8_t root[CHAIN_HASH_LEN])
{
    static struct chain_merkle_frontier f, g;
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][CHAIN_HASH_LEN], out[CHAIN_HASH_LEN];
    size_t n_ids;

    chain_merkle_frontier_init(&f);
    for (uint64_t i = 0; i < n; i++)
        FUZZ_ASSERT(chain_merkle_frontier_append(&f, leaves[i], NULL, NULL) == 0);
    chain_merkle_frontier_root(&f, out);
    FUZZ_ASSERT(memcmp(out, root, CHAIN_HASH_LEN) == 0);
    FUZZ_ASSERT(chain_merkle_frontier_plan(n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids) == 0);
    node_hashes(leaves, ids, n_ids, hashes);
    FUZZ_ASSERT(chain_merkle_frontier_from_plan(&g, n, (const uint8_t(*)[CHAIN_HASH_LEN])hashes,
                                                n_ids) == 0);
    chain_merkle_frontier_root(&g, out);
    FUZZ_ASSERT(memcmp(out, root, CHAIN_HASH_LEN) == 0);
}

static void real_tree(struct reader *r)
{
    static uint8_t leaves[MAX_LEAVES][CHAIN_HASH_LEN];
    uint8_t root[CHAIN_HASH_LEN], seed = rd_u8(r);
    uint64_t n = 1 + rd_u8(r) % MAX_LEAVES, m = rd_u8(r) % n, old = 1 + rd_u8(r) % n;
    uint8_t flip = rd_u8(r);

    for (uint64_t i = 0; i < n; i++) {
        uint8_t d[2] = {(uint8_t)i, seed};

        chain_merkle_leaf_hash(d, sizeof d, leaves[i]);
    }
    FUZZ_ASSERT(chain_merkle_root((const uint8_t(*)[CHAIN_HASH_LEN])leaves, n, root) == 0);
    check_inclusion((const uint8_t(*)[CHAIN_HASH_LEN])leaves, n, m, root, flip);
    check_consistency((const uint8_t(*)[CHAIN_HASH_LEN])leaves, n, old, root, flip);
    check_frontier((const uint8_t(*)[CHAIN_HASH_LEN])leaves, n, root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = {data, size};

    if (size == 0)
        return 0;
    if (data[0] & 1) {
        r.p++;
        r.n--;
        real_tree(&r);
    } else {
        raw_verify(&r);
    }
    return 0;
}
