/*
 * The HTTP server against a real lianxind and a real PostgreSQL: errors, static files,
 * security headers, metrics, body limits, database outage and graceful shutdown.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct lx_server srv;

static void start(void)
{
    memset(&srv, 0, sizeof(srv));
    lx_server_start(&srv, NULL);
}

static void stop(void)
{
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

/* Asserts r is a DESIGN §3.4 error with this status and code. */
static void assert_error(const struct lx_resp *r, long status, const char *code)
{
    json_error_t e;
    json_t *doc = json_loads(r->body, 0, &e);
    char ct[128];

    ck_assert_int_eq(r->status, status);
    ck_assert_msg(doc != NULL, "error body is not JSON: %s", r->body);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "error"), "code")),
                     code);
    ck_assert_ptr_nonnull(
        json_string_value(json_object_get(json_object_get(doc, "error"), "message")));
    ck_assert_ptr_nonnull(lx_header(r, "Content-Type", ct, sizeof(ct)));
    ck_assert_str_eq(ct, "application/json");
    json_decref(doc);
}

static void assert_security_headers(const struct lx_resp *r)
{
    char v[512];

    ck_assert_ptr_nonnull(lx_header(r, "Content-Security-Policy", v, sizeof(v)));
    ck_assert_ptr_nonnull(strstr(v, "default-src 'self'"));
    ck_assert_ptr_nonnull(lx_header(r, "X-Content-Type-Options", v, sizeof(v)));
    ck_assert_str_eq(v, "nosniff");
    ck_assert_ptr_nonnull(lx_header(r, "Referrer-Policy", v, sizeof(v)));
    ck_assert_str_eq(v, "no-referrer");
    ck_assert_ptr_nonnull(lx_header(r, "X-Frame-Options", v, sizeof(v)));
    ck_assert_str_eq(v, "DENY");
}

START_TEST(health_ok)
{
    struct lx_resp r;
    json_t *doc;

    lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    doc = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "status")), "ok");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "db")), "ok");
    ck_assert(json_is_integer(json_object_get(doc, "height")));
    ck_assert(json_is_integer(json_object_get(doc, "tree_size")));
    ck_assert(json_is_false(json_object_get(doc, "demo"))); /* no demo data in a test */
    assert_security_headers(&r);
    json_decref(doc);
    lx_resp_free(&r);
}
END_TEST

START_TEST(unknown_paths_404)
{
    const char *paths[] = {"/api/nope", "/api/health/extra", "/nope.html", "/api"};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct lx_resp r;

        lx_http(&srv, "GET", paths[i], NULL, 0, NULL, &r);
        assert_error(&r, 404, "not_found");
        assert_security_headers(&r);
        lx_resp_free(&r);
    }
}
END_TEST

START_TEST(wrong_method_405)
{
    struct lx_resp r;
    char allow[64];

    lx_http(&srv, "DELETE", "/api/health", NULL, 0, NULL, &r);
    assert_error(&r, 405, "method_not_allowed");
    ck_assert_ptr_nonnull(lx_header(&r, "Allow", allow, sizeof(allow)));
    ck_assert_str_eq(allow, "GET, HEAD");
    lx_resp_free(&r);
}
END_TEST

static const char *const traversal[] = {
    "/../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/secret.txt",
    "/sub/../../secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/leak.txt",
    "/index.html%00.png",
    "/%00",
    "/.%2e/secret.txt",
    "/sub%2f..%2f..%2fsecret.txt",
};

START_TEST(traversal_404)
{
    struct lx_resp r;

    lx_http(&srv, "GET", traversal[_i], NULL, 0, NULL, &r);
    assert_error(&r, 404, "not_found");
    ck_assert_ptr_null(strstr(r.body, "do not serve"));
    lx_resp_free(&r);
}
END_TEST

START_TEST(static_files_etag_304)
{
    struct lx_resp r, again;
    char etag[80], ct[80], cc[80], inm[120];
    const char *h[2] = {inm, NULL};

    lx_http(&srv, "GET", "/app.js", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "export const x = 1;\n");
    ck_assert_str_eq(lx_header(&r, "Content-Type", ct, sizeof(ct)),
                     "text/javascript; charset=utf-8");
    ck_assert_ptr_nonnull(lx_header(&r, "ETag", etag, sizeof(etag)));
    ck_assert_ptr_nonnull(lx_header(&r, "Cache-Control", cc, sizeof(cc)));
    assert_security_headers(&r);
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    lx_http(&srv, "GET", "/app.js", NULL, 0, h, &again);
    ck_assert_int_eq(again.status, 304);
    ck_assert_uint_eq(again.len, 0);
    assert_security_headers(&again);
    lx_resp_free(&r);
    lx_resp_free(&again);
}
END_TEST

