/* verify.h — offline verification of a tx bundle (docs/LEDGER.md §6, §7): the five checks of
 * `lianxin verify`, without any network access, so tests and other tools can call them. */
#ifndef LX_CLI_VERIFY_H
#define LX_CLI_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../chain/note.h"
#include "cli.h"

/* The checks, in the order they are reported; each gives one line "✓ <what>: <detail>" or
 * "✗ <what>: <reason>" where <what> is one of these names. */
#define CLI_CHECK_LEAF       "leaf hash"
#define CLI_CHECK_SIG        "tx signature"
#define CLI_CHECK_CHECKPOINT "checkpoint signature"
#define CLI_CHECK_INCLUSION  "inclusion"
#define CLI_CHECK_KEYS       "key authorisation"

/* The further checks of an edu credential bundle {"credential","ledger"} (verify_edu.c). */
#define CLI_CHECK_VC_SIG     "credential signature"
#define CLI_CHECK_ANCHOR     "anchored hash"
#define CLI_CHECK_ISSUER_KEY "issuer key"
#define CLI_CHECK_UNIVERSITY "university"
#define CLI_CHECK_VALIDITY   "validity period"
#define CLI_CHECK_REVOCATION "revocation"

/* The further checks of an evidence certificate (verify_evidence.c). */
#define CLI_CHECK_EV_RECORD "evidence record"
#define CLI_CHECK_CUSTODY   "custody chain"
#define CLI_CHECK_FILE      "file hash"

#define CLI_MARK_OK   "\xe2\x9c\x93" /* ✓ U+2713 */
#define CLI_MARK_FAIL "\xe2\x9c\x97" /* ✗ U+2717 */

/* Verifies bundle (the JSON of GET /api/chain/bundle/<tx_id>) against the validator keys
 * keys[0..n_keys) and writes one line per check to report:
 *   1. leaf hash: SHA-256(0x00 || JCS(tx)) equals proof.leaf_hash and tx_id;
 *   2. tx signature: the tx's Ed25519 signature by its signer;
 *   3. checkpoint signature: the checkpoint note is signed by a known key (every known key that
 *      signed must verify) and its body is a checkpoint;
 *   4. inclusion: the proof puts leaf_hash at leaf_index in the checkpoint's tree (same size,
 *      same origin as the tx's chain);
 *   5. key authorisation: every key_evidence entry passes 1, 2 and 4 against the same checkpoint,
 *      the entries replayed in leaf order obey the identity rules of LEDGER §3, and the tx's
 *      signer was authorised for its org at its leaf index.
 * Every check is always reported (a later one is not skipped because an earlier one failed).
 * Any JSON value is accepted as bundle: a malformed one gives ✗ lines, never a crash.
 * Returns 0 when all five hold, 1 otherwise. Borrows everything. Needs sodium_init(). */
int cli_verify_bundle(const json_t *bundle, const struct chain_note_verifier *keys, size_t n_keys,
                      FILE *report) CLI_WUR;

/* Verifies an edu credential bundle (docs/LEDGER.md §8) and reports, one line each: the
 * credential's eddsa-jcs-2022 proof by the issuer's did:key; the five checks above on
 * bundle.ledger; that the anchor tx is an edu credential.issue of this credential id whose hash
 * is SHA-256(JCS(credential)); that the credential's key is the tx's signer; that the key
 * evidence admits the tx's org as a university under the issuer's name; the validity period at
 * now_ms; and the revocation status, asked of node_url (a node's base URL) or, when NULL,
 * reported as "? revocation: not checked". Returns 0 when everything holds, 2 when only the
 * revocation check failed (revoked), 1 otherwise. Borrows everything; needs sodium_init() and,
 * with node_url, curl_global_init(). */
int cli_verify_edu_bundle(const json_t *bundle, const struct chain_note_verifier *keys,
                          size_t n_keys, const char *node_url, int64_t now_ms,
                          FILE *report) CLI_WUR;

/* Is doc an evidence certificate {"type":"LianxinEvidenceCertificate",…}? Returns 1 or 0. */
int cli_is_evidence_cert(const json_t *doc);

/* Verifies an evidence certificate (docs/LEDGER.md §9) and reports one line per check: the
 * ledger checks of the item tx and of each custody tx, "evidence record", "custody chain" and
 * "file hash" (SHA-256 of the file at path file, read in blocks; when file is NULL reported as
 * not checked). Returns 0 when everything holds, 1 otherwise. Borrows everything. */
int cli_verify_evidence_cert(const json_t *cert, const struct chain_note_verifier *keys,
                             size_t n_keys, const char *file, FILE *report) CLI_WUR;

#endif
