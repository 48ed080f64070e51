/*
 * The evidence module through a real lianxind (modules/evidence/): a clerk opens a case and
 * preserves a file's hash; the certificate verifies with `lianxin verify CERT --file ORIGINAL`
 * and fails at the file-hash check with another file; custody events follow their order and
 * nothing follows destruction (409); a lawyer of another firm gets 403 on the case; public
 * verification says when and by which institution, and nothing of the case; 10,000 machine
 * anchors in one request with an API token each get their tx id.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <check.h>
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW "admin-password-for-the-tests"
#define USER_PW  "user-password-42"

static struct lx_server srv;
static struct lx_cred admin, clerk, lawyer, other_lawyer, regulator;

static void login(const char *user, struct lx_cred *out)
{
    long status = lx_login(&srv, user, USER_PW, out);

    ck_assert_msg(status == 200, "login %s: %ld", user, status);
}

static void admit(const char *id, const char *name, const char *type)
{
    json_decref(lx_expect(&srv, &admin, "POST", "/api/orgs",
                          json_pack("{s:s, s:s, s:s}", "id", id, "name", name, "type", type), 201));
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
    if (out != NULL)
        login(username, out);
}

static void start(void)
{
    memset(&srv, 0, sizeof(srv));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1);
    lx_server_start(&srv, NULL);
    ck_assert_int_eq(lx_login(&srv, "admin", ADMIN_PW, &admin), 200);
    admit("bj-court",
          "\xe5\x8c\x97\xe4\xba\xac\xe4\xba\x92\xe8\x81\x94\xe7\xbd\x91\xe6\xb3\x95"
          "\xe9\x99\xa2",
          "court"); /* 北京互联网法院 */
    admit("firm-a", "Firm A", "law_firm");
    admit("firm-b", "Firm B", "law_firm");
    person("bj-court", "c.clerk", "clerk", &clerk);
    person("firm-a", "a.lawyer", "member", &lawyer);
    person("firm-b", "b.lawyer", "member", &other_lawyer);
    json_decref(lx_expect(&srv, &admin, "POST", "/api/users",
                          json_pack("{s:s, s:s, s:s, s:s}", "username", "reg.one", "node_role",
                                    "regulator", "display_name", "reg", "password", USER_PW),
                          201));
    login("reg.one", &regulator);
}

