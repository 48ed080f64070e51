/*
 * What this machine can do, measured in the same run as the benchmarks so every figure can be
 * read as a fraction of it: Ed25519 verifications/s on all cores, SHA-256 Merkle node hashes/s
 * on one core, PostgreSQL COPY rows/s for tx-sized rows, and single-row commits/s (the fsync
 * rate). Prints one JSON line.   limits --db CONNINFO [--seconds S]
 * `limits --only ed25519` measures the first alone (make bench samples it again between runs).
 */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double seconds = 3.0;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static atomic_ullong verified;

static void *verify_loop(void *arg)
{
    unsigned char pk[32], sk[64], sig[64], msg[300];
    double until = now_s() + seconds;
    unsigned long long n = 0;

    (void)arg;
    randombytes_buf(msg, sizeof(msg));
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
    while (now_s() < until) {
        for (int i = 0; i < 64; i++)
            if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
                abort();
        n += 64;
    }
    atomic_fetch_add(&verified, n);
    return NULL;
}

static double ed25519_per_s(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t th[64];
    double t0 = now_s();

    if (cores < 1 || cores > 64)
        cores = 1;
    for (long i = 0; i < cores; i++)
        pthread_create(&th[i], NULL, verify_loop, NULL);
    for (long i = 0; i < cores; i++)
        pthread_join(th[i], NULL);
    return (double)verified / (now_s() - t0);
}

static double sha256_nodes_per_s(void)
{
    unsigned char buf[65] = {1}, out[32];
    double t0 = now_s(), until = t0 + seconds;
    unsigned long long n = 0;

    while (now_s() < until) {
        for (int i = 0; i < 1024; i++) {
            crypto_hash_sha256(out, buf, sizeof(buf));
            buf[1] = out[0];
        }
        n += 1024;
    }
    return (double)n / (now_s() - t0);
}

static int exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    if (!ok)
        fprintf(stderr, "limits: %s", PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Rows shaped like the txs table: ids, hashes, and a ~300-byte leaf, in 5,000-row COPYs. */
static double copy_rows_per_s(PGconn *c)
{
    char row[1024], leaf[601];
    double t0, until;
    unsigned long long n = 0;

    for (int i = 0; i < 600; i++)
        leaf[i] = "0123456789abcdef"[i % 16];
    leaf[600] = '\0';
    if (exec(c, "CREATE TEMP TABLE bench_copy (leaf_index bigint PRIMARY KEY, tx_id bytea, "
                "height bigint, module text, type text, org text, signer bytea, time_ms bigint, "
                "leaf bytea)") != 0)
        return 0;
    t0 = now_s();
    until = t0 + seconds;
    while (now_s() < until) {
        PGresult *r = PQexec(c, "COPY bench_copy FROM STDIN");

        PQclear(r);
        for (int i = 0; i < 5000; i++, n++) {
            int len = snprintf(row, sizeof(row),
                               "%llu\t\\\\x%064llx\t%llu\tcore\tanchor\tbench\t\\\\x%064d\t%llu\t"
                               "\\\\x%s\n",
                               n, n, n / 5000, 7, n, leaf);
            PQputCopyData(c, row, len);
        }
        PQputCopyEnd(c, NULL);
        while ((r = PQgetResult(c)) != NULL)
            PQclear(r);
    }
    return (double)n / (now_s() - t0);
}

static double commits_per_s(PGconn *c)
{
    double t0, until;
    unsigned long long n = 0;

    if (exec(c, "CREATE TEMP TABLE bench_commit (id bigint)") != 0 ||
        exec(c, "SET synchronous_commit = on") != 0)
        return 0;
    t0 = now_s();
    until = t0 + seconds;
    while (now_s() < until) {
        /* temp tables skip the WAL: commit into a real one so each commit waits for fsync */
        if (exec(c, "INSERT INTO bench_fsync VALUES (1)") != 0)
            return 0;
        n++;
    }
    return (double)n / (now_s() - t0);
}

int main(int argc, char **argv)
{
    const char *db = NULL;
    int only_ed25519 = 0;
    PGconn *c;
    double ed, sha, copy, commit;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--db"))
            db = argv[i + 1];
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--only") && !strcmp(argv[i + 1], "ed25519"))
            only_ed25519 = 1;
    }
    if (only_ed25519 && sodium_init() >= 0) { /* another sample of the line, between runs */
        printf("{\"ed25519_verify_per_s\":%.0f}\n", ed25519_per_s());
        return 0;
    }
    if (db == NULL || sodium_init() < 0) {
        fprintf(stderr, "usage: limits --db CONNINFO [--seconds S] | limits --only ed25519 "
                        "[--seconds S]\n");
        return 2;
    }
    c = PQconnectdb(db);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "limits: %s", PQerrorMessage(c));
        return 1;
    }
    ed = ed25519_per_s();
    sha = sha256_nodes_per_s();
    copy = copy_rows_per_s(c);
    if (exec(c, "CREATE TABLE IF NOT EXISTS bench_fsync (id bigint)") != 0)
        return 1;
    commit = commits_per_s(c);
    exec(c, "DROP TABLE bench_fsync");
    printf("{\"ed25519_verify_per_s\":%.0f,\"sha256_nodes_per_s\":%.0f,\"copy_rows_per_s\":%.0f,"
           "\"commits_per_s\":%.0f}\n",
           ed, sha, copy, commit);
    PQfinish(c);
    return 0;
}
