/*
 * The authorisation matrix. rows[] below says, for every route of lianxind, who may call it.
 * The first test holds it against `lianxind routes`: a route without a row, a row that differs
 * from the route's declaration, or a row for a route that is gone fails — so no route can be
 * added without saying here who may call it. The second test asks a real server every route
 * as every kind of caller (anonymous, each org role in org A, org_admin of org B, a signed-in
 * user without roles, the administrator, a regulator, an API token of org A for each role)
 * and checks that the allowed get through (neither 401 nor 403, nor a 5xx) and the others get
 * 401 (anonymous) or 403.
 */
#define _DEFAULT_SOURCE
#include "harness.h"

#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PW    "matrix-password-1"
#define ORG_A "orga"
#define ORG_B "orgb"

enum {
    F_NO_TOKEN = 1,     /* the handler itself refuses bearer tokens (403) */
    F_ENDS_SESSION = 2, /* may end the caller's session: sent with a throwaway one */
};

/* One route and who may call it, as its declaration must say. A new route gets its row here;
 * every_route_has_its_row prints the line to start from. */
struct row {
    const char *method;  /* as in the route table */
    const char *pattern; /* as in the route table, ":name" parameters and all */
    const char *auth;    /* public, user, admin, oversight or org */
    const char *roles;   /* org: the org roles that may call, space-separated; else "" */
    unsigned flags;      /* F_*: what the matrix must know beyond the declaration */
};

/* clang-format off */
static const struct row rows[] = {
    /* server */
    {"GET",    "/metrics",                    "public",    "",                  0},
    {"GET",    "/api/health",                 "public",    "",                  0},
    /* auth_api.c */
    {"POST",   "/api/auth/login",             "public",    "",                  0},
    {"POST",   "/api/auth/logout",            "user",      "",                  F_ENDS_SESSION},
    {"GET",    "/api/auth/me",                "user",      "",                  0},
    {"POST",   "/api/auth/password",          "user",      "",
                                                                     F_NO_TOKEN | F_ENDS_SESSION},
    {"POST",   "/api/auth/tokens",            "org",       "org_admin",         0},
    {"GET",    "/api/auth/tokens",            "org",       "org_admin",         0},
    {"DELETE", "/api/auth/tokens/:id",        "org",       "org_admin",         0},
    /* admin_api.c */
    {"POST",   "/api/orgs",                   "admin",     "",                  0},
    {"GET",    "/api/orgs",                   "user",      "",                  0},
    {"GET",    "/api/orgs/:org",              "user",      "",                  0},
    {"POST",   "/api/orgs/:org/keys/rotate",  "org",       "org_admin",         0},
    {"POST",   "/api/orgs/:org/users",        "org",       "org_admin",         0},
    {"GET",    "/api/orgs/:org/users",        "org",       "org_admin auditor", 0},
    {"POST",   "/api/orgs/:org/roles",        "org",       "org_admin",         0},
    {"DELETE", "/api/orgs/:org/roles",        "org",       "org_admin",         0},
    {"POST",   "/api/auth/signup",            "public",    "",                  0},
    {"GET",    "/api/users",                  "admin",     "",                  0},
    {"POST",   "/api/users",                  "admin",     "",                  0},
    /* oversight_api.c */
    {"GET",    "/api/audit",                  "oversight", "",                  0},
    {"GET",    "/api/audit.csv",              "oversight", "",                  0},
    {"POST",   "/api/oversight/freeze",       "oversight", "",                  0},
    {"POST",   "/api/oversight/unfreeze",     "oversight", "",                  0},
    {"GET",    "/api/oversight/freezes",      "oversight", "",                  0},
    /* modules/core */
    {"POST",   "/api/chain/tx",               "public",    "",                  0},
    {"GET",    "/api/chain/authorised",       "public",    "",                  0},
    {"GET",    "/api/chain/principals/:id",   "public",    "",                  0},
    {"GET",    "/api/chain/checkpoint",       "public",    "",                  0},
    {"GET",    "/api/chain/keys",             "public",    "",                  0},
    {"GET",    "/api/chain/tx/:id",           "public",    "",                  0},
    {"GET",    "/api/chain/proof/:id",        "public",    "",                  0},
    {"GET",    "/api/chain/consistency",      "public",    "",                  0},
    {"GET",    "/api/chain/blocks",           "public",    "",                  0},
    {"GET",    "/api/chain/blocks/:height",   "public",    "",                  0},
    {"GET",    "/api/chain/bundle/:id",       "public",    "",                  0},
    /* modules/edu */
    {"POST",   "/api/edu/credentials",        "org",       "issuer registrar",  0},
    {"POST",   "/api/edu/credentials/batch",  "org",       "issuer registrar",  0},
    {"GET",    "/api/edu/credentials",        "user",      "",                  0},
    {"GET",    "/api/edu/credentials/:id",    "user",      "",                  0},
    {"GET",    "/api/edu/credentials/:id/bundle", "user",  "",                  0},
    {"GET",    "/api/edu/credentials/:id/status", "public", "",                 0},
    {"POST",   "/api/edu/credentials/:id/revoke", "org",   "issuer registrar",  0},
    {"POST",   "/api/edu/credentials/:id/erase", "org",    "org_admin issuer registrar", 0},
    {"POST",   "/api/edu/credentials/:id/shares", "user",  "",                  0},
    {"GET",    "/api/edu/credentials/:id/shares", "user",  "",                  0},
    {"DELETE", "/api/edu/credentials/:id/shares/:share", "user", "",            0},
    {"GET",    "/api/edu/share/:token",       "public",    "",                  0},
    {"POST",   "/api/edu/verify",             "public",    "",                  0},
    /* modules/evidence */
    {"POST", "/api/evidence/cases", "org", "org_admin clerk", 0},
    {"GET", "/api/evidence/cases", "user", "", 0},
    {"GET", "/api/evidence/cases/:id", "user", "", 0},
    {"POST", "/api/evidence/cases/:id/grants", "user", "", 0},
    {"POST", "/api/evidence/items", "user", "", 0},
    {"GET", "/api/evidence/items", "user", "", 0},
    {"GET", "/api/evidence/items/:id", "user", "", 0},
    {"POST", "/api/evidence/items/:id/custody", "user", "", 0},
    {"GET", "/api/evidence/items/:id/certificate", "user", "", 0},
    {"POST", "/api/evidence/items/:id/copy", "user", "", 0},
    {"GET", "/api/evidence/items/:id/copy", "user", "", 0},
    {"POST", "/api/evidence/verify", "public", "", 0},
    {"POST", "/api/evidence/anchors", "org", "org_admin issuer clerk registrar fund_manager auditor market_operator member", 0},
};
/* clang-format on */
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* What path parameters are filled with; any other name gets "1". */
static const char *const param_values[][2] = {{"org", ORG_A}, {"id", "1"}, {"height", "0"}};