static void stop(void)
{
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

/* Writes len bytes of text to a file in the server's folder; its SHA-256 hex into hex. */
static void make_file(const char *name, const char *text, char *path, size_t cap, char hex[65])
{
    unsigned char h[32];
    FILE *f;

    snprintf(path, cap, "%s/%s", srv.dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* Opens a case at bj-court, grants it to a.lawyer; its id into id (37 bytes). */
static void open_case(const char *number, char *id)
{
    char path[128];
    json_t *doc =
        lx_expect(&srv, &clerk, "POST", "/api/evidence/cases",
                  json_pack("{s:s, s:s, s:s, s:[s, s]}", "org", "bj-court", "number", number,
                            "title", "Zhang v. Li (contract)", "parties", "Zhang San", "Li Si"),
                  201);

    snprintf(id, 37, "%s", lx_str(doc, "id"));
    json_decref(doc);
    snprintf(path, sizeof(path), "/api/evidence/cases/%s/grants", id);
    json_decref(lx_expect(&srv, &clerk, "POST", path,
                          json_pack("{s:s, s:s}", "username", "a.lawyer", "party", "Zhang San"),
                          201));
}

/* Preserves hex in case as who; returns the answer (json_decref it). */
static json_t *preserve(const struct lx_cred *who, const char *case_id, const char *hex,
                        const char *title, long want)
{
    return lx_expect(&srv, who, "POST", "/api/evidence/items",
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s}", "case",
                               case_id, "sha256", hex, "title", title, "kind", "chat_log",
                               "original_name", "chat.txt", "size", (json_int_t)42, "mime",
                               "text/plain", "captured_ms", (json_int_t)1790000000000,
                               "capture_method", "screen recording", "description",
                               "WeChat messages of Zhang San"),
                     want);
}

struct run {
    int status;
    char *out;
};

/* Runs build/lianxin verify CERT --keys URL [--file FILE]. */
static void cli_verify(const json_t *cert, const char *file, struct run *r)
{
    char bin[600], dir[512], path[400], out[400];
    pid_t pid;
    int status;

    snprintf(dir, sizeof(dir), "%s", lx_env("LIANXIN_TEST_BIN"));
    snprintf(bin, sizeof(bin), "%s/lianxin", dirname(dir));
    snprintf(path, sizeof(path), "%s/cert.json", srv.dir);
    snprintf(out, sizeof(out), "%s/verify.out", srv.dir);
    ck_assert_int_eq(json_dump_file(cert, path, JSON_COMPACT), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (freopen(out, "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        if (file != NULL)
            execl(bin, bin, "verify", path, "--keys", srv.url, "--file", file, (char *)NULL);
        else
            execl(bin, bin, "verify", path, "--keys", srv.url, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    r->out = lx_read_file(out);
    ck_assert_ptr_nonnull(r->out);
}

static int has_line(const struct run *r, int ok, const char *what)
{
    char want[128];

    snprintf(want, sizeof(want), "%s %s:", ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97", what);
    return strstr(r->out, want) != NULL;
}

#define ASSERT_LINE(r, ok, what)                                                                   \
    ck_assert_msg(has_line((r), (ok), (what)), "wanted %s %s in:\n%s", (ok) ? "ok" : "failed",     \
                  (what), (r)->out)

static void custody(const struct lx_cred *who, const char *item, json_t *body, long want,
                    const char *code)
{
    char path[160];
    json_t *doc;

    snprintf(path, sizeof(path), "/api/evidence/items/%s/custody", item);
    doc = lx_expect(&srv, who, "POST", path, body, want);
    if (code != NULL)
        ck_assert_str_eq(lx_err_code(doc), code);
    json_decref(doc);
}

/* ---- the tests ------------------------------------------------------------------------------ */

START_TEST(preserve_certificate_verify)
{
    char case_id[37], id[37], file[400], other[400], hex[65], hex2[65], path[160];
    json_t *doc, *cert, *item;
    struct run run;
    char *text;

    open_case("(2026)\xe4\xba\xac"
              "0491\xe6\xb0\x91\xe5\x88\x9d"
              "1\xe5\x8f\xb7",
              case_id);
    make_file("chat.txt", "Zhang: pay me back by Friday.\nLi: OK.\n", file, sizeof(file), hex);
    make_file("forged.txt", "Zhang: pay me back by Friday.\nLi: no.\n", other, sizeof(other), hex2);
    doc = preserve(&clerk, case_id, hex, "WeChat chat", 201);
    snprintf(id, sizeof(id), "%s", lx_str(doc, "id"));
    ck_assert_uint_eq(strlen(lx_str(doc, "tx_id")), 64);
    ck_assert_ptr_nonnull(strstr(lx_str(doc, "certificate_url"), id));
    json_decref(doc);

    /* the ledger carries the hash, not the case */
    snprintf(path, sizeof(path), "/api/evidence/items/%s", id);
    item = lx_expect(&srv, &clerk, "GET", path, NULL, 200);
    ck_assert_str_eq(lx_str(item, "sha256"), hex);
    ck_assert_str_eq(lx_str(item, "state"), "preserved");
    json_decref(item);

    custody(&clerk, id, json_pack("{s:s}", "event", "collected"), 201, NULL);
    custody(&clerk, id, json_pack("{s:s}", "event", "sealed"), 201, NULL);
    custody(&lawyer, id,
            json_pack("{s:s, s:s, s:s}", "event", "transferred", "from", "court evidence room",
                      "to", "forensic lab"),
            201, NULL);

    snprintf(path, sizeof(path), "/api/evidence/items/%s/certificate", id);
    cert = lx_expect(&srv, &lawyer, "GET", path, NULL, 200);
    ck_assert_str_eq(lx_str(cert, "type"), "LianxinEvidenceCertificate");
    ck_assert_str_eq(lx_str(cert, "sha256"), hex);
    ck_assert_str_eq(lx_str(json_object_get(cert, "institution"), "id"), "bj-court");
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(cert, "ledger"), "custody")),
                      3);
    text =
        json_dumps(json_object_get(json_object_get(json_object_get(cert, "ledger"), "item"), "tx"),
                   JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, "Zhang"));
    ck_assert_ptr_null(strstr(text, case_id));
    free(text);

    cli_verify(cert, file, &run);
    ck_assert_msg(run.status == 0, "lianxin verify exited %d:\n%s", run.status, run.out);
    ASSERT_LINE(&run, 1, "file hash");
    ASSERT_LINE(&run, 1, "evidence record");
    ASSERT_LINE(&run, 1, "custody chain");
    ASSERT_LINE(&run, 1, "inclusion");
    free(run.out);

    cli_verify(cert, other, &run);
    ck_assert_msg(run.status == 1, "lianxin verify of another file exited %d:\n%s", run.status,
                  run.out);
    ASSERT_LINE(&run, 0, "file hash");
    ASSERT_LINE(&run, 1, "evidence record");
    free(run.out);

    /* a certificate whose hash was changed fails at the record check */
    json_object_set_new(cert, "sha256", json_string(hex2));
    cli_verify(cert, other, &run);
    ck_assert_int_eq(run.status, 1);
    ASSERT_LINE(&run, 0, "evidence record");
    free(run.out);
    json_decref(cert);
}
END_TEST

START_TEST(custody_order)
{
    char case_id[37], id[37], file[400], hex[65], path[160], report[65];
    json_t *doc;

    open_case("C-2", case_id);
    make_file("photo.jpg", "not really a jpeg", file, sizeof(file), hex);
    doc = preserve(&lawyer, case_id, hex, "photo", 201);
    snprintf(id, sizeof(id), "%s", lx_str(doc, "id"));
    json_decref(doc);
    memset(report, 'a', 64);
    report[64] = '\0';

    /* returned needs a hand-over first; collected comes first or never */
    custody(&clerk, id, json_pack("{s:s}", "event", "returned"), 409, "invalid_transition");
    custody(&clerk, id, json_pack("{s:s}", "event", "collected"), 201, NULL);
    custody(&clerk, id, json_pack("{s:s}", "event", "collected"), 409, "invalid_transition");
    custody(&clerk, id, json_pack("{s:s}", "event", "examined"), 422, "invalid_body");
    custody(&clerk, id, json_pack("{s:s, s:s}", "event", "examined", "report_sha256", report), 201,
            NULL);
    custody(&clerk, id, json_pack("{s:s}", "event", "presented"), 201, NULL);
    custody(&clerk, id, json_pack("{s:s}", "event", "returned"), 201, NULL);
    custody(&clerk, id, json_pack("{s:s}", "event", "destroyed"), 201, NULL);
    custody(&clerk, id, json_pack("{s:s}", "event", "sealed"), 409, "item_destroyed");
    custody(&lawyer, id,
            json_pack("{s:s, s:s, s:s}", "event", "transferred", "from", "x", "to", "y"), 409,
            "item_destroyed");

    snprintf(path, sizeof(path), "/api/evidence/items/%s", id);
    doc = lx_expect(&srv, &regulator, "GET", path, NULL, 200);
    ck_assert_str_eq(lx_str(doc, "state"), "destroyed");
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "custody")), 5);
    ck_assert_str_eq(lx_str(json_array_get(json_object_get(doc, "custody"), 1), "report_sha256"),
                     report);
    json_decref(doc);
}
END_TEST

