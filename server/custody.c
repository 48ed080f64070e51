/* Custodial keys and server-made txs; see custody.h. */
#define _GNU_SOURCE
#include "custody.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "keys.h"
#include "par.h"
#include "seq.h"
#include "server.h"
#include "../chain/tx.h"
#include "../modules/module.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEALED_LEN (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + crypto_sign_SEEDBYTES)

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the master key ------------------------------------------------------------------------ */

static int master_from_b64(const char *b64, unsigned char *key)
{
    size_t n = 0;

    return sodium_base642bin(key, SRV_MASTER_KEY_BYTES, b64, strlen(b64), "\r\n", &n, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
                   n == SRV_MASTER_KEY_BYTES
               ? 0
               : -1;
}

static int master_read(const char *path, unsigned char *key, char *err, size_t errlen)
{
    char line[128];
    FILE *f = fopen(path, "r");
    int rc = -1;

    if (f == NULL)
        return 1; /* absent */
    if (fgets(line, sizeof(line), f) != NULL && master_from_b64(line, key) == 0)
        rc = 0;
    else
        snprintf(err, errlen, "%s does not hold a base64 32-byte master key", path);
    sodium_memzero(line, sizeof(line));
    fclose(f);
    return rc;
}

static int master_create(const char *path, unsigned char *key, char *err, size_t errlen)
{
    char line[64];
    int fd, rc = -1;

    randombytes_buf(key, SRV_MASTER_KEY_BYTES);
    sodium_bin2base64(line, sizeof(line), key, SRV_MASTER_KEY_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    strcat(line, "\n");
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 && write(fd, line, strlen(line)) == (ssize_t)strlen(line) && fsync(fd) == 0)
        rc = 0;
    else
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    sodium_memzero(line, sizeof(line));
    return rc;
}

int srv_custody_open(struct srv *s, int create, char *err, size_t errlen)
{
    char path[SRV_PATH_MAX + 16];
    const char *env = getenv("LIANXIN_MASTER_KEY");
    int rc;

    s->master_key = sodium_malloc(SRV_MASTER_KEY_BYTES);
    if (s->master_key == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (env != NULL && *env != '\0') {
        if (master_from_b64(env, s->master_key) == 0)
            return 0;
        snprintf(err, errlen, "invalid LIANXIN_MASTER_KEY: expected base64 of 32 bytes");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/master.key", s->cfg.data_dir);
    rc = master_read(path, s->master_key, err, errlen);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return -1;
    if (!create) {
        snprintf(err, errlen,
                 "no master key: %s is missing and LIANXIN_MASTER_KEY is unset, so the custodial "
                 "keys in the database cannot be unsealed; restore the key from your backup",
                 path);
        return -1;
    }
    if (master_create(path, s->master_key, err, errlen) != 0)
        return -1;
    srv_log_error("created the master key %s (back it up with the database)", path);
    return 0;
}

void srv_custody_close(struct srv *s)
{
    sodium_free(s->master_key); /* wipes first; NULL is fine */
    s->master_key = NULL;
}

/* ---- custodial keys ------------------------------------------------------------------------ */

int srv_custody_new_key(struct srv *s, PGconn *c, const char *principal, uint8_t pk[32])
{
    unsigned char *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    uint8_t sealed[SEALED_LEN];
    char pk_hex[65], sealed_hex[2 * SEALED_LEN + 1];
    const char *params[3] = {pk_hex, principal, sealed_hex};
    PGresult *r;
    int ok;

    if (sk == NULL)
        return -1;
    crypto_sign_keypair(pk, sk);
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, sk, crypto_sign_SEEDBYTES, sealed,
                          s->master_key);
    sodium_free(sk);
    sodium_bin2hex(pk_hex, sizeof(pk_hex), pk, 32);
    sodium_bin2hex(sealed_hex, sizeof(sealed_hex), sealed, sizeof(sealed));
    r = PQexecParams(c,
                     "INSERT INTO custody_keys (pubkey, principal, sealed) "
                     "VALUES (decode($1, 'hex'), $2, decode($3, 'hex'))",
                     3, NULL, params, NULL, NULL, 0);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

int srv_custody_retire(PGconn *c, const uint8_t pk[32])
{
    char hex[65];
    const char *params[1] = {hex};
    PGresult *r;
    int ok;

    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    r = PQexecParams(c,
                     "UPDATE custody_keys SET retired_at = now() "
                     "WHERE pubkey = decode($1, 'hex') AND retired_at IS NULL",
                     1, NULL, params, NULL, NULL, 0);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

unsigned char *srv_custody_unseal(struct srv *s, PGconn *c, const char *principal, char *err,
                                  size_t errlen)
{
    const char *params[1] = {principal};
    unsigned char *seed = NULL, *sk = NULL;
    uint8_t pk[32];
    PGresult *r = PQexecParams(c,
                               "SELECT sealed FROM custody_keys WHERE principal = $1 AND "
                               "retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
                               1, NULL, params, NULL, NULL, 1 /* binary */);

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
        PQgetlength(r, 0, 0) != SEALED_LEN) {
        snprintf(err, errlen, "%s has no custodial key", principal);
        goto out;
    }
    seed = sodium_malloc(crypto_sign_SEEDBYTES);
    sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (seed == NULL || sk == NULL ||
        crypto_secretbox_open_easy(
            seed, (const unsigned char *)PQgetvalue(r, 0, 0) + crypto_secretbox_NONCEBYTES,
            SEALED_LEN - crypto_secretbox_NONCEBYTES, (const unsigned char *)PQgetvalue(r, 0, 0),
            s->master_key) != 0) {
        snprintf(err, errlen, "the custodial key of %s does not open with this master key",
                 principal);
        sodium_free(sk);
        sk = NULL;
        goto out;
    }
    crypto_sign_seed_keypair(pk, sk, seed);
out:
    sodium_free(seed);
    PQclear(r);
    return sk;
}

json_t *srv_custody_sign(struct srv *s, PGconn *c, const char *principal, const char *module,
                         const char *type, json_t *body, char *err, size_t errlen)
{
    unsigned char *sk = srv_custody_unseal(s, c, principal, err, errlen);
    json_t *env = NULL;

    if (sk == NULL) {
        json_decref(body);
        return NULL;
    }
    env = chain_tx_build(s->cfg.origin, module, type, principal, sk + crypto_sign_SEEDBYTES,
                         wall_ms(), body);
    if (env == NULL || chain_tx_sign(env, sk) != 0) {
        snprintf(err, errlen, "cannot sign the tx");
        json_decref(env);
        env = NULL;
    }
    sodium_free(sk);
    return env;
}

json_t *srv_admin_sign(struct srv *s, const char *module, const char *type, json_t *body)
{
    const struct chain_note_signer *k = seq_admin_key(s->seq);
    json_t *env;

    if (k == NULL) {
        json_decref(body);
        return NULL;
    }
    env = chain_tx_build(s->cfg.origin, module, type, "admin", srv_key_pub(k), wall_ms(), body);
    if (env != NULL && chain_tx_sign(env, k->sk) != 0) {
        json_decref(env);
        env = NULL;
    }
    return env;
}

/* ---- submitting ---------------------------------------------------------------------------- */

void srv_tx_check(struct srv *s, struct seq_item *it)
{
    struct lx_reject why = {0};
    int rc = chain_tx_verify(it->tx, s->cfg.origin, wall_ms());

    if (rc != 0) {
        seq_item_refuse(it, (unsigned)chain_err_http_status(rc), chain_err_code(rc),
                        chain_strerror(rc), NULL);
        return;
    }
    it->mod = lx_module_find(it->tx->module);
    if (it->mod == NULL) {
        seq_item_refuse(it, 422, "unknown_module", "no such module", it->tx->module);
        return;
    }
    if (it->mod->check != NULL && it->mod->check(it->tx, &why) != 0)
        seq_item_refuse(it, why.status ? why.status : 422, why.code, why.message, NULL);
}

struct check_all {
    struct srv *s;
    struct seq_item *items;
};

static void check_one(void *arg, size_t i)
{
    struct check_all *c = arg;

    if (c->items[i].status == 0)
        srv_tx_check(c->s, &c->items[i]);
}

/* 16 txs are about half a millisecond of signature checks: coarse enough that handing out a
 * chunk costs nothing beside it, fine enough that a batch of a thousand splits evenly. */
#define CHECK_CHUNK 16

void srv_tx_check_all(struct srv *s, struct seq_item *items, size_t n)
{
    struct check_all c = {s, items};

    par_for(s->par, n, CHECK_CHUNK, check_one, &c);
}

struct internal {
    struct seq_sub sub; /* first: the sequencer hands back &sub */
    struct seq_item item;
    srv_ledger_done_fn done;
    void *ctx;
};

static void internal_done(struct seq_sub *sub)
{
    struct internal *in = (struct internal *)sub;

    in->done(in->ctx, &in->item);
    chain_tx_free(in->item.tx);
    free(in);
}

int srv_ledger_submit(struct srv *s, const json_t *env, srv_ledger_done_fn done, void *ctx)
{
    struct internal *in = calloc(1, sizeof(*in));
    int rc;

    if (in == NULL)
        return -1;
    in->done = done;
    in->ctx = ctx;
    in->sub = (struct seq_sub){.items = &in->item, .n = 1, .done = internal_done};
    rc = env ? chain_tx_from_json(env, &in->item.tx) : CHAIN_E_MALFORMED;
    if (rc != 0)
        seq_item_refuse(&in->item, (unsigned)chain_err_http_status(rc), chain_err_code(rc),
                        chain_strerror(rc), NULL);
    else
        srv_tx_check(s, &in->item);
    if (s->seq == NULL && in->item.status == 0)
        seq_item_refuse(&in->item, 503, "no_ledger", "no ledger here", NULL);
    if (in->item.status != 0) {
        in->item.sub = &in->sub;
        atomic_store(&in->sub.pending, 1);
        internal_done(&in->sub);
        return 0;
    }
    seq_enqueue(s->seq, &in->sub);
    return 0;
}

struct reply_ctx {
    struct srv_req *req;
    unsigned ok_status;
    json_t *extra;
};

static void reply_done(void *ctx, const struct seq_item *it)
{
    struct reply_ctx *rc = ctx;
    struct srv_req *r = rc->req;

    if (it->status == 200) {
        json_t *body = rc->extra ? rc->extra : json_object();

        json_object_set_new(body, "tx_id", json_string(it->tx->id_hex));
        json_object_set_new(body, "leaf_index", json_integer((json_int_t)it->leaf_index));
        json_object_set_new(body, "height", json_integer((json_int_t)it->height));
        snprintf(r->tx_id, sizeof(r->tx_id), "%s", it->tx->id_hex);
        srv_reply_json(r, rc->ok_status, body);
    } else {
        json_decref(rc->extra);
        srv_reply_error(r, it->status, it->code, it->message, it->detail[0] ? it->detail : NULL);
    }
    free(rc);
    srv_req_resume(r); /* r belongs to libmicrohttpd again from here */
}

unsigned srv_ledger_submit_reply(struct srv_req *r, json_t *env, unsigned ok_status, json_t *extra)
{
    struct reply_ctx *rc = calloc(1, sizeof(*rc));

    if (rc == NULL || env == NULL) {
        free(rc);
        json_decref(env);
        json_decref(extra);
        return srv_reply_error(r, 503, "busy", "cannot build the tx", NULL);
    }
    *rc = (struct reply_ctx){r, ok_status, extra};
    srv_req_suspend(r);
    if (srv_ledger_submit(r->srv, env, reply_done, rc) != 0) {
        json_decref(env);
        json_decref(extra);
        free(rc);
        srv_reply_error(r, 503, "busy", "out of memory", NULL);
        srv_req_resume(r);
        return SRV_ASYNC;
    }
    json_decref(env);
    return SRV_ASYNC;
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    unsigned status;
    char tx_id[65];
    uint64_t leaf;
};

static void wait_done(void *ctx, const struct seq_item *it)
{
    struct waiter *w = ctx;

    pthread_mutex_lock(&w->mu);
    w->status = it->status;
    if (it->status == 200) {
        snprintf(w->tx_id, sizeof(w->tx_id), "%s", it->tx->id_hex);
        w->leaf = it->leaf_index;
    }
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int srv_ledger_submit_wait(struct srv *s, const json_t *env, unsigned *status, char *tx_id,
                           uint64_t *leaf)
{
    struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

    if (srv_ledger_submit(s, env, wait_done, &w) != 0)
        return -1;
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    *status = w.status;
    if (tx_id)
        snprintf(tx_id, 65, "%s", w.tx_id);
    if (leaf)
        *leaf = w.leaf;
    return 0;
}
