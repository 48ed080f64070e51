/*
 * Shared inside the edu module (README.md): the ledger rules (edu.c), the subject fields and the
 * credential document (subject.c), background jobs and batched ledger submission (job.c), and
 * the HTTP handlers (issue.c, manage.c, read.c, verify.c).
 */
#ifndef LX_MODULES_EDU_INT_H
#define LX_MODULES_EDU_INT_H

#include "../../chain/chain.h"
#include "../../server/http.h"
#include "../../server/job.h"
#include "../../server/seq.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define EDU_MAX_ROWS    10000 /* rows of one batch */
#define EDU_MAX_NAME    200   /* bytes of a name, degree, major, course name */
#define EDU_MAX_NUMBER  64    /* bytes of a student number */
#define EDU_MAX_SHORT   16    /* bytes of credits, grade */
#define EDU_MAX_COURSES 300   /* courses on one transcript */
#define EDU_MAX_REASON  200   /* bytes of a revocation reason */
#define EDU_ID_LEN      36    /* a uuid in text */
#define EDU_URN_LEN     45    /* "urn:uuid:" + a uuid */
#define EDU_DB_WAIT_MS  5000  /* a job waits this long for a database connection */
#define EDU_STATUS_TYPE "LianxinLedgerStatus"
#define EDU_VC_CONTEXT  "https://www.w3.org/ns/credentials/v2"
#define EDU_TX_ISSUE    "credential.issue"
#define EDU_TX_REVOKE   "credential.revoke"

/* ---- kinds and subject fields (subject.c) --------------------------------------------------- */

/* The VC type of a kind ("diploma" → "DiplomaCredential"), or NULL for an unknown kind. */
const char *edu_kind_type(const char *kind);

/* One credential to issue, validated. */
struct edu_subject {
    char kind[16];                   /* diploma, degree, transcript, completion */
    char student[72];                /* the student's principal id, or "" */
    char name[EDU_MAX_NAME + 1];     /* the subject's name (a database column for search) */
    char number[EDU_MAX_NUMBER + 1]; /* student number (idem) */
    char valid_until[32];            /* "YYYY-MM-DDT23:59:59Z" or "" */
    json_t *fields;                  /* credentialSubject without "id" (owned) */
};

/* Reads the flat request object in (members: kind, name, student_number, degree, major,
 * start_date, end_date, courses, student, valid_until; "org" is ignored; anything else is an
 * error) into *out. Returns 0, or -1 with the offending member in field[0..64) and a sentence
 * in msg[0..160). On success out->fields is new (edu_subject_clear). */
int edu_subject_parse(const json_t *in, struct edu_subject *out, char field[64], char msg[160]);

/* Parses the CSV form of courses, "name|credits|grade;name|credits|grade…", into a JSON array
 * for edu_subject_parse. Returns a new array, or NULL with msg when malformed. */
json_t *edu_courses_from_text(const char *text, char msg[160]);

void edu_subject_clear(struct edu_subject *s);

/* What the issuer contributes to a credential. */
struct edu_issuer {
    char org[72];       /* the university's id */
    char name[256];     /* its registered name */
    char did[96];       /* did:key of the signing key */
    uint8_t pk[32];     /* the signing key */
    char now_iso[32];   /* validFrom and proof created, "YYYY-MM-DDThh:mm:ssZ" */
    char base_url[256]; /* for credentialStatus.id: <base>/api/edu/credentials/<id>/status */
};

/* Builds and signs the credential for s: a new uuid (into id, EDU_ID_LEN + 1), the document
 * (issuer, validFrom/validUntil, credentialSubject with "id" = student_did when not NULL,
 * credentialStatus), and its eddsa-jcs-2022 proof with sk. Returns the secured credential (new)
 * or NULL. */
json_t *edu_vc_make(const struct edu_subject *s, const struct edu_issuer *is,
                    const char *student_did, const unsigned char *sk, char id[EDU_ID_LEN + 1]);

/* A new random (v4) uuid in text, into out. */
void edu_uuid(char out[EDU_ID_LEN + 1]);

/* Now, as ISO 8601 UTC to the second, and as Unix ms. */
void edu_now_iso(char out[32]);
int64_t edu_now_ms(void);

/* Unix ms of a dateTime chain_vc_datetime_valid accepts (time zone honoured), or -1. */
int64_t edu_datetime_ms(const char *s);