START_TEST(who_may_do_what)
{
    char case_id[37], id[37], file[400], hex[65], path[160];
    json_t *doc;
    long status;

    open_case("C-3", case_id);
    make_file("mail.eml", "From: a\n\nhello", file, sizeof(file), hex);
    doc = preserve(&clerk, case_id, hex, "mail", 201);
    snprintf(id, sizeof(id), "%s", lx_str(doc, "id"));
    json_decref(doc);

    /* another firm's lawyer: 403 on the case, its items, its certificate; not in lists */
    snprintf(path, sizeof(path), "/api/evidence/cases/%s", case_id);
    doc = lx_expect(&srv, &other_lawyer, "GET", path, NULL, 403);
    json_decref(doc);
    json_decref(preserve(&other_lawyer, case_id, hex, "intruder", 403));
    snprintf(path, sizeof(path), "/api/evidence/items/%s/certificate", id);
    json_decref(lx_expect(&srv, &other_lawyer, "GET", path, NULL, 403));
    custody(&other_lawyer, id, json_pack("{s:s}", "event", "collected"), 403, NULL);
    doc = lx_expect(&srv, &other_lawyer, "GET", "/api/evidence/cases", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "cases")), 0);
    json_decref(doc);
    doc = lx_expect(&srv, &other_lawyer, "GET", "/api/evidence/items", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "items")), 0);
    json_decref(doc);

    /* the granted lawyer and the regulator see it; the regulator may not write */
    snprintf(path, sizeof(path), "/api/evidence/cases/%s", case_id);
    doc = lx_expect(&srv, &lawyer, "GET", path, NULL, 200);
    ck_assert(json_is_true(json_object_get(doc, "may_write")));
    ck_assert_str_eq(lx_str(json_array_get(json_object_get(doc, "grants"), 0), "org"), "firm-a");
    json_decref(doc);
    doc = lx_expect(&srv, &regulator, "GET", path, NULL, 200);
    ck_assert(json_is_false(json_object_get(doc, "may_write")));
    json_decref(doc);
    json_decref(preserve(&regulator, case_id, hex, "regulator", 403));
    doc = lx_expect(&srv, &regulator, "GET", "/api/evidence/cases", NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "cases")), 1);
    json_decref(doc);

    /* search by kind and case */
    snprintf(path, sizeof(path), "/api/evidence/items?case=%s&kind=chat_log", case_id);
    doc = lx_expect(&srv, &lawyer, "GET", path, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "items")), 1);
    json_decref(doc);
    snprintf(path, sizeof(path), "/api/evidence/items?case=%s&kind=video", case_id);
    doc = lx_expect(&srv, &lawyer, "GET", path, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "items")), 0);
    json_decref(doc);

    /* only the court grants; a grantee must be in a law firm or notary office */
    snprintf(path, sizeof(path), "/api/evidence/cases/%s/grants", case_id);
    json_decref(
        lx_expect(&srv, &lawyer, "POST", path, json_pack("{s:s}", "username", "b.lawyer"), 403));
    doc = lx_call(&srv, &clerk, "POST", path, json_pack("{s:s}", "username", "reg.one"), &status);
    ck_assert_int_eq(status, 422);
    ck_assert_str_eq(lx_err_code(doc), "not_a_lawyer_or_notary");
    json_decref(doc);
    /* a lawyer cannot open a case */
    doc = lx_call(&srv, &lawyer, "POST", "/api/evidence/cases",
                  json_pack("{s:s, s:s, s:s}", "org", "bj-court", "number", "X", "title", "X"),
                  &status);
    ck_assert_int_eq(status, 403);
    json_decref(doc);
}
END_TEST

