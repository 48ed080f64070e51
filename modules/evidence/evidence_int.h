/*
 * Shared inside the evidence module (README.md): the ledger rules and block hooks (evidence.c),
 * jobs and batched ledger submission (job.c), cases and access (cases.c), items, custody and
 * certificates (items.c), public verification and machine anchoring (public.c).
 */
#ifndef LX_MODULES_EVIDENCE_INT_H
#define LX_MODULES_EVIDENCE_INT_H

#include "../../server/http.h"
#include "../../server/job.h"
#include "../../server/seq.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define EV_TX_PRESERVE "item.preserve"
#define EV_TX_CUSTODY  "item.custody"
#define EV_TX_ANCHOR   "anchor"
#define EV_MAX_ANCHORS 10000       /* hashes in one POST /api/evidence/anchors */
#define EV_MAX_LABEL   64          /* bytes of an anchor's label */
#define EV_MAX_HOLDER  120         /* bytes of a custody holder ("from", "to") */
#define EV_MAX_TEXT    2000        /* bytes of a description */
#define EV_MAX_SHORT   200         /* bytes of a title, name, number, MIME type, method */
#define EV_MAX_SIZE    (1LL << 42) /* bytes of a preserved file (4 TiB: far above 4 GiB) */
#define EV_DB_WAIT_MS  5000
#define EV_ID_LEN      36

/* Is kind one of the item kinds (document, image, audio, …)? */
int ev_kind_valid(const char *kind);

/* Is event one of the custody events? */
int ev_event_valid(const char *event);

/* Is s 64 lowercase hex digits? */
int ev_hex64(const char *s);

/* 1..max bytes without control characters (0 allowed when empty_ok). */
int ev_text_ok(const char *s, size_t max, int empty_ok);

/* Is s a decimal number of 1 to 18 digits, which fits a bigint? */
int ev_digits_ok(const char *s);

/* The paging parameters of the list routes, as decimal text (24 bytes each) for their
 * statements: ?before= (a seq; absent or 0: no bound) and ?limit= (default 50, cut to 200).
 * Returns 0, or the status of the 400 it answered: a malformed number must not quietly become
 * the default. */
unsigned ev_list_limits(struct srv_req *r, char before[24], char limit[24]);

/* The certificate number of an item tx, known before it is committed and checkable offline:
 * "LXE-" and the first 16 hex digits of the tx id, upper case, in groups of four. */
void ev_cert_number(const char *tx_hex, char out[40]);

/* A new v4 uuid, and "now" in Unix ms. */
void ev_uuid(char out[EV_ID_LEN + 1]);
int64_t ev_now_ms(void);
int ev_uuid_valid(const char *s);

/* ---- access (cases.c) ----------------------------------------------------------------------- */

enum ev_access {
    EV_NONE = 0,  /* may not see the case */
    EV_READ = 1,  /* regulator, administrator */
    EV_WRITE = 2, /* the court's members, granted lawyers and notaries */
};

/* What r->who may do on case case_id (a uuid): *level, and for EV_WRITE the org whose key signs
 * (the court, or the grantee's law firm or notary office) into org (cap 72); the case's court
 * into court (cap 72) when not NULL. Returns 1 found, 0 no such case, -1 db error. */
int ev_case_access(struct srv_req *r, PGconn *c, const char *case_id, enum ev_access *level,
                   char *org, char *court);

unsigned ev_db_down(struct srv_req *r);

/* ---- items (items.c) ------------------------------------------------------------------------ */

/* The stateless checks of a POST /api/evidence/items body b (a JSON value of any type), apart from
 * the handler so that tests/fuzz can drive them: NULL when b is acceptable, else the offending
 * member's name with the client's sentence in msg[0..120). Borrows b. */
const char *ev_item_body_check(const json_t *b, char msg[120]);

/* Loads item :id of r and checks r may see it (at least need). Returns 0 with *res (PQclear it;
 * columns as the statement ev_item_get: 0 id, 7 size, 8 mime, 14 sha256, …) and org (the org
 * that signs for r on EV_WRITE), or the status answered. */
unsigned ev_item_open(struct srv_req *r, PGconn *c, enum ev_access need, PGresult **res,
                      char org[72]);

/* ---- handlers ---------------------------------------------------------------------------- */

unsigned ev_case_create(struct srv_req *r);   /* POST /api/evidence/cases (cases.c) */
unsigned ev_case_list(struct srv_req *r);     /* GET /api/evidence/cases */
unsigned ev_case_get(struct srv_req *r);      /* GET /api/evidence/cases/:id */
unsigned ev_case_grant(struct srv_req *r);    /* POST /api/evidence/cases/:id/grants */
unsigned ev_item_create(struct srv_req *r);   /* POST /api/evidence/items (items.c) */
unsigned ev_item_list(struct srv_req *r);     /* GET /api/evidence/items */
unsigned ev_item_get(struct srv_req *r);      /* GET /api/evidence/items/:id */
unsigned ev_custody_add(struct srv_req *r);   /* POST /api/evidence/items/:id/custody */
unsigned ev_certificate(struct srv_req *r);   /* GET /api/evidence/items/:id/certificate */
unsigned ev_copy_upload(struct srv_req *r);   /* POST /api/evidence/items/:id/copy (copy.c) */
unsigned ev_copy_download(struct srv_req *r); /* GET /api/evidence/items/:id/copy */
unsigned ev_verify(struct srv_req *r);        /* POST /api/evidence/verify (public.c) */
unsigned ev_anchor(struct srv_req *r);        /* POST /api/evidence/anchors */

struct chain_tx;
struct lx_reject;
struct lx_apply_ctx;
int ev_check(const struct chain_tx *tx, struct lx_reject *why);
int ev_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why);
int ev_block_begin(struct lx_apply_ctx *ctx, void **state, const struct chain_tx *const *txs,
                   size_t n);
int ev_block_end(struct lx_apply_ctx *ctx, void *state, int commit);

#endif
