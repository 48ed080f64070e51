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

/* Checkpoints already opened. A verification service sees the same few checkpoints again and
 * again (every credential anchored in one block carries the same one), and opening one costs an
 * Ed25519 verification per signature. Kept by the SHA-256 of the whole note: the validator keys
 * never change, so neither can the outcome. Only notes that opened are kept. */
#define NOTES_KEPT 64

static struct {
    uint8_t hash[32];
    struct chain_note_opened op; /* text pointing nowhere: set again on each use */
} notes_kept[NOTES_KEPT];
static size_t notes_n, notes_next;

static int open_note(const char *note, const struct chain_note_verifier *keys, size_t n_keys,
                     struct chain_note_opened *op)
{
    size_t len = strlen(note);
    uint8_t h[32];
    int hit = 0;

    crypto_hash_sha256(h, (const unsigned char *)note, len);
    pthread_mutex_lock(&validators_mu);
    for (size_t i = 0; i < notes_n && !hit; i++) {
        if (memcmp(notes_kept[i].hash, h, sizeof(h)) == 0) {
            *op = notes_kept[i].op;
            op->text = note;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&validators_mu);
    if (hit)
        return 0;
    if (chain_note_open(note, len, keys, n_keys, op) != 0)
        return -1;
    pthread_mutex_lock(&validators_mu);
    memcpy(notes_kept[notes_next].hash, h, sizeof(h));
    notes_kept[notes_next].op = *op;
    notes_kept[notes_next].op.text = NULL;
    notes_next = (notes_next + 1) % NOTES_KEPT;
    if (notes_n < NOTES_KEPT)
        notes_n++;
    pthread_mutex_unlock(&validators_mu);
    return 0;
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
    if (note == NULL || n_keys == 0 || open_note(note, keys, n_keys, &op) != 0 ||
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

/* The columns of edu_verify_facts (edu.c): the signing key's history, the anchoring org, and
 * the credential's revocation, read in one query. */
enum fact {
    F_KEY_PRINCIPAL,
    F_KEY_ADDED,
    F_KEY_REVOKED,
    F_ORG_KIND,
    F_ORG_TYPE,
    F_ORG_NAME,
    F_REVOKED_MS,
    F_REVOKE_REASON,
    F_REVOKE_TX,
    F_KEY_FOUND,
    F_ORG_FOUND,
    F_CRED_FOUND
};

static int fact_true(const PGresult *f, enum fact col)
{
    return strcmp(PQgetvalue(f, 0, col), "t") == 0;
}

/* Check "issuer", from the facts (NULL when they could not be read). */
static int issuer(const PGresult *f, const json_t *vc, const uint8_t pk[32],
                  const struct chain_tx *tx, uint64_t leaf, char *why, size_t cap)
{
    const char *name = issuer_name(vc), *org_name;
    uint64_t added, revoked = 0;
    int has_revoked;

    if (memcmp(pk, tx->signer, 32) != 0) {
        snprintf(why, cap, "the credential is signed with another key than its anchor tx");
        return 0;
    }
    if (f == NULL) {
        snprintf(why, cap, "the key history could not be read; try again");
        return 0;
    }
    if (!fact_true(f, F_KEY_FOUND) || strcmp(PQgetvalue(f, 0, F_KEY_PRINCIPAL), tx->org) != 0) {
        snprintf(why, cap, "the key never belonged to %s", tx->org);
        return 0;
    }
    added = strtoull(PQgetvalue(f, 0, F_KEY_ADDED), NULL, 10);
    has_revoked = !PQgetisnull(f, 0, F_KEY_REVOKED);
    if (has_revoked)
        revoked = strtoull(PQgetvalue(f, 0, F_KEY_REVOKED), NULL, 10);
    if (added >= leaf) {
        snprintf(why, cap, "the key was added at leaf %" PRIu64 ", after the credential", added);
        return 0;
    }
    if (has_revoked && revoked < leaf) {
        snprintf(why, cap,
                 "the key was revoked at leaf %" PRIu64 ", before this credential (leaf %" PRIu64
                 ")",
                 revoked, leaf);
        return 0;
    }
    if (!fact_true(f, F_ORG_FOUND) || strcmp(PQgetvalue(f, 0, F_ORG_KIND), "org") != 0 ||
        strcmp(PQgetvalue(f, 0, F_ORG_TYPE), "university") != 0) {
        snprintf(why, cap, "%s is not an admitted organisation of type university", tx->org);
        return 0;
    }
    org_name = PQgetvalue(f, 0, F_ORG_NAME);
    if (name == NULL || strcmp(name, org_name) != 0) {
        snprintf(why, cap, "the issuer name is not the registered name of %s (\"%s\")", tx->org,
                 org_name);
        return 0;
    }
    if (has_revoked)
        snprintf(why, cap,
                 "%s (%s), an admitted university; its key was added at leaf %" PRIu64
                 " and revoked at leaf %" PRIu64 ", after this credential, which stays valid",
                 org_name, tx->org, added, revoked);
    else
        snprintf(why, cap,
                 "%s (%s), an admitted university; its key was added at leaf %" PRIu64
                 " and is active",
                 org_name, tx->org, added);
    return 1;
}

/* Reads the facts for the key pk (when have_pk), the org of tx (when not NULL) and the
 * credential id (when not NULL). NULL when the query failed. */
static PGresult *read_facts(PGconn *c, const uint8_t pk[32], int have_pk, const struct chain_tx *tx,
                            const char *id)
{
    char hex[65];
    const char *params[3] = {have_pk ? hex : NULL, tx ? tx->org : NULL, id};
    PGresult *f;

    chain_hex_encode(pk, 32, hex);
    f = PQexecPrepared(c, "edu_verify_facts", 3, params, NULL, NULL, 0);
    if (PQresultStatus(f) != PGRES_TUPLES_OK || PQntuples(f) < 1) {
        PQclear(f);
        return NULL;
    }
    return f;
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
    int sig_ok, anchor_ok, id_known;
    int64_t now = edu_now_ms();
    PGresult *facts;
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
    id_known = id != NULL && strncmp(id, "urn:uuid:", 9) == 0 && edu_uuid_valid(id + 9);
    facts = read_facts(c, pk, sig_ok, anchor_ok ? tx : NULL, id_known ? id : NULL);
    /* 3. issuer */
    if (!sig_ok || !anchor_ok)
        check(&v, "issuer", 0, "cannot be established without a valid signature and anchor");
    else
        check(&v, "issuer", issuer(facts, vc, pk, tx, leaf, why, sizeof(why)), "%s", why);
    /* 4. revocation */
    if (!id_known) {
        check(&v, "revocation", 0, "the credential has no id this ledger knows");
    } else if (facts == NULL) {
        check(&v, "revocation", 0, "the revocation status could not be read; try again");
    } else if (!fact_true(facts, F_CRED_FOUND)) {
        check(&v, "revocation", anchor_ok ? 0 : 1,
              anchor_ok ? "this node does not know the credential"
                        : "not checked: the credential is not anchored");
        if (!anchor_ok)
            v.revoked = 0;
    } else if (!PQgetisnull(facts, 0, F_REVOKED_MS)) {
        int64_t at = strtoll(PQgetvalue(facts, 0, F_REVOKED_MS), NULL, 10);
        const char *reason = PQgetvalue(facts, 0, F_REVOKE_REASON);

        edu_date_of_ms(at, date, sizeof(date));
        check(&v, "revocation", 0, "revoked on %s: %s", date, reason);
        revoked = json_pack("{s:I, s:s, s:s, s:s}", "at_ms", (json_int_t)at, "date", date, "reason",
                            reason, "tx_id", PQgetvalue(facts, 0, F_REVOKE_TX));
    } else {
        check(&v, "revocation", 1, "not revoked");
    }
    PQclear(facts);
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

    r->reads_only = 1; /* a public question: nothing changes, so no audit row */
    if (!json_is_object(r->json))
        return srv_reply_error(r, 400, "malformed_json", "send a credential bundle object", NULL);
    if ((c = db_acquire(r->srv->pool, 1000, NULL)) == NULL)
        return edu_db_down(r);
    out = edu_verify_bundle(r->srv, c, r->json);
    db_release(r->srv->pool, c);
    return out ? srv_reply_json(r, 200, out) : srv_reply_error(r, 503, "busy", "oom", NULL);
}
