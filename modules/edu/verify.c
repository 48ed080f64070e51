/*
 * POST /api/edu/verify: the verdict on a credential bundle, as this node sees it. The five
 * checks, in the order a person reads them (README.md "Verification"):
 *
 *   signature   the eddsa-jcs-2022 proof verifies with the did:key it names, which is the
 *               issuer's id
 *   anchored    the bundle's tx is an edu credential.issue of exactly this credential
 *               (SHA-256 of its JCS, its id), correctly signed, and the inclusion proof leads to
 *               a checkpoint signed by a validator key of this chain
 *   issuer      the credential's key is the tx's signer and belonged, at the tx's position in
 *               the log, to the org the tx names — an admitted organisation of type university
 *               whose registered name is the credential's issuer name
 *   revocation  no credential.revoke of it is on the ledger
 *   validity    now is within validFrom … validUntil
 *
 * Verdict: "invalid" when a check other than revocation fails, else "revoked" when revoked,
 * else "valid". Everything is checked from the bundle with chain/, except what only the ledger
 * knows now (key history, the org's type, revocations), which comes from PostgreSQL.
 */
#define _GNU_SOURCE
#include "../../chain/jcs.h"
#include "../../chain/merkle.h"
#include "../../chain/note.h"
#include "../../chain/tx.h"
#include "../../chain/vc.h"
#include "../../server/server.h"
#include "edu_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALIDATORS 16

struct verdict {
    json_t *checks; /* [{"name","ok","detail"}] */
    int invalid;    /* a check other than revocation failed */
    int revoked;    /* the revocation check failed */
};

__attribute__((format(printf, 4, 5))) static void check(struct verdict *v, const char *name, int ok,
                                                        const char *fmt, ...)
{
    char detail[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    json_array_append_new(v->checks,
                          json_pack("{s:s, s:b, s:s}", "name", name, "ok", ok, "detail", detail));
    if (!ok && strcmp(name, "revocation") == 0)
        v->revoked = 1;
    else if (!ok)
        v->invalid = 1;
}

/* The validator keys of this chain, read from genesis once: genesis never changes, and a
 * verification should not cost a query and a JSON parse for it. */
static pthread_mutex_t validators_mu = PTHREAD_MUTEX_INITIALIZER;
static struct chain_note_verifier validators_kept[MAX_VALIDATORS];
static size_t validators_n;

static size_t read_validators(PGconn *c, struct chain_note_verifier *keys, size_t cap);

/* The validator keys of this chain (genesis) into keys. Returns how many, 0 on failure. */
static size_t validators(PGconn *c, struct chain_note_verifier *keys, size_t cap)
{
    size_t n;

    pthread_mutex_lock(&validators_mu);
    if (validators_n == 0)
        validators_n = read_validators(c, validators_kept, MAX_VALIDATORS);
    n = validators_n < cap ? validators_n : cap;
    memcpy(keys, validators_kept, n * sizeof(*keys));
    pthread_mutex_unlock(&validators_mu);
    return n;
}

static size_t read_validators(PGconn *c, struct chain_note_verifier *keys, size_t cap)
{
    static const char *const zero[1] = {"0"};
    PGresult *res = PQexecPrepared(c, "core_ledger_leaf", 1, zero, NULL, NULL, 1 /* binary */);
    json_t *genesis = NULL, *vals;
    size_t n = 0;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        chain_jcs_parse(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), &genesis) == 0) {
        vals = json_object_get(json_object_get(genesis, "body"), "validators");
        for (size_t i = 0; i < json_array_size(vals) && n < cap; i++) {
            const char *k = json_string_value(json_array_get(vals, i));

            if (k != NULL && chain_note_verifier_parse(k, &keys[n]) == 0)
                n++;
        }
    }
    json_decref(genesis);
    PQclear(res);
    return n;
}

static int get_b64_32(const json_t *v, uint8_t out[32])
{
    const char *s = json_string_value(v);

    return s != NULL && chain_b64_decode_exact(s, strlen(s), out, 32) == 0 ? 0 : -1;
}

