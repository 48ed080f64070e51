/*
 * The database's disk fills up. The test database lives in a tablespace on a small tmpfs of
 * its own (the cluster's WAL stays on the main disk, as on a server whose data volume fills
 * while pg_wal has room: a full WAL volume makes PostgreSQL itself stop, which is the
 * PostgreSQL-crash case of test_pgfault). A dummy file takes the rest of the room; then
 *   - writes answer 503 and lianxind's log says why ("No space left on device"),
 *   - reads keep working: health, checkpoint, a tx, its proof,
 *   - once the dummy file is gone, a new tx is acknowledged without restarting lianxind,
 *   - nothing acknowledged is lost and `lianxind audit` is clean.
 * Mounting needs root: without it the test says SKIPPED and passes; as root a failed mount
 * fails it. The tmpfs is unmounted by the parent process after the case, also when it failed.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_SIZE "40m" /* the template database takes about 8 MB of it */

static char mnt[400], ts_dir[420], dummy[420], ts_name[64], db_name[64], pid_file[420];
static int mounted, skipped;

/* ---- the small filesystem, made and removed by the parent process --------------------- */

static void fs_setup(void)
{
    struct passwd *pg = getpwnam("postgres");
    char sql[700];

    snprintf(mnt, sizeof(mnt), "%s/diskfull-%d", lx_env("LIANXIN_TEST_TMP"), (int)getpid());
    snprintf(ts_dir, sizeof(ts_dir), "%s/ts", mnt);
    snprintf(dummy, sizeof(dummy), "%s/dummy", mnt);
    snprintf(pid_file, sizeof(pid_file), "%s.lianxind", mnt);
    snprintf(ts_name, sizeof(ts_name), "lx_small_%d", (int)getpid());
    snprintf(db_name, sizeof(db_name), "lx_diskfull_%d", (int)getpid());
    if (mkdir(mnt, 0755) != 0 && errno != EEXIST)
        return;
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=" FS_SIZE ",mode=0755") != 0) {
        fprintf(stderr, "diskfull: cannot mount a tmpfs on %s: %s\n", mnt, strerror(errno));
        skipped = getuid() != 0; /* as root it must work: the test fails instead */
        return;
    }
    mounted = 1;
    mkdir(ts_dir, 0700);
    /* as root the cluster runs as the postgres OS user (scripts/pg), who must own the folder */
    if (getuid() == 0 && pg != NULL && chown(ts_dir, pg->pw_uid, pg->pw_gid) != 0)
        fprintf(stderr, "diskfull: chown %s: %s\n", ts_dir, strerror(errno));
    snprintf(sql, sizeof(sql), "CREATE TABLESPACE %s LOCATION '%s'", ts_name, ts_dir);
    if (lx_db_exec("postgres", sql) != 0)
        fprintf(stderr, "diskfull: cannot create the tablespace\n");
}

static void fs_teardown(void)
{
    char sql[200], *pid = lx_read_file(pid_file);

    if (pid != NULL && atoi(pid) > 0) /* a failed case left its lianxind running */
        kill((pid_t)atoi(pid), SIGKILL);
    free(pid);
    unlink(pid_file);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db_name);
    lx_db_exec("postgres", sql);
    snprintf(sql, sizeof(sql), "DROP TABLESPACE IF EXISTS %s", ts_name);
    lx_db_exec("postgres", sql);
    if (mounted && umount(mnt) != 0 && umount2(mnt, MNT_DETACH) != 0)
        fprintf(stderr, "diskfull: cannot unmount %s: %s\n", mnt, strerror(errno));
    mounted = 0;
    rmdir(mnt);
}

/* Writes zeros to the dummy file until the filesystem is full; returns the bytes written. */
static long long fill(void)
{
    static char block[64 * 1024];
    long long total = 0;
    int fd = open(dummy, O_WRONLY | O_CREAT | O_APPEND, 0600);
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    while ((n = write(fd, block, sizeof(block))) > 0)
        total += n;
    while ((n = write(fd, block, 512)) > 0) /* the last partial block too */
        total += n;
    ck_assert_int_eq(errno, ENOSPC);
    close(fd);
    return total;
}

/* ---- the ledger ---------------------------------------------------------------------------- */

/* A batch of n self-registrations named tag-0 … tag-(n-1); returns the array (json_decref). */
static json_t *batch(const char *tag, int n)
{
    json_t *arr = json_array();

    for (int i = 0; i < n; i++) {
        struct chain_note_signer k;
        char id[64], pub[64];

        snprintf(id, sizeof(id), "%s-%d", tag, i);
        lx_keygen("k", &k);
        lx_pub_b64(&k, pub, sizeof(pub));
        json_array_append_new(
            arr, lx_tx(&k, "core", "principal.register", id,
                       json_pack("{s:s,s:s,s:s}", "id", id, "type", "student", "key", pub)));
    }
    return arr;
}

/* Submits a batch; returns how many were acknowledged, appending their ids to acked (a JSON
 * array), and counts the items refused with 503 in *refused. Fails on any other answer. */
static int submit(struct lx_server *s, const char *tag, int n, json_t *acked, int *refused)
{
    json_t *arr = batch(tag, n), *doc;
    struct lx_resp r;
    int ok = 0;

    lx_submit(s, arr, &r);
    json_decref(arr);
    ck_assert_msg(r.status == 200 || r.status == 503, "submit: %ld %s", r.status, r.body);
    doc = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    for (size_t i = 0; r.status == 200 && i < json_array_size(doc); i++) {
        json_t *it = json_array_get(doc, i);
        json_t *err = json_object_get(it, "error");

        if (err == NULL) {
            json_array_append(acked, json_object_get(it, "tx_id"));
            ok++;
        } else {
            const char *code = json_string_value(json_object_get(err, "code"));

            ck_assert_msg(code != NULL && strcmp(code, "db_unavailable") == 0, "a refused item: %s",
                          r.body);
            (*refused)++;
        }
    }
    if (r.status == 503)
        *refused += n;
    json_decref(doc);
    lx_resp_free(&r);
    return ok;
}

