/*
 * Organisations, people and roles (admin_api.h). Reads answer straight from PostgreSQL. A write
 * that puts txs on the ledger runs as a job on a thread of its own: it needs database work
 * after the block has committed (link an account, retire a key, clean up after a refusal),
 * and the sequencer's callback must not block, nor may an HTTP worker wait for a block. The
 * request stays suspended meanwhile and the job answers it.
 *
 * No partial change: everything a write needs is checked before anything is stored; what is
 * stored before a tx (a custodial key, an account) is removed again when the tx is refused.
 */
#define _GNU_SOURCE
#include "admin_api.h"
#include "auth.h"
#include "custody.h"
#include "db.h"
#include "http.h"
#include "seq.h"
#include "server.h"
#include "../chain/tx.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_PASSWORD 10
#define MAX_PASSWORD 1024
#define MAX_NAME     200
#define MAX_JOBS     32   /* ledger writes waiting at once; more get 503 */
#define DB_WAIT_MS   5000 /* a job waits this long for a database connection */
#define PK_B64_LEN   45   /* base64 of 32 bytes with its NUL */

static const char *const org_types[] = {"university", "court",   "notary",  "law_firm",
                                        "publisher",  "charity", "auditor", "market_operator",
                                        "regulator",  NULL};
static const char *const person_types[] = {"student", "donor",  "prosumer",
                                           "author",  "lawyer", NULL};

/* ---- small helpers ------------------------------------------------------------------------- */

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* ^[a-z0-9][a-z0-9._-]{min-1,63}$: ledger ids (min 1, docs/LEDGER.md §3) and usernames (3). */
static int name_valid(const char *s, size_t min)
{
    size_t n = strlen(s);

    if (n < min || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
    }
    return 1;
}

static int id_valid(const char *id)
{
    return name_valid(id, 1) && strcmp(id, "admin") != 0;
}

static const char *body_str(struct srv_req *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static void pk_b64(const uint8_t pk[32], char out[PK_B64_LEN])
{
    sodium_bin2base64(out, PK_B64_LEN, pk, 32, sodium_base64_VARIANT_ORIGINAL);
}

static PGresult *run(PGconn *c, const char *stmt, int n, const char *const *params)
{
    return PQexecPrepared(c, stmt, n, params, NULL, NULL, 0);
}

static int cmd_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

    PQclear(res);
    return ok;
}

static unsigned db_down(struct srv_req *r)
{
    return srv_reply_error(r, 503, "db_unavailable", "the database did not answer", NULL);
}

static unsigned no_org(struct srv_req *r)
{
    return srv_reply_error(r, 404, "not_found", "no such organisation", NULL);
}

/* Is id a registered organisation? 1 yes, 0 no (absent or an individual), -1 database error. */
static int org_exists(PGconn *c, const char *id)
{
    const char *params[1] = {id};
    PGresult *res = run(c, "admin_principal_get", 1, params);
    int rc = -1;

    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "org") == 0;
    PQclear(res);
    return rc;
}

/* Does a principal with this id exist, or is it reserved by a pending sign-up? 1, 0, -1. */
static int principal_taken(PGconn *c, const char *id)
{
    const char *params[1] = {id};
    PGresult *res = run(c, "admin_principal_taken", 1, params);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) > 0 : -1;

    PQclear(res);
    return rc;
}

/* The id of username (> 0), 0 when there is none, -1 on a database error. */
static int64_t user_id_of(PGconn *c, const char *username)
{
    const char *params[1] = {username};
    PGresult *res = run(c, "admin_user_id", 1, params);
    int64_t id = -1;

    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        id = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return id;
}

/* Checks a new password (given, or NULL for a temporary one) and hashes it into hash
 * (crypto_pwhash_STRBYTES). A temporary password is written to temp (cap >= 44). Returns 0, or
 * the status already answered. */
static unsigned new_password(struct srv_req *r, const char *given, char *temp, size_t cap,
                             char *hash)
{
    uint8_t unused[32];
    int rc;

    temp[0] = '\0';
    if (given != NULL && (strlen(given) < MIN_PASSWORD || strlen(given) > MAX_PASSWORD))
        return srv_reply_error(r, 422, "weak_password", "a password needs 10 to 1024 characters",
                               "password");
    if (given == NULL)
        srv_secret_new(temp, cap, unused);
    rc = srv_password_hash(given ? given : temp, hash);
    if (rc != 0) {
        sodium_memzero(temp, cap);
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    }
    return 0;
}

/* ---- jobs: a suspended request answered from a thread of its own --------------------------- */

struct job {
    struct srv_req *r;                           /* suspended until the job answers */
    unsigned (*run)(struct job *j);              /* answers r (on the job's thread) */
    char a[128], b[MAX_NAME + 1], t[32], d[128]; /* the request's strings, by meaning per job */
    char hash[crypto_pwhash_STRBYTES];           /* a password hash to store */
};

static atomic_int jobs_running;

static void job_free(struct job *j)
{
    sodium_memzero(j, sizeof(*j));
    free(j);
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct srv_req *r = j->r;

    j->run(j);
    job_free(j);
    atomic_fetch_sub(&jobs_running, 1);
    srv_req_resume(r); /* r belongs to libmicrohttpd again from here */
    return NULL;
}

/* Suspends r and runs j (stolen) on a new thread. Returns SRV_ASYNC, or the status answered
 * when too many jobs run already. */
static unsigned job_start(struct srv_req *r, struct job *j)
{
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    j->r = r;
    if (atomic_fetch_add(&jobs_running, 1) >= MAX_JOBS) {
        atomic_fetch_sub(&jobs_running, 1);
        job_free(j);
        return srv_reply_error(r, 503, "busy", "too many ledger writes in progress; retry", NULL);
    }
    srv_req_suspend(r);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, job_main, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        job_free(j);
        atomic_fetch_sub(&jobs_running, 1);
        srv_reply_error(r, 503, "busy", "cannot start a thread", NULL);
        srv_req_resume(r);
    }
    return SRV_ASYNC;
}

static struct job *job_new(unsigned (*fn)(struct job *))
{
    struct job *j = calloc(1, sizeof(*j));

    if (j != NULL)
        j->run = fn;
    return j;
}

