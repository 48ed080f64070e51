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
 * Writes progress lines and, at the end, either "audit: clean (N blocks, M txs)" or one line
 * "audit: INCONSISTENT at block H, leaf I: <table and what differs>" to out. Returns 0 when clean,
 * 1 when an inconsistency was found (the first one is reported), -1 when the database failed
 * (the reason is written to out). Borrows c (left outside any transaction) and out. */
int srv_audit(PGconn *c, FILE *out) __attribute__((warn_unused_result));

#endif
