/*
 * server/db.h against a real PostgreSQL: a chain of COPYs (db_chain_run), which the sequencer
 * writes every block with — its statements in order with their rows, the closing statement,
 * which statement failed and how, and what the caller's buffers look like afterwards; with the
 * rows sent ahead of the server's asking (plain connections) and step by step (encrypted ones);
 * and db_copy_in, a chain of one.
 */
#define _DEFAULT_SOURCE
#include "../../server/db.h"
#include "../../server/err.h"
#include "harness.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_PARENT "COPY parent (id, name) FROM STDIN"
#define COPY_CHILD  "COPY child (id, parent) FROM STDIN (FORMAT binary)"

static char dbname[64];

/* A fresh database with parent(id, name) and child(id, parent REFERENCES parent): the child's
 * rows need the parent's, so the COPYs must run in the order given. */
static PGconn *fresh(void)
{
    char ci[256], err[256];
    PGconn *c;

    lx_db_create(dbname, sizeof(dbname));
    ck_assert_int_eq(lx_db_exec(dbname, "CREATE TABLE parent (id bigint PRIMARY KEY, name text)"),
                     0);
    ck_assert_int_eq(lx_db_exec(dbname, "CREATE TABLE child (id bigint PRIMARY KEY, "
                                        "parent bigint NOT NULL REFERENCES parent)"),
                     0);
    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"),
             dbname);
    c = db_connect(ci, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static long count(const char *sql)
{
    char *v = lx_db_value(dbname, sql, 0, NULL);
    long n;

    ck_assert_msg(v != NULL, "%s", sql);
    n = atol(v);
    free(v);
    return n;
}

/* Runs a statement that must succeed (BEGIN, ROLLBACK). */
static void run(PGconn *c, const char *sql)
{
    char err[256];

    ck_assert_msg(db_exec(c, sql, err, sizeof(err)) == 0, "%s: %s", sql, err);
}

/* Runs the chain inside the open transaction, which must fail with rc at statement index;
 * the transaction is then aborted, and rolled back here. */
static void chain_fails(PGconn *c, struct db_chain *ch, const char *tail, int rc, size_t index)
{
    size_t failed = 99;

    ck_assert_int_eq(db_chain_run(c, ch, tail, &failed), rc);
    ck_assert_uint_eq(failed, index);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_INERROR);
    run(c, "ROLLBACK");
}

/* Text rows for parent: ids from..to-1, each with a name that needs escaping. */
static void parent_rows(struct db_buf *b, long from, long to)
{
    char id[32];

    for (long i = from; i < to; i++) {
        snprintf(id, sizeof(id), "%ld\t", i);
        db_buf_puts(b, id);
        db_buf_text(b, "a\tname\\with\nescapes");
        db_buf_put(b, "\n", 1);
    }
}

/* Binary rows for child: (id, parent) pairs. */
static void child_row(struct db_buf *b, int64_t id, int64_t parent)
{
    db_bin_row(b, 2);
    db_bin_int8(b, id);
    db_bin_int8(b, parent);
}

/* Two COPYs and the COMMIT: everything is in, in order, and committed. A borrowed buffer stays
 * the caller's (with the binary trailer added); a taken one is left empty. */
START_TEST(chain_writes_in_order_and_commits)
{
    PGconn *c = fresh();
    struct db_chain ch = {.stepwise = _i};
    struct db_buf parents = {0}, children = {0}, none = {0};
    size_t failed = 99, before;
    char *name;

    parent_rows(&parents, 1, 4);
    for (int i = 0; i < 3; i++)
        child_row(&children, 10 + i, 1 + i);
    before = children.len;
    run(c, "BEGIN");
    db_chain_add(&ch, COPY_PARENT, &parents, 0, 1);
    db_chain_add(&ch, "COPY parent (id) FROM STDIN", &none, 0, 0); /* no rows: not added */
    db_chain_add(&ch, COPY_CHILD, &children, 1, 0);
    ck_assert_uint_eq(ch.n, 2);
    ck_assert_ptr_null(parents.p);               /* taken */
    ck_assert_uint_eq(children.len, before + 2); /* borrowed, with its trailer */
    ck_assert_int_eq(db_chain_run(c, &ch, "COMMIT", &failed), 0);
    ck_assert_uint_eq(ch.n, 0);
    ck_assert_int_eq(ch.stepwise, _i); /* kept for the chain's next use */
    ck_assert_int_eq(ch.ran_ahead, !_i);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 3);
    ck_assert_int_eq(count("SELECT count(*) FROM child WHERE parent = id - 9"), 3);
    name = lx_db_value(dbname, "SELECT name FROM parent WHERE id = 2", 0, NULL);
    ck_assert_str_eq(name, "a\tname\\with\nescapes");
    free(name);
    free(children.p);
    PQfinish(c);
}
END_TEST

