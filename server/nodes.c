/*
 * The node source of nodes.h: an append-only in-memory copy of merkle_nodes, and the fetch that
 * combines it with merkle_nodes and the leaves in txs.
 *
 * The cache keeps the stored nodes in the order the append frontier completes them (post-order
 * of the tree whose leaves are the level-6 nodes), so it only ever grows at its end: readers
 * check a published count and read below it while the sequencer writes above it. Storage is a
 * fixed table of fixed-size chunks, so nothing a reader holds is ever moved by realloc.
 */
#include "nodes.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BITS 16u /* 65,536 hashes (2 MiB) per chunk, allocated when first needed */
#define CHUNK      (1u << CHUNK_BITS)
#define MAX_CHUNKS 16384u /* 2^30 stored nodes: logs of up to 2^35 leaves */

struct lx_nodecache {
    uint8_t (*chunk[MAX_CHUNKS])[CHAIN_HASH_LEN];
    uint64_t count;             /* nodes held (sequencer thread) */
    _Atomic uint64_t pub_count; /* nodes readers may read */
    _Atomic uint64_t pub_size;  /* tree size those nodes cover */
};

/* Stored nodes of a tree of size: a perfect forest of size >> 6 "leaves" (the level-6 nodes)
 * has 2m - popcount(m) nodes. */
static uint64_t stored_count(uint64_t size)
{
    uint64_t m = size >> LX_NODES_STORED_LEVEL;

    return 2 * m - (uint64_t)__builtin_popcountll(m);
}

/* Post-order position of stored node (level, index): the nodes completed up to and including
 * its last leaf, minus those above it that the same leaf completes. Needs level >= 6 and
 * (index + 1) << level not overflowing. */
static uint64_t position(unsigned level, uint64_t index)
{
    unsigned r = level - LX_NODES_STORED_LEVEL;
    uint64_t m = (index + 1) << r;

    return stored_count(m << LX_NODES_STORED_LEVEL) - 1 - ((unsigned)__builtin_ctzll(m) - r);
}

/* Does the perfect node (level, index) lie inside a tree of size size? */
static int inside(unsigned level, uint64_t index, uint64_t size)
{
    return level < 64 && index < (size >> level); /* (index + 1) << level <= size */
}

struct lx_nodecache *lx_nodecache_new(void)
{
    return calloc(1, sizeof(struct lx_nodecache));
}

void lx_nodecache_free(struct lx_nodecache *nc)
{
    if (nc == NULL)
        return;
    for (size_t i = 0; i < MAX_CHUNKS && nc->chunk[i] != NULL; i++)
        free(nc->chunk[i]);
    free(nc);
}

/* The slot of position pos, its chunk allocated if need be; NULL when out of memory. */
static uint8_t *slot(struct lx_nodecache *nc, uint64_t pos)
{
    uint64_t c = pos >> CHUNK_BITS;

    if (c >= MAX_CHUNKS)
        return NULL;
    if (nc->chunk[c] == NULL && (nc->chunk[c] = malloc(CHUNK * (size_t)CHAIN_HASH_LEN)) == NULL)
        return NULL;
    return nc->chunk[c][pos & (CHUNK - 1)];
}

int lx_nodecache_add(struct lx_nodecache *nc, unsigned level, uint64_t index,
                     const uint8_t hash[CHAIN_HASH_LEN])
{
    uint8_t *s;

    if (level < LX_NODES_STORED_LEVEL || level >= 64 || index >= (UINT64_MAX >> level) ||
        position(level, index) != nc->count || (s = slot(nc, nc->count)) == NULL)
        return -1;
    memcpy(s, hash, CHAIN_HASH_LEN);
    nc->count++;
    return 0;
}

void lx_nodecache_publish(struct lx_nodecache *nc, uint64_t tree_size)
{
    atomic_store_explicit(&nc->pub_count, nc->count, memory_order_release);
    atomic_store_explicit(&nc->pub_size, tree_size, memory_order_release);
}

uint64_t lx_nodecache_size(const struct lx_nodecache *nc)
{
    return nc ? atomic_load_explicit(&nc->pub_size, memory_order_acquire) : 0;
}

int lx_nodecache_get(const struct lx_nodecache *nc, unsigned level, uint64_t index,
                     uint8_t out[CHAIN_HASH_LEN])
{
    uint64_t pos;

    if (nc == NULL || level < LX_NODES_STORED_LEVEL ||
        !inside(level, index, atomic_load_explicit(&nc->pub_size, memory_order_acquire)))
        return -1;
    pos = position(level, index);
    if (pos >= atomic_load_explicit(&nc->pub_count, memory_order_acquire))
        return -1;
    memcpy(out, nc->chunk[pos >> CHUNK_BITS][pos & (CHUNK - 1)], CHAIN_HASH_LEN);
    return 0;
}

