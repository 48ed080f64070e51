/* test_nodes.c — the node cache of server/nodes.h against the append frontier: every stored
 * node is found at its post-order position, only once published; lower nodes hash again from
 * their leaves to what the frontier emitted. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../chain/merkle.h"
#include "../../server/nodes.h"

#define LEAVES 5000

struct emitted {
    size_t n;
    struct {
        unsigned level;
        uint64_t index;
        uint8_t hash[CHAIN_HASH_LEN];
    } node[2 * LEAVES];
};

static int collect(void *ctx, unsigned level, uint64_t index, const uint8_t hash[CHAIN_HASH_LEN])
{
    struct emitted *e = ctx;

    e->node[e->n].level = level;
    e->node[e->n].index = index;
    memcpy(e->node[e->n++].hash, hash, CHAIN_HASH_LEN);
    return 0;
}

static uint8_t (*leaves)[CHAIN_HASH_LEN];
static struct emitted *em;

static void setup(void)
{
    struct chain_merkle_frontier f;

    leaves = malloc(LEAVES * sizeof(*leaves));
    em = calloc(1, sizeof(*em));
    chain_merkle_frontier_init(&f);
    for (uint32_t i = 0; i < LEAVES; i++) {
        chain_merkle_leaf_hash((const uint8_t *)&i, sizeof(i), leaves[i]);
        ck_assert_int_eq(chain_merkle_frontier_append(&f, leaves[i], collect, em), 0);
    }
}

static void teardown(void)
{
    free(leaves);
    free(em);
}

START_TEST(cache_holds_every_stored_node)
{
    struct lx_nodecache *nc = lx_nodecache_new();
    uint8_t got[CHAIN_HASH_LEN];
    size_t stored = 0;

    for (size_t i = 0; i < em->n; i++) {
        if (em->node[i].level < LX_NODES_STORED_LEVEL) {
            ck_assert_int_ne(
                lx_nodecache_add(nc, em->node[i].level, em->node[i].index, em->node[i].hash), 0);
            continue;
        }
        ck_assert_int_eq(lx_nodecache_get(nc, em->node[i].level, em->node[i].index, got), -1);
        ck_assert_int_eq(
            lx_nodecache_add(nc, em->node[i].level, em->node[i].index, em->node[i].hash), 0);
        stored++;
    }
    ck_assert_uint_eq(stored, 2 * (LEAVES / 64) - (size_t)__builtin_popcount(LEAVES / 64));
    /* nothing is visible before it is published */
    ck_assert_int_eq(lx_nodecache_get(nc, 6, 0, got), -1);
    lx_nodecache_publish(nc, LEAVES);
    ck_assert_uint_eq(lx_nodecache_size(nc), LEAVES);
    for (size_t i = 0; i < em->n; i++) {
        if (em->node[i].level < LX_NODES_STORED_LEVEL)
            continue;
        ck_assert_int_eq(lx_nodecache_get(nc, em->node[i].level, em->node[i].index, got), 0);
        ck_assert_mem_eq(got, em->node[i].hash, CHAIN_HASH_LEN);
    }
    /* beyond the tree, below the stored level, and a second copy of a node are refused */
    ck_assert_int_eq(lx_nodecache_get(nc, 6, LEAVES / 64, got), -1);
    ck_assert_int_eq(lx_nodecache_get(nc, 5, 0, got), -1);
    ck_assert_int_eq(lx_nodecache_get(nc, 63, 0, got), -1);
    ck_assert_int_ne(lx_nodecache_add(nc, 6, 0, got), 0);
    lx_nodecache_free(nc);
}
END_TEST

START_TEST(lower_nodes_from_leaves)
{
    struct lx_leaves all = {0, LEAVES, (const uint8_t(*)[CHAIN_HASH_LEN])leaves};
    struct lx_leaves tile = {128, 64, (const uint8_t(*)[CHAIN_HASH_LEN])leaves + 128};
    uint8_t got[CHAIN_HASH_LEN];

    for (size_t i = 0; i < em->n; i++) {
        unsigned level = em->node[i].level;
        uint64_t index = em->node[i].index;

        if (level >= LX_NODES_STORED_LEVEL) {
            ck_assert_int_eq(lx_nodes_from_leaves(&all, level, index, got), -1);
            continue;
        }
        ck_assert_int_eq(lx_nodes_from_leaves(&all, level, index, got), 0);
        ck_assert_mem_eq(got, em->node[i].hash, CHAIN_HASH_LEN);
        /* a tile answers for its own nodes only */
        if ((index << level) >> LX_NODES_STORED_LEVEL == 2) {
            ck_assert_int_eq(lx_nodes_from_leaves(&tile, level, index, got), 0);
            ck_assert_mem_eq(got, em->node[i].hash, CHAIN_HASH_LEN);
        } else {
            ck_assert_int_eq(lx_nodes_from_leaves(&tile, level, index, got), -1);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nodes");
    TCase *tc = tcase_create("cache");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, cache_holds_every_stored_node);
    tcase_add_test(tc, lower_nodes_from_leaves);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