START_TEST(folders_serve_index)
{
    struct lx_resp r;
    char ct[80];

    lx_http(&srv, "GET", "/", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<title>test</title>"));
    ck_assert_str_eq(lx_header(&r, "Content-Type", ct, sizeof(ct)), "text/html; charset=utf-8");
    lx_resp_free(&r);
    lx_http(&srv, "GET", "/sub/", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "sub");
    lx_resp_free(&r);
}
END_TEST

START_TEST(metrics_text)
{
    struct lx_resp r;

    lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
    lx_resp_free(&r);
    lx_http(&srv, "GET", "/metrics", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "lianxin_http_requests_total{method=\"GET\","
                                         "route=\"/api/health\",status=\"200\"}"));
    ck_assert_ptr_nonnull(
        strstr(r.body, "lianxin_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "lianxin_db_pool_connections{state=\"idle\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "lianxin_build_info{version="));
    lx_resp_free(&r);
}
END_TEST

START_TEST(body_over_cap_413)
{
    size_t n = 16u * 1024 * 1024 + 1;
    char *big = malloc(n);
    const char *h[] = {"Content-Type: application/json", NULL};
    struct lx_resp r;

    memset(big, ' ', n);
    lx_http(&srv, "POST", "/api/chain/tx", big, n, h, &r);
    assert_error(&r, 413, "too_large");
    lx_resp_free(&r);
    free(big);
}
END_TEST

static int connect_to(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Reads until the peer closes or ms pass; returns what came. */
static void read_reply(int fd, char *buf, size_t cap, int ms)
{
    size_t have = 0;
    long long until = lx_now_ms() + ms;

    buf[0] = '\0';
    while (have + 1 < cap && lx_now_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 100) <= 0)
            continue;
        n = read(fd, buf + have, cap - have - 1);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n") && strstr(buf, "}"))
            break;
    }
}

START_TEST(declared_length_over_cap_413_unread)
{
    /* The body is never sent: the answer must come from the headers alone. */
    static const char req[] = "POST /api/chain/tx HTTP/1.1\r\nHost: t\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 16777217\r\n\r\n";
    char buf[2048];
    int fd = connect_to(srv.port);

    ck_assert_int_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    read_reply(fd, buf, sizeof(buf), 3000);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 413", 12) == 0, "got: %s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "\"too_large\""));
    close(fd);
}
END_TEST

START_TEST(wrong_content_type_415)
{
    const char *h[] = {"Content-Type: text/plain", NULL};
    struct lx_resp r;

    lx_http(&srv, "POST", "/api/chain/tx", "{}", 2, h, &r);
    assert_error(&r, 415, "unsupported_media_type");
    lx_resp_free(&r);
}
END_TEST

START_TEST(access_log_line)
{
    struct lx_resp r;
    char *log;

    lx_http(&srv, "GET", "/api/health?probe=1", NULL, 0, NULL, &r);
    lx_resp_free(&r);
    usleep(100000);
    log = lx_read_file(srv.log);
    ck_assert_ptr_nonnull(log);
    /* time, client, method, path, status, bytes, microseconds */
    ck_assert_msg(strstr(log, " 127.0.0.1 GET /api/health 200 ") != NULL, "log: %s", log);
    ck_assert_ptr_nonnull(strstr(log, "us\n"));
    free(log);
}
END_TEST

/* ---- outage and shutdown, each on a server of its own ---------------------------------- */

static int pg(const char *cmd)
{
    char line[1024];

    snprintf(line, sizeof(line), "%s %s %s >/dev/null 2>&1", lx_env("LIANXIN_TEST_PG"), cmd,
             lx_env("LIANXIN_TEST_PGBASE"));
    return system(line);
}

START_TEST(database_outage_503_then_recovers)
{
    struct lx_resp r;
    json_t *doc;
    long long t0;

    lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    lx_resp_free(&r);
    ck_assert_int_eq(pg("stop"), 0);
    lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 503);
    doc = json_loads(r.body, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "db")), "down");
    json_decref(doc);
    lx_resp_free(&r);
    ck_assert_int_eq(pg("start"), 0);
    t0 = lx_now_ms();
    for (;;) {
        lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
        if (r.status == 200 || lx_now_ms() - t0 > 5000)
            break;
        lx_resp_free(&r);
        usleep(100000);
    }
    ck_assert_msg(r.status == 200, "still %ld after 5 s: %s", r.status, r.body);
    lx_resp_free(&r);
}
END_TEST

