/*
 * Where the hashes of the Merkle log's nodes come from.
 *
 * merkle_nodes stores only the perfect subtrees of level >= LX_NODES_STORED_LEVEL (64 leaves
 * and up): about one row per 32 leaves instead of two per leaf. A lower node is hashed again
 * from its leaves, whose hashes are txs.tx_id — at most 63 hashes, from one aligned tile of
 * LX_NODES_TILE leaves read with one index range scan. The stored nodes are few enough (32
 * bytes per 32 leaves: 1 MiB per million leaves) to be kept in memory as well, in an
 * append-only cache the sequencer fills after each commit and readers use without a lock, so a
 * proof needs PostgreSQL only for the leaves of one or two tiles.
 */
#ifndef LX_SERVER_NODES_H
#define LX_SERVER_NODES_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "../chain/merkle.h"

#define LX_NODES_STORED_LEVEL 6u
#define LX_NODES_TILE         (1u << LX_NODES_STORED_LEVEL)

/* Results of lx_nodes_fetch. */
#define LX_NODES_DB   (-1) /* a query failed */
#define LX_NODES_DATA (-2) /* a node or leaf a committed tree implies is missing or damaged */

struct lx_nodecache;

/* The named statements lx_nodes_fetch runs, for the core module's statement table (so every
 * pool connection and the sequencer's have them). Results are read in binary. */
/* clang-format off */
#define LX_NODES_STMTS \
    {"lx_nodes_stored", \
     "SELECT n.hash FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY" \
     " AS w(level, idx, ord) JOIN merkle_nodes n USING (level, idx) ORDER BY w.ord"}, \
    {"lx_nodes_leaves", \
     "SELECT t.leaf_index, t.tx_id FROM unnest($1::bigint[]) AS w(tile) CROSS JOIN LATERAL" \
     " (SELECT leaf_index, tx_id FROM txs WHERE leaf_index >= w.tile * 64" \
     "  AND leaf_index < w.tile * 64 + 64 ORDER BY leaf_index LIMIT 64) t"}
/* clang-format on */

/* Leaf hashes already read: leaves [first, first + n). */
struct lx_leaves {
    uint64_t first;
    size_t n;
    const uint8_t (*hash)[CHAIN_HASH_LEN];
};

/* An empty cache, or NULL when out of memory. */
struct lx_nodecache *lx_nodecache_new(void);
void lx_nodecache_free(struct lx_nodecache *nc);

/* Replaces the cache's contents with the stored nodes of the tree of size tree_size (one query)
 * and publishes that size. Sequencer thread only, and never while readers may run with an older
 * view of a larger tree (at start-up, or after a failed commit, before the head moves). Returns
 * 0 or LX_NODES_DB / LX_NODES_DATA with a sentence in err. */
int lx_nodecache_load(struct lx_nodecache *nc, PGconn *c, uint64_t tree_size, char *err,
                      size_t errlen);

/* Appends a stored node the sequencer just committed, in the order the append frontier completes
 * them. Sequencer thread only. Returns 0, or -1 when out of memory or out of order. */
int lx_nodecache_add(struct lx_nodecache *nc, unsigned level, uint64_t index,
                     const uint8_t hash[CHAIN_HASH_LEN]);

/* Makes the nodes added so far visible to readers, for trees up to tree_size. */
void lx_nodecache_publish(struct lx_nodecache *nc, uint64_t tree_size);

/* The published tree size the cache covers (0 for NULL). */
uint64_t lx_nodecache_size(const struct lx_nodecache *nc);

/* Copies the hash of stored node (level, index) into out. Returns 0, or -1 when the node is
 * below the stored level or not (yet) published. Any thread. */
int lx_nodecache_get(const struct lx_nodecache *nc, unsigned level, uint64_t index,
                     uint8_t out[CHAIN_HASH_LEN]);

/* The hashes of the perfect nodes ids[0..n) of a committed tree, in order, into out[0..n):
 * stored nodes from the cache (may be NULL) or merkle_nodes, lower ones from the leaves in
 * known[0..n_known) or else read from txs. At most two queries; with c NULL, none, and
 * LX_NODES_DB when a node would need one. Returns 0, LX_NODES_DB or LX_NODES_DATA. */
int lx_nodes_fetch(PGconn *c, const struct lx_nodecache *nc, const struct lx_leaves *known,
                   size_t n_known, const struct chain_merkle_node_id *ids, size_t n,
                   uint8_t (*out)[CHAIN_HASH_LEN]);

/* The hash of the perfect node (level < LX_NODES_STORED_LEVEL, index) from leaf hashes that
 * cover it. Returns 0, or -1 when leaves does not hold all of its leaves. */
int lx_nodes_from_leaves(const struct lx_leaves *leaves, unsigned level, uint64_t index,
                         uint8_t out[CHAIN_HASH_LEN]);

#endif
