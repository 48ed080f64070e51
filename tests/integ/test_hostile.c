/*
 * The hostile request catalogue (issue 9). One real lianxind on a real PostgreSQL is given
 * realistic state — three organisations, people with roles in one or two of them, sessions,
 * API tokens (live, expired, revoked), an accepted tx, an edu credential with a share link, an
 * evidence case with an item — and the database is dumped. Then every request of catalogue[]
 * and raw[] below is sent: malformed and 10,000-deep JSON, 1 MiB strings, wrong types, floats,
 * negative and overflowing numbers, NUL bytes, invalid UTF-8 and overlong encodings, SQL
 * injection, path traversal, CRLF in headers and paths, missing / expired / forged / revoked /
 * other-org credentials, missing CSRF, replayed, forged, other-chain and skewed txs, bodies one
 * byte over the limit, lying Content-Lengths. Each must get its documented 4xx JSON error (the
 * code must appear in docs/API.md), the server must answer health after each, and a second dump
 * must equal the first. The first test holds the catalogue against `lianxind routes`: a route
 * without a hostile request fails, like a route without a row in test_authz.c.
 *
 * What a refused request may legitimately change is excluded narrowly (see snapshot()): the
 * audit log's new rows (every state-changing request is logged by design; they must all record
 * a refusal), sessions.last_seen (touched by every authenticated request), and the one
 * deliberately expired session, which the server ends when it is presented.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PW "hostile-admin-password"
#define USER_PW  "hostile-user-password"
#define MAX_BODY (16u * 1024 * 1024) /* lianxind's default LIANXIN_MAX_BODY */

/* Who sends a request: a caller, optionally with its CSRF header left out or wrong. */
enum who {
    ANON,           /* no credentials */
    ADMIN,          /* the node administrator (session) */
    AADMIN,         /* org_admin of uni-a */
    REG,            /* registrar of uni-a and member of firm-c: roles in two orgs */
    CLERK,          /* clerk of court-b */
    LAWYER,         /* member of firm-c, granted the case */
    OTHER,          /* org_admin of firm-c only: the other org */
    STUDENT,        /* a signed-up student, the credential's subject */
    REGUL,          /* a regulator without a regulator organisation */
    TOKEN,          /* API token of uni-a, role issuer */
    F_COOKIE,       /* a session cookie nobody was given */
    X_COOKIE,       /* a session that expired (the server ends it when presented) */
    F_BEARER,       /* a bearer token nobody was given */
    X_BEARER,       /* an expired API token of uni-a */
    R_BEARER,       /* a revoked API token of uni-a */
    BASIC,          /* Authorization: Basic */
    N_WHO,          /* number of callers */
    NOCSRF = 0x100, /* or'ed: a cookie write without X-CSRF-Token */
    BADCSRF = 0x200 /* or'ed: a cookie write with another session's X-CSRF-Token */
};

/* One hostile request. Paths, bodies and headers may hold {placeholders} (see subst[]). */
struct hreq {
    const char *cat;    /* category, for the tally */
    const char *method; /* HTTP method */
    const char *path;   /* path and query, as sent (percent-encoding kept) */
    int who;            /* enum who, maybe | NOCSRF or BADCSRF */
    const char *body;   /* NULL: none */
    const char *ctype;  /* NULL: application/json when there is a body; "-": no Content-Type */
    const char *hdr;    /* one more header, or NULL */
    long status;        /* the answer it must get */
    const char *code;   /* its error code; NULL for a 200 that must list nothing */
};

/* Placeholders in paths, bodies and raw requests, filled by setup. */
enum {
    P_CRED,      /* the credential's uuid */
    P_ITEM,      /* the evidence item's uuid */
    P_CASE,      /* the case's uuid */
    P_TX,        /* the accepted tx's id */
    P_SHARE,     /* the share link's token */
    P_SHAREID,   /* its id */
    P_TOKID,     /* the live API token's id */
    P_REPLAY,    /* the accepted tx again */
    P_FORGED,    /* a tx whose signature was changed */
    P_CHAIN,     /* a tx signed for another chain */
    P_SKEW,      /* a tx ten minutes ahead */
    P_PAST,      /* a tx ten minutes behind */
    P_UNKEY,     /* org.register signed by a key nobody registered */
    P_ORGKEY,    /* org.register claiming org uni-a, signed by the admin key (not uni-a's) */
    P_SQLTX,     /* org.register of id SQLI, properly signed */
    P_MODULE,    /* an unknown module, properly signed */
    P_BIGTX,     /* a tx over 64 KiB */
    P_BATCH,     /* 10,001 txs in an array */
    P_DEEP,      /* [[[…]]] 10,000 levels */
    P_DEEPOBJ,   /* {"a":{"a":…}} 10,000 levels */
    P_HUGE,      /* 1 MiB of 'x' (inside a JSON string) */
    P_OVER,      /* a body one byte over the limit */
    P_OVERCHUNK, /* the same, chunked */
    P_COURSES,   /* 301 courses */
    P_CSV10001,  /* a CSV of 10,001 rows */
    P_ANCHORS,   /* 10,001 anchors */
    P_LONGSEG,   /* an 8 KiB path segment */
    P_NUL,       /* one NUL byte (raw requests) */
    P_COOKIE,    /* REG's session cookie value */
    P_CSRF,      /* REG's CSRF token */
    P_NOW,       /* now, Unix ms */
    N_SUBST
};

static const char *const subst_names[N_SUBST] = {
    "cred",     "item",    "case",    "tx",      "share",  "shareid", "tokid",     "replay",
    "forged",   "chain",   "skew",    "past",    "unkey",  "orgkey",  "sqltx",     "module",
    "bigtx",    "batch",   "deep",    "deepobj", "huge",   "over",    "overchunk", "courses",
    "csv10001", "anchors", "longseg", "NUL",     "cookie", "csrf",    "now"};

struct blob {
    char *p;  /* bytes (owned) */
    size_t n; /* their number */
};

static struct blob subst[N_SUBST];
static struct lx_server srv;
static struct lx_cred cred[N_WHO];
static char expired_hash[65]; /* SHA-256 hex of the expired session's cookie */

/* A valid v1 envelope around fake base64 of the right lengths, for parse errors. */
#define ENV_HEAD                                                                                   \
    "{\"v\":1,\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\","
#define SIGNER "\"signer\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define NONCE  "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\""
#define SIG                                                                                        \
    "\"sig\":"                                                                                     \
    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\""
#define ENV(org, body)                                                                             \
    ENV_HEAD "\"org\":" org "," SIGNER "," NONCE ",\"time\":{now},\"body\":" body "," SIG "}"

#define SQLI  "' OR '1'='1' --"
#define SQLIU "%27%20OR%20%271%27%3D%271%27%20--" /* SQLI percent-encoded for paths */
#define DROP  "x'); DROP TABLE users; --"
#define BADU8 "\xc3\x28" /* a lead byte without its continuation */
#define OVERL "\xc0\xaf" /* overlong '/' */
#define UUID0 "00000000-0000-0000-0000-000000000000"
#define HEX0  "0000000000000000000000000000000000000000000000000000000000000000"

