/* Route matching: literals, parameters, trailing slashes, methods, and the start-up checks. */
#include "../../server/router.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static unsigned h_any(struct srv_req *r)
{
    (void)r;
    return 200;
}

static const struct srv_route routes[] = {
    {"GET", "/api/health", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"GET", "/api/chain/tx/:id", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"POST", "/api/chain/tx", h_any, SRV_AUTH_PUBLIC, SRV_BODY_RAW_JSON, 0},
    {"GET", "/api/chain/blocks/:height", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
    {"DELETE", "/api/orgs/:org/keys/:key", h_any, SRV_AUTH_ADMIN, SRV_BODY_NONE, 0},
    {"GET", "/", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
};

static struct srv_router router;
static struct srv_match m;

static void setup(void)
{
    char err[128];

    memset(&router, 0, sizeof(router));
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        ck_assert_int_eq(srv_router_add(&router, &routes[i], err, sizeof(err)), 0);
}

START_TEST(literal_match)
{
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/health", &m), SRV_MATCH_OK);
    ck_assert_ptr_eq(m.route, &routes[0]);
    ck_assert_int_eq(m.index, 0);
    ck_assert_int_eq(srv_router_match(&router, "GET", "/", &m), SRV_MATCH_OK);
    ck_assert_ptr_eq(m.route, &routes[5]);
}
END_TEST

START_TEST(parameters)
{
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/chain/tx/abc123", &m), SRV_MATCH_OK);
    ck_assert_ptr_eq(m.route, &routes[1]);
    ck_assert_str_eq(srv_match_param(&m, "id"), "abc123");
    ck_assert_ptr_null(srv_match_param(&m, "height"));
    ck_assert_int_eq(srv_router_match(&router, "DELETE", "/api/orgs/pku/keys/k1", &m),
                     SRV_MATCH_OK);
    ck_assert_str_eq(srv_match_param(&m, "org"), "pku");
    ck_assert_str_eq(srv_match_param(&m, "key"), "k1");
}
END_TEST

START_TEST(trailing_slash)
{
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/health/", &m), SRV_MATCH_OK);
    ck_assert_ptr_eq(m.route, &routes[0]);
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/chain/tx/x/", &m), SRV_MATCH_OK);
    ck_assert_str_eq(srv_match_param(&m, "id"), "x");
    /* only one slash is forgiven; empty segments never match */
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/health//", &m), SRV_MATCH_NO_PATH);
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api//health", &m), SRV_MATCH_NO_PATH);
    /* "/api/chain/tx/" is "/api/chain/tx", which only answers POST */
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/chain/tx/", &m), SRV_MATCH_NO_METHOD);
    ck_assert_str_eq(m.allow, "POST");
}
END_TEST

START_TEST(no_path)
{
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/healthz", &m), SRV_MATCH_NO_PATH);
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/chain/tx/a/b", &m), SRV_MATCH_NO_PATH);
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api", &m), SRV_MATCH_NO_PATH);
    ck_assert_int_eq(srv_router_match(&router, "GET", "api/health", &m), SRV_MATCH_NO_PATH);
    ck_assert_int_eq(m.index, -1);
}
END_TEST

START_TEST(method_mismatch)
{
    ck_assert_int_eq(srv_router_match(&router, "POST", "/api/health", &m), SRV_MATCH_NO_METHOD);
    ck_assert_str_eq(m.allow, "GET, HEAD");
    ck_assert_ptr_null(m.route);
    /* /api/chain/tx answers only POST; /api/chain/tx/:id only GET */
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/chain/tx", &m), SRV_MATCH_NO_METHOD);
    ck_assert_str_eq(m.allow, "POST");
    ck_assert_int_eq(srv_router_match(&router, "PUT", "/api/chain/tx/1", &m), SRV_MATCH_NO_METHOD);
    ck_assert_str_eq(m.allow, "GET, HEAD");
}
END_TEST

START_TEST(head_follows_get)
{
    ck_assert_int_eq(srv_router_match(&router, "HEAD", "/api/health", &m), SRV_MATCH_OK);
    ck_assert_ptr_eq(m.route, &routes[0]);
    ck_assert_int_eq(srv_router_match(&router, "HEAD", "/api/chain/tx", &m), SRV_MATCH_NO_METHOD);
}
END_TEST

START_TEST(refuses_undeclared_auth)
{
    static const struct srv_route open = {"GET",          "/api/open",   h_any,
                                          SRV_AUTH_UNSET, SRV_BODY_NONE, 0};
    char err[128] = "";

    ck_assert_int_ne(srv_router_add(&router, &open, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "declares no auth"));
    ck_assert_int_eq(srv_router_match(&router, "GET", "/api/open", &m), SRV_MATCH_NO_PATH);
}
END_TEST

START_TEST(refuses_bad_routes)
{
    static const struct srv_route bad[] = {
        {"GET", "api/x", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
        {"GET", "/api/x/", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
        {"GET", "/api//x", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
        {"GET", "/api/:", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
        {"BREW", "/api/x", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
        {"GET", "/api/x", NULL, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0},
        {"GET", "/api/health", h_any, SRV_AUTH_PUBLIC, SRV_BODY_NONE, 0}, /* duplicate */
    };
    char err[128];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(srv_router_add(&router, &bad[i], err, sizeof(err)) != 0, "accepted route %zu",
                      i);
    ck_assert_uint_eq(router.n, sizeof(routes) / sizeof(routes[0]));
}
END_TEST

START_TEST(long_path)
{
    char *p = malloc(SRV_PATH_BUF + 10);

    memset(p, 'a', SRV_PATH_BUF + 9);
    p[0] = '/';
    p[SRV_PATH_BUF + 9] = '\0';
    ck_assert_int_eq(srv_router_match(&router, "GET", p, &m), SRV_MATCH_NO_PATH);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("match");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, literal_match);
    tcase_add_test(tc, parameters);
    tcase_add_test(tc, trailing_slash);
    tcase_add_test(tc, no_path);
    tcase_add_test(tc, method_mismatch);
    tcase_add_test(tc, head_follows_get);
    tcase_add_test(tc, refuses_undeclared_auth);
    tcase_add_test(tc, refuses_bad_routes);
    tcase_add_test(tc, long_path);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
