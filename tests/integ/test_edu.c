/*
 * The edu module through a real lianxind (modules/edu/): a registrar issues a credential, the
 * student's bundle verifies with `lianxin verify` and POST /api/edu/verify; one changed character
 * of the subject fails the signature check, a changed anchored hash the ledger check; revocation
 * gives the verdict "revoked on <date>: <reason>"; a university key revoked after issuance leaves
 * the credential valid while a credential signed with it after its revocation is invalid; a CSV
 * batch with 3 bad rows among 100 names the three lines and issues nothing; erasure leaves the
 * student's file verifying; share links open the verdict until withdrawn or expired; and who may
 * see and do what.
 */
#define _GNU_SOURCE
#include "harness.h"

#include "../../chain/jcs.h"
#include "../../chain/vc.h"

#include <check.h>
#include <jansson.h>
#include <libgen.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW "admin-password-for-the-tests"
#define USER_PW  "user-password-42"
#define UNI_NAME "\xe6\xb8\x85\xe5\x8d\x8e\xe5\xa4\xa7\xe5\xad\xa6" /* 清华大学 */

static struct lx_server srv;
static struct lx_cred admin, registrar, other_issuer, regulator, student, student2;

/* POSTs a CSV body as who; returns the parsed answer and the status. */
static json_t *post_csv(const struct lx_cred *who, const char *path, const char *csv,
                        const char *type, long *status)
{
    char cookie[128], csrf[128];
    const char *h[4] = {type, NULL, NULL, NULL};
    struct lx_resp r;
    json_t *doc;

    snprintf(cookie, sizeof(cookie), "Cookie: lx_session=%s", who->cookie);
    snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", who->csrf);
    h[1] = cookie;
    h[2] = csrf;
    lx_http(&srv, "POST", path, csv, strlen(csv), h, &r);
    *status = r.status;
    doc = json_loads(r.body, 0, NULL);
    ck_assert_msg(doc != NULL, "POST %s: %ld, not JSON: %s", path, r.status, r.body);
    lx_resp_free(&r);
    return doc;
}

static char *db_value(const char *sql, const char *param)
{
    const char *params[1] = {param};

    return lx_db_value(srv.dbname, sql, param ? 1 : 0, params);
}

static long long db_count(const char *sql, const char *param)
{
    char *v = db_value(sql, param);
    long long n;

    ck_assert_ptr_nonnull(v);
    n = atoll(v);
    free(v);
    return n;
}

/* ---- people and universities ---------------------------------------------------------------- */

static void login(const char *user, const char *pw, struct lx_cred *out)
{
    long status = lx_login(&srv, user, pw, out);

    ck_assert_msg(status == 200, "login %s: %ld", user, status);
}

static void admit(const char *id, const char *name)
{
    json_decref(
        lx_expect(&srv, &admin, "POST", "/api/orgs",
                  json_pack("{s:s, s:s, s:s}", "id", id, "name", name, "type", "university"), 201));
}

static void person(const char *org, const char *username, const char *role, struct lx_cred *out)
{
    char path[128];
    long status;

    snprintf(path, sizeof(path), "/api/orgs/%s/users", org);
    json_decref(lx_call(&srv, &admin, "POST", path,
                        json_pack("{s:s, s:s, s:s, s:s}", "username", username, "display_name",
                                  username, "role", role, "password", USER_PW),
                        &status));
    ck_assert_msg(status == 201 || status == 200, "invite %s: %ld", username, status);
    login(username, USER_PW, out);
}

static void signup_student(const char *username, struct lx_cred *out)
{
    json_decref(lx_expect(
        &srv, NULL, "POST", "/api/auth/signup",
        json_pack("{s:s, s:s, s:s}", "username", username, "password", USER_PW, "type", "student"),
        201));
    login(username, USER_PW, out);
}

static void start(void)
{
    memset(&srv, 0, sizeof(srv));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1); /* lianxind inherits it */
    lx_server_start(&srv, NULL);
    login("admin", ADMIN_PW, &admin);
    admit("tsinghua", UNI_NAME);
    admit("pku", "\xe5\x8c\x97\xe4\xba\xac\xe5\xa4\xa7\xe5\xad\xa6"); /* 北京大学 */
    person("tsinghua", "t.registrar", "registrar", &registrar);
    person("pku", "p.issuer", "issuer", &other_issuer);
    json_decref(lx_expect(&srv, &admin, "POST", "/api/users",
                          json_pack("{s:s, s:s, s:s, s:s}", "username", "reg.one", "node_role",
                                    "regulator", "display_name", "reg", "password", USER_PW),
                          201));
    login("reg.one", USER_PW, &regulator);
    signup_student("li.lei", &student);
    signup_student("han.meimei", &student2);
}

