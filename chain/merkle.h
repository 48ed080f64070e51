/* merkle.h — the RFC 6962 / RFC 9162 Merkle log: hashing, roots, inclusion and consistency
 * proofs, and the append frontier of the sequencer.
 *
 * Node model. Node (level L, index i) is the perfect subtree over leaves [i * 2^L, (i + 1) * 2^L);
 * level 0 nodes are the leaf hashes. (Which of them the server stores and which it hashes again
 * from leaves is its business: server/nodes.h.) A tree of any size is
 * then a handful of such nodes, and so is every proof: a *_plan function lists the nodes needed
 * (fetch them in one query), and the matching *_build function turns their hashes, given in plan
 * order, into the root or the RFC 9162 proof. A subtree of the RFC recursion that is not perfect
 * (it ends at the tree's right edge) is hashed from its perfect decomposition, combined right to
 * left — which is exactly MTH of that range.
 *
 * All hashes are CHAIN_HASH_LEN (32) bytes. Nothing here allocates. */
#ifndef CHAIN_MERKLE_H
#define CHAIN_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"

#define CHAIN_MERKLE_MAX_PATH 64  /* longest inclusion or consistency proof (64-bit sizes) */
#define CHAIN_MERKLE_PLAN_MAX 130 /* most node ids any *_plan function lists */

/* A perfect subtree: covers leaves [index << level, (index + 1) << level). */
struct chain_merkle_node_id {
    uint8_t level;  /* 0 = a leaf, up to 63 */
    uint64_t index; /* position among the nodes of that level */
};

/* The compact range [0, size): roots of the perfect subtrees along the right edge, biggest
 * (leftmost) first. hashes[i] for i < popcount(size) is meaningful. */
struct chain_merkle_frontier {
    uint64_t size;                      /* leaves appended so far */
    uint8_t hashes[64][CHAIN_HASH_LEN]; /* perfect subtree roots, leftmost first */
};

/* Called by chain_merkle_frontier_append for each perfect node it completes: the leaf itself
 * (level 0) and each parent it merges, bottom-up. Return 0 to go on; any other value aborts the
 * append (the frontier stays as it was) and is returned by chain_merkle_frontier_append. The hash
 * pointer is valid only during the call. */
typedef int (*chain_merkle_emit_fn)(void *ctx, unsigned level, uint64_t index,
                                    const uint8_t hash[CHAIN_HASH_LEN]);

/* out = SHA-256(0x00 || d[0..n)). Borrows d. */
void chain_merkle_leaf_hash(const uint8_t *d, size_t n, uint8_t out[CHAIN_HASH_LEN]);

/* out = SHA-256(0x01 || l || r). out may alias l or r. */
void chain_merkle_node_hash(const uint8_t l[CHAIN_HASH_LEN], const uint8_t r[CHAIN_HASH_LEN],
                            uint8_t out[CHAIN_HASH_LEN]);

/* out = SHA-256(""), the root of the empty tree. */
void chain_merkle_empty_root(uint8_t out[CHAIN_HASH_LEN]);

/* Root of the tree whose leaf hashes are leaf_hashes[0..n), in O(n) time and O(1) memory.
 * Returns 0 (n == 0 gives the empty root) or CHAIN_E_INVAL for a NULL array with n > 0. */
int chain_merkle_root(const uint8_t (*leaf_hashes)[CHAIN_HASH_LEN], uint64_t n,
                      uint8_t out[CHAIN_HASH_LEN]) CHAIN_WUR;

/* Lists in ids[0..*n_ids) the perfect nodes whose hashes give the root of the tree of size
 * tree_size (its perfect decomposition, leftmost first; none for size 0). Returns 0, or
 * CHAIN_E_BUFFER if cap is too small (CHAIN_MERKLE_PLAN_MAX always suffices). */
int chain_merkle_root_plan(uint64_t tree_size, struct chain_merkle_node_id *ids, size_t cap,
                           size_t *n_ids) CHAIN_WUR;

/* Root of the tree of size tree_size from the hashes of the nodes chain_merkle_root_plan listed,
 * in plan order. Returns 0, or CHAIN_E_INVAL when n_hashes is not the plan's length. */
int chain_merkle_root_build(uint64_t tree_size, const uint8_t (*hashes)[CHAIN_HASH_LEN],
                            size_t n_hashes, uint8_t out[CHAIN_HASH_LEN]) CHAIN_WUR;

/* Lists the perfect nodes needed for the inclusion proof of leaf leaf_index in the tree of size
 * tree_size. Returns 0, CHAIN_E_INVAL when leaf_index >= tree_size, or CHAIN_E_BUFFER. */
int chain_merkle_inclusion_plan(uint64_t leaf_index, uint64_t tree_size,
                                struct chain_merkle_node_id *ids, size_t cap,
                                size_t *n_ids) CHAIN_WUR;