/* A connection for a job. Jobs hold none while they wait for a block, so that a burst of
 * ledger writes does not drain the pool the HTTP workers need. */
static PGconn *job_db(struct job *j)
{
    return db_acquire(j->r->srv->pool, DB_WAIT_MS, NULL);
}

static void job_db_done(struct job *j, PGconn *c)
{
    if (c != NULL)
        db_release(j->r->srv->pool, c);
}

/* ---- putting a tx on the ledger from a job ------------------------------------------------- */

struct ledger_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;          /* decided */
    unsigned status;   /* 200 or the refusal's status */
    char code[48];     /* refusal code */
    char message[200]; /* refusal sentence */
    char detail[120];  /* refusal detail, may be "" */
    char tx_id[65];    /* committed: the tx id */
    uint64_t leaf;     /* committed: its leaf index */
    uint64_t height;   /* committed: its block */
};

static void ledger_decided(void *ctx, const struct seq_item *it)
{
    struct ledger_wait *w = ctx;

    pthread_mutex_lock(&w->mu);
    w->status = it->status;
    snprintf(w->code, sizeof(w->code), "%s", it->code);
    snprintf(w->message, sizeof(w->message), "%s", it->message);
    snprintf(w->detail, sizeof(w->detail), "%s", it->detail);
    if (it->status == 200) {
        snprintf(w->tx_id, sizeof(w->tx_id), "%s", it->tx->id_hex);
        w->leaf = it->leaf_index;
        w->height = it->height;
    }
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Submits env (stolen; NULL means it could not be built) and waits until it is decided; not
 * for HTTP workers. w->status is 200 or the refusal (503 when it could not be submitted). */
static void ledger_put(struct srv *s, json_t *env, struct ledger_wait *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (env == NULL || srv_ledger_submit(s, env, ledger_decided, w) != 0) {
        w->status = 503;
        snprintf(w->code, sizeof(w->code), "busy");
        snprintf(w->message, sizeof(w->message), "the tx could not be built or submitted");
        w->done = 1;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    json_decref(env);
}

static unsigned refusal(struct srv_req *r, const struct ledger_wait *w)
{
    return srv_reply_error(r, w->status, w->code, w->message, w->detail[0] ? w->detail : NULL);
}

/* The signer of a built envelope, into pk. Returns 0 or -1. */
static int signer_of(const json_t *env, uint8_t pk[32])
{
    const char *b64 = json_string_value(json_object_get(env, "signer"));
    size_t n = 0;

    if (b64 == NULL ||
        sodium_base642bin(pk, 32, b64, strlen(b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != 32)
        return -1;
    return 0;
}

/* Deletes a custodial key that never reached the ledger (c may be NULL: then one is taken).
 * Should the database fail here, the row stays and is logged: it would be principal's newest
 * key, so it must be deleted by hand. */
static void custody_drop(struct job *j, PGconn *c, const uint8_t pk[32], const char *principal)
{
    PGconn *own = c != NULL ? NULL : job_db(j), *use = c != NULL ? c : own;
    char hex[65];
    const char *params[2] = {hex, principal};
    PGresult *res = NULL;

    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    if (use != NULL)
        res = run(use, "admin_custody_delete", 2, params);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        srv_log_error("cannot delete the refused custodial key %s of %s; delete that "
                      "custody_keys row by hand",
                      hex, principal);
    PQclear(res);
    job_db_done(j, own);
}

/* ---- organisations ------------------------------------------------------------------------- */

/* Job of POST /api/orgs: a = id, b = name, t = type. */
static unsigned org_admit(struct job *j)
{
    struct srv_req *r = j->r;
    struct ledger_wait w;
    uint8_t pk[32];
    char b64[PK_B64_LEN];
    PGconn *c = job_db(j);
    json_t *env;
    int made = c != NULL && srv_custody_new_key(r->srv, c, j->a, pk) == 0;

    job_db_done(j, c);
    if (!made)
        return db_down(r);
    pk_b64(pk, b64);
    env = srv_admin_sign(
        r->srv, "core", "org.register",
        json_pack("{s:s, s:s, s:s, s:s}", "id", j->a, "name", j->b, "type", j->t, "key", b64));
    ledger_put(r->srv, env, &w);
    if (w.status != 200) {
        custody_drop(j, NULL, pk, j->a); /* refused: the key must not stay behind */
        return refusal(r, &w);
    }
    snprintf(r->tx_id, sizeof(r->tx_id), "%s", w.tx_id);
    return srv_reply_json(r, 201,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "id", j->a, "name", j->b,
                                    "type", j->t, "public_key", b64, "tx_id", w.tx_id, "leaf_index",
                                    (json_int_t)w.leaf, "height", (json_int_t)w.height));
}

/* POST /api/orgs {"id","name","type"} */
static unsigned org_create(struct srv_req *r)
{
    const char *id = body_str(r, "id"), *name = body_str(r, "name"), *type = body_str(r, "type");
    struct job *j;
    PGconn *c;
    int taken;

    if (id == NULL || name == NULL || type == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "send id, name and type as strings", NULL);
    if (!id_valid(id))
        return srv_reply_error(r, 422, "invalid_body",
                               "id must match [a-z0-9][a-z0-9._-]{0,63} and not be admin", "id");
    if (strlen(name) == 0 || strlen(name) > MAX_NAME)
        return srv_reply_error(r, 422, "invalid_body", "name must have 1 to 200 bytes", "name");
    if (!in_list(type, org_types))
        return srv_reply_error(r, 422, "invalid_body", "type is not an organisation type", "type");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    taken = principal_taken(c, id);
    db_release(r->srv->pool, c);
    if (taken < 0)
        return db_down(r);
    if (taken)
        return srv_reply_error(r, 409, "principal_exists", "this id is already registered", "id");
    if ((j = job_new(org_admit)) == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    snprintf(j->a, sizeof(j->a), "%s", id);
    snprintf(j->b, sizeof(j->b), "%s", name);
    snprintf(j->t, sizeof(j->t), "%s", type);
    return job_start(r, j);
}

/* GET /api/orgs */
static unsigned org_list(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 1000, NULL);
    PGresult *res;
    json_t *arr;

    if (c == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    res = run(c, "admin_orgs", 0, NULL);
    db_release(r->srv->pool, c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return db_down(r);
    }
    arr = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "id",
                                             PQgetvalue(res, i, 0), "name", PQgetvalue(res, i, 1),
                                             "type", PQgetvalue(res, i, 2), "leaf_index",
                                             (json_int_t)strtoll(PQgetvalue(res, i, 3), NULL, 10),
                                             "tx_id", PQgetvalue(res, i, 4), "active_keys",
                                             (json_int_t)strtoll(PQgetvalue(res, i, 5), NULL, 10)));
    PQclear(res);
    return srv_reply_json(r, 200, json_pack("{s:o}", "orgs", arr));
}

static json_t *leaf_or_null(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    return json_integer((json_int_t)strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static json_t *str_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

/* GET /api/orgs/:org: the org and the history of its keys. */
static unsigned org_get(struct srv_req *r)
{
    const char *id = srv_req_param(r, "org");
    const char *params[1] = {id};
    PGconn *c;
    PGresult *org = NULL, *keys = NULL;
    json_t *arr;
    unsigned status;

    if (!id_valid(id))
        return no_org(r);
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    org = run(c, "admin_org", 1, params);
    keys = run(c, "admin_org_keys", 1, params);
    db_release(r->srv->pool, c);
    if (PQresultStatus(org) != PGRES_TUPLES_OK || PQresultStatus(keys) != PGRES_TUPLES_OK) {
        status = db_down(r);
        goto out;
    }
    if (PQntuples(org) != 1) {
        status = no_org(r);
        goto out;
    }
    arr = json_array();
    for (int i = 0; i < PQntuples(keys); i++)
        json_array_append_new(
            arr,
            json_pack("{s:s, s:I, s:s, s:o, s:o, s:b, s:b}", "key", PQgetvalue(keys, i, 0),
                      "added_leaf", (json_int_t)strtoll(PQgetvalue(keys, i, 1), NULL, 10),
                      "added_tx", PQgetvalue(keys, i, 2), "revoked_leaf", leaf_or_null(keys, i, 3),
                      "revoked_tx", str_or_null(keys, i, 4), "active", PQgetisnull(keys, i, 3),
                      "custodial", strcmp(PQgetvalue(keys, i, 5), "t") == 0));
    status =
        srv_reply_json(r, 200,
                       json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "id", PQgetvalue(org, 0, 0),
                                 "name", PQgetvalue(org, 0, 1), "type", PQgetvalue(org, 0, 2),
                                 "leaf_index", (json_int_t)strtoll(PQgetvalue(org, 0, 3), NULL, 10),
                                 "tx_id", PQgetvalue(org, 0, 4), "keys", arr));
out:
    PQclear(keys);
    PQclear(org);
    return status;
}

/* ---- key rotation -------------------------------------------------------------------------- */

/* One rotation at a time: two at once for the same org would each revoke the other's key. */
static pthread_mutex_t rotate_mu = PTHREAD_MUTEX_INITIALIZER;

#define MAX_OLD_KEYS 8

/* The org's custodial keys that are active on the ledger, oldest first, into keys (hex). */
static int active_custodial(PGconn *c, const char *org, char keys[][65], size_t cap, size_t *n)
{
    const char *params[1] = {org};
    PGresult *res = run(c, "admin_custody_active", 1, params);

    *n = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res) && *n < cap; i++)
        snprintf(keys[(*n)++], 65, "%s", PQgetvalue(res, i, 0));
    PQclear(res);
    return 0;
}

static int hex_in(const uint8_t pk[32], char keys[][65], size_t n)
{
    char hex[65];

    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    for (size_t i = 0; i < n; i++)
        if (strcmp(hex, keys[i]) == 0)
            return 1;
    return 0;
}

/* Makes the new key and the key.add for it, signed by a current key. The new key's row is
 * written inside a transaction left open on c: the caller commits it once key.add is on the
 * ledger (until then every custodial signature still uses an old key, which is valid) or rolls
 * it back when key.add is refused. The tx is signed on a second connection, which does not see
 * the uncommitted row, so the signer is one of the old keys (checked). Returns the envelope,
 * or NULL with nothing left open. */
static json_t *rotation_add(struct job *j, PGconn *c, const char *org, char old[][65], size_t n_old,
                            uint8_t pk[32])
{
    PGconn *c2 = job_db(j);
    char b64[PK_B64_LEN], err[160];
    uint8_t signer[32];
    json_t *env = NULL;

    if (c2 == NULL || !cmd_ok(c, "BEGIN"))
        goto out;
    if (srv_custody_new_key(j->r->srv, c, org, pk) != 0)
        goto out;
    pk_b64(pk, b64);
    env = srv_custody_sign(j->r->srv, c2, org, "core", "key.add",
                           json_pack("{s:s, s:s}", "principal", org, "key", b64), err, sizeof(err));
    if (env != NULL && (signer_of(env, signer) != 0 || !hex_in(signer, old, n_old))) {
        srv_log_error("key rotation of %s: key.add not signed by a current key", org);
        json_decref(env);
        env = NULL;
    }
out:
    if (env == NULL)
        PQclear(PQexec(c, "ROLLBACK"));
    job_db_done(j, c2);
    return env;
}

/* Revokes old (hex) for org with the new custodial key pk, then retires old. Fills *w; returns
 * 0, or -1 when the old key could not be retired after its revocation. */
static int rotation_revoke(struct job *j, PGconn *c, const char *org, const char *old,
                           const uint8_t pk[32], struct ledger_wait *w, char old_b64[PK_B64_LEN])
{
    uint8_t old_pk[32], signer[32];
    char err[160];
    json_t *env = NULL;

    if (sodium_hex2bin(old_pk, 32, old, 64, NULL, NULL, NULL) == 0) {
        pk_b64(old_pk, old_b64);
        env = srv_custody_sign(j->r->srv, c, org, "core", "key.revoke",
                               json_pack("{s:s, s:s}", "principal", org, "key", old_b64), err,
                               sizeof(err));
    }
    if (env != NULL && (signer_of(env, signer) != 0 || memcmp(signer, pk, 32) != 0)) {
        json_decref(env); /* custody would not sign with the new key: do not guess */
        env = NULL;
    }
    ledger_put(j->r->srv, env, w);
    if (w->status != 200)
        return 0;
    return srv_custody_retire(c, old_pk) == 0 ? 0 : -1;
}

/* Job of POST /api/orgs/:org/keys/rotate: a = org. */
static unsigned org_rotate_job(struct job *j)
{
    struct srv_req *r = j->r;
    const char *org = j->a;
    char old[MAX_OLD_KEYS][65], new_b64[PK_B64_LEN], old_b64[PK_B64_LEN] = "";
    struct ledger_wait add, rev = {.status = 0};
    uint8_t pk[32];
    size_t n_old = 0;
    json_t *revoked = NULL, *env;
    PGconn *c = NULL;
    unsigned status;

    /* Rotations are rare: this one keeps its connection throughout. */
    pthread_mutex_lock(&rotate_mu);
    if ((c = job_db(j)) == NULL || active_custodial(c, org, old, MAX_OLD_KEYS, &n_old) != 0) {
        status = db_down(r);
        goto out;
    }
    if (n_old == 0) {
        status = srv_reply_error(r, 409, "no_custodial_key",
                                 "this organisation holds no custodial key to rotate", NULL);
        goto out;
    }
    if ((env = rotation_add(j, c, org, old, n_old, pk)) == NULL) {
        status = srv_reply_error(r, 503, "busy", "cannot make the new key", NULL);
        goto out;
    }
    ledger_put(r->srv, env, &add);
    if (add.status != 200) {
        PQclear(PQexec(c, "ROLLBACK")); /* the new key was never stored */
        status = refusal(r, &add);
        goto out;
    }
    if (!cmd_ok(c, "COMMIT")) {
        /* The key is authorised on the ledger but its secret is lost: nobody can sign with
         * it, the old key still works, and the next rotation (or the admin) revokes it. */
        srv_log_error("key rotation of %s: key.add %s committed but the new key was not stored",
                      org, add.tx_id);
        status = db_down(r);
        goto out;
    }
    pk_b64(pk, new_b64);
    revoked = json_array();
    /* Every old key is revoked by the new one: normally one; more only after an earlier
     * rotation stopped half-way. */
    for (size_t i = 0; i < n_old; i++) {
        if (rotation_revoke(j, c, org, old[i], pk, &rev, old_b64) != 0) {
            status = db_down(r);
            goto out;
        }
        if (rev.status != 200) {
            /* The new key is on the ledger and custody signs with it; the old one stays
             * unretired, so the next rotation revokes it. */
            status = srv_reply_error(r, rev.status >= 500 ? rev.status : 409, "rotation_incomplete",
                                     "the new key is added but an old key could not be revoked; "
                                     "rotate again",
                                     rev.code);
            goto out;
        }
        json_array_append_new(revoked, json_pack("{s:s, s:s, s:I, s:I}", "key", old_b64, "tx_id",
                                                 rev.tx_id, "leaf_index", (json_int_t)rev.leaf,
                                                 "height", (json_int_t)rev.height));
    }
    snprintf(r->tx_id, sizeof(r->tx_id), "%s", add.tx_id);
    status = srv_reply_json(
        r, 200,
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:O}", "org", org, "new_key", new_b64,
                  "old_key", old_b64, "add_tx_id", add.tx_id, "add_leaf_index",
                  (json_int_t)add.leaf, "revoke_tx_id", rev.tx_id, "revoke_leaf_index",
                  (json_int_t)rev.leaf, "height", (json_int_t)rev.height, "revoked", revoked));