static void stop(void)
{
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

/* ---- issuing and verifying ------------------------------------------------------------------- */

/* The registrar issues a diploma for name (linked to account student_id, may be NULL); the
 * answer's id into id (37 bytes). Returns the answer (json_decref it). */
static json_t *issue(const char *name, const char *student_id, char *id)
{
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "org", "tsinghua", "kind", "diploma",
                  "name", name, "student_number", "2022010001", "degree", "Bachelor of Engineering",
                  "major", "Computer Science", "end_date", "2026-07-01");
    json_t *doc;

    if (student_id != NULL)
        json_object_set_new(body, "student", json_string(student_id));
    doc = lx_expect(&srv, &registrar, "POST", "/api/edu/credentials", body, 201);
    snprintf(id, 37, "%s", lx_str(doc, "id"));
    ck_assert_uint_eq(strlen(lx_str(doc, "tx_id")), 64);
    ck_assert_ptr_nonnull(strstr(lx_str(doc, "bundle_url"), id));
    return doc;
}

static json_t *bundle_of(const struct lx_cred *who, const char *id)
{
    char path[160];

    snprintf(path, sizeof(path), "/api/edu/credentials/%s/bundle", id);
    return lx_expect(&srv, who, "GET", path, NULL, 200);
}

/* POST /api/edu/verify; returns the verdict object. */
static json_t *verify_api(const json_t *bundle)
{
    return lx_expect(&srv, NULL, "POST", "/api/edu/verify", json_deep_copy(bundle), 200);
}

/* The check named name of a verdict: 1 ok, 0 failed (its detail into detail). */
static int check_ok(const json_t *verdict, const char *name, char *detail, size_t cap)
{
    const json_t *checks = json_object_get(verdict, "checks");

    for (size_t i = 0; i < json_array_size(checks); i++) {
        const json_t *c = json_array_get(checks, i);

        if (strcmp(lx_str(c, "name"), name) == 0) {
            if (detail != NULL)
                snprintf(detail, cap, "%s", lx_str(c, "detail"));
            return json_is_true(json_object_get(c, "ok"));
        }
    }
    ck_abort_msg("no check %s", name);
    return 0;
}

/* What one run of `lianxin verify` said. */
struct run {
    int status;
    char *out;
};

/* Writes bundle to a file and runs build/lianxin verify on it with the node's keys (and so its
 * revocation status). */