/* "2026-07-01" of Unix ms, into out (cap >= 11). */
void edu_date_of_ms(int64_t ms, char *out, size_t cap);

/* The base URL of this node for links inside credentials: LIANXIN_PUBLIC_URL, or
 * http://<listen address>:<port>. Into out. */
void edu_base_url(struct srv *s, char *out, size_t cap);

/* The key that seals stored documents (edu_credentials.document): a crypto_kdf subkey of the
 * node master key. The caller wipes it. (issue.c) */
void edu_doc_key(struct srv *s, unsigned char key[32]);

/* Is id a bare uuid (36 lowercase hex and dashes)? */
int edu_uuid_valid(const char *id);

/* ---- shared lookups (read.c) ---------------------------------------------------------------- */

/* A stored credential and its ledger state. */
struct edu_record {
    char id[EDU_ID_LEN + 1]; /* bare uuid */
    char org[72];            /* issuing university */
    char kind[16];
    char student[72];   /* "" when not linked to an account */
    int erased;         /* personal data removed */
    int anchored;       /* the credential.issue tx is committed */
    char tx_id[65];     /* that tx, or "" */
    int revoked;        /* a credential.revoke is committed */
    int64_t revoked_ms; /* its block time */
    char reason[EDU_MAX_REASON + 1];
    char hash_b64[48]; /* the anchored hash, or "" */
};

/* Loads credential id (a bare uuid) into *rec. Returns 1 found, 0 not found, -1 db error. */
int edu_record_load(PGconn *c, const char *id, struct edu_record *rec);

/* May r->who see credential rec (its issuing org's members, the student, regulator, admin)?
 * Returns 1, 0, or -1 on a database error. */
int edu_may_read(struct srv_req *r, PGconn *c, const struct edu_record *rec);

/* The credential bundle {"credential","ledger"} of rec (anchored, not erased): new, or NULL with
 * *status set to an answer already given. */
json_t *edu_bundle_make(struct srv_req *r, PGconn *c, const struct edu_record *rec,
                        unsigned *status);

/* Answers a database failure: 503. */
unsigned edu_db_down(struct srv_req *r);

/* ---- verification (verify.c) ---------------------------------------------------------------- */

/* Verifies a credential bundle as POST /api/edu/verify does and returns
 * {"verdict","checks":[{"name","ok","detail"}…],…} (new; never NULL but on out of memory). c is a
 * pool connection (validator keys, key history, revocations). */
json_t *edu_verify_bundle(struct srv *s, PGconn *c, const json_t *bundle);

/* ---- handlers ---------------------------------------------------------------------------------
 */

unsigned edu_issue_one(struct srv_req *r);    /* POST /api/edu/credentials (issue.c) */
unsigned edu_issue_batch(struct srv_req *r);  /* POST /api/edu/credentials/batch (issue.c) */
unsigned edu_revoke(struct srv_req *r);       /* POST /api/edu/credentials/:id/revoke (manage.c) */
unsigned edu_erase(struct srv_req *r);        /* POST /api/edu/credentials/:id/erase (manage.c) */
unsigned edu_share_create(struct srv_req *r); /* POST /api/edu/credentials/:id/shares */
unsigned edu_share_list(struct srv_req *r);   /* GET /api/edu/credentials/:id/shares */
unsigned edu_share_delete(struct srv_req *r); /* DELETE /api/edu/credentials/:id/shares/:share */
unsigned edu_list(struct srv_req *r);         /* GET /api/edu/credentials (read.c) */
unsigned edu_get(struct srv_req *r);          /* GET /api/edu/credentials/:id */
unsigned edu_get_bundle(struct srv_req *r);   /* GET /api/edu/credentials/:id/bundle */
unsigned edu_status(struct srv_req *r);       /* GET /api/edu/credentials/:id/status */
unsigned edu_share_view(struct srv_req *r);   /* GET /api/edu/share/:token */
unsigned edu_verify(struct srv_req *r);       /* POST /api/edu/verify (verify.c) */

/* The module's ledger rules (edu.c). */
struct chain_tx;
struct lx_reject;
struct lx_apply_ctx;
int edu_check(const struct chain_tx *tx, struct lx_reject *why);
int edu_apply(struct lx_apply_ctx *ctx, const struct chain_tx *tx, struct lx_reject *why);

#endif
