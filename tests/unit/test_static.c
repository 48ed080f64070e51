/* Static files: MIME types, path normalisation (traversal), ETags, and opening under a root
 * with symlinks that try to leave it. */
#define _DEFAULT_SOURCE
#include "../../server/static.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(mime_types)
{
    ck_assert_str_eq(srv_mime_type("index.html"), "text/html; charset=utf-8");
    ck_assert_str_eq(srv_mime_type("a/b/app.js"), "text/javascript; charset=utf-8");
    ck_assert_str_eq(srv_mime_type("x.mjs"), "text/javascript; charset=utf-8");
    ck_assert_str_eq(srv_mime_type("style.CSS"), "text/css; charset=utf-8");
    ck_assert_str_eq(srv_mime_type("logo.svg"), "image/svg+xml");
    ck_assert_str_eq(srv_mime_type("p.png"), "image/png");
    ck_assert_str_eq(srv_mime_type("f.woff2"), "font/woff2");
    ck_assert_str_eq(srv_mime_type("data.json"), "application/json");
    ck_assert_str_eq(srv_mime_type("README"), "application/octet-stream");
    ck_assert_str_eq(srv_mime_type("dir.d/README"), "application/octet-stream");
    ck_assert_str_eq(srv_mime_type("x.exe"), "application/octet-stream");
}
END_TEST

START_TEST(normalize_accepts)
{
    char out[256];

    ck_assert_int_eq(srv_static_normalize("/", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(srv_static_normalize("/index.html", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "index.html");
    ck_assert_int_eq(srv_static_normalize("/edu/", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "edu/");
    ck_assert_int_eq(srv_static_normalize("/vendor/qr.min.js", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "vendor/qr.min.js");
    ck_assert_int_eq(srv_static_normalize("/a..b/c", out, sizeof(out)), 0); /* dots inside */
}
END_TEST

static const char *const traversal[] = {
    "/..",
    "/../etc/passwd",
    "/a/../../etc/passwd",
    "/a/..",
    "/./index.html",
    "/a/./b",
    "/.git/config",
    "/.env",
    "//etc/passwd",
    "/a//b",
    "/a\\..\\b",
    "/index.html\x01.png", /* %00 arrives as 0x01 from the unescape callback */
    "/a\nb",
    "/a\x7f",
    "relative",
    "",
};

START_TEST(normalize_refuses)
{
    char out[256];

    ck_assert_msg(srv_static_normalize(traversal[_i], out, sizeof(out)) != 0, "accepted '%s'",
                  traversal[_i]);
}
END_TEST

START_TEST(normalize_too_long)
{
    char out[8];

    ck_assert_int_ne(srv_static_normalize("/abcdefghij", out, sizeof(out)), 0);
}
END_TEST

START_TEST(etags)
{
    struct stat st;
    char a[64], b[64];

    memset(&st, 0, sizeof(st));
    st.st_size = 100;
    st.st_mtim.tv_sec = 1700000000;
    srv_static_etag(&st, a, sizeof(a));
    ck_assert_int_eq(a[0], '"');
    ck_assert_int_eq(a[strlen(a) - 1], '"');
    st.st_size = 101;
    srv_static_etag(&st, b, sizeof(b));
    ck_assert_str_ne(a, b);
    ck_assert(srv_etag_matches(a, a));
    ck_assert(srv_etag_matches("*", a));
    ck_assert(!srv_etag_matches(b, a));
    {
        char list[200], weak[80];

        snprintf(list, sizeof(list), "\"x\", %s", a);
        ck_assert(srv_etag_matches(list, a));
        snprintf(weak, sizeof(weak), "W/%s", a);
        ck_assert(srv_etag_matches(weak, a));
    }
    ck_assert(!srv_etag_matches("", a));
}
END_TEST

static char root[PATH_MAX], outside[PATH_MAX];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void tree_setup(void)
{
    char tmpl[] = "/tmp/lx-static-XXXXXX", p[PATH_MAX + 64];
    char *d = mkdtemp(tmpl);

    ck_assert_ptr_nonnull(d);
    snprintf(p, sizeof(p), "%s/web", d);
    mkdir(p, 0755);
    ck_assert_ptr_nonnull(realpath(p, root));
    snprintf(outside, sizeof(outside), "%s/secret.txt", d);
    write_file(outside, "secret");
    snprintf(p, sizeof(p), "%s/index.html", root);
    write_file(p, "<h1>home</h1>");
    snprintf(p, sizeof(p), "%s/edu", root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/edu/index.html", root);
    write_file(p, "edu");
    snprintf(p, sizeof(p), "%s/leak.txt", root);
    ck_assert_int_eq(symlink(outside, p), 0);
    snprintf(p, sizeof(p), "%s/empty", root);
    mkdir(p, 0755);
}

START_TEST(open_files)
{
    struct stat st;
    const char *mime;
    int fd;

    fd = srv_static_open(root, "", &st, &mime);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(st.st_size, 13);
    ck_assert_str_eq(mime, "text/html; charset=utf-8");
    close(fd);
    fd = srv_static_open(root, "edu/", &st, &mime);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(st.st_size, 3);
    close(fd);
    fd = srv_static_open(root, "edu", &st, &mime);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_lt(srv_static_open(root, "leak.txt", &st, &mime), 0); /* symlink out */
    ck_assert_int_lt(srv_static_open(root, "empty", &st, &mime), 0);    /* no index.html */
    ck_assert_int_lt(srv_static_open(root, "missing.html", &st, &mime), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("static");
    TCase *paths = tcase_create("paths"), *files = tcase_create("files");
    SRunner *sr;
    int failed;

    tcase_add_test(paths, mime_types);
    tcase_add_test(paths, normalize_accepts);
    tcase_add_loop_test(paths, normalize_refuses, 0, sizeof(traversal) / sizeof(traversal[0]));
    tcase_add_test(paths, normalize_too_long);
    tcase_add_test(paths, etags);
    tcase_add_unchecked_fixture(files, tree_setup, NULL);
    tcase_add_test(files, open_files);
    suite_add_tcase(s, paths);
    suite_add_tcase(s, files);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