static void cli_verify(const json_t *bundle, struct run *r)
{
    char bin[600], dir[512], file[400], out[400];
    pid_t pid;
    int status;

    snprintf(dir, sizeof(dir), "%s", lx_env("LIANXIN_TEST_BIN"));
    snprintf(bin, sizeof(bin), "%s/lianxin", dirname(dir));
    snprintf(file, sizeof(file), "%s/bundle.json", srv.dir);
    snprintf(out, sizeof(out), "%s/verify.out", srv.dir);
    ck_assert_int_eq(json_dump_file(bundle, file, JSON_COMPACT), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (freopen(out, "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        execl(bin, bin, "verify", file, "--keys", srv.url, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    r->out = lx_read_file(out);
    ck_assert_ptr_nonnull(r->out);
}

/* Does the output hold the line "<mark> <what>:"? */
static int has_line(const struct run *r, int ok, const char *what)
{
    char want[128];

    snprintf(want, sizeof(want), "%s %s:", ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97", what);
    return strstr(r->out, want) != NULL;
}

#define ASSERT_LINE(r, ok, what)                                                                   \
    ck_assert_msg(has_line((r), (ok), (what)), "wanted %s %s in:\n%s", (ok) ? "ok" : "failed",     \
                  (what), (r)->out)

/* ---- the tests ------------------------------------------------------------------------------- */

START_TEST(issue_bundle_verify)
{
    char id[37], path[160], *text;
    json_t *doc = issue("\xe6\x9d\x8e\xe9\x9b\xb7", "li.lei", id), *bundle, *v, *vc, *list;
    struct run run;

    json_decref(doc);
    /* the student downloads the file; it carries the credential and its ledger evidence */
    bundle = bundle_of(&student, id);
    vc = json_object_get(bundle, "credential");
    ck_assert_str_eq(lx_str(json_object_get(vc, "credentialSubject"), "name"),
                     "\xe6\x9d\x8e\xe9\x9b\xb7");
    ck_assert_str_eq(lx_str(json_object_get(vc, "issuer"), "name"), UNI_NAME);
    ck_assert_str_eq(lx_str(json_object_get(vc, "proof"), "cryptosuite"), "eddsa-jcs-2022");
    ck_assert(strncmp(lx_str(json_object_get(vc, "credentialSubject"), "id"), "did:key:z6Mk", 12) ==
              0);
    ck_assert_str_eq(lx_str(json_object_get(json_object_get(bundle, "ledger"), "tx"), "module"),
                     "edu");
    /* the ledger carries no personal data */
    text = json_dumps(json_object_get(json_object_get(bundle, "ledger"), "tx"), JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, "\xe6\x9d\x8e\xe9\x9b\xb7"));
    ck_assert_ptr_null(strstr(text, "2022010001"));
    free(text);

    v = verify_api(bundle);
    ck_assert_str_eq(lx_str(v, "verdict"), "valid");
    ck_assert_uint_eq(json_array_size(json_object_get(v, "checks")), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(
            json_is_true(json_object_get(json_array_get(json_object_get(v, "checks"), i), "ok")),
            "check %zu failed", i);
    json_decref(v);

    cli_verify(bundle, &run);
    ck_assert_msg(run.status == 0, "lianxin verify exited %d:\n%s", run.status, run.out);
    ASSERT_LINE(&run, 1, "credential signature");
    ASSERT_LINE(&run, 1, "leaf hash");
    ASSERT_LINE(&run, 1, "checkpoint signature");
    ASSERT_LINE(&run, 1, "inclusion");
    ASSERT_LINE(&run, 1, "key authorisation");
    ASSERT_LINE(&run, 1, "anchored hash");
    ASSERT_LINE(&run, 1, "issuer key");
    ASSERT_LINE(&run, 1, "university");
    ASSERT_LINE(&run, 1, "revocation");
    free(run.out);

    /* public status; the registrar's list shows it as valid */
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/status", id);
    doc = lx_expect(&srv, NULL, "GET", path, NULL, 200);
    ck_assert_str_eq(lx_str(doc, "status"), "valid");
    ck_assert_str_eq(lx_str(doc, "org"), "tsinghua");
    json_decref(doc);
    list = lx_expect(&srv, &registrar, "GET", "/api/edu/credentials?org=tsinghua&q=%E6%9D%8E", NULL,
                     200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "credentials")), 1);
    ck_assert_str_eq(lx_str(json_array_get(json_object_get(list, "credentials"), 0), "status"),
                     "valid");
    json_decref(list);
    json_decref(bundle);
}
END_TEST

START_TEST(tampering_is_caught)
{
    char id[37], name[64], detail[400];
    json_t *bundle, *t, *v, *subject, *body;
    struct run run;

    json_decref(issue("Han Meimei", NULL, id));
    bundle = bundle_of(&registrar, id);

    /* one changed character of the subject: the signature check fails, the ledger holds */
    t = json_deep_copy(bundle);
    subject = json_object_get(json_object_get(t, "credential"), "credentialSubject");
    snprintf(name, sizeof(name), "%s", lx_str(subject, "name"));
    name[0] = 'J';
    json_object_set_new(subject, "name", json_string(name));
    v = verify_api(t);
    ck_assert_str_eq(lx_str(v, "verdict"), "invalid");
    ck_assert_int_eq(check_ok(v, "signature", detail, sizeof(detail)), 0);
    ck_assert_ptr_nonnull(strstr(detail, "signature does not verify"));
    json_decref(v);
    cli_verify(t, &run);
    ck_assert_int_eq(run.status, 1);
    ASSERT_LINE(&run, 0, "credential signature");
    ASSERT_LINE(&run, 1, "leaf hash");
    ASSERT_LINE(&run, 1, "inclusion");
    ck_assert_ptr_nonnull(strstr(run.out, "NOT verified"));
    free(run.out);
    json_decref(t);

    /* a changed anchored hash: the credential's signature holds, the ledger check fails */
    t = json_deep_copy(bundle);
    body = json_object_get(json_object_get(json_object_get(t, "ledger"), "tx"), "body");
    json_object_set_new(body, "hash", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    v = verify_api(t);
    ck_assert_str_eq(lx_str(v, "verdict"), "invalid");
    ck_assert_int_eq(check_ok(v, "signature", NULL, 0), 1);
    ck_assert_int_eq(check_ok(v, "anchored", detail, sizeof(detail)), 0);
    json_decref(v);
    cli_verify(t, &run);
    ck_assert_int_eq(run.status, 1);
    ASSERT_LINE(&run, 1, "credential signature");
    ASSERT_LINE(&run, 0, "leaf hash");
    ASSERT_LINE(&run, 0, "anchored hash");
    free(run.out);
    json_decref(t);

    /* a checkpoint that opened once is kept by its whole text: once the bundle has verified, the
     * same checkpoint body with one signature byte changed is still refused */
    v = verify_api(bundle);
    ck_assert_str_eq(lx_str(v, "verdict"), "valid");
    json_decref(v);
    t = json_deep_copy(bundle);
    {
        json_t *ledger = json_object_get(t, "ledger");
        char *note = strdup(lx_str(ledger, "checkpoint"));
        size_t len = strlen(note);

        ck_assert_uint_gt(len, 10);
        note[len - 4] = note[len - 4] == 'A' ? 'B' : 'A'; /* inside the last signature */
        json_object_set_new(ledger, "checkpoint", json_string(note));
        free(note);
    }
    v = verify_api(t);
    ck_assert_str_eq(lx_str(v, "verdict"), "invalid");
    ck_assert_int_eq(check_ok(v, "anchored", detail, sizeof(detail)), 0);
    ck_assert_ptr_nonnull(strstr(detail, "not signed by a validator key"));
    json_decref(v);
    json_decref(t);
    json_decref(bundle);
}
END_TEST

START_TEST(revocation)
{
    char id[37], path[160], detail[400], today[16], want[300];
    json_t *bundle, *v, *doc;
    struct run run;
    time_t now = time(NULL);

    json_decref(issue("Li Lei", "li.lei", id));
    bundle = bundle_of(&student, id);
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/revoke", id);
    /* not by another university, not by the student, not anonymously */
    lx_expect_error(&srv, &other_issuer, "POST", path,
                    json_pack("{s:s, s:s}", "org", "pku", "reason", "mistake"), 403, "not_issuer");
    lx_expect_error(&srv, &other_issuer, "POST", path,
                    json_pack("{s:s, s:s}", "org", "tsinghua", "reason", "mistake"), 403,
                    "forbidden");
    lx_expect_error(&srv, &student, "POST", path,
                    json_pack("{s:s, s:s}", "org", "tsinghua", "reason", "mistake"), 403,
                    "forbidden");
    lx_expect_error(&srv, NULL, "POST", path,
                    json_pack("{s:s, s:s}", "org", "tsinghua", "reason", "x"), 401,
                    "login_required");
    lx_expect_error(&srv, &registrar, "POST", path, json_pack("{s:s}", "org", "tsinghua"), 422,
                    "invalid_body");
    doc = lx_expect(&srv, &registrar, "POST", path,
                    json_pack("{s:s, s:s}", "org", "tsinghua", "reason", "degree withdrawn"), 200);
    ck_assert_uint_eq(strlen(lx_str(doc, "tx_id")), 64);
    json_decref(doc);
    lx_expect_error(&srv, &registrar, "POST", path,
                    json_pack("{s:s, s:s}", "org", "tsinghua", "reason", "again"), 409,
                    "already_revoked");

    /* the student's file now verifies as revoked, with date and reason */
    v = verify_api(bundle);
    ck_assert_str_eq(lx_str(v, "verdict"), "revoked");
    ck_assert_int_eq(check_ok(v, "signature", NULL, 0), 1);
    ck_assert_int_eq(check_ok(v, "anchored", NULL, 0), 1);
    ck_assert_int_eq(check_ok(v, "issuer", NULL, 0), 1);
    ck_assert_int_eq(check_ok(v, "revocation", detail, sizeof(detail)), 0);
    strftime(today, sizeof(today), "%Y-%m-%d", gmtime(&now));
    snprintf(want, sizeof(want), "revoked on %s: degree withdrawn", today);
    ck_assert_str_eq(detail, want);
    ck_assert_str_eq(lx_str(json_object_get(v, "revoked"), "reason"), "degree withdrawn");
    json_decref(v);
    cli_verify(bundle, &run);
    ck_assert_int_eq(run.status, 1);
    ASSERT_LINE(&run, 0, "revocation");
    ASSERT_LINE(&run, 1, "credential signature");
    ck_assert_ptr_nonnull(strstr(run.out, "degree withdrawn"));
    ck_assert_ptr_nonnull(strstr(run.out, "REVOKED"));
    free(run.out);
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/status", id);
    doc = lx_expect(&srv, NULL, "GET", path, NULL, 200);
    ck_assert_str_eq(lx_str(doc, "status"), "revoked");
    json_decref(doc);
    json_decref(bundle);
}
END_TEST

/* ---- key rotation ------------------------------------------------------------------------------
 */

/* Unseals tsinghua's custodial keys the way custody.c seals them; keys[0] is the oldest. */
static size_t custody(const char *principal, uint8_t (*sks)[64], size_t cap)
{
    char path[512], ci[512], *text;
    const char *params[1] = {principal};
    uint8_t key[32], sealed[128], seed[32], pk[32];
    size_t n = 0, len = 0;
    PGconn *c;
    PGresult *r;

    snprintf(path, sizeof(path), "%s/data/master.key", srv.dir);
    text = lx_read_file(path);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(sodium_base642bin(key, 32, text, strlen(text), "\n", &len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    free(text);
    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"),
             srv.dbname);
    c = PQconnectdb(ci);
    r = PQexecParams(c,
                     "SELECT encode(sealed, 'hex') FROM custody_keys WHERE principal = $1 "
                     "ORDER BY created_at",
                     1, NULL, params, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(r) && n < cap; i++, n++) {
        ck_assert_int_eq(sodium_hex2bin(sealed, sizeof(sealed), PQgetvalue(r, i, 0),
                                        strlen(PQgetvalue(r, i, 0)), NULL, &len, NULL),
                         0);
        ck_assert_int_eq(crypto_secretbox_open_easy(seed, sealed + crypto_secretbox_NONCEBYTES,
                                                    len - crypto_secretbox_NONCEBYTES, sealed, key),
                         0);
        crypto_sign_seed_keypair(pk, sks[n], seed);
    }
    PQclear(r);
    PQfinish(c);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(seed, sizeof(seed));
    return n;
}

/* A credential made here, signed with sk (its issuer the did:key of sk). New. */
static json_t *forged_vc(const uint8_t sk[64])
{
    char did[CHAIN_DIDKEY_MAX], now[32], urn[64], hex[33];
    uint8_t b[16];
    time_t t = time(NULL);
    json_t *vc;

    ck_assert_int_eq(chain_didkey_encode(sk + 32, did, sizeof(did)), 0);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    randombytes_buf(b, sizeof(b));
    sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
    hex[12] = '4'; /* a version 4 uuid */
    hex[16] = '8';
    snprintf(urn, sizeof(urn), "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
    vc =
        json_pack("{s:[s], s:s, s:[s,s], s:{s:s, s:s}, s:s, s:{s:s, s:s}}", "@context",
                  "https://www.w3.org/ns/credentials/v2", "id", urn, "type", "VerifiableCredential",
                  "DiplomaCredential", "issuer", "id", did, "name", UNI_NAME, "validFrom", now,
                  "credentialSubject", "name", "Forged Person", "studentNumber", "666");
    ck_assert_int_eq(chain_vc_sign(vc, sk, now), 0);
    return vc;
}

/* The credential.issue tx of vc signed with sk for tsinghua. New. */
static json_t *anchor_tx(const json_t *vc, const uint8_t sk[64])
{
    struct chain_note_signer k;
    uint8_t h[32];
    char b64[64];
    json_t *tx;

    ck_assert_int_eq(chain_vc_anchor_hash(vc, h), 0);
    ck_assert_int_eq(chain_b64_encode(h, 32, b64, sizeof(b64)), 0);
    ck_assert_int_eq(chain_note_signer_from_sk("tsinghua", sk, &k), 0);
    tx = lx_tx(&k, "edu", "credential.issue", "tsinghua",
               json_pack("{s:s, s:s, s:s}", "credential_id", lx_str(vc, "id"), "hash", b64, "kind",
                         "diploma"));
    sodium_memzero(&k, sizeof(k));
    return tx;
}

START_TEST(key_rotation)
{
    char id[37], id2[37], detail[400], path[160];
    uint8_t keys[4][64];
    json_t *before, *after, *v, *vc, *tx, *doc, *ledger, *forged;
    struct lx_resp r;
    struct run run;

    json_decref(issue("Before Rotation", NULL, id));
    ck_assert_uint_eq(custody("tsinghua", keys, 4), 1);
    json_decref(lx_expect(&srv, &admin, "POST", "/api/orgs/tsinghua/keys/rotate", NULL, 200));
    ck_assert_uint_eq(custody("tsinghua", keys, 4), 2); /* keys[0] revoked, keys[1] current */

    /* revoked after issuance: the earlier credential stays valid, its bundle says why */
    before = bundle_of(&registrar, id);
    v = verify_api(before);
    ck_assert_str_eq(lx_str(v, "verdict"), "valid");
    ck_assert_int_eq(check_ok(v, "issuer", detail, sizeof(detail)), 1);
    ck_assert_ptr_nonnull(strstr(detail, "after this credential"));
    json_decref(v);
    cli_verify(before, &run);
    ck_assert_msg(run.status == 0, "%s", run.out);
    ck_assert_ptr_nonnull(strstr(run.out, "revoked later"));
    free(run.out);

    /* issuing goes on with the new key */
    json_decref(issue("After Rotation", NULL, id2));
    after = bundle_of(&registrar, id2);
    ck_assert_str_ne(
        lx_str(json_object_get(json_object_get(after, "credential"), "issuer"), "id"),
        lx_str(json_object_get(json_object_get(before, "credential"), "issuer"), "id"));
    v = verify_api(after);
    ck_assert_str_eq(lx_str(v, "verdict"), "valid");
    json_decref(v);

    /* revoked before: a credential signed with the old key now cannot be anchored with it … */
    vc = forged_vc(keys[0]);
    tx = anchor_tx(vc, keys[0]);
    lx_submit(&srv, tx, &r);
    ck_assert_int_eq(r.status, 409);
    ck_assert_ptr_nonnull(strstr(r.body, "key_revoked"));
    lx_resp_free(&r);
    json_decref(tx);
    /* … and anchored with the current key it is invalid: the key is not the anchor's signer */
    tx = anchor_tx(vc, keys[1]);
    lx_submit(&srv, tx, &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    doc = json_loads(r.body, 0, NULL);
    snprintf(path, sizeof(path), "/api/chain/bundle/%s", lx_str(doc, "tx_id"));
    json_decref(doc);
    lx_resp_free(&r);
    json_decref(tx);
    ledger = lx_expect(&srv, NULL, "GET", path, NULL, 200);
    forged = json_pack("{s:O, s:o}", "credential", vc, "ledger", ledger);
    v = verify_api(forged);
    ck_assert_str_eq(lx_str(v, "verdict"), "invalid");
    ck_assert_int_eq(check_ok(v, "signature", NULL, 0), 1);
    ck_assert_int_eq(check_ok(v, "anchored", NULL, 0), 1);
    ck_assert_int_eq(check_ok(v, "issuer", detail, sizeof(detail)), 0);
    json_decref(v);
    cli_verify(forged, &run);
    ck_assert_int_eq(run.status, 1);
    ASSERT_LINE(&run, 0, "issuer key");
    ASSERT_LINE(&run, 1, "credential signature");
    free(run.out);
    sodium_memzero(keys, sizeof(keys));
    json_decref(forged);
    json_decref(vc);
    json_decref(before);
    json_decref(after);
}
END_TEST

/* ---- batch ------------------------------------------------------------------------------------
 */

/* 100 rows (lines 2..101) with the header of columns; rows at lines bad[] are broken. */
static char *csv_100(const int *bad, size_t n_bad)
{
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);

    len += (size_t)snprintf(text, cap, "\xef\xbb\xbfkind,name,student_number,major,courses\r\n");
    for (int line = 2; line <= 101; line++) {
        int broken = 0;

        for (size_t i = 0; i < n_bad; i++)
            broken |= bad[i] == line;
        if (broken && line % 3 == 0)
            len += (size_t)snprintf(text + len, cap - len, "diploma,,S%d,Physics,\r\n", line);
        else if (broken && line % 3 == 1)
            len += (size_t)snprintf(text + len, cap - len, "certificate,Name %d,S%d,Physics,\r\n",
                                    line, line);
        else if (broken)
            len +=
                (size_t)snprintf(text + len, cap - len, "transcript,Name %d,S%d\r\n", line, line);
        else if (line % 10 == 0)
            len += (size_t)snprintf(text + len, cap - len,
                                    "transcript,\"Name, %d\",S%d,Physics,\"Mechanics|4|A;"
                                    "Optics|2.5|B+\"\r\n",
                                    line, line);
        else
            len += (size_t)snprintf(text + len, cap - len, "diploma,Name %d,S%d,Physics,\r\n", line,
                                    line);
    }
    return text;
}

START_TEST(batch_all_or_nothing)
{
    static const int bad[3] = {12, 49, 101}; /* no name, unknown kind, missing fields */
    char *csv = csv_100(bad, 3);
    json_t *doc, *errors, *list;
    long status;

    /* three bad rows: their lines, nothing issued */
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua", csv,
                   "Content-Type: text/csv; charset=utf-8", &status);
    ck_assert_msg(status == 422, "%ld", status);
    ck_assert_str_eq(lx_err_code(doc), "invalid_rows");
    errors = json_object_get(doc, "errors");
    ck_assert_uint_eq(json_array_size(errors), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(errors, i), "line")),
                         bad[i]);
    ck_assert_str_eq(lx_str(json_array_get(errors, 0), "field"), "name");
    ck_assert_str_eq(lx_str(json_array_get(errors, 1), "field"), "kind");
    ck_assert_str_eq(lx_str(json_array_get(errors, 2), "field"), "line");
    ck_assert_ptr_nonnull(strstr(lx_str(json_array_get(errors, 2), "message"), "fields"));
    json_decref(doc);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_credentials", NULL), 0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_anchors", NULL), 0);

    /* a dry run says the same without issuing; valid_only issues the 97 others */
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua&dry_run=1", csv,
                   "Content-Type: text/csv", &status);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "valid")), 97);
    json_decref(doc);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_credentials", NULL), 0);
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua&valid_only=1", csv,
                   "Content-Type: text/csv", &status);
    ck_assert_msg(status == 201, "%ld", status);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "issued")), 97);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "credentials")), 97);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(doc, "credentials"), 0), "line")),
                     2);
    json_decref(doc);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_anchors WHERE org = 'tsinghua'", NULL), 97);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_anchors WHERE kind = 'transcript'", NULL),
                     10);
    list = lx_expect(&srv, &registrar, "GET", "/api/edu/credentials?org=tsinghua&limit=200", NULL,
                     200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "credentials")), 97);
    json_decref(list);
    free(csv);

    /* the wrong media type, another university, no rows, an unknown column */
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua", "kind,name\n",
                   "Content-Type: application/json", &status);
    ck_assert_int_eq(status, 415);
    json_decref(doc);
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=pku",
                   "kind,name,student_number\ndiploma,A,1\n", "Content-Type: text/csv", &status);
    ck_assert_int_eq(status, 403);
    json_decref(doc);
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua",
                   "kind,name,student_number\n", "Content-Type: text/csv", &status);
    ck_assert_int_eq(status, 400);
    json_decref(doc);
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua",
                   "kind,name,student_number,shoe_size\ndiploma,A,1,44\n", "Content-Type: text/csv",
                   &status);
    ck_assert_int_eq(status, 400);
    ck_assert_ptr_nonnull(strstr(
        json_string_value(json_object_get(json_object_get(doc, "error"), "message")), "shoe_size"));
    json_decref(doc);
}
END_TEST