START_TEST(public_verify)
{
    char case_id[37], id[37], file[400], hex[65], number[40];
    json_t *doc;
    char *text;

    /* a number no certificate number can hold by chance (they are hex digits and dashes) */
    open_case("CASE-NUMBER-4", case_id);
    make_file("log.txt", "device log line 1\n", file, sizeof(file), hex);
    doc = preserve(&clerk, case_id, hex, "secret title of the case", 201);
    snprintf(id, sizeof(id), "%s", lx_str(doc, "id"));
    snprintf(number, sizeof(number), "%s", lx_str(doc, "certificate_number"));
    json_decref(doc);

    doc = lx_expect(&srv, NULL, "POST", "/api/evidence/verify", json_pack("{s:s}", "sha256", hex),
                    200);
    ck_assert(json_is_true(json_object_get(doc, "found")));
    ck_assert_int_gt(json_integer_value(json_object_get(doc, "preserved_ms")), 1700000000000);
    ck_assert_str_eq(lx_str(json_object_get(doc, "institution"), "id"), "bj-court");
    ck_assert_str_eq(lx_str(doc, "certificate_number"), number);
    text = json_dumps(doc, JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, "case"));
    ck_assert_ptr_null(strstr(text, "CASE-NUMBER-4"));
    ck_assert_ptr_null(strstr(text, "secret"));
    ck_assert_ptr_null(strstr(text, id));
    ck_assert_ptr_null(strstr(text, "Zhang"));
    free(text);
    json_decref(doc);

    memset(hex, 'b', 64);
    doc = lx_expect(&srv, NULL, "POST", "/api/evidence/verify", json_pack("{s:s}", "sha256", hex),
                    200);
    ck_assert(json_is_false(json_object_get(doc, "found")));
    json_decref(doc);
    json_decref(lx_expect(&srv, NULL, "POST", "/api/evidence/verify",
                          json_pack("{s:s}", "sha256", "xyz"), 422));
}
END_TEST