/* A row that breaks a constraint in the second COPY: SRV_ECONFLICT naming that COPY; the COMMIT
 * does not run, the transaction is aborted, and after the ROLLBACK nothing of the first COPY
 * is left. */
START_TEST(chain_conflict_names_its_copy)
{
    PGconn *c = fresh();
    struct db_chain ch = {.stepwise = _i};
    struct db_buf parents = {0}, children = {0};

    parent_rows(&parents, 1, 3);
    child_row(&children, 10, 1);
    child_row(&children, 10, 2); /* the same id twice */
    run(c, "BEGIN");
    db_chain_add(&ch, COPY_PARENT, &parents, 0, 1);
    db_chain_add(&ch, COPY_CHILD, &children, 1, 1);
    chain_fails(c, &ch, "COMMIT", SRV_ECONFLICT, 1);
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 0);

    /* a child whose parent is missing (a foreign key) is a conflict too, in the first COPY */
    child_row(&children, 11, 42);
    run(c, "BEGIN");
    db_chain_add(&ch, COPY_CHILD, &children, 1, 1);
    chain_fails(c, &ch, "COMMIT", SRV_ECONFLICT, 0);
    PQfinish(c);
}
END_TEST

/* A COPY that cannot start (no such table) and a closing statement that fails are SRV_EDB with
 * their index; the connection serves again after the ROLLBACK. A closing COPY is refused. */
START_TEST(chain_failures_are_edb_with_their_index)
{
    PGconn *c = fresh();
    struct db_chain ch = {.stepwise = _i};
    struct db_buf parents = {0}, ghost = {0};
    size_t failed = 99;

    parent_rows(&parents, 1, 2);
    db_buf_puts(&ghost, "1\n");
    run(c, "BEGIN");
    db_chain_add(&ch, COPY_PARENT, &parents, 0, 1);
    db_chain_add(&ch, "COPY no_such_table (id) FROM STDIN", &ghost, 0, 1);
    chain_fails(c, &ch, "COMMIT", SRV_EDB, 1);

    parent_rows(&parents, 5, 6);
    run(c, "BEGIN");
    db_chain_add(&ch, COPY_PARENT, &parents, 0, 1);
    chain_fails(c, &ch, "SELECT 1/0", SRV_EDB, 1); /* 1: the tail */

    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 0);

    /* a tail that is a COPY would have no rows: refused, nothing sent, the chain emptied */
    parent_rows(&parents, 7, 8);
    run(c, "BEGIN");
    db_chain_add(&ch, COPY_PARENT, &parents, 0, 1);
    ck_assert_int_eq(db_chain_run(c, &ch, " copy parent (id) FROM STDIN", &failed), SRV_EINVAL);
    ck_assert_uint_eq(failed, 0);
    ck_assert_uint_eq(ch.n, 0);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_INTRANS);
    run(c, "ROLLBACK");
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 0);
    run(c, "SELECT 1");
    PQfinish(c);
}
END_TEST

/* Rows far beyond what the socket holds, sent ahead or step by step: all of them arrive; and
 * when the first COPY fails at once (no such table), the megabytes behind it are dropped by the
 * server, the call returns (no side waits on the other) and the connection serves again. */