/* clang-format off */
static const struct hreq catalogue[] = {
    /* ---- server ---- */
    {"method", "POST",   "/metrics", ANON, "{}", NULL, NULL, 405, "method_not_allowed"},
    {"method", "DELETE", "/api/health", ANON, NULL, NULL, NULL, 405, "method_not_allowed"},
    {"trav",   "GET",    "/api/health/..%2f..%2fusers", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"utf8",   "GET",    "/api/he%c0%afalth", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"method", "PUT",    "/api/chain/keys", ANON, "{}", NULL, NULL, 405, "method_not_allowed"},
    {"method", "DELETE", "/api/chain/checkpoint", ANON, NULL, NULL, NULL, 405, "method_not_allowed"},
    {"trav",   "GET",    "/api/../api/users", REG, NULL, NULL, NULL, 404, "not_found"},
    {"method", "PATCH",  "/api/orgs/uni-a", ADMIN, "{}", NULL, NULL, 405, "method_not_allowed"},

    /* ---- auth_api.c ---- */
    {"deep",  "POST", "/api/auth/login", ANON, "{deep}", NULL, NULL, 400, "malformed_json"},
    {"json",  "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",", NULL, NULL, 400, "malformed_json"},
    {"json",  "POST", "/api/auth/login", ANON, "", NULL, NULL, 400, "malformed_json"},
    {"type",  "POST", "/api/auth/login", ANON, "[]", NULL, NULL, 400, "bad_parameter"},
    {"type",  "POST", "/api/auth/login", ANON, "{\"username\":123,\"password\":true}", NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "POST", "/api/auth/login", ANON, "{\"username\":\"admin' --\",\"password\":\"" SQLI "\"}", NULL, NULL, 401, "invalid_credentials"},
    {"sqli",  "POST", "/api/auth/login", ANON, "{\"username\":\"" SQLI "\",\"password\":\"x\"}", NULL, NULL, 401, "invalid_credentials"},
    {"huge",  "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",\"password\":\"{huge}\"}", NULL, NULL, 400, "bad_parameter"},
    {"nul",   "POST", "/api/auth/login", ANON, "{\"username\":\"admin\\u0000x\",\"password\":\"" ADMIN_PW "\"}", NULL, NULL, 400, "malformed_json"},
    {"utf8",  "POST", "/api/auth/login", ANON, "{\"username\":\"" BADU8 "\",\"password\":\"x\"}", NULL, NULL, 400, "malformed_json"},
    {"utf8",  "POST", "/api/auth/login", ANON, "{\"username\":\"adm" OVERL "\",\"password\":\"x\"}", NULL, NULL, 400, "malformed_json"},
    {"json",  "POST", "/api/auth/login", ANON, "{\"username\":\"x\",\"username\":\"admin\",\"password\":\"x\"}", NULL, NULL, 400, "malformed_json"},
    {"media", "POST", "/api/auth/login", ANON, "username=admin&password=x", "application/x-www-form-urlencoded", NULL, 415, "unsupported_media_type"},
    {"limit", "POST", "/api/auth/login", ANON, "{over}", NULL, NULL, 413, "too_large"},
    {"brute", "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",\"password\":\"guess-1\"}", NULL, NULL, 401, "invalid_credentials"},
    {"brute", "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",\"password\":\"guess-2\"}", NULL, NULL, 401, "invalid_credentials"},
    {"brute", "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",\"password\":\"guess-3\"}", NULL, NULL, 401, "invalid_credentials"},
    {"brute", "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",\"password\":\"guess-4\"}", NULL, NULL, 401, "invalid_credentials"},
    {"brute", "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",\"password\":\"guess-5\"}", NULL, NULL, 401, "invalid_credentials"},
    {"brute", "POST", "/api/auth/login", ANON, "{\"username\":\"admin\",\"password\":\"" ADMIN_PW "\"}", NULL, NULL, 429, "too_many_attempts"},
    {"cred",  "POST", "/api/auth/logout", ANON, NULL, NULL, NULL, 401, "login_required"},
    {"cred",  "POST", "/api/auth/logout", F_COOKIE, NULL, NULL, NULL, 401, "session_expired"},
    {"csrf",  "POST", "/api/auth/logout", REG | NOCSRF, NULL, NULL, NULL, 403, "csrf"},
    {"csrf",  "POST", "/api/auth/logout", REG | BADCSRF, NULL, NULL, NULL, 403, "csrf"},
    {"cred",  "GET",  "/api/auth/me", F_BEARER, NULL, NULL, NULL, 401, "invalid_token"},
    {"cred",  "GET",  "/api/auth/me", X_COOKIE, NULL, NULL, NULL, 401, "session_expired"},
    {"cred",  "GET",  "/api/auth/me", X_COOKIE, NULL, NULL, NULL, 401, "session_expired"},
    {"cred",  "GET",  "/api/auth/me", X_BEARER, NULL, NULL, NULL, 401, "invalid_token"},
    {"cred",  "GET",  "/api/auth/me", R_BEARER, NULL, NULL, NULL, 401, "invalid_token"},
    {"cred",  "GET",  "/api/auth/me", BASIC, NULL, NULL, NULL, 401, "invalid_token"},
    {"sqli",  "GET",  "/api/auth/me", ANON, NULL, NULL, "Cookie: lx_session=' OR 1=1 --", 401, "session_expired"},
    {"sqli",  "GET",  "/api/auth/me", ANON, NULL, NULL, "Authorization: Bearer ' OR 1=1 --", 401, "invalid_token"},
    {"cred",  "GET",  "/api/auth/me", ANON, NULL, NULL, "Authorization: Bearer ", 401, "invalid_token"},
    {"cred",  "POST", "/api/auth/password", TOKEN, "{\"old\":\"x\",\"new\":\"new-password-123\"}", NULL, NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/auth/password", REG | NOCSRF, "{\"old\":\"" USER_PW "\",\"new\":\"new-password-123\"}", NULL, NULL, 403, "csrf"},
    {"type",  "POST", "/api/auth/password", REG, "{\"old\":1,\"new\":2}", NULL, NULL, 400, "bad_parameter"},
    {"value", "POST", "/api/auth/password", REG, "{\"old\":\"" USER_PW "\",\"new\":\"short\"}", NULL, NULL, 422, "weak_password"},
    {"huge",  "POST", "/api/auth/password", REG, "{\"old\":\"wrong-password-1\",\"new\":\"{huge}\"}", NULL, NULL, 422, "weak_password"},
    {"deep",  "POST", "/api/auth/password", REG, "{deepobj}", NULL, NULL, 400, "malformed_json"},
    {"num",   "POST", "/api/auth/tokens", AADMIN, "{\"name\":\"t\",\"org\":\"uni-a\",\"role\":\"issuer\",\"expires\":-1}", NULL, NULL, 422, "invalid_body"},
    {"num",   "POST", "/api/auth/tokens", AADMIN, "{\"name\":\"t\",\"org\":\"uni-a\",\"role\":\"issuer\",\"expires\":1.9e12}", NULL, NULL, 422, "invalid_body"},
    {"num",   "POST", "/api/auth/tokens", AADMIN, "{\"name\":\"t\",\"org\":\"uni-a\",\"role\":\"issuer\",\"expires\":99999999999999999999999}", NULL, NULL, 400, "malformed_json"},
    {"sqli",  "POST", "/api/auth/tokens", AADMIN, "{\"name\":\"t\",\"org\":\"uni-a\",\"role\":\"" SQLI "\",\"expires\":{now}000}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/auth/tokens", AADMIN, "{\"name\":\"t\",\"org\":\"court-b\",\"role\":\"clerk\",\"expires\":{now}000}", NULL, NULL, 403, "forbidden"},
    {"cred",  "POST", "/api/auth/tokens", TOKEN, "{\"name\":\"t\",\"org\":\"uni-a\",\"role\":\"org_admin\",\"expires\":{now}000}", NULL, NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/auth/tokens", AADMIN | NOCSRF, "{\"name\":\"t\",\"org\":\"uni-a\",\"role\":\"issuer\",\"expires\":{now}000}", NULL, NULL, 403, "csrf"},
    {"huge",  "POST", "/api/auth/tokens", AADMIN, "{\"name\":\"{huge}\",\"org\":\"uni-a\",\"role\":\"issuer\",\"expires\":{now}000}", NULL, NULL, 400, "bad_parameter"},
    {"org",   "GET",  "/api/auth/tokens?org=court-b", AADMIN, NULL, NULL, NULL, 403, "forbidden"},
    {"sqli",  "GET",  "/api/auth/tokens?org=" SQLIU, AADMIN, NULL, NULL, NULL, 403, "forbidden"},
    {"value", "GET",  "/api/auth/tokens", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"nul",   "GET",  "/api/auth/tokens?org=uni-a%00", AADMIN, NULL, NULL, NULL, 403, "forbidden"},
    {"utf8",  "GET",  "/api/auth/tokens?org=uni-a%ff", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "DELETE", "/api/orgs/uni-a/roles?username=%c0%af&role=member", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "GET",  "/api/evidence/items?kind=%ed%a0%80", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "GET",  "/api/edu/share/%e0%80%af", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "POST", "/api/edu/credentials/batch?org=uni-a%c0", REG, "kind,name,student_number\ndiploma,n,1\n", "text/csv", NULL, 400, "bad_parameter"},
    {"sqli",  "DELETE", "/api/auth/tokens/1%20OR%201=1?org=uni-a", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "DELETE", "/api/auth/tokens/-1?org=uni-a", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "DELETE", "/api/auth/tokens/99999999999999999999999?org=uni-a", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"org",   "DELETE", "/api/auth/tokens/{tokid}?org=firm-c", OTHER, NULL, NULL, NULL, 404, "not_found"},
    {"org",   "DELETE", "/api/auth/tokens/{tokid}?org=court-b", CLERK, NULL, NULL, NULL, 403, "forbidden"},
    {"csrf",  "DELETE", "/api/auth/tokens/{tokid}?org=uni-a", AADMIN | NOCSRF, NULL, NULL, NULL, 403, "csrf"},

    /* ---- admin_api.c ---- */
    {"cred",  "POST", "/api/orgs", AADMIN, "{\"id\":\"evil\",\"name\":\"Evil\",\"type\":\"university\"}", NULL, NULL, 403, "forbidden"},
    {"sqli",  "POST", "/api/orgs", ADMIN, "{\"id\":\"" DROP "\",\"name\":\"n\",\"type\":\"university\"}", NULL, NULL, 422, "invalid_body"},
    {"trav",  "POST", "/api/orgs", ADMIN, "{\"id\":\"../../etc\",\"name\":\"n\",\"type\":\"university\"}", NULL, NULL, 422, "invalid_body"},
    {"huge",  "POST", "/api/orgs", ADMIN, "{\"id\":\"hugeorg\",\"name\":\"{huge}\",\"type\":\"university\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/orgs", ADMIN, "{\"id\":\"bank\",\"name\":\"Bank\",\"type\":\"bank\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/orgs", ADMIN, "{\"id\":\"uni-a\",\"name\":\"Again\",\"type\":\"university\"}", NULL, NULL, 409, "principal_exists"},
    {"type",  "POST", "/api/orgs", ADMIN, "{\"id\":1,\"name\":[],\"type\":{}}", NULL, NULL, 400, "bad_parameter"},
    {"deep",  "POST", "/api/orgs", ADMIN, "{deep}", NULL, NULL, 400, "malformed_json"},
    {"utf8",  "POST", "/api/orgs", ADMIN, "{\"id\":\"u8\",\"name\":\"" OVERL "\",\"type\":\"university\"}", NULL, NULL, 400, "malformed_json"},
    {"csrf",  "POST", "/api/orgs", ADMIN | NOCSRF, "{\"id\":\"nocsrf\",\"name\":\"n\",\"type\":\"university\"}", NULL, NULL, 403, "csrf"},
    {"limit", "POST", "/api/orgs", ADMIN, "{over}", NULL, NULL, 413, "too_large"},
    {"cred",  "GET",  "/api/orgs", ANON, NULL, NULL, NULL, 401, "login_required"},
    {"cred",  "GET",  "/api/orgs", F_COOKIE, NULL, NULL, NULL, 401, "session_expired"},
    {"trav",  "GET",  "/api/orgs/..%2f..%2fetc%2fpasswd", REG, NULL, NULL, NULL, 404, "not_found"},
    {"sqli",  "GET",  "/api/orgs/" SQLIU, REG, NULL, NULL, NULL, 404, "not_found"},
    {"utf8",  "GET",  "/api/orgs/%c0%ae%c0%ae", REG, NULL, NULL, NULL, 400, "bad_parameter"},
    {"huge",  "GET",  "/api/orgs/{longseg}", REG, NULL, NULL, NULL, 404, "not_found"},
    {"org",   "POST", "/api/orgs/uni-a/keys/rotate", OTHER, NULL, NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/orgs/uni-a/keys/rotate", REG, NULL, NULL, NULL, 403, "forbidden"},
    {"cred",  "POST", "/api/orgs/uni-a/keys/rotate", TOKEN, NULL, NULL, NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/orgs/uni-a/keys/rotate", AADMIN | NOCSRF, NULL, NULL, NULL, 403, "csrf"},
    {"org",   "POST", "/api/orgs/court-b/keys/rotate", AADMIN, NULL, NULL, NULL, 403, "forbidden"},
    {"value", "POST", "/api/orgs/uni-a/users", AADMIN, "{\"username\":\"new.one\",\"display_name\":\"x\",\"role\":\"member\",\"password\":\"chosen-password-1\"}", NULL, NULL, 403, "forbidden"},
    {"sqli",  "POST", "/api/orgs/uni-a/users", AADMIN, "{\"username\":\"" DROP "\",\"display_name\":\"x\",\"role\":\"member\"}", NULL, NULL, 422, "invalid_username"},
    {"value", "POST", "/api/orgs/uni-a/users", AADMIN, "{\"username\":\"new.two\",\"display_name\":\"x\",\"role\":\"superuser\"}", NULL, NULL, 422, "invalid_body"},
    {"huge",  "POST", "/api/orgs/uni-a/users", AADMIN, "{\"username\":\"new.three\",\"display_name\":\"{huge}\",\"role\":\"member\"}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/orgs/firm-c/users", AADMIN, "{\"username\":\"new.four\",\"display_name\":\"x\",\"role\":\"member\"}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/orgs/uni-a/users", AADMIN, "{\"org\":\"firm-c\",\"username\":\"new.five\",\"display_name\":\"x\",\"role\":\"member\"}", NULL, NULL, 400, "bad_parameter"},
    {"org",   "GET",  "/api/orgs/uni-a/users", REG, NULL, NULL, NULL, 403, "forbidden"},
    {"org",   "GET",  "/api/orgs/uni-a/users", OTHER, NULL, NULL, NULL, 403, "forbidden"},
    {"org",   "GET",  "/api/orgs/uni-a/users?org=firm-c", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "POST", "/api/orgs/uni-a/roles", AADMIN, "{\"username\":\"" SQLI "\",\"role\":\"member\"}", NULL, NULL, 404, "unknown_user"},
    {"value", "POST", "/api/orgs/uni-a/roles", AADMIN, "{\"username\":\"a.reg\",\"role\":\"admin\"}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/orgs/uni-a/roles", AADMIN, "{\"org\":\"firm-c\",\"username\":\"a.reg\",\"role\":\"org_admin\"}", NULL, NULL, 400, "bad_parameter"},
    {"org",   "POST", "/api/orgs/uni-a/roles", OTHER, "{\"username\":\"d.other\",\"role\":\"org_admin\"}", NULL, NULL, 403, "forbidden"},
    {"type",  "POST", "/api/orgs/uni-a/roles", AADMIN, "{\"username\":[\"a.reg\"],\"role\":{\"x\":1}}", NULL, NULL, 400, "bad_parameter"},
    {"value", "DELETE", "/api/orgs/uni-a/roles?username=a.admin&role=org_admin", AADMIN, NULL, NULL, NULL, 409, "last_org_admin"},
    {"sqli",  "DELETE", "/api/orgs/uni-a/roles?username=" SQLIU "&role=member", AADMIN, NULL, NULL, NULL, 404, "unknown_user"},
    {"value", "DELETE", "/api/orgs/uni-a/roles", AADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"org",   "DELETE", "/api/orgs/uni-a/roles?username=a.reg&role=registrar", OTHER, NULL, NULL, NULL, 403, "forbidden"},
    {"csrf",  "DELETE", "/api/orgs/uni-a/roles?username=a.reg&role=registrar", AADMIN | BADCSRF, NULL, NULL, NULL, 403, "csrf"},
    {"value", "POST", "/api/auth/signup", ANON, "{\"username\":\"ab\",\"password\":\"long-enough-pw\",\"type\":\"student\"}", NULL, NULL, 422, "invalid_username"},
    {"sqli",  "POST", "/api/auth/signup", ANON, "{\"username\":\"" DROP "\",\"password\":\"long-enough-pw\",\"type\":\"student\"}", NULL, NULL, 422, "invalid_username"},
    {"value", "POST", "/api/auth/signup", ANON, "{\"username\":\"weak.pw\",\"password\":\"short\",\"type\":\"student\"}", NULL, NULL, 422, "weak_password"},
    {"value", "POST", "/api/auth/signup", ANON, "{\"username\":\"want.admin\",\"password\":\"long-enough-pw\",\"type\":\"admin\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/auth/signup", ANON, "{\"username\":\"a.reg\",\"password\":\"long-enough-pw\",\"type\":\"student\"}", NULL, NULL, 409, "username_taken"},
    {"value", "POST", "/api/auth/signup", ANON, "{\"username\":\"squatter\",\"password\":\"long-enough-pw\",\"type\":\"student\",\"id\":\"uni-a\"}", NULL, NULL, 409, "principal_exists"},
    {"value", "POST", "/api/auth/signup", ANON, "{\"username\":\"bad.key\",\"password\":\"long-enough-pw\",\"type\":\"student\",\"public_key\":\"!!not base64!!\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/auth/signup", ANON, "{\"username\":\"short.key\",\"password\":\"long-enough-pw\",\"type\":\"student\",\"public_key\":\"AAAA\"}", NULL, NULL, 422, "invalid_body"},
    {"huge",  "POST", "/api/auth/signup", ANON, "{\"username\":\"{huge}\",\"password\":\"long-enough-pw\",\"type\":\"student\"}", NULL, NULL, 422, "invalid_username"},
    {"huge",  "POST", "/api/auth/signup", ANON, "{\"username\":\"huge.pw\",\"password\":\"{huge}\",\"type\":\"student\"}", NULL, NULL, 422, "weak_password"},
    {"nul",   "POST", "/api/auth/signup", ANON, "{\"username\":\"nul\\u0000.x\",\"password\":\"long-enough-pw\",\"type\":\"student\"}", NULL, NULL, 400, "malformed_json"},
    {"deep",  "POST", "/api/auth/signup", ANON, "{\"username\":\"deep.one\",\"password\":\"long-enough-pw\",\"type\":{deep}}", NULL, NULL, 400, "malformed_json"},
    {"media", "POST", "/api/auth/signup", ANON, "{}", "text/plain", NULL, 415, "unsupported_media_type"},
    {"cred",  "GET",  "/api/users", REG, NULL, NULL, NULL, 403, "forbidden"},
    {"cred",  "GET",  "/api/users", TOKEN, NULL, NULL, NULL, 403, "forbidden"},
    {"cred",  "GET",  "/api/users", ANON, NULL, NULL, NULL, 401, "login_required"},
    {"value", "POST", "/api/users", ADMIN, "{\"username\":\"second.admin\",\"node_role\":\"admin\",\"display_name\":\"x\"}", NULL, NULL, 422, "invalid_body"},
    {"cred",  "POST", "/api/users", AADMIN, "{\"username\":\"reg.two\",\"node_role\":\"regulator\",\"display_name\":\"x\"}", NULL, NULL, 403, "forbidden"},
    {"sqli",  "POST", "/api/users", ADMIN, "{\"username\":\"" SQLI "\",\"node_role\":\"regulator\",\"display_name\":\"x\"}", NULL, NULL, 422, "invalid_username"},
    {"csrf",  "POST", "/api/users", ADMIN | NOCSRF, "{\"username\":\"reg.three\",\"node_role\":\"regulator\",\"display_name\":\"x\"}", NULL, NULL, 403, "csrf"},

    /* ---- oversight_api.c ---- */
    {"cred",  "GET",  "/api/audit", REG, NULL, NULL, NULL, 403, "forbidden"},
    {"num",   "GET",  "/api/audit?limit=-1", ADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/audit?limit=99999999999999999999", ADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/audit?from=abc", ADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/audit?before=1.5", ADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/audit?user=" SQLIU, ADMIN, NULL, NULL, NULL, 200, NULL},
    {"num",   "GET",  "/api/audit.csv?limit=100001", ADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"cred",  "GET",  "/api/audit.csv", STUDENT, NULL, NULL, NULL, 403, "forbidden"},
    {"cred",  "GET",  "/api/audit.csv", ANON, NULL, NULL, NULL, 401, "login_required"},
    {"cred",  "POST", "/api/oversight/freeze", REGUL, "{\"target\":\"org:uni-a\",\"reason\":\"r\"}", NULL, NULL, 403, "no_regulator_org"},
    {"value", "POST", "/api/oversight/freeze", ADMIN, "{\"target\":\"org:admin\",\"reason\":\"r\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/oversight/freeze", ADMIN, "{\"target\":\"tx:zz\",\"reason\":\"r\"}", NULL, NULL, 422, "invalid_body"},
    {"sqli",  "POST", "/api/oversight/freeze", ADMIN, "{\"target\":\"org:" SQLI "\",\"reason\":\"r\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/oversight/freeze", ADMIN, "{\"target\":\"org:nowhere\",\"reason\":\"r\"}", NULL, NULL, 404, "unknown_target"},
    {"huge",  "POST", "/api/oversight/freeze", ADMIN, "{\"target\":\"org:uni-a\",\"reason\":\"{huge}\"}", NULL, NULL, 422, "invalid_body"},
    {"crlf",  "POST", "/api/oversight/freeze", ADMIN, "{\"target\":\"org:uni-a\",\"reason\":\"a\\r\\nX-Injected: yes\"}", NULL, NULL, 422, "invalid_body"},
    {"cred",  "POST", "/api/oversight/freeze", AADMIN, "{\"target\":\"org:uni-a\",\"reason\":\"r\"}", NULL, NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/oversight/freeze", ADMIN | NOCSRF, "{\"target\":\"org:uni-a\",\"reason\":\"r\"}", NULL, NULL, 403, "csrf"},
    {"type",  "POST", "/api/oversight/freeze", ADMIN, "{\"target\":[\"org:uni-a\"],\"reason\":1}", NULL, NULL, 400, "bad_parameter"},
    {"value", "POST", "/api/oversight/unfreeze", ADMIN, "{\"target\":\"org:uni-a\",\"reason\":\"r\"}", NULL, NULL, 409, "not_frozen"},
    {"cred",  "POST", "/api/oversight/unfreeze", REG, "{\"target\":\"org:uni-a\",\"reason\":\"r\"}", NULL, NULL, 403, "forbidden"},
    {"deep",  "POST", "/api/oversight/unfreeze", ADMIN, "{deep}", NULL, NULL, 400, "malformed_json"},
    {"cred",  "GET",  "/api/oversight/freezes", STUDENT, NULL, NULL, NULL, 403, "forbidden"},
    {"cred",  "GET",  "/api/oversight/freezes", X_BEARER, NULL, NULL, NULL, 401, "invalid_token"},

    /* ---- modules/core ---- */
    {"tx",    "POST", "/api/chain/tx", ANON, "{replay}", NULL, NULL, 409, "duplicate_tx"},
    {"tx",    "POST", "/api/chain/tx", ANON, "{forged}", NULL, NULL, 422, "invalid_signature"},
    {"tx",    "POST", "/api/chain/tx", ANON, "{chain}", NULL, NULL, 422, "wrong_chain"},
    {"tx",    "POST", "/api/chain/tx", ANON, "{skew}", NULL, NULL, 422, "time_skew"},
    {"tx",    "POST", "/api/chain/tx", ANON, "{past}", NULL, NULL, 422, "time_skew"},
    {"tx",    "POST", "/api/chain/tx", ANON, "{unkey}", NULL, NULL, 409, "unknown_key"},
    {"tx",    "POST", "/api/chain/tx", ANON, "{orgkey}", NULL, NULL, 409, "key_not_authorised"},
    {"sqli",  "POST", "/api/chain/tx", ANON, "{sqltx}", NULL, NULL, 422, "invalid_body"},
    {"tx",    "POST", "/api/chain/tx", ANON, "{module}", NULL, NULL, 422, "unknown_module"},
    {"float", "POST", "/api/chain/tx", ANON, ENV("\"admin\"", "{\"x\":1.5}"), NULL, NULL, 400, "float_not_allowed"},
    {"num",   "POST", "/api/chain/tx", ANON, ENV("\"admin\"", "{\"x\":9007199254740993}"), NULL, NULL, 400, "integer_out_of_range"},
    {"num",   "POST", "/api/chain/tx", ANON, ENV("\"admin\"", "{\"x\":-9007199254740993}"), NULL, NULL, 400, "integer_out_of_range"},
    {"num",   "POST", "/api/chain/tx", ANON, ENV("\"admin\"", "{\"x\":1e400}"), NULL, NULL, 400, "float_not_allowed"},
    {"num",   "POST", "/api/chain/tx", ANON, ENV("\"admin\"", "{\"x\":123456789012345678901234567890}"), NULL, NULL, 400, "integer_out_of_range"},
    {"deep",  "POST", "/api/chain/tx", ANON, ENV("\"admin\"", "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"), NULL, NULL, 400, "too_deep"},
    {"deep",  "POST", "/api/chain/tx", ANON, "{deep}", NULL, NULL, 400, "too_deep"},
    {"deep",  "POST", "/api/chain/tx", ANON, "{deepobj}", NULL, NULL, 400, "too_deep"},
    {"json",  "POST", "/api/chain/tx", ANON, ENV("\"admin\",\"org\":\"uni-a\"", "{}"), NULL, NULL, 400, "duplicate_key"},
    {"json",  "POST", "/api/chain/tx", ANON, ENV("\"admin\",\"evil\":1", "{}"), NULL, NULL, 400, "extra_field"},
    {"json",  "POST", "/api/chain/tx", ANON, "{\"v\":1,\"chain\":\"lianxin.local/dev\"}", NULL, NULL, 400, "missing_field"},
    {"type",  "POST", "/api/chain/tx", ANON, "{\"v\":\"1\",\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\",\"org\":\"admin\"," SIGNER "," NONCE ",\"time\":1," "\"body\":{}," SIG "}", NULL, NULL, 400, "wrong_type"},
    {"value", "POST", "/api/chain/tx", ANON, "{\"v\":2,\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\",\"org\":\"admin\"," SIGNER "," NONCE ",\"time\":1," "\"body\":{}," SIG "}", NULL, NULL, 400, "unsupported_version"},
    {"value", "POST", "/api/chain/tx", ANON, "{\"v\":1,\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\",\"org\":\"admin\",\"signer\":\"!!!!\"," NONCE ",\"time\":1,\"body\":{}," SIG "}", NULL, NULL, 400, "bad_base64"},
    {"value", "POST", "/api/chain/tx", ANON, "{\"v\":1,\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\",\"org\":\"admin\",\"signer\":\"AAAA\"," NONCE ",\"time\":1,\"body\":{}," SIG "}", NULL, NULL, 400, "bad_key_length"},
    {"value", "POST", "/api/chain/tx", ANON, "{\"v\":1,\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\",\"org\":\"admin\"," SIGNER ",\"nonce\":\"AAAA\",\"time\":1,\"body\":{}," SIG "}", NULL, NULL, 400, "bad_nonce_length"},
    {"value", "POST", "/api/chain/tx", ANON, "{\"v\":1,\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\",\"org\":\"admin\"," SIGNER "," NONCE ",\"time\":1,\"body\":{},\"sig\":\"AAAA\"}", NULL, NULL, 400, "bad_signature_length"},
    {"num",   "POST", "/api/chain/tx", ANON, "{\"v\":1,\"chain\":\"lianxin.local/dev\",\"module\":\"core\",\"type\":\"org.register\",\"org\":\"admin\"," SIGNER "," NONCE ",\"time\":-1,\"body\":{}," SIG "}", NULL, NULL, 422, "time_skew"},
    {"nul",   "POST", "/api/chain/tx", ANON, ENV("\"ad\\u0000min\"", "{}"), NULL, NULL, 400, "malformed_json"},
    {"utf8",  "POST", "/api/chain/tx", ANON, ENV("\"" BADU8 "\"", "{}"), NULL, NULL, 400, "malformed_json"},
    {"utf8",  "POST", "/api/chain/tx", ANON, ENV("\"" OVERL "\"", "{}"), NULL, NULL, 400, "malformed_json"},
    {"utf8",  "POST", "/api/chain/tx", ANON, ENV("\"\\ud800\"", "{}"), NULL, NULL, 400, "malformed_json"},
    {"limit", "POST", "/api/chain/tx", ANON, "{bigtx}", NULL, NULL, 413, "tx_too_large"},
    {"limit", "POST", "/api/chain/tx", ANON, "{batch}", NULL, NULL, 413, "batch_too_large"},
    {"limit", "POST", "/api/chain/tx", ANON, "[]", NULL, NULL, 400, "empty_batch"},
    {"limit", "POST", "/api/chain/tx", ANON, "{over}", NULL, NULL, 413, "too_large"},
    {"type",  "POST", "/api/chain/tx", ANON, "\"just a string\"", NULL, NULL, 400, "malformed_json"},
    {"type",  "POST", "/api/chain/tx", ANON, "null", NULL, NULL, 400, "malformed_json"},
    {"media", "POST", "/api/chain/tx", ANON, "{replay}", "text/plain", NULL, 415, "unsupported_media_type"},
    {"media", "POST", "/api/chain/tx", ANON, "{replay}", "-", NULL, 415, "unsupported_media_type"},
    {"value", "GET",  "/api/chain/authorised?key=!!!&principal=uni-a&at=1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/authorised?key=" HEX0 "&principal=uni-a&at=-1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/authorised?key=" HEX0 "&principal=uni-a&at=99999999999999999999", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/chain/authorised?key=" HEX0 "&principal=" SQLIU "&at=1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/chain/principals/" SQLIU, ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"trav",  "GET",  "/api/chain/principals/..%2f..%2fetc%2fpasswd", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"nul",   "GET",  "/api/chain/principals/uni-a%00", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/chain/tx/" SQLIU, ANON, NULL, NULL, NULL, 400, "bad_tx_id"},
    {"value", "GET",  "/api/chain/tx/ABCDEF0000000000000000000000000000000000000000000000000000000000", ANON, NULL, NULL, NULL, 400, "bad_tx_id"},
    {"value", "GET",  "/api/chain/tx/" HEX0, ANON, NULL, NULL, NULL, 404, "not_found"},
    {"nul",   "GET",  "/api/chain/tx/%00", ANON, NULL, NULL, NULL, 400, "bad_tx_id"},
    {"num",   "GET",  "/api/chain/proof/{tx}?tree_size=-1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/proof/{tx}?tree_size=1.5", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/proof/{tx}?tree_size=99999999999999999999", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"trav",  "GET",  "/api/chain/proof/..%2f..%2f..%2fetc%2fpasswd", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"num",   "GET",  "/api/chain/consistency?from=0&to=1", ANON, NULL, NULL, NULL, 422, "bad_range"},
    {"num",   "GET",  "/api/chain/consistency?from=5&to=1", ANON, NULL, NULL, NULL, 422, "bad_range"},
    {"num",   "GET",  "/api/chain/consistency?from=abc&to=1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/consistency?from=1&to=9223372036854775808", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/blocks?limit=-1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/blocks?limit=abc", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/blocks?before=1e99", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/blocks/-1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/chain/blocks/99999999999999999999", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/chain/blocks/0%20OR%201=1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/chain/bundle/" SQLIU, ANON, NULL, NULL, NULL, 400, "bad_tx_id"},
    {"value", "GET",  "/api/chain/bundle/" HEX0, ANON, NULL, NULL, NULL, 404, "not_found"},

    /* ---- modules/edu ---- */
    {"deep",  "POST", "/api/edu/credentials", REG, "{deep}", NULL, NULL, 400, "malformed_json"},
    {"huge",  "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"{huge}\",\"student_number\":\"1\"}", NULL, NULL, 422, "invalid_body"},
    {"sqli",  "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"" DROP "\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"bell\\u0007\",\"student_number\":\"1\"}", NULL, NULL, 422, "invalid_body"},
    {"utf8",  "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"" BADU8 "\",\"student_number\":\"1\"}", NULL, NULL, 400, "malformed_json"},
    {"type",  "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":12}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\",\"end_date\":\"2026-13-45\"}", NULL, NULL, 422, "invalid_body"},
    {"json",  "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\",\"admin\":true}", NULL, NULL, 422, "invalid_body"},
    {"float", "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"transcript\",\"name\":\"n\",\"student_number\":\"1\",\"courses\":[{\"name\":\"c\",\"credits\":2.5,\"grade\":\"A\"}]}", NULL, NULL, 422, "invalid_body"},
    {"limit", "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"transcript\",\"name\":\"n\",\"student_number\":\"1\",\"courses\":{courses}}", NULL, NULL, 422, "invalid_body"},
    {"sqli",  "POST", "/api/edu/credentials", REG, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\",\"student\":\"" SQLI "\"}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/edu/credentials", CLERK, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/edu/credentials", REG, "{\"org\":\"firm-c\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/edu/credentials", TOKEN, "{\"org\":\"court-b\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/edu/credentials", AADMIN, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/edu/credentials", REG | NOCSRF, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 403, "csrf"},
    {"cred",  "POST", "/api/edu/credentials", ANON, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 401, "login_required"},
    {"cred",  "POST", "/api/edu/credentials", R_BEARER, "{\"org\":\"uni-a\",\"kind\":\"diploma\",\"name\":\"n\",\"student_number\":\"1\"}", NULL, NULL, 401, "invalid_token"},
    {"limit", "POST", "/api/edu/credentials", REG, "{over}", NULL, NULL, 413, "too_large"},
    {"media", "POST", "/api/edu/credentials/batch?org=uni-a", REG, "kind,name,student_number\n", "text/plain", NULL, 415, "unsupported_media_type"},
    {"csv",   "POST", "/api/edu/credentials/batch?org=uni-a", REG, "kind,name,student_number\ndiploma,\"unclosed,1\n", "text/csv", NULL, 400, "malformed_csv"},
    {"csv",   "POST", "/api/edu/credentials/batch?org=uni-a", REG, "kind,name,student_number\n", "text/csv", NULL, 400, "empty_batch"},
    {"csv",   "POST", "/api/edu/credentials/batch?org=uni-a", REG, "kind,name,student_number,evil\ndiploma,n,1,x\n", "text/csv", NULL, 400, "malformed_csv"},
    {"sqli",  "POST", "/api/edu/credentials/batch?org=uni-a", REG, "kind,name,student_number\n\"" DROP "\",n,1\ndiploma,\"" BADU8 "\",2\ndiploma,n" OVERL ",3\n", "text/csv", NULL, 422, "invalid_rows"},
    {"nul",   "POST", "/api/edu/credentials/batch?org=uni-a", REG, "kind,name,student_number\ndiploma,a{NUL}b,1\n", "text/csv", NULL, 422, "invalid_rows"},
    {"limit", "POST", "/api/edu/credentials/batch?org=uni-a", REG, "{csv10001}", "text/csv", NULL, 413, "batch_too_large"},
    {"org",   "POST", "/api/edu/credentials/batch?org=firm-c", REG, "kind,name,student_number\ndiploma,n,1\n", "text/csv", NULL, 403, "forbidden"},
    {"org",   "POST", "/api/edu/credentials/batch?org=uni-a", CLERK, "kind,name,student_number\ndiploma,n,1\n", "text/csv", NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/edu/credentials/batch?org=uni-a", REG | NOCSRF, "kind,name,student_number\ndiploma,n,1\n", "text/csv", NULL, 403, "csrf"},
    {"num",   "GET",  "/api/edu/credentials?limit=-1", REG, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "GET",  "/api/edu/credentials?q=%c0%ae%c0%ae%ff", STUDENT, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "GET",  "/api/evidence/cases?q=%c0%af%fe", OTHER, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "GET",  "/api/audit?user=%c3%28", ADMIN, NULL, NULL, NULL, 400, "bad_parameter"},
    {"utf8",  "GET",  "/api/chain/authorised?key=" HEX0 "&principal=%c0%af&at=1", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/edu/credentials?limit=abc", REG, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/edu/credentials?q=" SQLIU, STUDENT, NULL, NULL, NULL, 200, NULL},
    {"sqli",  "GET",  "/api/edu/credentials?status=" SQLIU, REG, NULL, NULL, NULL, 400, "bad_parameter"},
    {"cred",  "GET",  "/api/edu/credentials", ANON, NULL, NULL, NULL, 401, "login_required"},
    {"org",   "GET",  "/api/edu/credentials/{cred}", OTHER, NULL, NULL, NULL, 404, "not_found"},
    {"org",   "GET",  "/api/edu/credentials/{cred}", CLERK, NULL, NULL, NULL, 404, "not_found"},
    {"sqli",  "GET",  "/api/edu/credentials/" SQLIU, REG, NULL, NULL, NULL, 404, "not_found"},
    {"org",   "GET",  "/api/edu/credentials/{cred}/bundle", OTHER, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/api/edu/credentials/..%2f..%2f..%2fetc%2fpasswd/bundle", REG, NULL, NULL, NULL, 404, "not_found"},
    {"sqli",  "GET",  "/api/edu/credentials/" SQLIU "/status", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"nul",   "GET",  "/api/edu/credentials/%00/status", ANON, NULL, NULL, NULL, 400, "bad_parameter"},
    {"org",   "POST", "/api/edu/credentials/{cred}/revoke", CLERK, "{\"org\":\"uni-a\",\"reason\":\"r\"}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/edu/credentials/{cred}/revoke", REG, "{\"org\":\"firm-c\",\"reason\":\"r\"}", NULL, NULL, 403, "forbidden"},
    {"huge",  "POST", "/api/edu/credentials/{cred}/revoke", REG, "{\"org\":\"uni-a\",\"reason\":\"{huge}\"}", NULL, NULL, 422, "invalid_body"},
    {"crlf",  "POST", "/api/edu/credentials/{cred}/revoke", REG, "{\"org\":\"uni-a\",\"reason\":\"a\\r\\nb\"}", NULL, NULL, 422, "invalid_body"},
    {"sqli",  "POST", "/api/edu/credentials/" SQLIU "/revoke", REG, "{\"org\":\"uni-a\",\"reason\":\"r\"}", NULL, NULL, 404, "not_found"},
    {"csrf",  "POST", "/api/edu/credentials/{cred}/revoke", REG | NOCSRF, "{\"org\":\"uni-a\",\"reason\":\"r\"}", NULL, NULL, 403, "csrf"},
    {"type",  "POST", "/api/edu/credentials/{cred}/revoke", REG, "{\"org\":\"uni-a\",\"reason\":[1,2]}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/edu/credentials/{cred}/erase", OTHER, "{\"org\":\"firm-c\"}", NULL, NULL, 403, "not_issuer"},
    {"csrf",  "POST", "/api/edu/credentials/{cred}/erase", AADMIN | NOCSRF, "{\"org\":\"uni-a\"}", NULL, NULL, 403, "csrf"},
    {"cred",  "POST", "/api/edu/credentials/{cred}/erase", X_BEARER, "{\"org\":\"uni-a\"}", NULL, NULL, 401, "invalid_token"},
    {"value", "POST", "/api/edu/credentials/" UUID0 "/erase", AADMIN, "{\"org\":\"uni-a\"}", NULL, NULL, 404, "not_found"},
    {"org",   "POST", "/api/edu/credentials/{cred}/shares", OTHER, "{}", NULL, NULL, 404, "not_found"},
    {"num",   "POST", "/api/edu/credentials/{cred}/shares", STUDENT, "{\"expires_in_days\":-1}", NULL, NULL, 422, "invalid_body"},
    {"num",   "POST", "/api/edu/credentials/{cred}/shares", STUDENT, "{\"expires_in_days\":366}", NULL, NULL, 422, "invalid_body"},
    {"float", "POST", "/api/edu/credentials/{cred}/shares", STUDENT, "{\"expires_in_days\":1.5}", NULL, NULL, 422, "invalid_body"},
    {"num",   "POST", "/api/edu/credentials/{cred}/shares", STUDENT, "{\"expires_in_days\":9223372036854775807}", NULL, NULL, 422, "invalid_body"},
    {"type",  "POST", "/api/edu/credentials/{cred}/shares", STUDENT, "{\"expires_in_days\":\"30\"}", NULL, NULL, 422, "invalid_body"},
    {"csrf",  "POST", "/api/edu/credentials/{cred}/shares", STUDENT | NOCSRF, "{}", NULL, NULL, 403, "csrf"},
    {"org",   "GET",  "/api/edu/credentials/{cred}/shares", OTHER, NULL, NULL, NULL, 404, "not_found"},
    {"org",   "GET",  "/api/edu/credentials/{cred}/shares", CLERK, NULL, NULL, NULL, 404, "not_found"},
    {"org",   "DELETE", "/api/edu/credentials/{cred}/shares/{shareid}", OTHER, NULL, NULL, NULL, 404, "not_found"},
    {"sqli",  "DELETE", "/api/edu/credentials/{cred}/shares/" SQLIU, STUDENT, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "DELETE", "/api/edu/credentials/{cred}/shares/-1", STUDENT, NULL, NULL, NULL, 400, "bad_parameter"},
    {"csrf",  "DELETE", "/api/edu/credentials/{cred}/shares/{shareid}", STUDENT | NOCSRF, NULL, NULL, NULL, 403, "csrf"},
    {"cred",  "GET",  "/api/edu/share/forged-token-that-nobody-was-given", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"sqli",  "GET",  "/api/edu/share/" SQLIU, ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/api/edu/share/..%2f..%2fsecret.txt", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"nul",   "GET",  "/api/edu/share/{share}%00", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"deep",  "POST", "/api/edu/verify", ANON, "{deep}", NULL, NULL, 400, "malformed_json"},
    {"json",  "POST", "/api/edu/verify", ANON, "{\"credential\":", NULL, NULL, 400, "malformed_json"},
    {"utf8",  "POST", "/api/edu/verify", ANON, "{\"credential\":\"" OVERL "\"}", NULL, NULL, 400, "malformed_json"},
    {"media", "POST", "/api/edu/verify", ANON, "{}", "text/html", NULL, 415, "unsupported_media_type"},
    {"limit", "POST", "/api/edu/verify", ANON, "{over}", NULL, NULL, 413, "too_large"},

    /* ---- modules/evidence ---- */
    {"huge",  "POST", "/api/evidence/cases", CLERK, "{\"org\":\"court-b\",\"number\":\"{huge}\",\"title\":\"t\"}", NULL, NULL, 422, "invalid_body"},
    {"sqli",  "POST", "/api/evidence/cases", AADMIN, "{\"org\":\"uni-a\",\"number\":\"" DROP "\",\"title\":\"" SQLI "\"}", NULL, NULL, 422, "not_a_court"},
    {"value", "POST", "/api/evidence/cases", CLERK, "{\"org\":\"court-b\",\"number\":\"(2026) Jing 0491 Min Chu 1\",\"title\":\"again\"}", NULL, NULL, 409, "duplicate_case"},
    {"type",  "POST", "/api/evidence/cases", CLERK, "{\"org\":\"court-b\",\"number\":\"n2\",\"title\":\"t\",\"parties\":\"Zhang\"}", NULL, NULL, 422, "invalid_body"},
    {"deep",  "POST", "/api/evidence/cases", CLERK, "{\"org\":\"court-b\",\"number\":\"n3\",\"title\":\"t\",\"parties\":{deep}}", NULL, NULL, 400, "malformed_json"},
    {"crlf",  "POST", "/api/evidence/cases", CLERK, "{\"org\":\"court-b\",\"number\":\"n4\",\"title\":\"t\\r\\nX-Injected: 1\"}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/evidence/cases", REG, "{\"org\":\"court-b\",\"number\":\"n5\",\"title\":\"t\"}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/evidence/cases", LAWYER, "{\"org\":\"court-b\",\"number\":\"n6\",\"title\":\"t\"}", NULL, NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/evidence/cases", CLERK | NOCSRF, "{\"org\":\"court-b\",\"number\":\"n7\",\"title\":\"t\"}", NULL, NULL, 403, "csrf"},
    {"num",   "GET",  "/api/evidence/cases?limit=-1", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/evidence/cases?q=" SQLIU, OTHER, NULL, NULL, NULL, 200, NULL},
    {"sqli",  "GET",  "/api/evidence/cases?court=" SQLIU, OTHER, NULL, NULL, NULL, 200, NULL},
    {"value", "GET",  "/api/evidence/cases?before=zz", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"org",   "GET",  "/api/evidence/cases/{case}", OTHER, NULL, NULL, NULL, 403, "forbidden"},
    {"org",   "GET",  "/api/evidence/cases/{case}", STUDENT, NULL, NULL, NULL, 403, "forbidden"},
    {"sqli",  "GET",  "/api/evidence/cases/" SQLIU, CLERK, NULL, NULL, NULL, 404, "not_found"},
    {"org",   "POST", "/api/evidence/cases/{case}/grants", LAWYER, "{\"username\":\"d.other\"}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/evidence/cases/{case}/grants", OTHER, "{\"username\":\"d.other\"}", NULL, NULL, 403, "forbidden"},
    {"sqli",  "POST", "/api/evidence/cases/{case}/grants", CLERK, "{\"username\":\"" SQLI "\"}", NULL, NULL, 422, "not_a_lawyer_or_notary"},
    {"value", "POST", "/api/evidence/cases/{case}/grants", CLERK, "{\"username\":\"stu.dent\"}", NULL, NULL, 422, "not_a_lawyer_or_notary"},
    {"csrf",  "POST", "/api/evidence/cases/{case}/grants", CLERK | BADCSRF, "{\"username\":\"d.other\"}", NULL, NULL, 403, "csrf"},
    {"org",   "POST", "/api/evidence/items", STUDENT, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/evidence/items", REGUL, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 403, "forbidden"},
    {"org",   "POST", "/api/evidence/items", OTHER, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 403, "forbidden"},
    {"sqli",  "POST", "/api/evidence/items", CLERK, "{\"case\":\"{case}\",\"sha256\":\"" SQLI "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/evidence/items", CLERK, "{\"case\":\"{case}\",\"sha256\":\"ABCDEF0000000000000000000000000000000000000000000000000000000000\",\"title\":\"t\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 422, "invalid_body"},
    {"num",   "POST", "/api/evidence/items", CLERK, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":-1}", NULL, NULL, 422, "invalid_body"},
    {"float", "POST", "/api/evidence/items", CLERK, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1.5}", NULL, NULL, 422, "invalid_body"},
    {"num",   "POST", "/api/evidence/items", CLERK, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":99999999999999999999}", NULL, NULL, 400, "malformed_json"},
    {"type",  "POST", "/api/evidence/items", CLERK, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1,\"captured_ms\":\"yesterday\"}", NULL, NULL, 422, "invalid_body"},
    {"sqli",  "POST", "/api/evidence/items", CLERK, "{\"case\":\"" SQLI "\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 422, "invalid_body"},
    {"huge",  "POST", "/api/evidence/items", CLERK, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"{huge}\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 422, "invalid_body"},
    {"csrf",  "POST", "/api/evidence/items", CLERK | NOCSRF, "{\"case\":\"{case}\",\"sha256\":\"" HEX0 "\",\"title\":\"t\",\"kind\":\"document\",\"size\":1}", NULL, NULL, 403, "csrf"},
    {"limit", "POST", "/api/evidence/items", CLERK, "{over}", NULL, NULL, 413, "too_large"},
    {"sqli",  "GET",  "/api/evidence/items?case=" SQLIU, CLERK, NULL, NULL, NULL, 200, NULL},
    {"num",   "GET",  "/api/evidence/items?from=99999999999999999999999", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/evidence/items?to=-1", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/evidence/items?before=99999999999999999999999", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/evidence/items?from=abc", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"num",   "GET",  "/api/evidence/items?limit=-5", CLERK, NULL, NULL, NULL, 400, "bad_parameter"},
    {"sqli",  "GET",  "/api/evidence/items?q=" SQLIU, OTHER, NULL, NULL, NULL, 200, NULL},
    {"org",   "GET",  "/api/evidence/items/{item}", OTHER, NULL, NULL, NULL, 403, "forbidden"},
    {"sqli",  "GET",  "/api/evidence/items/" SQLIU, CLERK, NULL, NULL, NULL, 404, "not_found"},
    {"value", "POST", "/api/evidence/items/{item}/custody", CLERK, "{\"event\":\"exploded\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/evidence/items/{item}/custody", CLERK, "{\"event\":\"transferred\"}", NULL, NULL, 422, "invalid_body"},
    {"value", "POST", "/api/evidence/items/{item}/custody", CLERK, "{\"event\":\"examined\",\"report_sha256\":\"" SQLI "\"}", NULL, NULL, 422, "invalid_body"},
    {"huge",  "POST", "/api/evidence/items/{item}/custody", CLERK, "{\"event\":\"sealed\",\"note\":\"{huge}\"}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/evidence/items/{item}/custody", OTHER, "{\"event\":\"sealed\"}", NULL, NULL, 403, "forbidden"},
    {"csrf",  "POST", "/api/evidence/items/{item}/custody", LAWYER | NOCSRF, "{\"event\":\"sealed\"}", NULL, NULL, 403, "csrf"},
    {"deep",  "POST", "/api/evidence/items/{item}/custody", CLERK, "{deepobj}", NULL, NULL, 400, "malformed_json"},
    {"org",   "GET",  "/api/evidence/items/{item}/certificate", OTHER, NULL, NULL, NULL, 403, "forbidden"},
    {"sqli",  "GET",  "/api/evidence/items/" SQLIU "/certificate", CLERK, NULL, NULL, NULL, 404, "not_found"},
    {"value", "POST", "/api/evidence/items/{item}/copy", CLERK, "these are not the preserved bytes", "application/octet-stream", NULL, 422, "hash_mismatch"},
    {"org",   "POST", "/api/evidence/items/{item}/copy", OTHER, "x", "application/octet-stream", NULL, 403, "forbidden"},
    {"cred",  "POST", "/api/evidence/items/{item}/copy", ANON, "x", "application/octet-stream", NULL, 401, "login_required"},
    {"csrf",  "POST", "/api/evidence/items/{item}/copy", CLERK | NOCSRF, "x", "application/octet-stream", NULL, 403, "csrf"},
    {"sqli",  "POST", "/api/evidence/items/" SQLIU "/copy", CLERK, "x", "application/octet-stream", NULL, 404, "not_found"},
    {"value", "GET",  "/api/evidence/items/{item}/copy", CLERK, NULL, NULL, NULL, 404, "no_copy"},
    {"org",   "GET",  "/api/evidence/items/{item}/copy", OTHER, NULL, NULL, NULL, 403, "forbidden"},
    {"sqli",  "POST", "/api/evidence/verify", ANON, "{\"sha256\":\"" SQLI "\"}", NULL, NULL, 422, "invalid_body"},
    {"type",  "POST", "/api/evidence/verify", ANON, "{\"sha256\":123}", NULL, NULL, 422, "invalid_body"},
    {"deep",  "POST", "/api/evidence/verify", ANON, "{deepobj}", NULL, NULL, 400, "malformed_json"},
    {"media", "POST", "/api/evidence/verify", ANON, "{\"sha256\":\"" HEX0 "\"}", "text/plain", NULL, 415, "unsupported_media_type"},
    {"limit", "POST", "/api/evidence/anchors", TOKEN, "{\"org\":\"uni-a\",\"anchors\":[]}", NULL, NULL, 422, "invalid_body"},
    {"limit", "POST", "/api/evidence/anchors", TOKEN, "{anchors}", NULL, NULL, 413, "batch_too_large"},
    {"sqli",  "POST", "/api/evidence/anchors", TOKEN, "{\"org\":\"uni-a\",\"anchors\":[{\"sha256\":\"" SQLI "\"}]}", NULL, NULL, 422, "invalid_body"},
    {"crlf",  "POST", "/api/evidence/anchors", TOKEN, "{\"org\":\"uni-a\",\"anchors\":[{\"sha256\":\"" HEX0 "\",\"label\":\"a\\r\\nb\"}]}", NULL, NULL, 422, "invalid_body"},
    {"huge",  "POST", "/api/evidence/anchors", TOKEN, "{\"org\":\"uni-a\",\"anchors\":[{\"sha256\":\"" HEX0 "\",\"label\":\"{huge}\"}]}", NULL, NULL, 422, "invalid_body"},
    {"org",   "POST", "/api/evidence/anchors", TOKEN, "{\"org\":\"court-b\",\"anchors\":[{\"sha256\":\"" HEX0 "\"}]}", NULL, NULL, 403, "forbidden"},
    {"cred",  "POST", "/api/evidence/anchors", F_BEARER, "{\"org\":\"uni-a\",\"anchors\":[{\"sha256\":\"" HEX0 "\"}]}", NULL, NULL, 401, "invalid_token"},
    {"deep",  "POST", "/api/evidence/anchors", TOKEN, "{\"org\":\"uni-a\",\"anchors\":{deep}}", NULL, NULL, 400, "malformed_json"},

    /* ---- static files ---- */
    {"trav",  "GET",  "/../../etc/passwd", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/%2e%2e/%2e%2e/etc/passwd", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/leak.txt", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/sub/..%2f..%2fsecret.txt", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/%c0%ae%c0%ae/secret.txt", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/..%5csecret.txt", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/sub/%5c..%5c..%5csecret.txt", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "/./index.html", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"trav",  "GET",  "//etc/passwd", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"nul",   "GET",  "/index.html%00.js", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"crlf",  "GET",  "/index.html%0d%0aX-Injected:%20yes", ANON, NULL, NULL, NULL, 404, "not_found"},
    {"crlf",  "GET",  "/api/chain/tx/%0d%0aX-Injected:%20yes", ANON, NULL, NULL, NULL, 400, "bad_tx_id"},
    {"method", "POST", "/index.html", ANON, "{}", NULL, NULL, 404, "not_found"},
};
/* clang-format on */
#define N_CATALOGUE (sizeof(catalogue) / sizeof(catalogue[0]))

/* A request sent as bytes on a socket: what libcurl would not send. */
struct raw {
    const char *cat;  /* category */
    const char *text; /* the bytes, with {placeholders} ({NUL} for a NUL byte) */
    long status;      /* 0: the server must hang up without an answer */
    const char *code; /* the JSON error code; NULL when libmicrohttpd answers before lianxind
                         sees the request (its fixed HTML body, Connection: close) */
    int hang_up;      /* send, wait a moment, hang up: a body shorter than declared */
};

#define H "Host: t\r\nConnection: close\r\n"

/* clang-format off */
static const struct raw raw[] = {
    {"raw",   "GARBAGE\r\n\r\n", 0, NULL, 0},
    {"raw",   "GET /api/health HTTP/9.9\r\n" H "\r\n", 505, NULL, 0},
    {"raw",   "GET /api/health HTTP/1.1\r\n" H "NoColonHeader\r\n\r\n", 400, NULL, 0},
    {"raw",   "POST /api/chain/tx HTTP/1.1\r\n" H "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}", 400, NULL, 0},
    {"raw",   "POST /api/chain/tx HTTP/1.1\r\n" H "Content-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}", 413, NULL, 0},
    {"raw",   "POST /api/chain/tx HTTP/1.1\r\n" H "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n", 400, NULL, 0},
    {"limit", "POST /api/chain/tx HTTP/1.1\r\n" H "Content-Type: application/json\r\nContent-Length: 16777217\r\n\r\n", 413, "too_large", 0},
    {"limit", "POST /api/evidence/items HTTP/1.1\r\n" H "Content-Type: application/json\r\nCookie: lx_session={cookie}\r\nX-CSRF-Token: {csrf}\r\nTransfer-Encoding: chunked\r\n\r\n{overchunk}", 413, "too_large", 0},
    {"limit", "POST /api/chain/tx HTTP/1.1\r\n" H "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"v\":1}", 0, NULL, 1},
    {"limit", "POST /api/orgs/uni-a/roles HTTP/1.1\r\n" H "Content-Type: application/json\r\nCookie: lx_session={cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Length: 1000\r\n\r\n{\"username\":\"a.reg\",\"role\":\"org_admin\"}", 0, NULL, 1},
    {"nul",   "GET /api/chain/tx/ab{NUL}cd HTTP/1.1\r\n" H "\r\n", 400, "bad_tx_id", 0},
    {"nul",   "GET /api/he{NUL}alth HTTP/1.1\r\n" H "\r\n", 404, "not_found", 0},
    {"nul",   "POST /api/auth/login HTTP/1.1\r\n" H "Content-Type: application/json\r\nContent-Length: 39\r\n\r\n{\"username\":\"a{NUL}\",\"password\":\"xxxxxxxx\"}", 400, "malformed_json", 0},
    {"crlf",  "GET /api/auth/me HTTP/1.1\r\n" H "Cookie: lx_session={cookie}\rSet-Cookie: lx_session=evil\r\n\r\n", 401, "session_expired", 0},
    {"crlf",  "POST /api/auth/logout HTTP/1.1\r\n" H "Cookie: lx_session={cookie}\r\nX-CSRF-Token: {csrf}\rX-Other: 1\r\nContent-Length: 0\r\n\r\n", 403, "csrf", 0},
    {"crlf",  "GET /api/auth/me HTTP/1.1\r\n" H "Authorization: Bearer x\r\n\tcontinued\r\n\r\n", 401, "login_required", 0},
    {"crlf",  "GET /api/chain/tx/%0d%0aSet-Cookie:%20lx_session=evil HTTP/1.1\r\n" H "\r\n", 400, "bad_tx_id", 0},
    {"utf8",  "GET /api/chain/principals/\xc0\xaf\xff HTTP/1.1\r\n" H "\r\n", 400, "bad_parameter", 0},
    {"utf8",  "GET /api/orgs/uni-a HTTP/1.1\r\n" H "Cookie: lx_session=\xc0\xaf\xfe\r\n\r\n", 401, "session_expired", 0},
    {"trav",  "GET /../../../etc/passwd HTTP/1.1\r\n" H "\r\n", 404, "not_found", 0},
    {"trav",  "GET http://evil.example/api/users HTTP/1.1\r\n" H "\r\n", 404, "not_found", 0},
    {"method", "BREW /api/health HTTP/1.1\r\n" H "\r\n", 405, "method_not_allowed", 0},
    {"limit", "POST /api/chain/tx HTTP/1.1\r\n" H "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 16777217\r\n\r\n{}", 400, NULL, 0},
};
/* clang-format on */
#define N_RAW (sizeof(raw) / sizeof(raw[0]))

/* ---- reports ----------------------------------------------------------------------------- */

struct report {
    char text[32000]; /* one line per problem, as many as fit */
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
    if (rep->len + 300 >= sizeof(rep->text))
        return;
    va_start(ap, fmt);
    w = vsnprintf(rep->text + rep->len, sizeof(rep->text) - rep->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        rep->len +=
            (size_t)w < sizeof(rep->text) - rep->len ? (size_t)w : sizeof(rep->text) - rep->len - 1;
}

/* ---- placeholders ------------------------------------------------------------------------ */

static void subst_set(int i, const char *p, size_t n)
{
    free(subst[i].p);
    subst[i].p = malloc(n + 1);
    ck_assert_ptr_nonnull(subst[i].p);
    memcpy(subst[i].p, p, n);
    subst[i].p[n] = '\0';
    subst[i].n = n;
}

static void subst_str(int i, const char *s)
{
    subst_set(i, s, strlen(s));
}

/* Steals a malloc'd buffer of n bytes. */
static void subst_take(int i, char *p, size_t n)
{
    free(subst[i].p);
    subst[i].p = p;
    subst[i].n = n;
}

/* tmpl with every {name} of subst_names replaced; other braces stay. Returns a new buffer
 * (free()), NUL-terminated, its length in *n. */
static char *expand(const char *tmpl, size_t *n)
{
    size_t cap = strlen(tmpl) + 1, len = 0;
    char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    for (const char *p = tmpl; *p != '\0';) {
        const char *add = p;
        size_t add_n = 1, skip = 1;

        if (*p == '{') {
            for (int i = 0; i < N_SUBST; i++) {
                size_t k = strlen(subst_names[i]);

                if (strncmp(p + 1, subst_names[i], k) == 0 && p[1 + k] == '}') {
                    ck_assert_msg(subst[i].p != NULL, "placeholder {%s} is not set",
                                  subst_names[i]);
                    add = subst[i].p;
                    add_n = subst[i].n;
                    skip = k + 2;
                    break;
                }
            }
        }
        if (len + add_n + 1 > cap) {
            while (len + add_n + 1 > cap)
                cap *= 2;
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
        }
        memcpy(out + len, add, add_n);
        len += add_n;
        p += skip;
    }
    out[len] = '\0';
    *n = len;
    return out;
}

/* n copies of unit into a new buffer between head and tail; returns its length via *len. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *out = malloc(hl + ul * n + tl + 1), *w = out;

    ck_assert_ptr_nonnull(out);
    memcpy(w, head, hl);
    w += hl;
    for (size_t i = 0; i < n; i++, w += ul)
        memcpy(w, unit, ul);
    memcpy(w, tail, tl);
    w += tl;
    *w = '\0';
    *len = (size_t)(w - out);
    return out;
}

static void make_generated(void)
{
    size_t n, n2;
    char *a, *b;

    a = repeat("", "[", 10000, "", &n);
    b = repeat(a, "]", 10000, "", &n2);
    free(a);
    subst_take(P_DEEP, b, n2);
    a = repeat("", "{\"a\":", 10000, "1", &n);
    b = repeat(a, "}", 10000, "", &n2);
    free(a);
    subst_take(P_DEEPOBJ, b, n2);
    a = repeat("", "x", 1u << 20, "", &n);
    subst_take(P_HUGE, a, n);
    a = repeat("", " ", MAX_BODY + 1, "", &n);
    subst_take(P_OVER, a, n);
    /* 0x1000001 = MAX_BODY + 1 bytes in one chunk */
    a = repeat("1000001\r\n", " ", MAX_BODY + 1, "\r\n0\r\n\r\n", &n);
    subst_take(P_OVERCHUNK, a, n);
    a = repeat("[", "{\"name\":\"c\",\"credits\":\"1\",\"grade\":\"A\"},", 300, "", &n);
    b = repeat(a, "{\"name\":\"c\",\"credits\":\"1\",\"grade\":\"A\"}]", 1, "", &n2);
    free(a);
    subst_take(P_COURSES, b, n2);
    a = repeat("kind,name,student_number\n", "diploma,Li Lei,2022010001\n", 10001, "", &n);
    subst_take(P_CSV10001, a, n);
    a = repeat("{\"org\":\"uni-a\",\"anchors\":[", "{\"sha256\":\"" HEX0 "\"},", 10000, "", &n);
    b = repeat(a, "{\"sha256\":\"" HEX0 "\"}]}", 1, "", &n2);
    free(a);
    subst_take(P_ANCHORS, b, n2);
    a = repeat("[", "{},", 10000, "{}]", &n);
    subst_take(P_BATCH, a, n);
    a = repeat("", "a", 8192, "", &n);
    subst_take(P_LONGSEG, a, n);
    subst_set(P_NUL, "", 1);
}

/* ---- state -------------------------------------------------------------------------------- */

static void admit(const char *id, const char *type)
{
    json_decref(lx_expect(&srv, &cred[ADMIN], "POST", "/api/orgs",
                          json_pack("{s:s, s:s, s:s}", "id", id, "name", id, "type", type), 201));
}

/* An account made straight in the database with a role (org may be NULL) and a session. They
 * never sign in, so they share one password hash: each hash costs an Argon2id run. */
static void person(enum who w, const char *username, const char *node_role, const char *org,
                   const char *role)
{
    static char hash[crypto_pwhash_STRBYTES];
    const char *params[3] = {username, hash, node_role};

    if (hash[0] == '\0')
        ck_assert_int_eq(crypto_pwhash_str(hash, USER_PW, strlen(USER_PW),
                                           crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                           crypto_pwhash_MEMLIMIT_INTERACTIVE),
                         0);
    ck_assert_int_eq(lx_db_exec_params(srv.dbname,
                                       "INSERT INTO users (username, password_hash, node_role) "
                                       "VALUES ($1, $2, $3)",
                                       3, params),
                     0);
    if (org != NULL)
        lx_role_grant(srv.dbname, username, org, role);
    lx_session_insert(srv.dbname, username, &cred[w]);
}

/* Makes an API token of uni-a as a.admin; the secret into out, its id returned. */
static long long token_new(const char *name, const char *role, char *out, size_t cap)
{
    json_t *doc = lx_expect(&srv, &cred[AADMIN], "POST", "/api/auth/tokens",
                            json_pack("{s:s, s:s, s:s, s:I}", "name", name, "org", "uni-a", "role",
                                      role, "expires", (json_int_t)(time(NULL) + 3600) * 1000),
                            201);
    long long id;

    snprintf(out, cap, "%s", lx_str(doc, "token"));
    id = json_integer_value(json_object_get(doc, "id"));
    json_decref(doc);
    return id;
}

static void tokens(void)
{
    char buf[128], path[128];
    const char *params[1] = {buf};
    long long id;

    id = token_new("live", "issuer", cred[TOKEN].bearer, sizeof(cred[TOKEN].bearer));
    snprintf(buf, sizeof(buf), "%lld", id);
    subst_str(P_TOKID, buf);
    snprintf(cred[TOKEN].user, sizeof(cred[TOKEN].user), "token:issuer");
    id = token_new("old", "issuer", cred[X_BEARER].bearer, sizeof(cred[X_BEARER].bearer));
    snprintf(buf, sizeof(buf), "%lld", id);
    ck_assert_int_eq(lx_db_exec_params(srv.dbname,
                                       "UPDATE api_tokens SET expires_at = now() - interval "
                                       "'1 day' WHERE id = $1::bigint",
                                       1, params),
                     0);
    id = token_new("gone", "issuer", cred[R_BEARER].bearer, sizeof(cred[R_BEARER].bearer));
    snprintf(path, sizeof(path), "/api/auth/tokens/%lld?org=uni-a", id);
    json_decref(lx_expect(&srv, &cred[AADMIN], "DELETE", path, NULL, 200));
    snprintf(cred[F_BEARER].bearer, sizeof(cred[F_BEARER].bearer),
             "lxt_forgedforgedforgedforgedforgedforgedforg");
    snprintf(cred[F_COOKIE].cookie, sizeof(cred[F_COOKIE].cookie),
             "Zm9yZ2VkIHNlc3Npb24gY29va2llIHZhbHVlIGhlcmU");
    snprintf(cred[F_COOKIE].csrf, sizeof(cred[F_COOKIE].csrf), "forged-csrf");
}

static void expired_session(void)
{
    uint8_t h[32];
    const char *params[1] = {expired_hash};

    lx_session_insert(srv.dbname, "a.reg", &cred[X_COOKIE]);
    crypto_hash_sha256(h, (const unsigned char *)cred[X_COOKIE].cookie,
                       strlen(cred[X_COOKIE].cookie));
    sodium_bin2hex(expired_hash, sizeof(expired_hash), h, sizeof(h));
    ck_assert_int_eq(lx_db_exec_params(srv.dbname,
                                       "UPDATE sessions SET created_at = now() - interval '30 "
                                       "days', last_seen = now() - interval '30 days' WHERE "
                                       "id_hash = decode($1, 'hex')",
                                       1, params),
                     0);
}

static char *dumps(const json_t *j, size_t *n)
{
    char *s = json_dumps(j, JSON_COMPACT);

    ck_assert_ptr_nonnull(s);
    *n = strlen(s);
    return s;
}

/* Signs a core tx of org with k for origin at now + skew_ms; returns its text. */
static char *signed_tx(const struct chain_note_signer *k, const char *origin, const char *module,
                       const char *type, const char *org, int64_t skew_ms, json_t *body, size_t *n)
{
    struct timespec ts;
    json_t *env;
    char *text;

    clock_gettime(CLOCK_REALTIME, &ts);
    env = chain_tx_build(origin, module, type, org, k->sk + 32,
                         (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + skew_ms, body);
    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(chain_tx_sign(env, k->sk), 0);
    text = dumps(env, n);
    json_decref(env);
    return text;
}

static json_t *org_body(const char *id)
{
    struct chain_note_signer k;
    char pub[64];

    lx_keygen("k", &k);
    lx_pub_b64(&k, pub, sizeof(pub));
    sodium_memzero(&k, sizeof(k));
    return json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", id, "type", "charity", "key", pub);
}

static void txs(void)
{
    struct chain_note_signer admin, stranger;
    struct lx_resp r;
    json_t *doc, *big;
    char *text, *sig;
    size_t n;

    lx_admin_key(&srv, &admin);
    lx_keygen("stranger", &stranger);
    /* the accepted tx, to replay */
    text = signed_tx(&admin, LX_TEST_ORIGIN, "core", "org.register", "admin", 0,
                     org_body("replayed"), &n);
    lx_http(&srv, "POST", "/api/chain/tx", text, n,
            (const char *const[]){"Content-Type: application/json", NULL}, &r);
    ck_assert_msg(r.status == 200, "tx: %ld %s", r.status, r.body);
    doc = json_loads(r.body, 0, NULL);
    subst_str(P_TX, lx_str(doc, "tx_id"));
    json_decref(doc);
    lx_resp_free(&r);
    subst_take(P_REPLAY, text, n);
    /* the same with one character of the signature changed */
    text = signed_tx(&admin, LX_TEST_ORIGIN, "core", "org.register", "admin", 0, org_body("forged"),
                     &n);
    sig = strstr(text, "\"sig\":\"");
    ck_assert_ptr_nonnull(sig);
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    subst_take(P_FORGED, text, n);
    text = signed_tx(&admin, "lianxin.other/prod", "core", "org.register", "admin", 0,
                     org_body("otherchain"), &n);
    subst_take(P_CHAIN, text, n);
    text = signed_tx(&admin, LX_TEST_ORIGIN, "core", "org.register", "admin", 600000,
                     org_body("ahead"), &n);
    subst_take(P_SKEW, text, n);
    text = signed_tx(&admin, LX_TEST_ORIGIN, "core", "org.register", "admin", -600000,
                     org_body("behind"), &n);
    subst_take(P_PAST, text, n);
    text = signed_tx(&stranger, LX_TEST_ORIGIN, "core", "org.register", "admin", 0,
                     org_body("stranger"), &n);
    subst_take(P_UNKEY, text, n);
    text = signed_tx(&admin, LX_TEST_ORIGIN, "core", "org.register", "uni-a", 0, org_body("byuni"),
                     &n);
    subst_take(P_ORGKEY, text, n);
    text =
        signed_tx(&admin, LX_TEST_ORIGIN, "core", "org.register", "admin", 0, org_body(SQLI), &n);
    subst_take(P_SQLTX, text, n);
    text = signed_tx(&admin, LX_TEST_ORIGIN, "bank", "money.print", "admin", 0,
                     json_pack("{s:I}", "amount", (json_int_t)1000000), &n);
    subst_take(P_MODULE, text, n);
    big = org_body("big");
    json_object_set_new(big, "pad", json_string(subst[P_HUGE].p + (1u << 20) - 70000));
    text = signed_tx(&admin, LX_TEST_ORIGIN, "core", "org.register", "admin", 0, big, &n);
    subst_take(P_BIGTX, text, n);
    sodium_memzero(&admin, sizeof(admin));
    sodium_memzero(&stranger, sizeof(stranger));
}

static void edu(void)
{
    char path[200];
    json_t *doc =
        lx_expect(&srv, &cred[REG], "POST", "/api/edu/credentials",
                  json_pack("{s:s, s:s, s:s, s:s, s:s}", "org", "uni-a", "kind", "diploma", "name",
                            "Li Lei", "student_number", "2022010001", "student", "stu.dent"),
                  201);

    subst_str(P_CRED, lx_str(doc, "id"));
    json_decref(doc);
    snprintf(path, sizeof(path), "/api/edu/credentials/%s/shares", subst[P_CRED].p);
    doc = lx_expect(&srv, &cred[STUDENT], "POST", path, json_pack("{}"), 201);
    subst_str(P_SHARE, lx_str(doc, "token"));
    snprintf(path, sizeof(path), "%lld", (long long)json_integer_value(json_object_get(doc, "id")));
    subst_str(P_SHAREID, path);
    json_decref(doc);
}

static void evidence(void)
{
    char path[200];
    json_t *doc = lx_expect(&srv, &cred[CLERK], "POST", "/api/evidence/cases",
                            json_pack("{s:s, s:s, s:s, s:[s]}", "org", "court-b", "number",
                                      "(2026) Jing 0491 Min Chu 1", "title", "Zhang v. Li",
                                      "parties", "Zhang San"),
                            201);

    subst_str(P_CASE, lx_str(doc, "id"));
    json_decref(doc);
    snprintf(path, sizeof(path), "/api/evidence/cases/%s/grants", subst[P_CASE].p);
    json_decref(lx_expect(&srv, &cred[CLERK], "POST", path,
                          json_pack("{s:s, s:s}", "username", "c.lawyer", "party", "Zhang San"),
                          201));
    doc = lx_expect(&srv, &cred[CLERK], "POST", "/api/evidence/items",
                    json_pack("{s:s, s:s, s:s, s:s, s:I}", "case", subst[P_CASE].p, "sha256",
                              "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                              "title", "chat log", "kind", "chat_log", "size", (json_int_t)4),
                    201);
    subst_str(P_ITEM, lx_str(doc, "id"));
    json_decref(doc);
}

static void start(void)
{
    char now[32];
    long long t0 = lx_now_ms();

    memset(&srv, 0, sizeof(srv));
    memset(cred, 0, sizeof(cred));
    setenv("LIANXIN_ADMIN_PASSWORD", ADMIN_PW, 1); /* lianxind inherits it */
    lx_server_start(&srv, NULL);
    make_generated();
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL) * 1000);
    subst_str(P_NOW, now);
    lx_session_insert(srv.dbname, "admin", &cred[ADMIN]);
    admit("uni-a", "university");
    admit("court-b", "court");
    admit("firm-c", "law_firm");
    person(AADMIN, "a.admin", NULL, "uni-a", "org_admin");
    person(REG, "a.reg", NULL, "uni-a", "registrar");
    lx_role_grant(srv.dbname, "a.reg", "firm-c", "member");
    person(CLERK, "b.clerk", NULL, "court-b", "clerk");
    person(LAWYER, "c.lawyer", NULL, "firm-c", "member");
    person(OTHER, "d.other", NULL, "firm-c", "org_admin");
    person(REGUL, "reg.one", "regulator", NULL, NULL);
    json_decref(lx_expect(&srv, NULL, "POST", "/api/auth/signup",
                          json_pack("{s:s, s:s, s:s}", "username", "stu.dent", "password", USER_PW,
                                    "type", "student"),
                          201));
    lx_session_insert(srv.dbname, "stu.dent", &cred[STUDENT]);
    tokens();
    expired_session();
    txs();
    edu();
    evidence();
    subst_str(P_COOKIE, cred[REG].cookie);
    subst_str(P_CSRF, cred[REG].csrf);
    fprintf(stderr, "hostile catalogue: state set up in %lld ms\n", lx_now_ms() - t0);
}

static void stop(void)
{
    for (int i = 0; i < N_SUBST; i++) {
        free(subst[i].p);
        subst[i].p = NULL;
    }
    ck_assert_int_eq(lx_server_stop(&srv), 0);
}

/* ---- the database before and after -------------------------------------------------------- */

/* Output of a shell command as a new string. */
static char *run_capture(const char *cmd)
{
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    FILE *p = popen(cmd, "r");

    ck_assert_ptr_nonnull(p);
    do {
        if (n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        got = fread(buf + n, 1, 65536, p);
        n += got;
    } while (got > 0);
    buf[n] = '\0';
    ck_assert_msg(pclose(p) == 0, "%s failed", cmd);
    return buf;
}

/* Removes, in place, every line of text that starts with prefix. */
static void drop_lines(char *text, const char *prefix)
{
    char *r = text, *w = text;
    size_t n = strlen(prefix);

    while (*r != '\0') {
        size_t len = strcspn(r, "\n");

        if (r[len] == '\n')
            len++;
        if (strncmp(r, prefix, n) != 0) {
            memmove(w, r, len);
            w += len;
        }
        r += len;
    }
    *w = '\0';
}

static long long audit_rows(void)
{
    char *v = lx_db_value(srv.dbname, "SELECT count(*) FROM audit_log", 0, NULL);
    long long n = atoll(v);

    free(v);
    return n;
}

/* Waits until the audit log writer (asynchronous by design) has written every row it was
 * handed: the count holds still for half a second. Returns the count. */
static long long audit_settle(void)
{
    long long n = audit_rows(), still_since = lx_now_ms(), until = lx_now_ms() + 20000;

    while (lx_now_ms() - still_since < 500 && lx_now_ms() < until) {
        long long m;

        usleep(100000);
        m = audit_rows();
        if (m != n) {
            n = m;
            still_since = lx_now_ms();
        }
    }
    return n;
}

/* The whole database as text: pg_dump of everything, with the data of sessions and audit_log
 * written separately so that what a refused request may change there can be left out:
 * sessions.last_seen (every authenticated request touches it) and the session that was made
 * expired (presenting it ends it, by design); audit_log rows after audit_upto (every
 * state-changing request is logged, refused ones too; test_catalogue checks those rows). */
static char *snapshot(long long audit_upto)
{
    char cmd[1400], upto[32], *dump, *sess, *audit, *all;
    const char *params[2] = {expired_hash, upto};
    size_t n;

    snprintf(cmd, sizeof(cmd),
             "\"$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_dump\" -h '%s' "
             "-U lianxin --exclude-table-data=sessions --exclude-table-data=audit_log '%s'",
             lx_env("LIANXIN_TEST_PGHOST"), srv.dbname);
    dump = run_capture(cmd);
    /* pg_dump's \restrict key is random on every run (psql meta-command protection) */
    drop_lines(dump, "\\restrict ");
    drop_lines(dump, "\\unrestrict ");
    snprintf(upto, sizeof(upto), "%lld", audit_upto);
    sess = lx_db_value(srv.dbname,
                       "SELECT coalesce(string_agg(encode(id_hash, 'hex') || ' ' || user_id || "
                       "' ' || created_at, E'\\n' ORDER BY id_hash), '') FROM "
                       "sessions WHERE id_hash <> decode($1, 'hex')",
                       1, params);
    audit = lx_db_value(srv.dbname,
                        "SELECT coalesce(string_agg(a::text, E'\\n' ORDER BY id), '') FROM "
                        "audit_log a WHERE id <= $1::bigint",
                        1, params + 1);
    n = strlen(dump) + strlen(sess) + strlen(audit) + 64;
    all = malloc(n);
    ck_assert_ptr_nonnull(all);
    snprintf(all, n, "%s\n-- sessions\n%s\n-- audit_log\n%s\n", dump, sess, audit);
    free(dump);
    free(sess);
    free(audit);
    return all;
}

/* The first lines where a and b differ, via diff(1), into rep. */
static void report_diff(struct report *rep, const char *a, const char *b)
{
    char pa[512], pb[512], cmd[1200], *out;
    FILE *f;

    snprintf(pa, sizeof(pa), "%s/before.sql", srv.dir);
    snprintf(pb, sizeof(pb), "%s/after.sql", srv.dir);
    f = fopen(pa, "w");
    fputs(a, f);
    fclose(f);
    f = fopen(pb, "w");
    fputs(b, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "diff '%s' '%s' | head -40; true", pa, pb);
    out = run_capture(cmd);
    report_add(rep, "the database changed:\n%.6000s\n", out);
    free(out);
}

/* ---- sending ------------------------------------------------------------------------------ */

static void send_one(const struct hreq *q, const char *path, const char *body, size_t len,
                     struct lx_resp *out)
{
    const struct lx_cred *c = &cred[q->who & 0xff];
    char ctype[200], auth[300], csrf[200], extra[400];
    const char *h[6];
    int n = 0, write = strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0;

    if (body != NULL && (q->ctype == NULL || strcmp(q->ctype, "-") != 0)) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s",
                 q->ctype ? q->ctype : "application/json");
        h[n++] = ctype;
    } else if (body != NULL) {
        h[n++] = "Content-Type:"; /* libcurl: drop the one it would add */
    }
    if ((q->who & 0xff) == BASIC) {
        h[n++] = "Authorization: Basic YWRtaW46aG9zdGlsZQ==";
    } else if (c->bearer[0] != '\0') {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->bearer);
        h[n++] = auth;
    } else if (c->cookie[0] != '\0') {
        snprintf(auth, sizeof(auth), "Cookie: lx_session=%s", c->cookie);
        h[n++] = auth;
        if (write && !(q->who & NOCSRF)) {
            snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s",
                     (q->who & BADCSRF) ? cred[STUDENT].csrf : c->csrf);
            h[n++] = csrf;
        }
    }
    if (q->hdr != NULL) {
        snprintf(extra, sizeof(extra), "%s", q->hdr);
        h[n++] = extra;
    }
    h[n] = NULL;
    lx_http(&srv, q->method, path, body, len, h, out);
}

/* Is r's body JSON whose error code is code (or, code NULL, a 200 listing nothing)? Writes
 * what is wrong into why. */
static int answer_ok(long status, const char *body, size_t len, long want, const char *code,
                     char *why, size_t cap)
{
    json_t *doc = json_loadb(body, len, 0, NULL), *v;
    const char *key;
    int ok = 1;

    if (status != want) {
        snprintf(why, cap, "status %ld, wanted %ld", status, want);
        ok = 0;
    } else if (doc == NULL) {
        snprintf(why, cap, "not JSON");
        ok = 0;
    } else if (code != NULL && strcmp(lx_err_code(doc), code) != 0) {
        snprintf(why, cap, "code %s, wanted %s", lx_err_code(doc), code);
        ok = 0;
    } else if (code == NULL) {
        /* a search for an injection string: every list in the answer must be empty */
        json_object_foreach(doc, key, v)
        {
            if (json_is_array(v) && json_array_size(v) > 0) {
                snprintf(why, cap, "%s lists %zu entries", key, json_array_size(v));
                ok = 0;
            }
        }
    }
    json_decref(doc);
    return ok;
}

static int health_ok(void)
{
    struct lx_resp r;
    int ok;

    lx_http(&srv, "GET", "/api/health", NULL, 0, NULL, &r);
    ok = r.status == 200 && strstr(r.body, "\"ok\"") != NULL;
    lx_resp_free(&r);
    return ok;
}

static int connect_to(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Sends bytes while reading the answer (the server may answer before it has read them all),
 * until the server closes or ms pass; with hang_up, stops listening 300 ms after the last byte
 * went out. Returns a new buffer, its length in *got. */
static char *raw_exchange(const char *bytes, size_t n, int hang_up, int ms, size_t *got)
{
    int fd = connect_to(srv.port), done = 0;
    size_t sent = 0, have = 0, cap = 65536;
    char *buf = malloc(cap);
    long long until = lx_now_ms() + ms;

    ck_assert_ptr_nonnull(buf);
    while (!done && lx_now_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < n ? POLLOUT : 0)};

        if (poll(&p, 1, 50) <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < n) {
            ssize_t w = send(fd, bytes + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

            if (w > 0)
                sent += (size_t)w;
            else if (errno != EAGAIN && errno != EINTR)
                sent = n; /* the server stopped reading: it answered or hung up */
            if (sent == n && hang_up)
                until = lx_now_ms() + 300; /* it must wait for the rest, not answer */
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r;

            if (have + 4096 > cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                ck_assert_ptr_nonnull(buf);
            }
            r = read(fd, buf + have, cap - have - 1);
            if (r <= 0)
                done = 1;
            else
                have += (size_t)r;
        }
    }
    close(fd);
    buf[have] = '\0';
    *got = have;
    return buf;
}

/* Checks one raw request; problems into rep. */
static void raw_one(const struct raw *q, size_t i, struct report *rep)
{
    size_t n, got;
    char *bytes = expand(q->text, &n), *ans, why[200];
    const char *body;
    long status = 0;

    ans = raw_exchange(bytes, n, q->hang_up, 10000, &got);
    if (got >= 12 && strncmp(ans, "HTTP/1.1 ", 9) == 0)
        status = strtol(ans + 9, NULL, 10);
    body = strstr(ans, "\r\n\r\n");
    body = body ? body + 4 : ans + got;
    if (q->status == 0) {
        if (got != 0)
            report_add(rep, "raw %zu: answered, wanted a hang-up: %.200s\n", i, ans);
    } else if (q->code == NULL) {
        if (status != q->status || strstr(ans, "Connection: close") == NULL)
            report_add(rep, "raw %zu: %ld, wanted %ld and Connection: close: %.200s\n", i, status,
                       q->status, ans);
    } else if (!answer_ok(status, body, got - (size_t)(body - ans), q->status, q->code, why,
                          sizeof(why))) {
        report_add(rep, "raw %zu (%.40s): %s: %.300s\n", i, q->text, why, ans);
    }
    if (strstr(ans, "\r\nX-Injected") != NULL || strstr(ans, "\r\nSet-Cookie: lx_session=evil"))
        report_add(rep, "raw %zu: an injected header came back: %.300s\n", i, ans);
    free(ans);
    free(bytes);
}

/* ---- the tests ---------------------------------------------------------------------------- */

/* Does path (its query cut off) match the route pattern, ":name" matching any segment? */
static int path_matches(const char *pattern, const char *path)
{
    size_t plen = strcspn(path, "?");

    while (*pattern != '\0' && plen > 0) {
        size_t a = strcspn(pattern + 1, "/") + 1, b = 1;

        while (b < plen && path[b] != '/')
            b++;
        if (pattern[0] != '/' || path[0] != '/')
            return 0;
        if (pattern[1] != ':' && (a != b || strncmp(pattern, path, a) != 0))
            return 0;
        if (pattern[1] == ':' && b < 2)
            return 0;
        pattern += a;
        path += b;
        plen -= b;
    }
    return *pattern == '\0' && plen == 0;
}

/* The live route table (`lianxind routes`) as a new JSON array. */
static json_t *live_routes(void)
{
    char cmd[1024], line[4096];
    json_t *all = json_array();
    FILE *p;

    snprintf(cmd, sizeof(cmd), "'%s' routes", lx_env("LIANXIN_TEST_BIN"));
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    while (fgets(line, sizeof(line), p) != NULL) {
        json_t *rt = json_loads(line, 0, NULL);

        ck_assert_msg(rt != NULL, "lianxind routes printed '%s'", line);
        json_array_append_new(all, rt);
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_gt(json_array_size(all), 0);
    return all;
}

/* A route is covered by a request of its method to a path it matches, or by a request with
 * another method to such a path that must get 405 (routes that take no input at all, like
 * /api/health, have no other way to be asked something wrong). */
START_TEST(every_route_has_hostile_requests)
{
    json_t *live = live_routes(), *rt;
    struct report rep = {.len = 0};
    size_t i;

    json_array_foreach(live, i, rt)
    {
        const char *method = json_string_value(json_object_get(rt, "method"));
        const char *pattern = json_string_value(json_object_get(rt, "pattern"));
        unsigned hits = 0;

        for (size_t k = 0; k < N_CATALOGUE; k++)
            if ((strcmp(catalogue[k].method, method) == 0 || catalogue[k].status == 405) &&
                path_matches(pattern, catalogue[k].path))
                hits++;
        if (hits == 0)
            report_add(&rep, "%s %s has no hostile request in tests/integ/test_hostile.c\n", method,
                       pattern);
    }
    json_decref(live);
    ck_assert_msg(rep.n == 0, "%u route(s) without hostile requests:\n%s", rep.n, rep.text);
}
END_TEST

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does code appear in the text of docs/API.md as a word of its own inside `…`, as in
 * "`duplicate_tx`" or "`409 not_frozen`"? */
static int documented(const char *api, const char *code)
{
    size_t n = strlen(code);

    for (const char *p = strstr(api, code); p != NULL; p = strstr(p + 1, code)) {
        const char *tick = p;

        if ((p > api && is_word_char(p[-1])) || is_word_char(p[n]))
            continue;
        while (tick > api && *tick != '`' && *tick != '\n')
            tick--;
        if (*tick == '`' && strchr(p + n, '`') != NULL &&
            strchr(p + n, '`') < (strchr(p + n, '\n') ? strchr(p + n, '\n') : p + n + 1000))
            return 1;
    }
    return 0;
}

/* Every code the catalogue expects is documented in docs/API.md. */
START_TEST(every_code_is_documented)
{
    char web[600], *api, path[700], needle[80];
    struct report rep = {.len = 0};

    /* LIANXIN_TEST_WEB is <repo>/tests/integ/web, which need not exist */
    snprintf(web, sizeof(web), "%s", lx_env("LIANXIN_TEST_WEB"));
    snprintf(path, sizeof(path), "%s/docs/API.md", dirname(dirname(dirname(web))));
    api = lx_read_file(path);
    ck_assert_msg(api != NULL, "cannot read %s", path);
    for (size_t i = 0; i < N_CATALOGUE + N_RAW; i++) {
        const char *code = i < N_CATALOGUE ? catalogue[i].code : raw[i - N_CATALOGUE].code;

        if (code == NULL)
            continue;
        snprintf(needle, sizeof(needle), "`%s`", code);
        if (!documented(api, code) && strstr(rep.text, needle) == NULL)
            report_add(&rep, "%s\n", needle);
    }
    free(api);
    ck_assert_msg(rep.n == 0, "error codes not in docs/API.md:\n%s", rep.text);
}
END_TEST

START_TEST(catalogue_refused_and_nothing_changes)
{
    struct report rep = {.len = 0};
    long long audit_before, audit_after, t0 = lx_now_ms();
    char *before, *after, *v, upto[32], cats[600] = "";
    const char *params[1] = {upto};
    unsigned sent = 0;

    audit_before = audit_settle();
    before = snapshot(audit_before);
    for (size_t i = 0; i < N_CATALOGUE; i++) {
        const struct hreq *q = &catalogue[i];
        size_t plen, blen = 0;
        char *path = expand(q->path, &plen), *body = q->body ? expand(q->body, &blen) : NULL;
        char why[200];
        struct lx_resp r;

        send_one(q, path, body, blen, &r);
        sent++;
        if (!answer_ok(r.status, r.body, r.len, q->status, q->code, why, sizeof(why)))
            report_add(&rep, "#%zu %s %s as %d (%s): %s: %.200s\n", i, q->method, q->path, q->who,
                       q->cat, why, r.body);
        if (strstr(r.headers, "X-Injected") != NULL)
            report_add(&rep, "#%zu %s %s: an injected header came back\n", i, q->method, q->path);
        if (!health_ok())
            report_add(&rep, "#%zu %s %s: health does not answer 200 after it\n", i, q->method,
                       q->path);
        lx_resp_free(&r);
        free(path);
        free(body);
    }
    for (size_t i = 0; i < N_RAW; i++) {
        raw_one(&raw[i], i, &rep);
        sent++;
        if (!health_ok())
            report_add(&rep, "raw %zu: health does not answer 200 after it\n", i);
    }
    audit_after = audit_settle();
    after = snapshot(audit_before);
    if (strcmp(before, after) != 0)
        report_diff(&rep, before, after);
    /* The audit log holds one row per refused state-changing request, each a refusal. */
    snprintf(upto, sizeof(upto), "%lld", audit_before);
    v = lx_db_value(srv.dbname,
                    "SELECT coalesce(string_agg(method || ' ' || target || ' ' || status, "
                    "E'\\n'), '') FROM audit_log WHERE id > $1::bigint AND (status BETWEEN 1 "
                    "AND 399 OR status >= 500)",
                    1, params);
    if (v[0] != '\0')
        report_add(&rep, "audit rows that are not refusals:\n%.2000s\n", v);
    free(v);
    if (audit_after - audit_before < 100)
        report_add(&rep, "only %lld new audit rows for the refused writes\n",
                   audit_after - audit_before);
    for (size_t i = 0; i < N_CATALOGUE + N_RAW; i++) {
        const char *cat = i < N_CATALOGUE ? catalogue[i].cat : raw[i - N_CATALOGUE].cat;
        char key[40];

        snprintf(key, sizeof(key), " %s ", cat);
        if (strstr(cats, key) == NULL)
            snprintf(cats + strlen(cats), sizeof(cats) - strlen(cats), "%s", key + (cats[0] != 0));
    }
    fprintf(stderr,
            "hostile catalogue: %u requests (%zu via libcurl, %zu raw), %lld audit rows of "
            "refusals, %lld ms; categories: %s\n",
            sent, N_CATALOGUE, N_RAW, audit_after - audit_before, lx_now_ms() - t0, cats);
    free(before);
    free(after);
    ck_assert_uint_ge(sent, 220);
    if (rep.n > 0)
        fprintf(stderr, "%s", rep.text); /* too long for a Check message */
    ck_assert_msg(rep.n == 0, "%u problem(s), listed above", rep.n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("table");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, every_route_has_hostile_requests);
    tcase_add_test(tc, every_code_is_documented);
    suite_add_tcase(s, tc);
    tc = tcase_create("catalogue");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_add_test(tc, catalogue_refused_and_nothing_changes);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