/* An API token of bj-court (made by its org_admin) into out->bearer. */
static void token(struct lx_cred *out)
{
    struct lx_cred org_admin;
    json_t *doc;

    person("bj-court", "c.admin", "org_admin", &org_admin);
    doc = lx_expect(&srv, &org_admin, "POST", "/api/auth/tokens",
                    json_pack("{s:s, s:s, s:s, s:I}", "name", "capture-system", "org", "bj-court",
                              "role", "clerk", "expires", (json_int_t)(time(NULL) + 3600) * 1000),
                    201);
    memset(out, 0, sizeof(*out));
    snprintf(out->user, sizeof(out->user), "token");
    snprintf(out->bearer, sizeof(out->bearer), "%s", lx_str(doc, "token"));
    json_decref(doc);
}

START_TEST(anchors_10000)
{
    size_t n = 10000;
    json_t *list = json_array(), *doc, *answers;
    struct lx_cred tok;
    char hex[65];
    long long t0;

    token(&tok);
    for (size_t i = 0; i < n; i++) {
        unsigned char h[32];
        char label[32];

        /* the first label carries COPY's escape character and Chinese text */
        snprintf(label, sizeof(label), i == 0 ? "卷宗\\第 %zu 号" : "op-log %zu", i);
        crypto_hash_sha256(h, (const unsigned char *)label, strlen(label));
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        json_array_append_new(list, json_pack("{s:s, s:s}", "sha256", hex, "label", label));
    }
    t0 = lx_now_ms();
    doc = lx_expect(&srv, &tok, "POST", "/api/evidence/anchors",
                    json_pack("{s:s, s:o}", "org", "bj-court", "anchors", list), 201);
    fprintf(stderr, "10000 anchors: %lld ms\n", lx_now_ms() - t0);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "accepted")), (json_int_t)n);
    answers = json_object_get(doc, "anchors");
    ck_assert_uint_eq(json_array_size(answers), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(strlen(lx_str(json_array_get(answers, i), "tx_id")), 64);
    json_decref(doc);
    {
        char *count = lx_db_value(srv.dbname, "SELECT count(*) FROM evidence_anchors", 0, NULL);

        ck_assert_str_eq(count, "10000");
        free(count);
        count =
            lx_db_value(srv.dbname,
                        "SELECT label || '|' || org FROM evidence_anchors WHERE leaf_index = "
                        "(SELECT min(leaf_index) FROM evidence_anchors WHERE label LIKE '卷宗%')",
                        0, NULL);
        ck_assert_str_eq(count, "卷宗\\第 0 号|bj-court");
        free(count);
    }
    /* the last one is publicly verifiable */
    doc = lx_expect(&srv, NULL, "POST", "/api/evidence/verify", json_pack("{s:s}", "sha256", hex),
                    200);
    ck_assert(json_is_true(json_object_get(doc, "found")));
    ck_assert_str_eq(lx_str(json_array_get(json_object_get(doc, "records"), 0), "type"), "anchor");
    json_decref(doc);
    /* over the limit */
    list = json_array();
    for (size_t i = 0; i < 10001; i++)
        json_array_append_new(list, json_pack("{s:s}", "sha256", hex));
    json_decref(lx_expect(&srv, &tok, "POST", "/api/evidence/anchors",
                          json_pack("{s:s, s:o}", "org", "bj-court", "anchors", list), 413));
}
END_TEST

/* lianxind's resident memory in KiB (VmRSS). */
static long rss_kib(void)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)srv.pid);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    fclose(f);
    return kib;
}

/* POSTs len raw bytes to path as who (a session); returns the answer, status in *status. */
static json_t *post_raw(const struct lx_cred *who, const char *path, const char *data, size_t len,
                        long *status)
{
    char cookie[128], csrf[128];
    const char *h[4] = {"Content-Type: application/octet-stream", cookie, csrf, NULL};
    struct lx_resp r;
    json_t *doc;

    snprintf(cookie, sizeof(cookie), "Cookie: lx_session=%s", who->cookie);
    snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", who->csrf);
    lx_http(&srv, "POST", path, data, len, h, &r);
    *status = r.status;
    doc = json_loads(r.body, 0, NULL);
    ck_assert_msg(doc != NULL, "POST %s: %ld, not JSON: %.300s", path, r.status, r.body);
    lx_resp_free(&r);
    return doc;
}

