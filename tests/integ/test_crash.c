/*
 * Durability: lianxind is killed with SIGKILL at random moments while a client keeps
 * submitting. After each restart every tx acknowledged since the last crash must be in the log
 * with an inclusion proof that verifies (chain/) against a checkpoint signed by a listed key,
 * there must be no partial block (tx rows, block rows, tree sizes and leaves agree), and the
 * log must go on from there. At the end every tx ever acknowledged is looked up again and
 * `lianxind audit` recomputes the whole chain.
 *
 * LIANXIN_CRASH_CYCLES sets the number of kills (10; `make stress` runs 200).
 * LIANXIN_CRASH_PROOFS sets how many proofs are fetched and verified per cycle (200: the last
 * 100 acknowledged before the kill, the most at risk, and 100 drawn at random from the rest of
 * the cycle's; "all" for every one). The presence checks always cover every acknowledged tx.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include "../../chain/merkle.h"

#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH    20
#define MAX_KEYS 8

/* The txs acknowledged so far, in the order of their answers. */
struct acked {
    char (*id)[CHAIN_TX_ID_HEX_LEN + 1];
    uint64_t *leaf;
    size_t n, cap;
};

/* Submits batches of self-registrations until killed; appends "tx_id leaf_index" of each
 * acknowledged tx to acked (flushed before the next request). */
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
            json_t *leaf = json_object_get(it, "leaf_index");

            if (json_is_integer(leaf))
                fprintf(f, "%s %lld\n", json_string_value(json_object_get(it, "tx_id")),
                        (long long)json_integer_value(leaf));
        }
        fflush(f);
        json_decref(doc);
        lx_resp_free(&r);
        if (r.status == 0)
            usleep(20000); /* the server is down: wait for the test to kill us */
    }
}

/* Reads the acknowledgements written since a->n into a. */
static void acked_load(struct acked *a, const char *path)
{
    char *text = lx_read_file(path), *line, *save = NULL;
    size_t seen = 0;

    ck_assert_ptr_nonnull(text);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), seen++) {
        unsigned long long leaf;
        char id[CHAIN_TX_ID_HEX_LEN + 1];

        if (seen < a->n)
            continue;
        ck_assert_msg(sscanf(line, "%64s %llu", id, &leaf) == 2, "bad line %s", line);
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 1024;
            a->id = realloc(a->id, a->cap * sizeof(*a->id));
            a->leaf = realloc(a->leaf, a->cap * sizeof(*a->leaf));
            ck_assert(a->id != NULL && a->leaf != NULL);
        }
        memcpy(a->id[a->n], id, sizeof(id));
        a->leaf[a->n++] = leaf;
    }
    free(text);
}

/* Every acknowledged tx in [from, to) is a row of txs at the leaf index it was given. */
static void check_present(struct lx_server *s, const struct acked *a, size_t from, size_t to)
{
    size_t cap = (to - from) * (CHAIN_TX_ID_HEX_LEN + 24) + 8, w = 0;
    char *ids = malloc(cap), *leaves = malloc(cap), *got, want[32];
    const char *params[2] = {ids, leaves};

    ck_assert(ids != NULL && leaves != NULL);
    w = (size_t)sprintf(ids, "{");
    for (size_t i = from; i < to; i++)
        w += (size_t)sprintf(ids + w, "%s%s", i > from ? "," : "", a->id[i]);
    sprintf(ids + w, "}");
    w = (size_t)sprintf(leaves, "{");
    for (size_t i = from; i < to; i++)
        w += (size_t)sprintf(leaves + w, "%s%llu", i > from ? "," : "",
                             (unsigned long long)a->leaf[i]);
    sprintf(leaves + w, "}");
    got = lx_db_value(s->dbname,
                      "SELECT count(*) FROM txs t JOIN unnest($1::text[], $2::bigint[]) AS "
                      "a(h, leaf) ON t.tx_id = decode(a.h, 'hex') AND t.leaf_index = a.leaf",
                      2, params);
    snprintf(want, sizeof(want), "%zu", to - from);
    ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                  "only %s of %s acknowledged txs are in the log at their leaf index",
                  got ? got : "?", want);
    free(got);
    free(ids);
    free(leaves);
}

/* No partial block: every tx belongs to a block, the sizes add up, leaves are contiguous, and
 * merkle_nodes holds exactly the perfect subtrees of level 6 and up of the tree (server/nodes.h):
 * as many as there should be at every level, none beyond the last leaf. */