/* Big-endian integers of PostgreSQL's binary result format. */
static uint64_t be64(const char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

static unsigned be16(const char *p)
{
    return (unsigned)(uint8_t)p[0] << 8 | (uint8_t)p[1];
}

int lx_nodecache_load(struct lx_nodecache *nc, PGconn *c, uint64_t tree_size, char *err,
                      size_t errlen)
{
    uint64_t want = stored_count(tree_size), have = nc->count, filled = 0;
    PGresult *r;
    int rc = 0;

    if (want <= have) { /* immutable nodes: what is held is already right */
        lx_nodecache_publish(nc, tree_size);
        return 0;
    }
    r = PQexecParams(c, "SELECT level, idx, hash FROM merkle_nodes WHERE level >= 6", 0, NULL, NULL,
                     NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read merkle_nodes: %s", PQresultErrorMessage(r));
        PQclear(r);
        return LX_NODES_DB;
    }
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        unsigned level = be16(PQgetvalue(r, i, 0));
        uint64_t index = be64(PQgetvalue(r, i, 1)), pos;
        uint8_t *s;

        if (!inside(level, index, tree_size))
            continue; /* beyond the committed tree: lxind audit reports it */
        pos = position(level, index);
        if (pos < have)
            continue;
        if (PQgetlength(r, i, 2) != CHAIN_HASH_LEN || (s = slot(nc, pos)) == NULL) {
            rc = LX_NODES_DATA;
            break;
        }
        memcpy(s, PQgetvalue(r, i, 2), CHAIN_HASH_LEN);
        filled++;
    }
    PQclear(r);
    if (rc == 0 && filled != want - have)
        rc = LX_NODES_DATA;
    if (rc != 0) {
        snprintf(err, errlen,
                 "merkle_nodes does not hold the %" PRIu64
                 " stored nodes of a tree of size %" PRIu64,
                 want, tree_size);
        return rc;
    }
    nc->count = want;
    lx_nodecache_publish(nc, tree_size);
    return 0;
}

int lx_nodes_from_leaves(const struct lx_leaves *leaves, unsigned level, uint64_t index,
                         uint8_t out[CHAIN_HASH_LEN])
{
    uint64_t first, n;

    if (level >= LX_NODES_STORED_LEVEL)
        return -1;
    first = index << level;
    n = (uint64_t)1 << level;
    if (first < leaves->first || first + n > leaves->first + leaves->n)
        return -1;
    return chain_merkle_root(leaves->hash + (first - leaves->first), n, out) == 0 ? 0 : -1;
}

