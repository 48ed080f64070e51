/* test_leafstore.c — the leaf copy of server/leafstore.h: every leaf appended is found at its
 * index and read back, across the index's rebuilds as it grows; nothing is visible before it
 * is appended or after it is dropped; a reopened copy shows nothing until it is truncated (the
 * follower's check); a tx the copy does not hold is not found; and leaves crowded onto one slot
 * are found wherever their probes ended, in memory, after a merge into the file, and after a
 * rebuild. */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../../chain/merkle.h"
#include "../../server/leafstore.h"

/* More than the first table's half (32,768), so appending rebuilds the index twice. */
#define LEAVES 150000u

static char dir[64];
static uint8_t (*leaf)[CHAIN_HASH_LEN];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/lx-leafstore.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    leaf = malloc(LEAVES * sizeof(*leaf));
    ck_assert_ptr_nonnull(leaf);
    for (uint32_t i = 0; i < LEAVES; i++)
        chain_merkle_leaf_hash((const uint8_t *)&i, sizeof(i), leaf[i]);
}

static void teardown(void)
{
    static const char *const files[] = {"leaves.bin", "leaves.idx", "leaves.idx.new"};
    char path[128];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    free(leaf);
}

static struct lx_leafstore *open_store(void)
{
    char err[256] = "";
    struct lx_leafstore *ls = lx_leafstore_open(dir, err, sizeof(err));

    ck_assert_msg(ls != NULL, "%s", err);
    return ls;
}

static uint64_t size_of(const struct lx_leafstore *ls)
{
    uint64_t size, gen;

    lx_leafstore_view(ls, &size, &gen);
    return size;
}

/* Each leaf in [0, n) is found where it is and reads back; limit hides the ones at or above it. */
static void check_all(struct lx_leafstore *ls, uint64_t n, uint64_t step)
{
    for (uint64_t i = 0; i < n; i += step) {
        uint8_t got[CHAIN_HASH_LEN];
        uint64_t at = UINT64_MAX;

        ck_assert_int_eq(lx_leafstore_find(ls, leaf[i], n, &at), 1);
        ck_assert_uint_eq(at, i);
        ck_assert_int_eq(lx_leafstore_find(ls, leaf[i], i, &at), 0);
        ck_assert_int_eq(lx_leafstore_read(ls, i, 1, &got), 0);
        ck_assert_mem_eq(got, leaf[i], CHAIN_HASH_LEN);
    }
}

START_TEST(append_find_read)
{
    struct lx_leafstore *ls = open_store();
    uint8_t absent[CHAIN_HASH_LEN];
    uint64_t at, gen0, gen1, size;

    ck_assert_uint_eq(size_of(ls), 0);
    ck_assert_int_eq(lx_leafstore_truncate(ls, 0), 0); /* builds the first, empty index */
    ck_assert_int_eq(lx_leafstore_find(ls, leaf[0], UINT64_MAX, &at), 0);
    /* not first: refused */
    ck_assert_int_eq(lx_leafstore_append(ls, 1, (const uint8_t(*)[CHAIN_HASH_LEN])leaf, 1), -1);
    for (uint64_t first = 0; first < LEAVES;) {
        size_t n = 1 + first % 1000; /* blocks of varied sizes */

        if (first + n > LEAVES)
            n = LEAVES - first;
        ck_assert_int_eq(
            lx_leafstore_append(ls, first, (const uint8_t(*)[CHAIN_HASH_LEN])leaf + first, n), 0);
        first += n;
        ck_assert_uint_eq(size_of(ls), first);
    }
    check_all(ls, LEAVES, 1);
    memset(absent, 0xab, sizeof(absent));
    ck_assert_int_eq(lx_leafstore_find(ls, absent, LEAVES, &at), 0);

    /* dropping leaves hides them at once and changes the generation */
    lx_leafstore_view(ls, &size, &gen0);
    ck_assert_int_eq(lx_leafstore_truncate(ls, 1000), 0);
    lx_leafstore_view(ls, &size, &gen1);
    ck_assert_uint_eq(size, 1000);
    ck_assert_uint_ne(gen0, gen1);
    ck_assert_int_eq(lx_leafstore_find(ls, leaf[5000], UINT64_MAX, &at), 0);
    check_all(ls, 1000, 1);
    lx_leafstore_close(ls);
}
END_TEST

