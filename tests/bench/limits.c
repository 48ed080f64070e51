/*
 * What this machine can do, measured in the same run as the benchmarks so every figure can be
 * read as a fraction of it: Ed25519 verifications/s on all cores (distinct signatures), SHA-256
 * Merkle node hashes/s on one core, PostgreSQL COPY rows/s for tx-sized rows, and single-row
 * commits/s (the fsync rate). Prints one JSON line.   limits --db CONNINFO [--seconds S] `limits
 * --only ed25519` measures the first alone (make bench samples it again between runs).
 */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
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

/* Each thread checks n_sigs distinct signatures, each by its own key over its own 300 bytes,
 * in turn, as the node checks txs. The line is taken over SIGS of them: checking one signature
 * over and over, as this did until the twelfth round, flatters it by 5-8 % (libsodium's
 * verification branches on the scalars and the key, and on one input every branch is
 * predicted); that figure is printed too, for comparison with the earlier tables. */
#define SIGS 256
struct signed_msg {
    unsigned char pk[32], sig[64], msg[300];
};

struct verifier {
    int n_sigs;
    double per_s; /* out */
};

static void *verify_loop(void *arg)
{
    struct verifier *w = arg;
    struct signed_msg *v = malloc((size_t)w->n_sigs * sizeof(*v));
    double t0, until;
    unsigned long long n = 0;

    if (v == NULL)
        abort();
    for (int i = 0; i < w->n_sigs; i++) {
        unsigned char sk[64];

        randombytes_buf(v[i].msg, sizeof(v[i].msg));
        crypto_sign_keypair(v[i].pk, sk);
        crypto_sign_detached(v[i].sig, NULL, v[i].msg, sizeof(v[i].msg), sk);
    }
    t0 = now_s();
    until = t0 + seconds;
    while (now_s() < until) {
        for (int i = 0; i < 64; i++) {
            const struct signed_msg *m = &v[(n + (unsigned)i) % (unsigned)w->n_sigs];

            if (crypto_sign_verify_detached(m->sig, m->msg, sizeof(m->msg), m->pk) != 0)
                abort();
        }
        n += 64;
    }
    w->per_s = (double)n / (now_s() - t0);
    free(v);
    return NULL;
}

/* Verifications a second on all cores, each core cycling through n_sigs signatures. */
static double ed25519_per_s(int n_sigs)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t th[64];
    struct verifier w[64];
    double sum = 0;

    if (cores < 1 || cores > 64)
        cores = 1;
    for (long i = 0; i < cores; i++) {
        w[i] = (struct verifier){n_sigs, 0};
        pthread_create(&th[i], NULL, verify_loop, &w[i]);
    }
    for (long i = 0; i < cores; i++) {
        pthread_join(th[i], NULL);
        sum += w[i].per_s;
    }
    return sum;
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
    double ed, ed_same, sha, copy, commit;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--db"))
            db = argv[i + 1];
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--only") && !strcmp(argv[i + 1], "ed25519"))
            only_ed25519 = 1;
    }
    if (only_ed25519 && sodium_init() >= 0) { /* another sample of the line, between runs */
        printf("{\"ed25519_verify_per_s\":%.0f}\n", ed25519_per_s(SIGS));
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
    ed = ed25519_per_s(SIGS);
    ed_same = ed25519_per_s(1);
    sha = sha256_nodes_per_s();
    copy = copy_rows_per_s(c);
    if (exec(c, "CREATE TABLE IF NOT EXISTS bench_fsync (id bigint)") != 0)
        return 1;
    commit = commits_per_s(c);
    exec(c, "DROP TABLE bench_fsync");
    printf("{\"ed25519_verify_per_s\":%.0f,\"ed25519_one_sig_per_s\":%.0f,"
           "\"sha256_nodes_per_s\":%.0f,\"copy_rows_per_s\":%.0f,\"commits_per_s\":%.0f}\n",
           ed, ed_same, sha, copy, commit);
    PQfinish(c);
    return 0;
}