/* Writes "{a,b,…}" of n numbers (level or index of ids, chosen by pick) into buf. */
static void int_array(char *buf, size_t cap, const uint64_t *v, size_t n)
{
    size_t p = (size_t)snprintf(buf, cap, "{");

    for (size_t i = 0; i < n && p < cap; i++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%" PRIu64, i ? "," : "", v[i]);
    if (p < cap)
        snprintf(buf + p, cap - p, "}");
}

/* Reads the stored nodes ids[want[0..k)] from merkle_nodes into out. */
static int fetch_stored(PGconn *c, const struct chain_merkle_node_id *ids, const size_t *want,
                        size_t k, uint8_t (*out)[CHAIN_HASH_LEN])
{
    char levels[CHAIN_MERKLE_PLAN_MAX * 4 + 3], idxs[CHAIN_MERKLE_PLAN_MAX * 21 + 3];
    const char *params[2] = {levels, idxs};
    uint64_t lv[CHAIN_MERKLE_PLAN_MAX], ix[CHAIN_MERKLE_PLAN_MAX];
    PGresult *r;
    int rc = 0;

    for (size_t i = 0; i < k; i++) {
        lv[i] = ids[want[i]].level;
        ix[i] = ids[want[i]].index;
    }
    int_array(levels, sizeof(levels), lv, k);
    int_array(idxs, sizeof(idxs), ix, k);
    r = PQexecPrepared(c, "lx_nodes_stored", 2, params, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = LX_NODES_DB;
    else if ((size_t)PQntuples(r) != k)
        rc = LX_NODES_DATA;
    for (size_t i = 0; rc == 0 && i < k; i++) {
        if (PQgetlength(r, (int)i, 0) != CHAIN_HASH_LEN)
            rc = LX_NODES_DATA;
        else
            memcpy(out[want[i]], PQgetvalue(r, (int)i, 0), CHAIN_HASH_LEN);
    }
    PQclear(r);
    return rc;
}

/* The leaves of tiles tile[0..k) read from txs into hash (LX_NODES_TILE slots per tile, in
 * that order) and got[j] (how many leaves tile j has, from its start, without a gap). */
static int fetch_tiles(PGconn *c, const uint64_t *tile, size_t k, uint8_t (*hash)[CHAIN_HASH_LEN],
                       size_t *got)
{
    char tiles[CHAIN_MERKLE_PLAN_MAX * 21 + 3];
    const char *params[1] = {tiles};
    size_t top[CHAIN_MERKLE_PLAN_MAX] = {0}; /* 1 + the highest leaf offset seen per tile */
    PGresult *r;
    int rc = 0;

    int_array(tiles, sizeof(tiles), tile, k);
    r = PQexecPrepared(c, "lx_nodes_leaves", 1, params, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return LX_NODES_DB;
    }
    memset(got, 0, k * sizeof(*got));
    for (int row = 0; row < PQntuples(r) && rc == 0; row++) {
        uint64_t leaf = be64(PQgetvalue(r, row, 0));
        size_t j = 0;

        while (j < k && tile[j] != leaf >> LX_NODES_STORED_LEVEL)
            j++;
        if (j == k || PQgetlength(r, row, 1) != CHAIN_HASH_LEN) {
            rc = LX_NODES_DATA;
            break;
        }
        memcpy(hash[j * LX_NODES_TILE + (leaf & (LX_NODES_TILE - 1))], PQgetvalue(r, row, 1),
               CHAIN_HASH_LEN);
        got[j]++;
        if ((leaf & (LX_NODES_TILE - 1)) + 1 > top[j])
            top[j] = (leaf & (LX_NODES_TILE - 1)) + 1;
    }
    PQclear(r);
    for (size_t j = 0; rc == 0 && j < k; j++)
        if (top[j] != got[j]) /* a gap: a deleted leaf row */
            rc = LX_NODES_DATA;
    return rc;
}

/* Finds or adds t in tile[0..*k); returns its slot. */
static size_t tile_slot(uint64_t *tile, size_t *k, uint64_t t)
{
    for (size_t j = 0; j < *k; j++)
        if (tile[j] == t)
            return j;
    tile[*k] = t;
    return (*k)++;
}

/* The lower nodes ids[low[0..k)] hashed from the leaves of their tiles, read in one query. */
static int fetch_low(PGconn *c, const struct chain_merkle_node_id *ids, const size_t *low, size_t k,
                     uint8_t (*out)[CHAIN_HASH_LEN])
{
    uint64_t tile[CHAIN_MERKLE_PLAN_MAX];
    size_t n_tiles = 0, got[CHAIN_MERKLE_PLAN_MAX];
    uint8_t(*hash)[CHAIN_HASH_LEN];
    int rc;

    for (size_t i = 0; i < k; i++)
        tile_slot(tile, &n_tiles,
                  (ids[low[i]].index << ids[low[i]].level) >> LX_NODES_STORED_LEVEL);
    hash = malloc(n_tiles * LX_NODES_TILE * CHAIN_HASH_LEN);
    if (hash == NULL)
        return LX_NODES_DB;
    rc = fetch_tiles(c, tile, n_tiles, hash, got);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        const struct chain_merkle_node_id *id = &ids[low[i]];
        size_t j = tile_slot(tile, &n_tiles, (id->index << id->level) >> LX_NODES_STORED_LEVEL);
        struct lx_leaves l = {tile[j] << LX_NODES_STORED_LEVEL, got[j],
                              (const uint8_t(*)[CHAIN_HASH_LEN])(hash + j * LX_NODES_TILE)};

        if (lx_nodes_from_leaves(&l, id->level, id->index, out[low[i]]) != 0)
            rc = LX_NODES_DATA;
    }
    free(hash);
    return rc;
}

int lx_nodes_fetch(PGconn *c, const struct lx_nodecache *nc, const struct lx_leaves *known,
                   size_t n_known, const struct chain_merkle_node_id *ids, size_t n,
                   uint8_t (*out)[CHAIN_HASH_LEN])
{
    size_t stored[CHAIN_MERKLE_PLAN_MAX], low[CHAIN_MERKLE_PLAN_MAX], n_stored = 0, n_low = 0;
    int rc = 0;

    if (n > CHAIN_MERKLE_PLAN_MAX)
        return LX_NODES_DATA;
    for (size_t i = 0; i < n; i++) {
        int found = -1;

        if (ids[i].level >= LX_NODES_STORED_LEVEL) {
            if (lx_nodecache_get(nc, ids[i].level, ids[i].index, out[i]) != 0)
                stored[n_stored++] = i;
            continue;
        }
        for (size_t k = 0; k < n_known && found != 0; k++)
            found = lx_nodes_from_leaves(&known[k], ids[i].level, ids[i].index, out[i]);
        if (found != 0)
            low[n_low++] = i;
    }
    if (c == NULL && n_stored + n_low > 0)
        return LX_NODES_DB; /* from memory only, and memory does not hold them all */
    if (n_stored > 0)
        rc = fetch_stored(c, ids, stored, n_stored, out);
    if (rc == 0 && n_low > 0)
        rc = fetch_low(c, ids, low, n_low, out);
    return rc;
}