/* Writes the RFC 9162 §2.1.3.1 audit path (bottom-up) of leaf leaf_index in the tree of size
 * tree_size to path[0..*path_len), from the hashes of the nodes chain_merkle_inclusion_plan listed
 * (in plan order). Returns 0, CHAIN_E_INVAL (bad index, or n_hashes not the plan's length) or
 * CHAIN_E_BUFFER (cap < path length; CHAIN_MERKLE_MAX_PATH always suffices). */
int chain_merkle_inclusion_build(uint64_t leaf_index, uint64_t tree_size,
                                 const uint8_t (*hashes)[CHAIN_HASH_LEN], size_t n_hashes,
                                 uint8_t (*path)[CHAIN_HASH_LEN], size_t cap,
                                 size_t *path_len) CHAIN_WUR;

/* Lists the perfect nodes needed for the consistency proof from old_size to new_size (none when
 * old_size is 0 or equals new_size). Returns 0, CHAIN_E_INVAL when old_size > new_size, or
 * CHAIN_E_BUFFER. */
int chain_merkle_consistency_plan(uint64_t old_size, uint64_t new_size,
                                  struct chain_merkle_node_id *ids, size_t cap,
                                  size_t *n_ids) CHAIN_WUR;

/* Writes the RFC 9162 §2.1.4.1 consistency proof from old_size to new_size to
 * path[0..*path_len) from the hashes of the planned nodes (in plan order). Returns 0,
 * CHAIN_E_INVAL or CHAIN_E_BUFFER as chain_merkle_inclusion_build. */
int chain_merkle_consistency_build(uint64_t old_size, uint64_t new_size,
                                   const uint8_t (*hashes)[CHAIN_HASH_LEN], size_t n_hashes,
                                   uint8_t (*path)[CHAIN_HASH_LEN], size_t cap,
                                   size_t *path_len) CHAIN_WUR;

/* RFC 9162 §2.1.3.2: does path prove that leaf_hash is leaf leaf_index of the tree of size
 * tree_size with root root? Returns 0 or CHAIN_E_BAD_PROOF. Borrows everything. */
int chain_merkle_inclusion_verify(uint64_t leaf_index, uint64_t tree_size,
                                  const uint8_t leaf_hash[CHAIN_HASH_LEN],
                                  const uint8_t (*path)[CHAIN_HASH_LEN], size_t path_len,
                                  const uint8_t root[CHAIN_HASH_LEN]) CHAIN_WUR;

/* RFC 9162 §2.1.4.2: does path prove that the tree of size new_size with root new_root extends
 * the tree of size old_size with root old_root? As RFC 9162 and its reference implementation:
 * old_size == new_size needs an empty path and equal roots; old_size == 0 needs an empty path
 * (the empty tree is a prefix of every tree); old_size > new_size never verifies. Returns 0 or
 * CHAIN_E_BAD_PROOF. Borrows everything. */
int chain_merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
                                    const uint8_t old_root[CHAIN_HASH_LEN],
                                    const uint8_t new_root[CHAIN_HASH_LEN],
                                    const uint8_t (*path)[CHAIN_HASH_LEN],
                                    size_t path_len) CHAIN_WUR;

/* Makes f the empty frontier. */
void chain_merkle_frontier_init(struct chain_merkle_frontier *f);

/* Appends one leaf hash: calls emit (may be NULL) for the leaf at (0, f->size) and for every
 * parent node that the append completes, then updates f. Returns 0, CHAIN_E_RANGE when the tree
 * is full (2^64 - 1 leaves), or the emit callback's non-zero value (f unchanged). */
int chain_merkle_frontier_append(struct chain_merkle_frontier *f,
                                 const uint8_t leaf_hash[CHAIN_HASH_LEN], chain_merkle_emit_fn emit,
                                 void *ctx) CHAIN_WUR;

/* out = the root of the tree the frontier describes (the empty root for size 0). */
void chain_merkle_frontier_root(const struct chain_merkle_frontier *f, uint8_t out[CHAIN_HASH_LEN]);

/* Lists the perfect nodes that make up the frontier of a tree of size size (the same list as
 * chain_merkle_root_plan), so a restarted server can load its frontier in one query. */
int chain_merkle_frontier_plan(uint64_t size, struct chain_merkle_node_id *ids, size_t cap,
                               size_t *n_ids) CHAIN_WUR;

/* Loads f with size and the hashes of the nodes chain_merkle_frontier_plan listed (plan order).
 * Returns 0, or CHAIN_E_INVAL when n_hashes is not the plan's length (f untouched). */
int chain_merkle_frontier_from_plan(struct chain_merkle_frontier *f, uint64_t size,
                                    const uint8_t (*hashes)[CHAIN_HASH_LEN],
                                    size_t n_hashes) CHAIN_WUR;

#endif
