/* vc.h — W3C Verifiable Credentials secured with a Data Integrity proof of the cryptosuite
 * eddsa-jcs-2022, exactly as "Data Integrity EdDSA Cryptosuites v1.0" (W3C Recommendation,
 * 15 May 2025, §3.3) defines it, and the pieces it needs: base58btc, Multikey and did:key for
 * Ed25519 public keys (multicodec ed25519-pub 0xed, as the varint 0xed 0x01).
 *
 *   proofConfig = the proof without proofValue (with the document's @context copied in)
 *   hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
 *   proofValue  = "z" || base58btc(Ed25519(hashData))
 *
 * Also the anchor hash of the edu module: SHA-256(JCS(the whole secured credential, proof
 * included)), the value a credential.issue tx puts on the ledger (docs/LEDGER.md §8).
 *
 * Pure like the rest of chain/: no I/O, no clock (the caller passes "created"), no globals. */
#ifndef CHAIN_VC_H
#define CHAIN_VC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sodium.h>

#include "chain.h"

#define CHAIN_VC_CRYPTOSUITE "eddsa-jcs-2022"
#define CHAIN_VC_PROOF_TYPE  "DataIntegrityProof"
#define CHAIN_VC_PURPOSE     "assertionMethod"
#define CHAIN_VC_HASH_DATA   64  /* proofConfig hash || document hash */
#define CHAIN_MULTIKEY_MAX   64  /* "z" + base58 of 34 bytes (at most 47 characters) + NUL */
#define CHAIN_DIDKEY_MAX     72  /* "did:key:" + a Multikey + NUL */
#define CHAIN_VC_VM_MAX      136 /* "did:key:<mk>#<mk>" + NUL */
#define CHAIN_VC_PROOF_VALUE 100 /* "z" + base58 of 64 bytes (at most 88 characters) + NUL */

/* Writes the base58btc (Bitcoin alphabet) text of bin[0..n) and a NUL into out[0..cap). Leading
 * zero bytes become '1's. Returns 0, or CHAIN_E_BUFFER when out is too small. Borrows all. */
int chain_b58_encode(const uint8_t *bin, size_t n, char *out, size_t cap) CHAIN_WUR;

/* Decodes base58btc text s[0..len) into out[0..cap) and sets *out_len. Returns 0,
 * CHAIN_E_MALFORMED for a character outside the alphabet (or empty text), CHAIN_E_BUFFER when
 * the value needs more than cap bytes. Borrows all. */
int chain_b58_decode(const char *s, size_t len, uint8_t *out, size_t cap,
                     size_t *out_len) CHAIN_WUR;

/* The Multikey of an Ed25519 public key: "z" + base58btc(0xed 0x01 || pk), written with its NUL
 * into out (cap >= CHAIN_MULTIKEY_MAX). Returns 0 or CHAIN_E_BUFFER. */
int chain_multikey_encode(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out,
                          size_t cap) CHAIN_WUR;

/* Decodes a Multikey (see above) into pk. Returns 0, or CHAIN_E_BAD_KEY when it is not "z" +
 * base58btc of exactly 0xed 0x01 followed by 32 bytes. */
int chain_multikey_decode(const char *mk, uint8_t pk[crypto_sign_PUBLICKEYBYTES]) CHAIN_WUR;

/* "did:key:" + the Multikey of pk, into out (cap >= CHAIN_DIDKEY_MAX). Returns 0 or
 * CHAIN_E_BUFFER. */
int chain_didkey_encode(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out,
                        size_t cap) CHAIN_WUR;

/* The verification method of a did:key: "did:key:<mk>#<mk>", into out (cap >=
 * CHAIN_VC_VM_MAX). Returns 0 or CHAIN_E_BUFFER. */
int chain_didkey_vm(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out, size_t cap) CHAIN_WUR;

/* Decodes "did:key:<mk>" or "did:key:<mk>#<mk>" (the fragment, when present, must repeat the
 * Multikey) into pk. Returns 0 or CHAIN_E_BAD_KEY. */
int chain_didkey_decode(const char *did, uint8_t pk[crypto_sign_PUBLICKEYBYTES]) CHAIN_WUR;

/* Is s an XML Schema dateTime with a time zone as Data Integrity wants for "created",
 * "validFrom", "validUntil": YYYY-MM-DDThh:mm:ss[.s+](Z|(+|-)hh:mm)? Returns 1 or 0. */
int chain_vc_datetime_valid(const char *s);

/* The instant of such a dateTime as Unix ms (fractions of a second dropped) into *out. Returns
 * 0, or CHAIN_E_MALFORMED when chain_vc_datetime_valid refuses it. */
int chain_vc_datetime_ms(const char *s, int64_t *out) CHAIN_WUR;

/* The hashing step of §3.3.4: out = SHA-256(JCS(proof_config)) || SHA-256(JCS(unsecured)).
 * Returns 0 or a chain_jcs_dump error (floats, depth, bad UTF-8, out of memory). Borrows all. */
int chain_vc_hash_data(const json_t *unsecured, const json_t *proof_config,
                       uint8_t out[CHAIN_VC_HASH_DATA]) CHAIN_WUR;

/* Create Proof (§3.3.1): adds to doc (an object without "proof") the member "proof" =
 * {"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022","created":created,
 *  "verificationMethod":"did:key:<mk>#<mk>","proofPurpose":"assertionMethod",
 *  "@context":<doc's @context, when it has one>,"proofValue":"z…"} signed with the libsodium
 * secret key sk (seed || public key). Returns 0; CHAIN_E_INVAL when doc is not an object, has a
 * proof already, or created is not a dateTime; a chain_jcs_dump error; CHAIN_E_NOMEM. doc is
 * modified only on success. Borrows sk (not kept). */
int chain_vc_sign(json_t *doc, const uint8_t sk[crypto_sign_SECRETKEYBYTES],
                  const char *created) CHAIN_WUR;

/* Verify Proof (§3.3.2) of a secured document with one proof object, the public key taken from
 * its did:key verificationMethod (written to pk when it decodes, even if the signature then
 * fails). Requires type DataIntegrityProof, cryptosuite eddsa-jcs-2022, proofPurpose
 * assertionMethod, a valid "created" when present, and — when the proof has an @context — that
 * the document's @context starts with the same values. Returns 0 when the signature verifies;
 * else CHAIN_E_MALFORMED (no or malformed proof, unsupported suite or purpose, @context
 * mismatch), CHAIN_E_BAD_KEY (verificationMethod is not an Ed25519 did:key), CHAIN_E_BAD_LENGTH
 * (proofValue is not base58btc of 64 bytes), CHAIN_E_BAD_SIG, or a JCS error — with a short
 * reason in why[0..cap) (may be NULL). Borrows all. */
int chain_vc_verify(const json_t *secured, uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *why,
                    size_t cap) CHAIN_WUR;

/* The anchor hash: SHA-256(JCS(vc)), vc being the whole secured credential. Returns 0 or a
 * chain_jcs_dump error. Borrows vc. */
int chain_vc_anchor_hash(const json_t *vc, uint8_t out[CHAIN_HASH_LEN]) CHAIN_WUR;

#endif
