/*
 * Integration test harness: starts a real lianxind (LIANXIN_TEST_BIN) on an ephemeral port,
 * with a fresh database on the throwaway cluster that scripts/test made, and talks HTTP to it
 * with libcurl. Nothing is mocked.
 */
#ifndef LX_TEST_HARNESS_H
#define LX_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

struct lx_server {
    pid_t pid;          /* lianxind, or 0 */
    unsigned port;      /* bound port */
    char url[64];       /* http://127.0.0.1:port */
    char dbname[64];    /* fresh database */
    char conninfo[512]; /* LIANXIN_DB given to lianxind */
    char dir[300];      /* its data folder, web folder, logs */
    char log[400];      /* access log file */
    char err[400];      /* stderr file */
};

struct lx_resp {
    long status; /* HTTP status, 0 if the request failed */
    char *body;  /* NUL-terminated (owned) */
    size_t len;
    char headers[8192]; /* raw response headers */
};

/* Creates a fresh database and returns its name in out (cap >= 64). Aborts the test on error. */
void lx_db_create(char *out, size_t cap);

/* Runs one SQL statement on database dbname; returns 0 if it succeeded. */
int lx_db_exec(const char *dbname, const char *sql);

/* Runs sql on dbname and puts the SQLSTATE it failed with in state, or "" when it succeeded. */
void lx_db_sqlstate(const char *dbname, const char *sql, char state[6]);

/* Starts lianxind with a fresh database (unless s->dbname is set) and data folder. extra_args
 * (NULL-terminated, may be NULL) are appended to its command line. It inherits the test's
 * environment, with LIANXIN_AUDIT_ANCHOR_MS=0 (no audit anchor txs) unless that is set. Fails
 * the test if it does not listen within 15 s. */
void lx_server_start(struct lx_server *s, const char *const *extra_args);

/* Sends SIGTERM and waits up to 20 s; returns the exit status, or -signal, or -1000 on
 * timeout (then it is killed). */
int lx_server_stop(struct lx_server *s);

/* One HTTP request. body may be NULL; headers is a NULL-terminated list of "Name: value". */
void lx_http(struct lx_server *s, const char *method, const char *path, const char *body,
             size_t len, const char *const *headers, struct lx_resp *out);
void lx_resp_free(struct lx_resp *r);

/* Header value of r (case-insensitive name) into buf, or NULL. */
const char *lx_header(const struct lx_resp *r, const char *name, char *buf, size_t cap);

/* Reads a whole file into a new string (free()), or NULL. */
char *lx_read_file(const char *path);

/* Monotonic milliseconds. */
long long lx_now_ms(void);

/* Environment the tests need; aborts with a message when run outside scripts/test. */
const char *lx_env(const char *name);

#endif

/* ---- ledger helpers -------------------------------------------------------------------- */

#include "../../chain/note.h"
#include "../../chain/tx.h"

/* Reads s's consortium admin key (LIANXIN_DATA/admin.key). */
void lx_admin_key(const struct lx_server *s, struct chain_note_signer *out);

/* The chain origin the test servers use (lianxind's default). */
#define LX_TEST_ORIGIN "lianxin.local/dev"

/* Builds and signs a tx for s's chain, time now: module/type/org, body stolen. Returns the
 * envelope (json_decref it). */
json_t *lx_tx(const struct chain_note_signer *k, const char *module, const char *type,
              const char *org, json_t *body);

/* POSTs a JSON value (borrowed: one tx or an array) to /api/chain/tx. */
void lx_submit(struct lx_server *s, const json_t *doc, struct lx_resp *out);

/* A fresh Ed25519 key named name. */
void lx_keygen(const char *name, struct chain_note_signer *out);

/* base64 of k's public key, into out (cap >= 45). */
void lx_pub_b64(const struct chain_note_signer *k, char *out, size_t cap);

/* ---- auth helpers ---------------------------------------------------------------------- */

/* A caller: a session (cookie and its CSRF token), a bearer token, or nobody (all empty). */
struct lx_cred {
    char user[64];    /* the account, for messages */
    char cookie[64];  /* lx_session value, or "" */
    char csrf[64];    /* the session's X-CSRF-Token */
    char bearer[128]; /* an API token, or "" */
};

/* Runs sql with n text parameters on dbname; returns 0 if it succeeded. */
int lx_db_exec_params(const char *dbname, const char *sql, int n, const char *const *params);

/* The first column of the first row of sql as a new string (free()), or NULL when there is no
 * row. Fails the test when the statement fails. */
char *lx_db_value(const char *dbname, const char *sql, int n, const char *const *params);

/* Creates an account straight in the database, its password hashed as lianxind hashes it;
 * node_role is NULL, "admin" or "regulator". */
void lx_user_add(const char *dbname, const char *username, const char *password,
                 const char *node_role);

/* Grants username role in org (rows in roles). */
void lx_role_grant(const char *dbname, const char *username, const char *org, const char *role);

/* Admits organisation id of type through the ledger (org.register signed with s's admin key). */
void lx_org_add(struct lx_server *s, const char *id, const char *type);

/* POST /api/auth/login. On 200 fills *out (cookie from Set-Cookie, csrf from the body); returns
 * the status. */
long lx_login(struct lx_server *s, const char *user, const char *password, struct lx_cred *out);

/* A session for username made straight in the database, no password work: for requests that
 * spend one (logout, password change). */
void lx_session_insert(const char *dbname, const char *username, struct lx_cred *out);

/* One request as who (may be NULL: anonymous): Cookie, X-CSRF-Token on writes, or
 * Authorization: Bearer; json (may be NULL) is sent as application/json. */
void lx_http_as(struct lx_server *s, const struct lx_cred *who, const char *method,
                const char *path, const char *json, struct lx_resp *out);

/* The value of cookie name in r's Set-Cookie header into buf, or NULL. */
const char *lx_set_cookie(const struct lx_resp *r, const char *name, char *buf, size_t cap);

/* ---- JSON calls as a caller -------------------------------------------------------------- */

/* When not empty, lx_call appends every answer body to this file, one per line: for tests that
 * search what the server handed out for secrets. */
extern char lx_answers_file[512];

/* One request as who (NULL: anonymous) with body (stolen, may be NULL); the answer must be JSON.
 * Returns it (json_decref it) and its status in *status. */
json_t *lx_call(struct lx_server *s, const struct lx_cred *who, const char *method,
                const char *path, json_t *body, long *status);

/* lx_call that fails the test unless the status is want. */
json_t *lx_expect(struct lx_server *s, const struct lx_cred *who, const char *method,
                  const char *path, json_t *body, long want);

/* lx_expect of a DESIGN §3.4 error with this status and code. */
void lx_expect_error(struct lx_server *s, const struct lx_cred *who, const char *method,
                     const char *path, json_t *body, long want, const char *code);

/* Records a secret a test made or was handed (kind and context make its label; values under 8
 * bytes are skipped) for scripts/secrets-check, which fails when one shows up in the database
 * dump, a log or an HTTP answer after all suites ran. The harness records on its own what
 * passes through it: passwords sent, session cookies, CSRF tokens, API and share tokens and
 * temporary passwords handed out, lianxind's key files and custodial keys. lx_secret_bin takes
 * raw bytes (up to 64). */
void lx_secret(const char *kind, const char *context, const char *value);
void lx_secret_bin(const char *kind, const char *context, const uint8_t *bin, size_t n);

/* The error code of an answer, or "(no error code)". */
const char *lx_err_code(const json_t *doc);

/* A string member that must be there. */
const char *lx_str(const json_t *o, const char *key);