out:
    job_db_done(j, c);
    pthread_mutex_unlock(&rotate_mu);
    json_decref(revoked);
    return status;
}

/* POST /api/orgs/:org/keys/rotate */
static unsigned org_rotate(struct srv_req *r)
{
    struct job *j;
    PGconn *c;
    int is_org;

    if (!id_valid(r->who.acting_org))
        return no_org(r);
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    is_org = org_exists(c, r->who.acting_org);
    db_release(r->srv->pool, c);
    if (is_org < 0)
        return db_down(r);
    if (!is_org)
        return no_org(r);
    if ((j = job_new(org_rotate_job)) == NULL)
        return srv_reply_error(r, 503, "busy", "out of memory", NULL);
    snprintf(j->a, sizeof(j->a), "%s", r->who.acting_org);
    return job_start(r, j);
}

/* ---- sign-up of individuals ---------------------------------------------------------------- */

/* Job of a custodial sign-up: a = username, b = display name, d = principal id, t = type,
 * hash. The account is stored first, pending, with the new key; the block that registers the
 * key links the two (sql/002_auth.sql); a refusal removes both. */
static unsigned signup_job(struct job *j)
{
    struct srv_req *r = j->r;
    char b64[PK_B64_LEN], hex[65], uid[24] = "", err[160];
    const char *params[6] = {j->a, j->hash, NULL, j->b, j->d, hex};
    struct ledger_wait w;
    uint8_t pk[32];
    PGconn *c = job_db(j);
    PGresult *res = NULL;
    json_t *env = NULL;
    unsigned status = 0;

    if (c == NULL || !cmd_ok(c, "BEGIN") || srv_custody_new_key(r->srv, c, j->d, pk) != 0) {
        status = db_down(r);
        goto out;
    }
    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    res = run(c, "admin_user_new", 6, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        status = db_down(r);
        goto out;
    }
    if (PQntuples(res) != 1) { /* someone took the name since the early check */
        status = srv_reply_error(r, 409, "username_taken", "this username is taken", "username");
        goto out;
    }
    snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
    if (!cmd_ok(c, "COMMIT")) {
        status = db_down(r);
        goto out;
    }
    pk_b64(pk, b64);
    env = srv_custody_sign(r->srv, c, j->d, "core", "principal.register",
                           json_pack("{s:s, s:s, s:s}", "id", j->d, "type", j->t, "key", b64), err,
                           sizeof(err));
out:
    PQclear(res);
    if (status != 0) {
        if (c != NULL)
            PQclear(PQexec(c, "ROLLBACK"));
        job_db_done(j, c);
        return status;
    }
    job_db_done(j, c);
    ledger_put(r->srv, env, &w);
    if (w.status != 200) {
        const char *del[1] = {uid};

        if ((c = job_db(j)) != NULL)
            PQclear(run(c, "admin_user_delete", 1, del));
        custody_drop(j, c, pk, j->d);
        job_db_done(j, c);
        return refusal(r, &w);
    }
    snprintf(r->tx_id, sizeof(r->tx_id), "%s", w.tx_id);
    return srv_reply_json(r, 201,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:I}", "username",
                                    j->a, "principal", j->d, "type", j->t, "status", "registered",
                                    "public_key", b64, "custodial", 1, "tx_id", w.tx_id,
                                    "leaf_index", (json_int_t)w.leaf, "height",
                                    (json_int_t)w.height));
}

