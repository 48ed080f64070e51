/*
 * `lianxind audit`: recomputes the ledger from the database alone and reports the first place
 * where the stored rows disagree with each other or with the signatures — a changed, deleted,
 * inserted or swapped leaf, a wrong tx id or Merkle hash, a block whose root or checkpoint does
 * not match, a checkpoint whose chain of prev hashes or validator signature is broken.
 */
#ifndef LX_SERVER_AUDIT_H
#define LX_SERVER_AUDIT_H

#include <libpq-fe.h>
#include <stdio.h>

/* Audits the ledger tables of the database c is connected to, inside one read-only
 * repeatable-read transaction (so a running server may keep appending), streaming every table
 * through cursors in batches: memory stays flat whatever the log size. Checks, block by block in
 * height order: heights and leaf indexes contiguous from 0 with no gap; each txs row's height
 * agrees with the block that covers its leaf; each leaf re-parses as a tx, is canonical JCS, has
 * the stored tx id as its leaf hash, names the chain's origin, and carries a valid signature;
 * every stored merkle_nodes hash equals the one recomputed from the leaves, and no node is
 * missing or extra; each block's root equals the recomputed root at its tree size; each
 * checkpoint is signed by a validator key of the genesis tx, and its origin, size, root, height,
 * time and prev (SHA-256 of the previous checkpoint body, zeros at genesis) match.
 *
 * Then the audit log (auditlog.h): audit_log ids contiguous from 1, each prev_hash the previous
 * row's hash, each hash recomputed from the row's fields, and every core audit.anchor tx on the
 * ledger naming a row that exists with the hash it states; a problem there is reported as
 * "audit: INCONSISTENT: audit_log row N: <what differs>".
 *
 * Then the ledger-derived tables (principals, keys, freezes, audit_anchors, edu_anchors,
 * evidence_ledger_items, evidence_events, evidence_anchors): the whole ledger is replayed
 * through each module's check, lx_authorise and apply into temporary twins of those tables
 * (made before the read-only transaction; the modules' statements are prepared on c so that they
 * resolve to the twins), and every stored row must equal a replayed one and the other way round;
 * a difference is reported as "audit: INCONSISTENT: <table> <key column> <key>: <what differs>"
 * (e.g. "keys pubkey <hex>: revoked_leaf is NULL, replaying the ledger gives 19"), a tx the rules
 * refuse on replay at its block and leaf. Where temporary tables cannot be made (a hot standby)
 * this step is skipped with a line saying so.
 *
 * Writes progress lines and, at the end, either "audit: clean (N blocks, M txs)" or one line
 * "audit: INCONSISTENT at block H, leaf I: <table and what differs>" to out. Returns 0 when clean,
 * 1 when an inconsistency was found (the first one is reported), -1 when the database failed
 * (the reason is written to out). Borrows c and out; c is left outside any transaction, without
 * temporary tables or prepared statements (DEALLOCATE ALL). */
int srv_audit(PGconn *c, FILE *out) __attribute__((warn_unused_result));

#endif
