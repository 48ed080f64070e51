/*
 * PostgreSQL goes away under load: a fast shutdown and restart (scripts/pg stop/start), an
 * immediate shutdown (a crash: no checkpoint, recovery at the next start), and SIGKILL of the
 * postmaster and every backend. Meanwhile lianxind must answer every request, 503 for what
 * needs the database, none slower than 5 s; it must recover by itself once PostgreSQL is back;
 * and every tx it acknowledged (200 with a leaf index) must be in the log at that index. A tx
 * answered 503 may have been committed after all (its COMMIT's answer was lost): the client
 * can then learn it, GET /api/chain/tx/<id> finds it, and that is checked too.
 *
 * Each case prints its figures: downtime seen by clients, 503 answers, slowest request.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_SUB      2    /* submitting clients */
#define HANG_MS    5000 /* no request may take longer */
#define OUTAGE_MS  1500 /* how long PostgreSQL stays down */
#define RECOVER_MS 15000

enum fault { FAULT_FAST, FAULT_IMMEDIATE, FAULT_KILL };

static const char *const fault_names[] = {"fast restart", "immediate shutdown", "SIGKILL"};

/* Submits single txs until killed. For each answer appends to out one line:
 * "<status> <tx_id> <leaf or -1> <end ms> <latency ms>" (status 0: no HTTP answer). */
static void submitter(struct lx_server *s, const char *out, int who)
{
    FILE *f = fopen(out, "a");
    unsigned serial = 0;

    for (;;) {
        struct chain_note_signer k;
        char id[64], pub[64];
        const char *tx_id;
        struct lx_resp r;
        json_t *tx, *doc;
        long long t0 = lx_now_ms(), leaf = -1;

        snprintf(id, sizeof(id), "f%d-%d-%u", (int)getpid(), who, serial++);
        lx_keygen("k", &k);
        lx_pub_b64(&k, pub, sizeof(pub));
        tx = lx_tx(&k, "core", "principal.register", id,
                   json_pack("{s:s,s:s,s:s}", "id", id, "type", "student", "key", pub));
        lx_submit(s, tx, &r);
        doc = json_loads(r.body, 0, NULL);
        if (r.status == 200 && json_is_integer(json_object_get(doc, "leaf_index")))
            leaf = (long long)json_integer_value(json_object_get(doc, "leaf_index"));
        /* the id is the tx's leaf hash: take it from what we sent when the answer lacks it */
        tx_id = json_string_value(json_object_get(doc, "tx_id"));
        {
            struct chain_tx *parsed = NULL;

            if (tx_id == NULL && chain_tx_from_json(tx, &parsed) == 0)
                tx_id = parsed->id_hex;
            fprintf(f, "%ld %s %lld %lld %lld\n", r.status, tx_id ? tx_id : "-", leaf, lx_now_ms(),
                    lx_now_ms() - t0);
            chain_tx_free(parsed);
        }
        fflush(f);
        json_decref(doc);
        json_decref(tx);
        lx_resp_free(&r);
        if (r.status == 0)
            usleep(20000);
    }
}

/* What the clients saw, from their answer files. */
struct seen {
    size_t acked, refused, committed_503;
    long long max_ms, first_503, last_503, first_ack_after;
};

static int pg(const char *cmd, const char *mode)
{
    char line[1024];

    snprintf(line, sizeof(line), "%s %s %s %s >/dev/null 2>&1", lx_env("LIANXIN_TEST_PG"), cmd,
             lx_env("LIANXIN_TEST_PGBASE"), mode);
    return system(line);
}

/* SIGKILL of the postmaster and all its children, as an OOM killer or a power cut would: the
 * postmaster is stopped first so that it starts no new child while they are collected. */