/* A sign-up with the caller's own key: the account waits for the principal.register they
 * sign themselves; the answer holds that tx unsigned. */
static unsigned signup_self(struct srv_req *r, const char *user, const char *display,
                            const char *id, const char *type, const uint8_t pk[32],
                            const char *hash)
{
    char hex[65], b64[PK_B64_LEN];
    const char *params[6] = {user, hash, NULL, display, id, hex};
    struct timespec ts;
    PGconn *c;
    PGresult *res;
    json_t *tx;
    int ok, added;

    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    pk_b64(pk, b64);
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    res = run(c, "admin_user_new", 6, params);
    db_release(r->srv->pool, c);
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    added = ok && PQntuples(res) == 1;
    PQclear(res);
    if (!added)
        return ok ? srv_reply_error(r, 409, "username_taken", "this username is taken", "username")
                  : db_down(r);
    clock_gettime(CLOCK_REALTIME, &ts);
    tx = chain_tx_build(r->srv->cfg.origin, "core", "principal.register", id, pk,
                        (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                        json_pack("{s:s, s:s, s:s}", "id", id, "type", type, "key", b64));
    return srv_reply_json(
        r, 201,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:s}", "username", user, "principal", id,
                  "type", type, "status", "pending", "public_key", b64, "custodial", 0, "tx",
                  tx ? tx : json_null(), "next",
                  "sign tx with your key (sig over \"lianxin-tx-v1\\n\" || JCS(tx); refresh time "
                  "and nonce if you wish) and POST it to /api/chain/tx; the account is linked "
                  "when it commits"));
}