START_TEST(batch_limit)
{
    size_t cap = 40 + 10001 * 32, len = 0;
    char *csv = malloc(cap);
    json_t *doc;
    long status;

    len += (size_t)snprintf(csv, cap, "kind,name,student_number\n");
    for (int i = 0; i < 10001; i++)
        len += (size_t)snprintf(csv + len, cap - len, "diploma,Student %d,%d\n", i, i);
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua", csv,
                   "Content-Type: text/csv", &status);
    ck_assert_int_eq(status, 413);
    ck_assert_str_eq(lx_err_code(doc), "batch_too_large");
    json_decref(doc);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_credentials", NULL), 0);
    free(csv);
}
END_TEST

/* ---- erasure, shares, permissions ---------------------------------------------------------------
 */

START_TEST(erase_keeps_file_valid)
{
    char id[37], path[160];
    json_t *bundle, *v, *doc;
    struct run run;

    json_decref(issue("To Be Erased", "li.lei", id));
    bundle = bundle_of(&student, id); /* the student's file */
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/erase", id);
    lx_expect_error(&srv, &other_issuer, "POST", path, json_pack("{s:s}", "org", "pku"), 403,
                    "not_issuer");
    doc = lx_expect(&srv, &registrar, "POST", path, json_pack("{s:s}", "org", "tsinghua"), 200);
    json_decref(doc);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_credentials WHERE id = $1::uuid AND "
                              "subject_name IS NULL AND student_number IS NULL AND document IS "
                              "NULL AND erased_ms IS NOT NULL",
                              id),
                     1);
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/bundle", id);
    lx_expect_error(&srv, &student, "GET", path, NULL, 410, "erased");
    v = verify_api(bundle);
    ck_assert_str_eq(lx_str(v, "verdict"), "valid");
    json_decref(v);
    cli_verify(bundle, &run);
    ck_assert_msg(run.status == 0, "%s", run.out);
    free(run.out);
    json_decref(bundle);
}
END_TEST

