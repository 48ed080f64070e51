/*
 * Custodial keys and server-made txs. The node master key (LIANXIN_DATA/master.key, 0600, or
 * LIANXIN_MASTER_KEY as base64) seals every custodial private key with crypto_secretbox; a key
 * is unsealed into sodium_malloc memory only for the moment of signing and wiped at once.
 *
 * srv_ledger_submit is how the server itself puts a tx on the ledger (org admission, a freeze,
 * an audit anchor, a diploma): the same checks as POST /api/chain/tx, then the sequencer; the
 * callback runs once the block is committed (or the tx refused).
 */
#ifndef LX_SERVER_CUSTODY_H
#define LX_SERVER_CUSTODY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct srv;
struct srv_req;
struct seq_item;

#define SRV_MASTER_KEY_BYTES 32

/* Loads the master key (environment first, then the file); creates the file when create is
 * set and neither exists. Returns 0, or -1 with err ("no master key: …"). */
int srv_custody_open(struct srv *s, int create, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void srv_custody_close(struct srv *s);

/* Makes a new Ed25519 key for principal, seals it and stores it in custody_keys (on c, so it
 * can join a caller's transaction). Writes the public key to pk. Returns 0 or -1. */
int srv_custody_new_key(struct srv *s, PGconn *c, const char *principal, uint8_t pk[32])
    __attribute__((warn_unused_result));

/* Marks principal's custodial key pk retired (after a rotation); it never signs again. */
int srv_custody_retire(PGconn *c, const uint8_t pk[32]) __attribute__((warn_unused_result));

/* Unseals principal's active custodial key (the newest unretired one): returns the libsodium
 * secret key (seed || public key) in sodium_malloc memory — the caller sodium_free's it as soon
 * as it has signed — or NULL with err. For signers of documents other than txs (the edu
 * module's credential proofs) and for signing many txs with one unsealing. */
unsigned char *srv_custody_unseal(struct srv *s, PGconn *c, const char *principal, char *err,
                                  size_t errlen);

/* Builds a tx for principal (org = principal) signed with its active custodial key.
 * Returns the envelope (json_decref it) or NULL with err. body is stolen. */
json_t *srv_custody_sign(struct srv *s, PGconn *c, const char *principal, const char *module,
                         const char *type, json_t *body, char *err, size_t errlen);

/* Builds a tx signed with the consortium admin key (org "admin"). body is stolen. */
json_t *srv_admin_sign(struct srv *s, const char *module, const char *type, json_t *body);

/* Called once the tx is decided: it->status is 200 (committed; it->leaf_index, it->height,
 * it->tx->id_hex) or the refusal (it->status, it->code, it->message). From the sequencer thread
 * or, for a tx refused before sequencing, from the caller's. Must not block. */
typedef void (*srv_ledger_done_fn)(void *ctx, const struct seq_item *it);

/* Checks env (borrowed) like POST /api/chain/tx and queues it. done is always called exactly
 * once. Returns 0 (done will be / was called), or -1 if out of memory (done was not called). */
int srv_ledger_submit(struct srv *s, const json_t *env, srv_ledger_done_fn done, void *ctx);

/* For a handler: submits env (stolen) and suspends r; when the tx is decided r is answered with
 * status ok_status and body extra (stolen, may be NULL) plus "tx_id", "leaf_index", "height",
 * or with the refusal as an error. Records the tx id for the audit log. Returns SRV_ASYNC. */
unsigned srv_ledger_submit_reply(struct srv_req *r, json_t *env, unsigned ok_status, json_t *extra);

/* The stateless checks of a parsed tx (chain, time, signature, module's check); refuses it
 * (it->status set) when one fails. Shared by POST /api/chain/tx and srv_ledger_submit. */
void srv_tx_check(struct srv *s, struct seq_item *it);

/* srv_tx_check on each of items[0..n) not already refused, spread over the cores (par.h): a
 * batch's signatures are most of what it costs. For the thread that owns the request. */
void srv_tx_check_all(struct srv *s, struct seq_item *items, size_t n);

/* Blocks until the tx is decided (not for HTTP threads: for start-up and tools). Fills *status
 * and, when committed, tx_id (65 bytes) and *leaf. env is borrowed. Returns 0 or -1. */
int srv_ledger_submit_wait(struct srv *s, const json_t *env, unsigned *status, char *tx_id,
                           uint64_t *leaf);

#endif