/* Is username free and id neither registered nor reserved? Returns 0, or the status answered. */
static unsigned signup_free(struct srv_req *r, const char *user, const char *id)
{
    PGconn *c = db_acquire(r->srv->pool, 1000, NULL);
    int64_t uid;
    int taken = 0;

    if (c == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    uid = user_id_of(c, user);
    if (uid == 0)
        taken = principal_taken(c, id);
    db_release(r->srv->pool, c);
    if (uid < 0 || taken < 0)
        return db_down(r);
    if (uid > 0)
        return srv_reply_error(r, 409, "username_taken", "this username is taken", "username");
    if (taken)
        return srv_reply_error(r, 409, "principal_exists",
                               "this id is already registered; choose another id", "id");
    return 0;
}

/* POST /api/auth/signup {"username","password","type","id"?,"public_key"?,"display_name"?} */
static unsigned signup(struct srv_req *r)
{
    const char *user = body_str(r, "username"), *pw = body_str(r, "password");
    const char *type = body_str(r, "type"), *id = body_str(r, "id");
    const char *display = body_str(r, "display_name");
    json_t *idj = json_object_get(r->json, "id"), *pkj = json_object_get(r->json, "public_key");
    char hash[crypto_pwhash_STRBYTES], temp[48];
    uint8_t pk[32];
    size_t n = 0;
    struct job *j;
    unsigned status;

    if (json_is_null(idj))
        idj = NULL;
    if (json_is_null(pkj))
        pkj = NULL;
    if (user == NULL || pw == NULL || type == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "send username, password and type", NULL);
    if ((idj != NULL && !json_is_string(idj)) || (pkj != NULL && !json_is_string(pkj)))
        return srv_reply_error(r, 400, "bad_parameter", "id and public_key are strings", NULL);
    if (display == NULL)
        display = "";
    snprintf(r->who.username, sizeof(r->who.username), "%s", user); /* for the audit log */
    if (!name_valid(user, 3))
        return srv_reply_error(r, 422, "invalid_username",
                               "a username matches [a-z0-9][a-z0-9._-]{2,63}", "username");
    if (strlen(display) > MAX_NAME)
        return srv_reply_error(r, 422, "invalid_body", "display_name has at most 200 bytes",
                               "display_name");
    if (!in_list(type, person_types))
        return srv_reply_error(r, 422, "invalid_body",
                               "type must be student, donor, prosumer, author or lawyer", "type");
    if (id == NULL)
        id = user; /* a username is a valid id */
    if (!id_valid(id))
        return srv_reply_error(r, 422, "invalid_body",
                               "id must match [a-z0-9][a-z0-9._-]{0,63} and not be admin", "id");
    if (pkj != NULL &&
        (sodium_base642bin(pk, 32, json_string_value(pkj), strlen(json_string_value(pkj)), NULL, &n,
                           NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
         n != 32))
        return srv_reply_error(r, 422, "invalid_body", "public_key must be base64 of 32 bytes",
                               "public_key");
    if (strlen(pw) < MIN_PASSWORD || strlen(pw) > MAX_PASSWORD)
        return srv_reply_error(r, 422, "weak_password", "a password needs 10 to 1024 characters",
                               "password");
    /* The cheap checks first: Argon2 costs 64 MiB and a good part of a second. */
    if ((status = signup_free(r, user, id)) != 0 ||
        (status = new_password(r, pw, temp, sizeof(temp), hash)) != 0)
        return status;
    if (pkj != NULL) {
        status = signup_self(r, user, display, id, type, pk, hash);
    } else if ((j = job_new(signup_job)) == NULL) {
        status = srv_reply_error(r, 503, "busy", "out of memory", NULL);
    } else {
        snprintf(j->a, sizeof(j->a), "%s", user);
        snprintf(j->b, sizeof(j->b), "%s", display);
        snprintf(j->d, sizeof(j->d), "%s", id);
        snprintf(j->t, sizeof(j->t), "%s", type);
        memcpy(j->hash, hash, sizeof(hash));
        status = job_start(r, j);
    }
    sodium_memzero(hash, sizeof(hash));
    return status;
}

/* ---- people and roles in an organisation --------------------------------------------------- */

/* Grants role in org to uid, on c. Returns 1 granted, 0 already held, -1 database error. */
static int grant(struct srv_req *r, PGconn *c, const char *uid, const char *org, const char *role)
{
    char by[24];
    const char *params[4] = {uid, org, role, by};
    PGresult *res;
    int rc = -1;

    snprintf(by, sizeof(by), "%" PRId64, r->who.user_id);
    res = run(c, "admin_role_grant", 4, params);
    if (PQresultStatus(res) == PGRES_COMMAND_OK)
        rc = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return rc;
}

/* Creates an account with password hash and (if org) a role in org; answers 201. The
 * temporary password temp (may be "") is in this answer and nowhere else. */
static unsigned create_user(struct srv_req *r, PGconn *c, const char *user, const char *display,
                            const char *node_role, const char *org, const char *role,
                            const char *hash, const char *temp)
{
    const char *params[6] = {user, hash, node_role, display, NULL, NULL};
    PGresult *res;
    char uid[24];
    json_t *body;

    if (!cmd_ok(c, "BEGIN"))
        return db_down(r);
    res = run(c, "admin_user_new", 6, params);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        int taken = PQresultStatus(res) == PGRES_TUPLES_OK;

        PQclear(res);
        PQclear(PQexec(c, "ROLLBACK"));
        return taken
                   ? srv_reply_error(r, 409, "username_taken", "this username is taken", "username")
                   : db_down(r);
    }
    snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if ((org != NULL && grant(r, c, uid, org, role) < 0) || !cmd_ok(c, "COMMIT")) {
        PQclear(PQexec(c, "ROLLBACK"));
        return db_down(r);
    }
    body = json_pack("{s:s, s:s, s:b}", "username", user, "display_name", display, "created", 1);
    if (node_role != NULL)
        json_object_set_new(body, "node_role", json_string(node_role));
    if (org != NULL) {
        json_object_set_new(body, "org", json_string(org));
        json_object_set_new(body, "role", json_string(role));
    }
    if (temp[0])
        json_object_set_new(body, "temporary_password", json_string(temp));
    return srv_reply_json(r, 201, body);
}

/* Checks username, display_name and an optional password, which only the administrator may
 * choose (everyone else's invitees get a temporary one). Returns 0 or the status answered. */
static unsigned check_new_user(struct srv_req *r, const char **user, const char **display)
{
    *user = body_str(r, "username");
    *display = body_str(r, "display_name");
    if (*display == NULL)
        *display = "";
    if (*user == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "send username", "username");
    if (!name_valid(*user, 3))
        return srv_reply_error(r, 422, "invalid_username",
                               "a username matches [a-z0-9][a-z0-9._-]{2,63}", "username");
    if (strlen(*display) > MAX_NAME)
        return srv_reply_error(r, 422, "invalid_body", "display_name has at most 200 bytes",
                               "display_name");
    if (json_object_get(r->json, "password") != NULL && strcmp(r->who.node_role, "admin") != 0)
        return srv_reply_error(r, 403, "forbidden",
                               "only the administrator chooses passwords; invitees get a "
                               "temporary one",
                               "password");
    if (json_object_get(r->json, "password") != NULL && body_str(r, "password") == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "password is a string", "password");
    return 0;
}

/* POST /api/orgs/:org/users {"username","display_name","role","password"?}: invites a new
 * user (201, with a temporary password) or grants the role to an existing one (200). */
static unsigned org_user_invite(struct srv_req *r)
{
    const char *org = r->who.acting_org, *role = body_str(r, "role"), *user, *display;
    char hash[crypto_pwhash_STRBYTES], temp[48], uid[24];
    PGconn *c;
    int64_t id;
    int is_org, granted;
    unsigned status;

    if ((status = check_new_user(r, &user, &display)) != 0)
        return status;
    if (role == NULL || srv_role_bit(role) == 0)
        return srv_reply_error(r, 422, "invalid_body", "role is not an organisation role", "role");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    is_org = org_exists(c, org);
    id = is_org > 0 ? user_id_of(c, user) : 0;
    if (is_org < 0 || id < 0) {
        status = db_down(r);
    } else if (!is_org) {
        status = no_org(r);
    } else if (id > 0) {
        snprintf(uid, sizeof(uid), "%" PRId64, id);
        granted = grant(r, c, uid, org, role);
        status =
            granted < 0
                ? db_down(r)
                : srv_reply_json(r, 200,
                                 json_pack("{s:s, s:s, s:s, s:b, s:b}", "username", user, "org",
                                           org, "role", role, "created", 0, "granted", granted));
    } else if ((status = new_password(r, body_str(r, "password"), temp, sizeof(temp), hash)) == 0) {
        status = create_user(r, c, user, display, NULL, org, role, hash, temp);
    }
    db_release(r->srv->pool, c);
    sodium_memzero(temp, sizeof(temp));
    sodium_memzero(hash, sizeof(hash));
    return status;
}

/* GET /api/orgs/:org/users */
static unsigned org_users(struct srv_req *r)
{
    const char *params[1] = {r->who.acting_org};
    PGconn *c = db_acquire(r->srv->pool, 1000, NULL);
    PGresult *res = NULL;
    json_t *arr = NULL;
    int is_org;
    unsigned status;

    if (c == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    is_org = org_exists(c, r->who.acting_org);
    if (is_org > 0)
        res = run(c, "admin_org_users", 1, params);
    db_release(r->srv->pool, c);
    if (is_org == 0) {
        status = no_org(r);
    } else if (is_org < 0 || PQresultStatus(res) != PGRES_TUPLES_OK) {
        status = db_down(r);
    } else {
        arr = json_array();
        for (int i = 0; i < PQntuples(res); i++)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o}", "username",
                                                 PQgetvalue(res, i, 0), "display_name",
                                                 PQgetvalue(res, i, 1), "disabled",
                                                 strcmp(PQgetvalue(res, i, 2), "t") == 0, "roles",
                                                 json_loads(PQgetvalue(res, i, 3), 0, NULL)));
        status =
            srv_reply_json(r, 200, json_pack("{s:s, s:o}", "org", r->who.acting_org, "users", arr));
    }
    PQclear(res);
    return status;
}