START_TEST(share_links)
{
    char id[37], path[200], token[128], share_id[24];
    json_t *doc, *view;

    json_decref(issue("Shared Student", "li.lei", id));
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/shares", id);
    lx_expect_error(&srv, &student2, "POST", path, json_object(), 404,
                    "not_found"); /* not theirs */
    doc = lx_expect(&srv, &student, "POST", path, json_pack("{s:i}", "expires_in_days", 7), 201);
    snprintf(token, sizeof(token), "%s", lx_str(doc, "token"));
    snprintf(share_id, sizeof(share_id), "%lld",
             (long long)json_integer_value(json_object_get(doc, "id")));
    ck_assert_ptr_nonnull(strstr(lx_str(doc, "url"), token));
    json_decref(doc);

    /* anyone with the link sees the bundle and the verdict */
    snprintf(path, sizeof(path), "/api/edu/share/%s", token);
    view = lx_expect(&srv, NULL, "GET", path, NULL, 200);
    ck_assert_str_eq(lx_str(json_object_get(view, "verification"), "verdict"), "valid");
    ck_assert_str_eq(
        lx_str(json_object_get(json_object_get(json_object_get(view, "bundle"), "credential"),
                               "credentialSubject"),
               "name"),
        "Shared Student");
    json_decref(view);
    lx_expect_error(&srv, NULL, "GET", "/api/edu/share/not-a-real-token-at-all-xxxxxxxxxxxx", NULL,
                    404, "not_found");

    /* withdrawn: gone */
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/shares/%s", id, share_id);
    json_decref(lx_expect(&srv, &student, "DELETE", path, NULL, 200));
    snprintf(path, sizeof(path), "/api/edu/share/%s", token);
    lx_expect_error(&srv, NULL, "GET", path, NULL, 410, "withdrawn");

    /* expired: gone */
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/shares", id);
    doc = lx_expect(&srv, &student, "POST", path, json_object(), 201);
    snprintf(token, sizeof(token), "%s", lx_str(doc, "token"));
    json_decref(doc);
    ck_assert_int_eq(lx_db_exec(srv.dbname, "UPDATE edu_shares SET expires_ms = 1 "
                                            "WHERE withdrawn_ms IS NULL"),
                     0);
    snprintf(path, sizeof(path), "/api/edu/share/%s", token);
    lx_expect_error(&srv, NULL, "GET", path, NULL, 410, "expired");
}
END_TEST

