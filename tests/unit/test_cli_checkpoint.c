/* test_cli_checkpoint.c — the checkpoint monitor's verdict (cli/checkpoint.c) on trees built
 * here: growth with a real consistency proof, no change, rollback, forks, another log. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../../chain/merkle.h"
#include "../../cli/checkpoint.h"

#define N 13

static uint8_t leaves[N][32], other[N][32]; /* two histories that differ from leaf 4 on */

static void setup(void)
{
    for (int i = 0; i < N; i++) {
        uint8_t d[2] = {(uint8_t)i, 0};

        chain_merkle_leaf_hash(d, sizeof(d), leaves[i]);
        d[1] = i >= 4;
        chain_merkle_leaf_hash(d, sizeof(d), other[i]);
    }
}

static void cp_of(const uint8_t (*l)[32], uint64_t size, const char *origin,
                  struct chain_checkpoint *cp)
{
    memset(cp, 0, sizeof(*cp));
    snprintf(cp->origin, sizeof(cp->origin), "%s", origin);
    cp->size = size;
    ck_assert_int_eq(chain_merkle_root(l, size, cp->root), 0);
}

/* The consistency proof from m to n over the leaves l. */
static size_t proof_of(const uint8_t (*l)[32], uint64_t m, uint64_t n, uint8_t (*path)[32])
{
    struct chain_merkle_node_id ids[CHAIN_MERKLE_PLAN_MAX];
    uint8_t hashes[CHAIN_MERKLE_PLAN_MAX][32];
    size_t n_ids = 0, len = 0;

    ck_assert_int_eq(chain_merkle_consistency_plan(m, n, ids, CHAIN_MERKLE_PLAN_MAX, &n_ids), 0);
    for (size_t k = 0; k < n_ids; k++)
        ck_assert_int_eq(chain_merkle_root(l + (ids[k].index << ids[k].level),
                                           UINT64_C(1) << ids[k].level, hashes[k]),
                         0);
    ck_assert_int_eq(chain_merkle_consistency_build(m, n, (const uint8_t(*)[32])hashes, n_ids, path,
                                                    CHAIN_MERKLE_MAX_PATH, &len),
                     0);
    return len;
}

START_TEST(grows_consistently)
{
    uint8_t path[CHAIN_MERKLE_MAX_PATH][32];
    struct chain_checkpoint a, b;
    char why[256];

    for (uint64_t m = 1; m <= N; m++) {
        for (uint64_t n = m; n <= N; n++) {
            size_t len = proof_of((const uint8_t(*)[32])leaves, m, n, path);

            cp_of((const uint8_t(*)[32])leaves, m, "log", &a);
            cp_of((const uint8_t(*)[32])leaves, n, "log", &b);
            ck_assert_int_eq(
                cli_checkpoint_compare(&a, &b, (const uint8_t(*)[32])path, len, why, sizeof(why)),
                CLI_CP_OK);
        }
    }
    cp_of((const uint8_t(*)[32])leaves, 5, "log", &a);
    cp_of((const uint8_t(*)[32])leaves, 5, "log", &b);
    ck_assert_int_eq(cli_checkpoint_compare(&a, &b, NULL, 0, why, sizeof(why)), CLI_CP_OK);
    ck_assert_ptr_nonnull(strstr(why, "unchanged"));
}
END_TEST

START_TEST(rollback)
{
    struct chain_checkpoint a, b;
    char why[256];

    cp_of((const uint8_t(*)[32])leaves, 9, "log", &a);
    cp_of((const uint8_t(*)[32])leaves, 8, "log", &b);
    ck_assert_int_eq(cli_checkpoint_compare(&a, &b, NULL, 0, why, sizeof(why)), CLI_CP_ROLLBACK);
    ck_assert_ptr_nonnull(strstr(why, "from tree size 9 to 8"));
}
END_TEST

START_TEST(forks)
{
    uint8_t path[CHAIN_MERKLE_MAX_PATH][32];
    struct chain_checkpoint a, b;
    char why[256];
    size_t len;

    /* same size, another root */
    cp_of((const uint8_t(*)[32])leaves, 7, "log", &a);
    cp_of((const uint8_t(*)[32])other, 7, "log", &b);
    ck_assert_int_eq(cli_checkpoint_compare(&a, &b, NULL, 0, why, sizeof(why)), CLI_CP_FORK);

    /* a bigger tree with another history: its own (valid) proof does not link to ours */
    cp_of((const uint8_t(*)[32])leaves, 6, "log", &a);
    cp_of((const uint8_t(*)[32])other, 11, "log", &b);
    len = proof_of((const uint8_t(*)[32])other, 6, 11, path);
    ck_assert_int_eq(
        cli_checkpoint_compare(&a, &b, (const uint8_t(*)[32])path, len, why, sizeof(why)),
        CLI_CP_FORK);

    /* the right history but a damaged or missing proof */
    cp_of((const uint8_t(*)[32])leaves, 11, "log", &b);
    len = proof_of((const uint8_t(*)[32])leaves, 6, 11, path);
    ck_assert_int_eq(
        cli_checkpoint_compare(&a, &b, (const uint8_t(*)[32])path, len, why, sizeof(why)),
        CLI_CP_OK);
    path[0][3] ^= 1;
    ck_assert_int_eq(
        cli_checkpoint_compare(&a, &b, (const uint8_t(*)[32])path, len, why, sizeof(why)),
        CLI_CP_FORK);
    ck_assert_int_eq(cli_checkpoint_compare(&a, &b, NULL, 0, why, sizeof(why)), CLI_CP_FORK);
}
END_TEST

START_TEST(other_log)
{
    struct chain_checkpoint a, b;
    char why[256];

    cp_of((const uint8_t(*)[32])leaves, 3, "log-a", &a);
    cp_of((const uint8_t(*)[32])leaves, 3, "log-b", &b);
    ck_assert_int_eq(cli_checkpoint_compare(&a, &b, NULL, 0, why, sizeof(why)), CLI_CP_OTHER_LOG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_checkpoint");
    TCase *tc = tcase_create("compare");
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, grows_consistently);
    tcase_add_test(tc, rollback);
    tcase_add_test(tc, forks);
    tcase_add_test(tc, other_log);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