/* POST /api/orgs/:org/roles {"username","role"} */
static unsigned role_grant(struct srv_req *r)
{
    const char *org = r->who.acting_org, *user = body_str(r, "username");
    const char *role = body_str(r, "role");
    char uid[24];
    PGconn *c;
    int64_t id = 0;
    int is_org, granted = -1;
    unsigned status;

    if (user == NULL || role == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "send username and role", NULL);
    if (srv_role_bit(role) == 0)
        return srv_reply_error(r, 422, "invalid_body", "role is not an organisation role", "role");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    is_org = org_exists(c, org);
    if (is_org > 0)
        id = user_id_of(c, user);
    if (id > 0) {
        snprintf(uid, sizeof(uid), "%" PRId64, id);
        granted = grant(r, c, uid, org, role);
    }
    db_release(r->srv->pool, c);
    if (is_org < 0 || id < 0 || (id > 0 && granted < 0))
        status = db_down(r);
    else if (!is_org)
        status = no_org(r);
    else if (id == 0)
        status = srv_reply_error(r, 404, "unknown_user", "no such user", "username");
    else
        status = srv_reply_json(r, granted ? 201 : 200,
                                json_pack("{s:s, s:s, s:s, s:b}", "username", user, "org", org,
                                          "role", role, "granted", granted));
    return status;
}