START_TEST(permissions)
{
    char id_li[37], id_han[37], path[160];
    json_t *list, *body;

    json_decref(issue("Li Lei", "li.lei", id_li));
    json_decref(issue("Han Meimei", "han.meimei", id_han));
    /* another university's issuer may not issue for tsinghua; nobody anonymous; no regulator */
    body = json_pack("{s:s, s:s, s:s, s:s}", "org", "tsinghua", "kind", "diploma", "name", "X",
                     "student_number", "1");
    lx_expect_error(&srv, &other_issuer, "POST", "/api/edu/credentials", json_deep_copy(body), 403,
                    "forbidden");
    lx_expect_error(&srv, NULL, "POST", "/api/edu/credentials", json_deep_copy(body), 401,
                    "login_required");
    lx_expect_error(&srv, &regulator, "POST", "/api/edu/credentials", json_deep_copy(body), 403,
                    "forbidden");
    lx_expect_error(&srv, &student, "POST", "/api/edu/credentials", body, 403, "forbidden");
    lx_expect_error(&srv, &registrar, "POST", "/api/edu/credentials",
                    json_pack("{s:s, s:s, s:s}", "org", "tsinghua", "kind", "diploma", "name", "X"),
                    422, "invalid_body");
    lx_expect_error(&srv, &registrar, "POST", "/api/edu/credentials",
                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "org", "tsinghua", "kind", "diploma",
                              "name", "X", "student_number", "1", "student", "nobody"),
                    422, "invalid_body");
    lx_expect_error(&srv, NULL, "GET", "/api/edu/credentials", NULL, 401, "login_required");

    /* a student sees their own only */
    list = lx_expect(&srv, &student, "GET", "/api/edu/credentials", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "credentials")), 1);
    ck_assert_str_eq(lx_str(json_array_get(json_object_get(list, "credentials"), 0), "id"), id_li);
    json_decref(list);
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/bundle", id_han);
    lx_expect_error(&srv, &student, "GET", path, NULL, 404, "not_found");
    lx_expect_error(&srv, &other_issuer, "GET", path, NULL, 404, "not_found");
    lx_expect_error(&srv, NULL, "GET", path, NULL, 401, "login_required");
    json_decref(bundle_of(&student2, id_han));
    json_decref(bundle_of(&regulator, id_han));
    json_decref(bundle_of(&admin, id_han));
    /* the regulator sees all; the other university none of tsinghua's */
    list = lx_expect(&srv, &regulator, "GET", "/api/edu/credentials", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "credentials")), 2);
    json_decref(list);
    list = lx_expect(&srv, &other_issuer, "GET", "/api/edu/credentials", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "credentials")), 0);
    json_decref(list);
    list = lx_expect(&srv, &other_issuer, "GET", "/api/edu/credentials?org=tsinghua", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "credentials")), 0);
    json_decref(list);
    list = lx_expect(&srv, &registrar, "GET",
                     "/api/edu/credentials?q=2022010001&kind=diploma&status=valid", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "credentials")), 2);
    json_decref(list);
}
END_TEST