START_TEST(chain_of_megabytes)
{
    PGconn *c = fresh();
    struct db_chain ch = {.stepwise = _i};
    struct db_buf parents = {0}, children = {0};
    size_t failed = 99;

    parent_rows(&parents, 1, 100001); /* about 3 MB */
    for (int i = 1; i <= 100000; i++)
        child_row(&children, i, i);
    run(c, "BEGIN");
    db_chain_add(&ch, COPY_PARENT, &parents, 0, 1);
    db_chain_add(&ch, COPY_CHILD, &children, 1, 1);
    ck_assert_int_eq(db_chain_run(c, &ch, "COMMIT", &failed), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 100000);
    ck_assert_int_eq(count("SELECT count(*) FROM child WHERE parent = id"), 100000);

    parent_rows(&parents, 200001, 300001);
    db_buf_puts(&children, "1\n");
    run(c, "BEGIN");
    db_chain_add(&ch, "COPY no_such_table (id) FROM STDIN", &children, 0, 1);
    db_chain_add(&ch, COPY_PARENT, &parents, 0, 1);
    chain_fails(c, &ch, "COMMIT", SRV_EDB, 0);
    run(c, "SELECT 1");
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 100000);
    PQfinish(c);
}
END_TEST

/* db_copy_in, a chain of one: its rows in; a duplicate key is SRV_ECONFLICT and a missing table
 * SRV_EDB, each aborting the transaction; no rows copies nothing. */
START_TEST(copy_in_is_a_chain_of_one)
{
    PGconn *c = fresh();
    struct db_buf rows = {0};

    parent_rows(&rows, 1, 4);
    ck_assert_int_eq(db_copy_in(c, COPY_PARENT, rows.p, rows.len), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 3);
    run(c, "BEGIN");
    ck_assert_int_eq(db_copy_in(c, COPY_PARENT, rows.p, rows.len), SRV_ECONFLICT);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_INERROR);
    run(c, "ROLLBACK");
    run(c, "BEGIN");
    ck_assert_int_eq(db_copy_in(c, "COPY no_such_table (id) FROM STDIN", rows.p, rows.len),
                     SRV_EDB);
    run(c, "ROLLBACK");
    ck_assert_int_eq(db_copy_in(c, COPY_PARENT, rows.p, 0), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 3);
    free(rows.p);
    PQfinish(c);
}
END_TEST

/* More COPYs than a chain holds, or rows that ran out of memory: nothing is sent, SRV_ENOMEM,
 * and the taken buffers are freed (ASan's leak check holds that). */
START_TEST(chain_refuses_what_it_cannot_hold)
{
    PGconn *c = fresh();
    struct db_chain ch = {0};
    struct db_buf b = {0};
    size_t failed;

    for (int i = 0; i <= DB_CHAIN_MAX; i++) {
        parent_rows(&b, i + 1, i + 2);
        db_chain_add(&ch, COPY_PARENT, &b, 0, 1);
    }
    ck_assert(ch.failed);
    ck_assert_int_eq(db_chain_run(c, &ch, NULL, &failed), SRV_ENOMEM);
    ck_assert_uint_eq(ch.n, 0);

    parent_rows(&b, 1, 2);
    b.failed = 1;
    db_chain_add(&ch, COPY_PARENT, &b, 0, 1);
    ck_assert_int_eq(db_chain_run(c, &ch, NULL, &failed), SRV_ENOMEM);
    ck_assert_int_eq(count("SELECT count(*) FROM parent"), 0);
    ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
    PQfinish(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("chain");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    /* each twice: _i = 0 sends the rows ahead (a Unix socket), 1 step by step (TLS's way) */
    tcase_add_loop_test(tc, chain_writes_in_order_and_commits, 0, 2);
    tcase_add_loop_test(tc, chain_conflict_names_its_copy, 0, 2);
    tcase_add_loop_test(tc, chain_failures_are_edb_with_their_index, 0, 2);
    tcase_add_loop_test(tc, chain_of_megabytes, 0, 2);
    tcase_add_test(tc, chain_refuses_what_it_cannot_hold);
    tcase_add_test(tc, copy_in_is_a_chain_of_one);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