START_TEST(sigterm_finishes_request_in_flight)
{
    /* Headers and half a body now, SIGTERM, the other half later: the request must be
     * answered and lianxind must then exit 0. */
    static const char head[] = "POST /api/chain/tx HTTP/1.1\r\nHost: t\r\n"
                               "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"
                               "{\"a\":";
    char buf[4096];
    int fd = connect_to(srv.port), status;
    pid_t pid = srv.pid;

    ck_assert_int_eq(write(fd, head, sizeof(head) - 1), (ssize_t)sizeof(head) - 1);
    usleep(300000);
    kill(pid, SIGTERM);
    usleep(500000);
    ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0); /* still draining */
    ck_assert_int_eq(write(fd, "true}", 5), 5);
    read_reply(fd, buf, sizeof(buf), 5000);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 ", 9) == 0, "no answer: '%s'", buf);
    close(fd);
    ck_assert_int_eq(lx_server_stop(&srv), 0); /* already exiting; collects the status */
}
END_TEST

/* ---- start-up refusals ------------------------------------------------------------------ */

/* Runs lianxind with a shell prefix (environment) and arguments; returns its exit status and
 * its output in out. */
static int run_lianxind(const char *prefix, const char *args, char *out, size_t cap)
{
    char cmd[2048];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd), "%s %s %s 2>&1", prefix, lx_env("LIANXIN_TEST_BIN"), args);
    p = popen(cmd, "r");
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(invalid_config_stops_startup)
{
    char out[1024];

    ck_assert_int_eq(run_lianxind("LIANXIN_LISTEN=8080", "", out, sizeof(out)), 2);
    ck_assert_ptr_nonnull(strstr(out, "LIANXIN_LISTEN"));
    ck_assert_int_eq(strchr(out, '\n') - out, (long)strlen(out) - 1); /* one line */
    ck_assert_int_eq(run_lianxind("", "--max-body 12x", out, sizeof(out)), 2);
    ck_assert_ptr_nonnull(strstr(out, "--max-body"));
    ck_assert_int_eq(run_lianxind("", "--help", out, sizeof(out)), 0);
    ck_assert_ptr_nonnull(strstr(out, "LIANXIN_WEB"));
}
END_TEST

START_TEST(migrations_recorded_and_newer_schema_refused)
{
    char db[64], args[600], out[2048];
    char ci[512];

    lx_db_create(db, sizeof(db));
    snprintf(ci, sizeof(ci), "host=%s dbname=%s user=lianxin", lx_env("LIANXIN_TEST_PGHOST"), db);
    snprintf(args, sizeof(args), "migrate --db '%s'", ci);
    ck_assert_int_eq(run_lianxind("", args, out, sizeof(out)), 0);
    ck_assert_int_eq(lx_db_exec(db, "SELECT 1 FROM schema_migrations WHERE version = 1"), 0);
    ck_assert_int_eq(run_lianxind("", args, out, sizeof(out)), 0); /* idempotent */
    ck_assert_int_eq(lx_db_exec(db, "INSERT INTO schema_migrations (version, name) "
                                    "VALUES (999, '999_future.sql')"),
                     0);
    ck_assert_int_ne(run_lianxind("", args, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "newer than this lianxind") != NULL, "said: %s", out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *basic = tcase_create("basic"), *outage = tcase_create("outage");
    TCase *shutdown = tcase_create("shutdown"), *startup = tcase_create("startup");
    SRunner *sr;
    int failed;

    tcase_set_timeout(basic, 60);
    tcase_add_unchecked_fixture(basic, start, stop);
    tcase_add_test(basic, health_ok);
    tcase_add_test(basic, unknown_paths_404);
    tcase_add_test(basic, wrong_method_405);
    tcase_add_loop_test(basic, traversal_404, 0, sizeof(traversal) / sizeof(traversal[0]));
    tcase_add_test(basic, static_files_etag_304);
    tcase_add_test(basic, folders_serve_index);
    tcase_add_test(basic, metrics_text);
    tcase_add_test(basic, body_over_cap_413);
    tcase_add_test(basic, declared_length_over_cap_413_unread);
    tcase_add_test(basic, wrong_content_type_415);
    tcase_add_test(basic, access_log_line);
    suite_add_tcase(s, basic);

    tcase_set_timeout(outage, 60);
    tcase_add_unchecked_fixture(outage, start, stop);
    tcase_add_test(outage, database_outage_503_then_recovers);
    suite_add_tcase(s, outage);

    tcase_set_timeout(shutdown, 60);
    tcase_add_checked_fixture(shutdown, start, NULL);
    tcase_add_test(shutdown, sigterm_finishes_request_in_flight);
    suite_add_tcase(s, shutdown);

    tcase_set_timeout(startup, 60);
    tcase_add_test(startup, invalid_config_stops_startup);
    tcase_add_test(startup, migrations_recorded_and_newer_schema_refused);
    suite_add_tcase(s, startup);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