static int get_uint(const json_t *o, const char *k, uint64_t *out)
{
    const json_t *v = json_object_get(o, k);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* The issuer's id: "issuer" is a string or an object with "id". */
static const char *issuer_id(const json_t *vc)
{
    const json_t *is = json_object_get(vc, "issuer");

    return json_is_string(is) ? json_string_value(is)
                              : json_string_value(json_object_get(is, "id"));
}

static const char *issuer_name(const json_t *vc)
{
    return json_string_value(json_object_get(json_object_get(vc, "issuer"), "name"));
}

/* Check "anchored". On success *tx is the parsed anchor tx (chain_tx_free) and *leaf its
 * position. Returns 1 when it holds. */
static int anchored(PGconn *c, const json_t *vc, const json_t *ledger, struct chain_tx **tx,
                    uint64_t *leaf, char *why, size_t cap)
{
    const json_t *proof = json_object_get(ledger, "proof"), *path = json_object_get(proof, "path");
    const char *note = json_string_value(json_object_get(ledger, "checkpoint"));
    struct chain_note_verifier keys[MAX_VALIDATORS];
    struct chain_note_opened op;
    struct chain_checkpoint cp;
    uint8_t leaf_hash[32], hash[32], (*p)[CHAIN_HASH_LEN] = NULL;
    char b64[CHAIN_B64_LEN(32) + 1];
    const char *id = json_string_value(json_object_get(vc, "id"));
    uint64_t size;
    size_t n_keys, n_path;
    int ok = 0;

    *tx = NULL;
    if (!json_is_object(ledger) || !json_is_object(json_object_get(ledger, "tx"))) {
        snprintf(why, cap, "the bundle holds no ledger evidence");
        return 0;
    }
    if (chain_tx_from_json(json_object_get(ledger, "tx"), tx) != 0) {
        *tx = NULL;
        snprintf(why, cap, "the anchor tx is not a valid tx");
        return 0;
    }
    if (get_b64_32(json_object_get(proof, "leaf_hash"), leaf_hash) != 0 ||
        memcmp(leaf_hash, (*tx)->leaf_hash, 32) != 0 ||
        strcmp(json_string_value(json_object_get(ledger, "tx_id"))
                   ? json_string_value(json_object_get(ledger, "tx_id"))
                   : "",
               (*tx)->id_hex) != 0) {
        snprintf(why, cap, "the tx's leaf hash is not the one proven: the tx was changed");
        return 0;
    }
    if (chain_tx_verify_sig(*tx) != 0) {
        snprintf(why, cap, "the anchor tx's signature does not verify");
        return 0;
    }
    if (strcmp((*tx)->module, "edu") != 0 || strcmp((*tx)->type, EDU_TX_ISSUE) != 0) {
        snprintf(why, cap, "the tx is not an edu credential.issue");
        return 0;
    }
    if (id == NULL || strcmp(json_string_value(json_object_get((*tx)->body, "credential_id"))
                                 ? json_string_value(json_object_get((*tx)->body, "credential_id"))
                                 : "",
                             id) != 0) {
        snprintf(why, cap, "the tx anchors another credential id");
        return 0;
    }
    if (chain_vc_anchor_hash(vc, hash) != 0 || chain_b64_encode(hash, 32, b64, sizeof(b64)) != 0 ||
        strcmp(json_string_value(json_object_get((*tx)->body, "hash"))
                   ? json_string_value(json_object_get((*tx)->body, "hash"))
                   : "",
               b64) != 0) {
        snprintf(why, cap, "the anchored hash is not SHA-256 of this credential's JCS form");
        return 0;
    }
    n_keys = validators(c, keys, MAX_VALIDATORS);
    if (note == NULL || n_keys == 0 ||
        chain_note_open(note, strlen(note), keys, n_keys, &op) != 0 ||
        chain_checkpoint_parse(op.text, op.text_len, &cp) != 0) {
        snprintf(why, cap, "the checkpoint is not signed by a validator key of this chain");
        return 0;
    }
    if (strcmp(cp.origin, (*tx)->chain) != 0) {
        snprintf(why, cap, "the tx is for another chain than the checkpoint");
        return 0;
    }
    n_path = json_array_size(path);
    if (get_uint(proof, "leaf_index", leaf) != 0 || get_uint(proof, "tree_size", &size) != 0 ||
        size != cp.size || !json_is_array(path) || n_path > CHAIN_MERKLE_MAX_PATH) {
        snprintf(why, cap, "the inclusion proof is malformed or for another tree size");
        return 0;
    }
    p = calloc(n_path ? n_path : 1, sizeof(*p));
    for (size_t i = 0; p != NULL && i < n_path; i++) {
        if (get_b64_32(json_array_get(path, i), p[i]) != 0) {
            snprintf(why, cap, "the inclusion proof is malformed");
            goto out;
        }
    }
    if (p == NULL ||
        chain_merkle_inclusion_verify(*leaf, size, leaf_hash, (const uint8_t(*)[CHAIN_HASH_LEN])p,
                                      n_path, cp.root) != 0) {
        snprintf(why, cap, "the inclusion proof does not lead to the checkpoint's root");
        goto out;
    }
    snprintf(why, cap,
             "tx %.16s… is leaf %" PRIu64 " of the log; checkpoint of tree size %" PRIu64
             ", block %" PRIu64 ", signed by %s",
             (*tx)->id_hex, *leaf, cp.size, cp.height, keys[0].name);
    ok = 1;
out:
    free(p);
    return ok;
}

/* Check "issuer". */
static int issuer(PGconn *c, const json_t *vc, const uint8_t pk[32], const struct chain_tx *tx,
                  uint64_t leaf, char *why, size_t cap)
{
    char hex[65];
    const char *p1[1] = {hex}, *p2[1] = {tx->org};
    const char *name = issuer_name(vc);
    PGresult *k = NULL, *p = NULL;
    uint64_t added, revoked = 0;
    int has_revoked, ok = 0;

    if (memcmp(pk, tx->signer, 32) != 0) {
        snprintf(why, cap, "the credential is signed with another key than its anchor tx");
        return 0;
    }
    chain_hex_encode(pk, 32, hex);
    k = PQexecPrepared(c, "core_key_history", 1, p1, NULL, NULL, 0);
    p = PQexecPrepared(c, "edu_principal", 1, p2, NULL, NULL, 0);
    if (PQresultStatus(k) != PGRES_TUPLES_OK || PQresultStatus(p) != PGRES_TUPLES_OK) {
        snprintf(why, cap, "the key history could not be read; try again");
        goto out;
    }
    if (PQntuples(k) == 0 || strcmp(PQgetvalue(k, 0, 0), tx->org) != 0) {
        snprintf(why, cap, "the key never belonged to %s", tx->org);
        goto out;
    }
    added = strtoull(PQgetvalue(k, 0, 1), NULL, 10);
    has_revoked = !PQgetisnull(k, 0, 2);
    if (has_revoked)
        revoked = strtoull(PQgetvalue(k, 0, 2), NULL, 10);
    if (added >= leaf) {
        snprintf(why, cap, "the key was added at leaf %" PRIu64 ", after the credential", added);
        goto out;
    }
    if (has_revoked && revoked < leaf) {
        snprintf(why, cap,
                 "the key was revoked at leaf %" PRIu64 ", before this credential (leaf %" PRIu64
                 ")",
                 revoked, leaf);
        goto out;
    }
    if (PQntuples(p) == 0 || strcmp(PQgetvalue(p, 0, 0), "org") != 0 ||
        strcmp(PQgetvalue(p, 0, 1), "university") != 0) {
        snprintf(why, cap, "%s is not an admitted organisation of type university", tx->org);
        goto out;
    }
    if (name == NULL || strcmp(name, PQgetvalue(p, 0, 2)) != 0) {
        snprintf(why, cap, "the issuer name is not the registered name of %s (\"%s\")", tx->org,
                 PQgetvalue(p, 0, 2));
        goto out;
    }
    if (has_revoked)
        snprintf(why, cap,
                 "%s (%s), an admitted university; its key was added at leaf %" PRIu64
                 " and revoked at leaf %" PRIu64 ", after this credential, which stays valid",
                 PQgetvalue(p, 0, 2), tx->org, added, revoked);
    else
        snprintf(why, cap,
                 "%s (%s), an admitted university; its key was added at leaf %" PRIu64
                 " and is active",
                 PQgetvalue(p, 0, 2), tx->org, added);
    ok = 1;
out:
    PQclear(k);
    PQclear(p);
    return ok;
}

json_t *edu_verify_bundle(struct srv *s, PGconn *c, const json_t *bundle)
{
    const json_t *vc = json_object_get(bundle, "credential");
    const json_t *ledger = json_object_get(bundle, "ledger");
    struct verdict v = {json_array(), 0, 0};
    struct chain_tx *tx = NULL;
    uint8_t pk[32], did_pk[32];
    char why[400], date[16];
    const char *from, *until, *id = json_string_value(json_object_get(vc, "id"));
    uint64_t leaf = 0;
    int sig_ok, anchor_ok;
    int64_t now = edu_now_ms();
    json_t *out, *revoked = NULL;

    (void)s;
    if (v.checks == NULL)
        return NULL;
    /* 1. signature */
    memset(pk, 0, sizeof(pk));
    sig_ok = json_is_object(vc) && chain_vc_verify(vc, pk, why, sizeof(why)) == 0;
    if (sig_ok && (chain_didkey_decode(issuer_id(vc), did_pk) != 0 || memcmp(did_pk, pk, 32))) {
        sig_ok = 0;
        snprintf(why, sizeof(why), "the proof's key is not the issuer's did:key");
    } else if (sig_ok) {
        snprintf(why, sizeof(why), "eddsa-jcs-2022 proof by %s", issuer_id(vc));
    } else if (!json_is_object(vc)) {
        snprintf(why, sizeof(why), "the bundle holds no credential");
    }
    check(&v, "signature", sig_ok, "%s", why);
    /* 2. anchored */
    anchor_ok = json_is_object(vc) && anchored(c, vc, ledger, &tx, &leaf, why, sizeof(why));
    if (!json_is_object(vc))
        snprintf(why, sizeof(why), "the bundle holds no credential");
    check(&v, "anchored", anchor_ok, "%s", why);
    /* 3. issuer */
    if (!sig_ok || !anchor_ok)
        check(&v, "issuer", 0, "cannot be established without a valid signature and anchor");
    else
        check(&v, "issuer", issuer(c, vc, pk, tx, leaf, why, sizeof(why)), "%s", why);
    /* 4. revocation */
    if (id == NULL || strncmp(id, "urn:uuid:", 9) != 0 || !edu_uuid_valid(id + 9)) {
        check(&v, "revocation", 0, "the credential has no id this ledger knows");
    } else {
        const char *params[1] = {id};
        PGresult *res = PQexecPrepared(c, "edu_status", 1, params, NULL, NULL, 0);

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            check(&v, "revocation", 0, "the revocation status could not be read; try again");
        } else if (PQntuples(res) == 0) {
            check(&v, "revocation", anchor_ok ? 0 : 1,
                  anchor_ok ? "this node does not know the credential"
                            : "not checked: the credential is not anchored");
            if (!anchor_ok)
                v.revoked = 0;
        } else if (!PQgetisnull(res, 0, 5)) {
            int64_t at = strtoll(PQgetvalue(res, 0, 5), NULL, 10);

            edu_date_of_ms(at, date, sizeof(date));
            check(&v, "revocation", 0, "revoked on %s: %s", date, PQgetvalue(res, 0, 6));
            revoked = json_pack("{s:I, s:s, s:s, s:s}", "at_ms", (json_int_t)at, "date", date,
                                "reason", PQgetvalue(res, 0, 6), "tx_id", PQgetvalue(res, 0, 7));
        } else {
            check(&v, "revocation", 1, "not revoked");
        }
        PQclear(res);
    }
    /* 5. validity period */
    from = json_string_value(json_object_get(vc, "validFrom"));
    until = json_string_value(json_object_get(vc, "validUntil"));
    if (from != NULL && edu_datetime_ms(from) < 0)
        check(&v, "validity", 0, "validFrom is not a date and time");
    else if (until != NULL && edu_datetime_ms(until) < 0)
        check(&v, "validity", 0, "validUntil is not a date and time");
    else if (from != NULL && edu_datetime_ms(from) > now)
        check(&v, "validity", 0, "not valid before %s", from);
    else if (until != NULL && edu_datetime_ms(until) < now)
        check(&v, "validity", 0, "expired on %s", until);
    else
        check(&v, "validity", 1, "valid from %s%s%s", from ? from : "the start",
              until ? " until " : "", until ? until : "");
    out = json_pack("{s:s, s:o}", "verdict",
                    v.invalid   ? "invalid"
                    : v.revoked ? "revoked"
                                : "valid",
                    "checks", v.checks);
    if (out != NULL && id != NULL)
        json_object_set_new(out, "credential_id", json_string(id));
    if (out != NULL && revoked != NULL)
        json_object_set_new(out, "revoked", revoked);
    else
        json_decref(revoked);
    if (out != NULL && anchor_ok) {
        json_object_set_new(out, "org", json_string(tx->org));
        json_object_set_new(out, "tx_id", json_string(tx->id_hex));
        json_object_set_new(out, "leaf_index", json_integer((json_int_t)leaf));
    }
    chain_tx_free(tx);
    return out;
}

unsigned edu_verify(struct srv_req *r)
{
    PGconn *c;
    json_t *out;

    if (!json_is_object(r->json))
        return srv_reply_error(r, 400, "malformed_json", "send a credential bundle object", NULL);
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return edu_db_down(r);
    out = edu_verify_bundle(r->srv, c, r->json);
    db_release(r->srv->pool, c);
    return out ? srv_reply_json(r, 200, out) : srv_reply_error(r, 503, "busy", "oom", NULL);
}