static void pg_kill9(void)
{
    char path[600], *pidtext;
    pid_t pm;
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof(path), "%s/pg/postmaster.pid", lx_env("LIANXIN_TEST_PGBASE"));
    pidtext = lx_read_file(path);
    ck_assert_ptr_nonnull(pidtext);
    pm = (pid_t)atoi(pidtext);
    free(pidtext);
    ck_assert_int_gt(pm, 1);
    ck_assert_int_eq(kill(pm, SIGSTOP), 0);
    d = opendir("/proc");
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char stat[600], *text, *close_paren;
        int ppid = 0;

        if (atoi(e->d_name) <= 0)
            continue;
        snprintf(stat, sizeof(stat), "/proc/%s/stat", e->d_name);
        text = lx_read_file(stat);
        /* "pid (comm) state ppid ...": comm may hold spaces, so start after its ')' */
        close_paren = text ? strrchr(text, ')') : NULL;
        if (close_paren != NULL && sscanf(close_paren + 1, " %*c %d", &ppid) == 1 && ppid == pm)
            kill((pid_t)atoi(e->d_name), SIGKILL);
        free(text);
    }
    closedir(d);
    kill(pm, SIGKILL);
    /* wait until the socket is dead, so that the restart does not find it alive */
    for (int i = 0; i < 200 && kill(pm, 0) == 0; i++)
        usleep(10000);
}

static void fault_begin(enum fault f)
{
    switch (f) {
    case FAULT_FAST:
        ck_assert_int_eq(pg("stop", ""), 0);
        break;
    case FAULT_IMMEDIATE:
        ck_assert_int_eq(pg("stop", "immediate"), 0);
        break;
    case FAULT_KILL:
        pg_kill9();
        break;
    }
}

/* Reads during the outage: health must say 503, the checkpoint 200 or 503; counts the 503s and
 * keeps the slowest time. */
static void poll_reads(struct lx_server *s, long long until, size_t *n503, long long *max_ms)
{
    static const char *const paths[] = {"/api/health", "/api/chain/checkpoint"};

    while (lx_now_ms() < until) {
        for (size_t i = 0; i < 2; i++) {
            long long t0 = lx_now_ms();
            struct lx_resp r;

            lx_http(s, "GET", paths[i], NULL, 0, NULL, &r);
            if (lx_now_ms() - t0 > *max_ms)
                *max_ms = lx_now_ms() - t0;
            ck_assert_msg(r.status == 503 || (i == 1 && r.status == 200),
                          "GET %s while PostgreSQL is down: %ld %s", paths[i], r.status, r.body);
            *n503 += r.status == 503;
            lx_resp_free(&r);
        }
        usleep(50000);
    }
}

/* Waits until health says 200 again (write is 0), or until a tx of ours is acknowledged
 * (write is 1); returns when (ms), failing after RECOVER_MS. */
static long long wait_recovered(struct lx_server *s, int write)
{
    long long t0 = lx_now_ms();

    for (unsigned n = 0;; n++) {
        struct chain_note_signer k;
        char id[32], pub[64];
        struct lx_resp r;
        long status;

        if (write) {
            json_t *tx;

            snprintf(id, sizeof(id), "probe-%u", n);
            lx_keygen("k", &k);
            lx_pub_b64(&k, pub, sizeof(pub));
            tx = lx_tx(&k, "core", "principal.register", id,
                       json_pack("{s:s,s:s,s:s}", "id", id, "type", "donor", "key", pub));
            lx_submit(s, tx, &r);
            json_decref(tx);
        } else {
            lx_http(s, "GET", "/api/health", NULL, 0, NULL, &r);
        }
        status = r.status;
        lx_resp_free(&r);
        if (status == 200)
            return lx_now_ms();
        ck_assert_msg(lx_now_ms() - t0 < RECOVER_MS, "lianxind did not %s within %d s",
                      write ? "acknowledge a tx" : "become healthy", RECOVER_MS / 1000);
        usleep(20000);
    }
}

/* A growing string, for the id arrays handed to PostgreSQL as "{a,b,…}". */
struct list {
    char *p;
    size_t len, cap, n;
};

static void list_add(struct list *l, const char *item)
{
    size_t need = l->len + strlen(item) + 3;

    if (need > l->cap) {
        l->cap = need * 2;
        l->p = realloc(l->p, l->cap);
        ck_assert_ptr_nonnull(l->p);
    }
    l->len += (size_t)sprintf(l->p + l->len, "%s%s", l->n++ ? "," : "{", item);
}