static void check_blocks(struct lx_server *s)
{
    ck_assert_msg(
        lx_db_exec(s->dbname,
                   "WITH n AS (SELECT count(*) AS n FROM txs) "
                   "SELECT 1/(CASE WHEN (SELECT n FROM n) = "
                   "(SELECT coalesce(sum(n_txs), 0) FROM blocks) AND "
                   "(SELECT max(tree_size) FROM blocks) = (SELECT n FROM n) "
                   "AND (SELECT max(leaf_index) + 1 FROM txs) = (SELECT n FROM n) "
                   "AND (SELECT count(*) FROM merkle_nodes) = (SELECT sum(n / (1::bigint << l)) "
                   "FROM n, generate_series(6, 62) AS l) AND NOT EXISTS (SELECT 1 FROM "
                   "merkle_nodes WHERE (idx + 1) * (1::bigint << level) > (SELECT n FROM n)) "
                   "THEN 1 ELSE 0 END)") == 0,
        "a partial block is in the database");
}

/* The validator keys of GET /api/chain/keys; returns their number. */
static size_t load_keys(struct lx_server *s, struct chain_note_verifier known[MAX_KEYS])
{
    struct lx_resp r;
    size_t n = 0;
    char *save = NULL;

    lx_http(s, "GET", "/api/chain/keys", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    for (char *line = strtok_r(r.body, "\n", &save); line != NULL && n < MAX_KEYS;
         line = strtok_r(NULL, "\n", &save))
        ck_assert_int_eq(chain_note_verifier_parse(line, &known[n++]), 0);
    lx_resp_free(&r);
    ck_assert_uint_ge(n, 1);
    return n;
}

static void b64_hash(const json_t *v, uint8_t out[CHAIN_HASH_LEN])
{
    const char *s = json_string_value(v);

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(chain_b64_decode_exact(s, strlen(s), out, CHAIN_HASH_LEN), 0);
}

/* GET /api/chain/proof/<id>: the leaf is the tx (its id is its leaf hash) at the acknowledged
 * index, the path leads to the root of a checkpoint that a known key signed. */
static void check_proof(struct lx_server *s, const struct chain_note_verifier *known, size_t nk,
                        const char *id, uint64_t leaf)
{
    uint8_t want[CHAIN_HASH_LEN], got[CHAIN_HASH_LEN], path[CHAIN_MERKLE_MAX_PATH][CHAIN_HASH_LEN];
    struct chain_note_opened op;
    struct chain_checkpoint cp;
    const json_t *arr;
    const char *note;
    struct lx_resp r;
    char url[128];
    json_t *doc;

    snprintf(url, sizeof(url), "/api/chain/proof/%s", id);
    lx_http(s, "GET", url, NULL, 0, NULL, &r);
    ck_assert_msg(r.status == 200, "proof of acknowledged %s: %ld %s", id, r.status, r.body);
    doc = json_loads(r.body, 0, NULL);
    lx_resp_free(&r);
    ck_assert_ptr_nonnull(doc);
    note = json_string_value(json_object_get(doc, "checkpoint"));
    ck_assert_ptr_nonnull(note);
    ck_assert_int_eq(chain_note_open(note, strlen(note), known, nk, &op), 0);
    ck_assert_uint_ge(op.n_valid, 1);
    ck_assert_int_eq(chain_checkpoint_parse(op.text, op.text_len, &cp), 0);
    ck_assert_uint_eq((uint64_t)json_integer_value(json_object_get(doc, "leaf_index")), leaf);
    ck_assert_uint_eq((uint64_t)json_integer_value(json_object_get(doc, "tree_size")), cp.size);
    ck_assert_int_eq(chain_hex_decode(id, strlen(id), want, CHAIN_HASH_LEN), 0);
    b64_hash(json_object_get(doc, "leaf_hash"), got);
    ck_assert_mem_eq(got, want, CHAIN_HASH_LEN);
    arr = json_object_get(doc, "path");
    ck_assert(json_is_array(arr) && json_array_size(arr) <= CHAIN_MERKLE_MAX_PATH);
    for (size_t i = 0; i < json_array_size(arr); i++)
        b64_hash(json_array_get(arr, i), path[i]);
    ck_assert_msg(chain_merkle_inclusion_verify(leaf, cp.size, want,
                                                (const uint8_t(*)[CHAIN_HASH_LEN])path,
                                                json_array_size(arr), cp.root) == 0,
                  "the proof of %s (leaf %llu) does not verify against checkpoint %llu", id,
                  (unsigned long long)leaf, (unsigned long long)cp.size);
    json_decref(doc);
}

/* Verifies the proofs of the txs acknowledged in [from, to): all of them when they are at most
 * sample (0: no limit), else the last sample/2 and sample/2 drawn from the others. Returns how
 * many were verified. */
static size_t check_proofs(struct lx_server *s, const struct acked *a, size_t from, size_t to,
                           size_t sample)
{
    struct chain_note_verifier known[MAX_KEYS];
    size_t nk = load_keys(s, known), n = to - from, tail, done = 0;

    if (sample == 0 || n <= sample) {
        for (size_t i = from; i < to; i++)
            check_proof(s, known, nk, a->id[i], a->leaf[i]);
        return n;
    }
    tail = sample / 2;
    for (size_t i = to - tail; i < to; i++, done++)
        check_proof(s, known, nk, a->id[i], a->leaf[i]);
    for (; done < sample; done++) { /* with repeats, which is fine for a sample */
        size_t i = from + (size_t)rand() % (n - tail);

        check_proof(s, known, nk, a->id[i], a->leaf[i]);
    }
    return done;
}

static unsigned env_uint(const char *name, unsigned dflt)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0')
        return dflt;
    if (strcmp(v, "all") == 0)
        return 0;
    return (unsigned)strtoul(v, NULL, 10);
}