/* The org roles, in the order of their bits. */
static const char *const role_names[] = {"org_admin",    "issuer",  "clerk",           "registrar",
                                         "fund_manager", "auditor", "market_operator", "member"};
#define N_ROLES (sizeof(role_names) / sizeof(role_names[0]))

/* The bit set of a space-separated list of role names, or -1 when one is unknown. */
static long role_bits(const char *list)
{
    long bits = 0;

    while (*list != '\0') {
        size_t n = strcspn(list, " "), i;

        for (i = 0; i < N_ROLES; i++)
            if (strlen(role_names[i]) == n && strncmp(list, role_names[i], n) == 0)
                break;
        if (n > 0 && i == N_ROLES)
            return -1;
        if (n > 0)
            bits |= 1L << i;
        list += n;
        list += strspn(list, " ");
    }
    return bits;
}

/* Messages of a test that keeps going after a failure, to report every one at the end. */
struct report {
    char text[24000]; /* one line per problem, as many as fit */
    size_t len;       /* bytes of text in use */
    unsigned n;       /* problems, also those that did not fit */
};

static void report_add(struct report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report_add(struct report *rep, const char *fmt, ...)
{
    va_list ap;
    int w;

    rep->n++;
    if (rep->len + 200 >= sizeof(rep->text))
        return;
    va_start(ap, fmt);
    w = vsnprintf(rep->text + rep->len, sizeof(rep->text) - rep->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        rep->len +=
            (size_t)w < sizeof(rep->text) - rep->len ? (size_t)w : sizeof(rep->text) - rep->len - 1;
}

static const struct row *row_of(const char *method, const char *pattern)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (strcmp(rows[i].method, method) == 0 && strcmp(rows[i].pattern, pattern) == 0)
            return &rows[i];
    return NULL;
}

/* The live route table (`lianxind routes`) as a new JSON array of its lines. */
static json_t *live_routes(void)
{
    char cmd[1024], line[4096];
    json_t *all = json_array();
    FILE *p;

    snprintf(cmd, sizeof(cmd), "'%s' routes", lx_env("LIANXIN_TEST_BIN"));
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    while (fgets(line, sizeof(line), p) != NULL) {
        json_error_t e;
        json_t *rt = json_loads(line, 0, &e);

        ck_assert_msg(rt != NULL, "lianxind routes printed '%s': %s", line, e.text);
        json_array_append_new(all, rt);
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_gt(json_array_size(all), 0);
    return all;
}

START_TEST(every_route_has_its_row)
{
    json_t *live = live_routes(), *rt;
    struct report rep = {.len = 0};
    char seen[N_ROWS] = {0};
    size_t i;

    json_array_foreach(live, i, rt)
    {
        const char *method = json_string_value(json_object_get(rt, "method"));
        const char *pattern = json_string_value(json_object_get(rt, "pattern"));
        const char *auth = json_string_value(json_object_get(rt, "auth"));
        const struct row *row;
        char roles[200] = "";
        size_t k;
        json_t *name;
        long live_bits = 0;

        ck_assert_msg(method && pattern && auth, "route line without method/pattern/auth");
        json_array_foreach(json_object_get(rt, "roles"), k, name)
        {
            const char *role = json_string_value(name) ? json_string_value(name) : "?";
            long b = role_bits(role);

            if (b < 0)
                report_add(&rep, "%s %s: unknown role '%s' (add it to role_names)\n", method,
                           pattern, role);
            else
                live_bits |= b;
            snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%s%s", k ? " " : "",
                     role);
        }
        row = row_of(method, pattern);
        if (row == NULL) {
            report_add(&rep,
                       "%s %s has no row in tests/integ/test_authz.c; add\n"
                       "    {\"%s\", \"%s\", \"%s\", \"%s\", 0},\n",
                       method, pattern, method, pattern, auth, roles);
            continue;
        }
        seen[row - rows] = 1;
        if (strcmp(row->auth, auth) != 0 || role_bits(row->roles) != live_bits)
            report_add(&rep, "%s %s: the row says %s {%s}, the route declares %s {%s}\n", method,
                       pattern, row->auth, row->roles, auth, roles);
    }
    for (i = 0; i < N_ROWS; i++) {
        if (!seen[i])
            report_add(&rep, "row %s %s: no such route any more; remove the row\n", rows[i].method,
                       rows[i].pattern);
        if (role_bits(rows[i].roles) < 0 ||
            (strcmp(rows[i].auth, "org") == 0) != (role_bits(rows[i].roles) > 0))
            report_add(&rep, "row %s %s: roles '%s' do not fit auth %s\n", rows[i].method,
                       rows[i].pattern, rows[i].roles, rows[i].auth);
    }
    json_decref(live);
    ck_assert_msg(rep.n == 0, "%u problem(s) with the route table:\n%s", rep.n, rep.text);
}
END_TEST

/* ---- the matrix against a real server -------------------------------------------------- */

enum kind {
    ANONYMOUS, /* no credentials */
    ORG_USER,  /* holds .role in org A */
    OTHER_ORG, /* org_admin of org B only */
    NO_ROLES,  /* signed in, no role anywhere */
    ADMIN,     /* node_role admin (the bootstrap account) */
    REGULATOR, /* node_role regulator */
    TOKEN,     /* an API token of org A with .role */
};

struct caller {
    char name[64];       /* for messages: the username, or token:<role> */
    enum kind kind;      /* what it is */
    long role;           /* ORG_USER, TOKEN: its role bit */
    struct lx_cred cred; /* how it identifies */
};

#define MAX_CALLERS (5 + 2 * N_ROLES)

static struct lx_server srv;
static struct caller callers[MAX_CALLERS];
static size_t n_callers;

static struct caller *caller_add(const char *name, enum kind kind, long role)
{
    struct caller *c;

    ck_assert_uint_lt(n_callers, MAX_CALLERS);
    c = &callers[n_callers++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->kind = kind;
    c->role = role;
    return c;
}

/* A new caller signed in as username, an account made here with SQL (the admin's exists):
 * node_role NULL or "regulator", holding org_role in org unless that is NULL. */
static struct caller *user_caller(const char *username, enum kind kind, long role,
                                  const char *node_role, const char *org, const char *org_role)
{
    struct caller *c = caller_add(username, kind, role);

    if (kind != ADMIN)
        lx_user_add(srv.dbname, username, PW, node_role);
    if (org != NULL)
        lx_role_grant(srv.dbname, username, org, org_role);
    ck_assert_int_eq(lx_login(&srv, username, PW, &c->cred), 200);
    return c;
}

/* Makes an API token of org A with role as org_admin of A; returns the secret (static). */
static const char *token_of(const struct lx_cred *maker, const char *name, const char *role)
{
    static char token[128];
    json_t *b = json_pack("{s:s, s:s, s:s, s:I}", "name", name, "org", ORG_A, "role", role,
                          "expires", (json_int_t)(time(NULL) + 3600) * 1000);
    char *text = json_dumps(b, JSON_COMPACT);
    struct lx_resp r;
    json_t *doc;

    lx_http_as(&srv, maker, "POST", "/api/auth/tokens", text, &r);
    ck_assert_msg(r.status == 201, "token %s: %ld %s", name, r.status, r.body);
    doc = json_loads(r.body, 0, NULL);
    snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(doc, "token")));
    json_decref(doc);
    lx_resp_free(&r);
    free(text);
    json_decref(b);
    return token;
}