/* Closes the array (list_add always leaves room for it). */
static const char *list_end(struct list *l)
{
    if (l->n == 0)
        return "{}";
    strcpy(l->p + l->len, "}");
    return l->p;
}

/* Reads one answer line into the lists and figures. */
static void take_answer(const char *line, long long pg_back, struct seen *v, struct list *ids,
                        struct list *leaves, struct list *refused)
{
    long status;
    char id[80], leaf_text[32];
    long long leaf, end, ms;

    ck_assert_msg(sscanf(line, "%ld %79s %lld %lld %lld", &status, id, &leaf, &end, &ms) == 5,
                  "bad line %s", line);
    if (ms > v->max_ms)
        v->max_ms = ms;
    if (status == 200 && leaf >= 0) {
        v->acked++;
        if (end > pg_back && v->first_ack_after == 0)
            v->first_ack_after = end;
        snprintf(leaf_text, sizeof(leaf_text), "%lld", leaf);
        list_add(ids, id);
        list_add(leaves, leaf_text);
    } else if (status == 503) {
        v->refused++;
        if (v->first_503 == 0)
            v->first_503 = end;
        v->last_503 = end;
        list_add(refused, id);
    } else {
        ck_abort_msg("a submission answered %ld (wanted 200 or 503): %s", status, line);
    }
}

/* Acknowledged txs must all be in the log at their leaf; a 503'd one that is there after all
 * (committed, its answer lost) must be findable by the client. */
