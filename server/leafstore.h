/*
 * A copy of the log's leaf hashes in two files of the data folder, so that an inclusion proof at
 * the head needs no PostgreSQL query: leaves.bin holds leaf i's hash at byte 32 * i, and
 * leaves.idx is an open-addressing table from a leaf hash to its index. Both are read with pread,
 * so they live in the kernel's page cache and not in lianxind's resident memory, which stays flat
 * as the log grows (the memory target of docs/BENCHMARKS.md).
 *
 * The copy is never trusted. PostgreSQL stays the single source of truth: a follower thread fills
 * the copy from txs, checks every full tile against the stored level-6 nodes when it starts, and
 * the proof path verifies each proof it builds from the copy against the checkpoint's root before
 * serving it. Anything that does not check out is dropped, read again from PostgreSQL, and the
 * proof in hand is built the old way. In steady state the sequencer hands each committed block's
 * leaves to the follower, so keeping the copy costs PostgreSQL nothing.
 */
#ifndef LX_SERVER_LEAFSTORE_H
#define LX_SERVER_LEAFSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "../chain/merkle.h"

struct lx_leafstore;
struct lx_nodecache;
struct db_pool;

/* Opens the copy in dir, creating its files. The leaves the files held are kept, but are not
 * visible until the follower has checked them. NULL with a sentence in err. */
struct lx_leafstore *lx_leafstore_open(const char *dir, char *err, size_t errlen);

/* Stops the follower if it runs, and closes the files (which stay for the next start). */
void lx_leafstore_close(struct lx_leafstore *ls);

/* Starts the follower thread: it checks what the files hold against nc, then copies every leaf
 * nc publishes from txs, through connections of pool. 0, or -1 when the thread cannot start. */
int lx_leafstore_follow(struct lx_leafstore *ls, struct db_pool *pool,
                        const struct lx_nodecache *nc);

/* Wakes the follower. */
void lx_leafstore_kick(struct lx_leafstore *ls);

/* Hands the follower the leaf hashes of a block just committed, [first, first + n) (copied), so
 * it need not read them back from txs. Call after the commit and before the node cache is
 * published. When the follower is far behind, they are dropped and it reads txs instead. */
void lx_leafstore_offer(struct lx_leafstore *ls, uint64_t first,
                        const uint8_t (*hash)[CHAIN_HASH_LEN], size_t n);

/* Leaves [0, size) are readable; gen changes whenever leaves are dropped. Any thread. */
void lx_leafstore_view(const struct lx_leafstore *ls, uint64_t *size, uint64_t *gen);

/* The index below limit where hash may be: 1 with *index set, 0 when there is none. A candidate
 * only: the caller compares the leaf it reads. Any thread. */
int lx_leafstore_find(struct lx_leafstore *ls, const uint8_t hash[CHAIN_HASH_LEN], uint64_t limit,
                      uint64_t *index);

/* Reads leaves [first, first + n), all below the size of a view. 0 or -1. Any thread. */
int lx_leafstore_read(struct lx_leafstore *ls, uint64_t first, size_t n,
                      uint8_t (*out)[CHAIN_HASH_LEN]);

/* The view of generation gen disagreed with the ledger (a proof built from it failed its check,
 * or it did not hold a tx id that is in txs): the follower drops the copy and reads it again.
 * Any thread. */
void lx_leafstore_damaged(struct lx_leafstore *ls, uint64_t gen);

/* The writer's side, for the follower and for tests (one writer thread at a time). */

/* Appends leaves [first, first + n); first must be the current size. 0, or -1 with errno. */
int lx_leafstore_append(struct lx_leafstore *ls, uint64_t first,
                        const uint8_t (*hash)[CHAIN_HASH_LEN], size_t n);

/* Keeps leaves [0, n) of those the files hold (no more than they hold), rebuilds the index and
 * makes them visible. 0, or -1 with errno. */
int lx_leafstore_truncate(struct lx_leafstore *ls, uint64_t n);

/* How many leaves the files hold, checked or not. */
uint64_t lx_leafstore_held(const struct lx_leafstore *ls);

#endif