static void start(void)
{
    struct caller *admin_a = NULL;

    memset(&srv, 0, sizeof(srv));
    n_callers = 0;
    setenv("LIANXIN_ADMIN_PASSWORD", PW, 1); /* the child inherits it */
    lx_server_start(&srv, NULL);
    lx_org_add(&srv, ORG_A, "university");
    lx_org_add(&srv, ORG_B, "court");
    caller_add("anonymous", ANONYMOUS, 0);
    for (size_t i = 0; i < N_ROLES; i++) {
        char name[64];
        struct caller *c;

        snprintf(name, sizeof(name), "a.%s", role_names[i]);
        c = user_caller(name, ORG_USER, 1L << i, NULL, ORG_A, role_names[i]);
        if (i == 0)
            admin_a = c;
    }
    user_caller("b.org_admin", OTHER_ORG, 0, NULL, ORG_B, "org_admin");
    user_caller("no.roles", NO_ROLES, 0, NULL, NULL, NULL);
    user_caller("admin", ADMIN, 0, NULL, NULL, NULL);
    user_caller("regulator", REGULATOR, 0, "regulator", NULL, NULL);
    /* Token ids start at 1: the first is a decoy, what DELETE /api/auth/tokens/1 revokes. */
    token_of(&admin_a->cred, "decoy", "member");
    for (size_t i = 0; i < N_ROLES; i++) {
        char name[64];
        struct caller *c;

        snprintf(name, sizeof(name), "token:%s", role_names[i]);
        c = caller_add(name, TOKEN, 1L << i);
        snprintf(c->cred.bearer, sizeof(c->cred.bearer), "%s",
                 token_of(&admin_a->cred, name, role_names[i]));
    }
}