#if !defined(__SANITIZE_ADDRESS__)
/* 10,000 diplomas end to end (CSV upload to committed blocks), all anchored. How fast is a
 * make bench figure (docs/BENCHMARKS.md), not a test: a loaded machine must not fail it. */
START_TEST(batch_10000)
{
    size_t cap = 64 + 10000 * 48, len = 0;
    char *csv = malloc(cap);
    json_t *doc;
    long status;
    long long t0;

    len += (size_t)snprintf(csv, cap, "kind,name,student_number,degree\n");
    for (int i = 0; i < 10000; i++)
        len +=
            (size_t)snprintf(csv + len, cap - len, "diploma,Student %d,2026%06d,Bachelor\n", i, i);
    t0 = lx_now_ms();
    doc = post_csv(&registrar, "/api/edu/credentials/batch?org=tsinghua", csv,
                   "Content-Type: text/csv", &status);
    fprintf(stderr, "batch of 10000: %lld ms\n", lx_now_ms() - t0);
    ck_assert_msg(status == 201, "%ld", status);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "issued")), 10000);
    json_decref(doc);
    ck_assert_int_eq(db_count("SELECT count(*) FROM edu_anchors", NULL), 10000);
    free(csv);
}
END_TEST
#endif

static Suite *edu_suite(void)
{
    Suite *s = suite_create("edu");
    TCase *tc = tcase_create("edu");

    tcase_add_checked_fixture(tc, start, stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, issue_bundle_verify);
    tcase_add_test(tc, tampering_is_caught);
    tcase_add_test(tc, revocation);
    tcase_add_test(tc, key_rotation);
    tcase_add_test(tc, batch_all_or_nothing);
    tcase_add_test(tc, batch_limit);
    tcase_add_test(tc, erase_keeps_file_valid);
    tcase_add_test(tc, share_links);
    tcase_add_test(tc, permissions);
#if !defined(__SANITIZE_ADDRESS__)
    tcase_add_test(tc, batch_10000);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(edu_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