/* Kills lianxind somewhere inside a burst of submissions, restarts it on the same database
 * and data folder. */
static void crash_once(struct lx_server *s, const char *acked)
{
    pid_t sub = fork();
    int st;

    ck_assert_int_ge(sub, 0);
    if (sub == 0) {
        submitter(s, acked);
        _exit(0);
    }
    usleep(300000 + (useconds_t)(rand() % 900000)); /* somewhere inside the traffic */
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    usleep(200000); /* let the submitter record answers that were already on the wire */
    kill(sub, SIGKILL);
    waitpid(sub, &st, 0);
    lx_server_start(s, NULL); /* same database, same data folder */
}

static void submit_after(struct lx_server *s)
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
    lx_submit(s, doc, &r);
    json_decref(doc);
    ck_assert_msg(r.status == 200, "after recovery: %ld %s", r.status, r.body);
    lx_resp_free(&r);
}

START_TEST(sigkill_loses_nothing_acknowledged)
{
    unsigned cycles = env_uint("LIANXIN_CRASH_CYCLES", 10), seed;
    size_t sample = env_uint("LIANXIN_CRASH_PROOFS", 200), proved = 0;
    struct acked a = {0};
    struct lx_server s;
    char acked[400], cmd[1200];
    long long t0 = lx_now_ms();

    memset(&s, 0, sizeof(s));
    seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    lx_server_start(&s, NULL);
    snprintf(acked, sizeof(acked), "%s/acked.txt", s.dir);
    for (unsigned cycle = 0; cycle < cycles; cycle++) {
        size_t from = a.n;

        crash_once(&s, acked);
        acked_load(&a, acked);
        check_blocks(&s);
        if (a.n > from) {
            check_present(&s, &a, from, a.n);
            proved += check_proofs(&s, &a, from, a.n, sample);
        }
    }
    ck_assert_msg(a.n > 0, "no tx was acknowledged in %u cycles", cycles);
    for (size_t i = 0; i < a.n; i += 20000) /* all of them, once more, in chunks */
        check_present(&s, &a, i, i + 20000 < a.n ? i + 20000 : a.n);
    submit_after(&s);
    ck_assert_int_eq(lx_server_stop(&s), 0);
    /* and everything recomputes: leaves, roots, checkpoints, prev links */
    snprintf(cmd, sizeof(cmd), "%s audit --db '%s' >%s/audit.out 2>&1", lx_env("LIANXIN_TEST_BIN"),
             s.conninfo, s.dir);
    ck_assert_msg(system(cmd) == 0, "lianxind audit failed after the crashes (see %s)", s.dir);
    printf("crash: %u SIGKILL cycles (seed %u): %zu acknowledged txs present, %zu proofs "
           "verified (%s per cycle), audit clean, %.1f s\n",
           cycles, seed, a.n, proved, sample ? "a sample" : "all", (lx_now_ms() - t0) / 1000.0);
    free(a.id);
    free(a.leaf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("sigkill");
    SRunner *sr;
    int failed;

    /* about 2 s a cycle in the sanitizer build; generous, so only a hang trips it */
    tcase_set_timeout(tc, 120 + 15 * env_uint("LIANXIN_CRASH_CYCLES", 10));
    tcase_add_test(tc, sigkill_loses_nothing_acknowledged);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
