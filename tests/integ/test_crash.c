/*
 * Durability: lianxind is killed with SIGKILL at random moments while a client keeps
 * submitting. After each restart every acknowledged tx must be in the log, there must be no
 * partial block (tx rows, block rows and tree sizes agree), and the log must go on from there.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 3
#define BATCH  20

/* Submits batches of self-registrations until killed; appends each acknowledged tx id to
 * acked (one per line, flushed before the next request). */
static void submitter(struct lx_server *s, const char *acked)
{
    FILE *f = fopen(acked, "a");
    unsigned serial = 0;

    for (;;) {
        json_t *arr = json_array(), *doc;
        struct lx_resp r;

        for (int i = 0; i < BATCH; i++) {
            struct chain_note_signer k;
            char id[64], pub[64];

            snprintf(id, sizeof(id), "p%d-%u", (int)getpid(), serial++);
            lx_keygen("k", &k);
            lx_pub_b64(&k, pub, sizeof(pub));
            json_array_append_new(
                arr, lx_tx(&k, "core", "principal.register", id,
                           json_pack("{s:s,s:s,s:s}", "id", id, "type", "student", "key", pub)));
        }
        lx_submit(s, arr, &r);
        json_decref(arr);
        doc = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
        for (size_t i = 0; doc != NULL && i < json_array_size(doc); i++) {
            json_t *it = json_array_get(doc, i);

            if (json_object_get(it, "leaf_index") != NULL)
                fprintf(f, "%s\n", json_string_value(json_object_get(it, "tx_id")));
        }
        fflush(f);
        json_decref(doc);
        lx_resp_free(&r);
        if (r.status == 0)
            usleep(20000); /* the server is down: wait for the test to kill us */
    }
}

static void check_log(struct lx_server *s, const char *acked, size_t *n_acked)
{
    char *ids = lx_read_file(acked), *line, *save = NULL, *sql, *w;
    size_t cap;

    *n_acked = 0;
    ck_assert_ptr_nonnull(ids);
    /* One query for all of them: the count of acknowledged ids found must be their number. */
    cap = strlen(ids) * 2 + 512;
    sql = malloc(cap);
    w = sql + sprintf(sql,
                      "SELECT 1/(CASE WHEN count(*) = %s THEN 1 ELSE 0 END) FROM txs "
                      "WHERE tx_id = ANY (SELECT decode(h, 'hex') FROM unnest('{",
                      "%zu");
    for (line = strtok_r(ids, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        w += sprintf(w, "%s%s", *n_acked ? "," : "", line);
        (*n_acked)++;
    }
    sprintf(w, "}'::text[]) AS h)");
    {
        char *final = malloc(cap + 32);

        snprintf(final, cap + 32, sql, *n_acked);
        ck_assert_msg(lx_db_exec(s->dbname, final) == 0, "some of %zu acknowledged txs are lost",
                      *n_acked);
        free(final);
    }
    free(sql);
    free(ids);
    /* no partial block: every tx belongs to a block, the sizes add up, leaves are contiguous */
    ck_assert_int_eq(lx_db_exec(s->dbname,
                                "SELECT 1/(CASE WHEN (SELECT count(*) FROM txs) = "
                                "(SELECT coalesce(sum(n_txs), 0) FROM blocks) AND "
                                "(SELECT max(tree_size) FROM blocks) = (SELECT count(*) FROM txs) "
                                "AND (SELECT max(leaf_index) + 1 FROM txs) = (SELECT count(*) FROM "
                                "txs) AND (SELECT count(*) FROM merkle_nodes WHERE level = 0) = "
                                "(SELECT count(*) FROM txs) THEN 1 ELSE 0 END)"),
                     0);
}

START_TEST(sigkill_loses_nothing_acknowledged)
{
    struct lx_server s;
    char acked[400];
    size_t total = 0;

    memset(&s, 0, sizeof(s));
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    lx_server_start(&s, NULL);
    snprintf(acked, sizeof(acked), "%s/acked.txt", s.dir);
    for (int round = 0; round < ROUNDS; round++) {
        pid_t sub = fork();
        int st;

        ck_assert_int_ge(sub, 0);
        if (sub == 0) {
            submitter(&s, acked);
            _exit(0);
        }
        usleep(300000 + (useconds_t)(rand() % 900000)); /* somewhere inside the traffic */
        kill(s.pid, SIGKILL);
        waitpid(s.pid, &st, 0);
        s.pid = 0;
        usleep(200000); /* let the submitter record answers that were already on the wire */
        kill(sub, SIGKILL);
        waitpid(sub, &st, 0);
        lx_server_start(&s, NULL); /* same database, same data folder */
        check_log(&s, acked, &total);
    }
    ck_assert_msg(total > 0, "no tx was acknowledged in %d rounds", ROUNDS);
    {
        /* the log goes on: one more tx lands right after the recovered head */
        struct chain_note_signer k;
        char pub[64];
        json_t *doc;
        struct lx_resp r;

        lx_keygen("k", &k);
        lx_pub_b64(&k, pub, sizeof(pub));
        doc = lx_tx(&k, "core", "principal.register", "after-crash",
                    json_pack("{s:s,s:s,s:s}", "id", "after-crash", "type", "donor", "key", pub));
        lx_submit(&s, doc, &r);
        json_decref(doc);
        ck_assert_msg(r.status == 200, "after recovery: %ld %s", r.status, r.body);
        lx_resp_free(&r);
    }
    ck_assert_int_eq(lx_server_stop(&s), 0);
    {
        /* and everything recomputes: leaves, roots, checkpoints, prev links */
        char cmd[1200];

        snprintf(cmd, sizeof(cmd), "%s audit --db '%s' >%s/audit.out 2>&1",
                 lx_env("LIANXIN_TEST_BIN"), s.conninfo, s.dir);
        ck_assert_msg(system(cmd) == 0, "lianxind audit failed after the crashes (see %s)", s.dir);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("sigkill");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, sigkill_loses_nothing_acknowledged);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