/* In a transaction on c: removes uid's role in org; the last org_admin stays unless the
 * administrator removes it. (Losing org_admin also ends the API tokens the user made for org:
 * auth.c honours a token only while its maker could still make it.) Returns 0 or the status
 * answered. */
static unsigned revoke_in_tx(struct srv_req *r, PGconn *c, const char *uid, const char *org,
                             const char *role)
{
    const char *params[3] = {uid, org, role};
    PGresult *res = run(c, "admin_role_revoke", 3, params);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK, gone = ok && !strcmp(PQcmdTuples(res), "1");

    PQclear(res);
    if (!ok)
        return db_down(r);
    if (!gone)
        return srv_reply_error(r, 404, "not_found", "the user does not hold this role here", NULL);
    if (strcmp(role, "org_admin") != 0)
        return 0;
    res = run(c, "admin_org_admin_count", 1, params + 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return db_down(r);
    }
    ok = strcmp(PQgetvalue(res, 0, 0), "0") != 0 || strcmp(r->who.node_role, "admin") == 0;
    PQclear(res);
    if (!ok)
        return srv_reply_error(r, 409, "last_org_admin",
                               "this is the organisation's last org_admin; grant the role to "
                               "someone else first",
                               NULL);
    return 0;
}

/* DELETE /api/orgs/:org/roles?username=&role= */
static unsigned role_revoke(struct srv_req *r)
{
    const char *org = r->who.acting_org, *user = srv_req_query(r, "username");
    const char *role = srv_req_query(r, "role");
    char uid[24];
    PGconn *c;
    int64_t id;
    unsigned status;

    if (user == NULL || role == NULL)
        return srv_reply_error(r, 400, "bad_parameter", "name username and role in the query",
                               NULL);
    if (srv_role_bit(role) == 0)
        return srv_reply_error(r, 422, "invalid_body", "role is not an organisation role", "role");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    id = user_id_of(c, user);
    snprintf(uid, sizeof(uid), "%" PRId64, id);
    if (id < 0)
        status = db_down(r);
    else if (id == 0)
        status = srv_reply_error(r, 404, "unknown_user", "no such user", "username");
    else if (!cmd_ok(c, "BEGIN"))
        status = db_down(r);
    else if ((status = revoke_in_tx(r, c, uid, org, role)) != 0)
        PQclear(PQexec(c, "ROLLBACK"));
    else if (!cmd_ok(c, "COMMIT"))
        status = db_down(r);
    else
        status = srv_reply_json(r, 200,
                                json_pack("{s:s, s:s, s:s, s:b}", "username", user, "org", org,
                                          "role", role, "revoked", 1));
    db_release(r->srv->pool, c);
    return status;
}

/* ---- node accounts ------------------------------------------------------------------------- */

/* GET /api/users */
static unsigned users_list(struct srv_req *r)
{
    PGconn *c = db_acquire(r->srv->pool, 1000, NULL);
    PGresult *res;
    json_t *arr;

    if (c == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    res = run(c, "admin_users", 0, NULL);
    db_release(r->srv->pool, c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return db_down(r);
    }
    arr = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *u = json_pack(
            "{s:s, s:s, s:o, s:o, s:b, s:I, s:o}", "username", PQgetvalue(res, i, 0),
            "display_name", PQgetvalue(res, i, 1), "node_role", str_or_null(res, i, 2), "principal",
            str_or_null(res, i, 3), "disabled", strcmp(PQgetvalue(res, i, 5), "t") == 0, "created",
            (json_int_t)strtoll(PQgetvalue(res, i, 6), NULL, 10), "roles",
            json_loads(PQgetvalue(res, i, 7), 0, NULL));

        if (u != NULL && !PQgetisnull(res, i, 4))
            json_object_set_new(u, "pending_principal", json_string(PQgetvalue(res, i, 4)));
        json_array_append_new(arr, u);
    }
    PQclear(res);
    return srv_reply_json(r, 200, json_pack("{s:o}", "users", arr));
}

/* POST /api/users {"username","node_role":"regulator","display_name","password"?} */
static unsigned user_create(struct srv_req *r)
{
    const char *node_role = body_str(r, "node_role"), *user, *display;
    char hash[crypto_pwhash_STRBYTES], temp[48];
    PGconn *c;
    int64_t id;
    unsigned status;

    if ((status = check_new_user(r, &user, &display)) != 0)
        return status;
    if (node_role == NULL || strcmp(node_role, "regulator") != 0)
        return srv_reply_error(r, 422, "invalid_body",
                               "node_role must be regulator (organisation people are invited "
                               "through /api/orgs/:org/users)",
                               "node_role");
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return srv_reply_error(r, 503, "db_down", "the database is unreachable", NULL);
    id = user_id_of(c, user);
    if (id < 0)
        status = db_down(r);
    else if (id > 0)
        status = srv_reply_error(r, 409, "username_taken", "this username is taken", "username");
    else if ((status = new_password(r, body_str(r, "password"), temp, sizeof(temp), hash)) == 0)
        status = create_user(r, c, user, display, node_role, NULL, NULL, hash, temp);
    db_release(r->srv->pool, c);
    sodium_memzero(temp, sizeof(temp));
    sodium_memzero(hash, sizeof(hash));
    return status;
}

