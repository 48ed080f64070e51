/*
 * The lianxin client tool, the real binary (next to LIANXIN_TEST_BIN), against a real lianxind
 * and a real PostgreSQL: keygen writes a 0600 key, sign + submit put txs on the ledger (one, and
 * a JSON-lines batch), verify accepts a fetched bundle and names the check that a one-byte change
 * breaks, and the checkpoint monitor passes a growing log and raises ROLLBACK and FORK against a
 * node that rewrote its history.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct lx_server srv;
static char work[300]; /* this test's folder for key files, txs, bundles, state */

/* What one run of the tool did. */
struct run {
    int status; /* exit status, or 128 + signal */
    char *out;  /* its standard output (owned) */
    char *err;  /* its standard error (owned) */
};

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Runs build/lianxin with the arguments that follow (NULL-terminated), output captured. */
static void lianxin(struct run *r, ...)
{
    char bin[600], dir[512], out_path[400], err_path[400];
    const char *argv[32];
    va_list ap;
    int n = 0, status;
    pid_t pid;

    snprintf(dir, sizeof(dir), "%s", lx_env("LIANXIN_TEST_BIN"));
    snprintf(bin, sizeof(bin), "%s/lianxin", dirname(dir));
    snprintf(out_path, sizeof(out_path), "%s/cli.out", work);
    snprintf(err_path, sizeof(err_path), "%s/cli.err", work);
    argv[n++] = bin;
    va_start(ap, r);
    for (const char *a; n < 31 && (a = va_arg(ap, const char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (freopen(out_path, "w", stdout) == NULL || freopen(err_path, "w", stderr) == NULL ||
            freopen("/dev/null", "r", stdin) == NULL)
            _exit(126);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = lx_read_file(out_path);
    r->err = lx_read_file(err_path);
    ck_assert_ptr_nonnull(r->out);
    ck_assert_ptr_nonnull(r->err);
}

/* Runs the tool and asserts its exit status. */
#define LIANXIN_EXPECT(r, want, ...)                                                               \
    do {                                                                                           \
        lianxin((r), __VA_ARGS__, NULL);                                                           \
        ck_assert_msg((r)->status == (want),                                                       \
                      "lianxin exited %d, wanted %d\nstdout: %s\nstderr: %s", (r)->status, (want), \
                      (r)->out, (r)->err);                                                         \
    } while (0)

/* work/name, in buf. */
static const char *wpath(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", work, name);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static void start(void)
{
    char tmpl[300];

    memset(&srv, 0, sizeof(srv));
    lx_server_start(&srv, NULL);
    snprintf(tmpl, sizeof(tmpl), "%s/cli-XXXXXX", lx_env("LIANXIN_TEST_TMP"));
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    snprintf(work, sizeof(work), "%s", tmpl);
}

static void stop(void)
{
    if (srv.pid > 0)
        ck_assert_int_eq(lx_server_stop(&srv), 0);
}

/* `lianxin keygen` into work/<name>.key; returns the base64 public key it printed (static). */
static const char *keygen(const char *name)
{
    static char pub[64];
    char path[400], file[80];
    struct run r;
    const char *p;

    snprintf(file, sizeof(file), "%s.key", name);
    LIANXIN_EXPECT(&r, 0, "keygen", "--out", wpath(path, sizeof(path), file), "--name", name);
    p = strstr(r.out, "public key: ");
    ck_assert_ptr_nonnull(p);
    p += strlen("public key: ");
    snprintf(pub, sizeof(pub), "%.*s", (int)strcspn(p, "\n"), p);
    ck_assert_uint_eq(strlen(pub), 44);
    run_free(&r);
    return pub;
}

/* `lianxin sign` with key file key_path; returns the signed line (new, free()). */
static char *sign(const char *key_path, const char *type, const char *org, const char *body)
{
    struct run r;
    char *line;

    LIANXIN_EXPECT(&r, 0, "sign", "--key", key_path, "--module", "core", "--type", type, "--org",
                   org, body);
    line = r.out;
    r.out = NULL;
    run_free(&r);
    ck_assert_int_eq(line[strlen(line) - 1], '\n');
    return line;
}

/* Submits the file at path; asserts the exit status; returns stdout (new, free()). */
static char *submit(const char *path, int want)
{
    struct run r;
    char *out;

    LIANXIN_EXPECT(&r, want, "submit", "--url", srv.url, path);
    out = r.out;
    r.out = NULL;
    run_free(&r);
    return out;
}

/* Submits one signed tx (line, freed here) as a single-tx file, which must be accepted;
 * returns its tx id in id_out (65 bytes). */
static void submit_one(char *line, char *id_out)
{
    char txf[400], *out;
    json_t *res;

    write_file(wpath(txf, sizeof(txf), "one.json"), line);
    out = submit(txf, 0);
    res = json_loads(out, 0, NULL);
    ck_assert_msg(res != NULL, "submit printed %s", out);
    ck_assert_uint_eq(json_string_length(json_object_get(res, "tx_id")), 64);
    ck_assert(json_is_integer(json_object_get(res, "leaf_index")));
    ck_assert(json_is_integer(json_object_get(res, "height")));
    snprintf(id_out, 65, "%s", json_string_value(json_object_get(res, "tx_id")));
    json_decref(res);
    free(line);
    free(out);
}

/* Registers organisation id with a key made by `lianxin keygen` (work/<id>.key), through
 * sign + submit of a single tx; returns its tx id in id_out (65 bytes). */
static void register_org(const char *id, char *id_out)
{
    char body[300], admin[400];
    const char *pub = keygen(id);

    snprintf(admin, sizeof(admin), "%s/data/admin.key", srv.dir);
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"name\":\"Org %s\",\"type\":\"university\",\"key\":\"%s\"}", id, id,
             pub);
    submit_one(sign(admin, "org.register", "admin", body), id_out);
}

/* Signs n key.add txs for org (with work/<org>.key) as JSON lines into work/<file>; each adds a
 * fresh key. */
static void key_add_lines(const char *org, int n, const char *file)
{
    char key_path[400], path[400], body[300];
    FILE *f = fopen(wpath(path, sizeof(path), file), "w");

    ck_assert_ptr_nonnull(f);
    wpath(key_path, sizeof(key_path), org);
    strcat(key_path, ".key");
    for (int i = 0; i < n; i++) {
        struct chain_note_signer k;
        char pub[64], *line;

        lx_keygen("extra", &k);
        lx_pub_b64(&k, pub, sizeof(pub));
        sodium_memzero(&k, sizeof(k));
        snprintf(body, sizeof(body), "{\"principal\":\"%s\",\"key\":\"%s\"}", org, pub);
        line = sign(key_path, "key.add", org, body);
        fputs(line, f);
        free(line);
    }
    ck_assert_int_eq(fclose(f), 0);
}

/* Submits work/<file> of JSON lines, all of which must be accepted; returns the tx id of the
 * last one in id_out (65 bytes). */
static void submit_lines(const char *file, int n, char *id_out)
{
    char path[400], *out, *save = NULL;
    int lines = 0;

    out = submit(wpath(path, sizeof(path), file), 0);
    for (char *l = strtok_r(out, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        json_t *res = json_loads(l, 0, NULL);

        ck_assert_msg(res != NULL, "not JSON: %s", l);
        ck_assert_int_eq(json_integer_value(json_object_get(res, "line")), lines + 1);
        ck_assert_uint_eq(json_string_length(json_object_get(res, "tx_id")), 64);
        if (id_out != NULL)
            snprintf(id_out, 65, "%s", json_string_value(json_object_get(res, "tx_id")));
        json_decref(res);
        lines++;
    }
    ck_assert_int_eq(lines, n);
    free(out);
}

/* ---- keygen ------------------------------------------------------------------------------ */

START_TEST(keygen_private_file)
{
    char path[400], *text, *again;
    struct chain_note_signer k;
    struct run r;
    struct stat st;

    LIANXIN_EXPECT(&r, 0, "keygen", "--out", wpath(path, sizeof(path), "me.key"), "--name",
                   "alice");
    ck_assert_ptr_nonnull(strstr(r.out, "public key: "));
    ck_assert_ptr_nonnull(strstr(r.out, "verifier key: alice+"));
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    text = lx_read_file(path);
    ck_assert_int_eq(strncmp(text, "PRIVATE+KEY+alice+", 18), 0);
    ck_assert_int_eq(text[strlen(text) - 1], '\n');
    text[strlen(text) - 1] = '\0';
    ck_assert_int_eq(chain_note_signer_parse(text, &k), 0);
    sodium_memzero(&k, sizeof(k));
    run_free(&r);

    /* never overwrites */
    LIANXIN_EXPECT(&r, 2, "keygen", "--out", path);
    ck_assert_ptr_nonnull(strstr(r.err, "exists"));
    again = lx_read_file(path);
    ck_assert_int_eq(strncmp(again, text, strlen(text)), 0);
    run_free(&r);
    free(again);
    free(text);

    LIANXIN_EXPECT(&r, 2, "keygen");
    run_free(&r);
    LIANXIN_EXPECT(&r, 0, "--help");
    ck_assert_ptr_nonnull(strstr(r.out, "checkpoint"));
    run_free(&r);
}
END_TEST

/* ---- sign + submit ----------------------------------------------------------------------- */

START_TEST(submit_single_and_batch)
{
    char id[65], path[400], *text, *out, *save = NULL;
    struct lx_resp resp;
    int lines = 0, refused = 0;

    register_org("pku", id);
    key_add_lines("pku", 5, "batch.jsonl");
    submit_lines("batch.jsonl", 5, NULL);

    /* the same lines again, plus a line that is no JSON: exit 1, one answer per line */
    text = lx_read_file(wpath(path, sizeof(path), "batch.jsonl"));
    out = malloc(strlen(text) + 32);
    sprintf(out, "%snot json\n", text);
    write_file(path, out);
    free(out);
    free(text);
    out = submit(path, 1);
    for (char *l = strtok_r(out, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        json_t *res = json_loads(l, 0, NULL);

        ck_assert_ptr_nonnull(res);
        refused += json_object_get(res, "error") != NULL;
        lines++;
        json_decref(res);
    }
    ck_assert_int_eq(lines, 6);
    ck_assert_int_eq(refused, 6); /* duplicates and the malformed line */
    free(out);

    /* the tx is on the ledger */
    snprintf(path, sizeof(path), "/api/chain/tx/%s", id);
    lx_http(&srv, "GET", path, NULL, 0, NULL, &resp);
    ck_assert_int_eq(resp.status, 200);
    lx_resp_free(&resp);
}
END_TEST

/* ---- verify ------------------------------------------------------------------------------ */

/* Fetches the bundle of tx id (parsed; json_decref it). */
static json_t *fetch_bundle(const char *id)
{
    char path[200];
    struct lx_resp resp;
    json_t *b;

    snprintf(path, sizeof(path), "/api/chain/bundle/%s", id);
    lx_http(&srv, "GET", path, NULL, 0, NULL, &resp);
    ck_assert_msg(resp.status == 200, "bundle: %ld %s", resp.status, resp.body);
    b = json_loads(resp.body, 0, NULL);
    ck_assert_ptr_nonnull(b);
    lx_resp_free(&resp);
    return b;
}

/* Verifies bundle b (written to work/bundle.json) with --keys keys; asserts the exit status and
 * the marks of the five check lines ('+' ✓, '-' ✗, '?' either). */
static void verify(const json_t *b, const char *keys, int want, const char *marks)
{
    static const char *const what[5] = {"leaf hash", "tx signature", "checkpoint signature",
                                        "inclusion", "key authorisation"};
    char path[400], *line, *save = NULL;
    struct run r;

    ck_assert_int_eq(json_dump_file(b, wpath(path, sizeof(path), "bundle.json"), JSON_COMPACT), 0);
    LIANXIN_EXPECT(&r, want, "verify", path, "--keys", keys);
    line = strtok_r(r.out, "\n", &save);
    for (int i = 0; i < 5; i++, line = strtok_r(NULL, "\n", &save)) {
        char prefix[64];

        ck_assert_msg(line != NULL, "only %d lines: %s", i, r.out);
        if (marks[i] == '?')
            continue;
        snprintf(prefix, sizeof(prefix), "%s %s", marks[i] == '+' ? "\xe2\x9c\x93" : "\xe2\x9c\x97",
                 what[i]);
        ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0, "line %d is \"%s\", want %s…",
                      i + 1, line, prefix);
    }
    run_free(&r);
}

/* Flips the lowest bit of the byte that base64 text s (a JSON string member k of o) decodes to
 * at index at, re-encoding it. */
static void flip_b64(json_t *o, const char *k, size_t at)
{
    const char *s = json_string_value(json_object_get(o, k));
    uint8_t buf[128];
    char b64[200];
    size_t n = 0;

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(chain_b64_decode(s, strlen(s), buf, sizeof(buf), &n), 0);
    ck_assert_uint_lt(at, n);
    buf[at] ^= 0x01;
    ck_assert_int_eq(chain_b64_encode(buf, n, b64, sizeof(b64)), 0);
    json_object_set_new(o, k, json_string(b64));
}

START_TEST(verify_bundle)
{
    char org_id[65], id[65], keys_path[400], *note, *p;
    json_t *b, *t, *path;
    struct lx_resp resp;
    uint8_t raw[68];
    char b64[100];

    register_org("pku", org_id);
    key_add_lines("pku", 3, "adds.jsonl");
    submit_lines("adds.jsonl", 3, id);
    b = fetch_bundle(id);

    verify(b, srv.url, 0, "+++++");
    /* the keys from a file instead of the URL */
    lx_http(&srv, "GET", "/api/chain/keys", NULL, 0, NULL, &resp);
    ck_assert_int_eq(resp.status, 200);
    write_file(wpath(keys_path, sizeof(keys_path), "validators.txt"), resp.body);
    lx_resp_free(&resp);
    verify(b, keys_path, 0, "+++++");
    /* the org.register, signed by admin, verifies too */
    t = fetch_bundle(org_id);
    verify(t, keys_path, 0, "+++++");
    json_decref(t);

    /* one byte changed in the tx */
    t = json_deep_copy(b);
    json_object_set_new(json_object_get(json_object_get(t, "tx"), "body"), "principal",
                        json_string("pkv"));
    verify(t, keys_path, 1, "--+++");
    json_decref(t);

    /* one byte changed in a path element */
    t = json_deep_copy(b);
    path = json_object_get(json_object_get(t, "proof"), "path");
    ck_assert_int_ge(json_array_size(path), 1);
    {
        json_t *holder = json_pack("{s:O}", "h", json_array_get(path, 0));

        flip_b64(holder, "h", 7);
        json_array_set(path, 0, json_object_get(holder, "h"));
        json_decref(holder);
    }
    verify(t, keys_path, 1, "+++-+");
    json_decref(t);

    /* one byte changed in the checkpoint's root */
    t = json_deep_copy(b);
    note = strdup(json_string_value(json_object_get(t, "checkpoint")));
    p = strchr(strchr(note, '\n') + 1, '\n') + 1; /* line 3: base64 root */
    ck_assert_int_eq(chain_b64_decode_exact(p, 44, raw, 32), 0);
    raw[9] ^= 0x01;
    ck_assert_int_eq(chain_b64_encode(raw, 32, b64, sizeof(b64)), 0);
    memcpy(p, b64, 44);
    json_object_set_new(t, "checkpoint", json_string(note));
    free(note);
    verify(t, keys_path, 1, "++---");
    json_decref(t);

    /* one byte changed in the checkpoint's signature */
    t = json_deep_copy(b);
    note = strdup(json_string_value(json_object_get(t, "checkpoint")));
    p = strrchr(note, ' ') + 1;
    ck_assert_int_eq(chain_b64_decode_exact(p, strcspn(p, "\n"), raw, 68), 0);
    raw[30] ^= 0x01;
    ck_assert_int_eq(chain_b64_encode(raw, 68, b64, sizeof(b64)), 0);
    memcpy(p, b64, strlen(b64));
    json_object_set_new(t, "checkpoint", json_string(note));
    free(note);
    verify(t, keys_path, 1, "++-++");
    json_decref(t);

    /* no key evidence */
    t = json_deep_copy(b);
    json_object_set_new(t, "key_evidence", json_array());
    verify(t, keys_path, 1, "++++-");
    json_decref(t);

    json_decref(b);
}
END_TEST

START_TEST(verify_revoked_later)
{
    char id[65], rev[65], k2_path[400], pku_path[400], body[200], pub2[64];
    json_t *b;
    struct run r;

    register_org("pku", id);
    wpath(pku_path, sizeof(pku_path), "pku.key");
    wpath(k2_path, sizeof(k2_path), "k2.key");
    snprintf(pub2, sizeof(pub2), "%s", keygen("k2"));
    snprintf(body, sizeof(body), "{\"principal\":\"pku\",\"key\":\"%s\"}", pub2);
    submit_one(sign(pku_path, "key.add", "pku", body), id);
    /* k2 signs a tx, then pku's first key revokes k2 */
    snprintf(body, sizeof(body), "{\"principal\":\"pku\",\"key\":\"%s\"}", keygen("k3"));
    submit_one(sign(k2_path, "key.add", "pku", body), id);
    snprintf(body, sizeof(body), "{\"principal\":\"pku\",\"key\":\"%s\"}", pub2);
    submit_one(sign(pku_path, "key.revoke", "pku", body), rev);
    b = fetch_bundle(id);
    verify(b, srv.url, 0, "+++++");
    LIANXIN_EXPECT(&r, 0, "verify", wpath(pku_path, sizeof(pku_path), "bundle.json"), "--keys",
                   srv.url);
    ck_assert_ptr_nonnull(strstr(r.out, "revoked later"));
    run_free(&r);
    json_decref(b);

    /* and k2 can no longer sign: the node refuses */
    snprintf(body, sizeof(body), "{\"principal\":\"pku\",\"key\":\"%s\"}", keygen("k4"));
    {
        char txf[400], *line = sign(k2_path, "key.add", "pku", body), *out;

        write_file(wpath(txf, sizeof(txf), "late.json"), line);
        out = submit(txf, 1);
        ck_assert_ptr_nonnull(strstr(out, "key_revoked"));
        free(out);
        free(line);
    }
}
END_TEST

START_TEST(usage_and_io_errors)
{
    char path[400];
    struct run r;

    write_file(wpath(path, sizeof(path), "junk.json"), "{\"tx\": [1, 2");
    LIANXIN_EXPECT(&r, 1, "verify", path, "--keys", srv.url);
    ck_assert_ptr_nonnull(strstr(r.out, "\xe2\x9c\x97"));
    run_free(&r);
    LIANXIN_EXPECT(&r, 2, "verify", "/nonexistent/bundle.json", "--keys", srv.url);
    run_free(&r);
    LIANXIN_EXPECT(&r, 2, "verify", path);
    run_free(&r);
    LIANXIN_EXPECT(&r, 2, "verify", path, "--keys", "/nonexistent/keys");
    run_free(&r);
    LIANXIN_EXPECT(&r, 2, "verify", path, "--keys", "http://127.0.0.1:1");
    run_free(&r);

    /* submit: nobody listening is an I/O error, a non-URL a usage error */
    write_file(wpath(path, sizeof(path), "obj.json"), "{\"v\":1}");
    LIANXIN_EXPECT(&r, 2, "submit", "--url", "http://127.0.0.1:1", path);
    ck_assert_ptr_nonnull(strstr(r.out, "no_answer"));
    run_free(&r);
    LIANXIN_EXPECT(&r, 2, "submit", "--url", "ftp://x", path);
    run_free(&r);

    /* checkpoint: a state file that is no checkpoint cannot be compared (1, not an alarm) */
    LIANXIN_EXPECT(&r, 1, "checkpoint", "--url", srv.url, "--state", path);
    ck_assert_ptr_nonnull(strstr(r.err, "does not hold a checkpoint"));
    run_free(&r);
    LIANXIN_EXPECT(&r, 1, "checkpoint", "--url", "http://127.0.0.1:1", "--state", path);
    run_free(&r);
}
END_TEST

/* ---- checkpoint -------------------------------------------------------------------------- */

START_TEST(checkpoint_monitor)
{
    char org_id[65], state[400], *saved;
    struct run r;

    wpath(state, sizeof(state), "state.cp");
    LIANXIN_EXPECT(&r, 0, "checkpoint", "--url", srv.url, "--state", state);
    ck_assert_ptr_nonnull(strstr(r.out, "first checkpoint"));
    run_free(&r);
    saved = lx_read_file(state);
    ck_assert_ptr_nonnull(saved);
    ck_assert_ptr_nonnull(strstr(saved, LX_TEST_ORIGIN "\n"));
    free(saved);

    register_org("pku", org_id);
    key_add_lines("pku", 2, "adds.jsonl");
    submit_lines("adds.jsonl", 2, NULL);
    LIANXIN_EXPECT(&r, 0, "checkpoint", "--url", srv.url, "--state", state);
    ck_assert_ptr_nonnull(strstr(r.out, "consistently"));
    run_free(&r);
    LIANXIN_EXPECT(&r, 0, "checkpoint", "--url", srv.url, "--state", state);
    ck_assert_ptr_nonnull(strstr(r.out, "unchanged"));
    run_free(&r);
}
END_TEST

START_TEST(checkpoint_rollback_and_fork)
{
    char org_id[65], state[400], keys[400], *before, *after;
    struct lx_resp resp;
    struct run r;

    /* node A grows a log and the monitor saves its checkpoint */
    register_org("pku", org_id);
    key_add_lines("pku", 4, "adds.jsonl");
    submit_lines("adds.jsonl", 4, NULL);
    wpath(state, sizeof(state), "state.cp");
    LIANXIN_EXPECT(&r, 0, "checkpoint", "--url", srv.url, "--state", state);
    run_free(&r);
    lx_http(&srv, "GET", "/api/chain/keys", NULL, 0, NULL, &resp);
    write_file(wpath(keys, sizeof(keys), "validators.txt"), resp.body);
    lx_resp_free(&resp);
    before = lx_read_file(state);

    /* the same node (same data folder, same signing key) restarted on an empty database: its
     * log is shorter than the one it signed before */
    ck_assert_int_eq(lx_server_stop(&srv), 0);
    srv.dbname[0] = '\0';
    lx_server_start(&srv, NULL);
    LIANXIN_EXPECT(&r, 2, "checkpoint", "--url", srv.url, "--state", state, "--keys", keys);
    ck_assert_ptr_nonnull(strstr(r.err, "ROLLBACK"));
    run_free(&r);
    after = lx_read_file(state);
    ck_assert_str_eq(after, before); /* the alarm state is kept */
    free(after);

    /* it grows another history past the saved size: no consistency proof can link them */
    register_org("thu", org_id);
    key_add_lines("thu", 8, "adds2.jsonl");
    submit_lines("adds2.jsonl", 8, NULL);
    LIANXIN_EXPECT(&r, 2, "checkpoint", "--url", srv.url, "--state", state, "--keys", keys);
    ck_assert_ptr_nonnull(strstr(r.err, "FORK"));
    run_free(&r);
    after = lx_read_file(state);
    ck_assert_str_eq(after, before);
    free(after);
    free(before);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");

    tcase_add_checked_fixture(tc, start, stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, keygen_private_file);
    tcase_add_test(tc, submit_single_and_batch);
    tcase_add_test(tc, verify_bundle);
    tcase_add_test(tc, verify_revoked_later);
    tcase_add_test(tc, usage_and_io_errors);
    tcase_add_test(tc, checkpoint_monitor);
    tcase_add_test(tc, checkpoint_rollback_and_fork);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