/* A 100 MiB file (8 MiB under ASan) uploaded as the stored copy: the server's memory grows by less
 * than 32 MiB; the download gives the same bytes and is in the audit log; a corrupted or longer
 * upload is refused and leaves the stored copy as it was. */
START_TEST(stored_copy)
{
#if defined(__SANITIZE_ADDRESS__)
    size_t len = 8u << 20; /* sanitized code is slow; memory is not measured there */
#else
    size_t len = 100u << 20;
#endif
    char *data = malloc(len), case_id[37], id[37], hex[65], path[160], *v;
    unsigned char h[32];
    json_t *doc;
    long status, before, after;
    struct lx_resp r;

    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)((i * 2654435761u) >> 13);
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    open_case("C-5", case_id);
    doc = lx_expect(&srv, &clerk, "POST", "/api/evidence/items",
                    json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "case", case_id, "sha256", hex,
                              "title", "hearing video", "kind", "video", "size", (json_int_t)len,
                              "mime", "video/mp4"),
                    201);
    snprintf(id, sizeof(id), "%s", lx_str(doc, "id"));
    json_decref(doc);
    snprintf(path, sizeof(path), "/api/evidence/items/%s/copy", id);

    /* no copy yet; another firm's lawyer may not upload */
    json_decref(lx_expect(&srv, &clerk, "GET", path, NULL, 404));
    json_decref(post_raw(&other_lawyer, path, data, 1000, &status));
    ck_assert_int_eq(status, 403);

    before = rss_kib();
    doc = post_raw(&lawyer, path, data, len, &status);
    after = rss_kib();
    ck_assert_msg(status == 201, "upload: %ld", status);
    ck_assert_str_eq(lx_str(doc, "sha256"), hex);
    json_decref(doc);
    fprintf(stderr, "stored copy of %zu MiB: RSS %ld -> %ld KiB\n", len >> 20, before, after);
#if !defined(__SANITIZE_ADDRESS__)
    ck_assert_int_lt(after - before, 32 * 1024);
#endif
    /* encrypted at rest: the file on disk is not the plain bytes */
    {
        char file[600];
        char *head;
        FILE *f;

        snprintf(file, sizeof(file), "%s/data/evidence/%s.enc", srv.dir, id);
        f = fopen(file, "rb");
        ck_assert_msg(f != NULL, "no stored file under %s", srv.dir);
        head = malloc(4096);
        ck_assert_uint_eq(fread(head, 1, 4096, f), 4096);
        ck_assert(memcmp(head + 24, data, 1024) != 0);
        free(head);
        fclose(f);
    }

    /* one byte changed: refused, and the stored copy stays */
    data[len / 2] ^= 1;
    doc = post_raw(&clerk, path, data, len, &status);
    ck_assert_int_eq(status, 422);
    ck_assert_str_eq(lx_err_code(doc), "hash_mismatch");
    json_decref(doc);
    data[len / 2] ^= 1;
    doc = post_raw(&clerk, path, data, 4096, &status); /* too short */
    ck_assert_int_eq(status, 422);
    json_decref(doc);

    lx_http_as(&srv, &regulator, "GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, len);
    ck_assert(memcmp(r.body, data, len) == 0);
    lx_resp_free(&r);

    /* the download is in the audit log */
    for (int i = 0; i < 50; i++) {
        const char *p[1] = {path};

        v = lx_db_value(srv.dbname,
                        "SELECT count(*) FROM audit_log WHERE method = 'GET' AND target = $1 "
                        "AND username = 'reg.one' AND status = 200",
                        1, p);
        if (strcmp(v, "1") == 0)
            break;
        free(v);
        v = NULL;
        usleep(100 * 1000);
    }
    ck_assert_msg(v != NULL, "the download is not in the audit log");
    free(v);
    free(data);
}
END_TEST

static Suite *evidence_suite(void)
{
    Suite *s = suite_create("evidence");
    TCase *tc = tcase_create("evidence");

    tcase_add_checked_fixture(tc, start, stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, preserve_certificate_verify);
    tcase_add_test(tc, custody_order);
    tcase_add_test(tc, who_may_do_what);
    tcase_add_test(tc, public_verify);
    tcase_add_test(tc, anchors_10000);
    tcase_add_test(tc, stored_copy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    sr = srunner_create(evidence_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