/* ---- tables -------------------------------------------------------------------------------- */

const struct srv_route srv_admin_routes[] = {
    {"POST", "/api/orgs", org_create, SRV_AUTH_ADMIN, SRV_BODY_JSON, 0},
    {"GET", "/api/orgs", org_list, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"GET", "/api/orgs/:org", org_get, SRV_AUTH_USER, SRV_BODY_NONE, 0},
    {"POST", "/api/orgs/:org/keys/rotate", org_rotate, SRV_AUTH_ORG, SRV_BODY_NONE,
     SRV_ROLE_ORG_ADMIN},
    {"POST", "/api/orgs/:org/users", org_user_invite, SRV_AUTH_ORG, SRV_BODY_JSON,
     SRV_ROLE_ORG_ADMIN},
    {"GET", "/api/orgs/:org/users", org_users, SRV_AUTH_ORG, SRV_BODY_NONE,
     SRV_ROLE_ORG_ADMIN | SRV_ROLE_AUDITOR},
    {"POST", "/api/orgs/:org/roles", role_grant, SRV_AUTH_ORG, SRV_BODY_JSON, SRV_ROLE_ORG_ADMIN},
    {"DELETE", "/api/orgs/:org/roles", role_revoke, SRV_AUTH_ORG, SRV_BODY_NONE,
     SRV_ROLE_ORG_ADMIN},
    {"POST", "/api/auth/signup", signup, SRV_AUTH_PUBLIC, SRV_BODY_JSON, 0},
    {"GET", "/api/users", users_list, SRV_AUTH_ADMIN, SRV_BODY_NONE, 0},
    {"POST", "/api/users", user_create, SRV_AUTH_ADMIN, SRV_BODY_JSON, 0},
};
const size_t srv_n_admin_routes = sizeof(srv_admin_routes) / sizeof(srv_admin_routes[0]);

/* Parameters and results are text; keys go in as hex and come out as base64. */
const struct db_stmt srv_admin_stmts[] = {
    {"admin_principal_get", "SELECT kind FROM principals WHERE id = $1"},
    {"admin_principal_taken", "SELECT 1 FROM principals WHERE id = $1 "
                              "UNION ALL SELECT 1 FROM users WHERE pending_principal = $1"},
    {"admin_user_id", "SELECT id FROM users WHERE username = $1"},
    {"admin_user_new",
     "INSERT INTO users (username, password_hash, node_role, display_name, pending_principal, "
     "pending_key) VALUES ($1, $2, $3, $4, $5, decode($6, 'hex')) "
     "ON CONFLICT (username) DO NOTHING RETURNING id"},
    {"admin_user_delete", "DELETE FROM users WHERE id = $1 AND principal IS NULL"},
    {"admin_custody_delete", "DELETE FROM custody_keys WHERE pubkey = decode($1, 'hex') "
                             "AND principal = $2"},
    {"admin_custody_active",
     "SELECT encode(c.pubkey, 'hex') FROM custody_keys c JOIN keys k ON k.pubkey = c.pubkey "
     "AND k.principal = c.principal WHERE c.principal = $1 AND c.retired_at IS NULL "
     "AND k.revoked_leaf IS NULL ORDER BY c.created_at, k.added_leaf"},
    {"admin_orgs",
     "SELECT p.id, p.name, p.type, p.leaf_index, encode(t.tx_id, 'hex'), "
     "(SELECT count(*) FROM keys k WHERE k.principal = p.id AND k.revoked_leaf IS NULL) "
     "FROM principals p JOIN txs t ON t.leaf_index = p.leaf_index WHERE p.kind = 'org' "
     "ORDER BY p.id"},
    {"admin_org",
     "SELECT p.id, p.name, p.type, p.leaf_index, encode(t.tx_id, 'hex') FROM principals p "
     "JOIN txs t ON t.leaf_index = p.leaf_index WHERE p.id = $1 AND p.kind = 'org'"},
    {"admin_org_keys",
     "SELECT encode(k.pubkey, 'base64'), k.added_leaf, encode(ta.tx_id, 'hex'), k.revoked_leaf, "
     "encode(tr.tx_id, 'hex'), EXISTS (SELECT 1 FROM custody_keys c WHERE c.pubkey = k.pubkey) "
     "FROM keys k JOIN txs ta ON ta.leaf_index = k.added_leaf "
     "LEFT JOIN txs tr ON tr.leaf_index = k.revoked_leaf WHERE k.principal = $1 "
     "ORDER BY k.added_leaf"},
    {"admin_role_grant", "INSERT INTO roles (user_id, org, role, granted_by) "
                         "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"},
    {"admin_role_revoke", "DELETE FROM roles WHERE user_id = $1 AND org = $2 AND role = $3"},
    {"admin_org_admin_count", "SELECT count(*) FROM roles WHERE org = $1 AND role = 'org_admin'"},
    {"admin_org_users",
     "SELECT u.username, u.display_name, u.disabled, "
     "json_agg(r.role ORDER BY r.role)::text FROM roles r JOIN users u ON u.id = r.user_id "
     "WHERE r.org = $1 GROUP BY u.id ORDER BY u.username"},
    {"admin_users",
     "SELECT u.username, u.display_name, u.node_role, u.principal, u.pending_principal, "
     "u.disabled, (extract(epoch FROM u.created_at) * 1000)::bigint, "
     "coalesce((SELECT json_agg(json_build_object('org', r.org, 'role', r.role) "
     "ORDER BY r.org, r.role) FROM roles r WHERE r.user_id = u.id), '[]')::text "
     "FROM users u ORDER BY u.username"},
};
const size_t srv_n_admin_stmts = sizeof(srv_admin_stmts) / sizeof(srv_admin_stmts[0]);