static void check_answers(struct lx_server *s, const char *dir, long long pg_back, struct seen *v)
{
    struct list ids = {0}, leaves = {0}, refused = {0};
    const char *params[2];
    char *got, want[32], *save = NULL;

    for (int who = 0; who < N_SUB; who++) {
        char path[400], *text, *lsave = NULL;

        snprintf(path, sizeof(path), "%s/answers-%d.txt", dir, who);
        text = lx_read_file(path);
        ck_assert_ptr_nonnull(text);
        for (char *l = strtok_r(text, "\n", &lsave); l; l = strtok_r(NULL, "\n", &lsave))
            take_answer(l, pg_back, v, &ids, &leaves, &refused);
        free(text);
    }
    params[0] = list_end(&ids);
    params[1] = list_end(&leaves);
    got = lx_db_value(s->dbname,
                      "SELECT count(*) FROM txs t JOIN unnest($1::text[], $2::bigint[]) AS "
                      "a(h, leaf) ON t.tx_id = decode(a.h, 'hex') AND t.leaf_index = a.leaf",
                      2, params);
    snprintf(want, sizeof(want), "%zu", v->acked);
    ck_assert_msg(strcmp(got, want) == 0, "only %s of %s acknowledged txs are in the log", got,
                  want);
    free(got);
    params[0] = list_end(&refused);
    got = lx_db_value(s->dbname,
                      "SELECT coalesce(string_agg(encode(tx_id, 'hex'), ','), '') FROM txs WHERE "
                      "tx_id = ANY (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)",
                      1, params);
    for (char *id = strtok_r(got, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        char path[128];
        struct lx_resp r;

        v->committed_503++;
        snprintf(path, sizeof(path), "/api/chain/tx/%s", id);
        lx_http(s, "GET", path, NULL, 0, NULL, &r);
        ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
        lx_resp_free(&r);
    }
    free(got);
    free(ids.p);
    free(leaves.p);
    free(refused.p);
}

static void run_fault(enum fault f)
{
    struct lx_server s;
    struct seen v = {0};
    pid_t sub[N_SUB];
    size_t reads503 = 0;
    long long read_max = 0, t_fault, t_pg_back, t_healthy, t_acked;
    char cmd[1200];
    int st;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(pg("start", ""), 0); /* in case an earlier case failed with it down */
    /* Keep the crash recovery short: only the WAL of this case to replay, and one syncfs of the
     * data directory's filesystem instead of an fsync of every file of every test database. */
    ck_assert_int_eq(lx_db_exec("postgres", "ALTER SYSTEM SET recovery_init_sync_method = syncfs"),
                     0);
    ck_assert_int_eq(lx_db_exec("postgres", "SELECT pg_reload_conf()"), 0);
    ck_assert_int_eq(lx_db_exec("postgres", "CHECKPOINT"), 0);
    lx_server_start(&s, NULL);
    for (int who = 0; who < N_SUB; who++) {
        char out[400];

        snprintf(out, sizeof(out), "%s/answers-%d.txt", s.dir, who);
        sub[who] = fork();
        ck_assert_int_ge(sub[who], 0);
        if (sub[who] == 0) {
            submitter(&s, out, who);
            _exit(0);
        }
    }
    usleep(500000 + (useconds_t)(rand() % 500000)); /* under load */
    t_fault = lx_now_ms();
    fault_begin(f);
    poll_reads(&s, lx_now_ms() + OUTAGE_MS, &reads503, &read_max);
    ck_assert_int_eq(pg("start", ""), 0);
    t_pg_back = lx_now_ms();
    t_healthy = wait_recovered(&s, 0);
    t_acked = wait_recovered(&s, 1);
    usleep(500000); /* traffic goes on after the recovery */
    for (int who = 0; who < N_SUB; who++) {
        kill(sub[who], SIGKILL);
        waitpid(sub[who], &st, 0);
    }
    check_answers(&s, s.dir, t_pg_back, &v);
    ck_assert_msg(v.refused > 0, "no submission saw the outage");
    ck_assert_msg(v.first_ack_after > 0, "no tx was acknowledged after PostgreSQL came back");
    ck_assert_msg(v.max_ms < HANG_MS &&
                          read_max<HANG_MS, "a request took %lld ms", v.max_ms> read_max
                      ? v.max_ms
                      : read_max);
    ck_assert_int_eq(lx_db_exec(s.dbname, "SELECT 1/(CASE WHEN (SELECT count(*) FROM txs) = "
                                          "(SELECT max(tree_size) FROM blocks) THEN 1 ELSE 0 END)"),
                     0);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    snprintf(cmd, sizeof(cmd), "%s audit --db '%s' >%s/audit.out 2>&1", lx_env("LIANXIN_TEST_BIN"),
             s.conninfo, s.dir);
    ck_assert_msg(system(cmd) == 0, "lianxind audit failed after the outage (see %s)", s.dir);
    printf("pgfault %s: %zu txs acknowledged (all in the log), %zu answered 503 (%zu of them "
           "committed and findable), reads 503 x%zu; submissions refused for %.1f s, PostgreSQL "
           "down %.1f s, lianxind healthy %lld ms and acknowledging %lld ms after PostgreSQL was "
           "back; slowest request %lld ms\n",
           fault_names[f], v.acked, v.refused, v.committed_503, reads503,
           (v.last_503 - v.first_503) / 1000.0, (t_pg_back - t_fault) / 1000.0,
           t_healthy - t_pg_back, t_acked - t_pg_back, v.max_ms > read_max ? v.max_ms : read_max);
}

/* In the parent, after the cases: a failed case must not leave the cluster down for the suites
 * that follow. */
static void cluster_up(void)
{
    if (pg("start", "") != 0)
        fprintf(stderr, "pgfault: could not start PostgreSQL again\n");
}

START_TEST(fast_restart_under_load)
{
    run_fault(FAULT_FAST);
}
END_TEST

START_TEST(immediate_shutdown_under_load)
{
    run_fault(FAULT_IMMEDIATE);
}
END_TEST

START_TEST(sigkill_of_postgres_under_load)
{
    run_fault(FAULT_KILL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pgfault");
    TCase *tc = tcase_create("outage");
    SRunner *sr;
    int failed;

    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, NULL, cluster_up);
    tcase_add_test(tc, fast_restart_under_load);
    tcase_add_test(tc, immediate_shutdown_under_load);
    tcase_add_test(tc, sigkill_of_postgres_under_load);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
