/* tx.h — the transaction envelope of DESIGN §3.1: parsing with one error code per kind of
 * mistake, the leaf bytes and tx id, Ed25519 signing and verification.
 *
 *   {"v":1,"chain":…,"module":…,"type":…,"org":…,"signer":<b64 32 bytes>,
 *    "nonce":<b64 16 bytes>,"time":<ms>,"body":{…},"sig":<b64 64 bytes>}
 *
 * sig signs "lianxin-tx-v1\n" || JCS(envelope without "sig"); the leaf is JCS(envelope); the tx id
 * is the lowercase hex of SHA-256(0x00 || leaf). */
#ifndef CHAIN_TX_H
#define CHAIN_TX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sodium.h>

#include "chain.h"

#define CHAIN_TX_SIG_PREFIX "lianxin-tx-v1\n" /* domain separation for tx signatures */
#define CHAIN_TX_NONCE_LEN  16
#define CHAIN_TX_ID_HEX_LEN 64

/* A parsed, well-formed (not yet verified) tx. Owns doc, leaf and msg; the string pointers
 * borrow from doc and live as long as the struct. Strings hold no U+0000. A tx whose text was
 * already canonical is read member by member: doc is then just the body, and the strings are
 * copies the struct owns. */
struct chain_tx {
    json_t *doc;        /* the whole envelope, or the body alone (owned reference) */
    char *strings;      /* chain, module, type and org when doc is the body (owned) */
    const char *chain;  /* chain origin, borrowed from doc */
    const char *module; /* module name, borrowed from doc */
    const char *type;   /* tx type, borrowed from doc */
    const char *org;    /* organisation id, may be "", borrowed */
    const json_t *body; /* the body object, borrowed from doc */
    uint8_t signer[crypto_sign_PUBLICKEYBYTES]; /* Ed25519 public key */
    uint8_t nonce[CHAIN_TX_NONCE_LEN];          /* client randomness */
    uint8_t sig[crypto_sign_BYTES];             /* Ed25519 signature */
    int64_t time_ms;                            /* client time, Unix ms */
    char *leaf;                                 /* JCS of the envelope (owned, NUL-term.) */
    size_t leaf_len;                            /* bytes of leaf without the NUL */
    char *msg;                                  /* the signed bytes: prefix || JCS w/o sig */
    size_t msg_len;                             /* bytes of msg without the NUL */
    uint8_t leaf_hash[CHAIN_HASH_LEN];          /* RFC 6962 leaf hash = tx id */
    char id_hex[CHAIN_TX_ID_HEX_LEN + 1];       /* lowercase hex of leaf_hash */
};

/* Parses one tx from buf[0..len) and computes its leaf, leaf hash, id and signed message. Checks,
 * in this order: size (> CHAIN_TX_MAX: CHAIN_E_TOO_LARGE, before any parsing); strict JSON with
 * no U+0000 (CHAIN_E_MALFORMED, CHAIN_E_DUPLICATE_KEY, CHAIN_E_FLOAT, CHAIN_E_RANGE,
 * CHAIN_E_TOO_DEEP); a top-level object (CHAIN_E_MALFORMED); every field present
 * (CHAIN_E_MISSING_FIELD); no other field (CHAIN_E_EXTRA_FIELD); then each field in the order
 * v, chain, module, type, org, signer, nonce, time, body, sig (CHAIN_E_WRONG_TYPE,
 * CHAIN_E_BAD_VERSION, CHAIN_E_BAD_BASE64, CHAIN_E_BAD_KEY_LEN, CHAIN_E_BAD_NONCE_LEN,
 * CHAIN_E_BAD_SIG_LEN). The signature is not verified here.
 * On success *out is new (free with chain_tx_free). Borrows buf. */
int chain_tx_parse(const char *buf, size_t len, struct chain_tx **out) CHAIN_WUR;

/* chain_tx_parse that also writes, on failure, the name of the offending field (or a short
 * phrase such as "tx" for the document itself) NUL-terminated into detail[0..detail_cap), cut at
 * a UTF-8 boundary. detail may be NULL; on success it is set to "". */
int chain_tx_parse_ex(const char *buf, size_t len, struct chain_tx **out, char *detail,
                      size_t detail_cap) CHAIN_WUR;

/* Canonicalizes a built envelope and parses it: the way to get a struct chain_tx for a tx made
 * with chain_tx_build + chain_tx_sign. Errors as chain_tx_parse. Borrows env; *out is new (free
 * with chain_tx_free). */
int chain_tx_from_json(const json_t *env, struct chain_tx **out) CHAIN_WUR;

/* Full admission check of a parsed tx against this node: its chain equals chain_origin
 * (CHAIN_E_WRONG_CHAIN), |time - now_ms| <= CHAIN_TIME_SKEW_MS (CHAIN_E_TIME_SKEW), and the
 * signature verifies (CHAIN_E_BAD_SIG). Returns 0 if all hold. Pure: the caller supplies the
 * clock. Borrows everything; safe to call from several threads on distinct or the same tx. */
int chain_tx_verify(const struct chain_tx *tx, const char *chain_origin, int64_t now_ms) CHAIN_WUR;

/* Verifies only the Ed25519 signature (for offline verification of old txs, where the time
 * window and origin were judged when the tx was admitted). Returns 0 or CHAIN_E_BAD_SIG. */
int chain_tx_verify_sig(const struct chain_tx *tx) CHAIN_WUR;

/* Signs env, an envelope without "sig", with the libsodium secret key sk and adds "sig" to it.
 * The envelope must already name sk's public key as "signer" (CHAIN_E_MISSING_FIELD,
 * CHAIN_E_WRONG_TYPE, CHAIN_E_BAD_BASE64, CHAIN_E_BAD_KEY_LEN, or CHAIN_E_KEY_MISMATCH otherwise);
 * an existing "sig" is replaced. Other JCS errors (floats, depth) are reported as
 * chain_jcs_dump does. Borrows env (modifies it) and sk (not kept; the temporary copy of the
 * signed message holds no secret). */
int chain_tx_sign(json_t *env, const uint8_t sk[crypto_sign_SECRETKEYBYTES]) CHAIN_WUR;

/* Builds an unsigned envelope {v:1, chain, module, type, org, signer: b64(pk), nonce: 16 random
 * bytes (randombytes_buf), time: time_ms, body}. Steals body (released on failure too). Returns
 * a new reference (json_decref it), or NULL when out of memory, when a string is not UTF-8, when
 * body is NULL or not an object, or when time_ms is beyond 2^53 - 1 in magnitude. */
json_t *chain_tx_build(const char *origin, const char *module, const char *type, const char *org,
                       const uint8_t pk[crypto_sign_PUBLICKEYBYTES], int64_t time_ms,
                       json_t *body) CHAIN_WUR;

/* Frees tx and everything it owns; NULL is a no-op. */
void chain_tx_free(struct chain_tx *tx);

#endif
