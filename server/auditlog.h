/*
 * The audit log (DESIGN §4, issue 4): one row per state-changing request — who, in which org
 * and role, what route and path, the answer's status, the tx it made, from where, when — in
 * the hash-chained table audit_log. Each row's hash is SHA-256(prev_hash || JCS of its fields),
 * so a row changed, removed or inserted later breaks the chain; the head is anchored on the
 * ledger with a core audit.anchor tx at least every minute while the log grows, so even a
 * rewrite that recomputes every hash is caught by `lianxind audit`.
 *
 * HTTP threads never write the table: srv_auditlog_request copies the row's fields into a
 * bounded in-memory queue and returns; one writer thread hashes and inserts rows in batches and
 * submits the anchors. The queue never drops a row: a state-changing request holds its place
 * from its arrival, and is refused with 503 when the queue is full (the database is slow or
 * down). Request bodies, query strings and credentials are never recorded.
 */
#ifndef LX_SERVER_AUDITLOG_H
#define LX_SERVER_AUDITLOG_H

#include "db.h"
#include "router.h"

#include <stddef.h>
#include <stdint.h>

struct srv;
struct srv_req;

#define SRV_AUDIT_TARGET_MAX 512   /* bytes of the recorded (escaped) path; longer is cut */
#define SRV_AUDIT_ANCHOR_MS  60000 /* default anchor interval (LIANXIN_AUDIT_ANCHOR_MS) */

/* One audit_log row. Text fields are valid UTF-8 without control characters. */
struct srv_auditlog_row {
    int64_t id;                            /* 1, 2, 3 … */
    int64_t at_ms;                         /* Unix ms when the request completed */
    char username[64];                     /* "" for anonymous */
    char org[72];                          /* the org the request acted in, or "" */
    char role[24];                         /* the role that allowed it, or "" */
    char method[8];                        /* POST, PUT, DELETE, PATCH, … */
    char route[128];                       /* the route pattern, or "unmatched" */
    char target[SRV_AUDIT_TARGET_MAX + 1]; /* the path, bytes outside printable ASCII as %XX */
    unsigned status;                       /* HTTP status; 0 when the client went away */
    char tx_id[65];                        /* hex of the tx the request made, or "" */
    char client[48];                       /* client address */
    uint8_t prev_hash[32];                 /* hash of row id - 1; zeros for id 1 */
    uint8_t hash[32];                      /* SHA-256(prev_hash || JCS(fields)) */
};

/* Computes row->hash from row->prev_hash and the fields id … client: SHA-256 of prev_hash
 * followed by the JCS (RFC 8785) of {"at_ms","client","id","method","org","role","route",
 * "status","target","tx_id","username"}. Returns 0, or -1 when a text field is not valid
 * UTF-8 or memory ran out. Pure; `lianxind audit` recomputes rows with it. */
int srv_auditlog_row_hash(struct srv_auditlog_row *row) __attribute__((warn_unused_result));

/* Connects the writer to the database, loads the last row's id and hash and the last anchored
 * id, and starts the writer thread. Call after seq_open (anchors go through the sequencer).
 * The anchor interval is LIANXIN_AUDIT_ANCHOR_MS (default 60000; 0 turns anchoring off, for
 * tests that count leaves). Returns 0, or -1 with err. */
int srv_auditlog_start(struct srv *s, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Writes every queued row, anchors the head if it moved since the last anchor (waiting for the
 * tx to commit), and stops the writer. Call before seq_close. Requests completing afterwards
 * are still recorded, each by its own short connection, and anchored after the next start.
 * Safe to call when not started. */
void srv_auditlog_stop(struct srv *s);

/* Called when r arrives: a request that may change state (any method but GET and HEAD) takes
 * a place in the queue for its row. Returns 0, or -1 when the queue is full: then answer 503
 * before doing anything (srv_auditlog_request records nothing for it). */
int srv_auditlog_admit(struct srv_req *r) __attribute__((warn_unused_result));

/* Records r if it changed state (any method but GET and HEAD, unless its handler set
 * r->reads_only: a POST that only asks a question, as the public verifications do; its place is
 * given back), or if the handler set r->audit_read: copies what the row needs and
 * queues it in the place admission kept for it; an audited read without one waits while the
 * queue is full. Call when r completes, before it is freed. Borrows r. */
void srv_auditlog_request(struct srv_req *r);

/* The oversight endpoints (oversight_api.c): GET /api/audit, GET /api/audit.csv,
 * POST /api/oversight/freeze, POST /api/oversight/unfreeze, GET /api/oversight/freezes. */
extern const struct srv_route srv_oversight_routes[];
extern const size_t srv_n_oversight_routes;
extern const struct db_stmt srv_oversight_stmts[];
extern const size_t srv_n_oversight_stmts;

/* Writes the CSV (RFC 4180) form of one cell to out: quoted when it holds a comma, a quote, CR
 * or LF, quotes doubled; a cell starting with = + - @ TAB or CR gets a leading ' so that a
 * spreadsheet shows it as text instead of running it as a formula. Returns the bytes written
 * (without the NUL), or the bytes needed when cap is too small (then out holds nothing usable).
 * Pure; unit-tested. */
size_t srv_csv_cell(const char *in, char *out, size_t cap);

#endif