static void expect_get(struct lx_server *s, const char *path)
{
    struct lx_resp r;
    long long t0 = lx_now_ms();

    lx_http(s, "GET", path, NULL, 0, NULL, &r);
    ck_assert_msg(r.status == 200, "GET %s while the disk is full: %ld %s", path, r.status, r.body);
    ck_assert_msg(lx_now_ms() - t0 < 5000, "GET %s took %lld ms", path, lx_now_ms() - t0);
    lx_resp_free(&r);
}

/* Every id of acked is a row of txs. */
static void check_present(struct lx_server *s, const json_t *acked)
{
    char *ids = json_dumps(acked, JSON_COMPACT), *got, want[32];
    const char *params[1];

    ck_assert_ptr_nonnull(ids);
    params[0] = ids;
    got = lx_db_value(s->dbname,
                      "SELECT count(*) FROM txs WHERE tx_id = ANY (SELECT decode(h, 'hex') FROM "
                      "json_array_elements_text($1::json) AS h)",
                      1, params);
    snprintf(want, sizeof(want), "%zu", json_array_size(acked));
    ck_assert_msg(strcmp(got, want) == 0, "only %s of %s acknowledged txs are in the log", got,
                  want);
    free(got);
    free(ids);
}

START_TEST(disk_full_refuses_writes_keeps_reads_and_recovers)
{
    struct lx_server s;
    json_t *acked = json_array();
    int refused = 0, round;
    long long filled, t0;
    char sql[300], path[200], cmd[1200], *log, *first;
    FILE *f;

    if (skipped) {
        printf("diskfull: SKIPPED: cannot mount a tmpfs (not root)\n");
        json_decref(acked);
        return;
    }
    ck_assert_msg(mounted, "could not mount a tmpfs on %s as root", mnt);
    memset(&s, 0, sizeof(s));
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TABLESPACE %s", db_name, ts_name);
    ck_assert_int_eq(lx_db_exec("postgres", sql), 0);
    snprintf(s.dbname, sizeof(s.dbname), "%s", db_name);
    lx_server_start(&s, NULL);
    f = fopen(pid_file, "w");
    fprintf(f, "%d\n", (int)s.pid);
    fclose(f);
    ck_assert_int_eq(submit(&s, "before", 50, acked, &refused), 50);

    filled = fill();
    /* Pages with room left take some more rows; the next extension of a table fails. */
    for (round = 0; refused == 0 && round < 500; round++) {
        char tag[32];

        snprintf(tag, sizeof(tag), "full%d", round);
        submit(&s, tag, 100, acked, &refused);
    }
    ck_assert_msg(refused > 0, "%d batches of 100 were all acknowledged on a full disk", round);
    {
        /* a single tx: the HTTP status itself is 503 */
        json_t *arr = batch("single", 1);
        struct lx_resp r;

        lx_submit(&s, json_array_get(arr, 0), &r);
        ck_assert_msg(r.status == 503, "one tx on a full disk: %ld %s", r.status, r.body);
        lx_resp_free(&r);
        json_decref(arr);
    }
    log = lx_read_file(s.err);
    ck_assert_ptr_nonnull(log);
    first = strstr(log, "No space left on device");
    ck_assert_msg(first != NULL, "lianxind's log does not say the disk is full:\n%s", log);
    {
        /* the line that says it, for the report */
        char *bol = first, *eol = strchr(first, '\n');

        while (bol > log && bol[-1] != '\n')
            bol--;
        printf("diskfull: log line: %.*s\n", (int)((eol ? eol : first + strlen(first)) - bol), bol);
    }
    free(log);

    /* reads go on */
    expect_get(&s, "/api/health");
    expect_get(&s, "/api/chain/checkpoint");
    snprintf(path, sizeof(path), "/api/chain/tx/%s", json_string_value(json_array_get(acked, 0)));
    expect_get(&s, path);
    snprintf(path, sizeof(path), "/api/chain/proof/%s",
             json_string_value(json_array_get(acked, 0)));
    expect_get(&s, path);

    /* room again: service resumes without a restart */
    ck_assert_int_eq(unlink(dummy), 0);
    t0 = lx_now_ms();
    for (round = 0;; round++) {
        char tag[32];
        int dummy_refused = 0;

        snprintf(tag, sizeof(tag), "after%d", round);
        if (submit(&s, tag, 1, acked, &dummy_refused) == 1)
            break;
        ck_assert_msg(lx_now_ms() - t0 < 15000, "no tx acknowledged 15 s after space returned");
        usleep(100000);
    }
    check_present(&s, acked);
    printf("diskfull: %lld bytes of dummy filled a %s tmpfs; %zu txs acknowledged (all in the "
           "log), %d refused with 503 while full; reads 200; writes acknowledged again %lld ms "
           "after the space returned, lianxind not restarted\n",
           filled, FS_SIZE, json_array_size(acked), refused, lx_now_ms() - t0);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    unlink(pid_file);
    snprintf(cmd, sizeof(cmd), "%s audit --db '%s' >%s/audit.out 2>&1", lx_env("LIANXIN_TEST_BIN"),
             s.conninfo, s.dir);
    ck_assert_msg(system(cmd) == 0, "lianxind audit failed after the disk was full (see %s)",
                  s.dir);
    json_decref(acked);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diskfull");
    TCase *tc = tcase_create("diskfull");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, fs_setup, fs_teardown);
    tcase_add_test(tc, disk_full_refuses_writes_keeps_reads_and_recovers);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