static void stop(void)
{
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

static int is_read(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Does the row let caller in? */
static int allowed(const struct row *row, const struct caller *c)
{
    if (strcmp(row->auth, "public") == 0)
        return 1;
    if (c->kind == ANONYMOUS)
        return 0;
    if (strcmp(row->auth, "user") == 0)
        return !(c->kind == TOKEN && (row->flags & F_NO_TOKEN));
    if (strcmp(row->auth, "admin") == 0)
        return c->kind == ADMIN;
    if (strcmp(row->auth, "oversight") == 0)
        return c->kind == ADMIN || c->kind == REGULATOR;
    if (strcmp(row->auth, "org") == 0) {
        if (c->kind == ADMIN || (c->kind == REGULATOR && is_read(row->method)))
            return 1;
        return (c->kind == ORG_USER || c->kind == TOKEN) && (c->role & role_bits(row->roles));
    }
    ck_abort_msg("row %s %s: unknown auth %s", row->method, row->pattern, row->auth);
    return 0;
}

/* The row's pattern with its parameters filled, and ?org= naming org A, into out. */
static void fill_path(const struct row *row, char *out, size_t cap)
{
    const char *p = row->pattern;
    size_t len = 0;

    out[0] = '\0';
    while (*p != '\0') {
        size_t n;

        p++; /* '/' */
        n = strcspn(p, "/");
        if (*p == ':') {
            const char *v = "1";

            for (size_t i = 0; i < sizeof(param_values) / sizeof(param_values[0]); i++)
                if (strlen(param_values[i][0]) == n - 1 &&
                    strncmp(p + 1, param_values[i][0], n - 1) == 0)
                    v = param_values[i][1];
            len += (size_t)snprintf(out + len, cap - len, "/%s", v);
        } else {
            len += (size_t)snprintf(out + len, cap - len, "/%.*s", (int)n, p);
        }
        ck_assert_uint_lt(len, cap);
        p += n;
    }
    snprintf(out + len, cap - len, "?org=%s", ORG_A);
}

START_TEST(matrix)
{
    json_t *live = live_routes(), *rt;
    struct report rep = {.len = 0};
    long long t0 = lx_now_ms();
    unsigned asked = 0;
    size_t i;

    json_array_foreach(live, i, rt)
    {
        const struct row *row = row_of(json_string_value(json_object_get(rt, "method")),
                                       json_string_value(json_object_get(rt, "pattern")));
        char path[512];

        if (row == NULL)
            continue; /* every_route_has_its_row reports it */
        fill_path(row, path, sizeof(path));
        for (size_t k = 0; k < n_callers; k++) {
            const struct caller *c = &callers[k];
            struct lx_cred spare;
            const struct lx_cred *cred = &c->cred;
            struct lx_resp r;
            int ok = allowed(row, c);
            long denied = c->kind == ANONYMOUS ? 401 : 403;

            if ((row->flags & F_ENDS_SESSION) && cred->cookie[0] != '\0') {
                lx_session_insert(srv.dbname, c->name, &spare);
                cred = &spare;
            }
            lx_http_as(&srv, cred, row->method, path,
                       is_read(row->method) ? NULL : "{\"org\":\"" ORG_A "\"}", &r);
            asked++;
            if (ok && (r.status == 401 || r.status == 403 || r.status >= 500 || r.status == 0))
                report_add(&rep, "%s %s as %s: %ld, expected through: %.160s\n", row->method, path,
                           c->name, r.status, r.body);
            else if (!ok && r.status != denied)
                report_add(&rep, "%s %s as %s: %ld, expected %ld: %.160s\n", row->method, path,
                           c->name, r.status, denied, r.body);
            lx_resp_free(&r);
        }
    }
    json_decref(live);
    fprintf(stderr, "authz matrix: %u requests, %zu callers, %lld ms\n", asked, n_callers,
            lx_now_ms() - t0);
    ck_assert_msg(rep.n == 0, "%u cell(s) of the matrix wrong:\n%s", rep.n, rep.text);
}
END_TEST

/* The org a request acts in is named once: a path, query and body that disagree are refused,
 * so that no handler can act in another org than the one that was checked. */
START_TEST(org_named_twice_must_agree)
{
    const struct caller *b = NULL;
    struct lx_resp r;

    for (size_t k = 0; k < n_callers; k++)
        if (callers[k].kind == OTHER_ORG)
            b = &callers[k];
    ck_assert_ptr_nonnull(b);
    /* org_admin of B names B in the query and A in the body */
    lx_http_as(&srv, &b->cred, "POST", "/api/auth/tokens?org=" ORG_B,
               "{\"org\":\"" ORG_A "\",\"name\":\"x\",\"role\":\"org_admin\","
               "\"expires\":99999999999999}",
               &r);
    ck_assert_msg(r.status == 400, "query B, body A: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    lx_http_as(&srv, &b->cred, "GET", "/api/orgs/" ORG_A "/users?org=" ORG_B, NULL, &r);
    ck_assert_msg(r.status == 400, "path A, query B: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    lx_http_as(&srv, &b->cred, "POST", "/api/orgs/" ORG_B "/roles",
               "{\"org\":\"" ORG_A "\",\"username\":\"b.org_admin\",\"role\":\"org_admin\"}", &r);
    ck_assert_msg(r.status == 400, "path B, body A: %ld %s", r.status, r.body);
    lx_resp_free(&r);
    /* agreeing is fine */
    lx_http_as(&srv, &b->cred, "GET", "/api/orgs/" ORG_B "/users?org=" ORG_B, NULL, &r);
    ck_assert_msg(r.status == 200, "path B, query B: %ld %s", r.status, r.body);
    lx_resp_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("authz");
    TCase *tc = tcase_create("table");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, every_route_has_its_row);
    suite_add_tcase(s, tc);
    tc = tcase_create("matrix");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_add_test(tc, matrix);
    tcase_add_test(tc, org_named_twice_must_agree);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
