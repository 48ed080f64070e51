/*
 * The ids of the newest committed blocks, for the sequencer's duplicate check (server/seq.c).
 * The leaf copy (server/leafstore.h) answers for every leaf it holds, but it trails the log by
 * the last block or two; the window holds those blocks' ids, each block's sorted, so that copy
 * and window together say of any id whether the log holds it. Sequencer thread only.
 */
#ifndef LX_SERVER_IDWINDOW_H
#define LX_SERVER_IDWINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "../chain/merkle.h"

#define LX_IDWINDOW_BLOCKS 32u    /* blocks held at most */
#define LX_IDWINDOW_IDS    65536u /* and ids in all (2 MiB) */

struct lx_idblock {
    uint64_t first; /* the block's first leaf */
    size_t n;
    uint8_t (*id)[CHAIN_HASH_LEN]; /* sorted */
};

struct lx_idwindow {
    struct lx_idblock block[LX_IDWINDOW_BLOCKS]; /* consecutive blocks, oldest first */
    size_t n_blocks, n_ids;
};

/* Adds the ids of the block of leaves [first, first + n) (copied). The blocks must follow one
 * another; one that does not starts the window again. Older blocks go to stay within the
 * limits above. Out of memory, the window is emptied (it then covers nothing). */
void lx_idwindow_add(struct lx_idwindow *w, uint64_t first, const uint8_t (*id)[CHAIN_HASH_LEN],
                     size_t n);

/* Drops the blocks that end at or below from, then says whether the window holds every leaf of
 * [from, to): 1 or 0. An empty range is covered. */
int lx_idwindow_covers(struct lx_idwindow *w, uint64_t from, uint64_t to);

/* 1 when id is the id of a leaf the window holds. */
int lx_idwindow_has(const struct lx_idwindow *w, const uint8_t id[CHAIN_HASH_LEN]);

/* Empties the window and frees what it held. */
void lx_idwindow_clear(struct lx_idwindow *w);

#endif
