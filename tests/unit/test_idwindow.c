/* test_idwindow.c — the ids of the newest blocks (server/idwindow.h), the part of the
 * sequencer's duplicate check that covers what the leaf copy does not hold yet: every id of the
 * blocks it holds is found and no other; it covers a range only when it holds every leaf of it;
 * blocks the copy has caught up with are dropped; the limits on blocks and ids drop the oldest;
 * a block that does not follow the last starts it again. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../chain/merkle.h"
#include "../../server/idwindow.h"

/* Leaf i's id: the leaf hash of its index, as test_leafstore makes them. */
static void id_of(uint32_t i, uint8_t out[CHAIN_HASH_LEN])
{
    chain_merkle_leaf_hash((const uint8_t *)&i, sizeof(i), out);
}

/* Adds the block of leaves [first, first + n). */
static void add(struct lx_idwindow *w, uint32_t first, uint32_t n)
{
    uint8_t(*id)[CHAIN_HASH_LEN] = malloc((n ? n : 1) * sizeof(*id));

    ck_assert_ptr_nonnull(id);
    for (uint32_t i = 0; i < n; i++)
        id_of(first + i, id[i]);
    lx_idwindow_add(w, first, (const uint8_t(*)[CHAIN_HASH_LEN])id, n);
    free(id);
}

static int has(const struct lx_idwindow *w, uint32_t i)
{
    uint8_t id[CHAIN_HASH_LEN];

    id_of(i, id);
    return lx_idwindow_has(w, id);
}

START_TEST(holds_its_blocks)
{
    struct lx_idwindow w = {0};

    add(&w, 100, 50);
    add(&w, 150, 1);
    add(&w, 151, 300);
    for (uint32_t i = 90; i < 460; i++)
        ck_assert_int_eq(has(&w, i), i >= 100 && i < 451);
    ck_assert_int_eq(lx_idwindow_covers(&w, 100, 451), 1);
    ck_assert_int_eq(lx_idwindow_covers(&w, 120, 451), 1);
    ck_assert_int_eq(lx_idwindow_covers(&w, 99, 451), 0);  /* leaf 99 is not held */
    ck_assert_int_eq(lx_idwindow_covers(&w, 120, 452), 0); /* nor leaf 451 */
    ck_assert_uint_eq(w.n_blocks, 3);
    lx_idwindow_clear(&w);
    ck_assert_int_eq(has(&w, 120), 0);
    ck_assert_int_eq(lx_idwindow_covers(&w, 120, 451), 0);
}
END_TEST

/* The copy caught up to `from`: the blocks wholly below it go, the one it is inside stays. */
START_TEST(drops_what_the_copy_holds)
{
    struct lx_idwindow w = {0};

    add(&w, 0, 10);
    add(&w, 10, 10);
    add(&w, 20, 10);
    ck_assert_int_eq(lx_idwindow_covers(&w, 15, 30), 1);
    ck_assert_uint_eq(w.n_blocks, 2);
    ck_assert_int_eq(has(&w, 9), 0);
    ck_assert_int_eq(has(&w, 10), 1);
    ck_assert_int_eq(lx_idwindow_covers(&w, 30, 30), 1);
    ck_assert_uint_eq(w.n_blocks, 0);
    ck_assert_uint_eq(w.n_ids, 0);
}
END_TEST

START_TEST(limits_drop_the_oldest)
{
    struct lx_idwindow w = {0};
    uint32_t next = 0;

    for (uint32_t b = 0; b < LX_IDWINDOW_BLOCKS + 3; b++, next += 2)
        add(&w, next, 2);
    ck_assert_uint_eq(w.n_blocks, LX_IDWINDOW_BLOCKS);
    ck_assert_int_eq(has(&w, 5), 0); /* in the third block, dropped */
    ck_assert_int_eq(has(&w, 6), 1);
    ck_assert_int_eq(lx_idwindow_covers(&w, 5, next), 0);
    ck_assert_int_eq(lx_idwindow_covers(&w, 6, next), 1);
    /* a big block pushes out as many as the id limit needs */
    add(&w, next, LX_IDWINDOW_IDS - 10);
    ck_assert_uint_le(w.n_ids, LX_IDWINDOW_IDS);
    ck_assert_int_eq(has(&w, next - 1), 1);
    ck_assert_int_eq(has(&w, next - 12), 0);
    next += LX_IDWINDOW_IDS - 10;
    /* one bigger than the limit cannot be held: the window covers nothing */
    add(&w, next, LX_IDWINDOW_IDS + 1);
    ck_assert_uint_eq(w.n_blocks, 0);
    ck_assert_int_eq(lx_idwindow_covers(&w, next - 1, next + LX_IDWINDOW_IDS + 1), 0);
    lx_idwindow_clear(&w);
}
END_TEST

/* After a failed block the sequencer reads the head again; a block that does not start where
 * the last ended must not leave a gap the window would claim to cover. */
START_TEST(a_gap_starts_again)
{
    struct lx_idwindow w = {0};

    add(&w, 0, 10);
    add(&w, 20, 10);
    ck_assert_uint_eq(w.n_blocks, 1);
    ck_assert_int_eq(has(&w, 5), 0);
    ck_assert_int_eq(has(&w, 25), 1);
    ck_assert_int_eq(lx_idwindow_covers(&w, 5, 30), 0);
    ck_assert_int_eq(lx_idwindow_covers(&w, 20, 30), 1);
    lx_idwindow_clear(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idwindow");
    TCase *tc = tcase_create("window");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, holds_its_blocks);
    tcase_add_test(tc, drops_what_the_copy_holds);
    tcase_add_test(tc, limits_drop_the_oldest);
    tcase_add_test(tc, a_gap_starts_again);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