START_TEST(reopen_shows_nothing_until_checked)
{
    struct lx_leafstore *ls = open_store();
    uint64_t at;
    int fd;
    char path[128];

    ck_assert_int_eq(lx_leafstore_truncate(ls, 0), 0);
    ck_assert_int_eq(lx_leafstore_append(ls, 0, (const uint8_t(*)[CHAIN_HASH_LEN])leaf, 5000), 0);
    lx_leafstore_close(ls);

    /* a torn last hash, as a crash in the middle of a write would leave */
    snprintf(path, sizeof(path), "%s/leaves.bin", dir);
    fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, leaf[5000], 7), 7);
    close(fd);

    ls = open_store();
    ck_assert_uint_eq(lx_leafstore_held(ls), 5000);
    ck_assert_uint_eq(size_of(ls), 0);
    ck_assert_int_eq(lx_leafstore_find(ls, leaf[10], UINT64_MAX, &at), 0);
    ck_assert_int_eq(lx_leafstore_truncate(ls, 4096), 0); /* what the check kept */
    ck_assert_uint_eq(size_of(ls), 4096);
    check_all(ls, 4096, 1);
    ck_assert_int_eq(lx_leafstore_find(ls, leaf[4096], UINT64_MAX, &at), 0);
    /* and it goes on from there */
    ck_assert_int_eq(
        lx_leafstore_append(ls, 4096, (const uint8_t(*)[CHAIN_HASH_LEN])leaf + 4096, 2000), 0);
    check_all(ls, 6096, 1);
    lx_leafstore_close(ls);
}
END_TEST

/* Truncating to more than the files hold keeps what they hold. */
START_TEST(truncate_past_the_end)
{
    struct lx_leafstore *ls = open_store();

    ck_assert_int_eq(lx_leafstore_truncate(ls, 0), 0);
    ck_assert_int_eq(lx_leafstore_append(ls, 0, (const uint8_t(*)[CHAIN_HASH_LEN])leaf, 100), 0);
    ck_assert_int_eq(lx_leafstore_truncate(ls, 1000), 0);
    ck_assert_uint_eq(size_of(ls), 100);
    check_all(ls, 100, 1);
    lx_leafstore_close(ls);
}
END_TEST

/* Leaves whose hashes all start the same crowd onto one slot: here, once the index has 2^18
 * slots, onto the table's last page (so their probes wrap round to slot 0) and onto the last slot
 * of a page (so they run into the next page and the next run of a merge). They are found while
 * they are the newest leaves, held in memory; after the merge that writes them into the file;
 * and after a rebuild. */
static void crowd(uint64_t first, size_t n, uint64_t home)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t serial = (uint32_t)(first + i);

        memcpy(leaf[first + i], &home, sizeof(home));
        memcpy(leaf[first + i] + 8, &serial, sizeof(serial)); /* tags differ */
    }
}

START_TEST(crowded_slots)
{
    struct lx_leafstore *ls = open_store();
    const uint64_t crowded = 70000, end = 110000;

    crowd(crowded, 200, (UINT64_C(1) << 18) - 4);
    crowd(crowded + 200, 200, 32767);
    ck_assert_int_eq(lx_leafstore_truncate(ls, 0), 0);
    for (uint64_t first = 0; first < end;) {
        size_t n = first < crowded ? 1000 : first == crowded ? 400 : 997;

        if (first + n > end)
            n = (size_t)(end - first);
        ck_assert_int_eq(
            lx_leafstore_append(ls, first, (const uint8_t(*)[CHAIN_HASH_LEN])leaf + first, n), 0);
        first += n;
        if (first == crowded + 400)
            check_all(ls, first, 1); /* the crowd is in memory */
    }
    check_all(ls, end, 1); /* merged into the file past 98,305 leaves */
    ck_assert_int_eq(lx_leafstore_truncate(ls, end), 0);
    check_all(ls, end, 1);
    lx_leafstore_close(ls);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("leafstore");
    TCase *tc = tcase_create("files");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, append_find_read);
    tcase_add_test(tc, reopen_shows_nothing_until_checked);
    tcase_add_test(tc, truncate_past_the_end);
    tcase_add_test(tc, crowded_slots);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
